//! Where requests are sent.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

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
///
/// # Failover
///
/// Each call has an ordered list of candidate URLs: the endpoint's own
/// first, then the access points it falls back to when that one cannot be
/// reached (see [`FailoverConfig`](super::FailoverConfig) for when an
/// attempt moves on). A built-in endpoint falls back to Tencent's other
/// access points, listed on each constructor; a [`custom`](Endpoint::custom)
/// one falls back only to what [`with_fallback`](Endpoint::with_fallback)
/// adds. Whichever access point a request enters by, the region it is
/// processed in is the one `X-TC-Region` names, so failing over changes the
/// way in, never the answer.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    kind: Kind,
    /// Tried after the kind's own candidates, in the order added.
    fallbacks: Vec<Url>,
}

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
    /// nearest access point, served for every region but the financial
    /// ones (`*-fsi`), which need [`Endpoint::regional`].
    ///
    /// Falls back to `https://{service}.{region}.tencentcloudapi.com` when
    /// the configuration has a region (the region's own access point, where
    /// the request is processed anyway, reached without the nearest-point
    /// routing that just failed), then to
    /// `https://{service}.intl.tencentcloudapi.com` (last: the international
    /// access network, the longest way round from mainland China; not for a
    /// financial region, which it cannot reach).
    pub fn global() -> Self {
        Endpoint::built_in(Kind::Global)
    }

    /// `https://{service}.intl.tencentcloudapi.com`, the access point for
    /// callers outside mainland China.
    ///
    /// Falls back to `https://{service}.{region}.tencentcloudapi.com` when
    /// the configuration has a region (the region's own access point, whose
    /// path does not depend on where the caller is), then to
    /// `https://{service}.tencentcloudapi.com` (not for a financial region).
    pub fn international() -> Self {
        Endpoint::built_in(Kind::International)
    }

    /// `https://{service}.{region}.tencentcloudapi.com`, with the region of
    /// the [`Config`](super::Config) (which must then have one): keeps the
    /// traffic inside that region, and the one choice for a financial
    /// region (`ap-shanghai-fsi`...).
    ///
    /// Falls back to `https://{service}.tencentcloudapi.com` (the nearest
    /// access point, usually in or near the region), then to
    /// `https://{service}.intl.tencentcloudapi.com`. A financial region has
    /// no fallback: it is isolated from the other access points.
    pub fn regional() -> Self {
        Endpoint::built_in(Kind::Regional)
    }

    fn built_in(kind: Kind) -> Self {
        Endpoint {
            kind,
            fallbacks: Vec::new(),
        }
    }

    /// A fixed URL used for every service, e.g. `http://127.0.0.1:9000` for
    /// an emulator or a private access point. Scheme `http` or `https`, no
    /// user info, path, query or fragment (requests always go to `/`, which
    /// is also what is signed). It has no fallback unless
    /// [`with_fallback`](Endpoint::with_fallback) adds one.
    pub fn custom(url: &str) -> Result<Self, ConfigError> {
        parse_custom(url)
            .map(|url| Endpoint {
                kind: Kind::Custom(url),
                fallbacks: Vec::new(),
            })
            .map_err(|reason| ConfigError::Invalid {
                what: "endpoint",
                reason,
            })
    }

    /// Adds `url` as a fallback, checked as [`Endpoint::custom`] checks its
    /// URL: an attempt goes there when the candidates before it cannot be
    /// reached. Fallbacks are tried in the order added, after a built-in
    /// endpoint's own; at most [`Endpoint::MAX_FALLBACKS`]. One that repeats
    /// an earlier candidate is not tried twice.
    ///
    /// ```
    /// # use tencentcloud_runtime::Endpoint;
    /// # fn demo() -> Result<(), tencentcloud_runtime::ConfigError> {
    /// let endpoint = Endpoint::custom("https://api.internal.example")?
    ///     .with_fallback("https://api-backup.internal.example")?;
    /// # let _ = endpoint; Ok(()) }
    /// ```
    pub fn with_fallback(mut self, url: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            what: "fallback endpoint",
            reason,
        };
        let url = parse_custom(url).map_err(invalid)?;
        if self.fallbacks.len() >= Self::MAX_FALLBACKS {
            return Err(invalid(format!(
                "an endpoint takes at most {} fallbacks",
                Self::MAX_FALLBACKS
            )));
        }
        self.fallbacks.push(url);
        Ok(self)
    }

    /// Most fallbacks one endpoint takes: a call may try each of them, so
    /// their number bounds what one call can cost.
    pub const MAX_FALLBACKS: usize = 8;

    /// `true` for [`Endpoint::regional`], which needs a region.
    pub(crate) fn needs_region(&self) -> bool {
        self.kind == Kind::Regional
    }

    /// The URL and `Host` value for a call to `service`: the first of
    /// [`Endpoint::candidates`]. `Err` explains why they cannot be built (an
    /// invalid service name or a missing region). The attempt loop takes
    /// every candidate instead; the tests read the first.
    #[cfg(test)]
    pub(crate) fn target(&self, service: &str, region: Option<&str>) -> Result<Target, String> {
        check_service(service)?;
        target_of(self.primary_url(service, region)?)
    }

    /// Where a call to `service` may go, in order of preference: the
    /// endpoint's own URL, the built-in fallbacks of its kind (see each
    /// constructor), then those [`Endpoint::with_fallback`] added, each URL
    /// once. `Err` as [`Endpoint::target`]; a fallback that cannot be built
    /// (a region that is not a DNS label) is left out, since the first
    /// candidate alone decides whether the call can be made.
    ///
    /// Built once per call; [`Breakers::choose`](super::failover::Breakers::choose)
    /// picks each attempt's.
    pub(crate) fn candidates(&self, service: &str, region: Option<&str>) -> Result<Candidates, String> {
        check_service(service)?;
        let primary = self.primary_url(service, region)?;
        let built_in = self
            .access_chain(region)
            .iter()
            .skip(1)
            .filter_map(|point| point.url(service, region).ok());
        let mut urls = vec![primary];
        for url in built_in.chain(self.fallbacks.iter().cloned()) {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        let mut targets = urls.into_iter().map(|url| target_of(url).map(Arc::new));
        let primary = targets.next().ok_or("the endpoint has no candidate")??;
        // A fallback always has a host (checked when added), so none is lost here.
        let fallbacks = targets.filter_map(Result::ok).collect();
        Ok(Candidates { primary, fallbacks })
    }

    /// The endpoint's own URL for `service`.
    fn primary_url(&self, service: &str, region: Option<&str>) -> Result<Url, String> {
        match &self.kind {
            Kind::Custom(url) => Ok(url.clone()),
            _ => match self.access_chain(region).first() {
                Some(point) => point.url(service, region),
                None => Err("the endpoint has no access point".to_owned()),
            },
        }
    }

    /// The access points of a built-in endpoint, its own first; empty for a
    /// custom one. Why in this order: see the constructors.
    fn access_chain(&self, region: Option<&str>) -> &'static [AccessPoint] {
        use AccessPoint::{International, Nearest, Regional};
        let financial = region.is_some_and(is_financial_region);
        match (&self.kind, region) {
            (Kind::Custom(_), _) => &[],
            (Kind::Global, None) => &[Nearest, International],
            (Kind::Global, Some(_)) if financial => &[Nearest, Regional],
            (Kind::Global, Some(_)) => &[Nearest, Regional, International],
            (Kind::Regional, _) if financial => &[Regional],
            (Kind::Regional, _) => &[Regional, Nearest, International],
            (Kind::International, None) => &[International, Nearest],
            (Kind::International, Some(_)) if financial => &[International, Regional],
            (Kind::International, Some(_)) => &[International, Regional, Nearest],
        }
    }
}

