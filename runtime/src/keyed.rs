//! A map keyed by three names (the pacer's service, action and region; the
//! routes' service, version and region), looked up by `&str` without
//! allocating, and bounded, since names can come from anywhere
//! (`Client::call_with`, a command line).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::time::Duration;

use tokio::time::Instant;

/// Three names, e.g. (service, action, region), the region empty when there is none.
pub(crate) type Names<'a> = (&'a str, &'a str, &'a str);

/// What the table needs to know of a value to forget it.
pub(crate) trait Evictable {
    /// A call is using it (waiting for its turn): never forgotten.
    fn in_use(&self) -> bool;
    fn last_used(&self) -> Instant;
}

pub(crate) struct Keys<V> {
    /// By a keyed hash of the names (random per table, so chosen names
    /// cannot collide on purpose); a bucket holds the rare collisions.
    map: HashMap<u64, Vec<Entry<V>>, BuildHasherDefault<Prehashed>>,
    hasher: RandomState,
    /// The hash of the last key found: a program calls one action many
    /// times, and comparing its names is cheaper than hashing them.
    recent: Option<u64>,
    len: usize,
    capacity: usize,
    idle_after: Duration,
    swept_at: Instant,
}

struct Entry<V> {
    service: Box<str>,
    action: Box<str>,
    region: Box<str>,
    value: V,
}

impl<V> Entry<V> {
    fn is(&self, (service, action, region): Names<'_>) -> bool {
        *self.action == *action && *self.service == *service && *self.region == *region
    }
}

