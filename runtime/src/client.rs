//! The generic call path: validate and serialize once, then attempts
//! (credentials, timestamp, sign, interceptors, send, read, classify) until
//! one succeeds or the retry policy says stop.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, DATE, LOCATION, USER_AGENT,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use signer::{Payload, SigningRequest};
use tracing::Instrument;

use super::clock::Clock;
use super::decode::{decode, Undecoded};
use super::display::Escaped;
use super::failover::{Breakers, Choice, Health};
use super::interceptor::{AttemptOutcome, OutgoingRequest};
use super::pace::{PaceKey, Pacer, Permit};
use super::reply::{Failure, Reply};
use super::retry::{Class, TokenBucket};
use super::route::{Route, Routes};
use super::transport::{HttpRequest, HttpResponse, HttpTransport};
use super::{
    Action, Config, ConfigError, Credentials, CredentialsError, Error, FieldPath, InvalidResponseKind,
    Problem, RateLimit, RateLimitError, ResponseLimits, RetryConfig, ServiceError, TransportError,
    TransportErrorKind, ValidationError, Violation,
};

/// Signed and sent byte for byte: the two must not drift apart.
const CONTENT_TYPE_JSON: &str = "application/json";

/// The SDK and its version: the HTTP client's `User-Agent`, which each call
/// completes with the service and API version it calls (see [`user_agent`]).
use super::transport::SDK_USER_AGENT;

const AUTH_TOKEN_FAILURE: &str = "AuthFailure.TokenFailure";
const AUTH_SIGNATURE_EXPIRE: &str = "AuthFailure.SignatureExpire";
/// What a gateway that no longer knows a temporary id (revoked, or issued
/// before it restarted) answers.
const AUTH_SECRET_ID_NOT_FOUND: &str = "AuthFailure.SecretIdNotFound";

/// A timeout counts against an endpoint (see `failover.rs`) only when the
/// attempt had its whole timeout or at least this long: less, cut by a
/// call's tight deadline, shows nothing of the endpoint.
const TIMEOUT_EVIDENCE: Duration = Duration::from_secs(1);

/// Chunks of a body read before the read loop lets the executor in.
const CHUNKS_BEFORE_YIELD: u32 = 64;

/// Longest action or version name [`Client::call_with`] takes: the
/// longest Tencent action is far shorter, and each name becomes a header
/// and a key of the client's rate limiter, which holds thousands.
const MAX_NAME_BYTES: usize = 128;

const X_TC_ACTION: HeaderName = HeaderName::from_static("x-tc-action");
const X_TC_VERSION: HeaderName = HeaderName::from_static("x-tc-version");
const X_TC_TIMESTAMP: HeaderName = HeaderName::from_static("x-tc-timestamp");
const X_TC_REGION: HeaderName = HeaderName::from_static("x-tc-region");
const X_TC_TOKEN: HeaderName = HeaderName::from_static("x-tc-token");
const X_TC_LANGUAGE: HeaderName = HeaderName::from_static("x-tc-language");

/// The shared, service-independent client: one configuration, one
/// credential provider, one connection pool, one retry budget, one clock
/// correction. Service crates make their clients from it
/// (`cvm_api::Client::new(&shared)`).
///
/// Cheap to clone (an `Arc` inside); clones share all of the above, so make
/// one and clone it rather than making many.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    transport: Arc<dyn HttpTransport>,
    /// Header values built once.
    region: Option<HeaderValue>,
    language: Option<HeaderValue>,
    clock: Clock,
    budget: TokenBucket,
    /// Which endpoints cannot be reached, shared by every call.
    breakers: Breakers,
    /// Each action's pace, shared by every call.
    pacer: Pacer,
    /// Each (service, version, region)'s endpoints and user agent.
    routes: Routes,
}

