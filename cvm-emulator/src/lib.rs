//! A local Tencent Cloud CVM endpoint (API version 2017-03-12) for tests.
//!
//! The emulator verifies TC3-HMAC-SHA256 signatures like the real gateway,
//! keeps instance state like the real service (with timed transitions such
//! as `STOPPED → STARTING → RUNNING`), and answers with the real error codes
//! in the API 3.0 envelope. Our [`cvm_api::Client`], the official SDKs and
//! users' own code can run against it unchanged: only the endpoint differs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cvm_emulator::{Emulator, EmulatorConfig, State, StoredInstance};
//!
//! let state = State::new().with_instance(StoredInstance::new("ins-abcd1234", "ap-guangzhou-3", "STOPPED"));
//! let emulator = Emulator::start(EmulatorConfig::default().with_state(state), "127.0.0.1:0").await?;
//! let client = emulator.client("ap-guangzhou")?; // signed with the first credential
//! client
//!     .start_instances(&cvm_api::StartInstancesRequest { instance_ids: vec!["ins-abcd1234".into()] })
//!     .await?;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What is emulated
//!
//! Every request goes through the gateway checks, in this order: the HTTP
//! method, POST or GET (`UnsupportedProtocol`), body size
//! (`RequestSizeLimitExceeded`), `Authorization`
//! (`AuthFailure.InvalidAuthorization`), `X-TC-Timestamp` within 300 s
//! (`AuthFailure.SignatureExpire`), the secret id
//! (`AuthFailure.SecretIdNotFound`), a temporary credential's expiry and
//! `X-TC-Token` (`AuthFailure.TokenFailure`), the body's arrival within the read
//! timeout (`InvalidRequest`), the signature
//! (`AuthFailure.SignatureFailure`; the credential scope's service picks
//! the version, actions and region rules that follow, see
//! [below](crate#every-service-in-the-workspace)), `X-TC-Version` (`NoSuchVersion`),
//! `X-TC-Action` (`InvalidAction`), `X-TC-Region` (`MissingParameter`
//! unless the action is DescribeRegions, `UnsupportedRegion` outside
//! [`REGIONS`]), the rate limit (`RequestLimitExceeded`),
//! then the parameters against the spec for **every** one of the 106 actions
//! (`InvalidParameter`, `UnknownParameter`, `MissingParameter`,
//! `InvalidParameterValue`). The body is only buffered once the checks
//! that need none have passed: a declared `Content-Length` is judged
//! without reading, and a body of unknown length (chunked) is measured
//! without being kept when an earlier check fails. At most
//! [`EmulatorConfig::max_buffered_bytes`] of bodies are buffered at once,
//! counted as bytes arrive (beyond the first 16 KiB of one body per
//! connection, so small requests never wait). A JSON body is decoded straight into the typed
//! request (at most 10 000 values), so decoding costs about the body's
//! size once more, not a multiple of it. Both POST with a JSON body and GET with the
//! parameters in the query (`InstanceIds.0=...&Limit=20`) are accepted. Every
//! answer is HTTP 200 with `{"Response": {..., "RequestId"}}`.
//!
//! The actions in [`EMULATED_ACTIONS`] act on the state: RunInstances,
//! DescribeInstances, DescribeInstancesStatus, StartInstances,
//! StopInstances, RebootInstances and TerminateInstances. Other actions are
//! decoded and checked, then answered with `UnsupportedOperation`
//! ("... is not emulated").
//!
//! Instances belong to the region of their zone and requests see only those
//! of their `X-TC-Region`. Transitions are computed lazily from timestamps:
//! there is no background task, and a zero transition time is instant.
//!
//! # Every service in the workspace
//!
//! The listener serves every service whose description is in the
//! workspace's `spec/` (embedded at build time): CVM, STS, VPC, CBS, CLB and
//! Tag today. The credential scope names the service
//! (`.../vpc/tc3_request`); on a Tencent Cloud host
//! (`vpc.tencentcloudapi.com`) the scope must name the host's service
//! (`AuthFailure.SignatureFailure` otherwise). Each service's requests pass
//! the same checks as CVM's, against that service's version, actions and
//! description (typed requests for the emulated actions). Besides CVM's and STS's actions, VPC's `DescribeVpcs` and
//! `DescribeSubnets` are emulated ([`VPC_EMULATED_ACTIONS`]): they list the
//! VPCs and subnets the region's instances live in (the region's default
//! VPC, one default subnet per zone, and any a `RunInstances` named), so
//! their ids always match `DescribeInstances`'. Every other action of these
//! services is checked, then answered `UnsupportedOperation`.
//!
//! # Launch failures, termination and paging (for waiters and paginators)
//!
//! - **A launch that fails**: RunInstances with `ImageId`
//!   [`LAUNCH_FAILURE_IMAGE_ID`] (`img-nolaunch`), or an image given to
//!   [`EmulatorConfig::with_failing_image`] (the CLI's
//!   `--fail-launch-image`), succeeds and returns ids, but the instances go
//!   PENDING → `LAUNCH_FAILED` instead of RUNNING after the transition time.
//!   Their `LatestOperation` is `RunInstances`, `LatestOperationRequestId`
//!   that call's `RequestId`, and `LatestOperationState` `OPERATING` while
//!   PENDING, then `FAILED` (with a `LatestOperationErrorMsg`); after a
//!   normal launch it is `SUCCESS`. A LAUNCH_FAILED instance can only be
//!   terminated.
//! - **Termination**: TerminateInstances puts instances in `TERMINATING`
//!   for the transition time; then they leave DescribeInstances and
//!   DescribeInstancesStatus (asked for by id, they are left out; other
//!   actions answer `InvalidInstanceId.NotFound`),
//!   which is what the service does for a pay-as-you-go instance. The
//!   emulator does the same for every charge type (the service moves a
//!   `PREPAID` instance to the recycle bin, `SHUTDOWN`, first).
//! - **Order and paging**: without `InstanceIds`, DescribeInstances and
//!   DescribeInstancesStatus list the region's instances oldest first
//!   (seeds in their order, then by creation; a batch in the order of
//!   `InstanceIdSet`), the same on every call, so `Offset`/`Limit` pages
//!   partition the set. New instances go at the end; a state change never
//!   moves an instance. `Limit` is 20 by default, at most 100
//!   (`InvalidParameterValue` above); an `Offset` past the end gives an
//!   empty page; `TotalCount` is the number matching the filters, not the
//!   page's. With `InstanceIds`, the order is the request's (duplicates
//!   dropped, unknown ids skipped). While the set changes between pages,
//!   an instance added is seen on a later page, one removed that was not
//!   yet returned is simply not returned, and each removal of one already
//!   returned makes the following pages skip one instance (the usual
//!   consequence of `Offset` paging).
//!
//! # Keeping state
//!
//! With [`EmulatorConfig::with_state_file`] (the CLI's `--state FILE`) every
//! change is on disk before it is answered, and survives a crash or
//! `kill -9`: it is appended to `FILE.journal` and flushed (concurrent
//! requests share a flush), and the journal is folded into `FILE` at start,
//! at shutdown and when it grows past [`EmulatorConfig::journal_limit_bytes`].
//! `FILE.lock` keeps a second emulator off the same file. A file that
//! cannot be read, a journal damaged before its last record, or a directory
//! that cannot be written stop the emulator from starting, and nothing is
//! overwritten.
//!
//! # Fault injection
//!
//! [`EmulatorConfig::faults`] (the CLI's `--fault-*`, `--latency-ms` and
//! `--seed`) injects `RequestLimitExceeded`, `InternalError`, connection
//! resets before or after the action takes effect, and latency, into
//! authenticated, well-formed requests only, from one seeded PRNG (see
//! [`FaultConfig`]). [`EmulatorConfig::clock_skew_secs`] sets the
//! emulator's clock apart from the machine's, for the timestamp check and
//! the `Date` header of every answer. [`RunningEmulator::fault_stats`] and
//! [`RunningEmulator::request_count`] say what the emulator saw.
//!
//! # Credentials
//!
//! Without configuration the emulator accepts one demo credential,
//! [`DEMO_SECRET_ID`] / [`DEMO_SECRET_KEY`]
//! (`AKIDEMULATOR000000000000000000000000` / `emulator-demo-secret-key`).
//! They are deliberately fake and public: never use real keys with it.
//! `X-TC-Token` is ignored for these permanent credentials.
//!
//! # Temporary credentials: metadata service and STS
//!
//! The listener also serves what a credential provider fetches:
//!
//! - the metadata service's instance role, unauthenticated GETs:
//!   `/latest/meta-data/cam/security-credentials/` gives the role name
//!   ([`EmulatorConfig::instance_role`], default [`DEFAULT_ROLE_NAME`]) and
//!   `/latest/meta-data/cam/security-credentials/<role>` a new credential
//!   as JSON (`TmpSecretId`, `TmpSecretKey`, `Token`, `ExpiredTime`,
//!   `Expiration`, `Code`), valid [`EmulatorConfig::credential_ttl`];
//! - STS 2018-08-13 (credential scope `sts`, `X-TC-Version: 2018-08-13`):
//!   `AssumeRole`, signed by any valid credential (temporary ones too), and
//!   `AssumeRoleWithWebIdentity`, sent unsigned with `Authorization: SKIP`
//!   and the [`EmulatorConfig::web_identity_token`]
//!   (`InvalidParameter.WebIdentityTokenError` otherwise). They live
//!   `DurationSeconds` (default 7200, at most 43200) capped by the TTL.
//!
//! Temporary credentials are derived from a random key drawn at start,
//! never stored: the secret id holds its expiry and a MAC, the secret key
//! and token are MACs of the id. They work for every CVM action and for
//! `AssumeRole`, with `X-TC-Token`: missing, wrong or past `ExpiredTime`
//! (by the emulator's clock) is `AuthFailure.TokenFailure`, checked before
//! the body and the signature. They die with the process: after a restart
//! their ids are `AuthFailure.SecretIdNotFound`, and a client fetches anew.
//! [`RunningEmulator::credentials_issued`] counts them by source.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod atomic_file;
mod auth;
mod body;
mod checked;
mod conns;
mod cvm;
mod decode;
pub mod demo;
mod error;
mod fallback;
mod faults;
mod gateway;
mod headers;
mod metadata;
mod query;
mod ratelimit;
mod reset;
mod server;
mod services;
mod shared;
mod sts;
mod time;
mod tmpcreds;
mod vpc;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use cvm::actions::{EMULATED_ACTIONS, LAUNCH_FAILURE_IMAGE_ID};
pub use cvm::ids::new_instance_id;
pub use cvm::regions::REGIONS;
pub use cvm::request::ACTIONS;
pub use cvm::state_file::{ClientTokenRecord, PendingTransition, State, StateError, StoredInstance};
pub use cvm::transitions::{INSTANCE_STATES, TERMINATED};
pub use cvm::{API_VERSION, SERVICE};
pub use error::ApiError;
pub use faults::{FaultConfig, FaultStats, MAX_INJECTED_LATENCY};
pub use metadata::DEFAULT_ROLE_NAME;
pub use signer::SecretKey;
pub use sts::{STS_API_VERSION, STS_EMULATED_ACTIONS, STS_SERVICE};
pub use tmpcreds::CredentialsIssued;
pub use vpc::VPC_EMULATED_ACTIONS;

