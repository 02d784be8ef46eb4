//! Our `cvm-api` client against the emulator: real HTTP, real signatures,
//! answers decoded into the typed responses and error variants.

use std::time::{Duration, Instant};

use crate::common::*;
use cvm_api::errors::CommonErrorCode;
use cvm_api::types::*;
use cvm_api::{
    Client, Config, Credentials, DescribeInstancesError, Endpoint, Error, RebootInstancesError, SecretKey,
    StartInstancesError, StopInstancesError, TerminateInstancesError,
};
use cvm_emulator::{EmulatorConfig, RunningEmulator, DEMO_SECRET_ID};

fn client_with(emu: &RunningEmulator, id: &str, key: &str) -> Client {
    Client::from_config(
        Config::new(Credentials::new(id, SecretKey::new(key)))
            .with_endpoint(Endpoint::custom(&emu.endpoint_url()).unwrap())
            .with_region(REGION)
            .with_timeout(Duration::from_secs(10))
            // The emulator here enforces no rate limit: nor does the client.
            .with_rate_limit(cvm_api::runtime::RateLimitConfig::off()),
    )
    .unwrap()
}

fn run_request(count: i64) -> RunInstancesRequest {
    RunInstancesRequest::new()
        .set_placement(Placement::new().set_zone(ZONE))
        .set_image_id("img-9qabwvbn")
        .set_instance_type("S5.MEDIUM4")
        .set_instance_count(count)
        .set_instance_name("web")
}

async fn states(client: &Client, ids: &[String]) -> Vec<String> {
    let r = client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.instance_ids = Some(ids.to_vec());
            new_value
        })
        .send()
        .await
        .unwrap();
    ids.iter()
        .map(|id| {
            r.instance_set
                .iter()
                .find(|i| &i.instance_id == id)
                .map_or("GONE".to_owned(), |i| i.instance_state.to_string())
        })
        .collect()
}

/// Polls (bounded) until every instance is in `want`.
async fn wait_for(client: &Client, ids: &[String], want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = states(client, ids).await;
        if s.iter().all(|x| x == want) {
            return;
        }
        assert!(Instant::now() < deadline, "still {s:?}, wanted {want}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn whole_lifecycle_with_transitions() {
    // Long enough to observe each transitional state over HTTP, even on a busy machine.
    let emu = start(config().with_transition(Duration::from_millis(200))).await;
    let client = emu.client(REGION).unwrap();

    let run = client.call((run_request(2)).clone()).send().await.unwrap();
    let ids = run.instance_id_set.clone();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        assert!(id.starts_with("ins-") && id.len() == 12, "{id}");
    }
    let d = client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.instance_ids = Some(ids.clone());
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(d.total_count, 2);
    let first = &d.instance_set[0];
    assert_eq!(first.instance_state, "PENDING");
    assert_eq!(first.latest_operation.as_deref(), Some("RunInstances"));
    assert_eq!(
        first.latest_operation_state.as_ref().map(|v| v.as_str()),
        Some("OPERATING")
    );
    assert_eq!(
        first.latest_operation_request_id.as_deref(),
        Some(run.request_id.as_str())
    );
    assert_eq!(first.instance_type, "S5.MEDIUM4");
    assert_eq!((first.cpu, first.memory), (2, 4));
    assert_eq!(first.placement.zone, ZONE);
    assert_eq!(d.instance_set[0].instance_name, "web1");
    assert_eq!(d.instance_set[1].instance_name, "web2");
    assert!(first.created_time.ends_with('Z'));
    assert!(!first.uuid.is_empty());
    wait_for(&client, &ids, "RUNNING").await;

    let stop = client
        .call({
            let mut new_value = StopInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(states(&client, &ids).await, ["STOPPING", "STOPPING"]);
    wait_for(&client, &ids, "STOPPED").await;
    let d = client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.instance_ids = Some(ids.clone());
            new_value
        })
        .send()
        .await
        .unwrap();
    let i = &d.instance_set[0];
    assert_eq!(i.latest_operation.as_deref(), Some("StopInstances"));
    assert_eq!(
        i.latest_operation_state.as_ref().map(|v| v.as_str()),
        Some("SUCCESS")
    );
    assert_eq!(
        i.latest_operation_request_id.as_deref(),
        Some(stop.request_id.as_str())
    );
    assert_eq!(i.stop_charging_mode, "KEEP_CHARGING");

    client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(states(&client, &ids).await, ["STARTING", "STARTING"]);
    wait_for(&client, &ids, "RUNNING").await;

    client
        .call({
            let mut new_value = RebootInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(states(&client, &ids).await, ["REBOOTING", "REBOOTING"]);
    wait_for(&client, &ids, "RUNNING").await;

    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(states(&client, &ids).await, ["TERMINATING", "TERMINATING"]);
    wait_for(&client, &ids, "GONE").await;
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::InvalidInstanceIdNotFound(_))
        ),
        "{err:?}"
    );
    assert!(emu.shutdown().await.instances.is_empty());
}

