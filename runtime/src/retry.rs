//! Retry policy: which failures are retried, how long to wait, and the
//! client-wide budget that keeps a failing endpoint from getting N times the
//! traffic.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How a call is retried. Set per client ([`Config::with_retry`](super::Config::with_retry))
/// and per call ([`CallOptions::with_retry`](super::CallOptions::with_retry)).
///
/// The delay before retry `n` (1 for the first) is drawn uniformly from
/// `0..=min(max_delay, base * 2^(n-1))` ("full jitter"), with
/// `throttling_base_delay` as the base after a `RequestLimitExceeded`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Requests sent at most for one call, the first included; 1 disables
    /// retries (0 counts as 1). A clock-skew correction is not counted.
    pub max_attempts: u32,
    /// Backoff base after a transient failure (connect, timeout, reset, 5xx, `InternalError`).
    pub base_delay: Duration,
    /// Backoff base after throttling (`RequestLimitExceeded`): the quotas
    /// are per second, so waiting a fraction of a millisecond rarely helps.
    pub throttling_base_delay: Duration,
    /// No single backoff is longer than this.
    pub max_delay: Duration,
}

impl RetryConfig {
    /// Default [`RetryConfig::max_attempts`].
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
    /// Default [`RetryConfig::base_delay`].
    pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(100);
    /// Default [`RetryConfig::throttling_base_delay`].
    pub const DEFAULT_THROTTLING_BASE_DELAY: Duration = Duration::from_secs(1);
    /// Default [`RetryConfig::max_delay`].
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(20);

    /// The default policy: 3 attempts, 100 ms base (1 s after throttling), 20 s cap.
    pub fn standard() -> Self {
        RetryConfig {
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            base_delay: Self::DEFAULT_BASE_DELAY,
            throttling_base_delay: Self::DEFAULT_THROTTLING_BASE_DELAY,
            max_delay: Self::DEFAULT_MAX_DELAY,
        }
    }

    /// One attempt per call (a clock-skew correction still happens).
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..Self::standard()
        }
    }

    /// Sets [`RetryConfig::max_attempts`].
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`RetryConfig::base_delay`].
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets [`RetryConfig::throttling_base_delay`].
    pub fn with_throttling_base_delay(mut self, delay: Duration) -> Self {
        self.throttling_base_delay = delay;
        self
    }

    /// Sets [`RetryConfig::max_delay`].
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The highest delay before retry `retry` (1-based) after a failure of `class`.
    pub(crate) fn ceiling(&self, class: Class, retry: u32) -> Duration {
        let base = match class {
            Class::Throttling => self.throttling_base_delay,
            _ => self.base_delay,
        };
        // 2^(retry-1), saturating: the cap takes over long before overflow.
        let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        base.saturating_mul(factor).min(self.max_delay)
    }

    /// A full-jitter delay before retry `retry` after a failure of `class`.
    pub(crate) fn backoff(&self, class: Class, retry: u32) -> Duration {
        let ceiling = self.ceiling(class, retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig::standard()
    }
}

/// The client-wide retry budget: a token bucket shared by every call of a
/// client and its clones. A retry takes `retry_cost` tokens (`timeout_cost`
/// after a timeout, which ties up the service longest); a call that succeeds
/// at once adds `success_reward`, and a call that succeeds after retries
/// gives back what its retries took. With the bucket empty nothing is
/// retried, so under sustained failure a client sends at most about
/// `capacity / retry_cost` more requests than it has calls, not
/// `max_attempts` times as many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryBudget {
    /// Tokens in a full bucket, and at start.
    pub capacity: u32,
    /// Tokens a retry takes.
    pub retry_cost: u32,
    /// Tokens a retry after a timeout takes.
    pub timeout_cost: u32,
    /// Tokens a first-attempt success adds back, up to `capacity`.
    pub success_reward: u32,
}

impl RetryBudget {
    /// 500 tokens, 5 per retry, 10 per retry after a timeout, 1 back per
    /// first-attempt success: the figures of the AWS SDKs' standard mode.
    pub fn standard() -> Self {
        RetryBudget {
            capacity: 500,
            retry_cost: 5,
            timeout_cost: 10,
            success_reward: 1,
        }
    }

    /// Retries cost nothing: only [`RetryConfig::max_attempts`] bounds them.
    pub fn unlimited() -> Self {
        RetryBudget {
            capacity: 0,
            retry_cost: 0,
            timeout_cost: 0,
            success_reward: 0,
        }
    }

    /// Sets [`RetryBudget::capacity`].
    pub fn with_capacity(mut self, tokens: u32) -> Self {
        self.capacity = tokens;
        self
    }

    /// Sets [`RetryBudget::retry_cost`] and [`RetryBudget::timeout_cost`].
    pub fn with_costs(mut self, retry: u32, timeout: u32) -> Self {
        self.retry_cost = retry;
        self.timeout_cost = timeout;
        self
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::standard()
    }
}

/// The live bucket of a [`RetryBudget`]: one atomic, so a call that
/// succeeds at once with a full bucket costs a single load.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    tokens: AtomicU32,
    budget: RetryBudget,
}

