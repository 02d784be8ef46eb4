//! The whole instance lifecycle: run, stop, start, reboot, terminate, waiting
//! for each transition with DescribeInstancesStatus.
//!
//! ```text
//! # against the local emulator (no Tencent Cloud account needed):
//! cargo run -p cvm-emulator -- --listen 127.0.0.1:9000 --transition-ms 200 &
//! export TENCENTCLOUD_SECRET_ID=AKIDEMULATOR000000000000000000000000 TENCENTCLOUD_SECRET_KEY=emulator-demo-secret-key
//! export TENCENTCLOUD_REGION=ap-guangzhou TENCENTCLOUD_ENDPOINT=http://127.0.0.1:9000
//! cargo run -p cvm-api --example instance_lifecycle -- ap-guangzhou-3 img-pmqg1cw7 S5.MEDIUM2
//! ```
//!
//! Against Tencent Cloud this creates (and bills for) a real instance, then
//! terminates it. Prints each step; on failure prints the error on one line
//! to stderr and exits 1 (2 for a usage error).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cvm_api::{
    Client, DescribeInstancesStatusRequest, Placement, RebootInstancesRequest, RunInstancesRequest,
    StartInstancesRequest, StopInstancesRequest, TerminateInstancesRequest,
};

/// Every error here prints as one line with its cause (`Display`).
type Failure = Box<dyn std::error::Error>;

/// Runs, stops, starts, reboots and terminates one instance, waiting for each transition.
#[derive(Parser)]
#[command(
    after_help = "Configuration: TENCENTCLOUD_REGION and TENCENTCLOUD_ENDPOINT; credentials from the default chain \
                        (TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, a profile file, TKE OIDC, the CVM role; see the README). \
                        RUST_LOG=debug logs each attempt."
)]
struct Args {
    /// Availability zone, e.g. ap-guangzhou-3.
    zone: String,
    /// Image id, e.g. img-pmqg1cw7.
    image: String,
    /// Instance type, e.g. S5.MEDIUM2.
    instance_type: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Logs only when asked, e.g. RUST_LOG=debug (never a secret, at any level).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "off".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match lifecycle(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn lifecycle(args: &Args) -> Result<(), Failure> {
    let Args {
        zone,
        image,
        instance_type,
    } = args;
    let client = Client::from_env().map_err(|e| format!("configuration error: {e}"))?;

    let run = RunInstancesRequest {
        placement: Some(Placement {
            zone: zone.clone(),
            ..Default::default()
        }),
        image_id: Some(image.clone()),
        instance_type: Some(instance_type.clone()),
        instance_count: Some(1),
        instance_name: Some("cvm-api-lifecycle".into()),
        ..Default::default()
    };
    let id = client
        .run_instances(&run)
        .await?
        .instance_id_set
        .pop()
        .ok_or("no instance created")?;
    println!("RunInstances       {id}");
    wait_for(&client, &id, "RUNNING").await?;

    let ids = vec![id.clone()];
    client
        .stop_instances(&StopInstancesRequest {
            instance_ids: ids.clone(),
            ..Default::default()
        })
        .await?;
    println!("StopInstances      {id}");
    wait_for(&client, &id, "STOPPED").await?;

    client
        .start_instances(&StartInstancesRequest {
            instance_ids: ids.clone(),
        })
        .await?;
    println!("StartInstances     {id}");
    wait_for(&client, &id, "RUNNING").await?;

    client
        .reboot_instances(&RebootInstancesRequest {
            instance_ids: ids.clone(),
            ..Default::default()
        })
        .await?;
    println!("RebootInstances    {id}");
    wait_for(&client, &id, "RUNNING").await?;

    client
        .terminate_instances(&TerminateInstancesRequest {
            instance_ids: ids,
            ..Default::default()
        })
        .await?;
    println!("TerminateInstances {id}");
    Ok(())
}

/// Polls until the instance is in `state`; two minutes at most.
async fn wait_for(client: &Client, id: &str, state: &str) -> Result<(), Failure> {
    let request = DescribeInstancesStatusRequest {
        instance_ids: Some(vec![id.to_owned()]),
        ..Default::default()
    };
    for _ in 0..240 {
        let status = client.describe_instances_status(&request).await?;
        let now = status
            .instance_status_set
            .iter()
            .find(|s| s.instance_id == id)
            .map(|s| s.instance_state.as_str());
        println!("  {id} {}", now.unwrap_or("(not listed)"));
        if now == Some(state) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("{id} did not reach {state} in two minutes").into())
}
