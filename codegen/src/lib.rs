//! Tencent Cloud API description → validated model → Rust source.
//!
//! Reads a spec directory (`api.json` in Tencent Cloud's own format, plus our
//! `errors.json` and `rules.json`), checks it, and emits formatted Rust. No
//! network and no knowledge of HTTP: the runtime in `cvm-api` does that.
//!
//! ```no_run
//! let model = codegen::load_dir(std::path::Path::new("spec/cvm/v20170312"))?;
//! for file in codegen::generate(&model, "spec/cvm/v20170312")? {
//!     println!("{}: {} bytes", file.name, file.contents.len());
//! }
//! # Ok::<(), codegen::Error>(())
//! ```

mod error;
mod gen;
mod gen_paging;
mod gen_waiters;
pub mod model;
pub mod names;
pub mod paging;
pub mod spec;
pub mod waiters;

use std::path::Path;

pub use error::{Error, SpecError, SpecErrors};
pub use gen::{actions_macro_name, generate, generate_with, header, GeneratedFile, Layout};
pub use model::Model;

use model::{API_FILE, ERRORS_FILE, RULES_FILE};
use spec::{ApiFile, ErrorsFile, RulesFile, WaitersFile};
use waiters::WAITERS_FILE;

/// Parses `text` as `file`, naming the JSON path of any problem.
fn parse_json<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, SpecError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let path = if path == "." { String::new() } else { path };
        SpecError {
            file: file.to_string(),
            path,
            message: inner.to_string(),
        }
    })?;
    de.end().map_err(|e| SpecError {
        file: file.to_string(),
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(value)
}

pub fn parse_api(text: &str) -> Result<ApiFile, SpecError> {
    parse_json(API_FILE, text)
}

pub fn parse_errors(text: &str) -> Result<ErrorsFile, SpecError> {
    parse_json(ERRORS_FILE, text)
}

pub fn parse_rules(text: &str) -> Result<RulesFile, SpecError> {
    parse_json(RULES_FILE, text)
}

pub fn parse_waiters(text: &str) -> Result<WaitersFile, SpecError> {
    parse_json(WAITERS_FILE, text)
}

/// Builds the model from the three files' text.
pub fn model_from_sources(api: &str, errors: &str, rules: &str) -> Result<Model, SpecErrors> {
    model_from_texts(api, errors, rules, None)
}

/// Builds the model from the files' text, `waiters.json` included when there is one.
pub fn model_from_texts(
    api: &str,
    errors: &str,
    rules: &str,
    waiters: Option<&str>,
) -> Result<Model, SpecErrors> {
    let mut problems = Vec::new();
    let api = parse_api(api).map_err(|e| problems.push(e)).ok();
    let errors = parse_errors(errors).map_err(|e| problems.push(e)).ok();
    let rules = parse_rules(rules).map_err(|e| problems.push(e)).ok();
    let waiters = match waiters.map(parse_waiters) {
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => {
            problems.push(e);
            None
        }
        None => None,
    };
    match (api, errors, rules) {
        (Some(api), Some(errors), Some(rules)) if problems.is_empty() => {
            model::build(&api, &errors, &rules, waiters.as_ref())
        }
        _ => Err(SpecErrors(problems)),
    }
}

/// Reads a spec directory. `errors.json` and `rules.json` are required: an
/// absent file is more likely a mistake than an intent. `waiters.json` is
/// optional: most services declare none.
pub fn load_dir(dir: &Path) -> Result<Model, Error> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let api = read(API_FILE)?;
    let errors = read(ERRORS_FILE)?;
    let rules = read(RULES_FILE)?;
    let waiters_path = dir.join(WAITERS_FILE);
    let waiters = match std::fs::read_to_string(&waiters_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(Error::Read {
                path: waiters_path.display().to_string(),
                source,
            })
        }
    };
    Ok(model_from_texts(&api, &errors, &rules, waiters.as_deref())?)
}
