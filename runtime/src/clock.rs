//! The signing clock: this machine's clock corrected by the skew learnt
//! from the service.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Shared by a client and its clones, so one correction serves every call.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// Seconds the service's clock is ahead of ours (negative: behind).
    skew: AtomicI64,
}

impl Clock {
    pub(crate) fn skew(&self) -> i64 {
        self.skew.load(Ordering::Relaxed)
    }

    /// Seconds since the Unix epoch by the service's clock, as far as known.
    pub(crate) fn timestamp(&self) -> i64 {
        local_secs().saturating_add(self.skew())
    }

    /// `SystemTime` by the service's clock, as far as known.
    pub(crate) fn now(&self) -> SystemTime {
        let skew = self.skew();
        let now = SystemTime::now();
        let shift = Duration::from_secs(skew.unsigned_abs());
        let shifted = if skew >= 0 {
            now.checked_add(shift)
        } else {
            now.checked_sub(shift)
        };
        shifted.unwrap_or(now)
    }

    /// Learns the skew from an HTTP `Date` header (`Sun, 06 Nov 1994
    /// 08:49:37 GMT`); returns the new skew, or `None` when the value is not
    /// an HTTP date.
    pub(crate) fn learn(&self, date: &[u8]) -> Option<i64> {
        let text = std::str::from_utf8(date).ok()?;
        let server = httpdate::parse_http_date(text.trim()).ok()?;
        let server_secs = match server.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).ok()?,
            Err(e) => i64::try_from(e.duration().as_secs()).ok()?.checked_neg()?,
        };
        let skew = server_secs.checked_sub(local_secs())?;
        self.skew.store(skew, Ordering::Relaxed);
        Some(skew)
    }
}

fn local_secs() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_the_skew_from_a_date_header() {
        let clock = Clock::default();
        assert_eq!(clock.skew(), 0);
        let ahead = SystemTime::now() + Duration::from_secs(900);
        let header = httpdate::fmt_http_date(ahead);
        let skew = clock.learn(header.as_bytes()).expect("an HTTP date");
        assert!((899..=901).contains(&skew), "{skew}");
        assert_eq!(clock.skew(), skew);
        let diff = clock.timestamp() - local_secs();
        assert!((899..=901).contains(&diff), "{diff}");
        let ahead_by = clock.now().duration_since(SystemTime::now()).unwrap();
        assert!(ahead_by > Duration::from_secs(890), "{ahead_by:?}");

        let behind = SystemTime::now() - Duration::from_secs(3600);
        let skew = clock.learn(httpdate::fmt_http_date(behind).as_bytes()).unwrap();
        assert!((-3601..=-3599).contains(&skew), "{skew}");

        // Garbage changes nothing.
        assert_eq!(clock.learn(b"yesterday"), None);
        assert_eq!(clock.learn(b"\xff\xfe"), None);
        assert_eq!(clock.skew(), skew);
    }
}
