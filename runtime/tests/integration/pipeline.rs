//! The attempt loop against a scripted server: what is retried and how
//! often, tokens, backoff, deadlines, the retry budget, clock skew,
//! interceptors and credential providers. Backoffs are set short and time
//! bounds generous, for a loaded 2-core machine.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::support::{Scripted, Step};
use serde::{Deserialize, Serialize};
use tencentcloud_runtime::{
    Action, ActionError, AttemptOutcome, CallOptions, Client, Config, Credentials, CredentialsError,
    CredentialsFuture, Error, Interceptor, OutgoingRequest, ProvideCredentials, RetryBudget, RetryConfig,
    SecretKey, ServiceError, TransportErrorKind, Validate, Validator,
};

const SECRET_ID: &str = "AKIDpipeline0123456789";
const SECRET_KEY: &str = "pipeline-secret-key-1a2b3c";

// ---- test-only actions -----------------------------------------------------

/// Reads only: everything transient is retried.
#[derive(Debug, Default, Serialize)]
struct Describe {
    #[serde(rename = "Limit")]
    limit: i64,
}

/// Changes something and has no token: only throttling and connect
/// failures are retried.
#[derive(Debug, Default, Serialize)]
struct Reboot {
    #[serde(rename = "InstanceIds")]
    instance_ids: Vec<String>,
}

/// Changes something and has an idempotency token.
#[derive(Debug, Default, Serialize)]
struct Create {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "ClientToken", skip_serializing_if = "Option::is_none")]
    client_token: Option<String>,
}

macro_rules! no_rules {
    ($($t:ty),*) => {$(
        impl Validate for $t {
            fn validate(&self, _: &mut Validator) {}
        }
    )*};
}
no_rules!(Describe, Reboot, Create);

impl Action for Describe {
    const NAME: &'static str = "DescribeThings";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = false;
    const READ_ONLY: bool = true;
    type Response = Count;
    type Error = TestError;
}

impl Action for Reboot {
    const NAME: &'static str = "RebootThings";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = false;
    const READ_ONLY: bool = false;
    type Response = Count;
    type Error = TestError;
}

impl Action for Create {
    const NAME: &'static str = "CreateThing";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = false;
    const READ_ONLY: bool = false;
    const CLIENT_TOKEN: Option<&'static str> = Some("ClientToken");
    fn client_token(&self) -> Option<&str> {
        self.client_token.as_deref()
    }
    type Response = Count;
    type Error = TestError;
}

#[derive(Debug, PartialEq, Deserialize)]
struct Count {
    #[serde(rename = "Count")]
    count: u32,
    #[serde(rename = "RequestId")]
    request_id: String,
}

/// Shaped like a generated error enum.
#[derive(Debug, PartialEq, thiserror::Error)]
enum TestError {
    #[error(transparent)]
    Throttled(ServiceError),
    #[error(transparent)]
    Unknown(ServiceError),
}

impl From<ServiceError> for TestError {
    fn from(e: ServiceError) -> Self {
        if e.code() == "RequestLimitExceeded" {
            TestError::Throttled(e)
        } else {
            TestError::Unknown(e)
        }
    }
}

impl TestError {
    /// As generated: an inherent accessor...
    fn service_error(&self) -> &ServiceError {
        match self {
            TestError::Throttled(e) | TestError::Unknown(e) => e,
        }
    }
}

/// ...and the trait impl codegen is to emit for every error enum, which
/// calls it (an inherent function wins the path lookup: no recursion).
impl ActionError for TestError {
    fn service_error(&self) -> &ServiceError {
        TestError::service_error(self)
    }
}

fn reboot() -> Reboot {
    Reboot {
        instance_ids: vec!["ins-r8hr2upy".into()],
    }
}

// ---- helpers ---------------------------------------------------------------

fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY))
}

/// The default policy with backoffs short enough for tests.
fn quick() -> RetryConfig {
    RetryConfig::standard()
        .with_base_delay(Duration::from_millis(1))
        .with_throttling_base_delay(Duration::from_millis(2))
}

fn config(server: &Scripted) -> Config {
    Config::new(credentials())
        .with_endpoint(server.endpoint())
        .with_retry(quick())
        .with_timeout(Duration::from_secs(10))
}

fn make(config: Config) -> Client {
    Client::new(config).expect("valid config")
}

