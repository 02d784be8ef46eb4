//! Polling an action until what it describes is in a wanted state.
//!
//! Generated code declares each waiter of a service's `waiters.json` as a
//! `static` [`WaiterSpec`] (acceptors as data) plus a function reading the
//! paths the acceptors name out of the typed answer ([`Observation`]); a
//! program reading descriptions at run time (tcloud) makes the spec with
//! `WaiterSpec::from(&model_waiter)` and reads answers with a closure.
//! [`wait`] holds all the logic: matching, backoff, deadline, progress and
//! errors. The vocabulary ([`AcceptorState`], [`Comparator`], [`PathRef`])
//! is the model crate's, re-exported.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

// Tokio's clock, which is the machine's but for tests that pause it.
use tokio::time::Instant;

use tencentcloud_model::waiters::Waiter;

use super::{Error, FieldPath, Problem, ValidationError, Violation};

pub use tencentcloud_model::spec::{AcceptorState, Comparator};
pub use tencentcloud_model::waiters::PathRef;

/// One rule of a waiter, tried in order after each poll.
///
/// Generated code declares acceptors as `static` data (`Cow::Borrowed`);
/// a waiter read at run time owns its text (`Cow::Owned`, see
/// [`WaiterSpec`]'s `From<&Waiter>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptor {
    pub state: AcceptorState,
    pub comparator: Comparator,
    /// The path as written in `waiters.json`, for messages.
    pub path: Cow<'static, str>,
    /// Where the value compared is read: an index into [`Observation`]'s
    /// item values or root values.
    pub value: PathRef,
    pub expected: Cow<'static, str>,
}

/// A waiter, as `waiters.json` declares it: a `static` in generated code,
/// or built at run time from the model's checked [`Waiter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiterSpec {
    /// `InstancesRunning`.
    pub name: Cow<'static, str>,
    /// The action polled.
    pub action: Cow<'static, str>,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// How long the wait may last unless the caller says otherwise.
    pub deadline: Duration,
    pub acceptors: Cow<'static, [Acceptor]>,
    /// The value every item path takes for an awaited id missing from the
    /// answer (`TERMINATED`: an instance that disappears counts as
    /// terminated); `None`: a missing id matches nothing.
    pub absent: Option<Cow<'static, str>>,
}

impl From<&Waiter> for WaiterSpec {
    /// The engine's form of a checked waiter: its name as declared, its
    /// acceptors in order, its delays and deadline in seconds.
    fn from(waiter: &Waiter) -> Self {
        WaiterSpec {
            name: Cow::Owned(waiter.name.clone()),
            action: Cow::Owned(waiter.action.clone()),
            min_delay: Duration::from_secs(waiter.min_delay),
            max_delay: Duration::from_secs(waiter.max_delay),
            deadline: Duration::from_secs(waiter.deadline),
            acceptors: waiter
                .acceptors
                .iter()
                .map(|a| Acceptor {
                    state: a.state,
                    comparator: a.comparator,
                    path: Cow::Owned(a.path.clone()),
                    value: a.value,
                    expected: Cow::Owned(a.expected.clone()),
                })
                .collect(),
            absent: waiter.absent.clone().map(Cow::Owned),
        }
    }
}

/// What one answer says, as read by generated code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// Each listed item's key (its id) and its value at each item path
    /// (`None`: absent or null).
    pub items: Vec<(String, Vec<Option<String>>)>,
    /// The answer's value at each root path.
    pub root: Vec<Option<String>>,
}

