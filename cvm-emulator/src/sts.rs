//! STS (2018-08-13) on the same listener: `AssumeRole` and
//! `AssumeRoleWithWebIdentity`, answered with temporary credentials from
//! [`crate::tmpcreds`].
//!
//! The requests are `sts_api`'s, generated from the official description
//! (tccli's `sts/v20180813/api.json`); limits are the description's, and
//! error codes beyond the common ones come from the official SDK's
//! `sts/v20180813/errorcodes.py`.

use serde::Serialize;
use sts_api::types::{AssumeRoleRequest, AssumeRoleWithWebIdentityRequest, Tag};

use crate::decode::{check_rules, decode as decode_as, Params};
use crate::error::{shorten, ApiError};
use crate::fallback::Fallback;
use crate::shared::Ctx;
use crate::tmpcreds::{secrets_equal, Source};

/// The service name in an STS credential scope.
pub const STS_SERVICE: &str = "sts";
/// The STS API version the emulator implements (`X-TC-Version`).
pub const STS_API_VERSION: &str = "2018-08-13";

/// Every action of STS 2018-08-13 (from `sts_api`): the others than
/// [`STS_EMULATED_ACTIONS`] pass the gateway checks, then get
/// `UnsupportedOperation`.
pub(crate) const ACTIONS: &[&str] = {
    macro_rules! names {
        ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
            &[$(stringify!($action)),*]
        };
    }
    sts_api::sts_actions!(names)
};

/// The STS actions the emulator implements.
pub const STS_EMULATED_ACTIONS: &[&str] = &["AssumeRole", "AssumeRoleWithWebIdentity"];

/// The one action accepted with `Authorization: SKIP` (unsigned), as the
/// real STS documents for it.
pub(crate) const UNSIGNED_ACTION: &str = "AssumeRoleWithWebIdentity";

/// Lifetime when `DurationSeconds` is absent, and the longest allowed.
const DEFAULT_DURATION: u64 = 7200;
const MAX_DURATION: u64 = 43_200;
/// `RoleSessionName` and `ExternalId`: 2 to 128 characters.
const NAME_LEN: std::ops::RangeInclusive<usize> = 2..=128;
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

/// A decoded STS request of an emulated action.
pub(crate) enum StsRequest {
    AssumeRole(Box<AssumeRoleRequest>),
    AssumeRoleWithWebIdentity(Box<AssumeRoleWithWebIdentityRequest>),
}

impl StsRequest {
    pub(crate) fn action(&self) -> &'static str {
        match self {
            StsRequest::AssumeRole(_) => "AssumeRole",
            StsRequest::AssumeRoleWithWebIdentity(_) => "AssumeRoleWithWebIdentity",
        }
    }
}

/// Decodes `params` as a request of `action` (a name from [`ACTIONS`]):
/// the emulated actions into `sts_api`'s typed requests for [`handle`],
/// the others checked against the description, for `UnsupportedOperation`.
/// Generic over the service ([`Fallback`]) so that this module does not
/// depend on the registry that names it.
pub(crate) fn decode<S: Fallback>(
    service: &'static S,
    action: &'static str,
    params: Params,
) -> Result<S::Checked, ApiError>
where
    S::Checked: From<StsRequest>,
{
    let request = match action {
        "AssumeRole" => StsRequest::AssumeRole(Box::new(decode_as(service, action, params)?)),
        "AssumeRoleWithWebIdentity" => {
            StsRequest::AssumeRoleWithWebIdentity(Box::new(decode_as(service, action, params)?))
        }
        _ => return service.validate(action, params),
    };
    Ok(request.into())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsJson<'a> {
    token: &'a str,
    tmp_secret_id: &'a str,
    tmp_secret_key: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeResponse<'a> {
    credentials: CredentialsJson<'a>,
    expired_time: u64,
    expiration: String,
    request_id: &'a str,
}

/// Answers one decoded STS request: the JSON of the `Response` object.
pub(crate) fn handle(request: StsRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let (source, duration) = match request {
        StsRequest::AssumeRole(r) => {
            check_role(&r.role_arn, &r.role_session_name)?;
            if let Some(id) = &r.external_id {
                check_name("ExternalId", id, |c| "+=,.@:/-".contains(c))?;
            }
            if let Some(tags) = &r.tags {
                check_tags(tags)?;
            }
            let duration = match r.duration_seconds {
                None => DEFAULT_DURATION,
                Some(secs) => checked_duration(i128::from(secs))?,
            };
            // The description's rules after STS's own checks, whose codes
            // (an empty RoleArn is an invalid value) they would otherwise hide.
            check_rules(&*r)?;
            (Source::AssumeRole, duration)
        }
        StsRequest::AssumeRoleWithWebIdentity(r) => {
            if r.provider_id.is_empty() {
                return Err(ApiError::invalid_value("ProviderId must not be empty."));
            }
            check_role(&r.role_arn, &r.role_session_name)?;
            let duration = match r.duration_seconds {
                None => DEFAULT_DURATION,
                Some(secs) => checked_duration(i128::from(secs))?,
            };
            check_rules(&*r)?;
            // The token is never echoed: it is a credential.
            match &ctx.shared.web_identity_token {
                None => {
                    return Err(ApiError::new(
                        "InvalidParameter.WebIdentityTokenError",
                        "The WebIdentityToken is not valid: this emulator accepts none \
                         (start it with --oidc-token or --oidc-token-file).",
                    ))
                }
                Some(expected)
                    if !secrets_equal(expected.expose().as_bytes(), r.web_identity_token.as_bytes()) =>
                {
                    return Err(ApiError::new(
                        "InvalidParameter.WebIdentityTokenError",
                        "The WebIdentityToken is not valid: it is not the token this emulator was given.",
                    ))
                }
                Some(_) => {}
            }
            (Source::WebIdentity, duration)
        }
    };
    let lifetime = duration.min(ctx.shared.credential_ttl_secs);
    let issued = ctx.shared.issue(source, lifetime);
    let response = AssumeResponse {
        credentials: CredentialsJson {
            token: issued.token.expose(),
            tmp_secret_id: &issued.secret_id,
            tmp_secret_key: issued.secret_key.expose(),
        },
        expired_time: issued.expired_time,
        expiration: crate::time::iso8601(issued.expired_time.saturating_mul(1000)),
        request_id: ctx.request_id,
    };
    serde_json::to_string(&response).map_err(|e| ApiError::new("InternalError", e.to_string()))
}

