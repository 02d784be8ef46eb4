//! What the runtime logs through `tracing`: a retry's event, a clock skew
//! refused, and credentials logged at debug level whatever their expiry.
//! Every test here installs a subscriber, alone in this test binary:
//! `tracing` caches per call site whether anyone listens, and a test running
//! on another thread without a subscriber could make these miss their events.

#[path = "support/credential_env.rs"]
mod credential_env;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use credential_env::{unix_now, Metadata};
use serde::{Deserialize, Serialize};
use support::{Scripted, Step};
use tencentcloud_runtime::credentials::{InstanceRoleProvider, RefreshingProvider};
use tencentcloud_runtime::{
    Action, Client, Config, Credentials, ProvideCredentials, RetryConfig, SecretKey, ServiceError, Validate,
    Validator,
};

const SECRET_ID: &str = "AKIDtrace0123456789";
const SECRET_KEY: &str = "trace-secret-key-4d5e6f";

#[derive(Debug, Default, Serialize)]
struct Describe {}

impl Validate for Describe {
    fn validate(&self, _: &mut Validator) {}
}

impl Action for Describe {
    const NAME: &'static str = "DescribeThings";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = false;
    const READ_ONLY: bool = true;
    type Response = Count;
    type Error = ServiceError;
}

#[derive(Debug, Deserialize)]
struct Count {}

fn client_with(server: &Scripted) -> Client {
    Client::new(
        Config::new(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
            .with_endpoint(server.endpoint())
            .with_retry(RetryConfig::standard().with_base_delay(Duration::from_millis(1))),
    )
    .expect("valid config")
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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Runs `test` on a current-thread runtime (every event is emitted on this
/// thread) under a subscriber at debug level; what it wrote.
fn traced<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(subscriber, || rt.block_on(test()));
    captured.text()
}

#[test]
fn each_retry_is_traced_with_attempt_delay_code_and_request_id() {
    let text = traced(|| async {
        let server = Scripted::start(
            SECRET_ID,
            SECRET_KEY,
            [Step::error("InternalError", "req-traced-1"), Step::ok("ok")],
        )
        .await;
        client_with(&server)
            .send(&Describe::default())
            .await
            .expect("retried");
    });
    let line = text
        .lines()
        .find(|l| l.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry event in:\n{text}"));
    for field in [
        "attempt=1",
        "delay_ms=",
        "code=\"InternalError\"",
        "request_id=\"req-traced-1\"",
        "action=\"DescribeThings\"",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    assert!(!text.contains(SECRET_KEY));
}

#[test]
fn a_clock_skew_refused_says_why() {
    let text = traced(|| async {
        let server = Scripted::start(
            SECRET_ID,
            SECRET_KEY,
            [Step::error("AuthFailure.SignatureExpire", "req-far")
                .with_header("Date", "Fri, 31 Dec 9999 23:59:59 GMT")],
        )
        .await;
        let client = client_with(&server);
        let err = client.send(&Describe::default()).await.unwrap_err();
        assert_eq!(err.code(), Some("AuthFailure.SignatureExpire"));
        assert_eq!(client.clock_skew(), 0);
    });
    let line = text
        .lines()
        .find(|l| l.contains("more than an hour from this machine's clock"))
        .unwrap_or_else(|| panic!("no event for the refused skew in:\n{text}"));
    assert!(
        line.contains("WARN") && line.contains("max_skew_secs=3600"),
        "{line}"
    );
}

/// Seconds since the epoch of a time in year 11,476: past what an HTTP date
/// (or any four-digit year) can hold.
const FAR_FUTURE_SECS: u64 = 300_000_000_000;

#[test]
fn credentials_expiring_after_year_9999_are_logged_at_debug_level_without_a_panic() {
    let text = traced(|| async {
        // Any source, through the cache.
        let far = UNIX_EPOCH + Duration::from_secs(FAR_FUTURE_SECS);
        let cached = RefreshingProvider::new(
            Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY))
                .with_session_token("token")
                .with_expiry(far)
                .with_source("far future"),
        );
        assert_eq!(cached.provide().await.unwrap().expiry(), Some(far));

        // The CVM role, and a call signed with it.
        let metadata = Metadata::start(FAR_FUTURE_SECS - unix_now()).await;
        let role = InstanceRoleProvider::new(&metadata.url(), None).unwrap();
        let server = Scripted::builder(SECRET_ID, SECRET_KEY)
            .key("AKIDrole1", "role-key-1")
            .start()
            .await;
        let client =
            Client::new(Config::from_credentials_provider(role).with_endpoint(server.endpoint())).unwrap();
        client.send(&Describe::default()).await.expect("served");
        server.all_signed();
    });
    let fetched: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("credentials fetched"))
        .collect();
    assert_eq!(fetched.len(), 2, "{text}");
    for line in fetched {
        assert!(line.contains("11476-"), "{line}");
    }
    assert!(
        !text.contains(SECRET_KEY) && !text.contains("role-key-1"),
        "{text}"
    );
}
