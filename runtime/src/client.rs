//! The generic call path: validate, serialize, sign, send, decode.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use signer::{Payload, Signer, SigningRequest};
use tracing::Instrument;

use super::error::Escaped;
use super::{
    Action, Config, ConfigError, Error, ServiceError, TransportError, TransportErrorKind, ValidationError,
    Violation,
};

/// Signed and sent byte for byte: the two must not drift apart.
const CONTENT_TYPE_JSON: &str = "application/json";

/// Longest body kept in [`Error::InvalidResponse`]; the rest is cut.
const MAX_BODY_IN_ERROR: usize = 64 * 1024;

const USER_AGENT: &str = concat!("cvm-api-rust/", env!("CARGO_PKG_VERSION"));

const X_TC_ACTION: HeaderName = HeaderName::from_static("x-tc-action");
const X_TC_VERSION: HeaderName = HeaderName::from_static("x-tc-version");
const X_TC_TIMESTAMP: HeaderName = HeaderName::from_static("x-tc-timestamp");
const X_TC_REGION: HeaderName = HeaderName::from_static("x-tc-region");
const X_TC_TOKEN: HeaderName = HeaderName::from_static("x-tc-token");
const X_TC_LANGUAGE: HeaderName = HeaderName::from_static("x-tc-language");

/// The shared, service-independent client: one configuration, one
/// credential, one connection pool. Service crates make their clients from
/// it (`cvm_api::Client::new(&shared)`).
///
/// Cheap to clone (an `Arc` inside); clones share the pool and the signer's
/// key cache, so make one and clone it rather than making many.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: reqwest::Client,
    signer: Signer,
    /// Header values built once; the token is marked sensitive so the HTTP
    /// stack never prints it.
    region: Option<HeaderValue>,
    language: Option<HeaderValue>,
    token: Option<HeaderValue>,
}

