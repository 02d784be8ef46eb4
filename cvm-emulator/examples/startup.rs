//! Measures the emulator binary: time from spawn to the first successful
//! signed answer, memory (VmRSS / VmHWM from /proc) with many instances, and
//! peak memory while eight validly signed bodies of nearly 10 MiB arrive at
//! once, for several shapes of body.
//!
//! ```text
//! cargo build --release -p cvm-emulator
//! cargo run --release -p cvm-emulator --example startup -- [--bin PATH] [--runs N] [--instances N] [--only bodies]
//! ```
//!
//! `--bin` defaults to `target/release/cvm-emulator` (or under
//! `$CARGO_TARGET_DIR`). Every emulator started listens on 127.0.0.1 and is
//! killed at the end. Linux only for the memory figures (/proc).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cvm_api::{
    Client, Config, Credentials, DescribeInstancesRequest, DescribeInstancesStatusRequest, Endpoint,
    Placement, RunInstancesRequest, SecretKey,
};
use cvm_emulator::{State, StoredInstance};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SECRET_ID: &str = "AKIDstartup00000000000000000000000";
const SECRET_KEY: &str = "startup-secret-key-7a6b5c4d";
const REGION: &str = "ap-guangzhou";
const ZONE: &str = "ap-guangzhou-3";

struct Options {
    bin: PathBuf,
    runs: usize,
    instances: usize,
    /// Only the big-bodies measurement.
    only_bodies: bool,
}

fn options() -> Result<Options, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let mut o = Options {
        bin: target.join("release/cvm-emulator"),
        runs: 20,
        instances: 10_000,
        only_bodies: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--bin" => o.bin = PathBuf::from(value("--bin")?),
            "--runs" => o.runs = value("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--instances" => {
                o.instances = value("--instances")?
                    .parse()
                    .map_err(|e| format!("--instances: {e}"))?
            }
            "--only" => match value("--only")?.as_str() {
                "bodies" => o.only_bodies = true,
                other => return Err(format!("--only: unknown phase `{other}` (bodies)")),
            },
            "-h" | "--help" => {
                println!("usage: startup [--bin PATH] [--runs N] [--instances N] [--only bodies]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !o.bin.exists() {
        return Err(format!(
            "{} does not exist: run `cargo build --release -p cvm-emulator` first",
            o.bin.display()
        ));
    }
    if o.runs == 0 || !o.instances.is_multiple_of(100) {
        return Err("--runs must be at least 1 and --instances a multiple of 100".to_owned());
    }
    Ok(o)
}

fn client(url: &str) -> Client {
    let config = Config::new(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
        .with_endpoint(Endpoint::custom(url).expect("endpoint"))
        .with_region(REGION)
        .with_timeout(Duration::from_secs(30));
    Client::from_config(config).expect("client")
}

/// Spawns the emulator on a free loopback port; returns it and its URL (read
/// from its `listening on URL` line).
async fn spawn(bin: &PathBuf, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--transition-ms",
            "0",
        ])
        .args(["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the emulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next_line().await.expect("read the emulator's stdout") {
            Some(line) => {
                if let Some(url) = line.strip_prefix("listening on ") {
                    break url.trim().to_owned();
                }
            }
            None => panic!("the emulator exited before listening"),
        }
    };
    (child, url)
}

/// `VmRSS` and `VmHWM` of `pid`, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Spawn → first successful signed DescribeInstancesStatus, `runs` times.
async fn startup(o: &Options, extra: &[&str], label: &str) {
    let mut times = Vec::with_capacity(o.runs);
    for _ in 0..o.runs {
        let started = Instant::now();
        let (mut child, url) = spawn(&o.bin, extra).await;
        let c = client(&url);
        c.call((DescribeInstancesStatusRequest::default()).clone())
            .send()
            .await
            .expect("first signed call");
        times.push(started.elapsed());
        child.kill().await.ok();
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "startup to first signed answer ({label}, {} runs): min {:.1} ms, median {:.1} ms, max {:.1} ms",
        o.runs,
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

/// Bodies of nearly 10 MiB (the size limit), validly signed: (what, action, body).
fn big_bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    const SIZE: usize = 10 * 1024 * 1024 - 4096;
    let fill = |head: &str, item: &str, tail: &str| {
        let mut body = head.to_owned();
        let n = (SIZE - head.len() - tail.len()) / (item.len() + 1);
        body.push_str(&vec![item; n].join(","));
        body.push_str(tail);
        body.into_bytes()
    };
    let long = "a".repeat(SIZE - 100);
    vec![
        (
            "one long filter value",
            "DescribeInstances",
            format!("{{\"Filters\":[{{\"Name\":\"instance-name\",\"Values\":[\"{long}\"]}}]}}").into_bytes(),
        ),
        (
            "one long unknown member",
            "DescribeInstances",
            format!("{{\"Padding\":\"{long}\"}}").into_bytes(),
        ),
        (
            "a long member, a required one missing",
            "StartInstances",
            format!("{{\"Padding\":\"{long}\"}}").into_bytes(),
        ),
        (
            "many short ids",
            "DescribeInstances",
            fill("{\"InstanceIds\":[", "\"ins-00000000\"", "]}"),
        ),
        (
            "many zeros",
            "DescribeInstances",
            fill("{\"InstanceIds\":[", "0", "]}"),
        ),
    ]
}

/// Peak memory of a fresh emulator while `count` copies of each big body
/// are sent at once.
async fn bodies(o: &Options, count: usize) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http client");
    let signer = signer::Signer::new(SECRET_ID, SecretKey::new(SECRET_KEY));
    for (what, action, body) in big_bodies() {
        let (mut child, url) = spawn(&o.bin, &[]).await;
        let pid = child.id().expect("pid");
        client(&url)
            .call((DescribeInstancesStatusRequest::default()).clone())
            .send()
            .await
            .expect("first call");
        let (idle, _) = memory(pid);
        let host = url.trim_start_matches("http://").to_owned();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let authorization = signer.authorization(&signer::SigningRequest {
            method: "POST",
            host: &host,
            query: "",
            content_type: "application/json",
            payload: signer::Payload::Bytes(&body),
            service: "cvm",
            timestamp,
            action: Some(action),
        });
        let body = axum::body::Bytes::from(body);
        let started = Instant::now();
        let sends: Vec<_> = (0..count)
            .map(|_| {
                let request = http
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("Authorization", &authorization)
                    .header("X-TC-Action", action)
                    .header("X-TC-Version", "2017-03-12")
                    .header("X-TC-Region", REGION)
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
                    let v: serde_json::Value = serde_json::from_str(&answer).expect("JSON answer");
                    v["Response"]["Error"]["Code"].as_str().unwrap_or("OK").to_owned()
                })
            })
            .collect();
        let mut codes = Vec::new();
        for send in sends {
            codes.push(send.await.expect("task"));
        }
        codes.sort();
        codes.dedup();
        let (rss, hwm) = memory(pid);
        println!(
            "{count} x {:.1} MiB bodies ({what}, {action}) in {:.2?}: answers {}; VmHWM {} (idle VmRSS {}), VmRSS after {}",
            body.len() as f64 / 1048576.0,
            started.elapsed(),
            codes.join(", "),
            mib(hwm),
            mib(idle),
            mib(rss)
        );
        child.kill().await.ok();
    }
}