fn within(elapsed: Duration, limit: Duration) {
    assert!(elapsed < limit, "{elapsed:?} is not under {limit:?}");
}

// ---- what is retried -------------------------------------------------------

#[tokio::test]
async fn throttling_is_retried_for_any_action_then_succeeds() {
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [
            Step::error("RequestLimitExceeded", "r1"),
            Step::error("RequestLimitExceeded.UinLimitExceeded", "r2"),
            Step::ok("r3"),
        ],
    )
    .await;
    let response = make(config(&server))
        .send(&reboot())
        .await
        .expect("third time lucky");
    assert_eq!(response.request_id, "r3");
    assert_eq!(server.count(), 3);
    // Each attempt was signed, with its own timestamp, and verifies.
    server.all_signed();
}

#[tokio::test]
async fn connect_failures_are_retried_for_any_action() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.local_addr().expect("local addr")
    }; // Dropped: nothing listens there any more.
    let client = make(
        Config::new(credentials())
            .with_endpoint(tencentcloud_runtime::Endpoint::custom(&format!("http://{addr}")).unwrap())
            .with_retry(quick()),
    );
    let err = client.send(&reboot()).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(err.attempts(), 3);
    assert!(err.is_retryable());
    let shown = err.to_string();
    assert!(shown.starts_with("cannot connect: "), "{shown}");
    assert!(shown.ends_with(" (after 3 attempts)"), "{shown}");
}

/// Each of these may have reached the service: retried for a read-only
/// action, not for one that changes something without a token.
#[tokio::test]
async fn transient_failures_are_retried_only_when_repeating_is_safe() {
    let transient = [
        ("HTTP 502 page", Step::html(502)),
        (
            "HTTP 503 envelope without error",
            Step::json(503, r#"{"Response":{"RequestId":"r"}}"#),
        ),
        ("not an envelope", Step::html(200)),
        ("InternalError", Step::error("InternalError", "r")),
        ("InternalError.DbError", Step::error("InternalError.DbError", "r")),
        ("reset", Step::Reset),
    ];
    for (what, step) in transient {
        let server = Scripted::start(
            SECRET_ID,
            SECRET_KEY,
            [step.clone(), step.clone(), Step::ok("ok")],
        )
        .await;
        let client = make(config(&server));
        let response = client.send(&Describe::default()).await;
        assert_eq!(
            response.map(|r| r.request_id).ok().as_deref(),
            Some("ok"),
            "{what}: read-only, retried to success"
        );
        assert_eq!(server.count(), 3, "{what}");

        let server = Scripted::start(SECRET_ID, SECRET_KEY, [step.clone(), Step::ok("ok")]).await;
        let err = client_with(&server).send(&reboot()).await.unwrap_err();
        assert_eq!(server.count(), 1, "{what}: not safe to repeat");
        assert_eq!(err.attempts(), 1, "{what}");
        assert!(err.is_retryable(), "{what}: {err:?}");
        assert!(!err.to_string().contains("attempts"), "{what}: {err}");
    }
}

fn client_with(server: &Scripted) -> Client {
    make(config(server))
}

#[tokio::test]
async fn resets_and_timeouts_are_reported_as_such() {
    let server = Scripted::start(SECRET_ID, SECRET_KEY, [Step::Reset, Step::Reset, Step::Reset]).await;
    let err = client_with(&server).send(&Describe::default()).await.unwrap_err();
    let Error::Transport(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), TransportErrorKind::Reset);
    assert_eq!(err.attempts(), 3);
    assert_eq!(server.count(), 3);

    // Answers far later than the 200 ms timeout, so that waiting for one
    // would show at once whatever the machine's load.
    let slow = Duration::from_secs(30);
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::slow(slow, "late"), Step::slow(slow, "late"), Step::ok("ok")],
    )
    .await;
    let client = make(config(&server).with_timeout(Duration::from_millis(200)));
    let started = Instant::now();
    let response = client
        .send(&Describe::default())
        .await
        .expect("the third attempt is quick");
    assert_eq!(response.request_id, "ok");
    assert_eq!(server.count(), 3);
    // Both slow attempts were cut by the timeout: not one slow answer was
    // waited for.
    within(started.elapsed(), slow / 3);

    let server = Scripted::start(SECRET_ID, SECRET_KEY, [Step::slow(slow, "late"), Step::ok("ok")]).await;
    let client = make(config(&server).with_timeout(Duration::from_millis(200)));
    let err = client.send(&reboot()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.count(), 1, "a timed-out change is not repeated");
}

