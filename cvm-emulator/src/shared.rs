//! What every handler shares (configuration, state, counters) and what a
//! handler gets with its request. A leaf for the handlers: they are handed
//! data, and never reach back into the gateway.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use signer::SecretKey;
use tokio::sync::Semaphore;

use crate::cvm::store::Store;
use crate::faults::Faults;
use crate::ratelimit::RateLimiter;
use crate::tmpcreds::{Issued, Minter, Source};

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) credentials: HashMap<String, SecretKey>,
    pub(crate) transition_ms: u64,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_clock_skew_secs: i64,
    /// How far the emulator's clock runs ahead of the machine's.
    pub(crate) clock_skew_secs: i64,
    pub(crate) faults: Faults,
    pub(crate) max_instances: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) limiter: Option<RateLimiter>,
    /// Issues and verifies temporary credentials.
    pub(crate) minter: Minter,
    /// The instance role the metadata service gives (`None`: no role).
    pub(crate) instance_role: Option<String>,
    /// Lifetime of metadata credentials, and the cap on STS ones.
    pub(crate) credential_ttl_secs: u64,
    /// The web identity token `AssumeRoleWithWebIdentity` accepts.
    pub(crate) web_identity_token: Option<SecretKey>,
    pub(crate) store: Mutex<Store>,
    /// Images whose launches fail: [`crate::LAUNCH_FAILURE_IMAGE_ID`] and
    /// those configured.
    pub(crate) failing_images: HashSet<String>,
    /// Request body bytes buffered at once across all requests (beyond
    /// the first [`FREE_BODY_BYTES`](crate::body::FREE_BODY_BYTES) of a body per connection), in
    /// [`BUDGET_UNIT`](crate::body::BUDGET_UNIT)s (see [`body_budget`](crate::body::body_budget)).
    pub(crate) body_budget: Semaphore,
    /// Places for bodies waiting for room in `body_budget`, of
    /// [`MAX_BODIES_WAITING`](crate::body::MAX_BODIES_WAITING): a waiting
    /// body holds what it read so far outside the budget.
    pub(crate) body_waiting: Semaphore,
}

impl Shared {
    /// The store; a panic in another handler does not make it unusable
    /// (handlers validate everything before changing anything).
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether RunInstances from `image_id` ends in LAUNCH_FAILED.
    pub(crate) fn launch_fails(&self, image_id: &str) -> bool {
        self.failing_images.contains(image_id)
    }

    /// Unix seconds by the emulator's clock (with its configured skew).
    pub(crate) fn now_secs(&self) -> u64 {
        u64::try_from(crate::time::unix_secs(crate::time::emulator_now(
            self.clock_skew_secs,
        )))
        .unwrap_or(0)
    }

    /// A new temporary credential valid `lifetime_secs` from now (whole
    /// seconds of the emulator's clock), counted under `source`.
    pub(crate) fn issue(&self, source: Source, lifetime_secs: u64) -> Issued {
        self.minter
            .issue(source, self.now_secs().saturating_add(lifetime_secs))
    }
}

/// What a handler needs besides the request.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) request_id: &'a str,
    /// `X-TC-Region`, one of [`crate::REGIONS`] (`None` only for an
    /// action that needs no region).
    pub(crate) region: Option<&'a str>,
}
