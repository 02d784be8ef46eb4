//! Embeds every service description of the workspace (`spec/<service>/<version>/`)
//! so that the emulator answers each service whose spec is in the workspace,
//! with no list to keep: `cargo xtask import --service` is enough.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec = manifest.join("../spec");
    // A directory: cargo rescans everything under it.
    println!("cargo:rerun-if-changed={}", spec.display());
    let mut dirs = Vec::new();
    for service in std::fs::read_dir(&spec).expect("the workspace's spec/ directory") {
        let service = service.expect("a readable spec/ entry").path();
        let Ok(versions) = std::fs::read_dir(&service) else {
            continue;
        };
        for version in versions {
            let version = version.expect("a readable spec/<service>/ entry").path();
            if version.join("api.json").is_file() {
                dirs.push(version);
            }
        }
    }
    dirs.sort();
    let mut out = String::from("/// Every `spec/<service>/<version>/` of the workspace: api.json, errors.json, rules.json.\npub(crate) static EMBEDDED: &[EmbeddedSpec] = &[\n");
    for dir in &dirs {
        let dir = dir.canonicalize().expect("a spec directory");
        let file = |name: &str| format!("{:?}", dir.join(name).display().to_string());
        let shown = dir
            .strip_prefix(spec.canonicalize().expect("spec/"))
            .expect("under spec/");
        let service = shown
            .parent()
            .expect("spec/<service>/<version>")
            .display()
            .to_string();
        // `v20170312` → `2017-03-12` (checked against the description when it is read).
        let digits = shown
            .file_name()
            .expect("a version directory")
            .to_string_lossy()
            .trim_start_matches('v')
            .to_owned();
        let version = match (digits.get(0..4), digits.get(4..6), digits.get(6..8)) {
            (Some(y), Some(m), Some(d)) if digits.len() == 8 => format!("{y}-{m}-{d}"),
            _ => digits.clone(),
        };
        writeln!(
            out,
            "    EmbeddedSpec {{ service: {service:?}, version: {version:?}, dir: {:?}, api: include_str!({}), errors: include_str!({}), rules: include_str!({}) }},",
            format!("spec/{}", shown.display()),
            file("api.json"),
            file("errors.json"),
            file("rules.json"),
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("specs.rs");
    std::fs::write(target, out).expect("writing specs.rs");
}
