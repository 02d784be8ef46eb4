//! Endpoint failover: which of a call's candidate endpoints
//! ([`Endpoint::candidates`](super::endpoint::Endpoint::candidates)) each
//! attempt goes to, and the circuit breakers, one per endpoint URL and shared
//! by every clone of a client, that remember which cannot be reached.
//!
//! # The safety rule
//!
//! Failover decides only *where* the next attempt goes, never *whether*
//! there is one: that stays the retry policy's ([`Class::retryable`]), so
//! failover repeats nothing that retrying would not. After a connect failure
//! nothing was sent, and the next attempt (allowed always) may go to another
//! candidate; after a timeout, a lost connection or a 5xx the request may
//! have taken effect, so there is a next attempt, here or elsewhere, only
//! for a request that is safe to repeat (read-only, carrying a
//! `ClientToken`, or declared idempotent). Each attempt is signed afresh for
//! its own host; `X-TC-Region`, which says where the request is processed,
//! is the same whichever access point it enters by.
//!
//! # Wiring it into the attempt loop
//!
//! ```text
//! // Once per call:
//! let candidates = config.endpoint_for(service).candidates(service, region)?; // Err: as target's
//! let mut failed: Vec<usize> = Vec::new(); // candidates that failed in this call
//! loop {
//!     let choice = breakers.choose(&candidates, &failed, Instant::now());
//!     // sign for choice.target().host, POST to choice.target().url, read the answer
//!     match outcome {
//!         Ok(_) => choice.record(Health::Reachable, Instant::now()),
//!         Err(failure) => match Health::of_failure(&failure) {
//!             Some(health) => {
//!                 if health == Health::Unreachable {
//!                     failed.push(choice.index());
//!                 }
//!                 choice.record(health, Instant::now());
//!             }
//!             None => drop(choice), // nothing sent, or a local failure: nothing learnt
//!         },
//!     }
//!     // then the retry policy decides, exactly as without failover
//! }
//! ```
//!
//! A `Choice` dropped without `record` (a cancelled call, a request refused
//! before sending) frees its probe slot, so a cancelled probe never blocks
//! an endpoint's recovery.
//!
//! # Compared with the official Go SDK
//!
//! Its breaker moves only the requests made after it opens, lets every
//! request through once half-open, and keeps one unbounded map per
//! process; its backup is one host whatever the caller's region (a
//! configured backup, `ap-guangzhou` in older versions, or the same name
//! under another top-level domain). Here a call moves to the next candidate
//! within its own retries, without waiting for a breaker to open; the
//! candidates follow the caller's endpoint and region (none for a custom
//! endpoint unless asked for); a half-open endpoint gets one probe at a
//! time; and the breakers are per client, bounded.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

#[cfg(doc)]
use super::retry::Class;

use super::endpoint::{Candidates, Target};
use super::reply::Failure;
use super::TransportErrorKind;

/// How a client fails over between the candidate endpoints of a call, and
/// when it stops sending to an endpoint that cannot be reached. Set with
/// [`Config::with_failover`](super::Config::with_failover); default
/// [`FailoverConfig::standard`].
///
/// Each endpoint has candidates (see [`Endpoint`](super::Endpoint)): a
/// built-in one Tencent's other access points, a custom one only the
/// fallbacks given to it, so failover is on for built-in endpoints and, for
/// custom ones, only when they have fallbacks.
///
/// Two things move an attempt to the next candidate. Within a call, a
/// retry skips the candidates that already failed in that call. Across
/// calls, a circuit breaker per endpoint URL, shared by the client and its
/// clones, opens after [`failures_to_open`](Self::failures_to_open)
/// failures in a row (or that many making up at least
/// [`failure_percentage`](Self::failure_percentage) of the attempts in a
/// [`window`](Self::window)); calls then start at the next candidate. After
/// the [`cool_down`](Self::cool_down) one call at a time probes the
/// endpoint; [`probes_to_close`](Self::probes_to_close) answers in a row
/// close the breaker, a failure opens it for another cool-down. A failure
/// here is a connect failure, a timeout, a lost connection or a 5xx that is
/// not the service's answer (a timeout only when the attempt had its whole
/// timeout or at least a second: one that a call's tight deadline cut short
/// shows nothing of the endpoint); any answer of the service, an error code
/// included, shows the endpoint reachable. When every candidate is open the
/// call still goes out, to the one whose cool-down ends first: breakers
/// choose the way, they never refuse a call.
///
/// Failover never repeats a request that retrying would not: it chooses
/// where the next attempt goes, and the [`RetryConfig`](super::RetryConfig)
/// rules decide whether there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailoverConfig {
    /// `false`: every attempt goes to the endpoint's own URL, as if it had
    /// no fallbacks, and nothing is tracked.
    pub enabled: bool,
    /// Failures in a row that open a breaker (0 counts as 1).
    pub failures_to_open: u32,
    /// Also open once [`failures_to_open`](Self::failures_to_open) failures
    /// are at least this percentage of the attempts in the
    /// [`window`](Self::window), for an endpoint that fails often but not
    /// every time; above 100 turns this rule off.
    pub failure_percentage: u32,
    /// The period the failure percentage is measured over, from the first
    /// failure (at most a day).
    pub window: Duration,
    /// How long an open breaker sends no call to its endpoint before one
    /// probes it (at most a day).
    pub cool_down: Duration,
    /// Answers in a row from probes that close a half-open breaker (0
    /// counts as 1).
    pub probes_to_close: u32,
}

