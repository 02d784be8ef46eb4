//! Lists instances, page by page, optionally filtered by state, zone or name.
//!
//! ```text
//! export TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... TENCENTCLOUD_REGION=ap-guangzhou
//! cargo run -p cvm-api --example describe_instances -- --state STOPPED --zone ap-guangzhou-3
//! ```
//!
//! Shows how filters and `Offset`/`Limit` paging work; prints one line per
//! instance, then `N instance(s)`. Prints the error on one line to stderr
//! and exits 1 on failure (2 for a usage error).

use std::process::ExitCode;

use clap::Parser;
use cvm_api::{Client, DescribeInstancesRequest, Error, Filter};

/// The service returns at most 100 instances per page.
const PAGE: i64 = 100;

/// Lists CVM instances of the configured region.
#[derive(Parser)]
#[command(
    after_help = "Configuration: TENCENTCLOUD_REGION and TENCENTCLOUD_ENDPOINT; credentials from the default chain \
                        (TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, a profile file, TKE OIDC, the CVM role; see the README). \
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
}

impl Args {
    fn filters(self) -> Vec<Filter> {
        [
            ("instance-state", self.state),
            ("zone", self.zone),
            ("instance-name", self.name),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value.map(|v| Filter {
                name: name.into(),
                values: vec![v],
            })
        })
        .collect()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let filters = Args::parse().filters();
    // Logs only when asked, e.g. RUST_LOG=debug (never a secret, at any level).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "off".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let client = match Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut offset = 0;
    loop {
        let request = DescribeInstancesRequest {
            filters: (!filters.is_empty()).then(|| filters.clone()),
            offset: Some(offset),
            limit: Some(PAGE),
            ..Default::default()
        };
        let page = match client.describe_instances(&request).await {
            Ok(page) => page,
            Err(Error::Service(e)) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let instances = page.instance_set;
        for i in &instances {
            println!(
                "{}  {:<12} {:<20} {:<16} {}",
                i.instance_id, i.instance_state, i.placement.zone, i.instance_type, i.instance_name
            );
        }
        offset += instances.len() as i64;
        if instances.is_empty() || offset >= page.total_count {
            println!("{offset} instance(s)");
            return ExitCode::SUCCESS;
        }
    }
}
