//! The gateway checks, in the real gateway's order, up to the typed
//! request: method, size, authentication, body, signature, version,
//! action, region, rate limit, parameters.

use axum::body::{Body, Bytes};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::http::request::Parts;
use hyper::Method;
use serde_json::Value;

use crate::auth::{authenticate_headers, verify_signature, Caller};
use crate::body::{declared_length, measure, oversized, read_body};
use crate::checked::Checked;
use crate::conns::RequestTrack;
use crate::cvm::regions;
use crate::decode::ModelVerdict;
use crate::decode::{json_params, Params};
use crate::error::{shorten, ApiError};
use crate::fallback::Fallback;
use crate::headers::single_header;
use crate::query::form_to_json;
use crate::services::Service;
use crate::shared::Shared;
use crate::sts;

/// What a request came to, for the log line.
#[derive(Default)]
pub(crate) struct Meta {
    pub(crate) action: Option<&'static str>,
    pub(crate) secret_id: Option<String>,
    pub(crate) fault: Option<&'static str>,
}

/// The gateway checks, in the real gateway's order, up to the typed
/// request: every request that passes is authenticated (or is the one
/// unsigned STS action) and well-formed.
///
/// The credential scope's service picks the rules (version, actions,
/// region); an unsigned `AssumeRoleWithWebIdentity` is STS's.
pub(crate) async fn gateway(
    shared: &Shared,
    parts: &Parts,
    body: Body,
    meta: &mut Meta,
) -> Result<(Checked, Option<&'static str>), ApiError> {
    let method = &parts.method;
    if method != Method::POST && method != Method::GET {
        return Err(ApiError::new(
            "UnsupportedProtocol",
            format!(
                "The HTTP method {} is not supported; use POST or GET.",
                shorten(method.as_str())
            ),
        ));
    }
    // Body size, as far as it is known without reading the body.
    let max = shared.max_body_bytes;
    let declared = declared_length(parts, &body);
    if declared.is_some_and(|n| n > max as u64) {
        return Err(oversized(shared, declared, body).await);
    }

    // Authorization shape, timestamp, secret id and (for a temporary id)
    // its token need no body: nothing is buffered for a client that fails them.
    let caller = match authenticate_headers(shared, parts, &mut meta.secret_id) {
        Ok(checked) => checked,
        Err(e) => {
            if declared.is_none() {
                // Length unknown (chunked): the size still comes first, so
                // measure the body (without keeping it).
                measure(shared, body).await?;
            }
            return Err(e);
        }
    };
    let free_share = parts
        .extensions
        .get::<RequestTrack>()
        .and_then(RequestTrack::take_free_share);
    let (body, _budget) = read_body(shared, declared, free_share, body).await?;

    // Signature, with the rules of the service it is scoped to.
    let (service, rate_key) = match &caller {
        Caller::Unsigned => (sts_service()?, ""),
        Caller::Signed {
            parsed,
            timestamp,
            key,
        } => {
            let service = Service::from_scope(&parsed.service).ok_or_else(|| {
                ApiError::new(
                    "AuthFailure.SignatureFailure",
                    format!(
                        "The provided credentials could not be validated: credential is scoped to service `{}`, expected one of {}.",
                        shorten(&parsed.service),
                        Service::names()
                    ),
                )
            })?;
            // A request to a service's own host (`vpc.tencentcloudapi.com`)
            // must be signed for that service, as the real gateway requires;
            // on any other host (127.0.0.1:9000) the scope alone decides.
            if let Some(host_service) = host_service(parts).filter(|h| *h != service.name) {
                return Err(ApiError::new(
                    "AuthFailure.SignatureFailure",
                    format!(
                        "The provided credentials could not be validated: credential is scoped to service `{}`, but the request is for `{host_service}`.",
                        shorten(&parsed.service)
                    ),
                ));
            }
            verify_signature(parts, &body, parsed, *timestamp, key, service.name)?;
            // From here on the connection is worth keeping (see `conns`).
            if let Some(track) = parts.extensions.get::<RequestTrack>() {
                track.authenticated();
            }
            (service, parsed.secret_id.as_str())
        }
    };

    // Version, then action.
    let version = service.version;
    match single_header(parts, "x-tc-version") {
        Ok(Some(v)) if v == version => {}
        Ok(None) => return Err(ApiError::missing("X-TC-Version")),
        Ok(Some(other)) => {
            return Err(ApiError::new(
                "NoSuchVersion",
                format!(
                    "The API version `{}` does not exist; {} supports {version}.",
                    shorten(other),
                    service.name
                ),
            ))
        }
        Err(()) => {
            return Err(ApiError::new(
                "NoSuchVersion",
                "X-TC-Version is repeated or malformed.",
            ))
        }
    }
    let action = match single_header(parts, "x-tc-action") {
        Ok(Some(name)) if !name.is_empty() => service.action(name)?,
        Ok(_) => return Err(ApiError::missing("X-TC-Action")),
        Err(()) => return Err(service.invalid_action("<malformed>")),
    };
    meta.action = Some(action);
    // Counted here, once the request is authenticated and its action known,
    // so that what follows (region, rate limit, parameters, injected
    // faults, the action's own checks) cannot hide a request from tests
    // that count what a client sent.
    shared.faults.count_request(action);
    let region = checked_region(parts, action, service)?;

    if let Some(limiter) = &shared.limiter {
        // Unsigned requests share one bucket per action (key "", which no
        // secret id can be).
        if !limiter.allow(rate_key, action) {
            return Err(ApiError::new(
                "RequestLimitExceeded",
                format!(
                    "Too many {action} requests from this SecretId: at most {} a second.",
                    limiter.per_second()
                ),
            ));
        }
    }

    let params = params(parts, body)?;
    let request = service.decode(action, params)?;
    Ok((request, region))
}

