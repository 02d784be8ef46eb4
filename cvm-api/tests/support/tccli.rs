//! The official CVM API description and examples (tccli 3.1.189.1 on PyPI),
//! fetched once by `scripts/fetch-tccli.py` and cached under `target/`.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn workspace_root() -> PathBuf {
    // Every crate that includes this file sits one level below the root. Read
    // at run time (cargo test and nextest set it): a test binary reused from
    // another clone sharing the target dir has that clone's path compiled in.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo test");
    Path::new(&manifest_dir)
        .parent()
        .expect("crate has a parent")
        .to_path_buf()
}

/// The directory holding `api.json` and `examples.json`.
pub fn official_dir() -> PathBuf {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let output = Command::new("python3")
        .arg(root.join("scripts/fetch-tccli.py"))
        .arg(target.join("official"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "fetching tccli failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).expect("utf-8 path").trim())
}

pub fn read_official(name: &str) -> String {
    let path = official_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
