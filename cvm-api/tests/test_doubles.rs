//! The runtime's test doubles used as a user of `cvm-api` would: the
//! README's "Testing code that uses the SDK" samples, run.

use cvm_api::{
    Client, DescribeInstancesRequest, DescribeInstancesResponse, Instance, StartInstancesError,
    StartInstancesRequest, StartInstancesResponse,
};
use tencentcloud_runtime::test_util::{ExpectedRequest, RecordedResponse, ReplayTransport, Stubs};
use tencentcloud_runtime::{Error, ServiceError};

// README: stubs begin
/// The code under test: starts those of `ids` that are STOPPED, and says how many.
async fn start_stopped(cvm: &Client, ids: &[&str]) -> Result<usize, Box<dyn std::error::Error>> {
    let listed = cvm
        .describe_instances()
        .set_instance_ids(ids.iter().map(|id| id.to_string()))
        .send()
        .await?;
    let stopped: Vec<String> = listed
        .instance_set
        .into_iter()
        .filter(|i| i.instance_state == "STOPPED")
        .map(|i| i.instance_id)
        .collect();
    if !stopped.is_empty() {
        cvm.start_instances()
            .set_instance_ids(stopped.clone())
            .send()
            .await?;
    }
    Ok(stopped.len())
}

#[tokio::test]
async fn starts_only_the_stopped_instances() {
    let stubs = Stubs::new()
        .on::<DescribeInstancesRequest>(|_| {
            let instance =
                |id: &str, state: &str| Instance::new().set_instance_id(id).set_instance_state(state);
            Ok(DescribeInstancesResponse::new()
                .set_total_count(2)
                .set_instance_set(vec![
                    instance("ins-aaaaaaaa", "STOPPED"),
                    instance("ins-bbbbbbbb", "RUNNING"),
                ]))
        })
        .on::<StartInstancesRequest>(|request| {
            assert_eq!(request.instance_ids, ["ins-aaaaaaaa"]);
            Ok(StartInstancesResponse::new())
        });
    let runtime = tencentcloud_runtime::Client::new(stubs.config()).unwrap();
    let cvm = Client::new(&runtime);

    let started = start_stopped(&cvm, &["ins-aaaaaaaa", "ins-bbbbbbbb"])
        .await
        .unwrap();
    assert_eq!(started, 1);
    assert_eq!(stubs.calls::<StartInstancesRequest>(), 1);
}
// README: stubs end

// README: replay begin
#[tokio::test]
async fn a_running_instance_is_reported_as_such() {
    let replay = ReplayTransport::new([(
        ExpectedRequest::action("StartInstances")
            .with_region("ap-guangzhou")
            .with_body(serde_json::json!({"InstanceIds": ["ins-aaaaaaaa"]})),
        RecordedResponse::error("UnsupportedOperation.InstanceStateRunning", "already running"),
    )]);
    let runtime =
        tencentcloud_runtime::Client::new(tencentcloud_runtime::test_util::test_config(replay.clone()))
            .unwrap();
    let cvm = Client::new(&runtime);

    let err = cvm
        .start_instances()
        .instance_ids("ins-aaaaaaaa")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRunning(_))
    ));
    replay.assert_requests_match(&[]);
}
// README: replay end

#[tokio::test]
async fn a_stub_error_reaches_the_caller_typed() {
    let stubs = Stubs::new().on::<StartInstancesRequest>(|_| {
        Err(ServiceError::new(
            "ResourceNotFound.InstanceId",
            "no such instance",
            "",
        ))
    });
    let runtime = tencentcloud_runtime::Client::new(stubs.config()).unwrap();
    let err = Client::new(&runtime)
        .start_instances()
        .instance_ids("ins-cccccccc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFound.InstanceId"));
    assert!(!err.to_string().contains("stub-0"), "{err}");
}
