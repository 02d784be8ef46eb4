//! `cvm-emulator`: a local Tencent Cloud CVM endpoint for tests.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use cvm_emulator::demo::DemoOptions;
use cvm_emulator::{Emulator, EmulatorConfig, SecretKey, DEMO_SECRET_ID};
use serde::Deserialize;

const AFTER_HELP: &str = "\
Credentials: without --secret-id/--secret-key or --credentials, the emulator accepts the public
demo credential AKIDEMULATOR000000000000000000000000 / emulator-demo-secret-key. It is fake:
never give the emulator real keys. Keys given with --secret-key are visible to other local
users (ps, /proc/PID/cmdline); --credentials FILE keeps them out of the process list.

Examples:
  cvm-emulator demo
  cvm-emulator --listen 127.0.0.1:9000
  cvm-emulator --listen 127.0.0.1:0 --transition-ms 0 --rate-limit 0 --state state.json
  cvm-emulator --credentials creds.json   # [{\"secret_id\": \"AKID...\", \"secret_key\": \"...\"}]

State: with --state FILE, every change is on disk before it is answered and survives a crash
(kill -9 included): it is appended to FILE.journal and flushed; the journal is folded into FILE at
start, on Ctrl-C / SIGTERM and when it grows past 64 MiB. FILE.lock keeps a second emulator off
FILE. The emulator refuses to start, leaving FILE as it is, when FILE cannot be read, has members
it does not know or cannot be written, or when its journal is damaged before the last record.

Logs go to stderr (RUST_LOG=debug for more); secret keys and Authorization headers are never logged.";

/// A local Tencent Cloud CVM endpoint (API 2017-03-12): verifies TC3
/// signatures, keeps instance state, answers with the real error codes.
#[derive(Parser, Debug)]
#[command(name = "cvm-emulator", version, after_help = AFTER_HELP)]
struct Cli {
    /// Address to listen on; port 0 picks a free port (the address is printed).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,

    /// Accepted secret id; repeat with --secret-key for more pairs.
    #[arg(long = "secret-id", value_name = "ID")]
    secret_ids: Vec<String>,

    /// Secret key of the --secret-id at the same position. Keys on the
    /// command line are visible to other local users (ps, /proc); use
    /// --credentials FILE to avoid that.
    #[arg(
        long = "secret-key",
        value_name = "KEY",
        hide_default_value = true,
        value_parser = parse_secret_key
    )]
    secret_keys: Vec<SecretKey>,

    /// JSON file with a list of {"secret_id": ..., "secret_key": ...}; unlike
    /// --secret-key, keeps the keys out of the process list.
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,

    /// Duration of STARTING, STOPPING, REBOOTING, PENDING and TERMINATING, in ms (0: instant).
    #[arg(long, default_value_t = 300, value_name = "N")]
    transition_ms: u64,

    /// Requests per second per secret id and action (0: no limit).
    #[arg(long, default_value_t = 10, value_name = "N")]
    rate_limit: u32,

    /// Keep the instances in this JSON file: loaded at start if it exists,
    /// every change on disk (FILE.journal) before it is answered, the whole
    /// state written back at start and shutdown.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Also write the final state to this file on shutdown (Ctrl-C / SIGTERM).
    #[arg(long, value_name = "FILE")]
    dump: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start an emulator, seed stopped instances and start them with the
    /// real cvm-api client, printing each step; exits 0 when all is well.
    Demo {
        /// Number of instances.
        #[arg(long, default_value_t = 3)]
        instances: usize,
        /// Transition time in ms.
        #[arg(long, default_value_t = 500)]
        transition_ms: u64,
    },
}

/// `--secret-key` values go straight into a [`SecretKey`], whose `Debug`
/// is redacted (so is `Cli`'s).
fn parse_secret_key(value: &str) -> Result<SecretKey, std::convert::Infallible> {
    Ok(SecretKey::new(value))
}

