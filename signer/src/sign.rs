//! Request signing.

use std::fmt;
use std::sync::{PoisonError, RwLock};

use crate::canonical::{
    self, authorization_len, derive_signing_key, write_authorization, Canonical, Hex64, PayloadHash, Sink,
    SmallBuf,
};
use crate::date::{DateBuf, UtcDate, SECS_PER_DAY};
use crate::hmac256::HmacKey;
use crate::SecretKey;

/// The headers a [`SigningRequest`] with an [`action`](SigningRequest::action)
/// signs, lowercase and sorted, as in Tencent's published TC3 example.
/// Signing the action stops a captured request from being replayed as
/// another action (a signed `DescribeInstances` resent as `TerminateInstances`).
pub const SIGNED_HEADERS: &str = "content-type;host;x-tc-action";

/// The headers signed when no action is given: what the official SDKs sign.
pub const SIGNED_HEADERS_WITHOUT_ACTION: &str = "content-type;host";

/// The request body as it enters the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// The exact body bytes sent; their SHA-256 is signed.
    Bytes(&'a [u8]),
    /// The body is not signed: the literal `UNSIGNED-PAYLOAD` replaces its
    /// hash. The request must then also carry the header
    /// `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` so the server does the same.
    Unsigned,
}

/// Everything about a request that enters a TC3 signature.
///
/// The path is always `/`. The signed headers are [`SIGNED_HEADERS`]
/// (`content-type;host;x-tc-action`) when `action` is set, and
/// [`SIGNED_HEADERS_WITHOUT_ACTION`] (`content-type;host`, what the
/// official SDKs sign) when it is not.
#[derive(Clone, Copy, Debug)]
pub struct SigningRequest<'a> {
    /// HTTP method, as sent (`POST` or `GET`).
    pub method: &'a str,
    /// `Host` header value exactly as sent, including any port (`127.0.0.1:9000`).
    pub host: &'a str,
    /// Raw query string (without `?`) for GET; ignored for POST, whose
    /// canonical query is empty.
    pub query: &'a str,
    /// `Content-Type` header value exactly as sent.
    pub content_type: &'a str,
    /// The body, or [`Payload::Unsigned`].
    pub payload: Payload<'a>,
    /// Service name of the credential scope (`cvm`), usually the first label of the host.
    pub service: &'a str,
    /// `X-TC-Timestamp`, seconds since the Unix epoch.
    pub timestamp: i64,
    /// `X-TC-Action` exactly as sent (`DescribeInstances`), to sign it too;
    /// `None` leaves the action unsigned, as the official SDKs do.
    pub action: Option<&'a str>,
}

impl SigningRequest<'_> {
    /// `(name, value)` pairs in SignedHeaders order, and how many are used.
    fn headers(&self) -> ([(&str, &str); 3], usize) {
        let action = self.action.unwrap_or_default();
        let headers = [
            ("content-type", self.content_type),
            ("host", self.host),
            ("x-tc-action", action),
        ];
        (headers, if self.action.is_some() { 3 } else { 2 })
    }

    fn signed_headers(&self) -> &'static str {
        if self.action.is_some() {
            SIGNED_HEADERS
        } else {
            SIGNED_HEADERS_WITHOUT_ACTION
        }
    }

    fn payload_hash(&self) -> PayloadHash {
        match self.payload {
            Payload::Bytes(b) => PayloadHash::of_bytes(b),
            Payload::Unsigned => PayloadHash::Unsigned,
        }
    }
}

/// Every intermediate of a signature, for debugging and known-answer tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The canonical request.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// UTC date of the timestamp, `YYYY-MM-DD`.
    pub date: String,
    /// Lowercase hex signature.
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

/// Derived signing keys are kept for this many (date, service) pairs. A
/// client normally needs one or two services per day; when full the entry
/// with the oldest date is replaced.
const CACHE_CAPACITY: usize = 16;

struct CachedKey {
    /// Days since the Unix epoch (cheaper to compare than the date text).
    day: i64,
    service: Box<str>,
    /// The signing key as HMAC mid-states: skips both the key derivation
    /// (3 HMACs, 12 compressions) and the 2 keying compressions.
    key: HmacKey,
}

