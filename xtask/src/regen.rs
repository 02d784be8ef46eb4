//! Spec directories → generated source directories.

use std::path::{Path, PathBuf};

/// One spec and where its code goes, both relative to the workspace root.
pub struct Target {
    pub spec: &'static str,
    pub out: &'static str,
}

pub const TARGETS: &[Target] = &[Target {
    spec: "spec/cvm/v20170312",
    out: "cvm-api/src/generated",
}];

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

pub fn workspace_root() -> PathBuf {
    // xtask lives one level below the root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Generates every target; in `Write` mode, writes the files that changed and
/// removes `.rs` files the generator no longer produces.
pub fn regen(root: &Path, mode: Mode) -> Result<Outcome, String> {
    let mut stale = Vec::new();
    let mut total = 0;
    for target in TARGETS {
        let model = codegen::load_dir(&root.join(target.spec)).map_err(|e| e.to_string())?;
        let files = codegen::generate(&model, target.spec).map_err(|e| e.to_string())?;
        let out_dir = root.join(target.out);
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
    Ok(Outcome { stale, total })
}