use crate::conns::{Admission, Admitted, Conns, RequestTrack};
use crate::cvm::persist::Persistence;
use crate::cvm::store::Store;
use crate::faults::Faults;
use crate::ratelimit::RateLimiter;
use crate::reset::{Reset, ResettableStream};
use crate::server::Reply;
use crate::shared::Shared;
use crate::tmpcreds::Minter;

/// The demo secret id, accepted when no credential is configured. Fake.
pub const DEMO_SECRET_ID: &str = "AKIDEMULATOR000000000000000000000000";
/// The demo secret key, paired with [`DEMO_SECRET_ID`]. Public, fake.
pub const DEMO_SECRET_KEY: &str = "emulator-demo-secret-key";

/// How an emulator behaves.
///
/// `EmulatorConfig::default()` accepts the demo credential, completes
/// transitions after 300 ms and allows 10 requests a second per secret id
/// and action; change fields directly or with the `with_*` methods:
///
/// ```
/// use std::time::Duration;
/// use cvm_emulator::{EmulatorConfig, SecretKey};
///
/// let config = EmulatorConfig {
///     transition: Duration::ZERO,
///     rate_limit: None,
///     ..EmulatorConfig::default()
/// }
/// .with_credential("AKIDtest", SecretKey::new("test-key"));
/// assert_eq!(config.credentials.len(), 2);
/// ```
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Accepted (secret id, secret key) pairs.
    pub credentials: Vec<(String, SecretKey)>,
    /// How long STARTING, STOPPING, REBOOTING, PENDING and TERMINATING last.
    pub transition: Duration,
    /// Requests per second allowed per secret id and action; `None` (or 0): no limit.
    pub rate_limit: Option<u32>,
    /// Instances to start with (with a `state_file`: only when that file
    /// does not exist yet).
    pub initial_state: Option<State>,
    /// Where the state is kept, if anywhere: loaded at start (with its
    /// journal), every change written before it is answered, the final
    /// state written at shutdown. See the [crate docs](crate#keeping-state).
    pub state_file: Option<PathBuf>,
    /// Size of `FILE.journal` past which it is folded into the state file.
    pub journal_limit_bytes: u64,
    /// Largest request body accepted (`RequestSizeLimitExceeded` above it).
    pub max_body_bytes: usize,
    /// Most request body bytes buffered at once across all requests (at
    /// least `max_body_bytes`), counted as they arrive, beyond the first
    /// 16 KiB of one body per connection; a request waits up to
    /// `read_timeout` for room, then gets `RequestLimitExceeded`.
    pub max_buffered_bytes: usize,
    /// Largest accepted difference between `X-TC-Timestamp` and the clock.
    pub max_clock_skew: Duration,
    /// Most instances kept at once (`InstancesQuotaLimitExceeded` above it).
    pub max_instances: usize,
    /// Time allowed to receive a request's headers (at most 10 s whatever
    /// this says), and then its body; also how long a connection may stay
    /// open with no request in flight (an idle keep-alive or HTTP/2
    /// connection) before it is closed. A new connection that sends nothing
    /// is closed after the header time.
    pub read_timeout: Duration,
    /// Most connections open at once. A connection arriving at the cap
    /// takes the place of the one that achieved least: the oldest with no
    /// authenticated request yet, else the one idle longest; it is refused
    /// only when every connection is answering a request.
    pub max_connections: usize,
    /// Faults to inject into authenticated, well-formed requests
    /// (throttling, internal errors, connection resets, latency); none by
    /// default. See [`FaultConfig`].
    pub faults: FaultConfig,
    /// How far the emulator's clock runs ahead of the machine's, in
    /// seconds (negative: behind), at most [`MAX_CLOCK_SKEW_SECS`] either
    /// way. `X-TC-Timestamp` is judged against the emulator's clock
    /// (`AuthFailure.SignatureExpire` beyond `max_clock_skew`), and every
    /// answer's `Date` header gives it.
    pub clock_skew_secs: i64,
    /// The instance role the metadata service gives
    /// (`/latest/meta-data/cam/security-credentials/`); `None`: no role, both
    /// paths answer 404. Default [`DEFAULT_ROLE_NAME`].
    pub instance_role: Option<String>,
    /// Lifetime of the temporary credentials the metadata service issues,
    /// and the longest STS grants (1 s to [`MAX_CREDENTIAL_TTL`]; default 2 h).
    pub credential_ttl: Duration,
    /// The token `AssumeRoleWithWebIdentity` accepts as `WebIdentityToken`;
    /// `None` (default): it accepts none. Redacted in `Debug`.
    pub web_identity_token: Option<SecretKey>,
    /// Images whose launches fail (PENDING → `LAUNCH_FAILED`, operation
    /// `FAILED`), besides [`LAUNCH_FAILURE_IMAGE_ID`], which always fails;
    /// each `img-` + 8 lower-case letters or digits, at most
    /// [`MAX_FAILING_IMAGES`]. Empty by default.
    pub failing_images: Vec<String>,
}

