//! xtask works on the checkout it is run in, even when the binary was built
//! in another one: clones sharing a `CARGO_TARGET_DIR` share one xtask binary
//! (cargo sees nothing to rebuild), so a path compiled into it would make
//! `regen` read and rewrite the other clone's files.
//!
//! One binary, this checkout's, is run in two copies as `cargo run` would
//! run it there (`CARGO_MANIFEST_DIR` naming the copy's xtask) and as a
//! binary started by hand: no cargo build in the test, so it neither waits
//! on the target directory's lock nor compiles xtask twice.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{copy_tree, root, run, Output};

const MARKER: &str = "Marker sentence only clone B has.";
const GENERATED: &str = "cvm-api/src/generated";

/// Gives `checkout`'s StartInstances a document the other checkout lacks, so
/// its generated client differs.
fn mark_spec(checkout: &Path) {
    let path = checkout.join("spec/cvm/v20170312/api.json");
    let mut api: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    api["actions"]["StartInstances"]["document"] = MARKER.into();
    std::fs::write(&path, serde_json::to_string_pretty(&api).unwrap()).unwrap();
}

fn generated(checkout: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(checkout.join(GENERATED))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (PathBuf::from(path.file_name().unwrap()), text)
        })
        .collect();
    files.sort();
    files
}

fn has_marker(files: &[(PathBuf, String)]) -> bool {
    files.iter().any(|(_, text)| text.contains(MARKER))
}

/// The xtask binary run in `checkout` as `cargo run -p xtask` (what `cargo
/// xtask` runs) would run it there: `CARGO_MANIFEST_DIR` names the
/// checkout's xtask package.
fn cargo_xtask(checkout: &Path, args: &[&str]) -> Output {
    xtask_binary(checkout, Some(&checkout.join("xtask")), args)
}

/// The built binary started directly in `dir`, with `CARGO_MANIFEST_DIR` as
/// `cargo run` from `manifest_dir` would set it, or unset.
fn xtask_binary(dir: &Path, manifest_dir: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_MANIFEST_DIR");
    if let Some(manifest_dir) = manifest_dir {
        command.env("CARGO_MANIFEST_DIR", manifest_dir);
    }
    run(&mut command, Duration::from_secs(120))
}

#[test]
fn clones_sharing_a_target_dir_each_regen_their_own_files() {
    // Two copies of this checkout, outside it, and one binary for both, as
    // a global CARGO_TARGET_DIR gives them.
    let base = std::env::temp_dir().join(format!("xtask-clones-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (a, b) = (base.join("a"), base.join("b"));
    copy_tree(&root(), &a);
    copy_tree(&root(), &b);
    mark_spec(&b);

    // A's generated code made fresh.
    let out = cargo_xtask(&a, &["regen"]);
    assert!(out.success, "cargo xtask regen in A failed:\n{}", out.stderr);
    let a_files = generated(&a);
    assert!(!has_marker(&a_files));

    let out = cargo_xtask(&b, &["regen", "--check"]);
    assert!(
        !out.success,
        "B's spec changed, but regen --check in B passed:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cvm-api/src/generated/client.rs"),
        "{}",
        out.stderr
    );

    // The binary started directly: from a subdirectory of B
    // it finds B; with cargo's CARGO_MANIFEST_DIR naming A (cargo run
    // --manifest-path), cargo's word wins over the current directory.
    let out = xtask_binary(&b.join("spec/cvm"), None, &["regen", "--check"]);
    assert!(
        !out.success,
        "B's spec changed, but regen --check in B passed:\n{}",
        out.stderr
    );
    let out = xtask_binary(&b, Some(&a.join("xtask")), &["regen", "--check"]);
    assert!(
        out.success,
        "CARGO_MANIFEST_DIR names A, which is fresh:\n{}",
        out.stderr
    );

    let out = cargo_xtask(&a, &["regen", "--check"]);
    assert!(out.success, "regen --check in A failed:\n{}", out.stderr);

    let out = cargo_xtask(&b, &["regen"]);
    assert!(out.success, "cargo xtask regen in B failed:\n{}", out.stderr);
    assert!(
        has_marker(&generated(&b)),
        "regen in B did not write B's spec into B"
    );
    assert!(a_files == generated(&a), "regen in B changed A's files");
    let out = xtask_binary(&b.join("cvm-api"), None, &["regen", "--check"]);
    assert!(out.success, "B is fresh after regen:\n{}", out.stderr);

    // Outside any checkout: a clear error, nothing written.
    let out = xtask_binary(&base, None, &["regen"]);
    assert!(!out.success);
    assert!(
        out.stderr.contains("not inside this project's workspace"),
        "{}",
        out.stderr
    );

    std::fs::remove_dir_all(&base).unwrap();
}
