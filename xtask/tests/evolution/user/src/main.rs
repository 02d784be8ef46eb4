//! A user's program, written against today's `cvm-api` and `sts-api` and
//! never edited again: `xtask/tests/evolution.rs` checks that it still
//! compiles once the SDK is regenerated from specs with Tencent's usual
//! weekly additions (a new optional member on every object, a new error code
//! on every action, a new value in every open enum, a new action), and that
//! it stops compiling when a member it sets (`AssumeRoleRequest.ExternalId`)
//! is removed.
//!
//! Nothing here runs: it only has to compile. It uses the API the way the
//! README teaches, with the forward-compatible habits it asks for: `new()`
//! and setters instead of struct literals, a wildcard arm (reading `code()`
//! or `as_str()`) when matching errors and open enums.

use std::time::Duration;

use cvm_api::{
    CallOptions, Client, CommonErrorCode, DescribeInstancesError, Error, Filter, Instance,
    InstanceChargeType, InstanceState, LatestOperationState, LoginSettings, Placement, RetryConfig,
    RunInstancesRequest, StartInstancesError, StopInstancesError, StopType, Tag, TagSpecification, WaitError,
    WaitOptions,
};
use futures::TryStreamExt;

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // One runtime (credentials, connections) for both services' clients.
    let shared = cvm_api::runtime::Client::from_env()?;
    let client = Client::new(&shared);
    assume_role(&sts_api::Client::new(&shared)).await?;
    describe(&client).await?;
    start(&client).await?;
    stop(&client).await?;
    let ids = run(&client).await?;
    wait(&client, &ids).await?;
    list_all(&client).await?;
    println!("{} actions page", cvm_api::PAGINATED_ACTIONS.len());
    Ok(())
}

