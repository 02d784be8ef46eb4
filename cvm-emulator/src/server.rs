//! The gateway: one handler for every request, checking it in the order the
//! real API gateway does, then dispatching to the emulated action.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, DATE, HOST};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;
use signer::{
    parse_authorization, verify_with_service, ParsedAuthorization, ReceivedRequest, SecretKey, VerifyError,
};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::conns::{FreeShare, RequestTrack};
use crate::cvm::actions::{self, Ctx};
use crate::cvm::regions;
use crate::cvm::request::ApiRequest;
use crate::cvm::store::Store;
use crate::decode::{json_params, Params};
use crate::error::{shorten, ApiError};
use crate::faults::{Fault, Faults};
use crate::metadata;
use crate::query::form_to_json;
use crate::ratelimit::RateLimiter;
use crate::services::Service;
use crate::sts::{self, StsRequest};
use crate::tmpcreds::{Issued, Minter, Source, TEMP_ID_PREFIX};
use crate::vpc::VpcRequest;

/// A request that passed the gateway, for the service it names.
pub(crate) enum Checked {
    Cvm(ApiRequest),
    Sts(StsRequest),
    Vpc(VpcRequest),
    /// A valid request of an action the emulator does not implement,
    /// with the result of the spec's rules (reported after the fault).
    NotEmulated {
        service: &'static str,
        action: &'static str,
        /// The service's emulated actions, for the message.
        emulated: &'static [&'static str],
        rules: Result<(), ApiError>,
    },
}

impl Checked {
    fn action(&self) -> &'static str {
        match self {
            Checked::Cvm(r) => r.action(),
            Checked::Sts(r) => r.action(),
            Checked::Vpc(r) => r.action(),
            Checked::NotEmulated { action, .. } => action,
        }
    }
}

/// Who signed a request, as far as the checks before the body tell.
enum Caller<'s> {
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

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) credentials: HashMap<String, SecretKey>,
    pub(crate) transition_ms: u64,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_clock_skew_secs: i64,
    /// How far the emulator's clock runs ahead of the machine's.
    pub(crate) clock_skew_secs: i64,
    pub(crate) faults: Faults,
    pub(crate) max_instances: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) limiter: Option<RateLimiter>,
    /// Issues and verifies temporary credentials.
    pub(crate) minter: Minter,
    /// The instance role the metadata service gives (`None`: no role).
    pub(crate) instance_role: Option<String>,
    /// Lifetime of metadata credentials, and the cap on STS ones.
    pub(crate) credential_ttl_secs: u64,
    /// The web identity token `AssumeRoleWithWebIdentity` accepts.
    pub(crate) web_identity_token: Option<SecretKey>,
    pub(crate) store: Mutex<Store>,
    /// Images whose launches fail: [`crate::LAUNCH_FAILURE_IMAGE_ID`] and
    /// those configured.
    pub(crate) failing_images: HashSet<String>,
    /// Request body bytes buffered at once across all requests (beyond
    /// the first [`FREE_BODY_BYTES`] of a body per connection), in
    /// [`BUDGET_UNIT`]s (see [`body_budget`]).
    pub(crate) body_budget: Semaphore,
}

/// Granularity of [`Shared::body_budget`]: permits count KiB, so that
/// budgets above 4 GiB still fit the semaphore's `u32` requests.
pub(crate) const BUDGET_UNIT: usize = 1024;

/// Bytes of a request body read without room in the shared budget, for
/// one request at a time per connection: enough for any ordinary request,
/// so that these never wait behind big bodies. Bounded by the connection
/// cap (1024 x 16 KiB = 16 MiB).
pub(crate) const FREE_BODY_BYTES: usize = 16 * 1024;

/// The semaphore for a budget of `bytes` (at least one body of
/// `max_body_bytes` always fits).
pub(crate) fn body_budget(bytes: usize, max_body_bytes: usize) -> Semaphore {
    let units = budget_units(bytes.max(max_body_bytes)).max(1);
    Semaphore::new(
        usize::try_from(units)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS),
    )
}

/// Units needed to hold `bytes`.
fn budget_units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(BUDGET_UNIT)).unwrap_or(u32::MAX)
}

impl Shared {
    /// The store; a panic in another handler does not make it unusable
    /// (handlers validate everything before changing anything).
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether RunInstances from `image_id` ends in LAUNCH_FAILED.
    pub(crate) fn launch_fails(&self, image_id: &str) -> bool {
        self.failing_images.contains(image_id)
    }

