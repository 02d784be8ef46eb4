//! UTC calendar date of a Unix timestamp, without a date/time dependency.

use std::fmt;

/// Seconds in a UTC day (TC3 ignores leap seconds, as Unix time does).
pub(crate) const SECS_PER_DAY: i64 = 86_400;

/// A calendar date in the proleptic Gregorian calendar (UTC).
///
/// The TC3 credential scope uses the **UTC** date of `X-TC-Timestamp`, not the
/// local date: requests made between 00:00 and 08:00 Beijing time still carry
/// the previous UTC day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDate {
    /// Year; may be negative or above 9999 for extreme timestamps.
    pub year: i64,
    /// Month, `1..=12`.
    pub month: u8,
    /// Day of month, `1..=31`.
    pub day: u8,
}

impl UtcDate {
    /// The UTC date containing `timestamp` (seconds since the Unix epoch).
    ///
    /// Total over all of `i64`: negative timestamps give dates before 1970.
    pub fn from_timestamp(timestamp: i64) -> Self {
        Self::from_days(timestamp.div_euclid(SECS_PER_DAY))
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    pub(crate) fn from_days(days: i64) -> Self {
        // |days| <= i64::MAX / 86_400 ~ 1.07e14, so none of this can overflow.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11], March-based month
        let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
        let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            // Both are in small ranges (see above), so the casts are lossless.
            month: month as u8,
            day: day as u8,
        }
    }

    /// Formats as `YYYY-MM-DD` into a stack buffer (no allocation).
    pub(crate) fn to_buf(self) -> DateBuf {
        let mut buf = DateBuf {
            bytes: [0; DateBuf::CAP],
            len: 0,
        };
        if self.year < 0 {
            buf.push(b'-');
        }
        let abs = self.year.unsigned_abs();
        let mut digits = [0u8; 20];
        let n = write_u64(abs, &mut digits);
        for _ in n..4 {
            buf.push(b'0');
        }
        for &d in &digits[..n] {
            buf.push(d);
        }
        buf.push(b'-');
        buf.push(b'0' + self.month / 10);
        buf.push(b'0' + self.month % 10);
        buf.push(b'-');
        buf.push(b'0' + self.day / 10);
        buf.push(b'0' + self.day % 10);
        buf
    }
}

impl fmt::Display for UtcDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_buf().as_str())
    }
}

/// The UTC date (`YYYY-MM-DD`) of a Unix timestamp, as used in the TC3
/// credential scope.
///
/// ```
/// assert_eq!(signer::utc_date(1551113065), "2019-02-25");
/// assert_eq!(signer::utc_date(0), "1970-01-01");
/// ```
pub fn utc_date(timestamp: i64) -> String {
    UtcDate::from_timestamp(timestamp).to_buf().as_str().to_owned()
}

/// Small inline ASCII string holding a formatted date.
#[derive(Clone, Copy)]
pub(crate) struct DateBuf {
    bytes: [u8; DateBuf::CAP],
    len: usize,
}

impl DateBuf {
    /// '-' + 20 digits (u64::MAX) + "-MM-DD" fits comfortably.
    const CAP: usize = 32;

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever pushed, so this cannot fail; "" is an unreachable fallback.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// Writes the decimal digits of `v` to the start of `out`, returning the count.
pub(crate) fn write_u64(mut v: u64, out: &mut [u8; 20]) -> usize {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let n = tmp.len() - i;
    out[..n].copy_from_slice(&tmp[i..]);
    n
}
