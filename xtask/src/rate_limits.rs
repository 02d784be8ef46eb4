//! `cargo xtask rate-limits`: the client's rate limiting measured against the
//! emulator (`cvm-emulator/examples/rate_limits.rs`), optimised as a user's
//! program would be. A few minutes (about 100 s per paced scenario): not
//! part of the test command, which only compiles the example.

use std::path::Path;
use std::process::ExitCode;

/// The command's options: passed to the example as they are.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The example's own options: `--calls N`, `--in-flight N`, `--limit N`,
    /// `--only known|off|learning` (repeatable), `--timeout SECONDS`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "OPTIONS")]
    pub options: Vec<String>,
}

/// The cargo arguments that run the measurement with `options`.
pub fn cargo_args(options: &[String]) -> Vec<String> {
    let run = [
        "run",
        "--release",
        "--package",
        "cvm-emulator",
        "--example",
        "rate_limits",
        "--",
    ];
    run.iter()
        .map(|s| s.to_string())
        .chain(options.iter().cloned())
        .collect()
}

pub fn run_command(root: &Path, args: &Args) -> Result<ExitCode, String> {
    crate::cargo_env::run_in(root, &cargo_args(&args.options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_follow_the_example() {
        let args = cargo_args(&["--only".into(), "known".into()]);
        assert_eq!(
            args.join(" "),
            "run --release --package cvm-emulator --example rate_limits -- --only known"
        );
    }
}
