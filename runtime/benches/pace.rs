//! What client-side rate limiting costs a call when it does not bind: the
//! pacer's `acquire` for an action that is neither known nor throttled
//! (one lock, one keyed hash, one lookup), then `on_accepted` (the same and
//! a clock read), and `acquire` for a known limit far above the calls
//! (the paced path's fast turn), each against a bare uncontended
//! `std::sync::Mutex` lock. After criterion's groups, a paired comparison
//! alternates batches of each against the bare lock and prints the ratios.
//!
//! The pacer is crate-private and imports nothing of the crate but its
//! bounded table (`keyed`, a leaf), so the bench mounts both sources as they
//! are.
//!
//! ```text
//! cargo bench -p tencentcloud-runtime --bench pace -- --warm-up-time 1 --measurement-time 3
//! ```

// Only part of it is used here; under `clippy --all-targets` its tests
// modules are compiled without their tests.
#[allow(dead_code)]
#[path = "../src/keyed.rs"]
mod keyed;
#[allow(dead_code, unused_imports)]
#[path = "../src/pace/mod.rs"]
mod pace;

use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pace::{PaceKey, Pacer, RateLimit, RateLimitConfig};

/// Operations per measured iteration.
const BATCH: u64 = 1024;
/// Alternated batches per comparison.
const PAIRED_ROUNDS: usize = 200;

const KEY: PaceKey<'static> = PaceKey {
    service: "cvm",
    action: "DescribeInstancesStatus",
    region: Some("ap-guangzhou"),
};

/// Polls a future that must be ready at once (a turn that does not wait).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("a limit that does not bind must not wait"),
    }
}

fn bare_lock(lock: &Mutex<u64>) {
    for _ in 0..BATCH {
        *lock.lock().unwrap() += 1;
    }
    std::hint::black_box(lock);
}

fn acquire(pacer: &Pacer, known: Option<u32>) {
    for _ in 0..BATCH {
        let permit = ready(pacer.acquire(KEY, known, &RateLimit::Default, None)).expect("no deadline");
        std::hint::black_box(permit);
    }
}

fn acquire_and_accept(pacer: &Pacer) {
    for _ in 0..BATCH {
        let permit = ready(pacer.acquire(KEY, None, &RateLimit::Default, None)).expect("no deadline");
        pacer.on_accepted(KEY, &permit);
    }
}

fn bench(c: &mut Criterion) {
    let lock = Mutex::new(0u64);
    let pacer = Pacer::new(RateLimitConfig::adaptive());
    let cases: [(&str, &dyn Fn()); 4] = [
        ("bare_mutex_lock", &|| bare_lock(&lock)),
        ("acquire_unknown_unthrottled", &|| acquire(&pacer, None)),
        ("acquire_and_on_accepted_unknown", &|| acquire_and_accept(&pacer)),
        ("acquire_known_not_binding", &|| acquire(&pacer, Some(u32::MAX))),
    ];
    let mut group = c.benchmark_group("pace");
    group.throughput(Throughput::Elements(BATCH));
    for (name, run) in cases {
        group.bench_function(name, |b| b.iter(run));
    }
    group.finish();

    // As in the pipeline bench: only when measuring (`--bench`), not when
    // listing or in test mode.
    let args: Vec<String> = std::env::args().collect();
    let measuring = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    if !measuring {
        return;
    }
    let (_, bare) = cases[0];
    for (name, run) in &cases[1..] {
        let mut ratios = Vec::with_capacity(PAIRED_ROUNDS);
        let (mut bare_time, mut run_time) = (Duration::ZERO, Duration::ZERO);
        for round in 0..PAIRED_ROUNDS {
            let (mut bare_round, mut run_round) = (Duration::ZERO, Duration::ZERO);
            for which in [round % 2, 1 - round % 2] {
                let started = Instant::now();
                if which == 0 {
                    bare();
                    bare_round = started.elapsed();
                } else {
                    run();
                    run_round = started.elapsed();
                }
            }
            bare_time += bare_round;
            run_time += run_round;
            ratios.push(run_round.as_secs_f64() / bare_round.as_secs_f64());
        }
        ratios.sort_by(f64::total_cmp);
        let ops = (PAIRED_ROUNDS as u64 * BATCH) as f64;
        println!(
            "paired, {PAIRED_ROUNDS} rounds of {BATCH}: bare lock {:.1} ns, {name} {:.1} ns; \
             {name}/bare: median {:.2}, quartiles {:.2}..{:.2}",
            bare_time.as_nanos() as f64 / ops,
            run_time.as_nanos() as f64 / ops,
            ratios[PAIRED_ROUNDS / 2],
            ratios[PAIRED_ROUNDS / 4],
            ratios[PAIRED_ROUNDS * 3 / 4],
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