impl FailoverConfig {
    /// Default [`FailoverConfig::failures_to_open`].
    pub const DEFAULT_FAILURES_TO_OPEN: u32 = 5;
    /// Default [`FailoverConfig::failure_percentage`].
    pub const DEFAULT_FAILURE_PERCENTAGE: u32 = 75;
    /// Default [`FailoverConfig::window`].
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
    /// Default [`FailoverConfig::cool_down`].
    pub const DEFAULT_COOL_DOWN: Duration = Duration::from_secs(30);
    /// Default [`FailoverConfig::probes_to_close`]: more than one, so that a
    /// flapping endpoint is not trusted with every call after one answer.
    pub const DEFAULT_PROBES_TO_CLOSE: u32 = 3;

    /// Failover on: open after 5 failures in a row (or 5 making up 75 % of
    /// a minute's attempts), probe after 30 s, close after 3 answers.
    pub fn standard() -> Self {
        FailoverConfig {
            enabled: true,
            failures_to_open: Self::DEFAULT_FAILURES_TO_OPEN,
            failure_percentage: Self::DEFAULT_FAILURE_PERCENTAGE,
            window: Self::DEFAULT_WINDOW,
            cool_down: Self::DEFAULT_COOL_DOWN,
            probes_to_close: Self::DEFAULT_PROBES_TO_CLOSE,
        }
    }

    /// Failover off: every attempt goes to the endpoint's own URL.
    pub fn disabled() -> Self {
        Self::standard().with_enabled(false)
    }

    /// Sets [`FailoverConfig::enabled`].
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets [`FailoverConfig::failures_to_open`].
    pub fn with_failures_to_open(mut self, failures: u32) -> Self {
        self.failures_to_open = failures;
        self
    }

    /// Sets [`FailoverConfig::failure_percentage`].
    pub fn with_failure_percentage(mut self, percentage: u32) -> Self {
        self.failure_percentage = percentage;
        self
    }

    /// Sets [`FailoverConfig::window`].
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets [`FailoverConfig::cool_down`].
    pub fn with_cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down;
        self
    }

    /// Sets [`FailoverConfig::probes_to_close`].
    pub fn with_probes_to_close(mut self, probes: u32) -> Self {
        self.probes_to_close = probes;
        self
    }
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig::standard()
    }
}

/// Endpoints a client remembers at most. Only endpoints that failed are
/// remembered (one that never did is closed, which is what no entry means),
/// so this is far above what a program meets; beyond it the breaker that
/// holds least (closed, longest unused) is forgotten.
const MAX_TRACKED_ENDPOINTS: usize = 256;

/// Longest window and cool-down: keeps every deadline representable.
const MAX_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

/// What an attempt showed of the endpoint it went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Health {
    /// The service answered: a success or any error code, `InternalError`
    /// included (another access point leads to the same service).
    Reachable,
    /// No answer from the service: a connect failure, a timeout, a lost
    /// connection, or a 5xx or other body that is not an API envelope (a
    /// load balancer or proxy on the way answered instead).
    Unreachable,
}

impl Health {
    /// What a failed attempt showed of its endpoint; `None` when nothing:
    /// it was never sent, or failed on this side.
    pub(crate) fn of_failure(failure: &Failure) -> Option<Health> {
        match failure {
            Failure::Request(_) | Failure::Credentials(_) | Failure::Paced(_) => None,
            Failure::Service(_) => Some(Health::Reachable),
            Failure::Transport(e) => match e.kind() {
                TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Reset => {
                    Some(Health::Unreachable)
                }
                TransportErrorKind::Other => None,
            },
            Failure::Invalid { status, kind, .. } if kind.is_transient(*status) => Some(Health::Unreachable),
            // A redirect, an oversized or undecodable answer: something
            // answered, and another access point would meet the same.
            Failure::Invalid { .. } => Some(Health::Reachable),
        }
    }
}

/// The circuit breakers of one client, one per endpoint URL, shared by its
/// clones (an `Arc` inside).
#[derive(Clone)]
pub(crate) struct Breakers {
    shared: Arc<Shared>,
}

struct Shared {
    settings: Settings,
    capacity: usize,
    table: Mutex<Table>,
}

struct Table {
    breakers: HashMap<String, Breaker>,
    /// The last generation given out: each opening or closing of any
    /// breaker takes the next, so none is ever reused, even by a breaker
    /// forgotten and made again.
    last_generation: u64,
}

/// The generation of a breaker's first closed period, before it ever
/// opened (and of a choice made when the endpoint had no breaker).
const FIRST_GENERATION: u64 = 0;

/// A [`FailoverConfig`] with its values brought into range.
#[derive(Clone, Copy, Debug)]
struct Settings {
    enabled: bool,
    failures_to_open: u32,
    failure_percentage: u32,
    window: Duration,
    cool_down: Duration,
    probes_to_close: u32,
}

impl From<&FailoverConfig> for Settings {
    fn from(config: &FailoverConfig) -> Self {
        Settings {
            enabled: config.enabled,
            failures_to_open: config.failures_to_open.max(1),
            failure_percentage: config.failure_percentage,
            window: config.window.min(MAX_PERIOD),
            cool_down: config.cool_down.min(MAX_PERIOD),
            probes_to_close: config.probes_to_close.max(1),
        }
    }
}

