//! Measures the client's rate limiting against the emulator's per-action
//! quota: how many requests are throttled and how long a batch takes,
//! with the limiter, without it, and learning a limit it was not told.
//!
//! Each scenario starts a fresh emulator in this process, on 127.0.0.1,
//! allowing `--limit` requests a second per secret id and action (a token
//! bucket, burst as many). One runtime client sends `--calls` calls,
//! alternately StartInstances and StopInstances, `--in-flight` at once,
//! each on an instance of its own seeded in the state it needs (STOPPED
//! for a start, RUNNING for a stop; transitions are instant), so every call
//! the emulator lets through succeeds:
//!
//! - `known`: the default (adaptive) mode with both actions' limit known;
//! - `off`: `RateLimitConfig::off()`, throttling left to the retry policy
//!   and its budget;
//! - `learning`: the default mode with no limit known: the pace is learnt
//!   from `RequestLimitExceeded`.
//!
//! An interceptor counts the requests sent and the throttled answers, and
//! when each answer came (for the share after the first 10 s, while
//! learning); the emulator's own count of requests is printed beside it.
//! The ideal time is the calls of one action over the limit: the two
//! actions have separate quotas and run at once. A scenario still running
//! after `--timeout` seconds is abandoned and its unfinished calls counted.
//!
//! ```text
//! cargo xtask rate-limits
//! cargo run --release -p cvm-emulator --example rate_limits -- [--calls N] [--in-flight N] [--limit N] [--only known|off|learning]... [--timeout SECONDS]
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cvm_api::runtime::{Action, AttemptOutcome, Interceptor, RateLimitConfig};
use cvm_api::{ActionError, CallOptions, Client, Error, StartInstancesRequest, StopInstancesRequest};
use cvm_emulator::{Emulator, EmulatorConfig, RunningEmulator, State, StoredInstance, API_VERSION, SERVICE};
use futures::StreamExt;

const REGION: &str = "ap-guangzhou";
const ZONE: &str = "ap-guangzhou-3";
const THROTTLED: &str = "RequestLimitExceeded";
/// The learning scenario's throttled share is also given from this point on.
const LEARNING: Duration = Duration::from_secs(10);
/// Instances the emulator keeps at most by default: a call each.
const MAX_CALLS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Known,
    Off,
    Learning,
}

impl Scenario {
    const ALL: [Scenario; 3] = [Scenario::Known, Scenario::Off, Scenario::Learning];

    fn name(self) -> &'static str {
        match self {
            Scenario::Known => "known",
            Scenario::Off => "off",
            Scenario::Learning => "learning",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Start,
    Stop,
}

impl Act {
    const ALL: [Act; 2] = [Act::Start, Act::Stop];

