//! Test doubles for code that uses the SDK (feature `test-util`): no
//! server, no network, the real runtime (signing, retries, decoding) in
//! between.
//!
//! - [`Stubs`] answers chosen actions from closures over the typed request
//!   and response, after `aws-smithy-mocks`: for a unit test of one
//!   function.
//! - [`ReplayTransport`] answers from recorded exchanges, in order, and
//!   checks afterwards that the requests were the expected ones, after
//!   `aws-smithy-http-client`'s `StaticReplayClient`: for a flow of
//!   several calls.
//!
//! Both are [`HttpTransport`]s: give one to
//! [`Config::with_transport`](crate::Config::with_transport), or take the
//! ready configuration of [`Stubs::config`].

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::transport::{HttpRequest, HttpResponse, HttpTransport, TransportFuture};
use crate::{Action, Config, Credentials, SecretKey, ServiceError, TransportError, TransportErrorKind};

/// The region a double's configuration calls with, unless told otherwise.
pub const TEST_REGION: &str = "ap-guangzhou";

/// A configuration with a fixed, fake credential and [`TEST_REGION`],
/// sending through `transport`.
pub fn test_config(transport: impl HttpTransport) -> Config {
    Config::new(Credentials::new(
        "AKIDTESTTESTTESTTESTTESTTESTTESTTEST",
        SecretKey::new("test-secret-key-not-a-real-one"),
    ))
    .with_region(TEST_REGION)
    .with_transport(transport)
}

type Handler = dyn Fn(&[u8]) -> Result<Value, StubError> + Send + Sync;

enum StubError {
    Service(ServiceError),
    /// The request did not decode as the stub's type.
    Undecodable(String),
}

struct Stub {
    handler: Box<Handler>,
    calls: AtomicU64,
}

/// Answers actions from closures, by (service, version, action):
///
/// ```
/// # #[derive(serde::Serialize, serde::Deserialize, Default)]
/// # struct Thing;
/// # impl tencentcloud_runtime::Validate for Thing {
/// #     fn validate(&self, _: &mut tencentcloud_runtime::Validator) {}
/// # }
/// # impl tencentcloud_runtime::Action for Thing {
/// #     const NAME: &'static str = "DescribeThings"; const SERVICE: &'static str = "demo";
/// #     const VERSION: &'static str = "2020-01-01"; const NEEDS_REGION: bool = true;
/// #     const READ_ONLY: bool = true; type Response = Thing;
/// #     type Error = tencentcloud_runtime::ServiceError;
/// # }
/// use tencentcloud_runtime::test_util::Stubs;
/// use tencentcloud_runtime::{Client, ServiceError};
///
/// # async fn demo() {
/// let stubs = Stubs::new()
///     .on::<Thing>(|_request| Ok(Thing))
///     .on::<Thing>(|_request| Err(ServiceError::new("ResourceNotFound", "no such thing", "")));
/// let client = Client::new(stubs.config()).unwrap();
/// # }
/// ```
///
/// The last stub given for an action wins. An action without a stub is
/// answered with the service error `UnsupportedOperation.NoStub`, naming
/// it; a request that does not decode as the stub's type with
/// `InvalidParameter.Stub`. Answers carry a request id when the stub's has
/// none.
#[derive(Clone, Default)]
pub struct Stubs {
    stubs: Arc<HashMap<(String, String, String), Arc<Stub>>>,
    answered: Arc<AtomicU64>,
}

impl Stubs {
    /// No stubs: every call is answered `UnsupportedOperation.NoStub`.
    pub fn new() -> Self {
        Stubs::default()
    }

    /// Answers action `A` with `answer(request)`: the response it gives,
    /// or the service error (its request id filled in when empty).
    pub fn on<A>(
        mut self,
        answer: impl Fn(&A) -> Result<A::Response, ServiceError> + Send + Sync + 'static,
    ) -> Self
    where
        A: Action + DeserializeOwned,
        A::Response: Serialize,
    {
        let handler = move |body: &[u8]| -> Result<Value, StubError> {
            let request: A = serde_json::from_slice(body)
                .map_err(|e| StubError::Undecodable(format!("the request is not a {}: {e}", A::NAME)))?;
            let response = answer(&request).map_err(StubError::Service)?;
            serde_json::to_value(&response)
                .map_err(|e| StubError::Undecodable(format!("the stub's response cannot be serialized: {e}")))
        };
        let key = (A::SERVICE.to_owned(), A::VERSION.to_owned(), A::NAME.to_owned());
        Arc::make_mut(&mut self.stubs).insert(
            key,
            Arc::new(Stub {
                handler: Box::new(handler),
                calls: AtomicU64::new(0),
            }),
        );
        self
    }

