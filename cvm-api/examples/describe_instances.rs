//! Lists instances, page by page, optionally filtered by state or zone.
//!
//! ```text
//! export TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... TENCENTCLOUD_REGION=ap-guangzhou
//! cargo run -p cvm-api --example describe_instances -- --state STOPPED --zone ap-guangzhou-3
//! ```
//!
//! Shows how filters and `Offset`/`Limit` paging work; prints one line per
//! instance. Exits 1 with the error code and message on failure.

use std::process::ExitCode;

use cvm_api::{Client, DescribeInstancesRequest, Filter};

/// The service returns at most 100 instances per page.
const PAGE: i64 = 100;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut filters = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let name = match flag.as_str() {
            "--state" => "instance-state",
            "--zone" => "zone",
            "--name" => "instance-name",
            _ => {
                eprintln!("usage: describe_instances [--state STATE] [--zone ZONE] [--name NAME]");
                return ExitCode::FAILURE;
            }
        };
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value");
            return ExitCode::FAILURE;
        };
        filters.push(Filter {
            name: name.into(),
            values: vec![value],
        });
    }

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
            Err(cvm_api::Error::Service(e)) => {
                eprintln!("{}: {} (request id {})", e.code(), e.message(), e.request_id());
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