impl TokenBucket {
    pub(crate) fn new(budget: RetryBudget) -> Self {
        TokenBucket {
            tokens: AtomicU32::new(budget.capacity),
            budget,
        }
    }

    /// Takes the cost of a retry after `class`; `None` when the bucket
    /// cannot pay it, `Some(taken)` otherwise.
    pub(crate) fn try_acquire(&self, class: Class) -> Option<u32> {
        let cost = match class {
            Class::Timeout => self.budget.timeout_cost,
            _ => self.budget.retry_cost,
        };
        if cost == 0 {
            return Some(0);
        }
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .ok()
            .map(|_| cost)
    }

    /// A call succeeded; `taken` is what its retries took.
    pub(crate) fn on_success(&self, taken: u32) {
        let back = if taken > 0 {
            taken
        } else {
            self.budget.success_reward
        };
        if back == 0 || self.tokens.load(Ordering::Relaxed) >= self.budget.capacity {
            return;
        }
        let capacity = self.budget.capacity;
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t < capacity).then(|| t.saturating_add(back).min(capacity))
            });
    }

    /// Tokens left.
    pub(crate) fn available(&self) -> u32 {
        self.tokens.load(Ordering::Acquire)
    }
}

/// What kind of failure ended an attempt, as far as retrying goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// `RequestLimitExceeded(.*)`: retried always, with the longer base.
    Throttling,
    /// Nothing was sent: retried always.
    Connect,
    /// Retried only when repeating the call is safe; costs more budget.
    Timeout,
    /// A reset, a 5xx, a body that is not an envelope, `InternalError(.*)`:
    /// retried only when repeating the call is safe.
    Transient,
    /// `AuthFailure.SignatureExpire`: learn the clock skew and re-sign once.
    SignatureExpired,
    /// Anything else: not retried.
    Final,
}

impl Class {
    /// Whether a failure of this class may be retried for a call for which
    /// repeating is `safe` (read-only, or carrying a `ClientToken`).
    pub(crate) fn retryable(self, safe: bool) -> bool {
        match self {
            Class::Throttling | Class::Connect => true,
            Class::Timeout | Class::Transient => safe,
            Class::SignatureExpired | Class::Final => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_within_it() {
        let policy = RetryConfig::standard();
        assert_eq!(policy.ceiling(Class::Transient, 1), Duration::from_millis(100));
        assert_eq!(policy.ceiling(Class::Transient, 2), Duration::from_millis(200));
        assert_eq!(policy.ceiling(Class::Transient, 3), Duration::from_millis(400));
        assert_eq!(policy.ceiling(Class::Throttling, 1), Duration::from_secs(1));
        assert_eq!(policy.ceiling(Class::Throttling, 3), Duration::from_secs(4));
        assert_eq!(policy.ceiling(Class::Throttling, 6), Duration::from_secs(20));
        assert_eq!(policy.ceiling(Class::Transient, 40), Duration::from_secs(20));
        assert_eq!(
            policy.ceiling(Class::Transient, u32::MAX),
            Duration::from_secs(20)
        );
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..2_000 {
            let d = policy.backoff(Class::Transient, 2);
            assert!(d <= Duration::from_millis(200), "{d:?}");
            seen_low |= d < Duration::from_millis(50);
            seen_high |= d > Duration::from_millis(150);
        }
        assert!(seen_low && seen_high, "the jitter covers the whole range");
    }

    #[test]
    fn the_bucket_runs_dry_refunds_and_refills() {
        let bucket = TokenBucket::new(RetryBudget::standard().with_capacity(20));
        assert_eq!(bucket.try_acquire(Class::Transient), Some(5));
        assert_eq!(bucket.try_acquire(Class::Timeout), Some(10));
        assert_eq!(bucket.available(), 5);
        assert_eq!(bucket.try_acquire(Class::Timeout), None);
        assert_eq!(bucket.try_acquire(Class::Throttling), Some(5));
        assert_eq!(bucket.try_acquire(Class::Connect), None);
        // A success after retries gives back what they took.
        bucket.on_success(10);
        assert_eq!(bucket.available(), 10);
        // First-attempt successes refill slowly, never above capacity.
        for _ in 0..100 {
            bucket.on_success(0);
        }
        assert_eq!(bucket.available(), 20);
        bucket.on_success(10);
        assert_eq!(bucket.available(), 20);
    }

    #[test]
    fn an_unlimited_budget_never_refuses() {
        let bucket = TokenBucket::new(RetryBudget::unlimited());
        for _ in 0..1_000 {
            assert_eq!(bucket.try_acquire(Class::Timeout), Some(0));
        }
    }

    #[test]
    fn what_is_retried() {
        for safe in [false, true] {
            assert!(Class::Throttling.retryable(safe));
            assert!(Class::Connect.retryable(safe));
            assert_eq!(Class::Timeout.retryable(safe), safe);
            assert_eq!(Class::Transient.retryable(safe), safe);
            assert!(!Class::Final.retryable(safe));
            assert!(!Class::SignatureExpired.retryable(safe));
        }
    }
}