impl Client {
    /// A client for `config`, after [`Config::validate`].
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let header = |value: &str, what: &'static str| {
            HeaderValue::from_str(value).map_err(|_| ConfigError::Invalid {
                what,
                reason: "contains characters not allowed in an HTTP header".to_owned(),
            })
        };
        let region = config.region().map(|r| header(r, "region")).transpose()?;
        let language = config.language().map(|l| header(l, "language")).transpose()?;
        let token = match config.credentials().session_token() {
            Some(t) => {
                let mut value = header(t, "session token")?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            // The API never redirects. Following one would resend the signed
            // body and the session token to whatever host `Location` names,
            // and report that host's answer as the service's.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout())
            .connect_timeout(config.connect_timeout())
            .user_agent(USER_AGENT)
            .build()
            .map_err(ConfigError::HttpClient)?;
        let credentials = config.credentials();
        let signer = Signer::new(credentials.secret_id(), credentials.secret_key().clone());
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                http,
                signer,
                region,
                language,
                token,
            }),
        })
    }

    /// [`Client::new`] with [`Config::from_env`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Client::new(Config::from_env()?)
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Calls action `A`: checks the request ([`Error::InvalidRequest`], and
    /// nothing is sent), signs it with TC3-HMAC-SHA256, POSTs it as JSON and
    /// decodes the answer into `A::Response` or `A::Error`.
    pub async fn send<A: Action>(&self, request: &A) -> Result<A::Response, Error<A::Error>> {
        self.send_with(request, &CallOptions::default()).await
    }

    /// [`Client::send`] with `options` overriding the client's settings for this call.
    pub async fn send_with<A: Action>(
        &self,
        request: &A,
        options: &CallOptions,
    ) -> Result<A::Response, Error<A::Error>> {
        let span = tracing::debug_span!(
            "tencentcloud",
            action = A::NAME,
            service = A::SERVICE,
            version = A::VERSION
        );
        async {
            if let Err(e) = request.check() {
                tracing::debug!(error = %e, "request refused before sending");
                return Err(Error::InvalidRequest(e));
            }
            if A::NEEDS_REGION && self.inner.region.is_none() {
                let e = ValidationError {
                    violations: vec![Violation {
                        field: "region".to_owned(),
                        problem: format!(
                            "is required by {}: set TENCENTCLOUD_REGION or use Config::with_region (e.g. ap-guangzhou)",
                            A::NAME
                        ),
                    }],
                };
                tracing::debug!(error = %e, "request refused before sending");
                return Err(Error::InvalidRequest(e));
            }
            let call = Call {
                service: A::SERVICE,
                action: A::NAME,
                version: A::VERSION,
            };
            self.round_trip(call, request, options)
                .await
                .map_err(Failure::into_error)
        }
        .instrument(span)
        .await
    }

    /// Calls any action by name, for actions this crate does not describe:
    /// `request` is sent as the JSON body as is (no client-side checks) and
    /// the `Response` object is decoded into `Resp`. Prefer the typed methods.
    pub async fn call<Req, Resp>(
        &self,
        service: &str,
        version: &str,
        action: &str,
        request: &Req,
    ) -> Result<Resp, Error<ServiceError>>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let span = tracing::debug_span!("tencentcloud", action, service, version);
        self.round_trip(
            Call {
                service,
                action,
                version,
            },
            request,
            &CallOptions::default(),
        )
        .instrument(span)
        .await
        .map_err(Failure::into_error)
    }

    async fn round_trip<Req, Resp>(
        &self,
        call: Call<'_>,
        request: &Req,
        options: &CallOptions,
    ) -> Result<Resp, Failure>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = serde_json::to_vec(request)
            .map_err(|e| Failure::request("", format!("cannot be serialized as JSON: {e}")))?;
        let started = Instant::now();
        let reply = self.execute(call, body, options).await?;
        let response = reply.open(started)?;
        let mut de = serde_json::Deserializer::from_str(response.get());
        serde_path_to_error::deserialize(&mut de)
            .map_err(|e| reply.invalid(format!("cannot decode the `Response` object: {e}")))
    }

    /// Signs and sends one request; the non-generic part of every call.
    async fn execute(&self, call: Call<'_>, body: Vec<u8>, options: &CallOptions) -> Result<Reply, Failure> {
        let inner = &*self.inner;
        let target = inner
            .config
            .endpoint()
            .target(call.service, inner.config.region())
            .map_err(|reason| Failure::request("service", reason))?;
        let action = header_value(call.action).map_err(|reason| Failure::request("action", reason))?;
        let version = header_value(call.version).map_err(|reason| Failure::request("version", reason))?;

        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let authorization = inner.signer.authorization(&SigningRequest {
            method: "POST",
            host: &target.host,
            query: "",
            content_type: CONTENT_TYPE_JSON,
            payload: Payload::Bytes(&body),
            service: call.service,
            timestamp,
            // Signed so that a captured request cannot be replayed as another action.
            action: Some(call.action),
        });
        let mut authorization = HeaderValue::from_str(&authorization)
            .map_err(|_| Failure::request("secret id", "cannot be sent in an HTTP header".to_owned()))?;
        authorization.set_sensitive(true);

        let mut headers = HeaderMap::with_capacity(10);
        headers.insert(X_TC_ACTION, action);
        headers.insert(X_TC_VERSION, version);
        headers.insert(X_TC_TIMESTAMP, HeaderValue::from(timestamp));
        if let Some(region) = &inner.region {
            headers.insert(X_TC_REGION, region.clone());
        }
        if let Some(token) = &inner.token {
            headers.insert(X_TC_TOKEN, token.clone());
        }
        if let Some(language) = &inner.language {
            headers.insert(X_TC_LANGUAGE, language.clone());
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
        headers.insert(AUTHORIZATION, authorization);
        // No explicit Host: the HTTP client derives it from the URL exactly as
        // `target.host` was (host plus non-default port), and setting it too
        // would duplicate `:authority` on HTTP/2.

        tracing::debug!(url = %target.url, bytes = body.len(), "sending request");
        let mut builder = inner.http.post(target.url).headers(headers).body(body);
        if let Some(timeout) = options.timeout {
            builder = builder.timeout(timeout);
        }
        let mut response = builder.send().await.map_err(Failure::transport)?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response.headers().get(LOCATION).map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(512)
                    .collect::<String>()
            });
            let reason = match &location {
                Some(to) => format!(
                    "redirect to `{}` refused: the API never redirects, and nothing was sent there",
                    Escaped(to)
                ),
                None => "redirect refused: the API never redirects".to_owned(),
            };
            tracing::debug!(status, location, "redirect refused");
            // The body is not read: whatever it says is not the service's answer.
            return Err(Failure::Invalid {
                status,
                body: String::new(),
                reason,
            });
        }
        let limit = inner.config.max_response_bytes();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Failure::transport)? {
            if body.len() + chunk.len() > limit {
                body.extend_from_slice(&chunk[..limit - body.len()]);
                let reply = Reply { status, body };
                return Err(reply.invalid(format!("the body is longer than {limit} bytes; not read further")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply { status, body })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Settings that override the client's for one call (or for every call of
/// a service client made with `with_options`). `Default` overrides nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// Time allowed for the request and its whole answer, instead of
    /// [`Config::timeout`].
    pub timeout: Option<std::time::Duration>,
}

impl CallOptions {
    /// Overrides nothing.
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Sets [`CallOptions::timeout`].
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// What the runtime needs to know about one action.
#[derive(Clone, Copy)]
struct Call<'a> {
    service: &'a str,
    action: &'a str,
    version: &'a str,
}

fn header_value(value: &str) -> Result<HeaderValue, String> {
    if value.is_empty() {
        return Err("is empty".to_owned());
    }
    HeaderValue::from_str(value).map_err(|_| format!("`{value}` cannot be sent in an HTTP header"))
}

/// An answer as received.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

/// `{"Response": {...}}`, the object kept unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Response", borrow)]
    response: Option<&'a RawValue>,
}

/// The members of `Response` every answer has.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "Error")]
    error: Option<ErrorBody>,
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

impl Reply {
    /// The `Response` object of a success envelope; a service error or a
    /// broken envelope otherwise.
    fn open(&self, started: Instant) -> Result<&RawValue, Failure> {
        let outcome = self.open_inner();
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &outcome {
            Ok((_, request_id)) => tracing::debug!(status = self.status, request_id, elapsed_ms, "success"),
            Err(Failure::Service(e)) => tracing::debug!(
                status = self.status,
                request_id = e.request_id(),
                code = e.code(),
                elapsed_ms,
                "service error"
            ),
            Err(Failure::Invalid { reason, .. }) => {
                tracing::debug!(status = self.status, reason = %reason, elapsed_ms, "invalid response")
            }
            Err(_) => {}
        }
        outcome.map(|(raw, _)| raw)
    }

    fn open_inner(&self) -> Result<(&RawValue, String), Failure> {
        // Serde also accepts a struct written as an array: require objects.
        if !self.body.trim_ascii_start().starts_with(b"{") {
            return Err(self.invalid("the body is not a JSON object".to_owned()));
        }
        let envelope: Envelope<'_> = serde_json::from_slice(&self.body)
            .map_err(|e| self.invalid(format!("the body is not a JSON object: {e}")))?;
        let response = envelope
            .response
            .ok_or_else(|| self.invalid("the body has no `Response` member".to_owned()))?;
        if !response.get().starts_with('{') {
            return Err(self.invalid("the `Response` member is malformed: not an object".to_owned()));
        }
        let head: Head = serde_json::from_str(response.get())
            .map_err(|e| self.invalid(format!("the `Response` member is malformed: {e}")))?;
        let request_id = head
            .request_id
            .ok_or_else(|| self.invalid("the `Response` object has no `RequestId`".to_owned()))?;
        if let Some(error) = head.error {
            return Err(Failure::Service(ServiceError::new(
                error.code,
                error.message.unwrap_or_default(),
                request_id,
            )));
        }
        if !(200..300).contains(&self.status) {
            return Err(self.invalid(format!(
                "HTTP status {} without an `Error` in the `Response`",
                self.status
            )));
        }
        Ok((response, request_id))
    }

    fn invalid(&self, reason: String) -> Failure {
        Failure::Invalid {
            status: self.status,
            body: body_excerpt(&self.body),
            reason,
        }
    }
}

/// The body as text, cut after [`MAX_BODY_IN_ERROR`] bytes (at a character
/// boundary) with a note saying so.
fn body_excerpt(body: &[u8]) -> String {
    if body.len() <= MAX_BODY_IN_ERROR {
        return String::from_utf8_lossy(body).into_owned();
    }
    let mut end = MAX_BODY_IN_ERROR;
    // Back off over UTF-8 continuation bytes (at most 3) so as not to split
    // a character; `body[end]` exists because `body.len() > end`.
    while end > MAX_BODY_IN_ERROR - 3 && body[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    format!(
        "{}... [truncated: first {end} of {} bytes shown]",
        String::from_utf8_lossy(&body[..end]),
        body.len()
    )
}

/// A failed call before the action's error type is known.
enum Failure {
    Request(ValidationError),
    Transport(TransportError),
    Service(ServiceError),
    Invalid {
        status: u16,
        body: String,
        reason: String,
    },
}

impl Failure {
    fn request(field: &str, problem: String) -> Self {
        Failure::Request(ValidationError {
            violations: vec![Violation {
                field: field.to_owned(),
                problem,
            }],
        })
    }

    fn transport(e: reqwest::Error) -> Self {
        let e = TransportError::new(transport_kind(&e), Box::new(e));
        tracing::debug!(error = %e, "transport error");
        Failure::Transport(e)
    }

    fn into_error<E: From<ServiceError>>(self) -> Error<E> {
        match self {
            Failure::Request(e) => Error::InvalidRequest(e),
            Failure::Transport(e) => Error::Transport(e),
            Failure::Service(e) => Error::Service(E::from(e)),
            Failure::Invalid { status, body, reason } => Error::InvalidResponse { status, body, reason },
        }
    }
}

/// Sorts a reqwest failure into the kinds callers act on.
fn transport_kind(e: &reqwest::Error) -> TransportErrorKind {
    if e.is_timeout() {
        return TransportErrorKind::Timeout;
    }
    if e.is_connect() {
        return TransportErrorKind::Connect;
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = next {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return TransportErrorKind::Reset;
            }
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed() {
                return TransportErrorKind::Reset;
            }
        }
        next = cause.source();
    }
    TransportErrorKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    fn reason(f: Failure) -> String {
        match f {
            Failure::Invalid { reason, .. } => reason,
            Failure::Service(e) => format!("service error {e}"),
            _ => "other".to_owned(),
        }
    }

    #[test]
    fn envelopes() {
        let now = Instant::now();
        let ok = reply(200, r#"{"Response":{"RequestId":"r1","X":1}}"#);
        assert_eq!(
            ok.open(now).ok().map(RawValue::get),
            Some(r#"{"RequestId":"r1","X":1}"#)
        );

        let err = reply(
            400,
            r#"{"Response":{"Error":{"Code":"A.B","Message":"m"},"RequestId":"r2"}}"#,
        );
        assert_eq!(
            reason(err.open(now).unwrap_err()),
            "service error A.B: m (request id r2)"
        );
        let null_error = reply(200, r#"{"Response":{"Error":null,"RequestId":"r3"}}"#);
        assert!(null_error.open(now).is_ok());

        for (status, body, expected) in [
            (502, "<html>bad gateway</html>", "the body is not a JSON object"),
            (200, "[1]", "the body is not a JSON object"),
            (200, r#"{"Data":{}}"#, "the body has no `Response` member"),
            (200, r#"{"Response":[]}"#, "the `Response` member is malformed"),
            (
                200,
                r#"{"Response":[null,"r"]}"#,
                "the `Response` member is malformed",
            ),
            (200, r#"{"Response":null}"#, "the body has no `Response` member"),
            (
                200,
                r#"{"Response":{"X":1}}"#,
                "the `Response` object has no `RequestId`",
            ),
            (
                200,
                r#"{"Response":{"RequestId":7}}"#,
                "the `Response` member is malformed",
            ),
            (
                200,
                r#"{"Response":{"Error":{"Message":"m"},"RequestId":"r"}}"#,
                "the `Response` member is malformed",
            ),
            (
                503,
                r#"{"Response":{"RequestId":"r"}}"#,
                "HTTP status 503 without an `Error`",
            ),
        ] {
            let got = reason(reply(status, body).open(now).unwrap_err());
            assert!(got.starts_with(expected), "{body}: {got}");
        }
    }

    #[test]
    fn long_bodies_are_cut_at_a_character_boundary() {
        assert_eq!(body_excerpt(b"short"), "short");
        let mut body = vec![b'a'; MAX_BODY_IN_ERROR - 1];
        body.extend_from_slice("é".repeat(1000).as_bytes());
        let excerpt = body_excerpt(&body);
        assert!(!excerpt.contains('\u{FFFD}'));
        assert!(excerpt.ends_with(&format!(
            "... [truncated: first {} of {} bytes shown]",
            MAX_BODY_IN_ERROR - 1,
            body.len()
        )));
    }
}