/// One of the ways into Tencent Cloud's API for a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AccessPoint {
    /// `{service}.tencentcloudapi.com`: the nearest access point.
    Nearest,
    /// `{service}.{region}.tencentcloudapi.com`: the region's own.
    Regional,
    /// `{service}.intl.tencentcloudapi.com`: the international site's nearest.
    International,
}

impl AccessPoint {
    /// Its URL for `service`, whose name is already checked.
    fn url(self, service: &str, region: Option<&str>) -> Result<Url, String> {
        let text = match self {
            AccessPoint::Nearest => format!("https://{service}.tencentcloudapi.com/"),
            AccessPoint::International => format!("https://{service}.intl.tencentcloudapi.com/"),
            AccessPoint::Regional => {
                let region = region.ok_or("the regional endpoint needs a region")?;
                check_label(region).map_err(|e| format!("region `{region}` {e}"))?;
                format!("https://{service}.{region}.tencentcloudapi.com/")
            }
        };
        Url::parse(&text).map_err(|e| format!("cannot build the endpoint URL {text}: {e}"))
    }
}

/// Financial regions (`ap-shanghai-fsi`, `ap-shenzhen-fsi`...) are isolated
/// from the rest of Tencent Cloud: only their own regional access point
/// serves them.
fn is_financial_region(region: &str) -> bool {
    region.ends_with("-fsi")
}