    /// How many requests of action `A` the stubs answered.
    pub fn calls<A: Action>(&self) -> u64 {
        self.stubs
            .get(&(A::SERVICE.to_owned(), A::VERSION.to_owned(), A::NAME.to_owned()))
            .map_or(0, |stub| stub.calls.load(Ordering::Relaxed))
    }

    /// [`test_config`] sending through these stubs.
    pub fn config(&self) -> Config {
        test_config(self.clone())
    }

    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        let n = self.answered.fetch_add(1, Ordering::Relaxed) + 1;
        let request_id = format!("stub-{n}");
        let (service, version, action) = (
            request.service().unwrap_or_default(),
            request.header("x-tc-version").unwrap_or_default(),
            request.action().unwrap_or_default(),
        );
        let key = (service.to_owned(), version.to_owned(), action.to_owned());
        let Some(stub) = self.stubs.get(&key) else {
            return error_answer(
                "UnsupportedOperation.NoStub",
                &format!("no stub answers {service} {version} {action}"),
                &request_id,
            );
        };
        stub.calls.fetch_add(1, Ordering::Relaxed);
        match (stub.handler)(&request.body) {
            Ok(Value::Object(mut response)) => {
                let id_missing = response
                    .get("RequestId")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty);
                if id_missing {
                    response.insert("RequestId".to_owned(), request_id.into());
                }
                envelope(Value::Object(response))
            }
            Ok(other) => error_answer(
                "InternalError.Stub",
                &format!("the stub's response is not an object: {other}"),
                &request_id,
            ),
            Err(StubError::Service(e)) => {
                let id = if e.request_id().is_empty() {
                    request_id.as_str()
                } else {
                    e.request_id()
                };
                error_answer(e.code(), e.message(), id)
            }
            Err(StubError::Undecodable(reason)) => {
                error_answer("InvalidParameter.Stub", &reason, &request_id)
            }
        }
    }
}

impl HttpTransport for Stubs {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        let answer = self.answer(&request);
        Box::pin(async move { Ok(answer) })
    }
}

impl fmt::Debug for Stubs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut actions: Vec<String> = self
            .stubs
            .keys()
            .map(|(s, v, a)| format!("{s} {v} {a}"))
            .collect();
        actions.sort();
        f.debug_struct("Stubs").field("actions", &actions).finish()
    }
}

fn envelope(response: Value) -> HttpResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&serde_json::json!({ "Response": response })).unwrap_or_default();
    HttpResponse::new(200, headers, body)
}

fn error_answer(code: &str, message: &str, request_id: &str) -> HttpResponse {
    envelope(serde_json::json!({
        "Error": { "Code": code, "Message": message },
        "RequestId": request_id,
    }))
}

/// What a recorded exchange expects of the request it answers. Only what
/// is set is checked.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ExpectedRequest {
    /// `X-TC-Action`.
    pub action: Option<String>,
    /// The service of the signature's scope.
    pub service: Option<String>,
    /// `X-TC-Region`.
    pub region: Option<String>,
    /// The JSON body; compared as JSON, not as bytes.
    pub body: Option<Value>,
}

impl ExpectedRequest {
    /// A request of `action` (`X-TC-Action`).
    pub fn action(action: impl Into<String>) -> Self {
        ExpectedRequest {
            action: Some(action.into()),
            ..ExpectedRequest::default()
        }
    }

    /// Also expects the signing scope's service.
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Also expects `X-TC-Region`.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Also expects this JSON body.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// How `actual` differs from this expectation, ignoring the body's
    /// top-level members named in `ignored` (a generated `ClientToken`);
    /// empty when it matches.
    fn differences(&self, actual: &HttpRequest, ignored: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |what: &str, expected: &Option<String>, got: Option<&str>| {
            if let Some(expected) = expected {
                if got != Some(expected.as_str()) {
                    out.push(format!("{what}: expected `{expected}`, got {got:?}"));
                }
            }
        };
        check("action", &self.action, actual.action());
        check("service", &self.service, actual.service());
        check("region", &self.region, actual.region());
        if let Some(expected) = &self.body {
            let got: Value = serde_json::from_slice(&actual.body).unwrap_or(Value::Null);
            let (expected, got) = (without(expected, ignored), without(&got, ignored));
            if expected != got {
                out.push(format!("body: expected {expected}, got {got}"));
            }
        }
        out
    }
}

