//! An outside review of the runtime as a hostile server, a careless user and
//! a fuzzer would attack it: transports and bodies that never end, a
//! transport that lies about what failed, deadlines that trip the shared
//! breakers, untrusted names, secrets in `Debug`, and regions that are not
//! DNS labels. Each test is a finding (fixed with it) or a defence that held.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tencentcloud_runtime::test_util::{ExpectedRequest, RecordedResponse, ReplayTransport};
use tencentcloud_runtime::transport::{
    HttpRequest, HttpResponse, HttpTransport, ResponseBody, TransportFuture,
};
use tencentcloud_runtime::{
    Action, CallOptions, Client, Config, Credentials, Endpoint, Error, FailoverConfig, RateLimitConfig,
    RetryConfig, SecretKey, ServiceError, TransportError, TransportErrorKind, Validate, Validator,
};

const SECRET_ID: &str = "AKIDattack0123456789";
const SECRET_KEY: &str = "attack-secret-key-5q4w3e";
const SESSION_TOKEN: &str = "attack-session-token-zz9yy8";

/// A read: safe to repeat.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ListThings {}

/// A change with no idempotency token: not safe to repeat.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StartThings {}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Listed {
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
    Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)).with_session_token(SESSION_TOKEN)
}

fn ok_body(request_id: &str) -> Bytes {
    Bytes::from(format!(r#"{{"Response":{{"RequestId":"{request_id}"}}}}"#))
}

/// What the transports below were asked to send.
#[derive(Debug, Default)]
struct Sent(Mutex<Vec<String>>);

impl Sent {
    fn push(&self, request: &HttpRequest) {
        self.0.lock().unwrap().push(request.url.to_string());
    }
    fn urls(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// How a [`Hostile`] transport misbehaves.
#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    /// `send` never completes, whatever `request.timeout` says.
    NeverAnswers,
    /// Answers 200, then the body never ends (nor errs): one chunk, then nothing.
    BodyStalls,
    /// Answers 200 with a body of empty chunks, each ready at once, forever.
    EmptyChunksForever,
    /// Answers 200, sends part of the body, then fails it as a `Connect`
    /// error, which only a failure before anything was sent may be.
    BodyFailsAsConnect,
}

#[derive(Debug)]
struct Hostile {
    how: Misbehaviour,
    sent: Arc<Sent>,
}

impl HttpTransport for Hostile {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        self.sent.push(&request);
        let how = self.how;
        Box::pin(async move {
            let body = match how {
                Misbehaviour::NeverAnswers => {
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                Misbehaviour::BodyStalls => ResponseBody::from_stream(
                    futures::stream::iter([Ok(Bytes::from_static(b"{\"Response\":"))])
                        .chain(futures::stream::pending()),
                ),
                Misbehaviour::EmptyChunksForever => {
                    ResponseBody::from_stream(futures::stream::repeat_with(|| Ok(Bytes::new())))
                }
                Misbehaviour::BodyFailsAsConnect => ResponseBody::from_stream(futures::stream::iter([
                    Ok(Bytes::from_static(b"{\"Response\":{\"Request")),
                    Err(TransportError::new(
                        TransportErrorKind::Connect,
                        "connection refused (a transport mapping every io error to Connect)".into(),
                    )),
                ])),
            };
            Ok(HttpResponse::new(200, http::HeaderMap::new(), body))
        })
    }
}

use futures::StreamExt;

fn hostile_client(how: Misbehaviour, configure: impl FnOnce(Config) -> Config) -> (Client, Arc<Sent>) {
    let sent = Arc::new(Sent::default());
    let transport = Hostile {
        how,
        sent: sent.clone(),
    };
    let config = Config::new(credentials())
        .with_region("ap-guangzhou")
        .with_retry(RetryConfig::standard().with_base_delay(Duration::from_millis(1)))
        .with_transport(transport);
    (Client::new(configure(config)).unwrap(), sent)
}

/// Runs `call` on a runtime of its own thread and waits at most `limit`
/// for it: a call that never returns (or spins inside one poll, which no
/// timer of its own runtime can interrupt) fails the test instead of
/// hanging it.
fn finishes_within<T: Send + 'static>(
    limit: Duration,
    call: impl std::future::Future<Output = T> + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = tx.send(rt.block_on(call));
    });
    rx.recv_timeout(limit).ok()
}

