//! [`Config`] from the environment: variables, profile files, the default
//! credential chain (the runtime's sources, or more through
//! [`DefaultChainBuilder`]).

use crate::config::check_region;
use crate::credentials::{DefaultChain, DefaultChainBuilder};
use crate::profile::{profile_name, TccliConfigure};
use crate::{Config, ConfigError, Env};

const REGION: &str = "TENCENTCLOUD_REGION";
const SERVICE_ENDPOINT_PREFIX: &str = "TENCENTCLOUD_ENDPOINT_";

/// Every variable read, but the per-service endpoints.
const KNOWN: &[&str] = &[
    crate::credentials::SECRET_ID,
    crate::credentials::SECRET_KEY,
    crate::credentials::SESSION_TOKEN,
    REGION,
    "TENCENTCLOUD_ENDPOINT",
    crate::profile::PROFILE,
    crate::credentials::profile::CREDENTIALS_FILE,
    crate::credentials::metadata::METADATA_ENDPOINT,
    "HOME",
    "USERPROFILE",
];

impl Config {
    /// Reads the process environment and the usual files:
    ///
    /// | variable | |
    /// |---|---|
    /// | `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, `TENCENTCLOUD_SESSION_TOKEN` | credentials; without them, the rest of the runtime's [default chain](crate::credentials::DefaultChain) (profile file, CVM role) |
    /// | `TENCENTCLOUD_PROFILE` | profile of the credentials files, default `default` |
    /// | `TENCENTCLOUD_REGION` | e.g. `ap-guangzhou`; else the region of `~/.tccli/<profile>.configure`; required by most actions |
    /// | `TENCENTCLOUD_ENDPOINT` | full URL for every service, see [`Endpoint::custom`](crate::Endpoint::custom); default [`Endpoint::global`](crate::Endpoint::global) |
    /// | `TENCENTCLOUD_ENDPOINT_<SERVICE>` | full URL for one service (e.g. `TENCENTCLOUD_ENDPOINT_STS`), winning over `TENCENTCLOUD_ENDPOINT` |
    ///
    /// Empty values count as unset; surrounding whitespace is ignored. A
    /// source that is present but broken is an error here, naming it; a CVM
    /// role that cannot be reached is an error of the first call.
    ///
    /// The runtime calls no service, so the sources that need STS are not
    /// here: `tencentcloud_config::from_env()` (crate `tencentcloud-config`)
    /// reads all of the above, adds TKE OIDC to the chain before the CVM role
    /// (`TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE`,
    /// `TKE_ROLE_ARN`) and honours `TENCENTCLOUD_ROLE_ARN` (a role taken on with STS).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(DefaultChain::builder())
    }

    /// [`Config::from_env`] with credentials from `chain`, the runtime's
    /// chain with sources added (see [`DefaultChainBuilder::source`]).
    pub fn from_env_with(chain: DefaultChainBuilder) -> Result<Self, ConfigError> {
        for name in KNOWN {
            if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(name) {
                return Err(ConfigError::InvalidEnv {
                    name,
                    reason: "is not valid UTF-8".to_owned(),
                });
            }
        }
        Self::from_environment_with(&Env::process(), chain)
    }

    /// [`Config::from_env`] with variables looked up by `lookup` instead of
    /// in the process environment (each name asked once). It cannot list
    /// variables, so `TENCENTCLOUD_ENDPOINT_<SERVICE>` is not read; see
    /// [`Config::from_environment`] and [`Env::from_pairs`].
    pub fn from_lookup(mut lookup: impl FnMut(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let known = KNOWN
            .iter()
            .filter_map(|name| lookup(name).map(|value| (*name, value)));
        Self::from_environment(&Env::from_pairs(known.collect::<Vec<_>>()))
    }

    /// [`Config::from_env`] reading `env`.
    pub fn from_environment(env: &Env) -> Result<Self, ConfigError> {
        Self::from_environment_with(env, DefaultChain::builder())
    }

    /// [`Config::from_env_with`] reading `env`: the configuration that
    /// [`Config::from_environment`] reads, with credentials from `chain`.
    pub fn from_environment_with(env: &Env, chain: DefaultChainBuilder) -> Result<Self, ConfigError> {
        use crate::credentials::{SECRET_ID, SECRET_KEY, SESSION_TOKEN};
        use crate::identity::{check_secret_id, check_token};
        // Half a key pair is a mistake to name, not a reason to look elsewhere.
        match (env.get(SECRET_ID), env.get(SECRET_KEY)) {
            (Some(_), None) => return Err(ConfigError::MissingEnv(vec![SECRET_KEY])),
            (None, Some(_)) => return Err(ConfigError::MissingEnv(vec![SECRET_ID])),
            (Some(id), Some(_)) => check_secret_id(&id).map_err(|reason| ConfigError::InvalidEnv {
                name: SECRET_ID,
                reason,
            })?,
            (None, None) => {}
        }
        if let Some(token) = env.get(SESSION_TOKEN) {
            check_token(&token).map_err(|reason| ConfigError::InvalidEnv {
                name: SESSION_TOKEN,
                reason,
            })?;
        }
        let chain = chain.build(env)?;
        let mut config = match chain.fixed() {
            Some(credentials) => Config::new(credentials),
            None => Config::from_credentials_provider(chain),
        };
        let region = match env.get(REGION) {
            Some(region) => Some((region, REGION)),
            None => TccliConfigure::read(env, &profile_name(env))?
                .and_then(|conf| conf.region().map(str::to_owned))
                .map(|r| (r, "the region of the tccli profile")),
        };
        if let Some((region, from)) = region {
            check_region(&region).map_err(|reason| ConfigError::InvalidEnv {
                name: if from == REGION {
                    REGION
                } else {
                    "region of ~/.tccli/<profile>.configure"
                },
                reason,
            })?;
            config.region = Some(region);
        }
        if let Some(endpoint) = crate::endpoint::from_env(env, "")? {
            config.endpoint = endpoint;
        }
        for name in env.names_with_prefix(SERVICE_ENDPOINT_PREFIX) {
            let service = name[SERVICE_ENDPOINT_PREFIX.len()..].to_ascii_lowercase();
            if let Some(endpoint) = crate::endpoint::from_env(env, &service)? {
                config = config.with_service_endpoint(service, endpoint);
            }
        }
        Ok(config)
    }
}
