//! Tencent Cloud API description → Rust source.
//!
//! The description is read and checked by the model crate
//! ([`tencentcloud_model`]); this crate annotates the model with Rust names
//! ([`RustModel`]) and emits formatted Rust. No network and no knowledge of
//! HTTP: the runtime does that. Only xtask (and the golden tests) depend on
//! it; the tools that read descriptions at run time use the model crate.
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
mod gen_calls;
mod gen_paging;
mod gen_waiters;
pub mod names;
mod rust;
mod tokens;

use std::path::Path;

pub use error::{Error, SpecError, SpecErrors};
pub use gen::{actions_macro_name, generate, generate_module, generate_with, header, GeneratedFile, Layout};
pub use rust::RustModel;

/// The annotated model: what the generator reads.
pub type Model = RustModel;

/// Annotates a model with Rust names.
pub fn annotate(model: tencentcloud_model::Model) -> Result<RustModel, SpecErrors> {
    RustModel::annotate(model)
}

/// Builds and annotates the model from the three files' text.
pub fn model_from_sources(api: &str, errors: &str, rules: &str) -> Result<RustModel, SpecErrors> {
    model_from_texts(api, errors, rules, None)
}

/// Builds and annotates the model from the files' text, `waiters.json`
/// included when there is one.
pub fn model_from_texts(
    api: &str,
    errors: &str,
    rules: &str,
    waiters: Option<&str>,
) -> Result<RustModel, SpecErrors> {
    annotate(tencentcloud_model::model_from_texts(api, errors, rules, waiters)?)
}

/// The annotated model of an official service version as the SDK ships it
/// (a bundle entry: facts-only description and codes, no rules, no
/// waiters): what `cargo xtask import` writes into `spec/` and what the
/// `tencentcloud` crate's build generates from, so the two cannot drift.
pub fn official_model(entry: &tencentcloud_model::official::Entry) -> Result<RustModel, SpecErrors> {
    annotate(tencentcloud_model::official::model(entry)?)
}

/// Reads a spec directory (see [`tencentcloud_model::load_dir`]) and annotates its model.
pub fn load_dir(dir: &Path) -> Result<RustModel, Error> {
    Ok(annotate(tencentcloud_model::load_dir(dir)?)?)
}