type Progress = dyn Fn(&WaitProgress<'_>) + Send + Sync;

/// Settings of one wait; `Default` keeps the waiter's own.
#[derive(Clone, Default)]
pub struct WaitOptions {
    deadline: Option<Duration>,
    min_delay: Option<Duration>,
    max_delay: Option<Duration>,
    progress: Option<Arc<Progress>>,
}

impl WaitOptions {
    pub fn new() -> Self {
        WaitOptions::default()
    }

    /// How long the whole wait may last.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The shortest and longest pause between polls.
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = Some(min);
        self.max_delay = Some(max.max(min));
        self
    }

    /// Called after every poll that did not end the wait.
    pub fn with_progress(mut self, progress: impl Fn(&WaitProgress<'_>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

impl fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("deadline", &self.deadline)
            .field("min_delay", &self.min_delay)
            .field("max_delay", &self.max_delay)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Where a wait stands, given to the progress hook after each poll.
#[derive(Debug)]
#[non_exhaustive]
pub struct WaitProgress<'a> {
    /// The waiter's name (its spec's `name`).
    pub waiter: &'a str,
    /// Polls so far, this one included.
    pub polls: u32,
    pub elapsed: Duration,
    /// Awaited items already in the wanted state.
    pub ready: usize,
    /// Awaited items.
    pub total: usize,
    /// Each awaited id and its value at the waiter's first path (`None`: not listed).
    pub states: &'a [(String, Option<String>)],
}

/// The end of a successful wait.
#[derive(Debug)]
#[non_exhaustive]
pub struct WaitOutcome<R> {
    /// The answer that satisfied the waiter.
    pub response: R,
    pub polls: u32,
    pub elapsed: Duration,
}

/// Why a wait ended without success. `Debug` leads with the `Display`
/// line, as [`Error`]'s does.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum WaitError<E> {
    /// A failure acceptor matched: what was awaited cannot happen.
    #[error("{waiter}: {} is {value}, so it will not happen (after {})", subject(.id.as_deref(), .path), polls_text(*.polls))]
    Failed {
        waiter: String,
        /// The item that failed, for item paths.
        id: Option<String>,
        path: String,
        value: String,
        polls: u32,
    },
    /// The deadline came first.
    #[error("{waiter}: gave up after {:.1} s and {}; last seen: {last_seen}", .elapsed.as_secs_f64(), polls_text(*.polls))]
    TimedOut {
        waiter: String,
        elapsed: Duration,
        polls: u32,
        /// Each awaited id and its state at the last poll.
        last_seen: String,
    },
    /// A poll failed (after the pipeline's retries).
    #[error(transparent)]
    Call(Error<E>),
}

impl<E: fmt::Debug + fmt::Display> fmt::Debug for WaitError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The call's error, whose `Debug` leads with this same line.
            WaitError::Call(e) => fmt::Debug::fmt(e, f),
            WaitError::Failed {
                waiter,
                id,
                path,
                value,
                polls,
            } => {
                write!(f, "{self}\n\n")?;
                f.debug_struct("Failed")
                    .field("waiter", waiter)
                    .field("id", id)
                    .field("path", path)
                    .field("value", value)
                    .field("polls", polls)
                    .finish()
            }
            WaitError::TimedOut {
                waiter,
                elapsed,
                polls,
                last_seen,
            } => {
                write!(f, "{self}\n\n")?;
                f.debug_struct("TimedOut")
                    .field("waiter", waiter)
                    .field("elapsed", elapsed)
                    .field("polls", polls)
                    .field("last_seen", last_seen)
                    .finish()
            }
        }
    }
}

/// `1 poll`, `3 polls`.
fn polls_text(polls: u32) -> String {
    if polls == 1 {
        "1 poll".to_owned()
    } else {
        format!("{polls} polls")
    }
}

/// What the last poll before the deadline is given to answer.
const LAST_POLL_ROOM: Duration = Duration::from_secs(1);

fn subject(id: Option<&str>, path: &str) -> String {
    match id {
        Some(id) => format!("{id} {path}"),
        None => path.to_owned(),
    }
}

/// What one poll decides.
#[derive(Debug, PartialEq, Eq)]
enum Verdict<'s> {
    Success,
    Failure {
        id: Option<String>,
        path: &'s str,
        value: String,
    },
    Retry,
}