/// Most [`EmulatorConfig::failing_images`].
pub const MAX_FAILING_IMAGES: usize = 100;

/// Longest [`EmulatorConfig::credential_ttl`] (7 days).
pub const MAX_CREDENTIAL_TTL: Duration = Duration::from_secs(7 * 86_400);

/// Longest [`EmulatorConfig::web_identity_token`] in bytes (service account
/// tokens are a few KiB).
pub const MAX_WEB_IDENTITY_TOKEN_LEN: usize = 64 * 1024;

/// Largest [`EmulatorConfig::clock_skew_secs`] either way (ten years).
pub const MAX_CLOCK_SKEW_SECS: i64 = 10 * 365 * 86_400;

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            credentials: vec![(DEMO_SECRET_ID.to_owned(), SecretKey::new(DEMO_SECRET_KEY))],
            transition: Duration::from_millis(300),
            rate_limit: Some(10),
            initial_state: None,
            state_file: None,
            journal_limit_bytes: cvm::persist::DEFAULT_JOURNAL_LIMIT,
            max_body_bytes: 10 * 1024 * 1024,
            max_buffered_bytes: 64 * 1024 * 1024,
            max_clock_skew: Duration::from_secs(300),
            max_instances: 10_000,
            read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            faults: FaultConfig::default(),
            clock_skew_secs: 0,
            instance_role: Some(DEFAULT_ROLE_NAME.to_owned()),
            credential_ttl: Duration::from_secs(2 * 3600),
            web_identity_token: None,
            failing_images: Vec::new(),
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.credentials.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("EmulatorConfig")
            .field("secret_ids", &ids)
            .field("transition", &self.transition)
            .field("rate_limit", &self.rate_limit)
            .field(
                "initial_instances",
                &self.initial_state.as_ref().map_or(0, |s| s.instances.len()),
            )
            .field("state_file", &self.state_file)
            .field("journal_limit_bytes", &self.journal_limit_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("max_clock_skew", &self.max_clock_skew)
            .field("max_instances", &self.max_instances)
            .field("read_timeout", &self.read_timeout)
            .field("max_connections", &self.max_connections)
            .field("faults", &self.faults)
            .field("clock_skew_secs", &self.clock_skew_secs)
            .field("instance_role", &self.instance_role)
            .field("credential_ttl", &self.credential_ttl)
            .field(
                "web_identity_token",
                &self.web_identity_token.as_ref().map(|_| "<redacted>"),
            )
            .field("failing_images", &self.failing_images)
            .finish()
    }
}

