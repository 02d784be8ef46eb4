//! The default credential chain.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{EnvironmentProvider, InstanceRoleProvider, ProfileProvider};
use crate::{Credentials, CredentialsError, CredentialsFuture, Env, ProvideCredentials};

/// The sources in order, as named in errors and logs.
const ENVIRONMENT: &str = "environment";
const PROFILE: &str = "profile file";
const CVM_ROLE: &str = "CVM role";

/// What a [`ChainSource`] finds in an environment.
pub enum Lookup {
    /// The source is present: the chain uses this provider.
    Found(Arc<dyn ProvideCredentials>),
    /// The source is absent, for this reason (`TKE_ROLE_ARN is not set`),
    /// listed in the chain's error when no source has credentials.
    Absent(String),
}

/// A source of credentials that the runtime's own chain does not know,
/// tried by a [`DefaultChain`] built with [`DefaultChainBuilder::source`].
///
/// The runtime calls no service, so the sources that need one (STS's TKE
/// OIDC exchange, in the `tencentcloud-config` crate) reach the chain this
/// way. `find` is called once, when the chain is made: it decides from the
/// environment (and files) alone, without network I/O.
pub trait ChainSource: Send + Sync {
    /// The source's name in errors, logs and [`DefaultChain::source`]
    /// (`TKE OIDC`).
    fn name(&self) -> &'static str;

    /// The provider when the source is present; [`Lookup::Absent`] when it
    /// is not; an error when it is present but broken (never skipped).
    fn find(&self, env: &Env) -> Result<Lookup, CredentialsError>;
}

/// Tries each source in order and keeps the first that has credentials:
/// the environment, a profile file, any sources added with
/// [`DefaultChainBuilder::source`], the CVM instance role (see the
/// [module](super) table).
///
/// The runtime's own chain ([`DefaultChain::from_env`]) needs no service.
/// The full default chain, with TKE OIDC (an STS exchange of the pod's
/// token) before the CVM role, is `tencentcloud_config`'s, built on this one.
///
/// The sources before the CVM role are decided when the chain is made,
/// without I/O beyond reading files: a source that is absent is skipped, one
/// that is present but broken (a malformed profile file, only one of the two
/// keys in the environment) is an error, never skipped. The CVM role needs
/// the network, so it is tried at the first call; off Tencent Cloud it fails
/// within about a second, and the error lists every source and why it was
/// skipped.
///
/// [`DefaultChain::source`] says which source is in use; `Debug` and the
/// `tracing` events say it too, never the secrets.
pub struct DefaultChain {
    inner: Inner,
}

enum Inner {
    Chosen {
        provider: Arc<dyn ProvideCredentials>,
        source: &'static str,
        /// Set when the source gives one credential for good.
        fixed: Option<Credentials>,
    },
    InstanceRole {
        provider: Box<InstanceRoleProvider>,
        /// Why each earlier source was skipped.
        skipped: Vec<String>,
        answered: AtomicBool,
    },
}

/// A [`DefaultChain`] with more sources; see [`DefaultChain::builder`].
#[derive(Default)]
pub struct DefaultChainBuilder {
    /// Tried in this order, after the profile file and before the CVM role.
    extra: Vec<Box<dyn ChainSource>>,
}

impl fmt::Debug for DefaultChainBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.extra.iter().map(|s| s.name()).collect();
        f.debug_struct("DefaultChainBuilder")
            .field("extra_sources", &names)
            .finish()
    }
}

impl DefaultChainBuilder {
    /// Adds `source`, tried after the profile file and the sources added
    /// before it, and before the CVM role.
    pub fn source(mut self, source: impl ChainSource + 'static) -> Self {
        self.extra.push(Box::new(source));
        self
    }

    /// The chain over the process environment and files.
    pub fn build_from_env(self) -> Result<DefaultChain, CredentialsError> {
        self.build(&Env::process())
    }

