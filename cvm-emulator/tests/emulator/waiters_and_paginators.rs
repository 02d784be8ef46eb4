//! The generated paginators and waiters of `cvm-api`, end to end against the
//! emulator: every instance once over 250, paging while instances come and
//! go, a throttled page, each waiter, a failed launch, the deadline, and
//! 100 concurrent waiters with the number of polls they cost.

use std::collections::{BTreeSet, HashSet};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use cvm_api::runtime::{AttemptOutcome, Interceptor};
use cvm_api::types::*;
use cvm_api::{Client, RetryConfig, WaitError, WaitOptions};
use cvm_emulator::{RunningEmulator, LAUNCH_FAILURE_IMAGE_ID};
use futures::{StreamExt, TryStreamExt};

fn fast() -> WaitOptions {
    WaitOptions::new().with_delays(Duration::from_millis(50), Duration::from_millis(200))
}

fn client_of(emulator: &RunningEmulator) -> Client {
    emulator.client(REGION).unwrap()
}

#[tokio::test]
async fn two_hundred_fifty_instances_each_once_with_all_and_with_the_item_stream() {
    let (emulator, ids) = seeded(config(), 250, "RUNNING").await;
    let client = client_of(&emulator);
    let before = emulator.request_count("DescribeInstances");
    let items: Vec<Instance> = client
        .call((DescribeInstancesRequest::default()).clone())
        .into_paginator()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<String> = items.into_iter().map(|i| i.instance_id).collect();
    assert_eq!(seen.len(), 250);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>(),
        ids.iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        emulator.request_count("DescribeInstances") - before,
        3,
        "pages of 100, 100 and 50"
    );

    // The example, with --all and without.
    let binary = example_binary("describe_instances");
    // Run off the runtime's thread: the emulator answers on it.
    let run = |args: &'static [&'static str]| {
        let mut command = Command::new(&binary);
        command
            .args(args)
            .env_clear()
            .env("TENCENTCLOUD_SECRET_ID", cvm_emulator::DEMO_SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", cvm_emulator::DEMO_SECRET_KEY)
            .env("TENCENTCLOUD_REGION", REGION)
            .env("TENCENTCLOUD_ENDPOINT", emulator.endpoint_url());
        async move {
            let output = tokio::task::spawn_blocking(move || command.output().unwrap())
                .await
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).unwrap()
        }
    };
    let all = run(&["--all"]).await;
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.last(), Some(&"250 instance(s)"));
    let listed: BTreeSet<&str> = lines[..lines.len() - 1]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(listed.len(), 250);
    assert!(ids.iter().all(|id| listed.contains(id.as_str())));
    let first = run(&[]).await;
    assert!(
        first.ends_with("100 of 250 instance(s); --all lists every page\n"),
        "{first}"
    );
}

