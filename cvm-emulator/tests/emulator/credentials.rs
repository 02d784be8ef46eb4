//! Temporary credentials end to end: the metadata service's instance role,
//! STS AssumeRole (also chained) and AssumeRoleWithWebIdentity, and the
//! gateway's X-TC-Token checks, with our runtime client and hand-signed
//! requests.

use crate::common;

use std::time::Duration;

use crate::common::{code, message, start, Call};
use cvm_api::runtime::{Client, Config, Credentials, Endpoint, Error, SecretKey};
use cvm_emulator::{CredentialsIssued, RunningEmulator, DEMO_SECRET_ID, DEMO_SECRET_KEY};
use serde::Deserialize;
use serde_json::{json, Value};

const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/emulator-test";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.emulator-test-oidc-token.c2lnbmF0dXJl";

/// A temporary credential as the metadata service and STS give it.
#[derive(Clone, Debug)]
struct Temp {
    id: String,
    key: String,
    token: String,
    expired_time: u64,
}

fn config() -> cvm_emulator::EmulatorConfig {
    common::config().with_web_identity_token(Some(OIDC_TOKEN.to_owned()))
}

/// Issued by (metadata, AssumeRole, AssumeRoleWithWebIdentity).
fn issued(emu: &RunningEmulator) -> (u64, u64, u64) {
    let CredentialsIssued {
        metadata,
        assume_role,
        web_identity,
        ..
    } = emu.credentials_issued();
    (metadata, assume_role, web_identity)
}

fn now() -> u64 {
    common::now() as u64
}

