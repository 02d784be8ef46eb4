//! Hostile input: random bodies and headers, truncated and slow requests,
//! missing and repeated headers. Every request that parses as HTTP gets an
//! error envelope; nothing crashes or hangs, and a normal request still
//! works afterwards. Random cases come from a fixed seed, bounded in number.

use std::time::{Duration, Instant};

use crate::common::*;
use cvm_emulator::EmulatorConfig;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a test waits for the server to give up on a connection whose
/// read timeout is 300 ms: far past it, for a loaded machine, and half the
/// default read timeout (30 s), so that a server that ignored the
/// configured timeout, or had none, still fails the test.
const GIVE_UP: Duration = Duration::from_secs(15);

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
    /// Bytes allowed in an HTTP header value (visible ASCII, space, obs-text).
    fn header_value(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| loop {
                let b = self.next() as u8;
                if b == b' ' || b.is_ascii_graphic() || b >= 0x80 {
                    break b;
                }
            })
            .collect()
    }
}

const KNOWN_CODES: &[&str] = &[
    "AuthFailure.InvalidAuthorization",
    "AuthFailure.SignatureExpire",
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureFailure",
    "NoSuchVersion",
    "InvalidAction",
    "MissingParameter",
    "InvalidParameter",
    "InvalidParameterValue",
    "UnknownParameter",
    "InvalidRequest",
    "UnsupportedRegion",
    "UnsupportedProtocol",
];

fn assert_error_envelope(r: &serde_json::Value) {
    let c = code(r);
    assert!(KNOWN_CODES.contains(&c.as_str()), "unexpected code `{c}`: {r}");
}

#[tokio::test]
async fn random_bodies() {
    let emu = start(config()).await;
    let mut rng = Rng(0x5eed_0001);
    for i in 0..120 {
        let len = rng.below(2048);
        let mut body = rng.bytes(len);
        if i % 3 == 0 && !body.is_empty() {
            body[0] = b'{'; // looks like JSON for a moment
        }
        let action = [
            "DescribeInstances",
            "StartInstances",
            "RunInstances",
            "DescribeImages",
        ][i % 4];
        let mut call = Call::post_bytes(action, body);
        if i % 2 == 1 {
            // Unsigned garbage: the signature no longer matches.
            call.authorization = Some(call.authorization_for(&emu.host()));
            call.body.push(b'!');
        }
        let r = call.send(&emu).await;
        assert_error_envelope(&r);
    }
    // Random JSON-ish documents, signed: always a parameter error or success.
    for _ in 0..60 {
        let value = random_json(&mut rng, 0);
        let r = Call::post("DescribeInstances", json!({ "Filters": value }))
            .send(&emu)
            .await;
        let c = code(&r);
        assert!(
            c.is_empty() || KNOWN_CODES.contains(&c.as_str()) || c.starts_with("Invalid"),
            "{r}"
        );
    }
    assert_healthy(&emu).await;
}

fn random_json(rng: &mut Rng, depth: usize) -> serde_json::Value {
    match rng.below(if depth > 3 { 4 } else { 6 }) {
        0 => serde_json::Value::Null,
        1 => json!(rng.below(1000)),
        2 => {
            let len = rng.below(12);
            json!(String::from_utf8_lossy(&rng.header_value(len)).into_owned())
        }
        3 => json!(rng.below(2) == 0),
        4 => serde_json::Value::Array((0..rng.below(4)).map(|_| random_json(rng, depth + 1)).collect()),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                let key = ["Name", "Values", "X", ""][rng.below(4)].to_owned();
                m.insert(key, random_json(rng, depth + 1));
            }
            serde_json::Value::Object(m)
        }
    }
}

