//! The runtime of the Tencent Cloud Rust SDK: configuration, credentials,
//! endpoints, signing, transport with retries, validation, lenient decoding
//! and errors.
//!
//! It knows no service and no action: each generated service crate (such as
//! `cvm-api`) describes its actions through [`Action`] and makes its own
//! client from a shared [`Client`], so several services share one
//! connection pool and one credential:
//!
//! ```no_run
//! # fn demo() -> Result<(), tencentcloud_runtime::ConfigError> {
//! let shared = tencentcloud_runtime::Client::from_env()?;
//! // let cvm = cvm_api::Client::new(&shared);
//! // let vpc = vpc_api::Client::new(&shared);
//! # let _ = shared; Ok(()) }
//! ```

mod action;
mod call;
mod client;
mod clock;
mod config;
mod config_env;
mod config_error;
pub mod credentials;
mod decode;
mod display;
mod endpoint;
mod env;
mod error;
mod failover;
mod identity;
mod interceptor;
mod keyed;
// Client-side rate limiting per action.
mod pace;
#[doc(hidden)]
pub mod paginate;
// The one reader of Tencent's profile files, for the config crate and tcloud.
#[doc(hidden)]
pub mod profile;
mod reply;
mod retry;
mod route;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod transport;
// The waiter engine generated waiter methods call; its public types are
// re-exported at the root.
#[doc(hidden)]
pub mod waiter;

pub use action::Action;
pub use call::Call;
pub use client::{CallOptions, Client};
pub use config::Config;
pub use config_error::ConfigError;
pub use endpoint::Endpoint;
pub use env::Env;
pub use error::{
    ActionError, Error, InvalidResponseKind, RateLimitError, ServiceError, TransportError, TransportErrorKind,
};
pub use failover::FailoverConfig;
pub use identity::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};
pub use interceptor::{AttemptOutcome, HeaderError, Interceptor, OutgoingRequest};
pub use pace::{RateLimit, RateLimitConfig, RateLimitMode};
pub use paginate::Paginator;
// What generated code implements for the actions that page.
#[doc(hidden)]
pub use paginate::{OffsetPaged, Paginated, TokenPaged};
pub use retry::{RetryBudget, RetryConfig};
// Re-exported so that [`Credentials`] can be built without depending on `signer`.
pub use signer::SecretKey;
// The lenient scalar reader generated response types decode with (the
// model crate's, which the run-time checks use too).
#[doc(hidden)]
pub use tencentcloud_model::lenient;
// The one validation engine (the model crate's): generated `Validate`
// impls record into its `Validator`.
pub use tencentcloud_model::validate::{FieldPath, Problem, Segment, Validate, ValidationError, Violation};
// What generated `Validate` impls call.
#[doc(hidden)]
pub use tencentcloud_model::validate::{Pattern, Validator};
// How far an answer may expand when decoded (`Config::with_response_limits`):
// the model crate's, which tcloud bounds its own output with too.
pub use tencentcloud_model::budget::ResponseLimits;
// The codes every service shares: data the model crate owns.
pub use tencentcloud_model::CommonErrorCode;
pub use waiter::{WaitError, WaitOptions, WaitOutcome, WaitProgress};