// Finding (high): the runtime left the attempt's timeout and the call's
// deadline entirely to the transport. A transport that ignores
// `request.timeout`, or a body stream that stalls, hung the call forever,
// with a deadline set or not; and a stalled probe kept its endpoint's
// breaker half-open for good.
#[test]
fn a_transport_that_never_answers_is_cut_off_at_the_deadline() {
    let (client, sent) = hostile_client(Misbehaviour::NeverAnswers, |c| {
        c.with_deadline(Duration::from_millis(300))
    });
    let outcome = finishes_within(Duration::from_secs(10), async move {
        client.send(&ListThings::default()).await
    })
    .expect("the call returned by its deadline");
    let err = outcome.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(sent.urls().len(), 1, "past the deadline: no retry");
}

#[test]
fn a_transport_that_never_answers_is_cut_off_at_the_attempt_timeout_without_a_deadline() {
    let (client, sent) = hostile_client(Misbehaviour::NeverAnswers, |c| {
        c.with_timeout(Duration::from_millis(100))
    });
    let outcome = finishes_within(Duration::from_secs(10), async move {
        client.send(&ListThings::default()).await
    })
    .expect("each attempt ended at its timeout");
    let err = outcome.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.attempts(), 3, "a read is retried after a timeout");
    assert_eq!(sent.urls().len(), 3);
}

#[test]
fn a_body_that_stalls_is_cut_off_at_the_deadline() {
    let (client, _) = hostile_client(Misbehaviour::BodyStalls, |c| {
        c.with_deadline(Duration::from_millis(300))
    });
    let outcome = finishes_within(Duration::from_secs(10), async move {
        client.send(&StartThings::default()).await
    })
    .expect("the call returned by its deadline");
    assert!(outcome.unwrap_err().is_timeout());
}

// The same, but a stream that is always ready: without yielding now and
// then, the read loop spun inside one poll, so not even a timer could end
// it, and the executor's thread was lost with it.
#[test]
fn a_body_of_empty_chunks_forever_neither_spins_nor_hangs() {
    let (client, _) = hostile_client(Misbehaviour::EmptyChunksForever, |c| {
        c.with_timeout(Duration::from_millis(200))
    });
    let outcome = finishes_within(Duration::from_secs(10), async move {
        client
            .send_with(
                &StartThings::default(),
                &CallOptions::new().with_retry(RetryConfig::disabled()),
            )
            .await
    })
    .expect("the read ended at the attempt's timeout");
    assert!(outcome.unwrap_err().is_timeout());
}

// Finding (high): a transport that reports a failure while the body is read
// as `Connect` (which the retry rules repeat for any call, since nothing
// was sent) made the runtime repeat a change that had reached the service,
// and fail it over to a second endpoint. An answer had arrived: whatever
// the transport says, the request was sent.
#[tokio::test]
async fn a_connect_error_after_the_answer_began_never_repeats_a_change_elsewhere() {
    let (client, sent) = hostile_client(Misbehaviour::BodyFailsAsConnect, |c| {
        c.with_endpoint(
            Endpoint::custom("https://primary.example")
                .unwrap()
                .with_fallback("https://fallback.example")
                .unwrap(),
        )
    });
    let err = client.send(&StartThings::default()).await.unwrap_err();
    assert_eq!(
        sent.urls(),
        ["https://primary.example/"],
        "sent once, and never to the fallback"
    );
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Reset),
        "the answer was lost, not a connection refused: {err:?}"
    );
    assert_eq!(err.attempts(), 1);
}

/// Answers after `delay`, as a slow but working endpoint does, honouring
/// the request's timeout as a well-behaved transport should.
#[derive(Debug)]
struct Slow {
    delay: Duration,
    sent: Arc<Sent>,
}

