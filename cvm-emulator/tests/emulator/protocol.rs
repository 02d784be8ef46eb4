//! The gateway's checks, with hand-built requests: signed GETs, and every
//! error the real gateway answers before an action runs.

use std::time::{Duration, Instant};

use crate::common::*;
use cvm_emulator::{Emulator, EmulatorConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

#[tokio::test]
async fn signed_get_with_nested_query() {
    let (emu, ids) = seeded(config(), 3, "STOPPED").await;
    let query = format!(
        "InstanceIds.0={}&InstanceIds.1={}&Limit=1&Offset=1",
        ids[0], ids[1]
    );
    let r = Call::get("DescribeInstances", &query).send(&emu).await;
    assert_eq!(code(&r), "", "{r}");
    assert_eq!(r["TotalCount"], 2);
    assert_eq!(r["InstanceSet"].as_array().unwrap().len(), 1);
    assert_eq!(r["InstanceSet"][0]["InstanceId"], ids[1].as_str());

    let r = Call::get(
        "DescribeInstances",
        "Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-3&Filters.1.Name=instance-state&Filters.1.Values.0=STOPPED&Limit=20",
    )
    .send(&emu)
    .await;
    assert_eq!(r["TotalCount"], 3, "{r}");

    // State changes over GET too, and a percent-encoded value.
    let r = Call::get("StartInstances", &format!("InstanceIds.0={}", ids[2]))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "", "{r}");
    let r = Call::get(
        "DescribeInstances",
        "Filters.0.Name=instance-state&Filters.0.Values.0=RUNNING",
    )
    .send(&emu)
    .await;
    assert_eq!(r["InstanceSet"][0]["InstanceId"], ids[2].as_str());
    let r = Call::get(
        "DescribeInstances",
        "Filters.0.Name=instance-name&Filters.0.Values.0=Un%6Eamed",
    )
    .send(&emu)
    .await;
    assert_eq!(r["TotalCount"], 3, "{r}");

    // Lenient scalars: "true" for a bool.
    let r = Call::get(
        "StopInstances",
        &format!("InstanceIds.0={}&StopType=HARD&ForceStop=True", ids[2]),
    )
    .send(&emu)
    .await;
    assert_eq!(code(&r), "", "{r}");

    // Query errors.
    let r = Call::get("DescribeInstances", "Limit=1&Limit=2").send(&emu).await;
    assert_eq!(code(&r), "InvalidParameter");
    let r = Call::get("DescribeInstances", "Limit=ten").send(&emu).await;
    assert_eq!(code(&r), "InvalidParameter");
    assert!(message(&r).contains("`Limit`"), "{r}");
    let r = Call::get("DescribeInstances", "Colour=red").send(&emu).await;
    assert_eq!(code(&r), "UnknownParameter");
    // A query signed differently from the one sent fails the signature.
    let mut call = Call::get("DescribeInstances", "Limit=1");
    call.authorization = Some(Call::get("DescribeInstances", "Limit=2").authorization_for(&emu.host()));
    assert_eq!(code(&call.send(&emu).await), "AuthFailure.SignatureFailure");
}

/// Tencent's published TC3 example signs `content-type;host;x-tc-action`
/// with the value lower-cased; the official SDKs sign `content-type;host`.
/// Both are accepted, and a signed action cannot be swapped.
#[tokio::test]
async fn the_action_may_be_signed_and_then_cannot_be_changed() {
    let emu = start(config()).await;
    let describe = Call::post("DescribeInstances", json!({}));
    assert!(describe
        .authorization_for(&emu.host())
        .contains("SignedHeaders=content-type;host;x-tc-action, "));
    assert_eq!(code(&describe.send(&emu).await), "");
    let official = Call {
        sign_action: false,
        ..Call::post("DescribeInstances", json!({}))
    };
    assert!(official
        .authorization_for(&emu.host())
        .contains("SignedHeaders=content-type;host, "));
    assert_eq!(code(&official.send(&emu).await), "");

    // A request signed as DescribeInstances, resent as another action.
    for other in ["TerminateInstances", "StopInstances", "describeinstances"] {
        let mut replay = Call::post("DescribeInstances", json!({}));
        replay.authorization = Some(replay.authorization_for(&emu.host()));
        replay.action = Some(other.into());
        let r = replay.send(&emu).await;
        let expected = if other == "describeinstances" {
            // Canonically the same value; the action name itself is then unknown.
            "InvalidAction"
        } else {
            "AuthFailure.SignatureFailure"
        };
        assert_eq!(code(&r), expected, "{other}: {r}");
    }
}

