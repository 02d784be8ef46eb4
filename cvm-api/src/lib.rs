//! Typed, signed Rust client for the Tencent Cloud CVM API (2017-03-12).
//!
//! Every action of the API is a method on [`Client`] that starts a [`Call`]:
//! set the request's members and the call's options, then `send()` it for a
//! typed response or an [`Error`] whose service variant is the action's own
//! error enum:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cvm_api::{Client, StartInstancesError};
//!
//! let client = Client::from_env()?; // TENCENTCLOUD_SECRET_ID, _SECRET_KEY, _REGION, ...
//! match client.start_instances().instance_ids("ins-r8hr2upy").send().await {
//!     Ok(response) => println!("accepted: {}", response.request_id),
//!     Err(cvm_api::Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRunning(e))) => {
//!         println!("already running ({})", e.request_id())
//!     }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```
//!
//! The request and response types live in [`types`], the error enums in
//! [`errors`]; both are re-exported here. The code in those modules is
//! generated from `spec/cvm/v20170312` by `cargo xtask regen`. The
//! service-independent runtime (configuration, signing, transport, errors)
//! is the `tencentcloud-runtime` crate, re-exported as [`runtime`]: a
//! [`Client`] made with [`Client::new`] from a shared [`runtime::Client`]
//! shares its connection pool and credentials with other services' clients.

#![deny(missing_docs)]

#[rustfmt::skip]
mod generated;

// Every name a generated service has at its root (codegen's list: the
// client, types, error enums, `Error`, `runtime`...), then more of the
// runtime's, for CVM's waiters and the crate's examples.
pub use generated::*;
pub use tencentcloud_runtime::{
    ActionError, ConfigError, Credentials, Endpoint, Paginator, RetryBudget, RetryConfig, SecretKey,
    TransportError, TransportErrorKind, WaitError, WaitOptions, WaitOutcome, WaitProgress,
};

/// Compiles the README's code samples as doc tests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
