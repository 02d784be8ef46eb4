//! Temporary credentials cached and renewed ahead of their expiry.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::display::UtcTime;
use crate::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};

/// Renewed at most this long before expiry...
const MAX_AHEAD: Duration = Duration::from_secs(5 * 60);
/// ...or a tenth of the lifetime, whichever is shorter.
const AHEAD_FRACTION: u32 = 10;
/// Backoff after a failed renewal: doubles from the first to the last.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A fetched credential due for renewal sooner than this counts as a failed
/// renewal: kept, a source that hands out expired (or all but expired)
/// credentials would be asked again on every call. The first backoff, so
/// that such a source is never asked more often than a failing one.
const MIN_TIME_TO_RENEWAL: Duration = FIRST_BACKOFF;

/// Wraps a provider that fetches afresh on every call (the metadata
/// service, STS) and hands out its credential until shortly before it
/// expires: 5 minutes before, or a tenth of the lifetime when that is
/// shorter.
///
/// - **Single flight**: however many calls find the credential stale, one
///   fetch runs. While the old credential is still valid, the others use it
///   instead of waiting; without one, they wait for that fetch.
/// - **Failures**: a failed renewal keeps the old credential in use until its
///   real expiry and is retried with backoff (1 s doubling to 30 s, jittered).
///   Without a valid credential, calls during the backoff get the last error
///   at once rather than each asking the source again. A credential that
///   arrives expired, or due for renewal within a second, is such a failure.
/// - **Bounded**: no call waits on a renewal longer than the refresh timeout
///   (default 5 s).
/// - [`invalidate`](ProvideCredentials::invalidate) forgets a credential the
///   service refused, so the next call fetches.
pub struct RefreshingProvider<P> {
    source: P,
    state: Mutex<State>,
    /// Held by the one call that fetches.
    fetching: tokio::sync::Mutex<()>,
    refresh_timeout: Duration,
    fetches: AtomicU64,
}

#[derive(Default)]
struct State {
    current: Option<Credentials>,
    /// When to renew `current` (never, for a credential without expiry).
    renew_at: Option<SystemTime>,
    failures: u32,
    /// After a failure: no new fetch before this.
    retry_at: Option<Instant>,
    last_error: Option<String>,
}

impl<P: ProvideCredentials> RefreshingProvider<P> {
    /// The default time a call may wait on a renewal.
    pub const DEFAULT_REFRESH_TIMEOUT: Duration = Duration::from_secs(5);

    /// Caches what `source` gives.
    pub fn new(source: P) -> Self {
        RefreshingProvider {
            source,
            state: Mutex::new(State::default()),
            fetching: tokio::sync::Mutex::new(()),
            refresh_timeout: Self::DEFAULT_REFRESH_TIMEOUT,
            fetches: AtomicU64::new(0),
        }
    }

    /// The longest a call waits on a renewal (and the longest one fetch may take).
    pub fn with_refresh_timeout(mut self, timeout: Duration) -> Self {
        self.refresh_timeout = timeout;
        self
    }

    /// The provider that fetches.
    pub fn source(&self) -> &P {
        &self.source
    }

    /// How many times the source was asked, successfully or not.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after every statement: a panic elsewhere
        // while it was held leaves nothing half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached credential if it may be used now without a fetch;
    /// `Err(old)` with a still-valid old credential (or none) otherwise.
    fn cached(&self, now: SystemTime) -> Result<Credentials, Option<Credentials>> {
        let state = self.state();
        let Some(current) = &state.current else {
            return Err(None);
        };
        if state.renew_at.is_none_or(|at| now < at) {
            return Ok(current.clone());
        }
        let valid = current.expiry().is_none_or(|e| now < e);
        if !valid {
            return Err(None);
        }
        if state.retry_at.is_some_and(|at| Instant::now() < at) {
            // Renewal failed lately: keep using the old one until the backoff ends.
            return Ok(current.clone());
        }
        Err(Some(current.clone()))
    }

