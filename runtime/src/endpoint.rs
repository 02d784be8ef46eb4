//! Where requests are sent.

use std::fmt;
use std::str::FromStr;

use url::Url;

use super::{ConfigError, Env};

const ENDPOINT: &str = "TENCENTCLOUD_ENDPOINT";

/// The endpoint the environment sets for `service`:
/// `TENCENTCLOUD_ENDPOINT_<SERVICE>` (e.g. `TENCENTCLOUD_ENDPOINT_STS`), else
/// `TENCENTCLOUD_ENDPOINT`; for `""`, only the latter.
pub(crate) fn from_env(env: &Env, service: &str) -> Result<Option<Endpoint>, ConfigError> {
    let named = |name: String| {
        move |e: ConfigError| match e {
            ConfigError::Invalid { reason, .. } => ConfigError::Invalid {
                what: "endpoint variable",
                reason: format!("{name} {reason}"),
            },
            other => other,
        }
    };
    if !service.is_empty() {
        let name = format!("{ENDPOINT}_{}", service.to_ascii_uppercase());
        if let Some(value) = env.get(&name) {
            return Endpoint::custom(&value).map(Some).map_err(named(name));
        }
    }
    match env.get(ENDPOINT) {
        Some(value) => Endpoint::custom(&value).map(Some).map_err(|e| match e {
            ConfigError::Invalid { reason, .. } => ConfigError::InvalidEnv {
                name: ENDPOINT,
                reason,
            },
            other => other,
        }),
        None => Ok(None),
    }
}

/// The endpoint requests are sent to.
///
/// Tencent Cloud hosts each service under its own name, so the host of the
/// built-in choices is only known per call, from
/// [`Action::SERVICE`](super::Action::SERVICE).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Endpoint(Kind);

#[derive(Clone, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    Global,
    International,
    Regional,
    Custom(Url),
}

impl Endpoint {
    /// The endpoint `env` sets for `service` (`sts`):
    /// `TENCENTCLOUD_ENDPOINT_<SERVICE>` (e.g. `TENCENTCLOUD_ENDPOINT_STS`),
    /// else `TENCENTCLOUD_ENDPOINT`; `None` when neither is set, an error
    /// naming the variable when its value is not a usable URL. For a
    /// client made outside [`Config::from_environment`](super::Config::from_environment),
    /// such as the STS client of a credential provider.
    pub fn from_environment(env: &Env, service: &str) -> Result<Option<Endpoint>, ConfigError> {
        from_env(env, service)
    }

    /// `https://{service}.tencentcloudapi.com`, the default: routed to the
    /// nearest access point, served for every region.
    pub fn global() -> Self {
        Endpoint(Kind::Global)
    }

    /// `https://{service}.intl.tencentcloudapi.com`, the access point for
    /// callers outside mainland China.
    pub fn international() -> Self {
        Endpoint(Kind::International)
    }

    /// `https://{service}.{region}.tencentcloudapi.com`, with the region of
    /// the [`Config`](super::Config) (which must then have one): keeps the
    /// traffic inside that region.
    pub fn regional() -> Self {
        Endpoint(Kind::Regional)
    }

    /// A fixed URL used for every service, e.g. `http://127.0.0.1:9000` for
    /// an emulator or a private access point. Scheme `http` or `https`, no
    /// user info, path, query or fragment (requests always go to `/`, which
    /// is also what is signed).
    pub fn custom(url: &str) -> Result<Self, ConfigError> {
        parse_custom(url)
            .map(|url| Endpoint(Kind::Custom(url)))
            .map_err(|reason| ConfigError::Invalid {
                what: "endpoint",
                reason,
            })
    }

    /// `true` for [`Endpoint::regional`], which needs a region.
    pub(crate) fn needs_region(&self) -> bool {
        self.0 == Kind::Regional
    }

    /// The URL and `Host` value for a call to `service`. `Err` explains why
    /// they cannot be built (an invalid service name or a missing region).
    pub(crate) fn target(&self, service: &str, region: Option<&str>) -> Result<Target, String> {
        // Checked for custom endpoints too: the service also names the
        // signature's credential scope.
        check_label(service).map_err(|e| format!("service name `{service}` {e}"))?;
        let url = match &self.0 {
            Kind::Custom(url) => url.clone(),
            kind => {
                let text = match kind {
                    Kind::International => format!("https://{service}.intl.tencentcloudapi.com/"),
                    Kind::Regional => {
                        let region = region.ok_or("the regional endpoint needs a region")?;
                        check_label(region).map_err(|e| format!("region `{region}` {e}"))?;
                        format!("https://{service}.{region}.tencentcloudapi.com/")
                    }
                    _ => format!("https://{service}.tencentcloudapi.com/"),
                };
                Url::parse(&text).map_err(|e| format!("cannot build the endpoint URL {text}: {e}"))?
            }
        };
        let host = host_header(&url).ok_or("the endpoint URL has no host")?;
        Ok(Target { url, host })
    }
}

