//! Which error codes the service has, as the official Python SDK lists them in
//! `tencentcloud/<service>/<version>/errorcodes.py`.
//!
//! That file is Python source: a module-level constant per code, each after a
//! comment describing it in Chinese. Only the string values are read; the
//! comments are skipped unread, so none of Tencent's prose can reach the spec.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fetch script, relative to the workspace root.
const FETCH_SCRIPT: &str = "scripts/fetch-sdk-errorcodes.py";

/// The codes of `text`, the contents of an `errorcodes.py` named `file` in
/// messages. A line that is neither blank, a comment nor `NAME = 'Code'` is an
/// error naming the file and line: a format change should stop the import,
/// not silently lose codes. So is a value that is not an error code, or a
/// file without codes: CVM's has hundreds.
pub fn parse(file: &str, text: &str) -> Result<BTreeSet<String>, String> {
    let parsed = parse_any(file, text)?;
    if let Some(first) = parsed.malformed.into_iter().next() {
        return Err(first);
    }
    if parsed.codes.is_empty() {
        return Err(format!("{file}: no error codes found"));
    }
    Ok(parsed.codes)
}

/// What [`parse_any`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub codes: BTreeSet<String>,
    /// `file:line: why` for each constant whose value is not an error code
    /// (cpdp 2019-08-20 has `INTERNALERROR_ = 'InternalError.'`).
    pub malformed: Vec<String>,
}

/// [`parse`] for any service's file: one without codes is an empty set (a
/// dozen services define none), and constants whose values are not error
/// codes are returned apart rather than failing the file. Lines that are not
/// constants, and constants defined twice, are still errors.
pub fn parse_any(file: &str, text: &str) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, code) = parse_constant(line).map_err(|why| format!("{file}:{line_no}: {why}"))?;
        if let Some(first) = names.insert(name, line_no) {
            return Err(format!(
                "{file}:{line_no}: `{name}` is defined twice (first on line {first})"
            ));
        }
        if tencentcloud_model::words::is_error_code(code) {
            parsed.codes.insert(code.to_string());
        } else {
            parsed.malformed.push(format!(
                "{file}:{line_no}: `{name}` is `{code}`, not an error code like `InvalidInstanceId.NotFound`"
            ));
        }
    }
    Ok(parsed)
}

/// `NAME = 'Code'` (either quote, optionally followed by a comment) →
/// (`NAME`, `Code`).
fn parse_constant(line: &str) -> Result<(&str, &str), String> {
    const EXPECTED: &str = "expected `NAME = 'Code'`, a comment or a blank line";
    let Some((name, value)) = line.split_once('=') else {
        return Err(EXPECTED.to_string());
    };
    let name = name.trim();
    let is_constant_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_constant_name {
        return Err(format!("{EXPECTED}; the left of `=` is not a constant name"));
    }
    let value = value.trim_start();
    let Some(quote) = value.chars().next().filter(|c| *c == '\'' || *c == '"') else {
        return Err(format!("{EXPECTED}; `{name}` is not given a quoted string"));
    };
    let body = &value[1..];
    let Some(end) = body.find(quote) else {
        return Err(format!("the string given to `{name}` is not closed on its line"));
    };
    let (code, rest) = (&body[..end], body[end + 1..].trim());
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err(format!("unexpected text after the string given to `{name}`"));
    }
    Ok((name, code))
}

/// Reads and parses an `errorcodes.py`.
pub fn read(path: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&path.display().to_string(), &text)
}

/// Reads and parses any service's `errorcodes.py` (see [`parse_any`]).
pub fn read_any(path: &Path) -> Result<Parsed, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_any(&path.display().to_string(), &text)
}

/// The pinned `errorcodes.py`, fetched from PyPI on first use and cached under
/// the target directory (the test suite fetches tccli the same way).
pub fn fetch(root: &Path) -> Result<PathBuf, String> {
    run_fetch_script(
        root,
        FETCH_SCRIPT,
        false,
        "(or pass --errorcodes path/to/errorcodes.py)",
    )
}

/// The directory holding every service version's pinned `errorcodes.py`,
/// as `<dir>/<service>/<version>/errorcodes.py`, fetched like [`fetch`].
pub fn fetch_all(root: &Path) -> Result<PathBuf, String> {
    run_fetch_script(root, FETCH_SCRIPT, true, "(or pass --errorcodes DIR)")
}

/// The directory holding every service version's official description, as
/// `<dir>/<service>/<version>/api.json`, fetched from the pinned tccli wheel.
pub fn fetch_all_descriptions(root: &Path) -> Result<PathBuf, String> {
    run_fetch_script(root, "scripts/fetch-tccli.py", true, "(or pass --from DIR)")
}

/// Runs a fetch script with the cache directory `target/official` (`--all`
/// first when `all`) and returns the path it prints.
fn run_fetch_script(root: &Path, script: &str, all: bool, instead: &str) -> Result<PathBuf, String> {
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let script = root.join(script);
    let mut command = Command::new("python3");
    command.arg(&script);
    if all {
        command.arg("--all");
    }
    let output = command
        .arg(target.join("official"))
        .output()
        .map_err(|e| format!("cannot run python3 {}: {e} {instead}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let path = String::from_utf8(output.stdout)
        .map_err(|_| format!("{} printed a path that is not UTF-8", script.display()))?;
    Ok(PathBuf::from(path.trim()))
}
