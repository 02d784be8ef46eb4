//! An emulator before and while it serves: [`Emulator`] (checked
//! configuration, loaded state) and [`RunningEmulator`] (the listener's
//! task, the client settings that reach it, the final state).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signer::SecretKey;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::body::{body_budget, MAX_BODIES_WAITING};
use crate::config::{
    check_role_name, failing_images, EmulatorConfig, StartError, MAX_CLOCK_SKEW_SECS, MAX_CREDENTIAL_TTL,
    MAX_WEB_IDENTITY_TOKEN_LEN,
};
use crate::cvm::persist::Persistence;
use crate::cvm::request::ACTIONS;
use crate::cvm::state_file::{State, StateError};
use crate::cvm::store::Store;
use crate::faults::{FaultStats, Faults};
use crate::listener::accept_loop;
use crate::ratelimit::RateLimiter;
use crate::shared::Shared;
use crate::tmpcreds::{CredentialsIssued, Minter};
use crate::{server, sts, time};

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
        // Each instance has a private address of its own, out of IP_HOSTS.
        if config.max_instances >= crate::cvm::instances::IP_HOSTS as usize {
            return Err(StartError::Config(format!(
                "max_instances {} is beyond the {} private addresses instances are numbered from; \
                 it must be below",
                config.max_instances,
                crate::cvm::instances::IP_HOSTS
            )));
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
                config.max_instances,
            )?,
            Some(path) => open_state_file(
                path,
                config.initial_state,
                transition_ms,
                config.journal_limit_bytes,
                config.max_instances,
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
            body_budget: body_budget(config.max_buffered_bytes, config.max_body_bytes),
            body_waiting: tokio::sync::Semaphore::new(MAX_BODIES_WAITING),
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
    max_instances: usize,
) -> Result<Store, StateError> {
    let (state, persistence) = Persistence::open(path, seed, journal_limit)?;
    let in_file = |e: StateError| match e {
        e @ StateError::File { .. } => e,
        e => StateError::File {
            path: path.display().to_string(),
            source: Box::new(e),
        },
    };
    let mut store =
        Store::from_state(state, transition_ms, time::now_ms(), max_instances).map_err(in_file)?;
    store.attach(persistence);
    store.compact().map_err(in_file)?;
    Ok(store)
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
    /// first configured credential and a 10 s timeout. When the emulator
    /// enforces no rate limit, the client does not pace its calls either,
    /// so local tests run at full speed; with one, the client keeps the
    /// SDK's default pacing, as against Tencent Cloud.
    pub fn client_config(&self, region: &str) -> Result<cvm_api::Config, cvm_api::ConfigError> {
        let (id, key) = &self.emulator.first_credential;
        let config = cvm_api::Config::new(cvm_api::Credentials::new(id.clone(), key.clone()))
            .with_endpoint(cvm_api::Endpoint::custom(&self.endpoint_url())?)
            .with_region(region)
            .with_timeout(Duration::from_secs(10));
        Ok(match self.emulator.shared.limiter {
            None => config.with_rate_limit(cvm_api::runtime::RateLimitConfig::off()),
            Some(_) => config,
        })
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
