//! What can go wrong with a call, kept apart by who said no.

use std::fmt;

use super::display::{after_attempts, Escaped};
use super::{CredentialsError, ValidationError};

/// The service answered with an error envelope:
/// `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`.
///
/// Two service errors are equal when code, message and request id are;
/// the number of attempts is not compared.
#[derive(Debug, Clone)]
pub struct ServiceError {
    code: String,
    message: String,
    request_id: String,
    attempts: u32,
}

impl PartialEq for ServiceError {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.message == other.message && self.request_id == other.request_id
    }
}

impl Eq for ServiceError {}

impl ServiceError {
    pub fn new(code: impl Into<String>, message: impl Into<String>, request_id: impl Into<String>) -> Self {
        ServiceError {
            code: code.into(),
            message: message.into(),
            request_id: request_id.into(),
            attempts: 1,
        }
    }

    /// Requests sent in the call that ended with this error (retries and a
    /// clock-skew correction included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }

    /// `RequestLimitExceeded` or one of its sub-codes: the caller sent more
    /// requests than its quota allows; slowing down helps.
    pub fn is_throttling(&self) -> bool {
        is_code_or_sub_code(&self.code, "RequestLimitExceeded")
    }

    /// `InternalError` or one of its sub-codes: the service failed, and the
    /// same request may succeed later.
    pub fn is_internal_error(&self) -> bool {
        is_code_or_sub_code(&self.code, "InternalError")
    }

    /// The code exactly as sent, e.g. `InvalidInstanceId.NotFound`.
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Quote this when asking Tencent Cloud support about a failure.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// `code` is `base` or `base.<anything>`.
fn is_code_or_sub_code(code: &str, base: &str) -> bool {
    code.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// One line, whatever the server sent: code, message and request id are
/// server text, so control characters (ESC sequences, CR/LF) are escaped and
/// cannot rewrite the terminal or forge log lines. The accessors return the
/// text as sent. Ends with `(after N attempts)` when the call sent more
/// than one request.
impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (request id {})",
            Escaped(&self.code),
            Escaped(&self.message),
            Escaped(&self.request_id)
        )?;
        after_attempts(f, self.attempts)
    }
}

/// Implemented by every action's error enum (`StartInstancesError`...) and
/// by [`ServiceError`] itself: the service error it carries, so that
/// [`Error::code`], [`Error::is_throttling`] and the like work for every
/// action without matching on its variants.
pub trait ActionError {
    /// Code, message and request id as received.
    fn service_error(&self) -> &ServiceError;
}

impl ActionError for ServiceError {
    fn service_error(&self) -> &ServiceError {
        self
    }
}

/// What kind of transport failure ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection was made (refused, unreachable, DNS, TLS handshake):
    /// the request was certainly not processed.
    Connect,
    /// The configured timeout elapsed; the service may have received and
    /// processed the request.
    Timeout,
    /// The connection broke (reset, closed early) after it was made; the
    /// service may have processed the request.
    Reset,
    /// Anything else (e.g. a malformed HTTP answer).
    Other,
}

impl TransportErrorKind {
    fn describe(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "cannot connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Reset => "connection lost",
            TransportErrorKind::Other => "transport error",
        }
    }
}

/// The request could not be delivered or its answer did not arrive.
///
/// `Display` gives the kind and the whole cause chain on one line
/// (`cannot connect: error sending request for url (...): ... Connection
/// refused (os error 111)`); [`std::error::Error::source`] gives the chain.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Box<dyn std::error::Error + Send + Sync>,
    attempts: u32,
}

impl TransportError {
    /// A failure of `kind`, caused by `source`: what a
    /// [`HttpTransport`](crate::transport::HttpTransport) returns.
    pub fn new(kind: TransportErrorKind, source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        TransportError {
            kind,
            source,
            attempts: 1,
        }
    }

    /// What kind of failure this was.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Requests sent in the call that ended with this error.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }

