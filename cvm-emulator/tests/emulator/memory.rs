//! Peak memory of the emulator binary while eight validly signed bodies of
//! nearly 10 MiB (the size limit) arrive at once: the review measured a
//! resident set of 680 MiB. It must stay near the body budget (64 MiB):
//! bodies waiting for room are not read, and decoding one adds about its
//! own size, not a multiple of it. Linux only (/proc).

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cvm_emulator::{DEMO_SECRET_ID, DEMO_SECRET_KEY};
use signer::{Payload, SecretKey, Signer, SigningRequest, UNSIGNED_PAYLOAD};

const BIN: &str = env!("CARGO_BIN_EXE_cvm-emulator");
const BODY: usize = 10 * 1024 * 1024 - 4096;
const AT_ONCE: usize = 8;
/// The budget for bodies being read, plus one decoded body per worker
/// thread (2 here) and room for allocator slack (freed memory the
/// allocator keeps; measured up to 9 MiB). Before the fix, many small
/// values peaked 300 MiB (ids) to 1.5 GiB (zeros) over the idle figure; a
/// long string, 87 MiB, which this bound guards from growing.
const ALLOWED_OVER_IDLE_MIB: f64 = 64.0 + 2.0 * 10.0 + 32.0;

/// Kills the emulator even when the test fails.
struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn() -> (Emulator, String) {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--transition-ms",
            "0",
            // Two of the eight bodies wait for room in the 64 MiB budget
            // while six are checked; on a loaded machine, checking six in a
            // debug build has taken over the default 30 s, and the two
            // were refused. This test is about memory, not patience.
            "--read-timeout-secs",
            "300",
        ])
        .env("RUST_LOG", "warn")
        .env("TOKIO_WORKER_THREADS", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the emulator");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Emulator(child), url)
}

