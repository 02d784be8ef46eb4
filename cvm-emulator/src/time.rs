//! Wall-clock helpers (no date/time dependency).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The emulator's clock: the machine's, `skew_secs` ahead (behind when
/// negative), for `--clock-skew`.
pub(crate) fn emulator_now(skew_secs: i64) -> SystemTime {
    let now = SystemTime::now();
    let by = Duration::from_secs(skew_secs.unsigned_abs());
    let skewed = if skew_secs >= 0 {
        now.checked_add(by)
    } else {
        now.checked_sub(by)
    };
    // The skew is bounded when configured, so this never falls back.
    skewed.unwrap_or(now)
}

/// Seconds since the Unix epoch of `t` (negative before it).
pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` (UTC), the form the service uses for `CreatedTime`.
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    let date = signer::utc_date(secs);
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(1_551_113_065_999), "2019-02-25T16:44:25Z");
    }
}
