//! Fault injection and request counters.
//!
//! Production failures (throttling, internal errors, a connection lost
//! before or after the change was made, slow answers) are drawn here for
//! each authenticated, well-formed request, from one seeded PRNG: the same
//! seed and the same request order give the same decisions, so a failure
//! seen once can be replayed. The counters say what the emulator saw and
//! did, so tests can assert "exactly one StartInstances arrived".

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Longest latency that can be injected: longer waits would outlast the
/// graceful-shutdown grace period and make tests slow rather than tell
/// anything more.
pub const MAX_INJECTED_LATENCY: Duration = Duration::from_secs(5);

/// Which faults to inject, and how often.
///
/// Faults apply only to authenticated, well-formed requests: those that
/// passed the signature, version, action, region and rate-limit checks and
/// whose parameters decoded (types, unknown and missing parameters), so
/// authentication errors stay deterministic. Each such request gets at
/// most one of the four faults: one number is drawn and compared with the
/// probabilities in the order below, so they must add up to at most 1.
///
/// ```
/// use std::time::Duration;
/// use cvm_emulator::{EmulatorConfig, FaultConfig};
///
/// let config = EmulatorConfig::default().with_faults(FaultConfig {
///     request_limit_exceeded: 0.1,
///     reset_after: 0.05,
///     latency: Some(Duration::from_millis(10)..=Duration::from_millis(50)),
///     seed: Some(42),
///     ..FaultConfig::default()
/// });
/// assert_eq!(config.faults.seed, Some(42));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultConfig {
    /// Probability (0.0 to 1.0) of answering `RequestLimitExceeded`, as the
    /// gateway does when throttling; nothing changes.
    pub request_limit_exceeded: f64,
    /// Probability of answering `InternalError`; nothing changes.
    pub internal_error: f64,
    /// Probability of resetting the connection before the action takes
    /// effect: no answer, and nothing changes.
    pub reset_before: f64,
    /// Probability of resetting the connection after the action took
    /// effect: the change is made (and on disk with a state file), but the
    /// client gets no answer. A client that retries blindly repeats it.
    pub reset_after: f64,
    /// Latency added before answering (or resetting), drawn uniformly from
    /// this range (millisecond steps), at most [`MAX_INJECTED_LATENCY`].
    pub latency: Option<RangeInclusive<Duration>>,
    /// Seed of the PRNG behind every decision and latency; `None`: drawn
    /// from the OS (see [`Emulator::fault_seed`](crate::Emulator::fault_seed)).
    pub seed: Option<u64>,
}

impl FaultConfig {
    /// Whether any fault or latency is configured.
    pub fn is_active(&self) -> bool {
        self.probabilities().iter().any(|(_, p)| *p > 0.0) || self.latency.is_some()
    }

    fn probabilities(&self) -> [(&'static str, f64); 4] {
        [
            ("request_limit_exceeded", self.request_limit_exceeded),
            ("internal_error", self.internal_error),
            ("reset_before", self.reset_before),
            ("reset_after", self.reset_after),
        ]
    }

    /// Checks the probabilities and the latency range.
    pub fn validate(&self) -> Result<(), String> {
        let mut sum = 0.0;
        for (name, p) in self.probabilities() {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!(
                    "fault probability {name} is {p}; it must be between 0.0 and 1.0"
                ));
            }
            sum += p;
        }
        // Tolerate rounding (0.1 + 0.2 + 0.7).
        if sum > 1.0 + 1e-9 {
            return Err(format!(
                "fault probabilities add up to {sum}; a request gets at most one fault, so they must add up to at most 1.0"
            ));
        }
        if let Some(range) = &self.latency {
            if range.start() > range.end() {
                return Err(format!(
                    "latency range {:?}..={:?} is empty: its minimum is above its maximum",
                    range.start(),
                    range.end()
                ));
            }
            if *range.end() > MAX_INJECTED_LATENCY {
                return Err(format!(
                    "latency {:?} is above the maximum of {MAX_INJECTED_LATENCY:?}",
                    range.end()
                ));
            }
        }
        Ok(())
    }
}

/// What the emulator saw and injected since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultStats {
    /// Authenticated, well-formed requests (those faults apply to).
    pub requests: u64,
    /// Answered `RequestLimitExceeded` by injection (the real rate limit
    /// is not counted here).
    pub request_limit_exceeded: u64,
    /// Answered `InternalError` by injection.
    pub internal_error: u64,
    /// Connections reset before the action took effect.
    pub reset_before: u64,
    /// Connections reset after the action took effect.
    pub reset_after: u64,
    /// Requests delayed by a latency above zero.
    pub delayed: u64,
}

