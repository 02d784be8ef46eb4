//! `cargo xtask exhaustive`: the checks too heavy for the test command, which
//! runs a sample of each. Every official service version generated (the
//! test command generates a sample: `tests/all_services.rs`), then every
//! official response example of the imported services decoded by their
//! crates (the test command decodes TAG's and STS's: the feature
//! `every-example` of `services/service-tests`), then the evolution test
//! (`xtask/tests/evolution.rs`: copies of the specs grown as Tencent grows
//! them, regenerated, and the user code checked unchanged), which is about
//! 140 s of `cargo check` on two cores.

use std::path::Path;
use std::process::ExitCode;

/// The cargo arguments of the second step.
pub fn examples_cargo_args() -> Vec<&'static str> {
    vec![
        "test",
        "--package",
        "service-tests",
        "--features",
        "every-example",
        "--test",
        "services",
    ]
}

/// Runs the second step, after the caller's `services` run succeeded.
pub fn run_examples(root: &Path) -> Result<ExitCode, String> {
    crate::cargo_env::run_in(root, &examples_cargo_args())
}

/// The cargo arguments of the third step: the evolution test, which the
/// test command leaves out (`#[ignore]`).
pub fn evolution_cargo_args() -> Vec<&'static str> {
    vec![
        "test",
        "--package",
        "xtask",
        "--test",
        "evolution",
        "--",
        "--ignored",
    ]
}

/// Runs the third step.
pub fn run_evolution(root: &Path) -> Result<ExitCode, String> {
    crate::cargo_env::run_in(root, &evolution_cargo_args())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The feature named here is the one the test crate declares.
    #[test]
    fn the_feature_is_the_test_crates() {
        let manifest = crate::regen::workspace_root()
            .unwrap()
            .join("services/service-tests/Cargo.toml");
        let text = std::fs::read_to_string(manifest).unwrap();
        let args = examples_cargo_args();
        let feature = args[args.iter().position(|a| *a == "--features").unwrap() + 1];
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{feature} ="))),
            "services/service-tests/Cargo.toml declares no feature `{feature}`"
        );
    }
}
