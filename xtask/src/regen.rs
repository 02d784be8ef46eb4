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