#[tokio::test]
async fn nothing_else_is_retried() {
    let final_answers = [
        ("InvalidParameter", Step::error("InvalidParameter", "r")),
        ("InternalServerError", Step::error("InternalServerError", "r")),
        (
            "SignatureFailure",
            Step::error("AuthFailure.SignatureFailure", "r"),
        ),
        (
            "HTTP 404 envelope",
            Step::json(404, r#"{"Response":{"RequestId":"r"}}"#),
        ),
        (
            "undecodable",
            Step::json(200, r#"{"Response":{"Count":"x","RequestId":"r"}}"#),
        ),
        (
            "redirect",
            Step::json(302, "{}").with_header("Location", "http://127.0.0.1:1/"),
        ),
    ];
    for (what, step) in final_answers {
        let server = Scripted::start(SECRET_ID, SECRET_KEY, [step, Step::ok("ok")]).await;
        let err = client_with(&server).send(&Describe::default()).await.unwrap_err();
        assert_eq!(server.count(), 1, "{what}: {err:?}");
        assert_eq!(err.attempts(), 1, "{what}");
        assert!(!err.is_retryable(), "{what}: {err:?}");
    }

    // Too long: not read further, and not asked again.
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::json(200, &format!(r#"{{"Pad":"{}"}}"#, "x".repeat(4096)))],
    )
    .await;
    let client = make(config(&server).with_max_response_bytes(1024));
    let err = client.send(&Describe::default()).await.unwrap_err();
    assert_eq!(server.count(), 1, "{err:?}");
}

#[tokio::test]
async fn the_client_token_is_filled_in_once_and_sent_on_every_attempt() {
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [
            Step::error("InternalError", "r1"),
            Step::Reset,
            Step::ok("r3"),
            Step::ok("r4"),
        ],
    )
    .await;
    let client = client_with(&server);
    let request = Create {
        name: "web".into(),
        client_token: None,
    };
    client
        .send(&request)
        .await
        .expect("retried: the token makes it safe");
    client.send(&request).await.expect("a second call");
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    server.all_signed();
    let tokens: Vec<String> = seen
        .iter()
        .map(|s| s.json()["ClientToken"].as_str().expect("a token").to_owned())
        .collect();
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(tokens[1], tokens[2]);
    assert_ne!(tokens[2], tokens[3], "each call gets its own token");
    let parsed = uuid::Uuid::parse_str(&tokens[0]).expect("a UUID");
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(seen[0].json()["Name"], "web");

    // A caller's token is sent as is, on every attempt.
    let server = Scripted::start(SECRET_ID, SECRET_KEY, [Step::html(502), Step::ok("ok")]).await;
    let mine = Create {
        name: "db".into(),
        client_token: Some("caller-token-1".into()),
    };
    client_with(&server).send(&mine).await.expect("retried");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.json()["ClientToken"], "caller-token-1");
    }
}

#[tokio::test]
async fn call_options_override_the_policy_for_one_call() {
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::html(502), Step::html(502), Step::ok("ok")],
    )
    .await;
    let client = client_with(&server);
    let once = CallOptions::new().with_retry(RetryConfig::disabled());
    let err = client.send_with(&Describe::default(), &once).await.unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.count(), 1);

    // Declared safe, a change is retried too.
    let server = Scripted::start(SECRET_ID, SECRET_KEY, [Step::html(502), Step::ok("ok")]).await;
    let safe = CallOptions::new().with_idempotent(true);
    client_with(&server)
        .send_with(&reboot(), &safe)
        .await
        .expect("retried");
    assert_eq!(server.count(), 2);

    // More attempts than the client's.
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::html(502), Step::html(502), Step::html(502), Step::ok("ok")],
    )
    .await;
    let four = CallOptions::new().with_retry(quick().with_max_attempts(4));
    client_with(&server)
        .send_with(&Describe::default(), &four)
        .await
        .expect("4th attempt");
    assert_eq!(server.count(), 4);
}