impl Client {
    /// A client for `config`, after [`Config::validate`].
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let header = |value: &str, what: &'static str| {
            HeaderValue::from_str(value).map_err(|_| ConfigError::Invalid {
                what,
                reason: "contains characters not allowed in an HTTP header".to_owned(),
            })
        };
        let region = config.region().map(|r| header(r, "region")).transpose()?;
        let language = config.language().map(|l| header(l, "language")).transpose()?;
        let transport = make_transport(&config)?;
        let budget = TokenBucket::new(config.retry_budget());
        let breakers = Breakers::new(config.failover());
        let pacer = Pacer::new(config.rate_limit().clone());
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                region,
                language,
                clock: Clock::default(),
                budget,
                breakers,
                pacer,
                routes: Routes::new(),
            }),
        })
    }

    /// [`Client::new`] with [`Config::from_env`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Client::new(Config::from_env()?)
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Seconds the service's clock is ahead of this machine's (negative:
    /// behind), as learnt from the `Date` of an `AuthFailure.SignatureExpire`
    /// answer; 0 until then. Requests are timestamped with it.
    pub fn clock_skew(&self) -> i64 {
        self.inner.clock.skew()
    }

    /// Tokens left in the retry budget shared by this client and its clones.
    pub fn retry_tokens(&self) -> u32 {
        self.inner.budget.available()
    }

    /// Calls action `A`: checks the request ([`Error::InvalidRequest`], and
    /// nothing is sent), signs it with TC3-HMAC-SHA256, POSTs it as JSON and
    /// decodes the answer into `A::Response` or `A::Error`, retrying as the
    /// client's [`RetryConfig`] allows.
    pub async fn send<A: Action>(&self, request: &A) -> Result<A::Response, Error<A::Error>> {
        self.send_with(request, &CallOptions::default()).await
    }

    /// [`Client::send`] with `options` overriding the client's settings for this call.
    pub async fn send_with<A: Action>(
        &self,
        request: &A,
        options: &CallOptions,
    ) -> Result<A::Response, Error<A::Error>> {
        let span = call_span(A::SERVICE, A::NAME, A::VERSION);
        async {
            if let Err(e) = request.check() {
                tracing::debug!(error = %e, "request refused before sending");
                return Err(Error::InvalidRequest(e));
            }
            if A::NEEDS_REGION && options.region.is_none() && self.inner.region.is_none() {
                let e = ValidationError {
                    violations: vec![Violation {
                        path: FieldPath::parse("region"),
                        problem: Problem::Unsendable(format!(
                            "is required by {}: set TENCENTCLOUD_REGION, Config::with_region or the call's with_region (e.g. ap-guangzhou)",
                            A::NAME
                        )),
                    }],
                };
                tracing::debug!(error = %e, "request refused before sending");
                return Err(Error::InvalidRequest(e));
            }
            let body = serde_json::to_vec(request).map_err(|e| Error::InvalidRequest(unserializable(e)))?;
            // A request that carries a token is safe to repeat: the service
            // acts on one token once. Fill one in when the caller did not.
            let (body, has_token) = match A::CLIENT_TOKEN {
                Some(member) => with_client_token(body, member, request.client_token()),
                None => (body, false),
            };
            let call = Call {
                service: A::SERVICE,
                action: Name::Static(A::NAME),
                version: Name::Static(A::VERSION),
                safe: options.idempotent.unwrap_or(A::READ_ONLY || has_token),
                unsigned: A::UNSIGNED,
                rate_limit: A::RATE_LIMIT,
            };
            self.run(call, body.into(), options, decode::<A::Response>).await
        }
        .instrument(span)
        .await
    }

    /// Calls any action by name, for actions this crate does not describe:
    /// `request` is sent as the JSON body as is (no client-side checks) and
    /// the `Response` object is decoded into `Resp`. Prefer the typed methods.
    ///
    /// Knowing nothing of the action, only what is always safe to repeat is
    /// retried (throttling, connect failures); see [`Client::call_with`] and
    /// [`CallOptions::with_idempotent`].
    pub async fn call<Req, Resp>(
        &self,
        service: &str,
        version: &str,
        action: &str,
        request: &Req,
    ) -> Result<Resp, Error<ServiceError>>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned + Send,
    {
        self.call_with(service, version, action, request, &CallOptions::default())
            .await
    }

    /// [`Client::call`] with `options` overriding the client's settings for
    /// this call. `options.with_idempotent(true)` declares repeating the call
    /// safe (the action only reads, or the request carries a `ClientToken`),
    /// so that timeouts, lost connections, 5xx and `InternalError` are
    /// retried too.
    pub async fn call_with<Req, Resp>(
        &self,
        service: &str,
        version: &str,
        action: &str,
        request: &Req,
        options: &CallOptions,
    ) -> Result<Resp, Error<ServiceError>>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned + Send,
    {
        let span = call_span(service, action, version);
        async {
            let body = serde_json::to_vec(request).map_err(|e| Error::InvalidRequest(unserializable(e)))?;
            let call = Call {
                service,
                action: Name::Borrowed(action),
                version: Name::Borrowed(version),
                safe: options.idempotent.unwrap_or(false),
                unsigned: false,
                rate_limit: None,
            };
            self.run(call, body.into(), options, decode::<Resp>).await
        }
        .instrument(span)
        .await
    }

    /// The attempt loop. Generic only in `decode`, so that each action
    /// adds a small state machine: every step is a non-generic method.
    async fn run<R, E: From<ServiceError>>(
        &self,
        call: Call<'_>,
        body: bytes::Bytes,
        options: &CallOptions,
        decode: impl Fn(&str, ResponseLimits) -> Result<R, Undecoded>,
    ) -> Result<R, Error<E>> {
        let mut state = self.start(&call, options).map_err(|f| f.into_error(0))?;
        let span = tracing::Span::current();
        if let Some((region, _)) = &state.region {
            span.record("region", *region);
        }
        loop {
            state.sent += 1;
            let started = Instant::now();
            let failure = match self.attempt(&mut state, &body).await {
                Ok(reply) => match reply.open() {
                    Ok((raw, request_id)) => match decode(raw.get(), self.inner.config.response_limits()) {
                        Ok(response) => {
                            if let Some(permit) = state.permit.take() {
                                self.inner.pacer.on_accepted(state.pace_key(), &permit);
                            }
                            if let Some(choice) = state.choice.take() {
                                choice.record(Health::Reachable, Instant::now());
                            }
                            self.succeeded(&state, &reply, &request_id, started.elapsed());
                            span.record("attempts", state.sent);
                            span.record("paced_ms", millis(state.paced));
                            span.record("request_id", &*request_id);
                            span.record("status", reply.status);
                            return Ok(response);
                        }
                        Err(Undecoded { kind, reason }) => {
                            let failure = reply.invalid(kind, reason);
                            (Some(reply), failure)
                        }
                    },
                    Err(failure) => (Some(reply), failure),
                },
                Err(failure) => (None, failure),
            };
            if let Some(permit) = state.permit.take() {
                // The gateway counts a request once it is authenticated:
                // any answer but an authentication failure used a turn.
                if let Failure::Service(e) = &failure.1 {
                    if e.is_throttling() {
                        self.inner.pacer.on_throttled(state.pace_key(), &permit);
                    } else if !e.code().starts_with("AuthFailure") {
                        self.inner.pacer.on_accepted(state.pace_key(), &permit);
                    }
                }
            }
            if let Some(choice) = state.choice.take() {
                // Nothing learnt (not sent, or failed here): the choice is
                // dropped, which frees a probe slot it held.
                // A timeout that the call's own deadline cut short is the
                // caller's hurry, not the endpoint's fault: counted, a few
                // hurried calls would move every clone's calls elsewhere.
                let hurried = failure.1.transport_kind() == Some(TransportErrorKind::Timeout)
                    && state.given < state.attempt_timeout.min(TIMEOUT_EVIDENCE);
                if let Some(health) = Health::of_failure(&failure.1).filter(|_| !hurried) {
                    if health == Health::Unreachable {
                        state.failed_endpoints.push(choice.index());
                    }
                    choice.record(health, Instant::now());
                }
            }
            if let Err(failure) = self.failed(&mut state, failure, started.elapsed()).await {
                span.record("attempts", state.sent);
                span.record("paced_ms", millis(state.paced));
                span.record("code", failure.code().unwrap_or_else(|| failure.kind_name()));
                if let Some(request_id) = failure.request_id() {
                    span.record("request_id", request_id);
                }
                if let Some(status) = failure.status() {
                    span.record("status", status);
                }
                return Err(failure.into_error(state.sent));
            }
        }
    }

    /// What every attempt of a call shares.
    fn start<'a>(&'a self, call: &'a Call<'a>, options: &'a CallOptions) -> Result<CallState<'a>, Failure> {
        let config = &self.inner.config;
        let deadline = options
            .deadline
            .or(config.deadline())
            .and_then(|d| Instant::now().checked_add(d));
        let region = match &options.region {
            Some(name) => {
                crate::config::check_region(name).map_err(|reason| Failure::request("region", reason))?;
                let header = HeaderValue::from_str(name)
                    .map_err(|_| Failure::request("region", "cannot be sent in an HTTP header".to_owned()))?;
                Some((name.as_str(), header))
            }
            None => config.region().zip(self.inner.region.clone()),
        };
        let region_name = region.as_ref().map(|(name, _)| *name);
        let route = self
            .inner
            .routes
            .get(call.service, call.version.as_str(), region_name, || {
                Ok(Route {
                    candidates: config
                        .endpoint_for(call.service)
                        .candidates(call.service, region_name)
                        .map_err(|reason| Failure::request("service", reason))?,
                    user_agent: user_agent(call.service, call.version.as_str())?,
                })
            })?;
        Ok(CallState {
            call,
            route,
            failed_endpoints: Vec::new(),
            choice: None,
            permit: None,
            rate_limit: options.rate_limit.unwrap_or_default(),
            paced: Duration::ZERO,
            region,
            action: call
                .action
                .header()
                .map_err(|reason| Failure::request("action", reason))?,
            version: call
                .version
                .header()
                .map_err(|reason| Failure::request("version", reason))?,
            policy: options.retry.as_ref().unwrap_or(config.retry()),
            attempt_timeout: options.timeout.unwrap_or(config.timeout()),
            deadline,
            given: Duration::ZERO,
            sent: 0,
            skew_corrected: false,
            credentials_renewed: false,
            credentials: None,
            taken: 0,
        })
    }

    /// Bookkeeping after the success of attempt `state.sent`.
    fn succeeded(&self, state: &CallState<'_>, reply: &Reply, request_id: &str, elapsed: Duration) {
        tracing::debug!(
            status = reply.status,
            request_id,
            attempt = state.sent,
            elapsed_ms = millis(elapsed),
            "success"
        );
        self.after_attempt(state, elapsed, Some(reply), Some(request_id), None);
        self.inner.budget.on_success(state.taken);
    }

    /// Decides after a failed attempt: `Ok` once it is time for the next
    /// (the backoff slept), `Err` with the error that ends the call.
    async fn failed(
        &self,
        state: &mut CallState<'_>,
        (reply, failure): (Option<Reply>, Failure),
        elapsed: Duration,
    ) -> Result<(), Failure> {
        if let Failure::Credentials(_) | Failure::Request(_) | Failure::Paced(_) = failure {
            // Refused before sending: not an attempt, and final.
            state.sent -= 1;
            return Err(failure);
        }
        let inner = &*self.inner;
        tracing::debug!(
            status = reply.as_ref().map(|r| r.status).or(failure.status()),
            request_id = failure.request_id(),
            failure = %failure.summary(),
            attempt = state.sent,
            elapsed_ms = millis(elapsed),
            "attempt failed"
        );
        self.after_attempt(state, elapsed, reply.as_ref(), None, Some(&failure));

        let class = failure.class();
        let past_deadline = state.deadline.is_some_and(|d| Instant::now() >= d);
        if class == Class::SignatureExpired && !state.skew_corrected && !past_deadline {
            // The gateway refused the timestamp before acting: learn the
            // service's time and re-sign once, at once.
            let date = reply.as_ref().and_then(|r| r.headers.get(DATE));
            if let Some(skew) = date.and_then(|d| inner.clock.learn(d.as_bytes())) {
                state.skew_corrected = true;
                tracing::debug!(
                    skew_secs = skew,
                    request_id = failure.request_id(),
                    "signature expired: clock skew learnt from the answer's Date, signing again"
                );
                return Ok(());
            }
        }
        if matches!(
            failure.code(),
            Some(AUTH_TOKEN_FAILURE | AUTH_SIGNATURE_EXPIRE | AUTH_SECRET_ID_NOT_FOUND)
        ) && !state.credentials_renewed
            && !past_deadline
        {
            // Refused although fresh by our clock (expired ones are never
            // sent): revoked, or the service's clock disagrees. Ask the
            // provider for another, once.
            if let Some(rejected) = state.credentials.take() {
                if inner.config.credentials_provider().invalidate(&rejected) {
                    state.credentials_renewed = true;
                    tracing::debug!(
                        code = failure.code(),
                        source = rejected.source(),
                        secret_id = rejected.secret_id(),
                        request_id = failure.request_id(),
                        "credentials refused: asking the provider for new ones and trying again"
                    );
                    return Ok(());
                }
            }
        }
        if class == Class::SignatureExpired {
            return Err(failure);
        }
        if !class.retryable(state.call.safe) {
            return Err(failure);
        }
        // The skew correction and the credential renewal are not the policy's attempts.
        let counted = state.sent - u32::from(state.skew_corrected) - u32::from(state.credentials_renewed);
        if counted >= state.policy.max_attempts.max(1) {
            return Err(failure);
        }
        let delay = state.policy.backoff(class, counted);
        if state.deadline.is_some_and(|d| Instant::now() + delay >= d) {
            tracing::debug!(
                delay_ms = millis(delay),
                "not retrying: the backoff would end past the deadline"
            );
            return Err(failure);
        }
        let Some(cost) = inner.budget.try_acquire(class) else {
            tracing::debug!(
                attempt = state.sent,
                failure = %failure.summary(),
                "not retrying: the client's retry budget is spent"
            );
            return Err(failure);
        };
        state.taken += cost;
        tracing::debug!(
            attempt = state.sent,
            delay_ms = millis(delay),
            code = failure.code(),
            failure = %failure.summary(),
            request_id = failure.request_id(),
            "retrying"
        );
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// One attempt: credentials, timestamp, signature, interceptors, send,
    /// read within the size cap.
    async fn attempt(&self, state: &mut CallState<'_>, body: &bytes::Bytes) -> Result<Reply, Failure> {
        let inner = &*self.inner;
        let call = state.call;
        let number = state.sent;
        // First, so that a long wait never ages the credential or the timestamp.
        let permit = inner
            .pacer
            .acquire(
                state.pace_key(),
                call.rate_limit,
                &state.rate_limit,
                state.deadline,
            )
            .await
            .map_err(|e| {
                Failure::Paced(RateLimitError::new(
                    call.action.as_str(),
                    e.would_wait,
                    e.per_second,
                ))
            })?;
        state.paced += permit.waited();
        state.permit = Some(permit);
        let choice = inner
            .breakers
            .choose(&state.route.candidates, &state.failed_endpoints, Instant::now());
        let target = choice.target().clone();
        if choice.index() > 0 {
            tracing::debug!(
                url = %target.url,
                probe = choice.is_probe(),
                "failing over: the preferred endpoint could not be reached"
            );
        }
        state.choice = Some(choice);
        let credentials = match inner.config.is_signed() && !call.unsigned {
            true => Some(self.credentials(state.deadline).await?),
            false => None,
        };
        // After the wait for credentials, which may have fetched them.
        let timestamp = inner.clock.timestamp();
        let (authorization, token) = if let Some(credentials) = credentials {
            let prepared = credentials.prepared().map_err(Failure::Credentials)?;
            let authorization = prepared.signer.authorization(&SigningRequest {
                method: "POST",
                host: &target.host,
                query: "",
                content_type: CONTENT_TYPE_JSON,
                payload: Payload::Bytes(body),
                service: call.service,
                timestamp,
                // Signed so that a captured request cannot be replayed as another action.
                action: Some(call.action.as_str()),
            });
            let mut authorization = HeaderValue::from_str(&authorization)
                .map_err(|_| Failure::request("secret id", "cannot be sent in an HTTP header".to_owned()))?;
            authorization.set_sensitive(true);
            let token = prepared.token.clone();
            state.credentials = Some(credentials);
            (authorization, token)
        } else {
            // The gateway's marker for an action that takes no signature.
            (HeaderValue::from_static("SKIP"), None)
        };

        let mut headers = HeaderMap::with_capacity(10);
        headers.insert(X_TC_ACTION, state.action.clone());
        headers.insert(X_TC_VERSION, state.version.clone());
        headers.insert(X_TC_TIMESTAMP, HeaderValue::from(timestamp));
        if let Some((_, region)) = &state.region {
            headers.insert(X_TC_REGION, region.clone());
        }
        if let Some(token) = token {
            headers.insert(X_TC_TOKEN, token);
        }
        if let Some(language) = &inner.language {
            headers.insert(X_TC_LANGUAGE, language.clone());
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
        headers.insert(AUTHORIZATION, authorization);
        // Not signed; an interceptor may replace it.
        headers.insert(USER_AGENT, state.route.user_agent.clone());
        // No explicit Host: the HTTP client derives it from the URL exactly as
        // `target.host` was (host plus non-default port), and setting it too
        // would duplicate `:authority` on HTTP/2.
        for interceptor in inner.config.interceptors() {
            interceptor.before_send(&mut OutgoingRequest {
                service: call.service,
                action: call.action.as_str(),
                version: call.version.as_str(),
                attempt: number,
                headers: &mut headers,
            });
        }

        tracing::debug!(
            url = %target.url,
            bytes = body.len(),
            attempt = number,
            credentials = state.credentials.as_ref().map(Credentials::source),
            secret_id = state.credentials.as_ref().map(Credentials::secret_id),
            "sending request"
        );
        let timeout = match state.deadline {
            Some(d) => state
                .attempt_timeout
                .min(d.saturating_duration_since(Instant::now())),
            None => state.attempt_timeout,
        };
        state.given = timeout;
        let request = HttpRequest {
            method: http::Method::POST,
            url: target.url.clone(),
            headers,
            body: body.clone(),
            timeout,
        };
        // The transport is asked to give up after `timeout`, but the
        // deadline is the runtime's promise: a transport that ignores it,
        // or a body that stalls, must not hang the call (nor keep a probe,
        // and so its endpoint's breaker, busy for good).
        let exchange = self.exchange(request);
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Transport(TransportError::new(
                TransportErrorKind::Timeout,
                format!(
                    "no complete answer from {} within {} ms",
                    target.url,
                    millis(timeout)
                )
                .into(),
            ))),
        }
    }

    /// Sends `request` and reads its answer within `max_response_bytes`,
    /// refusing redirects unread.
    async fn exchange(&self, request: HttpRequest) -> Result<Reply, Failure> {
        let inner = &*self.inner;
        let response = inner.transport.send(request).await.map_err(Failure::Transport)?;
        let HttpResponse {
            status,
            headers,
            body: mut chunks,
            ..
        } = response;
        let is_redirect = (300..400).contains(&status);
        if is_redirect {
            let location = headers.get(LOCATION).map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(512)
                    .collect::<String>()
            });
            let reason = match &location {
                Some(to) => format!(
                    "redirect to `{}` refused: the API never redirects, and nothing was sent there",
                    Escaped(to)
                ),
                None => "redirect refused: the API never redirects".to_owned(),
            };
            tracing::debug!(status, location, "redirect refused");
            // The body is not read: whatever it says is not the service's answer.
            return Err(Failure::Invalid {
                status,
                body: String::new(),
                reason,
                kind: InvalidResponseKind::Redirect,
            });
        }
        let limit = inner.config.max_response_bytes();
        // A typical answer is one chunk: kept as received, not copied.
        let mut body = bytes::Bytes::new();
        let mut joined: Option<Vec<u8>> = None;
        let mut read = 0u32;
        while let Some(chunk) = chunks.next_chunk().await {
            // An answer arrived, so the request was sent, whatever the
            // transport says: `Connect` (repeated even for a call that is
            // not safe to repeat, and elsewhere) would repeat a change.
            let chunk = chunk.map_err(|mut e| {
                if e.kind() == TransportErrorKind::Connect {
                    e.set_kind(TransportErrorKind::Reset);
                }
                Failure::Transport(e)
            })?;
            // A stream that is always ready (empty chunks forever) would
            // otherwise keep this loop inside one poll, where no timer can
            // end it: let the executor, and the timeout, in now and then.
            read = read.wrapping_add(1);
            if read.is_multiple_of(CHUNKS_BEFORE_YIELD) {
                YieldNow(false).await;
            }
            let held = joined.as_ref().map_or(body.len(), Vec::len);
            if held + chunk.len() > limit {
                let mut all = joined.unwrap_or_else(|| body.to_vec());
                all.extend_from_slice(&chunk[..limit - held]);
                let reply = Reply {
                    status,
                    headers,
                    body: all.into(),
                };
                return Err(reply.invalid(
                    InvalidResponseKind::TooLarge,
                    format!("the body is longer than {limit} bytes; not read further"),
                ));
            }
            match &mut joined {
                Some(all) => all.extend_from_slice(&chunk),
                None if body.is_empty() => body = chunk,
                None => {
                    let mut all = Vec::with_capacity(body.len() + chunk.len());
                    all.extend_from_slice(&body);
                    all.extend_from_slice(&chunk);
                    joined = Some(all);
                }
            }
        }
        let body = joined.map_or(body, bytes::Bytes::from);
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// The provider's credential for one attempt, bounded by the deadline;
    /// refused when it has expired by the service's clock.
    async fn credentials(&self, deadline: Option<Instant>) -> Result<Credentials, Failure> {
        let inner = &*self.inner;
        let provide = inner.config.credentials_provider().provide();
        let credentials = match deadline {
            None => provide.await,
            Some(deadline) => tokio::time::timeout_at(deadline.into(), provide)
                .await
                .unwrap_or_else(|_| {
                    Err(CredentialsError::new(
                        "the credentials provider did not answer before the call's deadline",
                    ))
                }),
        }
        .map_err(Failure::Credentials)?;
        if let Some(expiry) = credentials.expiry() {
            if expiry <= inner.clock.now() {
                return Err(Failure::Credentials(CredentialsError::new(format!(
                    "the credentials of {} from {} expired{}",
                    credentials.secret_id(),
                    credentials.source(),
                    unix_secs(expiry).map_or(String::new(), |s| format!(" at Unix time {s}")),
                ))));
            }
        }
        Ok(credentials)
    }

    fn after_attempt(
        &self,
        state: &CallState<'_>,
        elapsed: Duration,
        reply: Option<&Reply>,
        request_id: Option<&str>,
        failure: Option<&Failure>,
    ) {
        let interceptors = self.inner.config.interceptors();
        if interceptors.is_empty() {
            return;
        }
        let outcome = AttemptOutcome {
            service: state.call.service,
            action: state.call.action.as_str(),
            attempt: state.sent,
            elapsed,
            status: reply.map(|r| r.status).or(failure.and_then(Failure::status)),
            headers: reply.map(|r| &r.headers),
            request_id: request_id.or(failure.and_then(Failure::request_id)),
            code: failure.and_then(Failure::code),
            transport_error: failure.and_then(Failure::transport_kind),
        };
        for interceptor in interceptors {
            interceptor.after_attempt(&outcome);
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("clock_skew", &self.inner.clock.skew())
            .finish_non_exhaustive()
    }
}

