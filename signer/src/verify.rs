//! Server-side parsing and verification of TC3 `Authorization` headers.

use hmac::digest::CtOutput;
use sha2::Sha256;

use crate::canonical::{
    derive_signing_key, signature, trim_value, Canonical, PayloadHash, SmallBuf, ALGORITHM, TERMINATOR,
    UNSIGNED_PAYLOAD,
};
use crate::hmac256::HmacKey;
use crate::{utc_date, SecretKey};

/// Header a client sets to `UNSIGNED-PAYLOAD` when the body is not signed.
pub const CONTENT_SHA256_HEADER: &str = "x-tc-content-sha256";

/// Longest algorithm token echoed back in [`VerifyError::UnsupportedAlgorithm`].
const MAX_ECHO: usize = 32;

/// Longest `Authorization` header [`parse_authorization`] accepts, in bytes.
/// A real TC3 header is about 200 bytes; the cap bounds the work an
/// unauthenticated client can cause.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// Most names accepted in `SignedHeaders` (clients sign 2 or 3).
pub const MAX_SIGNED_HEADERS: usize = 32;

/// Why a request failed verification.
///
/// No variant ever carries the secret key: verification errors are meant to
/// be logged and returned to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The `Authorization` header does not have the TC3 shape.
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(&'static str),
    /// The algorithm is not `TC3-HMAC-SHA256` (value truncated to 32 chars).
    #[error("unsupported signature algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// The credential date is not the UTC date of `X-TC-Timestamp`.
    #[error("credential date {credential} does not match the UTC date {expected} of the timestamp")]
    CredentialDateMismatch {
        /// Date in the credential scope.
        credential: String,
        /// `utc_date(timestamp)`.
        expected: String,
    },
    /// The credential is scoped to another service.
    #[error("credential is scoped to service `{credential}`, expected `{expected}`")]
    ServiceMismatch {
        /// Service in the credential scope.
        credential: String,
        /// Service the verifier expected.
        expected: String,
    },
    /// A header listed in SignedHeaders is absent from the request.
    #[error("signed header `{0}` is missing from the request")]
    MissingSignedHeader(String),
    /// A header listed in SignedHeaders occurs more than once, so its value is ambiguous.
    #[error("signed header `{0}` occurs more than once in the request")]
    DuplicatedSignedHeader(String),
    /// The signature does not match the request.
    #[error("signature mismatch")]
    SignatureMismatch,
}

/// The parts of a TC3 `Authorization` header.
///
/// `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request,
/// SignedHeaders=<a;b>, Signature=<hex>`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// Always `TC3-HMAC-SHA256` when produced by [`parse_authorization`].
    pub algorithm: String,
    /// The `SecretId`; look the secret key up with it.
    pub secret_id: String,
    /// Credential date, `YYYY-MM-DD`.
    pub date: String,
    /// Credential service, e.g. `cvm`.
    pub service: String,
    /// Lowercase header names, in the order they were signed.
    pub signed_headers: Vec<String>,
    /// Hex signature (64 digits).
    pub signature: String,
}

/// A request as received by a server, for [`verify`].
#[derive(Clone, Copy, Debug)]
pub struct ReceivedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Raw query string (without `?`); ignored for POST.
    pub query: &'a str,
    /// Headers as received: any name case, possibly with duplicates.
    /// With HTTP/2, pass `:authority` as `host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Body bytes exactly as received.
    pub body: &'a [u8],
    /// `X-TC-Timestamp` value.
    pub timestamp: i64,
    /// The parsed `Authorization` header.
    pub authorization: &'a ParsedAuthorization,
}

