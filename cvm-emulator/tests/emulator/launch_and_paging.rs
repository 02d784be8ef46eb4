//! What the SDK's waiters and paginators rely on, end to end through our
//! client: a launch that fails (LAUNCH_FAILED, operation FAILED), a normal
//! one, termination (TERMINATING, then gone), Offset/Limit paging of
//! DescribeInstances and DescribeInstancesStatus (stable order, TotalCount,
//! limits), paging while instances come and go, and what `request_count`
//! counts.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::common::*;
use cvm_api::types::*;
use cvm_api::Client;
use cvm_emulator::{
    Emulator, EmulatorConfig, FaultConfig, StartError, LAUNCH_FAILURE_IMAGE_ID, MAX_FAILING_IMAGES,
};
use serde_json::json;

/// The instances `ids` as DescribeInstances returns them (absent ones left out).
async fn describe_ids(client: &Client, ids: &[String]) -> Vec<Instance> {
    client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.instance_ids = Some(ids.to_vec());
            new_value
        })
        .send()
        .await
        .unwrap()
        .instance_set
}

/// Polls (bounded: 10 s) until `done` holds for the instances `ids`.
async fn wait_until(
    client: &Client,
    ids: &[String],
    what: &str,
    done: impl Fn(&[Instance]) -> bool,
) -> Vec<Instance> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let set = describe_ids(client, ids).await;
        if done(&set) {
            return set;
        }
        let states: Vec<&str> = set.iter().map(|i| i.instance_state.as_str()).collect();
        assert!(Instant::now() < deadline, "still {states:?}, waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn page(offset: Option<i64>, limit: Option<i64>) -> DescribeInstancesRequest {
    {
        let mut new_value = DescribeInstancesRequest::default();
        new_value.offset = offset;
        new_value.limit = limit;
        new_value
    }
}

fn ids_of(set: &[Instance]) -> Vec<String> {
    set.iter().map(|i| i.instance_id.clone()).collect()
}

/// Every instance of the region by pages of 100; asserts TotalCount on each page.
async fn list_all(client: &Client) -> Vec<String> {
    let mut out = Vec::new();
    // Bounded: the emulator holds at most a few hundred instances here.
    for _ in 0..20 {
        let r = client
            .call((page(Some(out.len() as i64), Some(100))).clone())
            .send()
            .await
            .unwrap();
        let n = r.instance_set.len();
        out.extend(ids_of(&r.instance_set));
        if n == 0 || out.len() as i64 >= r.total_count {
            assert_eq!(out.len() as i64, r.total_count);
            return out;
        }
    }
    panic!("more than 20 pages");
}

