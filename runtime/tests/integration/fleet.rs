//! One client for a fleet: the region chosen per call (against a local
//! server), the transport seam and its test doubles, and the call span's
//! rpc-style fields.

use crate::support;

use std::sync::{Arc, Mutex};

use crate::support::{Scripted, Step};
use serde::{Deserialize, Serialize};
use tencentcloud_runtime::test_util::{ExpectedRequest, RecordedResponse, ReplayTransport, Stubs};
use tencentcloud_runtime::{
    Action, CallOptions, Client, Config, Credentials, Endpoint, Error, SecretKey, ServiceError,
    TransportErrorKind, Validate, Validator,
};

const SECRET_ID: &str = "AKIDfleet0123456789";
const SECRET_KEY: &str = "fleet-secret-key-9z8y7x";

/// A read that needs a region, as most actions do.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ListThings {
    #[serde(rename = "Limit", default)]
    limit: i64,
}

/// A change with no idempotency token: not safe to repeat.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StartThings {
    #[serde(rename = "Ids", default)]
    ids: Vec<String>,
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Listed {
    #[serde(rename = "TotalCount", default)]
    total_count: u32,
    #[serde(rename = "RequestId", default)]
    request_id: String,
}

impl Validate for ListThings {
    fn validate(&self, _: &mut Validator) {}
}
impl Validate for StartThings {
    fn validate(&self, _: &mut Validator) {}
}

impl Action for ListThings {
    const NAME: &'static str = "ListThings";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = true;
    const READ_ONLY: bool = true;
    type Response = Listed;
    type Error = ServiceError;
}

impl Action for StartThings {
    const NAME: &'static str = "StartThings";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = true;
    const READ_ONLY: bool = false;
    type Response = Listed;
    type Error = ServiceError;
}

fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY))
}

#[tokio::test]
async fn one_client_serves_every_region_chosen_per_call() {
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::ok("r"))
        .start()
        .await;
    // No region in the configuration: each call names its own.
    let client = Client::new(Config::new(credentials()).with_endpoint(server.endpoint())).unwrap();
    let regions = ["ap-guangzhou", "ap-shanghai", "na-siliconvalley"];
    let calls = regions.iter().map(|region| {
        let client = client.clone();
        async move {
            client
                .send_with(&ListThings::default(), &CallOptions::new().with_region(*region))
                .await
        }
    });
    for outcome in futures::future::join_all(calls).await {
        outcome.expect("answered");
    }
    let mut seen: Vec<String> = server
        .seen()
        .iter()
        .map(|s| s.header("x-tc-region").unwrap_or("none").to_owned())
        .collect();
    seen.sort();
    assert_eq!(seen, ["ap-guangzhou", "ap-shanghai", "na-siliconvalley"]);
    server.all_signed();

    // Without a region anywhere, an action that needs one is refused
    // before sending; so is a region that cannot be a host label.
    let before = server.count();
    let missing = client.send(&ListThings::default()).await.unwrap_err();
    assert!(matches!(missing, Error::InvalidRequest(_)), "{missing}");
    assert!(missing.to_string().contains("with_region"), "{missing}");
    for bad in ["ap guangzhou", "AP-SHANGHAI", "ap-guangzhou.evil.example", ""] {
        let err = client
            .send_with(&ListThings::default(), &CallOptions::new().with_region(bad))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{bad}: {err}");
        assert!(err.to_string().contains("region"), "{bad}: {err}");
    }
    assert_eq!(server.count(), before, "nothing refused was sent");

    // A call's region wins over the client's.
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-beijing")
            .with_endpoint(server.endpoint()),
    )
    .unwrap();
    client.send(&ListThings::default()).await.unwrap();
    client
        .send_with(
            &ListThings::default(),
            &CallOptions::new().with_region("ap-chengdu"),
        )
        .await
        .unwrap();
    let seen = server.seen();
    let last_two: Vec<_> = seen[seen.len() - 2..]
        .iter()
        .map(|s| s.header("x-tc-region").unwrap_or("none").to_owned())
        .collect();
    assert_eq!(last_two, ["ap-beijing", "ap-chengdu"]);
}

