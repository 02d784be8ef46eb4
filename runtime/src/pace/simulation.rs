//! The pacer against a simulated server enforcing a quota with a token
//! bucket (as Tencent Cloud's gateway does): 32 calls in flight, 2,000
//! calls, one-way latency of 20 to 80 ms, throttled attempts retried as
//! the runtime's standard policy does (3 attempts, full-jitter backoff from
//! 1 s; a call that fails is made again), all in tokio's paused time. The
//! figures print with `--nocapture`.
//!
//! The backoff is written out here rather than taken from `retry.rs`, so
//! that the pacer, tests included, stays a leaf of the crate (its bench
//! mounts its source).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::*;

/// Attempts per call, as `RetryConfig::standard`.
const MAX_ATTEMPTS: u32 = 3;

/// `RetryConfig::standard`'s backoff before retry `retry` after throttling:
/// full jitter below 1 s × 2^(retry - 1), at most 20 s.
fn throttled_backoff(retry: u32) -> Duration {
    let ceiling = Duration::from_secs(1)
        .saturating_mul(1 << retry.saturating_sub(1).min(5))
        .min(Duration::from_secs(20));
    Duration::from_nanos(fastrand::u64(0..=ceiling.as_nanos() as u64))
}

const KEY: PaceKey<'static> = PaceKey {
    service: "cvm",
    action: "StartInstances",
    region: Some("ap-guangzhou"),
};
const CALLS: usize = 2_000;
const IN_FLIGHT: usize = 32;
/// Requests sent before this are the learning phase.
const SETTLED_AFTER: Duration = Duration::from_secs(10);

/// How the server counts its quota of `limit` requests a second.
#[derive(Clone, Copy, Debug)]
enum Counting {
    /// A token bucket holding `limit` tokens at most, refilled at `limit` a second.
    Bucket,
    /// At most `limit` requests in each second of its clock.
    FixedWindows,
}

struct Server {
    counting: Counting,
    limit: f64,
    tokens: f64,
    at: Instant,
    /// (second of the server's clock, requests admitted in it)
    window: (u64, u32),
    started: Instant,
}

impl Server {
    fn new(counting: Counting, limit: u32) -> Self {
        let now = Instant::now();
        Server {
            counting,
            limit: f64::from(limit),
            tokens: f64::from(limit),
            at: now,
            window: (0, 0),
            // Its seconds do not start with ours.
            started: now - Duration::from_millis(437),
        }
    }

    fn admit(&mut self, now: Instant) -> bool {
        match self.counting {
            Counting::Bucket => {
                let refill = (now - self.at).as_secs_f64() * self.limit;
                self.tokens = (self.tokens + refill).min(self.limit);
                self.at = now;
                let admitted = self.tokens >= 1.0;
                if admitted {
                    self.tokens -= 1.0;
                }
                admitted
            }
            Counting::FixedWindows => {
                let second = (now - self.started).as_secs();
                if self.window.0 != second {
                    self.window = (second, 0);
                }
                let admitted = f64::from(self.window.1) < self.limit;
                if admitted {
                    self.window.1 += 1;
                }
                admitted
            }
        }
    }
}

struct Scenario {
    name: String,
    config: RateLimitConfig,
    /// The action's documented limit, as generated code gives it.
    known: Option<u32>,
    /// What the server actually allows.
    server_limit: u32,
    seed: u64,
}

/// The server and the network, and what calls the program makes.
#[derive(Clone, Copy, Debug)]
struct World {
    counting: Counting,
    /// One-way latency, uniform in this range (milliseconds).
    latency_ms: (u64, u64),
    in_flight: u64,
    calls: usize,
}

/// The brief's world: a token bucket, 20 to 80 ms each way, 32 in flight,
/// 2,000 calls.
const WORLD: World = World {
    counting: Counting::Bucket,
    latency_ms: (20, 80),
    in_flight: IN_FLIGHT as u64,
    calls: CALLS,
};

#[derive(Debug)]
struct Report {
    requests: usize,
    throttled: usize,
    settled_requests: usize,
    settled_throttled: usize,
    failed_calls: usize,
    elapsed: Duration,
    ideal: Duration,
}

impl Report {
    fn throttled_share(&self) -> f64 {
        self.throttled as f64 / self.requests as f64
    }

    fn settled_share(&self) -> f64 {
        self.settled_throttled as f64 / self.settled_requests.max(1) as f64
    }

    fn time_ratio(&self) -> f64 {
        self.elapsed.as_secs_f64() / self.ideal.as_secs_f64()
    }
}

async fn simulate(scenario: &Scenario) -> Report {
    simulate_in(WORLD, scenario).await
}

