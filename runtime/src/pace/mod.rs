//! Client-side rate limiting per action: calls wait their turn instead of
//! being throttled.
//!
//! One [`Pacer`] per runtime client (its clones and every service client
//! made from it share it) keeps a state per (service, action, region):
//!
//! - **Turns** by virtual scheduling (GCRA): the theoretical arrival time
//!   of the next request under a mutex, and a burst tolerance. The first
//!   waiter of a key sleeps until its turn; the others queue behind it on
//!   the key's FIFO turnstile (a tokio mutex: fair, no polling, no task
//!   per waiter, a dropped waiter leaves the queue). Each turn is computed
//!   when it comes, from the pace of that moment, so a decrease applies to
//!   every queued call at once, not only to calls made after it.
//! - **Known limits** (the action's documented one, or the configuration's)
//!   are paced with a margin; see [`KNOWN_LIMIT_PERCENT`].
//! - **Learning** (adaptive mode): `learn.rs`.
//! - **Bounded memory**: `crate::keyed`.
//!
//! Why not the `governor` crate, GCRA too: its asynchronous wait sleeps
//! until the earliest possible moment and tries again, with jitter, so
//! waiters race rather than queue; its quota is fixed when the limiter is
//! built, and learning changes the rate all the time; and its keyed
//! limiters look up owned keys. What is needed of GCRA here is a few lines.

mod config;
mod learn;

pub use self::config::{RateLimit, RateLimitConfig, RateLimitMode};

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use self::learn::Learner;
use crate::keyed::{Evictable, Keys, Names};

/// Percentage of a known limit that is paced at.
///
/// The server counts arrivals, the client spaces sends; latency jitter
/// moves each request by up to J either way. Paced at 90 % of the limit
/// L, requests go 1/(0.9 L) apart, so any window of 1 + 2J seconds holds
/// at most L of them while J < 55 ms, whatever L: a server counting per
/// second (fixed or sliding windows) stays satisfied. A token-bucket server
/// (burst L) refills 1/0.9 = 1.11 tokens per request and so stays full,
/// absorbing jitter of up to a second. Total time is 1/0.9 = 1.11× the
/// ideal `calls / L`.
const KNOWN_LIMIT_PERCENT: u32 = 90;

/// Keys tracked at most: far above the actions and regions one program
/// calls, and a few hundred bytes each.
const MAX_KEYS: usize = 4096;
/// A key unused this long is forgotten (its learnt pace with it).
const IDLE_AFTER: Duration = Duration::from_secs(600);
/// The pace left unused this long lets a server bucket of one second's
/// requests refill: learning then no longer trusts its count since the
/// last throttle (see `learn.rs`).
const SLACK: Duration = Duration::from_millis(500);

/// How late a waiter may wake and still have its turn counted as on time:
/// tokio's timers fire on the millisecond after their deadline, and then the
/// task must be scheduled. Counted from the wake-up, each turn would push
/// the next up to a millisecond later: 9 % slower at 90 turns a second.
const WAKE_LATENESS: Duration = Duration::from_millis(2);

/// Which quota a request counts against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PaceKey<'a> {
    pub(crate) service: &'a str,
    pub(crate) action: &'a str,
    pub(crate) region: Option<&'a str>,
}

impl<'a> PaceKey<'a> {
    fn names(&self) -> Names<'a> {
        (self.service, self.action, self.region.unwrap_or(""))
    }
}

/// The paces of one runtime client, shared by its clones.
pub(crate) struct Pacer {
    config: RateLimitConfig,
    keys: Mutex<Keys<KeyState>>,
}

/// A turn given: hand it back to [`Pacer::on_accepted`] or
/// [`Pacer::on_throttled`] with the request's answer.
#[derive(Clone, Debug)]
pub(crate) struct Permit {
    /// `None`: the call is not paced and not counted.
    pacing: Option<Pacing>,
    /// The key's decreases so far when the turn was given.
    generation: u32,
    waited: Duration,
}