impl HttpTransport for Slow {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        self.sent.push(&request);
        let delay = self.delay;
        Box::pin(async move {
            if request.timeout < delay {
                tokio::time::sleep(request.timeout).await;
                return Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    "operation timed out".into(),
                ));
            }
            tokio::time::sleep(delay).await;
            Ok(HttpResponse::new(
                200,
                http::HeaderMap::new(),
                ok_body("slow-but-fine"),
            ))
        })
    }
}

// Finding (medium): a timeout cut short by the caller's own deadline was
// counted against the endpoint. A few calls with tight deadlines (or a
// deadline of ~0) opened the breaker that every clone shares, moving all
// of the client's traffic to the next candidate (another access point, the
// international one) for the cool-down, though the endpoint was healthy.
#[tokio::test]
async fn tight_deadlines_do_not_open_the_breaker_every_clone_shares() {
    let sent = Arc::new(Sent::default());
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_endpoint(
                Endpoint::custom("https://primary.example")
                    .unwrap()
                    .with_fallback("https://fallback.example")
                    .unwrap(),
            )
            .with_failover(FailoverConfig::standard().with_failures_to_open(3))
            .with_transport(Slow {
                delay: Duration::from_millis(60),
                sent: sent.clone(),
            }),
    )
    .unwrap();
    let hurried = CallOptions::new().with_deadline(Duration::from_millis(5));
    for _ in 0..3 {
        let err = client
            .send_with(&StartThings::default(), &hurried)
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
    }
    // A patient call of another task, on a clone.
    let listed = client.clone().send(&StartThings::default()).await.unwrap();
    assert_eq!(listed.request_id, "slow-but-fine");
    let urls = sent.urls();
    assert_eq!(
        urls.last().map(String::as_str),
        Some("https://primary.example/"),
        "the healthy primary is still the first choice: {urls:?}"
    );
    assert!(!urls.iter().any(|u| u.contains("fallback")), "{urls:?}");
}

