//! Request bodies: the size limit, the read timeout and the budget of
//! bytes buffered across all requests, taken once a body passes its free
//! share, for the whole body at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use hyper::header::CONTENT_LENGTH;
use hyper::http::request::Parts;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::conns::FreeShare;
use crate::error::ApiError;
use crate::shared::Shared;

/// Granularity of [`Shared::body_budget`]: permits count KiB, so that
/// budgets above 4 GiB still fit the semaphore's `u32` requests.
pub(crate) const BUDGET_UNIT: usize = 1024;

/// Bytes of a request body read without room in the shared budget, for
/// one request at a time per connection: enough for any ordinary request,
/// so that these never wait behind big bodies. Bounded by the connection
/// cap (1024 x 16 KiB = 16 MiB).
pub(crate) const FREE_BODY_BYTES: usize = 16 * 1024;

/// While a body holds room, the rest of it must keep arriving at this rate
/// (after [`HOLDING_GRACE`]), or it is cut and its room freed: room is
/// taken for the whole body once its first 16 KiB have arrived, and a
/// client must not hold 10 MiB of it by sending 16 KiB and stalling.
/// Low enough for a 2 Mbit/s upload; a client at that rate still holds
/// room for 10 MiB for about 40 s, the price of not stalling on purpose.
pub(crate) const HOLDING_RATE: u64 = 256 * 1024;
/// How long a body that just got room may wait before its next bytes.
pub(crate) const HOLDING_GRACE: Duration = Duration::from_secs(2);

/// Most bodies waiting for room at once; one more is answered
/// `RequestLimitExceeded` (which clients retry) at once. A waiting body
/// holds what it read so far and its connection's read-ahead, outside the
/// budget (about 80 KiB): without this bound, 1,000 connections declaring
/// big bodies held 130 MiB besides the 64 MiB budget.
pub(crate) const MAX_BODIES_WAITING: usize = 64;

/// The semaphore for a budget of `bytes` (at least one body of
/// `max_body_bytes` always fits).
pub(crate) fn body_budget(bytes: usize, max_body_bytes: usize) -> Semaphore {
    let units = budget_units(bytes.max(max_body_bytes)).max(1);
    Semaphore::new(
        usize::try_from(units)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS),
    )
}

/// Units needed to hold `bytes`.
fn budget_units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(BUDGET_UNIT)).unwrap_or(u32::MAX)
}

/// The body's length when known before reading it: exact from the body
/// itself (HTTP/1 `Content-Length`, an HTTP/2 stream that ended) or the
/// `Content-Length` header.
pub(crate) fn declared_length(parts: &Parts, body: &Body) -> Option<u64> {
    hyper::body::Body::size_hint(body).exact().or_else(|| {
        parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    })
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        "RequestSizeLimitExceeded",
        format!("The request body is larger than the limit of {max} bytes."),
    )
}

fn body_late(shared: &Shared) -> ApiError {
    ApiError::new(
        "InvalidRequest",
        format!(
            "The request body did not arrive within {} s.",
            shared.body_timeout.as_secs()
        ),
    )
}

/// Retryable: the body was fine, the emulator's room was short.
fn body_too_slow() -> ApiError {
    ApiError::new(
        "RequestLimitExceeded",
        format!(
            "The request body arrived slower than {} KiB/s while holding room in the emulator's buffer budget.",
            HOLDING_RATE / 1024
        ),
    )
}

fn body_unreadable(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(
        "InvalidRequest",
        format!("The request body could not be read: {e}."),
    )
}

/// Retryable: room is short, and as many bodies as allowed wait for it.
fn too_many_waiting() -> ApiError {
    ApiError::new(
        "RequestLimitExceeded",
        format!(
            "The emulator's buffer budget is in use and {MAX_BODIES_WAITING} request bodies already wait for room; retry later."
        ),
    )
}

fn budget_exhausted(shared: &Shared) -> ApiError {
    ApiError::new(
        "RequestLimitExceeded",
        format!(
            "The emulator is buffering as many request bodies as it allows, and none finished within {} s; retry later.",
            shared.body_timeout.as_secs()
        ),
    )
}

/// Reads and discards up to 4 times the size limit, within the body
/// timeout: the number of bytes seen (at most a frame past the cap).
async fn drain(shared: &Shared, mut body: Body) -> Result<usize, ApiError> {
    let cap = shared.max_body_bytes.saturating_mul(4);
    let read = async {
        let mut total: usize = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| body_unreadable(&e))?;
            if let Ok(data) = frame.into_data() {
                total = total.saturating_add(data.len());
                if total > cap {
                    break;
                }
            }
        }
        Ok(total)
    };
    tokio::time::timeout(shared.body_timeout, read)
        .await
        .map_err(|_| body_late(shared))?
}

/// The answer to a body declared larger than the limit. A body up to 4
/// times the limit is still read (not kept) so the client gets the error
/// envelope rather than a reset connection.
pub(crate) async fn oversized(shared: &Shared, declared: Option<u64>, body: Body) -> ApiError {
    let max = shared.max_body_bytes;
    if declared.is_some_and(|n| n <= max.saturating_mul(4) as u64) {
        if let Err(e) = drain(shared, body).await {
            return e;
        }
    }
    too_large(max)
}