struct Breaker {
    state: State,
    /// Changes whenever the breaker opens or closes, so that an attempt's
    /// result counts only against the state it was chosen in (a timeout of
    /// a request sent before an outage must not count after recovery).
    /// Not when a cool-down ends: an answer from an open endpoint (every
    /// candidate was) counts in the half-open state that follows.
    generation: u64,
    /// For forgetting the least used when the table is full.
    last_used: Instant,
}

enum State {
    Closed {
        consecutive_failures: u32,
        /// Since the first failure not yet forgotten.
        window: Option<Window>,
    },
    /// No call is chosen to go here before `until` unless every candidate is open.
    Open { until: Instant },
    /// The cool-down is over: one probe at a time.
    HalfOpen { probe_in_flight: bool, successes: u32 },
}

struct Window {
    started: Instant,
    attempts: u32,
    failures: u32,
}

impl State {
    fn closed() -> Self {
        State::Closed {
            consecutive_failures: 0,
            window: None,
        }
    }

    /// What is forgotten first when the table is full: closed breakers hold
    /// a few failures at most, open ones the knowledge that matters.
    fn keep_rank(&self) -> u8 {
        match self {
            State::Closed { .. } => 0,
            State::HalfOpen { .. } => 1,
            State::Open { .. } => 2,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            State::Closed { .. } => "closed",
            State::Open { .. } => "open",
            State::HalfOpen { .. } => "half-open",
        }
    }
}

impl Breaker {
    fn new(now: Instant) -> Self {
        Breaker {
            state: State::closed(),
            generation: FIRST_GENERATION,
            last_used: now,
        }
    }

    /// An open breaker whose cool-down is over is half-open (computed on
    /// access: there is no timer).
    fn end_cool_down(&mut self, now: Instant) {
        if let State::Open { until } = self.state {
            if until <= now {
                self.state = State::HalfOpen {
                    probe_in_flight: false,
                    successes: 0,
                };
            }
        }
    }

    fn open(&mut self, now: Instant, settings: &Settings, generation: u64) {
        self.state = State::Open {
            until: later(now, settings.cool_down),
        };
        self.generation = generation;
    }

    fn close(&mut self, generation: u64) {
        self.state = State::closed();
        self.generation = generation;
    }

    /// Applies an attempt's result (of this breaker's generation);
    /// `next_generation` gives the generation of a new state.
    fn learn(
        &mut self,
        health: Health,
        probe: bool,
        now: Instant,
        settings: &Settings,
        next_generation: impl FnOnce() -> u64,
    ) {
        self.end_cool_down(now);
        match (&mut self.state, health) {
            (
                State::Closed {
                    consecutive_failures,
                    window,
                },
                Health::Reachable,
            ) => {
                *consecutive_failures = 0;
                if let Some(w) = current_window(window, now, settings) {
                    w.attempts = w.attempts.saturating_add(1);
                }
            }
            (
                State::Closed {
                    consecutive_failures,
                    window,
                },
                Health::Unreachable,
            ) => {
                *consecutive_failures = consecutive_failures.saturating_add(1);
                let w = match current_window(window, now, settings) {
                    Some(w) => w,
                    None => window.insert(Window {
                        started: now,
                        attempts: 0,
                        failures: 0,
                    }),
                };
                w.attempts = w.attempts.saturating_add(1);
                w.failures = w.failures.saturating_add(1);
                let too_often = w.failures >= settings.failures_to_open
                    && u64::from(w.failures) * 100
                        >= u64::from(settings.failure_percentage) * u64::from(w.attempts);
                if *consecutive_failures >= settings.failures_to_open || too_often {
                    self.open(now, settings, next_generation());
                }
            }
            // An attempt sent while every candidate was open: an answer is
            // as good as a probe's.
            (State::Open { .. }, Health::Reachable) => {
                self.state = State::HalfOpen {
                    probe_in_flight: false,
                    successes: 1,
                };
                if settings.probes_to_close <= 1 {
                    self.close(next_generation());
                }
            }
            (State::Open { until }, Health::Unreachable) => *until = later(now, settings.cool_down),
            (
                State::HalfOpen {
                    probe_in_flight,
                    successes,
                },
                Health::Reachable,
            ) => {
                if probe {
                    *probe_in_flight = false;
                }
                *successes = successes.saturating_add(1);
                if *successes >= settings.probes_to_close {
                    self.close(next_generation());
                }
            }
            (State::HalfOpen { .. }, Health::Unreachable) => self.open(now, settings, next_generation()),
        }
    }
}

/// The window a result falls in, `None` once it has expired (forgotten).
fn current_window<'w>(
    window: &'w mut Option<Window>,
    now: Instant,
    settings: &Settings,
) -> Option<&'w mut Window> {
    if window
        .as_ref()
        .is_some_and(|w| now.saturating_duration_since(w.started) >= settings.window)
    {
        *window = None;
    }
    window.as_mut()
}

/// `now + period`; `period` is at most [`MAX_PERIOD`], so this only falls
/// back to `now` for an `Instant` near the end of time.
fn later(now: Instant, period: Duration) -> Instant {
    now.checked_add(period).unwrap_or(now)
}

/// Where an attempt goes. Keep it until the attempt's outcome is known,
/// then [`record`](Choice::record) it; dropping it instead frees its probe
/// slot and teaches nothing.
pub(crate) struct Choice {
    index: usize,
    target: Arc<Target>,
    probe: bool,
    /// `None` when nothing is tracked: failover off, or one candidate.
    tracking: Option<Tracking>,
}