#[tokio::test]
async fn gateway_errors_in_order() {
    let emu = start(config()).await;
    let ok = || Call::post("DescribeInstances", json!({}));
    assert_eq!(code(&ok().send(&emu).await), "");

    let mut c = ok();
    c.authorization = Some(String::new());
    let r = c.send(&emu).await;
    assert_eq!(code(&r), "AuthFailure.InvalidAuthorization");
    assert!(message(&r).contains("missing"), "{r}");

    let mut c = ok();
    c.authorization = Some("TC3-HMAC-SHA256 Credential=broken".into());
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.InvalidAuthorization");
    let mut c = ok();
    c.authorization = Some("HMAC-SHA1 whatever".into());
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.InvalidAuthorization");

    // Expired, in the future, missing, not a number.
    let mut c = ok();
    c.timestamp -= 301;
    let r = c.send(&emu).await;
    assert_eq!(code(&r), "AuthFailure.SignatureExpire");
    assert!(message(&r).contains("server time"), "{r}");
    let mut c = ok();
    c.timestamp += 400;
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.SignatureExpire");
    let mut c = ok();
    c.timestamp_header = Some("yesterday".into());
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.SignatureExpire");
    // Within the skew is fine.
    let mut c = ok();
    c.timestamp -= 250;
    assert_eq!(code(&c.send(&emu).await), "");

    // An expired timestamp is reported before an unknown secret id.
    let mut c = ok();
    c.secret_id = "AKIDnobody".into();
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.SecretIdNotFound");
    c.timestamp -= 1000;
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.SignatureExpire");

    let mut c = ok();
    c.secret_key = "wrong".into();
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.SignatureFailure");
    // The body is signed: a changed body fails.
    let mut c = ok();
    let auth = c.authorization_for(&emu.host());
    c.authorization = Some(auth);
    c.body = br#"{"Limit": 2}"#.to_vec();
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.SignatureFailure");

    // Signature checked before version and action.
    let mut c = ok();
    c.version = Some("2099-01-01".into());
    assert_eq!(code(&c.send(&emu).await), "NoSuchVersion");
    c.secret_key = "wrong".into();
    assert_eq!(code(&c.send(&emu).await), "AuthFailure.SignatureFailure");
    let mut c = ok();
    c.version = None;
    assert_eq!(code(&c.send(&emu).await), "MissingParameter");

    let mut c = ok();
    c.action = Some("LaunchRocket".into());
    let r = c.send(&emu).await;
    assert_eq!(code(&r), "InvalidAction");
    assert!(message(&r).contains("LaunchRocket"), "{r}");
    c.version = Some("1999-01-01".into());
    assert_eq!(code(&c.send(&emu).await), "NoSuchVersion");
    let mut c = ok();
    c.action = None;
    assert_eq!(code(&c.send(&emu).await), "MissingParameter");
}