    /// Corrects a kind the transport got wrong (see where it is called).
    pub(crate) fn set_kind(&mut self, kind: TransportErrorKind) {
        self.kind = kind;
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind.describe(), Causes(&*self.source))?;
        after_attempts(f, self.attempts)
    }
}

/// `: <error>: <its source>...` on one line, escaped, each layer's text
/// printed only where it adds to the one before (layers tend to repeat
/// their cause's text).
pub(crate) struct Causes<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut previous = String::new();
        let mut next = Some(self.0);
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !previous.contains(&text) {
                write!(f, ": {}", Escaped(&text))?;
            }
            previous = text;
            next = cause.source();
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

impl std::error::Error for ServiceError {}

/// The error of one call. `E` is the action's own error enum, e.g.
/// `StartInstancesError`.
///
/// `Debug` leads with the `Display` line, then the variant's fields, so
/// that `fn main() -> Result<(), Box<dyn Error>>` (or `anyhow`) prints
/// what went wrong before how it is represented.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error<E> {
    /// The service said no.
    #[error(transparent)]
    Service(E),
    /// The request broke a rule from the spec and was not sent.
    #[error(transparent)]
    InvalidRequest(#[from] ValidationError),
    /// The request could not be delivered or the answer did not arrive
    /// (connection refused, DNS, TLS, timeout, reset).
    #[error(transparent)]
    Transport(TransportError),
    /// An answer arrived but is not a valid API envelope (or is a redirect,
    /// which is never followed); status and body are kept as received. Its
    /// `Display` is one line, with the body's control characters escaped and
    /// the body cut after 512 characters.
    #[error("invalid response (HTTP {status}): {reason}{}; body: {}", AfterAttempts(*.attempts), Excerpt(.body))]
    InvalidResponse {
        status: u16,
        body: String,
        reason: String,
        /// What is wrong with the answer, for code that acts on it.
        kind: InvalidResponseKind,
        /// Requests sent in the call, this one included.
        attempts: u32,
    },
    /// No usable credential: the provider failed, or its credential is
    /// expired or cannot be sent.
    #[error(transparent)]
    Credentials(CredentialsError),
    /// The client's rate limiter would have held the request past the
    /// call's deadline, so it was not sent (see
    /// [`Config::with_rate_limit`](crate::Config::with_rate_limit)).
    #[error(transparent)]
    RateLimited(RateLimitError),
}

impl<E: fmt::Debug + fmt::Display> fmt::Debug for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}\n\n")?;
        match self {
            Error::Service(e) => f.debug_tuple("Service").field(e).finish(),
            Error::InvalidRequest(e) => f.debug_tuple("InvalidRequest").field(e).finish(),
            Error::Transport(e) => f.debug_tuple("Transport").field(e).finish(),
            Error::InvalidResponse {
                status,
                body,
                reason,
                kind,
                attempts,
            } => f
                .debug_struct("InvalidResponse")
                .field("status", status)
                .field("body", body)
                .field("reason", reason)
                .field("kind", kind)
                .field("attempts", attempts)
                .finish(),
            Error::Credentials(e) => f.debug_tuple("Credentials").field(e).finish(),
            Error::RateLimited(e) => f.debug_tuple("RateLimited").field(e).finish(),
        }
    }
}

/// A request the client's rate limiter did not send: its turn would have
/// come after the call's deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitError {
    action: String,
    would_wait: std::time::Duration,
    per_second: f64,
    attempts: u32,
}

impl RateLimitError {
    pub(crate) fn new(action: &str, would_wait: std::time::Duration, per_second: f64) -> Self {
        RateLimitError {
            action: action.to_owned(),
            would_wait,
            per_second,
            attempts: 0,
        }
    }

    /// How long the request would have waited for its turn.
    pub fn would_wait(&self) -> std::time::Duration {
        self.would_wait
    }

    /// The pace it was held to, in requests per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Requests the call sent before this one was held back.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }
}

impl fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not sent: {} is paced to {:.1} requests a second by this client, and its turn would come in {} ms, past the call's deadline",
            Escaped(&self.action),
            self.per_second,
            self.would_wait.as_millis()
        )?;
        after_attempts(f, self.attempts)
    }
}