struct Tracking {
    breakers: Breakers,
    generation: u64,
    recorded: bool,
}

impl Choice {
    /// Its position in the call's candidates: what to add to the call's
    /// failed list when the attempt finds the endpoint unreachable.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// Where to send the attempt (and the host to sign).
    pub(crate) fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// Whether this attempt probes an endpoint whose cool-down is over.
    pub(crate) fn is_probe(&self) -> bool {
        self.probe
    }

    /// What the attempt showed of its endpoint, at `now`.
    pub(crate) fn record(mut self, health: Health, now: Instant) {
        if let Some(tracking) = &mut self.tracking {
            tracking.recorded = true;
            tracking.breakers.learn(
                self.target.url.as_str(),
                tracking.generation,
                self.probe,
                health,
                now,
            );
        }
    }
}

impl Drop for Choice {
    fn drop(&mut self) {
        if let Some(tracking) = &self.tracking {
            if self.probe && !tracking.recorded {
                tracking
                    .breakers
                    .release_probe(self.target.url.as_str(), tracking.generation);
            }
        }
    }
}

impl fmt::Debug for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Choice")
            .field("index", &self.index)
            .field("url", &self.target.url.as_str())
            .field("probe", &self.probe)
            .finish()
    }
}

/// What [`Breakers::choose`] decided, before the lock is released.
struct Picked {
    index: usize,
    probe: bool,
    generation: u64,
}

impl Breakers {
    pub(crate) fn new(config: &FailoverConfig) -> Self {
        Self::with_capacity(config, MAX_TRACKED_ENDPOINTS)
    }

    fn with_capacity(config: &FailoverConfig, capacity: usize) -> Self {
        Breakers {
            shared: Arc::new(Shared {
                settings: Settings::from(config),
                capacity: capacity.max(1),
                table: Mutex::new(Table {
                    breakers: HashMap::new(),
                    last_generation: FIRST_GENERATION,
                }),
            }),
        }
    }

    /// Where the next attempt of a call goes, at `now`: the first candidate
    /// in order whose breaker is closed, or half-open with no probe out (the
    /// attempt is then its probe), skipping those in `failed_in_this_call`
    /// unless that is all of them; when none qualifies, the one whose
    /// cool-down ends first (never a refusal). With failover off, or a
    /// single candidate, always the first.
    pub(crate) fn choose(
        &self,
        candidates: &Candidates,
        failed_in_this_call: &[usize],
        now: Instant,
    ) -> Choice {
        let primary = || Choice {
            index: 0,
            target: candidates.primary().clone(),
            probe: false,
            tracking: None,
        };
        if !self.shared.settings.enabled || candidates.len() == 1 {
            return primary();
        }
        let every_one_failed = (0..candidates.len()).all(|i| failed_in_this_call.contains(&i));
        let eligible = |i: usize| every_one_failed || !failed_in_this_call.contains(&i);
        let picked = pick(&mut self.lock().breakers, candidates, eligible, now);
        // Built after the lock is released: dropping a `Choice` takes it.
        match candidates.get(picked.index) {
            Some(target) => Choice {
                index: picked.index,
                target: target.clone(),
                probe: picked.probe,
                tracking: Some(Tracking {
                    breakers: self.clone(),
                    generation: picked.generation,
                    recorded: false,
                }),
            },
            None => primary(),
        }
    }

    /// Applies an attempt's result to the breaker of `url`, unless the
    /// breaker has opened or closed since the attempt was chosen.
    fn learn(&self, url: &str, generation: u64, probe: bool, health: Health, now: Instant) {
        let settings = &self.shared.settings;
        let change = {
            let mut guard = self.lock();
            let table = &mut *guard;
            if !table.breakers.contains_key(url) {
                // No entry is a closed breaker with nothing to forget; a
                // choice of a later generation was of a breaker since
                // forgotten, which this is not.
                if health == Health::Reachable || generation != FIRST_GENERATION {
                    return;
                }
                if table.breakers.len() >= self.shared.capacity {
                    forget_one(&mut table.breakers);
                }
                table.breakers.insert(url.to_owned(), Breaker::new(now));
            }
            let Some(breaker) = table.breakers.get_mut(url) else {
                return;
            };
            breaker.last_used = now;
            if breaker.generation != generation {
                return;
            }
            let before = breaker.state.name();
            let last_generation = &mut table.last_generation;
            breaker.learn(health, probe, now, settings, || {
                // Wrapping would take 2^64 transitions; skipping the first
                // generation keeps it to first periods all the same.
                *last_generation = last_generation.wrapping_add(1).max(1);
                *last_generation
            });
            let after = breaker.state.name();
            (before != after).then_some((before, after))
        };
        if let Some((from, to)) = change {
            tracing::debug!(url, from, to, ?health, "endpoint circuit breaker changed state");
        }
    }

    /// A probe ended without a result: another call may probe.
    fn release_probe(&self, url: &str, generation: u64) {
        let mut table = self.lock();
        if let Some(breaker) = table.breakers.get_mut(url) {
            if breaker.generation == generation {
                if let State::HalfOpen { probe_in_flight, .. } = &mut breaker.state {
                    *probe_in_flight = false;
                }
            }
        }
    }

