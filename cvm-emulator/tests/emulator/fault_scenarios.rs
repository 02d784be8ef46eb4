//! The client's call pipeline against the emulator with injected faults:
//! what production does to a fleet (throttling, resets after the change was
//! made, internal errors, a skewed clock), reproduced locally. Every scenario
//! is seeded and bounded in count and time.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use cvm_api::runtime::{AttemptOutcome, Interceptor, RetryBudget, RetryConfig};
use cvm_api::{
    CallOptions, Client, DescribeInstancesRequest, Error, InternetAccessible, Placement, RunInstancesRequest,
    StartInstancesRequest, TransportErrorKind,
};
use cvm_emulator::{EmulatorConfig, FaultConfig, RunningEmulator};

/// Backoff short enough for tests, the policy otherwise the default.
fn quick_retries(max_attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_attempts)
        .with_base_delay(Duration::from_millis(5))
        .with_throttling_base_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(100))
}

fn client(emu: &RunningEmulator, retry: RetryConfig, budget: RetryBudget) -> Client {
    let config = emu
        .client_config(REGION)
        .unwrap()
        .with_timeout(Duration::from_secs(10))
        .with_retry(retry)
        .with_retry_budget(budget);
    Client::from_config(config).unwrap()
}

fn faulty(faults: FaultConfig) -> EmulatorConfig {
    config().with_faults(FaultConfig {
        seed: Some(20261130),
        ..faults
    })
}

fn run_one() -> RunInstancesRequest {
    RunInstancesRequest::new()
        .set_placement(Placement::new().set_zone(ZONE))
        .set_image_id("img-9qabwvbn")
        .set_instance_count(1)
        .set_internet_accessible(InternetAccessible::new().set_internet_max_bandwidth_out(1))
}

/// 300 `RunInstances`, 16 in flight, under 20 % throttling, 10 % resets
/// after the instances were made and 5 % `InternalError`: every call returns
/// Ok, and exactly 300 instances exist, none duplicated, none lost. The
/// client fills in one `ClientToken` per call and resends it, and the
/// emulator answers a repeated token with the instances it already made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_instances_under_faults_creates_each_instance_exactly_once() {
    const CALLS: usize = 300;
    const IN_FLIGHT: usize = 16;
    let emu = start(faulty(FaultConfig {
        request_limit_exceeded: 0.20,
        reset_after: 0.10,
        internal_error: 0.05,
        ..FaultConfig::default()
    }))
    .await;
    // 35 % of attempts fail: ten attempts make a lost call (0.35^10 per
    // call) practically impossible; the budget is lifted because this test
    // is about correctness, not about shedding load.
    let client = Arc::new(client(&emu, quick_retries(10), RetryBudget::unlimited()));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CALLS {
        let (client, semaphore) = (Arc::clone(&client), Arc::clone(&semaphore));
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await.unwrap();
            client.call((run_one()).clone()).send().await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let response = tokio::time::timeout(Duration::from_secs(120), task)
            .await
            .expect("bounded")
            .unwrap()
            .unwrap_or_else(|e| panic!("a call failed: {e}"));
        assert_eq!(response.instance_id_set.len(), 1);
        ids.extend(response.instance_id_set);
    }
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), CALLS, "every call got its own instance");
    let state = emu.state_snapshot();
    assert_eq!(state.instances.len(), CALLS, "none duplicated, none lost");
    let stats = emu.fault_stats();
    assert!(
        stats.reset_after > 0 && stats.request_limit_exceeded > 0 && stats.internal_error > 0,
        "{stats:?}"
    );
    eprintln!(
        "{CALLS} calls in {:?}: {} requests, faults {stats:?}",
        started.elapsed(),
        emu.request_count("RunInstances")
    );
}

/// `StartInstances` neither only reads nor carries a `ClientToken`: after a
/// reset (which may follow the change) it is not repeated. The error is a
/// transport error, and the emulator saw exactly one request.
#[tokio::test]
async fn start_instances_is_not_repeated_after_a_reset() {
    let emu = seeded(
        faulty(FaultConfig {
            reset_after: 1.0,
            ..FaultConfig::default()
        }),
        1,
        "STOPPED",
    )
    .await;
    let ids = emu.1;
    let client = client(&emu.0, quick_retries(5), RetryBudget::standard());
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = ids;
            new_value
        })
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Transport(e) => assert_eq!(e.kind(), TransportErrorKind::Reset, "{err}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.attempts(), 1);
    assert_eq!(emu.0.request_count("StartInstances"), 1);
}

