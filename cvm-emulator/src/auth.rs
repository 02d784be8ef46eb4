//! Who is calling: the checks of `Authorization`, `X-TC-Timestamp`, the
//! secret id and a temporary credential's token (no body needed), then the
//! TC3 signature (over the body).

use std::borrow::Cow;

use hyper::header::{AUTHORIZATION, HOST};
use hyper::http::request::Parts;
use signer::{
    parse_authorization, verify_with_service, ParsedAuthorization, ReceivedRequest, SecretKey, VerifyError,
};

use crate::error::{shorten, ApiError};
use crate::headers::single_header;
use crate::shared::Shared;
use crate::sts;
use crate::tmpcreds::TEMP_ID_PREFIX;

/// Who signed a request, as far as the checks before the body tell.
pub(crate) enum Caller<'s> {
    /// A TC3 signature to verify with this key (a configured one, or the
    /// one derived for a temporary id).
    Signed {
        parsed: ParsedAuthorization,
        timestamp: i64,
        key: Cow<'s, SecretKey>,
    },
    /// `Authorization: SKIP`, for [`sts::UNSIGNED_ACTION`] only.
    Unsigned,
}

/// The checks that need no body: `Authorization` present and well-formed
/// (or `SKIP` on the one action that allows it), `X-TC-Timestamp` within
/// the allowed skew, the secret id known, and for a temporary id its
/// expiry and `X-TC-Token`.
///
/// A temporary id's token is checked here, before the signature: both
/// need no body, so a client holding an expired or mismatched credential
/// learns it (`AuthFailure.TokenFailure`) without sending the body, and a
/// correctly signed request with a wrong token gets `TokenFailure`, as
/// from the real gateway. Permanent ids ignore `X-TC-Token`. `secret_id`
/// is set, for the log line, as soon as the header names one.
pub(crate) fn authenticate_headers<'s>(
    shared: &'s Shared,
    parts: &Parts,
    secret_id: &mut Option<String>,
) -> Result<Caller<'s>, ApiError> {
    // Authorization: present, single, well-formed.
    let invalid_auth = |why: String| ApiError::new("AuthFailure.InvalidAuthorization", why);
    let authorization = match single_header(parts, AUTHORIZATION.as_str()) {
        Ok(Some(value)) => value,
        Ok(None) => return Err(invalid_auth("The Authorization header is missing.".to_owned())),
        Err(()) => {
            return Err(invalid_auth(
                "The Authorization header is repeated or contains invalid characters.".to_owned(),
            ))
        }
    };
    let unsigned = authorization.trim() == "SKIP";
    if unsigned && single_header(parts, "x-tc-action") != Ok(Some(sts::UNSIGNED_ACTION)) {
        return Err(invalid_auth(format!(
            "Authorization: SKIP is accepted only for {}; sign every other request (TC3-HMAC-SHA256).",
            sts::UNSIGNED_ACTION
        )));
    }
    let parsed = if unsigned {
        None
    } else {
        Some(
            parse_authorization(authorization)
                .map_err(|e| invalid_auth(format!("The Authorization header is invalid: {e}.")))?,
        )
    };

    // Timestamp: numeric and within the allowed clock skew of the
    // emulator's clock (which `clock_skew_secs` may set apart).
    let now = crate::time::unix_secs(crate::time::emulator_now(shared.clock_skew_secs));
    let skew = shared.max_clock_skew_secs;
    let expired = |why: String| {
        ApiError::new(
            "AuthFailure.SignatureExpire",
            format!(
                "{why} The server time is {now} ({}); X-TC-Timestamp must be within {skew} s of it.",
                crate::time::iso8601(u64::try_from(now).unwrap_or(0).saturating_mul(1000))
            ),
        )
    };
    let timestamp = match single_header(parts, "x-tc-timestamp") {
        Ok(Some(value)) => value
            .trim()
            .parse::<i64>()
            .map_err(|_| expired(format!("X-TC-Timestamp `{}` is not a number.", shorten(value))))?,
        Ok(None) => return Err(expired("X-TC-Timestamp is missing.".to_owned())),
        Err(()) => return Err(expired("X-TC-Timestamp is repeated or malformed.".to_owned())),
    };
    if now.abs_diff(timestamp) > skew.unsigned_abs() {
        return Err(expired(format!("The request timestamp {timestamp} has expired.")));
    }
    let Some(parsed) = parsed else {
        return Ok(Caller::Unsigned);
    };

    // Secret id (the signature needs the body).
    *secret_id = Some(shorten(&parsed.secret_id));
    if let Some(key) = shared.credentials.get(&parsed.secret_id) {
        return Ok(Caller::Signed {
            parsed,
            timestamp,
            key: Cow::Borrowed(key),
        });
    }
    let not_found = || {
        ApiError::new(
            "AuthFailure.SecretIdNotFound",
            format!("The SecretId `{}` is not found.", shorten(&parsed.secret_id)),
        )
    };
    if !parsed.secret_id.starts_with(TEMP_ID_PREFIX) {
        return Err(not_found());
    }
    // A temporary id this process issued (one from before a restart, or a
    // made-up one, is not found).
    let expiry = shared.minter.expiry_of(&parsed.secret_id).ok_or_else(not_found)?;
    let token_failure = |why: &str| {
        ApiError::new(
            "AuthFailure.TokenFailure",
            format!(
                "The token of temporary credential `{}` {why}.",
                shorten(&parsed.secret_id)
            ),
        )
    };
    if u64::try_from(now).unwrap_or(0) >= expiry {
        return Err(token_failure(&format!(
            "expired at {expiry} ({}); fetch new credentials",
            crate::time::iso8601(expiry.saturating_mul(1000))
        )));
    }
    match single_header(parts, "x-tc-token") {
        Ok(Some(token)) if shared.minter.token_matches(&parsed.secret_id, token) => {}
        Ok(None) | Ok(Some("")) => return Err(token_failure("is missing: send it as X-TC-Token")),
        Ok(Some(_)) | Err(()) => return Err(token_failure("does not match (X-TC-Token)")),
    }
    let key = shared.minter.secret_key(&parsed.secret_id);
    Ok(Caller::Signed {
        parsed,
        timestamp,
        key: Cow::Owned(key),
    })
}

/// The TC3 signature of the request, scoped to `service`.
pub(crate) fn verify_signature(
    parts: &Parts,
    body: &[u8],
    parsed: &ParsedAuthorization,
    timestamp: i64,
    key: &SecretKey,
    service: &str,
) -> Result<(), ApiError> {
    let mut headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|v| (name.as_str(), v)))
        .collect();
    if !parts.headers.contains_key(HOST) {
        // HTTP/2 carries the host as :authority.
        if let Some(authority) = parts.uri.authority() {
            headers.push(("host", authority.as_str()));
        }
    }
    let received = ReceivedRequest {
        method: parts.method.as_str(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
        timestamp,
        authorization: parsed,
    };
    verify_with_service(&received, key, service).map_err(|e| match e {
        VerifyError::MalformedAuthorization(_) | VerifyError::UnsupportedAlgorithm(_) => ApiError::new(
            "AuthFailure.InvalidAuthorization",
            format!("The Authorization header is invalid: {e}."),
        ),
        VerifyError::SignatureMismatch => ApiError::new(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated: the signature does not match. \
             Check the secret key and the signing steps.",
        ),
        other => ApiError::new(
            "AuthFailure.SignatureFailure",
            format!("The provided credentials could not be validated: {other}."),
        ),
    })
}