#[tokio::test]
async fn the_untyped_call_retries_only_what_is_always_safe_unless_told() {
    let server = Scripted::start(SECRET_ID, SECRET_KEY, [Step::html(503), Step::ok("ok")]).await;
    let client = client_with(&server);
    let err = client
        .call::<_, serde_json::Value>("cvm", "2017-03-12", "DescribeThings", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.count(), 1);

    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::error("RequestLimitExceeded", "r1"), Step::ok("ok")],
    )
    .await;
    let response: serde_json::Value = client_with(&server)
        .call("cvm", "2017-03-12", "RunThings", &serde_json::json!({}))
        .await
        .expect("throttling is retried");
    assert_eq!(response["RequestId"], "ok");
    assert_eq!(server.count(), 2);

    let server = Scripted::start(SECRET_ID, SECRET_KEY, [Step::html(503), Step::ok("ok")]).await;
    let read_only = CallOptions::new().with_idempotent(true);
    client_with(&server)
        .call_with::<_, serde_json::Value>(
            "cvm",
            "2017-03-12",
            "DescribeThings",
            &serde_json::json!({}),
            &read_only,
        )
        .await
        .expect("retried when declared read-only");
    assert_eq!(server.count(), 2);
}

// ---- the final error -------------------------------------------------------

#[tokio::test]
async fn the_final_error_says_how_many_attempts_were_made() {
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::error("RequestLimitExceeded", "req-throttled"))
        .start()
        .await;
    let err = client_with(&server).send(&reboot()).await.unwrap_err();
    assert!(matches!(&err, Error::Service(TestError::Throttled(_))), "{err:?}");
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.code(), Some("RequestLimitExceeded"));
    assert_eq!(err.request_id(), Some("req-throttled"));
    assert!(err.is_throttling());
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "RequestLimitExceeded: scripted RequestLimitExceeded (request id req-throttled) (after 3 attempts)"
    );
    assert_eq!(server.count(), 3);

    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::html(502))
        .start()
        .await;
    let err = client_with(&server).send(&Describe::default()).await.unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("invalid response (HTTP 502): the body is not a JSON object"),
        "{shown}"
    );
    assert!(shown.contains(" (after 3 attempts); body: <html>"), "{shown}");
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.code(), None);

    // Refused before sending: no attempt.
    let client = make(
        Config::new(credentials())
            .with_endpoint(server.endpoint())
            .with_retry(quick()),
    );
    let err = client
        .call::<_, serde_json::Value>("cvm.evil", "2017-03-12", "X", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 0);
}

// ---- backoff, deadline -----------------------------------------------------

/// Gaps between the requests a server saw.
fn gaps(server: &Scripted) -> Vec<Duration> {
    server.seen().windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn backoff_stays_within_its_bounds_and_throttling_waits_longer() {
    // 16 calls, each throttled once then served; then 16 calls each failing
    // once with an internal error. Full jitter draws each delay from
    // 0..=base: with a 100 ms throttling base, the 16 delays sum to under
    // 50 ms with probability 0.5^16/16! (about 1e-18), and to 800 ms at
    // most. The upper bounds are on the sums, with 2 s of slack for the
    // whole series: a loaded machine may stall a few requests by hundreds
    // of milliseconds, which a bound on each gap would take for a backoff.
    // A throttling delay drawn from the default 1 s base instead would sum
    // to 8 s on average (the bound, 3.6 s, is nearly 4 standard deviations
    // under).
    const CALLS: u32 = 16;
    const SLACK: Duration = Duration::from_secs(2);
    let (base, throttling_base) = (Duration::from_millis(1), Duration::from_millis(100));
    let retry = RetryConfig::standard()
        .with_base_delay(base)
        .with_throttling_base_delay(throttling_base);
    let mut throttled = Duration::ZERO;
    let mut internal = Duration::ZERO;
    for _ in 0..CALLS {
        let server = Scripted::start(
            SECRET_ID,
            SECRET_KEY,
            [Step::error("RequestLimitExceeded", "r"), Step::ok("ok")],
        )
        .await;
        make(config(&server).with_retry(retry.clone()))
            .send(&Describe::default())
            .await
            .expect("retried");
        throttled += gaps(&server)[0];

        let server = Scripted::start(
            SECRET_ID,
            SECRET_KEY,
            [Step::error("InternalError", "r"), Step::ok("ok")],
        )
        .await;
        make(config(&server).with_retry(retry.clone()))
            .send(&Describe::default())
            .await
            .expect("retried");
        internal += gaps(&server)[0];
    }
    assert!(throttled >= Duration::from_millis(50), "{throttled:?}");
    within(throttled, throttling_base * CALLS + SLACK);
    within(internal, base * CALLS + SLACK);

    // The cap: with a 10 s base, the four delays would be drawn from up to
    // 10, 20, 40 and 80 s (all four under 2 s with probability about 3e-5);
    // each is at most the 60 ms cap, plus the same slack. The deadline only
    // keeps an uncapped backoff from holding the test for minutes: the
    // call then stops before its fifth attempt, which the count shows.
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::html(503))
        .start()
        .await;
    let cap = Duration::from_millis(60);
    let capped = RetryConfig::standard()
        .with_max_attempts(5)
        .with_base_delay(Duration::from_secs(10))
        .with_max_delay(cap);
    make(
        config(&server)
            .with_retry(capped)
            .with_deadline(Duration::from_secs(30)),
    )
    .send(&Describe::default())
    .await
    .unwrap_err();
    assert_eq!(server.count(), 5, "every attempt made");
    for gap in gaps(&server) {
        within(gap, cap + SLACK);
    }
}