    /// The table; nothing panics while holding it, but a poisoned lock
    /// still holds a consistent table.
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.shared.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn pick(
    table: &mut HashMap<String, Breaker>,
    candidates: &Candidates,
    eligible: impl Fn(usize) -> bool,
    now: Instant,
) -> Picked {
    // The open (or busy half-open) candidate usable soonest, for when no
    // candidate is closed or free to probe.
    let mut soonest: Option<(Instant, Picked)> = None;
    for (index, target) in candidates.iter().enumerate() {
        if !eligible(index) {
            continue;
        }
        let Some(breaker) = table.get_mut(target.url.as_str()) else {
            return Picked {
                index,
                probe: false,
                generation: FIRST_GENERATION,
            };
        };
        breaker.last_used = now;
        breaker.end_cool_down(now);
        let generation = breaker.generation;
        let usable_from = match &mut breaker.state {
            State::Closed { .. } => {
                return Picked {
                    index,
                    probe: false,
                    generation,
                }
            }
            State::HalfOpen { probe_in_flight, .. } if !*probe_in_flight => {
                *probe_in_flight = true;
                return Picked {
                    index,
                    probe: true,
                    generation,
                };
            }
            State::HalfOpen { .. } => now,
            State::Open { until } => *until,
        };
        if soonest.as_ref().is_none_or(|(at, _)| usable_from < *at) {
            let picked = Picked {
                index,
                probe: false,
                generation,
            };
            soonest = Some((usable_from, picked));
        }
    }
    soonest.map_or(
        Picked {
            index: 0,
            probe: false,
            generation: FIRST_GENERATION,
        },
        |(_, picked)| picked,
    )
}

/// Makes room for one more breaker: forgets the one that holds least,
/// closed before half-open before open, the longest unused first.
fn forget_one(table: &mut HashMap<String, Breaker>) {
    let victim = table
        .iter()
        .min_by_key(|(_, breaker)| (breaker.state.keep_rank(), breaker.last_used))
        .map(|(url, _)| url.clone());
    if let Some(url) = victim {
        table.remove(&url);
    }
}

impl fmt::Debug for Breakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breakers")
            .field("settings", &self.shared.settings)
            .field("tracked", &self.lock().breakers.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;
    use crate::endpoint::Endpoint;
    use crate::{CredentialsError, InvalidResponseKind, ServiceError, TransportError};

    use Health::{Reachable, Unreachable};

    /// `cvm` in `ap-guangzhou` through the global endpoint: nearest (0),
    /// regional (1), international (2).
    fn chain() -> Candidates {
        Endpoint::global()
            .candidates("cvm", Some("ap-guangzhou"))
            .unwrap()
    }

    fn secs(base: Instant, secs: u64) -> Instant {
        base + Duration::from_secs(secs)
    }

    /// Sends one attempt of a fresh call, which ends with `health`; the index it went to.
    fn attempt(breakers: &Breakers, candidates: &Candidates, health: Health, now: Instant) -> usize {
        let choice = breakers.choose(candidates, &[], now);
        let index = choice.index();
        choice.record(health, now);
        index
    }

    fn first_choice(breakers: &Breakers, candidates: &Candidates, now: Instant) -> (usize, bool) {
        let choice = breakers.choose(candidates, &[], now);
        (choice.index(), choice.is_probe())
    }

    /// Opens the primary's breaker at `now` with the default five failures in a row.
    fn open_primary(breakers: &Breakers, candidates: &Candidates, now: Instant) {
        for _ in 0..FailoverConfig::DEFAULT_FAILURES_TO_OPEN {
            assert_eq!(attempt(breakers, candidates, Unreachable, now), 0);
        }
        assert_eq!(first_choice(breakers, candidates, now), (1, false));
    }

    #[test]
    fn failures_in_a_row_open_the_breaker_and_an_answer_restarts_the_count() {
        // Only the consecutive rule.
        let breakers = Breakers::new(&FailoverConfig::standard().with_failure_percentage(101));
        let c = chain();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(attempt(&breakers, &c, Unreachable, t0), 0);
        }
        assert_eq!(attempt(&breakers, &c, Reachable, t0), 0);
        for _ in 0..4 {
            assert_eq!(attempt(&breakers, &c, Unreachable, t0), 0);
        }
        assert_eq!(first_choice(&breakers, &c, t0), (0, false));
        assert_eq!(attempt(&breakers, &c, Unreachable, t0), 0);
        // Open: calls start at the region's own access point.
        assert_eq!(first_choice(&breakers, &c, t0), (1, false));
        assert_eq!(first_choice(&breakers, &c, secs(t0, 29)), (1, false));
    }

    #[test]
    fn frequent_failures_in_the_window_open_the_breaker_too() {
        let breakers = Breakers::new(&FailoverConfig::standard().with_failure_percentage(50));
        let c = chain();
        let t0 = Instant::now();
        // 4 failures of 8: too few failures to open.
        for health in [Unreachable, Reachable].repeat(4) {
            assert_eq!(attempt(&breakers, &c, health, t0), 0);
        }
        // After the window the count starts again: 1 of 1.
        let t1 = secs(t0, 61);
        assert_eq!(attempt(&breakers, &c, Unreachable, t1), 0);
        for health in [Reachable, Unreachable].repeat(3) {
            assert_eq!(attempt(&breakers, &c, health, t1), 0);
        }
        // 4 failures of 7, never two in a row.
        assert_eq!(first_choice(&breakers, &c, t1), (0, false));
        assert_eq!(attempt(&breakers, &c, Reachable, t1), 0);
        // 5 of 9: 55 % of the attempts.
        assert_eq!(attempt(&breakers, &c, Unreachable, t1), 0);
        assert_eq!(first_choice(&breakers, &c, t1), (1, false));

        // The default: 75 %.
        let breakers = Breakers::new(&FailoverConfig::standard());
        for health in [
            Unreachable,
            Unreachable,
            Unreachable,
            Reachable,
            Unreachable,
            Reachable,
        ] {
            assert_eq!(attempt(&breakers, &c, health, t0), 0);
        }
        // 5 of 7: 71 %.
        assert_eq!(attempt(&breakers, &c, Unreachable, t0), 0);
        assert_eq!(first_choice(&breakers, &c, t0), (0, false));
        // 6 of 8.
        assert_eq!(attempt(&breakers, &c, Unreachable, t0), 0);
        assert_eq!(first_choice(&breakers, &c, t0), (1, false));
    }

