//! Client configuration, from code or from the environment.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::endpoint::check_label;
use super::transport::HttpTransport;
use super::{
    ConfigError, Credentials, CredentialsError, CredentialsFuture, Endpoint, FailoverConfig, Interceptor,
    ProvideCredentials, RateLimitConfig, ResponseLimits, RetryBudget, RetryConfig,
};

/// Customises the HTTP client; see [`Config::with_http_client`].
#[cfg(feature = "reqwest")]
pub(crate) type HttpClientHook = dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync;

/// Everything a [`Client`](super::Client) needs besides the request.
///
/// Built with [`Config::new`] and the `with_*` methods, or read from the
/// environment with [`Config::from_env`]. Values are checked by
/// [`Config::validate`], which [`Client::new`](super::Client::new) calls.
#[derive(Clone)]
pub struct Config {
    /// Set when the credential is fixed; `provider` then gives it.
    credentials: Option<Credentials>,
    provider: Arc<dyn ProvideCredentials>,
    /// `false`: calls carry `Authorization: SKIP` and no credentials.
    signed: bool,
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Endpoint,
    /// Per-service endpoints, winning over `endpoint`; sorted by service.
    pub(crate) service_endpoints: Vec<(String, Endpoint)>,
    language: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    deadline: Option<Duration>,
    max_response_bytes: usize,
    response_limits: ResponseLimits,
    retry: RetryConfig,
    retry_budget: RetryBudget,
    failover: FailoverConfig,
    rate_limit: RateLimitConfig,
    interceptors: Vec<Arc<dyn Interceptor>>,
    #[cfg(feature = "reqwest")]
    http_client: Option<Arc<HttpClientHook>>,
    /// Replaces the default transport; see [`Config::with_transport`].
    transport: Option<Arc<dyn HttpTransport>>,
}

impl Config {
    /// Time allowed for one attempt (connect, send, wait, read) unless set.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    /// Time allowed to establish a connection unless set.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Largest response body read unless set: far above any real CVM answer,
    /// low enough that a broken proxy cannot exhaust memory.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