#[tokio::test]
async fn the_regional_endpoint_follows_the_call_region() {
    let replay = ReplayTransport::new([
        (
            ExpectedRequest::action("ListThings").with_region("ap-shanghai"),
            RecordedResponse::ok(serde_json::json!({"TotalCount": 1})),
        ),
        (
            ExpectedRequest::action("ListThings").with_region("ap-singapore"),
            RecordedResponse::ok(serde_json::json!({"TotalCount": 2})),
        ),
    ]);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-shanghai")
            .with_endpoint(Endpoint::regional())
            .with_transport(replay.clone()),
    )
    .unwrap();
    client.send(&ListThings::default()).await.unwrap();
    client
        .send_with(
            &ListThings::default(),
            &CallOptions::new().with_region("ap-singapore"),
        )
        .await
        .unwrap();
    replay.assert_requests_match(&[]);
    let hosts: Vec<String> = replay
        .requests()
        .iter()
        .map(|r| r.url.host_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        hosts,
        [
            "cvm.ap-shanghai.tencentcloudapi.com",
            "cvm.ap-singapore.tencentcloudapi.com"
        ]
    );
}

#[tokio::test]
async fn a_replay_checks_every_request_and_says_how_they_differ() {
    let replay = ReplayTransport::new([
        (
            ExpectedRequest::action("StartThings")
                .with_service("cvm")
                .with_region("ap-guangzhou")
                .with_body(serde_json::json!({"Ids": ["a", "b"]})),
            RecordedResponse::ok(serde_json::json!({"TotalCount": 2, "RequestId": "rec-1"})),
        ),
        (
            ExpectedRequest::action("ListThings").with_region("ap-guangzhou"),
            RecordedResponse::error("ResourceNotFound.Thing", "gone"),
        ),
    ]);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    let started = client
        .send(&StartThings {
            ids: vec!["a".into(), "b".into()],
        })
        .await
        .unwrap();
    assert_eq!(
        started,
        Listed {
            total_count: 2,
            request_id: "rec-1".into()
        }
    );
    let err = client.send(&ListThings::default()).await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFound.Thing"));
    replay.assert_requests_match(&[]);

    // A third request has nothing recorded: a transport error, not retried.
    let err = client.send(&ListThings::default()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Other),
        "{err}"
    );
    assert_eq!(
        replay.mismatches(&[]),
        ["2 requests recorded, 3 received"],
        "the extra request is reported"
    );

    // A request that differs is named with what differs.
    let replay = ReplayTransport::new([(
        ExpectedRequest::action("StartThings")
            .with_region("ap-shanghai")
            .with_body(serde_json::json!({"Ids": ["a"]})),
        RecordedResponse::ok(serde_json::json!({})),
    )]);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    client
        .send(&StartThings {
            ids: vec!["b".into()],
        })
        .await
        .unwrap();
    let mismatches = replay.mismatches(&[]);
    assert_eq!(mismatches.len(), 2, "{mismatches:?}");
    assert!(
        mismatches[0].contains("region: expected `ap-shanghai`"),
        "{mismatches:?}"
    );
    assert!(
        mismatches[1].starts_with("request 1: body: expected"),
        "{mismatches:?}"
    );
    // Ignoring the member that differs leaves the region.
    assert_eq!(replay.mismatches(&["Ids"]).len(), 1);
}

#[tokio::test]
async fn recorded_transport_failures_go_through_the_retry_rules() {
    // A connect failure sent nothing: retried even for a change.
    let replay = ReplayTransport::new([
        (
            ExpectedRequest::action("StartThings"),
            RecordedResponse::failure(TransportErrorKind::Connect),
        ),
        (
            ExpectedRequest::action("StartThings"),
            RecordedResponse::ok(serde_json::json!({})),
        ),
    ]);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    client
        .send(&StartThings::default())
        .await
        .expect("retried after a connect failure");
    assert_eq!(replay.requests().len(), 2);

    // A timeout may have taken effect: a change is not repeated.
    let replay = ReplayTransport::new([
        (
            ExpectedRequest::action("StartThings"),
            RecordedResponse::failure(TransportErrorKind::Timeout),
        ),
        (
            ExpectedRequest::action("StartThings"),
            RecordedResponse::ok(serde_json::json!({})),
        ),
    ]);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    let err = client.send(&StartThings::default()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Timeout),
        "{err}"
    );
    assert_eq!(replay.requests().len(), 1);
}

