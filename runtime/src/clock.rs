//! The signing clock: this machine's clock corrected by the skew learnt
//! from the service.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest skew learnt from a `Date`, either way. The gateway tolerates
/// 5 minutes; a clock an hour off is a broken clock or a hostile answer,
/// and learning it would make every later call of every client sharing the
/// runtime sign for the wrong time (and judge its credentials expired).
pub(crate) const MAX_LEARNT_SKEW: Duration = Duration::from_secs(60 * 60);

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
    /// an HTTP date or is more than [`MAX_LEARNT_SKEW`] from this machine's
    /// clock (then logged, and the skew learnt before is kept).
    pub(crate) fn learn(&self, date: &[u8]) -> Option<i64> {
        let text = std::str::from_utf8(date).ok()?;
        let server = httpdate::parse_http_date(text.trim()).ok()?;
        let server_secs = match server.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).ok()?,
            Err(e) => i64::try_from(e.duration().as_secs()).ok()?.checked_neg()?,
        };
        let skew = server_secs.checked_sub(local_secs())?;
        if skew.unsigned_abs() > MAX_LEARNT_SKEW.as_secs() {
            tracing::warn!(
                skew_secs = skew,
                max_skew_secs = MAX_LEARNT_SKEW.as_secs(),
                "signature expired, but the answer's Date is more than an hour from this machine's \
                 clock: a broken or hostile clock, not learnt (the request is not signed again for it)"
            );
            return None;
        }
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

        let behind = SystemTime::now() - Duration::from_secs(1800);
        let skew = clock.learn(httpdate::fmt_http_date(behind).as_bytes()).unwrap();
        assert!((-1801..=-1799).contains(&skew), "{skew}");

        // Garbage changes nothing.
        assert_eq!(clock.learn(b"yesterday"), None);
        assert_eq!(clock.learn(b"\xff\xfe"), None);
        assert_eq!(clock.skew(), skew);
    }

    #[test]
    fn a_date_more_than_an_hour_off_is_not_learnt() {
        let clock = Clock::default();
        let limit = MAX_LEARNT_SKEW.as_secs();
        let within = SystemTime::now() + Duration::from_secs(limit - 60);
        let learnt = clock.learn(httpdate::fmt_http_date(within).as_bytes());
        assert!(learnt.is_some_and(|s| s.unsigned_abs() < limit), "{learnt:?}");
        let kept = clock.skew();
        for far in [
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            &httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(limit + 60)),
            &httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(limit + 60)),
        ] {
            assert_eq!(clock.learn(far.as_bytes()), None, "{far}");
            assert_eq!(clock.skew(), kept, "{far}");
        }
    }
}