#[tokio::test]
async fn failing_image_ends_in_launch_failed_and_a_normal_image_in_running() {
    // Long enough to see PENDING over HTTP even on a busy machine.
    let emu = start(config().with_transition(Duration::from_millis(800))).await;
    let client = emu.client(REGION).unwrap();

    let failing = client
        .call((launch_request(LAUNCH_FAILURE_IMAGE_ID, 2)).clone())
        .send()
        .await
        .unwrap();
    let normal = client
        .call((launch_request("img-9qabwvbn", 1)).clone())
        .send()
        .await
        .unwrap();
    let failed_ids = failing.instance_id_set.clone();
    let normal_ids = normal.instance_id_set.clone();
    assert_eq!((failed_ids.len(), normal_ids.len()), (2, 1));

    // Both launches are accepted and under way.
    for i in describe_ids(&client, &[failed_ids.clone(), normal_ids.clone()].concat()).await {
        assert_eq!(i.instance_state, "PENDING", "{}", i.instance_id);
        assert_eq!(i.latest_operation.as_deref(), Some("RunInstances"));
        assert_eq!(
            i.latest_operation_state.as_ref().map(|v| v.as_str()),
            Some("OPERATING")
        );
    }

    let failed = wait_until(&client, &failed_ids, "LAUNCH_FAILED", |set| {
        set.len() == 2 && set.iter().all(|i| i.instance_state != "PENDING")
    })
    .await;
    for i in &failed {
        assert_eq!(i.instance_state, "LAUNCH_FAILED", "{}", i.instance_id);
        assert_eq!(i.latest_operation.as_deref(), Some("RunInstances"));
        assert_eq!(
            i.latest_operation_state.as_ref().map(|v| v.as_str()),
            Some("FAILED")
        );
        assert_eq!(
            i.latest_operation_request_id.as_deref(),
            Some(failing.request_id.as_str())
        );
        let why = i.latest_operation_error_msg.as_deref().unwrap_or("");
        assert!(why.contains(LAUNCH_FAILURE_IMAGE_ID), "{why}");
        assert_eq!(i.image_id, LAUNCH_FAILURE_IMAGE_ID);
    }
    let ok = wait_until(&client, &normal_ids, "RUNNING", |set| {
        set.len() == 1 && set[0].instance_state != "PENDING"
    })
    .await;
    assert_eq!(ok[0].instance_state, "RUNNING");
    assert_eq!(
        ok[0].latest_operation_state.as_ref().map(|v| v.as_str()),
        Some("SUCCESS")
    );
    assert_eq!(ok[0].latest_operation_error_msg.as_deref(), Some(""));
    assert_eq!(
        ok[0].latest_operation_request_id.as_deref(),
        Some(normal.request_id.as_str())
    );

    // The filter a waiter may use sees them too.
    let r = client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.filters = Some(vec![{
                let mut new_value = Filter::default();
                new_value.name = "instance-state".into();
                new_value.values = vec!["LAUNCH_FAILED".into()];
                new_value
            }]);
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.total_count, 2);
    // A failed launch cannot be started, only terminated.
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = failed_ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnsupportedOperation"), "{err}");
    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = failed_ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn configured_failing_images_fail_and_malformed_ones_are_refused() {
    let emu = start(config().with_failing_image("img-badimage")).await;
    let client = emu.client(REGION).unwrap();
    let ids = client
        .call((launch_request("img-badimage", 1)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    // Instant transitions: failed at once.
    let set = describe_ids(&client, &ids).await;
    assert_eq!(set[0].instance_state, "LAUNCH_FAILED");
    assert_eq!(
        set[0].latest_operation_state.as_ref().map(|v| v.as_str()),
        Some("FAILED")
    );
    // The built-in one still fails; others still launch.
    let ids = client
        .call((launch_request(LAUNCH_FAILURE_IMAGE_ID, 1)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    assert_eq!(
        describe_ids(&client, &ids).await[0].instance_state,
        "LAUNCH_FAILED"
    );
    let ids = client
        .call((launch_request("img-goodimag", 1)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    assert_eq!(describe_ids(&client, &ids).await[0].instance_state, "RUNNING");

    for bad in ["img-BADIMAGE", "img-short", "ins-abcd1234", ""] {
        let err = Emulator::new(EmulatorConfig::default().with_failing_image(bad)).unwrap_err();
        assert!(matches!(err, StartError::Config(_)), "{bad}: {err}");
        assert!(err.to_string().contains("malformed"), "{bad}: {err}");
    }
    let many = EmulatorConfig {
        failing_images: (0..=MAX_FAILING_IMAGES).map(|n| format!("img-{n:08}")).collect(),
        ..EmulatorConfig::default()
    };
    let err = Emulator::new(many).unwrap_err();
    assert!(err.to_string().contains("at most 100"), "{err}");
}

#[tokio::test]
async fn terminated_instances_are_terminating_then_gone() {
    let (emu, ids) = seeded(config().with_transition(Duration::from_millis(800)), 3, "RUNNING").await;
    let client = emu.client(REGION).unwrap();
    let doomed = ids[..2].to_vec();
    let terminate = client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = doomed.clone();
            new_value
        })
        .send()
        .await
        .unwrap();

    // Under way: still listed, TERMINATING, the operation OPERATING.
    let all = client.call((page(None, None)).clone()).send().await.unwrap();
    assert_eq!(all.total_count, 3);
    for i in all
        .instance_set
        .iter()
        .filter(|i| doomed.contains(&i.instance_id))
    {
        assert_eq!(i.instance_state, "TERMINATING");
        assert_eq!(i.latest_operation.as_deref(), Some("TerminateInstances"));
        assert_eq!(
            i.latest_operation_state.as_ref().map(|v| v.as_str()),
            Some("OPERATING")
        );
        assert_eq!(
            i.latest_operation_request_id.as_deref(),
            Some(terminate.request_id.as_str())
        );
    }

    // After the transition: gone from every listing.
    wait_until(&client, &doomed, "the instances to go", |set| set.is_empty()).await;
    let all = client.call((page(None, None)).clone()).send().await.unwrap();
    assert_eq!(
        (all.total_count, ids_of(&all.instance_set)),
        (1, vec![ids[2].clone()])
    );
    let by_id = client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.instance_ids = Some(doomed.clone());
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!((by_id.total_count, by_id.instance_set.len()), (0, 0));
    let status = client
        .call((DescribeInstancesStatusRequest::default()).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(status.total_count, 1);
    assert_eq!(status.instance_status_set[0].instance_id, ids[2]);
    // Acting on them: not found.
    let err = client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = doomed;
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidInstanceId.NotFound"), "{err}");
}

#[tokio::test]
async fn describe_instances_pages_partition_the_set_in_a_stable_order() {
    let (emu, ids) = seeded(config(), 250, "RUNNING").await;
    let client = emu.client(REGION).unwrap();

    let mut seen = Vec::new();
    for (offset, want) in [(0, 100), (100, 100), (200, 50)] {
        let r = client
            .call((page(Some(offset), Some(100))).clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.total_count, 250, "offset {offset}");
        assert_eq!(r.instance_set.len(), want, "offset {offset}");
        seen.extend(ids_of(&r.instance_set));
    }
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 250, "duplicates");
    // Oldest first: the seeds in their order.
    assert_eq!(seen, ids);

    // Past the end: empty, TotalCount unchanged.
    for offset in [250, 251, 1_000_000] {
        let r = client
            .call((page(Some(offset), Some(100))).clone())
            .send()
            .await
            .unwrap();
        assert_eq!((r.total_count, r.instance_set.len()), (250, 0), "offset {offset}");
    }
    // Default Limit 20; Limit 0 counts without listing.
    let r = client.call((page(None, None)).clone()).send().await.unwrap();
    assert_eq!(
        (r.total_count, ids_of(&r.instance_set)),
        (250, ids[..20].to_vec())
    );
    let r = client
        .call((page(Some(5), Some(0))).clone())
        .send()
        .await
        .unwrap();
    assert_eq!((r.total_count, r.instance_set.len()), (250, 0));
    // Limit above 100: our client refuses it before sending; the emulator too.
    let err = client
        .call((page(None, Some(101))).clone())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, cvm_api::Error::InvalidRequest(_)), "{err}");
    let r = Call::post("DescribeInstances", json!({"Limit": 101}))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "InvalidParameterValue", "{r}");
    assert!(message(&r).contains("100"), "{r}");

    // The same order on every call, and after state changes.
    for n in 0..3 {
        assert_eq!(list_all(&client).await, ids, "call {n}");
        let some = ids[(n * 50)..(n * 50 + 30)].to_vec();
        client
            .call({
                let mut new_value = StopInstancesRequest::default();
                new_value.instance_ids = some;
                new_value
            })
            .send()
            .await
            .unwrap();
    }
    assert_eq!(list_all(&client).await, ids);

    // TotalCount counts what matches the filters, not the page.
    let stopped = |offset| {
        let mut new_value = DescribeInstancesRequest::default();
        new_value.filters = Some(vec![{
            let mut new_value = Filter::default();
            new_value.name = "instance-state".into();
            new_value.values = vec!["STOPPED".into()];
            new_value
        }]);
        new_value.offset = Some(offset);
        new_value.limit = Some(50);
        new_value
    };
    let first = client.call((stopped(0)).clone()).send().await.unwrap();
    let second = client.call((stopped(50)).clone()).send().await.unwrap();
    assert_eq!((first.total_count, first.instance_set.len()), (90, 50));
    assert_eq!((second.total_count, second.instance_set.len()), (90, 40));
    let stopped_ids: Vec<String> = [ids_of(&first.instance_set), ids_of(&second.instance_set)].concat();
    let want: Vec<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| (i % 50) < 30 && *i < 150)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(stopped_ids, want);
}

