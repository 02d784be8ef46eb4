//! The open connections: what each has achieved, and which one gives way
//! when a new connection arrives at the cap.
//!
//! Refusing newcomers at the cap would let 1024 slow or silent clients
//! lock every valid client out until their timeouts. Instead the newcomer
//! takes the place of the connection that has achieved least: first one
//! that has not yet had a request authenticated (oldest first: a slow
//! client is the cheapest to drop), then an idle one (idle longest first).
//! A connection whose request is being answered is never closed; only when
//! all are is the newcomer refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

/// What one connection has achieved so far.
pub(crate) struct Progress {
    accepted: Instant,
    /// Requests in flight (any stage).
    in_flight: AtomicUsize,
    /// Requests past authentication and not yet answered.
    busy: AtomicUsize,
    /// Authenticated requests answered.
    served: AtomicU64,
    /// Milliseconds after `accepted` when a request last ended.
    last_ms: AtomicU64,
    /// Whether a request holds the connection's [`FreeShare`].
    free_share_taken: AtomicBool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            accepted: Instant::now(),
            in_flight: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
            free_share_taken: AtomicBool::new(false),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// When the connection counts as idle if nothing happens before.
    pub(crate) fn idle_at(&self, idle: Duration) -> Instant {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Instant::now() + idle;
        }
        self.started_idling() + idle
    }

    fn started_idling(&self) -> Instant {
        self.accepted + Duration::from_millis(self.last_ms.load(Ordering::Acquire))
    }

    /// Which connection gives way first: the lowest key, `None` for one that
    /// must not be closed (a request of it is being answered).
    fn eviction_key(&self) -> Option<(bool, Instant)> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some((self.served.load(Ordering::Acquire) > 0, self.started_idling()))
    }
}

/// One request in flight on a connection, until dropped (also when its
/// handler is cancelled). The handler calls [`RequestTrack::authenticated`]
/// once the signature is verified; the copy in the request's extensions
/// shares the state.
#[derive(Clone)]
pub(crate) struct RequestTrack(Arc<TrackInner>);

struct TrackInner {
    conn: Arc<Progress>,
    authenticated: AtomicBool,
}

impl RequestTrack {
    pub(crate) fn new(conn: &Arc<Progress>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        RequestTrack(Arc::new(TrackInner {
            conn: Arc::clone(conn),
            authenticated: AtomicBool::new(false),
        }))
    }