#[tokio::test]
async fn random_header_values() {
    let emu = start(config()).await;
    let mut rng = Rng(0x5eed_0002);
    let names = [
        "Authorization",
        "X-TC-Action",
        "X-TC-Version",
        "X-TC-Timestamp",
        "X-TC-Region",
        "Content-Type",
        "X-TC-Token",
    ];
    let mut enveloped = 0;
    for i in 0..120 {
        let call = Call::post("DescribeInstances", json!({}));
        let mut headers = call.headers(&emu.host());
        headers.insert(0, ("Host".into(), emu.host()));
        let name = names[i % names.len()];
        let len = 1 + rng.below(200);
        let value = rng.header_value(len);
        // Build the request by hand: reqwest would refuse non-ASCII values.
        let mut raw = b"POST / HTTP/1.1\r\n".to_vec();
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case(name) {
                continue;
            }
            raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(&value);
        raw.extend_from_slice(
            format!(
                "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                call.body.len()
            )
            .as_bytes(),
        );
        raw.extend_from_slice(&call.body);
        let text = raw_http(&emu, &raw).await;
        if text.starts_with("HTTP/1.1 400") {
            continue; // refused by the HTTP parser itself (e.g. trailing space)
        }
        let r = raw_envelope(&text);
        enveloped += 1;
        let c = code(&r);
        // The token is not checked, so a random one still succeeds.
        assert!(c.is_empty() || KNOWN_CODES.contains(&c.as_str()), "{name}: {r}");
        if name != "X-TC-Token" {
            assert!(!c.is_empty(), "{name}={value:?} accepted: {r}");
        }
    }
    assert!(enveloped >= 60, "only {enveloped} of 120 reached the gateway");
    assert_healthy(&emu).await;
}

#[tokio::test]
async fn random_bytes_on_the_wire() {
    let emu = start(config()).await;
    let mut rng = Rng(0x5eed_0003);
    let (mut unparsed, mut enveloped) = (0, 0);
    for i in 0..60 {
        let len = 1 + rng.below(4096);
        let mut bytes = rng.bytes(len);
        if i % 3 == 0 {
            // A plausible start, then garbage.
            let mut start = b"POST / HTTP/1.1\r\nHost: x\r\n".to_vec();
            start.append(&mut bytes);
            bytes = start;
        } else if i % 3 == 1 {
            // A request, with garbage for a body.
            let mut request =
                format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
                    .into_bytes();
            request.append(&mut bytes);
            bytes = request;
        }
        let text = raw_http(&emu, &bytes).await;
        // As documented: what parses as a request gets an envelope; what
        // does not gets the HTTP parser's bare 400, and the connection ends.
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        if head.starts_with("HTTP/1.1 400 Bad Request") && body.is_empty() {
            assert!(!head.to_ascii_lowercase().contains("content-type"), "{head}");
            unparsed += 1;
        } else if !text.is_empty() {
            assert!(!code(&raw_envelope(&text)).is_empty(), "not an envelope: {text}");
            enveloped += 1;
        }
    }
    // Both kinds occurred: the test saw what it describes.
    assert!(
        unparsed > 0 && enveloped > 0,
        "{unparsed} unparsed, {enveloped} enveloped"
    );
    assert_healthy(&emu).await;
}

#[tokio::test]
async fn missing_and_repeated_headers() {
    let emu = start(config()).await;
    let host = emu.host();
    // Signed as the official SDKs sign, so that a missing or repeated
    // X-TC-Action reaches the action checks (signed, it fails the signature).
    let call = Call {
        sign_action: false,
        ..Call::post("DescribeInstances", json!({"Limit": 1}))
    };
    let base = {
        let mut h = call.headers(&host);
        h.insert(0, ("Host".to_owned(), host.clone()));
        h
    };
    let send = |headers: Vec<(String, String)>| {
        let raw = http_text("POST", "/", &headers, &call.body);
        let emu = &emu;
        async move { raw_envelope(&raw_http(emu, &raw).await) }
    };
    assert_eq!(code(&send(base.clone()).await), "");

    let without = |name: &str| -> Vec<(String, String)> {
        base.iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
            .cloned()
            .collect()
    };
    let twice = |name: &str, value: Option<&str>| -> Vec<(String, String)> {
        let mut h = base.clone();
        let (k, v) = base
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .unwrap()
            .clone();
        h.push((k, value.map_or(v, str::to_owned)));
        h
    };

    for (name, expected) in [
        ("Authorization", "AuthFailure.InvalidAuthorization"),
        ("X-TC-Timestamp", "AuthFailure.SignatureExpire"),
        ("Host", "AuthFailure.SignatureFailure"),
        ("Content-Type", "AuthFailure.SignatureFailure"),
        ("X-TC-Version", "MissingParameter"),
        ("X-TC-Action", "MissingParameter"),
        ("X-TC-Region", "MissingParameter"),
    ] {
        let r = send(without(name)).await;
        assert_eq!(code(&r), expected, "without {name}: {r}");
    }
    for (name, expected) in [
        ("Authorization", "AuthFailure.InvalidAuthorization"),
        ("X-TC-Timestamp", "AuthFailure.SignatureExpire"),
        ("Host", "AuthFailure.SignatureFailure"),
        ("Content-Type", "AuthFailure.SignatureFailure"),
        ("X-TC-Version", "NoSuchVersion"),
        ("X-TC-Action", "InvalidAction"),
        ("X-TC-Region", "UnsupportedRegion"),
    ] {
        let r = send(twice(name, None)).await;
        assert_eq!(code(&r), expected, "{name} twice: {r}");
    }
    // Wrong content types, signed as sent.
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
        "json",
    ] {
        let mut c = call.clone();
        c.content_type = content_type.to_owned();
        let mut h = c.headers(&host);
        h.insert(0, ("Host".to_owned(), host.clone()));
        let r = send(h).await;
        assert!(code(&r).starts_with("Invalid"), "{content_type}: {r}");
    }
    assert_healthy(&emu).await;
}

