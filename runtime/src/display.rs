//! Text for messages: what every error of the runtime writes the same way.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Displays untrusted text as one inert line: control characters escaped
/// (`\u{1b}`, `\n`, ...) and the invisible ones that reorder text (bidi
/// overrides, zero-width marks), as the model crate's `inert` writes every
/// echo; not cut (the caller bounds what it shows).
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tencentcloud_model::validate::inert(self.0, usize::MAX))
    }
}

/// A time as `YYYY-MM-DDThh:mm:ssZ` (UTC), for logs and messages. Total over
/// every `SystemTime`: a time from an answer may be anything, and one past
/// year 9999 is written as it is (`10000-01-01T00:00:00Z`) where an HTTP date
/// formatter would panic.
pub(crate) struct UtcTime(pub(crate) SystemTime);

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = match self.0.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        let of_day = secs.rem_euclid(86_400);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            signer::UtcDate::from_timestamp(secs),
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        )
    }
}

impl fmt::Debug for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// ` (after N attempts)` when more than one request was sent.
pub(crate) fn after_attempts(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    if attempts > 1 {
        write!(f, " (after {attempts} attempts)")?;
    }
    Ok(())
}

/// `A`, `A and B`, `A, B and C`.
pub(crate) struct AndList<'a>(pub(crate) &'a [&'a str]);

impl fmt::Display for AndList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == n { " and " } else { ", " })?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_list() {
        assert_eq!(AndList(&["A"]).to_string(), "A");
        assert_eq!(AndList(&["A", "B"]).to_string(), "A and B");
        assert_eq!(AndList(&["A", "B", "C"]).to_string(), "A, B and C");
    }

    #[test]
    fn utc_time_is_total() {
        use std::time::Duration;
        let at = |secs: u64| UtcTime(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(1_551_113_065), "2019-02-25T16:44:25Z");
        assert_eq!(at(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(at(253_402_300_800), "10000-01-01T00:00:00Z");
        let before = UtcTime(UNIX_EPOCH - Duration::from_secs(1)).to_string();
        assert_eq!(before, "1969-12-31T23:59:59Z");
        // The extremes a SystemTime can hold: written, never a panic.
        for secs in [i64::MAX as u64, u64::MAX / 2] {
            if let Some(far) = UNIX_EPOCH.checked_add(Duration::from_secs(secs)) {
                assert!(UtcTime(far).to_string().ends_with('Z'));
            }
        }
        if let Some(early) = UNIX_EPOCH.checked_sub(Duration::from_secs(i64::MAX as u64)) {
            assert!(UtcTime(early).to_string().starts_with('-'));
        }
    }
}