// Finding (low): action names reach the pacer's key table (and a header)
// unbounded in length through `call_with`: the table holds 4,096 keys, but
// each as long as the caller likes, for ten minutes.
#[tokio::test]
async fn an_action_name_of_any_length_is_refused_before_anything_is_kept_or_sent() {
    let replay = ReplayTransport::new([]);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    let huge = "A".repeat(256 * 1024);
    let err = client
        .call::<_, serde_json::Value>("cvm", "2017-03-12", &huge, &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(err.to_string().len() < 1024, "the error does not echo it all");
    let err = client
        .call::<_, serde_json::Value>("cvm", &huge, "DescribeThings", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(replay.requests().is_empty(), "nothing sent");
}

// Finding (low): `HttpRequest`'s derived `Debug` printed the body, which
// can be a credential: STS `AssumeRoleWithWebIdentity` carries the OIDC
// token in it (unsigned: the token is the proof), and many actions carry
// passwords. `ReplayTransport`'s (and so a `Config`'s and `Client`'s)
// `Debug` printed every request it received.
#[tokio::test]
async fn no_debug_output_shows_a_secret_a_token_or_a_request_body() {
    let replay = ReplayTransport::new([(
        ExpectedRequest::action("AssumeRoleWithWebIdentity"),
        RecordedResponse::ok(serde_json::json!({})),
    )]);
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    let web_identity = "eyJhbGciOiJSUzI1NiJ9.oidc-token-of-the-pod.c2lnbmF0dXJl";
    let _: serde_json::Value = client
        .call(
            "sts",
            "2018-08-13",
            "AssumeRoleWithWebIdentity",
            &serde_json::json!({"WebIdentityToken": web_identity}),
        )
        .await
        .unwrap();
    let requests = replay.requests();
    let request = &requests[0];
    let signature = request.header("authorization").unwrap().to_owned();
    assert!(signature.contains("Signature="));
    for shown in [
        format!("{request:?}"),
        format!("{:?}", request.clone()),
        format!("{replay:?}"),
        format!("{client:?}"),
        format!("{:?}", client.config()),
    ] {
        for secret in [SECRET_KEY, SESSION_TOKEN, web_identity, signature.as_str()] {
            assert!(!shown.contains(secret), "`{secret}` in {shown}");
        }
    }
    // What it does show: enough to tell requests apart.
    let shown = format!("{request:?}");
    assert!(shown.contains("sts") || shown.contains("https://"), "{shown}");
    assert!(shown.contains("bytes"), "{shown}");
}

// Held: a region that is not a DNS label is refused before anything is
// sent, from the configuration or per call, whatever the endpoint (its
// host or only its header).
#[tokio::test]
async fn a_region_that_is_no_dns_label_is_refused_on_every_path() {
    let bad = [
        "ap-guangzhou.evil.com",
        "..",
        "AP-GUANGZHOU",
        "",
        "-ap",
        "ap-",
        "ap guangzhou",
        "ap-guangzhou\r\nX-Evil: 1",
        "ap-gu\u{0430}ngzhou",
        "ap-guangzhou/",
        "ap-guangzhou%2e",
        &"a".repeat(64),
    ];
    for region in bad {
        for endpoint in [
            Endpoint::global(),
            Endpoint::regional(),
            Endpoint::international(),
        ] {
            let config = Config::new(credentials()).with_endpoint(endpoint.clone());
            assert!(
                Client::new(config.clone().with_region(region)).is_err(),
                "config region {region:?}"
            );
            let replay = ReplayTransport::new([]);
            let client =
                Client::new(config.with_region("ap-guangzhou").with_transport(replay.clone())).unwrap();
            let options = CallOptions::new().with_region(region);
            let err = client
                .send_with(&ListThings::default(), &options)
                .await
                .unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{region:?}: {err}");
            assert!(!err.to_string().contains('\n'), "{err}");
            let err = client
                .call_with::<_, serde_json::Value>(
                    "cvm",
                    "2017-03-12",
                    "DescribeThings",
                    &serde_json::json!({}),
                    &options,
                )
                .await
                .unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{region:?}: {err}");
            assert!(replay.requests().is_empty(), "{region:?} was sent");
        }
    }
    // The longest label is fine.
    let replay = ReplayTransport::new([(
        ExpectedRequest::action("ListThings"),
        RecordedResponse::ok(serde_json::json!({})),
    )]);
    let client = Client::new(
        Config::new(credentials())
            .with_endpoint(Endpoint::regional())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    let region = "a".repeat(63);
    client
        .send_with(&ListThings::default(), &CallOptions::new().with_region(&region))
        .await
        .unwrap();
    assert_eq!(
        replay.requests()[0].url.as_str(),
        format!("https://cvm.{region}.tencentcloudapi.com/")
    );
}

/// Refuses every connection and names the URL it was asked for.
#[derive(Debug)]
struct Unreachable(Arc<Sent>);

impl HttpTransport for Unreachable {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        self.0.push(&request);
        Box::pin(async {
            Err(TransportError::new(
                TransportErrorKind::Connect,
                "connection refused".into(),
            ))
        })
    }
}

// Held: a custom endpoint (a private access point) never fails over to a
// public Tencent host, however many of its attempts fail and whichever
// region a call names; a built-in one only to Tencent's hosts.
#[tokio::test]
async fn a_custom_endpoint_never_fails_over_to_the_public_internet() {
    let sent = Arc::new(Sent::default());
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_endpoint(
                Endpoint::custom("https://cvm.private.example")
                    .unwrap()
                    .with_fallback("https://cvm-backup.private.example")
                    .unwrap(),
            )
            .with_failover(FailoverConfig::standard().with_failures_to_open(1))
            .with_retry(
                RetryConfig::standard()
                    .with_max_attempts(10)
                    .with_base_delay(Duration::from_millis(1)),
            )
            .with_rate_limit(RateLimitConfig::off())
            .with_transport(Unreachable(sent.clone())),
    )
    .unwrap();
    for region in ["ap-guangzhou", "ap-shanghai-fsi", "na-ashburn"] {
        for _ in 0..5 {
            let options = CallOptions::new().with_region(region);
            client
                .send_with(&StartThings::default(), &options)
                .await
                .unwrap_err();
            client
                .call_with::<_, serde_json::Value>(
                    "vpc",
                    "2017-03-12",
                    "DescribeVpcs",
                    &serde_json::json!({}),
                    &options,
                )
                .await
                .unwrap_err();
        }
    }
    let urls = sent.urls();
    assert!(urls.len() > 30, "{}", urls.len());
    assert!(urls.iter().all(|u| u.ends_with(".private.example/")), "{urls:?}");
}

/// Answers a redirect to wherever, and counts.
#[derive(Debug)]
struct Redirects(AtomicU32);

impl HttpTransport for Redirects {
    fn send(&self, _: HttpRequest) -> TransportFuture<'_> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Box::pin(async {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::LOCATION,
                http::HeaderValue::from_static("https://evil.example/steal"),
            );
            Ok(HttpResponse::new(307, headers, ok_body("from-the-redirect")))
        })
    }
}

