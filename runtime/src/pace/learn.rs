//! Learning one key's limit from throttling: the pace after a
//! `RequestLimitExceeded`, and how it climbs back.
//!
//! Tencent Cloud's quotas are requests per second, enforced by the
//! gateway's bucket. That makes the accepted answers a measure of the
//! limit, which a window-based congestion controller (TCP's CUBIC, AWS's
//! adaptive mode) has no equivalent of: a throttle means the server's
//! bucket is empty at that moment, so between two throttles the server
//! accepted exactly what it refilled, `limit × elapsed` (less whatever
//! overflowed a full bucket while the client idled). Hence:
//!
//! - **Estimate** at a throttle: the answers accepted to requests sent
//!   since the previous decrease, over the time since (exact while the
//!   client kept its pace busy; a lower bound otherwise). Without a usable
//!   previous decrease (the first throttle, one long ago, or a pace left
//!   idle meanwhile): the answers accepted over the last second, a sliding
//!   window. That one is high by whatever the server's bucket still held a
//!   second ago, which the next throttle, coming soon, corrects.
//! - **Decrease** to [`BACKOFF`] of the estimate, so that the server's
//!   bucket, empty at the throttle, refills a little: network jitter that
//!   bunches requests then costs nothing.
//! - **Probe** upward by [`PROBE_PER_SEC`] of the estimate per second,
//!   linearly. A server bucket of one second's requests absorbs an
//!   overshoot for a while before throttling, so the overshoot at the next
//!   throttle grows with the square root of the probe's slope: a slow probe
//!   keeps it near 10 %. A cycle (back to the estimate, then the bucket
//!   drained) lasts about 20 s, a few hundred requests at 10/s, with one or
//!   two throttled: settled near the limit, not oscillating around it.
//!   Only as far as the calls use, unless they keep the pace busy. After a
//!   collapse (a storm of throttles took the estimate to less than half of
//!   the last five minutes' peak), by [`PROBE_PER_SEC`] of the peak: from
//!   the floor's own slope, 0.5/s would take an hour back to 20/s.
//! - **Ignore** throttles of requests sent before the last decrease: they
//!   were paced by the old rate and say nothing of the new one (32 requests
//!   in flight would otherwise cut the rate 32 times).

use std::time::Duration;

use tokio::time::Instant;

/// Share of the estimated limit paced at right after a throttle: the
/// server's bucket refills by a tenth of the limit per second.
pub(super) const BACKOFF: f64 = 0.9;
/// How fast the pace climbs after a decrease: this share of the estimate
/// per second (back to the estimate in 10 s).
pub(super) const PROBE_PER_SEC: f64 = 0.01;
/// The slowest pace learning ever sets, in requests per second.
pub(super) const MIN_RATE: f64 = 0.5;
/// An estimate this many times below the recent peak is a collapse (a
/// storm of throttles), not the limit measured again.
const COLLAPSE: f64 = 2.0;
/// Two throttles closer than this give too noisy an estimate from the
/// accepted answers between them (latency jitter moves an answer across
/// either end).
const MIN_SPAN: Duration = Duration::from_secs(1);
/// Two throttles further apart than this are unrelated events.
const MAX_SPAN: Duration = Duration::from_secs(300);

/// What one key learnt from throttling.
#[derive(Debug)]
pub(super) struct Learner {
    /// Answers accepted over the last second.
    accepted: SlidingSecond,
    /// Counts the decreases: a permit remembers it, so that the answers to
    /// requests sent at an older pace are told apart.
    generation: u32,
    /// The last decrease; `None` until the first throttle: not paced.
    cut: Option<Cut>,
}

