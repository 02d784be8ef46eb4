//! The binary's `--instances N` (start with N STOPPED instances), how it
//! combines with `--state FILE` (a new file only: restarts never add
//! instances), and `--fault-seed` with its old name `--seed`.

use crate::common;
use crate::common::binary::{self, refused, stop, Served, BIN};

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("cvm-emulator-seeding-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Starts the binary as a user would, with no rate limit and instant
/// transitions, plus `args`.
fn serve(args: &[&str]) -> Served {
    let mut all = vec!["--rate-limit", "0", "--transition-ms", "0"];
    all.extend(args);
    binary::serve(&all)
}

/// A signed CVM call (demo credential, region ap-guangzhou): its `Response`.
async fn call(served: &Served, action: &str, body: Value) -> Value {
    let request = common::Call::post(action, body);
    let host = served.url.strip_prefix("http://").unwrap();
    let mut http = common::http()
        .post(format!("{}/", served.url))
        .body(request.body.clone());
    for (name, value) in request.headers(host) {
        http = http.header(name, value);
    }
    let answer = http.send().await.expect("request answered");
    assert_eq!(answer.status(), 200);
    let response = common::envelope(&answer.bytes().await.unwrap());
    assert_eq!(common::code(&response), "", "{action}: {response}");
    response
}

/// DescribeInstances' (id, state) of every instance of ap-guangzhou,
/// oldest first, checking that each is in ap-guangzhou-3.
async fn instances(served: &Served) -> Vec<(String, String)> {
    let response = call(served, "DescribeInstances", json!({"Limit": 100})).await;
    let set = response["InstanceSet"].as_array().expect("InstanceSet");
    assert_eq!(response["TotalCount"], set.len(), "{response}");
    set.iter()
        .map(|i| {
            assert_eq!(i["Placement"]["Zone"], common::ZONE, "{i}");
            (
                i["InstanceId"].as_str().unwrap().to_owned(),
                i["InstanceState"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn ids(listed: &[(String, String)]) -> Vec<String> {
    listed.iter().map(|(id, _)| id.clone()).collect()
}

fn all_stopped(listed: &[(String, String)]) -> bool {
    listed.iter().all(|(_, state)| state == "STOPPED")
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test]
async fn instances_flag_starts_with_n_stopped_instances() {
    let served = serve(&["--instances", "3"]);
    let listed = instances(&served).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(all_stopped(&listed), "{listed:?}");
    // They are real instances: they start.
    call(&served, "StartInstances", json!({"InstanceIds": [listed[0].0]})).await;
    assert_eq!(instances(&served).await[0].1, "RUNNING");
    let stderr = stop(served);
    let line = format!("seeded 3 STOPPED instance(s) in {}: ", common::ZONE);
    assert_eq!(stderr.matches(&line).count(), 1, "{stderr}");
    for id in ids(&listed) {
        assert!(stderr.contains(&id), "{id}: {stderr}");
    }
    assert!(stderr.contains(", 3 instance(s); Ctrl-C to stop"), "{stderr}");

    // None asked for: none, as before.
    let served = serve(&[]);
    assert!(instances(&served).await.is_empty());
    let stderr = stop(served);
    assert!(!stderr.contains("seeded"), "{stderr}");
}

#[tokio::test]
async fn instances_seed_a_new_state_file_once_and_restarts_keep_it() {
    let dir = TempDir::new();
    let file = dir.0.join("state.json");
    let journal = dir.0.join("state.json.journal");
    let args = ["--instances", "3", "--state", arg(&file)];

    // First start: the file is new, so it is seeded and written at start.
    let served = serve(&args);
    let first = instances(&served).await;
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(all_stopped(&first), "{first:?}");
    assert_eq!(cvm_emulator::State::load(&file).unwrap().instances.len(), 3);
    call(&served, "StartInstances", json!({"InstanceIds": [first[1].0]})).await;
    let stderr = stop(served);
    assert!(stderr.contains("seeded 3 STOPPED instance(s)"), "{stderr}");

    // The same command line again: the file is kept as it is, nothing added.
    let served = serve(&args);
    let again = instances(&served).await;
    assert_eq!(ids(&again), ids(&first), "restart added or lost instances");
    assert_eq!(
        again[1].1, "RUNNING",
        "the change made before the restart is kept"
    );
    let stderr = stop(served);
    assert!(!stderr.contains("seeded"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--instances 3 ignored: {} already exists and is kept as it is (3 instance(s))",
            file.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("delete it and"), "{stderr}");

    // A file holding no instance is kept as well: its owner may have
    // terminated them, and a restart must not bring any back.
    let empty = dir.0.join("empty.json");
    stop(serve(&["--state", arg(&empty)]));
    let served = serve(&["--instances", "2", "--state", arg(&empty)]);
    assert!(instances(&served).await.is_empty());
    let stderr = stop(served);
    assert!(stderr.contains("--instances 2 ignored"), "{stderr}");

    // Reset as --help says: delete the file and its journal; seeded anew.
    std::fs::remove_file(&file).unwrap();
    std::fs::remove_file(&journal).ok();
    let served = serve(&args);
    let fresh = instances(&served).await;
    assert_eq!(fresh.len(), 3, "{fresh:?}");
    assert!(all_stopped(&fresh), "{fresh:?}");
    assert!(fresh.iter().all(|(id, _)| !ids(&first).contains(id)), "{fresh:?}");
    stop(served);
}

#[test]
fn instances_beyond_the_quota_or_before_demo_are_refused() {
    let max = cvm_emulator::EmulatorConfig::default().max_instances;
    let too_many = (max + 1).to_string();
    let stderr = refused(&["--instances", &too_many]);
    assert!(stderr.contains(&format!("quota of {max} instances")), "{stderr}");
    let stderr = refused(&["--instances", "-3"]);
    assert!(stderr.contains("-3"), "{stderr}");
    // The demo has its own --instances, after its name.
    let stderr = refused(&["--instances", "2", "demo"]);
    assert!(stderr.contains("cvm-emulator demo --instances N"), "{stderr}");
}

#[test]
fn fault_seed_and_its_old_name_seed_the_faults() {
    for flag in ["--fault-seed", "--seed"] {
        let served = serve(&[flag, "42", "--fault-throttle", "0.5"]);
        let stderr = stop(served);
        assert!(
            stderr.contains("seed 42 (replay with --fault-seed 42)"),
            "{flag}: {stderr}"
        );
        assert!(!stderr.contains("seeded"), "{flag}: {stderr}");
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--instances <N>"), "{help}");
    assert!(help.contains("--fault-seed <N>"), "{help}");
    assert!(help.contains("Seeding:"), "{help}");
}
