//! The seam between the attempt loop and HTTP. The runtime builds, signs
//! and classifies; a transport only moves one request and its answer.
//! reqwest is the default ([`ReqwestTransport`], feature `reqwest`); a user
//! may plug another ([`Config::with_transport`](crate::Config::with_transport)),
//! and tests use the doubles in [`crate::test_util`] (feature `test-util`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{Stream, StreamExt};
use http::{HeaderMap, Method};
use url::Url;

use crate::TransportError;

#[cfg(feature = "reqwest")]
mod reqwest_transport;
#[cfg(feature = "reqwest")]
pub use reqwest_transport::ReqwestTransport;

/// The SDK and its version: the HTTP client's `User-Agent`, which each call
/// completes with the service and API version it calls.
pub(crate) const SDK_USER_AGENT: &str = concat!("tencentcloud-sdk-rust/", env!("CARGO_PKG_VERSION"));

/// What a transport's [`send`](HttpTransport::send) returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

/// Sends one HTTP request and returns its answer, as received.
///
/// The runtime does everything else: signing, retries, the deadline, the
/// size cap on the body (it reads [`ResponseBody`] chunk by chunk), and
/// refusing redirects. A transport must not follow redirects itself: the
/// signed body and session token would go to whatever host `Location`
/// names. Failures are [`TransportError`]s of the right
/// [`kind`](crate::TransportErrorKind): `Connect` only when nothing was
/// sent, since the retry policy repeats those even for calls that are not
/// safe to repeat.
pub trait HttpTransport: Send + Sync + fmt::Debug + 'static {
    /// Sends `request`. The runtime drops the exchange (and reports a
    /// timeout) once `request.timeout` has passed, whether or not the
    /// transport gives up by itself.
    fn send(&self, request: HttpRequest) -> TransportFuture<'_>;
}

impl<T: HttpTransport> HttpTransport for std::sync::Arc<T> {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        (**self).send(request)
    }
}

/// One request as the runtime built it: signed, ready to send.
///
/// `Debug` shows the body's length, not the body: a body can be a
/// credential (STS `AssumeRoleWithWebIdentity` carries the OIDC token in
/// it) or hold passwords.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpRequest {
    /// `POST` for API calls.
    pub method: Method,
    /// Where to send it; its host is the one that was signed.
    pub url: Url,
    /// Every header to send (`Authorization` is marked sensitive, so
    /// `Debug` does not show it). No `Host`: it follows from `url`.
    pub headers: HeaderMap,
    /// The JSON body, byte for byte as signed.
    pub body: Bytes,
    /// Time allowed for this attempt, connect to last byte.
    pub timeout: Duration,
}

impl HttpRequest {
    /// The `X-TC-Action` header, when present and text.
    pub fn action(&self) -> Option<&str> {
        self.header("x-tc-action")
    }

    /// The `X-TC-Region` header, when present and text.
    pub fn region(&self) -> Option<&str> {
        self.header("x-tc-region")
    }

    /// The service named by the signature's credential scope
    /// (`Credential=<id>/<date>/<service>/tc3_request`), when signed.
    pub fn service(&self) -> Option<&str> {
        let authorization = self.header("authorization")?;
        let credential = authorization.split("Credential=").nth(1)?;
        credential.split([',', ' ']).next()?.split('/').nth(2)
    }

    /// The value of header `name`, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body", &format_args!("{} bytes", self.body.len()))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// An answer as received: status, headers, and a body read by the runtime.
#[derive(Debug)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The body, read in chunks.
    pub body: ResponseBody,
}

impl HttpResponse {
    /// An answer with `status`, `headers` and `body`.
    pub fn new(status: u16, headers: HeaderMap, body: impl Into<ResponseBody>) -> Self {
        HttpResponse {
            status,
            headers,
            body: body.into(),
        }
    }
}

/// A response body: whole, or a stream of chunks that the runtime reads
/// only up to [`Config::max_response_bytes`](crate::Config::max_response_bytes).
pub struct ResponseBody(BodyKind);

enum BodyKind {
    Whole(Option<Bytes>),
    Stream(Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>),
}

impl ResponseBody {
    /// A body already in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        ResponseBody(BodyKind::Whole(Some(bytes.into())))
    }

    /// A body arriving in chunks.
    pub fn from_stream(stream: impl Stream<Item = Result<Bytes, TransportError>> + Send + 'static) -> Self {
        ResponseBody(BodyKind::Stream(Box::pin(stream)))
    }

    /// The next chunk; `None` at the end.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, TransportError>> {
        match &mut self.0 {
            BodyKind::Whole(bytes) => bytes.take().map(Ok),
            BodyKind::Stream(stream) => stream.next().await,
        }
    }
}

impl From<Bytes> for ResponseBody {
    fn from(bytes: Bytes) -> Self {
        ResponseBody::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for ResponseBody {
    fn from(bytes: Vec<u8>) -> Self {
        ResponseBody::from_bytes(bytes)
    }
}

impl From<String> for ResponseBody {
    fn from(text: String) -> Self {
        ResponseBody::from_bytes(text)
    }
}

impl From<&'static str> for ResponseBody {
    fn from(text: &'static str) -> Self {
        ResponseBody::from_bytes(Bytes::from_static(text.as_bytes()))
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            BodyKind::Whole(Some(bytes)) => write!(f, "ResponseBody({} bytes)", bytes.len()),
            BodyKind::Whole(None) => f.write_str("ResponseBody(read)"),
            BodyKind::Stream(_) => f.write_str("ResponseBody(stream)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&'static str, &str)]) -> HttpRequest {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        HttpRequest {
            method: Method::POST,
            url: Url::parse("https://cvm.tencentcloudapi.com/").unwrap(),
            headers: map,
            body: Bytes::new(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_request_names_its_action_region_and_service() {
        let r = request(&[
            ("x-tc-action", "StartInstances"),
            ("x-tc-region", "ap-guangzhou"),
            (
                "authorization",
                "TC3-HMAC-SHA256 Credential=AKID/2026-12-06/cvm/tc3_request, SignedHeaders=content-type;host, Signature=00",
            ),
        ]);
        assert_eq!(r.action(), Some("StartInstances"));
        assert_eq!(r.region(), Some("ap-guangzhou"));
        assert_eq!(r.service(), Some("cvm"));
        let unsigned = request(&[("authorization", "SKIP")]);
        assert_eq!(unsigned.service(), None);
        assert_eq!(unsigned.action(), None);
    }

    #[tokio::test]
    async fn bodies_give_their_chunks_once() {
        let mut whole = ResponseBody::from("abc");
        assert_eq!(whole.next_chunk().await.unwrap().unwrap(), "abc");
        assert!(whole.next_chunk().await.is_none());
        let chunks = futures::stream::iter([Ok(Bytes::from("a")), Ok(Bytes::from("b"))]);
        let mut streamed = ResponseBody::from_stream(chunks);
        assert_eq!(streamed.next_chunk().await.unwrap().unwrap(), "a");
        assert_eq!(streamed.next_chunk().await.unwrap().unwrap(), "b");
        assert!(streamed.next_chunk().await.is_none());
    }
}