/// The fault drawn for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    RequestLimitExceeded,
    InternalError,
    ResetBefore,
    ResetAfter,
}

impl Fault {
    /// The name in logs (`None`: no fault).
    pub(crate) fn name(self) -> Option<&'static str> {
        match self {
            Fault::None => None,
            Fault::RequestLimitExceeded => Some("RequestLimitExceeded"),
            Fault::InternalError => Some("InternalError"),
            Fault::ResetBefore => Some("reset-before"),
            Fault::ResetAfter => Some("reset-after"),
        }
    }
}

/// What happens to one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decision {
    pub(crate) fault: Fault,
    pub(crate) latency: Duration,
}

/// The fault injector of one emulator, and its counters.
pub(crate) struct Faults {
    config: FaultConfig,
    active: bool,
    seed: u64,
    rng: Mutex<StdRng>,
    requests: AtomicU64,
    /// The actions counted (CVM's, then STS's: the emulator gives them).
    counted: Vec<&'static str>,
    /// Requests per action, in the order of `counted`.
    per_action: Vec<AtomicU64>,
    request_limit_exceeded: AtomicU64,
    internal_error: AtomicU64,
    reset_before: AtomicU64,
    reset_after: AtomicU64,
    delayed: AtomicU64,
}

impl Faults {
    /// An injector for `config` (checked), counting requests of the
    /// `counted` actions (see [`Faults::request_count`]).
    pub(crate) fn new(config: FaultConfig, counted: Vec<&'static str>) -> Result<Self, String> {
        config.validate()?;
        let seed = config.seed.unwrap_or_else(|| rand::rng().random());
        Ok(Faults {
            active: config.is_active(),
            config,
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            requests: AtomicU64::new(0),
            per_action: counted.iter().map(|_| AtomicU64::new(0)).collect(),
            counted,
            request_limit_exceeded: AtomicU64::new(0),
            internal_error: AtomicU64::new(0),
            reset_before: AtomicU64::new(0),
            reset_after: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
        })
    }

    /// The seed in use (given or drawn).
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    pub(crate) fn is_active(&self) -> bool {
        self.active
    }