impl EmulatorConfig {
    /// Adds an accepted credential (the demo one stays unless
    /// [`EmulatorConfig::with_only_credential`] is used).
    pub fn with_credential(mut self, secret_id: impl Into<String>, secret_key: SecretKey) -> Self {
        self.credentials.push((secret_id.into(), secret_key));
        self
    }

    /// Accepts this credential and no other.
    pub fn with_only_credential(mut self, secret_id: impl Into<String>, secret_key: SecretKey) -> Self {
        self.credentials = vec![(secret_id.into(), secret_key)];
        self
    }

    /// Sets the transition time (`Duration::ZERO`: instant).
    pub fn with_transition(mut self, transition: Duration) -> Self {
        self.transition = transition;
        self
    }

    /// Sets the rate limit per secret id and action (`None` or 0: off).
    pub fn with_rate_limit(mut self, per_second: Option<u32>) -> Self {
        self.rate_limit = per_second;
        self
    }

    /// Starts with these instances.
    pub fn with_state(mut self, state: State) -> Self {
        self.initial_state = Some(state);
        self
    }

    /// Keeps the state in `path` (see [`EmulatorConfig::state_file`]).
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Injects these faults (see [`EmulatorConfig::faults`]).
    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }

    /// Runs the emulator's clock `secs` ahead of the machine's (negative:
    /// behind; see [`EmulatorConfig::clock_skew_secs`]).
    pub fn with_clock_skew(mut self, secs: i64) -> Self {
        self.clock_skew_secs = secs;
        self
    }

    /// Sets the instance role of the metadata service (`None`: no role;
    /// see [`EmulatorConfig::instance_role`]).
    pub fn with_instance_role(mut self, role: Option<String>) -> Self {
        self.instance_role = role;
        self
    }

    /// Sets the lifetime of metadata credentials and the cap on STS ones
    /// (see [`EmulatorConfig::credential_ttl`]).
    pub fn with_credential_ttl(mut self, ttl: Duration) -> Self {
        self.credential_ttl = ttl;
        self
    }

    /// Makes every launch from `image_id` fail, like
    /// [`LAUNCH_FAILURE_IMAGE_ID`] (see [`EmulatorConfig::failing_images`];
    /// a malformed id is refused when the emulator starts).
    pub fn with_failing_image(mut self, image_id: impl Into<String>) -> Self {
        self.failing_images.push(image_id.into());
        self
    }

    /// Sets the token `AssumeRoleWithWebIdentity` accepts (`None`: none).
    pub fn with_web_identity_token(mut self, token: Option<String>) -> Self {
        self.web_identity_token = token.map(SecretKey::new);
        self
    }
}

