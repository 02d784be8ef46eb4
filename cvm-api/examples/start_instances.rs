//! Starts the instances named on the command line.
//!
//! ```text
//! export TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... TENCENTCLOUD_REGION=ap-guangzhou
//! cargo run -p cvm-api --example start_instances -- ins-r8hr2upy ins-5d8a23rs
//! ```
//!
//! Optional: `TENCENTCLOUD_SESSION_TOKEN` (temporary credentials) and
//! `TENCENTCLOUD_ENDPOINT` (a full URL, e.g. `http://127.0.0.1:9000`).
//! Prints `RequestId: <id>` and exits 0 on success; prints the error on one
//! line to stderr and exits 1 otherwise (2 for a usage error).

use std::process::ExitCode;

use clap::Parser;
use cvm_api::{Client, Error};

/// Starts stopped CVM instances and prints the request id.
#[derive(Parser)]
#[command(
    after_help = "Configuration: TENCENTCLOUD_REGION and TENCENTCLOUD_ENDPOINT; credentials from the default chain \
                        (TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, a profile file, TKE OIDC, the CVM role; TENCENTCLOUD_ROLE_ARN; see the README). \
                        RUST_LOG=debug logs each attempt."
)]
struct Args {
    /// Instances to start: 1 to 100 ids such as ins-r8hr2upy.
    #[arg(required = true, value_name = "INSTANCE_ID")]
    instance_ids: Vec<String>,
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
    match client
        .start_instances()
        .set_instance_ids(args.instance_ids)
        .send()
        .await
    {
        Ok(response) => {
            println!("RequestId: {}", response.request_id);
            ExitCode::SUCCESS
        }
        // `code: message (request id ...)`, the server's text escaped.
        Err(Error::Service(e)) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        // One line with the cause: `invalid request: ...` (nothing was sent),
        // `cannot connect: ...: Connection refused (os error 111)`, ...
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