/// Settings that override the client's for one call (or for every call of
/// a service client made with `with_options`). `Default` overrides nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// Time allowed for each attempt, instead of [`Config::with_timeout`].
    pub timeout: Option<Duration>,
    /// Time allowed for the whole call, backoff included, instead of
    /// [`Config::with_deadline`].
    pub deadline: Option<Duration>,
    /// Retry policy instead of [`Config::with_retry`].
    pub retry: Option<RetryConfig>,
    /// Whether repeating the call is safe, instead of what the action says
    /// (`Action::READ_ONLY`, or a `ClientToken`); `Client::call` assumes
    /// it is not.
    pub idempotent: Option<bool>,
    /// Region of this call, instead of [`Config::with_region`]: one client
    /// (one connection pool, credential and budget) serves every region,
    /// since the region is a header (and, for
    /// [`Endpoint::regional`](crate::Endpoint::regional), the host).
    pub region: Option<String>,
    /// How this call is paced, instead of the client's
    /// [`RateLimitConfig`](crate::RateLimitConfig) for its action.
    pub rate_limit: Option<RateLimit>,
}

impl CallOptions {
    /// Overrides nothing.
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Sets [`CallOptions::timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets [`CallOptions::deadline`].
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets [`CallOptions::retry`], e.g. `RetryConfig::disabled()`.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets [`CallOptions::idempotent`].
    pub fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Sets [`CallOptions::region`], e.g. `ap-shanghai`.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets [`CallOptions::rate_limit`], e.g. `RateLimit::Off` for a call
    /// that must not wait, or `RateLimit::PerSecond(5)`.
    pub fn with_rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = Some(rate_limit);
        self
    }

    /// Every option `other` sets, over the ones this sets.
    pub fn overlaid_with(self, other: CallOptions) -> Self {
        CallOptions {
            timeout: other.timeout.or(self.timeout),
            deadline: other.deadline.or(self.deadline),
            retry: other.retry.or(self.retry),
            idempotent: other.idempotent.or(self.idempotent),
            region: other.region.or(self.region),
            rate_limit: other.rate_limit.or(self.rate_limit),
        }
    }
}

/// What the runtime needs to know about one action.
struct Call<'a> {
    service: &'a str,
    action: Name<'a>,
    version: Name<'a>,
    /// Repeating the call is safe: timeouts, resets and 5xx may be retried.
    safe: bool,
    /// The action takes no signature, whatever the configuration.
    unsigned: bool,
    /// The action's documented quota per second, when known.
    rate_limit: Option<u32>,
}

/// An action or version name: a generated action's are `'static`, and
/// then become header values without copying.
#[derive(Clone, Copy)]
enum Name<'a> {
    Static(&'static str),
    Borrowed(&'a str),
}

impl Name<'_> {
    fn as_str(&self) -> &str {
        match self {
            Name::Static(s) => s,
            Name::Borrowed(s) => s,
        }
    }

    fn header(&self) -> Result<HeaderValue, String> {
        let value = self.as_str();
        if value.is_empty() {
            return Err("is empty".to_owned());
        }
        // Generated names come from the spec; a caller's may come from anywhere.
        if matches!(self, Name::Borrowed(_)) && value.len() > MAX_NAME_BYTES {
            return Err(format!(
                "is {} bytes long, longer than any action or version ({MAX_NAME_BYTES} at most)",
                value.len()
            ));
        }
        let invalid = || format!("`{value}` cannot be sent in an HTTP header");
        match self {
            // `from_static` panics on a byte HTTP does not allow: check first.
            Name::Static(s) if s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) => {
                Ok(HeaderValue::from_static(s))
            }
            Name::Static(_) => Err(invalid()),
            Name::Borrowed(s) => HeaderValue::from_str(s).map_err(|_| invalid()),
        }
    }
}

/// What the attempts of one call share.
struct CallState<'a> {
    call: &'a Call<'a>,
    /// Where attempts may go, in order of preference, and the user agent.
    route: Arc<Route>,
    /// Indexes of the candidates that could not be reached in this call.
    failed_endpoints: Vec<usize>,
    /// Where the current attempt went, until its outcome is recorded.
    choice: Option<Choice>,
    /// The current attempt's turn from the rate limiter, until its outcome is recorded.
    permit: Option<Permit>,
    /// This call's pacing override.
    rate_limit: RateLimit,
    /// Time spent waiting for the rate limiter, over every attempt.
    paced: Duration,
    /// This call's region (its own, else the client's), and as a header.
    region: Option<(&'a str, HeaderValue)>,
    action: HeaderValue,
    version: HeaderValue,
    policy: &'a RetryConfig,
    attempt_timeout: Duration,
    deadline: Option<Instant>,
    /// The time the current attempt was given: `attempt_timeout`, or what
    /// was left of the deadline.
    given: Duration,
    /// Requests sent so far; during an attempt, its number (1-based).
    sent: u32,
    skew_corrected: bool,
    /// The provider was told once that the service refused its credential.
    credentials_renewed: bool,
    /// The credential the last attempt was signed with.
    credentials: Option<Credentials>,
    /// Tokens this call's retries took, given back if it succeeds.
    taken: u32,
}

impl CallState<'_> {
    /// The rate limiter's key for this call: per action and region, as
    /// Tencent counts (per account: one client holds one credential).
    fn pace_key(&self) -> PaceKey<'_> {
        PaceKey {
            service: self.call.service,
            action: self.call.action.as_str(),
            region: self.region.as_ref().map(|(name, _)| *name),
        }
    }
}