#[tokio::test]
async fn stubs_answer_actions_from_typed_closures() {
    let seen_ids = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen_ids.clone();
    let stubs = Stubs::new()
        .on::<StartThings>(move |request| {
            recorder.lock().unwrap().extend(request.ids.clone());
            Ok(Listed {
                total_count: request.ids.len() as u32,
                request_id: String::new(),
            })
        })
        .on::<ListThings>(|_| Err(ServiceError::new("LimitExceeded.Things", "too many", "")));
    let client = Client::new(stubs.config()).unwrap();
    let started = client
        .send(&StartThings {
            ids: vec!["x".into(), "y".into()],
        })
        .await
        .unwrap();
    assert_eq!(started.total_count, 2);
    assert!(started.request_id.starts_with("stub-"), "{}", started.request_id);
    assert_eq!(*seen_ids.lock().unwrap(), ["x", "y"]);

    let err = client.send(&ListThings::default()).await.unwrap_err();
    assert_eq!(err.code(), Some("LimitExceeded.Things"));
    assert_eq!(stubs.calls::<StartThings>(), 1);
    assert_eq!(stubs.calls::<ListThings>(), 1);

    // An action without a stub is answered with a code that names it.
    let unstubbed = Client::new(Stubs::new().config()).unwrap();
    let err = unstubbed.send(&ListThings::default()).await.unwrap_err();
    assert_eq!(err.code(), Some("UnsupportedOperation.NoStub"));
    assert!(err.to_string().contains("cvm 2017-03-12 ListThings"), "{err}");
}

/// Everything written through the subscriber, for assertions.
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
fn the_call_span_carries_rpc_fields_and_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let replay = ReplayTransport::new([
        (
            ExpectedRequest::action("ListThings"),
            RecordedResponse::error("InternalError", "retry me"),
        ),
        (
            ExpectedRequest::action("ListThings"),
            RecordedResponse::ok(serde_json::json!({"RequestId": "req-span-ok"})),
        ),
        (
            ExpectedRequest::action("StartThings"),
            RecordedResponse::error("ResourceNotFound.Thing", "gone"),
        ),
    ]);
    let config = Config::new(credentials())
        .with_region("ap-guangzhou")
        .with_retry(
            tencentcloud_runtime::RetryConfig::standard()
                .with_base_delay(std::time::Duration::from_millis(1)),
        )
        .with_transport(replay);
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let client = Client::new(config).unwrap();
            client.send(&ListThings::default()).await.unwrap();
            client.send(&StartThings::default()).await.unwrap_err();
        })
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let closes: Vec<&str> = text.lines().filter(|l| l.contains("close")).collect();
    assert_eq!(closes.len(), 2, "{text}");
    for field in [
        "rpc.system=\"tencentcloud\"",
        "service=\"cvm\"",
        "action=\"ListThings\"",
        "region=\"ap-guangzhou\"",
        "attempts=2",
        "request_id=\"req-span-ok\"",
        "status=200",
    ] {
        assert!(closes[0].contains(field), "{field} missing in {}", closes[0]);
    }
    for field in [
        "action=\"StartThings\"",
        "attempts=1",
        "code=\"ResourceNotFound.Thing\"",
    ] {
        assert!(closes[1].contains(field), "{field} missing in {}", closes[1]);
    }
    assert!(!text.contains(SECRET_KEY));
}

/// A loopback port with nothing listening: connections are refused.
fn closed_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Counts attempts, whatever their outcome.
#[derive(Default)]
struct Attempts(std::sync::atomic::AtomicU32);

