//! Temporary credentials from STS (service `sts`, version 2018-08-13),
//! through the generated `sts-api` client: `AssumeRole`, signed with another
//! credential, and `AssumeRoleWithWebIdentity`, unsigned, as TKE's OIDC
//! integration uses it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sts_api::AssumeRoleRequest;
use tencentcloud_runtime::credentials::{temporary, ChainSource, Lookup, RefreshingProvider};
use tencentcloud_runtime::{
    Config, Credentials, CredentialsError, CredentialsFuture, Endpoint, Env, Error, ProvideCredentials,
};

/// The official SDKs' default lifetime.
const DEFAULT_DURATION: Duration = Duration::from_secs(7200);
/// STS serves every region; the official SDKs ask this one when told none.
const DEFAULT_REGION: &str = "ap-guangzhou";
/// A web identity token (a JWT) is far smaller.
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

pub(crate) const TKE_REGION: &str = "TKE_REGION";
pub(crate) const TKE_PROVIDER_ID: &str = "TKE_PROVIDER_ID";
pub(crate) const TKE_WEB_IDENTITY_TOKEN_FILE: &str = "TKE_WEB_IDENTITY_TOKEN_FILE";
pub(crate) const TKE_ROLE_ARN: &str = "TKE_ROLE_ARN";
pub(crate) const TKE_VARIABLES: [&str; 4] = [
    TKE_REGION,
    TKE_PROVIDER_ID,
    TKE_WEB_IDENTITY_TOKEN_FILE,
    TKE_ROLE_ARN,
];

/// Settings shared by both kinds of STS provider.
#[derive(Debug, Clone)]
struct Sts {
    endpoint: Endpoint,
    region: String,
    duration: Duration,
}

impl Sts {
    fn new() -> Self {
        Sts {
            endpoint: Endpoint::global(),
            region: DEFAULT_REGION.to_owned(),
            duration: DEFAULT_DURATION,
        }
    }

    /// The generated STS client over `config` (which says how to sign),
    /// at this endpoint and region.
    fn client(&self, config: Config) -> Result<sts_api::Client, CredentialsError> {
        sts_api::Client::from_config(
            config
                .with_endpoint(self.endpoint.clone())
                .with_region(self.region.clone()),
        )
        .map_err(|e| CredentialsError::with_source("cannot set up the STS client", e))
    }
}

/// STS's refusal or failure as a credentials error. An answer that is not
/// a usable envelope is described by status and kind, never quoted: a
/// success that fails to decode holds the temporary secrets.
fn failed<E>(action: &str, error: Error<E>) -> CredentialsError
where
    Error<E>: std::error::Error + Send + Sync + 'static,
{
    match error {
        Error::InvalidResponse { status, kind, .. } => CredentialsError::new(format!(
            "STS {action} failed: its answer (HTTP {status}) is not a usable {action} response ({kind:?})"
        )),
        other => CredentialsError::with_source(format!("STS {action} failed"), other),
    }
}

/// The credential in STS's answer, checked (by the runtime's [`temporary`]).
fn issued(
    action: &str,
    credentials: sts_api::Credentials,
    expired_time: i64,
    source: String,
) -> Result<Credentials, CredentialsError> {
    // The generated response reads a missing `ExpiredTime` as 0.
    if expired_time <= 0 {
        return Err(CredentialsError::new(format!(
            "STS {action}: the answer has no ExpiredTime"
        )));
    }
    temporary(
        &format!("STS {action}"),
        credentials.tmp_secret_id,
        credentials.tmp_secret_key,
        credentials.token,
        expired_time,
        source,
    )
}

fn default_session_name() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!("tencentcloud-rust-sdk-{micros}")
}

/// Temporary credentials of a CAM role, from STS `AssumeRole` (the generated
/// [`sts_api::Client::assume_role`]) signed with the credentials of another
/// provider (a sub-account's keys, a CVM role, another assumed role). Cached
/// and renewed ahead of expiry by [`RefreshingProvider`].
///
/// ```no_run
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use tencentcloud_config::credentials::AssumeRoleProvider;
/// use tencentcloud_runtime::{Config, Credentials, SecretKey};
///
/// let keys = Credentials::new("AKID...", SecretKey::new("..."));
/// let role = AssumeRoleProvider::builder("qcs::cam::uin/100000000001:roleName/deployer", "nightly-job")
///     .duration(Duration::from_secs(3600))
///     .build(keys)?;
/// let config = Config::from_credentials_provider(role).with_region("ap-guangzhou");
/// # let _ = config; Ok(()) }
/// ```
#[derive(Debug)]
pub struct AssumeRoleProvider {
    cache: RefreshingProvider<AssumeRoleFetch>,
}

/// Settings of an [`AssumeRoleProvider`].
#[derive(Debug, Clone)]
pub struct AssumeRoleBuilder {
    role_arn: String,
    session_name: String,
    policy: Option<String>,
    sts: Sts,
    refresh_timeout: Duration,
}