/// Where one call goes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) url: Url,
    /// The `Host` header value the HTTP client derives from `url` (host plus
    /// any non-default port): what must be signed.
    pub(crate) host: String,
}

/// Host and non-default port, exactly as hyper writes the `Host` header (and
/// the HTTP/2 `:authority`) for this URL. IPv6 hosts keep their brackets.
fn host_header(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

fn parse_custom(text: &str) -> Result<Url, String> {
    let example = "expected e.g. https://cvm.tencentcloudapi.com or http://127.0.0.1:9000";
    let url = Url::parse(text.trim()).map_err(|e| format!("not a valid URL ({e}); {example}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme must be http or https, not `{}`; {example}",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: user info may hold a password.
        return Err("must not contain user info".to_owned());
    }
    match url.host_str() {
        Some(host) if !host.is_empty() => {}
        _ => return Err(format!("has no host; {example}")),
    }
    if url.path() != "/" {
        return Err(format!(
            "must not have a path (got `{}`): requests always go to `/`",
            url.path()
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".to_owned());
    }
    Ok(url)
}

/// Region and service names become DNS labels of the host.
pub(crate) fn check_label(label: &str) -> Result<(), &'static str> {
    let bytes = label.as_bytes();
    if bytes.is_empty() {
        return Err("is empty");
    }
    if bytes.len() > 63 {
        return Err("is longer than 63 characters");
    }
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may only contain lowercase letters, digits and `-`");
    }
    if bytes[0] == b'-' || bytes[bytes.len() - 1] == b'-' {
        return Err("must not start or end with `-`");
    }
    Ok(())
}

impl FromStr for Endpoint {
    type Err = ConfigError;

    /// Same as [`Endpoint::custom`].
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        Endpoint::custom(s)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Global => f.write_str("https://{service}.tencentcloudapi.com"),
            Kind::International => f.write_str("https://{service}.intl.tencentcloudapi.com"),
            Kind::Regional => f.write_str("https://{service}.{region}.tencentcloudapi.com"),
            Kind::Custom(url) => f.write_str(url.as_str()),
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Endpoint").field(&format_args!("{self}")).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(e: &Endpoint, service: &str, region: Option<&str>) -> (String, String) {
        let t = e.target(service, region).unwrap();
        (t.url.to_string(), t.host)
    }

    #[test]
    fn built_in_endpoints() {
        assert_eq!(
            target(&Endpoint::default(), "cvm", None),
            (
                "https://cvm.tencentcloudapi.com/".into(),
                "cvm.tencentcloudapi.com".into()
            )
        );
        assert_eq!(
            target(&Endpoint::international(), "cvm", Some("ap-guangzhou")),
            (
                "https://cvm.intl.tencentcloudapi.com/".into(),
                "cvm.intl.tencentcloudapi.com".into()
            )
        );
        assert_eq!(
            target(&Endpoint::regional(), "cvm", Some("ap-guangzhou")),
            (
                "https://cvm.ap-guangzhou.tencentcloudapi.com/".into(),
                "cvm.ap-guangzhou.tencentcloudapi.com".into()
            )
        );
        assert!(Endpoint::regional().target("cvm", None).is_err());
        assert!(Endpoint::regional()
            .target("cvm", Some("ap-guangzhou.evil.com/"))
            .is_err());
        assert!(Endpoint::global().target("CVM", None).is_err());
        assert!(Endpoint::global().target("", None).is_err());
        assert_eq!(
            Endpoint::regional().to_string(),
            "https://{service}.{region}.tencentcloudapi.com"
        );
    }

    #[test]
    fn custom_endpoints() {
        let e = Endpoint::custom("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            target(&e, "anything", None),
            ("http://127.0.0.1:9000/".into(), "127.0.0.1:9000".into())
        );
        assert!(e.target("a/b", None).is_err());
        // Default ports are not part of the Host header.
        let e = Endpoint::custom("https://cvm.tencentcloudapi.com:443/").unwrap();
        assert_eq!(target(&e, "cvm", None).1, "cvm.tencentcloudapi.com");
        let e: Endpoint = "http://[::1]:8080".parse().unwrap();
        assert_eq!(target(&e, "cvm", None).1, "[::1]:8080");
        let e = Endpoint::custom("HTTP://Example.COM").unwrap();
        assert_eq!(target(&e, "cvm", None).1, "example.com");
        assert_eq!(format!("{e:?}"), "Endpoint(http://example.com/)");

        for bad in [
            "cvm.tencentcloudapi.com",
            "localhost:9000",
            "ftp://example.com",
            "http://user:pass@example.com",
            "http://example.com/v3",
            "http://example.com/?a=b",
            "http://example.com/#x",
            "",
        ] {
            let err = Endpoint::custom(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid endpoint: "), "{bad}: {err}");
            assert!(!err.contains("pass"), "{err}");
        }
    }
}
