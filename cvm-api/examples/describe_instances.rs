//! Lists instances, optionally filtered by state, zone or name: one page, or
//! with `--all` every page through the generated paginator.
//!
//! ```text
//! export TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... TENCENTCLOUD_REGION=ap-guangzhou
//! cargo run -p cvm-api --example describe_instances -- --state STOPPED --zone ap-guangzhou-3
//! cargo run -p cvm-api --example describe_instances -- --all
//! ```
//!
//! Prints one line per instance, then `N instance(s)` (`N of M instance(s)`
//! when more pages remain). Prints the error on one line to stderr and
//! exits 1 on failure (2 for a usage error).

use std::process::ExitCode;

use clap::Parser;
use cvm_api::{Call, Client, DescribeInstancesError, DescribeInstancesRequest, Error, Filter, Instance};
use futures::TryStreamExt;

/// Lists CVM instances of the configured region.
#[derive(Parser)]
#[command(
    after_help = "Configuration: TENCENTCLOUD_REGION and TENCENTCLOUD_ENDPOINT; credentials from the default chain \
                        (TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, a profile file, TKE OIDC, the CVM role; TENCENTCLOUD_ROLE_ARN; see the README). \
                        RUST_LOG=debug logs each attempt."
)]
struct Args {
    /// Only instances in this state (RUNNING, STOPPED, ...).
    #[arg(long)]
    state: Option<String>,
    /// Only instances in this availability zone (ap-guangzhou-3, ...).
    #[arg(long)]
    zone: Option<String>,
    /// Only instances with this name.
    #[arg(long)]
    name: Option<String>,
    /// Every page, not just the first (100 instances per page).
    #[arg(long)]
    all: bool,
}

impl Args {
    fn filters(&self) -> Vec<Filter> {
        [
            ("instance-state", &self.state),
            ("zone", &self.zone),
            ("instance-name", &self.name),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|v| Filter::new().set_name(name).set_values([v.as_str()]))
        })
        .collect()
    }
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
    // Every credential source, the STS-backed ones included (TKE OIDC,
    // TENCENTCLOUD_ROLE_ARN): the shared runtime of `tencentcloud-config`.
    let client = match tencentcloud_config::from_env() {
        Ok(shared) => Client::new(&shared),
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let filters = args.filters();
    let mut call = client.describe_instances();
    if !filters.is_empty() {
        call = call.set_filters(filters);
    }
    let listed = if args.all {
        every_page(call).await
    } else {
        first_page(call).await
    };
    match listed {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Service(e)) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print(i: &Instance) {
    println!(
        "{}  {:<12} {:<20} {:<16} {}",
        i.instance_id, i.instance_state, i.placement.zone, i.instance_type, i.instance_name
    );
}

/// The first page (the paginator's page size: the largest the API allows).
async fn first_page(call: Call<DescribeInstancesRequest>) -> Result<(), Error<DescribeInstancesError>> {
    let mut pages = std::pin::pin!(call.into_paginator().by_page());
    let Some(page) = pages.try_next().await? else {
        println!("0 instance(s)");
        return Ok(());
    };
    page.instance_set.iter().for_each(print);
    let shown = page.instance_set.len() as i64;
    if shown < page.total_count {
        println!(
            "{shown} of {} instance(s); --all lists every page",
            page.total_count
        );
    } else {
        println!("{shown} instance(s)");
    }
    Ok(())
}

/// Every instance of every page, as one stream of items.
async fn every_page(call: Call<DescribeInstancesRequest>) -> Result<(), Error<DescribeInstancesError>> {
    let mut items = std::pin::pin!(call.into_paginator().by_item());
    let mut count = 0u64;
    while let Some(instance) = items.try_next().await? {
        print(&instance);
        count += 1;
    }
    println!("{count} instance(s)");
    Ok(())
}