    #[test]
    fn after_the_cool_down_one_probe_at_a_time_until_enough_answers_close_the_breaker() {
        let breakers = Breakers::new(&FailoverConfig::standard());
        let c = chain();
        let t0 = Instant::now();
        open_primary(&breakers, &c, t0);
        let t1 = secs(t0, 30);
        for answered in 1..=FailoverConfig::DEFAULT_PROBES_TO_CLOSE {
            let probe = breakers.choose(&c, &[], t1);
            assert_eq!((probe.index(), probe.is_probe()), (0, true));
            // Other calls meanwhile go on to the next candidate.
            assert_eq!(first_choice(&breakers, &c, t1), (1, false));
            assert_eq!(first_choice(&breakers, &c, t1), (1, false));
            probe.record(Reachable, t1);
            if answered < FailoverConfig::DEFAULT_PROBES_TO_CLOSE {
                assert_eq!(first_choice(&breakers, &c, t1), (0, true), "probe {answered}");
            }
        }
        // Closed: every call again, none a probe.
        let held: Vec<_> = (0..4).map(|_| breakers.choose(&c, &[], t1)).collect();
        assert!(held.iter().all(|h| h.index() == 0 && !h.is_probe()), "{held:?}");
    }

    #[test]
    fn a_failed_probe_opens_the_breaker_for_another_cool_down() {
        let breakers = Breakers::new(&FailoverConfig::standard());
        let c = chain();
        let t0 = Instant::now();
        open_primary(&breakers, &c, t0);
        let probe = breakers.choose(&c, &[], secs(t0, 30));
        assert!(probe.is_probe());
        probe.record(Unreachable, secs(t0, 31));
        assert_eq!(first_choice(&breakers, &c, secs(t0, 60)), (1, false));
        assert_eq!(first_choice(&breakers, &c, secs(t0, 61)), (0, true));
    }

    #[test]
    fn a_probe_dropped_without_a_result_lets_another_call_probe() {
        let breakers = Breakers::new(&FailoverConfig::standard());
        let c = chain();
        let t0 = Instant::now();
        open_primary(&breakers, &c, t0);
        let t1 = secs(t0, 30);
        let probe = breakers.choose(&c, &[], t1);
        assert!(probe.is_probe());
        assert_eq!(first_choice(&breakers, &c, t1), (1, false));
        drop(probe);
        assert_eq!(first_choice(&breakers, &c, t1), (0, true));
    }

    #[test]
    fn results_of_attempts_chosen_before_the_breaker_opened_or_closed_are_ignored() {
        let breakers = Breakers::new(&FailoverConfig::standard().with_probes_to_close(1));
        let c = chain();
        let t0 = Instant::now();
        let slow_failure = breakers.choose(&c, &[], t0);
        let slow_success = breakers.choose(&c, &[], t0);
        open_primary(&breakers, &c, t0);
        let t1 = secs(t0, 30);
        let probe = breakers.choose(&c, &[], t1);
        assert!(probe.is_probe());
        // Sent before the outage: says nothing of the endpoint now.
        slow_success.record(Reachable, t1);
        assert_eq!(first_choice(&breakers, &c, t1), (1, false));
        probe.record(Reachable, t1);
        assert_eq!(first_choice(&breakers, &c, t1), (0, false));
        // After recovery, a failure of before does not count.
        slow_failure.record(Unreachable, t1);
        for _ in 0..4 {
            assert_eq!(attempt(&breakers, &c, Unreachable, t1), 0);
        }
        assert_eq!(first_choice(&breakers, &c, t1), (0, false));
    }

    #[test]
    fn a_call_skips_the_candidates_that_failed_in_it_while_others_remain() {
        let breakers = Breakers::new(&FailoverConfig::standard());
        let c = chain();
        let t0 = Instant::now();
        let index = |failed: &[usize]| breakers.choose(&c, failed, t0).index();
        assert_eq!(index(&[]), 0);
        assert_eq!(index(&[0]), 1);
        assert_eq!(index(&[0, 1]), 2);
        assert_eq!(index(&[1]), 0);
        assert_eq!(index(&[0, 0, 2]), 1);
        // Every one failed: the breakers' order again.
        assert_eq!(index(&[2, 1, 0]), 0);
        // Indices that are no candidate's are ignored.
        assert_eq!(index(&[7, usize::MAX]), 0);

        // One call survives a dead primary within its retries, long before
        // the breaker opens.
        let call = |failed: &mut Vec<usize>| {
            let choice = breakers.choose(&c, failed, t0);
            let index = choice.index();
            let health = if index == 0 { Unreachable } else { Reachable };
            if health == Unreachable {
                failed.push(index);
            }
            choice.record(health, t0);
            index
        };
        for _ in 0..FailoverConfig::DEFAULT_FAILURES_TO_OPEN {
            let mut failed = Vec::new();
            assert_eq!([call(&mut failed), call(&mut failed)], [0, 1]);
        }
        // Those calls found the primary dead often enough to open its
        // breaker: calls now start at the next candidate...
        assert_eq!(first_choice(&breakers, &c, t0), (1, false));
        // ... and one whose retry skips that one passes the open primary over.
        assert_eq!(breakers.choose(&c, &[1], t0).index(), 2);
    }

