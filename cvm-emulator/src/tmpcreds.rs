//! Temporary credentials (metadata service, STS), issued and verified
//! without storing anything per credential.
//!
//! Everything derives from a minting key drawn at start and never shown:
//! the secret id carries its expiry, a random nonce and a tag
//! (`AKIDtmp` + hex(expiry ‖ nonce ‖ tag)); the secret key and the token
//! are HMACs of the id. So verifying a temporary credential needs no map,
//! a made-up id fails its tag, and a changed expiry changes the key. They
//! die with the process: a new process draws a new minting key.

use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use rand::RngExt;
use sha2::Sha256;
use signer::SecretKey;

type HmacSha256 = Hmac<Sha256>;

/// Prefix of every temporary secret id.
pub(crate) const TEMP_ID_PREFIX: &str = "AKIDtmp";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 8;
/// Bytes after the prefix: expiry (8), nonce, tag.
const ID_BYTES: usize = 8 + NONCE_LEN + TAG_LEN;

/// Who asked for a credential, for [`CredentialsIssued`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Metadata,
    AssumeRole,
    WebIdentity,
}

/// Temporary credentials issued since the emulator started, by source.
///
/// Each metadata GET of a role's credentials, each `AssumeRole` and each
/// `AssumeRoleWithWebIdentity` answered with credentials counts one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialsIssued {
    /// By the metadata service (`/latest/meta-data/cam/security-credentials/<role>`).
    pub metadata: u64,
    /// By STS `AssumeRole`.
    pub assume_role: u64,
    /// By STS `AssumeRoleWithWebIdentity`.
    pub web_identity: u64,
}

impl CredentialsIssued {
    /// All sources together.
    pub fn total(&self) -> u64 {
        self.metadata + self.assume_role + self.web_identity
    }
}

/// A credential just issued. `Debug` shows the id and expiry only.
pub(crate) struct Issued {
    pub(crate) secret_id: String,
    pub(crate) secret_key: SecretKey,
    pub(crate) token: SecretKey,
    /// Unix seconds (the emulator's clock) from which it is refused.
    pub(crate) expired_time: u64,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("secret_id", &self.secret_id)
            .field("expired_time", &self.expired_time)
            .finish_non_exhaustive()
    }
}

/// The minting key and the issue counters.
pub(crate) struct Minter {
    key: [u8; 32],
    metadata: AtomicU64,
    assume_role: AtomicU64,
    web_identity: AtomicU64,
}

impl Minter {
    /// A minter with a fresh random key.
    pub(crate) fn new() -> Self {
        Minter {
            key: rand::rng().random(),
            metadata: AtomicU64::new(0),
            assume_role: AtomicU64::new(0),
            web_identity: AtomicU64::new(0),
        }
    }

    fn mac(&self, label: &[u8], data: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length: this never fails.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(label);
        mac.update(data);
        mac
    }

