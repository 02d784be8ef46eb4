//! What a call derives from its service, version and region alone: the
//! endpoints it may go to and its `User-Agent`. Made once per client and
//! kept, shared by its clones: building the candidates formats and parses
//! up to three URLs, which cost more than the rest of the client's own
//! work on each call.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::HeaderValue;
use tokio::time::Instant;

use crate::endpoint::Candidates;
use crate::keyed::{Evictable, Keys};

/// Routes kept at most: far above the services, versions and regions one
/// program calls; past it the least recently used half is forgotten.
const MAX_ROUTES: usize = 1024;
/// A route unused this long is forgotten at the next sweep.
const IDLE_AFTER: Duration = Duration::from_secs(600);

/// See the module's documentation.
pub(crate) struct Route {
    pub(crate) candidates: Candidates,
    pub(crate) user_agent: HeaderValue,
}

struct Kept {
    route: Arc<Route>,
    last_used: Instant,
}

impl Evictable for Kept {
    fn in_use(&self) -> bool {
        // A call holds its own `Arc`: forgetting the entry costs it nothing.
        false
    }

    fn last_used(&self) -> Instant {
        self.last_used
    }
}

/// The routes of one client.
pub(crate) struct Routes {
    kept: Mutex<Keys<Kept>>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Routes {
            kept: Mutex::new(Keys::new(MAX_ROUTES, IDLE_AFTER, Instant::now())),
        }
    }

    /// The route of (`service`, `version`, `region`): the one kept, else
    /// `make`'s, kept unless `make` fails. `make` runs outside the lock.
    pub(crate) fn get<E>(
        &self,
        service: &str,
        version: &str,
        region: Option<&str>,
        make: impl FnOnce() -> Result<Route, E>,
    ) -> Result<Arc<Route>, E> {
        let names = (service, version, region.unwrap_or(""));
        let now = Instant::now();
        if let Some(kept) = self.lock().get_mut(names) {
            kept.last_used = now;
            return Ok(kept.route.clone());
        }
        let route = Arc::new(make()?);
        let kept = Kept {
            route: route.clone(),
            last_used: now,
        };
        let mut keys = self.lock();
        // Another call may have kept one meanwhile: theirs is as good.
        if keys.get_mut(names).is_none() {
            keys.insert(names, kept, now);
        }
        Ok(route)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Keys<Kept>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endpoint;

    fn route(service: &str, region: &str) -> Result<Route, String> {
        Ok(Route {
            candidates: Endpoint::regional().candidates(service, Some(region))?,
            user_agent: HeaderValue::from_static("test"),
        })
    }

    #[test]
    fn a_route_is_made_once_per_service_version_and_region() {
        let routes = Routes::new();
        let made = std::cell::Cell::new(0);
        let get = |service: &str, version: &str, region: Option<&str>| {
            routes
                .get(service, version, region, || {
                    made.set(made.get() + 1);
                    route(service, region.unwrap_or("ap-guangzhou"))
                })
                .unwrap()
        };
        let first = get("cvm", "2017-03-12", Some("ap-guangzhou"));
        let again = get("cvm", "2017-03-12", Some("ap-guangzhou"));
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(made.get(), 1);
        get("cvm", "2017-03-12", Some("ap-shanghai"));
        get("cvm", "2017-03-13", Some("ap-guangzhou"));
        get("vpc", "2017-03-12", Some("ap-guangzhou"));
        get("cvm", "2017-03-12", None);
        assert_eq!(made.get(), 5, "each name tells routes apart");
        let shanghai = get("cvm", "2017-03-12", Some("ap-shanghai"));
        assert_eq!(made.get(), 5);
        assert!(
            shanghai.candidates.primary().url.as_str().contains("ap-shanghai"),
            "{:?}",
            shanghai.candidates.primary().url
        );
    }

    #[test]
    fn a_failure_is_not_kept() {
        let routes = Routes::new();
        let failed = routes.get("cvm", "v", None, || Err::<Route, _>("no"));
        assert_eq!(failed.err(), Some("no"));
        let made = routes.get("cvm", "v", None, || route("cvm", "ap-guangzhou"));
        assert!(made.is_ok());
    }
}