/// `DescribeInstances` only reads: under 30 % resets (before and after the
/// "effect") every call succeeds.
#[tokio::test]
async fn describe_instances_survives_resets() {
    let emu = start(faulty(FaultConfig {
        reset_before: 0.15,
        reset_after: 0.15,
        ..FaultConfig::default()
    }))
    .await;
    let client = client(&emu, quick_retries(10), RetryBudget::unlimited());
    for _ in 0..60 {
        client
            .call((DescribeInstancesRequest::default()).clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let stats = emu.fault_stats();
    assert!(stats.reset_before + stats.reset_after >= 5, "{stats:?}");
    assert_eq!(
        emu.request_count("DescribeInstances"),
        60 + stats.reset_before + stats.reset_after
    );
}

/// Counts the attempts the client makes (the emulator counts only requests
/// that pass authentication, and an expired signature does not).
#[derive(Default)]
struct Attempts(AtomicU64);

impl Interceptor for Attempts {
    fn after_attempt(&self, _: &AttemptOutcome<'_>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The emulator's clock 15 minutes ahead: the first call costs exactly one
/// extra attempt, and later calls none.
#[tokio::test]
async fn a_clock_15_minutes_behind_costs_one_extra_attempt_once() {
    let emu = start(config().with_clock_skew(15 * 60)).await;
    let attempts = Arc::new(Attempts::default());
    let config = emu
        .client_config(REGION)
        .unwrap()
        .with_interceptor(Arc::clone(&attempts));
    let client = Client::from_config(config).unwrap();
    let sent = || attempts.0.load(Ordering::Relaxed);
    client
        .call((DescribeInstancesRequest::default()).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent(), 2, "one extra attempt");
    assert_eq!(emu.request_count("DescribeInstances"), 1);
    let skew = client.runtime().clock_skew();
    assert!((15 * 60 - 5..=15 * 60 + 5).contains(&skew), "learned {skew} s");
    for n in 1..=5 {
        client
            .call((DescribeInstancesRequest::default()).clone())
            .send()
            .await
            .unwrap();
        assert_eq!(sent(), 2 + n, "no extra attempt");
    }
    // Clients made from the same runtime share what was learned.
    let sibling = Client::new(client.runtime());
    sibling
        .call((DescribeInstancesRequest::default()).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent(), 8);
    assert_eq!(emu.request_count("DescribeInstances"), 7);
}

/// A server that always throttles: each call fails with the throttling code
/// after the configured attempts, within its deadline; under sustained
/// failure the client's retry budget caps what is sent.
#[tokio::test]
async fn an_always_throttling_server_gets_a_bounded_multiple_of_the_calls() {
    let emu = start(faulty(FaultConfig {
        request_limit_exceeded: 1.0,
        ..FaultConfig::default()
    }))
    .await;
    let client = client(&emu, quick_retries(3), RetryBudget::standard());
    // The attempts, not the deadline, end the call: three requests, and
    // the call over well before its deadline (a third of it, room for a
    // loaded machine; the backoffs sum to 30 ms at most).
    let deadline = Duration::from_secs(60);
    let started = Instant::now();
    let err = client
        .with_options(CallOptions::new().with_deadline(deadline))
        .call((DescribeInstancesRequest::default()).clone())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_throttling(), "{err}");
    assert_eq!(err.code(), Some("RequestLimitExceeded"));
    assert_eq!(err.attempts(), 3);
    assert_eq!(emu.request_count("DescribeInstances"), 3);
    assert!(started.elapsed() < deadline / 3, "{:?}", started.elapsed());
    assert!(err.to_string().contains("(after 3 attempts)"), "{err}");

    const CALLS: u64 = 300;
    for _ in 1..CALLS {
        assert!(client
            .call((DescribeInstancesRequest::default()).clone())
            .send()
            .await
            .unwrap_err()
            .is_throttling());
    }
    let sent = emu.request_count("DescribeInstances");
    eprintln!("{CALLS} calls against an always-throttling server sent {sent} requests");
    assert!(sent < CALLS * 3, "the budget must cap retries: {sent}");
    assert!(
        sent <= CALLS + 100,
        "at most the bucket's 500 tokens / 5 per retry: {sent}"
    );
}
