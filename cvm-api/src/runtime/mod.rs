//! The hand-written runtime: configuration, credentials, signing, transport,
//! validation and error plumbing. It knows nothing about particular actions;
//! the generated code describes each one through [`Action`].

mod action;
mod client;
mod config;
mod credentials;
mod endpoint;
mod error;
pub mod lenient;
mod validate;

pub use action::Action;
pub use client::Client;
pub use config::{Config, ConfigError};
pub use credentials::Credentials;
pub use endpoint::Endpoint;
pub use error::{Error, ServiceError, TransportError, TransportErrorKind};
/// Re-exported so that [`Credentials`] can be built without depending on `signer`.
pub use signer::SecretKey;
pub use validate::{Pattern, Validate, ValidationError, Validator, Violation};