/// Checked for custom endpoints too: the service also names the
/// signature's credential scope.
fn check_service(service: &str) -> Result<(), String> {
    check_label(service).map_err(|e| format!("service name `{service}` {e}"))
}

fn target_of(url: Url) -> Result<Target, String> {
    let host = host_header(&url).ok_or("the endpoint URL has no host")?;
    Ok(Target { url, host })
}

/// The candidate targets of one call, in order of preference; never empty.
#[derive(Debug, Clone)]
pub(crate) struct Candidates {
    /// Shared: each attempt's choice holds one, at the cost of a count.
    primary: Arc<Target>,
    fallbacks: Vec<Arc<Target>>,
}

impl Candidates {
    /// The endpoint's own target: where every attempt goes without failover.
    pub(crate) fn primary(&self) -> &Arc<Target> {
        &self.primary
    }

    /// How many there are, at least 1.
    pub(crate) fn len(&self) -> usize {
        1 + self.fallbacks.len()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Arc<Target>> {
        match index.checked_sub(1) {
            None => Some(&self.primary),
            Some(i) => self.fallbacks.get(i),
        }
    }

    /// In order of preference, the primary first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<Target>> {
        std::iter::once(&self.primary).chain(&self.fallbacks)
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

/// The endpoint's own URL, then any fallbacks [`Endpoint::with_fallback`]
/// added (`http://a/ (fallbacks: http://b/)`); a built-in endpoint's own
/// fallbacks are implied by its name.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Global => f.write_str("https://{service}.tencentcloudapi.com")?,
            Kind::International => f.write_str("https://{service}.intl.tencentcloudapi.com")?,
            Kind::Regional => f.write_str("https://{service}.{region}.tencentcloudapi.com")?,
            Kind::Custom(url) => f.write_str(url.as_str())?,
        }
        for (i, url) in self.fallbacks.iter().enumerate() {
            f.write_str(if i == 0 { " (fallbacks: " } else { ", " })?;
            f.write_str(url.as_str())?;
        }
        if !self.fallbacks.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
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

    fn candidates(e: &Endpoint, service: &str, region: Option<&str>) -> Vec<String> {
        let c = e.candidates(service, region).unwrap();
        assert_eq!(c.len(), c.iter().count());
        assert_eq!(c.get(0).map(|t| &t.url), Some(&c.primary().url));
        assert!(c.get(c.len()).is_none());
        c.iter().map(|t| t.url.to_string()).collect()
    }

    #[test]
    fn built_in_chains_go_from_the_chosen_access_point_to_the_regions_own_then_the_rest() {
        let gz = Some("ap-guangzhou");
        let nearest = "https://cvm.tencentcloudapi.com/";
        let regional = "https://cvm.ap-guangzhou.tencentcloudapi.com/";
        let intl = "https://cvm.intl.tencentcloudapi.com/";
        assert_eq!(
            candidates(&Endpoint::global(), "cvm", gz),
            [nearest, regional, intl]
        );
        assert_eq!(candidates(&Endpoint::global(), "cvm", None), [nearest, intl]);
        assert_eq!(
            candidates(&Endpoint::regional(), "cvm", gz),
            [regional, nearest, intl]
        );
        assert_eq!(
            candidates(&Endpoint::international(), "cvm", gz),
            [intl, regional, nearest]
        );
        assert_eq!(
            candidates(&Endpoint::international(), "cvm", None),
            [intl, nearest]
        );
        // The first candidate is what `target` gives, for every kind.
        for e in [
            Endpoint::global(),
            Endpoint::regional(),
            Endpoint::international(),
        ] {
            let first = e.candidates("cvm", gz).unwrap().primary().clone();
            let target = e.target("cvm", gz).unwrap();
            assert_eq!((&first.url, &first.host), (&target.url, &target.host));
        }
        // Hosts are what is signed.
        let c = Endpoint::regional().candidates("cvm", gz).unwrap();
        let hosts: Vec<_> = c.iter().map(|t| t.host.as_str()).collect();
        assert_eq!(
            hosts,
            [
                "cvm.ap-guangzhou.tencentcloudapi.com",
                "cvm.tencentcloudapi.com",
                "cvm.intl.tencentcloudapi.com"
            ]
        );
    }

