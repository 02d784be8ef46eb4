//! What can go wrong with a call, kept apart by who said no.

use std::fmt;

use super::ValidationError;

/// The service answered with an error envelope:
/// `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    code: String,
    message: String,
    request_id: String,
}

impl ServiceError {
    pub fn new(code: impl Into<String>, message: impl Into<String>, request_id: impl Into<String>) -> Self {
        ServiceError {
            code: code.into(),
            message: message.into(),
            request_id: request_id.into(),
        }
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

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (request id {})",
            self.code, self.message, self.request_id
        )
    }
}

impl std::error::Error for ServiceError {}

/// The error of one call. `E` is the action's own error enum, e.g.
/// `StartInstancesError`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E> {
    /// The service said no.
    #[error(transparent)]
    Service(E),
    /// The request broke a rule from the spec and was not sent.
    #[error(transparent)]
    InvalidRequest(#[from] ValidationError),
    /// The request could not be delivered or the answer did not arrive
    /// (connection refused, DNS, TLS, timeout).
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// An answer arrived but is not a valid API envelope; status and body are
    /// kept as received.
    #[error("invalid response (HTTP {status}): {reason}; body: {body}")]
    InvalidResponse {
        status: u16,
        body: String,
        reason: String,
    },
}

impl<E> Error<E> {
    /// The call took longer than the configured timeout (connecting, waiting
    /// for or reading the answer). Retrying a non-idempotent action after a
    /// timeout may repeat it: the service may have received the request.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_timeout())
    }

    /// No connection could be made (refused, unreachable, DNS or TLS
    /// failure); the request was certainly not processed.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_connect())
    }

    /// The HTTP status of an [`Error::InvalidResponse`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }
}