    async fn renew(&self, old: Option<Credentials>) -> Result<Credentials, CredentialsError> {
        let _guard = match &old {
            // Another call is renewing: the old credential serves meanwhile.
            Some(old) => match self.fetching.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(old.clone()),
            },
            None => match tokio::time::timeout(self.refresh_timeout, self.fetching.lock()).await {
                Ok(guard) => guard,
                Err(_) => {
                    return Err(CredentialsError::new(format!(
                        "waited {} ms for another call's renewal of {:?}",
                        self.refresh_timeout.as_millis(),
                        self.source
                    )))
                }
            },
        };
        // Whoever held the lock before may have renewed already.
        match self.cached(SystemTime::now()) {
            Ok(fresh) => return Ok(fresh),
            Err(None) => {
                let state = self.state();
                if let (Some(at), Some(error)) = (state.retry_at, &state.last_error) {
                    let now = Instant::now();
                    if now < at {
                        return Err(CredentialsError::new(format!(
                            "{error} (not asked again for {} ms)",
                            (at - now).as_millis()
                        )));
                    }
                }
            }
            Err(Some(_)) => {}
        }

        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = match tokio::time::timeout(self.refresh_timeout, self.source.provide()).await {
            Ok(result) => result,
            Err(_) => Err(CredentialsError::new(format!(
                "{:?} did not answer within {} ms",
                self.source,
                self.refresh_timeout.as_millis()
            ))),
        };
        let now = SystemTime::now();
        let fetched = fetched.and_then(|credentials| lasting(credentials, now));
        let mut state = self.state();
        match fetched {
            Ok(credentials) => {
                state.renew_at = credentials.expiry().map(|expiry| renew_at(now, expiry));
                tracing::debug!(
                    source = credentials.source(),
                    secret_id = credentials.secret_id(),
                    expiry = ?credentials.expiry().map(UtcTime),
                    renew_at = ?state.renew_at.map(UtcTime),
                    "credentials fetched"
                );
                state.current = Some(credentials.clone());
                state.failures = 0;
                state.retry_at = None;
                state.last_error = None;
                Ok(credentials)
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                let mut backoff = backoff(state.failures);
                let valid_old = state
                    .current
                    .as_ref()
                    .filter(|c| c.expiry().is_none_or(|e| now < e))
                    .cloned();
                if let Some(expiry) = valid_old.as_ref().and_then(Credentials::expiry) {
                    // Try again by the expiry at the latest.
                    backoff = backoff.min(expiry.duration_since(now).unwrap_or_default());
                }
                state.retry_at = Some(Instant::now() + backoff);
                state.last_error = Some(error.to_string());
                tracing::warn!(
                    failures = state.failures,
                    retry_in_ms = backoff.as_millis() as u64,
                    serving_old = valid_old.is_some(),
                    error = %error,
                    "renewing credentials failed"
                );
                match valid_old {
                    Some(old) => Ok(old),
                    None => {
                        state.current = None;
                        Err(error)
                    }
                }
            }
        }
    }
}

/// `credentials`, fetched at `now`, unless they would be due for renewal
/// within [`MIN_TIME_TO_RENEWAL`]: then an error saying when they expire.
fn lasting(credentials: Credentials, now: SystemTime) -> Result<Credentials, CredentialsError> {
    let Some(expiry) = credentials.expiry() else {
        return Ok(credentials);
    };
    match now.checked_add(MIN_TIME_TO_RENEWAL) {
        Some(soon) if renew_at(now, expiry) < soon => Err(CredentialsError::new(format!(
            "{} gave credentials ({}) that {} at {}",
            credentials.source(),
            credentials.secret_id(),
            if expiry <= now {
                "expired"
            } else {
                "expire too soon to use,"
            },
            UtcTime(expiry),
        ))),
        _ => Ok(credentials),
    }
}

/// When to renew a credential fetched at `now` that expires at `expiry`.
fn renew_at(now: SystemTime, expiry: SystemTime) -> SystemTime {
    let lifetime = expiry.duration_since(now).unwrap_or_default();
    let ahead = MAX_AHEAD.min(lifetime / AHEAD_FRACTION);
    expiry.checked_sub(ahead).unwrap_or(now)
}

/// Jittered between half and all of `FIRST_BACKOFF * 2^(failures-1)`, at most `MAX_BACKOFF`.
fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let full = FIRST_BACKOFF.saturating_mul(1 << exp).min(MAX_BACKOFF);
    full / 2 + full.mul_f64(fastrand::f64() / 2.0)
}

