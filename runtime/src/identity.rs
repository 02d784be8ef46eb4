//! The credential a client signs with, and where it comes from.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::SystemTime;

use http::header::HeaderValue;
use signer::{SecretKey, Signer};

/// A Tencent Cloud API credential: `SecretId`, `SecretKey` and, for
/// temporary credentials (STS, CAM roles), a session token and an expiry.
///
/// Cheap to clone (an `Arc` inside). A clone shares the signer built for
/// it, so a provider that hands out clones of one `Credentials` until the
/// secret changes keeps the derived signing key cached; a new `Credentials`
/// (a rotated secret) starts with an empty cache, so no key derived from an
/// old secret is ever used with a new one.
///
/// `Debug` shows the secret id (it identifies the key and is sent in clear in
/// every `Authorization` header) but never the key or the token, which print
/// as `***`. There is no `Display`.
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    secret_id: String,
    secret_key: SecretKey,
    /// Wiped on drop and never printed, like the key.
    session_token: Option<SecretKey>,
    expiry: Option<SystemTime>,
    /// Where the credential came from, for `Debug` and logs.
    source: Cow<'static, str>,
    /// Built on first use and kept with the secret it was built from.
    prepared: OnceLock<Result<Prepared, String>>,
}

/// What signing and sending need, checked and built once per credential.
pub(crate) struct Prepared {
    pub(crate) signer: Signer,
    /// `X-TC-Token`, marked sensitive so the HTTP stack never prints it.
    pub(crate) token: Option<HeaderValue>,
}

impl Credentials {
    /// A permanent credential.
    pub fn new(secret_id: impl Into<String>, secret_key: SecretKey) -> Self {
        Credentials::from_parts(secret_id.into(), secret_key, None, None, Cow::Borrowed("static"))
    }

    fn from_parts(
        secret_id: String,
        secret_key: SecretKey,
        session_token: Option<SecretKey>,
        expiry: Option<SystemTime>,
        source: Cow<'static, str>,
    ) -> Self {
        Credentials {
            inner: Arc::new(Inner {
                secret_id,
                secret_key,
                session_token,
                expiry,
                source,
                prepared: OnceLock::new(),
            }),
        }
    }

    /// Names where this credential came from (`environment`, `CVM role
    /// CVM_QcsRole`...), shown by `Debug` and in logs; `static` unless set.
    pub fn with_source(self, source: impl Into<Cow<'static, str>>) -> Self {
        let inner = &self.inner;
        Credentials::from_parts(
            inner.secret_id.clone(),
            inner.secret_key.clone(),
            inner.session_token.clone(),
            inner.expiry,
            source.into(),
        )
    }

    /// Where this credential came from; see [`Credentials::with_source`].
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// Whether `self` and `other` are the very same credential (one is a
    /// clone of the other), not merely equal.
    pub fn same_as(&self, other: &Credentials) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Adds the session token of a temporary credential, sent as `X-TC-Token`.
    pub fn with_session_token(self, token: impl Into<String>) -> Self {
        let inner = &self.inner;
        Credentials::from_parts(
            inner.secret_id.clone(),
            inner.secret_key.clone(),
            Some(SecretKey::new(token)),
            inner.expiry,
            inner.source.clone(),
        )
    }

    /// When a temporary credential stops working. The client refuses to
    /// sign with a credential past its expiry ([`CredentialsError`]); the
    /// provider is expected to renew it before then.
    pub fn with_expiry(self, expiry: SystemTime) -> Self {
        let inner = &self.inner;
        Credentials::from_parts(
            inner.secret_id.clone(),
            inner.secret_key.clone(),
            inner.session_token.clone(),
            Some(expiry),
            inner.source.clone(),
        )
    }

    /// The `SecretId` (`AKID...`).
    pub fn secret_id(&self) -> &str {
        &self.inner.secret_id
    }

    /// The secret key; use [`SecretKey::expose`] only to sign.
    pub fn secret_key(&self) -> &SecretKey {
        &self.inner.secret_key
    }

    /// The session token, if this is a temporary credential. It is a secret
    /// too: do not log it.
    pub fn session_token(&self) -> Option<&str> {
        self.inner.session_token.as_ref().map(SecretKey::expose)
    }

