//! The single implementation of TC3 canonicalisation and key derivation,
//! shared by signing and verification.
//!
//! Text is written through [`Sink`] so the same code either fills a stack
//! buffer that is hashed in one go (the fast path: no heap strings) or builds
//! the human-readable strings returned by [`crate::Signer::sign_detailed`].

use crate::date::write_u64;
use crate::hmac256::{sha256, HmacKey};

/// The only algorithm TC3 defines.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// Payload-hash placeholder for requests whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Last component of every TC3 credential scope.
pub(crate) const TERMINATOR: &str = "tc3_request";

/// Destination for canonical text.
pub(crate) trait Sink {
    fn put(&mut self, s: &str);
    /// Text known to be ASCII (hex digits, dates, numbers): lets hashing
    /// sinks skip a UTF-8 check that only the `String` sink needs.
    fn put_ascii(&mut self, b: &[u8]);
    /// `s` with ASCII letters lower-cased (canonical header values).
    fn put_lower(&mut self, s: &str);
    /// Everything written so far.
    fn written(&self) -> &[u8];
}

impl Sink for String {
    #[inline]
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }

    #[inline]
    fn put_ascii(&mut self, b: &[u8]) {
        // For ASCII bytes `char::from` is the identity mapping.
        self.extend(b.iter().map(|&c| char::from(c)));
    }

    fn put_lower(&mut self, s: &str) {
        self.extend(s.chars().map(|c| c.to_ascii_lowercase()));
    }

    fn written(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Collects canonical text contiguously (HMAC and one-shot hashing want a
/// single slice): on the stack for typical requests, spilling to the heap only
/// for unusually long queries or headers.
pub(crate) struct SmallBuf {
    stack: [u8; SMALL_BUF_CAP],
    len: usize,
    heap: Vec<u8>,
}

/// Covers the canonical request of a typical POST and any string to sign.
const SMALL_BUF_CAP: usize = 256;

impl SmallBuf {
    pub(crate) fn new() -> Self {
        Self {
            stack: [0; SMALL_BUF_CAP],
            len: 0,
            heap: Vec::new(),
        }
    }

    fn as_slice(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }
}

impl Sink for SmallBuf {
    #[inline(always)]
    fn put(&mut self, s: &str) {
        self.put_ascii(s.as_bytes());
    }

    #[inline(always)]
    fn put_ascii(&mut self, b: &[u8]) {
        if !self.heap.is_empty() {
            self.heap.extend_from_slice(b);
        } else if let Some(dst) = self.stack.get_mut(self.len..self.len + b.len()) {
            dst.copy_from_slice(b);
            self.len += b.len();
        } else {
            self.heap.reserve(self.len + b.len() + SMALL_BUF_CAP);
            self.heap.extend_from_slice(&self.stack[..self.len]);
            self.heap.extend_from_slice(b);
        }
    }

    #[inline(always)]
    fn put_lower(&mut self, s: &str) {
        // Header values are short: lower-case in stack chunks, no allocation.
        let mut chunk = [0u8; 64];
        for part in s.as_bytes().chunks(chunk.len()) {
            let out = &mut chunk[..part.len()];
            out.copy_from_slice(part);
            out.make_ascii_lowercase();
            self.put_ascii(out);
        }
    }

    fn written(&self) -> &[u8] {
        self.as_slice()
    }
}

/// 64 lowercase hex digits on the stack.
#[derive(Clone, Copy)]
pub(crate) struct Hex64([u8; 64]);

impl Hex64 {
    pub(crate) fn encode(bytes: &[u8; 32]) -> Self {
        /// Both hex digits of every byte value: one lookup per input byte.
        const PAIRS: [[u8; 2]; 256] = {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            let mut table = [[0u8; 2]; 256];
            let mut i = 0;
            while i < 256 {
                table[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
                i += 1;
            }
            table
        };
        let mut out = [0u8; 64];
        for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&PAIRS[usize::from(b)]);
        }
        Self(out)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn as_str(&self) -> &str {
        // Always ASCII hex digits, so this cannot fail; "" is an unreachable fallback.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Decimal text of an `i64` on the stack.
pub(crate) struct Decimal {
    bytes: [u8; 21],
    len: usize,
}

impl Decimal {
    pub(crate) fn new(v: i64) -> Self {
        let mut bytes = [0u8; 21];
        let mut digits = [0u8; 20];
        let n = write_u64(v.unsigned_abs(), &mut digits);
        let sign = usize::from(v < 0);
        bytes[0] = b'-';
        bytes[sign..sign + n].copy_from_slice(&digits[..n]);
        Self { bytes, len: sign + n }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The payload hash line of the canonical request.
pub(crate) enum PayloadHash {
    Hex(Hex64),
    Unsigned,
}

impl PayloadHash {
    pub(crate) fn of_bytes(body: &[u8]) -> Self {
        Self::Hex(Hex64::encode(&sha256(body)))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Hex(h) => h.as_bytes(),
            Self::Unsigned => UNSIGNED_PAYLOAD.as_bytes(),
        }
    }
}

/// Trims optional whitespace (space / tab) around an HTTP header value, as
/// HTTP servers do before handing the value to the application.
pub(crate) fn trim_value(v: &str) -> &str {
    v.trim_matches([' ', '\t'])
}

/// `CanonicalQueryString`: the raw query for GET; always empty for POST,
/// where the parameters live in the body.
pub(crate) fn canonical_query<'a>(method: &str, query: &'a str) -> &'a str {
    if method.eq_ignore_ascii_case("POST") {
        ""
    } else {
        query
    }
}

/// Writes the canonical request.
///
/// `headers` are `(lowercase name, value)` pairs in SignedHeaders order. Each
/// value is canonicalised as Tencent's published algorithm (and so the
/// gateway) does it: surrounding whitespace trimmed, ASCII letters
/// lower-cased (`x-tc-action:describeinstances`). The SignedHeaders line is
/// derived from the same names, so the two can never disagree.
fn write_canonical_request<S: Sink>(
    out: &mut S,
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    payload_hash: &PayloadHash,
) {
    out.put(method);
    out.put("\n/\n");
    out.put(canonical_query(method, query));
    out.put("\n");
    for (name, value) in headers {
        out.put(name);
        out.put(":");
        out.put_lower(trim_value(value));
        out.put("\n");
    }
    out.put("\n");
    for (i, (name, _)) in headers.iter().enumerate() {
        if i > 0 {
            out.put(";");
        }
        out.put(name);
    }
    out.put("\n");
    out.put_ascii(payload_hash.as_bytes());
}

/// Writes the string to sign.
fn write_string_to_sign<S: Sink>(
    out: &mut S,
    timestamp: i64,
    date: &str,
    service: &str,
    canonical_request_hash: &Hex64,
) {
    out.put(ALGORITHM);
    out.put("\n");
    out.put_ascii(Decimal::new(timestamp).as_bytes());
    out.put("\n");
    out.put(date);
    out.put("/");
    out.put(service);
    out.put("/");
    out.put(TERMINATOR);
    out.put("\n");
    out.put_ascii(canonical_request_hash.as_bytes());
}

/// Everything that enters a TC3 signature besides the key.
pub(crate) struct Canonical<'a> {
    pub(crate) method: &'a str,
    pub(crate) query: &'a str,
    /// `(lowercase name, value)` in SignedHeaders order.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) payload_hash: &'a PayloadHash,
    pub(crate) timestamp: i64,
    pub(crate) date: &'a str,
    pub(crate) service: &'a str,
}

/// The raw TC3 signature: builds the canonical request and string to sign
/// into the given sinks (left there for callers that want the text) and
/// MACs the latter with the signing key. Both signing and verification end
/// up here.
pub(crate) fn signature<B: Sink>(
    c: &Canonical<'_>,
    signing_key: &HmacKey,
    canonical_request: &mut B,
    string_to_sign: &mut B,
) -> [u8; 32] {
    write_canonical_request(canonical_request, c.method, c.query, c.headers, c.payload_hash);
    let canonical_hash = Hex64::encode(&sha256(canonical_request.written()));
    write_string_to_sign(string_to_sign, c.timestamp, c.date, c.service, &canonical_hash);
    signing_key.mac(string_to_sign.written())
}

/// Length of the Authorization header [`write_authorization`] produces.
pub(crate) fn authorization_len(secret_id: &str, date: &str, service: &str, signed_headers: &str) -> usize {
    ALGORITHM.len()
        + " Credential=".len()
        + secret_id.len()
        + 1
        + date.len()
        + 1
        + service.len()
        + 1
        + TERMINATOR.len()
        + ", SignedHeaders=".len()
        + signed_headers.len()
        + ", Signature=".len()
        + 64
}

/// Writes the Authorization header value.
pub(crate) fn write_authorization<S: Sink>(
    out: &mut S,
    secret_id: &str,
    date: &str,
    service: &str,
    signed_headers: &str,
    signature: &str,
) {
    out.put(ALGORITHM);
    out.put(" Credential=");
    out.put(secret_id);
    out.put("/");
    out.put(date);
    out.put("/");
    out.put(service);
    out.put("/");
    out.put(TERMINATOR);
    out.put(", SignedHeaders=");
    out.put(signed_headers);
    out.put(", Signature=");
    out.put(signature);
}

/// Derives the TC3 signing key:
/// `HMAC(HMAC(HMAC("TC3" + secret_key, date), service), "tc3_request")`.
///
/// Depends only on (secret, date, service), which is why [`crate::Signer`]
/// caches it.
pub fn derive_signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let k_date = HmacKey::new(&[b"TC3", secret_key.as_bytes()]).mac(date.as_bytes());
    let k_service = HmacKey::new(&[&k_date]).mac(service.as_bytes());
    HmacKey::new(&[&k_service]).mac(TERMINATOR.as_bytes())
}