#[tokio::test]
async fn describe_instances_status_pages_the_same_way() {
    let (emu, ids) = seeded(config(), 250, "STOPPED").await;
    let client = emu.client(REGION).unwrap();
    let status_page = |offset: Option<i64>, limit: Option<i64>| {
        let mut new_value = DescribeInstancesStatusRequest::default();
        new_value.offset = offset;
        new_value.limit = limit;
        new_value
    };
    let mut seen = Vec::new();
    for (offset, want) in [(0, 100), (100, 100), (200, 50)] {
        let r = client
            .call((status_page(Some(offset), Some(100))).clone())
            .send()
            .await
            .unwrap();
        assert_eq!((r.total_count, r.instance_status_set.len()), (250, want));
        assert!(r
            .instance_status_set
            .iter()
            .all(|s| s.instance_state == "STOPPED"));
        seen.extend(r.instance_status_set.into_iter().map(|s| s.instance_id));
    }
    assert_eq!(seen, ids);
    let r = client
        .call((status_page(Some(300), Some(100))).clone())
        .send()
        .await
        .unwrap();
    assert_eq!((r.total_count, r.instance_status_set.len()), (250, 0));
    let r = client
        .call((status_page(None, None)).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.instance_status_set.len(), 20);
    let r = Call::post("DescribeInstancesStatus", json!({"Limit": 101}))
        .send(&emu)
        .await;
    assert_eq!(code(&r), "InvalidParameterValue", "{r}");
}