#[tokio::test]
async fn parameter_errors() {
    let emu = start(config()).await;
    let send = |action: &str, body: serde_json::Value| {
        let call = Call::post(action, body);
        let emu = &emu;
        async move { call.send(emu).await }
    };

    let r = send("DescribeInstances", json!({"Limit": 1, "Colour": "red"})).await;
    assert_eq!(code(&r), "UnknownParameter");
    assert!(message(&r).contains("`Colour`"), "{r}");
    let r = send(
        "RunInstances",
        json!({"Placement": {"Zone": "ap-guangzhou-3", "Floor": 2}, "ImageId": "img-9qabwvbn"}),
    )
    .await;
    assert_eq!(code(&r), "UnknownParameter");
    assert!(message(&r).contains("`Placement.Floor`"), "{r}");

    let r = send("DescribeInstances", json!({"Limit": "lots"})).await;
    assert_eq!(code(&r), "InvalidParameter");
    assert!(message(&r).contains("`Limit`"), "{r}");
    let r = send("StartInstances", json!({"InstanceIds": "ins-aaaaaaaa"})).await;
    assert_eq!(code(&r), "InvalidParameter");
    assert!(message(&r).contains("`InstanceIds`"), "{r}");
    // Leniency as the service: "20" is 20.
    let r = send("DescribeInstances", json!({"Limit": "20"})).await;
    assert_eq!(code(&r), "", "{r}");

    let r = send("StartInstances", json!({})).await;
    assert_eq!(code(&r), "MissingParameter");
    assert!(message(&r).contains("`InstanceIds`"), "{r}");
    let r = send("StartInstances", json!({"InstanceIds": []})).await;
    assert_eq!(code(&r), "MissingParameter");
    // Unknown parameters are reported before missing ones.
    let r = send("StartInstances", json!({"InstanceID": ["ins-aaaaaaaa"]})).await;
    assert_eq!(code(&r), "UnknownParameter");

    let r = send("DescribeInstances", json!({"Limit": 101})).await;
    assert_eq!(code(&r), "InvalidParameterValue");
    let r = send("DescribeInstances", json!({"Offset": -1})).await;
    assert_eq!(code(&r), "InvalidParameterValue");
    let r = send("DescribeInstances", json!({"InstanceIds": ["nope"]})).await;
    assert_eq!(code(&r), "InvalidInstanceId.Malformed");

    // Every action of the spec is decoded, even those not emulated.
    let r = send(
        "DescribeImages",
        json!({"ImageIds": ["img-9qabwvbn"], "Colour": 1}),
    )
    .await;
    assert_eq!(code(&r), "UnknownParameter");
    let r = send("DescribeImages", json!({"Limit": {"a": 1}})).await;
    assert_eq!(code(&r), "InvalidParameter");
    let r = send("ResetInstance", json!({})).await;
    assert_eq!(code(&r), "MissingParameter");
    let r = send("DescribeHosts", json!({})).await;
    assert_eq!(code(&r), "UnsupportedOperation");
    assert!(message(&r).contains("not emulated"), "{r}");

    // Bodies that are not a JSON object.
    for (body, why) in [
        (&b"[1,2]"[..], "JSON object"),
        (b"{\"Limit\": 1", "not valid JSON"),
        (b"null", "JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ] {
        let r = Call::post_bytes("DescribeInstances", body.to_vec())
            .send(&emu)
            .await;
        assert_eq!(code(&r), "InvalidParameter", "{body:?}");
        assert!(message(&r).contains(why), "{r}");
    }
    // An empty body is no parameters.
    let r = Call::post_bytes("DescribeInstances", Vec::new()).send(&emu).await;
    assert_eq!(code(&r), "", "{r}");
}

#[tokio::test]
async fn content_types_and_methods() {
    let emu = start(config()).await;
    // A form body on POST is read like a query.
    let mut c = Call::post_bytes("DescribeInstances", b"Limit=1&Offset=0".to_vec());
    c.content_type = "application/x-www-form-urlencoded".into();
    assert_eq!(code(&c.send(&emu).await), "");
    let mut c = Call::post("DescribeInstances", json!({}));
    c.content_type = "application/json; charset=utf-8".into();
    assert_eq!(code(&c.send(&emu).await), "");
    let mut c = Call::post("DescribeInstances", json!({}));
    c.content_type = "text/plain".into();
    let r = c.send(&emu).await;
    assert_eq!(code(&r), "InvalidParameter");
    assert!(message(&r).contains("Content-Type"), "{r}");

    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        let mut c = Call::post("DescribeInstances", json!({}));
        c.method = method.into();
        assert_eq!(code(&c.send(&emu).await), "UnsupportedProtocol", "{method}");
    }
}