// Held: a 3xx is refused unread, once, for a read as for a change.
#[tokio::test]
async fn a_redirect_is_never_followed_nor_retried() {
    let transport = Arc::new(Redirects(AtomicU32::new(0)));
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(transport.clone()),
    )
    .unwrap();
    let err = client.send(&ListThings::default()).await.unwrap_err();
    assert!(err.to_string().contains("evil.example/steal"), "{err}");
    assert_eq!(transport.0.load(Ordering::Relaxed), 1);
}

/// Primary: what `mode` says (0 refuses connections, 1 never answers, 2
/// answers); anything else answers.
#[derive(Debug)]
struct Switchable {
    mode: Arc<AtomicU32>,
    sent: Arc<Sent>,
}

impl HttpTransport for Switchable {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        self.sent.push(&request);
        let primary = request.url.as_str().contains("primary");
        let mode = self.mode.load(Ordering::Relaxed);
        Box::pin(async move {
            match (primary, mode) {
                (true, 0) => Err(TransportError::new(
                    TransportErrorKind::Connect,
                    "connection refused".into(),
                )),
                (true, 1) => std::future::pending().await,
                (true, _) => Ok(HttpResponse::new(200, http::HeaderMap::new(), ok_body("primary"))),
                (false, _) => Ok(HttpResponse::new(
                    200,
                    http::HeaderMap::new(),
                    ok_body("fallback"),
                )),
            }
        })
    }
}

// Held: a probe whose call is cancelled (its future dropped while the
// probe hangs) frees the probe slot: the next call probes, and the
// endpoint's breaker closes again once it answers.
#[tokio::test]
async fn a_cancelled_probe_does_not_leave_the_breaker_half_open() {
    let mode = Arc::new(AtomicU32::new(0));
    let sent = Arc::new(Sent::default());
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_endpoint(
                Endpoint::custom("https://primary.example")
                    .unwrap()
                    .with_fallback("https://fallback.example")
                    .unwrap(),
            )
            .with_failover(
                FailoverConfig::standard()
                    .with_failures_to_open(1)
                    .with_cool_down(Duration::from_millis(50))
                    .with_probes_to_close(1),
            )
            .with_transport(Switchable {
                mode: mode.clone(),
                sent: sent.clone(),
            }),
    )
    .unwrap();
    let listed = client.send(&StartThings::default()).await.unwrap();
    assert_eq!(listed.request_id, "fallback", "refused, then failed over");
    tokio::time::sleep(Duration::from_millis(80)).await;
    mode.store(1, Ordering::Relaxed);
    let cancelled =
        tokio::time::timeout(Duration::from_millis(100), client.send(&StartThings::default())).await;
    assert!(cancelled.is_err(), "the probe hung and its call was dropped");
    assert_eq!(
        sent.urls().last().map(String::as_str),
        Some("https://primary.example/")
    );
    mode.store(2, Ordering::Relaxed);
    let listed = client.send(&StartThings::default()).await.unwrap();
    assert_eq!(
        listed.request_id,
        "primary",
        "the next call probed: {:?}",
        sent.urls()
    );
    let listed = client.send(&StartThings::default()).await.unwrap();
    assert_eq!(listed.request_id, "primary", "and the breaker closed");
}

