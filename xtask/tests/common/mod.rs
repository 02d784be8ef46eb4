//! Helpers for the xtask tests that run cargo and xtask as processes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The checkout under test, found at run time (see `regen::workspace_root`).
pub fn root() -> PathBuf {
    xtask::regen::workspace_root().expect("the tests run inside the workspace")
}

/// The workspace's target directory, as cargo reports it (`CARGO_TARGET_DIR`,
/// `build.target-dir` or `target/`). Builds made by the tests go there so
/// they reuse its compiled dependencies.
pub fn target_dir() -> PathBuf {
    let mut command = cargo();
    command
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root());
    let out = run(&mut command, Duration::from_secs(120));
    assert!(out.success, "cargo metadata failed:\n{}", out.stderr);
    let metadata: serde_json::Value = serde_json::from_str(&out.stdout).expect("cargo metadata prints JSON");
    PathBuf::from(
        metadata["target_directory"]
            .as_str()
            .expect("cargo metadata names the target directory"),
    )
}

/// The cargo that runs the tests (cargo test and nextest set `CARGO`), in
/// the environment of a shell rather than of a test: without the variables
/// cargo sets for the test process. Build scripts that watch them (ring's
/// watches `CARGO_PKG_NAME`) would otherwise rerun, and the rebuilt crates
/// would make the workspace's own next build rebuild them back.
pub fn cargo() -> Command {
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

pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to completion, killing it after `limit`. Output goes through
/// files, so a chatty child cannot block on a full pipe.
pub fn run(command: &mut Command, limit: Duration) -> Output {
    let dir = std::env::temp_dir().join(format!("xtask-test-out-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{command:?} still running after {limit:?}; killed. stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = Output {
        success: status.success(),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    };
    let _ = std::fs::remove_dir_all(&dir);
    output
}

/// Distinct per call within this process.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Copies the source tree at `from` to `to` (without `target/`, `.git` and
/// Python caches), keeping each file's modification time: cargo then sees
/// the copy's sources as no newer than `from`'s, as a clone made before the
/// last build would be, and rebuilds only what `from` would rebuild.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display())) {
        let entry = entry.expect("dir entry");
        let name = entry.file_name();
        if [".git", "target", "__pycache__", ".venv"]
            .iter()
            .any(|s| name == *s)
        {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", src.display(), dst.display()));
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .expect("modification time");
            std::fs::File::options()
                .write(true)
                .open(&dst)
                .and_then(|f| f.set_modified(modified))
                .unwrap_or_else(|e| panic!("cannot set the time of {}: {e}", dst.display()));
        }
    }
}