#[derive(Clone, Copy, Debug)]
struct Cut {
    at: Instant,
    /// Estimate of the server's limit (requests/s) that the pace returns
    /// to and probes beyond.
    ceiling: f64,
    /// The pace when the throttle came (infinite when unpaced): no
    /// estimate made of this throttle is above it.
    pace_before: f64,
    /// Set when `ceiling` is the last second's count: answers to the
    /// requests sent before the throttle may still arrive (a burst's
    /// answers come together, throttles first or last), and add to it.
    window: Option<f64>,
    /// Answers to those older requests accepted since.
    late: u32,
    /// Answers accepted to requests sent since (this generation).
    accepted_since: u32,
    /// The pace went unused for a while since: the server's bucket may
    /// have overflowed, and `accepted_since` then tells less than the limit.
    slack: bool,
    /// The highest estimate of the cuts of the last [`MAX_SPAN`] (this
    /// one's included), and when it was made: what the limit was before a
    /// run of throttles (another program draining the quota for a few
    /// seconds) drove the estimate down to the floor. After such a
    /// [`COLLAPSE`] the probe climbs back at [`PROBE_PER_SEC`] of it, not
    /// of the floor's (an hour from 0.5/s to 20/s).
    peak: f64,
    peak_at: Instant,
}

/// A counter of events over the last second: this second's count plus
/// the previous second's, weighted by how much of it still falls within
/// one second of now. Two integers, no queue.
#[derive(Clone, Copy, Debug)]
struct SlidingSecond {
    start: Instant,
    current: u32,
    previous: u32,
}

const SECOND: Duration = Duration::from_secs(1);

impl SlidingSecond {
    fn new(now: Instant) -> Self {
        SlidingSecond {
            start: now,
            current: 0,
            previous: 0,
        }
    }

    fn add(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed >= 2 * SECOND {
            *self = SlidingSecond::new(now);
        } else if elapsed >= SECOND {
            self.previous = self.current;
            self.current = 0;
            self.start = self.start.checked_add(SECOND).unwrap_or(now);
        }
        self.current = self.current.saturating_add(1);
    }

    fn count(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.start).as_secs_f64();
        let (current, previous) = (f64::from(self.current), f64::from(self.previous));
        if elapsed >= 2.0 {
            0.0
        } else if elapsed >= 1.0 {
            current * (2.0 - elapsed)
        } else {
            previous * (1.0 - elapsed) + current
        }
    }
}

impl Learner {
    pub(super) fn new(now: Instant) -> Self {
        Learner {
            accepted: SlidingSecond::new(now),
            generation: 0,
            cut: None,
        }
    }

    pub(super) fn generation(&self) -> u32 {
        self.generation
    }

    /// Whether a throttle was counted: the key is paced by what was learnt.
    pub(super) fn has_learnt(&self) -> bool {
        self.cut.is_some()
    }

    /// The learnt pace in requests per second, at most `cap` (the known
    /// limit's pace, or infinite); `None` before any throttle.
    pub(super) fn rate(&self, now: Instant, cap: f64) -> Option<f64> {
        let cut = self.cut?;
        let since = now.saturating_duration_since(cut.at).as_secs_f64();
        // After a collapse (a run of throttles drove the estimate far below
        // the recent peak), climb back at the peak's slope; otherwise, at
        // the estimate's, as ever.
        let base = match cut.peak > COLLAPSE * cut.ceiling {
            true => cut.peak,
            false => cut.ceiling,
        };
        let slope = PROBE_PER_SEC * base;
        let curve = cut.ceiling * BACKOFF + slope * since;
        // Probe only as far as the calls use: a pace that kept climbing
        // through an hour of light use would let the next batch burst. A
        // pace kept busy (no slack since the cut) is in use however slow:
        // below a request a second, the last second's count is 0 or 1 and
        // would hold the pace where it is for good.
        let used = match cut.slack {
            true => cut.ceiling.max(2.0 * self.accepted.count(now)),
            false => f64::INFINITY,
        };
        Some(curve.min(used).max(MIN_RATE).min(cap))
    }

    /// The pace went unused for a while (see [`Cut::slack`]).
    pub(super) fn note_slack(&mut self) {
        if let Some(cut) = &mut self.cut {
            cut.slack = true;
        }
    }