#[tokio::test]
async fn state_errors_map_to_typed_variants() {
    let (emu, ids) = seeded(config(), 2, "RUNNING").await;
    let client = emu.client(REGION).unwrap();
    let one = vec![ids[0].clone()];

    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = one.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRunning(e)) => {
            assert!(e.message().contains(&ids[0]), "{}", e.message());
            assert!(uuid::Uuid::parse_str(e.request_id()).is_ok());
        }
        other => panic!("{other:?}"),
    }

    // Stop (instant), then stopping again is refused.
    client
        .call({
            let mut new_value = StopInstancesRequest::default();
            new_value.instance_ids = one.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    let err = client
        .call({
            let mut new_value = StopInstancesRequest::default();
            new_value.instance_ids = one.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StopInstancesError::UnsupportedOperationInstanceStateStopped(_))
        ),
        "{err:?}"
    );
    let err = client
        .call({
            let mut new_value = RebootInstancesRequest::default();
            new_value.instance_ids = one.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(RebootInstancesError::UnsupportedOperationInstanceStateStopped(_))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn transitional_states_are_refused() {
    // A long transition keeps the instances in their transitional states.
    let (emu, ids) = seeded(config().with_transition(Duration::from_secs(30)), 3, "RUNNING").await;
    let client = emu.client(REGION).unwrap();
    let stop = |id: &str| {
        let mut new_value = StopInstancesRequest::default();
        new_value.instance_ids = vec![id.to_owned()];
        new_value
    };
    client.call((stop(&ids[0])).clone()).send().await.unwrap();
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec![ids[0].clone()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::UnsupportedOperationInstanceStateStopping(_))
        ),
        "{err:?}"
    );
    let err = client.call((stop(&ids[0])).clone()).send().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StopInstancesError::UnsupportedOperationInstanceStateStopping(_))
        ),
        "{err:?}"
    );

    client
        .call({
            let mut new_value = RebootInstancesRequest::default();
            new_value.instance_ids = vec![ids[1].clone()];
            new_value
        })
        .send()
        .await
        .unwrap();
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec![ids[1].clone()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRebooting(_))
        ),
        "{err:?}"
    );

    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = vec![ids[2].clone()];
            new_value
        })
        .send()
        .await
        .unwrap();
    let err = client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = vec![ids[2].clone()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(TerminateInstancesError::UnsupportedOperationInstanceStateTerminating(_))
        ),
        "{err:?}"
    );
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec![ids[2].clone()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::UnsupportedOperationInstanceStateTerminating(
                _
            ))
        ),
        "{err:?}"
    );

    // A new instance is PENDING for the whole transition.
    let run = client.call((run_request(1)).clone()).send().await.unwrap();
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = run.instance_id_set.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::UnsupportedOperationInstanceStatePending(_))
        ),
        "{err:?}"
    );
    let snapshot = emu.state_snapshot();
    let pending = snapshot.instance(&ids[0]).unwrap().pending.as_ref().unwrap();
    assert_eq!(pending.target_state, "STOPPED");
}

