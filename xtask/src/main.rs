//! Project automation: `cargo xtask regen [--check]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod regen;

#[derive(Parser)]
#[command(name = "xtask", about = "Project automation for the CVM SDK workspace")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the checked-in code from `spec/`.
    Regen {
        /// Write nothing; list the files that would change and fail if any would.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = regen::workspace_root();
    let result = match cli.command {
        Command::Regen { check } => run_regen(&root, check),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_regen(root: &std::path::Path, check: bool) -> Result<ExitCode, String> {
    let started = std::time::Instant::now();
    let outcome = regen::regen(root, if check { regen::Mode::Check } else { regen::Mode::Write })?;
    let elapsed = started.elapsed();
    let rel = |p: &PathBuf| p.strip_prefix(root).unwrap_or(p).display().to_string();
    if check {
        if outcome.stale.is_empty() {
            eprintln!("generated code is up to date ({} files, {:.0?})", outcome.total, elapsed);
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("generated code is stale; run `cargo xtask regen` to update:");
            for path in &outcome.stale {
                eprintln!("  {}", rel(path));
            }
            Ok(ExitCode::FAILURE)
        }
    } else {
        for path in &outcome.stale {
            eprintln!("wrote {}", rel(path));
        }
        eprintln!(
            "regenerated {} files ({} changed) in {:.0?}",
            outcome.total,
            outcome.stale.len(),
            elapsed
        );
        Ok(ExitCode::SUCCESS)
    }
}
