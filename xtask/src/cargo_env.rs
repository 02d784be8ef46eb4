//! Cargo as a shell would start it, from inside a process cargo started
//! (xtask under `cargo run`, a test under `cargo test`).

use std::path::Path;
use std::process::{Command, ExitCode};

/// The cargo that started this process (`CARGO`), without the variables
/// cargo sets for the process it runs. Build scripts that watch them
/// (ring's watches `CARGO_PKG_NAME`) would otherwise rerun, and the crates
/// rebuilt would make the workspace's own next build rebuild them back.
pub fn shell_cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let set_by_cargo = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&name);
        if set_by_cargo {
            command.env_remove(name);
        }
    }
    command
}

/// Runs [`shell_cargo`] with `args` in `dir`, its output on this process's:
/// its success as an exit code.
pub fn run_in(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> Result<ExitCode, String> {
    let status = shell_cargo()
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(match status.success() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}