#[tokio::test]
async fn a_backoff_past_the_deadline_is_not_slept() {
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::html(503))
        .start()
        .await;
    let backoff = Duration::from_secs(600);
    let slow_backoff = RetryConfig::standard()
        .with_base_delay(backoff)
        .with_max_delay(backoff);
    let client = make(
        config(&server)
            .with_retry(slow_backoff)
            .with_deadline(Duration::from_secs(2)),
    );
    let started = Instant::now();
    // The delay is drawn from 0..=600 s; unless it is under the ~2 s left
    // (1 draw in 300), the call fails at once with the first error, not a
    // timeout. A backoff slept would be over 20 s in 97% of draws, and one
    // the deadline cut short would end in a timeout.
    let err = client.send(&Describe::default()).await.unwrap_err();
    within(started.elapsed(), backoff / 30);
    assert_eq!(err.status(), Some(503), "{err:?}");
    assert!(err.attempts() <= 2, "{err:?}");
    assert_eq!(server.count(), err.attempts() as usize);
}

#[tokio::test]
async fn the_deadline_bounds_the_whole_call_and_cuts_a_slow_attempt() {
    // Answers after a minute; each attempt may take 30 s. What ended each
    // call below ends it in a third of an attempt's timeout, however
    // loaded the machine: the deadline or the call's own attempt timeout,
    // not the client's.
    let attempt = Duration::from_secs(30);
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::slow(Duration::from_secs(60), "late"))
        .start()
        .await;
    // Per attempt 30 s; the call 400 ms.
    let client = make(
        config(&server)
            .with_timeout(attempt)
            .with_deadline(Duration::from_millis(400)),
    );
    let started = Instant::now();
    let err = client.send(&Describe::default()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed >= Duration::from_millis(390), "{elapsed:?}");
    within(elapsed, attempt / 3);

    // Per call, overriding the client's (none here).
    let client = make(config(&server).with_timeout(attempt));
    let options = CallOptions::new().with_deadline(Duration::from_millis(300));
    let started = Instant::now();
    let err = client
        .send_with(&Describe::default(), &options)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    within(started.elapsed(), attempt / 3);

    // Per attempt, per call: three short attempts.
    let options = CallOptions::new().with_timeout(Duration::from_millis(100));
    let before = server.count();
    let started = Instant::now();
    let err = client
        .send_with(&Describe::default(), &options)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.attempts(), 3);
    assert_eq!(server.count() - before, 3);
    within(started.elapsed(), attempt / 3);
}

// ---- the retry budget ------------------------------------------------------

