//! What a cached temporary credential costs per attempt: `provide()` of a
//! fixed `Credentials` (a clone, the baseline) against a warm
//! `RefreshingProvider` (a mutex, a clock read, a clone), alone and with 16
//! threads asking at once. Same run, side by side.
//!
//! ```text
//! cargo bench -p tencentcloud-runtime --bench credentials -- --warm-up-time 1 --measurement-time 3
//! ```

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tencentcloud_runtime::credentials::RefreshingProvider;
use tencentcloud_runtime::{Credentials, ProvideCredentials, SecretKey};

/// Calls per measured iteration.
const BATCH: u64 = 1024;
const THREADS: usize = 16;

/// Polls a future that is expected to be ready at once (both providers
/// answer from memory on this path).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the warm path must not wait"),
    }
}

fn temporary() -> Credentials {
    Credentials::new("AKIDbench", SecretKey::new("bench-key"))
        .with_session_token("bench-token")
        .with_expiry(SystemTime::now() + Duration::from_secs(7200))
}

fn provide_batch(provider: &dyn ProvideCredentials) {
    for _ in 0..BATCH {
        let credentials = ready(provider.provide()).expect("credentials");
        std::hint::black_box(credentials);
    }
}

fn bench(c: &mut Criterion) {
    let fixed: Arc<dyn ProvideCredentials> = Arc::new(temporary());
    let cached: Arc<dyn ProvideCredentials> = Arc::new(RefreshingProvider::new(temporary()));
    // Warm the cache: the first call fetches.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(cached.provide()).unwrap();

    let mut group = c.benchmark_group("provide");
    group.throughput(Throughput::Elements(BATCH));
    for (name, provider) in [("fixed", &fixed), ("refreshing_warm", &cached)] {
        group.bench_function(format!("{name}/1_thread"), |b| {
            b.iter(|| provide_batch(provider.as_ref()))
        });
    }
    group.throughput(Throughput::Elements(BATCH * THREADS as u64));
    for (name, provider) in [("fixed", &fixed), ("refreshing_warm", &cached)] {
        group.bench_function(format!("{name}/{THREADS}_threads"), |b| {
            b.iter(|| {
                std::thread::scope(|scope| {
                    for _ in 0..THREADS {
                        scope.spawn(|| provide_batch(provider.as_ref()));
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
