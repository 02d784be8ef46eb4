//! The starvation attacks of the outside review, each bounded to a few
//! seconds: slow clients at the connection cap, bodies announced but not
//! sent, big bodies stalled. During each, a valid signed request must be
//! answered within 1 s.
//!
//! The tests of this file measure latency, so they run one at a time: under
//! nextest, alone (`.config/nextest.toml` gives each every test thread);
//! under `cargo test`, [`SERIAL`] keeps them from one another. They need
//! about 2 400 file descriptors: the soft limit is raised to the hard one
//! if need be.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::*;
use cvm_emulator::{EmulatorConfig, RunningEmulator, DEMO_SECRET_ID};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The review's latency bound for a valid request during an attack.
const WITHIN: Duration = Duration::from_secs(1);

/// One attack at a time: they measure latency on a 2-core machine. Kept
/// for `cargo test`, which runs the tests of this binary on threads of one
/// process, where it is what serialises them. Under nextest each test is a
/// process of its own and this lock serialises nothing: there the
/// `starvation::` override of `.config/nextest.toml` runs them alone.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Raises the soft descriptor limit for `connections` client sockets and
/// as many server ones.
fn enough_descriptors(connections: u64) {
    let needed = 2 * connections + 200;
    let got = rlimit::increase_nofile_limit(needed).expect("read the descriptor limit");
    assert!(
        got >= needed,
        "this test needs {needed} file descriptors, the hard limit allows {got}: raise `ulimit -Hn`"
    );
}

/// A valid signed request on a fresh connection: its `Response` object and
/// how long it took from connecting to the end of the answer.
async fn timed_request(emu: &RunningEmulator) -> (Option<serde_json::Value>, Duration) {
    let host = emu.host();
    let call = Call::post("DescribeInstances", json!({"Limit": 1}));
    let mut headers = call.headers(&host);
    headers.insert(0, ("Host".to_owned(), host));
    let raw = http_text("POST", "/", &headers, &call.body);
    let started = Instant::now();
    // As ordinary clients do: no half-close after the request.
    let exchange = async {
        let mut stream = TcpStream::connect(emu.addr()).await.expect("connect");
        stream.write_all(&raw).await.expect("send");
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    };
    let text = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_default();
    let elapsed = started.elapsed();
    (
        text.starts_with("HTTP/1.1 ").then(|| raw_envelope(&text)),
        elapsed,
    )
}

/// Asserts a valid request is answered, successfully, within [`WITHIN`].
async fn assert_served_quickly(emu: &RunningEmulator, during: &str) -> Duration {
    let (answer, elapsed) = timed_request(emu).await;
    let answer = answer.unwrap_or_else(|| panic!("{during}: the valid request got no answer ({elapsed:?})"));
    assert_eq!(code(&answer), "", "{during}: {answer}");
    assert!(elapsed < WITHIN, "{during}: the valid request took {elapsed:?}");
    elapsed
}

/// Slow clients: `n` connections, each sending one byte of a request head
/// every `period` and reconnecting when the server closes it, for `lasting`
/// from the moment all `n` are connected, which `connected` announces with
/// the attack's end. Returns how many connections the server closed.
///
/// The attacker is a plain thread with blocking connects and non-blocking
/// reads, outside the runtime that serves the emulator: as an outside
/// client would be, and so that seeing a close is one `read` call, not a
/// readiness event the runtime may not have processed yet on a loaded
/// machine (CI once saw no close at all, 2026-12-06). The clock starts
/// after the connects because, on a loaded machine, 1 088 sequential
/// connects alone can take seconds.
fn dribble(
    addr: SocketAddr,
    n: usize,
    period: Duration,
    lasting: Duration,
    connected: tokio::sync::oneshot::Sender<Instant>,
) -> usize {
    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;
    // A head that never completes in the time the attack lasts.
    let head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let open = |timeout: Duration| {
        let stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
        stream.set_nonblocking(true).ok()?;
        Some(stream)
    };
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = open(Duration::from_secs(10)).expect("connect");
        streams.push((stream, 0usize));
    }
    let until = Instant::now() + lasting;
    let _ = connected.send(until);
    let mut closed = 0;
    while Instant::now() < until {
        std::thread::sleep(period);
        for (stream, sent) in &mut streams {
            let mut probe = [0u8; 64];
            let gone = match stream.read(&mut probe) {
                Ok(_) => true, // closed (0) or answered: either way, done
                Err(e) => e.kind() != ErrorKind::WouldBlock,
            };
            if gone {
                closed += 1;
                if Instant::now() >= until {
                    break;
                }
                match open(Duration::from_secs(1)) {
                    Some(fresh) => (*stream, *sent) = (fresh, 0),
                    None => continue,
                }
            }
            if *sent < head.len() && stream.write(&head[*sent..*sent + 1]).is_ok() {
                *sent += 1;
            }
        }
    }
    closed
}

