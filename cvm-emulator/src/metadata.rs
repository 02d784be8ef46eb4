//! The CVM metadata service's instance-role paths, on the API's listener:
//!
//! - `GET /latest/meta-data/cam/security-credentials/` → the role name (text/plain);
//! - `GET /latest/meta-data/cam/security-credentials/<role>` → a new
//!   temporary credential of that role (JSON).
//!
//! Unauthenticated, as on a real instance: these never reach the gateway
//! checks. Nothing is read from the body and nothing is kept per request.

use axum::body::Body;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use serde::Serialize;

use crate::error::shorten;
use crate::shared::Shared;
use crate::tmpcreds::Source;

/// Paths under this prefix are the metadata service's, never the API's.
pub(crate) const PREFIX: &str = "/latest/";

/// The role paths, as the official SDKs build them.
const ROLES: &str = "/latest/meta-data/cam/security-credentials/";

/// The default instance role's name.
pub const DEFAULT_ROLE_NAME: &str = "CVM_QcsRole";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials<'a> {
    tmp_secret_id: &'a str,
    tmp_secret_key: &'a str,
    expired_time: u64,
    expiration: String,
    token: &'a str,
    code: &'static str,
}

/// The answer to a request whose path starts with [`PREFIX`], and what to log.
pub(crate) fn answer(shared: &Shared, parts: &Parts) -> (Response<Body>, &'static str) {
    if parts.method != Method::GET {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET is served here\n".to_owned(),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return (response, "MethodNotAllowed");
    }
    let role = shared.instance_role.as_deref();
    let Some(rest) = parts.uri.path().strip_prefix(ROLES) else {
        return (not_found(parts), "NotFound");
    };
    match (role, rest) {
        (Some(role), "") => (plain(StatusCode::OK, role.to_owned()), "RoleName"),
        (Some(role), asked) if asked == role => {
            let issued = shared.issue(Source::Metadata, shared.credential_ttl_secs);
            let body = RoleCredentials {
                tmp_secret_id: &issued.secret_id,
                tmp_secret_key: issued.secret_key.expose(),
                expired_time: issued.expired_time,
                expiration: crate::time::iso8601(issued.expired_time.saturating_mul(1000)),
                token: issued.token.expose(),
                code: "Success",
            };
            match serde_json::to_string(&body) {
                Ok(json) => {
                    let mut response = Response::new(Body::from(json));
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    (response, "Credentials")
                }
                Err(_) => (
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot encode\n".to_owned()),
                    "InternalError",
                ),
            }
        }
        // No role, or another role: as a machine without it.
        _ => (not_found(parts), "NotFound"),
    }
}

fn not_found(parts: &Parts) -> Response<Body> {
    plain(
        StatusCode::NOT_FOUND,
        format!("{} not found\n", shorten(parts.uri.path())),
    )
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