/// A role name as CAM allows: 1 to 128 letters, digits or `+=,.@_-`.
fn check_role_name(role: &str) -> Result<(), StartError> {
    let ok = !role.is_empty()
        && role.len() <= 128
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StartError::Config(format!(
            "instance role name `{}` is invalid: give 1 to 128 letters, digits or +=,.@_-",
            error::shorten(role)
        )))
    }
}

/// [`LAUNCH_FAILURE_IMAGE_ID`] and the configured failing images, checked:
/// an id no RunInstances could pass would fail nothing, silently.
fn failing_images(configured: &[String]) -> Result<HashSet<String>, StartError> {
    if configured.len() > MAX_FAILING_IMAGES {
        return Err(StartError::Config(format!(
            "{} failing images given; at most {MAX_FAILING_IMAGES} are allowed",
            configured.len()
        )));
    }
    if let Some(bad) = configured.iter().find(|id| !cvm::actions::is_image_id(id)) {
        return Err(StartError::Config(format!(
            "failing image id `{}` is malformed: give `img-` followed by 8 lower-case letters or digits",
            error::shorten(bad)
        )));
    }
    Ok(std::iter::once(LAUNCH_FAILURE_IMAGE_ID.to_owned())
        .chain(configured.iter().cloned())
        .collect())
}