async fn simulate_in(world: World, scenario: &Scenario) -> Report {
    fastrand::seed(scenario.seed);
    let pacer = Arc::new(Pacer::new(scenario.config.clone()));
    let server = Arc::new(Mutex::new(Server::new(world.counting, scenario.server_limit)));
    let next_call = Arc::new(AtomicUsize::new(0));
    // (sent after the start, admitted), and calls that ran out of attempts.
    let log = Arc::new(Mutex::new((Vec::new(), 0usize)));
    let t0 = Instant::now();
    let workers: Vec<_> = (0..world.in_flight)
        .map(|worker| {
            let (pacer, server, next_call, log) =
                (pacer.clone(), server.clone(), next_call.clone(), log.clone());
            let known = scenario.known;
            let mut rng = fastrand::Rng::with_seed(scenario.seed ^ (worker + 1).wrapping_mul(0x9e37_79b9));
            tokio::spawn(async move {
                let (fastest, slowest) = world.latency_ms;
                let mut latency = move || Duration::from_millis(rng.u64(fastest..=slowest));
                while next_call.fetch_add(1, Ordering::Relaxed) < world.calls {
                    for attempt in 1.. {
                        let permit = pacer
                            .acquire(KEY, known, &RateLimit::Default, None)
                            .await
                            .unwrap();
                        let sent = Instant::now() - t0;
                        tokio::time::sleep(latency()).await;
                        let admitted = server.lock().unwrap().admit(Instant::now());
                        tokio::time::sleep(latency()).await;
                        log.lock().unwrap().0.push((sent, admitted));
                        if admitted {
                            pacer.on_accepted(KEY, &permit);
                            break;
                        }
                        pacer.on_throttled(KEY, &permit);
                        // Three attempts a call; a failed call is made again.
                        let retry = (attempt - 1) % MAX_ATTEMPTS + 1;
                        if retry == MAX_ATTEMPTS {
                            log.lock().unwrap().1 += 1;
                        }
                        tokio::time::sleep(throttled_backoff(retry)).await;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = Instant::now() - t0;
    let (sends, failed_calls) = std::mem::take(&mut *log.lock().unwrap());
    let settled: Vec<_> = sends.iter().filter(|(at, _)| *at >= SETTLED_AFTER).collect();
    let report = Report {
        requests: sends.len(),
        throttled: sends.iter().filter(|(_, admitted)| !admitted).count(),
        settled_requests: settled.len(),
        settled_throttled: settled.iter().filter(|(_, admitted)| !admitted).count(),
        failed_calls,
        elapsed,
        ideal: Duration::from_secs_f64(world.calls as f64 / f64::from(scenario.server_limit)),
    };
    println!(
        "{} (seed {}): {} requests for {} calls, {} throttled ({:.2} %), {:.2} % of the {} sent after {} s; \
         {:.1} s, {:.3}x the ideal {:.0} s; {} calls out of attempts",
        scenario.name,
        scenario.seed,
        report.requests,
        world.calls,
        report.throttled,
        100.0 * report.throttled_share(),
        100.0 * report.settled_share(),
        report.settled_requests,
        SETTLED_AFTER.as_secs(),
        report.elapsed.as_secs_f64(),
        report.time_ratio(),
        report.ideal.as_secs_f64(),
        report.failed_calls,
    );
    report
}

const SEEDS: [u64; 3] = [1, 2, 3];

#[tokio::test(start_paused = true)]
async fn a_known_limit_is_paced_below_the_servers_bucket() {
    for seed in SEEDS {
        for (name, config) in [
            ("known 10/s, adaptive", RateLimitConfig::adaptive()),
            ("known 10/s, known limits only", RateLimitConfig::known_limits()),
        ] {
            let report = simulate(&Scenario {
                name: name.to_owned(),
                config,
                known: Some(10),
                server_limit: 10,
                seed,
            })
            .await;
            assert!(report.throttled_share() < 0.01, "{report:?}");
            assert!(report.time_ratio() <= 1.2, "{report:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_unknown_limit_is_learnt_and_settles_near_it() {
    for seed in SEEDS {
        let report = simulate(&Scenario {
            name: "unknown 10/s, learnt".to_owned(),
            config: RateLimitConfig::adaptive(),
            known: None,
            server_limit: 10,
            seed,
        })
        .await;
        assert!(report.settled_share() < 0.05, "{report:?}");
        assert!(report.time_ratio() <= 1.2, "{report:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_known_limit_shared_with_other_programs_is_learnt_lower() {
    // Documented 10/s, but other programs on the account use 4 of them.
    for seed in SEEDS {
        let report = simulate(&Scenario {
            name: "known 10/s, 6/s left, learnt".to_owned(),
            config: RateLimitConfig::adaptive(),
            known: Some(10),
            server_limit: 6,
            seed,
        })
        .await;
        assert!(report.settled_share() < 0.05, "{report:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn without_pacing_most_requests_are_throttled() {
    // The baseline the figures above compare with.
    let report = simulate(&Scenario {
        name: "unpaced".to_owned(),
        config: RateLimitConfig::off(),
        known: Some(10),
        server_limit: 10,
        seed: 1,
    })
    .await;
    assert!(report.throttled_share() > 0.3, "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn other_servers_networks_and_limits() {
    // A server counting per second of its own clock, latency 20 to 300 ms
    // each way; limits of 1 and 100 a second; 200 calls in flight.
    let fixed = World {
        counting: Counting::FixedWindows,
        latency_ms: (20, 300),
        ..WORLD
    };
    let worlds = [
        ("fixed windows, 20-300 ms", fixed, 10),
        (
            "fixed windows, 20-300 ms",
            World {
                calls: 5_000,
                ..fixed
            },
            100,
        ),
        ("1/s", World { calls: 400, ..WORLD }, 1),
        (
            "200 in flight",
            World {
                in_flight: 200,
                calls: 5_000,
                ..WORLD
            },
            100,
        ),
    ];
    for (name, world, limit) in worlds {
        let known = simulate_in(
            world,
            &Scenario {
                name: format!("{name}, known {limit}/s"),
                config: RateLimitConfig::adaptive(),
                known: Some(limit),
                server_limit: limit,
                seed: 1,
            },
        )
        .await;
        assert!(known.throttled_share() < 0.01, "{name}: {known:?}");
        assert!(known.time_ratio() <= 1.2, "{name}: {known:?}");
        let learnt = simulate_in(
            world,
            &Scenario {
                name: format!("{name}, unknown {limit}/s, learnt"),
                config: RateLimitConfig::adaptive(),
                known: None,
                server_limit: limit,
                seed: 1,
            },
        )
        .await;
        assert!(learnt.settled_share() < 0.05, "{name}: {learnt:?}");
    }
}

/// What a run of [`under_a_changing_server`] saw in its measured window.
#[derive(Debug)]
struct Window {
    /// Requests admitted per second.
    admitted: f64,
    /// Share of the requests sent that were throttled.
    throttled: f64,
}

/// `in_flight` calls at a time, for `measured.end`, against a server (a bucket)
/// whose limit is `limit(t)` requests a second, `None` while it throttles
/// everything (a storm: another program draining the account's quota, a
/// gateway having a bad moment); what was sent in `measured`.
async fn under_a_changing_server(
    in_flight: u64,
    known: Option<u32>,
    limit: impl Fn(Duration) -> Option<u32> + Send + Sync + 'static,
    measured: std::ops::Range<Duration>,
) -> Window {
    fastrand::seed(7);
    let limit = Arc::new(limit);
    let pacer = Arc::new(Pacer::new(RateLimitConfig::adaptive()));
    let first = limit(Duration::ZERO).unwrap_or(1);
    let server = Arc::new(Mutex::new(Server::new(Counting::Bucket, first)));
    // (admitted, throttled) among the requests sent in the window.
    let counts = Arc::new(Mutex::new((0usize, 0usize)));
    let t0 = Instant::now();
    let end = t0 + measured.end;
    let workers: Vec<_> = (0..in_flight)
        .map(|worker| {
            let (pacer, server, counts, limit) =
                (pacer.clone(), server.clone(), counts.clone(), limit.clone());
            let measured = measured.clone();
            let mut rng = fastrand::Rng::with_seed(worker + 1);
            tokio::spawn(async move {
                let mut retry = 0;
                while Instant::now() < end {
                    let permit = pacer
                        .acquire(KEY, known, &RateLimit::Default, None)
                        .await
                        .unwrap();
                    let sent = Instant::now() - t0;
                    tokio::time::sleep(Duration::from_millis(rng.u64(20..=80))).await;
                    let admitted = match limit(Instant::now() - t0) {
                        None => false,
                        Some(now_limit) => {
                            let mut server = server.lock().unwrap();
                            server.limit = f64::from(now_limit);
                            server.admit(Instant::now())
                        }
                    };
                    tokio::time::sleep(Duration::from_millis(rng.u64(20..=80))).await;
                    if measured.contains(&sent) {
                        let mut counts = counts.lock().unwrap();
                        match admitted {
                            true => counts.0 += 1,
                            false => counts.1 += 1,
                        }
                    }
                    if admitted {
                        pacer.on_accepted(KEY, &permit);
                        retry = 0;
                    } else {
                        pacer.on_throttled(KEY, &permit);
                        retry = retry % MAX_ATTEMPTS + 1;
                        tokio::time::sleep(throttled_backoff(retry)).await;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let (admitted, throttled) = *counts.lock().unwrap();
    let window = Window {
        admitted: admitted as f64 / (measured.end - measured.start).as_secs_f64(),
        throttled: throttled as f64 / (admitted + throttled).max(1) as f64,
    };
    println!("{in_flight} in flight, known {known:?}, over {measured:?}: {window:?}");
    window
}

const S: fn(u64) -> Duration = Duration::from_secs;

/// 20 a second, but nothing from 20 s to 23 s.
fn three_second_storm(t: Duration) -> Option<u32> {
    (!(S(20)..S(23)).contains(&t)).then_some(20)
}

// Finding (high), fixed: a few seconds of throttling pinned the action at
// the learnt floor (0.5/s) for as long as the program kept calling it.
// Each throttle of the storm counted the last second's accepted answers,
// which fall to none, so the estimate reached the floor; and the probe
// upward was capped by "what the calls use", twice the last second's
// accepted answers, which at a pace under one a second is 0 or 1 when a
// turn is computed: the cap never rose. Half an hour later: 0.50/s of 20.
// A pace kept busy is in use, however slow; and after such a collapse the
// probe climbs at the slope of the recent peak, not of the floor.
#[tokio::test(start_paused = true)]
async fn a_throttle_storm_does_not_pin_an_action_at_the_floor() {
    for known in [None, Some(20)] {
        let later =
            under_a_changing_server(IN_FLIGHT as u64, known, three_second_storm, S(600)..S(630)).await;
        assert!(
            later.admitted >= 0.7 * 20.0,
            "ten minutes after a 3 s storm: {later:?}"
        );
        assert!(later.throttled < 0.05, "{later:?}");
    }
}

// Finding (medium), open: even so, two minutes after a 3 s storm the pace
// is still well below the limit. The first throttle after the climb back
// estimates the limit from the answers accepted since the storm's last
// cut, the average over the whole climb (about half the limit), not the
// rate at its top, and the climb then restarts from there at that
// estimate's slope. Recovering in seconds (as TCP does after a loss, up to
// the rate before it) needs a change to how an estimate is made after a
// collapse, and new simulations to hold it to.
#[tokio::test(start_paused = true)]
#[ignore = "finding: after a 3 s throttle storm the learnt pace takes minutes to come back near the limit (13/s of 20 two minutes later): the estimate at the first throttle after the climb is the climb's average"]
async fn a_short_throttle_storm_does_not_slow_an_action_for_long() {
    for known in [None, Some(20)] {
        let soon = under_a_changing_server(IN_FLIGHT as u64, known, three_second_storm, S(143)..S(153)).await;
        assert!(
            soon.admitted >= 0.7 * 20.0,
            "two minutes after a 3 s storm: {soon:?}"
        );
    }
}

// Held with the fix above: when the quota really drops (another program
// starts using most of it), the pace follows it down, and the faster climb
// after a collapse does not keep it throttling.
#[tokio::test(start_paused = true)]
async fn a_quota_that_drops_for_good_is_followed_down() {
    let dropped = |t: Duration| Some(if t < S(30) { 20 } else { 6 });
    for known in [None, Some(20)] {
        let settled = under_a_changing_server(IN_FLIGHT as u64, known, dropped, S(90)..S(390)).await;
        assert!(settled.throttled < 0.05, "{settled:?}");
        assert!(settled.admitted >= 0.8 * 6.0, "{settled:?}");
    }
}

// Finding (medium), open: the same slow climb after a single throttle.
// A program whose first request of an action is throttled (the account's
// quota busy with other programs at that moment) with nothing else in
// flight estimates the limit from the last second's accepted answers,
// none: the floor, 0.5/s. Its climb is 1 % of that floor a second: a
// minute later it still sends under one request a second to a server that
// takes ten. A first estimate from so few answers is no estimate; a probe
// that grows by a share of itself until the next throttle (TCP's slow
// start) would find the limit in seconds.
#[tokio::test(start_paused = true)]
#[ignore = "finding: one throttle of a lone first request paces the action at 0.5/s, climbing 0.005/s each second (under 1/s a minute later, with 10/s allowed)"]
async fn one_early_throttle_does_not_pace_an_action_at_the_floor_for_minutes() {
    let busy_at_first = |t: Duration| (t >= Duration::from_millis(100)).then_some(10);
    let later = under_a_changing_server(2, None, busy_at_first, S(60)..S(70)).await;
    assert!(later.admitted >= 5.0, "a minute after one throttle: {later:?}");
}