/// StartInstances sent without the client's own checks.
async fn raw_start(client: &Client, ids: Vec<String>) -> StartInstancesError {
    let r: Result<StartInstancesResponse, _> = client
        .runtime()
        .call(
            "cvm",
            "2017-03-12",
            "StartInstances",
            &serde_json::json!({ "InstanceIds": ids }),
        )
        .await;
    match r {
        Err(Error::Service(e)) => StartInstancesError::from(e),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn id_errors() {
    let (emu, ids) = seeded(config(), 1, "STOPPED").await;
    // The client checks ids before sending; send what it refuses with `call`.
    let client = emu.client(REGION).unwrap();

    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec!["ins-00000000".into()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::InvalidInstanceIdNotFound(_))
        ),
        "{err:?}"
    );

    let e = raw_start(&client, vec!["ins-BAD".into()]).await;
    assert!(
        matches!(e, StartInstancesError::InvalidInstanceIdMalformed(_)),
        "{e:?}"
    );
    let e = raw_start(&client, vec![]).await;
    assert!(
        matches!(
            e,
            StartInstancesError::Common(CommonErrorCode::MissingParameter, _)
        ),
        "{e:?}"
    );
    let many: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
    let e = raw_start(&client, many).await;
    assert!(
        matches!(e, StartInstancesError::InvalidParameterValueLimitExceeded(_)),
        "{e:?}"
    );

    // Another region does not see the instance.
    let other = Client::from_config(emu.client_config("ap-shanghai").unwrap()).unwrap();
    let err = other
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::InvalidInstanceIdNotFound(_))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn batches_are_all_or_nothing() {
    let (emu, mut ids) = seeded(config(), 3, "STOPPED").await;
    let client = emu.client(REGION).unwrap();
    // Make the last one RUNNING.
    client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec![ids[2].clone()];
            new_value
        })
        .send()
        .await
        .unwrap();
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRunning(_))
        ),
        "{err:?}"
    );
    assert_eq!(states(&client, &ids).await, ["STOPPED", "STOPPED", "RUNNING"]);

    // An unknown id spoils the whole batch too.
    ids.truncate(2);
    ids.push("ins-zzzzzzzz".into());
    let err = client
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = ids.clone();
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Service(StartInstancesError::InvalidInstanceIdNotFound(ref e)) if e.message().contains("ins-zzzzzzzz")),
        "{err:?}"
    );
    let snapshot = emu.state_snapshot();
    let stopped = snapshot
        .instances
        .iter()
        .filter(|s| s.instance.instance_state == "STOPPED")
        .count();
    assert_eq!(stopped, 2);
}

