//! Failure to load or generate.

pub use tencentcloud_model::{SpecError, SpecErrors};

/// Failure to load or generate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{0}")]
    Spec(#[from] SpecErrors),
    /// The generator produced tokens that do not parse: a generator bug.
    #[error("generated {file} does not parse as Rust: {message}")]
    Generated { file: String, message: String },
}

impl From<tencentcloud_model::LoadError> for Error {
    fn from(e: tencentcloud_model::LoadError) -> Self {
        match e {
            tencentcloud_model::LoadError::Read { path, source } => Error::Read { path, source },
            tencentcloud_model::LoadError::Spec(errors) => Error::Spec(errors),
        }
    }
}
