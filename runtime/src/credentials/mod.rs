//! Where credentials come from: the default chain and each of its sources,
//! usable on their own.
//!
//! | order | source | reads |
//! |---|---|---|
//! | 1 | [`EnvironmentProvider`] | `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, `TENCENTCLOUD_SESSION_TOKEN` |
//! | 2 | [`ProfileProvider`] | `TENCENTCLOUD_CREDENTIALS_FILE` or `~/.tencentcloud/credentials` (INI, section `TENCENTCLOUD_PROFILE` or `default`), then `~/.tccli/<profile>.credential` |
//! | 3 | [`InstanceRoleProvider`] | the CVM metadata service (`TENCENTCLOUD_METADATA_ENDPOINT` to override) |
//!
//! [`DefaultChain`] takes the first source that has credentials; a fixed
//! [`Credentials`] is a provider too. Temporary credentials are cached and
//! renewed ahead of expiry by [`RefreshingProvider`].
//!
//! The runtime calls no service, so the sources that need STS live in the
//! `tencentcloud-config` crate, on the generated `sts-api` client:
//! `tencentcloud_config::from_env()` gives the full default chain
//! (environment, profile file, TKE OIDC, CVM role; and `TENCENTCLOUD_ROLE_ARN`,
//! a role taken on with STS), and its `credentials` module holds the
//! STS-backed providers. They are built from what this module exports:
//! [`RefreshingProvider`], [`temporary`], [`ChainSource`] and
//! [`DefaultChain::builder`].

mod cache;
mod chain;
pub(crate) mod metadata;
pub(crate) mod profile;

use std::borrow::Cow;

pub use cache::RefreshingProvider;
pub use chain::{ChainSource, DefaultChain, DefaultChainBuilder, Lookup};
pub use metadata::{temporary, InstanceRoleProvider};
pub use profile::ProfileProvider;

pub use crate::{Credentials, CredentialsError, CredentialsFuture, Env, ProvideCredentials, SecretKey};

use crate::identity::{check_secret_id, check_token};

pub(crate) const SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
pub(crate) const SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
pub(crate) const SESSION_TOKEN: &str = "TENCENTCLOUD_SESSION_TOKEN";

/// Credentials from `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and,
/// for temporary ones, `TENCENTCLOUD_SESSION_TOKEN`, read once.
#[derive(Debug, Clone)]
pub struct EnvironmentProvider {
    credentials: Credentials,
}

impl EnvironmentProvider {
    /// From the process environment; an error names what is missing.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_environment(&Env::process())
    }

    /// [`EnvironmentProvider::from_env`] reading `env`.
    pub fn from_environment(env: &Env) -> Result<Self, CredentialsError> {
        match Self::find(env)? {
            Ok(credentials) => Ok(EnvironmentProvider { credentials }),
            Err(why) => Err(CredentialsError::new(why)),
        }
    }

    /// The credentials; `Ok(Err(why))` when neither variable is set. Only
    /// one of the two set is an error, not an absence.
    pub(crate) fn find(env: &Env) -> Result<Result<Credentials, String>, CredentialsError> {
        let (id, key) = match (env.get(SECRET_ID), env.get(SECRET_KEY)) {
            (Some(id), Some(key)) => (id, key),
            (None, None) => return Ok(Err(format!("{SECRET_ID} and {SECRET_KEY} are not set"))),
            (Some(_), None) => {
                return Err(CredentialsError::new(format!(
                    "{SECRET_ID} is set but {SECRET_KEY} is not"
                )))
            }
            (None, Some(_)) => {
                return Err(CredentialsError::new(format!(
                    "{SECRET_KEY} is set but {SECRET_ID} is not"
                )))
            }
        };
        check_secret_id(&id).map_err(|e| CredentialsError::new(format!("{SECRET_ID} {e}")))?;
        let mut credentials = Credentials::new(id, SecretKey::new(key));
        if let Some(token) = env.get(SESSION_TOKEN) {
            check_token(&token).map_err(|e| CredentialsError::new(format!("{SESSION_TOKEN} {e}")))?;
            credentials = credentials.with_session_token(token);
        }
        Ok(Ok(credentials.with_source(Cow::Borrowed("environment"))))
    }

    /// The credentials read.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::ready(Ok(self.credentials.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_provider() {
        let env = Env::from_pairs([(SECRET_ID, "AKID1"), (SECRET_KEY, "k1"), (SESSION_TOKEN, "t1")]);
        let p = EnvironmentProvider::from_environment(&env).unwrap();
        assert_eq!(p.credentials().session_token(), Some("t1"));
        assert_eq!(p.credentials().source(), "environment");
        let e = EnvironmentProvider::from_environment(&Env::from_pairs([(SECRET_ID, "AKID1")])).unwrap_err();
        assert!(
            e.to_string()
                .contains("TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not"),
            "{e}"
        );
        let e =
            EnvironmentProvider::from_environment(&Env::from_pairs([(SECRET_KEY, "hunter2")])).unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
        let e = EnvironmentProvider::from_environment(&Env::from_pairs::<&str, &str>([])).unwrap_err();
        assert!(
            e.to_string()
                .contains("TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set"),
            "{e}"
        );
    }
}