#[tokio::test]
async fn paging_while_instances_are_created_and_terminated() {
    let (emu, ids) = seeded(config(), 150, "RUNNING").await;
    let client = emu.client(REGION).unwrap();

    let first = client
        .call((page(Some(0), Some(100))).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ids_of(&first.instance_set), ids[..100].to_vec());

    // Between pages: 5 new instances, and 3 not yet returned terminated.
    let created = client
        .call((launch_request("img-9qabwvbn", 5)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let removed = ids[120..123].to_vec();
    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = removed.clone();
            new_value
        })
        .send()
        .await
        .unwrap();

    // The next page: the rest of the old ones, then the new ones at the end.
    let second = client
        .call((page(Some(100), Some(100))).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(second.total_count, 152);
    let rest: Vec<String> = ids[100..]
        .iter()
        .filter(|id| !removed.contains(id))
        .cloned()
        .chain(created.iter().cloned())
        .collect();
    assert_eq!(ids_of(&second.instance_set), rest);
    // Together: every instance now present, once.
    let union: Vec<String> = [ids_of(&first.instance_set), ids_of(&second.instance_set)].concat();
    assert_eq!(union.iter().collect::<HashSet<_>>().len(), 152);
    assert_eq!(union, list_all(&client).await);

    // Removing instances already returned shifts the rest down: the next
    // page starts that many later (as with any Offset paging).
    let before = list_all(&client).await;
    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = before[..2].to_vec();
            new_value
        })
        .send()
        .await
        .unwrap();
    let shifted = client
        .call((page(Some(100), Some(100))).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(shifted.total_count, 150);
    assert_eq!(ids_of(&shifted.instance_set), before[102..].to_vec());
}

#[tokio::test]
async fn describe_instances_is_counted_when_refused_throttled_or_faulted() {
    let emu = start(config()).await;
    let count = || emu.request_count("DescribeInstances");
    let sent = [
        (json!({}), ""),
        (json!({"Limit": 101}), "InvalidParameterValue"),
        (json!({"Offset": -1}), "InvalidParameterValue"),
        (json!({"Limit": "many"}), "InvalidParameter"),
        (json!({"Nope": 1}), "UnknownParameter"),
        (
            json!({"InstanceIds": ["ins-abcd1234"], "Filters": [{"Name": "zone", "Values": ["z"]}]}),
            "InvalidParameter",
        ),
    ];
    for (n, (body, want)) in sent.iter().enumerate() {
        let r = Call::post("DescribeInstances", body.clone()).send(&emu).await;
        assert_eq!(code(&r), *want, "{body}: {r}");
        assert_eq!(count(), n as u64 + 1, "{body}");
    }
    // A region the service does not serve: counted too.
    let mut elsewhere = Call::post("DescribeInstances", json!({}));
    elsewhere.region = Some("xx-nowhere".into());
    assert_eq!(code(&elsewhere.send(&emu).await), "UnsupportedRegion");
    assert_eq!(count(), 7);
    // Not counted: no trusted action (bad signature, unknown version).
    let mut forged = Call::post("DescribeInstances", json!({}));
    forged.secret_key = "wrong".into();
    assert_eq!(code(&forged.send(&emu).await), "AuthFailure.SignatureFailure");
    let mut old = Call::post("DescribeInstances", json!({}));
    old.version = Some("2016-01-01".into());
    assert_eq!(code(&old.send(&emu).await), "NoSuchVersion");
    assert_eq!(count(), 7);
    // FaultStats counts only those whose parameters decoded (what faults
    // apply to): the first three and the InstanceIds-with-Filters one.
    assert_eq!(emu.fault_stats().requests, 4);

    // Throttled by the rate limit (1 a second, a burst of 1).
    let limited = start(config().with_rate_limit(Some(1))).await;
    let mut throttled = 0;
    for _ in 0..3 {
        let r = Call::post("DescribeInstances", json!({})).send(&limited).await;
        if code(&r) == "RequestLimitExceeded" {
            throttled += 1;
        }
    }
    assert!(throttled >= 1, "the rate limit never applied");
    assert_eq!(limited.request_count("DescribeInstances"), 3);

    // Throttled by an injected fault: counted, and through our client each
    // attempt is one request.
    let faulty = start(config().with_faults(FaultConfig {
        request_limit_exceeded: 1.0,
        seed: Some(1),
        ..FaultConfig::default()
    }))
    .await;
    let r = Call::post("DescribeInstances", json!({})).send(&faulty).await;
    assert_eq!(code(&r), "RequestLimitExceeded");
    assert_eq!(faulty.request_count("DescribeInstances"), 1);
}
