//! Throughput of the emulator driven by our own `cvm_api::Client` over
//! loopback, 16 calls in flight, beside a baseline: the same client against
//! a trivial axum server that answers a fixed success envelope without
//! verifying anything. The difference is the emulator's own cost (TC3
//! verification, decoding and checking the request, the state, the answer).
//!
//! Emulator: signature verification on (always), rate limit off, transition 0.
//! Each measured iteration is a batch of 512 calls made by 16 tasks; criterion
//! reports calls/s through `Throughput::Elements`.
//!
//! `emulator_state_file` is the same emulator keeping its state in a file
//! (under `target/tmp`, on disk): every StopInstances / StartInstances is
//! appended to the journal and flushed (fdatasync, shared by the calls
//! waiting at the same time) before it is answered. Reads write nothing.
//!
//! ```text
//! cargo bench -p cvm-emulator --bench emulator
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use cvm_api::{
    Client, Config, Credentials, DescribeInstancesStatusRequest, Endpoint, SecretKey, StartInstancesRequest,
    StopInstancesRequest,
};
use std::path::{Path, PathBuf};

use cvm_emulator::{Emulator, EmulatorConfig, RunningEmulator, State, StoredInstance};
use tokio::runtime::Runtime;

const REGION: &str = "ap-guangzhou";
const ZONE: &str = "ap-guangzhou-3";
const SECRET_ID: &str = "AKIDbench000000000000000000000000";
const SECRET_KEY: &str = "bench-secret-key-0f1e2d3c";
/// Calls in flight.
const IN_FLIGHT: usize = 16;
/// Calls per measured iteration (a multiple of 2 × IN_FLIGHT).
const BATCH: usize = 512;

/// Answers every request like a successful DescribeInstancesStatus (which
/// also decodes as a Start/Stop answer), checking nothing.
async fn fixed_envelope() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        r#"{"Response":{"TotalCount":1,"InstanceStatusSet":[{"InstanceId":"ins-bench000","InstanceState":"RUNNING"}],"RequestId":"00000000-0000-0000-0000-000000000000"}}"#,
    )
}

struct Target {
    client: Client,
    /// One instance per worker, RUNNING, touched by that worker only.
    instances: Vec<String>,
}

fn client_for(url: &str) -> Client {
    let config = Config::new(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
        .with_endpoint(Endpoint::custom(url).expect("endpoint"))
        .with_region(REGION)
        .with_timeout(Duration::from_secs(10))
        // The emulator's throughput, not the documented quotas: no pacing.
        .with_rate_limit(cvm_api::runtime::RateLimitConfig::off());
    Client::from_config(config).expect("client")
}

async fn start_emulator(state_file: Option<&Path>) -> (RunningEmulator, Target) {
    let mut seed = State::new();
    for _ in 0..IN_FLIGHT {
        seed = seed.with_instance(StoredInstance::with_random_id(ZONE, "RUNNING"));
    }
    let instances = seed
        .instances
        .iter()
        .map(|s| s.instance.instance_id.clone())
        .collect();
    let mut config = EmulatorConfig::default()
        .with_only_credential(SECRET_ID, SecretKey::new(SECRET_KEY))
        .with_transition(Duration::ZERO)
        .with_rate_limit(None)
        .with_state(seed);
    config.state_file = state_file.map(Path::to_owned);
    let emulator = Emulator::start(config, "127.0.0.1:0")
        .await
        .expect("emulator starts");
    let client = client_for(&emulator.endpoint_url());
    (emulator, Target { client, instances })
}

async fn start_baseline() -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new().fallback(fixed_envelope);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Target {
        client: client_for(&url),
        instances: (0..IN_FLIGHT).map(|i| format!("ins-bench{i:03}")).collect(),
    }
}

/// `BATCH` calls by `IN_FLIGHT` tasks; task `w` gets the target and its index.
async fn batch<F, Fut>(target: &Target, per_task: F)
where
    F: Fn(Client, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..IN_FLIGHT {
        tasks.spawn(per_task(target.client.clone(), target.instances[w].clone()));
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a bench task panicked");
    }
}

async fn describe_status(client: Client, instance: String) {
    let request = {
        let mut new_value = DescribeInstancesStatusRequest::default();
        new_value.instance_ids = Some(vec![instance]);
        new_value
    };
    for _ in 0..BATCH / IN_FLIGHT {
        let response = client
            .call(request.clone())
            .send()
            .await
            .expect("DescribeInstancesStatus succeeds");
        assert_eq!(response.total_count, 1);
    }
}

async fn stop_start(client: Client, instance: String) {
    let stop = {
        let mut new_value = StopInstancesRequest::default();
        new_value.instance_ids = vec![instance.clone()];
        new_value
    };
    let start = {
        let mut new_value = StartInstancesRequest::default();
        new_value.instance_ids = vec![instance];
        new_value
    };
    for _ in 0..BATCH / IN_FLIGHT / 2 {
        client
            .call(stop.clone())
            .send()
            .await
            .expect("StopInstances succeeds");
        client
            .call(start.clone())
            .send()
            .await
            .expect("StartInstances succeeds");
    }
}

fn measure<F, Fut>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &Runtime,
    name: &str,
    target: &Target,
    per_task: F,
) where
    F: Fn(Client, String) -> Fut + Copy,
    Fut: Future<Output = ()> + Send + 'static,
{
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    batch(target, per_task).await;
                }
                started.elapsed()
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (emulator, emulated) = rt.block_on(start_emulator(None));
    // A fresh state file on disk (not tmpfs): flushes cost what they cost.
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("emulator-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let state_file = dir.join("state.json");
    let (kept, kept_target) = rt.block_on(start_emulator(Some(&state_file)));
    let baseline = rt.block_on(start_baseline());

    let mut group = c.benchmark_group("describe_instances_status");
    group
        .throughput(Throughput::Elements(BATCH as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    measure(&mut group, &rt, "emulator", &emulated, describe_status);
    measure(
        &mut group,
        &rt,
        "emulator_state_file",
        &kept_target,
        describe_status,
    );
    measure(&mut group, &rt, "baseline", &baseline, describe_status);
    group.finish();

    let mut group = c.benchmark_group("stop_start");
    group
        .throughput(Throughput::Elements(BATCH as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    measure(&mut group, &rt, "emulator", &emulated, stop_start);
    measure(&mut group, &rt, "emulator_state_file", &kept_target, stop_start);
    measure(&mut group, &rt, "baseline", &baseline, stop_start);
    group.finish();

    // Every Stop was followed by its Start: all instances are RUNNING again.
    let state = rt.block_on(emulator.shutdown());
    assert!(state
        .instances
        .iter()
        .all(|i| i.instance.instance_state == "RUNNING"));
    let state = rt.block_on(kept.shutdown());
    assert!(state
        .instances
        .iter()
        .all(|i| i.instance.instance_state == "RUNNING"));
    assert_eq!(State::load(&state_file).expect("state file"), state);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
