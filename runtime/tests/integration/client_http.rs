//! The runtime against a local HTTP server that checks what it receives
//! (headers, body, TC3 signature) and answers as told. Uses a test-only
//! action so that it does not depend on generated code.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Router;
use serde::{Deserialize, Serialize};
use tencentcloud_runtime::{
    Action, Client, Config, Credentials, Endpoint, Error, InvalidResponseKind, RetryConfig, SecretKey,
    ServiceError, Validate, Validator,
};

const SECRET_ID: &str = "AKIDtestonly0123456789";
const SECRET_KEY: &str = "test-secret-key-9f8e7d6c";
const TOKEN: &str = "session-token-5a4b3c2d";

// ---- a test-only action ----------------------------------------------------

#[derive(Debug, Default, Serialize)]
struct PingRequest {
    #[serde(rename = "InstanceIds")]
    instance_ids: Vec<String>,
    #[serde(rename = "Limit", skip_serializing_if = "Option::is_none")]
    limit: Option<i64>,
}

impl Validate for PingRequest {
    fn validate(&self, v: &mut Validator) {
        v.field("InstanceIds", |v| v.required_list(&self.instance_ids));
        if let Some(limit) = self.limit {
            v.field("Limit", |v| v.range(limit, Some(1), Some(100)));
        }
    }
}

impl Action for PingRequest {
    const NAME: &'static str = "Ping";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = true;
    const READ_ONLY: bool = true;
    type Response = PingResponse;
    type Error = PingError;
}

/// The same request for an action that takes no region.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
struct GlobalPingRequest(PingRequest);

impl Validate for GlobalPingRequest {
    fn validate(&self, v: &mut Validator) {
        self.0.validate(v);
    }
}

impl Action for GlobalPingRequest {
    const NAME: &'static str = "GlobalPing";
    const SERVICE: &'static str = "cvm";
    const VERSION: &'static str = "2017-03-12";
    const NEEDS_REGION: bool = false;
    const READ_ONLY: bool = true;
    type Response = PingResponse;
    type Error = PingError;
}

#[derive(Debug, PartialEq, Deserialize)]
struct PingResponse {
    #[serde(rename = "Count")]
    count: u32,
    #[serde(rename = "RequestId")]
    request_id: String,
}

#[derive(Debug, PartialEq, thiserror::Error)]
enum PingError {
    #[error(transparent)]
    InstanceNotFound(ServiceError),
    #[error(transparent)]
    Unknown(ServiceError),
}

impl From<ServiceError> for PingError {
    fn from(e: ServiceError) -> Self {
        match e.code() {
            "InvalidInstanceId.NotFound" => PingError::InstanceNotFound(e),
            _ => PingError::Unknown(e),
        }
    }
}

impl tencentcloud_runtime::ActionError for PingError {
    fn service_error(&self) -> &ServiceError {
        match self {
            PingError::InstanceNotFound(e) | PingError::Unknown(e) => e,
        }
    }
}

fn ping() -> PingRequest {
    PingRequest {
        instance_ids: vec!["ins-r8hr2upy".into()],
        limit: Some(5),
    }
}

// ---- the server ------------------------------------------------------------

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// `Ok` when the TC3 signature verifies with [`SECRET_KEY`].
    signature: Result<(), String>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "header {name} sent twice");
        first
    }
}

struct Answer {
    status: u16,
    body: String,
    delay: Duration,
}

struct Shared {
    answer: Answer,
    /// Sent as `Location` when set.
    location: Mutex<Option<String>>,
    seen: Mutex<Vec<Seen>>,
}

/// Serves on 127.0.0.1 until dropped.
struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(status: u16, body: impl Into<String>) -> Server {
        Self::start_with(Answer {
            status,
            body: body.into(),
            delay: Duration::ZERO,
        })
        .await
    }

    async fn start_with(answer: Answer) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            answer,
            location: Mutex::new(None),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server { addr, shared, task }
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint::custom(&format!("http://{}", self.addr)).expect("valid endpoint")
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    fn only_request(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        let request = seen.into_iter().next().unwrap();
        assert_eq!(request.signature, Ok(()), "{request:#?}");
        request
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, String) {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or("<not visible ASCII>").to_owned(),
            )
        })
        .collect();
    let signature = verify_signature(method.as_str(), &headers, &body);
    shared.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: uri.to_string(),
        headers,
        body: body.to_vec(),
        signature,
    });
    tokio::time::sleep(shared.answer.delay).await;
    let status = StatusCode::from_u16(shared.answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut reply_headers = HeaderMap::new();
    if let Some(location) = shared.location.lock().unwrap().as_deref() {
        reply_headers.insert("location", location.parse().unwrap());
    }
    (status, reply_headers, shared.answer.body.clone())
}

