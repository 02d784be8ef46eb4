//! Bounded load on loopback: 32 concurrent tasks drive one emulator with our
//! own `cvm_api::Client` (mixed DescribeInstancesStatus and Start/Stop on
//! disjoint and shared instances), then the state is checked for
//! consistency:
//!
//! * every request got an answer: a success or an expected service error,
//!   never a transport error or an invalid envelope, and every answer has
//!   its own request id;
//! * no instance is lost or duplicated, and each is in exactly one settled
//!   state;
//! * every accepted operation is reflected: Start is accepted only from
//!   STOPPED and Stop only from RUNNING, so the accepted operations on an
//!   instance alternate Stop, Start, Stop, ... from RUNNING; the final state
//!   must therefore be STOPPED exactly when one more Stop than Start was
//!   accepted, and RUNNING when as many were;
//! * with the rate limit on, only `RequestLimitExceeded` and the documented
//!   state errors appear, and no (secret id, action) gets more successes
//!   than its budget allows.
//!
//! Each test is bounded in calls (tasks × calls per task) and in time (a
//! deadline after which no new call starts, and a timeout on the whole).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cvm_api::{
    Client, Config, Credentials, DescribeInstancesRequest, DescribeInstancesStatusError,
    DescribeInstancesStatusRequest, Endpoint, Error, SecretKey, ServiceError, StartInstancesError,
    StartInstancesRequest, StopInstancesError, StopInstancesRequest,
};
use cvm_emulator::{Emulator, EmulatorConfig, RunningEmulator, State, StoredInstance, INSTANCE_STATES};

const REGION: &str = "ap-guangzhou";
const ZONE: &str = "ap-guangzhou-3";
const TASKS: usize = 32;
/// Instances every task shares with every other.
const SHARED: usize = 8;
/// No new call starts after this; the run normally ends long before.
const DEADLINE: Duration = Duration::from_secs(30);
/// The whole test, checks included.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);

const ID_A: &str = "AKIDloadTestA00000000000000000000";
const KEY_A: &str = "load-test-key-a-8f7e6d5c";
const ID_B: &str = "AKIDloadTestB00000000000000000000";
const KEY_B: &str = "load-test-key-b-1a2b3c4d";

// ---- outcomes --------------------------------------------------------------

/// The parts of an action's error enum the test needs.
trait Coded {
    fn service(&self) -> &ServiceError;
}

macro_rules! coded {
    ($($t:ty),*) => {$(
        impl Coded for $t {
            fn service(&self) -> &ServiceError {
                self.service_error()
            }
        }
    )*};
}
coded!(
    StartInstancesError,
    StopInstancesError,
    DescribeInstancesStatusError
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Act {
    Describe,
    Start,
    Stop,
}

impl Act {
    fn name(self) -> &'static str {
        match self {
            Act::Describe => "DescribeInstancesStatus",
            Act::Start => "StartInstances",
            Act::Stop => "StopInstances",
        }
    }
}

/// How one call ended.
enum Outcome {
    Accepted,
    /// A service error whose code the phase allows.
    Refused(String),
}

/// What a phase allows besides success.
#[derive(Clone, Copy)]
struct Rules {
    rate_limited: bool,
    /// Transitions take time, so STARTING/STOPPING may be seen.
    timed_transitions: bool,
}

impl Rules {
    fn allowed(&self, act: Act, code: &str) -> bool {
        if self.rate_limited && code == "RequestLimitExceeded" {
            return true;
        }
        let settled: &[&str] = match act {
            Act::Describe => &[],
            Act::Start => &["UnsupportedOperation.InstanceStateRunning"],
            Act::Stop => &["UnsupportedOperation.InstanceStateStopped"],
        };
        let transitional: &[&str] = match act {
            Act::Describe => &[],
            Act::Start | Act::Stop => &[
                "UnsupportedOperation.InstanceStateStarting",
                "UnsupportedOperation.InstanceStateStopping",
            ],
        };
        settled.contains(&code) || (self.timed_transitions && transitional.contains(&code))
    }
}

/// Per task tallies, merged at the end.
#[derive(Default)]
struct Tally {
    calls: u64,
    /// (secret id, action, code or "OK") → count.
    outcomes: BTreeMap<(&'static str, Act, String), u64>,
    request_ids: Vec<String>,
    /// Anything not allowed: transport errors, invalid envelopes, other codes,
    /// inconsistent answers.
    unexpected: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.calls += other.calls;
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        self.request_ids.extend(other.request_ids);
        self.unexpected.extend(other.unexpected);
    }

