//! The STS-backed credential sources and the full default chain against
//! local servers: STS and the API (the runtime's scripted server, shared
//! with its tests) and a metadata service (axum). Every environment is an
//! `Env` value and every home directory a temporary one, so the process
//! environment and the real home are never read.

#[path = "../../runtime/tests/support/credential_env.rs"]
mod credential_env;
#[path = "../../runtime/tests/support/mod.rs"]
mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use credential_env::{assert_falls_to_the_cvm_role, closed_port, env, unix_now, Metadata, TempDir};
use serde_json::json;
use support::{Scripted, Step};
use tencentcloud_config::credentials::{AssumeRoleProvider, WebIdentityProvider};
use tencentcloud_config::{config_from_environment, default_chain};
use tencentcloud_runtime::{Client, Credentials, Env, Error, ProvideCredentials, SecretKey, ServiceError};

const SECRET_ID: &str = "AKIDbase0123456789";
const SECRET_KEY: &str = "base-secret-key-1a2b3c";
const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/deployer";

/// STS's answer issuing `AKID<tag>`.
fn sts_answer(tag: &str) -> Step {
    Step::json(
        200,
        &json!({"Response": {
            "Credentials": {"Token": format!("token-{tag}"), "TmpSecretId": format!("AKID{tag}"), "TmpSecretKey": format!("key-{tag}")},
            "ExpiredTime": unix_now() + 7200,
            "Expiration": "ignored",
            "RequestId": format!("req-{tag}"),
        }})
        .to_string(),
    )
}

async fn describe(client: &Client) -> Result<serde_json::Value, Error<ServiceError>> {
    client
        .call("cvm", "2017-03-12", "DescribeInstances", &json!({}))
        .await
}

/// Without any source, the call fails at once with every source named: no
/// wait for a timeout (the metadata port refuses at once), so well under
/// the 10 s a loaded machine could take, however slow.
#[tokio::test]
async fn with_no_source_anywhere_the_error_lists_every_source_without_waiting() {
    let home = TempDir::new();
    let metadata = format!("http://127.0.0.1:{}", closed_port());
    let home_text = home.path().display().to_string();
    let env = env(&[
        ("HOME", &home_text),
        ("TENCENTCLOUD_METADATA_ENDPOINT", &metadata),
        ("TKE_REGION", "ap-guangzhou"),
    ]);
    let config = config_from_environment(&env).unwrap().with_region("ap-guangzhou");
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let error = describe(&client).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(matches!(error, Error::Credentials(_)), "{error:?}");
    assert_eq!(error.attempts(), 0);
    let text = error.to_string();
    for expected in [
        "environment: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set",
        &format!("profile file: no {home_text}/.tencentcloud/credentials"),
        &format!("no {home_text}/.tccli/default.credential"),
        "TKE OIDC: TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE and TKE_ROLE_ARN are not set",
        &format!("CVM role: cannot reach {metadata}/latest/meta-data/cam/security-credentials/"),
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
}

#[tokio::test]
async fn the_chain_takes_environment_then_profile_then_oidc_then_cvm_role() {
    let metadata = Metadata::start(3600).await;
    let sts = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(sts_answer("oidc"))
        .start()
        .await;
    let home = TempDir::new();
    home.write(
        ".tencentcloud/credentials",
        "[default]\nsecret_id = AKIDprofile\nsecret_key = profile-key\n",
    );
    let token_file = home.write("token", "web-identity-token-1\n");
    let home_text = home.path().display().to_string();
    let token_text = token_file.display().to_string();
    let metadata_url = metadata.url();
    let sts_url = format!("http://{}", sts.addr);
    let everything: Vec<(&str, &str)> = vec![
        ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
        ("TENCENTCLOUD_SECRET_KEY", "env-key"),
        ("HOME", &home_text),
        ("TKE_REGION", "ap-shanghai"),
        ("TKE_PROVIDER_ID", "tke-oidc-provider"),
        ("TKE_WEB_IDENTITY_TOKEN_FILE", &token_text),
        ("TKE_ROLE_ARN", ROLE_ARN),
        ("TENCENTCLOUD_METADATA_ENDPOINT", &metadata_url),
        // STS's own endpoint wins over the one for every service.
        ("TENCENTCLOUD_ENDPOINT", "http://127.0.0.1:9"),
        ("TENCENTCLOUD_ENDPOINT_STS", &sts_url),
    ];
    let without = |names: &[&str]| -> Env {
        env(&everything
            .iter()
            .filter(|(n, _)| !names.iter().any(|x| n.starts_with(x)))
            .cloned()
            .collect::<Vec<_>>())
    };

    let chain = default_chain(&without(&[])).unwrap();
    assert_eq!(chain.source(), Some("environment"));
    assert_eq!(chain.provide().await.unwrap().secret_id(), "AKIDenv");

    let chain = default_chain(&without(&["TENCENTCLOUD_SECRET"])).unwrap();
    assert_eq!(chain.source(), Some("profile file"));
    let c = chain.provide().await.unwrap();
    assert_eq!(
        (c.secret_id(), c.secret_key().expose()),
        ("AKIDprofile", "profile-key")
    );

    let chain = default_chain(&without(&["TENCENTCLOUD_SECRET", "HOME"])).unwrap();
    assert_eq!(chain.source(), Some("TKE OIDC"));
    let c = chain.provide().await.unwrap();
    assert_eq!(
        (c.secret_id(), c.session_token()),
        ("AKIDoidc", Some("token-oidc"))
    );
    assert_eq!(c.source(), format!("TKE OIDC {ROLE_ARN}"));
    let seen = sts.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), Some("SKIP"));
    assert_eq!(seen[0].header("x-tc-action"), Some("AssumeRoleWithWebIdentity"));
    assert_eq!(seen[0].header("x-tc-version"), Some("2018-08-13"));
    assert_eq!(seen[0].header("x-tc-region"), Some("ap-shanghai"));
    assert_eq!(seen[0].header("x-tc-token"), None);
    let body = seen[0].json();
    assert_eq!(body["WebIdentityToken"], "web-identity-token-1");
    assert_eq!(body["ProviderId"], "tke-oidc-provider");
    assert_eq!(body["RoleArn"], ROLE_ARN);
    assert!(body["RoleSessionName"]
        .as_str()
        .unwrap()
        .starts_with("tencentcloud-rust-sdk-"));
    assert_eq!(metadata.issued.load(Ordering::SeqCst), 0);

    let chain = default_chain(&without(&["TENCENTCLOUD_SECRET", "HOME", "TKE_"])).unwrap();
    assert_falls_to_the_cvm_role(&chain, &metadata).await;
}

