//! One handler for every request: the metadata paths, or the gateway's
//! checks, then the injected fault, then the service's action; the API 3.0
//! envelope, the `Date` header and the log line.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, DATE};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};

use crate::checked::Checked;
use crate::cvm::common::answer_kept;
use crate::error::{shorten, ApiError};
use crate::faults::Fault;
use crate::gateway::{gateway, Meta};
use crate::shared::{Ctx, Shared};
use crate::{cbs, cvm, metadata, sts, tag, vpc};

/// How a request ends.
pub(crate) enum Reply {
    /// HTTP 200 with an API 3.0 envelope.
    Answer(Response<Body>),
    /// No answer: the connection is to be reset (an injected fault).
    Reset,
}

/// What [`process`] came to.
enum Outcome {
    Answer(Result<String, ApiError>),
    Reset,
}

/// Answers any request: HTTP 200 with an API 3.0 envelope and a `Date`
/// from the emulator's clock, unless a reset is injected.
pub(crate) async fn handle(shared: Arc<Shared>, request: Request<Body>) -> Reply {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    if parts.uri.path().starts_with(metadata::PREFIX) {
        // Unauthenticated metadata paths: no gateway check, no body read.
        drop(body);
        let (mut response, outcome) = metadata::answer(&shared, &parts);
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        tracing::info!(
            request_id,
            path = shorten(parts.uri.path()).as_str(),
            outcome,
            status = response.status().as_u16(),
            elapsed_us,
            "metadata"
        );
        insert_date(&shared, &mut response);
        return Reply::Answer(response);
    }
    let mut meta = Meta::default();
    let outcome = process(&shared, &parts, body, &request_id, &mut meta).await;
    let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let action = meta.action.unwrap_or("-");
    let secret_id = meta.secret_id.as_deref().unwrap_or("-");
    let fault = meta.fault.unwrap_or("-");
    let result = match outcome {
        Outcome::Answer(result) => result,
        Outcome::Reset => {
            tracing::info!(
                request_id,
                action,
                secret_id,
                outcome = "ConnectionReset",
                fault,
                elapsed_us,
                "request"
            );
            return Reply::Reset;
        }
    };
    let body = match result {
        Ok(response) => {
            tracing::info!(
                request_id,
                action,
                secret_id,
                outcome = "OK",
                fault,
                elapsed_us,
                "request"
            );
            format!("{{\"Response\":{response}}}")
        }
        Err(error) => {
            tracing::info!(
                request_id,
                action,
                secret_id,
                outcome = error.code.as_str(),
                detail = error.message.as_str(),
                fault,
                elapsed_us,
                "request"
            );
            error_envelope(&error, &request_id)
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    insert_date(&shared, &mut response);
    Reply::Answer(response)
}

/// The `Date` header (RFC 7231) from the emulator's clock, so a client can
/// learn its offset (hyper would otherwise write the machine's time).
fn insert_date(shared: &Shared, response: &mut Response<Body>) {
    let date = httpdate::fmt_http_date(crate::time::emulator_now(shared.clock_skew_secs));
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(DATE, value);
    }
}

/// Runs the gateway checks, draws the request's fault, then acts (or
/// not) as the fault says.
async fn process(shared: &Shared, parts: &Parts, body: Body, request_id: &str, meta: &mut Meta) -> Outcome {
    let (request, region) = match gateway(shared, parts, body, meta).await {
        Ok(checked) => checked,
        Err(e) => return Outcome::Answer(Err(e)),
    };
    let decision = shared.faults.decide();
    meta.fault = decision.fault.name();
    let result = match decision.fault {
        Fault::RequestLimitExceeded => Err(ApiError::new(
            "RequestLimitExceeded",
            format!(
                "Too many {} requests; retry later (fault injected by cvm-emulator).",
                request.action()
            ),
        )),
        Fault::InternalError => Err(ApiError::new(
            "InternalError",
            "An internal error occurred; retry later (fault injected by cvm-emulator).",
        )),
        Fault::ResetBefore => {
            tokio::time::sleep(decision.latency).await;
            return Outcome::Reset;
        }
        Fault::None | Fault::ResetAfter => {
            let ctx = Ctx {
                shared,
                request_id,
                region,
            };
            match request {
                // Returns once the change is on disk (with a state file).
                Checked::Cvm(request) => cvm::actions::handle(request, &ctx).await,
                // Issues credentials: nothing to keep.
                Checked::Sts(request) => sts::handle(request, &ctx),
                // Networks are kept like instances.
                Checked::Vpc(request) => answer_kept(&ctx, || vpc::handle(request, &ctx)).await,
                Checked::Cbs(request) => answer_kept(&ctx, || cbs::handle(request, &ctx)).await,
                Checked::Tag(request) => answer_kept(&ctx, || tag::handle(request, &ctx)).await,
                Checked::NotEmulated {
                    service,
                    action,
                    emulated,
                    rules,
                } => rules.and_then(|()| {
                    let emulated = if emulated.is_empty() {
                        "none".to_owned()
                    } else {
                        emulated.join(", ")
                    };
                    Err(ApiError::new(
                        "UnsupportedOperation",
                        format!("The action {action} is not emulated by cvm-emulator (emulated of {service}: {emulated})."),
                    ))
                }),
            }
        }
    };
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if decision.fault == Fault::ResetAfter {
        return Outcome::Reset;
    }
    Outcome::Answer(result)
}

fn error_envelope(error: &ApiError, request_id: &str) -> String {
    serde_json::json!({
        "Response": {
            "Error": {"Code": error.code, "Message": error.message},
            "RequestId": request_id,
        }
    })
    .to_string()
}

/// The axum router answering every path and method with [`handle`].
/// In-process there is no connection to reset: an injected reset is
/// answered with an empty HTTP 502 and `Connection: close`, as a proxy
/// reports a connection lost upstream.
pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(move |request: Request<Body>| {
        let shared = Arc::clone(&shared);
        async move {
            match handle(shared, request).await {
                Reply::Answer(response) => response,
                Reply::Reset => {
                    let mut response = Response::new(Body::empty());
                    *response.status_mut() = StatusCode::BAD_GATEWAY;
                    response
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                    response
                }
            }
        }
    })
}
