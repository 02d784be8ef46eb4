//! How an emulator behaves: [`EmulatorConfig`], its limits, and the
//! errors of a configuration that cannot be used.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use signer::SecretKey;

use crate::cvm::ids::is_image_id;
use crate::cvm::launch::LAUNCH_FAILURE_IMAGE_ID;
use crate::cvm::persist::DEFAULT_JOURNAL_LIMIT;
use crate::cvm::state_file::{State, StateError};
use crate::error::shorten;
use crate::faults::FaultConfig;
use crate::metadata::DEFAULT_ROLE_NAME;

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
    /// least `max_body_bytes`). A body takes room for its whole declared
    /// length (the size limit when undeclared) once more than its first
    /// 16 KiB (one body per connection) have arrived, then must keep
    /// arriving at 256 KiB/s after 2 s or is cut; a request waits up to
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
            journal_limit_bytes: DEFAULT_JOURNAL_LIMIT,
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
pub(crate) fn check_role_name(role: &str) -> Result<(), StartError> {
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
            shorten(role)
        )))
    }
}

/// [`LAUNCH_FAILURE_IMAGE_ID`] and the configured failing images, checked:
/// an id no RunInstances could pass would fail nothing, silently.
pub(crate) fn failing_images(configured: &[String]) -> Result<HashSet<String>, StartError> {
    if configured.len() > MAX_FAILING_IMAGES {
        return Err(StartError::Config(format!(
            "{} failing images given; at most {MAX_FAILING_IMAGES} are allowed",
            configured.len()
        )));
    }
    if let Some(bad) = configured.iter().find(|id| !is_image_id(id)) {
        return Err(StartError::Config(format!(
            "failing image id `{}` is malformed: give `img-` followed by 8 lower-case letters or digits",
            shorten(bad)
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
