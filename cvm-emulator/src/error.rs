//! The `Error` member of an API 3.0 error envelope.

use std::fmt;

/// An error answer: `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`.
///
/// Codes are those of the real service (`AuthFailure.SignatureFailure`,
/// `InvalidInstanceId.NotFound`, ...); messages are the emulator's own and
/// never contain a secret key or the `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The code, e.g. `UnsupportedOperation.InstanceStateRunning`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// `MissingParameter` for a parameter an action's own checks require,
    /// in the validation engine's words (as the gateway's checks say it).
    pub(crate) fn missing(parameter: &str) -> Self {
        let violation = tencentcloud_model::Violation {
            path: tencentcloud_model::FieldPath::parse(parameter),
            problem: tencentcloud_model::Problem::Missing,
        };
        ApiError::new(violation.gateway_code(), violation.gateway_message())
    }

    pub(crate) fn invalid_value(message: impl Into<String>) -> Self {
        ApiError::new("InvalidParameterValue", message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// `text` cut to 64 characters (with `...` when cut) and made inert, for
/// echoing client input in messages and logs: control characters and the
/// invisible ones that reorder or hide text (bidi overrides, zero-width
/// marks) are written as escapes, so an echo cannot rewrite a terminal or
/// disguise itself.
pub(crate) fn shorten(text: &str) -> String {
    tencentcloud_model::validate::inert(text, 64)
}
