//! STS-issued credentials whose expiry no HTTP date can hold (past year
//! 9999), fetched with debug logging on: logged, never a panic. Alone in its
//! test binary, as every test that installs a `tracing` subscriber: `tracing`
//! caches per call site whether anyone listens, and a test on another thread
//! without a subscriber could make this one miss its events.

#[path = "../../runtime/tests/support/credential_env.rs"]
mod credential_env;
#[path = "../../runtime/tests/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};

use credential_env::TempDir;
use serde_json::json;
use support::{Scripted, Step};
use tencentcloud_config::credentials::{AssumeRoleProvider, WebIdentityProvider};
use tencentcloud_runtime::{Credentials, ProvideCredentials, SecretKey};
use tracing_subscriber::util::SubscriberInitExt;

const SECRET_ID: &str = "AKIDbase0123456789";
const SECRET_KEY: &str = "base-secret-key-1a2b3c";
const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/deployer";

/// STS's answer issuing `AKID<tag>`, expiring at `expired_time` (JSON, so
/// that it may be any number).
fn sts_answer(tag: &str, expired_time: &str) -> Step {
    let credentials = json!({"Token": format!("token-{tag}"), "TmpSecretId": format!("AKID{tag}"), "TmpSecretKey": format!("key-{tag}")});
    Step::json(
        200,
        &format!(
            r#"{{"Response": {{"Credentials": {credentials}, "ExpiredTime": {expired_time}, "RequestId": "req-{tag}"}}}}"#
        ),
    )
}

/// Collects what `tracing` writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn sts_credentials_expiring_after_year_9999_are_logged_without_a_panic() {
    let captured = Captured::default();
    let writer = captured.clone();
    let _subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();
    // A current-thread runtime: every event is emitted on this thread,
    // under this subscriber.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // AssumeRole: year 11,476.
        let sts = Scripted::start(SECRET_ID, SECRET_KEY, [sts_answer("assumed", "300000000000")]).await;
        let assumed = AssumeRoleProvider::builder(ROLE_ARN, "nightly")
            .endpoint(sts.endpoint())
            .build(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
            .unwrap();
        assert_eq!(assumed.provide().await.unwrap().secret_id(), "AKIDassumed");

        // TKE OIDC: the largest ExpiredTime the answer can hold.
        let sts = Scripted::start(SECRET_ID, SECRET_KEY, [sts_answer("oidc", &u64::MAX.to_string())]).await;
        let home = TempDir::new();
        let oidc = WebIdentityProvider::new(
            "ap-guangzhou".to_owned(),
            "provider".to_owned(),
            home.write("token", "web-identity-token"),
            ROLE_ARN.to_owned(),
            sts.endpoint(),
        )
        .unwrap();
        assert_eq!(oidc.provide().await.unwrap().secret_id(), "AKIDoidc");
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let fetched: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("credentials fetched"))
        .collect();
    assert_eq!(fetched.len(), 2, "{text}");
    assert!(fetched[0].contains("11476-"), "{}", fetched[0]);
    for secret in [
        SECRET_KEY,
        "key-assumed",
        "key-oidc",
        "token-oidc",
        "web-identity-token",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}