    /// The global endpoint, no region, no language, default timeouts and
    /// retries ([`RetryConfig::standard`], [`RetryBudget::standard`]),
    /// adaptive rate limiting ([`RateLimitConfig::adaptive`]), no overall
    /// deadline, signing with `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Config::with_source(Some(credentials.clone()), Arc::new(credentials))
    }

    /// [`Config::new`] with credentials from `provider`, asked before
    /// every attempt (for temporary credentials that are renewed).
    pub fn from_credentials_provider(provider: impl ProvideCredentials) -> Self {
        Config::with_source(None, Arc::new(provider))
    }

    fn with_source(credentials: Option<Credentials>, provider: Arc<dyn ProvideCredentials>) -> Self {
        Config {
            provider,
            credentials,
            signed: true,
            region: None,
            endpoint: Endpoint::default(),
            service_endpoints: Vec::new(),
            language: None,
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            deadline: None,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
            response_limits: ResponseLimits::new(),
            retry: RetryConfig::standard(),
            retry_budget: RetryBudget::standard(),
            failover: FailoverConfig::standard(),
            rate_limit: RateLimitConfig::adaptive(),
            interceptors: Vec::new(),
            #[cfg(feature = "reqwest")]
            http_client: None,
            transport: None,
        }
    }

    /// A configuration whose calls are not signed (`Authorization: SKIP`),
    /// for the few actions that take no signature, such as STS's
    /// web identity exchange, whose proof is in the request.
    pub fn unsigned() -> Self {
        let mut config = Config::with_source(None, Arc::new(NoCredentials));
        config.signed = false;
        config
    }

    /// This configuration with its calls unsigned, as [`Config::unsigned`]
    /// makes them: its credential is dropped, every other setting (region,
    /// endpoints, timeouts, retries, interceptors) kept. For a program
    /// configured once that calls an unsigned action too.
    pub fn without_signing(mut self) -> Self {
        self.credentials = None;
        self.provider = Arc::new(NoCredentials);
        self.signed = false;
        self
    }

    /// Whether calls are signed; see [`Config::unsigned`].
    pub fn is_signed(&self) -> bool {
        self.signed
    }

    /// Replaces the credentials (and any provider) with fixed ones.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.provider = Arc::new(credentials.clone());
        self.credentials = Some(credentials);
        self
    }

    /// Replaces the credentials with a provider asked before every attempt.
    pub fn with_credentials_provider(mut self, provider: impl ProvideCredentials) -> Self {
        self.provider = Arc::new(provider);
        self.credentials = None;
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

    /// Where requests to `service` (e.g. `sts`) go, instead of
    /// [`Config::with_endpoint`]'s.
    pub fn with_service_endpoint(mut self, service: impl Into<String>, endpoint: Endpoint) -> Self {
        let service = service.into();
        match self
            .service_endpoints
            .binary_search_by(|(s, _)| s.as_str().cmp(&service))
        {
            Ok(i) => self.service_endpoints[i].1 = endpoint,
            Err(i) => self.service_endpoints.insert(i, (service, endpoint)),
        }
        self
    }

    /// Where requests to `service` go.
    pub fn endpoint_for(&self, service: &str) -> &Endpoint {
        match self
            .service_endpoints
            .binary_search_by(|(s, _)| s.as_str().cmp(service))
        {
            Ok(i) => &self.service_endpoints[i].1,
            Err(_) => &self.endpoint,
        }
    }

    /// Language of error messages and some descriptions, sent as
    /// `X-TC-Language`: `zh-CN` or `en-US`. Unset, the service chooses.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Time allowed for one attempt: connecting, sending, waiting for and
    /// reading the answer. A retried call gets this much per attempt; see
    /// [`Config::with_deadline`] to bound the whole call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed for a whole call, every attempt and backoff included
    /// (unset by default: the call is then bounded by the attempts and
    /// their timeouts). A backoff that would end past it is not slept: the
    /// call fails at once with the last error.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// How calls are retried; default [`RetryConfig::standard`].
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The retry budget shared by every call of the client and its clones;
    /// default [`RetryBudget::standard`].
    pub fn with_retry_budget(mut self, budget: RetryBudget) -> Self {
        self.retry_budget = budget;
        self
    }

    /// How calls fail over between an endpoint's candidates and when an
    /// unreachable endpoint is avoided; default [`FailoverConfig::standard`]
    /// (on: a built-in endpoint falls back to Tencent's other access points,
    /// a custom one to those [`Endpoint::with_fallback`] added, if any).
    pub fn with_failover(mut self, failover: FailoverConfig) -> Self {
        self.failover = failover;
        self
    }

    /// How calls are paced to stay within each action's quota, shared by
    /// every call of the client and its clones; default
    /// [`RateLimitConfig::adaptive`].
    pub fn with_rate_limit(mut self, rate_limit: RateLimitConfig) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Adds an interceptor, called around every attempt after those added before.
    pub fn with_interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Customises the HTTP client (reqwest): a proxy, extra root
    /// certificates, a local address, HTTP/2 settings...
    ///
    /// ```
    /// # use tencentcloud_runtime::{Config, Credentials, SecretKey};
    /// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let proxy = reqwest::Proxy::https("http://proxy.internal:3128")?;
    /// let config = Config::new(Credentials::new("AKID...", SecretKey::new("...")))
    ///     .with_http_client(move |builder| builder.proxy(proxy.clone()));
    /// # let _ = config; Ok(()) }
    /// ```
    ///
    /// Without it, the proxy environment variables are honoured
    /// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or
    /// lower case). After `customize` the runtime sets, whatever it did,
    /// no redirects (a redirect would carry the signed request and the
    /// session token to another host), [`Config::with_timeout`] and
    /// [`Config::with_connect_timeout`]. Each request carries its own
    /// `User-Agent` (`tencentcloud-sdk-rust/<version> <service>/<API
    /// version>`), which a builder's `user_agent` does not change: an
    /// [`Interceptor`] can.
    #[cfg(feature = "reqwest")]
    pub fn with_http_client(
        mut self,
        customize: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.http_client = Some(Arc::new(customize));
        self
    }

    /// Sends every call through `transport` instead of the default
    /// ([`ReqwestTransport`](crate::transport::ReqwestTransport), feature
    /// `reqwest`): another HTTP stack, or a test double from
    /// [`test_util`](crate::test_util). The runtime still signs, times,
    /// retries, caps and classifies; see [`HttpTransport`].
    pub fn with_transport(mut self, transport: impl HttpTransport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The transport set with [`Config::with_transport`], if any.
    pub fn transport(&self) -> Option<&Arc<dyn HttpTransport>> {
        self.transport.as_ref()
    }

    /// Time allowed to establish a connection (TCP and TLS), within the
    /// total [`timeout`](Config::with_timeout).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Largest response body the client reads; a longer one is
    /// [`Error::InvalidResponse`](super::Error::InvalidResponse).
    ///
    /// This bounds the bytes, not what they decode to: a few hundred KB of
    /// `{}` would be hundreds of thousands of structs. That is
    /// [`Config::with_response_limits`]'s.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// How far an answer may expand when decoded: at most
    /// [`ResponseLimits::max_values`] values (each member a response type
    /// declares, each list item, each map member) nested at most
    /// [`ResponseLimits::max_depth`] deep. An answer past either is
    /// [`Error::InvalidResponse`](super::Error::InvalidResponse) of kind
    /// [`TooComplex`](super::InvalidResponseKind::TooComplex), naming the
    /// limit, and is not retried. The defaults ([`ResponseLimits::new`]) are
    /// far above any real answer; raise them only for an answer that needs it.
    pub fn with_response_limits(mut self, limits: ResponseLimits) -> Self {
        self.response_limits = limits;
        self
    }

    pub fn response_limits(&self) -> ResponseLimits {
        self.response_limits
    }

    /// The fixed credentials, unless a provider gives them.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The provider asked before every attempt (for fixed credentials, the
    /// credentials themselves), e.g. to sign a role exchange (STS) with
    /// what this configuration would sign with.
    pub fn credentials_provider(&self) -> &Arc<dyn ProvideCredentials> {
        &self.provider
    }

    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    pub fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    pub fn retry_budget(&self) -> RetryBudget {
        self.retry_budget
    }

    pub fn failover(&self) -> &FailoverConfig {
        &self.failover
    }

    pub fn rate_limit(&self) -> &RateLimitConfig {
        &self.rate_limit
    }

    pub(crate) fn interceptors(&self) -> &[Arc<dyn Interceptor>] {
        &self.interceptors
    }

    #[cfg(feature = "reqwest")]
    pub(crate) fn http_client_hook(&self) -> Option<&HttpClientHook> {
        self.http_client.as_deref()
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
        if let Some(credentials) = &self.credentials {
            credentials
                .check()
                .map_err(|(what, reason)| ConfigError::Invalid { what, reason })?;
        }
        if let Some(region) = &self.region {
            check_region(region).map_err(invalid("region"))?;
        } else if self.endpoint.needs_region() || self.service_endpoints.iter().any(|(_, e)| e.needs_region())
        {
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
        if self.deadline.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::Invalid {
                what: "deadline",
                reason: "must be above zero".to_owned(),
            });
        }
        // Zero would refuse every answer: the `Response` object is itself
        // a level, and a response type declares members.
        if self.response_limits.max_values == 0 || self.response_limits.max_depth == 0 {
            return Err(ConfigError::Invalid {
                what: "response limits",
                reason: "must be above zero".to_owned(),
            });
        }
        Ok(())
    }
}