async fn run(o: Options) {
    println!("binary: {}", o.bin.display());
    if o.only_bodies {
        bodies(&o, 8).await;
        return;
    }
    startup(&o, &[], "empty state").await;

    // Memory with instances created through the API.
    let (mut child, url) = spawn(&o.bin, &[]).await;
    let pid = child.id().expect("pid");
    let c = client(&url);
    c.call((DescribeInstancesStatusRequest::default()).clone())
        .send()
        .await
        .expect("first call");
    let (rss, _) = memory(pid);
    println!("idle: VmRSS {}", mib(rss));
    let started = Instant::now();
    for _ in 0..o.instances / 100 {
        let request = {
            let mut new_value = RunInstancesRequest::default();
            new_value.placement = Some({
                let mut new_value = Placement::default();
                new_value.zone = ZONE.to_owned();
                new_value
            });
            new_value.image_id = Some("img-pmqg1cw7".to_owned());
            new_value.instance_type = Some("S5.MEDIUM2".to_owned());
            new_value.instance_count = Some(100);
            new_value
        };
        let response = c.call(request.clone()).send().await.expect("RunInstances");
        assert_eq!(response.instance_id_set.len(), 100);
    }
    let created = started.elapsed();
    let (rss, hwm) = memory(pid);
    println!(
        "{} instances created by {} RunInstances calls in {created:.2?}: VmRSS {}, VmHWM {}",
        o.instances,
        o.instances / 100,
        mib(rss),
        mib(hwm)
    );
    let started = Instant::now();
    let mut listed = 0;
    let mut offset = 0;
    loop {
        let page = c
            .call({
                let mut new_value = DescribeInstancesRequest::default();
                new_value.offset = Some(offset);
                new_value.limit = Some(100);
                new_value
            })
            .send()
            .await
            .expect("DescribeInstances");
        listed += page.instance_set.len();
        offset += page.instance_set.len() as i64;
        if page.instance_set.is_empty() || offset >= page.total_count {
            break;
        }
    }
    let (rss, hwm) = memory(pid);
    println!(
        "listed {listed} instances (DescribeInstances, 100 a page) in {:.2?}: VmRSS {}, VmHWM {}",
        started.elapsed(),
        mib(rss),
        mib(hwm)
    );
    assert_eq!(listed, o.instances);
    child.kill().await.ok();

    // The same number seeded from a --state file.
    let dir = std::env::temp_dir().join(format!("cvm-emulator-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("state.json");
    let mut state = State::new();
    for _ in 0..o.instances {
        state = state.with_instance(StoredInstance::with_random_id(ZONE, "RUNNING"));
    }
    // The other kinds too, at each one's quota in a region.
    state.resources = seeded_resources();
    state.save(&path).expect("write the state file");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let path_arg = path.to_string_lossy().into_owned();
    let extra = ["--state", path_arg.as_str()];
    let label = format!(
        "{} instances and {} other resources seeded from a {:.1} MiB --state file",
        o.instances,
        state.resources.len(),
        size as f64 / 1048576.0
    );
    startup(&o, &extra, &label).await;
    let (mut child, url) = spawn(&o.bin, &extra).await;
    let pid = child.id().expect("pid");
    client(&url)
        .call((DescribeInstancesStatusRequest::default()).clone())
        .send()
        .await
        .expect("first call");
    let (rss, hwm) = memory(pid);
    println!(
        "seeded with {} instances: VmRSS {}, VmHWM {}",
        state.instances.len(),
        mib(rss),
        mib(hwm)
    );
    child.kill().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
    bodies(&o, 8).await;
}

/// 100 key pairs, 20 VPCs, 100 subnets, 50 security groups with 20 rules
/// each, 20 addresses, 500 disks and 500 images: each kind at its quota in
/// one region.
fn seeded_resources() -> Vec<cvm_emulator::StoredResource> {
    use serde_json::json;
    let mut out = Vec::new();
    let mut add = |kind: &str, prefix: &str, n: usize, item: &dyn Fn(&str, usize) -> serde_json::Value| {
        for i in 0..n {
            let id = format!("{prefix}{i:08}");
            out.push(cvm_emulator::StoredResource {
                kind: kind.to_owned(),
                region: REGION.to_owned(),
                id: id.clone(),
                item: item(&id, i),
            });
        }
    };
    add(
        "KeyPair",
        "skey-",
        100,
        &|id, i| json!({"KeyId": id, "KeyName": format!("key{i}"), "ProjectId": 0}),
    );
    add(
        "Vpc",
        "vpc-",
        20,
        &|id, i| json!({"VpcId": id, "VpcName": format!("vpc{i}"), "CidrBlock": format!("10.{i}.0.0/16")}),
    );
    add("Subnet", "subnet-", 100, &|id, i| {
        json!({"SubnetId": id, "VpcId": format!("vpc-{:08}", i % 20), "Zone": ZONE,
               "CidrBlock": format!("10.{}.{}.0/24", i % 20, i / 20)})
    });
    add(
        "SecurityGroup",
        "sg-",
        50,
        &|id, i| json!({"SecurityGroupId": id, "SecurityGroupName": format!("sg{i}"), "ProjectId": "0"}),
    );
    add("SecurityGroupPolicySet", "sg-", 50, &|_, _| {
        let rule = json!({"Protocol": "TCP", "Port": "22", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"});
        json!({"Version": "1", "Ingress": vec![rule; 20], "Egress": []})
    });
    add(
        "Address",
        "eip-",
        20,
        &|id, i| json!({"AddressId": id, "AddressIp": format!("198.19.0.{}", i + 1), "AddressStatus": "UNBIND"}),
    );
    add("Disk", "disk-", 500, &|id, _| {
        json!({"DiskId": id, "DiskType": "CLOUD_PREMIUM", "DiskSize": 50, "DiskState": "UNATTACHED",
               "Placement": {"Zone": ZONE}})
    });
    add(
        "Image",
        "img-",
        500,
        &|id, i| json!({"ImageId": id, "ImageName": format!("image{i}"), "ImageType": "PRIVATE_IMAGE", "OsName": "TencentOS"}),
    );
    out
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(o));
}