    #[test]
    fn when_every_candidate_is_open_the_call_goes_where_the_cool_down_ends_first() {
        let breakers = Breakers::new(&FailoverConfig::standard().with_probes_to_close(2));
        let c = chain();
        let t0 = Instant::now();
        let fail_five = |failed: &[usize], now: Instant| {
            for _ in 0..5 {
                let choice = breakers.choose(&c, failed, now);
                choice.record(Unreachable, now);
            }
        };
        fail_five(&[], t0); // 0 open until t0 + 30
        fail_five(&[0, 2], secs(t0, 2)); // 1 open until t0 + 32
        fail_five(&[0, 1], secs(t0, 1)); // 2 open until t0 + 31
        let t1 = secs(t0, 10);
        assert_eq!(first_choice(&breakers, &c, t1), (0, false));
        assert_eq!(breakers.choose(&c, &[0], t1).index(), 2);
        assert_eq!(breakers.choose(&c, &[0, 2], t1).index(), 1);
        // An answer from an open endpoint is as good as a probe's: half-open
        // with one answer of the two needed, so the next call probes it...
        breakers.choose(&c, &[0], t1).record(Reachable, t1);
        let probe = breakers.choose(&c, &[], t1);
        assert_eq!((probe.index(), probe.is_probe()), (2, true));
        // ... and its answer closes it.
        probe.record(Reachable, t1);
        assert_eq!(first_choice(&breakers, &c, t1), (2, false));
        // A failure of an open endpoint starts its cool-down again.
        let forced = breakers.choose(&c, &[2], t1);
        assert_eq!((forced.index(), forced.is_probe()), (0, false));
        forced.record(Unreachable, t1); // 0 open until t0 + 40
        assert_eq!(breakers.choose(&c, &[2], secs(t0, 31)).index(), 1);
        let probe = breakers.choose(&c, &[2], secs(t0, 40));
        assert_eq!((probe.index(), probe.is_probe()), (0, true));
    }

    #[test]
    fn with_failover_off_or_a_single_candidate_every_attempt_goes_to_the_first() {
        let t0 = Instant::now();
        let c = chain();
        let off = Breakers::new(&FailoverConfig::disabled());
        for _ in 0..20 {
            assert_eq!(attempt(&off, &c, Unreachable, t0), 0);
        }
        assert_eq!(off.choose(&c, &[0, 1], t0).index(), 0);
        assert_eq!(off.lock().breakers.len(), 0);

        let on = Breakers::new(&FailoverConfig::standard());
        let single = Endpoint::custom("http://127.0.0.1:9000")
            .unwrap()
            .candidates("cvm", None)
            .unwrap();
        for _ in 0..20 {
            assert_eq!(attempt(&on, &single, Unreachable, t0), 0);
        }
        assert_eq!(on.choose(&single, &[0], t0).target().host, "127.0.0.1:9000");
        assert_eq!(on.lock().breakers.len(), 0);
    }

    #[test]
    fn any_answer_of_the_service_shows_the_endpoint_reachable() {
        let transport =
            |kind| Failure::Transport(TransportError::new(kind, Box::new(std::io::Error::other("test"))));
        let invalid = |status, kind| Failure::Invalid {
            status,
            body: String::new(),
            reason: String::new(),
            kind,
        };
        let cases = [
            (
                Failure::Service(ServiceError::new("InternalError", "m", "r")),
                Some(Reachable),
            ),
            (
                Failure::Service(ServiceError::new("AuthFailure", "m", "r")),
                Some(Reachable),
            ),
            (transport(TransportErrorKind::Connect), Some(Unreachable)),
            (transport(TransportErrorKind::Timeout), Some(Unreachable)),
            (transport(TransportErrorKind::Reset), Some(Unreachable)),
            (transport(TransportErrorKind::Other), None),
            (
                invalid(502, InvalidResponseKind::UnexpectedStatus),
                Some(Unreachable),
            ),
            (
                invalid(200, InvalidResponseKind::NotAnEnvelope),
                Some(Unreachable),
            ),
            (
                invalid(404, InvalidResponseKind::UnexpectedStatus),
                Some(Reachable),
            ),
            (invalid(302, InvalidResponseKind::Redirect), Some(Reachable)),
            (invalid(200, InvalidResponseKind::TooLarge), Some(Reachable)),
            (Failure::request("service", "bad".to_owned()), None),
            (Failure::Credentials(CredentialsError::new("none")), None),
        ];
        for (failure, expected) in cases {
            assert_eq!(Health::of_failure(&failure), expected, "{}", failure.summary());
        }
    }