#[tokio::test]
async fn regions_are_checked_against_the_documented_list() {
    let emu = start(config().with_rate_limit(Some(1))).await;
    let describe = |region: Option<&str>| {
        let mut call = Call::post("DescribeInstances", json!({"Limit": 1}));
        call.region = region.map(str::to_owned);
        call
    };
    let unlimited = start(config()).await;
    for region in cvm_emulator::REGIONS {
        let r = describe(Some(region)).send(&unlimited).await;
        assert_eq!(code(&r), "", "{region}: {r}");
    }
    for bad in [
        "mars-1",
        "ap-guangzhou-3",
        "AP-GUANGZHOU",
        "ap-guangzhou.",
        "eu-moscow",
    ] {
        let r = describe(Some(bad)).send(&emu).await;
        assert_eq!(code(&r), "UnsupportedRegion", "{bad:?}: {r}");
    }
    // Missing: every action needs one, emulated or not, but DescribeRegions.
    let r = describe(None).send(&emu).await;
    assert_eq!(code(&r), "MissingParameter", "{r}");
    assert!(message(&r).contains("Region"), "{r}");
    let mut zones = Call::post("DescribeZones", json!({}));
    zones.region = None;
    assert_eq!(code(&zones.send(&emu).await), "MissingParameter");
    let mut regions = Call::post("DescribeRegions", json!({}));
    regions.region = None;
    assert_eq!(code(&regions.send(&emu).await), "");
    regions.region = Some("mars-1".into());
    assert_eq!(code(&regions.send(&emu).await), "UnsupportedRegion");

    // Gateway order: signature, version and action first; then the region,
    // before the rate limit and the parameters.
    let mut call = describe(Some("mars-1"));
    call.secret_key = "wrong".into();
    assert_eq!(code(&call.send(&emu).await), "AuthFailure.SignatureFailure");
    let mut call = describe(Some("mars-1"));
    call.action = Some("NoSuchAction".into());
    assert_eq!(code(&call.send(&emu).await), "InvalidAction");
    let mut call = Call::post("DescribeInstances", json!({"Bogus": 1}));
    call.region = Some("mars-1".into());
    assert_eq!(code(&call.send(&emu).await), "UnsupportedRegion");
    // The rate limit (1 a second here) was not spent by refused regions.
    assert_eq!(code(&describe(Some("ap-guangzhou")).send(&emu).await), "");
    assert_eq!(
        code(&describe(Some("mars-1")).send(&emu).await),
        "UnsupportedRegion"
    );
}

