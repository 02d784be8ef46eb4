//! The hand-written runtime: configuration, credentials, signing, transport,
//! validation and error plumbing. It knows nothing about particular actions;
//! the generated code describes each one through [`Action`].

mod action;
mod error;
pub mod lenient;
mod validate;

pub use action::Action;
pub use error::{Error, ServiceError};
pub use validate::{Pattern, Validate, ValidationError, Validator, Violation};
