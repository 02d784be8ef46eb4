//! The `tracing` event of a retry. Alone in its test binary: `tracing`
//! caches per call site whether anyone listens, and a test running on
//! another thread without a subscriber could make this one miss its events.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::{Scripted, Step};
use tencentcloud_runtime::{
    Action, Client, Config, Credentials, RetryConfig, SecretKey, ServiceError, Validate, Validator,
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

#[test]
fn each_retry_is_traced_with_attempt_delay_code_and_request_id() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: every event is emitted on this thread,
    // under this subscriber.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let server =
                Scripted::start([Step::error("InternalError", "req-traced-1"), Step::ok("ok")]).await;
            client_with(&server)
                .send(&Describe::default())
                .await
                .expect("retried");
        })
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