impl tencentcloud_runtime::Interceptor for Attempts {
    fn after_attempt(&self, _: &tencentcloud_runtime::AttemptOutcome<'_>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Attempts {
    fn take(&self) -> u32 {
        self.0.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

fn failover_client(
    endpoint: Endpoint,
    failover: tencentcloud_runtime::FailoverConfig,
    attempts: &Arc<Attempts>,
) -> Client {
    Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_endpoint(endpoint)
            .with_failover(failover)
            .with_timeout(std::time::Duration::from_millis(500))
            .with_retry(
                tencentcloud_runtime::RetryConfig::standard()
                    .with_base_delay(std::time::Duration::from_millis(1)),
            )
            .with_interceptor(attempts.clone()),
    )
    .unwrap()
}

#[tokio::test]
async fn an_unreachable_endpoint_is_failed_over_then_skipped_then_probed_back() {
    let dead = closed_port();
    let fallback = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::ok("from-fallback"))
        .start()
        .await;
    let endpoint = Endpoint::custom(&format!("http://{dead}"))
        .unwrap()
        .with_fallback(&format!("http://{}", fallback.addr))
        .unwrap();
    let attempts = Arc::new(Attempts::default());
    let failover = tencentcloud_runtime::FailoverConfig::standard()
        .with_failures_to_open(3)
        .with_cool_down(std::time::Duration::from_millis(300))
        .with_probes_to_close(1);
    let client = failover_client(endpoint, failover, &attempts);

    // Nothing was sent to the dead endpoint, so even a change that is not
    // safe to repeat moves on, within the call, to the fallback.
    for _ in 0..3 {
        client
            .send(&StartThings::default())
            .await
            .expect("answered by the fallback");
        assert_eq!(
            attempts.take(),
            2,
            "refused by the primary, answered by the fallback"
        );
    }
    // Three failures in a row open the primary's breaker: calls start at
    // the fallback.
    for _ in 0..5 {
        client.send(&StartThings::default()).await.unwrap();
        assert_eq!(attempts.take(), 1, "the open primary is skipped");
    }
    assert_eq!(fallback.count(), 8);
    fallback.all_signed();
    // Clones share the breakers.
    client.clone().send(&ListThings::default()).await.unwrap();
    assert_eq!(attempts.take(), 1);

    // The primary comes back: after the cool-down one call probes it, and
    // its answer closes the breaker.
    let Some(primary) = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::ok("from-primary"))
        .start_at(dead)
        .await
    else {
        return; // the port was taken meanwhile: the rest cannot be shown here
    };
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    for _ in 0..3 {
        let listed = client.send(&ListThings::default()).await.unwrap();
        assert_eq!(listed.request_id, "from-primary");
    }
    assert_eq!(primary.count(), 3);
    primary.all_signed();
}

#[tokio::test]
async fn a_change_that_timed_out_is_never_repeated_elsewhere() {
    // The primary takes the request and does not answer in time: it may
    // have acted on it.
    let primary = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::slow(std::time::Duration::from_secs(5), "late"))
        .start()
        .await;
    let fallback = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::ok("from-fallback"))
        .start()
        .await;
    let endpoint = Endpoint::custom(&format!("http://{}", primary.addr))
        .unwrap()
        .with_fallback(&format!("http://{}", fallback.addr))
        .unwrap();
    let attempts = Arc::new(Attempts::default());
    let client = failover_client(
        endpoint,
        tencentcloud_runtime::FailoverConfig::standard(),
        &attempts,
    );

    let err = client.send(&StartThings::default()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Timeout),
        "{err}"
    );
    assert_eq!((primary.count(), fallback.count()), (1, 0), "not sent twice");

    // A read is safe to repeat: its retry goes to the fallback.
    let listed = client.send(&ListThings::default()).await.unwrap();
    assert_eq!(listed.request_id, "from-fallback");
    assert_eq!((primary.count(), fallback.count()), (2, 1));

    // Without fallbacks, a custom endpoint has nothing to fail over to.
    let lone = failover_client(
        primary.endpoint(),
        tencentcloud_runtime::FailoverConfig::standard(),
        &attempts,
    );
    lone.send(&ListThings::default()).await.unwrap_err();
    assert_eq!(fallback.count(), 1);
}

/// A change whose spec states a quota of 5 requests a second.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RebootThings {}

impl Validate for RebootThings {
    fn validate(&self, _: &mut Validator) {}
}

impl Action for RebootThings {
    const NAME: &'static str = "RebootThings";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = true;
    const READ_ONLY: bool = false;
    const RATE_LIMIT: Option<u32> = Some(5);
    type Response = Listed;
    type Error = ServiceError;
}