#[tokio::test]
async fn instances_added_and_removed_while_paging() {
    let (emulator, ids) = seeded(config(), 150, "RUNNING").await;
    let client = client_of(&emulator);
    let mut pages = std::pin::pin!(client
        .call((DescribeInstancesRequest::default()).clone())
        .into_paginator()
        .by_page());
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!((first.instance_set.len(), first.total_count), (100, 150));
    let mut seen: Vec<String> = first.instance_set.iter().map(|i| i.instance_id.clone()).collect();

    // Between pages: 10 new instances (listed last), and 5 of the first page
    // terminated (gone at once: transitions take no time here).
    let added = client
        .call((launch_request("img-pmqg1cw7", 10)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let removed: Vec<String> = ids[..5].to_vec();
    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = removed.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    while let Some(page) = pages.next().await {
        seen.extend(page.unwrap().instance_set.into_iter().map(|i| i.instance_id));
    }
    // What offset paging does, as documented: nothing twice, every addition
    // (at the end) seen, and one instance skipped per removal before the
    // offset: ids[100..105] slid back onto the first page's offsets.
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no instance twice");
    assert!(added.iter().all(|id| unique.contains(id)));
    let skipped: Vec<&String> = ids[100..].iter().filter(|id| !unique.contains(id)).collect();
    assert_eq!(skipped, ids[100..105].iter().collect::<Vec<_>>());
    assert_eq!(seen.len(), 100 + 45 + 10);
}

/// Counts attempts answered with throttling.
#[derive(Debug, Default, Clone)]
struct Throttled(Arc<AtomicU64>);

impl Interceptor for Throttled {
    fn after_attempt(&self, outcome: &AttemptOutcome<'_>) {
        if outcome.error_code() == Some("RequestLimitExceeded") {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test]
async fn a_throttled_page_is_retried_like_any_call() {
    // One DescribeInstances a second: the second page comes too soon.
    let (emulator, ids) = seeded(config().with_rate_limit(Some(1)), 250, "RUNNING").await;
    let throttled = Throttled::default();
    let config = emulator
        .client_config(REGION)
        .unwrap()
        .with_retry(RetryConfig::standard().with_max_attempts(10))
        .with_interceptor(throttled.clone());
    let client = Client::from_config(config).unwrap();
    let items: Vec<Instance> = client
        .call((DescribeInstancesRequest::default()).clone())
        .into_paginator()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    let seen: BTreeSet<String> = items.into_iter().map(|i| i.instance_id).collect();
    assert_eq!(seen, ids.into_iter().collect::<BTreeSet<_>>());
    assert!(
        throttled.0.load(Ordering::Relaxed) >= 1,
        "a page was throttled and retried"
    );
}

#[tokio::test]
async fn each_waiter_reaches_success() {
    let emulator = start(config().with_transition(Duration::from_millis(300))).await;
    let client = client_of(&emulator);
    let ids = client
        .call((launch_request("img-pmqg1cw7", 2)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let outcome = client.wait_until_instances_running(&ids, &fast()).await.unwrap();
    assert!(outcome.polls >= 2, "PENDING first, then RUNNING");
    assert!(outcome
        .response
        .instance_set
        .iter()
        .all(|i| i.instance_state == "RUNNING"));
    client
        .wait_until_latest_operation_succeeded(&ids, &fast())
        .await
        .unwrap();

    client
        .call({
            let mut new_value = StopInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    client.wait_until_instances_stopped(&ids, &fast()).await.unwrap();
    let latest = client
        .wait_until_latest_operation_succeeded(&ids, &fast())
        .await
        .unwrap();
    assert!(latest
        .response
        .instance_set
        .iter()
        .all(|i| i.latest_operation.as_deref() == Some("StopInstances")));

    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    let gone = client
        .wait_until_instances_terminated(&ids, &fast())
        .await
        .unwrap();
    assert!(
        gone.response.instance_set.is_empty(),
        "terminated instances leave the listing"
    );
}

/// The waiter polls through PENDING and fails at the first poll that shows
/// LAUNCH_FAILED, not at its deadline: a count of polls, which a loaded
/// machine can only lower, and a time a third of the deadline.
#[tokio::test]
async fn a_failed_launch_fails_the_waiter_at_once() {
    let transition = Duration::from_millis(300);
    let emulator = start(config().with_transition(transition)).await;
    let client = client_of(&emulator);
    let ids = client
        .call((launch_request(LAUNCH_FAILURE_IMAGE_ID, 1)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let deadline = Duration::from_secs(60);
    let before = emulator.request_count("DescribeInstances");
    let started = Instant::now();
    let error = client
        .wait_until_instances_running(&ids, &fast().with_deadline(deadline))
        .await
        .unwrap_err();
    assert!(started.elapsed() < deadline / 3, "{:?}", started.elapsed());
    let calls = emulator.request_count("DescribeInstances") - before;
    match &error {
        WaitError::Failed { id, value, polls, .. } => {
            assert_eq!(id.as_deref(), Some(ids[0].as_str()));
            assert_eq!(value, "LAUNCH_FAILED");
            assert_eq!(calls, u64::from(*polls), "one call per poll");
            // Polls are at least 50 ms apart (`fast`): at most 300 / 50 + 1
            // of them saw PENDING, then one saw LAUNCH_FAILED. Waiting on to
            // the deadline would have taken hundreds.
            let most = transition.as_millis() as u64 / 50 + 2;
            assert!(calls <= most, "{calls} polls, at most {most} expected");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().starts_with(&format!(
        "InstancesRunning: {} InstanceState is LAUNCH_FAILED",
        ids[0]
    )));
    let error = client
        .wait_until_latest_operation_succeeded(&ids, &fast())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("LatestOperationState is FAILED"),
        "{error}"
    );
}

/// Waiting for a state the instance is not heading to fails at the first
/// poll that shows it, as EC2's waiters do, instead of running out the
/// deadline: RUNNING after a stop, STOPPED after a start.
#[tokio::test]
async fn a_waiter_fails_at_once_on_a_state_that_does_not_lead_to_it() {
    let transition = Duration::from_secs(60);
    let (emulator, ids) = seeded(config().with_transition(transition), 1, "RUNNING").await;
    let client = client_of(&emulator);
    let mut stop = StopInstancesRequest::default();
    stop.instance_ids = ids.clone();
    client.call(stop).send().await.unwrap();

    let deadline = fast().with_deadline(transition);
    let before = emulator.request_count("DescribeInstances");
    let error = client
        .wait_until_instances_running(&ids, &deadline)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, WaitError::Failed { value, .. } if value == "STOPPING"),
        "{error:?}"
    );
    assert_eq!(
        emulator.request_count("DescribeInstances") - before,
        1,
        "one poll"
    );
    // And the stopped waiter, on the same instance, would succeed in time:
    // STOPPING leads to STOPPED.
    assert!(client
        .wait_until_instances_stopped(&ids, &fast().with_deadline(Duration::from_millis(300)))
        .await
        .unwrap_err()
        .to_string()
        .contains("gave up after"));
}

#[tokio::test]
async fn the_deadline_says_what_was_last_seen() {
    let emulator = start(config().with_transition(Duration::from_secs(60))).await;
    let client = client_of(&emulator);
    let ids = client
        .call((launch_request("img-pmqg1cw7", 1)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let started = Instant::now();
    let error = client
        .wait_until_instances_running(&ids, &fast().with_deadline(Duration::from_millis(600)))
        .await
        .unwrap_err();
    // Given up at the deadline, not at the end of the 60 s transition: a
    // third of it leaves room for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let text = error.to_string();
    assert!(text.starts_with("InstancesRunning: gave up after"), "{text}");
    assert!(
        text.ends_with(&format!("last seen: {} PENDING", ids[0])),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_waiters_finish_with_bounded_polls() {
    let transition = Duration::from_secs(1);
    let emulator = start(config().with_transition(transition)).await;
    let client = client_of(&emulator);
    let ids = client
        .call((launch_request("img-pmqg1cw7", 100)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    assert_eq!(ids.len(), 100);
    let options = WaitOptions::new()
        .with_delays(Duration::from_millis(100), Duration::from_millis(400))
        .with_deadline(Duration::from_secs(30));
    let before = emulator.request_count("DescribeInstances");
    let started = Instant::now();
    let waits = ids.iter().map(|id| {
        let client = client.clone();
        let options = options.clone();
        let id = vec![id.clone()];
        tokio::spawn(async move {
            client
                .wait_until_instances_running(&id, &options)
                .await
                .map(|o| o.polls)
        })
    });
    let polls: Vec<u32> = futures::future::try_join_all(waits)
        .await
        .unwrap()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let elapsed = started.elapsed();
    let calls = emulator.request_count("DescribeInstances") - before;
    assert_eq!(
        calls,
        polls.iter().map(|p| u64::from(*p)).sum::<u64>(),
        "one call per poll"
    );
    // Each waiter polls at least every 400 ms and at most every 100 ms
    // until the transition ends: a handful of polls each.
    let bound = 100 * (transition.as_millis() as u64 / 100 + 2);
    assert!(calls <= bound, "{calls} DescribeInstances calls, bound {bound}");

    // The same wait as one waiter over all 100 ids: one call per poll.
    let more = client
        .call((launch_request("img-pmqg1cw7", 100)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let before = emulator.request_count("DescribeInstances");
    let one = client
        .wait_until_instances_running(&more, &options)
        .await
        .unwrap();
    let one_calls = emulator.request_count("DescribeInstances") - before;
    println!(
        "100 waiters on one instance each: {calls} DescribeInstances calls in {:.2} s (max {} polls per waiter); \
         one waiter on 100 instances: {one_calls} calls",
        elapsed.as_secs_f64(),
        polls.iter().max().unwrap()
    );
    assert_eq!(one_calls, u64::from(one.polls));
    assert!(one_calls <= transition.as_millis() as u64 / 100 + 2);
}
