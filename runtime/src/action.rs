//! What the generated code tells the runtime about each action.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{ActionError, ServiceError, Validate};

/// A request type of one action. The generator implements this for every
/// `<Action>Request`; [`Client::send`](super::Client::send) needs nothing else.
pub trait Action: Serialize + Validate + Sync {
    /// Wire name, sent as `X-TC-Action`.
    const NAME: &'static str;
    /// Service short name: the signing scope and the default host's first label.
    const SERVICE: &'static str;
    /// API version, sent as `X-TC-Version`.
    const VERSION: &'static str;
    /// Whether the call must carry a region (`X-TC-Region`); without one
    /// the client refuses it before sending rather than after a round trip.
    const NEEDS_REGION: bool;
    /// Whether the action only reads (codegen's rule: a read-only verb such
    /// as `Describe` begins its name), so repeating it is always safe.
    const READ_ONLY: bool;
    /// Whether the action takes no signature (`Authorization: SKIP`), as STS's
    /// web identity exchange does: its proof is in the request. Such a
    /// call needs no credentials.
    const UNSIGNED: bool = false;
    /// Wire name of the request's idempotency token (`ClientToken`), when it
    /// has one: a request carrying a token is safe to repeat.
    const CLIENT_TOKEN: Option<&'static str> = None;
    /// The idempotency token the caller set, if any.
    fn client_token(&self) -> Option<&str> {
        None
    }
    /// The documented request quota per second (per account, action and
    /// region; the spec's `rules.json` `rate_limits`), `None` where Tencent
    /// documents none: the client paces calls to stay under it (see
    /// [`RateLimitConfig`](super::RateLimitConfig)).
    const RATE_LIMIT: Option<u32> = None;
    type Response: DeserializeOwned + Send;
    /// The action's typed error, built from whatever code the service sent.
    type Error: From<ServiceError> + ActionError + std::error::Error + Send + Sync + 'static;
}