/// The most requests `seen` holds within any window of `window`.
fn busiest(seen: &[support::Seen], window: std::time::Duration) -> usize {
    let mut at: Vec<std::time::Instant> = seen.iter().map(|s| s.at).collect();
    at.sort();
    (0..at.len())
        .map(|i| {
            at[i..]
                .iter()
                .take_while(|t| t.duration_since(at[i]) < window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_documented_quota_paces_calls_shared_by_clones_per_region() {
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::ok("r"))
        .start()
        .await;
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_endpoint(server.endpoint()),
    )
    .unwrap();
    // 12 calls at once from clones: they wait their turn instead of being
    // sent to be throttled, so no second holds more than 5.
    let calls = (0..12).map(|_| {
        let client = client.clone();
        async move { client.send(&RebootThings::default()).await }
    });
    for outcome in futures::future::join_all(calls).await {
        outcome.expect("paced, then answered");
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 12);
    let second = std::time::Duration::from_secs(1);
    assert!(
        busiest(&seen, second) <= 5,
        "{} in one second",
        busiest(&seen, second)
    );

    // Another region has its own quota; a call that must not wait is not paced.
    let before = server.count();
    let (request, shanghai, off) = (
        RebootThings::default(),
        CallOptions::new().with_region("ap-shanghai"),
        CallOptions::new().with_rate_limit(tencentcloud_runtime::RateLimit::Off),
    );
    let other = client.send_with(&request, &shanghai);
    let unpaced = client.send_with(&request, &off);
    let (other, unpaced) = futures::join!(other, unpaced);
    other.unwrap();
    unpaced.unwrap();
    assert_eq!(server.count(), before + 2);

    // A call whose deadline would pass while waiting is not sent at all.
    for _ in 0..10 {
        let _ = client.send(&RebootThings::default()).await;
    }
    let before = server.count();
    let err = client
        .send_with(
            &RebootThings::default(),
            &CallOptions::new().with_deadline(std::time::Duration::from_millis(20)),
        )
        .await
        .unwrap_err();
    match &err {
        Error::RateLimited(e) => {
            assert!(e.would_wait() > std::time::Duration::from_millis(20), "{e}");
            assert_eq!(e.attempts(), 0);
        }
        other => panic!("expected RateLimited, got {other}"),
    }
    assert!(err.to_string().contains("RebootThings"), "{err}");
    assert!(err.is_retryable());
    assert_eq!(server.count(), before, "nothing sent");
}

#[tokio::test]
async fn the_rate_limiter_can_be_turned_off_per_client() {
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::ok("r"))
        .start()
        .await;
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_endpoint(server.endpoint())
            .with_rate_limit(tencentcloud_runtime::RateLimitConfig::off()),
    )
    .unwrap();
    // With pacing off, 12 calls at once are all sent at once.
    let calls = (0..12).map(|_| {
        let client = client.clone();
        async move { client.send(&RebootThings::default()).await }
    });
    for outcome in futures::future::join_all(calls).await {
        outcome.expect("sent at once");
    }
    assert!(busiest(&server.seen(), std::time::Duration::from_secs(1)) > 5);
}

#[tokio::test]
async fn throttling_teaches_the_client_to_slow_down() {
    // A server that throttles everything: once told, the client stops
    // sending at full speed (an unknown limit, learnt), where without the
    // limiter every call would send all its attempts at once.
    let server = Scripted::builder(SECRET_ID, SECRET_KEY)
        .key(SECRET_ID, SECRET_KEY)
        .fallback(Step::error("RequestLimitExceeded", "r"))
        .start()
        .await;
    let no_wait = tencentcloud_runtime::RetryConfig::standard()
        .with_base_delay(std::time::Duration::ZERO)
        .with_throttling_base_delay(std::time::Duration::ZERO);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_endpoint(server.endpoint())
            .with_retry(no_wait)
            .with_retry_budget(tencentcloud_runtime::RetryBudget::unlimited()),
    )
    .unwrap();
    let mut refused_here = 0;
    for _ in 0..20 {
        let options = CallOptions::new().with_deadline(std::time::Duration::from_millis(200));
        match client.send_with(&ListThings::default(), &options).await {
            Err(Error::RateLimited(_)) => refused_here += 1,
            Err(e) => assert!(e.is_throttling(), "{e}"),
            Ok(_) => panic!("the server throttles everything"),
        }
    }
    // 20 calls of 3 attempts would be 60 requests; the learnt pace (its
    // floor is a request every 2 s) lets through a handful.
    assert!(server.count() < 10, "{} requests sent", server.count());
    assert!(refused_here > 10, "{refused_here} calls held back");
}