/// Parses a TC3 `Authorization` header value.
///
/// Strict about the structure (each of Credential, SignedHeaders and
/// Signature exactly once, a four-part credential ending in `tc3_request`,
/// lowercase signed header names including `content-type` and `host`, a
/// 64-digit hex signature); never panics. Headers longer than
/// [`MAX_AUTHORIZATION_LEN`] bytes or signing more than
/// [`MAX_SIGNED_HEADERS`] headers are refused before any further work.
pub fn parse_authorization(header: &str) -> Result<ParsedAuthorization, VerifyError> {
    use VerifyError::MalformedAuthorization as Malformed;

    if header.len() > MAX_AUTHORIZATION_LEN {
        return Err(Malformed("header longer than 4096 bytes"));
    }
    let header = trim_value(header);
    if header.is_empty() {
        return Err(Malformed("empty header"));
    }
    let (algorithm, params) = match header.split_once(' ') {
        Some((a, p)) => (a, p),
        None => (header, ""),
    };
    check_algorithm(algorithm)?;

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for param in params.split(',') {
        let param = trim_value(param);
        let Some((key, value)) = param.split_once('=') else {
            return Err(Malformed("parameter without `=`"));
        };
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(Malformed("unknown parameter")),
        };
        if slot.replace(value).is_some() {
            return Err(Malformed("repeated parameter"));
        }
    }
    let credential = credential.ok_or(Malformed("missing Credential"))?;
    let signed_headers = signed_headers.ok_or(Malformed("missing SignedHeaders"))?;
    let signature = signature.ok_or(Malformed("missing Signature"))?;

    let mut scope = credential.split('/');
    let (Some(secret_id), Some(date), Some(service), Some(terminator), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(Malformed(
            "Credential must be <SecretId>/<date>/<service>/tc3_request",
        ));
    };
    if secret_id.is_empty() {
        return Err(Malformed("empty SecretId"));
    }
    if !is_date_shaped(date) {
        return Err(Malformed("credential date is not YYYY-MM-DD"));
    }
    check_service(service)?;
    if terminator != TERMINATOR {
        return Err(Malformed("credential scope must end in tc3_request"));
    }

    if signed_headers.split(';').count() > MAX_SIGNED_HEADERS {
        return Err(Malformed("more than 32 names in SignedHeaders"));
    }
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    check_signed_headers(&signed_headers)?;
    decode_signature(signature)?;

    Ok(ParsedAuthorization {
        algorithm: algorithm.to_owned(),
        secret_id: secret_id.to_owned(),
        date: date.to_owned(),
        service: service.to_owned(),
        signed_headers,
        signature: signature.to_owned(),
    })
}

/// Verifies a request's TC3 signature with the secret key of
/// `req.authorization.secret_id`.
///
/// Checks that the credential date is the UTC date of `req.timestamp`,
/// rebuilds the canonical request from the headers named in SignedHeaders
/// (with the same code the [`crate::Signer`] uses) and compares signatures in
/// constant time. A body hash of `UNSIGNED-PAYLOAD` is used when the request
/// carries `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
///
/// Does not judge timestamp freshness (the caller owns the clock) nor the
/// service; see [`verify_with_service`].
pub fn verify(req: &ReceivedRequest<'_>, secret_key: &SecretKey) -> Result<(), VerifyError> {
    verify_inner(req, secret_key, None)
}

/// [`verify`], additionally requiring the credential to be scoped to
/// `expected_service` (checked before the signature).
pub fn verify_with_service(
    req: &ReceivedRequest<'_>,
    secret_key: &SecretKey,
    expected_service: &str,
) -> Result<(), VerifyError> {
    verify_inner(req, secret_key, Some(expected_service))
}