    /// Unix seconds by the emulator's clock (with its configured skew).
    pub(crate) fn now_secs(&self) -> u64 {
        u64::try_from(crate::time::unix_secs(crate::time::emulator_now(
            self.clock_skew_secs,
        )))
        .unwrap_or(0)
    }

    /// A new temporary credential valid `lifetime_secs` from now (whole
    /// seconds of the emulator's clock), counted under `source`.
    pub(crate) fn issue(&self, source: Source, lifetime_secs: u64) -> Issued {
        self.minter
            .issue(source, self.now_secs().saturating_add(lifetime_secs))
    }
}

/// What a request came to, for the log line.
#[derive(Default)]
struct Meta {
    action: Option<&'static str>,
    secret_id: Option<String>,
    fault: Option<&'static str>,
}

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
                Checked::Cvm(request) => actions::handle(request, &ctx).await,
                // Issues credentials: nothing to keep.
                Checked::Sts(request) => sts::handle(request, &ctx),
                // Reads the instances' network: nothing to keep.
                Checked::Vpc(request) => crate::vpc::handle(request, &ctx),
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

/// The one value of header `name`: `Ok(None)` when absent, `Err(())` when
/// repeated or not visible ASCII.
fn single_header<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, ()> {
    let mut values = parts.headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(());
    }
    first.to_str().map(Some).map_err(|_| ())
}