/// Signs requests with one credential.
///
/// Caches the derived signing key per (date, service) so the common path
/// costs one body hash, one canonical-request hash and one HMAC. `Send +
/// Sync`: share one `Signer` (e.g. in an `Arc`) across threads; the cache is
/// behind an `RwLock` whose read side is held only to copy 64 bytes.
pub struct Signer {
    secret_id: String,
    secret_key: SecretKey,
    cache: RwLock<Vec<CachedKey>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &self.secret_key)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for the credential (`secret_id`, `key`).
    pub fn new(secret_id: impl Into<String>, key: SecretKey) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: key,
            cache: RwLock::new(Vec::new()),
        }
    }

    /// The `SecretId` this signer puts in the credential.
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The `Authorization` header value for `req` (the per-request fast path).
    pub fn authorization(&self, req: &SigningRequest<'_>) -> String {
        let (date, signature) = self.sign_into(req, &mut SmallBuf::new(), &mut SmallBuf::new());
        self.authorization_header(req, date.as_str(), &signature)
    }

    /// Signs `req` and returns every intermediate string.
    ///
    /// Slower than [`Signer::authorization`] (it materialises the canonical
    /// request and string to sign on the heap) but runs the same code.
    pub fn sign_detailed(&self, req: &SigningRequest<'_>) -> Signed {
        let mut canonical_request = String::new();
        let mut string_to_sign = String::new();
        let (date, signature) = self.sign_into(req, &mut canonical_request, &mut string_to_sign);
        Signed {
            authorization: self.authorization_header(req, date.as_str(), &signature),
            canonical_request,
            string_to_sign,
            date: date.as_str().to_owned(),
            signature: signature.as_str().to_owned(),
        }
    }

    /// Writes the canonical request and string to sign into the given
    /// buffers; returns the credential date and the signature.
    fn sign_into<B: Sink>(
        &self,
        req: &SigningRequest<'_>,
        canonical_request: &mut B,
        string_to_sign: &mut B,
    ) -> (DateBuf, Hex64) {
        let day = req.timestamp.div_euclid(SECS_PER_DAY);
        let date = UtcDate::from_days(day).to_buf();
        let key = self.signing_key(day, date.as_str(), req.service);
        let (headers, used) = req.headers();
        let raw = canonical::signature(
            &Canonical {
                method: req.method,
                query: req.query,
                headers: &headers[..used],
                payload_hash: &req.payload_hash(),
                timestamp: req.timestamp,
                date: date.as_str(),
                service: req.service,
            },
            &key,
            canonical_request,
            string_to_sign,
        );
        (date, Hex64::encode(&raw))
    }

    fn authorization_header(&self, req: &SigningRequest<'_>, date: &str, signature: &Hex64) -> String {
        let mut out = String::with_capacity(authorization_len(
            &self.secret_id,
            date,
            req.service,
            req.signed_headers(),
        ));
        write_authorization(
            &mut out,
            &self.secret_id,
            date,
            req.service,
            req.signed_headers(),
            signature.as_str(),
        );
        out
    }

    /// HMAC key for (`day`, `service`), from the cache or freshly derived
    /// (and then cached).
    fn signing_key(&self, day: i64, date: &str, service: &str) -> HmacKey {
        {
            let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(hit) = cache.iter().find(|e| e.day == day && &*e.service == service) {
                return hit.key;
            }
        }

        // Derive outside the lock: other threads keep signing meanwhile.
        let key = HmacKey::new(&[&derive_signing_key(self.secret_key.expose(), date, service)]);

        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if !cache.iter().any(|e| e.day == day && &*e.service == service) {
            let entry = CachedKey {
                day,
                service: service.into(),
                key,
            };
            if cache.len() < CACHE_CAPACITY {
                cache.push(entry);
            } else if let Some(oldest) = cache.iter_mut().min_by_key(|e| e.day) {
                *oldest = entry;
            }
        }
        key
    }
}