#[tokio::test]
async fn body_size_limit() {
    let emu = start(EmulatorConfig {
        max_body_bytes: 64 * 1024,
        ..config()
    })
    .await;
    let mut big = b"{\"Limit\": 1, \"Pad\": \"".to_vec();
    big.resize(100 * 1024, b'x');
    big.extend_from_slice(b"\"}");
    // Checked before anything else, even the signature.
    let mut c = Call::post_bytes("DescribeInstances", big.clone());
    c.authorization = Some(String::new());
    let r = c.send(&emu).await;
    assert_eq!(code(&r), "RequestSizeLimitExceeded");
    // Chunked (no Content-Length) as well.
    let mut raw = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        emu.host()
    )
    .into_bytes();
    for chunk in big.chunks(8 * 1024) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let r = raw_envelope(&raw_http(&emu, &raw).await);
    assert_eq!(code(&r), "RequestSizeLimitExceeded");
    assert_healthy(&emu).await;
}

/// The request line and headers of `call` (with `Content-Length` of its
/// body), without the body.
fn head_only(emu: &cvm_emulator::RunningEmulator, call: &Call, close: bool) -> Vec<u8> {
    let host = emu.host();
    let mut raw = format!("POST / HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    for (k, v) in call.headers(&host) {
        raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    let connection = if close { "Connection: close\r\n" } else { "" };
    raw.extend_from_slice(format!("Content-Length: {}\r\n{connection}\r\n", call.body.len()).as_bytes());
    raw
}

/// Reads the answer to a request on `stream` (until its envelope is complete).
async fn read_answer(stream: &mut tokio::net::TcpStream) -> serde_json::Value {
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some((_, body)) = text.split_once("\r\n\r\n") {
            if serde_json::from_str::<serde_json::Value>(body).is_ok() {
                return raw_envelope(&text);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("answered within 10 s")
            .unwrap();
        assert!(n > 0, "closed without an answer: {text}");
        out.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn authentication_failures_are_answered_without_reading_the_body() {
    // A long read timeout: waiting for the body would show as a late
    // InvalidRequest instead of the authentication error.
    let emu = start(EmulatorConfig {
        read_timeout: Duration::from_secs(60),
        ..config()
    })
    .await;
    let mut body = br#"{"Limit": 1}"#.to_vec();
    body.resize(60 * 1024, b' ');
    type Tweak = fn(&mut Call);
    let tweaks: [(Tweak, &str); 4] = [
        (
            |c| c.secret_id = "AKIDunknown".into(),
            "AuthFailure.SecretIdNotFound",
        ),
        (
            |c| c.authorization = Some(String::new()),
            "AuthFailure.InvalidAuthorization",
        ),
        (
            |c| c.authorization = Some("TC3-HMAC-SHA256 x".into()),
            "AuthFailure.InvalidAuthorization",
        ),
        (|c| c.timestamp -= 3600, "AuthFailure.SignatureExpire"),
    ];
    for (tweak, expected) in tweaks {
        let mut call = Call::post_bytes("DescribeInstances", body.clone());
        tweak(&mut call);
        let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
        // The headers promise 60 KiB; none of it is sent.
        stream.write_all(&head_only(&emu, &call, true)).await.unwrap();
        let started = Instant::now();
        let r = read_answer(&mut stream).await;
        assert_eq!(code(&r), expected, "{r}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // A chunked body (length unknown) is still measured first: the size
    // error keeps its place before the authentication errors.
    let mut raw = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        emu.host()
    )
    .into_bytes();
    raw.extend_from_slice(b"c\r\n{\"Limit\": 1}\r\n0\r\n\r\n");
    let r = raw_envelope(&raw_http(&emu, &raw).await);
    assert_eq!(code(&r), "AuthFailure.InvalidAuthorization", "{r}");
    assert_healthy(&emu).await;
}

#[tokio::test]
async fn request_bodies_share_a_global_buffer_budget() {
    let emu = start(EmulatorConfig {
        max_body_bytes: 64 * 1024,
        max_buffered_bytes: 64 * 1024,
        read_timeout: Duration::from_millis(1500),
        ..config()
    })
    .await;
    let mut body = br#"{"Limit": 1}"#.to_vec();
    body.resize(60 * 1024, b' ');

    // A: signed, declares 60 KiB, sends all but its last byte and stalls,
    // holding room for its whole body (taken once more than the first
    // 16 KiB, which need none, arrived) until its body times out.
    let a = Call::post_bytes("DescribeInstances", body.clone());
    let mut stalled = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    let mut raw = head_only(&emu, &a, true);
    raw.extend_from_slice(&a.body[..a.body.len() - 1]);
    stalled.write_all(&raw).await.unwrap();
    let a_started = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A small request needs no room.
    let r = Call::post("DescribeInstances", json!({"Limit": 1}))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "", "{r}");

    // B: another 60 KiB does not fit until A gives up (its body times out
    // 1.5 s after it started); then it is served. A lower bound on time is
    // safe on a loaded machine: timers never fire early.
    let r = Call::post_bytes("DescribeInstances", body.clone())
        .send(&emu)
        .await;
    let b_done = a_started.elapsed();
    assert_eq!(code(&r), "", "{r}");
    let a_r = read_answer(&mut stalled).await;
    assert_eq!(code(&a_r), "InvalidRequest", "{a_r}");
    assert!(
        b_done >= Duration::from_millis(1400),
        "B did not wait for A's reservation (done {b_done:?} after A started)"
    );
    assert_healthy(&emu).await;
}

#[tokio::test]
async fn default_limit_is_10_mib() {
    let emu = start(config()).await;
    let body = vec![b' '; 10 * 1024 * 1024 + 1];
    let r = Call::post_bytes("DescribeInstances", body).send(&emu).await;
    assert_eq!(code(&r), "RequestSizeLimitExceeded");
    assert_healthy(&emu).await;
}

#[tokio::test]
async fn in_process_router() {
    let emulator = Emulator::new(config()).unwrap();
    let call = Call::post("DescribeInstances", json!({"Limit": 5}));
    let host = "emulator.local";
    let mut builder = axum::http::Request::builder()
        .method("POST")
        .uri("/")
        .header("Host", host);
    for (k, v) in call.headers(host) {
        builder = builder.header(k, v);
    }
    let response = emulator
        .router()
        .oneshot(builder.body(axum::body::Body::from(call.body.clone())).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let r = envelope(&body);
    assert_eq!(r["TotalCount"], 0, "{r}");
}

#[tokio::test]
async fn error_envelope_shape() {
    let emu = start(config()).await;
    let resp = http().post(emu.endpoint_url()).body("{}").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let r = v["Response"].as_object().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(v["Response"]["Error"]["Code"], "AuthFailure.InvalidAuthorization");
    assert!(v["Response"]["Error"]["Message"].is_string());
    let _ = Duration::ZERO;
}

#[tokio::test]
async fn http2_prior_knowledge() {
    let emu = start(config()).await;
    let call = Call::post("DescribeInstances", json!({"Limit": 1}));
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut req = client.post(emu.endpoint_url()).body(call.body.clone());
    for (k, v) in call.headers(&emu.host()) {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let r = envelope(&resp.bytes().await.unwrap());
    assert_eq!(code(&r), "", "{r}");
}