#[tokio::test]
async fn truncated_and_slow_requests_do_not_hang() {
    let emu = start(EmulatorConfig {
        read_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let host = emu.host();
    let call = Call::post("DescribeInstances", json!({"Limit": 1}));
    let mut headers = call.headers(&host);
    headers.insert(0, ("Host".to_owned(), host.clone()));

    // Truncated: the body is shorter than Content-Length, then the client
    // stops sending. The server answers or closes, within the timeout.
    let mut raw = http_text("POST", "/", &headers, &call.body);
    let cut = raw.len() - call.body.len() / 2;
    raw.truncate(cut);
    let started = Instant::now();
    let text = raw_http(&emu, &raw).await;
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 "), "{text}");
    assert!(started.elapsed() < GIVE_UP);

    // Slow body: the connection stays open but the rest never comes.
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    stream.write_all(&raw).await.unwrap();
    let mut out = Vec::new();
    let started = Instant::now();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut out))
        .await
        .expect("the server gives up on a slow body")
        .unwrap();
    let text = String::from_utf8_lossy(&out);
    let r = raw_envelope(&text);
    assert_eq!(code(&r), "InvalidRequest", "{r}");
    assert!(started.elapsed() < GIVE_UP);

    // Slow headers: the connection is closed.
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut out))
        .await
        .expect("the server gives up on slow headers")
        .ok();

    // Many idle connections do not stop others from being served.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(tokio::net::TcpStream::connect(emu.addr()).await.unwrap());
    }
    assert_healthy(&emu).await;
    drop(idle);
}

#[tokio::test]
async fn deep_and_huge_json() {
    let emu = start(config()).await;
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let r = Call::post_bytes(
        "DescribeInstances",
        format!("{{\"Filters\": {deep}}}").into_bytes(),
    )
    .send(&emu)
    .await;
    assert_eq!(code(&r), "InvalidParameter");
    let deep_query = (0..500).map(|_| "A").collect::<Vec<_>>().join(".") + "=1";
    let r = Call::get("DescribeInstances", &deep_query).send(&emu).await;
    assert_eq!(code(&r), "InvalidParameter");
    let many: Vec<String> = (0..5000).map(|i| format!("ins-{i:08}")).collect();
    let r = Call::post("DescribeInstances", json!({ "InstanceIds": many }))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "InvalidParameterValue.LimitExceeded");
    let r = Call::post(
        "RunInstances",
        json!({
            "Placement": {"Zone": ZONE}, "ImageId": "img-9qabwvbn", "InstanceCount": 1_000_000_000_000i64
        }),
    )
    .send(&emu)
    .await;
    assert_eq!(code(&r), "InvalidParameterValue");
    assert_healthy(&emu).await;
}

/// Random but well-typed values for the emulated actions' parameters: the
/// handlers see odd strings (any Unicode), huge and negative numbers.
#[tokio::test]
async fn random_values_for_emulated_actions() {
    let (emu, ids) = seeded(config(), 2, "RUNNING").await;
    let mut rng = Rng(0x5eed_0004);
    let text = |rng: &mut Rng| {
        let len = rng.below(40);
        let raw = rng.header_value(len);
        let mut s = String::from_utf8_lossy(&raw).into_owned();
        if rng.below(3) == 0 {
            s.push_str(
                [
                    "{R:99999999999999999999}",
                    "{R:18446744073709551615}",
                    "é.Ä9",
                    "ins-",
                    "",
                ][rng.below(5)],
            );
        }
        s
    };
    let number =
        |rng: &mut Rng| -> i64 { [0, -1, 1, 100, 101, i64::MAX, i64::MIN, rng.next() as i64][rng.below(8)] };
    for i in 0..150 {
        let body = match i % 5 {
            0 => json!({
                "Placement": {"Zone": if rng.below(2) == 0 { ZONE.to_owned() } else { text(&mut rng) }},
                "ImageId": if rng.below(2) == 0 { "img-9qabwvbn".to_owned() } else { text(&mut rng) },
                "InstanceType": text(&mut rng),
                "InstanceName": text(&mut rng),
                "InstanceCount": number(&mut rng) % 3,
                "ClientToken": text(&mut rng),
                "InstanceChargeType": (["PREPAID", "POSTPAID_BY_HOUR", "X"][rng.below(3)]),
                "InstanceChargePrepaid": {"Period": number(&mut rng)},
                "DryRun": rng.below(4) == 0,
            }),
            1 => json!({
                "Filters": [{"Name": (["zone", "instance-name", "tag:é", "creation-start-time", "instance-id"][rng.below(5)]),
                             "Values": [text(&mut rng), text(&mut rng)]}],
                "Offset": number(&mut rng),
                "Limit": number(&mut rng),
            }),
            2 => {
                json!({"InstanceIds": [ids[rng.below(2)].clone(), text(&mut rng)], "StopType": text(&mut rng)})
            }
            3 => {
                json!({"InstanceIds": [text(&mut rng)], "Offset": number(&mut rng), "Limit": number(&mut rng)})
            }
            _ => json!({"InstanceIds": [ids[rng.below(2)].clone()], "StoppedMode": text(&mut rng)}),
        };
        let action = match i % 5 {
            0 => "RunInstances",
            1 => "DescribeInstances",
            2 => "StopInstances",
            3 => "DescribeInstancesStatus",
            _ => ["StopInstances", "StartInstances", "RebootInstances"][rng.below(3)],
        };
        let mut call = Call::post(action, body);
        if rng.below(4) == 0 {
            call.region = Some(text(&mut rng));
        }
        let r = call.send(&emu).await;
        assert!(r["RequestId"].is_string(), "{r}");
    }
    assert_healthy(&emu).await;
}

