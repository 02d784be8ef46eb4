//! TC3-HMAC-SHA256 signing and verification for Tencent Cloud API 3.0.
//!
//! Pure functions: no I/O, no clock, no async. The SDK client signs with a
//! [`Signer`] (which caches the derived key per date and service); a server
//! or emulator checks requests with [`parse_authorization`] and [`verify`].
//! Both sides go through the same canonicalisation code.
//!
//! ```
//! use signer::{parse_authorization, verify, Payload, ReceivedRequest, SecretKey, Signer, SigningRequest};
//!
//! let signer = Signer::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"));
//! let body = br#"{"InstanceIds":["ins-r8hr2upy","ins-5d8a23rs"]}"#;
//! let authorization = signer.authorization(&SigningRequest {
//!     method: "POST",
//!     host: "cvm.tencentcloudapi.com",
//!     query: "",
//!     content_type: "application/json; charset=utf-8",
//!     payload: Payload::Bytes(body),
//!     service: "cvm",
//!     timestamp: 1551113065,
//!     action: Some("StartInstances"),
//! });
//! assert!(authorization.contains("SignedHeaders=content-type;host;x-tc-action, "));
//!
//! // Server side.
//! let parsed = parse_authorization(&authorization)?;
//! let headers = [
//!     ("Host", "cvm.tencentcloudapi.com"),
//!     ("Content-Type", "application/json; charset=utf-8"),
//!     ("X-TC-Action", "StartInstances"),
//! ];
//! let received = ReceivedRequest {
//!     method: "POST",
//!     query: "",
//!     headers: &headers,
//!     body,
//!     timestamp: 1551113065,
//!     authorization: &parsed,
//! };
//! verify(&received, &SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"))?;
//! # Ok::<(), signer::VerifyError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod canonical;
mod date;
mod hmac256;
mod secret;
mod sign;
mod verify;

pub use canonical::{derive_signing_key, ALGORITHM, UNSIGNED_PAYLOAD};
pub use date::{utc_date, UtcDate};
pub use secret::SecretKey;
pub use sign::{Payload, Signed, Signer, SigningRequest, SIGNED_HEADERS, SIGNED_HEADERS_WITHOUT_ACTION};
pub use verify::{
    parse_authorization, verify, verify_with_service, ParsedAuthorization, ReceivedRequest, VerifyError,
    CONTENT_SHA256_HEADER, MAX_AUTHORIZATION_LEN, MAX_SIGNED_HEADERS,
};
