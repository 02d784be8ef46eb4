//! Credentials of the CAM role bound to a CVM instance, from the instance
//! metadata service.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use super::RefreshingProvider;
use crate::identity::{check_secret_id, check_token};
use crate::transport::{HttpRequest, HttpTransport};
use crate::Env;
use crate::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials, SecretKey};

pub(crate) const METADATA_ENDPOINT: &str = "TENCENTCLOUD_METADATA_ENDPOINT";
const DEFAULT_ENDPOINT: &str = "http://metadata.tencentyun.com";
const ROLES_PATH: &str = "latest/meta-data/cam/security-credentials/";
/// Off Tencent Cloud the host does not answer: give up in about a second.
const TIMEOUT: Duration = Duration::from_secs(1);
/// A role name or a credential document is far smaller.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The temporary credentials of the CVM instance's CAM role: the role name
/// from `http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/`,
/// its credentials from the same path plus the role name. Connect and read
/// are bounded by 1 s each. Cached and renewed by [`RefreshingProvider`].
///
/// `TENCENTCLOUD_METADATA_ENDPOINT` (e.g. `http://127.0.0.1:9000`) replaces
/// the scheme, host and port, for tests and proxies; the paths stay.
#[derive(Debug)]
pub struct InstanceRoleProvider {
    cache: RefreshingProvider<MetadataFetch>,
}

impl InstanceRoleProvider {
    /// The role bound to this instance, at the metadata endpoint of the
    /// process environment.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_environment(&Env::process())
    }

    /// [`InstanceRoleProvider::from_env`] reading `env`.
    pub fn from_environment(env: &Env) -> Result<Self, CredentialsError> {
        let endpoint = env.get(METADATA_ENDPOINT);
        Self::new(endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT), None)
    }

    /// The metadata service at `endpoint` (scheme, host and port only);
    /// `role`: the role to ask for, instead of the one the service names.
    pub fn new(endpoint: &str, role: Option<String>) -> Result<Self, CredentialsError> {
        Self::build(endpoint, role, default_transport()?)
    }

    /// [`InstanceRoleProvider::new`] asking through `transport` instead of
    /// the default (which needs the `reqwest` feature): another HTTP
    /// stack, or a test double. It must not use a proxy: the service is
    /// link-local.
    pub fn with_transport(
        endpoint: &str,
        role: Option<String>,
        transport: impl HttpTransport,
    ) -> Result<Self, CredentialsError> {
        Self::build(endpoint, role, Arc::new(transport))
    }

    fn build(
        endpoint: &str,
        role: Option<String>,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Self, CredentialsError> {
        let base = parse_endpoint(endpoint).map_err(|reason| {
            CredentialsError::new(format!("{METADATA_ENDPOINT} `{endpoint}` is unusable: {reason}"))
        })?;
        let roles = base
            .join(ROLES_PATH)
            .map_err(|e| CredentialsError::new(format!("cannot build the metadata URL: {e}")))?;
        Ok(InstanceRoleProvider {
            cache: RefreshingProvider::new(MetadataFetch {
                transport,
                roles,
                role,
            }),
        })
    }

    /// The cache in front of the metadata service (fetch count, timeout).
    pub fn cache(&self) -> &RefreshingProvider<impl ProvideCredentials> {
        &self.cache
    }
}

impl ProvideCredentials for InstanceRoleProvider {
    fn provide(&self) -> CredentialsFuture<'_> {
        self.cache.provide()
    }

    fn invalidate(&self, rejected: &Credentials) -> bool {
        self.cache.invalidate(rejected)
    }
}

/// A reqwest client for the metadata service: never through a proxy (the
/// service is link-local), no redirects, short timeouts.
#[cfg(feature = "reqwest")]
fn default_transport() -> Result<Arc<dyn HttpTransport>, CredentialsError> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(TIMEOUT)
        .read_timeout(TIMEOUT)
        .timeout(TIMEOUT * 2)
        .build()
        .map_err(|e| CredentialsError::with_source("cannot build the HTTP client", e))?;
    Ok(Arc::new(crate::transport::ReqwestTransport::from_client(
        client,
        TIMEOUT * 2,
    )))
}

#[cfg(not(feature = "reqwest"))]
fn default_transport() -> Result<Arc<dyn HttpTransport>, CredentialsError> {
    Err(CredentialsError::new(
        "the CVM role source has no HTTP transport in this build: enable the `reqwest` feature \
         (or `rustls`/`native-tls`), or use InstanceRoleProvider::with_transport",
    ))
}

fn parse_endpoint(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the scheme must be http or https".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".to_owned());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("give only scheme, host and port, e.g. http://127.0.0.1:9000".to_owned());
    }
    Ok(url)
}

/// One uncached fetch: role name (unless known), then its credentials.
pub(crate) struct MetadataFetch {
    transport: Arc<dyn HttpTransport>,
    roles: Url,
    role: Option<String>,
}