    /// The server accepted (did not throttle) a request sent with
    /// `generation`.
    pub(super) fn on_accepted(&mut self, now: Instant, generation: u32, cap: f64) {
        self.accepted.add(now);
        let Some(cut) = &mut self.cut else { return };
        if generation == self.generation {
            cut.accepted_since = cut.accepted_since.saturating_add(1);
        } else if let Some(window) = cut.window {
            // Accepted before the throttle was seen: it belonged in the count.
            cut.late = cut.late.saturating_add(1);
            let seen = (window + f64::from(cut.late)).min(cut.pace_before).min(cap);
            cut.ceiling = cut.ceiling.max(seen);
        }
    }

    /// The server throttled a request sent with `generation`. Returns the
    /// new pace when this lowers it; `None` for a request sent before the
    /// last decrease, which is ignored.
    pub(super) fn on_throttled(&mut self, now: Instant, generation: u32, cap: f64) -> Option<f64> {
        if generation != self.generation {
            return None;
        }
        // Before any throttle, the pace is the known limit's, if any.
        let pace_before = self.rate(now, cap).unwrap_or(cap);
        let between = self.cut.filter(|cut| !cut.slack).and_then(|cut| {
            let span = now.saturating_duration_since(cut.at);
            (MIN_SPAN..=MAX_SPAN)
                .contains(&span)
                .then(|| f64::from(cut.accepted_since) / span.as_secs_f64())
        });
        let (estimate, window) = match between {
            Some(estimate) => (estimate, None),
            None => {
                let count = self.accepted.count(now);
                (count, Some(count))
            }
        };
        let ceiling = estimate.min(pace_before).max(MIN_RATE).min(cap);
        let (peak, peak_at) = match self.cut {
            Some(previous)
                if now.saturating_duration_since(previous.peak_at) <= MAX_SPAN
                    && previous.peak.max(previous.ceiling) > ceiling =>
            {
                (previous.peak.max(previous.ceiling).min(cap), previous.peak_at)
            }
            _ => (ceiling, now),
        };
        self.generation = self.generation.wrapping_add(1);
        self.cut = Some(Cut {
            at: now,
            ceiling,
            pace_before,
            window,
            late: 0,
            accepted_since: 0,
            slack: false,
            peak,
            peak_at,
        });
        self.rate(now, cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: f64 = f64::INFINITY;

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn the_sliding_second_weighs_the_previous_second() {
        let t0 = Instant::now();
        let mut window = SlidingSecond::new(t0);
        for i in 0..10 {
            window.add(at(t0, i * 100));
        }
        assert_eq!(window.count(at(t0, 999)), 10.0);
        // Half of the previous second still falls within the last second.
        assert!((window.count(at(t0, 1_500)) - 5.0).abs() < 1e-9);
        window.add(at(t0, 1_500));
        assert!((window.count(at(t0, 1_500)) - 6.0).abs() < 1e-9);
        assert_eq!(window.count(at(t0, 3_000)), 0.0);
        window.add(at(t0, 9_000));
        assert_eq!(window.count(at(t0, 9_000)), 1.0);
    }

    #[test]
    fn no_pace_before_a_throttle_then_the_accepted_rate_backed_off() {
        let t0 = Instant::now();
        let mut learner = Learner::new(t0);
        for i in 0..12 {
            learner.on_accepted(at(t0, i * 80), 0, NONE);
        }
        assert_eq!(learner.rate(at(t0, 1_000), NONE), None);
        let pace = learner.on_throttled(at(t0, 960), 0, NONE).unwrap();
        assert!((pace - 12.0 * BACKOFF).abs() < 1e-9, "{pace}");
        assert_eq!(learner.generation(), 1);
        // Throttles of requests sent before the decrease are ignored.
        assert_eq!(learner.on_throttled(at(t0, 970), 0, NONE), None);
        assert_eq!(learner.generation(), 1);
        // It climbs slowly: PROBE_PER_SEC of the estimate per second.
        let later = learner.rate(at(t0, 5_960), NONE).unwrap();
        assert!(
            (later - 12.0 * (BACKOFF + 5.0 * PROBE_PER_SEC)).abs() < 1e-6,
            "{later}"
        );
    }

    #[test]
    fn a_pace_climbs_only_while_in_use_and_after_a_collapse_at_the_peaks_slope() {
        let t0 = Instant::now();
        let mut learner = Learner::new(t0);
        for i in 0..20 {
            learner.on_accepted(at(t0, i * 50), 0, NONE);
        }
        // Throttled at 20/s, then a storm: nothing accepted, the estimate
        // falls to the floor.
        learner.on_throttled(at(t0, 1_000), 0, NONE).unwrap();
        let mut pace = 0.0;
        for g in 1..10 {
            pace = learner
                .on_throttled(at(t0, 3_000 + g as u64 * 100), g, NONE)
                .unwrap();
        }
        assert_eq!(pace, MIN_RATE);
        // Kept busy (no slack), even at 0.5/s: it climbs, at 1 % of the
        // peak (20/s) a second, back near 20/s in two minutes or so.
        let minute = learner.rate(at(t0, 64_000), NONE).unwrap();
        assert!(
            (minute - (MIN_RATE * BACKOFF + 0.2 * 60.0)).abs() < 0.1,
            "{minute}"
        );
        // Unused for a while: no higher than the calls use.
        learner.note_slack();
        assert_eq!(learner.rate(at(t0, 64_000), NONE), Some(MIN_RATE));
        assert_eq!(learner.rate(at(t0, 600_000), NONE), Some(MIN_RATE));
    }

    #[test]
    fn late_answers_to_a_burst_raise_the_first_estimate() {
        // 32 requests at once, 10 accepted: the first answer read is a throttle.
        let t0 = Instant::now();
        let mut learner = Learner::new(t0);
        let pace = learner.on_throttled(at(t0, 100), 0, NONE).unwrap();
        assert_eq!(pace, MIN_RATE);
        for _ in 0..10 {
            learner.on_accepted(at(t0, 101), 0, NONE);
        }
        let pace = learner.rate(at(t0, 101), NONE).unwrap();
        assert!((pace - 10.0 * BACKOFF).abs() < 0.01, "{pace}");
    }

    #[test]
    fn between_two_throttles_the_accepted_answers_measure_the_limit() {
        let t0 = Instant::now();
        let mut learner = Learner::new(t0);
        for i in 0..10 {
            learner.on_accepted(at(t0, i * 10), 0, NONE);
        }
        learner.on_throttled(at(t0, 100), 0, NONE).unwrap();
        // 20 s at 7 accepted per second (the server's true limit), then a throttle.
        for i in 0..140 {
            learner.on_accepted(at(t0, 100 + i * 142), 1, NONE);
        }
        let pace = learner.on_throttled(at(t0, 20_100), 1, NONE).unwrap();
        assert!((pace - 7.0 * BACKOFF).abs() < 0.01, "{pace}");
    }

    #[test]
    fn a_known_limit_caps_whatever_is_learnt() {
        let t0 = Instant::now();
        let mut learner = Learner::new(t0);
        for i in 0..50 {
            learner.on_accepted(at(t0, i * 10), 0, 9.0);
        }
        let pace = learner.on_throttled(at(t0, 600), 0, 9.0).unwrap();
        assert!(pace <= 9.0);
        assert!(learner.rate(at(t0, 600_000), 9.0).unwrap() <= 9.0);
        // Degenerate caps and counts never panic nor go below the floor.
        let mut learner = Learner::new(t0);
        assert_eq!(learner.on_throttled(t0, 0, NONE), Some(MIN_RATE));
        assert_eq!(learner.on_throttled(t0, u32::MAX, NONE), None);
    }
}
