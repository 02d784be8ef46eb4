//! Client configuration, from code or from the environment.

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderValue;
use signer::SecretKey;

use super::endpoint::check_label;
use super::{Credentials, Endpoint};

const SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
const SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
const SESSION_TOKEN: &str = "TENCENTCLOUD_SESSION_TOKEN";
const REGION: &str = "TENCENTCLOUD_REGION";
const ENDPOINT: &str = "TENCENTCLOUD_ENDPOINT";

/// Everything a [`Client`](super::Client) needs besides the request.
///
/// Built with [`Config::new`] and the `with_*` methods, or read from the
/// environment with [`Config::from_env`]. Values are checked by
/// [`Config::validate`], which [`Client::new`](super::Client::new) calls.
#[derive(Clone, Debug)]
pub struct Config {
    credentials: Credentials,
    region: Option<String>,
    endpoint: Endpoint,
    language: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
}

impl Config {
    /// Total time allowed for one call (connect, send, wait, read) unless set.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    /// Time allowed to establish a connection unless set.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Largest response body read unless set: far above any real CVM answer,
    /// low enough that a broken proxy cannot exhaust memory.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

    /// The global endpoint, no region, no language, default timeouts.
    pub fn new(credentials: Credentials) -> Self {
        Config {
            credentials,
            region: None,
            endpoint: Endpoint::default(),
            language: None,
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Reads the process environment:
    ///
    /// | variable | |
    /// |---|---|
    /// | `TENCENTCLOUD_SECRET_ID` | required |
    /// | `TENCENTCLOUD_SECRET_KEY` | required |
    /// | `TENCENTCLOUD_SESSION_TOKEN` | temporary credentials only |
    /// | `TENCENTCLOUD_REGION` | e.g. `ap-guangzhou`; required by most actions |
    /// | `TENCENTCLOUD_ENDPOINT` | full URL, see [`Endpoint::custom`]; default [`Endpoint::global`] |
    ///
    /// Empty values count as unset; surrounding whitespace is ignored.
    pub fn from_env() -> Result<Self, ConfigError> {
        for name in [SECRET_ID, SECRET_KEY, SESSION_TOKEN, REGION, ENDPOINT] {
            if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(name) {
                return Err(ConfigError::InvalidEnv {
                    name,
                    reason: "is not valid UTF-8".to_owned(),
                });
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Config::from_env`] with variables looked up by `lookup` instead of
    /// in the process environment (for tests, or configuration files mapped
    /// to the same names).
    pub fn from_lookup(mut lookup: impl FnMut(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secret_id = get(SECRET_ID);
        let secret_key = get(SECRET_KEY);
        let (secret_id, secret_key) = match (secret_id, secret_key) {
            (Some(id), Some(key)) => (id, key),
            (id, key) => {
                let mut missing = Vec::new();
                if id.is_none() {
                    missing.push(SECRET_ID);
                }
                if key.is_none() {
                    missing.push(SECRET_KEY);
                }
                return Err(ConfigError::MissingEnv(missing));
            }
        };
        let env_error = |name: &'static str| move |reason: String| ConfigError::InvalidEnv { name, reason };
        check_secret_id(&secret_id).map_err(env_error(SECRET_ID))?;

        let mut credentials = Credentials::new(secret_id, SecretKey::new(secret_key));
        if let Some(token) = get(SESSION_TOKEN) {
            check_token(&token).map_err(env_error(SESSION_TOKEN))?;
            credentials = credentials.with_session_token(token);
        }
        let mut config = Config::new(credentials);
        if let Some(region) = get(REGION) {
            check_region(&region).map_err(env_error(REGION))?;
            config.region = Some(region);
        }
        if let Some(endpoint) = get(ENDPOINT) {
            config.endpoint = Endpoint::custom(&endpoint).map_err(|e| match e {
                ConfigError::Invalid { reason, .. } => ConfigError::InvalidEnv {
                    name: ENDPOINT,
                    reason,
                },
                other => other,
            })?;
        }
        Ok(config)
    }

    /// Replaces the credentials.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The region, e.g. `ap-guangzhou`, sent as `X-TC-Region`. Most actions
    /// require one; a few (e.g. `DescribeRegions`) do not.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Where requests go; default [`Endpoint::global`].
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Language of error messages and some descriptions, sent as
    /// `X-TC-Language`: `zh-CN` or `en-US`. Unset, the service chooses.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Total time allowed for one call: connecting, sending, waiting for and
    /// reading the answer.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to establish a connection (TCP and TLS), within the
    /// total [`timeout`](Config::with_timeout).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Largest response body the client reads; a longer one is
    /// [`Error::InvalidResponse`](super::Error::InvalidResponse).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Checks every value can be sent as it must be (header-safe, region a
    /// DNS label, timeouts above zero, a region for the regional endpoint).
    /// Errors never contain the secret key or the token.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |what: &'static str| move |reason: String| ConfigError::Invalid { what, reason };
        check_secret_id(self.credentials.secret_id()).map_err(invalid("secret id"))?;
        if self.credentials.secret_key().expose().is_empty() {
            return Err(ConfigError::Invalid {
                what: "secret key",
                reason: "is empty".to_owned(),
            });
        }
        if let Some(token) = self.credentials.session_token() {
            check_token(token).map_err(invalid("session token"))?;
        }
        if let Some(region) = &self.region {
            check_region(region).map_err(invalid("region"))?;
        } else if self.endpoint.needs_region() {
            return Err(ConfigError::RegionRequired);
        }
        if let Some(language) = &self.language {
            check_language(language).map_err(invalid("language"))?;
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::Invalid {
                what: "timeout",
                reason: "must be above zero".to_owned(),
            });
        }
        if self.connect_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                what: "connect timeout",
                reason: "must be above zero".to_owned(),
            });
        }
        Ok(())
    }
}

/// The secret id goes into `Credential=<id>/<date>/...` of `Authorization`.
fn check_secret_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("is empty".to_owned());
    }
    if !id.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b',') {
        return Err("may only contain printable ASCII characters other than `/` and `,`".to_owned());
    }
    Ok(())
}

/// The token is sent as a header; its value is never echoed.
fn check_token(token: &str) -> Result<(), String> {
    match HeaderValue::from_str(token) {
        Ok(_) => Ok(()),
        Err(_) => Err("contains characters not allowed in an HTTP header".to_owned()),
    }
}

fn check_region(region: &str) -> Result<(), String> {
    check_label(region).map_err(|e| format!("`{region}` {e} (expected e.g. ap-guangzhou)"))
}

fn check_language(language: &str) -> Result<(), String> {
    if !language.is_empty() && language.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(())
    } else {
        Err(format!(
            "`{language}` is not a language tag (expected zh-CN or en-US)"
        ))
    }
}

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
    /// [`Endpoint::regional`] without a region.
    #[error("the regional endpoint https://{{service}}.{{region}}.tencentcloudapi.com needs a region")]
    RegionRequired,
    /// The HTTP client could not be set up (e.g. TLS initialisation).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// `A`, `A and B`, `A, B and C`.
struct AndList<'a>(&'a [&'a str]);

impl fmt::Display for AndList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == n { " and " } else { ", " })?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_list() {
        assert_eq!(AndList(&["A"]).to_string(), "A");
        assert_eq!(AndList(&["A", "B"]).to_string(), "A and B");
        assert_eq!(AndList(&["A", "B", "C"]).to_string(), "A, B and C");
    }

    #[test]
    fn validate_rejects_unusable_values_without_echoing_secrets() {
        let ok = Config::new(Credentials::new("AKID1", SecretKey::new("k")));
        assert!(ok.validate().is_ok());
        let cases = [
            (
                ok.clone()
                    .with_credentials(Credentials::new("", SecretKey::new("k"))),
                "invalid secret id",
            ),
            (
                ok.clone()
                    .with_credentials(Credentials::new("AK/ID", SecretKey::new("k"))),
                "invalid secret id",
            ),
            (
                ok.clone()
                    .with_credentials(Credentials::new("AKID", SecretKey::new(""))),
                "invalid secret key",
            ),
            (
                ok.clone().with_credentials(
                    Credentials::new("AKID", SecretKey::new("k")).with_session_token("tok\nsecret"),
                ),
                "invalid session token",
            ),
            (ok.clone().with_region("AP Guangzhou"), "invalid region"),
            (ok.clone().with_language("en US"), "invalid language"),
            (ok.clone().with_timeout(Duration::ZERO), "invalid timeout"),
            (
                ok.clone().with_connect_timeout(Duration::ZERO),
                "invalid connect timeout",
            ),
            (
                ok.clone().with_endpoint(Endpoint::regional()),
                "the regional endpoint",
            ),
        ];
        for (config, expected) in cases {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
            assert!(!err.contains("tok\nsecret"), "{err}");
        }
        assert!(ok
            .with_endpoint(Endpoint::regional())
            .with_region("ap-guangzhou")
            .validate()
            .is_ok());
    }
}