fn verify_signature(method: &str, headers: &[(String, String)], body: &[u8]) -> Result<(), String> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let authorization = get("authorization").ok_or("no Authorization header")?;
    let parsed = signer::parse_authorization(authorization).map_err(|e| e.to_string())?;
    if parsed.secret_id != SECRET_ID {
        return Err(format!("signed by {}", parsed.secret_id));
    }
    if parsed.service != "cvm" {
        return Err(format!("scoped to service {}", parsed.service));
    }
    let timestamp: i64 = get("x-tc-timestamp")
        .ok_or("no X-TC-Timestamp")?
        .parse()
        .map_err(|_| "X-TC-Timestamp is not an integer")?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - timestamp).abs() > 60 {
        return Err(format!("timestamp {timestamp} is not now ({now})"));
    }
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    signer::verify(
        &signer::ReceivedRequest {
            method,
            query: "",
            headers: &pairs,
            body,
            timestamp,
            authorization: &parsed,
        },
        &SecretKey::new(SECRET_KEY),
    )
    .map_err(|e| e.to_string())
}

// ---- helpers ---------------------------------------------------------------

fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY))
}

fn client(config: Config) -> Client {
    Client::new(config).expect("valid config")
}

/// Retries as by default, with short backoffs to keep the tests quick.
fn client_for(server: &Server) -> Client {
    client(
        Config::new(credentials())
            .with_endpoint(server.endpoint())
            .with_region("ap-guangzhou")
            .with_retry(RetryConfig::standard().with_base_delay(Duration::from_millis(1))),
    )
}

fn service_error(code: &str, message: &str, request_id: &str) -> String {
    serde_json::json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})
        .to_string()
}

// ---- tests -----------------------------------------------------------------

#[tokio::test]
async fn success_is_signed_and_carries_every_header() {
    let server = Server::start(200, r#"{"Response":{"Count":2,"RequestId":"req-ok-1"}}"#).await;
    let client = client(
        Config::new(credentials())
            .with_endpoint(server.endpoint())
            .with_region("ap-guangzhou")
            .with_language("en-US"),
    );

    let response = client.send(&ping()).await.expect("success");
    assert_eq!(
        response,
        PingResponse {
            count: 2,
            request_id: "req-ok-1".into()
        }
    );

    let seen = server.only_request();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/");
    assert_eq!(seen.header("x-tc-action"), Some("Ping"));
    assert_eq!(seen.header("x-tc-version"), Some("2017-03-12"));
    assert_eq!(seen.header("x-tc-region"), Some("ap-guangzhou"));
    assert_eq!(seen.header("x-tc-language"), Some("en-US"));
    assert_eq!(seen.header("x-tc-token"), None);
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("host"), Some(server.addr.to_string().as_str()));
    assert!(seen
        .header("x-tc-timestamp")
        .is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit())));
    let authorization = seen.header("authorization").unwrap();
    assert!(
        authorization.starts_with(&format!("TC3-HMAC-SHA256 Credential={SECRET_ID}/")),
        "{authorization}"
    );
    // The action is signed: a captured request cannot be replayed as another one.
    assert!(
        authorization.contains("/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=")
    );
    let body: serde_json::Value = serde_json::from_slice(&seen.body).expect("JSON body");
    assert_eq!(
        body,
        serde_json::json!({"InstanceIds": ["ins-r8hr2upy"], "Limit": 5})
    );
}