impl Permit {
    fn unpaced() -> Self {
        Permit {
            pacing: None,
            generation: 0,
            waited: Duration::ZERO,
        }
    }

    /// How long the call waited for its turn.
    pub(crate) fn waited(&self) -> Duration {
        self.waited
    }
}

/// The turn would come after the call's deadline; nothing waited.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "client-side rate limiting ({per_second:.1} requests/s for this action) would send this call in {} ms, past its deadline",
    .would_wait.as_millis()
)]
pub(crate) struct PaceError {
    /// How long the call would have had to wait from now.
    pub(crate) would_wait: Duration,
    /// The pace, in requests per second.
    pub(crate) per_second: f64,
}

/// How one call is paced, from the configuration, the call's override and
/// the action's known limit.
#[derive(Clone, Copy, Debug)]
struct Pacing {
    /// The limit in requests per second, when known.
    limit: Option<u32>,
    learn: bool,
}

impl Pacing {
    /// The known limit's pace, and what learning may not exceed.
    fn cap(&self) -> f64 {
        self.limit.map_or(f64::INFINITY, |l| Pace::known(l).per_second)
    }
}

/// Turns `interval` apart, up to `burst` at once after an idle spell.
#[derive(Clone, Copy, Debug)]
struct Pace {
    per_second: f64,
    interval: Duration,
    /// GCRA's tolerance: (burst - 1) intervals.
    tolerance: Duration,
}

impl Pace {
    fn new(per_second: f64, burst: u32) -> Self {
        // At least 1 ns (a huge limit), at most an hour (never reached:
        // learning's floor is 0.5/s).
        let interval = Duration::try_from_secs_f64(1.0 / per_second)
            .unwrap_or(Duration::MAX)
            .clamp(Duration::from_nanos(1), Duration::from_secs(3600));
        Pace {
            per_second,
            interval,
            tolerance: interval.saturating_mul(burst.saturating_sub(1)),
        }
    }

    /// The pace of a known limit: [`KNOWN_LIMIT_PERCENT`] of it, with a
    /// burst such that no second holds more than the limit (burst + pace
    /// ≤ limit), whether the server counts with a bucket or per second.
    fn known(limit: u32) -> Self {
        let percent = f64::from(KNOWN_LIMIT_PERCENT) / 100.0;
        // In integers: 100 × (1 - 0.9) is 9.999… in floating point.
        let burst = u64::from(limit) * u64::from(100 - KNOWN_LIMIT_PERCENT) / 100;
        Pace::new(
            f64::from(limit) * percent,
            u32::try_from(burst).unwrap_or(u32::MAX).max(1),
        )
    }

    /// The earliest turn after the last one given (`tat`), from `now`.
    fn earliest(&self, tat: Instant, now: Instant) -> Instant {
        tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now))
    }
}

struct KeyState {
    /// Theoretical arrival time: when the next turn would be, were turns
    /// taken back to back at the pace.
    tat: Instant,
    learner: Learner,
    /// The queue of calls waiting for a turn; its holder is the next.
    turnstile: Arc<tokio::sync::Mutex<()>>,
    /// Calls in `acquire` past the fast path (queued or next).
    waiting: u32,
    last_used: Instant,
}

impl KeyState {
    fn new(now: Instant) -> Self {
        KeyState {
            tat: now,
            learner: Learner::new(now),
            turnstile: Arc::default(),
            waiting: 0,
            last_used: now,
        }
    }

    /// The pace now, `None` when the key is not paced.
    fn pace(&self, pacing: Pacing, now: Instant) -> Option<Pace> {
        let known = pacing.limit.map(Pace::known);
        let learnt = match pacing.learn {
            true => (self.learner).rate(now, known.map_or(f64::INFINITY, |k| k.per_second)),
            false => None,
        };
        match (learnt, known) {
            (Some(rate), Some(known)) if rate >= known.per_second => Some(known),
            // A learnt pace is below a limit the server enforced: no burst.
            (Some(rate), _) => Some(Pace::new(rate, 1)),
            (None, known) => known,
        }
    }