    fn name(self) -> &'static str {
        match self {
            Act::Start => "StartInstances",
            Act::Stop => "StopInstances",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn of(name: &str) -> Option<Act> {
        Act::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The limit the generated request documents (`Action::RATE_LIMIT`).
    fn documented(self) -> Option<u32> {
        match self {
            Act::Start => <StartInstancesRequest as Action>::RATE_LIMIT,
            Act::Stop => <StopInstancesRequest as Action>::RATE_LIMIT,
        }
    }
}

struct Options {
    calls: usize,
    in_flight: usize,
    limit: u32,
    scenarios: Vec<Scenario>,
    timeout: Duration,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        calls: 2_000,
        in_flight: 32,
        limit: 10,
        scenarios: Vec::new(),
        timeout: Duration::from_secs(600),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, text: String| text.parse::<u64>().map_err(|e| format!("{name}: {e}"));
        match arg.as_str() {
            "--calls" => o.calls = number("--calls", value("--calls")?)? as usize,
            "--in-flight" => o.in_flight = number("--in-flight", value("--in-flight")?)? as usize,
            "--limit" => {
                o.limit = u32::try_from(number("--limit", value("--limit")?)?).map_err(|e| format!("--limit: {e}"))?
            }
            "--timeout" => o.timeout = Duration::from_secs(number("--timeout", value("--timeout")?)?),
            "--only" => {
                let name = value("--only")?;
                let scenario = Scenario::ALL
                    .into_iter()
                    .find(|s| s.name() == name)
                    .ok_or_else(|| format!("--only: no scenario {name:?} (known, off, learning)"))?;
                o.scenarios.push(scenario);
            }
            "-h" | "--help" => {
                return Err("usage: rate_limits [--calls N] [--in-flight N] [--limit N] [--only known|off|learning]... [--timeout SECONDS]".into())
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !(2..=MAX_CALLS).contains(&o.calls) {
        return Err(format!("--calls: 2 to {MAX_CALLS}"));
    }
    if !(1..=1024).contains(&o.in_flight) {
        return Err("--in-flight: 1 to 1024".into());
    }
    if !(1..=10_000).contains(&o.limit) {
        return Err("--limit: 1 to 10000".into());
    }
    if o.timeout.is_zero() || o.timeout > Duration::from_secs(3600) {
        return Err("--timeout: 1 to 3600 seconds".into());
    }
    if o.scenarios.is_empty() {
        o.scenarios = Scenario::ALL.to_vec();
    }
    Ok(o)
}

// ---- counting attempts -------------------------------------------------------

/// One action's attempts, as the interceptor saw them.
#[derive(Default)]
struct Attempts {
    sent: AtomicU64,
    throttled: AtomicU64,
    /// Answered after [`LEARNING`].
    sent_late: AtomicU64,
    throttled_late: AtomicU64,
    /// Ended without an answer (transport failure).
    unanswered: AtomicU64,
}

/// Counts every attempt of the client's calls, by action.
struct Counter {
    started: Instant,
    actions: [Attempts; 2],
}

impl Counter {
    fn new() -> Self {
        Counter {
            started: Instant::now(),
            actions: Default::default(),
        }
    }

    fn get(&self, act: Act, field: fn(&Attempts) -> &AtomicU64) -> u64 {
        field(&self.actions[act.index()]).load(Ordering::Relaxed)
    }

    fn total(&self, field: fn(&Attempts) -> &AtomicU64) -> u64 {
        Act::ALL.into_iter().map(|a| self.get(a, field)).sum()
    }
}

impl Interceptor for Counter {
    fn after_attempt(&self, outcome: &AttemptOutcome<'_>) {
        let Some(act) = Act::of(outcome.action()) else {
            return;
        };
        let counts = &self.actions[act.index()];
        let late = self.started.elapsed() >= LEARNING;
        let throttled = outcome.error_code() == Some(THROTTLED);
        counts.sent.fetch_add(1, Ordering::Relaxed);
        if late {
            counts.sent_late.fetch_add(1, Ordering::Relaxed);
        }
        if throttled {
            counts.throttled.fetch_add(1, Ordering::Relaxed);
            if late {
                counts.throttled_late.fetch_add(1, Ordering::Relaxed);
            }
        }
        if outcome.transport_error().is_some() {
            counts.unanswered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// ---- calls -------------------------------------------------------------------

/// How one call ended.
enum Outcome {
    Ok,
    /// The service answered with an error other than throttling (a state
    /// error, say): an answer, not a throttle.
    Refused(String),
    /// Throttled on its last attempt, not sent, or no answer.
    Failed(String),
}

impl Outcome {
    fn of<T, E: ActionError>(result: Result<T, Error<E>>) -> Outcome {
        let error = match result {
            Ok(_) => return Outcome::Ok,
            Err(error) => error,
        };
        let attempts = error.attempts();
        match &error {
            Error::Service(_) if error.is_throttling() => {
                Outcome::Failed(format!("{THROTTLED} after {attempts} attempt(s)"))
            }
            Error::Service(_) => Outcome::Refused(error.code().unwrap_or("?").to_owned()),
            Error::RateLimited(_) => Outcome::Failed("held by the limiter past the deadline".into()),
            Error::Transport(e) => Outcome::Failed(format!("transport: {:?}", e.kind())),
            Error::InvalidResponse { status, .. } => {
                Outcome::Failed(format!("invalid response, HTTP {status}"))
            }
            Error::InvalidRequest(_) => Outcome::Failed("invalid request".into()),
            Error::Credentials(_) => Outcome::Failed("credentials".into()),
            _ => Outcome::Failed("other".into()),
        }
    }
}

/// Sends one call of `act` on instance `id`; `untyped`: through
/// `call_with`, which knows no documented limit.
async fn send(client: &Client, act: Act, id: &str, untyped: bool) -> Outcome {
    if untyped {
        let body = serde_json::json!({ "InstanceIds": [id] });
        let result = client
            .runtime()
            .call_with::<_, serde_json::Value>(
                SERVICE,
                API_VERSION,
                act.name(),
                &body,
                &CallOptions::default(),
            )
            .await;
        return Outcome::of(result);
    }
    match act {
        Act::Start => Outcome::of(client.start_instances().instance_ids(id).send().await),
        Act::Stop => Outcome::of(client.stop_instances().instance_ids(id).send().await),
    }
}

// ---- one scenario ------------------------------------------------------------

struct Run {
    scenario: Scenario,
    /// What was done to make the scenario what it says.
    notes: Vec<String>,
    counter: Arc<Counter>,
    /// Requests the emulator counted, per action.
    emulator_counted: [u64; 2],
    wall: Duration,
    ok: usize,
    refused: BTreeMap<String, usize>,
    failed: BTreeMap<String, usize>,
    unfinished: usize,
}

async fn start_emulator(o: &Options) -> Result<(RunningEmulator, [Vec<String>; 2]), String> {
    let mut seed = State::new();
    let mut ids: [Vec<String>; 2] = Default::default();
    for i in 0..o.calls {
        let act = Act::ALL[i % 2];
        let state = match act {
            Act::Start => "STOPPED",
            Act::Stop => "RUNNING",
        };
        let instance = StoredInstance::with_random_id(ZONE, state);
        ids[act.index()].push(instance.instance.instance_id.clone());
        seed = seed.with_instance(instance);
    }
    let config = EmulatorConfig::default()
        .with_transition(Duration::ZERO)
        .with_rate_limit(Some(o.limit))
        .with_state(seed);
    let running = Emulator::start(config, "127.0.0.1:0")
        .await
        .map_err(|e| format!("the emulator does not start: {e}"))?;
    Ok((running, ids))
}

async fn run(o: &Options, scenario: Scenario) -> Result<Run, String> {
    let (emulator, ids) = start_emulator(o).await?;
    let mut notes = Vec::new();
    let mut limits = match scenario {
        Scenario::Off => RateLimitConfig::off(),
        Scenario::Known | Scenario::Learning => RateLimitConfig::adaptive(),
    };
    let mut untyped = [false; 2];
    for act in Act::ALL {
        match (scenario, act.documented()) {
            (Scenario::Known, documented) if documented != Some(o.limit) => {
                limits = limits.with_action_limit(SERVICE, act.name(), o.limit);
                notes.push(format!(
                    "{}: limit {}/s given with with_action_limit (RATE_LIMIT is {documented:?})",
                    act.name(),
                    o.limit
                ));
            }
            // A documented limit cannot be made unknown by configuration
            // (0 turns pacing off, learning included): `call_with` knows none.
            (Scenario::Learning, Some(documented)) => {
                untyped[act.index()] = true;
                notes.push(format!(
                    "{}: RATE_LIMIT is {documented}/s, so sent through call_with, which knows no limit",
                    act.name()
                ));
            }
            _ => {}
        }
    }
    let counter = Arc::new(Counter::new());
    let config = emulator
        .client_config(REGION)
        .map_err(|e| format!("client configuration: {e}"))?
        .with_rate_limit(limits)
        .with_interceptor(Arc::clone(&counter));
    let client = Client::from_config(config).map_err(|e| format!("client: {e}"))?;

    let mut calls = futures::stream::iter(0..o.calls)
        .map(|i| {
            let act = Act::ALL[i % 2];
            let id = &ids[act.index()][i / 2];
            let (client, untyped) = (&client, untyped[act.index()]);
            async move { send(client, act, id, untyped).await }
        })
        .buffer_unordered(o.in_flight);
    let deadline = tokio::time::Instant::from_std(counter.started) + o.timeout;
    let (mut ok, mut refused, mut failed, mut finished) = (0, BTreeMap::new(), BTreeMap::new(), 0);
    while let Ok(Some(outcome)) = tokio::time::timeout_at(deadline, calls.next()).await {
        finished += 1;
        match outcome {
            Outcome::Ok => ok += 1,
            Outcome::Refused(code) => *refused.entry(code).or_insert(0) += 1,
            Outcome::Failed(why) => *failed.entry(why).or_insert(0) += 1,
        }
    }
    let wall = counter.started.elapsed();
    // Abandons the calls still running, if the timeout came first.
    drop(calls);
    let emulator_counted = Act::ALL.map(|a| emulator.request_count(a.name()));
    emulator.shutdown().await;
    Ok(Run {
        scenario,
        notes,
        counter,
        emulator_counted,
        wall,
        ok,
        refused,
        failed,
        unfinished: o.calls - finished,
    })
}

// ---- the report --------------------------------------------------------------

fn percent(part: u64, whole: u64) -> String {
    match whole {
        0 => "-".into(),
        _ => format!("{:.2} %", 100.0 * part as f64 / whole as f64),
    }
}

fn listed(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn report(o: &Options, runs: &[Run]) {
    let per_action = o.calls.div_ceil(2);
    let ideal = per_action as f64 / f64::from(o.limit);
    println!();
    println!(
        "{} calls ({per_action} StartInstances, {} StopInstances), {} in flight, emulator limit {}/s per action (burst {}); ideal time {ideal:.1} s",
        o.calls,
        o.calls / 2,
        o.in_flight,
        o.limit,
        o.limit
    );
    println!();
    println!(
        "| scenario | requests sent | throttled | throttled after the first {} s | time | × ideal | calls ok | answered with an error | failed |",
        LEARNING.as_secs()
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in runs {
        let c = &r.counter;
        let (sent, throttled) = (c.total(|a| &a.sent), c.total(|a| &a.throttled));
        let (sent_late, throttled_late) = (c.total(|a| &a.sent_late), c.total(|a| &a.throttled_late));
        let mut failed = listed(&r.failed);
        if r.unfinished > 0 {
            failed = format!("{failed}; {} unfinished at the timeout", r.unfinished);
        }
        println!(
            "| {} | {sent} | {throttled} ({}) | {throttled_late} of {sent_late} ({}) | {:.1} s | {:.2}× | {} | {} | {} |",
            r.scenario.name(),
            percent(throttled, sent),
            percent(throttled_late, sent_late),
            r.wall.as_secs_f64(),
            r.wall.as_secs_f64() / ideal,
            r.ok,
            match r.refused.values().sum::<usize>() {
                0 => "0".to_owned(),
                n => format!("{n}: {}", listed(&r.refused)),
            },
            match failed.as_str() {
                "" => "0".to_owned(),
                _ => failed,
            },
        );
    }
    println!();
    for r in runs {
        let c = &r.counter;
        let after = r.wall.saturating_sub(LEARNING).as_secs_f64();
        for act in Act::ALL {
            let accepted_late = c.get(act, |a| &a.sent_late) - c.get(act, |a| &a.throttled_late);
            println!(
                "{:>8} {:<14}: {} sent ({} by the emulator's count), {} throttled, {} unanswered; {} accepted/s after the first {} s",
                r.scenario.name(),
                act.name(),
                c.get(act, |a| &a.sent),
                r.emulator_counted[act.index()],
                c.get(act, |a| &a.throttled),
                c.get(act, |a| &a.unanswered),
                match after > 0.0 {
                    true => format!("{:.2}", accepted_late as f64 / after),
                    false => "-".into(),
                },
                LEARNING.as_secs(),
            );
        }
        for note in &r.notes {
            println!("{:>8} note: {note}", r.scenario.name());
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut runs = Vec::new();
    for scenario in &o.scenarios {
        eprintln!("{}: running (load average {})", scenario.name(), load_average());
        match run(&o, *scenario).await {
            Ok(r) => {
                eprintln!(
                    "{}: {:.1} s (load average {})",
                    scenario.name(),
                    r.wall.as_secs_f64(),
                    load_average()
                );
                runs.push(r);
            }
            Err(message) => {
                eprintln!("{}: {message}", scenario.name());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    report(&o, &runs);
    std::process::ExitCode::SUCCESS
}
