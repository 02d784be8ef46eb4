//! Shared by the command line's tests: an emulator in-process, and running
//! `tcloud` (and tccli) as a user does, with a home directory of their own.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use cvm_emulator::{Emulator, EmulatorConfig, RunningEmulator, SecretKey};
use tokio::process::Command;

pub const SECRET_ID: &str = "AKIDtcloudCliTest0123456789abcdefgh";
pub const SECRET_KEY: &str = "tcloud-cli-test-secret-key-7d2f";
pub const REGION: &str = "ap-guangzhou";
pub const ZONE: &str = "ap-guangzhou-3";
pub const IMAGE: &str = "img-pmqg1cw7";

/// One command: far more than tccli's second and tcloud's milliseconds.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

pub fn tcloud() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tcloud"))
}

/// The test's credential only, no rate limit, `transition` long transitions.
pub fn config(transition: Duration) -> EmulatorConfig {
    EmulatorConfig::default()
        .with_only_credential(SECRET_ID, SecretKey::new(SECRET_KEY))
        .with_transition(transition)
        .with_rate_limit(None)
}

pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config, "127.0.0.1:0")
        .await
        .expect("the emulator starts on 127.0.0.1:0")
}

/// A command with an empty environment but `PATH`, `home` as its home
/// directory and no proxy: only what a test gives it counts.
pub fn command(program: &Path, home: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
        .env("NO_PROXY", "127.0.0.1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `command` to its end, within [`COMMAND_TIMEOUT`].
pub async fn output(mut command: Command) -> Output {
    let run = command.output();
    tokio::time::timeout(COMMAND_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("{command:?} took over {COMMAND_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{command:?} cannot run: {e}"))
}

pub fn show(output: &Output) -> String {
    format!(
        "--- exit status: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
