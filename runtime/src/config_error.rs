//! Why a configuration cannot be used.

use super::display::AndList;
use super::CredentialsError;

/// A configuration that cannot be used. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Required environment variables are unset or empty (names listed).
    #[error("missing {}", AndList(.0))]
    MissingEnv(Vec<&'static str>),
    /// An environment variable is set but unusable.
    #[error("{name} is malformed: {reason}")]
    InvalidEnv { name: &'static str, reason: String },
    /// A value set in code is unusable; `what` names it (`region`, `endpoint`...).
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// [`Endpoint::regional`](crate::Endpoint::regional) without a region.
    #[error("the regional endpoint https://{{service}}.{{region}}.tencentcloudapi.com needs a region")]
    RegionRequired,
    /// A credential source is present but unusable (a malformed profile
    /// file, half of a key pair in the environment).
    #[error("{0}")]
    Credentials(#[from] CredentialsError),
    /// A configuration file is present but unusable (the region of a
    /// malformed `~/.tccli/<profile>.configure`); names the file.
    #[error("{0}")]
    Profile(#[from] crate::profile::ProfileError),
    /// The HTTP client could not be set up (e.g. TLS initialisation).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] Box<dyn std::error::Error + Send + Sync>),
}
