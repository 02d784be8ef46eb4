//! The model of a Tencent Cloud API description, for every tool that reads one.
//!
//! It parses a service description (`api.json` in Tencent's own format, and
//! our `errors.json`, `rules.json` and `waiters.json`), cross-checks it with
//! precise errors (file, JSON path, a suggestion), and holds the wire facts:
//! actions, objects, members, optionality, rules, paging, waiters, codes and
//! read-only status. It holds no names of any programming language and
//! depends on no code generator: `codegen` annotates it with Rust names; the
//! emulator, `tcloud` and xtask read it as it is.
//!
//! It also owns the facts and the meaning every tool shares at run time:
//! - [`validate`]: the one validation engine ([`Violation`], its path, its
//!   words, the gateway's code for it), driven by generated `Validate` impls
//!   and by [`check`] (a JSON tree against the model);
//! - [`lenient`]: the one lenient scalar reader (responses, and requests
//!   checked at run time);
//! - [`CommonErrorCode`]: the codes every service shares;
//! - [`budget`]: how far an answer may expand once decoded
//!   ([`ResponseLimits`](budget::ResponseLimits)), for the runtime and tcloud.
//!
//! ```no_run
//! let model = tencentcloud_model::load_dir(std::path::Path::new("spec/cvm/v20170312"))?;
//! println!("{} actions", model.actions.len());
//! # Ok::<(), tencentcloud_model::LoadError>(())
//! ```

pub mod budget;
pub mod build;
pub mod check;
mod common_codes;
mod error;
pub mod facts;
pub mod graph;
pub mod lenient;
pub mod model;
pub mod official;
pub mod paging;
pub mod partial;
pub mod samples;
pub mod spec;
pub mod validate;
pub mod waiters;
pub mod words;

use std::path::Path;

pub use common_codes::CommonErrorCode;
pub use error::{LoadError, SpecError, SpecErrors};
pub use model::{Model, API_FILE, ERRORS_FILE, RULES_FILE};
pub use validate::{FieldPath, Problem, Validate, ValidationError, Validator, Violation};
pub use waiters::WAITERS_FILE;

use spec::{ApiFile, ErrorsFile, RulesFile, WaitersFile};

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
            build::build(&api, &errors, &rules, waiters.as_ref())
        }
        _ => Err(SpecErrors(problems)),
    }
}

/// The files of a spec directory, read. `errors.json` and `rules.json` are
/// required: an absent file is more likely a mistake than an intent.
/// `waiters.json` is optional: most services declare none.
pub struct SpecTexts {
    pub api: String,
    pub errors: String,
    pub rules: String,
    pub waiters: Option<String>,
}

impl SpecTexts {
    pub fn read(dir: &Path) -> Result<SpecTexts, LoadError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| LoadError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let waiters_path = dir.join(WAITERS_FILE);
        let waiters = match std::fs::read_to_string(&waiters_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(LoadError::Read {
                    path: waiters_path.display().to_string(),
                    source,
                })
            }
        };
        Ok(SpecTexts {
            api: read(API_FILE)?,
            errors: read(ERRORS_FILE)?,
            rules: read(RULES_FILE)?,
            waiters,
        })
    }

    pub fn model(&self) -> Result<Model, SpecErrors> {
        model_from_texts(&self.api, &self.errors, &self.rules, self.waiters.as_deref())
    }
}

/// Reads a spec directory and builds its model.
pub fn load_dir(dir: &Path) -> Result<Model, LoadError> {
    Ok(SpecTexts::read(dir)?.model()?)
}
