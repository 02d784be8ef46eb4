//! Helpers for the xtask tests that run cargo and xtask as processes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The checkout under test, found at run time (see `regen::workspace_root`).
pub fn root() -> PathBuf {
    xtask::regen::workspace_root().expect("the tests run inside the workspace")
}

/// The workspace's target directory, as cargo reports it (`CARGO_TARGET_DIR`,
/// `build.target-dir` or `target/`). Builds made by the tests go there so
/// they reuse its compiled dependencies.
pub fn target_dir() -> PathBuf {
    let mut command = cargo();
    command
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root());
    let out = run(&mut command, Duration::from_secs(120));
    assert!(out.success, "cargo metadata failed:\n{}", out.stderr);
    let metadata: serde_json::Value = serde_json::from_str(&out.stdout).expect("cargo metadata prints JSON");
    PathBuf::from(
        metadata["target_directory"]
            .as_str()
            .expect("cargo metadata names the target directory"),
    )
}

/// The cargo that runs the tests (cargo test and nextest set `CARGO`), in
/// the environment of a shell rather than of a test (see
/// [`xtask::cargo_env::shell_cargo`]).
pub fn cargo() -> Command {
    xtask::cargo_env::shell_cargo()
}

/// [`cargo`] in `dir`, building into `target` with plain rustc: for copies
/// of this checkout's code, which the test script's clippy-driver (if set)
/// has linted already.
pub fn cargo_plain(dir: &Path, target: &Path) -> Command {
    let mut command = cargo();
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS");
    command
}

pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to completion, killing it after `limit`. Output goes through
/// files, so a chatty child cannot block on a full pipe.
pub fn run(command: &mut Command, limit: Duration) -> Output {
    let dir = std::env::temp_dir().join(format!("xtask-test-out-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{command:?} still running after {limit:?}; killed. stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = Output {
        success: status.success(),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    };
    let _ = std::fs::remove_dir_all(&dir);
    output
}

/// Distinct per call within this process.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Copies the source tree at `from` to `to` (without `target/`, `.git` and
/// Python caches), keeping each file's modification time: cargo then sees
/// the copy's sources as no newer than `from`'s, as a clone made before the
/// last build would be, and rebuilds only what `from` would rebuild.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display())) {
        let entry = entry.expect("dir entry");
        let name = entry.file_name();
        if [".git", "target", "__pycache__", ".venv"]
            .iter()
            .any(|s| name == *s)
        {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", src.display(), dst.display()));
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .expect("modification time");
            std::fs::File::options()
                .write(true)
                .open(&dst)
                .and_then(|f| f.set_modified(modified))
                .unwrap_or_else(|e| panic!("cannot set the time of {}: {e}", dst.display()));
        }
    }
}

/// The text of `## {heading}` up to the next `## ` heading.
pub fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("README.md has no `## {heading}` section"));
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// A fenced code block of a Markdown text.
pub struct CodeBlock<'a> {
    /// The line of the opening fence, from 1.
    pub line: usize,
    /// The info string (`rust,no_run`, `toml`, or empty).
    pub info: &'a str,
    pub body: String,
}

/// Every fenced code block of `text`, in order.
pub fn fenced_blocks(text: &str) -> Vec<CodeBlock<'_>> {
    let mut blocks = Vec::new();
    let mut open: Option<CodeBlock> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(CodeBlock {
                    line: i + 1,
                    info: info.trim(),
                    body: String::new(),
                })
            }
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some(block), _) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// Fenced code blocks as (info string, body).
pub fn code_blocks(text: &str) -> Vec<(&str, String)> {
    fenced_blocks(text)
        .into_iter()
        .map(|b| (b.info, b.body))
        .collect()
}

/// Whether rustdoc compiles a code block with this info string as a doc
/// test: Rust (no info string, or only rustdoc's own attributes), and
/// neither `ignore` nor `compile_fail`.
pub fn is_compiled_rust(info: &str) -> bool {
    const RUSTDOC: &[&str] = &[
        "rust",
        "no_run",
        "should_panic",
        "test_harness",
        "edition2015",
        "edition2018",
        "edition2021",
        "edition2024",
    ];
    info.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .all(|t| RUSTDOC.contains(&t))
}

/// A doc test's program as rustdoc builds it from the block's text: hidden
/// lines (`# ...`) shown, `#![...]` attributes first, and the code wrapped
/// in `fn main` unless it has one, with rustdoc's `#![allow(unused)]`.
pub fn doctest_program(body: &str) -> String {
    let mut attributes = String::from("#![allow(unused)]\n");
    let mut code = String::new();
    for line in body.lines() {
        let trimmed = line.trim_start();
        let shown = if trimmed == "#" {
            ""
        } else if let Some(hidden) = trimmed.strip_prefix("# ") {
            hidden
        } else if trimmed.starts_with("##") {
            // `##` escapes a line that starts with `#`.
            &trimmed[1..]
        } else {
            line
        };
        let target = if shown.trim_start().starts_with("#![") {
            &mut attributes
        } else {
            &mut code
        };
        target.push_str(shown);
        target.push('\n');
    }
    let has_main = code.lines().any(|l| {
        let l = l.trim_start();
        ["fn main(", "async fn main("].iter().any(|p| l.starts_with(p))
    });
    if has_main {
        format!("{attributes}{code}")
    } else {
        format!("{attributes}fn main() {{\n{code}}}\n")
    }
}

/// A TOML basic string holding `path`.
pub fn toml_string(path: &Path) -> String {
    let text = path.to_str().expect("UTF-8 path");
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The `[profile.*]` tables of the workspace manifest, so a crate outside
/// the workspace builds with the same settings and reuses the workspace's
/// compiled dependencies.
pub fn profiles(manifest: &str) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            keep = line.starts_with("[profile.");
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