    /// Counts an authenticated request of `action` (see
    /// [`Faults::request_count`]); 0 for an action not counted.
    pub(crate) fn count_request(&self, action: &str) {
        if let Some(i) = self.counted.iter().position(|a| *a == action) {
            self.per_action[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a well-formed request (in [`FaultStats::requests`]) and draws
    /// its fault and latency. The draws for one request are made under one
    /// lock, so requests arriving in the same order get the same decisions.
    pub(crate) fn decide(&self) -> Decision {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if !self.active {
            return Decision {
                fault: Fault::None,
                latency: Duration::ZERO,
            };
        }
        let (draw, latency) = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            let draw: f64 = rng.random();
            let latency = self.config.latency.as_ref().map_or(Duration::ZERO, |range| {
                let ms = |d: &Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(rng.random_range(ms(range.start())..=ms(range.end())))
            });
            (draw, latency)
        };
        let c = &self.config;
        let fault = [
            (c.request_limit_exceeded, Fault::RequestLimitExceeded),
            (c.internal_error, Fault::InternalError),
            (c.reset_before, Fault::ResetBefore),
            (c.reset_after, Fault::ResetAfter),
        ]
        .iter()
        .scan(0.0, |threshold, (p, fault)| {
            *threshold += p;
            Some((*threshold, *p, *fault))
        })
        // A zero probability never fires, even where rounding puts the
        // draw on the threshold.
        .find(|(threshold, p, _)| *p > 0.0 && draw < *threshold)
        .map_or(Fault::None, |(_, _, fault)| fault);
        let counter = match fault {
            Fault::None => None,
            Fault::RequestLimitExceeded => Some(&self.request_limit_exceeded),
            Fault::InternalError => Some(&self.internal_error),
            Fault::ResetBefore => Some(&self.reset_before),
            Fault::ResetAfter => Some(&self.reset_after),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if !latency.is_zero() {
            self.delayed.fetch_add(1, Ordering::Relaxed);
        }
        Decision { fault, latency }
    }

    pub(crate) fn stats(&self) -> FaultStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FaultStats {
            requests: get(&self.requests),
            request_limit_exceeded: get(&self.request_limit_exceeded),
            internal_error: get(&self.internal_error),
            reset_before: get(&self.reset_before),
            reset_after: get(&self.reset_after),
            delayed: get(&self.delayed),
        }
    }

    /// Authenticated requests of `action` so far, as counted by
    /// [`Faults::count_request`] (0 for an unknown action).
    pub(crate) fn request_count(&self, action: &str) -> u64 {
        self.counted
            .iter()
            .position(|a| *a == action)
            .map_or(0, |i| self.per_action[i].load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decisions(config: FaultConfig, n: usize) -> Vec<(Fault, Duration)> {
        let faults = Faults::new(config, Vec::new()).unwrap();
        (0..n)
            .map(|_| {
                let d = faults.decide();
                (d.fault, d.latency)
            })
            .collect()
    }

    #[test]
    fn same_seed_same_decisions() {
        let config = FaultConfig {
            request_limit_exceeded: 0.2,
            internal_error: 0.2,
            reset_before: 0.2,
            reset_after: 0.2,
            latency: Some(Duration::from_millis(1)..=Duration::from_millis(100)),
            seed: Some(7),
        };
        let a = decisions(config.clone(), 200);
        assert_eq!(a, decisions(config.clone(), 200));
        let other = decisions(
            FaultConfig {
                seed: Some(8),
                ..config
            },
            200,
        );
        assert_ne!(a, other);
        for kind in [
            Fault::None,
            Fault::RequestLimitExceeded,
            Fault::InternalError,
            Fault::ResetBefore,
            Fault::ResetAfter,
        ] {
            let n = a.iter().filter(|(f, _)| *f == kind).count();
            // Each 20 %: 40 expected of 200; far from 0 and 200.
            assert!((15..=70).contains(&n), "{kind:?}: {n} of 200");
        }
        assert!(a
            .iter()
            .all(|(_, l)| (Duration::from_millis(1)..=Duration::from_millis(100)).contains(l)));
    }

    #[test]
    fn certain_and_impossible_faults() {
        let all = decisions(
            FaultConfig {
                reset_after: 1.0,
                ..FaultConfig::default()
            },
            100,
        );
        assert!(all.iter().all(|(f, l)| *f == Fault::ResetAfter && l.is_zero()));
        let none = decisions(
            FaultConfig {
                latency: Some(Duration::from_millis(3)..=Duration::from_millis(3)),
                ..FaultConfig::default()
            },
            100,
        );
        assert!(none
            .iter()
            .all(|(f, l)| *f == Fault::None && *l == Duration::from_millis(3)));
    }

    #[test]
    fn counts_requests_per_action() {
        let counted = vec!["DescribeInstances", "StartInstances", "StopInstances"];
        let faults = Faults::new(
            FaultConfig {
                internal_error: 1.0,
                ..FaultConfig::default()
            },
            counted,
        )
        .unwrap();
        for action in [
            "StartInstances",
            "StartInstances",
            "DescribeInstances",
            "NoSuchAction",
        ] {
            faults.count_request(action);
        }
        assert_eq!(faults.request_count("StartInstances"), 2);
        assert_eq!(faults.request_count("DescribeInstances"), 1);
        assert_eq!(faults.request_count("StopInstances"), 0);
        assert_eq!(faults.request_count("NoSuchAction"), 0);
        // Counting a request draws no fault; drawing one counts no action.
        assert_eq!(faults.stats(), FaultStats::default());
        faults.decide();
        faults.decide();
        assert_eq!(faults.request_count("StartInstances"), 2);
        let stats = faults.stats();
        assert_eq!((stats.requests, stats.internal_error, stats.delayed), (2, 2, 0));
    }

    #[test]
    fn refuses_bad_configs() {
        let bad = [
            FaultConfig {
                internal_error: 1.5,
                ..FaultConfig::default()
            },
            FaultConfig {
                reset_before: -0.1,
                ..FaultConfig::default()
            },
            FaultConfig {
                reset_before: f64::NAN,
                ..FaultConfig::default()
            },
            FaultConfig {
                reset_before: 0.6,
                reset_after: 0.6,
                ..FaultConfig::default()
            },
            FaultConfig {
                latency: Some(Duration::from_millis(5)..=Duration::from_millis(2)),
                ..FaultConfig::default()
            },
            FaultConfig {
                latency: Some(Duration::ZERO..=Duration::from_secs(6)),
                ..FaultConfig::default()
            },
        ];
        for config in bad {
            assert!(
                Faults::new(config.clone(), Vec::new()).is_err(),
                "{config:?} accepted"
            );
        }
        let sum_one = FaultConfig {
            request_limit_exceeded: 0.1,
            internal_error: 0.2,
            reset_after: 0.7,
            ..FaultConfig::default()
        };
        assert!(sum_one.validate().is_ok());
    }
}
