//! Starts the instances named on the command line.
//!
//! ```text
//! export TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... TENCENTCLOUD_REGION=ap-guangzhou
//! cargo run -p cvm-api --example start_instances -- ins-r8hr2upy ins-5d8a23rs
//! ```
//!
//! Optional: `TENCENTCLOUD_SESSION_TOKEN` (temporary credentials) and
//! `TENCENTCLOUD_ENDPOINT` (a full URL, e.g. `http://127.0.0.1:9000`).
//! Prints `RequestId: <id>` and exits 0 on success; prints the error to
//! stderr and exits 1 otherwise.

use std::process::ExitCode;

use cvm_api::runtime::{Client, Error};
use cvm_api::StartInstancesRequest;

fn main() -> ExitCode {
    let mut instance_ids = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) if arg == "-h" || arg == "--help" => {
                println!("usage: start_instances INSTANCE_ID...");
                return ExitCode::SUCCESS;
            }
            Ok(arg) => instance_ids.push(arg),
            Err(arg) => {
                eprintln!("error: argument {arg:?} is not valid UTF-8");
                return ExitCode::FAILURE;
            }
        }
    }
    if instance_ids.is_empty() {
        eprintln!("usage: start_instances INSTANCE_ID...");
        return ExitCode::FAILURE;
    }

    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(instance_ids))
}

async fn run(instance_ids: Vec<String>) -> ExitCode {
    let client = match Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `..Default::default()` keeps this compiling if a newer spec adds
    // optional parameters.
    #[allow(clippy::needless_update)]
    let request = StartInstancesRequest {
        instance_ids,
        ..Default::default()
    };
    match client.start_instances(&request).await {
        Ok(response) => {
            println!("RequestId: {}", response.request_id);
            ExitCode::SUCCESS
        }
        Err(Error::Service(e)) => {
            eprintln!("{}: {} (request id {})", e.code(), e.message(), e.request_id());
            ExitCode::FAILURE
        }
        Err(Error::InvalidRequest(e)) => {
            eprintln!("InvalidRequest: nothing was sent:");
            for violation in &e.violations {
                eprintln!("  {violation}");
            }
            ExitCode::FAILURE
        }
        Err(Error::Transport(e)) => {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "transport error"
            };
            // reqwest's message omits the cause (e.g. "Connection refused"): print the chain.
            eprint!("{kind}: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprint!(": {cause}");
                source = cause.source();
            }
            eprintln!();
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
