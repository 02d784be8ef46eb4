//! Spec directories → generated source directories.

use std::path::{Path, PathBuf};

/// One spec and where its code goes, both relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `spec/<service>/<version>`.
    pub spec: String,
    /// The `generated` directory of the service's crate, or a module per
    /// version inside it when the service has several.
    pub out: String,
    /// The crate holds several versions (see [`codegen::Layout`]).
    pub several_versions: bool,
}

/// The spec directory `cargo xtask import` writes CVM's actions into.
pub const CVM_SPEC: &str = "spec/cvm/v20170312";

/// Every spec directory under `spec/` (`spec/<service>/<version>/api.json`),
/// sorted, each with the crate its code goes to: `<service>-api/` at the
/// root where that crate exists (as `cvm-api` does), else
/// `services/<service>-api/`. A spec without its crate is an error naming
/// the crate to create.
pub fn targets(root: &Path) -> Result<Vec<Target>, String> {
    let subdirs = |dir: &Path| -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            if entry.path().is_dir() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    };
    let mut targets = Vec::new();
    for service in subdirs(&root.join("spec"))? {
        let versions: Vec<String> = subdirs(&root.join("spec").join(&service))?
            .into_iter()
            .filter(|v| {
                root.join("spec")
                    .join(&service)
                    .join(v)
                    .join("api.json")
                    .is_file()
            })
            .collect();
        let crate_dir = [format!("{service}-api"), format!("services/{service}-api")]
            .into_iter()
            .find(|dir| root.join(dir).join("Cargo.toml").is_file());
        for version in &versions {
            let spec = format!("spec/{service}/{version}");
            let Some(crate_dir) = &crate_dir else {
                return Err(format!(
                    "{spec} has no crate to generate into: create services/{service}-api (a crate whose \
                     src/lib.rs mounts src/generated)"
                ));
            };
            let out = if versions.len() == 1 {
                format!("{crate_dir}/src/generated")
            } else {
                format!("{crate_dir}/src/generated/{version}")
            };
            targets.push(Target {
                spec,
                out,
                several_versions: versions.len() > 1,
            });
        }
    }
    Ok(targets)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

pub struct Outcome {
    /// Files whose contents differ from what the spec generates (or that
    /// should not be there).
    pub stale: Vec<PathBuf>,
    pub total: usize,
}

/// The root of the checkout xtask runs in, found at run time.
///
/// Not `env!("CARGO_MANIFEST_DIR")`: that path is frozen into the binary, and
/// cargo reuses one binary for every clone sharing a `CARGO_TARGET_DIR`, so
/// it would read and rewrite another clone's files. `cargo run` and
/// `cargo test` set `CARGO_MANIFEST_DIR` in the process environment (the
/// xtask package of the checkout being worked on); a binary started directly
/// looks up from the current directory.
pub fn workspace_root() -> Result<PathBuf, String> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let found = manifest_dir.iter().chain([&cwd]).find_map(|dir| find_root(dir));
    found.ok_or_else(|| {
        format!(
            "{} is not inside this project's workspace (no Cargo.toml with [workspace] beside xtask/ \
             in it or above it); run `cargo xtask` from the checkout",
            cwd.display()
        )
    })
}

/// The nearest ancestor of `start` (itself included) that is this project's
/// workspace root: a `Cargo.toml` with a `[workspace]` table, beside `xtask/`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| is_root(dir)).map(Path::to_path_buf)
}

fn is_root(dir: &Path) -> bool {
    dir.join("xtask/Cargo.toml").is_file()
        && std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"))
}

/// Generates every target [`targets`] finds, and the `tencentcloud` crate's
/// generated files ([`crate::facade`]); in `Write` mode, writes the files
/// that changed and removes `.rs` files the generator no longer produces.
pub fn regen(root: &Path, mode: Mode) -> Result<Outcome, String> {
    let mut stale = Vec::new();
    let mut total = 0;
    for target in targets(root)? {
        let model = codegen::load_dir(&root.join(&target.spec)).map_err(|e| e.to_string())?;
        let layout = codegen::Layout {
            several_versions: target.several_versions,
        };
        let files = codegen::generate_with(&model, &target.spec, layout).map_err(|e| e.to_string())?;
        let out_dir = root.join(&target.out);
        total += files.len();
        for file in &files {
            let path = out_dir.join(file.name);
            let current = std::fs::read_to_string(&path).ok();
            if current.as_deref() != Some(file.contents.as_str()) {
                if mode == Mode::Write {
                    std::fs::create_dir_all(&out_dir)
                        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
                    std::fs::write(&path, &file.contents)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                }
                stale.push(path);
            }
        }
        // Leftovers from actions or files the spec no longer has.
        if let Ok(entries) = std::fs::read_dir(&out_dir) {
            let mut extra: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .filter(|p| !files.iter().any(|f| p.file_name().is_some_and(|n| n == f.name)))
                .collect();
            extra.sort();
            for path in extra {
                if mode == Mode::Write {
                    std::fs::remove_file(&path)
                        .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
                }
                stale.push(path);
            }
        }
    }
    // The `tencentcloud` crate's manifest, lib.rs and curated list, where
    // the checkout has that crate (a scratch copy of a few service crates,
    // as the evolution test makes, does not).
    let facade = if root.join(crate::facade::DIR).join("build.rs").is_file() {
        crate::facade::files(root)?
    } else {
        Vec::new()
    };
    for (relative, contents) in facade {
        let path = root.join(&relative);
        total += 1;
        if std::fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
            if mode == Mode::Write {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                std::fs::write(&path, &contents)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            stale.push(path);
        }
    }
    Ok(Outcome { stale, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, path: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn every_spec_directory_is_found_with_its_crate() {
        let root = std::env::temp_dir().join(format!("xtask-targets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        touch(&root, "spec/cvm/v20170312/api.json");
        touch(&root, "cvm-api/Cargo.toml");
        touch(&root, "spec/tag/v20180813/api.json");
        touch(&root, "services/tag-api/Cargo.toml");
        touch(&root, "spec/monitor/v20180724/api.json");
        touch(&root, "spec/monitor/v20230616/api.json");
        touch(&root, "spec/monitor/notes/readme.txt");
        touch(&root, "services/monitor-api/Cargo.toml");
        let found = targets(&root).unwrap();
        let pairs: Vec<(&str, &str)> = found.iter().map(|t| (t.spec.as_str(), t.out.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("spec/cvm/v20170312", "cvm-api/src/generated"),
                (
                    "spec/monitor/v20180724",
                    "services/monitor-api/src/generated/v20180724"
                ),
                (
                    "spec/monitor/v20230616",
                    "services/monitor-api/src/generated/v20230616"
                ),
                ("spec/tag/v20180813", "services/tag-api/src/generated"),
            ]
        );
        touch(&root, "spec/vpc/v20170312/api.json");
        let err = targets(&root).unwrap_err();
        assert!(
            err.contains("spec/vpc/v20170312 has no crate") && err.contains("services/vpc-api"),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