/// For a body of unknown length whose request already failed: `Ok` when it
/// is within the limit (the other error stands), else the size error.
pub(crate) async fn measure(shared: &Shared, body: Body) -> Result<(), ApiError> {
    let max = shared.max_body_bytes;
    if drain(shared, body).await? > max {
        Err(too_large(max))
    } else {
        Ok(())
    }
}

/// Room held for a body: keep it while its bytes (or what is decoded from
/// them) are in use.
pub(crate) struct Room<'s> {
    _budget: Option<SemaphorePermit<'s>>,
    _free: Option<FreeShare>,
}

/// Reads the body up to the size limit, within the body timeout, holding
/// its bytes in [`Shared::body_budget`], but for the first
/// [`FREE_BODY_BYTES`] when the connection's `free_share` is given. Room is
/// taken once bytes past those arrive, never for a declared length alone,
/// so clients that announce big bodies and send little hold nothing; and a
/// small body never waits for room, however many big ones are stalled.
///
/// Room is then taken for the whole body at once (its declared length, or
/// the size limit when none was declared), not piecewise: bodies that each
/// held part of the budget and waited for more would wait on one another
/// until their timeouts (eight 10 MiB bodies arriving together in a 64 MiB
/// budget did). A body waits for room holding none. Holding it, the body
/// must keep arriving at [`HOLDING_RATE`] after [`HOLDING_GRACE`], or it is
/// cut: a client that stalls holds room for about 2 s, not for the read
/// timeout (30 s by default).
///
/// A body over the limit is still read (up to 4 times the limit, not kept)
/// so the client gets the error envelope rather than a reset connection.
pub(crate) async fn read_body<'s>(
    shared: &'s Shared,
    declared: Option<u64>,
    free_share: Option<FreeShare>,
    mut body: Body,
) -> Result<(Bytes, Room<'s>), ApiError> {
    let max = shared.max_body_bytes;
    let free = if free_share.is_some() { FREE_BODY_BYTES } else { 0 };
    // The buffer is sized for the declared length once bytes arrive (no
    // copies as it grows); pages are only resident as they are written.
    let expected = declared.map_or(0, |n| usize::try_from(n).unwrap_or(max).min(max));
    let whole = budget_units(declared.map_or(max, |_| expected).saturating_sub(free));
    let budget = &shared.body_budget;
    let mut held: Option<SemaphorePermit<'s>> = None;
    let mut held_units: u32 = 0;
    let waiting_for_budget = AtomicBool::new(false);
    let read = async {
        let mut buf: Vec<u8> = Vec::new();
        let mut total: usize = 0;
        let mut over = false;
        // Once room is held: when it was taken, and the bytes at that moment.
        let mut holding_since: Option<(tokio::time::Instant, usize)> = None;
        loop {
            let next = body.frame();
            let frame = match holding_since {
                None => next.await,
                Some((since, at)) => {
                    let owed = Duration::from_secs_f64((total - at) as f64 / HOLDING_RATE as f64);
                    match tokio::time::timeout_at(since + HOLDING_GRACE + owed, next).await {
                        Ok(frame) => frame,
                        Err(_) => return Err(body_too_slow()),
                    }
                }
            };
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|e| body_unreadable(&e))?;
            let Ok(data) = frame.into_data() else { continue };
            total = total.saturating_add(data.len());
            if total > max && !over {
                over = true;
                buf = Vec::new();
                held = None;
                held_units = 0;
                holding_since = None;
            }
            if over {
                if total > max.saturating_mul(4) {
                    break;
                }
                continue;
            }
            let needed = budget_units(total.saturating_sub(free));
            if needed > held_units {
                if held_units > 0 {
                    // Longer than it declared (which hyper does not let
                    // through): never wait for more room holding some.
                    return Err(body_unreadable(&"longer than its declared length"));
                }
                // The first room this body takes, and all it will.
                let wanted = needed.max(whole);
                let room = match budget.try_acquire_many(wanted) {
                    Ok(room) => room,
                    Err(_) => {
                        let Ok(_place) = shared.body_waiting.try_acquire() else {
                            return Err(too_many_waiting());
                        };
                        waiting_for_budget.store(true, Ordering::Relaxed);
                        let room = budget
                            .acquire_many(wanted)
                            .await
                            .map_err(|_| budget_exhausted(shared))?;
                        waiting_for_budget.store(false, Ordering::Relaxed);
                        room
                    }
                };
                held = Some(room);
                held_units = wanted;
                holding_since = Some((tokio::time::Instant::now(), total));
            }
            if buf.capacity() == 0 {
                // Address space only; where even that is refused, the
                // buffer grows as usual.
                let _ = buf.try_reserve_exact(expected.max(data.len()));
            }
            buf.extend_from_slice(&data);
        }
        if over {
            Err(too_large(max))
        } else {
            Ok(Bytes::from(buf))
        }
    };
    let bytes = match tokio::time::timeout(shared.body_timeout, read).await {
        Ok(result) => result?,
        Err(_) if waiting_for_budget.load(Ordering::Relaxed) => return Err(budget_exhausted(shared)),
        Err(_) => return Err(body_late(shared)),
    };
    Ok((
        bytes,
        Room {
            _budget: held,
            _free: free_share,
        },
    ))
}
