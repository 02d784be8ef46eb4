//! No circle of imports among a crate's modules: each module can be read
//! knowing only the ones below it. `scripts/module_graph.py` draws the graph
//! (`crate::`, `super::` and `self::` paths, re-exports followed to the
//! module that defines the name) and finds its strongly connected components.

use std::process::Command;

use xtask::regen;

#[test]
fn no_crate_has_a_circle_of_module_imports() {
    let root = regen::workspace_root().expect("the tests run inside the workspace");
    let mut circles = Vec::new();
    for krate in [
        "model",
        "codegen",
        "signer",
        "runtime",
        "config",
        "cli",
        "cvm-emulator",
        "xtask",
    ] {
        let output = Command::new("python3")
            .current_dir(&root)
            .args(["scripts/module_graph.py", &format!("{krate}/src")])
            .output()
            .expect("python3 runs");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.contains(" modules, "), "{krate}: {report}");
        if !output.status.success() {
            circles.push(format!("{krate}:\n{report}"));
        }
    }
    assert!(circles.is_empty(), "{}", circles.join("\n"));
}