/// Each awaited id's values: its item's, the absent value, or nothing.
fn awaited(
    spec: &WaiterSpec,
    ids: &[String],
    observation: &Observation,
    paths: usize,
) -> Vec<Vec<Option<String>>> {
    ids.iter()
        .map(|id| match observation.items.iter().find(|(key, _)| key == id) {
            Some((_, values)) => values.clone(),
            None => vec![spec.absent.as_deref().map(str::to_owned); paths],
        })
        .collect()
}

fn judge<'s>(
    spec: &'s WaiterSpec,
    ids: &[String],
    values: &[Vec<Option<String>>],
    observation: &Observation,
) -> Verdict<'s> {
    let at = |row: &[Option<String>], i: usize| row.get(i).cloned().flatten();
    for acceptor in spec.acceptors.iter() {
        let expected = Some(&*acceptor.expected);
        let matched = match (acceptor.comparator, acceptor.value) {
            (Comparator::All, PathRef::Item(i)) => {
                !values.is_empty() && values.iter().all(|row| at(row, i).as_deref() == expected)
            }
            (Comparator::Any, PathRef::Item(i)) => {
                if let Some(k) = values.iter().position(|row| at(row, i).as_deref() == expected) {
                    if acceptor.state == AcceptorState::Failure {
                        return Verdict::Failure {
                            id: ids.get(k).cloned(),
                            path: &acceptor.path,
                            value: acceptor.expected.to_string(),
                        };
                    }
                    true
                } else {
                    false
                }
            }
            (_, PathRef::Root(i)) => observation.root.get(i).cloned().flatten().as_deref() == expected,
            (Comparator::Equals, PathRef::Item(i)) => {
                values.len() == 1 && at(&values[0], i).as_deref() == expected
            }
        };
        if matched {
            return match acceptor.state {
                AcceptorState::Success => Verdict::Success,
                AcceptorState::Retry => Verdict::Retry,
                AcceptorState::Failure => Verdict::Failure {
                    id: None,
                    path: &acceptor.path,
                    value: acceptor.expected.to_string(),
                },
            };
        }
    }
    Verdict::Retry
}

/// The index of the item path progress reports: the first success acceptor's, else the first.
fn state_path(spec: &WaiterSpec) -> Option<(usize, &str)> {
    fn item(a: &Acceptor) -> Option<(usize, &str)> {
        match a.value {
            PathRef::Item(i) => Some((i, &*a.expected)),
            PathRef::Root(_) => None,
        }
    }
    spec.acceptors
        .iter()
        .filter(|a| a.state == AcceptorState::Success)
        .find_map(item)
        .or_else(|| spec.acceptors.iter().find_map(item))
}

fn summary(states: &[(String, Option<String>)]) -> String {
    let shown: Vec<String> = states
        .iter()
        .take(20)
        .map(|(id, state)| format!("{id} {}", state.as_deref().unwrap_or("not listed")))
        .collect();
    let more = states.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else if shown.is_empty() {
        "nothing".to_owned()
    } else {
        shown.join(", ")
    }
}

/// Delay before poll `n + 1`: exponential from the minimum, capped at the
/// maximum, jittered uniformly between the minimum and that.
fn delay(min: Duration, max: Duration, polls: u32) -> Duration {
    let ceiling = min
        .saturating_mul(1u32 << polls.saturating_sub(1).min(16))
        .min(max)
        .max(min);
    min + (ceiling - min).mul_f64(fastrand::f64())
}