/// Sends a normal signed request on a fresh connection; `Some` with the
/// `Response` object when it was answered, `None` when the connection was
/// closed without an answer (e.g. at the connection cap).
async fn try_request(emu: &cvm_emulator::RunningEmulator) -> Option<serde_json::Value> {
    let host = emu.host();
    let call = Call::post("DescribeInstances", json!({"Limit": 1}));
    let mut headers = call.headers(&host);
    headers.insert(0, ("Host".to_owned(), host));
    let text = raw_http(emu, &http_text("POST", "/", &headers, &call.body)).await;
    text.starts_with("HTTP/1.1 ").then(|| raw_envelope(&text))
}

/// Reads until the server closes the connection, answering HTTP/2 PINGs
/// (so keep-alive alone never closes it); fails after `within`.
async fn wait_for_close(stream: &mut tokio::net::TcpStream, within: Duration, answer_pings: bool) {
    let result = tokio::time::timeout(within, async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = match stream.read(&mut chunk).await {
                Ok(n) => n,
                Err(_) => return, // reset: closed too
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if !answer_pings {
                continue;
            }
            // HTTP/2 frames: 3-byte length, type, flags, 4-byte stream id.
            while buf.len() >= 9 {
                let len = (usize::from(buf[0]) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]);
                if buf.len() < 9 + len {
                    break;
                }
                let (kind, flags) = (buf[3], buf[4]);
                if kind == 6 && flags & 1 == 0 {
                    let mut ack = vec![0, 0, 8, 6, 1, 0, 0, 0, 0];
                    ack.extend_from_slice(&buf[9..9 + len]);
                    let _ = stream.write_all(&ack).await;
                }
                buf.drain(..9 + len);
            }
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "the server kept the connection open for {within:?}"
    );
}

