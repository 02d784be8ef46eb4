//! The Tencent Cloud Rust SDK's configuration from the environment, every
//! credential source included.
//!
//! The runtime (`tencentcloud-runtime`) knows no service, so its own
//! [`Config::from_env`] takes credentials only from the sources that need
//! none: the environment, the profile files and the CVM role. This crate,
//! above the runtime and the generated STS client (`sts-api`), adds the
//! sources that call STS, and is what programs should start from:
//!
//! | order | source | reads |
//! |---|---|---|
//! | 1 | environment | `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, `TENCENTCLOUD_SESSION_TOKEN` |
//! | 2 | profile file | `TENCENTCLOUD_CREDENTIALS_FILE` or `~/.tencentcloud/credentials` (INI, section `TENCENTCLOUD_PROFILE` or `default`), then `~/.tccli/<profile>.credential` |
//! | 3 | TKE OIDC ([`credentials::TkeOidcSource`]) | `TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE`, `TKE_ROLE_ARN` → STS `AssumeRoleWithWebIdentity` |
//! | 4 | CVM role | the CVM metadata service (`TENCENTCLOUD_METADATA_ENDPOINT` to override) |
//!
//! and then, when `TENCENTCLOUD_ROLE_ARN` is set, whatever the chain found
//! signs STS `AssumeRole` for that role (session
//! `TENCENTCLOUD_ROLE_SESSION_NAME`, default `tencentcloud-rust-sdk`), and
//! calls use the role's credentials. Everything else (region, endpoints,
//! `TENCENTCLOUD_ENDPOINT_STS` for STS itself) is read as
//! [`Config::from_env`] reads it.
//!
//! ```no_run
//! # fn demo() -> Result<(), tencentcloud_runtime::ConfigError> {
//! let shared = tencentcloud_config::from_env()?;
//! // let cvm = cvm_api::Client::new(&shared);
//! // let vpc = vpc_api::Client::new(&shared);
//! # let _ = shared; Ok(()) }
//! ```

mod sts;

use tencentcloud_runtime::credentials::{DefaultChain, DefaultChainBuilder};
use tencentcloud_runtime::{Client, Config, ConfigError, CredentialsError, Endpoint, Env};

/// The STS-backed credential providers, each usable on its own.
pub mod credentials {
    pub use crate::sts::{AssumeRoleBuilder, AssumeRoleProvider, TkeOidcSource, WebIdentityProvider};
}

use credentials::{AssumeRoleProvider, TkeOidcSource};

const REGION: &str = "TENCENTCLOUD_REGION";
const ROLE_ARN: &str = "TENCENTCLOUD_ROLE_ARN";
const ROLE_SESSION_NAME: &str = "TENCENTCLOUD_ROLE_SESSION_NAME";
/// The session name of `TENCENTCLOUD_ROLE_ARN` without `TENCENTCLOUD_ROLE_SESSION_NAME`.
const DEFAULT_SESSION_NAME: &str = "tencentcloud-rust-sdk";

/// The variables this crate reads beyond the runtime's.
const KNOWN: [&str; 6] = [
    ROLE_ARN,
    ROLE_SESSION_NAME,
    sts::TKE_REGION,
    sts::TKE_PROVIDER_ID,
    sts::TKE_WEB_IDENTITY_TOKEN_FILE,
    sts::TKE_ROLE_ARN,
];

/// A shared runtime [`Client`] configured by [`config_from_env`]: make each
/// service's client from it (`cvm_api::Client::new(&shared)`) to share one
/// connection pool, credential and retry budget.
pub fn from_env() -> Result<Client, ConfigError> {
    Client::new(config_from_env()?)
}

/// [`from_env`] reading `env` instead of the process environment.
pub fn from_environment(env: &Env) -> Result<Client, ConfigError> {
    Client::new(config_from_environment(env)?)
}

/// The configuration of the process environment and the usual files: what
/// [`Config::from_env`] reads, with the full default chain
/// ([`default_chain`]) and `TENCENTCLOUD_ROLE_ARN` (see the [crate] table).
/// A source that is present but broken is an error here, naming it; a CVM
/// role or an STS that cannot be reached is an error of the first call.
pub fn config_from_env() -> Result<Config, ConfigError> {
    for name in KNOWN {
        if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(name) {
            return Err(ConfigError::InvalidEnv {
                name,
                reason: "is not valid UTF-8".to_owned(),
            });
        }
    }
    let config = Config::from_env_with(default_chain_builder())?;
    with_role_from(&Env::process(), config)
}

/// [`config_from_env`] reading `env`.
pub fn config_from_environment(env: &Env) -> Result<Config, ConfigError> {
    let config = Config::from_environment_with(env, default_chain_builder())?;
    with_role_from(env, config)
}

/// The full default chain over `env`: environment, profile file, TKE OIDC,
/// CVM role (the runtime's [`DefaultChain`] with [`TkeOidcSource`]).
pub fn default_chain(env: &Env) -> Result<DefaultChain, CredentialsError> {
    default_chain_builder().build(env)
}

/// The full default chain before it reads an environment, for
/// [`Config::from_environment_with`] or more sources of your own.
pub fn default_chain_builder() -> DefaultChainBuilder {
    DefaultChain::builder().source(TkeOidcSource)
}

/// `config` with its credentials replaced by those of `TENCENTCLOUD_ROLE_ARN`,
/// when set, assumed with them.
fn with_role_from(env: &Env, config: Config) -> Result<Config, ConfigError> {
    let Some(role_arn) = env.get(ROLE_ARN) else {
        return Ok(config);
    };
    let session_name = env
        .get(ROLE_SESSION_NAME)
        .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_owned());
    let mut role = AssumeRoleProvider::builder(role_arn, session_name);
    if let Some(endpoint) = Endpoint::from_environment(env, "sts")? {
        role = role.endpoint(endpoint);
    }
    if let Some(region) = env.get(REGION) {
        role = role.region(region);
    }
    let provider = role.build(config.credentials_provider().clone())?;
    Ok(config.with_credentials_provider(provider))
}