impl std::error::Error for RateLimitError {}

impl<E: ActionError> Error<E> {
    /// Requests sent in the call: 0 when it was refused before sending, more
    /// than 1 when it was retried or re-signed after a clock-skew correction.
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Service(e) => e.service_error().attempts(),
            Error::InvalidRequest(_) => 0,
            Error::Transport(e) => e.attempts(),
            Error::InvalidResponse { attempts, .. } => *attempts,
            Error::Credentials(e) => e.attempts(),
            Error::RateLimited(e) => e.attempts(),
        }
    }

    /// The service's error code (`InvalidInstanceId.NotFound`), when the
    /// service answered with one.
    pub fn code(&self) -> Option<&str> {
        self.service_error().map(ServiceError::code)
    }

    /// The request id of the service's error answer: quote it to support.
    pub fn request_id(&self) -> Option<&str> {
        self.service_error().map(ServiceError::request_id)
    }

    /// The service's error, whatever the action.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e.service_error()),
            _ => None,
        }
    }

    /// The service refused the call for exceeding a request quota
    /// (`RequestLimitExceeded` and its sub-codes).
    pub fn is_throttling(&self) -> bool {
        self.service_error().is_some_and(ServiceError::is_throttling)
    }

    /// A transient failure: the same call may succeed later. Throttling,
    /// `InternalError` (and sub-codes), connect failures, timeouts, lost
    /// connections, HTTP 5xx and answers that are not an API envelope. The
    /// client has already retried these as far as its retry policy allows;
    /// after a timeout, a lost connection, a 5xx or an internal error the
    /// service may have acted, so repeat an action that changes something
    /// only with the same `ClientToken`.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => {
                let e = e.service_error();
                e.is_throttling() || e.is_internal_error()
            }
            Error::Transport(e) => matches!(
                e.kind(),
                TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Reset
            ),
            Error::InvalidResponse { .. } => self.is_transient_answer(),
            // Nothing was sent; the same call with a later deadline goes out.
            Error::RateLimited(_) => true,
            Error::InvalidRequest(_) | Error::Credentials(_) => false,
        }
    }
}

impl<E> Error<E> {
    /// An `InvalidResponse` that a later attempt may not repeat: a 5xx or
    /// a body that is not an envelope (not a redirect, an oversized body or
    /// a `Response` that does not decode).
    fn is_transient_answer(&self) -> bool {
        match self {
            Error::InvalidResponse { status, kind, .. } => kind.is_transient(*status),
            _ => false,
        }
    }

    /// The call took longer than the configured timeout (connecting, waiting
    /// for or reading the answer). Retrying a non-idempotent action after a
    /// timeout may repeat it: the service may have received the request.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(e) if e.kind() == TransportErrorKind::Timeout)
    }

    /// No connection could be made (refused, unreachable, DNS or TLS
    /// failure); the request was certainly not processed.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport(e) if e.kind() == TransportErrorKind::Connect)
    }

    /// The HTTP status of an [`Error::InvalidResponse`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// What is wrong with an answer that is not a valid API envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidResponseKind {
    /// The body is not an API envelope (`{"Response": {..., "RequestId"}}`):
    /// typically a proxy's or load balancer's page.
    NotAnEnvelope,
    /// An envelope without an `Error` but with a status other than 2xx.
    UnexpectedStatus,
    /// A redirect, refused: the API never redirects.
    Redirect,
    /// The body is longer than [`Config::max_response_bytes`](super::Config::max_response_bytes).
    TooLarge,
    /// The `Response` object does not decode into the action's response type.
    Undecodable,
    /// The `Response` object would expand past
    /// [`Config::response_limits`](super::Config::response_limits) when
    /// decoded: more values than `max_values`, or nested deeper than
    /// `max_depth` (the reason names which). Decoding stopped there, so
    /// memory stays bounded whatever the answer; not retried, since the
    /// service would answer alike.
    TooComplex,
    /// Every page decoded, but paging would not end: more pages than the
    /// paginator's limit, or a `NextToken` that repeats.
    EndlessPaging,
}