#[tokio::test]
async fn session_token_is_sent_and_unset_options_are_not() {
    let server = Server::start(200, r#"{"Response":{"Count":0,"RequestId":"req-token"}}"#).await;
    let client =
        client(Config::new(credentials().with_session_token(TOKEN)).with_endpoint(server.endpoint()));
    client.send(&GlobalPingRequest(ping())).await.expect("success");
    let seen = server.only_request();
    assert_eq!(seen.header("x-tc-token"), Some(TOKEN));
    assert_eq!(seen.header("x-tc-region"), None);
    assert_eq!(seen.header("x-tc-language"), None);
}

#[tokio::test]
async fn documented_error_code_becomes_its_variant() {
    let body = service_error(
        "InvalidInstanceId.NotFound",
        "no instance ins-r8hr2upy",
        "req-err-1",
    );
    let server = Server::start(200, body).await;
    let err = client_for(&server).send(&ping()).await.unwrap_err();
    let expected = ServiceError::new(
        "InvalidInstanceId.NotFound",
        "no instance ins-r8hr2upy",
        "req-err-1",
    );
    match &err {
        Error::Service(PingError::InstanceNotFound(e)) => assert_eq!(e, &expected),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "InvalidInstanceId.NotFound: no instance ins-r8hr2upy (request id req-err-1)"
    );
    assert!(!err.is_timeout() && !err.is_connect());
    server.only_request();
}

#[tokio::test]
async fn unknown_error_code_is_kept_intact() {
    let body = service_error("ResourceInsufficient.Brand.New", "try later", "req-err-2");
    // Errors come with HTTP 200 from the real service; other statuses work too.
    let server = Server::start(400, body).await;
    match client_for(&server).send(&ping()).await {
        Err(Error::Service(PingError::Unknown(e))) => {
            assert_eq!(e.code(), "ResourceInsufficient.Brand.New");
            assert_eq!(e.message(), "try later");
            assert_eq!(e.request_id(), "req-err-2");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn non_json_502_keeps_status_and_body() {
    let page = "<html><body>502 Bad Gateway</body></html>";
    let server = Server::start(502, page).await;
    match client_for(&server).send(&ping()).await {
        Err(e @ Error::InvalidResponse { .. }) => {
            assert_eq!(e.status(), Some(502));
            let Error::InvalidResponse {
                status, body, reason, ..
            } = e
            else {
                unreachable!()
            };
            assert_eq!(status, 502);
            assert_eq!(body, page);
            assert!(reason.contains("not a JSON object"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn broken_envelopes_are_invalid_responses() {
    for (status, body, expected) in [
        (200, r#"{"Data":{"Count":1}}"#, "no `Response`"),
        (200, r#"{"Response":{"Count":1}}"#, "no `RequestId`"),
        (
            200,
            r#"{"Response":{"Count":"many","RequestId":"req-x"}}"#,
            "Count",
        ),
        (
            200,
            r#"{"Response":{"RequestId":"req-y"}}"#,
            "missing field `Count`",
        ),
        (
            500,
            r#"{"Response":{"Count":1,"RequestId":"req-z"}}"#,
            "HTTP status 500",
        ),
    ] {
        let server = Server::start(status, body).await;
        match client_for(&server).send(&ping()).await {
            Err(Error::InvalidResponse {
                status: got,
                body: kept,
                reason,
                ..
            }) => {
                assert_eq!(got, status);
                assert_eq!(kept, body);
                assert!(reason.contains(expected), "{body}: {reason}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn huge_error_bodies_are_truncated() {
    let page = "x".repeat(300 * 1024);
    let server = Server::start(503, page.clone()).await;
    match client_for(&server).send(&ping()).await {
        Err(Error::InvalidResponse { status, body, .. }) => {
            assert_eq!(status, 503);
            assert!(body.len() < 65 * 1024, "{}", body.len());
            assert!(body.starts_with(&page[..1024]));
            assert!(
                body.ends_with(&format!("[truncated: first 65536 of {} bytes shown]", page.len())),
                "{}",
                &body[body.len() - 80..]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_not_read() {
    let body = format!(
        r#"{{"Response":{{"Count":1,"RequestId":"big","Pad":"{}"}}}}"#,
        "x".repeat(200 * 1024)
    );
    let server = Server::start(200, body.clone()).await;
    let client = client(
        Config::new(credentials())
            .with_endpoint(server.endpoint())
            .with_region("ap-guangzhou")
            .with_max_response_bytes(100 * 1024),
    );
    match client.send(&ping()).await {
        Err(Error::InvalidResponse {
            status,
            body: kept,
            reason,
            ..
        }) => {
            assert_eq!(status, 200);
            assert_eq!(reason, "the body is longer than 102400 bytes; not read further");
            assert!(body.starts_with(&kept[..1024]));
        }
        other => panic!("{other:?}"),
    }
    // The same answer within the limit decodes.
    let roomy = client_for(&server);
    assert!(roomy.send(&ping()).await.is_ok());
}

/// An answer far later than the 200 ms timeout: the call fails with a
/// timeout well before the answer comes, however loaded the machine.
#[tokio::test]
async fn slow_answer_times_out() {
    let delay = Duration::from_secs(30);
    let server = Server::start_with(Answer {
        status: 200,
        body: r#"{"Response":{"Count":1,"RequestId":"late"}}"#.into(),
        delay,
    })
    .await;
    let client = client(
        Config::new(credentials())
            .with_endpoint(server.endpoint())
            .with_region("ap-guangzhou")
            .with_timeout(Duration::from_millis(200)),
    );
    let started = Instant::now();
    let err = client.send(&ping()).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < delay / 3, "{:?}", started.elapsed());
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.local_addr().expect("local addr")
    }; // Dropped: nothing listens there any more.
    let client = client(
        Config::new(credentials())
            .with_endpoint(Endpoint::custom(&format!("http://{addr}")).unwrap())
            .with_timeout(Duration::from_secs(5)),
    );
    let err = client.send(&GlobalPingRequest(ping())).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_connect(), "{err:?}");
    assert!(!err.is_timeout(), "{err:?}");
    // One line that says what failed and why, the OS's reason included.
    let shown = err.to_string();
    assert!(shown.starts_with("cannot connect: "), "{shown}");
    assert!(shown.to_lowercase().contains("connection refused"), "{shown}");
    assert!(!shown.contains('\n'), "{shown}");
}

#[tokio::test]
async fn a_missing_region_is_refused_before_sending() {
    let server = Server::start(200, r#"{"Response":{"Count":0,"RequestId":"r"}}"#).await;
    let client = client(Config::new(credentials()).with_endpoint(server.endpoint()));
    let err = client.send(&ping()).await.unwrap_err();
    let Error::InvalidRequest(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.violations[0].path.to_string(), "region");
    assert!(
        err.to_string()
            .contains("is required by Ping: set TENCENTCLOUD_REGION"),
        "{err}"
    );
    assert!(server.seen().is_empty(), "nothing may be sent");
    // An action that takes no region goes out without one.
    client.send(&GlobalPingRequest(ping())).await.expect("sent");
    assert_eq!(server.only_request().header("x-tc-region"), None);
}

/// The API never redirects. A redirect must not carry the signed body and the
/// session token to another host, nor pass that host's answer off as a success.
#[tokio::test]
async fn redirects_are_refused_and_nothing_reaches_the_other_host() {
    let other = Server::start(200, r#"{"Response":{"Count":9,"RequestId":"attacker"}}"#).await;
    for status in [301, 302, 303, 307, 308] {
        let redirecting = Server::start_with(Answer {
            status,
            body: r#"{"Response":{"Count":9,"RequestId":"attacker"}}"#.to_owned(),
            delay: Duration::ZERO,
        })
        .await;
        redirecting
            .shared
            .location
            .lock()
            .unwrap()
            .replace(format!("http://{}/", other.addr));
        let client = client(
            Config::new(credentials().with_session_token(TOKEN))
                .with_endpoint(redirecting.endpoint())
                .with_region("ap-guangzhou"),
        );
        let err = client.send(&ping()).await.unwrap_err();
        let Error::InvalidResponse {
            status: got, reason, ..
        } = &err
        else {
            panic!("{status}: {err:?}")
        };
        assert_eq!(*got, status);
        assert!(reason.contains(&format!("http://{}/", other.addr)), "{reason}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(redirecting.seen().len(), 1);
    }
    assert!(other.seen().is_empty(), "the other host got {:#?}", other.seen());
}

#[tokio::test]
async fn invalid_request_is_not_sent() {
    let server = Server::start(200, r#"{"Response":{"Count":1,"RequestId":"never"}}"#).await;
    let client = client_for(&server);
    let request = PingRequest {
        instance_ids: vec![],
        limit: Some(0),
    };
    match client.send(&request).await {
        Err(Error::InvalidRequest(e)) => {
            let fields: Vec<String> = e.violations.iter().map(|v| v.path.to_string()).collect();
            assert_eq!(fields, ["InstanceIds", "Limit"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn raw_call_by_name() {
    let server = Server::start(200, r#"{"Response":{"TotalCount":1,"RequestId":"req-raw"}}"#).await;
    let client = client_for(&server);
    let response: serde_json::Value = client
        .call("cvm", "2017-03-12", "DescribeRegions", &serde_json::json!({}))
        .await
        .expect("success");
    assert_eq!(response["TotalCount"], 1);
    let seen = server.only_request();
    assert_eq!(seen.header("x-tc-action"), Some("DescribeRegions"));
    assert_eq!(seen.body, b"{}");

    let server = Server::start(
        200,
        service_error("AuthFailure.SignatureExpire", "expired", "req-raw-2"),
    )
    .await;
    let err = client_for(&server)
        .call::<_, serde_json::Value>("cvm", "2017-03-12", "DescribeRegions", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Service(e) if e.code() == "AuthFailure.SignatureExpire"),
        "{err:?}"
    );

    // A service name that cannot be a host label is refused before sending.
    let err = client_for(&server)
        .call::<_, serde_json::Value>("cvm.evil", "2017-03-12", "X", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[tokio::test]
async fn the_user_agent_names_the_sdk_and_the_service_called() {
    let server = Server::start(200, r#"{"Response":{"Count":1,"RequestId":"req-ua"}}"#).await;
    let client = client_for(&server);
    // A generated client's action (its `SERVICE` and `VERSION`)...
    client.send(&ping()).await.expect("success");
    // ...and an untyped call (the service and version it is given).
    client
        .call::<_, serde_json::Value>("vpc", "2017-03-12", "DescribeVpcs", &serde_json::json!({}))
        .await
        .expect("success");
    client
        .call::<_, serde_json::Value>("sts", "2018-08-13", "GetCallerIdentity", &serde_json::json!({}))
        .await
        .expect("success");
    let sdk = format!("tencentcloud-sdk-rust/{}", env!("CARGO_PKG_VERSION"));
    let agents: Vec<String> = server
        .seen()
        .iter()
        .map(|seen| seen.header("user-agent").unwrap_or("none").to_owned())
        .collect();
    assert_eq!(
        agents,
        [
            format!("{sdk} cvm/2017-03-12"),
            format!("{sdk} vpc/2017-03-12"),
            format!("{sdk} sts/2018-08-13"),
        ]
    );
}

#[tokio::test]
async fn clones_share_one_client_and_calls_run_concurrently() {
    let server = Server::start(200, r#"{"Response":{"Count":1,"RequestId":"req-many"}}"#).await;
    let client = client_for(&server);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        // Requires the future to be Send.
        tasks.push(tokio::spawn(async move { client.send(&ping()).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().request_id, "req-many");
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 8);
    assert!(seen.iter().all(|s| s.signature.is_ok()));
}

#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let server = Server::start(502, "bad gateway").await;
    let client = client(
        Config::new(credentials().with_session_token(TOKEN))
            .with_endpoint(server.endpoint())
            .with_region("ap-guangzhou"),
    );
    let err = client.send(&ping()).await.unwrap_err();
    // A read-only action: the 502 was retried.
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    let authorization = seen[0].header("authorization").unwrap().to_owned();
    let signature = authorization.rsplit('=').next().unwrap();
    for shown in [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{:?}", client.config()),
        format!("{:?}", client.config().credentials()),
        format!("{err:?}"),
        err.to_string(),
    ] {
        assert!(!shown.contains(SECRET_KEY), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains(signature), "{shown}");
    }
    assert!(format!("{client:?}").contains(SECRET_ID));
}

/// `Config::with_http_client` reaches the service through an explicit
/// proxy (here our server, which sees the absolute-form request a proxy
/// gets), and cannot switch redirects back on.
#[tokio::test]
async fn a_customised_http_client_uses_its_proxy_and_still_refuses_redirects() {
    let proxy = Server::start(200, r#"{"Response":{"Count":4,"RequestId":"via-proxy"}}"#).await;
    let proxy_url = format!("http://{}", proxy.addr);
    let proxied = client(
        Config::new(credentials())
            .with_endpoint(Endpoint::custom("http://cvm.example.invalid").unwrap())
            .with_region("ap-guangzhou")
            .with_http_client(move |builder| {
                builder
                    .proxy(reqwest::Proxy::http(&proxy_url).expect("proxy URL"))
                    .redirect(reqwest::redirect::Policy::limited(5))
            }),
    );
    let response = proxied.send(&ping()).await.expect("answered by the proxy");
    assert_eq!(response.count, 4);
    let seen = proxy.only_request();
    assert_eq!(seen.path, "http://cvm.example.invalid/");
    assert_eq!(seen.header("host"), Some("cvm.example.invalid"));

    let other = Server::start(200, r#"{"Response":{"Count":9,"RequestId":"attacker"}}"#).await;
    let redirecting = Server::start(302, "").await;
    redirecting
        .shared
        .location
        .lock()
        .unwrap()
        .replace(format!("http://{}/", other.addr));
    let redirected = client(
        Config::new(credentials())
            .with_endpoint(redirecting.endpoint())
            .with_region("ap-guangzhou")
            .with_http_client(|builder| builder.redirect(reqwest::redirect::Policy::limited(5))),
    );
    let err = redirected.send(&ping()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidResponse {
                status: 302,
                kind: InvalidResponseKind::Redirect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(other.seen().is_empty());
}