fn without(value: &Value, ignored: &[&str]) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(name, _)| !ignored.contains(&name.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// The answer a recorded exchange gives.
#[derive(Clone, Debug)]
pub struct RecordedResponse(Recorded);

#[derive(Clone, Debug)]
enum Recorded {
    Http { status: u16, body: Bytes },
    Failure(TransportErrorKind),
}

impl RecordedResponse {
    /// A success: `{"Response": response}`, with a request id added when
    /// `response` has none.
    pub fn ok(response: Value) -> Self {
        let mut response = match response {
            Value::Object(members) => members,
            _ => Map::new(),
        };
        response
            .entry("RequestId")
            .or_insert_with(|| Value::from("replay"));
        Self::raw(200, serde_json::json!({ "Response": response }).to_string())
    }

    /// A service error with `code` and `message`.
    pub fn error(code: &str, message: &str) -> Self {
        let body = serde_json::json!({
            "Response": { "Error": { "Code": code, "Message": message }, "RequestId": "replay" }
        });
        Self::raw(200, body.to_string())
    }

    /// Any status and body, as received (an HTML error page, say).
    pub fn raw(status: u16, body: impl Into<Bytes>) -> Self {
        RecordedResponse(Recorded::Http {
            status,
            body: body.into(),
        })
    }

    /// No answer: the attempt fails with a transport error of `kind`.
    pub fn failure(kind: TransportErrorKind) -> Self {
        RecordedResponse(Recorded::Failure(kind))
    }
}

/// Answers from recorded exchanges, in order, keeping every request it
/// received for [`ReplayTransport::assert_requests_match`]. Clones share
/// the recording. A request past the last exchange fails as a transport
/// error (kind `Other`, which is never retried).
#[derive(Clone, Debug)]
pub struct ReplayTransport {
    inner: Arc<Replay>,
}

#[derive(Debug)]
struct Replay {
    expected: Vec<ExpectedRequest>,
    answers: Mutex<VecDeque<RecordedResponse>>,
    received: Mutex<Vec<HttpRequest>>,
}

impl ReplayTransport {
    /// Answers the n-th request with the n-th exchange's response.
    pub fn new(exchanges: impl IntoIterator<Item = (ExpectedRequest, RecordedResponse)>) -> Self {
        let (expected, answers): (Vec<_>, VecDeque<_>) = exchanges.into_iter().unzip();
        ReplayTransport {
            inner: Arc::new(Replay {
                expected,
                answers: Mutex::new(answers),
                received: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.inner
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How the requests received differ from the exchanges' expectations
    /// (ignoring the body members named in `ignored_members`, such as a
    /// generated `ClientToken`), including a count that differs; empty
    /// when they match.
    pub fn mismatches(&self, ignored_members: &[&str]) -> Vec<String> {
        let received = self.requests();
        let mut out = Vec::new();
        for (i, (expected, actual)) in self.inner.expected.iter().zip(&received).enumerate() {
            for difference in expected.differences(actual, ignored_members) {
                out.push(format!("request {}: {difference}", i + 1));
            }
        }
        if received.len() != self.inner.expected.len() {
            out.push(format!(
                "{} requests recorded, {} received",
                self.inner.expected.len(),
                received.len()
            ));
        }
        out
    }

    /// Panics, listing every difference, unless the requests received are
    /// the ones recorded (see [`ReplayTransport::mismatches`]). For tests.
    #[track_caller]
    pub fn assert_requests_match(&self, ignored_members: &[&str]) {
        let mismatches = self.mismatches(ignored_members);
        assert!(
            mismatches.is_empty(),
            "the replayed requests differ:\n{}",
            mismatches.join("\n")
        );
    }
}

impl HttpTransport for ReplayTransport {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        let answer = self
            .inner
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        self.inner
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
        Box::pin(async move {
            match answer {
                Some(RecordedResponse(Recorded::Http { status, body })) => {
                    Ok(HttpResponse::new(status, HeaderMap::new(), body))
                }
                Some(RecordedResponse(Recorded::Failure(kind))) => {
                    Err(TransportError::new(kind, "a recorded transport failure".into()))
                }
                None => Err(TransportError::new(
                    TransportErrorKind::Other,
                    "the replay has no recorded exchange left for this request".into(),
                )),
            }
        })
    }
}
