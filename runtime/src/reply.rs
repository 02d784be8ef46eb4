//! An answer as received, what it says, and how a failed attempt is
//! classified for retrying.

use std::borrow::Cow;

use http::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::retry::Class;
use super::{
    CredentialsError, Error, FieldPath, InvalidResponseKind, Problem, RateLimitError, ServiceError,
    TransportError, TransportErrorKind, ValidationError, Violation,
};

/// Longest body kept in [`Error::InvalidResponse`]; the rest is cut.
const MAX_BODY_IN_ERROR: usize = 64 * 1024;

/// An answer as received.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// As received: usually the one chunk the HTTP client read, uncopied.
    pub(crate) body: bytes::Bytes,
}

/// `{"Response": {...}}`, the object kept unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Response", borrow)]
    response: Option<&'a RawValue>,
}

/// The members of `Response` every answer has.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "Error")]
    error: Option<ErrorBody>,
    /// Borrowed unless it holds escapes.
    #[serde(rename = "RequestId", borrow)]
    request_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

impl Reply {
    /// The `Response` object of a success envelope and its request id; a
    /// service error or a broken envelope otherwise.
    pub(crate) fn open(&self) -> Result<(&RawValue, Cow<'_, str>), Failure> {
        // Serde also accepts a struct written as an array: require objects.
        if !self.body.trim_ascii_start().starts_with(b"{") {
            return Err(self.not_an_envelope("the body is not a JSON object".to_owned()));
        }
        let envelope: Envelope<'_> = serde_json::from_slice(&self.body)
            .map_err(|e| self.not_an_envelope(format!("the body is not a JSON object: {e}")))?;
        let response = envelope
            .response
            .ok_or_else(|| self.not_an_envelope("the body has no `Response` member".to_owned()))?;
        if !response.get().starts_with('{') {
            return Err(self.not_an_envelope("the `Response` member is malformed: not an object".to_owned()));
        }
        let head: Head = serde_json::from_str(response.get())
            .map_err(|e| self.not_an_envelope(format!("the `Response` member is malformed: {e}")))?;
        let request_id = head
            .request_id
            .ok_or_else(|| self.not_an_envelope("the `Response` object has no `RequestId`".to_owned()))?;
        if let Some(error) = head.error {
            return Err(Failure::Service(ServiceError::new(
                error.code,
                error.message.unwrap_or_default(),
                request_id.into_owned(),
            )));
        }
        if !(200..300).contains(&self.status) {
            return Err(self.invalid(
                InvalidResponseKind::UnexpectedStatus,
                format!("HTTP status {} without an `Error` in the `Response`", self.status),
            ));
        }
        Ok((response, request_id))
    }

    fn not_an_envelope(&self, reason: String) -> Failure {
        self.invalid(InvalidResponseKind::NotAnEnvelope, reason)
    }

    pub(crate) fn invalid(&self, kind: InvalidResponseKind, reason: String) -> Failure {
        Failure::Invalid {
            status: self.status,
            body: body_excerpt(&self.body),
            reason,
            kind,
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

/// A failed attempt or call, before the action's error type is known.
#[derive(Debug)]
pub(crate) enum Failure {
    Request(ValidationError),
    /// The rate limiter held the request past the deadline: not sent.
    Paced(RateLimitError),
    Credentials(CredentialsError),
    Transport(TransportError),
    Service(ServiceError),
    Invalid {
        status: u16,
        body: String,
        reason: String,
        kind: InvalidResponseKind,
    },
}

impl Failure {
    pub(crate) fn request(field: &str, problem: String) -> Self {
        Failure::Request(ValidationError {
            violations: vec![Violation {
                path: FieldPath::parse(field),
                problem: Problem::Unsendable(problem),
            }],
        })
    }

    /// How the retry policy treats this failure.
    pub(crate) fn class(&self) -> Class {
        match self {
            Failure::Service(e) if e.is_throttling() => Class::Throttling,
            Failure::Service(e) if e.code() == "AuthFailure.SignatureExpire" => Class::SignatureExpired,
            Failure::Service(e) if e.is_internal_error() => Class::Transient,
            Failure::Transport(e) => match e.kind() {
                TransportErrorKind::Connect => Class::Connect,
                TransportErrorKind::Timeout => Class::Timeout,
                TransportErrorKind::Reset => Class::Transient,
                TransportErrorKind::Other => Class::Final,
            },
            Failure::Invalid { status, kind, .. } if kind.is_transient(*status) => Class::Transient,
            _ => Class::Final,
        }
    }

    /// The service's error code, when it answered with one.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            Failure::Service(e) => Some(e.code()),
            _ => None,
        }
    }

    pub(crate) fn request_id(&self) -> Option<&str> {
        match self {
            Failure::Service(e) => Some(e.request_id()),
            _ => None,
        }
    }

    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Failure::Invalid { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn transport_kind(&self) -> Option<TransportErrorKind> {
        match self {
            Failure::Transport(e) => Some(e.kind()),
            _ => None,
        }
    }

    /// The kind of failure, for a span's `code` when the service sent none.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Failure::Service(_) => "service",
            Failure::Transport(_) => "transport",
            Failure::Invalid { .. } => "invalid_response",
            Failure::Request(_) => "invalid_request",
            Failure::Paced(_) => "rate_limited",
            Failure::Credentials(_) => "credentials",
        }
    }

