//! Helpers for the xtask tests that run cargo and xtask as processes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The checkout under test, found at run time (see `regen::workspace_root`).
pub fn root() -> PathBuf {
    xtask::regen::workspace_root().expect("the tests run inside the workspace")
}

/// The target directory this test binary was built in: `CARGO_TARGET_DIR` if
/// set, else the ancestor of the running executable that cargo marked with
/// `CACHEDIR.TAG`. Builds made by the tests go there so they reuse its
/// dependencies.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() { dir } else { root().join(dir) };
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .unwrap_or_else(|| panic!("no target directory above {}", exe.display()))
        .to_path_buf()
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

/// Makes `to` a copy of the source tree at `from` (without `target/`, `.git`
/// and Python caches), writing only files whose contents differ and removing
/// files `from` does not have. Unchanged files keep their modification time,
/// so cargo sees them as unchanged too.
pub fn sync_tree(from: &Path, to: &Path) {
    fn skip(name: &std::ffi::OsStr) -> bool {
        [".git", "target", "__pycache__", ".venv"]
            .iter()
            .any(|s| name == *s)
    }
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create {}: {e}", to.display()));
    let mut wanted = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display())) {
        let entry = entry.expect("dir entry");
        let name = entry.file_name();
        if skip(&name) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            sync_tree(&src, &dst);
        } else if kind.is_file() {
            let bytes = std::fs::read(&src).unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()));
            if std::fs::read(&dst).ok().as_deref() != Some(bytes.as_slice()) {
                std::fs::write(&dst, &bytes)
                    .unwrap_or_else(|e| panic!("cannot write {}: {e}", dst.display()));
                std::fs::set_permissions(&dst, std::fs::metadata(&src).expect("metadata").permissions())
                    .expect("permissions");
            }
        } else {
            continue;
        }
        wanted.insert(name);
    }
    for entry in std::fs::read_dir(to).expect("read copy") {
        let entry = entry.expect("dir entry");
        if !wanted.contains(&entry.file_name()) {
            let path = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                std::fs::remove_dir_all(&path).expect("remove stale dir");
            } else {
                std::fs::remove_file(&path).expect("remove stale file");
            }
        }
    }
}