/// Gives way once to the executor: pending, woken at once. (tokio's own
/// `yield_now` needs its `rt` feature, which the runtime does not.)
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// The transport calls go through: the one given to
/// [`Config::with_transport`], else the default.
fn make_transport(config: &Config) -> Result<Arc<dyn HttpTransport>, ConfigError> {
    if let Some(transport) = config.transport() {
        return Ok(transport.clone());
    }
    #[cfg(feature = "reqwest")]
    {
        Ok(Arc::new(super::transport::ReqwestTransport::from_config(config)?))
    }
    #[cfg(not(feature = "reqwest"))]
    {
        Err(ConfigError::Invalid {
            what: "transport",
            reason: "none: this build has no default transport (enable the `rustls`, `native-tls` or `reqwest` feature) and no Config::with_transport".to_owned(),
        })
    }
}

/// The span of one call, with rpc-style fields that an OpenTelemetry or
/// metrics layer can read without an interceptor: service, action and
/// version at once; region when the call starts; attempts, the time spent
/// waiting for the rate limiter, request id, HTTP status and the final code (the service's, or the kind of local
/// failure: `transport`, `invalid_response`, ...) when it ends. No field
/// holds a secret.
fn call_span(service: &str, action: &str, version: &str) -> tracing::Span {
    use tracing::field::Empty;
    tracing::debug_span!(
        "tencentcloud",
        rpc.system = "tencentcloud",
        service,
        action,
        version,
        region = Empty,
        attempts = Empty,
        paced_ms = Empty,
        request_id = Empty,
        status = Empty,
        code = Empty,
    )
}

