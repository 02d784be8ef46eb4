//! The credential a client signs with.

use std::fmt;

use signer::SecretKey;

/// A Tencent Cloud API credential: `SecretId`, `SecretKey` and, for
/// temporary credentials (STS, CAM roles), a session token.
///
/// `Debug` shows the secret id (it identifies the key and is sent in clear in
/// every `Authorization` header) but never the key or the token, which print
/// as `***`. There is no `Display`.
#[derive(Clone)]
pub struct Credentials {
    secret_id: String,
    secret_key: SecretKey,
    /// Wiped on drop and never printed, like the key.
    session_token: Option<SecretKey>,
}

impl Credentials {
    /// A permanent credential.
    pub fn new(secret_id: impl Into<String>, secret_key: SecretKey) -> Self {
        Credentials {
            secret_id: secret_id.into(),
            secret_key,
            session_token: None,
        }
    }

    /// Adds the session token of a temporary credential, sent as `X-TC-Token`.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(SecretKey::new(token));
        self
    }

    /// The `SecretId` (`AKID...`).
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The secret key; use [`SecretKey::expose`] only to sign.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// The session token, if this is a temporary credential. It is a secret
    /// too: do not log it.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_ref().map(SecretKey::expose)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &format_args!("***"))
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| format_args!("***")),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key_and_token() {
        let c = Credentials::new("AKIDexample", SecretKey::new("key-value-123"))
            .with_session_token("token-value-456");
        let shown = format!("{c:?} {c:#?}");
        assert!(shown.contains("AKIDexample"));
        assert!(!shown.contains("key-value-123"));
        assert!(!shown.contains("token-value-456"));
        assert!(shown.contains("***"));
        assert_eq!(c.session_token(), Some("token-value-456"));
        assert_eq!(c.secret_key().expose(), "key-value-123");
    }
}