    /// When this credential expires, if it does.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.inner.expiry
    }

    /// Checks every part can be sent as it must be. Errors never contain
    /// the secret key or the token; `Err` names the part and the problem.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        check_secret_id(self.secret_id()).map_err(|e| ("secret id", e))?;
        if self.secret_key().expose().is_empty() {
            return Err(("secret key", "is empty".to_owned()));
        }
        if let Some(token) = self.session_token() {
            check_token(token).map_err(|e| ("session token", e))?;
        }
        Ok(())
    }

    /// The signer and token header for this credential, built once.
    pub(crate) fn prepared(&self) -> Result<&Prepared, CredentialsError> {
        self.inner
            .prepared
            .get_or_init(|| {
                self.check()
                    .map_err(|(what, problem)| format!("invalid {what}: {problem}"))?;
                let token = match self.session_token() {
                    Some(t) => {
                        let mut value = HeaderValue::from_str(t)
                            .map_err(|_| "invalid session token: not a header value".to_owned())?;
                        value.set_sensitive(true);
                        Some(value)
                    }
                    None => None,
                };
                Ok(Prepared {
                    signer: Signer::new(self.secret_id(), self.secret_key().clone()),
                    token,
                })
            })
            .as_ref()
            .map_err(|reason| CredentialsError::new(reason.clone()))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.inner.secret_id)
            .field("secret_key", &format_args!("***"))
            .field(
                "session_token",
                &self.inner.session_token.as_ref().map(|_| format_args!("***")),
            )
            .field("expiry", &self.inner.expiry)
            .field("source", &self.inner.source)
            .finish()
    }
}

/// The secret id goes into `Credential=<id>/<date>/...` of `Authorization`.
pub(crate) fn check_secret_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("is empty".to_owned());
    }
    if !id.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b',') {
        return Err("may only contain printable ASCII characters other than `/` and `,`".to_owned());
    }
    Ok(())
}

/// The token is sent as a header; its value is never echoed.
pub(crate) fn check_token(token: &str) -> Result<(), String> {
    match HeaderValue::from_str(token) {
        Ok(_) => Ok(()),
        Err(_) => Err("contains characters not allowed in an HTTP header".to_owned()),
    }
}

/// Where a client gets the credential for each attempt of a call.
///
/// Called once per attempt, so a provider that renews temporary credentials
/// (CVM role, STS, a profile file rewritten by another tool) is honoured
/// from the next attempt on. Hand out clones of one [`Credentials`] while
/// the secret is unchanged: the client keeps the derived signing key with
/// it, and a new `Credentials` starts afresh.
///
/// A provider that does I/O should bound it itself; the call's deadline
/// ([`Config::with_deadline`](super::Config::with_deadline)) bounds it too.
/// [`Credentials`] is itself a provider that always gives itself.
///
/// ```
/// use tencentcloud_runtime::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials, SecretKey};
///
/// #[derive(Debug)]
/// struct FromVault;
///
/// impl ProvideCredentials for FromVault {
///     fn provide(&self) -> CredentialsFuture<'_> {
///         CredentialsFuture::new(async {
///             // ... fetch and cache ...
///             Ok(Credentials::new("AKIDexample", SecretKey::new("key")))
///         })
///     }
/// }
/// ```
pub trait ProvideCredentials: fmt::Debug + Send + Sync + 'static {
    /// The credential to sign the next attempt with.
    fn provide(&self) -> CredentialsFuture<'_>;

    /// The service refused `rejected` (`AuthFailure.TokenFailure` or
    /// `AuthFailure.SignatureExpire`) although it has not expired by this
    /// machine's clock: forget it. Returns whether the next
    /// [`provide`](ProvideCredentials::provide) may give another credential,
    /// which is when the client retries the call once. The default, for
    /// fixed credentials, forgets nothing and returns `false`.
    fn invalidate(&self, rejected: &Credentials) -> bool {
        let _ = rejected;
        false
    }
}

impl ProvideCredentials for Credentials {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::ready(Ok(self.clone()))
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    fn provide(&self) -> CredentialsFuture<'_> {
        (**self).provide()
    }

    fn invalidate(&self, rejected: &Credentials) -> bool {
        (**self).invalidate(rejected)
    }
}

/// The answer of [`ProvideCredentials::provide`]: either ready at once
/// (no allocation, the common case of a cached credential) or a boxed future.
pub struct CredentialsFuture<'a>(FutureState<'a>);

type BoxedProvide<'a> = Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send + 'a>>;