impl<V: Evictable> Keys<V> {
    /// At most `capacity` keys; a key unused for `idle_after` is forgotten
    /// at the next sweep.
    pub(crate) fn new(capacity: usize, idle_after: Duration, now: Instant) -> Self {
        Keys {
            map: HashMap::default(),
            hasher: RandomState::new(),
            recent: None,
            len: 0,
            capacity: capacity.max(1),
            idle_after,
            swept_at: now,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get_mut(&mut self, names: Names<'_>) -> Option<&mut V> {
        let found = |map: &HashMap<_, Vec<Entry<V>>, _>, hash| {
            let bucket: &Vec<Entry<V>> = map.get(&hash)?;
            bucket.iter().position(|e| e.is(names))
        };
        let (hash, index) = match self.recent.and_then(|hash| Some((hash, found(&self.map, hash)?))) {
            Some(hit) => hit,
            None => {
                let hash = self.hasher.hash_one(names);
                (hash, found(&self.map, hash)?)
            }
        };
        self.recent = Some(hash);
        let bucket = self.map.get_mut(&hash)?;
        bucket.get_mut(index).map(|e| &mut e.value)
    }

    /// Adds `names` (absent: see [`Keys::get_mut`]), first forgetting idle
    /// keys now and then, and the least recently used half when full.
    /// `None` when every key is in use: the caller goes without.
    pub(crate) fn insert(&mut self, names: Names<'_>, value: V, now: Instant) -> Option<&mut V> {
        if self.len >= self.capacity || now.saturating_duration_since(self.swept_at) >= self.idle_after {
            self.sweep(now);
        }
        if self.len >= self.capacity {
            return None;
        }
        let (service, action, region) = names;
        let hash = self.hasher.hash_one(names);
        self.recent = Some(hash);
        let bucket = self.map.entry(hash).or_default();
        bucket.push(Entry {
            service: service.into(),
            action: action.into(),
            region: region.into(),
            value,
        });
        self.len += 1;
        bucket.last_mut().map(|e| &mut e.value)
    }

    /// Forgets the idle keys; if still full, the least recently used half
    /// of those not in use, so that the sweep's O(n) is paid once per
    /// `capacity / 2` insertions, not at each.
    fn sweep(&mut self, now: Instant) {
        self.swept_at = now;
        let idle_after = self.idle_after;
        self.retain(|v| v.in_use() || now.saturating_duration_since(v.last_used()) < idle_after);
        if self.len < self.capacity {
            return;
        }
        let mut ages: Vec<Instant> = (self.map.values().flatten())
            .filter(|e| !e.value.in_use())
            .map(|e| e.value.last_used())
            .collect();
        let excess = self.len.saturating_sub(self.capacity / 2).min(ages.len());
        if excess == 0 {
            return;
        }
        let (_, newest_evicted, _) = ages.select_nth_unstable(excess - 1);
        let newest_evicted = *newest_evicted;
        self.retain(|v| v.in_use() || v.last_used() > newest_evicted);
    }

    fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        let mut len = 0;
        self.map.retain(|_, bucket| {
            bucket.retain(|e| keep(&e.value));
            len += bucket.len();
            !bucket.is_empty()
        });
        self.len = len;
    }
}

/// The map's keys are already keyed hashes: passed through.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; this keeps any other input well mixed.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Value {
        in_use: bool,
        last_used: Instant,
    }

    impl Evictable for Value {
        fn in_use(&self) -> bool {
            self.in_use
        }
        fn last_used(&self) -> Instant {
            self.last_used
        }
    }

    fn value(in_use: bool, last_used: Instant) -> Value {
        Value { in_use, last_used }
    }

    #[test]
    fn keys_are_told_apart_by_each_name() {
        let now = Instant::now();
        let mut keys = Keys::new(16, Duration::from_secs(60), now);
        keys.insert(("cvm", "StartInstances", "ap-guangzhou"), value(false, now), now);
        keys.insert(("cvm", "StartInstances", "ap-beijing"), value(true, now), now);
        keys.insert(("cvm", "StopInstances", "ap-guangzhou"), value(true, now), now);
        // The tuple's hash separates the names: no "ab" + "c" = "a" + "bc".
        keys.insert(("cv", "mStartInstances", "ap-guangzhou"), value(true, now), now);
        assert_eq!(keys.len(), 4);
        let found = keys.get_mut(("cvm", "StartInstances", "ap-guangzhou")).unwrap();
        assert!(!found.in_use);
        assert!(
            keys.get_mut(("cvm", "StartInstances", "ap-beijing"))
                .unwrap()
                .in_use
        );
        assert!(keys.get_mut(("cvm", "StartInstances", "")).is_none());
        assert!(keys.get_mut(("vpc", "StartInstances", "ap-guangzhou")).is_none());
    }

    #[test]
    fn the_last_key_found_is_only_a_guess() {
        let now = Instant::now();
        let mut keys = Keys::new(16, Duration::from_secs(60), now);
        let a = ("cvm", "StartInstances", "ap-guangzhou");
        let b = ("cvm", "StopInstances", "ap-guangzhou");
        keys.insert(a, value(true, now), now);
        keys.insert(b, value(false, now), now);
        for _ in 0..3 {
            assert!(keys.get_mut(a).unwrap().in_use);
            assert!(keys.get_mut(a).unwrap().in_use);
            assert!(!keys.get_mut(b).unwrap().in_use);
            assert!(keys.get_mut(("cvm", "StartInstances", "ap-beijing")).is_none());
        }
        // Forgotten, it is not found through the guess either.
        keys.get_mut(b).unwrap().last_used = now;
        let later = now + Duration::from_secs(61);
        keys.get_mut(a).unwrap().in_use = false;
        keys.insert(("cvm", "RunInstances", ""), value(false, later), later);
        assert!(keys.get_mut(a).is_none() && keys.get_mut(b).is_none());
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn idle_keys_are_forgotten_and_a_full_table_halves_its_least_recently_used() {
        let t0 = Instant::now();
        let idle = Duration::from_secs(60);
        let mut keys = Keys::new(8, idle, t0);
        keys.insert(("s", "busy", ""), value(true, t0), t0);
        for i in 0..7u64 {
            let at = t0 + Duration::from_secs(i);
            keys.insert(("s", &format!("a{i}"), ""), value(false, at), at);
        }
        assert_eq!(keys.len(), 8);
        // Full: the oldest unused go (down to half), the one in use stays.
        let at = t0 + Duration::from_secs(10);
        assert!(keys.insert(("s", "new", ""), value(false, at), at).is_some());
        assert!(keys.len() <= 5, "{}", keys.len());
        assert!(keys.get_mut(("s", "busy", "")).is_some());
        assert!(keys.get_mut(("s", "a0", "")).is_none());
        assert!(keys.get_mut(("s", "a6", "")).is_some());
        // Later, everything idle goes at the next insertion.
        let later = at + idle + Duration::from_secs(1);
        keys.insert(("s", "late", ""), value(false, later), later);
        assert_eq!(keys.len(), 2, "the one in use and the new one");

        // Every key in use: nothing is added, nothing forgotten.
        let mut keys = Keys::new(2, idle, t0);
        keys.insert(("s", "a", ""), value(true, t0), t0);
        keys.insert(("s", "b", ""), value(true, t0), t0);
        assert!(keys.insert(("s", "c", ""), value(false, t0), t0).is_none());
        assert_eq!(keys.len(), 2);
    }
}