#[tokio::test]
async fn silent_connections_cannot_exhaust_the_connection_cap() {
    // The reviewer's attack, scaled down: more silent connections than the
    // cap. Before the fix the emulator stopped answering for good.
    let emu = start(EmulatorConfig {
        max_connections: 4,
        read_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..12 {
        silent.push(tokio::net::TcpStream::connect(emu.addr()).await.unwrap());
    }
    let started = Instant::now();
    let answer = loop {
        if let Some(r) = try_request(&emu).await {
            break r;
        }
        assert!(
            started.elapsed() < GIVE_UP,
            "no answer within {GIVE_UP:?} while silent connections are open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(code(&answer), "", "{answer}");
    // The silent connections are closed by the server, not kept.
    for stream in &mut silent {
        wait_for_close(stream, GIVE_UP, false).await;
    }
    assert_healthy(&emu).await;
    // Again, with the silent connections still open on the client side.
    let again: Vec<_> = connect_many(&emu, 12).await;
    let started = Instant::now();
    while try_request(&emu).await.is_none() {
        assert!(started.elapsed() < GIVE_UP, "no answer the second time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(again);
    drop(silent);
}

async fn connect_many(emu: &cvm_emulator::RunningEmulator, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(tokio::net::TcpStream::connect(emu.addr()).await.unwrap());
    }
    out
}

/// Sends one signed request on an open keep-alive connection and reads its
/// answer (bounded by 5 s).
async fn request_on(stream: &mut tokio::net::TcpStream, host: &str) -> serde_json::Value {
    let call = Call::post("DescribeInstances", json!({"Limit": 1}));
    let mut raw = format!("POST / HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    for (k, v) in call.headers(host) {
        raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", call.body.len()).as_bytes());
    raw.extend_from_slice(&call.body);
    stream.write_all(&raw).await.unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\"RequestId\"") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("answered")
            .unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&chunk[..n]);
    }
    raw_envelope(&String::from_utf8_lossy(&answer))
}

#[tokio::test]
async fn at_the_cap_the_connection_that_achieved_least_gives_way() {
    // A long read timeout: what is observed here is the cap, not the
    // timeout. Each bound below is a third of it: room for a loaded
    // machine, none for waiting the silent connection's timeout out.
    let read_timeout = Duration::from_secs(60);
    let emu = start(EmulatorConfig {
        max_connections: 2,
        read_timeout,
        ..config()
    })
    .await;
    let host = emu.host();
    // A keep-alive connection that has been served, then a newer silent one.
    let mut served = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    assert_eq!(code(&request_on(&mut served, &host).await), "");
    let mut silent = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    // Let the accept loop take it.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // At the cap, a newcomer is served at once and the silent connection,
    // not the older served one, is closed to make room.
    let started = Instant::now();
    let answer = try_request(&emu).await.expect("the newcomer is served");
    assert_eq!(code(&answer), "", "{answer}");
    assert!(started.elapsed() < read_timeout / 3, "{:?}", started.elapsed());
    wait_for_close(&mut silent, read_timeout / 3, false).await;
    assert_eq!(code(&request_on(&mut served, &host).await), "");

    // Over and over: newcomers replace one another, the served connection stays.
    for _ in 0..5 {
        assert_eq!(code(&try_request(&emu).await.expect("served")), "");
    }
    assert_eq!(code(&request_on(&mut served, &host).await), "");
    drop(served);
    assert_healthy(&emu).await;
}

#[tokio::test]
async fn idle_keep_alive_and_http2_connections_are_closed() {
    let emu = start(EmulatorConfig {
        max_connections: 4,
        read_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let host = emu.host();

    // HTTP/1.1 keep-alive: one request answered, then silence.
    let call = Call::post("DescribeInstances", json!({"Limit": 1}));
    let mut raw = format!("POST / HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    for (k, v) in call.headers(&host) {
        raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", call.body.len()).as_bytes());
    raw.extend_from_slice(&call.body);
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    stream.write_all(&raw).await.unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\"RequestId\"") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("answered")
            .unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&chunk[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    wait_for_close(&mut stream, GIVE_UP, false).await;
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "closed too early"
    );

    // HTTP/2 (prior knowledge): preface and SETTINGS, then silence, while
    // answering the server's PINGs: the idle timeout closes it anyway.
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    stream.write_all(&hello).await.unwrap();
    wait_for_close(&mut stream, GIVE_UP, true).await;

    // A client that sends a byte and stops (still in protocol detection).
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    stream.write_all(b"P").await.unwrap();
    wait_for_close(&mut stream, GIVE_UP, false).await;

    assert_healthy(&emu).await;
}

/// A parameter given twice is ambiguous: the gateway refuses it for every
/// service it checks against a description, in JSON, in a query and in a
/// form, rather than judging one of the two values.
#[tokio::test]
async fn a_parameter_given_twice_is_refused_for_every_service() {
    let emu = start(config()).await;
    for (service, version, action) in [
        ("cvm", "2017-03-12", "DescribeImages"),
        ("cbs", "2017-03-12", "DescribeDisks"),
        ("tag", "2018-08-13", "DescribeTags"),
    ] {
        let json = Call {
            service: service.into(),
            version: Some(version.into()),
            ..Call::post_bytes(action, br#"{"Limit":5000,"Limit":2}"#.to_vec())
        };
        let query = Call {
            service: service.into(),
            version: Some(version.into()),
            ..Call::get(action, "Limit=5000&Limit=2")
        };
        let form = Call {
            method: "POST".into(),
            body: b"Limit=5000&Limit=2".to_vec(),
            query: String::new(),
            ..query.clone()
        };
        for (how, call) in [("json", json), ("query", query), ("form", form)] {
            let r = call.send(&emu).await;
            assert_eq!(code(&r), "InvalidParameter", "{service} {action} ({how}): {r}");
            let m = message(&r);
            assert!(m.contains("`Limit` is given"), "{service} {action} ({how}): {m}");
        }
    }
}