#[tokio::test]
async fn the_budget_caps_what_a_failing_endpoint_gets() {
    const CALLS: usize = 1_000;
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::error("RequestLimitExceeded", "r"))
        .start()
        .await;
    let no_wait = RetryConfig::standard()
        .with_base_delay(Duration::ZERO)
        .with_throttling_base_delay(Duration::ZERO);
    // The budget alone: the rate limiter would learn from the throttling
    // and hold these calls back (`fleet.rs` tests that).
    let client = make(
        config(&server)
            .with_retry(no_wait.clone())
            .with_rate_limit(tencentcloud_runtime::RateLimitConfig::off()),
    );
    assert_eq!(client.retry_tokens(), 500);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let client = client.clone();
        tasks.spawn(async move {
            for _ in (worker..CALLS).step_by(8) {
                let err = client.send(&Describe::default()).await.unwrap_err();
                assert!(err.is_throttling(), "{err:?}");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a worker panicked");
    }
    let sent = server.count();
    // 1 000 first attempts and at most 500 / 5 = 100 retries, where
    // 3 000 would go out without a budget.
    println!(
        "budget: {CALLS} calls against an always-throttling server sent {sent} requests in {:?}",
        started.elapsed()
    );
    assert!((CALLS..=CALLS + 100).contains(&sent), "{sent}");
    assert_eq!(client.retry_tokens(), 0);
    within(started.elapsed(), Duration::from_secs(60));

    // Successes refill the bucket slowly; a call that succeeds after a
    // retry gives its tokens back.
    let server = Scripted::start(SECRET_ID, SECRET_KEY, []).await;
    let healthy = make(config(&server).with_retry(no_wait.clone()));
    for _ in 0..10 {
        healthy.send(&Describe::default()).await.expect("success");
    }
    assert_eq!(healthy.retry_tokens(), 500, "never above capacity");

    // Without a budget, every call makes its 3 attempts.
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::error("RequestLimitExceeded", "r"))
        .start()
        .await;
    let unlimited = make(
        config(&server)
            .with_retry(no_wait)
            .with_retry_budget(RetryBudget::unlimited())
            .with_rate_limit(tencentcloud_runtime::RateLimitConfig::off()),
    );
    for _ in 0..50 {
        unlimited.send(&Describe::default()).await.unwrap_err();
    }
    assert_eq!(server.count(), 150);
}

#[tokio::test]
async fn a_retried_success_gives_its_tokens_back() {
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::error("InternalError", "r1"), Step::ok("ok")],
    )
    .await;
    let client = make(config(&server).with_retry_budget(RetryBudget::standard().with_capacity(12)));
    client.send(&Describe::default()).await.expect("retried");
    assert_eq!(client.retry_tokens(), 12);
    // A call that fails keeps what its retries took.
    let server2 = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::html(503))
        .start()
        .await;
    let failing = Client::new(config(&server2).with_retry_budget(RetryBudget::standard().with_capacity(12)))
        .expect("valid");
    failing.send(&Describe::default()).await.unwrap_err();
    assert_eq!(failing.retry_tokens(), 2);
    failing.send(&Describe::default()).await.unwrap_err();
    assert_eq!(failing.retry_tokens(), 2, "too few tokens: no retry");
    assert_eq!(server2.count(), 3 + 1);
}

// ---- clock skew ------------------------------------------------------------

#[tokio::test]
async fn a_clock_15_minutes_off_costs_one_extra_round_trip_once() {
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .clock_ahead(Duration::from_secs(15 * 60))
        .start()
        .await;
    // Even with retries off: the correction is not a retry.
    let client = make(config(&server).with_retry(RetryConfig::disabled()));
    assert_eq!(client.clock_skew(), 0);
    client
        .send(&reboot())
        .await
        .expect("works after one re-signed attempt");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].outcome, "refused");
    assert_eq!(seen[1].outcome, "answer");
    server.all_signed();
    let skew = client.clock_skew();
    assert!((898..=902).contains(&skew), "{skew}");

    // Later calls, from clones too, need no correction.
    let clone = client.clone();
    clone.send(&reboot()).await.expect("success");
    client.send(&Describe::default()).await.expect("success");
    assert_eq!(server.count(), 4);
}

#[tokio::test]
async fn a_signature_expired_again_is_not_retried_twice() {
    // The server always says expired, with a Date matching ours: the one
    // correction does not help, and the call stops there.
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .fallback(Step::error("AuthFailure.SignatureExpire", "r-exp"))
        .start()
        .await;
    let err = client_with(&server).send(&Describe::default()).await.unwrap_err();
    assert_eq!(err.code(), Some("AuthFailure.SignatureExpire"));
    assert_eq!(err.attempts(), 2);
    assert_eq!(server.count(), 2);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_date_years_off_is_not_learnt_and_later_calls_still_work() {
    // One hostile answer: SignatureExpire dated at the end of year 9999.
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::error("AuthFailure.SignatureExpire", "r-far")
            .with_header("Date", "Fri, 31 Dec 9999 23:59:59 GMT")],
    )
    .await;
    // Temporary credentials, valid for an hour more by this machine's clock.
    let temporary = credentials()
        .with_session_token("session-token")
        .with_expiry(SystemTime::now() + Duration::from_secs(3600));
    let client = make(
        Config::new(temporary)
            .with_endpoint(server.endpoint())
            .with_retry(quick()),
    );
    let err = client.send(&reboot()).await.unwrap_err();
    assert_eq!(err.code(), Some("AuthFailure.SignatureExpire"), "{err}");
    assert_eq!(err.request_id(), Some("r-far"));
    assert_eq!(err.attempts(), 1);
    assert_eq!(client.clock_skew(), 0);
    // The runtime's clock is untouched: later calls, from clones too, are
    // signed for this machine's time and served.
    client.clone().send(&reboot()).await.expect("served");
    client.send(&Describe::default()).await.expect("served");
    assert_eq!(server.count(), 3);
    server.all_signed();
}

