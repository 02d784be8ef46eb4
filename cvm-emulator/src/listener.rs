//! The listener: accepts connections (HTTP/1.1 and HTTP/2, cleartext),
//! holds each to its timeouts and the connection cap, and drains them at
//! shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use crate::conns::{Admission, Admitted, Conns, RequestTrack};
use crate::reset::{Reset, ResettableStream};
use crate::server::{self, Reply};
use crate::shared::Shared;

/// How long shutdown waits for requests in flight.
const GRACE: Duration = Duration::from_secs(5);

/// Longest time allowed for a request head (and for a new connection's
/// first byte), however long `read_timeout` is: a head is a few hundred
/// bytes, and a client dribbling it holds a connection.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Most bytes an HTTP/1 connection reads ahead of the handler.
const HTTP1_READ_AHEAD: usize = 32 * 1024;

/// HTTP/2 flow-control windows, per connection and per stream: the
/// protocol's initial size.
const HTTP2_WINDOW: u32 = 65_535;

/// What the accept loop tells its connections.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Serve.
    Run,
    /// Finish the requests in flight, then close (graceful shutdown).
    Drain,
    /// Close now.
    Kill,
}

/// Accepts connections until `stopped`, then drains them (at most
/// [`GRACE`]).
///
/// No connection can hold one of the `max_connections` places for long
/// while achieving nothing. At the cap, a newcomer takes the place of the
/// connection that has achieved least ([`conns`]): slow, silent or idle
/// clients cannot lock valid ones out. Besides, a connection that sends
/// nothing within the head timeout (`read_timeout`, at most
/// [`HEAD_TIMEOUT`]) of being accepted is closed before HTTP/1-vs-HTTP/2
/// detection even starts, and so is an HTTP/1 request head that takes
/// longer; a connection with no request in flight for `read_timeout` (an
/// idle keep-alive HTTP/1 connection, an idle HTTP/2 connection, a client
/// that stops reading its answer) is shut down gracefully, and dropped
/// `read_timeout` later if it has still not closed. The accept loop itself
/// never waits.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    read_timeout: Duration,
    max_connections: usize,
    mut stopped: oneshot::Receiver<()>,
) {
    let head_timeout = read_timeout.min(HEAD_TIMEOUT);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        // What a connection reads ahead, outside the body budget: bounded
        // so that the connection cap bounds it too (1024 x 32 KiB). Heads
        // fit: Tencent takes a GET of 32 KB at most.
        .max_buf_size(HTTP1_READ_AHEAD);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(read_timeout)
        .keep_alive_timeout(read_timeout)
        .max_header_list_size(256 * 1024)
        .max_concurrent_streams(256)
        // Flow control bounds what the streams of a connection hold
        // unread, outside the budget: the protocol's initial 64 KiB for the
        // connection, not hyper's 1 MiB (1024 connections would be 1 GiB).
        .initial_connection_window_size(HTTP2_WINDOW)
        .initial_stream_window_size(HTTP2_WINDOW);
    let (phase, _) = watch::channel(Phase::Run);
    let conns = Arc::new(Conns::new(max_connections));
    let (mut refused, mut evicted): (u64, u64) = (0, 0);
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // E.g. out of file descriptors: wait rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let admitted = match conns.admit() {
            Admission::Admitted(admitted) => admitted,
            Admission::Evicted(admitted) => {
                evicted += 1;
                if evicted.is_power_of_two() {
                    tracing::warn!(%peer, evicted, max_connections, "connection limit reached; closing the connections that achieved least");
                }
                admitted
            }
            Admission::Refused => {
                refused += 1;
                if refused.is_power_of_two() {
                    tracing::warn!(%peer, refused, max_connections, "connection limit reached and every connection busy; closing new connections");
                }
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            peer,
            builder.clone(),
            Arc::clone(&shared),
            Timeouts {
                head: head_timeout,
                idle: read_timeout,
            },
            phase.subscribe(),
            admitted,
        ));
    }
    drop(listener);
    let _ = phase.send(Phase::Drain);
    if tokio::time::timeout(GRACE, conns.all_closed()).await.is_err() {
        tracing::warn!("connections still open after {GRACE:?}; closing anyway");
        let _ = phase.send(Phase::Kill);
    }
}