async fn get(url: &str) -> (u16, String, String) {
    let resp = common::http().get(url).send().await.expect("answered");
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

/// The role's credentials from the metadata service (asserting their shape).
async fn metadata_credentials(emu: &RunningEmulator, role: &str) -> Temp {
    let (status, ctype, body) = get(&format!("{}cam/security-credentials/{role}", emu.metadata_url())).await;
    assert_eq!(status, 200, "{body}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields.len(), 6, "{v}");
    assert_eq!(v["Code"], "Success");
    let expired_time = v["ExpiredTime"].as_u64().expect("ExpiredTime is an integer");
    let expiration = v["Expiration"].as_str().unwrap();
    assert_eq!(expiration.len(), 20, "{expiration}");
    assert!(
        expiration.ends_with('Z') && expiration.as_bytes()[10] == b'T',
        "{expiration}"
    );
    Temp {
        id: v["TmpSecretId"].as_str().unwrap().to_owned(),
        key: v["TmpSecretKey"].as_str().unwrap().to_owned(),
        token: v["Token"].as_str().unwrap().to_owned(),
        expired_time,
    }
}

/// The credentials of an STS answer (asserting its shape).
fn sts_credentials(r: &Value) -> Temp {
    assert_eq!(code(r), "", "{r}");
    let c = &r["Credentials"];
    let expiration = r["Expiration"].as_str().expect("Expiration");
    assert!(expiration.ends_with('Z'), "{expiration}");
    Temp {
        id: c["TmpSecretId"].as_str().unwrap().to_owned(),
        key: c["TmpSecretKey"].as_str().unwrap().to_owned(),
        token: c["Token"].as_str().unwrap().to_owned(),
        expired_time: r["ExpiredTime"].as_u64().expect("ExpiredTime is an integer"),
    }
}

/// Our runtime's untyped client, signed with `creds` (and their token).
fn runtime_client(emu: &RunningEmulator, id: &str, key: &str, token: Option<&str>) -> Client {
    let mut creds = Credentials::new(id, SecretKey::new(key));
    if let Some(token) = token {
        creds = creds.with_session_token(token);
    }
    Client::new(
        Config::new(creds)
            .with_endpoint(Endpoint::custom(&emu.endpoint_url()).unwrap())
            .with_region("ap-guangzhou")
            .with_timeout(Duration::from_secs(10)),
    )
    .unwrap()
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstances {
    total_count: u64,
}

async fn describe(client: &Client) -> Result<DescribeInstances, Error<cvm_api::runtime::ServiceError>> {
    client
        .call("cvm", "2017-03-12", "DescribeInstances", &json!({"Limit": 1}))
        .await
}

fn describe_call(temp: &Temp, token: Option<&str>) -> Call {
    Call::post("DescribeInstances", json!({"Limit": 1})).with_credential(&temp.id, &temp.key, token)
}

#[tokio::test]
async fn metadata_gives_the_role_and_fresh_credentials() {
    let emu = start(config().with_credential_ttl(Duration::from_secs(600))).await;
    let (status, ctype, body) = get(&format!("{}cam/security-credentials/", emu.metadata_url())).await;
    assert_eq!((status, body.as_str()), (200, "CVM_QcsRole"));
    assert!(ctype.starts_with("text/plain"), "{ctype}");

    let before = now();
    let a = metadata_credentials(&emu, "CVM_QcsRole").await;
    let b = metadata_credentials(&emu, "CVM_QcsRole").await;
    let after = now();
    assert!((before + 600..=after + 600).contains(&a.expired_time), "{a:?}");
    assert!(a.id.starts_with("AKID"), "{a:?}");
    assert_ne!(a.id, b.id);
    assert_ne!(a.key, b.key);
    assert_ne!(a.token, b.token);
    assert_eq!(issued(&emu), (2, 0, 0));

    // Another role, another path, another method: not served.
    for path in [
        "cam/security-credentials/OtherRole",
        "placement/region",
        "cam/security-credentials",
    ] {
        let (status, _, _) = get(&format!("{}{path}", emu.metadata_url())).await;
        assert_eq!(status, 404, "{path}");
    }
    let resp = common::http()
        .post(format!(
            "{}cam/security-credentials/CVM_QcsRole",
            emu.metadata_url()
        ))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    // Metadata GETs are not API requests.
    assert_eq!(emu.fault_stats().requests, 0);
    assert_eq!(emu.credentials_issued().total(), 2);
}

#[tokio::test]
async fn a_named_role_and_no_role() {
    let emu = start(config().with_instance_role(Some("MyAppRole".to_owned()))).await;
    let (_, _, body) = get(&format!("{}cam/security-credentials/", emu.metadata_url())).await;
    assert_eq!(body, "MyAppRole");
    metadata_credentials(&emu, "MyAppRole").await;
    let (status, _, _) = get(&format!(
        "{}cam/security-credentials/CVM_QcsRole",
        emu.metadata_url()
    ))
    .await;
    assert_eq!(status, 404);

    let none = start(config().with_instance_role(None)).await;
    for path in ["", "CVM_QcsRole"] {
        let (status, _, _) = get(&format!("{}cam/security-credentials/{path}", none.metadata_url())).await;
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(none.credentials_issued().total(), 0);

    let bad = cvm_emulator::Emulator::new(config().with_instance_role(Some("has space".to_owned())))
        .unwrap_err()
        .to_string();
    assert!(bad.contains("role name"), "{bad}");
    let bad = cvm_emulator::Emulator::new(config().with_credential_ttl(Duration::from_millis(500)))
        .unwrap_err()
        .to_string();
    assert!(bad.contains("credential TTL"), "{bad}");
}

#[tokio::test]
async fn metadata_credentials_sign_cvm_calls_with_their_token() {
    let emu = start(config()).await;
    let temp = metadata_credentials(&emu, "CVM_QcsRole").await;

    // Our runtime client, token as X-TC-Token.
    let client = runtime_client(&emu, &temp.id, &temp.key, Some(&temp.token));
    assert_eq!(describe(&client).await.unwrap().total_count, 0);
    // GET too.
    let r = Call::get("DescribeInstances", "Limit=1")
        .with_credential(&temp.id, &temp.key, Some(&temp.token))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "", "{r}");
    assert_eq!(emu.request_count("DescribeInstances"), 2);

    // Without a token, or with another one (a valid token of another
    // credential included): TokenFailure, even though the signature is right.
    let other = metadata_credentials(&emu, "CVM_QcsRole").await;
    let no_token = runtime_client(&emu, &temp.id, &temp.key, None);
    let err = describe(&no_token).await.unwrap_err();
    assert_eq!(err.code(), Some("AuthFailure.TokenFailure"), "{err}");
    for token in [
        None,
        Some(other.token.as_str()),
        Some("0123"),
        Some("not-hex-at-all"),
    ] {
        let r = describe_call(&temp, token).send(&emu).await;
        assert_eq!(code(&r), "AuthFailure.TokenFailure", "{token:?}: {r}");
        assert!(
            !message(&r).contains(&temp.key) && !message(&r).contains(&other.token),
            "{r}"
        );
    }
    // The right token with the wrong key: the signature fails.
    let r = Call::post("DescribeInstances", json!({}))
        .with_credential(&temp.id, &other.key, Some(&temp.token))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "AuthFailure.SignatureFailure", "{r}");
    // Only authenticated requests are counted.
    assert_eq!(emu.request_count("DescribeInstances"), 2);
}

#[tokio::test]
async fn made_up_and_tampered_temporary_ids_are_refused() {
    let emu = start(config()).await;
    let temp = metadata_credentials(&emu, "CVM_QcsRole").await;
    let made_up = Temp {
        id: format!("AKIDtmp{}", "ab".repeat(28)),
        ..temp.clone()
    };
    let r = describe_call(&made_up, Some(&temp.token)).send(&emu).await;
    assert_eq!(code(&r), "AuthFailure.SecretIdNotFound", "{r}");
    // A later expiry written into a real id: no longer an id it issued.
    let mut tampered = temp.clone();
    let hex_start = "AKIDtmp".len();
    tampered.id.replace_range(hex_start..hex_start + 2, "7f");
    let r = describe_call(&tampered, Some(&temp.token)).send(&emu).await;
    assert_eq!(code(&r), "AuthFailure.SecretIdNotFound", "{r}");
    // Another emulator (a restart) knows none of this one's credentials.
    let restarted = start(config()).await;
    let r = describe_call(&temp, Some(&temp.token)).send(&restarted).await;
    assert_eq!(code(&r), "AuthFailure.SecretIdNotFound", "{r}");
}

#[tokio::test]
async fn expired_credentials_get_token_failure() {
    let emu = start(config().with_credential_ttl(Duration::from_secs(1))).await;
    let temp = metadata_credentials(&emu, "CVM_QcsRole").await;
    assert!(temp.expired_time <= now() + 1, "{temp:?}");
    // At most 1 s from now; wait until the clock is past it.
    while now() < temp.expired_time {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = describe_call(&temp, Some(&temp.token)).send(&emu).await;
    assert_eq!(code(&r), "AuthFailure.TokenFailure", "{r}");
    assert!(message(&r).contains("expired"), "{r}");

    // Expiry is by the emulator's clock, skew included.
    let ahead = start(
        config()
            .with_credential_ttl(Duration::from_secs(10))
            .with_clock_skew(30),
    )
    .await;
    let before = now();
    let fresh = metadata_credentials(&ahead, "CVM_QcsRole").await;
    assert!(
        (before + 40..=now() + 40).contains(&fresh.expired_time),
        "{fresh:?}"
    );
    assert_eq!(
        code(&describe_call(&fresh, Some(&fresh.token)).send(&ahead).await),
        ""
    );
}

#[tokio::test]
async fn assume_role_with_a_permanent_key_then_chained() {
    let emu = start(config().with_credential_ttl(Duration::from_secs(3600))).await;
    let admin = runtime_client(&emu, DEMO_SECRET_ID, DEMO_SECRET_KEY, None);
    let before = now();
    let r: Value = admin
        .call(
            "sts",
            "2018-08-13",
            "AssumeRole",
            &json!({"RoleArn": ROLE_ARN, "RoleSessionName": "session-1", "DurationSeconds": 900,
                    "Policy": "%7B%7D", "ExternalId": "ext-id", "Tags": [{"Key": "team", "Value": "sdk"}]}),
        )
        .await
        .unwrap();
    let first = sts_credentials(&r);
    assert!(
        (before + 900..=now() + 900).contains(&first.expired_time),
        "{first:?}"
    );

    // They work for CVM...
    let as_role = runtime_client(&emu, &first.id, &first.key, Some(&first.token));
    describe(&as_role).await.unwrap();
    // ...and for AssumeRole again (role chaining); the lifetime is capped
    // by the credential TTL.
    let r: Value = as_role
        .call(
            "sts",
            "2018-08-13",
            "AssumeRole",
            &json!({"RoleArn": ROLE_ARN, "RoleSessionName": "chained"}),
        )
        .await
        .unwrap();
    let chained = sts_credentials(&r);
    assert!(
        (before + 3600..=now() + 3600).contains(&chained.expired_time),
        "{chained:?}"
    );
    describe(&runtime_client(
        &emu,
        &chained.id,
        &chained.key,
        Some(&chained.token),
    ))
    .await
    .unwrap();
    // Chaining needs the token too.
    let r = Call::sts(
        "AssumeRole",
        json!({"RoleArn": ROLE_ARN, "RoleSessionName": "chained"}),
    )
    .with_credential(&first.id, &first.key, None)
    .send(&emu)
    .await;
    assert_eq!(code(&r), "AuthFailure.TokenFailure", "{r}");

    assert_eq!(emu.request_count("AssumeRole"), 2);
    assert_eq!(issued(&emu), (0, 2, 0));
}

#[tokio::test]
async fn assume_role_with_web_identity_unsigned() {
    let emu = start(config()).await;
    let body = json!({"ProviderId": "OIDC", "WebIdentityToken": OIDC_TOKEN, "RoleArn": ROLE_ARN,
                      "RoleSessionName": "tke-pod", "DurationSeconds": 1800});
    let skip = |body: Value| Call {
        authorization: Some("SKIP".into()),
        ..Call::sts("AssumeRoleWithWebIdentity", body)
    };
    let before = now();
    let r = skip(body.clone()).send(&emu).await;
    let temp = sts_credentials(&r);
    assert!(
        (before + 1800..=now() + 1800).contains(&temp.expired_time),
        "{temp:?}"
    );
    describe(&runtime_client(&emu, &temp.id, &temp.key, Some(&temp.token)))
        .await
        .unwrap();
    // No region is needed for STS; a known one is accepted.
    let r = skip(body.clone()).send(&emu).await;
    assert_eq!(code(&r), "", "{r}");
    let no_region = Call {
        region: None,
        ..skip(body.clone())
    };
    assert_eq!(code(&no_region.send(&emu).await), "");

    // The wrong token: the STS code, and the token is never echoed.
    let mut wrong = body.clone();
    wrong["WebIdentityToken"] = json!("eyJ.wrong-token.sig");
    let r = skip(wrong).send(&emu).await;
    assert_eq!(code(&r), "InvalidParameter.WebIdentityTokenError", "{r}");
    assert!(
        !message(&r).contains("wrong-token") && !message(&r).contains(OIDC_TOKEN),
        "{r}"
    );
    // No token configured: the same code.
    let unconfigured = start(common::config()).await;
    let r = skip(body.clone()).send(&unconfigured).await;
    assert_eq!(code(&r), "InvalidParameter.WebIdentityTokenError", "{r}");
    // Signed (not SKIP) is accepted too.
    let r = Call::sts("AssumeRoleWithWebIdentity", body.clone())
        .send(&emu)
        .await;
    assert_eq!(code(&r), "", "{r}");
    // Missing member.
    let r = skip(json!({"ProviderId": "OIDC", "RoleArn": ROLE_ARN, "RoleSessionName": "tke-pod"}))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "MissingParameter", "{r}");
    assert!(message(&r).contains("WebIdentityToken"), "{r}");

    assert_eq!(emu.credentials_issued().web_identity, 4);
    // Every one sent to `emu`, the refused ones included.
    assert_eq!(emu.request_count("AssumeRoleWithWebIdentity"), 6);
}

#[tokio::test]
async fn skip_is_refused_everywhere_else() {
    let emu = start(config()).await;
    for call in [
        Call::post("DescribeInstances", json!({})),
        Call::sts(
            "AssumeRole",
            json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1"}),
        ),
        // The unsigned action's name under CVM's version is still STS's:
        // refused by version, not signature.
    ] {
        let r = Call {
            authorization: Some("SKIP".into()),
            ..call
        }
        .send(&emu)
        .await;
        assert_eq!(code(&r), "AuthFailure.InvalidAuthorization", "{r}");
        assert!(message(&r).contains("SKIP"), "{r}");
    }
    let r = Call {
        authorization: Some("SKIP".into()),
        version: Some("2017-03-12".into()),
        ..Call::sts(
            "AssumeRoleWithWebIdentity",
            json!({"ProviderId": "OIDC", "WebIdentityToken": OIDC_TOKEN, "RoleArn": ROLE_ARN, "RoleSessionName": "s1"}),
        )
    }
    .send(&emu)
    .await;
    assert_eq!(code(&r), "NoSuchVersion", "{r}");
    // The timestamp is still checked.
    let r = Call {
        authorization: Some("SKIP".into()),
        timestamp: common::now() - 3600,
        ..Call::sts(
            "AssumeRoleWithWebIdentity",
            json!({"ProviderId": "OIDC", "WebIdentityToken": OIDC_TOKEN, "RoleArn": ROLE_ARN, "RoleSessionName": "s1"}),
        )
    }
    .send(&emu)
    .await;
    assert_eq!(code(&r), "AuthFailure.SignatureExpire", "{r}");
    assert_eq!(emu.credentials_issued().total(), 0);
}

#[tokio::test]
async fn sts_parameters_versions_and_services() {
    let emu = start(config()).await;
    let assume = |body: Value| Call::sts("AssumeRole", body);
    let cases = [
        (
            json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1", "DurationSeconds": 43201}),
            "InvalidParameter.OverTimeError",
            "DurationSeconds",
        ),
        (
            json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1", "DurationSeconds": 0}),
            "InvalidParameterValue",
            "DurationSeconds",
        ),
        (
            json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1", "DurationSeconds": -1}),
            "InvalidParameter",
            "DurationSeconds",
        ),
        (
            json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1", "Color": "red"}),
            "UnknownParameter",
            "Color",
        ),
        (
            json!({"RoleArn": "arn:aws:iam::1:role/x", "RoleSessionName": "s1"}),
            "InvalidParameterValue",
            "RoleArn",
        ),
        (
            json!({"RoleArn": "", "RoleSessionName": "s1"}),
            "InvalidParameterValue",
            "RoleArn",
        ),
        (
            json!({"RoleArn": ROLE_ARN, "RoleSessionName": "x"}),
            "InvalidParameterValue",
            "RoleSessionName",
        ),
        (json!({"RoleSessionName": "s1"}), "MissingParameter", "RoleArn"),
        (
            json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1",
                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}),
            "InvalidParameterValue",
            "Tags.1.Key",
        ),
    ];
    for (body, expected, named) in cases {
        let r = assume(body.clone()).send(&emu).await;
        assert_eq!(code(&r), expected, "{body}: {r}");
        assert!(message(&r).contains(named), "{body}: {r}");
    }
    // At the maximum, and as a GET with the duration as text.
    let r = assume(json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1", "DurationSeconds": 43200}))
        .send(&emu)
        .await;
    sts_credentials(&r);
    let r = Call {
        version: Some("2018-08-13".into()),
        service: "sts".into(),
        ..Call::get(
            "AssumeRole",
            "RoleArn=qcs%3A%3Acam%3A%3Auin%2F1%3AroleName%2Fr&RoleSessionName=s1&DurationSeconds=60",
        )
    }
    .send(&emu)
    .await;
    let temp = sts_credentials(&r);
    assert!(temp.expired_time <= now() + 60, "{temp:?}");

    // STS with CVM's version, CVM with STS's; actions of the other service.
    let r = Call {
        version: Some("2017-03-12".into()),
        ..assume(json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1"}))
    }
    .send(&emu)
    .await;
    assert_eq!(code(&r), "NoSuchVersion", "{r}");
    assert!(message(&r).contains("2018-08-13"), "{r}");
    let r = Call {
        version: Some("2018-08-13".into()),
        ..Call::post("DescribeInstances", json!({}))
    }
    .send(&emu)
    .await;
    assert_eq!(code(&r), "NoSuchVersion", "{r}");
    let r = Call::sts("DescribeInstances", json!({})).send(&emu).await;
    assert_eq!(code(&r), "InvalidAction", "{r}");
    let r = Call {
        version: Some("2017-03-12".into()),
        ..Call::post("AssumeRole", json!({}))
    }
    .send(&emu)
    .await;
    assert_eq!(code(&r), "InvalidAction", "{r}");
    // A real STS action the emulator does not implement.
    let r = Call::sts("GetCallerIdentity", json!({})).send(&emu).await;
    assert_eq!(code(&r), "UnsupportedOperation", "{r}");
    // A service it does not serve.
    let r = Call {
        service: "cam".into(),
        ..Call::post("DescribeInstances", json!({}))
    }
    .send(&emu)
    .await;
    assert_eq!(code(&r), "AuthFailure.SignatureFailure", "{r}");
    assert!(message(&r).contains("`cam`"), "{r}");
    // Signed for sts, sent as cvm's DescribeInstances: the scope decides.
    let r = Call {
        service: "sts".into(),
        ..Call::post("DescribeInstances", json!({}))
    }
    .send(&emu)
    .await;
    assert_eq!(code(&r), "NoSuchVersion", "{r}");

    assert_eq!(emu.credentials_issued().assume_role, 2);
    // Every authenticated AssumeRole with STS's version, answered or
    // refused (the nine cases and the two answered), not the one sent with
    // CVM's version.
    assert_eq!(emu.request_count("AssumeRole"), 11);
}

#[tokio::test]
async fn sts_goes_through_the_rate_limit() {
    let emu = start(config().with_rate_limit(Some(2))).await;
    let body = json!({"RoleArn": ROLE_ARN, "RoleSessionName": "s1"});
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(code(&Call::sts("AssumeRole", body.clone()).send(&emu).await));
    }
    assert_eq!(codes, ["", "", "RequestLimitExceeded"]);
}

#[tokio::test]
async fn many_temporary_ids_keep_the_emulator_healthy() {
    // Each credential is a new secret id for the rate limiter: bounded
    // count, bounded time.
    let emu = start(config().with_rate_limit(Some(5))).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for i in 0..200 {
        assert!(std::time::Instant::now() < deadline, "too slow at {i}");
        let temp = metadata_credentials(&emu, "CVM_QcsRole").await;
        let r = describe_call(&temp, Some(&temp.token)).send(&emu).await;
        assert_eq!(code(&r), "", "{i}: {r}");
    }
    assert_eq!(emu.credentials_issued().metadata, 200);
    common::assert_healthy(&emu).await;
}