    fn count(&self, pred: impl Fn(&(&'static str, Act, String)) -> bool) -> u64 {
        self.outcomes
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| v)
            .sum()
    }

    /// Records the result of one call; `None` when it was not an allowed answer.
    fn record<R, E: Coded + std::fmt::Display>(
        &mut self,
        secret: &'static str,
        act: Act,
        rules: Rules,
        result: Result<R, Error<E>>,
        request_id: impl Fn(&R) -> &str,
        context: &str,
    ) -> Option<(Outcome, Option<R>)> {
        self.calls += 1;
        match result {
            Ok(response) => {
                let rid = request_id(&response).to_owned();
                self.request_ids.push(rid);
                *self.outcomes.entry((secret, act, "OK".to_owned())).or_default() += 1;
                Some((Outcome::Accepted, Some(response)))
            }
            Err(Error::Service(e)) => {
                let e = e.service();
                self.request_ids.push(e.request_id().to_owned());
                *self
                    .outcomes
                    .entry((secret, act, e.code().to_owned()))
                    .or_default() += 1;
                if rules.allowed(act, e.code()) {
                    Some((Outcome::Refused(e.code().to_owned()), None))
                } else {
                    self.unexpected
                        .push(format!("{context}: {} refused: {e}", act.name()));
                    None
                }
            }
            Err(other) => {
                *self
                    .outcomes
                    .entry((secret, act, "TRANSPORT/INVALID".to_owned()))
                    .or_default() += 1;
                self.unexpected
                    .push(format!("{context}: {} failed: {other}", act.name()));
                None
            }
        }
    }
}

// ---- the run ---------------------------------------------------------------

/// Accepted Start and Stop operations per instance.
#[derive(Default)]
struct Accepted {
    starts: AtomicU64,
    stops: AtomicU64,
}

struct Phase {
    name: &'static str,
    calls_per_task: usize,
    rules: Rules,
    /// Rate limit per secret id and action, if on.
    rate_limit: Option<u32>,
    transition: Duration,
}

/// xorshift64*: deterministic per task, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn client(emulator: &RunningEmulator, id: &str, key: &str) -> Client {
    let config = Config::new(Credentials::new(id, SecretKey::new(key)))
        .with_endpoint(Endpoint::custom(&emulator.endpoint_url()).expect("endpoint"))
        .with_region(REGION)
        .with_timeout(Duration::from_secs(10))
        // The test counts every refusal and state error: no retries, and
        // no pacing (it measures the emulator's own limit).
        .with_retry(cvm_api::runtime::RetryConfig::disabled())
        .with_rate_limit(cvm_api::runtime::RateLimitConfig::off());
    Client::from_config(config).expect("client")
}

struct Task {
    index: usize,
    client: Client,
    secret: &'static str,
    own: String,
    shared: Arc<Vec<String>>,
    accepted: Arc<HashMap<String, Accepted>>,
    rules: Rules,
    calls: usize,
    deadline: Instant,
}

/// What a task knows at the end: its tallies and, with instant transitions
/// and no limit, the state its own instance must be in.
struct TaskResult {
    tally: Tally,
    own: String,
    own_expected: Option<&'static str>,
    stopped_early: bool,
}