// Held: extreme settings never panic, and a deadline already over sends
// nothing that could be waited on.
#[tokio::test]
async fn extreme_timeouts_deadlines_and_rate_limits_do_not_panic() {
    let replay = ReplayTransport::new((0..64).map(|_| {
        (
            ExpectedRequest::default(),
            RecordedResponse::ok(serde_json::json!({})),
        )
    }));
    let client = Client::new(
        Config::new(credentials())
            .with_region("ap-guangzhou")
            .with_transport(replay.clone()),
    )
    .unwrap();
    use tencentcloud_runtime::RateLimit;
    let options = [
        CallOptions::new().with_deadline(Duration::ZERO),
        CallOptions::new().with_deadline(Duration::MAX),
        CallOptions::new().with_timeout(Duration::ZERO),
        CallOptions::new().with_timeout(Duration::MAX),
        CallOptions::new().with_rate_limit(RateLimit::PerSecond(u32::MAX)),
        CallOptions::new().with_rate_limit(RateLimit::PerSecond(0)),
        CallOptions::new()
            .with_rate_limit(RateLimit::PerSecond(1))
            .with_deadline(Duration::from_millis(10)),
        CallOptions::new().with_retry(RetryConfig::standard().with_max_attempts(u32::MAX)),
    ];
    for options in &options {
        for _ in 0..3 {
            let _ = client.send_with(&ListThings::default(), options).await;
        }
    }
    // One turn a second: the second and third calls within 10 ms are not sent.
    let paced = &options[6];
    let err = client.send_with(&ListThings::default(), paced).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited(_)), "{err}");
    assert_eq!(err.attempts(), 0);
}

/// Everything written through the subscriber.
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

// Held: at the most verbose level, through throttling, a 5xx page, a
// redirect, a transport failure and a credential refused, no log line holds
// the secret key, the session token or a signature; and the server's text
// in them cannot forge a log line.
#[test]
fn the_logs_of_a_troubled_call_hold_no_secret_and_no_forged_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let forged = "\n2026-01-01T00:00:00Z  INFO forged: all good";
    let replay = ReplayTransport::new([
        (
            ExpectedRequest::default(),
            RecordedResponse::error("RequestLimitExceeded", forged),
        ),
        (ExpectedRequest::default(), RecordedResponse::raw(502, forged.to_owned())),
        (
            ExpectedRequest::default(),
            RecordedResponse::failure(TransportErrorKind::Reset),
        ),
        (
            ExpectedRequest::default(),
            RecordedResponse::raw(
                200,
                serde_json::json!({"Response": {"Error": {"Code": format!("AuthFailure.TokenFailure{forged}"), "Message": forged}, "RequestId": forged}}).to_string(),
            ),
        ),
        (ExpectedRequest::default(), RecordedResponse::raw(302, "")),
    ]);
    let config = Config::new(credentials())
        .with_region("ap-guangzhou")
        .with_retry(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_base_delay(Duration::from_millis(1))
                .with_throttling_base_delay(Duration::from_millis(1)),
        )
        .with_transport(replay.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let client = Client::new(config).unwrap();
            let _ = client.send(&ListThings::default()).await;
            let _ = client.send(&ListThings::default()).await;
        })
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(replay.requests().len() >= 4, "{text}");
    let signatures: Vec<String> = replay
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    for secret in [SECRET_KEY, SESSION_TOKEN]
        .into_iter()
        .chain(signatures.iter().map(String::as_str))
    {
        assert!(!text.contains(secret), "`{secret}` logged:\n{text}");
    }
    assert!(
        !text.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a forged line:\n{text}"
    );
}