#[tokio::test]
async fn the_web_identity_token_file_is_read_again_at_each_renewal() {
    let sts = Scripted::builder(SECRET_ID, SECRET_KEY)
        .steps([sts_answer("first"), sts_answer("second")])
        .start()
        .await;
    let home = TempDir::new();
    let token_file = home.write("token", "token-before-rotation");
    let provider = WebIdentityProvider::new(
        "ap-guangzhou".to_owned(),
        "provider".to_owned(),
        token_file.clone(),
        ROLE_ARN.to_owned(),
        sts.endpoint(),
    )
    .unwrap();
    let first = provider.provide().await.unwrap();
    assert_eq!(first.secret_id(), "AKIDfirst");
    std::fs::write(&token_file, "token-after-rotation").unwrap();
    assert!(provider.invalidate(&first));
    assert_eq!(provider.provide().await.unwrap().secret_id(), "AKIDsecond");
    let tokens: Vec<String> = sts
        .seen()
        .iter()
        .map(|s| s.json()["WebIdentityToken"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tokens, ["token-before-rotation", "token-after-rotation"]);
    assert_eq!(provider.cache().fetches(), 2);

    // A missing token file is an error naming it.
    std::fs::remove_file(&token_file).unwrap();
    assert!(provider.invalidate(&provider.provide().await.unwrap()));
    let e = provider.provide().await.unwrap_err().to_string();
    assert!(
        e.contains("the web identity token: cannot read") && e.contains("No such file"),
        "{e}"
    );
}

#[tokio::test]
async fn assume_role_is_signed_with_the_base_provider() {
    let sts = Scripted::builder(SECRET_ID, SECRET_KEY)
        .steps([sts_answer("assumed")])
        .start()
        .await;
    let base = Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY));
    let provider = AssumeRoleProvider::builder(ROLE_ARN, "nightly")
        .duration(Duration::from_secs(900))
        .policy(r#"{"version":"2.0","statement":[]}"#)
        .endpoint(sts.endpoint())
        .region("ap-beijing")
        .build(base)
        .unwrap();
    let c = provider.provide().await.unwrap();
    assert_eq!(
        (c.secret_id(), c.session_token()),
        ("AKIDassumed", Some("token-assumed"))
    );
    assert_eq!(c.source(), format!("STS AssumeRole {ROLE_ARN}"));
    sts.all_signed();
    let seen = &sts.seen()[0];
    assert_eq!(seen.header("x-tc-action"), Some("AssumeRole"));
    assert_eq!(seen.header("x-tc-region"), Some("ap-beijing"));
    assert!(seen.header("authorization").unwrap().contains("/sts/tc3_request"));
    assert_eq!(
        seen.json(),
        json!({"RoleArn": ROLE_ARN, "RoleSessionName": "nightly", "DurationSeconds": 900, "Policy": r#"{"version":"2.0","statement":[]}"#})
    );
    // Cached.
    assert!(provider.provide().await.unwrap().same_as(&c));
    assert_eq!(sts.count(), 1);

    // An STS refusal is a credentials error carrying the service's code.
    let sts = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::error("InvalidParameter.RoleNotExist", "req-x")],
    )
    .await;
    let provider = AssumeRoleProvider::builder(ROLE_ARN, "nightly")
        .endpoint(sts.endpoint())
        .build(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
        .unwrap();
    let e = provider.provide().await.unwrap_err().to_string();
    assert!(
        e.contains("STS AssumeRole failed") && e.contains("InvalidParameter.RoleNotExist"),
        "{e}"
    );
    assert!(!e.contains(SECRET_KEY));
}

#[tokio::test]
async fn assume_role_chosen_by_environment_variables_wraps_the_chain() {
    let sts = Scripted::builder(SECRET_ID, SECRET_KEY)
        .steps([sts_answer("viaenv")])
        .start()
        .await;
    let api = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key("AKIDviaenv", "key-viaenv")
        .start()
        .await;
    let sts_url = format!("http://{}", sts.addr);
    let api_url = format!("http://{}", api.addr);
    let config = config_from_environment(&env(&[
        ("TENCENTCLOUD_SECRET_ID", SECRET_ID),
        ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY),
        ("TENCENTCLOUD_ROLE_ARN", ROLE_ARN),
        ("TENCENTCLOUD_ROLE_SESSION_NAME", "from-env"),
        ("TENCENTCLOUD_REGION", "ap-guangzhou"),
        ("TENCENTCLOUD_ENDPOINT", &api_url),
        ("TENCENTCLOUD_ENDPOINT_STS", &sts_url),
    ]))
    .unwrap();
    assert!(config.credentials().is_none(), "a provider, not fixed keys");
    assert_eq!(config.endpoint_for("sts"), &sts.endpoint());
    assert_eq!(config.endpoint_for("cvm"), &api.endpoint());
    let client = Client::new(config).unwrap();
    describe(&client).await.unwrap();
    api.all_signed();
    assert_eq!(api.seen()[0].header("x-tc-token"), Some("token-viaenv"));
    sts.all_signed();
    assert_eq!(sts.seen()[0].json()["RoleSessionName"], "from-env");
}

