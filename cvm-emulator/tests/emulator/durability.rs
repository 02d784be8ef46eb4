//! A state file keeps every acknowledged change, even across `kill -9`;
//! damaged journals are recovered or refused; one state file, one emulator.
//!
//! Most tests run the real binary (`Child::kill` is SIGKILL on Unix) on a
//! temporary directory, listening on 127.0.0.1 with instant transitions.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::common::{config, ZONE};
use cvm_api::types::*;
use cvm_api::{Client, Config, Credentials, Endpoint, SecretKey};
use cvm_emulator::{Emulator, StartError, State, StateError, DEMO_SECRET_ID, DEMO_SECRET_KEY};

const BIN: &str = env!("CARGO_BIN_EXE_cvm-emulator");
/// Bound on every wait for the binary.
const LIMIT: Duration = Duration::from_secs(20);

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cvm-emulator-durability-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn journal_of(state: &Path) -> PathBuf {
    PathBuf::from(format!("{}.journal", state.display()))
}

/// A serving binary, or how it ended.
pub(crate) enum Started {
    Serving(Server),
    Refused { status: ExitStatus, stderr: String },
}

pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    log: PathBuf,
}

impl Started {
    pub(crate) fn serving(self) -> Server {
        match self {
            Started::Serving(s) => s,
            Started::Refused { status, stderr } => panic!("refused to start ({status}): {stderr}"),
        }
    }

    fn refused(self) -> String {
        match self {
            Started::Serving(mut s) => {
                let _ = s.child.kill();
                panic!("started although it should not have: {}", s.url)
            }
            Started::Refused { status, stderr } => {
                assert!(!status.success(), "{stderr}");
                stderr
            }
        }
    }
}

/// Waits (bounded) for the child to exit; kills it on timeout.
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the binary on `state` (stderr to a log file beside it: a pipe
/// nobody reads could fill up and stall the server).
pub(crate) fn start(state: &Path, n: usize) -> Started {
    let log = state.with_extension(format!("log{n}"));
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--transition-ms",
            "0",
            "--rate-limit",
            "0",
        ])
        .arg("--state")
        .arg(state)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let Ok(line) = rx.recv_timeout(LIMIT) else {
        let _ = child.kill();
        panic!("no first line within {LIMIT:?}");
    };
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Started::Serving(Server {
            child,
            url: url.to_owned(),
            log,
        }),
        None => {
            let status = wait(&mut child);
            let stderr = std::fs::read_to_string(&log).unwrap();
            Started::Refused { status, stderr }
        }
    }
}

impl Server {
    fn client(&self) -> Client {
        Client::from_config(
            Config::new(Credentials::new(DEMO_SECRET_ID, SecretKey::new(DEMO_SECRET_KEY)))
                .with_endpoint(Endpoint::custom(&self.url).unwrap())
                .with_region("ap-guangzhou")
                .with_timeout(Duration::from_secs(10))
                // The emulator here enforces no rate limit: nor does the client.
                .with_rate_limit(cvm_api::runtime::RateLimitConfig::off()),
        )
        .unwrap()
    }

    /// SIGKILL: no shutdown code runs.
    pub(crate) fn kill_9(mut self) {
        self.child.kill().unwrap();
        wait(&mut self.child);
    }

    /// SIGTERM: a clean shutdown; its stderr.
    fn terminate(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = wait(&mut self.child);
        let stderr = std::fs::read_to_string(&self.log).unwrap();
        assert!(status.success(), "{status}: {stderr}");
        stderr
    }
}

/// A failing test leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn run_request(count: i64, token: Option<&str>) -> RunInstancesRequest {
    let mut request = RunInstancesRequest::new()
        .set_placement(Placement::new().set_zone(ZONE))
        .set_image_id("img-9qabwvbn")
        .set_instance_count(count)
        .set_internet_accessible(InternetAccessible::new().set_internet_max_bandwidth_out(1));
    request.client_token = token.map(str::to_owned);
    request
}