impl AssumeRoleProvider {
    /// A provider for role `role_arn` (`qcs::cam::uin/<uin>:roleName/<name>`),
    /// with `session_name` recorded in CloudAudit.
    pub fn builder(role_arn: impl Into<String>, session_name: impl Into<String>) -> AssumeRoleBuilder {
        AssumeRoleBuilder {
            role_arn: role_arn.into(),
            session_name: session_name.into(),
            policy: None,
            sts: Sts::new(),
            refresh_timeout: RefreshingProvider::<Credentials>::DEFAULT_REFRESH_TIMEOUT,
        }
    }

    /// The cache in front of STS (fetch count).
    pub fn cache(&self) -> &RefreshingProvider<impl ProvideCredentials> {
        &self.cache
    }
}

impl AssumeRoleBuilder {
    /// Lifetime asked for (`DurationSeconds`); default 2 hours, at most 12.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.sts.duration = duration;
        self
    }

    /// A policy (JSON) narrowing what the role may do in this session.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// Where STS is; default `https://sts.tencentcloudapi.com`.
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.sts.endpoint = endpoint;
        self
    }

    /// The region sent to STS; default `ap-guangzhou`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.sts.region = region.into();
        self
    }

    /// See [`RefreshingProvider::with_refresh_timeout`].
    pub fn refresh_timeout(mut self, timeout: Duration) -> Self {
        self.refresh_timeout = timeout;
        self
    }

    /// The provider, signing `AssumeRole` with what `base` provides.
    pub fn build(self, base: impl ProvideCredentials) -> Result<AssumeRoleProvider, CredentialsError> {
        if self.role_arn.trim().is_empty() {
            return Err(CredentialsError::new("AssumeRole needs a role ARN"));
        }
        if self.session_name.trim().is_empty() {
            return Err(CredentialsError::new("AssumeRole needs a session name"));
        }
        let client = self.sts.client(Config::from_credentials_provider(base))?;
        let mut request = AssumeRoleRequest::new()
            .set_role_arn(self.role_arn)
            .set_role_session_name(self.session_name)
            .set_duration_seconds(self.sts.duration.as_secs());
        request.policy = self.policy;
        let fetch = AssumeRoleFetch { request, client };
        Ok(AssumeRoleProvider {
            cache: RefreshingProvider::new(fetch).with_refresh_timeout(self.refresh_timeout),
        })
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide(&self) -> CredentialsFuture<'_> {
        self.cache.provide()
    }

    fn invalidate(&self, rejected: &Credentials) -> bool {
        self.cache.invalidate(rejected)
    }
}

/// One uncached `AssumeRole`.
struct AssumeRoleFetch {
    request: AssumeRoleRequest,
    client: sts_api::Client,
}

impl fmt::Debug for AssumeRoleFetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "STS AssumeRole {}", self.request.role_arn)
    }
}

impl AssumeRoleFetch {
    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let response = self
            .client
            .call(self.request.clone())
            .send()
            .await
            .map_err(|e| failed("AssumeRole", e))?;
        issued(
            "AssumeRole",
            response.credentials,
            response.expired_time,
            format!("STS AssumeRole {}", self.request.role_arn),
        )
    }
}

impl ProvideCredentials for AssumeRoleFetch {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::new(self.fetch())
    }
}

/// Temporary credentials for a TKE pod's service account, through OIDC:
/// the pod's web identity token exchanged by STS `AssumeRoleWithWebIdentity`
/// (the generated [`sts_api::Client::assume_role_with_web_identity`], a call
/// that is not signed). The token file is read again at every renewal, since
/// the kubelet rotates it, and refused unread when it is not a regular file
/// or is longer than 64 KiB. Cached and renewed ahead of expiry by
/// [`RefreshingProvider`].
///
/// [`WebIdentityProvider::from_env`] reads what TKE's pod identity webhook
/// sets: `TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE` and
/// `TKE_ROLE_ARN`.
#[derive(Debug)]
pub struct WebIdentityProvider {
    cache: RefreshingProvider<WebIdentityFetch>,
}

