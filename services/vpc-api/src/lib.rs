// Written by `cargo xtask import`; rewritten when the service gains or loses a version.

//! The Tencent Cloud `vpc` API, version v20170312: a typed, signed client ([`Client`]) with a method per action, generated from the official description.
//! Make it from a shared [`runtime::Client`] to share one connection pool, credentials and retry budget with other services.

#![deny(missing_docs)]

#[rustfmt::skip]
mod generated;

// The version's module holds every name of the root (codegen's list).
pub use generated::*;