/// A call builder with several setters and every per-call option; the
/// response's members read directly.
async fn describe(client: &Client) -> Result<(), BoxError> {
    let result = client
        .describe_instances()
        .instance_ids("ins-r8hr2upy")
        .instance_ids("ins-5d8a23rs")
        .filters(Filter::new().set_name("zone").set_values(["ap-guangzhou-3"]))
        .offset(0)
        .limit(10)
        .with_timeout(Duration::from_secs(5))
        .with_deadline(Duration::from_secs(20))
        .with_retry(RetryConfig::standard().with_max_attempts(2))
        .with_idempotent(true)
        .send()
        .await;
    match result {
        Ok(response) => {
            println!(
                "{} instance(s), request {}",
                response.total_count, response.request_id
            );
            for instance in &response.instance_set {
                print_instance(instance);
            }
        }
        // A code documented for this action.
        Err(Error::Service(DescribeInstancesError::InvalidInstanceIdMalformed(e))) => {
            println!("malformed id: {} ({})", e.message(), e.request_id())
        }
        // A code any action may return.
        Err(Error::Service(DescribeInstancesError::Common(CommonErrorCode::RequestLimitExceeded, e))) => {
            println!("throttled: {}", e.message())
        }
        // Any other code, documented later or never.
        Err(Error::Service(e)) => println!("{}: {} (unknown: {})", e.code(), e.message(), e.is_unknown()),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Open enums: a wildcard arm for the values added later.
fn print_instance(instance: &Instance) {
    let state = match &instance.instance_state {
        InstanceState::Running => "up".to_string(),
        InstanceState::Stopped | InstanceState::Shutdown => "down".to_string(),
        other => format!("other ({})", other.as_str()),
    };
    let billing = match &instance.instance_charge_type {
        InstanceChargeType::Prepaid => "monthly",
        InstanceChargeType::PostpaidByHour => "hourly",
        _ => "other",
    };
    let operation = match &instance.latest_operation_state {
        Some(LatestOperationState::Failed) => "failed",
        Some(_) => "fine",
        None => "none",
    };
    println!(
        "{} {:?} in {}: {state}, {billing}, last operation {operation}, public {:?}",
        instance.instance_id, instance.instance_name, instance.placement.zone, instance.public_ip_addresses
    );
    let launch_failed = InstanceState::from("LAUNCH_FAILED");
    if instance.instance_state == launch_failed {
        println!("{} failed to launch", instance.instance_id);
    }
}

/// Errors: a documented variant, `Common(..)` with and without a code, and
/// a wildcard reading `code()`.
async fn start(client: &Client) -> Result<(), BoxError> {
    let result = client
        .start_instances()
        .set_instance_ids(["ins-r8hr2upy", "ins-5d8a23rs"])
        .with_options(CallOptions::new().with_retry(RetryConfig::disabled()))
        .send()
        .await;
    match result {
        Ok(response) => println!("accepted, request id {}", response.request_id),
        Err(Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRunning(e))) => {
            println!("already running: {}", e.message())
        }
        Err(Error::Service(StartInstancesError::Common(CommonErrorCode::AuthFailureSignatureExpire, _))) => {
            println!("check the clock")
        }
        Err(Error::Service(StartInstancesError::Common(code, e))) => {
            println!("{code} ({}): {}", code.description(), e.request_id())
        }
        Err(Error::Service(e)) if e.code().starts_with("UnsupportedOperation.") => {
            println!("not now: {}", e.code())
        }
        Err(Error::Service(e)) => println!("{} ({})", e.code(), e.request_id()),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// An open enum as a setter's argument, from a variant and from a string.
async fn stop(client: &Client) -> Result<(), BoxError> {
    let soft = client
        .stop_instances()
        .instance_ids("ins-r8hr2upy")
        .stop_type(StopType::Soft)
        .send()
        .await;
    let hard = client
        .stop_instances()
        .instance_ids("ins-5d8a23rs")
        .stop_type("HARD")
        .send()
        .await;
    for result in [soft, hard] {
        match result {
            Ok(response) => println!("stopping, request id {}", response.request_id),
            Err(Error::Service(StopInstancesError::Common(_, e))) => println!("common: {}", e.code()),
            Err(Error::Service(e)) => println!("{}: {}", e.code(), e.message()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A request built as a value with `new()` and setters (nested objects
/// too), sent with `client.call`.
async fn run(client: &Client) -> Result<Vec<String>, BoxError> {
    let request = RunInstancesRequest::new()
        .set_placement(Placement::new().set_zone("ap-guangzhou-3").set_project_id(0))
        .set_image_id("img-pmqg1cw7")
        .set_instance_type("S5.MEDIUM2")
        .set_instance_charge_type(InstanceChargeType::PostpaidByHour)
        .set_instance_count(1)
        .set_instance_name("evolution")
        .set_login_settings(LoginSettings::new().set_key_ids(["skey-12345678"]))
        .set_tag_specification([TagSpecification::new()
            .set_resource_type("instance")
            .set_tags([Tag::new().set_key("team").set_value("sdk")])]);
    let response = client
        .call(request)
        .with_timeout(Duration::from_secs(30))
        .send()
        .await?;
    println!(
        "created {:?}, request id {}",
        response.instance_id_set, response.request_id
    );
    Ok(response.instance_id_set)
}

/// A waiter, its outcome and its errors.
async fn wait(client: &Client, ids: &[String]) -> Result<(), BoxError> {
    let options = WaitOptions::new()
        .with_deadline(Duration::from_secs(300))
        .with_delays(Duration::from_secs(1), Duration::from_secs(10))
        .with_progress(|p| eprintln!("{}/{} running after {} polls", p.ready, p.total, p.polls));
    match client.wait_until_instances_running(ids, &options).await {
        Ok(outcome) => println!(
            "running after {} polls: {} instance(s)",
            outcome.polls,
            outcome.response.instance_set.len()
        ),
        Err(WaitError::Failed { id, value, .. }) => println!("{id:?} ended {value}"),
        Err(WaitError::TimedOut { last_seen, .. }) => println!("gave up; last seen {last_seen}"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Every instance, page after page.
async fn list_all(client: &Client) -> Result<(), BoxError> {
    let mut instances = std::pin::pin!(client
        .describe_instances()
        .filters(Filter::new().set_name("instance-state").set_values(["RUNNING"]))
        .limit(50)
        .into_paginator()
        .by_item());
    let mut count = 0;
    while let Some(instance) = instances.try_next().await? {
        print_instance(&instance);
        count += 1;
    }
    println!("{count} running instance(s)");
    Ok(())
}

/// Another service: a call with optional members set (the test removes
/// `ExternalId` from the spec and expects this to stop compiling).
async fn assume_role(sts: &sts_api::Client) -> Result<(), BoxError> {
    let result = sts
        .assume_role()
        .role_arn("qcs::cam::uin/100000000001:roleName/deployer")
        .role_session_name("evolution")
        .duration_seconds(3600u64)
        .external_id("evolution")
        .send()
        .await;
    match result {
        Ok(response) => println!(
            "key {} until {} ({})",
            response.credentials.tmp_secret_id, response.expiration, response.expired_time
        ),
        Err(sts_api::Error::Service(e)) => println!("{}: {}", e.code(), e.message()),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