enum FutureState<'a> {
    Ready(Option<Result<Credentials, CredentialsError>>),
    Pending(BoxedProvide<'a>),
}

impl<'a> CredentialsFuture<'a> {
    /// An answer known now.
    pub fn ready(result: Result<Credentials, CredentialsError>) -> Self {
        CredentialsFuture(FutureState::Ready(Some(result)))
    }

    /// An answer that needs waiting for (I/O, a lock held by a refresh).
    pub fn new(future: impl Future<Output = Result<Credentials, CredentialsError>> + Send + 'a) -> Self {
        CredentialsFuture(FutureState::Pending(Box::pin(future)))
    }
}

impl Future for CredentialsFuture<'_> {
    type Output = Result<Credentials, CredentialsError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            FutureState::Ready(result) => Poll::Ready(result.take().unwrap_or_else(|| {
                Err(CredentialsError::new(
                    "the credentials future was polled after completion",
                ))
            })),
            FutureState::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for CredentialsFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            FutureState::Ready(_) => "CredentialsFuture(ready)",
            FutureState::Pending(_) => "CredentialsFuture(pending)",
        })
    }
}

/// No usable credential: the provider failed, or gave one that is expired
/// or cannot be sent. Never contains the secret key or the token.
#[derive(Debug)]
pub struct CredentialsError {
    reason: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    attempts: u32,
}

impl CredentialsError {
    /// An error saying why no credential could be had.
    pub fn new(reason: impl Into<String>) -> Self {
        CredentialsError {
            reason: reason.into(),
            source: None,
            attempts: 0,
        }
    }

    /// [`CredentialsError::new`] with the underlying cause.
    pub fn with_source(
        reason: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        CredentialsError {
            source: Some(source.into()),
            ..CredentialsError::new(reason)
        }
    }

    /// Why, without the `no usable credentials` preamble of `Display`.
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }

    /// Prefixes the reason with `what` (the source it came from).
    pub fn context(mut self, what: &str) -> Self {
        self.reason = format!("{what}: {}", self.reason);
        self
    }

    /// Requests sent in the call before the credential failed.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no usable credentials: {}",
            super::display::Escaped(&self.reason)
        )?;
        if let Some(source) = &self.source {
            write!(f, ": {}", super::display::Escaped(&source.to_string()))?;
        }
        super::display::after_attempts(f, self.attempts)
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
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

    #[test]
    fn clones_share_their_signer_and_a_new_credential_gets_its_own() {
        let a = Credentials::new("AKID1", SecretKey::new("k1"));
        let b = a.clone();
        let pa: *const Prepared = a.prepared().unwrap();
        let pb: *const Prepared = b.prepared().unwrap();
        assert_eq!(pa, pb);
        // A rotated secret (even under the same id) is another credential.
        let rotated = Credentials::new("AKID1", SecretKey::new("k2"));
        let pr: *const Prepared = rotated.prepared().unwrap();
        assert_ne!(pa, pr);
        // Adding a token makes a new credential too.
        let with_token = a.clone().with_session_token("t");
        assert!(with_token.prepared().unwrap().token.is_some());
        assert!(a.prepared().unwrap().token.is_none());
    }

    #[test]
    fn unusable_credentials_are_refused_without_echoing_secrets() {
        for (c, expected) in [
            (
                Credentials::new("", SecretKey::new("k")),
                "invalid secret id: is empty",
            ),
            (
                Credentials::new("AK/ID", SecretKey::new("k")),
                "invalid secret id",
            ),
            (Credentials::new("AKID", SecretKey::new("")), "invalid secret key"),
            (
                Credentials::new("AKID", SecretKey::new("k")).with_session_token("tok\nsecret"),
                "invalid session token",
            ),
        ] {
            let e = c.prepared().err().expect("refused").to_string();
            assert!(e.contains(expected), "{e}");
            assert!(!e.contains("tok\nsecret"), "{e}");
        }
    }

    #[tokio::test]
    async fn credentials_provide_themselves_and_futures_can_wait() {
        let c = Credentials::new("AKID1", SecretKey::new("k"));
        assert_eq!(c.provide().await.unwrap().secret_id(), "AKID1");
        let later = CredentialsFuture::new(async { Err(CredentialsError::new("metadata endpoint down")) });
        assert_eq!(
            later.await.unwrap_err().to_string(),
            "no usable credentials: metadata endpoint down"
        );
    }
}