/// A configuration or listener that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The initial state is invalid.
    #[error(transparent)]
    State(#[from] StateError),
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The address could not be bound.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// An emulator not yet listening: serve it with [`Emulator::serve`] or use
/// [`Emulator::router`] in-process.
#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
    read_timeout: Duration,
    max_connections: usize,
    first_credential: (String, SecretKey),
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("secret_id", &self.first_credential.0)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Checks `config` and loads its initial state.
    pub fn new(config: EmulatorConfig) -> Result<Self, StartError> {
        let first_credential = config
            .credentials
            .first()
            .cloned()
            .ok_or_else(|| StartError::Config("at least one credential is needed".to_owned()))?;
        let mut credentials = HashMap::new();
        for (id, key) in &config.credentials {
            if id.is_empty() || key.expose().is_empty() {
                return Err(StartError::Config(
                    "secret ids and keys must not be empty".to_owned(),
                ));
            }
            if credentials.insert(id.clone(), key.clone()).is_some() {
                return Err(StartError::Config(format!("secret id `{id}` is given twice")));
            }
        }
        if config.max_body_bytes == 0 || config.max_connections == 0 || config.read_timeout.is_zero() {
            return Err(StartError::Config(
                "max_body_bytes, max_connections and read_timeout must be above zero".to_owned(),
            ));
        }
        if config.clock_skew_secs.unsigned_abs() > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
            return Err(StartError::Config(format!(
                "clock skew {} s is beyond {MAX_CLOCK_SKEW_SECS} s (ten years) either way",
                config.clock_skew_secs
            )));
        }
        if let Some(role) = &config.instance_role {
            check_role_name(role)?;
        }
        if config.credential_ttl < Duration::from_secs(1) || config.credential_ttl > MAX_CREDENTIAL_TTL {
            return Err(StartError::Config(format!(
                "credential TTL {:?} is out of range: it must be from 1 s to {} s (7 days)",
                config.credential_ttl,
                MAX_CREDENTIAL_TTL.as_secs()
            )));
        }
        if let Some(token) = &config.web_identity_token {
            let len = token.expose().len();
            if len == 0 || len > MAX_WEB_IDENTITY_TOKEN_LEN {
                return Err(StartError::Config(format!(
                    "the web identity token is {len} bytes; it must be 1 to {MAX_WEB_IDENTITY_TOKEN_LEN}"
                )));
            }
        }
        let failing_images = failing_images(&config.failing_images)?;
        // CVM's and STS's actions are counted (no name is in both).
        let counted = ACTIONS.iter().chain(sts::ACTIONS).copied().collect();
        let faults = Faults::new(config.faults, counted).map_err(StartError::Config)?;
        if faults.is_active() {
            tracing::info!(seed = faults.seed(), "fault injection on");
        }
        let transition_ms = u64::try_from(config.transition.as_millis()).unwrap_or(u64::MAX);
        let store = match &config.state_file {
            None => Store::from_state(
                config.initial_state.unwrap_or_default(),
                transition_ms,
                time::now_ms(),
            )?,
            Some(path) => open_state_file(
                path,
                config.initial_state,
                transition_ms,
                config.journal_limit_bytes,
            )?,
        };
        let shared = Shared {
            credentials,
            transition_ms,
            max_body_bytes: config.max_body_bytes,
            max_clock_skew_secs: i64::try_from(config.max_clock_skew.as_secs()).unwrap_or(i64::MAX),
            clock_skew_secs: config.clock_skew_secs,
            faults,
            max_instances: config.max_instances,
            body_timeout: config.read_timeout,
            limiter: config.rate_limit.filter(|n| *n > 0).map(RateLimiter::new),
            minter: Minter::new(),
            instance_role: config.instance_role,
            // Whole seconds: ExpiredTime is an integer.
            credential_ttl_secs: config.credential_ttl.as_secs(),
            web_identity_token: config.web_identity_token,
            store: Mutex::new(store),
            failing_images,
            body_budget: body::body_budget(config.max_buffered_bytes, config.max_body_bytes),
        };
        Ok(Emulator {
            shared: Arc::new(shared),
            read_timeout: config.read_timeout,
            max_connections: config.max_connections,
            first_credential,
        })
    }

    /// Builds an emulator for `config` and serves it on `addr`
    /// (`"127.0.0.1:0"` picks a free port; see [`RunningEmulator::addr`]).
    pub async fn start(
        config: EmulatorConfig,
        addr: impl ToSocketAddrs,
    ) -> Result<RunningEmulator, StartError> {
        let emulator = Emulator::new(config)?;
        let listener = TcpListener::bind(addr).await?;
        emulator.serve(listener)
    }

    /// An axum router answering every request, for in-process tests
    /// (`tower::ServiceExt::oneshot`) or to mount in another server. It
    /// shares this emulator's state.
    pub fn router(&self) -> axum::Router {
        server::router(Arc::clone(&self.shared))
    }

    /// The state now (transitions due are completed first).
    pub fn state_snapshot(&self) -> State {
        self.shared.store().snapshot(time::now_ms())
    }

    /// The number of instances now (including those whose termination is
    /// due but not yet settled).
    pub fn instance_count(&self) -> usize {
        self.shared.store().instance_count()
    }

    /// What the emulator saw and injected so far (see [`FaultStats`]).
    pub fn fault_stats(&self) -> FaultStats {
        self.shared.faults.stats()
    }

    /// Authenticated requests of `action` so far, CVM's and STS's
    /// (`AssumeRole`, ...); 0 for an unknown action.
    ///
    /// A request is counted once its signature is verified (or it is the
    /// unsigned `AssumeRoleWithWebIdentity`), its `X-TC-Version` is right and
    /// its `X-TC-Action` names `action`, whatever happens next: refused for
    /// its region, throttled by the rate limit (`RequestLimitExceeded`),
    /// refused for its parameters (`UnknownParameter`, `InvalidParameter`,
    /// `InvalidParameterValue`, ...), given an injected fault (throttling,
    /// `InternalError`, a reset), refused by the action (e.g. `Limit` above
    /// 100), or answered. Requests refused before that (method, size,
    /// authentication, version, unknown action) are not counted: they have
    /// no trusted action. Metadata GETs are not API requests: see
    /// [`Emulator::credentials_issued`]. [`FaultStats::requests`] counts
    /// only those faults apply to (parameters decoded).
    pub fn request_count(&self, action: &str) -> u64 {
        self.shared.faults.request_count(action)
    }

    /// The seed of the fault PRNG: [`FaultConfig::seed`], or the one drawn
    /// when none was given (give it back to replay a run).
    pub fn fault_seed(&self) -> u64 {
        self.shared.faults.seed()
    }

    /// Temporary credentials issued so far, by source (metadata service,
    /// `AssumeRole`, `AssumeRoleWithWebIdentity`).
    pub fn credentials_issued(&self) -> CredentialsIssued {
        self.shared.minter.issued()
    }

    /// Serves HTTP/1.1 and HTTP/2 (cleartext) on `listener` in a background
    /// task until [`RunningEmulator::shutdown`] (or drop).
    pub fn serve(self, listener: TcpListener) -> Result<RunningEmulator, StartError> {
        let addr = listener.local_addr()?;
        self.shared
            .store()
            .set_holder(&format!("pid {}, http://{addr}", std::process::id()));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&self.shared),
            self.read_timeout,
            self.max_connections,
            stopped,
        ));
        Ok(RunningEmulator {
            emulator: self,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// Loads the state file (locking it and replaying its journal), then
/// writes it back whole: that proves it writable before anything is served.
fn open_state_file(
    path: &std::path::Path,
    seed: Option<State>,
    transition_ms: u64,
    journal_limit: u64,
) -> Result<Store, StateError> {
    let (state, persistence) = Persistence::open(path, seed, journal_limit)?;
    let in_file = |e: StateError| match e {
        e @ StateError::File { .. } => e,
        e => StateError::File {
            path: path.display().to_string(),
            source: Box::new(e),
        },
    };
    let mut store = Store::from_state(state, transition_ms, time::now_ms()).map_err(in_file)?;
    store.attach(persistence);
    store.compact().map_err(in_file)?;
    Ok(store)
}

/// How long shutdown waits for requests in flight.
const GRACE: Duration = Duration::from_secs(5);

/// Longest time allowed for a request head (and for a new connection's
/// first byte), however long `read_timeout` is: a head is a few hundred
/// bytes, and a client dribbling it holds a connection.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// What the accept loop tells its connections.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Serve.
    Run,
    /// Finish the requests in flight, then close (graceful shutdown).
    Drain,
    /// Close now.
    Kill,
}

/// Accepts connections until `stopped`, then drains them (at most
/// [`GRACE`]).
///
/// No connection can hold one of the `max_connections` places for long
/// while achieving nothing. At the cap, a newcomer takes the place of the
/// connection that has achieved least ([`conns`]): slow, silent or idle
/// clients cannot lock valid ones out. Besides, a connection that sends
/// nothing within the head timeout (`read_timeout`, at most
/// [`HEAD_TIMEOUT`]) of being accepted is closed before HTTP/1-vs-HTTP/2
/// detection even starts, and so is an HTTP/1 request head that takes
/// longer; a connection with no request in flight for `read_timeout` (an
/// idle keep-alive HTTP/1 connection, an idle HTTP/2 connection, a client
/// that stops reading its answer) is shut down gracefully, and dropped
/// `read_timeout` later if it has still not closed. The accept loop itself
/// never waits.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    read_timeout: Duration,
    max_connections: usize,
    mut stopped: oneshot::Receiver<()>,
) {
    let head_timeout = read_timeout.min(HEAD_TIMEOUT);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .max_buf_size(256 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(read_timeout)
        .keep_alive_timeout(read_timeout)
        .max_header_list_size(256 * 1024)
        .max_concurrent_streams(256);
    let (phase, _) = watch::channel(Phase::Run);
    let conns = Arc::new(Conns::new(max_connections));
    let (mut refused, mut evicted): (u64, u64) = (0, 0);
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // E.g. out of file descriptors: wait rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let admitted = match conns.admit() {
            Admission::Admitted(admitted) => admitted,
            Admission::Evicted(admitted) => {
                evicted += 1;
                if evicted.is_power_of_two() {
                    tracing::warn!(%peer, evicted, max_connections, "connection limit reached; closing the connections that achieved least");
                }
                admitted
            }
            Admission::Refused => {
                refused += 1;
                if refused.is_power_of_two() {
                    tracing::warn!(%peer, refused, max_connections, "connection limit reached and every connection busy; closing new connections");
                }
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            peer,
            builder.clone(),
            Arc::clone(&shared),
            Timeouts {
                head: head_timeout,
                idle: read_timeout,
            },
            phase.subscribe(),
            admitted,
        ));
    }
    drop(listener);
    let _ = phase.send(Phase::Drain);
    if tokio::time::timeout(GRACE, conns.all_closed()).await.is_err() {
        tracing::warn!("connections still open after {GRACE:?}; closing anyway");
        let _ = phase.send(Phase::Kill);
    }
}