#[tokio::test]
async fn paging_and_filters() {
    let emu = start(config()).await;
    let client = emu.client(REGION).unwrap();
    let mut req = run_request(5);
    req.instance_name = Some("api-{R:1}".into());
    let first = client.call(req.clone()).send().await.unwrap().instance_id_set;
    let mut req = run_request(2);
    req.placement.as_mut().unwrap().zone = "ap-guangzhou-4".into();
    req.instance_name = Some("db".into());
    let second = client.call(req.clone()).send().await.unwrap().instance_id_set;
    client
        .call({
            let mut new_value = StopInstancesRequest::default();
            new_value.instance_ids = vec![first[0].clone(), second[0].clone()];
            new_value
        })
        .send()
        .await
        .unwrap();

    let describe = |filters: Vec<(&str, Vec<&str>)>, offset: i64, limit: i64| {
        let mut new_value = DescribeInstancesRequest::default();
        new_value.filters = Some(
            filters
                .into_iter()
                .map(|(n, v)| {
                    let mut new_value = Filter::default();
                    new_value.name = n.into();
                    new_value.values = v.into_iter().map(String::from).collect();
                    new_value
                })
                .collect(),
        );
        new_value.offset = Some(offset);
        new_value.limit = Some(limit);
        new_value
    };
    // Paging over all 7, 3 at a time, in creation order.
    let mut seen = Vec::new();
    for page in 0..3 {
        let r = client
            .call((describe(vec![], page * 3, 3)).clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.total_count, 7);
        seen.extend(r.instance_set.into_iter().map(|i| i.instance_id));
    }
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();
    assert_eq!(seen, all);
    // Default limit 20; no filters at all.
    let r = client
        .call((DescribeInstancesRequest::default()).clone())
        .send()
        .await
        .unwrap();
    assert_eq!((r.total_count, r.instance_set.len()), (7, 7));

    let count = |r: DescribeInstancesResponse| (r.total_count, r.instance_set.len());
    let r = client
        .call((describe(vec![("zone", vec!["ap-guangzhou-4"])], 0, 20)).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(count(r), (2, 2));
    let r = client
        .call((describe(vec![("instance-state", vec!["STOPPED"])], 0, 20)).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(count(r), (2, 2));
    let r = client
        .call(
            (describe(
                vec![
                    ("instance-state", vec!["STOPPED"]),
                    ("zone", vec!["ap-guangzhou-3"]),
                ],
                0,
                20,
            ))
            .clone(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.instance_set[0].instance_id, first[0]);
    let r = client
        .call((describe(vec![("instance-name", vec!["api-"])], 0, 2)).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.total_count, 5);
    assert_eq!(r.instance_set[1].instance_name, "api-2");
    let r = client
        .call((describe(vec![("instance-id", vec![&second[1], &first[4]])], 0, 20)).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(count(r), (2, 2));
    let r = client
        .call((describe(vec![("instance-name", vec!["nothing"])], 0, 20)).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(count(r), (0, 0));

    // Status, paged.
    let r = client
        .call({
            let mut new_value = DescribeInstancesStatusRequest::default();
            new_value.offset = Some(5);
            new_value.limit = Some(5);
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.total_count, 7);
    assert_eq!(r.instance_status_set.len(), 2);
    assert_eq!(r.instance_status_set[1].instance_id, second[1]);
    assert_eq!(r.instance_status_set[0].instance_state, "STOPPED");

    // Filter errors.
    let err = client
        .call((describe(vec![("colour", vec!["red"])], 0, 20)).clone())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Service(DescribeInstancesError::InvalidFilter(_))),
        "{err:?}"
    );
    let err = client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.instance_ids = Some(vec![first[0].clone()]);
            new_value.filters = Some(vec![{
                let mut new_value = Filter::default();
                new_value.name = "zone".into();
                new_value.values = vec![ZONE.into()];
                new_value
            }]);
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(DescribeInstancesError::Common(
                CommonErrorCode::InvalidParameter,
                _
            ))
        ),
        "{err:?}"
    );
    let err = client
        .call((describe(vec![("zone", vec!["a", "b", "c", "d", "e", "f"])], 0, 20)).clone())
        .send()
        .await;
    // The client may refuse this itself; if sent, the emulator refuses it.
    if let Err(Error::Service(e)) = err {
        assert_eq!(e.code(), "InvalidFilterValue.LimitExceeded");
    }
}

#[tokio::test]
async fn run_instances_options_and_errors() {
    let emu = start(config()).await;
    let client = emu.client(REGION).unwrap();
    let mut req = run_request(1);
    req.client_token = Some("token-1".into());
    req.internet_accessible = Some({
        let mut new_value = InternetAccessible::default();
        new_value.internet_max_bandwidth_out = Some(10);
        new_value
    });
    req.login_settings = Some({
        let mut new_value = LoginSettings::default();
        new_value.password = Some("Secret-Passw0rd".into());
        new_value
    });
    req.tag_specification = Some(vec![{
        let mut new_value = TagSpecification::default();
        new_value.resource_type = "instance".into();
        new_value.tags = vec![{
            let mut new_value = Tag::default();
            new_value.key = "team".into();
            new_value.value = "infra".into();
            new_value
        }];
        new_value
    }]);
    let a = client.call(req.clone()).send().await.unwrap();
    let b = client.call(req.clone()).send().await.unwrap();
    assert_eq!(
        a.instance_id_set, b.instance_id_set,
        "ClientToken makes RunInstances idempotent"
    );
    let d = client
        .call({
            let mut new_value = DescribeInstancesRequest::default();
            new_value.instance_ids = Some(a.instance_id_set.clone());
            new_value
        })
        .send()
        .await
        .unwrap();
    let i = &d.instance_set[0];
    assert_eq!(i.instance_state, "RUNNING");
    assert_eq!(i.public_ip_addresses.as_ref().map(Vec::len), Some(1));
    assert_eq!(i.tags[0].key, "team");
    assert_eq!(i.login_settings.password, None);
    assert!(!serde_json::to_string(&emu.state_snapshot())
        .unwrap()
        .contains("Secret-Passw0rd"));

    let code_of = |r: Result<RunInstancesResponse, Error<cvm_api::RunInstancesError>>| match r {
        Err(Error::Service(e)) => e.code().to_owned(),
        other => panic!("{other:?}"),
    };
    let mut bad = run_request(1);
    bad.placement.as_mut().unwrap().zone = "ap-shanghai-2".into();
    assert_eq!(
        code_of(client.call(bad.clone()).send().await),
        "InvalidZone.MismatchRegion"
    );
    let mut bad = run_request(1);
    bad.image_id = Some("ubuntu".into());
    assert_eq!(
        code_of(client.call(bad.clone()).send().await),
        "InvalidImageId.Malformed"
    );
    let mut bad = run_request(1);
    bad.instance_type = Some("huge".into());
    assert_eq!(
        code_of(client.call(bad.clone()).send().await),
        "InvalidInstanceType.Malformed"
    );
    let mut bad = run_request(1);
    bad.placement = None;
    assert_eq!(code_of(client.call(bad.clone()).send().await), "MissingParameter");
    let mut dry = run_request(1);
    dry.dry_run = Some(true);
    assert_eq!(code_of(client.call(dry.clone()).send().await), "DryRunOperation");
    let before = emu.state_snapshot().instances.len();
    assert_eq!(before, 1);
}

#[tokio::test]
async fn quota() {
    let emu = start(EmulatorConfig {
        max_instances: 3,
        ..config()
    })
    .await;
    let client = emu.client(REGION).unwrap();
    client.call((run_request(2)).clone()).send().await.unwrap();
    let err = client.call((run_request(2)).clone()).send().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(cvm_api::RunInstancesError::InstancesQuotaLimitExceeded(_))
        ),
        "{err:?}"
    );
}