impl<P: ProvideCredentials> ProvideCredentials for RefreshingProvider<P> {
    fn provide(&self) -> CredentialsFuture<'_> {
        match self.cached(SystemTime::now()) {
            Ok(credentials) => CredentialsFuture::ready(Ok(credentials)),
            Err(old) => CredentialsFuture::new(self.renew(old)),
        }
    }

    fn invalidate(&self, rejected: &Credentials) -> bool {
        let mut state = self.state();
        if state.current.as_ref().is_some_and(|c| c.same_as(rejected)) {
            tracing::debug!(
                source = rejected.source(),
                secret_id = rejected.secret_id(),
                "credentials refused by the service: forgotten"
            );
            state.current = None;
            state.renew_at = None;
            state.retry_at = None;
            state.last_error = None;
            state.failures = 0;
        }
        true
    }
}

impl<P: fmt::Debug> fmt::Debug for RefreshingProvider<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("RefreshingProvider")
            .field("source", &self.source)
            .field("current", &state.current)
            .field("failures", &state.failures)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// Issues `AKID<n>` valid for `lifetime`, after `delay`; fails while `down`.
    #[derive(Debug)]
    struct Fake {
        issued: AtomicU64,
        lifetime: Duration,
        delay: Duration,
        down: AtomicBool,
    }

    impl Fake {
        fn new(lifetime: Duration, delay: Duration) -> Self {
            Fake {
                issued: AtomicU64::new(0),
                lifetime,
                delay,
                down: AtomicBool::new(false),
            }
        }
    }

    impl ProvideCredentials for Fake {
        fn provide(&self) -> CredentialsFuture<'_> {
            CredentialsFuture::new(async {
                tokio::time::sleep(self.delay).await;
                if self.down.load(Ordering::SeqCst) {
                    return Err(CredentialsError::new("source down"));
                }
                let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(Credentials::new(format!("AKID{n}"), SecretKey::new("k"))
                    .with_expiry(SystemTime::now() + self.lifetime)
                    .with_source("fake"))
            })
        }
    }

    #[test]
    fn renewal_is_five_minutes_ahead_or_a_tenth_of_short_lives() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let two_hours = now + Duration::from_secs(7200);
        assert_eq!(renew_at(now, two_hours), two_hours - Duration::from_secs(300));
        let three_secs = now + Duration::from_secs(3);
        assert_eq!(renew_at(now, three_secs), three_secs - Duration::from_millis(300));
        assert_eq!(
            renew_at(now, now - Duration::from_secs(1)),
            now - Duration::from_secs(1)
        );
        for failures in 1..40 {
            let b = backoff(failures);
            assert!(b >= FIRST_BACKOFF / 2 && b <= MAX_BACKOFF, "{b:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_hundred_concurrent_calls_cause_one_fetch() {
        let provider = Arc::new(RefreshingProvider::new(Fake::new(
            Duration::from_secs(3600),
            Duration::from_millis(100),
        )));
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let p = provider.clone();
                tokio::spawn(async move { p.provide().await.map(|c| c.secret_id().to_owned()) })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap(), "AKID1");
        }
        assert_eq!(provider.fetches(), 1);
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID1");
        assert_eq!(provider.fetches(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn stale_credentials_serve_while_one_call_renews() {
        // Lifetime 2 s: renewed from 1.8 s on.
        let provider = Arc::new(RefreshingProvider::new(Fake::new(
            Duration::from_secs(2),
            Duration::from_millis(200),
        )));
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID1");
        tokio::time::sleep(Duration::from_millis(1820)).await;
        let renewing = {
            let p = provider.clone();
            tokio::spawn(async move { p.provide().await.unwrap().secret_id().to_owned() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Meanwhile others get the old one at once.
        let started = Instant::now();
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID1");
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(renewing.await.unwrap(), "AKID2");
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID2");
        assert_eq!(provider.fetches(), 2);
    }

    #[tokio::test]
    async fn a_failed_renewal_keeps_the_old_credential_and_backs_off() {
        let provider = RefreshingProvider::new(Fake::new(Duration::from_secs(2), Duration::ZERO));
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID1");
        provider.source().down.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1850)).await;
        // Due for renewal; the source is down: the old one still serves.
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID1");
        assert_eq!(provider.fetches(), 2);
        // During the backoff, no new fetch.
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID1");
        assert_eq!(provider.fetches(), 2);
        // Past the real expiry with the source still down: an error, and
        // the calls within the backoff get it without asking again.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let e = provider.provide().await.unwrap_err().to_string();
        assert!(e.contains("source down"), "{e}");
        let fetched = provider.fetches();
        let e = provider.provide().await.unwrap_err().to_string();
        assert!(e.contains("not asked again"), "{e}");
        assert_eq!(provider.fetches(), fetched);
        // The source recovers: once the backoff (at most 2 s after two
        // failures) ends, a new credential.
        provider.source().down.store(false, Ordering::SeqCst);
        let started = Instant::now();
        let renewed = loop {
            match provider.provide().await {
                Ok(c) => break c,
                Err(e) => assert!(e.to_string().contains("not asked again"), "{e}"),
            }
            assert!(
                started.elapsed() < Duration::from_millis(2500),
                "still backing off"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(renewed.secret_id(), "AKID2");
        assert_eq!(provider.fetches(), fetched + 1);
    }

    /// Hands out `AKID<n>` expiring at `expiry` every time it is asked.
    #[derive(Debug)]
    struct AlwaysStale {
        issued: AtomicU64,
        expiry: SystemTime,
    }

    impl ProvideCredentials for AlwaysStale {
        fn provide(&self) -> CredentialsFuture<'_> {
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            CredentialsFuture::ready(Ok(Credentials::new(format!("AKID{n}"), SecretKey::new("k"))
                .with_expiry(self.expiry)
                .with_source("stale source")))
        }
    }

    #[tokio::test]
    async fn credentials_that_arrive_expired_are_a_failed_renewal_with_backoff() {
        const CALLS: u64 = 150;
        let now = SystemTime::now();
        for expiry in [now - Duration::from_secs(60), now + Duration::from_millis(500)] {
            let provider = RefreshingProvider::new(AlwaysStale {
                issued: AtomicU64::new(0),
                expiry,
            });
            let started = Instant::now();
            let mut refused = 0;
            for _ in 0..CALLS {
                let e = provider.provide().await.unwrap_err().to_string();
                assert!(e.contains("stale source gave credentials (AKID"), "{e}");
                assert!(
                    e.contains(if expiry <= now { "expired at" } else { "too soon" }),
                    "{e}"
                );
                refused += 1;
            }
            assert_eq!(refused, CALLS);
            // One fetch, then one more at most per backoff (at least half of
            // the first) that went by: however slow the machine, a count.
            let backoffs = started.elapsed().as_millis() / (FIRST_BACKOFF / 2).as_millis();
            let fetches = provider.fetches();
            assert!(
                fetches <= 1 + backoffs as u64,
                "{fetches} fetches for {CALLS} calls"
            );
            assert_eq!(provider.source().issued.load(Ordering::SeqCst), fetches);
        }
    }

    #[tokio::test]
    async fn no_call_waits_longer_than_the_refresh_timeout() {
        let provider = RefreshingProvider::new(Fake::new(Duration::from_secs(60), Duration::from_secs(30)))
            .with_refresh_timeout(Duration::from_millis(200));
        let started = Instant::now();
        let e = provider.provide().await.unwrap_err().to_string();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(e.contains("did not answer within 200 ms"), "{e}");
    }

    #[tokio::test]
    async fn invalidate_forgets_the_refused_credential() {
        let provider = RefreshingProvider::new(Fake::new(Duration::from_secs(3600), Duration::ZERO));
        let first = provider.provide().await.unwrap();
        // Refusing another (older) credential changes nothing.
        let other = Credentials::new("AKID0", SecretKey::new("k"));
        assert!(provider.invalidate(&other));
        assert!(provider.provide().await.unwrap().same_as(&first));
        assert!(provider.invalidate(&first));
        assert_eq!(provider.provide().await.unwrap().secret_id(), "AKID2");
        assert_eq!(provider.fetches(), 2);
    }
}