/// The timeouts of one connection.
#[derive(Clone, Copy)]
struct Timeouts {
    /// For the first byte (HTTP/1 heads: the builder's own timer).
    head: Duration,
    /// With no request in flight.
    idle: Duration,
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    builder: auto::Builder<TokioExecutor>,
    shared: Arc<Shared>,
    timeouts: Timeouts,
    mut phase: watch::Receiver<Phase>,
    admitted: Admitted,
) {
    let progress = Arc::clone(&admitted.progress);
    let mut evicted = admitted.evicted;
    // Leaves the connection set when this task ends, however it ends.
    let _place = admitted.place;
    // Nothing is read until the client sends a byte: a silent connection
    // is closed after the head timeout (protocol detection has none).
    let mut first = [0u8; 1];
    tokio::select! {
        peeked = tokio::time::timeout(timeouts.head, stream.peek(&mut first)) => match peeked {
            Ok(Ok(n)) if n > 0 => {}
            Ok(Ok(_)) | Ok(Err(_)) => return,
            Err(_) => {
                tracing::debug!(%peer, "no data within the head timeout; closing");
                return;
            }
        },
        _ = phase.wait_for(|p| *p >= Phase::Drain) => return,
        _ = &mut evicted => return,
    }

    let reset = Arc::new(Reset::default());
    let service = {
        let progress = Arc::clone(&progress);
        let reset = Arc::clone(&reset);
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let shared = Arc::clone(&shared);
            let reset = Arc::clone(&reset);
            // In flight until the answer is ready (also when cancelled);
            // the gateway marks it authenticated.
            let track = RequestTrack::new(&progress);
            request.extensions_mut().insert(track.clone());
            async move {
                let reply = server::handle(shared, request.map(axum::body::Body::new)).await;
                drop(track);
                match reply {
                    Reply::Answer(response) => Ok::<_, std::convert::Infallible>(response),
                    Reply::Reset => {
                        // The connection task drops the connection (this
                        // future with it) with a TCP RST. Answering nothing
                        // meanwhile keeps hyper from ending just this
                        // request (an HTTP/2 RST_STREAM) first.
                        reset.request();
                        std::future::pending().await
                    }
                }
            }
        })
    };
    let connection = builder
        .serve_connection(
            TokioIo::new(ResettableStream::new(stream, Arc::clone(&reset))),
            service,
        )
        .into_owned();
    tokio::pin!(connection);
    // Set once a graceful shutdown has begun: when to drop the connection.
    let mut close_by: Option<Instant> = None;
    loop {
        let wake = close_by.unwrap_or_else(|| progress.idle_at(timeouts.idle));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = &mut evicted => {
                tracing::debug!(%peer, "closed to make room for a new connection");
                return;
            }
            () = reset.requested() => {
                tracing::debug!(%peer, "connection reset (injected fault)");
                return;
            }
            changed = phase.changed() => {
                let now = *phase.borrow_and_update();
                if changed.is_err() || now == Phase::Kill {
                    return;
                }
                if now == Phase::Drain && close_by.is_none() {
                    connection.as_mut().graceful_shutdown();
                    close_by = Some(Instant::now() + GRACE);
                }
            }
            () = tokio::time::sleep_until(wake.into()) => {
                if close_by.is_some() {
                    tracing::debug!(%peer, "connection did not close after a graceful shutdown; dropping it");
                    return;
                }
                if progress.idle_at(timeouts.idle) <= Instant::now() {
                    tracing::debug!(%peer, "connection idle for the read timeout; closing");
                    connection.as_mut().graceful_shutdown();
                    close_by = Some(Instant::now() + timeouts.idle);
                }
            }
        }
    }
}