/// The gateway checks, in the real gateway's order, up to the typed
/// request: every request that passes is authenticated (or is the one
/// unsigned STS action) and well-formed.
///
/// The credential scope's service picks the rules (version, actions,
/// region); an unsigned `AssumeRoleWithWebIdentity` is STS's.
async fn gateway(
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
    let caller = match authenticate_headers(shared, parts, meta) {
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
            verify_signature(parts, &body, parsed, *timestamp, key, service)?;
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

/// The TC3 signature of the request, scoped to `service`.
fn verify_signature(
    parts: &Parts,
    body: &[u8],
    parsed: &ParsedAuthorization,
    timestamp: i64,
    key: &SecretKey,
    service: &Service,
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
    verify_with_service(&received, key, service.name).map_err(|e| match e {
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

/// The checks that need no body: `Authorization` present and well-formed
/// (or `SKIP` on the one action that allows it), `X-TC-Timestamp` within
/// the allowed skew, the secret id known, and for a temporary id its
/// expiry and `X-TC-Token`.
///
/// A temporary id's token is checked here, before the signature: both
/// need no body, so a client holding an expired or mismatched credential
/// learns it (`AuthFailure.TokenFailure`) without sending the body, and a
/// correctly signed request with a wrong token gets `TokenFailure`, as
/// from the real gateway. Permanent ids ignore `X-TC-Token`.
fn authenticate_headers<'s>(
    shared: &'s Shared,
    parts: &Parts,
    meta: &mut Meta,
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
    meta.secret_id = Some(shorten(&parsed.secret_id));
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

/// The body's length when known before reading it: exact from the body
/// itself (HTTP/1 `Content-Length`, an HTTP/2 stream that ended) or the
/// `Content-Length` header.
fn declared_length(parts: &Parts, body: &Body) -> Option<u64> {
    hyper::body::Body::size_hint(body).exact().or_else(|| {
        parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    })
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        "RequestSizeLimitExceeded",
        format!("The request body is larger than the limit of {max} bytes."),
    )
}

fn body_late(shared: &Shared) -> ApiError {
    ApiError::new(
        "InvalidRequest",
        format!(
            "The request body did not arrive within {} s.",
            shared.body_timeout.as_secs()
        ),
    )
}

fn body_unreadable(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(
        "InvalidRequest",
        format!("The request body could not be read: {e}."),
    )
}

fn budget_exhausted(shared: &Shared) -> ApiError {
    ApiError::new(
        "RequestLimitExceeded",
        format!(
            "The emulator is buffering as many request bodies as it allows, and none finished within {} s; retry later.",
            shared.body_timeout.as_secs()
        ),
    )
}

/// Reads and discards up to 4 times the size limit, within the body
/// timeout: the number of bytes seen (at most a frame past the cap).
async fn drain(shared: &Shared, mut body: Body) -> Result<usize, ApiError> {
    let cap = shared.max_body_bytes.saturating_mul(4);
    let read = async {
        let mut total: usize = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| body_unreadable(&e))?;
            if let Ok(data) = frame.into_data() {
                total = total.saturating_add(data.len());
                if total > cap {
                    break;
                }
            }
        }
        Ok(total)
    };
    tokio::time::timeout(shared.body_timeout, read)
        .await
        .map_err(|_| body_late(shared))?
}

/// The answer to a body declared larger than the limit. A body up to 4
/// times the limit is still read (not kept) so the client gets the error
/// envelope rather than a reset connection.
async fn oversized(shared: &Shared, declared: Option<u64>, body: Body) -> ApiError {
    let max = shared.max_body_bytes;
    if declared.is_some_and(|n| n <= max.saturating_mul(4) as u64) {
        if let Err(e) = drain(shared, body).await {
            return e;
        }
    }
    too_large(max)
}

/// For a body of unknown length whose request already failed: `Ok` when it
/// is within the limit (the other error stands), else the size error.
async fn measure(shared: &Shared, body: Body) -> Result<(), ApiError> {
    let max = shared.max_body_bytes;
    if drain(shared, body).await? > max {
        Err(too_large(max))
    } else {
        Ok(())
    }
}

/// Room held for a body: keep it while its bytes (or what is decoded from
/// them) are in use.
struct Room<'s> {
    _budget: Option<SemaphorePermit<'s>>,
    _free: Option<FreeShare>,
}

/// Reads the body up to the size limit, within the body timeout, holding
/// its bytes in [`Shared::body_budget`], but for the first
/// [`FREE_BODY_BYTES`] when the connection's `free_share` is given. Room is
/// taken as bytes arrive, never for a declared length alone, so clients
/// that announce big bodies and send nothing hold nothing; and a small
/// body never waits for room, however many big ones are stalled. A body
/// over the limit is still read (up to 4 times the limit, not kept) so the
/// client gets the error envelope rather than a reset connection.
async fn read_body<'s>(
    shared: &'s Shared,
    declared: Option<u64>,
    free_share: Option<FreeShare>,
    mut body: Body,
) -> Result<(Bytes, Room<'s>), ApiError> {
    let max = shared.max_body_bytes;
    let free = if free_share.is_some() { FREE_BODY_BYTES } else { 0 };
    // The buffer is sized for the declared length once bytes arrive (no
    // copies as it grows); pages are only resident as they are written.
    let expected = declared.map_or(0, |n| usize::try_from(n).unwrap_or(max).min(max));
    let budget = &shared.body_budget;
    let mut held: Option<SemaphorePermit<'s>> = None;
    let mut held_units: u32 = 0;
    let waiting_for_budget = AtomicBool::new(false);
    let read = async {
        let mut buf: Vec<u8> = Vec::new();
        let mut total: usize = 0;
        let mut over = false;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| body_unreadable(&e))?;
            let Ok(data) = frame.into_data() else { continue };
            total = total.saturating_add(data.len());
            if total > max && !over {
                over = true;
                buf = Vec::new();
                held = None;
                held_units = 0;
            }
            if over {
                if total > max.saturating_mul(4) {
                    break;
                }
                continue;
            }
            let needed = budget_units(total.saturating_sub(free));
            if needed > held_units {
                waiting_for_budget.store(true, Ordering::Relaxed);
                let more = budget
                    .acquire_many(needed - held_units)
                    .await
                    .map_err(|_| budget_exhausted(shared))?;
                waiting_for_budget.store(false, Ordering::Relaxed);
                match &mut held {
                    Some(permit) => permit.merge(more),
                    None => held = Some(more),
                }
                held_units = needed;
            }
            if buf.capacity() == 0 {
                // Address space only; where even that is refused, the
                // buffer grows as usual.
                let _ = buf.try_reserve_exact(expected.max(data.len()));
            }
            buf.extend_from_slice(&data);
        }
        if over {
            Err(too_large(max))
        } else {
            Ok(Bytes::from(buf))
        }
    };
    let bytes = match tokio::time::timeout(shared.body_timeout, read).await {
        Ok(result) => result?,
        Err(_) if waiting_for_budget.load(Ordering::Relaxed) => return Err(budget_exhausted(shared)),
        Err(_) => return Err(body_late(shared)),
    };
    Ok((
        bytes,
        Room {
            _budget: held,
            _free: free_share,
        },
    ))
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