    /// What failed, in a few words, for logs: the code, the transport
    /// failure or the HTTP status. Written with `%` into log lines, so the
    /// server's code is escaped: a newline in it would forge a line.
    pub(crate) fn summary(&self) -> String {
        match self {
            Failure::Service(e) => crate::display::Escaped(e.code()).to_string(),
            Failure::Transport(e) => format!("{:?}", e.kind()).to_lowercase(),
            Failure::Invalid { status, kind, .. } => format!("HTTP {status} {kind:?}"),
            Failure::Request(_) => "invalid request".to_owned(),
            Failure::Paced(_) => "rate limited".to_owned(),
            Failure::Credentials(_) => "credentials".to_owned(),
        }
    }

    /// The error of a call that sent `attempts` requests.
    pub(crate) fn into_error<E: From<ServiceError>>(self, attempts: u32) -> Error<E> {
        match self {
            Failure::Request(e) => Error::InvalidRequest(e),
            Failure::Paced(mut e) => {
                e.set_attempts(attempts);
                Error::RateLimited(e)
            }
            Failure::Credentials(mut e) => {
                e.set_attempts(attempts);
                Error::Credentials(e)
            }
            Failure::Transport(mut e) => {
                e.set_attempts(attempts);
                Error::Transport(e)
            }
            Failure::Service(mut e) => {
                e.set_attempts(attempts);
                Error::Service(E::from(e))
            }
            Failure::Invalid {
                status,
                body,
                reason,
                kind,
            } => Error::InvalidResponse {
                status,
                body,
                reason,
                kind,
                attempts,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
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
        let ok = reply(200, r#"{"Response":{"RequestId":"r1","X":1}}"#);
        let (raw, request_id) = ok.open().ok().unwrap();
        assert_eq!(raw.get(), r#"{"RequestId":"r1","X":1}"#);
        assert_eq!(request_id, "r1");

        let err = reply(
            400,
            r#"{"Response":{"Error":{"Code":"A.B","Message":"m"},"RequestId":"r2"}}"#,
        );
        assert_eq!(
            reason(err.open().unwrap_err()),
            "service error A.B: m (request id r2)"
        );
        let null_error = reply(200, r#"{"Response":{"Error":null,"RequestId":"r3"}}"#);
        assert!(null_error.open().is_ok());

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
            let got = reason(reply(status, body).open().unwrap_err());
            assert!(got.starts_with(expected), "{body}: {got}");
        }
    }

    #[test]
    fn classes() {
        let service = |code: &str| Failure::Service(ServiceError::new(code, "m", "r"));
        assert_eq!(service("RequestLimitExceeded").class(), Class::Throttling);
        assert_eq!(
            service("RequestLimitExceeded.UinLimitExceeded").class(),
            Class::Throttling
        );
        assert_eq!(service("RequestLimitExceededX").class(), Class::Final);
        assert_eq!(service("InternalError").class(), Class::Transient);
        assert_eq!(service("InternalError.DbError").class(), Class::Transient);
        assert_eq!(service("InternalServerError").class(), Class::Final);
        assert_eq!(
            service("AuthFailure.SignatureExpire").class(),
            Class::SignatureExpired
        );
        assert_eq!(service("InvalidParameter").class(), Class::Final);
        let invalid = |status: u16, body: &str| reply(status, body).open().unwrap_err();
        assert_eq!(invalid(502, "<html>").class(), Class::Transient);
        assert_eq!(invalid(200, "<html>").class(), Class::Transient);
        assert_eq!(
            invalid(503, r#"{"Response":{"RequestId":"r"}}"#).class(),
            Class::Transient
        );
        assert_eq!(
            invalid(404, r#"{"Response":{"RequestId":"r"}}"#).class(),
            Class::Final
        );
        let too_large = reply(200, "{}").invalid(InvalidResponseKind::TooLarge, "big".to_owned());
        assert_eq!(too_large.class(), Class::Final);
        assert_eq!(Failure::request("x", "bad".to_owned()).class(), Class::Final);
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