// ---- interceptors ----------------------------------------------------------

#[derive(Default)]
struct Recorder {
    before: Mutex<Vec<(String, u32)>>,
    after: Mutex<Vec<Record>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Record {
    action: String,
    attempt: u32,
    status: Option<u16>,
    request_id: Option<String>,
    code: Option<String>,
    transport: Option<TransportErrorKind>,
    server_header: Option<String>,
    elapsed: Duration,
}

impl Interceptor for Recorder {
    fn before_send(&self, request: &mut OutgoingRequest<'_>) {
        self.before
            .lock()
            .unwrap()
            .push((request.action().to_owned(), request.attempt()));
        request
            .insert_header("X-Attempt", &request.attempt().to_string())
            .expect("a valid header");
        assert!(request.insert_header("Authorization", "forged").is_err());
    }

    fn after_attempt(&self, outcome: &AttemptOutcome<'_>) {
        self.after.lock().unwrap().push(Record {
            action: outcome.action().to_owned(),
            attempt: outcome.attempt(),
            status: outcome.status(),
            request_id: outcome.request_id().map(str::to_owned),
            code: outcome.error_code().map(str::to_owned),
            transport: outcome.transport_error(),
            server_header: outcome.header("x-served-by").map(str::to_owned),
            elapsed: outcome.elapsed(),
        });
    }
}

#[tokio::test]
async fn interceptors_see_every_attempt_and_may_add_headers() {
    let server = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [
            Step::error("InternalError", "req-1").with_header("X-Served-By", "node-7"),
            Step::Reset,
            Step::Answer {
                status: 200,
                body: r#"{"Response":{"Count":3,"RequestId":"req-3"}}"#.into(),
                delay: Duration::from_millis(50),
                headers: vec![("X-Served-By".into(), "node-9".into())],
            },
        ],
    )
    .await;
    let recorder = Arc::new(Recorder::default());
    let client = make(config(&server).with_interceptor(recorder.clone()));
    let response = client.send(&Describe::default()).await.expect("third attempt");
    assert_eq!(response.count, 3);

    let seen = server.seen();
    let sent: Vec<Option<&str>> = seen.iter().map(|s| s.header("x-attempt")).collect();
    assert_eq!(sent, [Some("1"), Some("2"), Some("3")]);
    // The added header is not signed, and the signature still verifies.
    server.all_signed();

    let before = recorder.before.lock().unwrap().clone();
    assert_eq!(
        before,
        [
            ("DescribeThings".to_owned(), 1),
            ("DescribeThings".to_owned(), 2),
            ("DescribeThings".to_owned(), 3)
        ]
    );
    let after = recorder.after.lock().unwrap().clone();
    assert_eq!(after.len(), 3);
    assert_eq!(after[0].attempt, 1);
    assert_eq!(after[0].status, Some(200));
    assert_eq!(after[0].request_id.as_deref(), Some("req-1"));
    assert_eq!(after[0].code.as_deref(), Some("InternalError"));
    assert_eq!(after[0].server_header.as_deref(), Some("node-7"));
    assert_eq!(after[1].attempt, 2);
    assert_eq!(after[1].status, None);
    assert_eq!(after[1].transport, Some(TransportErrorKind::Reset));
    assert_eq!(after[2].attempt, 3);
    assert_eq!(after[2].status, Some(200));
    assert_eq!(after[2].request_id.as_deref(), Some("req-3"));
    assert_eq!(after[2].code, None);
    assert_eq!(after[2].server_header.as_deref(), Some("node-9"));
    assert!(
        after[2].elapsed >= Duration::from_millis(50),
        "{:?}",
        after[2].elapsed
    );
    assert!(after.iter().all(|r| r.action == "DescribeThings"));
}