/// `VmRSS` and `VmHWM` of `pid`, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .expect("field")
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Sends `body` (signed, payload unsigned so that the test spends no time
/// hashing) `AT_ONCE` times concurrently; the error codes answered.
async fn send_at_once(url: &str, service: &str, action: &str, body: Vec<u8>) -> Vec<String> {
    let host = url.trim_start_matches("http://").to_owned();
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let authorization =
        Signer::new(DEMO_SECRET_ID, SecretKey::new(DEMO_SECRET_KEY)).authorization(&SigningRequest {
            method: "POST",
            host: &host,
            query: "",
            content_type: "application/json",
            payload: Payload::Unsigned,
            service,
            timestamp,
            action: Some(action),
        });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let body = axum::body::Bytes::from(body);
    let sends: Vec<_> = (0..AT_ONCE)
        .map(|_| {
            let request = http
                .post(url)
                .header("Content-Type", "application/json")
                .header("Authorization", &authorization)
                .header("X-TC-Content-SHA256", UNSIGNED_PAYLOAD)
                .header("X-TC-Action", action)
                .header("X-TC-Version", "2017-03-12")
                .header("X-TC-Region", "ap-guangzhou")
                .header("X-TC-Timestamp", timestamp.to_string())
                .body(body.clone());
            tokio::spawn(async move {
                let answer = request
                    .send()
                    .await
                    .expect("answered")
                    .text()
                    .await
                    .expect("body");
                let v: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
                v["Response"]["Error"]["Code"].as_str().unwrap_or("").to_owned()
            })
        })
        .collect();
    let mut codes = Vec::new();
    for send in sends {
        codes.push(send.await.expect("task"));
    }
    codes
}

async fn peak_over_idle(service: &str, action: &str, body: Vec<u8>, expected: &str) {
    let (emulator, url) = spawn();
    let pid = emulator.0.id();
    // One small request first, so that the idle figure includes a served one.
    let codes = send_at_once(&url, "cvm", "DescribeInstances", b"{}".to_vec()).await;
    assert!(codes.iter().all(String::is_empty), "{codes:?}");
    let (idle, _) = memory(pid);
    let codes = send_at_once(&url, service, action, body).await;
    assert!(codes.iter().all(|c| c == expected), "{codes:?}");
    let (rss, hwm) = memory(pid);
    eprintln!("{action}, expecting `{expected}`: idle {idle:.1} MiB, peak {hwm:.1} MiB, after {rss:.1} MiB");
    assert!(
        hwm - idle < ALLOWED_OVER_IDLE_MIB,
        "{AT_ONCE} bodies of {BODY} bytes took the resident set from {idle:.1} MiB to {hwm:.1} MiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_strings_cost_about_their_size() {
    let value = "a".repeat(BODY - 100);
    let body = format!("{{\"Filters\":[{{\"Name\":\"instance-name\",\"Values\":[\"{value}\"]}}]}}");
    peak_over_idle("cvm", "DescribeInstances", body.into_bytes(), "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_small_values_are_refused_before_they_multiply() {
    let n = (BODY - 20) / 2;
    let body = format!("{{\"InstanceIds\":[{}0]}}", "0,".repeat(n - 1));
    peak_over_idle("cvm", "DescribeInstances", body.into_bytes(), "InvalidParameter").await;
}

/// The same long strings to an action checked against its description (a
/// tree of the body, not a typed request): about their size too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_strings_checked_against_a_description_cost_about_their_size() {
    let value = "a".repeat(BODY - 100);
    let body = format!("{{\"Filters\":[{{\"Name\":\"route-table-name\",\"Values\":[\"{value}\"]}}]}}");
    peak_over_idle(
        "vpc",
        "DescribeRouteTables",
        body.into_bytes(),
        "UnsupportedOperation",
    )
    .await;
}

/// Connections a client without the key opens, each declaring a body at
/// the size limit and sending as fast as the emulator reads. The review
/// measured 356 MiB over idle for 1,000 such connections against the 64 MiB
/// body budget; after room was taken whole, 119 to 133 MiB, for the bodies
/// waiting for room (about 80 KiB each, outside the budget).
const UNAUTHENTICATED: usize = 1_000;

/// The budget, plus slack for what every connection holds (measured 50 to
/// 52 MiB over idle in all, since at most 64 bodies wait for room).
const ALLOWED_FOR_CONNECTIONS_MIB: f64 = 64.0 + 32.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_without_the_key_hold_no_more_than_the_budget_and_their_buffers() {
    use tokio::io::AsyncWriteExt;
    let (emulator, url) = spawn();
    let pid = emulator.0.id();
    let codes = send_at_once(&url, "cvm", "DescribeInstances", b"{}".to_vec()).await;
    assert!(codes.iter().all(String::is_empty), "{codes:?}");
    let (idle, _) = memory(pid);
    let addr = url.trim_start_matches("http://").to_owned();
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Authorization: TC3-HMAC-SHA256 Credential={DEMO_SECRET_ID}/2026-01-01/cvm/tc3_request, \
         SignedHeaders=content-type;host, Signature={}\r\n\
         X-TC-Action: DescribeInstances\r\nX-TC-Version: 2017-03-12\r\nX-TC-Region: ap-guangzhou\r\n\
         X-TC-Timestamp: {timestamp}\r\nContent-Length: {}\r\n\r\n",
        "0".repeat(64),
        10 * 1024 * 1024
    );
    let chunk = vec![b' '; 64 * 1024];
    // Every connection writes until the emulator stops reading from it (a
    // write that waits 300 ms) or 2 s have passed; all stay open until
    // memory is measured.
    let until = tokio::time::Instant::now() + Duration::from_secs(2);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..UNAUTHENTICATED {
        let (addr, head, chunk) = (addr.clone(), head.clone(), chunk.clone());
        tasks.spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(&addr).await.ok()?;
            stream.write_all(head.as_bytes()).await.ok()?;
            while tokio::time::Instant::now() < until {
                match tokio::time::timeout(Duration::from_millis(300), stream.write_all(&chunk)).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
            }
            Some(stream)
        });
    }
    let mut open = Vec::new();
    while let Some(done) = tasks.join_next().await {
        open.extend(done.expect("task"));
    }
    let (rss, hwm) = memory(pid);
    eprintln!(
        "{} of {UNAUTHENTICATED} connections open: idle {idle:.1} MiB, peak {hwm:.1} MiB, now {rss:.1} MiB",
        open.len()
    );
    assert!(open.len() > UNAUTHENTICATED / 2, "only {} connected", open.len());
    assert!(
        hwm - idle < ALLOWED_FOR_CONNECTIONS_MIB,
        "{UNAUTHENTICATED} connections took the resident set from {idle:.1} MiB to {hwm:.1} MiB"
    );
    drop(open);
}