    /// The chain reading `env` (variables, and the home directory as `HOME`
    /// or `USERPROFILE` says).
    pub fn build(self, env: &Env) -> Result<DefaultChain, CredentialsError> {
        let chosen =
            |provider: Arc<dyn ProvideCredentials>, source: &'static str, fixed: Option<Credentials>| {
                tracing::debug!(source, "credentials source chosen");
                Ok(DefaultChain {
                    inner: Inner::Chosen {
                        provider,
                        source,
                        fixed,
                    },
                })
            };
        let named = |source: &'static str| move |e: CredentialsError| e.context(source);
        let mut skipped = Vec::new();
        match EnvironmentProvider::find(env).map_err(named(ENVIRONMENT))? {
            Ok(credentials) => return chosen(Arc::new(credentials.clone()), ENVIRONMENT, Some(credentials)),
            Err(why) => skipped.push(format!("{ENVIRONMENT}: {why}")),
        }
        match ProfileProvider::find(env).map_err(named(PROFILE))? {
            Ok(credentials) => return chosen(Arc::new(credentials.clone()), PROFILE, Some(credentials)),
            Err(why) => skipped.push(format!("{PROFILE}: {why}")),
        }
        for source in &self.extra {
            let name = source.name();
            match source.find(env).map_err(named(name))? {
                Lookup::Found(provider) => return chosen(provider, name, None),
                Lookup::Absent(why) => skipped.push(format!("{name}: {why}")),
            }
        }
        let provider = InstanceRoleProvider::from_environment(env).map_err(named(CVM_ROLE))?;
        Ok(DefaultChain {
            inner: Inner::InstanceRole {
                provider: Box::new(provider),
                skipped,
                answered: AtomicBool::new(false),
            },
        })
    }
}

impl DefaultChain {
    /// The runtime's chain (environment, profile file, CVM role) over the
    /// process environment and files.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_environment(&Env::process())
    }

    /// [`DefaultChain::from_env`] reading `env` (variables, and the home
    /// directory as `HOME` or `USERPROFILE` says).
    pub fn from_environment(env: &Env) -> Result<Self, CredentialsError> {
        Self::builder().build(env)
    }

    /// The runtime's chain, to which sources can be added
    /// ([`DefaultChainBuilder::source`]) before the CVM role.
    pub fn builder() -> DefaultChainBuilder {
        DefaultChainBuilder::default()
    }

    /// The credential, when the chosen source gives one for good
    /// (environment, profile file).
    pub(crate) fn fixed(&self) -> Option<Credentials> {
        match &self.inner {
            Inner::Chosen { fixed, .. } => fixed.clone(),
            Inner::InstanceRole { .. } => None,
        }
    }

    /// The source in use: `environment`, `profile file`, the
    /// [name](ChainSource::name) of an added source (`TKE OIDC`) or `CVM
    /// role`; `None` while the CVM role has not answered yet.
    pub fn source(&self) -> Option<&'static str> {
        match &self.inner {
            Inner::Chosen { source, .. } => Some(source),
            Inner::InstanceRole { answered, .. } => answered.load(Ordering::Relaxed).then_some(CVM_ROLE),
        }
    }
}
impl ProvideCredentials for DefaultChain {
    fn provide(&self) -> CredentialsFuture<'_> {
        match &self.inner {
            Inner::Chosen { provider, .. } => provider.provide(),
            Inner::InstanceRole {
                provider,
                skipped,
                answered,
            } => {
                let asked = provider.provide();
                CredentialsFuture::new(async move {
                    match asked.await {
                        Ok(credentials) => {
                            if !answered.swap(true, Ordering::Relaxed) {
                                tracing::debug!(source = CVM_ROLE, "credentials source chosen");
                            }
                            Ok(credentials)
                        }
                        Err(e) if answered.load(Ordering::Relaxed) => Err(e),
                        Err(e) => Err(CredentialsError::new(format!(
                            "no credentials in any source: {}; {CVM_ROLE}: {}",
                            skipped.join("; "),
                            e.reason()
                        ))),
                    }
                })
            }
        }
    }

    fn invalidate(&self, rejected: &Credentials) -> bool {
        match &self.inner {
            Inner::Chosen { provider, .. } => provider.invalidate(rejected),
            Inner::InstanceRole { provider, .. } => provider.invalidate(rejected),
        }
    }
}

impl fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DefaultChain");
        match &self.inner {
            Inner::Chosen { provider, source, .. } => d.field("source", source).field("provider", provider),
            Inner::InstanceRole {
                provider, skipped, ..
            } => d
                .field("source", &self.source())
                .field("provider", provider)
                .field("skipped", skipped),
        };
        d.finish()
    }
}
