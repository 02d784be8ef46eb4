//! Bundles every description imported into `spec/` (see `tcloud-bundle`),
//! so that `tcloud` knows the services the SDK generates, with their
//! `rules.json` and `waiters.json`, without reading files at run time.

use std::path::Path;

use tencentcloud_descriptions as bundle;

fn main() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    println!("cargo:rerun-if-changed={}", spec.display());
    let mut sources = Vec::new();
    for service in sorted_dirs(&spec) {
        println!("cargo:rerun-if-changed={}", service.display());
        for version in sorted_dirs(&service) {
            println!("cargo:rerun-if-changed={}", version.display());
            let mut entry = serde_json::Map::new();
            for (key, file, required) in [
                ("api", "api.json", true),
                ("errors", "errors.json", false),
                ("rules", "rules.json", false),
                ("waiters", "waiters.json", false),
            ] {
                let path = version.join(file);
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        // Watched only when present: cargo reruns a build
                        // script at every build while a watched path is
                        // missing (then rebuilding tcloud and all that uses
                        // it). One added later changes its version's
                        // directory, which is watched.
                        println!("cargo:rerun-if-changed={}", path.display());
                        let value: serde_json::Value =
                            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                        entry.insert(key.to_owned(), value);
                    }
                    Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => panic!("{}: {e}", path.display()),
                }
            }
            sources.push(bundle::Source {
                service: file_name(&service),
                version: file_name(&version),
                // tccli's choice, in the official bundle, decides.
                default: false,
                json: serde_json::to_vec(&entry).expect("JSON values serialize"),
            });
        }
    }
    let bytes = bundle::write(&sources, 6).unwrap_or_else(|e| panic!("bundling spec/: {e}"));
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("imported.bin");
    std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

fn sorted_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_else(|| panic!("{}: not a UTF-8 name", path.display()))
        .to_owned()
}
