//! Fault injection, as a client sees it: injected throttling and internal
//! errors, connections reset before or after the change, latency, a skewed
//! clock (timestamp check and `Date` header), seeded replay, the request
//! counters, and ClientToken idempotency when an answer is lost.
//!
//! Everything listens on 127.0.0.1 with instant transitions and no rate
//! limit; every request is bounded by a 10 s client timeout.

use crate::common;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::common::{code, config, http, http_text, message, now, seeded, start, Call, ZONE};
use cvm_emulator::{Emulator, EmulatorConfig, FaultConfig, FaultStats, RunningEmulator};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_cvm-emulator");

fn with_faults(faults: FaultConfig) -> EmulatorConfig {
    config().with_faults(FaultConfig {
        seed: faults.seed.or(Some(1)),
        ..faults
    })
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cvm-emulator-faults-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn start_call(id: &str) -> Call {
    Call::post("StartInstances", json!({"InstanceIds": [id]}))
}

fn state_of(emu: &RunningEmulator, id: &str) -> String {
    emu.state_snapshot()
        .instance(id)
        .expect("instance kept")
        .instance
        .instance_state
        .to_string()
}

/// Sends `call` with reqwest (no retries); the `Response` object, or the
/// transport error's text.
async fn send(emu: &RunningEmulator, client: &reqwest::Client, call: &Call) -> Result<Value, String> {
    let mut req = client
        .post(format!("{}/", emu.endpoint_url()))
        .body(call.body.clone());
    for (k, v) in call.headers(&emu.host()) {
        req = req.header(k, v);
    }
    match req.send().await {
        Ok(resp) => {
            assert_eq!(resp.status(), 200);
            let body = resp.bytes().await.map_err(|e| format!("{e:?}"))?;
            Ok(common::envelope(&body))
        }
        Err(e) => {
            assert!(!e.is_timeout(), "timed out rather than reset: {e:?}");
            assert!(e.status().is_none(), "{e:?}");
            Err(format!("{e:?}"))
        }
    }
}

/// Writes `call` as HTTP/1.1 on a fresh connection and reads until the
/// server ends it (at most 10 s): the bytes received, and how it ended.
async fn raw_exchange(emu: &RunningEmulator, call: &Call) -> (Vec<u8>, std::io::Result<()>) {
    let mut headers = vec![("Host".to_owned(), emu.host())];
    headers.extend(call.headers(&emu.host()));
    let bytes = http_text("POST", "/", &headers, &call.body);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        let mut out = Vec::new();
        let end = stream.read_to_end(&mut out).await.map(|_| ());
        (out, end)
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("the server answers or closes within 10 s")
}

#[tokio::test]
async fn injected_throttling_answers_request_limit_exceeded_and_changes_nothing() {
    let (emu, ids) = seeded(
        with_faults(FaultConfig {
            request_limit_exceeded: 1.0,
            ..FaultConfig::default()
        }),
        1,
        "STOPPED",
    )
    .await;
    let r = start_call(&ids[0]).send(&emu).await;
    assert_eq!(code(&r), "RequestLimitExceeded", "{r}");
    assert!(r["Error"]["Message"].is_string(), "{r}");
    assert_eq!(state_of(&emu, &ids[0]), "STOPPED");
    assert_eq!(emu.request_count("StartInstances"), 1);
    let s = emu.fault_stats();
    assert_eq!(
        (s.requests, s.request_limit_exceeded, s.internal_error),
        (1, 1, 0)
    );
    assert_eq!((s.reset_before, s.reset_after, s.delayed), (0, 0, 0));
}

#[tokio::test]
async fn injected_internal_error_changes_nothing() {
    let (emu, ids) = seeded(
        with_faults(FaultConfig {
            internal_error: 1.0,
            ..FaultConfig::default()
        }),
        1,
        "STOPPED",
    )
    .await;
    let r = start_call(&ids[0]).send(&emu).await;
    assert_eq!(code(&r), "InternalError", "{r}");
    assert_eq!(state_of(&emu, &ids[0]), "STOPPED");
    assert_eq!(emu.fault_stats().internal_error, 1);
}

#[tokio::test]
async fn faults_spare_requests_that_fail_the_gateway_checks() {
    let emu = start(with_faults(FaultConfig {
        internal_error: 1.0,
        ..FaultConfig::default()
    }))
    .await;
    let mut bad_signature = Call::post("DescribeInstances", json!({}));
    bad_signature.secret_key = "wrong".into();
    assert_eq!(
        code(&bad_signature.send(&emu).await),
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(emu.request_count("DescribeInstances"), 0);
    let unknown = Call::post("DescribeInstances", json!({"Nope": 1}));
    assert_eq!(code(&unknown.send(&emu).await), "UnknownParameter");
    assert_eq!(emu.fault_stats(), FaultStats::default());
    // Authenticated, so counted, though spared the fault.
    assert_eq!(emu.request_count("DescribeInstances"), 1);
    // A well-formed one gets the fault.
    let good = Call::post("DescribeInstances", json!({}));
    assert_eq!(code(&good.send(&emu).await), "InternalError");
    assert_eq!(emu.request_count("DescribeInstances"), 2);
}

#[tokio::test]
async fn reset_before_effect_resets_the_connection_and_changes_nothing() {
    let (emu, ids) = seeded(
        with_faults(FaultConfig {
            reset_before: 1.0,
            ..FaultConfig::default()
        }),
        1,
        "STOPPED",
    )
    .await;
    // Raw TCP: not one byte of an answer, and the connection is reset.
    let (received, end) = raw_exchange(&emu, &start_call(&ids[0])).await;
    assert!(received.is_empty(), "{}", String::from_utf8_lossy(&received));
    let err = end.expect_err("the connection is reset, not closed");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
    // reqwest (HTTP/1.1): a transport error, no status.
    let err = send(&emu, &http(), &start_call(&ids[0]))
        .await
        .expect_err("no answer");
    assert!(err.contains("ConnectionReset"), "{err}");
    assert_eq!(state_of(&emu, &ids[0]), "STOPPED");
    // The client did not resend: exactly the two requests sent.
    assert_eq!(emu.request_count("StartInstances"), 2);
    assert_eq!(emu.fault_stats().reset_before, 2);
}

#[tokio::test]
async fn reset_over_http2_drops_the_connection() {
    let (emu, ids) = seeded(
        with_faults(FaultConfig {
            reset_before: 1.0,
            ..FaultConfig::default()
        }),
        1,
        "STOPPED",
    )
    .await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = send(&emu, &h2, &start_call(&ids[0]))
        .await
        .expect_err("no answer");
    assert!(err.contains("ConnectionReset"), "{err}");
    assert_eq!(state_of(&emu, &ids[0]), "STOPPED");
    assert_eq!(emu.request_count("StartInstances"), 1);
}

#[tokio::test]
async fn reset_after_effect_keeps_the_change_on_disk() {
    let dir = temp_dir();
    let path = dir.join("state.json");
    let seed = cvm_emulator::State::new()
        .with_instance(cvm_emulator::StoredInstance::with_random_id(ZONE, "STOPPED"));
    let id = seed.instances[0].instance.instance_id.clone();
    let emu = start(
        with_faults(FaultConfig {
            reset_after: 1.0,
            ..FaultConfig::default()
        })
        .with_state(seed)
        .with_state_file(&path),
    )
    .await;
    let (received, end) = raw_exchange(&emu, &start_call(&id)).await;
    assert!(received.is_empty(), "{}", String::from_utf8_lossy(&received));
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ConnectionReset);
    // The change was made, and was on disk before the reset.
    assert_eq!(state_of(&emu, &id), "RUNNING");
    let journal = std::fs::read_to_string(format!("{}.journal", path.display())).unwrap();
    let record = journal.lines().last().expect("a journal record");
    assert!(record.contains(&id) && record.contains("\"RUNNING\""), "{record}");
    assert_eq!(emu.fault_stats().reset_after, 1);
    assert_eq!(emu.request_count("StartInstances"), 1);
    emu.shutdown().await;

    // A restart (no faults) sees it; starting again is refused as the real
    // service refuses it: the blind retry a client would make.
    let emu = start(config().with_state_file(&path)).await;
    assert_eq!(state_of(&emu, &id), "RUNNING");
    let r = start_call(&id).send(&emu).await;
    assert_eq!(code(&r), "UnsupportedOperation.InstanceStateRunning", "{r}");
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn latency_stays_within_its_bounds() {
    let (min, max) = (Duration::from_millis(150), Duration::from_millis(250));
    let emu = start(with_faults(FaultConfig {
        latency: Some(min..=max),
        ..FaultConfig::default()
    }))
    .await;
    let client = http();
    let call = Call::post("DescribeInstances", json!({}));
    const REQUESTS: usize = 7;
    let mut took = Vec::new();
    for _ in 0..REQUESTS {
        let sent = Instant::now();
        let r = send(&emu, &client, &call).await.unwrap();
        took.push(sent.elapsed());
        assert_eq!(code(&r), "", "{r}");
    }
    // Below the minimum, none: timers never fire early.
    assert!(took.iter().all(|t| *t >= min), "{took:?}");
    // Above the maximum, slack for a loaded machine, which may stall any
    // one request by seconds but not most of them: the median stays within
    // 1 s of the maximum, the slowest within 4 s (under the longest
    // latency the emulator allows, 5 s).
    took.sort();
    assert!(took[REQUESTS / 2] < max + Duration::from_secs(1), "{took:?}");
    assert!(took[REQUESTS - 1] < max + Duration::from_secs(4), "{took:?}");
    assert_eq!(emu.fault_stats().delayed, REQUESTS as u64);
}

/// The `Date` header of an answer to `call`, as seconds off the machine's clock.
async fn date_offset(emu: &RunningEmulator, call: &Call) -> (i64, Value) {
    let mut req = http()
        .post(format!("{}/", emu.endpoint_url()))
        .body(call.body.clone());
    for (k, v) in call.headers(&emu.host()) {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let dates: Vec<_> = resp.headers().get_all("date").iter().cloned().collect();
    assert_eq!(dates.len(), 1, "one Date header: {dates:?}");
    let date = httpdate::parse_http_date(dates[0].to_str().unwrap()).unwrap();
    let offset = match date.duration_since(SystemTime::now()) {
        Ok(ahead) => ahead.as_secs_f64(),
        Err(behind) => -behind.duration().as_secs_f64(),
    };
    let body = resp.bytes().await.unwrap();
    (offset.round() as i64, common::envelope(&body))
}

#[tokio::test]
async fn date_header_gives_the_emulator_clock() {
    for skew in [0_i64, 7200, -7200] {
        let emu = start(config().with_clock_skew(skew)).await;
        let fresh = Call {
            timestamp: now() + skew,
            ..Call::post("DescribeInstances", json!({}))
        };
        let (offset, r) = date_offset(&emu, &fresh).await;
        assert_eq!(code(&r), "", "{r}");
        assert!((offset - skew).abs() <= 2, "skew {skew}: Date {offset} s off");
        // Error answers carry it too.
        let unsigned = Call {
            authorization: Some(String::new()),
            ..fresh.clone()
        };
        let (offset, r) = date_offset(&emu, &unsigned).await;
        assert_eq!(code(&r), "AuthFailure.InvalidAuthorization", "{r}");
        assert!((offset - skew).abs() <= 2, "skew {skew}: Date {offset} s off");
    }
}

#[tokio::test]
async fn timestamps_are_judged_against_the_skewed_clock() {
    for skew in [3600_i64, -3600] {
        let emu = start(config().with_clock_skew(skew)).await;
        // The machine's time is an hour off the emulator's: expired.
        let r = Call::post("DescribeInstances", json!({})).send(&emu).await;
        assert_eq!(code(&r), "AuthFailure.SignatureExpire", "{r}");
        let server_time = now() + skew;
        let text = message(&r);
        let shown: i64 = text
            .split("The server time is ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no server time in {text:?}"));
        assert!((shown - server_time).abs() <= 2, "{text}");
        // Signed with the emulator's time: accepted, within 300 s either way.
        for off in [0, 250, -250] {
            let call = Call {
                timestamp: server_time + off,
                ..Call::post("DescribeInstances", json!({}))
            };
            let r = call.send(&emu).await;
            assert_eq!(code(&r), "", "skew {skew}, {off} s off: {r}");
        }
        let late = Call {
            timestamp: server_time - 400,
            ..Call::post("DescribeInstances", json!({}))
        };
        assert_eq!(code(&late.send(&emu).await), "AuthFailure.SignatureExpire");
    }
}

/// What each of `n` sequential requests came to: an error code, "OK", or
/// "reset".
async fn outcomes(faults: FaultConfig, n: usize) -> (Vec<String>, FaultStats) {
    let emu = start(config().with_faults(faults)).await;
    let client = http();
    let mut seen = Vec::with_capacity(n);
    for _ in 0..n {
        let call = Call::post("DescribeInstances", json!({"Limit": 1}));
        seen.push(match send(&emu, &client, &call).await {
            Ok(r) if code(&r).is_empty() => "OK".to_owned(),
            Ok(r) => code(&r),
            Err(_) => "reset".to_owned(),
        });
    }
    assert_eq!(emu.request_count("DescribeInstances"), n as u64);
    let stats = emu.fault_stats();
    emu.shutdown().await;
    (seen, stats)
}

#[tokio::test]
async fn same_seed_same_faults() {
    let faults = FaultConfig {
        request_limit_exceeded: 0.2,
        internal_error: 0.2,
        reset_before: 0.1,
        reset_after: 0.1,
        latency: Some(Duration::ZERO..=Duration::from_millis(5)),
        seed: Some(1234),
    };
    let (first, stats) = outcomes(faults.clone(), 40).await;
    let (again, stats_again) = outcomes(faults.clone(), 40).await;
    assert_eq!(first, again);
    assert_eq!(stats, stats_again);
    for kind in ["OK", "RequestLimitExceeded", "InternalError", "reset"] {
        assert!(first.iter().any(|o| o == kind), "{kind} never drawn: {first:?}");
    }
    assert_eq!(
        first.iter().filter(|o| *o == "reset").count() as u64,
        stats.reset_before + stats.reset_after
    );
    let (other, _) = outcomes(
        FaultConfig {
            seed: Some(4321),
            ..faults
        },
        40,
    )
    .await;
    assert_ne!(first, other);
}

#[tokio::test]
async fn unseeded_runs_report_their_seed_for_replay() {
    let faults = FaultConfig {
        internal_error: 0.5,
        ..FaultConfig::default()
    };
    let emu = start(config().with_faults(faults.clone())).await;
    let seed = emu.fault_seed();
    let client = http();
    let mut first = Vec::new();
    for _ in 0..20 {
        let r = send(&emu, &client, &Call::post("DescribeInstances", json!({})))
            .await
            .unwrap();
        first.push(code(&r));
    }
    emu.shutdown().await;
    let (replayed, _) = outcomes(
        FaultConfig {
            seed: Some(seed),
            ..faults
        },
        20,
    )
    .await;
    let replayed: Vec<String> = replayed
        .into_iter()
        .map(|o| if o == "OK" { String::new() } else { o })
        .collect();
    assert_eq!(first, replayed);
}

fn run_request(token: &str) -> Call {
    Call::post(
        "RunInstances",
        json!({
            "Placement": {"Zone": ZONE},
            "ImageId": "img-eb30mz89",
            "InstanceCount": 2,
            "ClientToken": token,
        }),
    )
}

fn ids_of(r: &Value) -> Vec<String> {
    r["InstanceIdSet"]
        .as_array()
        .unwrap_or_else(|| panic!("no InstanceIdSet: {r}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn client_token_returns_the_same_instances_and_creates_nothing_more() {
    let emu = start(config()).await;
    let first = ids_of(&run_request("token-a").send(&emu).await);
    let again = ids_of(&run_request("token-a").send(&emu).await);
    assert_eq!(first.len(), 2);
    assert_eq!(first, again);
    assert_eq!(emu.emulator().instance_count(), 2);
    // Another token creates another set.
    let other = ids_of(&run_request("token-b").send(&emu).await);
    assert!(other.iter().all(|id| !first.contains(id)));
    assert_eq!(emu.emulator().instance_count(), 4);
    assert_eq!(emu.request_count("RunInstances"), 3);
}

#[tokio::test]
async fn client_token_makes_a_retry_after_a_lost_answer_safe_across_a_restart() {
    let dir = temp_dir();
    let path = dir.join("state.json");
    let emu = start(
        with_faults(FaultConfig {
            reset_after: 1.0,
            ..FaultConfig::default()
        })
        .with_state_file(&path),
    )
    .await;
    let lost = send(&emu, &http(), &run_request("token-lost")).await;
    assert!(lost.is_err(), "the answer is lost: {lost:?}");
    let created: Vec<String> = emu
        .state_snapshot()
        .instances
        .iter()
        .map(|s| s.instance.instance_id.clone())
        .collect();
    assert_eq!(created.len(), 2, "the instances were created");
    emu.shutdown().await;

    let emu = start(config().with_state_file(&path)).await;
    let mut retried = ids_of(&run_request("token-lost").send(&emu).await);
    retried.sort();
    let mut created = created;
    created.sort();
    assert_eq!(retried, created);
    assert_eq!(emu.emulator().instance_count(), 2, "the retry created nothing");
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn router_answers_an_injected_reset_with_a_bare_502() {
    use tower::ServiceExt;
    let emulator = Emulator::new(with_faults(FaultConfig {
        reset_before: 1.0,
        ..FaultConfig::default()
    }))
    .unwrap();
    let call = Call::post("DescribeInstances", json!({}));
    let mut request = axum::http::Request::post("/").header("host", "emulator.test");
    for (k, v) in call.headers("emulator.test") {
        request = request.header(k, v);
    }
    let response = emulator
        .router()
        .oneshot(request.body(axum::body::Body::from(call.body.clone())).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(emulator.fault_stats().reset_before, 1);
}

#[test]
fn library_refuses_bad_fault_configs() {
    for (faults, skew, expected) in [
        (
            FaultConfig {
                request_limit_exceeded: 1.5,
                ..FaultConfig::default()
            },
            0,
            "between 0.0 and 1.0",
        ),
        (
            FaultConfig {
                reset_before: 0.7,
                reset_after: 0.7,
                ..FaultConfig::default()
            },
            0,
            "add up to",
        ),
        (FaultConfig::default(), 20 * 365 * 86_400, "ten years"),
    ] {
        let err = Emulator::new(config().with_faults(faults).with_clock_skew(skew))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn cli_injects_faults_and_refuses_bad_probabilities() {
    // Out of range: a clear error, exit status 2 (usage), nothing served.
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--fault-throttle", "1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--fault-throttle") && stderr.contains("between 0.0 and 1.0"),
        "{stderr}"
    );
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--fault-reset-before", "0.6"])
        .args(["--fault-reset-after", "0.6"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("add up to"), "{stderr}");

    // Served: every request throttled, the clock an hour ahead.
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--transition-ms",
            "0",
        ])
        .args(["--fault-throttle", "1", "--clock-skew", "3600", "--seed", "9"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    let host = url.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (throttled, expired) = runtime.block_on(async {
        let send = |call: Call| {
            let url = url.clone();
            let host = host.clone();
            async move {
                let mut req = http().post(format!("{url}/")).body(call.body.clone());
                for (k, v) in call.headers(&host) {
                    req = req.header(k, v);
                }
                let body = req.send().await.unwrap().bytes().await.unwrap();
                common::envelope(&body)
            }
        };
        let fresh = Call {
            timestamp: now() + 3600,
            ..Call::post("DescribeInstances", json!({}))
        };
        (
            send(fresh).await,
            send(Call::post("DescribeInstances", json!({}))).await,
        )
    });
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr);
    assert_eq!(code(&throttled), "RequestLimitExceeded", "{throttled}");
    assert_eq!(code(&expired), "AuthFailure.SignatureExpire", "{expired}");
    assert!(stderr.contains("seed 9"), "{stderr}");
}
