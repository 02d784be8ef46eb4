//! The crate graph ARCHITECTURE.md draws, held: no crate depends on one it
//! should not know (directly or through others), so the run-time tools never
//! compile the generator and xtask never compiles an HTTP stack.

use std::collections::BTreeSet;
use std::process::Command;

use xtask::regen;

/// Every package `package` depends on for its library and binaries (normal
/// and build dependencies; dev-dependencies left out): transitively, or only
/// those its manifest names.
fn dependencies(package: &str, direct_only: bool) -> BTreeSet<String> {
    tree(package, "normal,build", direct_only)
}

/// The packages `cargo tree -e <edges>` lists for `package`, itself left out.
fn tree(package: &str, edges: &str, direct_only: bool) -> BTreeSet<String> {
    let root = regen::workspace_root().expect("the tests run inside the workspace");
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args([
            "tree", "--quiet", "-p", package, "-e", edges, "--prefix", "none", "--format", "{p}",
        ])
        .args(if direct_only { &["--depth", "1"][..] } else { &[] })
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != package)
        .map(str::to_owned)
        .collect()
}

fn assert_free_of(package: &str, forbidden: &[&str]) {
    assert_free_of_at(package, forbidden, false);
}

fn assert_free_of_at(package: &str, forbidden: &[&str], direct_only: bool) {
    let deps = dependencies(package, direct_only);
    let found: Vec<&&str> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(found.is_empty(), "{package} depends on {found:?}");
}

#[test]
fn the_model_crate_knows_no_generator_no_http_and_no_other_crate_of_ours() {
    assert_free_of(
        "tencentcloud-model",
        &[
            "codegen",
            "prettyplease",
            "reqwest",
            "tokio",
            "tencentcloud-runtime",
            "signer",
        ],
    );
    // serde's derive macros use syn; the model itself never does.
    assert_free_of_at("tencentcloud-model", &["syn", "quote", "proc-macro2"], true);
}

#[test]
fn run_time_tools_never_compile_the_generator() {
    for tool in [
        "tencentcloud-cli",
        "cvm-emulator",
        "tencentcloud-runtime",
        "cvm-api",
    ] {
        assert_free_of(tool, &["codegen", "prettyplease"]);
    }
}

/// The facade runs the generator in its build script only: a program that
/// depends on it links neither codegen nor prettyplease, and the bundle
/// crate stays a leaf that anything may read.
#[test]
fn the_facade_generates_at_build_time_only() {
    let normal = tree("tencentcloud", "normal", false);
    for forbidden in ["codegen", "prettyplease", "tencentcloud-descriptions"] {
        assert!(
            !normal.contains(forbidden),
            "tencentcloud links {forbidden}: {normal:?}"
        );
    }
    let build = dependencies("tencentcloud", false);
    for needed in ["codegen", "tencentcloud-model", "tencentcloud-descriptions"] {
        assert!(build.contains(needed), "the build script generates with {needed}");
    }
    assert_free_of(
        "tencentcloud-descriptions",
        &["tencentcloud-model", "codegen", "tencentcloud-runtime", "serde"],
    );
}

#[test]
fn xtask_compiles_no_http_stack_and_the_runtime_no_service() {
    assert_free_of("xtask", &["tencentcloud-runtime", "reqwest", "tokio", "hyper"]);
    assert_free_of(
        "tencentcloud-runtime",
        &["cvm-api", "vpc-api", "sts-api", "codegen"],
    );
    assert_free_of("codegen", &["tencentcloud-runtime", "reqwest"]);
}