#[tokio::test]
async fn an_sts_answer_that_does_not_decode_is_described_never_quoted() {
    let leaked = "leaked-secret-key-0f0f";
    let sts = Scripted::start(SECRET_ID, SECRET_KEY, [
        // Credentials where an object belongs: the decoder's message would quote it.
        Step::json(
            200,
            &json!({"Response": {"Credentials": leaked, "ExpiredTime": unix_now() + 7200, "RequestId": "req-1"}})
                .to_string(),
        ),
        // No ExpiredTime: the generated type reads 0, the provider refuses it.
        Step::json(
            200,
            &json!({"Response": {
                "Credentials": {"Token": "token-x", "TmpSecretId": "AKIDx", "TmpSecretKey": leaked},
                "RequestId": "req-2",
            }})
            .to_string(),
        ),
    ])
    .await;
    let provider = AssumeRoleProvider::builder(ROLE_ARN, "nightly")
        .endpoint(sts.endpoint())
        .build(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
        .unwrap();
    let e = provider.provide().await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("STS AssumeRole failed: its answer (HTTP 200) is not a usable AssumeRole response"),
        "{shown}"
    );
    assert!(!shown.contains(leaked), "{shown}");
    // The next fetch waits for the backoff: ask a fresh provider.
    let provider = AssumeRoleProvider::builder(ROLE_ARN, "nightly")
        .endpoint(sts.endpoint())
        .build(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
        .unwrap();
    let e = provider.provide().await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("the answer has no ExpiredTime"), "{shown}");
    assert!(!shown.contains(leaked), "{shown}");
    assert_eq!(sts.count(), 2);
}

#[tokio::test]
async fn the_web_identity_token_file_is_a_bounded_regular_file_read_before_any_request() {
    let sts = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(sts_answer("never"))
        .start()
        .await;
    let home = TempDir::new();
    let big = home.write("big-token", &"x".repeat(64 * 1024 + 1));
    let empty = home.write("empty-token", " \n");
    for (token_file, expected) in [
        (big, "bytes, more than"),
        (home.path().to_path_buf(), "not a regular file"),
        (empty, "empty-token is empty"),
    ] {
        let provider = WebIdentityProvider::new(
            "ap-guangzhou".to_owned(),
            "provider".to_owned(),
            token_file.clone(),
            ROLE_ARN.to_owned(),
            sts.endpoint(),
        )
        .unwrap();
        let e = provider.provide().await.unwrap_err().to_string();
        // Refused before any exchange: STS never asked.
        assert_eq!(sts.count(), 0, "{e}");
        assert!(e.contains(expected), "{}: {e}", token_file.display());
        assert!(!e.contains("xxxx"), "{e}");
    }
    assert_eq!(sts.count(), 0);
}
