//! Per secret id, per action request limit (token bucket), as the gateway
//! applies one per account and action.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

pub(crate) struct RateLimiter {
    per_second: f64,
    /// Secret id → action → bucket (nested so that a lookup by `&str`
    /// needs no allocation).
    buckets: Mutex<HashMap<String, HashMap<&'static str, Bucket>>>,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl RateLimiter {
    /// `per_second` requests a second, with bursts of as many.
    pub(crate) fn new(per_second: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for (`secret_id`, `action`); `false` when none is left.
    /// Only authenticated ids and known actions get here, so the map stays small.
    pub(crate) fn allow(&self, secret_id: &str, action: &'static str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        // Allocates only the first time a secret id is seen.
        let per_action = match buckets.get_mut(secret_id) {
            Some(per_action) => per_action,
            None => buckets.entry(secret_id.to_owned()).or_default(),
        };
        let bucket = per_action.entry(action).or_insert(Bucket {
            tokens: self.per_second,
            refilled: now,
        });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.per_second);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_id_and_action() {
        let limiter = RateLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.allow("a", "StartInstances"));
        }
        assert!(!limiter.allow("a", "StartInstances"));
        assert!(limiter.allow("a", "StopInstances"));
        assert!(limiter.allow("b", "StartInstances"));
        let buckets = limiter.buckets.lock().unwrap();
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets["a"].len(), 2);
    }
}