/// Secrets redacted (by `Credentials`); interceptors and the HTTP client
/// hook are code, shown by count and presence.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Config");
        match &self.credentials {
            Some(credentials) => d.field("credentials", credentials),
            None => d.field("credentials_provider", &self.provider),
        };
        d.field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("service_endpoints", &self.service_endpoints)
            .field("signed", &self.signed)
            .field("language", &self.language)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("deadline", &self.deadline)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("response_limits", &self.response_limits)
            .field("retry", &self.retry)
            .field("retry_budget", &self.retry_budget)
            .field("failover", &self.failover)
            .field("rate_limit", &self.rate_limit)
            .field("interceptors", &self.interceptors.len())
            .field("custom_transport", &self.transport)
            .finish()
    }
}

/// The provider of [`Config::unsigned`]: never asked, since nothing is signed.
#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::ready(Err(CredentialsError::new(
            "this configuration does not sign requests",
        )))
    }
}

pub(crate) fn check_region(region: &str) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn without_signing_drops_the_credential_and_keeps_every_setting() {
        let endpoint = Endpoint::custom("http://127.0.0.1:9000").unwrap();
        let config = Config::new(Credentials::new("AKID1", SecretKey::new("k")))
            .with_region("ap-guangzhou")
            .with_language("en-US")
            .with_timeout(Duration::from_secs(7))
            .with_service_endpoint("sts", endpoint.clone())
            .without_signing();
        assert!(!config.is_signed());
        assert!(config.credentials().is_none());
        assert_eq!(config.region(), Some("ap-guangzhou"));
        assert_eq!(config.language(), Some("en-US"));
        assert_eq!(config.timeout(), Duration::from_secs(7));
        assert!(*config.endpoint_for("sts") == endpoint);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn rate_limiting_is_adaptive_unless_set_and_shows_in_debug() {
        let config = Config::new(Credentials::new("AKID1", SecretKey::new("k")));
        assert_eq!(*config.rate_limit(), RateLimitConfig::adaptive());
        let config =
            config.with_rate_limit(RateLimitConfig::off().with_action_limit("cvm", "StartInstances", 50));
        assert_eq!(
            config.rate_limit().action_limit("cvm", "StartInstances"),
            Some(50)
        );
        let shown = format!("{config:?}");
        assert!(
            shown.contains("rate_limit: RateLimitConfig { mode: Off"),
            "{shown}"
        );
        assert!(config.validate().is_ok());
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

    #[test]
    fn the_configuration_carries_it_and_shows_it() {
        let config = Config::new(Credentials::new("AKID1", SecretKey::new("k")));
        assert_eq!(*config.failover(), FailoverConfig::standard());
        assert_eq!(FailoverConfig::default(), FailoverConfig::standard());
        let custom = FailoverConfig::standard()
            .with_failures_to_open(3)
            .with_failure_percentage(90)
            .with_window(std::time::Duration::from_secs(10))
            .with_cool_down(std::time::Duration::from_secs(5))
            .with_probes_to_close(1);
        let config = config.with_failover(custom.clone());
        assert_eq!(*config.failover(), custom);
        assert_ne!(custom, FailoverConfig::standard());
        let config = config.with_failover(FailoverConfig::disabled());
        assert!(!config.failover().enabled);
        let debug = format!("{config:?}");
        assert!(
            debug.contains("failover: FailoverConfig { enabled: false"),
            "{debug}"
        );
        assert!(!debug.contains("\"k\""), "{debug}");
    }
}
