//! Per secret id, per action request limit (token bucket), as the gateway
//! applies one per account and action.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most secret ids with a bucket at once. Temporary credentials bring a
/// new id each, so the map is pruned rather than left to grow.
const MAX_IDS: usize = 4096;

/// A bucket untouched this long has refilled (to `per_second` tokens at
/// `per_second` a second): the same as no bucket, so it can be dropped.
const REFILLED: Duration = Duration::from_secs(1);

pub(crate) struct RateLimiter {
    per_second: f64,
    max_ids: usize,
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
        Self::with_max_ids(per_second, MAX_IDS)
    }

    fn with_max_ids(per_second: u32, max_ids: usize) -> Self {
        RateLimiter {
            per_second: f64::from(per_second.max(1)),
            max_ids: max_ids.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for (`secret_id`, `action`); `false` when none is left.
    /// Only authenticated ids and known actions get here; at most
    /// `max_ids` ids are kept (see [`make_room`]).
    pub(crate) fn allow(&self, secret_id: &str, action: &'static str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= self.max_ids && !buckets.contains_key(secret_id) {
            make_room(&mut buckets, now);
        }
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

/// Drops the ids whose buckets have all refilled; if every id was used
/// within the last second, drops the one used longest ago (a scan, only
/// when more than `max_ids` ids are active at once).
fn make_room(buckets: &mut HashMap<String, HashMap<&'static str, Bucket>>, now: Instant) {
    let last_use = |per_action: &HashMap<&'static str, Bucket>| per_action.values().map(|b| b.refilled).max();
    let before = buckets.len();
    buckets.retain(|_, per_action| last_use(per_action).is_some_and(|t| now.duration_since(t) < REFILLED));
    if buckets.len() < before {
        return;
    }
    let oldest = buckets
        .iter()
        .min_by_key(|(_, per_action)| last_use(per_action))
        .map(|(id, _)| id.clone());
    if let Some(id) = oldest {
        buckets.remove(&id);
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

    #[test]
    fn many_ids_do_not_grow_the_map() {
        let limiter = RateLimiter::with_max_ids(1, 4);
        for i in 0..100 {
            assert!(limiter.allow(&format!("AKIDtmp{i}"), "DescribeInstances"));
            assert!(limiter.buckets.lock().unwrap().len() <= 4);
        }
        // The newest ids keep their (spent) buckets.
        assert!(!limiter.allow("AKIDtmp99", "DescribeInstances"));
        // An id whose buckets refilled is dropped first.
        let limiter = RateLimiter::with_max_ids(1, 2);
        assert!(limiter.allow("old", "DescribeInstances"));
        limiter
            .buckets
            .lock()
            .unwrap()
            .get_mut("old")
            .unwrap()
            .get_mut("DescribeInstances")
            .unwrap()
            .refilled -= REFILLED;
        assert!(limiter.allow("recent", "DescribeInstances"));
        assert!(limiter.allow("new", "DescribeInstances"));
        let buckets = limiter.buckets.lock().unwrap();
        assert!(
            buckets.contains_key("recent") && buckets.contains_key("new"),
            "{:?}",
            buckets.keys()
        );
    }
}