#[test]
fn the_quota_holds_for_a_loaded_state_and_stays_below_the_address_space() {
    let four = (1..=4).fold(cvm_emulator::State::new(), |state, n| {
        state.with_instance(cvm_emulator::StoredInstance::new(
            format!("ins-0000000{n}"),
            ZONE,
            "RUNNING",
        ))
    });
    let err = cvm_emulator::Emulator::new(EmulatorConfig {
        max_instances: 3,
        initial_state: Some(four),
        ..config()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("4 instances, more than the emulator's quota of 3"),
        "{err}"
    );
    // One of them terminating (as a crash leaves it: the journal never
    // records the end of a termination): within the quota.
    let mut leaving = (1..=4).fold(cvm_emulator::State::new(), |state, n| {
        state.with_instance(cvm_emulator::StoredInstance::new(
            format!("ins-0000000{n}"),
            ZONE,
            "RUNNING",
        ))
    });
    leaving.instances[0].instance.instance_state = "TERMINATING".into();
    leaving.instances[0].pending = Some(cvm_emulator::PendingTransition {
        target_state: cvm_emulator::TERMINATED.to_owned(),
        completes_at_ms: 0,
    });
    let emu = cvm_emulator::Emulator::new(EmulatorConfig {
        max_instances: 3,
        initial_state: Some(leaving),
        ..config()
    })
    .unwrap();
    assert_eq!(emu.state_snapshot().instances.len(), 3);
    // Every instance gets a private address of its own: no more than there are.
    let err = cvm_emulator::Emulator::new(EmulatorConfig {
        max_instances: 65_024,
        ..config()
    })
    .unwrap_err();
    assert!(matches!(err, cvm_emulator::StartError::Config(_)), "{err}");
    assert!(cvm_emulator::Emulator::new(EmulatorConfig {
        max_instances: 65_023,
        ..config()
    })
    .is_ok());
}

#[tokio::test]
async fn authentication_errors() {
    let emu = start(config().with_credential("AKIDsecond", SecretKey::new("second-key"))).await;
    let req = {
        let mut new_value = StartInstancesRequest::default();
        new_value.instance_ids = vec!["ins-00000000".into()];
        new_value
    };

    let wrong_key = client_with(&emu, DEMO_SECRET_ID, "not-the-key");
    let err = wrong_key.call(req.clone()).send().await.unwrap_err();
    match &err {
        Error::Service(StartInstancesError::Common(CommonErrorCode::AuthFailureSignatureFailure, e)) => {
            assert!(!e.message().contains("not-the-key"));
        }
        other => panic!("{other:?}"),
    }

    let unknown = client_with(&emu, "AKIDunknown", "whatever");
    let err = unknown.call(req.clone()).send().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::Common(
                CommonErrorCode::AuthFailureSecretIdNotFound,
                _
            ))
        ),
        "{err:?}"
    );

    // The second credential works.
    let second = client_with(&emu, "AKIDsecond", "second-key");
    let err = second.call(req.clone()).send().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::InvalidInstanceIdNotFound(_))
        ),
        "{err:?}"
    );

    // Without a region, instance actions are refused.
    let no_region = Client::from_config(
        Config::new(Credentials::new(
            DEMO_SECRET_ID,
            SecretKey::new(cvm_emulator::DEMO_SECRET_KEY),
        ))
        .with_endpoint(Endpoint::custom(&emu.endpoint_url()).unwrap()),
    )
    .unwrap();
    // Refused by the client before sending (the spec says StartInstances needs one)...
    let err = no_region.call(req.clone()).send().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(e) if e.violations[0].path.to_string() == "region"),
        "{err:?}"
    );
    // ...and by the emulator when the region is missing all the same.
    let err = no_region
        .runtime()
        .call::<_, serde_json::Value>("cvm", "2017-03-12", "StartInstances", &req)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Service(e) if e.code() == "MissingParameter" && e.message().contains("Region")),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limit() {
    let emu = start(config().with_rate_limit(Some(3))).await;
    // Throttling is retried by default, and the client would learn to slow
    // down: here every refusal of the emulator's own limit must show.
    let client = emu.client(REGION).unwrap().with_options(
        cvm_api::CallOptions::new()
            .with_retry(cvm_api::runtime::RetryConfig::disabled())
            .with_rate_limit(cvm_api::runtime::RateLimit::Off),
    );
    let req = DescribeInstancesRequest::default();
    let mut limited = 0;
    for _ in 0..6 {
        match client.call(req.clone()).send().await {
            Ok(_) => {}
            Err(Error::Service(DescribeInstancesError::Common(CommonErrorCode::RequestLimitExceeded, _))) => {
                limited += 1
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(limited >= 2, "{limited} of 6 limited");
    // Per action: another action still has its budget.
    client
        .call((DescribeInstancesStatusRequest::default()).clone())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn unemulated_actions_get_a_proper_error() {
    let emu = start(config()).await;
    let client = emu.client(REGION).unwrap();
    let err = client
        .call((DescribeHostsRequest::default()).clone())
        .send()
        .await
        .unwrap_err();
    match err {
        Error::Service(e) => {
            assert_eq!(e.code(), "UnsupportedOperation");
            assert!(
                e.message().contains("DescribeHosts is not emulated")
                    && e.message().contains("StartInstances"),
                "{}",
                e.message()
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn concurrent_clients_never_lose_or_double_a_transition() {
    let (emu, ids) = seeded(config(), 4, "STOPPED").await;
    let client = emu.client(REGION).unwrap();
    // 32 concurrent starts of the same instance: exactly one succeeds.
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let client = client.clone();
        let id = ids[0].clone();
        tasks.push(tokio::spawn(async move {
            client
                .call({
                    let mut new_value = StartInstancesRequest::default();
                    new_value.instance_ids = vec![id];
                    new_value
                })
                .send()
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRunning(_))) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 1);

    // Interleaved stop/start on the others: every call is answered and the
    // final state is consistent with the successes.
    let mut tasks = Vec::new();
    for n in 0..48 {
        let client = client.clone();
        let id = ids[1 + n % 3].clone();
        tasks.push(tokio::spawn(async move {
            if n % 2 == 0 {
                client
                    .call({
                        let mut new_value = StartInstancesRequest::default();
                        new_value.instance_ids = vec![id.clone()];
                        new_value
                    })
                    .send()
                    .await
                    .map(|_| (id, 1i32))
                    .map_err(|e| e.to_string())
            } else {
                client
                    .call({
                        let mut new_value = StopInstancesRequest::default();
                        new_value.instance_ids = vec![id.clone()];
                        new_value
                    })
                    .send()
                    .await
                    .map(|_| (id, -1i32))
                    .map_err(|e| e.to_string())
            }
        }));
    }
    let mut balance = std::collections::HashMap::new();
    for t in tasks {
        if let Ok((id, delta)) = t.await.unwrap() {
            *balance.entry(id).or_insert(0) += delta;
        }
    }
    let snapshot = emu.state_snapshot();
    for id in &ids[1..] {
        let b = balance.get(id).copied().unwrap_or(0);
        let state = &snapshot.instance(id).unwrap().instance.instance_state;
        // Starts and stops alternate from STOPPED: one more start means RUNNING.
        match b {
            0 => assert_eq!(state, "STOPPED"),
            1 => assert_eq!(state, "RUNNING"),
            other => panic!("{id}: impossible balance {other}"),
        }
    }
}

#[tokio::test]
async fn client_token_is_forgotten_once_its_instances_are_gone() {
    let emu = start(config()).await;
    let client = emu.client(REGION).unwrap();
    let mut req = run_request(2);
    req.client_token = Some("token-gone".into());
    let a = client.call(req.clone()).send().await.unwrap();
    assert_eq!(
        client.call(req.clone()).send().await.unwrap().instance_id_set,
        a.instance_id_set
    );
    client
        .call({
            let mut new_value = TerminateInstancesRequest::default();
            new_value.instance_ids = a.instance_id_set.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
    assert!(emu.state_snapshot().instances.is_empty());
    // The token no longer names anything: a new batch is created.
    let b = client.call(req.clone()).send().await.unwrap();
    assert_eq!(b.instance_id_set.len(), 2);
    assert!(b.instance_id_set.iter().all(|id| !a.instance_id_set.contains(id)));
}