/// Polls with `poll` until an acceptor of `spec` ends the wait. `ids` are
/// the awaited items (at least one); `observe` reads the answer (a
/// generated function, or a closure holding what it reads by).
pub async fn wait<R, E, F, Fut>(
    spec: &WaiterSpec,
    ids: &[String],
    options: &WaitOptions,
    mut poll: F,
    observe: impl Fn(&R) -> Observation,
) -> Result<WaitOutcome<R>, WaitError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<R, Error<E>>>,
{
    if ids.is_empty() {
        return Err(WaitError::Call(Error::InvalidRequest(ValidationError {
            violations: vec![Violation {
                path: FieldPath::parse("ids"),
                problem: Problem::Unsendable(format!("needs at least one id to wait for ({})", spec.name)),
            }],
        })));
    }
    let started = Instant::now();
    let deadline = options.deadline.unwrap_or(spec.deadline);
    let min = options.min_delay.unwrap_or(spec.min_delay);
    let max = options.max_delay.unwrap_or(spec.max_delay).max(min);
    let paths = spec
        .acceptors
        .iter()
        .filter_map(|a| match a.value {
            PathRef::Item(i) => Some(i + 1),
            PathRef::Root(_) => None,
        })
        .max()
        .unwrap_or(0);
    let shown = state_path(spec);
    let mut polls = 0u32;
    let mut last_seen = String::from("no poll answered");
    loop {
        polls += 1;
        // The deadline bounds a poll in flight too, retries included.
        let remaining = deadline.saturating_sub(started.elapsed());
        let response = match tokio::time::timeout(remaining, poll()).await {
            Ok(answer) => answer.map_err(WaitError::Call)?,
            Err(_) => {
                return Err(WaitError::TimedOut {
                    waiter: spec.name.to_string(),
                    elapsed: started.elapsed(),
                    polls,
                    last_seen,
                })
            }
        };
        let observation = observe(&response);
        let values = awaited(spec, ids, &observation, paths);
        let verdict = judge(spec, ids, &values, &observation);
        let elapsed = started.elapsed();
        tracing::debug!(waiter = &*spec.name, polls, ?verdict, "poll");
        match verdict {
            Verdict::Success => {
                return Ok(WaitOutcome {
                    response,
                    polls,
                    elapsed,
                })
            }
            Verdict::Failure { id, path, value } => {
                return Err(WaitError::Failed {
                    waiter: spec.name.to_string(),
                    id,
                    path: path.to_owned(),
                    value,
                    polls,
                })
            }
            Verdict::Retry => {}
        }
        let states: Vec<(String, Option<String>)> = ids
            .iter()
            .zip(&values)
            .map(|(id, row)| (id.clone(), shown.and_then(|(i, _)| row.get(i).cloned().flatten())))
            .collect();
        let ready = match shown {
            Some((_, wanted)) => states
                .iter()
                .filter(|(_, s)| s.as_deref() == Some(wanted))
                .count(),
            None => 0,
        };
        if let Some(progress) = &options.progress {
            progress(&WaitProgress {
                waiter: &spec.name,
                polls,
                elapsed,
                ready,
                total: ids.len(),
                states: &states,
            });
        }
        last_seen = summary(&states);
        // The deadline is used whole: when the next pause would pass it,
        // the pause is cut so that one last poll starts `LAST_POLL_ROOM`
        // before it, rather than giving up a whole pause early.
        let left = deadline.saturating_sub(elapsed);
        let pause = delay(min, max, polls);
        let pause = if pause < left {
            pause
        } else if left > LAST_POLL_ROOM {
            left - LAST_POLL_ROOM
        } else {
            return Err(WaitError::TimedOut {
                waiter: spec.name.to_string(),
                elapsed,
                polls,
                last_seen,
            });
        };
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static RUNNING: WaiterSpec = WaiterSpec {
        name: Cow::Borrowed("InstancesRunning"),
        action: Cow::Borrowed("DescribeInstances"),
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        deadline: Duration::from_secs(5),
        acceptors: Cow::Borrowed(&[
            Acceptor {
                state: AcceptorState::Failure,
                comparator: Comparator::Any,
                path: Cow::Borrowed("InstanceState"),
                value: PathRef::Item(0),
                expected: Cow::Borrowed("LAUNCH_FAILED"),
            },
            Acceptor {
                state: AcceptorState::Success,
                comparator: Comparator::All,
                path: Cow::Borrowed("InstanceState"),
                value: PathRef::Item(0),
                expected: Cow::Borrowed("RUNNING"),
            },
        ]),
        absent: None,
    };

    static TERMINATED: WaiterSpec = WaiterSpec {
        name: Cow::Borrowed("InstancesTerminated"),
        action: Cow::Borrowed("DescribeInstances"),
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        deadline: Duration::from_secs(5),
        acceptors: Cow::Borrowed(&[Acceptor {
            state: AcceptorState::Success,
            comparator: Comparator::All,
            path: Cow::Borrowed("InstanceState"),
            value: PathRef::Item(0),
            expected: Cow::Borrowed("TERMINATED"),
        }]),
        absent: Some(Cow::Borrowed("TERMINATED")),
    };

    fn seen(items: &[(&str, &str)]) -> Observation {
        Observation {
            items: items
                .iter()
                .map(|(id, state)| (id.to_string(), vec![Some(state.to_string())]))
                .collect(),
            root: Vec::new(),
        }
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn verdict<'s>(spec: &'s WaiterSpec, wanted: &[&str], observation: &Observation) -> Verdict<'s> {
        let ids = ids(wanted);
        let values = awaited(spec, &ids, observation, 1);
        judge(spec, &ids, &values, observation)
    }

    #[test]
    fn acceptors_in_order() {
        let both = ["ins-a", "ins-b"];
        assert_eq!(
            verdict(
                &RUNNING,
                &both,
                &seen(&[("ins-a", "RUNNING"), ("ins-b", "RUNNING")])
            ),
            Verdict::Success
        );
        assert_eq!(
            verdict(
                &RUNNING,
                &both,
                &seen(&[("ins-a", "RUNNING"), ("ins-b", "PENDING")])
            ),
            Verdict::Retry
        );
        // A missing instance is not running.
        assert_eq!(
            verdict(&RUNNING, &both, &seen(&[("ins-a", "RUNNING")])),
            Verdict::Retry
        );
        // Failure wins, naming the instance, even when the others are fine.
        assert_eq!(
            verdict(
                &RUNNING,
                &both,
                &seen(&[("ins-a", "RUNNING"), ("ins-b", "LAUNCH_FAILED")])
            ),
            Verdict::Failure {
                id: Some("ins-b".to_owned()),
                path: "InstanceState",
                value: "LAUNCH_FAILED".to_owned()
            }
        );
        // Items not awaited are ignored.
        assert_eq!(
            verdict(
                &RUNNING,
                &["ins-a"],
                &seen(&[("ins-a", "RUNNING"), ("ins-z", "LAUNCH_FAILED")])
            ),
            Verdict::Success
        );
        // Disappearing counts as terminated.
        assert_eq!(
            verdict(&TERMINATED, &both, &seen(&[("ins-a", "TERMINATED")])),
            Verdict::Success
        );
        assert_eq!(verdict(&TERMINATED, &both, &seen(&[])), Verdict::Success);
        assert_eq!(
            verdict(&TERMINATED, &both, &seen(&[("ins-b", "TERMINATING")])),
            Verdict::Retry
        );
    }

    #[test]
    fn delays_grow_within_bounds_and_summaries_are_bounded() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(8));
        for polls in 1..50 {
            let d = delay(min, max, polls);
            assert!(d >= min && d <= max, "{d:?}");
        }
        assert_eq!(delay(min, min, 3), min);
        let many: Vec<(String, Option<String>)> = (0..25).map(|i| (format!("ins-{i}"), None)).collect();
        let text = summary(&many);
        assert!(
            text.starts_with("ins-0 not listed, ") && text.ends_with("and 5 more"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn waits_reports_progress_and_gives_up_with_what_it_saw() {
        let script = std::sync::Mutex::new(vec![
            seen(&[("ins-a", "PENDING"), ("ins-b", "PENDING")]),
            seen(&[("ins-a", "RUNNING"), ("ins-b", "PENDING")]),
            seen(&[("ins-a", "RUNNING"), ("ins-b", "RUNNING")]),
        ]);
        let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = reports.clone();
        let options =
            WaitOptions::new().with_progress(move |p| sink.lock().unwrap().push((p.polls, p.ready, p.total)));
        let outcome = wait::<Observation, std::convert::Infallible, _, _>(
            &RUNNING,
            &ids(&["ins-a", "ins-b"]),
            &options,
            || {
                let next = script.lock().unwrap().remove(0);
                async move { Ok(next) }
            },
            Observation::clone,
        )
        .await
        .unwrap();
        assert_eq!(outcome.polls, 3);
        assert_eq!(*reports.lock().unwrap(), [(1, 0, 2), (2, 1, 2)]);

        let started = Instant::now();
        let error = wait::<Observation, std::convert::Infallible, _, _>(
            &RUNNING,
            &ids(&["ins-a", "ins-b"]),
            &WaitOptions::new().with_deadline(Duration::from_millis(200)),
            || async { Ok(seen(&[("ins-a", "RUNNING")])) },
            Observation::clone,
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(400));
        let text = error.to_string();
        assert!(text.starts_with("InstancesRunning: gave up after"), "{text}");
        assert!(
            text.ends_with("last seen: ins-a RUNNING, ins-b not listed"),
            "{text}"
        );

        let error = wait::<Observation, std::convert::Infallible, _, _>(
            &RUNNING,
            &[],
            &WaitOptions::new(),
            || async { Ok(seen(&[])) },
            Observation::clone,
        )
        .await
        .unwrap_err();
        assert!(error.to_string().contains("needs at least one id"), "{error}");
    }

    /// The deadline is used whole: with pauses of 15 s and a 20 s deadline,
    /// the waiter polls at 0 s and 15 s, then once more at 19 s (a second
    /// left for the answer), instead of giving up at 15 s because a whole
    /// pause no longer fits. (Paused time: the clock moves only when every
    /// task waits.)
    #[tokio::test(start_paused = true)]
    async fn the_last_pause_is_cut_to_poll_at_the_deadline() {
        let started = Instant::now();
        let polled_at = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = polled_at.clone();
        let error = wait::<Observation, std::convert::Infallible, _, _>(
            &RUNNING,
            &ids(&["ins-a"]),
            &WaitOptions::new()
                .with_delays(Duration::from_secs(15), Duration::from_secs(15))
                .with_deadline(Duration::from_secs(20)),
            || {
                log.lock().unwrap().push(started.elapsed().as_secs());
                async { Ok(seen(&[("ins-a", "PENDING")])) }
            },
            Observation::clone,
        )
        .await
        .unwrap_err();
        assert!(matches!(error, WaitError::TimedOut { polls: 3, .. }), "{error}");
        let at = polled_at.lock().unwrap().clone();
        assert_eq!(at.len(), 3, "{at:?}");
        assert_eq!((at[0], at[2]), (0, 19), "{at:?}");
        assert!((10..=15).contains(&at[1]), "{at:?}");
    }

    /// A poll that never answers (a server that accepts and stays silent,
    /// retried by the pipeline) is cut at the wait's deadline, not the
    /// pipeline's own timeouts.
    #[tokio::test]
    async fn the_deadline_bounds_a_poll_in_flight() {
        let started = Instant::now();
        let error = wait::<Observation, std::convert::Infallible, _, _>(
            &RUNNING,
            &ids(&["ins-a"]),
            &WaitOptions::new().with_deadline(Duration::from_millis(200)),
            std::future::pending,
            Observation::clone,
        )
        .await
        .unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{took:?}");
        let text = error.to_string();
        assert!(matches!(error, WaitError::TimedOut { polls: 1, .. }), "{text}");
        assert!(text.ends_with("last seen: no poll answered"), "{text}");
    }
}