    /// The request's signature is valid: its connection is now worth
    /// keeping.
    pub(crate) fn authenticated(&self) {
        if !self.0.authenticated.swap(true, Ordering::AcqRel) {
            self.0.conn.busy.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The connection's share of body bytes that need no room in the
    /// shared budget, if no other request of it (HTTP/2) holds it: so that
    /// this share is bounded by the connection cap.
    pub(crate) fn take_free_share(&self) -> Option<FreeShare> {
        let conn = &self.0.conn;
        (!conn.free_share_taken.swap(true, Ordering::AcqRel)).then(|| FreeShare(Arc::clone(conn)))
    }
}

/// A connection's share of body bytes outside the budget, until dropped.
pub(crate) struct FreeShare(Arc<Progress>);

impl Drop for FreeShare {
    fn drop(&mut self) {
        self.0.free_share_taken.store(false, Ordering::Release);
    }
}

impl Drop for TrackInner {
    fn drop(&mut self) {
        let conn = &self.conn;
        if *self.authenticated.get_mut() {
            conn.served.fetch_add(1, Ordering::AcqRel);
            conn.busy.fetch_sub(1, Ordering::AcqRel);
        }
        conn.last_ms.store(conn.elapsed_ms(), Ordering::Release);
        conn.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections, at most `max`.
pub(crate) struct Conns {
    max: usize,
    inner: Mutex<Inner>,
    /// How many are open (for shutdown to wait for none).
    open: watch::Sender<usize>,
}

struct Inner {
    next_id: u64,
    entries: HashMap<u64, Entry>,
}

struct Entry {
    progress: Arc<Progress>,
    /// Closes the connection when sent (or dropped).
    close: oneshot::Sender<()>,
}

/// A connection admitted by [`Conns::admit`].
pub(crate) struct Admitted {
    /// Its place in the set, given up when dropped.
    pub(crate) place: Place,
    pub(crate) progress: Arc<Progress>,
    /// Resolves when the connection must close at once to make room.
    pub(crate) evicted: oneshot::Receiver<()>,
}

/// A connection's place in [`Conns`]; leaves the set when dropped.
pub(crate) struct Place {
    conns: Arc<Conns>,
    id: u64,
}

/// What happened to a newcomer.
pub(crate) enum Admission {
    /// Room was free.
    Admitted(Admitted),
    /// Another connection was closed to make room.
    Evicted(Admitted),
    /// Every connection is answering a request: the newcomer must go.
    Refused,
}

impl Conns {
    pub(crate) fn new(max: usize) -> Self {
        Conns {
            max: max.max(1),
            inner: Mutex::new(Inner {
                next_id: 0,
                entries: HashMap::new(),
            }),
            open: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for a new connection, closing another one if need be.
    pub(crate) fn admit(self: &Arc<Self>) -> Admission {
        let mut inner = self.lock();
        let mut evicted = false;
        if inner.entries.len() >= self.max {
            let victim = inner
                .entries
                .iter()
                .filter_map(|(id, e)| e.progress.eviction_key().map(|key| (key, *id)))
                .min();
            let Some((_, id)) = victim else {
                return Admission::Refused;
            };
            if let Some(entry) = inner.entries.remove(&id) {
                let _ = entry.close.send(());
            }
            evicted = true;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let progress = Arc::new(Progress::new());
        let (close, closed) = oneshot::channel();
        inner.entries.insert(
            id,
            Entry {
                progress: Arc::clone(&progress),
                close,
            },
        );
        self.open.send_replace(inner.entries.len());
        let admitted = Admitted {
            place: Place {
                conns: Arc::clone(self),
                id,
            },
            progress,
            evicted: closed,
        };
        if evicted {
            Admission::Evicted(admitted)
        } else {
            Admission::Admitted(admitted)
        }
    }

    /// Waits until no connection is open.
    pub(crate) async fn all_closed(&self) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|n| *n == 0).await;
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut inner = self.conns.lock();
        inner.entries.remove(&self.id);
        self.conns.open.send_replace(inner.entries.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: Admission) -> Admitted {
        match a {
            Admission::Admitted(a) | Admission::Evicted(a) => a,
            Admission::Refused => panic!("refused"),
        }
    }

    fn serve_one(conn: &Admitted) {
        let track = RequestTrack::new(&conn.progress);
        track.authenticated();
    }

    fn pause() {
        std::thread::sleep(Duration::from_millis(3));
    }

    #[test]
    fn newcomers_replace_the_least_advanced_connection() {
        let conns = Arc::new(Conns::new(3));
        let mut a = admitted(conns.admit());
        pause();
        let mut b = admitted(conns.admit());
        serve_one(&b);
        pause();
        let mut c = admitted(conns.admit());
        pause();
        assert_eq!(*conns.open.borrow(), 3);

        // The oldest connection without an authenticated request goes
        // first, although a served one is older; then the next oldest.
        let mut d = admitted(conns.admit());
        assert!(a.evicted.try_recv().is_ok());
        assert!(b.evicted.try_recv().is_err() && c.evicted.try_recv().is_err());
        pause();
        let mut e = admitted(conns.admit());
        assert!(c.evicted.try_recv().is_ok());
        assert!(b.evicted.try_recv().is_err() && d.evicted.try_recv().is_err());
        assert_eq!(*conns.open.borrow(), 3);

        // A connection answering a request is never closed; connections
        // that achieved nothing go, newest last.
        let busy = RequestTrack::new(&b.progress);
        busy.authenticated();
        pause();
        let _f = admitted(conns.admit());
        assert!(d.evicted.try_recv().is_ok());
        let _g = admitted(conns.admit());
        assert!(e.evicted.try_recv().is_ok());
        assert!(b.evicted.try_recv().is_err());
        drop(busy);
        assert_eq!(b.progress.served.load(Ordering::Acquire), 2);
        assert_eq!(b.progress.busy.load(Ordering::Acquire), 0);
    }

    #[test]
    fn one_request_at_a_time_holds_the_free_share() {
        let conns = Arc::new(Conns::new(2));
        let conn = admitted(conns.admit());
        let other = admitted(conns.admit());
        let (first, second) = (
            RequestTrack::new(&conn.progress),
            RequestTrack::new(&conn.progress),
        );
        let share = first.take_free_share().expect("free");
        assert!(second.take_free_share().is_none());
        assert!(RequestTrack::new(&other.progress).take_free_share().is_some());
        drop(share);
        assert!(second.take_free_share().is_some());
    }

    #[test]
    fn among_served_connections_the_longest_idle_goes() {
        let conns = Arc::new(Conns::new(2));
        let mut first = admitted(conns.admit());
        let mut second = admitted(conns.admit());
        serve_one(&second);
        pause();
        serve_one(&first); // idle since later, although opened first
        pause();
        let _third = admitted(conns.admit());
        assert!(second.evicted.try_recv().is_ok());
        assert!(first.evicted.try_recv().is_err());
    }

    #[test]
    fn refused_when_every_connection_is_answering() {
        let conns = Arc::new(Conns::new(1));
        let only = admitted(conns.admit());
        let track = RequestTrack::new(&only.progress);
        track.authenticated();
        assert!(matches!(conns.admit(), Admission::Refused));
        drop(track);
        assert!(matches!(conns.admit(), Admission::Evicted(_)));
    }
}