    #[test]
    fn a_financial_region_is_reached_only_through_its_own_access_point() {
        let fsi = Some("ap-shanghai-fsi");
        let regional = "https://cbs.ap-shanghai-fsi.tencentcloudapi.com/";
        assert_eq!(candidates(&Endpoint::regional(), "cbs", fsi), [regional]);
        assert_eq!(
            candidates(&Endpoint::global(), "cbs", fsi),
            ["https://cbs.tencentcloudapi.com/", regional]
        );
        assert_eq!(
            candidates(&Endpoint::international(), "cbs", fsi),
            ["https://cbs.intl.tencentcloudapi.com/", regional]
        );
    }

    #[test]
    fn candidates_refuse_what_target_refuses_and_leave_out_fallbacks_that_cannot_be_built() {
        assert!(Endpoint::regional().candidates("cvm", None).is_err());
        assert!(Endpoint::regional()
            .candidates("cvm", Some("ap-gz.evil.com/"))
            .is_err());
        assert!(Endpoint::global().candidates("CVM", None).is_err());
        assert!(Endpoint::custom("http://127.0.0.1:9000")
            .unwrap()
            .candidates("a/b", None)
            .is_err());
        // A region that is no DNS label only loses its regional fallback.
        assert_eq!(
            candidates(&Endpoint::global(), "cvm", Some("AP Guangzhou")),
            [
                "https://cvm.tencentcloudapi.com/",
                "https://cvm.intl.tencentcloudapi.com/"
            ]
        );
    }

    #[test]
    fn a_custom_endpoint_has_only_the_fallbacks_it_is_given() {
        let e = Endpoint::custom("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            candidates(&e, "cvm", Some("ap-guangzhou")),
            ["http://127.0.0.1:9000/"]
        );
        let e = e
            .with_fallback("http://127.0.0.1:9001")
            .unwrap()
            .with_fallback(" https://[::1]:9002/ ")
            .unwrap()
            // Repeats are tried once.
            .with_fallback("http://127.0.0.1:9000/")
            .unwrap();
        assert_eq!(
            candidates(&e, "cvm", Some("ap-guangzhou")),
            [
                "http://127.0.0.1:9000/",
                "http://127.0.0.1:9001/",
                "https://[::1]:9002/"
            ]
        );
        assert_eq!(
            e.candidates("cvm", None).unwrap().get(2).unwrap().host,
            "[::1]:9002"
        );
        assert_eq!(
            e.to_string(),
            "http://127.0.0.1:9000/ (fallbacks: http://127.0.0.1:9001/, https://[::1]:9002/, http://127.0.0.1:9000/)"
        );
        assert_ne!(e, Endpoint::custom("http://127.0.0.1:9000").unwrap());

        // A built-in endpoint's fallbacks come after its own chain.
        let e = Endpoint::global()
            .with_fallback("https://proxy.example")
            .unwrap()
            .with_fallback("https://cvm.tencentcloudapi.com")
            .unwrap();
        assert_eq!(
            candidates(&e, "cvm", None),
            [
                "https://cvm.tencentcloudapi.com/",
                "https://cvm.intl.tencentcloudapi.com/",
                "https://proxy.example/"
            ]
        );
        assert_eq!(
            format!(
                "{:?}",
                Endpoint::global().with_fallback("https://proxy.example").unwrap()
            ),
            "Endpoint(https://{service}.tencentcloudapi.com (fallbacks: https://proxy.example/))"
        );
    }

    #[test]
    fn fallbacks_are_checked_as_custom_endpoints_are_and_bounded() {
        let e = || Endpoint::custom("http://127.0.0.1:9000").unwrap();
        for bad in [
            "localhost:9000",
            "ftp://example.com",
            "http://user:pass@example.com",
            "http://example.com/v3",
            "http://example.com/?a=b",
            "",
        ] {
            let err = e().with_fallback(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid fallback endpoint: "), "{bad}: {err}");
            assert!(!err.contains("pass"), "{err}");
        }
        let mut full = e();
        for port in 0..Endpoint::MAX_FALLBACKS {
            full = full
                .with_fallback(&format!("http://127.0.0.1:{}", 10_000 + port))
                .unwrap();
        }
        assert_eq!(
            full.candidates("cvm", None).unwrap().len(),
            1 + Endpoint::MAX_FALLBACKS
        );
        let err = full
            .with_fallback("http://127.0.0.1:9999")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid fallback endpoint: an endpoint takes at most 8 fallbacks"
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