/// The review's first attack at the default caps (1024 connections, 30 s
/// read timeout): 1024 clients dribbling request heads held every place
/// and a valid client was refused for about 30 s. Here 64 more than the
/// cap, so that it is surely reached and slow clients keep coming back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_at_the_default_cap_do_not_lock_out_valid_ones() {
    let _serial = SERIAL.lock().await;
    let config = config();
    assert_eq!(
        (config.max_connections, config.read_timeout),
        (1024, Duration::from_secs(30)),
        "the defaults the review used"
    );
    const SLOW: usize = 1024 + 64;
    enough_descriptors(SLOW as u64);
    let emu = start(config).await;
    let (connected, all_connected) = tokio::sync::oneshot::channel();
    let addr = emu.addr();
    let attack = tokio::task::spawn_blocking(move || {
        dribble(
            addr,
            SLOW,
            Duration::from_millis(200),
            Duration::from_secs(5),
            connected,
        )
    });
    let until = tokio::time::timeout(Duration::from_secs(30), all_connected)
        .await
        .expect("the slow clients connect within 30 s")
        .expect("the attack announces its end");
    // Let them start dribbling, and the ones over the cap be evicted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for i in 0..5 {
        let took = assert_served_quickly(&emu, &format!("valid request {i} during the attack")).await;
        slowest = slowest.max(took);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        Instant::now() < until,
        "the attack ended before the last valid request"
    );
    let closed = attack.await.expect("attack task");
    // The cap held: slow clients over it took one another's places.
    assert!(closed >= 64, "only {closed} slow connections were closed");
    eprintln!("slowest valid request during the attack: {slowest:?}; slow connections closed: {closed}");
    assert_healthy(&emu).await;
}

/// Request headers of a POST whose signature is wrong but whose secret id
/// and timestamp pass the checks that need no body.
fn unauthenticated_head(host: &str, content_length: usize) -> Vec<u8> {
    let call = Call::post_bytes("DescribeInstances", Vec::new());
    let mut head = format!("POST / HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    for (k, v) in call.headers(host) {
        let v = if k == "Authorization" {
            format!(
                "TC3-HMAC-SHA256 Credential={DEMO_SECRET_ID}/{}/cvm/tc3_request, SignedHeaders=content-type;host, Signature={}",
                signer::utc_date(call.timestamp),
                "0".repeat(64)
            )
        } else {
            v
        };
        head.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    head.extend_from_slice(format!("Content-Length: {content_length}\r\n\r\n").as_bytes());
    head
}

/// The review's second attack: clients with a valid-looking secret id
/// announce 10 MiB bodies (7 of them covered the 64 MiB budget) and send
/// nothing; a valid request waited 24-30 s for budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_bodies_reserve_no_budget() {
    let _serial = SERIAL.lock().await;
    let config = config();
    assert_eq!(
        (config.max_body_bytes, config.max_buffered_bytes),
        (10 << 20, 64 << 20)
    );
    let emu = start(config).await;
    let held = stalled(&emu, 20, 10 << 20, b"{").await;
    // Let the server reach the body of each.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..3 {
        assert_served_quickly(&emu, &format!("valid request {i} with 200 MiB announced")).await;
    }
    drop(held);
}

/// Big bodies actually sent, stalled one byte short, fill the budget: a
/// small valid request still does not wait, while a big one waits for room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_big_bodies_do_not_hold_up_small_requests() {
    let _serial = SERIAL.lock().await;
    let emu = start(EmulatorConfig {
        max_body_bytes: 1 << 20,
        max_buffered_bytes: 2 << 20,
        read_timeout: Duration::from_secs(5),
        ..config()
    })
    .await;
    let held = stalled(&emu, 4, 1 << 20, &vec![b' '; (1 << 20) - 1]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The budget still bounds big bodies: a valid 200 KiB one waits. First,
    // within the 2 s the stalled ones may hold their room without sending.
    let big = Call::post(
        "DescribeInstances",
        json!({"Filters": [{"Name": "instance-name", "Values": ["a".repeat(200 << 10)]}]}),
    );
    let waiting = tokio::time::timeout(WITHIN, big.send(&emu)).await;
    assert!(
        waiting.is_err(),
        "a big body found room in a full budget: {waiting:?}"
    );
    for i in 0..3 {
        assert_served_quickly(&emu, &format!("valid request {i} with the budget full")).await;
    }
    // Once the stalled bodies are gone, it goes through.
    drop(held);
    let r = tokio::time::timeout(Duration::from_secs(5), big.send(&emu))
        .await
        .expect("answered once the budget is free");
    assert_eq!(code(&r), "", "{r}");
}