    /// Issues a credential valid until `expired_time` (Unix seconds) and counts it.
    pub(crate) fn issue(&self, source: Source, expired_time: u64) -> Issued {
        let mut bytes = [0u8; ID_BYTES];
        bytes[..8].copy_from_slice(&expired_time.to_be_bytes());
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        bytes[8..8 + NONCE_LEN].copy_from_slice(&nonce);
        let tag = self.mac(b"id:", &bytes[..8 + NONCE_LEN]).finalize().into_bytes();
        bytes[8 + NONCE_LEN..].copy_from_slice(&tag[..TAG_LEN]);
        let secret_id = format!("{TEMP_ID_PREFIX}{}", hex::encode(bytes));
        let counter = match source {
            Source::Metadata => &self.metadata,
            Source::AssumeRole => &self.assume_role,
            Source::WebIdentity => &self.web_identity,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Issued {
            secret_key: self.secret_key(&secret_id),
            token: SecretKey::new(hex::encode(
                self.mac(b"token:", secret_id.as_bytes()).finalize().into_bytes(),
            )),
            secret_id,
            expired_time,
        }
    }

    /// The expiry of `secret_id` when this minter issued it; `None` for
    /// anything else (a made-up id, one from an earlier process).
    pub(crate) fn expiry_of(&self, secret_id: &str) -> Option<u64> {
        let hex_part = secret_id.strip_prefix(TEMP_ID_PREFIX)?;
        // Lower-case only: one spelling per id.
        if hex_part.len() != 2 * ID_BYTES || !hex_part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let bytes = hex::decode(hex_part).ok()?;
        let (body, tag) = bytes.split_at(8 + NONCE_LEN);
        // Constant time: the tag is a MAC.
        self.mac(b"id:", body).verify_truncated_left(tag).ok()?;
        let mut expiry = [0u8; 8];
        expiry.copy_from_slice(&body[..8]);
        Some(u64::from_be_bytes(expiry))
    }

    /// The secret key of a temporary id (meaningful for ids [`Minter::expiry_of`] accepts).
    pub(crate) fn secret_key(&self, secret_id: &str) -> SecretKey {
        SecretKey::new(hex::encode(
            self.mac(b"key:", secret_id.as_bytes()).finalize().into_bytes(),
        ))
    }

    /// Whether `token` is the token of `secret_id`, compared in constant time.
    pub(crate) fn token_matches(&self, secret_id: &str, token: &str) -> bool {
        let Ok(bytes) = hex::decode(token.trim()) else {
            return false;
        };
        self.mac(b"token:", secret_id.as_bytes())
            .verify_slice(&bytes)
            .is_ok()
    }

    pub(crate) fn issued(&self) -> CredentialsIssued {
        CredentialsIssued {
            metadata: self.metadata.load(Ordering::Relaxed),
            assume_role: self.assume_role.load(Ordering::Relaxed),
            web_identity: self.web_identity.load(Ordering::Relaxed),
        }
    }
}

/// Whether two secrets are equal, in time that depends on their lengths only.
pub(crate) fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_credentials_verify_and_forgeries_do_not() {
        let minter = Minter::new();
        let a = minter.issue(Source::Metadata, 1_900_000_000);
        let b = minter.issue(Source::AssumeRole, 1_900_000_000);
        assert_ne!(a.secret_id, b.secret_id);
        assert_ne!(a.secret_key.expose(), b.secret_key.expose());
        assert!(a.secret_id.starts_with(TEMP_ID_PREFIX));
        assert_eq!(minter.expiry_of(&a.secret_id), Some(1_900_000_000));
        assert_eq!(minter.secret_key(&a.secret_id).expose(), a.secret_key.expose());
        assert!(minter.token_matches(&a.secret_id, a.token.expose()));
        assert!(!minter.token_matches(&a.secret_id, b.token.expose()));
        assert!(!minter.token_matches(&a.secret_id, "not hex"));
        assert!(!minter.token_matches(&a.secret_id, ""));

        // Another expiry in the same id: the tag no longer matches.
        let mut forged = a.secret_id.clone();
        forged.replace_range(TEMP_ID_PREFIX.len()..TEMP_ID_PREFIX.len() + 2, "ff");
        assert_eq!(minter.expiry_of(&forged), None);
        assert_eq!(minter.expiry_of(&a.secret_id.to_uppercase()), None);
        assert_eq!(minter.expiry_of("AKIDtmp"), None);
        assert_eq!(minter.expiry_of("AKIDtmpzz"), None);
        // Another process (another minting key) knows none of them.
        assert_eq!(Minter::new().expiry_of(&a.secret_id), None);

        let shown = format!("{a:?}");
        assert!(
            !shown.contains(a.secret_key.expose()) && !shown.contains(a.token.expose()),
            "{shown}"
        );
        assert_eq!(
            minter.issued(),
            CredentialsIssued {
                metadata: 1,
                assume_role: 1,
                web_identity: 0
            }
        );
    }

    #[test]
    fn secrets_compare() {
        assert!(secrets_equal(b"abc", b"abc"));
        assert!(!secrets_equal(b"abc", b"abd"));
        assert!(!secrets_equal(b"abc", b"abcd"));
    }
}