/// The service a Tencent Cloud host names (`vpc.tencentcloudapi.com`,
/// `cvm.ap-guangzhou.tencentcloudapi.com`), if it is one on the listener.
fn host_service(parts: &Parts) -> Option<&'static str> {
    let host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))?;
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let rest = host.strip_suffix(".tencentcloudapi.com")?;
    let label = rest.split('.').next()?;
    Service::from_scope(label).map(|s| s.name)
}

/// The STS service, for the one unsigned action.
fn sts_service() -> Result<&'static Service, ApiError> {
    Service::from_scope(sts::STS_SERVICE)
        .ok_or_else(|| ApiError::new("InternalError", "STS's description is not in this build."))
}

/// `X-TC-Region`: required when the service's description says the
/// action needs one (`MissingParameter`); for STS optional; when given, one of
/// [`REGIONS`](crate::REGIONS) (`UnsupportedRegion`). `None` only when
/// absent and not needed.
fn checked_region(
    parts: &Parts,
    action: &str,
    service: &'static Service,
) -> Result<Option<&'static str>, ApiError> {
    let needed = service.needs_region(action);
    match single_header(parts, "x-tc-region") {
        Ok(None) | Ok(Some("")) if needed => Err(ApiError::missing("Region")),
        Ok(None) | Ok(Some("")) => Ok(None),
        Ok(Some(region)) => regions::known_region(region).map(Some).ok_or_else(|| {
            ApiError::new(
                "UnsupportedRegion",
                format!(
                    "The region `{}` does not exist or does not offer {}.",
                    shorten(region),
                    service.name
                ),
            )
        }),
        Err(()) => Err(ApiError::new(
            "UnsupportedRegion",
            "X-TC-Region is repeated or malformed.",
        )),
    }
}

/// The request parameters: the query of a GET, the body of a POST (JSON,
/// or a form). The body is consumed: a tree built from it replaces it.
fn params(parts: &Parts, body: Bytes) -> Result<Params, ApiError> {
    let invalid = |why: String| ApiError::new("InvalidParameter", why);
    if parts.method == Method::GET {
        let query = parts.uri.query().unwrap_or("");
        return form_to_json(query.as_bytes())
            .map(|map| Params::Tree(Value::Object(map)))
            .map_err(|e| invalid(format!("The query string is invalid: {e}.")));
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => json_params(body),
        "application/x-www-form-urlencoded" => form_to_json(&body)
            .map(|map| Params::Tree(Value::Object(map)))
            .map_err(|e| invalid(format!("The form body is invalid: {e}."))),
        other => Err(invalid(format!(
            "The Content-Type `{}` is not supported; send POST requests as application/json.",
            shorten(other)
        ))),
    }
}

/// The registry's description check, for the services' decoders.
impl ModelVerdict for Service {
    fn decode_violations(
        &'static self,
        action: &str,
        params: &serde_json::Value,
    ) -> Result<Vec<tencentcloud_model::Violation>, ApiError> {
        Service::decode_violations(self, action, params)
    }
}

impl Fallback for Service {
    type Checked = Checked;

    fn validate(&'static self, action: &'static str, params: Params) -> Result<Checked, ApiError> {
        Service::validate(self, action, params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cvm::request::{decode, ACTIONS};

    #[test]
    fn cvm_knows_every_action_and_decodes_the_emulated_ones() {
        assert_eq!(ACTIONS.len(), 106);
        for action in crate::cvm::actions::EMULATED_ACTIONS {
            assert!(ACTIONS.contains(action), "{action}");
        }
        let cvm = Service::from_scope("cvm").unwrap();
        for action in ACTIONS {
            let action = cvm.action(action).unwrap();
            // `{}`: a gateway error or a request, never a panic.
            match decode(cvm, action, Params::Tree(serde_json::json!({}))) {
                Ok(Checked::Cvm(r)) => assert_eq!(r.action(), action),
                Ok(Checked::NotEmulated { action: a, .. }) => {
                    assert_eq!(a, action);
                    assert!(!crate::cvm::actions::EMULATED_ACTIONS.contains(&action));
                }
                Ok(_) => panic!("{action}: another service's request"),
                Err(e) => assert_eq!(e.code, "MissingParameter", "{action}: {e}"),
            }
        }
    }

    #[test]
    fn which_actions_need_a_region_is_the_spec_s() {
        // As the client sees it (`rules.json`).
        let cvm = Service::from_scope("cvm").unwrap();
        assert!(cvm.needs_region("DescribeInstances"));
        assert!(!cvm.needs_region("DescribeRegions"));
    }
}