/// `DurationSeconds` within 1..=43200: above, the STS code for too long a
/// lifetime; below, an invalid value.
fn checked_duration(secs: i128) -> Result<u64, ApiError> {
    if secs > i128::from(MAX_DURATION) {
        return Err(ApiError::new(
            "InvalidParameter.OverTimeError",
            format!("DurationSeconds {secs} is above the maximum of {MAX_DURATION} s."),
        ));
    }
    u64::try_from(secs).ok().filter(|s| *s >= 1).ok_or_else(|| {
        ApiError::invalid_value(format!(
            "DurationSeconds {secs} is out of range: it must be between 1 and {MAX_DURATION} s."
        ))
    })
}

/// `RoleArn` (loosely: a CAM resource name) and `RoleSessionName`.
fn check_role(role_arn: &str, session_name: &str) -> Result<(), ApiError> {
    if role_arn.is_empty() || !role_arn.starts_with("qcs::cam::") || role_arn.len() <= "qcs::cam::".len() {
        return Err(ApiError::invalid_value(format!(
            "RoleArn `{}` is not a role: expected qcs::cam::uin/<uin>:roleName/<name> (or :role/<id>).",
            shorten(role_arn)
        )));
    }
    check_name("RoleSessionName", session_name, |c| "+=,.@_-".contains(c))
}

/// 2 to 128 characters: letters, digits, `_` and the `extra` ones.
fn check_name(member: &str, value: &str, extra: impl Fn(char) -> bool) -> Result<(), ApiError> {
    let len = value.chars().count();
    if !NAME_LEN.contains(&len) || !value.chars().all(|c| c.is_alphanumeric() || c == '_' || extra(c)) {
        return Err(ApiError::invalid_value(format!(
            "{member} `{}` is invalid: it must be 2 to 128 letters, digits or {}.",
            shorten(value),
            if member == "ExternalId" {
                "=,.@:/-+_"
            } else {
                "=,.@_-+"
            }
        )));
    }
    Ok(())
}

fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::invalid_value(format!(
            "Tags holds {} tags; at most {MAX_TAGS} are allowed.",
            tags.len()
        )));
    }
    for (i, tag) in tags.iter().enumerate() {
        if tag.key.is_empty() || tag.key.chars().count() > MAX_TAG_KEY {
            return Err(ApiError::invalid_value(format!(
                "Tags.{i}.Key must be 1 to {MAX_TAG_KEY} characters."
            )));
        }
        if tag.value.chars().count() > MAX_TAG_VALUE {
            return Err(ApiError::invalid_value(format!(
                "Tags.{i}.Value must be at most {MAX_TAG_VALUE} characters."
            )));
        }
        // At most 50 tags: the quadratic check is small.
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(ApiError::invalid_value(format!(
                "Tags.{i}.Key `{}` is repeated; tag keys must be unique.",
                shorten(&tag.key)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_names() {
        assert_eq!(checked_duration(1).unwrap(), 1);
        assert_eq!(checked_duration(43_200).unwrap(), 43_200);
        assert_eq!(
            checked_duration(43_201).unwrap_err().code,
            "InvalidParameter.OverTimeError"
        );
        assert_eq!(checked_duration(0).unwrap_err().code, "InvalidParameterValue");
        assert_eq!(checked_duration(-5).unwrap_err().code, "InvalidParameterValue");
        assert!(check_role("qcs::cam::uin/100:roleName/r", "ok-session").is_ok());
        for (arn, session) in [
            ("", "ok-session"),
            ("arn:aws:iam::1:role/x", "ok-session"),
            ("qcs::cam::", "ok-session"),
            ("qcs::cam::uin/1:roleName/r", "x"),
            ("qcs::cam::uin/1:roleName/r", "has space"),
        ] {
            let e = check_role(arn, session).unwrap_err();
            assert_eq!(e.code, "InvalidParameterValue", "{arn} {session}");
        }
        assert_eq!(ACTIONS.len(), 7);
        assert!(STS_EMULATED_ACTIONS.iter().all(|a| ACTIONS.contains(a)));
    }
}
