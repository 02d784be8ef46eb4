//! The public settings of client-side rate limiting: per client
//! ([`RateLimitConfig`]) and per call ([`RateLimit`]).

/// How a client paces its requests to stay within each action's quota.
///
/// Tencent Cloud limits each action per account (e.g. `StartInstances`: 10
/// requests per second) and answers the excess with `RequestLimitExceeded`.
/// Rather than learn that only from being throttled and backing off, the
/// client spaces its requests out per (service, action, region): a call
/// waits its turn before it is sent, and that wait counts against the
/// call's deadline. Set per client with
/// [`Config::with_rate_limit`](crate::Config::with_rate_limit); default
/// [`RateLimitConfig::adaptive`].
///
/// ```
/// # use tencentcloud_runtime::{RateLimitConfig, RateLimitMode};
/// // This account's quota for StartInstances was raised to 50 per second.
/// let limits = RateLimitConfig::adaptive().with_action_limit("cvm", "StartInstances", 50);
/// assert_eq!(limits.action_limit("cvm", "StartInstances"), Some(50));
/// assert_eq!(limits.mode(), RateLimitMode::Adaptive);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitConfig {
    mode: RateLimitMode,
    /// Sorted by (service, action), so that a lookup by `&str` needs no
    /// allocation; usually empty.
    action_limits: Vec<(String, String, u32)>,
}

/// Which limits a client paces by; see [`RateLimitConfig`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitMode {
    /// No pacing: requests go as soon as they are made, and throttling is
    /// left to the retry policy.
    Off,
    /// Pace each action with a known limit (documented, or set with
    /// [`RateLimitConfig::with_action_limit`]) a little below that limit;
    /// others are not paced.
    KnownLimits,
    /// As [`RateLimitMode::KnownLimits`], and learn from throttling: an
    /// action the service throttles is paced near the rate the service
    /// accepted, probing slowly upward, never above its known limit. This
    /// also finds a known limit that is lower in practice, for instance
    /// when other programs share the account's quota.
    #[default]
    Adaptive,
}

impl RateLimitConfig {
    /// Known limits, plus learning the others from throttling: the default.
    pub fn adaptive() -> Self {
        RateLimitConfig::default()
    }

    /// Known limits only; see [`RateLimitMode::KnownLimits`].
    pub fn known_limits() -> Self {
        RateLimitConfig::default().with_mode(RateLimitMode::KnownLimits)
    }

    /// No pacing; see [`RateLimitMode::Off`]. A call can still ask for it
    /// with [`RateLimit::PerSecond`].
    pub fn off() -> Self {
        RateLimitConfig::default().with_mode(RateLimitMode::Off)
    }

    /// Sets the mode.
    pub fn with_mode(mut self, mode: RateLimitMode) -> Self {
        self.mode = mode;
        self
    }

    /// The limit of `action` of `service` (names as on the wire:
    /// `"cvm"`, `"StartInstances"`), in requests per second, instead of
    /// the documented one: for a quota raised (or lowered) for this
    /// account. 0 turns pacing off for that action. Set again, the last
    /// value wins.
    pub fn with_action_limit(
        mut self,
        service: impl Into<String>,
        action: impl Into<String>,
        per_second: u32,
    ) -> Self {
        let (service, action) = (service.into(), action.into());
        match self.find(&service, &action) {
            Ok(i) => self.action_limits[i].2 = per_second,
            Err(i) => self.action_limits.insert(i, (service, action, per_second)),
        }
        self
    }

    pub fn mode(&self) -> RateLimitMode {
        self.mode
    }

    /// The limit set for `action` of `service` with
    /// [`RateLimitConfig::with_action_limit`], if any.
    pub fn action_limit(&self, service: &str, action: &str) -> Option<u32> {
        self.find(service, action).ok().map(|i| self.action_limits[i].2)
    }

    fn find(&self, service: &str, action: &str) -> Result<usize, usize> {
        self.action_limits
            .binary_search_by(|(s, a, _)| (s.as_str(), a.as_str()).cmp(&(service, action)))
    }
}

/// One call's rate limit, instead of the client's
/// ([`RateLimitConfig`]): in `CallOptions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimit {
    /// As the client's configuration says.
    #[default]
    Default,
    /// Not paced, and not counted for the client's learning: the call is
    /// sent at once.
    Off,
    /// Paced as if the action's limit were this many requests per second
    /// (0: as [`RateLimit::Off`]), sharing its turns with the client's
    /// other calls of the action. Under [`RateLimitMode::Adaptive`] the
    /// learnt rate still applies below it.
    PerSecond(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_limits_are_kept_sorted_and_the_last_value_wins() {
        let config = RateLimitConfig::adaptive()
            .with_action_limit("vpc", "DescribeVpcs", 20)
            .with_action_limit("cvm", "StartInstances", 50)
            .with_action_limit("cvm", "RunInstances", 5)
            .with_action_limit("cvm", "StartInstances", 40);
        assert_eq!(config.action_limit("cvm", "StartInstances"), Some(40));
        assert_eq!(config.action_limit("cvm", "RunInstances"), Some(5));
        assert_eq!(config.action_limit("vpc", "DescribeVpcs"), Some(20));
        assert_eq!(config.action_limit("cvm", "DescribeVpcs"), None);
        assert_eq!(config.action_limit("", ""), None);
        assert_eq!(config.mode(), RateLimitMode::Adaptive);
        assert_eq!(RateLimitConfig::default(), RateLimitConfig::adaptive());
        assert_eq!(RateLimitConfig::off().mode(), RateLimitMode::Off);
        assert_eq!(RateLimitConfig::known_limits().mode(), RateLimitMode::KnownLimits);
        assert_eq!(RateLimit::default(), RateLimit::Default);
    }
}