/// The timeouts of one connection.
#[derive(Clone, Copy)]
struct Timeouts {
    /// For the first byte (HTTP/1 heads: the builder's own timer).
    head: Duration,
    /// With no request in flight.
    idle: Duration,
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    builder: auto::Builder<TokioExecutor>,
    shared: Arc<Shared>,
    timeouts: Timeouts,
    mut phase: watch::Receiver<Phase>,
    admitted: Admitted,
) {
    let progress = Arc::clone(&admitted.progress);
    let mut evicted = admitted.evicted;
    // Leaves the connection set when this task ends, however it ends.
    let _place = admitted.place;
    // Nothing is read until the client sends a byte: a silent connection
    // is closed after the head timeout (protocol detection has none).
    let mut first = [0u8; 1];
    tokio::select! {
        peeked = tokio::time::timeout(timeouts.head, stream.peek(&mut first)) => match peeked {
            Ok(Ok(n)) if n > 0 => {}
            Ok(Ok(_)) | Ok(Err(_)) => return,
            Err(_) => {
                tracing::debug!(%peer, "no data within the head timeout; closing");
                return;
            }
        },
        _ = phase.wait_for(|p| *p >= Phase::Drain) => return,
        _ = &mut evicted => return,
    }

    let reset = Arc::new(Reset::default());
    let service = {
        let progress = Arc::clone(&progress);
        let reset = Arc::clone(&reset);
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let shared = Arc::clone(&shared);
            let reset = Arc::clone(&reset);
            // In flight until the answer is ready (also when cancelled);
            // the gateway marks it authenticated.
            let track = RequestTrack::new(&progress);
            request.extensions_mut().insert(track.clone());
            async move {
                let reply = server::handle(shared, request.map(axum::body::Body::new)).await;
                drop(track);
                match reply {
                    Reply::Answer(response) => Ok::<_, std::convert::Infallible>(response),
                    Reply::Reset => {
                        // The connection task drops the connection (this
                        // future with it) with a TCP RST. Answering nothing
                        // meanwhile keeps hyper from ending just this
                        // request (an HTTP/2 RST_STREAM) first.
                        reset.request();
                        std::future::pending().await
                    }
                }
            }
        })
    };
    let connection = builder
        .serve_connection(
            TokioIo::new(ResettableStream::new(stream, Arc::clone(&reset))),
            service,
        )
        .into_owned();
    tokio::pin!(connection);
    // Set once a graceful shutdown has begun: when to drop the connection.
    let mut close_by: Option<Instant> = None;
    loop {
        let wake = close_by.unwrap_or_else(|| progress.idle_at(timeouts.idle));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = &mut evicted => {
                tracing::debug!(%peer, "closed to make room for a new connection");
                return;
            }
            () = reset.requested() => {
                tracing::debug!(%peer, "connection reset (injected fault)");
                return;
            }
            changed = phase.changed() => {
                let now = *phase.borrow_and_update();
                if changed.is_err() || now == Phase::Kill {
                    return;
                }
                if now == Phase::Drain && close_by.is_none() {
                    connection.as_mut().graceful_shutdown();
                    close_by = Some(Instant::now() + GRACE);
                }
            }
            () = tokio::time::sleep_until(wake.into()) => {
                if close_by.is_some() {
                    tracing::debug!(%peer, "connection did not close after a graceful shutdown; dropping it");
                    return;
                }
                if progress.idle_at(timeouts.idle) <= Instant::now() {
                    tracing::debug!(%peer, "connection idle for the read timeout; closing");
                    connection.as_mut().graceful_shutdown();
                    close_by = Some(Instant::now() + timeouts.idle);
                }
            }
        }
    }
}