    /// Takes the turn at `now`.
    fn take_turn(&mut self, pace: Pace, now: Instant) {
        if self.tat.checked_add(SLACK).is_some_and(|t| t < now) {
            self.learner.note_slack();
        }
        // A turn taken just after its time is on time: the next one is
        // counted from the schedule, not from the late wake-up.
        let from = match self.tat.checked_add(WAKE_LATENESS) {
            Some(late) if now <= late => self.tat,
            _ => now,
        };
        self.tat = from.checked_add(pace.interval).unwrap_or(from);
        self.last_used = now;
    }
}

impl Evictable for KeyState {
    fn in_use(&self) -> bool {
        self.waiting > 0
    }

    fn last_used(&self) -> Instant {
        self.last_used
    }
}

impl Pacer {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        Pacer::with_capacity(config, MAX_KEYS)
    }

    fn with_capacity(config: RateLimitConfig, max_keys: usize) -> Self {
        Pacer {
            config,
            keys: Mutex::new(Keys::new(max_keys, IDLE_AFTER, Instant::now())),
        }
    }

    /// Waits for the turn of a request of `key` and gives it. `known` is
    /// the action's documented limit (requests per second), `per_call` the
    /// call's override. A turn that would come after `deadline` is refused
    /// at once, saying how long it would have taken; a turn that a slower
    /// pace pushes past the deadline while waiting is refused then.
    pub(crate) async fn acquire(
        &self,
        key: PaceKey<'_>,
        known: Option<u32>,
        per_call: &RateLimit,
        deadline: Option<std::time::Instant>,
    ) -> Result<Permit, PaceError> {
        let Some(pacing) = self.pacing(key, known, per_call) else {
            return Ok(Permit::unpaced());
        };
        let deadline = deadline.map(Instant::from_std);
        match self.try_at_once(key, pacing, deadline) {
            Start::Done(outcome) => outcome,
            // Boxed: the waiting's state (queue, timeout, sleep) would
            // otherwise make every `acquire` future, and every move of it,
            // several times larger, though most calls never wait.
            Start::Queue { turnstile, started } => {
                Box::pin(self.wait_in_line(key, pacing, deadline, turnstile, started)).await
            }
        }
    }

    /// The rest of `acquire` for a call that must wait: in the key's queue,
    /// then, first in line, until its turn.
    async fn wait_in_line(
        &self,
        key: PaceKey<'_>,
        pacing: Pacing,
        deadline: Option<Instant>,
        turnstile: Arc<tokio::sync::Mutex<()>>,
        started: Instant,
    ) -> Result<Permit, PaceError> {
        let mut queued = Queued {
            pacer: self,
            names: key.names(),
            counted: true,
        };
        let _first_in_line = match deadline {
            None => turnstile.lock().await,
            Some(deadline) => match tokio::time::timeout_at(deadline, turnstile.lock()).await {
                Ok(guard) => guard,
                Err(_) => return Err(self.estimate(key, pacing)),
            },
        };
        loop {
            match self.try_turn(key, pacing, deadline, started) {
                Turn::Given(permit) => {
                    queued.counted = false;
                    tracing::debug!(
                        service = key.service,
                        action = key.action,
                        region = key.region,
                        waited_ms = u64::try_from(permit.waited.as_millis()).unwrap_or(u64::MAX),
                        "waited for the action's turn (client-side rate limiting)"
                    );
                    return Ok(permit);
                }
                Turn::Refused(refused) => return Err(refused),
                Turn::At(turn) => tokio::time::sleep_until(turn).await,
            }
        }
    }

    /// `acquire` up to the queue: a turn given at once (or refused, or
    /// not needed), else the key's queue to wait in, counted in `waiting`.
    fn try_at_once(&self, key: PaceKey<'_>, pacing: Pacing, deadline: Option<Instant>) -> Start {
        let names = key.names();
        let mut keys = self.lock();
        let permit = |state: &KeyState, waited| Permit {
            pacing: Some(pacing),
            generation: state.learner.generation(),
            waited,
        };
        // The path of an action neither known nor throttled: one lookup.
        if let Some(state) = keys.get_mut(names) {
            if pacing.limit.is_none() && !state.learner.has_learnt() {
                return Start::Done(Ok(permit(state, Duration::ZERO)));
            }
        }
        let now = Instant::now();
        let state = match keys.get_mut(names) {
            Some(state) => state,
            None => match keys.insert(names, KeyState::new(now), now) {
                Some(state) => state,
                // Every tracked key is in use: this one goes unpaced.
                None => return Start::Done(Ok(Permit::unpaced())),
            },
        };
        let Some(pace) = state.pace(pacing, now) else {
            return Start::Done(Ok(permit(state, Duration::ZERO)));
        };
        let next = pace.earliest(state.tat, now);
        if state.waiting == 0 && next <= now {
            state.take_turn(pace, now);
            return Start::Done(Ok(permit(state, Duration::ZERO)));
        }
        // Behind those already waiting, a turn each.
        let turn = next
            .checked_add(pace.interval.saturating_mul(state.waiting))
            .unwrap_or(next);
        if deadline.is_some_and(|d| turn > d) {
            return Start::Done(Err(PaceError {
                would_wait: turn.saturating_duration_since(now),
                per_second: pace.per_second,
            }));
        }
        state.waiting += 1;
        Start::Queue {
            turnstile: Arc::clone(&state.turnstile),
            started: now,
        }
    }

    /// For the first in a key's queue: its turn if it has come, else when
    /// it will (from the pace of this moment).
    fn try_turn(
        &self,
        key: PaceKey<'_>,
        pacing: Pacing,
        deadline: Option<Instant>,
        started: Instant,
    ) -> Turn {
        let mut keys = self.lock();
        let now = Instant::now();
        let waited = now.saturating_duration_since(started);
        let Some(state) = keys.get_mut(key.names()) else {
            // Never: a key in use is kept. Not paced, then.
            return Turn::Given(Permit::unpaced());
        };
        let pace = state.pace(pacing, now);
        let turn = pace.map_or(now, |pace| pace.earliest(state.tat, now));
        if turn <= now {
            if let Some(pace) = pace {
                state.take_turn(pace, now);
            }
            state.waiting = state.waiting.saturating_sub(1);
            return Turn::Given(Permit {
                pacing: Some(pacing),
                generation: state.learner.generation(),
                waited,
            });
        }
        if deadline.is_some_and(|d| turn > d) {
            return Turn::Refused(PaceError {
                would_wait: turn.saturating_duration_since(now),
                per_second: pace.map_or(f64::INFINITY, |pace| pace.per_second),
            });
        }
        Turn::At(turn)
    }

    /// The service answered a request sent with `permit` other than by
    /// throttling it: it passed the server's limit.
    pub(crate) fn on_accepted(&self, key: PaceKey<'_>, permit: &Permit) {
        let Some(pacing) = permit.pacing.filter(|p| p.learn) else {
            return;
        };
        let now = Instant::now();
        let mut keys = self.lock();
        if let Some(state) = keys.get_mut(key.names()) {
            state.learner.on_accepted(now, permit.generation, pacing.cap());
            state.last_used = now;
        }
    }

    /// The service throttled a request sent with `permit`
    /// (`RequestLimitExceeded`): in adaptive mode, the key's pace is
    /// lowered, unless the request was sent before the last decrease.
    pub(crate) fn on_throttled(&self, key: PaceKey<'_>, permit: &Permit) {
        let Some(pacing) = permit.pacing.filter(|p| p.learn) else {
            return;
        };
        let now = Instant::now();
        let names = key.names();
        let mut keys = self.lock();
        let state = match keys.get_mut(names) {
            Some(state) => state,
            None => match keys.insert(names, KeyState::new(now), now) {
                Some(state) => state,
                None => return,
            },
        };
        let before = state.pace(pacing, now);
        let Some(per_second) = state.learner.on_throttled(now, permit.generation, pacing.cap()) else {
            return;
        };
        state.last_used = now;
        // The next turn is one new interval after the last one given, not
        // one old interval; an unused schedule restarts now (it is not slack).
        let longer = match (before, state.pace(pacing, now)) {
            (Some(before), Some(after)) => after.interval.saturating_sub(before.interval),
            _ => Duration::ZERO,
        };
        let from = state.tat.max(now);
        state.tat = from.checked_add(longer).unwrap_or(from);
        drop(keys);
        tracing::debug!(
            service = key.service,
            action = key.action,
            region = key.region,
            per_second,
            "throttled: pacing the action more slowly (client-side rate limiting)"
        );
    }

    /// How a call of `key` is paced; `None`: not at all.
    fn pacing(&self, key: PaceKey<'_>, known: Option<u32>, per_call: &RateLimit) -> Option<Pacing> {
        let mode = self.config.mode();
        let learn = mode == RateLimitMode::Adaptive;
        let limit = match *per_call {
            RateLimit::Off | RateLimit::PerSecond(0) => return None,
            RateLimit::PerSecond(n) => Some(n),
            RateLimit::Default if mode == RateLimitMode::Off => return None,
            RateLimit::Default => match self.config.action_limit(key.service, key.action) {
                Some(0) => return None,
                Some(n) => Some(n),
                // A documented 0 means nothing: unknown.
                None => known.filter(|&n| n > 0),
            },
        };
        // Known limits only, and none known: nothing to do.
        (limit.is_some() || learn).then_some(Pacing { limit, learn })
    }

    /// The refusal of a call still queued at its deadline.
    fn estimate(&self, key: PaceKey<'_>, pacing: Pacing) -> PaceError {
        let now = Instant::now();
        let mut keys = self.lock();
        let pace = keys.get_mut(key.names()).and_then(|state| {
            let pace = state.pace(pacing, now)?;
            let ahead = state.waiting.saturating_sub(1);
            let turn = pace.earliest(state.tat, now);
            let turn = turn
                .checked_add(pace.interval.saturating_mul(ahead))
                .unwrap_or(turn);
            Some((turn, pace.per_second))
        });
        let (turn, per_second) = pace.unwrap_or((now, f64::INFINITY));
        PaceError {
            would_wait: turn.saturating_duration_since(now),
            per_second,
        }
    }

    /// The keys' lock. Nothing panics while holding it; were it poisoned
    /// anyway, the state is still consistent (each update is a few
    /// assignments), so it is used as is.
    fn lock(&self) -> MutexGuard<'_, Keys<KeyState>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn tracked_keys(&self) -> usize {
        self.lock().len()
    }
}

impl fmt::Debug for Pacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer")
            .field("config", &self.config)
            .field("tracked_keys", &self.lock().len())
            .finish()
    }
}

/// How `acquire` goes on after its first look.
enum Start {
    Done(Result<Permit, PaceError>),
    Queue {
        turnstile: Arc<tokio::sync::Mutex<()>>,
        started: Instant,
    },
}

/// What the first in a key's queue does.
enum Turn {
    Given(Permit),
    Refused(PaceError),
    /// Sleep until then, and look again.
    At(Instant),
}

/// Counts a call in its key's `waiting` until it has its turn or gives
/// up, also when its future is dropped (a cancelled call).
struct Queued<'a> {
    pacer: &'a Pacer,
    names: Names<'a>,
    counted: bool,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        if self.counted {
            if let Some(state) = self.pacer.lock().get_mut(self.names) {
                state.waiting = state.waiting.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;
