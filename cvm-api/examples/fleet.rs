//! Starts stopped instances, waits until they run, then shows the network
//! each lives in: two services (CVM and VPC) from ONE shared runtime client,
//! so they share the connection pool, credentials, retry budget and clock.
//!
//! ```text
//! # against the local emulator (no Tencent Cloud account needed):
//! cargo run -p cvm-emulator -- demo     # or: cargo run -p cvm-emulator -- --listen 127.0.0.1:9000
//! export TENCENTCLOUD_SECRET_ID=AKIDEMULATOR000000000000000000000000 TENCENTCLOUD_SECRET_KEY=emulator-demo-secret-key
//! export TENCENTCLOUD_REGION=ap-guangzhou TENCENTCLOUD_ENDPOINT=http://127.0.0.1:9000
//! cargo run -p cvm-api --example fleet -- --all-stopped
//! cargo run -p cvm-api --example fleet -- ins-r8hr2upy ins-5d8a23rs
//! ```
//!
//! Prints one line per instance:
//! `<id> <state> vpc <vpc-id> "<name>" <cidr> subnet <subnet-id> "<name>" <cidr> <zone>`.
//! On failure prints the error on one line to stderr and exits 1 (2 for a
//! usage error). Against Tencent Cloud, starting instances bills for them.

use std::collections::HashMap;
use std::process::ExitCode;

use clap::Parser;
use cvm_api::{Filter, Instance, WaitOptions, WaitProgress};
use vpc_api::{Subnet, Vpc};

/// Every error here prints as one line with its cause (`Display`).
type Failure = Box<dyn std::error::Error>;

/// Most ids in one CVM or VPC call (the services' limit).
const BATCH: usize = 100;

/// Starts stopped CVM instances, waits until they run, and prints the VPC and subnet of each.
#[derive(Parser)]
#[command(
    after_help = "Configuration: TENCENTCLOUD_REGION and TENCENTCLOUD_ENDPOINT; credentials from the default chain \
                        (TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, a profile file, TKE OIDC, the CVM role; TENCENTCLOUD_ROLE_ARN; see the README). \
                        RUST_LOG=debug logs each attempt."
)]
struct Args {
    /// Instances to start: 1 to 100 ids such as ins-r8hr2upy.
    #[arg(
        value_name = "INSTANCE_ID",
        required_unless_present = "all_stopped",
        conflicts_with = "all_stopped",
        num_args = 1..=BATCH
    )]
    instance_ids: Vec<String>,
    /// Start every STOPPED instance of the region (at most 100) instead.
    #[arg(long)]
    all_stopped: bool,
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
    match fleet(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn fleet(args: Args) -> Result<(), Failure> {
    // One runtime: both services send through it.
    // Configured by tencentcloud-config: every credential source, the STS-backed ones included.
    let runtime = tencentcloud_config::from_env().map_err(|e| format!("configuration error: {e}"))?;
    let cvm = cvm_api::Client::new(&runtime);
    let vpc = vpc_api::Client::new(&runtime);

    let ids = if args.all_stopped {
        stopped_instances(&cvm).await?
    } else {
        args.instance_ids
    };
    if ids.is_empty() {
        println!("no STOPPED instance to start");
        return Ok(());
    }
    cvm.start_instances().set_instance_ids(ids.clone()).send().await?;
    let wait = WaitOptions::new().with_progress(|p: &WaitProgress<'_>| {
        // Progress on stderr: stdout holds only the result lines.
        eprintln!("{} of {} instances running", p.ready, p.total);
    });
    // Fails at once, naming the instance, if one cannot run.
    let outcome = cvm.wait_until_instances_running(&ids, &wait).await?;
    let instances = outcome.response.instance_set;

    // The VPCs and subnets they live in, asked for by id (deduplicated).
    let vpc_ids = distinct(instances.iter().map(|i| &i.virtual_private_cloud.vpc_id));
    let subnet_ids = distinct(instances.iter().map(|i| &i.virtual_private_cloud.subnet_id));
    let vpcs: HashMap<String, Vpc> = vpc
        .describe_vpcs()
        .set_vpc_ids(vpc_ids.clone())
        .limit(BATCH.to_string())
        .send()
        .await?
        .vpc_set
        .into_iter()
        .map(|v| (v.vpc_id.clone(), v))
        .collect();
    let subnets: HashMap<String, Subnet> = vpc
        .describe_subnets()
        .set_subnet_ids(subnet_ids.clone())
        .limit(BATCH.to_string())
        .send()
        .await?
        .subnet_set
        .into_iter()
        .filter_map(|s| Some((s.subnet_id.clone()?, s)))
        .collect();

    for id in &ids {
        let instance = instances
            .iter()
            .find(|i| &i.instance_id == id)
            .ok_or_else(|| format!("{id} is missing from DescribeInstances"))?;
        println!("{}", line(instance, &vpcs, &subnets)?);
    }
    Ok(())
}

/// Ids of the region's STOPPED instances (one page: at most [`BATCH`]).
async fn stopped_instances(cvm: &cvm_api::Client) -> Result<Vec<String>, Failure> {
    let response = cvm
        .describe_instances()
        .filters(Filter::new().set_name("instance-state").set_values(["STOPPED"]))
        .limit(BATCH as i64)
        .send()
        .await?;
    if response.total_count > BATCH as i64 {
        return Err(format!(
            "{} instances are STOPPED; this example starts at most {BATCH}: name them",
            response.total_count
        )
        .into());
    }
    Ok(response.instance_set.into_iter().map(|i| i.instance_id).collect())
}

fn distinct<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !id.is_empty() && !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

/// `<id> <state> vpc <id> "<name>" <cidr> subnet <id> "<name>" <cidr> <zone>`;
/// an error when VPC does not know the instance's VPC or subnet.
fn line(
    instance: &Instance,
    vpcs: &HashMap<String, Vpc>,
    subnets: &HashMap<String, Subnet>,
) -> Result<String, Failure> {
    let net = &instance.virtual_private_cloud;
    let vpc = vpcs
        .get(&net.vpc_id)
        .ok_or_else(|| format!("{}: VPC {} not found", instance.instance_id, net.vpc_id))?;
    let subnet = subnets
        .get(&net.subnet_id)
        .ok_or_else(|| format!("{}: subnet {} not found", instance.instance_id, net.subnet_id))?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(format!(
        "{} {} vpc {} {:?} {} subnet {} {:?} {} {}",
        instance.instance_id,
        instance.instance_state,
        vpc.vpc_id,
        vpc.vpc_name,
        vpc.cidr_block,
        net.subnet_id,
        text(&subnet.subnet_name),
        text(&subnet.cidr_block),
        text(&subnet.zone),
    ))
}