#[derive(Deserialize)]
struct CredentialEntry {
    secret_id: String,
    secret_key: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if cli.command.is_some() { "warn" } else { "info" })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Some(Command::Demo {
                instances,
                transition_ms,
            }) => {
                let options = DemoOptions {
                    instances: *instances,
                    transition: Duration::from_millis(*transition_ms),
                    ..DemoOptions::default()
                };
                let mut stdout = std::io::stdout();
                cvm_emulator::demo::run(&options, &mut stdout)
                    .await
                    .map_err(|e| e.to_string())
            }
            None => serve(&cli).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn credentials(cli: &Cli) -> Result<Vec<(String, SecretKey)>, String> {
    if cli.secret_ids.len() != cli.secret_keys.len() {
        return Err(format!(
            "give --secret-id and --secret-key in pairs ({} ids, {} keys)",
            cli.secret_ids.len(),
            cli.secret_keys.len()
        ));
    }
    let mut pairs: Vec<(String, SecretKey)> = cli
        .secret_ids
        .iter()
        .zip(&cli.secret_keys)
        .map(|(id, key)| (id.clone(), key.clone()))
        .collect();
    if let Some(path) = &cli.credentials {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // The error is not shown: it could quote a key.
        let entries: Vec<CredentialEntry> = serde_json::from_str(&text).map_err(|_| {
            format!(
                "{}: expected a JSON list of {{\"secret_id\": ..., \"secret_key\": ...}}",
                path.display()
            )
        })?;
        pairs.extend(
            entries
                .into_iter()
                .map(|e| (e.secret_id, SecretKey::new(e.secret_key))),
        );
    }
    Ok(pairs)
}

async fn serve(cli: &Cli) -> Result<(), String> {
    let pairs = credentials(cli)?;
    let demo_credentials = pairs.is_empty();
    let mut config = EmulatorConfig {
        transition: Duration::from_millis(cli.transition_ms),
        rate_limit: Some(cli.rate_limit).filter(|n| *n > 0),
        ..EmulatorConfig::default()
    };
    if !demo_credentials {
        config.credentials = pairs;
    }
    config.state_file = cli.state.clone();
    let ids: Vec<String> = config.credentials.iter().map(|(id, _)| id.clone()).collect();
    // Loads, locks and rewrites the state file before anything listens.
    let emulator = Emulator::new(config).map_err(|e| e.to_string())?;
    let instances = emulator.instance_count();
    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    let running = emulator.serve(listener).map_err(|e| e.to_string())?;
    // Before the address is printed: a SIGTERM sent as soon as it is known
    // must shut down cleanly, not kill the process.
    let stop = shutdown_signal();

    println!("listening on {}", running.endpoint_url());
    let _ = std::io::stdout().flush();
    if demo_credentials {
        eprintln!("accepting the demo credential {DEMO_SECRET_ID} (key: see --help)");
    } else {
        eprintln!("accepting secret ids: {}", ids.join(", "));
    }
    let kept = match &cli.state {
        Some(path) => format!(" (kept in {})", path.display()),
        None => String::new(),
    };
    eprintln!(
        "transition {} ms, rate limit {}, {instances} instance(s){kept}; Ctrl-C to stop",
        cli.transition_ms,
        if cli.rate_limit == 0 {
            "off".to_owned()
        } else {
            format!("{}/s per secret id and action", cli.rate_limit)
        }
    );

    stop.await;
    eprintln!("shutting down");
    let state = running.shutdown().await;
    if let Some(path) = &cli.state {
        eprintln!("{} instance(s) kept in {}", state.instances.len(), path.display());
    }
    if let Some(path) = &cli.dump {
        state.save(path).map_err(|e| e.to_string())?;
        eprintln!(
            "saved {} instance(s) to {}",
            state.instances.len(),
            path.display()
        );
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The Unix handlers are installed by this
/// call, not when the future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let handlers = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
        async move {
            match handlers {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Cli;

    #[test]
    fn debug_redacts_secret_keys_and_help_warns_about_ps() {
        let cli = Cli::try_parse_from([
            "cvm-emulator",
            "--secret-id",
            "AKIDcli",
            "--secret-key",
            "very-secret-cli-key",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(shown.contains("AKIDcli"), "{shown}");
        assert!(!shown.contains("very-secret-cli-key"), "{shown}");
        assert_eq!(cli.secret_keys[0].expose(), "very-secret-cli-key");
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("ps"), "{help}");
        assert!(help.contains("--credentials FILE"), "{help}");
    }
}