/// Every instance of the region, every member, in order.
async fn describe_all(client: &Client) -> Vec<Instance> {
    let mut out = Vec::new();
    loop {
        let page = client
            .call({
                let mut new_value = DescribeInstancesRequest::default();
                new_value.offset = Some(out.len() as i64);
                new_value.limit = Some(100);
                new_value
            })
            .send()
            .await
            .unwrap();
        let done = page.instance_set.is_empty();
        out.extend(page.instance_set);
        if done || out.len() as i64 >= page.total_count {
            return out;
        }
    }
}

#[tokio::test]
async fn kill_9_keeps_every_acknowledged_change() {
    let dir = temp_dir();
    let state = dir.join("state.json");
    let server = start(&state, 1).serving();
    let c = server.client();

    let a = c
        .call((run_request(3, Some("token-a"))).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let b = c
        .call((run_request(2, None)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    c.call({
        let mut new_value = StopInstancesRequest::default();
        new_value.instance_ids = vec![a[0].clone(), b[0].clone()];
        new_value.stopped_mode = Some("STOP_CHARGING".into());
        new_value
    })
    .send()
    .await
    .unwrap();
    c.call({
        let mut new_value = TerminateInstancesRequest::default();
        new_value.instance_ids = vec![a[1].clone()];
        new_value
    })
    .send()
    .await
    .unwrap();
    c.call({
        let mut new_value = StartInstancesRequest::default();
        new_value.instance_ids = vec![b[0].clone()];
        new_value
    })
    .send()
    .await
    .unwrap();
    c.call({
        let mut new_value = RebootInstancesRequest::default();
        new_value.instance_ids = vec![b[1].clone()];
        new_value
    })
    .send()
    .await
    .unwrap();

    // Requests that change nothing write nothing.
    let journal = journal_of(&state);
    let before = std::fs::metadata(&journal).unwrap().len();
    assert!(before > 0, "the changes are in the journal");
    describe_all(&c).await;
    c.call({
        let mut new_value = StartInstancesRequest::default();
        new_value.instance_ids = vec![a[2].clone()];
        new_value
    })
    .send()
    .await
    .unwrap_err(); // RUNNING already
    c.call((run_request(3, Some("token-a"))).clone())
        .send()
        .await
        .unwrap(); // a retry
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), before);

    let seen = describe_all(&c).await;
    assert_eq!(seen.len(), 4);
    server.kill_9();

    let server = start(&state, 2).serving();
    let c = server.client();
    // Every member of every instance, nothing more, nothing less.
    assert_eq!(describe_all(&c).await, seen);
    // The ClientToken is kept too: the retry creates nothing.
    let again = c
        .call((run_request(3, Some("token-a"))).clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.instance_id_set, a);
    assert_eq!(describe_all(&c).await, seen);
    // Start-up folded the journal into the state file.
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 0);

    let stderr = server.terminate();
    assert!(stderr.contains("4 instance(s) kept in"), "{stderr}");
    let saved = State::load(&state).unwrap();
    assert_eq!(saved.instances.len(), 4);
    // `token-a`, and the one the client filled in for the call that had none.
    assert_eq!(saved.client_tokens.len(), 2);
    std::fs::remove_dir_all(dir).ok();
}

/// What a worker of the load test knows about one instance.
#[derive(Debug, Default)]
struct Known {
    /// State after the last acknowledged operation (`None`: terminated).
    acked: Option<&'static str>,
    /// State after an operation sent but never answered (the kill came
    /// first): the change may or may not have been made.
    maybe: Option<Option<&'static str>>,
}