/// Bodies arriving together, each past its free share before any is
/// whole, with room in the budget for one at a time: each is served in
/// turn. When room was taken piecewise, each held part of the budget and
/// waited for more, and all of them waited on one another until their
/// bodies timed out (eight 10 MiB bodies in the 64 MiB budget once did).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_arriving_together_do_not_wait_on_one_another() {
    let _serial = SERIAL.lock().await;
    const BODY: usize = 1 << 20;
    const BODIES: usize = 8;
    let emu = start(EmulatorConfig {
        max_body_bytes: BODY,
        max_buffered_bytes: BODY,
        // Far above the time they need (about 1 s), so that only waiting
        // on one another until the timeout fails this test.
        read_timeout: Duration::from_secs(30),
        ..config()
    })
    .await;
    let host = emu.host();
    let mut body = br#"{"Limit": 1}"#.to_vec();
    body.resize(BODY, b' ');
    let call = Call::post_bytes("DescribeInstances", body);
    let mut headers = call.headers(&host);
    headers.insert(0, ("Host".to_owned(), host));
    let raw = http_text("POST", "/", &headers, &call.body);
    // Past the free share (16 KiB), small enough for the sockets' buffers.
    let first = raw.len() - BODY + (160 << 10);
    let started = Instant::now();
    let sends: Vec<_> = (0..BODIES)
        .map(|_| {
            let raw = raw.clone();
            let addr = emu.addr();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.expect("connect");
                stream.write_all(&raw[..first]).await.expect("send the start");
                // Every body has started before any is whole.
                tokio::time::sleep(Duration::from_millis(500)).await;
                stream.write_all(&raw[first..]).await.expect("send the rest");
                let mut out = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(40), stream.read_to_end(&mut out)).await;
                String::from_utf8_lossy(&out).into_owned()
            })
        })
        .collect();
    for send in sends {
        let text = send.await.expect("task");
        let r = raw_envelope(&text);
        assert_eq!(code(&r), "", "{r}");
    }
    let took = started.elapsed();
    eprintln!("{BODIES} bodies of {BODY} bytes, room for one at a time: all served in {took:?}");
    assert!(
        took < Duration::from_secs(20),
        "the bodies were served only as their timeouts (30 s) freed room: {took:?}"
    );
    assert_healthy(&emu).await;
}

/// Room is taken for a whole body once its first 16 KiB have arrived, so
/// seven clients sending 16 KiB + 1 of announced 10 MiB bodies would hold
/// the whole 64 MiB budget until their bodies timed out (30 s): a body
/// holding room must keep arriving at 256 KiB/s after 2 s, or it is cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_holding_room_must_keep_arriving() {
    let _serial = SERIAL.lock().await;
    let config = config();
    assert_eq!(
        (config.max_body_bytes, config.max_buffered_bytes),
        (10 << 20, 64 << 20)
    );
    let emu = start(config).await;
    let held = stalled(&emu, 7, 10 << 20, &vec![b' '; (16 << 10) + 1]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let big = Call::post(
        "DescribeInstances",
        json!({"Filters": [{"Name": "instance-name", "Values": ["a".repeat(200 << 10)]}]}),
    );
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), big.send(&emu))
        .await
        .expect("a 200 KiB body answered while stalled bodies held the budget");
    assert_eq!(code(&r), "", "{r}");
    eprintln!(
        "a 200 KiB body behind 7 stalled ones holding the budget: {:?}",
        started.elapsed()
    );
    // The stalled ones were told why.
    for mut stream in held {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("slower than 256 KiB/s"), "{text}");
    }
}

/// `count` connections, each announcing a body of `declared` bytes with an
/// [`unauthenticated_head`], sending `sent` of it, and stalling.
async fn stalled(emu: &RunningEmulator, count: usize, declared: usize, sent: &[u8]) -> Vec<TcpStream> {
    let host = emu.host();
    let mut held = Vec::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
        stream
            .write_all(&unauthenticated_head(&host, declared))
            .await
            .unwrap();
        stream.write_all(sent).await.unwrap();
        held.push(stream);
    }
    held
}