// ---- credentials -----------------------------------------------------------

/// Gives `first` once, then `then`: a secret rotated between attempts.
#[derive(Debug)]
struct Rotating {
    first: Credentials,
    then: Credentials,
    asked: AtomicUsize,
}

impl ProvideCredentials for Rotating {
    fn provide(&self) -> CredentialsFuture<'_> {
        let n = self.asked.fetch_add(1, Ordering::SeqCst);
        let credentials = if n == 0 { &self.first } else { &self.then };
        CredentialsFuture::ready(Ok(credentials.clone()))
    }
}

#[tokio::test]
async fn credentials_are_asked_for_every_attempt_and_a_rotated_secret_is_used() {
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key("AKIDrotated0000000000", "rotated-key-9z8y")
        .steps([Step::error("InternalError", "r1"), Step::ok("ok")])
        .start()
        .await;
    let provider = Arc::new(Rotating {
        first: credentials(),
        then: Credentials::new("AKIDrotated0000000000", SecretKey::new("rotated-key-9z8y"))
            .with_session_token("rotated-token"),
        asked: AtomicUsize::new(0),
    });
    let client = make(
        Config::from_credentials_provider(provider.clone())
            .with_endpoint(server.endpoint())
            .with_retry(quick()),
    );
    client
        .send(&Describe::default())
        .await
        .expect("retried with the new secret");
    assert_eq!(provider.asked.load(Ordering::SeqCst), 2);
    let seen = server.seen();
    server.all_signed();
    assert!(seen[0].header("authorization").unwrap().contains(SECRET_ID));
    assert_eq!(seen[0].header("x-tc-token"), None);
    assert!(seen[1]
        .header("authorization")
        .unwrap()
        .contains("AKIDrotated0000000000"));
    assert_eq!(seen[1].header("x-tc-token"), Some("rotated-token"));
    // Same day, same service, another secret: the key derived for the old
    // one was not reused (the signature verifies with the new key).
}

#[derive(Debug)]
struct Failing(AtomicU32);

impl ProvideCredentials for Failing {
    fn provide(&self) -> CredentialsFuture<'_> {
        self.0.fetch_add(1, Ordering::SeqCst);
        CredentialsFuture::new(async {
            tokio::task::yield_now().await;
            Err(CredentialsError::with_source(
                "instance metadata unavailable",
                std::io::Error::other("connection refused"),
            ))
        })
    }
}

#[tokio::test]
async fn no_usable_credentials_means_nothing_is_sent() {
    let server = Scripted::start(SECRET_ID, SECRET_KEY, []).await;
    let failing = Arc::new(Failing(AtomicU32::new(0)));
    let client = make(
        Config::from_credentials_provider(failing.clone())
            .with_endpoint(server.endpoint())
            .with_retry(quick()),
    );
    let err = client.send(&Describe::default()).await.unwrap_err();
    let Error::Credentials(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        e.to_string(),
        "no usable credentials: instance metadata unavailable: connection refused"
    );
    assert_eq!(err.attempts(), 0, "{err}");
    assert_eq!(failing.0.load(Ordering::SeqCst), 1, "not retried");

    let expired = credentials()
        .with_session_token("old-token")
        .with_expiry(SystemTime::now() - Duration::from_secs(60));
    let client = make(
        Config::from_credentials_provider(expired)
            .with_endpoint(server.endpoint())
            .with_retry(quick()),
    );
    let err = client.send(&Describe::default()).await.unwrap_err();
    assert!(matches!(&err, Error::Credentials(_)), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("expired at Unix time"), "{shown}");
    assert!(
        !shown.contains("old-token") && !shown.contains(SECRET_KEY),
        "{shown}"
    );

    // A provider's unusable credential is refused before sending, secrets unshown.
    let bad = Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)).with_session_token("line\nbreak");
    let client = make(
        Config::from_credentials_provider(bad)
            .with_endpoint(server.endpoint())
            .with_retry(quick()),
    );
    let err = client.send(&Describe::default()).await.unwrap_err();
    assert!(err.to_string().contains("invalid session token"), "{err}");
    assert!(!err.to_string().contains("line"), "{err}");
    assert_eq!(server.count(), 0);
}
