//! A required member left unset on a call is refused before anything is
//! sent, as `Error::InvalidRequest` naming it, whatever its type: an empty
//! list or string is missing, and a required number, flag or object is an
//! `Option` in the request so that "unset" can be told from zero.
//!
//! The client points at a port nothing listens on: a call that got past the
//! local checks would end in a transport error, so `InvalidRequest` proves
//! that nothing was sent.

use cvm_api::runtime::{Config, Credentials, Endpoint, Problem, RetryConfig, SecretKey};
use cvm_api::{Client, Error};

fn client() -> Client {
    let config = Config::new(Credentials::new(
        "AKIDEXAMPLE",
        SecretKey::new("not-a-real-secret"),
    ))
    .with_region("ap-guangzhou")
    .with_endpoint(Endpoint::custom("http://127.0.0.1:1").expect("a valid URL"))
    .with_retry(RetryConfig::disabled());
    Client::from_config(config).expect("a valid config")
}

/// The wire names of the members a refusal says are missing.
fn missing<E: std::fmt::Debug + std::fmt::Display>(
    result: Result<impl std::fmt::Debug, Error<E>>,
) -> Vec<String> {
    match result {
        Err(Error::InvalidRequest(e)) => e
            .violations
            .iter()
            .filter(|v| matches!(v.problem, Problem::Missing | Problem::Empty))
            .map(|v| v.path.to_string())
            .collect(),
        other => panic!("expected a refusal before sending, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unset_required_list_is_refused_by_name() {
    let result = client().start_instances().send().await;
    assert_eq!(missing(result), ["InstanceIds"]);
}

#[tokio::test]
async fn an_unset_required_string_is_refused_by_name() {
    let result = client().create_key_pair().project_id(0).send().await;
    assert_eq!(missing(result), ["KeyName"]);
}

#[tokio::test]
async fn an_unset_required_integer_is_refused_by_name_and_zero_is_a_value() {
    let unset = client().create_key_pair().key_name("deploy").send().await;
    assert_eq!(missing(unset), ["ProjectId"]);
    // Zero is a real project (the default one): set, it passes the local
    // checks and reaches the (closed) port.
    let zero = client()
        .create_key_pair()
        .key_name("deploy")
        .project_id(0)
        .send()
        .await;
    assert!(matches!(zero, Err(Error::Transport(_))), "{zero:?}");
}

#[tokio::test]
async fn a_whole_request_value_is_checked_the_same_way() {
    let request = cvm_api::CreateKeyPairRequest::new().set_key_name("deploy");
    let result = client().call(request).send().await;
    assert_eq!(missing(result), ["ProjectId"]);
}

/// A paginator fills in what it pages by: `DescribeTaskInfo` requires
/// `Offset`, and its first page gets past the local checks without one set
/// (found by the outside review: it was refused, every time).
#[tokio::test]
async fn a_paginator_sets_the_offset_an_action_requires() {
    use futures::StreamExt;
    let mut pages = std::pin::pin!(client().describe_task_info().into_paginator().by_page());
    let first = pages.next().await.expect("a first page or its error");
    assert!(matches!(first, Err(Error::Transport(_))), "{first:?}");
}