async fn run_task(t: Task) -> TaskResult {
    let mut tally = Tally::default();
    let mut rng = Rng::new(t.index as u64 + 1);
    // Our own instance: nobody else touches it.
    let mut own_running = true;
    let strict_own = !t.rules.rate_limited && !t.rules.timed_transitions;
    let mut stopped_early = false;
    for call in 0..t.calls {
        if Instant::now() > t.deadline {
            stopped_early = true;
            break;
        }
        let ctx = format!("task {} call {call}", t.index);
        let roll = rng.below(10);
        if roll < 3 {
            // DescribeInstancesStatus over our own and two shared instances.
            let a = rng.below(t.shared.len());
            let b = (a + 1 + rng.below(t.shared.len() - 1)) % t.shared.len();
            let ids = vec![t.own.clone(), t.shared[a].clone(), t.shared[b].clone()];
            let request = {
                let mut new_value = DescribeInstancesStatusRequest::default();
                new_value.instance_ids = Some(ids.clone());
                new_value
            };
            let result = t.client.call(request.clone()).send().await;
            if let Some((_, Some(response))) =
                tally.record(t.secret, Act::Describe, t.rules, result, |r| &r.request_id, &ctx)
            {
                let got: HashSet<&str> = response
                    .instance_status_set
                    .iter()
                    .map(|s| s.instance_id.as_str())
                    .collect();
                let want: HashSet<&str> = ids.iter().map(String::as_str).collect();
                if response.total_count != 3 || got != want {
                    tally.unexpected.push(format!(
                        "{ctx}: DescribeInstancesStatus for {ids:?} answered TotalCount {} and {got:?}",
                        response.total_count
                    ));
                }
                for s in &response.instance_status_set {
                    if !INSTANCE_STATES.contains(&s.instance_state.as_str()) {
                        tally.unexpected.push(format!(
                            "{ctx}: {} is in unknown state `{}`",
                            s.instance_id, s.instance_state
                        ));
                    }
                    if s.instance_id == t.own && strict_own {
                        let want = if own_running { "RUNNING" } else { "STOPPED" };
                        if s.instance_state != want {
                            tally.unexpected.push(format!(
                                "{ctx}: own instance {} is {}, expected {want}",
                                t.own, s.instance_state
                            ));
                        }
                    }
                }
            }
            continue;
        }
        // Start/Stop: on our own instance (toggling), one shared instance,
        // or two shared instances at once (all or nothing).
        let (ids, start) = if roll < 5 {
            (vec![t.own.clone()], !own_running)
        } else if roll < 9 {
            (
                vec![t.shared[rng.below(t.shared.len())].clone()],
                rng.below(2) == 0,
            )
        } else {
            let a = rng.below(t.shared.len());
            let b = (a + 1 + rng.below(t.shared.len() - 1)) % t.shared.len();
            (vec![t.shared[a].clone(), t.shared[b].clone()], rng.below(2) == 0)
        };
        let is_own = ids[0] == t.own;
        let outcome = if start {
            let request = {
                let mut new_value = StartInstancesRequest::default();
                new_value.instance_ids = ids.clone();
                new_value
            };
            let result = t.client.call(request.clone()).send().await;
            tally
                .record(t.secret, Act::Start, t.rules, result, |r| &r.request_id, &ctx)
                .map(|(o, _)| o)
        } else {
            let request = {
                let mut new_value = StopInstancesRequest::default();
                new_value.instance_ids = ids.clone();
                new_value
            };
            let result = t.client.call(request.clone()).send().await;
            tally
                .record(t.secret, Act::Stop, t.rules, result, |r| &r.request_id, &ctx)
                .map(|(o, _)| o)
        };
        match outcome {
            Some(Outcome::Accepted) => {
                for id in &ids {
                    let counters = &t.accepted[id];
                    if start {
                        counters.starts.fetch_add(1, Ordering::SeqCst);
                    } else {
                        counters.stops.fetch_add(1, Ordering::SeqCst);
                    }
                }
                if is_own {
                    own_running = start;
                }
            }
            Some(Outcome::Refused(code)) if is_own && strict_own => {
                tally.unexpected.push(format!(
                    "{ctx}: {} on own instance {} (running: {own_running}) refused with {code}",
                    if start { "StartInstances" } else { "StopInstances" },
                    t.own
                ));
            }
            Some(Outcome::Refused(_)) | None => {}
        }
    }
    TaskResult {
        tally,
        own_expected: strict_own.then_some(if own_running { "RUNNING" } else { "STOPPED" }),
        own: t.own,
        stopped_early,
    }
}

/// Every instance of the region through the API, page by page.
async fn list_all(client: &Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let request = {
            let mut new_value = DescribeInstancesRequest::default();
            new_value.offset = Some(offset);
            new_value.limit = Some(100);
            new_value
        };
        let page = client
            .call(request.clone())
            .send()
            .await
            .expect("DescribeInstances after the load");
        let n = page.instance_set.len() as i64;
        out.extend(
            page.instance_set
                .into_iter()
                .map(|i| (i.instance_id, i.instance_state.to_string())),
        );
        offset += n;
        if n == 0 || offset >= page.total_count {
            assert_eq!(
                offset, page.total_count,
                "DescribeInstances pages add up to TotalCount"
            );
            return out;
        }
    }
}

