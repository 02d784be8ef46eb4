//! Lists the instances of several regions at once through ONE client: the
//! region is a header chosen per call, so every region shares one
//! connection pool, one credential cache, one retry budget and one rate
//! limiter.
//!
//! ```text
//! # against the local emulator (no Tencent Cloud account needed):
//! cargo run -p cvm-emulator -- demo
//! export TENCENTCLOUD_SECRET_ID=AKIDEMULATOR000000000000000000000000 TENCENTCLOUD_SECRET_KEY=emulator-demo-secret-key
//! export TENCENTCLOUD_ENDPOINT=http://127.0.0.1:9000
//! cargo run -p cvm-api --example regions -- ap-guangzhou ap-shanghai ap-beijing
//! ```
//!
//! Prints one line per region, in the order given:
//! `<region> <count> <id>...` (ids in the service's order). On failure
//! prints the error on one line to stderr and exits 1 (2 for a usage error).

use std::process::ExitCode;

use clap::Parser;
use futures::TryStreamExt;

/// Lists the CVM instances of each region given, all regions at once.
#[derive(Parser)]
#[command(
    after_help = "Configuration: TENCENTCLOUD_ENDPOINT (TENCENTCLOUD_REGION is not needed); credentials from the \
                  default chain (see the README). RUST_LOG=debug logs each attempt."
)]
struct Args {
    /// Regions to list, such as ap-guangzhou ap-shanghai (1 to 32).
    #[arg(value_name = "REGION", required = true, num_args = 1..=32)]
    regions: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "off".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match list(args.regions).await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn list(regions: Vec<String>) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let runtime = tencentcloud_config::from_env().map_err(|e| format!("configuration error: {e}"))?;
    let cvm = cvm_api::Client::new(&runtime);
    // One task per region, all through the same client.
    let tasks: Vec<_> = regions
        .into_iter()
        .map(|region| {
            let cvm = cvm.clone();
            tokio::spawn(async move {
                let ids: Vec<String> = cvm
                    .describe_instances()
                    .with_region(region.clone())
                    .into_paginator()
                    .by_item()
                    .map_ok(|instance| instance.instance_id)
                    .try_collect()
                    .await
                    .map_err(|e| format!("{region}: {e}"))?;
                Ok::<_, String>(
                    format!("{region} {} {}", ids.len(), ids.join(" "))
                        .trim_end()
                        .to_owned(),
                )
            })
        })
        .collect();
    let mut lines = Vec::with_capacity(tasks.len());
    for task in tasks {
        lines.push(task.await??);
    }
    Ok(lines)
}