/// A serving emulator. Dropping it stops the server (in the background);
/// [`RunningEmulator::shutdown`] stops it and waits.
pub struct RunningEmulator {
    emulator: Emulator,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, for `cvm_api::Endpoint::custom` or an SDK's endpoint.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `Host` header clients send (`IP:PORT`), for hand-signed requests.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The state now (transitions due are completed first).
    pub fn state_snapshot(&self) -> State {
        self.emulator.state_snapshot()
    }

    /// The emulator being served (e.g. for [`Emulator::router`]).
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// What the emulator saw and injected so far (see [`FaultStats`]).
    pub fn fault_stats(&self) -> FaultStats {
        self.emulator.fault_stats()
    }

    /// Authenticated requests of `action` so far, refused or not (see
    /// [`Emulator::request_count`]).
    pub fn request_count(&self, action: &str) -> u64 {
        self.emulator.request_count(action)
    }

    /// The seed of the fault PRNG (see [`Emulator::fault_seed`]).
    pub fn fault_seed(&self) -> u64 {
        self.emulator.fault_seed()
    }

    /// Temporary credentials issued so far (see [`Emulator::credentials_issued`]).
    pub fn credentials_issued(&self) -> CredentialsIssued {
        self.emulator.credentials_issued()
    }

    /// `http://IP:PORT/latest/meta-data/`, the metadata service's root as
    /// the official SDKs configure it.
    pub fn metadata_url(&self) -> String {
        format!("http://{}/latest/meta-data/", self.addr)
    }

    /// A [`cvm_api::Config`] for this emulator: its endpoint, `region`, the
    /// first configured credential and a 10 s timeout.
    pub fn client_config(&self, region: &str) -> Result<cvm_api::Config, cvm_api::ConfigError> {
        let (id, key) = &self.emulator.first_credential;
        Ok(
            cvm_api::Config::new(cvm_api::Credentials::new(id.clone(), key.clone()))
                .with_endpoint(cvm_api::Endpoint::custom(&self.endpoint_url())?)
                .with_region(region)
                .with_timeout(Duration::from_secs(10)),
        )
    }

    /// A [`cvm_api::Client`] for [`RunningEmulator::client_config`].
    pub fn client(&self, region: &str) -> Result<cvm_api::Client, cvm_api::ConfigError> {
        cvm_api::Client::from_config(self.client_config(region)?)
    }

    /// Stops accepting connections, lets requests in flight finish (at most
    /// 5 s), writes the state file (if any), and returns the final state.
    /// A state file that cannot be written is logged: its journal still
    /// holds every change.
    pub async fn shutdown(mut self) -> State {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let mut store = self.emulator.shared.store();
        if let Err(e) = store.compact() {
            tracing::warn!(error = %e, "cannot write the state file at shutdown; its journal keeps the changes");
        }
        store.snapshot(time::now_ms())
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