impl InvalidResponseKind {
    /// Whether the same call may get a better answer later: a 5xx, or a
    /// body that is not an envelope.
    pub(crate) fn is_transient(self, status: u16) -> bool {
        match self {
            InvalidResponseKind::NotAnEnvelope => true,
            InvalidResponseKind::UnexpectedStatus => (500..600).contains(&status),
            _ => false,
        }
    }
}

/// ` (after N attempts)` as a `Display` value.
struct AfterAttempts(u32);

impl fmt::Display for AfterAttempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        after_attempts(f, self.0)
    }
}

/// Most characters of a response body shown by `Display`; the field keeps more.
const BODY_IN_DISPLAY: usize = 512;

/// A body in an error message: one line, escaped, cut.
struct Excerpt<'a>(&'a str);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(BODY_IN_DISPLAY) {
            None => write!(f, "{}", Escaped(self.0)),
            Some((end, _)) => write!(
                f,
                "{}... [{} more bytes]",
                Escaped(&self.0[..end]),
                self.0.len() - end
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_print_as_one_inert_line() {
        let e = ServiceError::new("Bad\u{1b}[2J", "line1\r\nline2 \u{7}ok é", "r\n1");
        let shown = e.to_string();
        assert_eq!(
            shown,
            "Bad\\u{1b}[2J: line1\\r\\nline2 \\u{7}ok é (request id r\\n1)"
        );
        assert!(!shown.chars().any(char::is_control), "{shown}");
        // The accessors keep the text as sent.
        assert_eq!(e.message(), "line1\r\nline2 \u{7}ok é");
    }

    #[test]
    fn invalid_response_display_is_one_line_and_bounded() {
        let body = format!("<html>\n\u{1b}]0;title\u{7}{}</html>", "x".repeat(10_000));
        let e: Error<ServiceError> = Error::InvalidResponse {
            status: 502,
            body,
            reason: "the body is not a JSON object".to_owned(),
            kind: InvalidResponseKind::NotAnEnvelope,
            attempts: 1,
        };
        let shown = e.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.starts_with(
            "invalid response (HTTP 502): the body is not a JSON object; body: <html>\\n\\u{1b}]0;title"
        ));
        assert!(shown.len() < 1_000, "{}", shown.len());
        assert!(shown.ends_with("more bytes]"), "{shown}");
    }

    /// What `main` prints when it returns the error with `?`: the one line
    /// first, the detail after.
    #[test]
    fn debug_leads_with_the_display_line() {
        let e: Error<ServiceError> = Error::Service(ServiceError::new(
            "InvalidInstanceId.NotFound",
            "no such instance",
            "r-1",
        ));
        let debug = format!("{e:?}");
        assert!(
            debug.starts_with(&format!("{e}\n\nService(ServiceError {{")),
            "{debug}"
        );
        assert!(debug.contains("attempts: "), "{debug}");
        let e: Error<ServiceError> = Error::InvalidResponse {
            status: 502,
            body: "<html>".to_owned(),
            reason: "the body is not a JSON object".to_owned(),
            kind: InvalidResponseKind::NotAnEnvelope,
            attempts: 2,
        };
        let debug = format!("{e:#?}");
        assert!(
            debug.starts_with(&format!("{e}\n\nInvalidResponse {{\n")),
            "{debug}"
        );
        assert!(debug.contains("kind: NotAnEnvelope"), "{debug}");
    }

    #[test]
    fn transport_errors_show_their_whole_cause_chain_once() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error sending request for url (http://127.0.0.1:1/)")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = TransportError::new(TransportErrorKind::Connect, Box::new(Outer(io)));
        assert_eq!(
            e.to_string(),
            "cannot connect: error sending request for url (http://127.0.0.1:1/): Connection refused (os error 111)"
        );
        assert!(std::error::Error::source(&e).is_some());
    }
}
