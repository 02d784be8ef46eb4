//! The whole instance lifecycle: run, stop, start, reboot, terminate, waiting
//! for each transition with the generated waiters (`waiters.json`).
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
use cvm_api::{Client, Placement, WaitOptions, WaitProgress};

/// Every error here prints as one line with its cause (`Display`).
type Failure = Box<dyn std::error::Error>;

/// Runs, stops, starts, reboots and terminates one instance, waiting for each transition.
#[derive(Parser)]
#[command(
    after_help = "Configuration: TENCENTCLOUD_REGION and TENCENTCLOUD_ENDPOINT; credentials from the default chain \
                        (TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, a profile file, TKE OIDC, the CVM role; TENCENTCLOUD_ROLE_ARN; see the README). \
                        RUST_LOG=debug logs each attempt."
)]
struct Args {
    /// Availability zone, e.g. ap-guangzhou-3.
    zone: String,
    /// Image id, e.g. img-pmqg1cw7.
    image: String,
    /// Instance type, e.g. S5.MEDIUM2.
    instance_type: String,
    /// Shortest pause between polls, in milliseconds, instead of the
    /// waiters' own (2 s, growing to 15 s).
    #[arg(long, value_name = "MS")]
    poll_ms: Option<u64>,
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
        poll_ms,
    } = args;
    // Every credential source, the STS-backed ones included.
    let shared = tencentcloud_config::from_env().map_err(|e| format!("configuration error: {e}"))?;
    let client = Client::new(&shared);
    let mut wait = WaitOptions::new().with_progress(|p: &WaitProgress<'_>| {
        for (id, state) in p.states {
            println!("  {id} {}", state.as_deref().unwrap_or("(not listed)"));
        }
    });
    if let Some(ms) = poll_ms {
        wait = wait.with_delays(Duration::from_millis(*ms), Duration::from_millis(ms * 4));
    }

    let id = client
        .run_instances()
        .placement(Placement::new().set_zone(zone.as_str()))
        .image_id(image.as_str())
        .instance_type(instance_type.as_str())
        .instance_count(1)
        .instance_name("cvm-api-lifecycle")
        .send()
        .await?
        .instance_id_set
        .pop()
        .ok_or("no instance created")?;
    println!("RunInstances       {id}");
    let ids = vec![id.clone()];
    // Fails at once if the launch fails (LAUNCH_FAILED), naming the instance.
    client.wait_until_instances_running(&ids, &wait).await?;
    println!("  {id} RUNNING");

    client
        .stop_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await?;
    println!("StopInstances      {id}");
    client.wait_until_instances_stopped(&ids, &wait).await?;
    println!("  {id} STOPPED");

    client
        .start_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await?;
    println!("StartInstances     {id}");
    client.wait_until_instances_running(&ids, &wait).await?;
    println!("  {id} RUNNING");

    client
        .reboot_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await?;
    println!("RebootInstances    {id}");
    // Right after the call the instance may still read RUNNING: wait for
    // the reboot itself to finish.
    client.wait_until_latest_operation_succeeded(&ids, &wait).await?;
    client.wait_until_instances_running(&ids, &wait).await?;
    println!("  {id} RUNNING");

    client
        .terminate_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await?;
    println!("TerminateInstances {id}");
    // Until it is gone: TERMINATING is not the end.
    client.wait_until_instances_terminated(&ids, &wait).await?;
    println!("  {id} terminated");
    Ok(())
}