async fn run_phase(phase: Phase) {
    // Seed: one instance per task plus the shared ones, all RUNNING.
    let mut seed = State::new();
    for _ in 0..TASKS + SHARED {
        seed = seed.with_instance(StoredInstance::with_random_id(ZONE, "RUNNING"));
    }
    let ids: Vec<String> = seed
        .instances
        .iter()
        .map(|s| s.instance.instance_id.clone())
        .collect();
    let own: Vec<String> = ids[..TASKS].to_vec();
    let shared = Arc::new(ids[TASKS..].to_vec());
    let accepted: Arc<HashMap<String, Accepted>> =
        Arc::new(ids.iter().map(|id| (id.clone(), Accepted::default())).collect());

    let config = EmulatorConfig::default()
        .with_only_credential(ID_A, SecretKey::new(KEY_A))
        .with_credential(ID_B, SecretKey::new(KEY_B))
        .with_transition(phase.transition)
        .with_rate_limit(phase.rate_limit)
        .with_state(seed);
    let emulator = Emulator::start(config, "127.0.0.1:0")
        .await
        .expect("emulator starts");
    // One client (one connection pool) per credential, shared by the tasks.
    let clients = [
        (ID_A, client(&emulator, ID_A, KEY_A)),
        (ID_B, client(&emulator, ID_B, KEY_B)),
    ];

    let started = Instant::now();
    let deadline = started + DEADLINE;
    let mut handles = Vec::with_capacity(TASKS);
    for (index, own_id) in own.iter().enumerate() {
        let (secret, client) = &clients[index % 2];
        handles.push(tokio::spawn(run_task(Task {
            index,
            client: client.clone(),
            secret,
            own: own_id.clone(),
            shared: Arc::clone(&shared),
            accepted: Arc::clone(&accepted),
            rules: phase.rules,
            calls: phase.calls_per_task,
            deadline,
        })));
    }
    let mut tally = Tally::default();
    let mut own_expected = Vec::new();
    let mut stopped_early = 0;
    for handle in handles {
        let result = handle.await.expect("a load task panicked");
        tally.merge(result.tally);
        if let Some(state) = result.own_expected {
            own_expected.push((result.own, state));
        }
        stopped_early += usize::from(result.stopped_early);
    }
    let elapsed = started.elapsed();

    // ---- report --------------------------------------------------------
    eprintln!(
        "[{}] {} calls by {TASKS} tasks in {elapsed:.2?} ({:.0} calls/s){}",
        phase.name,
        tally.calls,
        tally.calls as f64 / elapsed.as_secs_f64(),
        if stopped_early > 0 {
            format!("; {stopped_early} task(s) stopped at the {DEADLINE:?} deadline")
        } else {
            String::new()
        }
    );
    for ((secret, act, code), n) in &tally.outcomes {
        eprintln!(
            "[{}]   {secret:.14} {:<24} {code:<48} {n}",
            phase.name,
            act.name()
        );
    }

    // ---- every request got an allowed answer ----------------------------
    assert!(
        tally.unexpected.is_empty(),
        "[{}] {} unexpected answer(s); first ones:\n{}",
        phase.name,
        tally.unexpected.len(),
        tally
            .unexpected
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        tally.request_ids.len() as u64,
        tally.calls,
        "[{}] every call got an answer",
        phase.name
    );
    if stopped_early == 0 {
        assert_eq!(tally.calls, (TASKS * phase.calls_per_task) as u64);
    }
    let mut seen = HashSet::with_capacity(tally.request_ids.len());
    for rid in &tally.request_ids {
        assert!(!rid.is_empty(), "[{}] an answer without a RequestId", phase.name);
        assert!(
            seen.insert(rid.as_str()),
            "[{}] RequestId {rid} returned twice",
            phase.name
        );
    }

    // ---- the rate limit ---------------------------------------------------
    let limited = tally.count(|(_, _, code)| code == "RequestLimitExceeded");
    if let Some(per_second) = phase.rate_limit {
        assert!(limited > 0, "[{}] the rate limit never applied", phase.name);
        // A bucket holds `per_second` tokens and refills at `per_second`/s.
        let budget = (f64::from(per_second) * (1.0 + elapsed.as_secs_f64())).ceil() as u64 + 1;
        for secret in [ID_A, ID_B] {
            for act in [Act::Describe, Act::Start, Act::Stop] {
                let answered =
                    tally.count(|(s, a, code)| *s == secret && *a == act && code != "RequestLimitExceeded");
                assert!(
                    answered <= budget,
                    "[{}] {secret} got {answered} {} calls through, over the budget of {budget}",
                    phase.name,
                    act.name()
                );
                assert!(
                    answered > 0,
                    "[{}] {secret} got no {} call through at all",
                    phase.name,
                    act.name()
                );
            }
        }
    } else {
        assert_eq!(
            limited, 0,
            "[{}] RequestLimitExceeded with the limit off",
            phase.name
        );
    }

    // ---- state consistency --------------------------------------------------
    // Let any transition under way complete.
    tokio::time::sleep(phase.transition * 3).await;
    let check_client = &clients[0].1;
    let listed = list_all(check_client).await;
    let mut by_id: HashMap<&str, &str> = HashMap::new();
    for (id, state) in &listed {
        assert!(
            by_id.insert(id.as_str(), state.as_str()).is_none(),
            "[{}] {id} listed twice",
            phase.name
        );
    }
    let want: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let got: HashSet<&str> = by_id.keys().copied().collect();
    assert_eq!(got, want, "[{}] instances lost or added", phase.name);

    let snapshot = emulator.state_snapshot();
    assert_eq!(
        snapshot.instances.len(),
        ids.len(),
        "[{}] snapshot size",
        phase.name
    );

    let mut stopped = 0;
    for id in &ids {
        let state = by_id[id.as_str()];
        let starts = accepted[id].starts.load(Ordering::SeqCst);
        let stops = accepted[id].stops.load(Ordering::SeqCst);
        let expected = match stops.checked_sub(starts) {
            Some(0) => "RUNNING",
            Some(1) => "STOPPED",
            _ => panic!(
                "[{}] {id}: {stops} Stop and {starts} Start accepted; from RUNNING they must alternate",
                phase.name
            ),
        };
        assert_eq!(
            state, expected,
            "[{}] {id}: {stops} Stop and {starts} Start accepted, so it must be {expected}",
            phase.name
        );
        let stored = snapshot.instance(id).expect("in the snapshot");
        assert_eq!(
            stored.instance.instance_state, state,
            "[{}] {id}: snapshot vs API",
            phase.name
        );
        assert!(
            stored.pending.is_none(),
            "[{}] {id}: still in transition",
            phase.name
        );
        stopped += usize::from(state == "STOPPED");
    }
    for (id, state) in &own_expected {
        assert_eq!(by_id[id.as_str()], *state, "[{}] own instance {id}", phase.name);
    }
    let total_accepted: u64 = accepted
        .values()
        .map(|a| a.starts.load(Ordering::SeqCst) + a.stops.load(Ordering::SeqCst))
        .sum();
    assert!(total_accepted > 0, "[{}] no Start/Stop was accepted", phase.name);
    eprintln!(
        "[{}] consistent: {} instances, {stopped} STOPPED, {} RUNNING; {total_accepted} accepted \
         state changes; {} distinct request ids; {limited} rate-limited",
        phase.name,
        ids.len(),
        ids.len() - stopped,
        seen.len()
    );

    let final_state = emulator.shutdown().await;
    assert_eq!(final_state.instances.len(), ids.len());
}

/// 32 tasks × 100 calls, instant transitions, no rate limit: the only
/// refusals are Start on RUNNING and Stop on STOPPED, and never on a task's
/// own instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_without_rate_limit_keeps_state_consistent() {
    let phase = Phase {
        name: "no limit",
        calls_per_task: 100,
        rules: Rules {
            rate_limited: false,
            timed_transitions: false,
        },
        rate_limit: None,
        transition: Duration::ZERO,
    };
    tokio::time::timeout(TEST_TIMEOUT, run_phase(phase))
        .await
        .expect("the load test finished in time");
}

/// 32 tasks × 40 calls, 10 ms transitions, 40 requests a second per secret
/// id and action (two secret ids): most calls are refused with
/// RequestLimitExceeded, the rest succeed or meet a state error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_with_rate_limit_answers_only_limit_and_state_errors() {
    let phase = Phase {
        name: "rate limit",
        calls_per_task: 40,
        rules: Rules {
            rate_limited: true,
            timed_transitions: true,
        },
        rate_limit: Some(40),
        transition: Duration::from_millis(10),
    };
    tokio::time::timeout(TEST_TIMEOUT, run_phase(phase))
        .await
        .expect("the load test finished in time");
}
