//! Why a configuration cannot be used.

use super::display::AndList;
use super::CredentialsError;

/// A configuration that cannot be used. Messages never contain secrets.
/// `Debug` leads with the `Display` line, as [`Error`](crate::Error)'s
/// does, so that `Client::from_env()?` in a `main` prints the message first.
#[derive(thiserror::Error)]
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

impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}\n\n")?;
        match self {
            ConfigError::MissingEnv(names) => f.debug_tuple("MissingEnv").field(names).finish(),
            ConfigError::InvalidEnv { name, reason } => f
                .debug_struct("InvalidEnv")
                .field("name", name)
                .field("reason", reason)
                .finish(),
            ConfigError::Invalid { what, reason } => f
                .debug_struct("Invalid")
                .field("what", what)
                .field("reason", reason)
                .finish(),
            ConfigError::RegionRequired => f.write_str("RegionRequired"),
            ConfigError::Credentials(e) => f.debug_tuple("Credentials").field(e).finish(),
            ConfigError::Profile(e) => f.debug_tuple("Profile").field(e).finish(),
            ConfigError::HttpClient(e) => f.debug_tuple("HttpClient").field(e).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leads_with_the_display_line() {
        let e = ConfigError::MissingEnv(vec!["TENCENTCLOUD_SECRET_KEY"]);
        assert_eq!(
            format!("{e:?}"),
            "missing TENCENTCLOUD_SECRET_KEY\n\nMissingEnv([\"TENCENTCLOUD_SECRET_KEY\"])"
        );
    }
}