fn verify_inner(
    req: &ReceivedRequest<'_>,
    secret_key: &SecretKey,
    expected_service: Option<&str>,
) -> Result<(), VerifyError> {
    let auth = req.authorization;
    // The fields are public, so re-validate rather than trust the parser ran.
    check_algorithm(&auth.algorithm)?;
    check_service(&auth.service)?;
    check_signed_headers(&auth.signed_headers)?;
    let claimed = decode_signature(&auth.signature)?;

    if let Some(expected) = expected_service {
        if auth.service != expected {
            return Err(VerifyError::ServiceMismatch {
                credential: auth.service.clone(),
                expected: expected.to_owned(),
            });
        }
    }
    let expected_date = utc_date(req.timestamp);
    if auth.date != expected_date {
        return Err(VerifyError::CredentialDateMismatch {
            credential: auth.date.clone(),
            expected: expected_date,
        });
    }

    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        headers.push((name.as_str(), single_header(req.headers, name)?));
    }
    let unsigned = req
        .headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case(CONTENT_SHA256_HEADER) && trim_value(v) == UNSIGNED_PAYLOAD);
    let payload_hash = if unsigned {
        PayloadHash::Unsigned
    } else {
        PayloadHash::of_bytes(req.body)
    };

    let key = HmacKey::new(&[&derive_signing_key(
        secret_key.expose(),
        &auth.date,
        &auth.service,
    )]);
    let expected = signature(
        &Canonical {
            method: req.method,
            query: req.query,
            headers: &headers,
            payload_hash: &payload_hash,
            timestamp: req.timestamp,
            date: &auth.date,
            service: &auth.service,
        },
        &key,
        &mut SmallBuf::new(),
        &mut SmallBuf::new(),
    );

    // Constant-time comparison (`subtle`'s ct_eq, via digest's CtOutput).
    if CtOutput::<Sha256>::new(expected.into()) == CtOutput::new(claimed.into()) {
        Ok(())
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

/// The value of the one header called `name` (case-insensitively).
fn single_header<'a>(headers: &[(&str, &'a str)], name: &str) -> Result<&'a str, VerifyError> {
    let mut found = None;
    for (n, v) in headers {
        if n.eq_ignore_ascii_case(name) && found.replace(*v).is_some() {
            return Err(VerifyError::DuplicatedSignedHeader(name.to_owned()));
        }
    }
    found.ok_or_else(|| VerifyError::MissingSignedHeader(name.to_owned()))
}

fn check_algorithm(algorithm: &str) -> Result<(), VerifyError> {
    if algorithm == ALGORITHM {
        Ok(())
    } else {
        Err(VerifyError::UnsupportedAlgorithm(
            algorithm.chars().take(MAX_ECHO).collect(),
        ))
    }
}

fn check_service(service: &str) -> Result<(), VerifyError> {
    if service.is_empty() {
        return Err(VerifyError::MalformedAuthorization("empty service"));
    }
    if !service.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
        return Err(VerifyError::MalformedAuthorization(
            "service contains invalid characters",
        ));
    }
    Ok(())
}

/// Signed header names must be at most [`MAX_SIGNED_HEADERS`] lowercase
/// HTTP tokens, unique, and include `content-type` and `host` (TC3's
/// minimum; without `host` a signature could be replayed against another
/// endpoint).
fn check_signed_headers(names: &[String]) -> Result<(), VerifyError> {
    use VerifyError::MalformedAuthorization as Malformed;
    if names.len() > MAX_SIGNED_HEADERS {
        return Err(Malformed("more than 32 names in SignedHeaders"));
    }
    for name in names {
        if name.is_empty() {
            return Err(Malformed("empty name in SignedHeaders"));
        }
        if !name.bytes().all(is_lower_tchar) {
            return Err(Malformed("SignedHeaders names must be lowercase header names"));
        }
    }
    let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(Malformed("repeated name in SignedHeaders"));
    }
    for required in ["content-type", "host"] {
        if !names.iter().any(|n| n == required) {
            return Err(Malformed("SignedHeaders must include content-type and host"));
        }
    }
    Ok(())
}

/// RFC 9110 `tchar`, minus uppercase letters.
fn is_lower_tchar(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn decode_signature(hex_sig: &str) -> Result<[u8; 32], VerifyError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_sig, &mut out)
        .map_err(|_| VerifyError::MalformedAuthorization("Signature is not 64 hex digits"))?;
    Ok(out)
}

fn is_date_shaped(date: &str) -> bool {
    let b = date.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}