    #[test]
    fn clones_share_the_breakers_and_concurrent_calls_send_one_probe() {
        let breakers = Breakers::new(&FailoverConfig::standard());
        let c = chain();
        let t0 = Instant::now();
        // Failures recorded on many threads, through clones, add up.
        std::thread::scope(|s| {
            for _ in 0..5 {
                let clone = breakers.clone();
                let c = &c;
                s.spawn(move || clone.choose(c, &[], t0).record(Unreachable, t0));
            }
        });
        assert_eq!(first_choice(&breakers, &c, t0), (1, false));

        // After the cool-down, many calls at once: one probes, the others
        // go on; each keeps its choice until all have chosen.
        let t1 = secs(t0, 30);
        let threads = 16;
        let barrier = Barrier::new(threads);
        let chosen: Vec<(usize, bool)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let clone = breakers.clone();
                    let (c, barrier) = (&c, &barrier);
                    s.spawn(move || {
                        let choice = clone.choose(c, &[], t1);
                        barrier.wait();
                        (choice.index(), choice.is_probe())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            chosen.iter().filter(|&&(_, probe)| probe).count(),
            1,
            "{chosen:?}"
        );
        assert!(chosen.contains(&(0, true)), "{chosen:?}");
        assert_eq!(chosen.iter().filter(|&&c| c == (1, false)).count(), threads - 1);
    }

    #[test]
    fn the_table_is_bounded_and_forgets_closed_breakers_first() {
        let breakers = Breakers::with_capacity(&FailoverConfig::standard(), 4);
        let t0 = Instant::now();
        let pair = |port: u16| {
            Endpoint::custom(&format!("http://127.0.0.1:{port}"))
                .unwrap()
                .with_fallback("http://127.0.0.1:1")
                .unwrap()
                .candidates("cvm", None)
                .unwrap()
        };
        let dead = pair(2);
        open_primary(&breakers, &dead, t0);
        // Hundreds of endpoints that failed once each.
        for port in 100..400 {
            assert_eq!(attempt(&breakers, &pair(port), Unreachable, secs(t0, 1)), 0);
        }
        assert_eq!(breakers.lock().breakers.len(), 4);
        // The open breaker is remembered.
        assert_eq!(first_choice(&breakers, &dead, secs(t0, 2)), (1, false));

        // Full of open breakers: the longest unused goes.
        let t1 = secs(t0, 3);
        for port in 10..14 {
            open_primary(&breakers, &pair(port), t1);
        }
        assert_eq!(breakers.lock().breakers.len(), 4);
        assert_eq!(first_choice(&breakers, &dead, t1), (0, false));
        assert_eq!(first_choice(&breakers, &pair(13), t1), (1, false));
    }

    #[test]
    fn settings_out_of_range_are_brought_into_it() {
        let config = FailoverConfig::standard()
            .with_failures_to_open(0)
            .with_probes_to_close(0)
            .with_cool_down(Duration::MAX)
            .with_window(Duration::MAX);
        let breakers = Breakers::new(&config);
        let c = chain();
        let t0 = Instant::now();
        assert_eq!(attempt(&breakers, &c, Unreachable, t0), 0);
        assert_eq!(first_choice(&breakers, &c, t0), (1, false));
        let day = secs(t0, 24 * 60 * 60);
        assert_eq!(
            first_choice(&breakers, &c, day - Duration::from_secs(1)),
            (1, false)
        );
        assert_eq!(attempt(&breakers, &c, Reachable, day), 0);
        assert_eq!(first_choice(&breakers, &c, day), (0, false));
    }

    #[test]
    fn no_sequence_of_choices_results_and_times_panics_or_breaks_the_probe_rule() {
        let mut rng = fastrand::Rng::with_seed(7);
        // Room for two of the three endpoints: breakers are forgotten too.
        let breakers = Breakers::with_capacity(&FailoverConfig::standard().with_failures_to_open(2), 2);
        let c = Endpoint::custom("http://127.0.0.1:9000")
            .unwrap()
            .with_fallback("http://127.0.0.1:9001")
            .unwrap()
            .with_fallback("http://127.0.0.1:9002")
            .unwrap()
            .candidates("cvm", None)
            .unwrap();
        let t0 = Instant::now();
        let mut held: Vec<Choice> = Vec::new();
        for _ in 0..20_000 {
            // Time may even go backwards (choices from other threads).
            let now = secs(t0, rng.u64(0..600));
            match rng.u8(0..4) {
                0 | 1 => {
                    let failed: Vec<usize> = (0..rng.usize(0..4)).map(|_| rng.usize(0..5)).collect();
                    held.push(breakers.choose(&c, &failed, now));
                }
                2 if !held.is_empty() => {
                    let choice = held.swap_remove(rng.usize(0..held.len()));
                    let health = if rng.bool() { Reachable } else { Unreachable };
                    choice.record(health, now);
                }
                _ if !held.is_empty() => drop(held.swap_remove(rng.usize(0..held.len()))),
                _ => {}
            }
            // A half-open breaker's probe slot is taken exactly when one
            // of its generation's probes is out; no other breaker has one out.
            let table = breakers.lock();
            assert!(table.breakers.len() <= 2);
            for target in c.iter() {
                let url = target.url.as_str();
                let out = |generation: u64| {
                    held.iter()
                        .filter(|h| h.is_probe() && h.target().url.as_str() == url)
                        .filter(|h| h.tracking.as_ref().is_some_and(|t| t.generation == generation))
                        .count()
                };
                match table.breakers.get(url) {
                    Some(Breaker {
                        state: State::HalfOpen { probe_in_flight, .. },
                        generation,
                        ..
                    }) => assert_eq!(out(*generation), usize::from(*probe_in_flight)),
                    Some(breaker) => assert_eq!(out(breaker.generation), 0),
                    None => {}
                }
            }
        }
    }
}
