//! Hooks around every attempt, for metrics, tracing headers and the like.

use std::fmt;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::TransportErrorKind;

/// Called around every attempt of every call of a client
/// ([`Config::with_interceptor`](super::Config::with_interceptor)), in the
/// order added. Hooks run on the caller's task: keep them short and never
/// block.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use tencentcloud_runtime::{AttemptOutcome, Interceptor, OutgoingRequest};
///
/// #[derive(Default)]
/// struct Metrics { attempts: AtomicU64 }
///
/// impl Interceptor for Metrics {
///     fn before_send(&self, request: &mut OutgoingRequest<'_>) {
///         let _ = request.insert_header("X-Trace-Id", "4bf92f3577b34da6");
///     }
///     fn after_attempt(&self, outcome: &AttemptOutcome<'_>) {
///         self.attempts.fetch_add(1, Ordering::Relaxed);
///         println!("{} #{}: {:?} in {:?}", outcome.action(), outcome.attempt(), outcome.status(), outcome.elapsed());
///     }
/// }
/// ```
pub trait Interceptor: Send + Sync + 'static {
    /// After signing, before sending: may add headers (not signed).
    fn before_send(&self, request: &mut OutgoingRequest<'_>) {
        let _ = request;
    }

    /// After the attempt's answer was read (or the attempt failed without one).
    fn after_attempt(&self, outcome: &AttemptOutcome<'_>) {
        let _ = outcome;
    }
}

/// Lets a caller keep a handle on an interceptor it added (to read its
/// counters, say).
impl<T: Interceptor> Interceptor for std::sync::Arc<T> {
    fn before_send(&self, request: &mut OutgoingRequest<'_>) {
        (**self).before_send(request)
    }

    fn after_attempt(&self, outcome: &AttemptOutcome<'_>) {
        (**self).after_attempt(outcome)
    }
}

/// Headers the runtime sets and signs or that the HTTP stack owns:
/// interceptors may not replace them.
const RESERVED: [&str; 11] = [
    "authorization",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "x-tc-action",
    "x-tc-version",
    "x-tc-timestamp",
    "x-tc-region",
    "x-tc-token",
    "x-tc-language",
];

/// A request about to be sent, as [`Interceptor::before_send`] sees it.
pub struct OutgoingRequest<'a> {
    pub(crate) service: &'a str,
    pub(crate) action: &'a str,
    pub(crate) version: &'a str,
    pub(crate) attempt: u32,
    pub(crate) headers: &'a mut HeaderMap,
}

impl OutgoingRequest<'_> {
    /// Service short name (`cvm`).
    pub fn service(&self) -> &str {
        self.service
    }

    /// Action name (`StartInstances`).
    pub fn action(&self) -> &str {
        self.action
    }

    /// API version (`2017-03-12`).
    pub fn version(&self) -> &str {
        self.version
    }

    /// 1 for the first request of a call, 2 for the next...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Adds a header (replacing one of the same name an earlier
    /// interceptor added). Refused for a name or value HTTP does not allow,
    /// and for the headers the runtime sets (`Authorization`, `Content-Type`,
    /// `Host`, `X-TC-Action`, `X-TC-Timestamp`, `X-TC-Token`...).
    pub fn insert_header(&mut self, name: &str, value: &str) -> Result<(), HeaderError> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| HeaderError::InvalidName)?;
        if RESERVED.contains(&name.as_str()) {
            return Err(HeaderError::Reserved);
        }
        let value = HeaderValue::from_str(value).map_err(|_| HeaderError::InvalidValue)?;
        self.headers.insert(name, value);
        Ok(())
    }
}

impl fmt::Debug for OutgoingRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("service", &self.service)
            .field("action", &self.action)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// Why [`OutgoingRequest::insert_header`] refused a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    #[error("not a valid header name")]
    InvalidName,
    #[error("not a valid header value")]
    InvalidValue,
    #[error("set by the runtime; interceptors may not replace it")]
    Reserved,
}

/// What one attempt came to, as [`Interceptor::after_attempt`] sees it.
pub struct AttemptOutcome<'a> {
    pub(crate) service: &'a str,
    pub(crate) action: &'a str,
    pub(crate) attempt: u32,
    pub(crate) elapsed: Duration,
    pub(crate) status: Option<u16>,
    pub(crate) headers: Option<&'a HeaderMap>,
    pub(crate) request_id: Option<&'a str>,
    pub(crate) code: Option<&'a str>,
    pub(crate) transport_error: Option<TransportErrorKind>,
}

impl AttemptOutcome<'_> {
    /// Service short name (`cvm`).
    pub fn service(&self) -> &str {
        self.service
    }

    /// Action name (`StartInstances`).
    pub fn action(&self) -> &str {
        self.action
    }

    /// 1 for the first request of a call, 2 for the next...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// From just before sending to the end of reading the answer.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The HTTP status, when an answer arrived.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// A response header's value, when an answer arrived and the header is
    /// there as visible ASCII (server text: do not trust it).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers?.get(name)?.to_str().ok()
    }

    /// The response's header names, in the order received.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers
            .into_iter()
            .flat_map(|h| h.keys().map(HeaderName::as_str))
    }

    /// The `RequestId` of the answer, when it was an API envelope.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id
    }

    /// The service's error code, when it answered with one.
    pub fn error_code(&self) -> Option<&str> {
        self.code
    }

    /// The transport failure that ended the attempt, if one did.
    pub fn transport_error(&self) -> Option<TransportErrorKind> {
        self.transport_error
    }
}

impl fmt::Debug for AttemptOutcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptOutcome")
            .field("service", &self.service)
            .field("action", &self.action)
            .field("attempt", &self.attempt)
            .field("elapsed", &self.elapsed)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("code", &self.code)
            .field("transport_error", &self.transport_error)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interceptors_cannot_replace_what_the_runtime_sets() {
        let mut headers = HeaderMap::new();
        let mut request = OutgoingRequest {
            service: "cvm",
            action: "Ping",
            version: "2017-03-12",
            attempt: 1,
            headers: &mut headers,
        };
        assert_eq!(request.insert_header("X-Trace-Id", "abc"), Ok(()));
        assert_eq!(
            request.insert_header("Authorization", "x"),
            Err(HeaderError::Reserved)
        );
        assert_eq!(
            request.insert_header("X-TC-Token", "x"),
            Err(HeaderError::Reserved)
        );
        assert_eq!(request.insert_header("HOST", "x"), Err(HeaderError::Reserved));
        assert_eq!(
            request.insert_header("bad name", "x"),
            Err(HeaderError::InvalidName)
        );
        assert_eq!(
            request.insert_header("X-Ok", "a\nb"),
            Err(HeaderError::InvalidValue)
        );
        assert_eq!(headers.len(), 1);
        assert_eq!(headers["x-trace-id"], "abc");
    }
}
