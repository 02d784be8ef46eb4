//! The runtime's test doubles used as a user of `cvm-api` would (the
//! README's stub sample runs as a doc test of this crate).

use cvm_api::{Client, StartInstancesError, StartInstancesRequest};
use tencentcloud_runtime::test_util::{ExpectedRequest, RecordedResponse, ReplayTransport, Stubs};
use tencentcloud_runtime::{Error, ServiceError};

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
