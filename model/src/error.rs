//! Spec problems, each naming the file and JSON path where it was found.

use std::fmt;

/// One problem in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// `api.json`, `errors.json`, `rules.json` or `waiters.json`.
    pub file: String,
    /// JSON path inside the file, e.g. `objects.StartInstancesRequest.members[0].member`.
    pub path: String,
    pub message: String,
}

impl SpecError {
    /// `path: message`, or the message alone: for callers that name the file
    /// themselves (the file the spec was made from, say).
    pub fn path_and_message(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.path, self.message)
        }
    }
}

/// Every problem found in one pass over the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "the spec has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

impl From<SpecError> for SpecErrors {
    fn from(e: SpecError) -> Self {
        SpecErrors(vec![e])
    }
}

/// Failure to load a spec directory.
#[derive(Debug)]
pub enum LoadError {
    /// A file could not be read.
    Read { path: String, source: std::io::Error },
    /// The files were read and are wrong.
    Spec(SpecErrors),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read { path, source } => write!(f, "cannot read {path}: {source}"),
            LoadError::Spec(errors) => errors.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Read { source, .. } => Some(source),
            LoadError::Spec(errors) => Some(errors),
        }
    }
}

impl From<SpecErrors> for LoadError {
    fn from(e: SpecErrors) -> Self {
        LoadError::Spec(e)
    }
}
