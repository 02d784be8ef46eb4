//! The official Tencent Cloud Python SDK in a venv made by
//! `scripts/python/setup-venv.sh` (cached under the target directory).

use std::path::PathBuf;
use std::process::Command;

/// The venv's python interpreter, creating the venv on first use.
pub fn venv_python() -> PathBuf {
    let output = Command::new("bash")
        .arg(super::tccli::workspace_root().join("scripts/python/setup-venv.sh"))
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "setting up the Python SDK venv failed (Python 3 and PyPI access are required):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let venv = String::from_utf8(output.stdout).expect("utf-8 path");
    PathBuf::from(venv.trim()).join("bin/python")
}