/// `tencentcloud-sdk-rust/<runtime version> <service>/<API version>`: the
/// SDK and what it calls, whether a generated client's action or
/// [`Client::call_with`]'s. Both names are checked by then (a host label,
/// a header value), so failing is only a safeguard.
fn user_agent(service: &str, version: &str) -> Result<HeaderValue, Failure> {
    HeaderValue::from_str(&format!("{SDK_USER_AGENT} {service}/{version}"))
        .map_err(|_| Failure::request("service", "cannot be sent in an HTTP header".to_owned()))
}

fn unserializable(e: serde_json::Error) -> ValidationError {
    ValidationError {
        violations: vec![Violation {
            path: FieldPath::default(),
            problem: Problem::Unsendable(format!("cannot be serialized as JSON: {e}")),
        }],
    }
}

/// `body` (a serialized request object) with `"<member>": "<uuid v4>"`
/// added unless `caller_token` is a non-empty token; the second value says
/// whether the body carries a token.
fn with_client_token(body: Vec<u8>, member: &str, caller_token: Option<&str>) -> (Vec<u8>, bool) {
    if caller_token.is_some_and(|t| !t.is_empty()) {
        return (body, true);
    }
    let token = uuid::Uuid::new_v4().to_string();
    if caller_token.is_some() {
        // The caller set an empty token, which is serialized: replace it.
        return match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
            Ok(mut object) => {
                object.insert(member.to_owned(), token.into());
                match serde_json::to_vec(&object) {
                    Ok(body) => (body, true),
                    Err(_) => (body, false),
                }
            }
            Err(_) => (body, false),
        };
    }
    let Some(rest) = body.strip_prefix(b"{") else {
        return (body, false);
    };
    // Serde writes a struct as `{` + members + `}` with no whitespace: the
    // member goes first, followed by a comma unless the object was empty.
    let mut out = Vec::with_capacity(body.len() + member.len() + token.len() + 8);
    out.push(b'{');
    if serde_json::to_writer(&mut out, member).is_err() {
        return (body, false);
    }
    out.push(b':');
    out.push(b'"');
    out.extend_from_slice(token.as_bytes());
    out.push(b'"');
    if rest != b"}" {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    (out, true)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn unix_secs(t: std::time::SystemTime) -> Option<u64> {
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &[u8]) -> serde_json::Value {
        serde_json::from_slice(body).expect("JSON")
    }

    #[test]
    fn names_become_header_values_or_a_clear_error() {
        assert_eq!(
            Name::Static("DescribeInstances").header().unwrap(),
            "DescribeInstances"
        );
        assert_eq!(Name::Borrowed("2017-03-12").header().unwrap(), "2017-03-12");
        for name in [Name::Static("Bad\nName"), Name::Borrowed("Bad\nName")] {
            assert_eq!(
                name.header().unwrap_err(),
                "`Bad\nName` cannot be sent in an HTTP header"
            );
        }
        assert_eq!(Name::Static("").header().unwrap_err(), "is empty");
    }

    #[test]
    fn a_client_token_is_added_once_and_a_callers_is_kept() {
        let (body, has) = with_client_token(br#"{"A":1}"#.to_vec(), "ClientToken", None);
        assert!(has);
        let value = json(&body);
        let token = value["ClientToken"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(token).unwrap().get_version_num(), 4);
        assert_eq!(value["A"], 1);

        let (body, has) = with_client_token(b"{}".to_vec(), "ClientToken", None);
        assert!(has);
        assert_eq!(json(&body).as_object().unwrap().len(), 1);

        let (body, has) =
            with_client_token(br#"{"ClientToken":"mine"}"#.to_vec(), "ClientToken", Some("mine"));
        assert!(has);
        assert_eq!(body, br#"{"ClientToken":"mine"}"#);

        // An empty token is replaced, not duplicated.
        let (body, has) =
            with_client_token(br#"{"ClientToken":"","B":[1]}"#.to_vec(), "ClientToken", Some(""));
        assert!(has);
        let text = String::from_utf8(body.clone()).unwrap();
        assert_eq!(text.matches("ClientToken").count(), 1, "{text}");
        assert!(!json(&body)["ClientToken"].as_str().unwrap().is_empty());

        // Not an object: left alone, and not safe to repeat.
        let (body, has) = with_client_token(b"[1]".to_vec(), "ClientToken", None);
        assert!(!has);
        assert_eq!(body, b"[1]");

        // Two calls get two tokens.
        let a = json(&with_client_token(b"{}".to_vec(), "ClientToken", None).0);
        let b = json(&with_client_token(b"{}".to_vec(), "ClientToken", None).0);
        assert_ne!(a, b);
    }
}