impl fmt::Debug for MetadataFetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the metadata service at {}", self.roles)
    }
}

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "TmpSecretId")]
    tmp_secret_id: Option<String>,
    #[serde(rename = "TmpSecretKey")]
    tmp_secret_key: Option<String>,
    #[serde(rename = "Token")]
    token: Option<String>,
    #[serde(rename = "ExpiredTime")]
    expired_time: Option<i64>,
}

impl MetadataFetch {
    async fn get(&self, url: Url) -> Result<String, CredentialsError> {
        let shown = url.to_string();
        let request = HttpRequest {
            method: http::Method::GET,
            url,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::new(),
            timeout: TIMEOUT * 2,
        };
        let mut response = self
            .transport
            .send(request)
            .await
            .map_err(|e| CredentialsError::new(format!("cannot reach {shown}: {e}")))?;
        let status = response.status;
        if status == 404 {
            return Err(CredentialsError::new(format!(
                "{shown} answered 404: no CAM role is bound to this instance"
            )));
        }
        if !(200..300).contains(&status) {
            return Err(CredentialsError::new(format!("{shown} answered HTTP {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.body.next_chunk().await {
            let chunk = chunk.map_err(|e| CredentialsError::new(format!("cannot read {shown}: {e}")))?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(CredentialsError::new(format!(
                    "{shown}: answer longer than {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| CredentialsError::new(format!("{shown}: answer is not UTF-8")))
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let role = match &self.role {
            Some(role) => role.clone(),
            None => {
                let listed = self.get(self.roles.clone()).await?;
                let role = listed
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or_default();
                if role.is_empty() {
                    return Err(CredentialsError::new(format!(
                        "{} names no role: no CAM role is bound to this instance",
                        self.roles
                    )));
                }
                role.to_owned()
            }
        };
        // A role name is a path segment: `join` must not read it as a path.
        let mut url = self.roles.clone();
        url.path_segments_mut()
            .map_err(|_| CredentialsError::new("the metadata URL cannot take a role name"))?
            .pop_if_empty()
            .push(&role);
        let shown = url.to_string();
        let text = self.get(url).await?;
        // The document holds secrets: errors say what is wrong, never quote it.
        let doc: Document = serde_json::from_str(&text)
            .map_err(|e| CredentialsError::new(format!("{shown}: not a credential document ({e})")))?;
        if let Some(code) = doc.code.as_deref().filter(|c| *c != "Success") {
            return Err(CredentialsError::new(format!(
                "{shown}: Code is `{}`, not Success",
                crate::display::Escaped(code)
            )));
        }
        let missing = |member: &str| CredentialsError::new(format!("{shown}: no `{member}`"));
        let id = doc.tmp_secret_id.ok_or_else(|| missing("TmpSecretId"))?;
        let key = doc.tmp_secret_key.ok_or_else(|| missing("TmpSecretKey"))?;
        let token = doc.token.ok_or_else(|| missing("Token"))?;
        let expired = doc.expired_time.ok_or_else(|| missing("ExpiredTime"))?;
        temporary(&shown, id, key, token, expired, format!("CVM role {role}"))
    }
}

/// A temporary credential from a service's answer (the metadata service,
/// STS), checked: the id can be sent in `Authorization`, the key is not
/// empty, the token can be sent as `X-TC-Token`, and `expired_time` (Unix
/// seconds) is a time; one already past is logged, not refused. `from`
/// names the answer in errors (`the metadata service`), which say what is wrong
/// and never quote the key or the token; `source` is the credential's
/// [`source`](Credentials::source).
pub fn temporary(
    from: &str,
    id: String,
    key: String,
    token: String,
    expired_time: i64,
    source: String,
) -> Result<Credentials, CredentialsError> {
    let bad = |what: &str, e: String| CredentialsError::new(format!("{from}: {what} {e}"));
    check_secret_id(&id).map_err(|e| bad("TmpSecretId", e))?;
    if key.is_empty() {
        return Err(bad("TmpSecretKey", "is empty".to_owned()));
    }
    check_token(&token).map_err(|e| bad("Token", e))?;
    let expiry = u64::try_from(expired_time)
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        .ok_or_else(|| bad("ExpiredTime", format!("{expired_time} is not a time")))?;
    if expiry <= SystemTime::now() {
        tracing::warn!(secret_id = %id, expired_time, "{from} gave credentials that have already expired");
    }
    Ok(Credentials::new(id, SecretKey::new(key))
        .with_session_token(token)
        .with_expiry(expiry)
        .with_source(source))
}

impl ProvideCredentials for MetadataFetch {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::new(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_scheme_host_and_port() {
        assert!(parse_endpoint("http://127.0.0.1:9000").is_ok());
        assert!(parse_endpoint("http://127.0.0.1:9000/").is_ok());
        for bad in ["127.0.0.1:9000", "ftp://x", "http://x/latest", "http://x?y"] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        let e = InstanceRoleProvider::new("nope", None).unwrap_err().to_string();
        assert!(e.contains("TENCENTCLOUD_METADATA_ENDPOINT `nope`"), "{e}");
    }
}