impl WebIdentityProvider {
    /// From the `TKE_*` variables of the process environment, with STS at
    /// `TENCENTCLOUD_ENDPOINT_STS`, else `TENCENTCLOUD_ENDPOINT`, else
    /// `https://sts.tencentcloudapi.com`.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_environment(&Env::process())
    }

    /// [`WebIdentityProvider::from_env`] reading `env`.
    pub fn from_environment(env: &Env) -> Result<Self, CredentialsError> {
        match Self::find(env)? {
            Ok(provider) => Ok(provider),
            Err(why) => Err(CredentialsError::new(why)),
        }
    }

    /// `Ok(Err(why))` when the `TKE_*` variables are not all set.
    fn find(env: &Env) -> Result<Result<Self, String>, CredentialsError> {
        let values: Vec<Option<String>> = TKE_VARIABLES.iter().map(|name| env.get(name)).collect();
        let missing: Vec<&str> = TKE_VARIABLES
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            let verb = if missing.len() == 1 { "is" } else { "are" };
            return Ok(Err(format!("{} {verb} not set", and_list(&missing))));
        }
        let [Some(region), Some(provider_id), Some(token_file), Some(role_arn)] =
            <[Option<String>; 4]>::try_from(values).unwrap_or_default()
        else {
            return Ok(Err("the TKE variables are incomplete".to_owned()));
        };
        let endpoint = Endpoint::from_environment(env, "sts")
            .map_err(|e| CredentialsError::new(e.to_string()))?
            .unwrap_or_default();
        Self::new(region, provider_id, PathBuf::from(token_file), role_arn, endpoint).map(Ok)
    }

    /// Exchanges the token in `token_file` for credentials of `role_arn`,
    /// through identity provider `provider_id`, at STS `endpoint` in `region`.
    pub fn new(
        region: String,
        provider_id: String,
        token_file: PathBuf,
        role_arn: String,
        endpoint: Endpoint,
    ) -> Result<Self, CredentialsError> {
        let sts = Sts {
            endpoint,
            region,
            duration: DEFAULT_DURATION,
        };
        // Not signed: the token is the proof (the action is generated
        // unsigned too; this client has no credential to sign with anyway).
        let client = sts.client(Config::unsigned())?;
        Ok(WebIdentityProvider {
            cache: RefreshingProvider::new(WebIdentityFetch {
                provider_id,
                token_file,
                role_arn,
                session_name: default_session_name(),
                duration: sts.duration,
                client,
            }),
        })
    }

    /// The cache in front of STS (fetch count).
    pub fn cache(&self) -> &RefreshingProvider<impl ProvideCredentials> {
        &self.cache
    }
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide(&self) -> CredentialsFuture<'_> {
        self.cache.provide()
    }

    fn invalidate(&self, rejected: &Credentials) -> bool {
        self.cache.invalidate(rejected)
    }
}

/// One uncached `AssumeRoleWithWebIdentity`. Its request, which holds the
/// token, is made per fetch and never kept or printed.
struct WebIdentityFetch {
    provider_id: String,
    token_file: PathBuf,
    role_arn: String,
    session_name: String,
    duration: Duration,
    client: sts_api::Client,
}

impl fmt::Debug for WebIdentityFetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "STS AssumeRoleWithWebIdentity {}", self.role_arn)
    }
}

impl WebIdentityFetch {
    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let path = &self.token_file;
        let token =
            tencentcloud_runtime::profile::read_bounded(path, MAX_TOKEN_FILE_BYTES, "a web identity token")
                .map_err(|e| CredentialsError::from(e).context("the web identity token"))?;
        let token = token.trim();
        if token.is_empty() {
            return Err(CredentialsError::new(format!("{} is empty", path.display())));
        }
        let mut call = self
            .client
            .assume_role_with_web_identity()
            .provider_id(self.provider_id.as_str())
            .web_identity_token(token)
            .role_arn(self.role_arn.as_str())
            .role_session_name(self.session_name.as_str());
        if let Ok(seconds) = i64::try_from(self.duration.as_secs()) {
            call = call.duration_seconds(seconds);
        }
        let response = call
            .send()
            .await
            .map_err(|e| failed("AssumeRoleWithWebIdentity", e))?;
        issued(
            "AssumeRoleWithWebIdentity",
            response.credentials,
            i64::try_from(response.expired_time).unwrap_or(i64::MAX),
            format!("TKE OIDC {}", self.role_arn),
        )
    }
}

impl ProvideCredentials for WebIdentityFetch {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::new(self.fetch())
    }
}

/// TKE OIDC as a source of the default chain (named `TKE OIDC`): present
/// when the four `TKE_*` variables are set, then a [`WebIdentityProvider`].
/// [`crate::default_chain`] tries it after the profile file and before the
/// CVM role.
#[derive(Debug, Clone, Copy, Default)]
pub struct TkeOidcSource;

impl ChainSource for TkeOidcSource {
    fn name(&self) -> &'static str {
        "TKE OIDC"
    }

    fn find(&self, env: &Env) -> Result<Lookup, CredentialsError> {
        Ok(match WebIdentityProvider::find(env)? {
            Ok(provider) => Lookup::Found(Arc::new(provider)),
            Err(why) => Lookup::Absent(why),
        })
    }
}

/// `A`, `A and B`, `A, B and C`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(and_list(&["A"]), "A");
        assert_eq!(and_list(&["A", "B"]), "A and B");
        assert_eq!(and_list(&["A", "B", "C"]), "A, B and C");
    }

    #[test]
    fn builders_refuse_blank_names_and_debug_shows_no_secret() {
        let keys = Credentials::new("AKIDbase", tencentcloud_runtime::SecretKey::new("hunter2"));
        let e = AssumeRoleProvider::builder(" ", "s")
            .build(keys.clone())
            .unwrap_err();
        assert!(e.to_string().contains("needs a role ARN"), "{e}");
        let e = AssumeRoleProvider::builder("qcs::cam::uin/1:roleName/r", "")
            .build(keys.clone())
            .unwrap_err();
        assert!(e.to_string().contains("needs a session name"), "{e}");
        let p = AssumeRoleProvider::builder("qcs::cam::uin/1:roleName/r", "s")
            .build(keys)
            .unwrap();
        let shown = format!("{p:?}");
        assert!(
            shown.contains("STS AssumeRole qcs::cam::uin/1:roleName/r"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