#[tokio::test]
async fn kill_9_under_load_keeps_every_acknowledged_change() {
    const WORKERS: usize = 4;
    const ROUNDS: usize = 40;
    const KILL_AFTER_ACKS: usize = 120;
    let dir = temp_dir();
    let state = dir.join("state.json");
    let server = start(&state, 1).serving();
    let acks = Arc::new(AtomicUsize::new(0));

    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let c = server.client();
        let acks = Arc::clone(&acks);
        workers.push(tokio::spawn(async move {
            let mut known: HashMap<String, Known> = HashMap::new();
            // The token of a RunInstances never answered.
            let mut unanswered_run = None;
            'rounds: for n in 0..ROUNDS {
                let token = format!("w{w}-{n}");
                let id = match c.call((run_request(1, Some(&token))).clone()).send().await {
                    Ok(r) => r.instance_id_set[0].clone(),
                    Err(_) => {
                        unanswered_run = Some(token);
                        break;
                    }
                };
                acks.fetch_add(1, Ordering::Relaxed);
                known.insert(
                    id.clone(),
                    Known {
                        acked: Some("RUNNING"),
                        maybe: None,
                    },
                );
                let stop = {
                    let mut new_value = StopInstancesRequest::default();
                    new_value.instance_ids = vec![id.clone()];
                    new_value
                };
                let start = {
                    let mut new_value = StartInstancesRequest::default();
                    new_value.instance_ids = vec![id.clone()];
                    new_value
                };
                let terminate = {
                    let mut new_value = TerminateInstancesRequest::default();
                    new_value.instance_ids = vec![id.clone()];
                    new_value
                };
                let mut steps: Vec<(&str, Option<&'static str>)> =
                    vec![("stop", Some("STOPPED")), ("start", Some("RUNNING"))];
                if n % 2 == 0 {
                    steps.push(("terminate", None));
                }
                for (op, after) in steps {
                    let result = match op {
                        "stop" => c.call(stop.clone()).send().await.map(drop).map_err(drop),
                        "start" => c.call(start.clone()).send().await.map(drop).map_err(drop),
                        _ => c.call(terminate.clone()).send().await.map(drop).map_err(drop),
                    };
                    let entry = known.get_mut(&id).unwrap();
                    match result {
                        Ok(()) => {
                            entry.acked = after;
                            acks.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(()) => {
                            entry.maybe = Some(after);
                            break 'rounds;
                        }
                    }
                }
            }
            (known, unanswered_run)
        }));
    }
    // Kill while the workers are busy.
    let deadline = Instant::now() + LIMIT;
    while acks.load(Ordering::Relaxed) < KILL_AFTER_ACKS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill_9();
    let mut known = HashMap::new();
    let mut tokens = Vec::new();
    for w in workers {
        let (k, token) = tokio::time::timeout(LIMIT, w).await.unwrap().unwrap();
        known.extend(k);
        tokens.extend(token);
    }
    assert!(
        acks.load(Ordering::Relaxed) >= KILL_AFTER_ACKS / 2,
        "too few acknowledged changes to be a test"
    );

    let server = start(&state, 2).serving();
    let c = server.client();
    let now: HashMap<String, String> = describe_all(&c)
        .await
        .into_iter()
        .map(|i| (i.instance_id, i.instance_state.to_string()))
        .collect();
    for (id, k) in &known {
        let found = now.get(id).map(String::as_str);
        let allowed = found == k.acked || k.maybe.is_some_and(|m| found == m);
        assert!(allowed, "{id}: {found:?}, acknowledged {k:?}");
    }
    // Anything else can only come from a RunInstances never answered: its
    // retry names it (and created nothing if it was made).
    let mut extra: HashSet<&String> = now.keys().filter(|id| !known.contains_key(*id)).collect();
    for token in &tokens {
        let r = c
            .call((run_request(1, Some(token))).clone())
            .send()
            .await
            .unwrap();
        for id in &r.instance_id_set {
            extra.remove(id);
        }
    }
    assert!(extra.is_empty(), "instances nobody created: {extra:?}");
    server.terminate();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn torn_last_record_is_dropped_and_the_rest_recovered() {
    let dir = temp_dir();
    let state = dir.join("state.json");
    let server = start(&state, 1).serving();
    let c = server.client();
    let a = c
        .call((run_request(2, None)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    c.call({
        let mut new_value = StopInstancesRequest::default();
        new_value.instance_ids = vec![a[0].clone()];
        new_value
    })
    .send()
    .await
    .unwrap();
    let seen = describe_all(&c).await;
    server.kill_9();

    // A crash in the middle of appending one more record: half a line.
    let journal = journal_of(&state);
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let last = text.lines().last().unwrap();
    let mut torn = text.clone();
    torn.push_str(&last[..last.len() / 2]);
    std::fs::write(&journal, &torn).unwrap();

    let server = start(&state, 2).serving();
    assert_eq!(describe_all(&server.client()).await, seen);
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("torn last record"), "{log}");
    assert!(log.contains("line=3"), "{log}");
    server.terminate();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn damaged_middle_record_is_refused_naming_file_and_line() {
    let dir = temp_dir();
    let state = dir.join("state.json");
    let server = start(&state, 1).serving();
    let c = server.client();
    let a = c
        .call((run_request(1, None)).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let stop = {
        let mut new_value = StopInstancesRequest::default();
        new_value.instance_ids = a.clone();
        new_value
    };
    c.call(stop.clone()).send().await.unwrap();
    c.call({
        let mut new_value = StartInstancesRequest::default();
        new_value.instance_ids = a;
        new_value
    })
    .send()
    .await
    .unwrap();
    server.kill_9();

    // One byte of the second record changed; it is still valid JSON.
    let journal = journal_of(&state);
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let damaged = format!(
        "{}\n{}\n{}\n",
        lines[0],
        lines[1].replacen("\"STOPPED\"", "\"STOPPEX\"", 1),
        lines[2]
    );
    assert_ne!(damaged, text);
    std::fs::write(&journal, &damaged).unwrap();
    let snapshot = std::fs::read(&state).unwrap();

    let stderr = start(&state, 2).refused();
    assert!(
        stderr.contains(&format!("{}, line 2", journal.display())),
        "{stderr}"
    );
    assert!(stderr.contains("checksum"), "{stderr}");
    // Both files as they were.
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), damaged);
    assert_eq!(std::fs::read(&state).unwrap(), snapshot);
    std::fs::remove_dir_all(dir).ok();
}

/// The library keeps state the same way: in-process emulators on one file.
#[tokio::test]
async fn library_state_file_lock_and_compaction() {
    let dir = temp_dir();
    let path = dir.join("lib.json");
    let mut cfg = config().with_state_file(&path);
    // Small: the journal is folded into the state file every few changes.
    cfg.journal_limit_bytes = 4096;
    let emu = Emulator::start(cfg.clone(), "127.0.0.1:0").await.unwrap();
    let c = emu.client("ap-guangzhou").unwrap();
    let a = c
        .call((run_request(2, Some("lib"))).clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let journal = journal_of(&path);
    let mut largest = 0;
    for _ in 0..10 {
        let req = {
            let mut new_value = StopInstancesRequest::default();
            new_value.instance_ids = a.clone();
            new_value
        };
        c.call(req.clone()).send().await.unwrap();
        c.call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = a.clone();
            new_value
        })
        .send()
        .await
        .unwrap();
        largest = largest.max(std::fs::metadata(&journal).unwrap().len());
    }
    // Bounded by the limit plus one record.
    assert!(largest < 4096 + 4096, "journal grew to {largest} bytes");

    // The lock holds while the emulator lives, and names it.
    let err = Emulator::new(config().with_state_file(&path)).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, StartError::State(StateError::Locked { .. })),
        "{text}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains(&format!("pid {}, {}", std::process::id(), emu.endpoint_url())),
        "{text}"
    );

    let before = emu.shutdown().await;
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 0);
    assert_eq!(State::load(&path).unwrap(), before);

    // An existing file and a seed: which one? Refused.
    let err = Emulator::new(config().with_state_file(&path).with_state(State::new())).unwrap_err();
    assert!(err.to_string().contains("initial state"), "{err}");

    let emu = Emulator::start(cfg, "127.0.0.1:0").await.unwrap();
    assert_eq!(emu.state_snapshot(), before);
    emu.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}
