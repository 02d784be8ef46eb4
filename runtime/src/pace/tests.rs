//! The pacer on tokio's paused clock: every wait is simulated time, so no
//! test depends on how fast the machine is.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::*;

const CVM: &str = "cvm";
const START: &str = "StartInstances";
const GUANGZHOU: Option<&str> = Some("ap-guangzhou");

fn key(action: &str) -> PaceKey<'_> {
    PaceKey {
        service: CVM,
        action,
        region: GUANGZHOU,
    }
}

fn in_region(region: Option<&str>) -> PaceKey<'_> {
    PaceKey {
        service: CVM,
        action: START,
        region,
    }
}

/// Takes a turn of `StartInstances` (known limit `known`) in a task, which
/// reports when it got it.
fn spawn_turn(pacer: &Arc<Pacer>, known: Option<u32>) -> tokio::task::JoinHandle<Instant> {
    let pacer = Arc::clone(pacer);
    tokio::spawn(async move {
        pacer
            .acquire(key(START), known, &RateLimit::Default, None)
            .await
            .expect("no deadline");
        Instant::now()
    })
}

/// Lets the spawned tasks run up to their first wait, in spawn order.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

fn waiting(pacer: &Pacer, key: PaceKey<'_>) -> u32 {
    pacer.lock().get_mut(key.names()).map_or(0, |state| state.waiting)
}

fn deadline_in(d: Duration) -> Option<std::time::Instant> {
    Some((Instant::now() + d).into_std())
}

#[tokio::test(start_paused = true)]
async fn turns_at_a_known_limit_are_first_come_first_served_and_below_it_each_second() {
    let pacer = Arc::new(Pacer::new(RateLimitConfig::adaptive()));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        tasks.push(spawn_turn(&pacer, Some(10)));
        // Each queues before the next is made.
        settle().await;
    }
    let mut granted = Vec::new();
    for task in tasks {
        granted.push(task.await.unwrap());
    }
    // In the order asked, one 1/9 s apart (90 % of 10/s).
    let interval = Duration::from_secs(1) / 9;
    // (Timers fire on the millisecond: a turn is up to that late, and the
    // next one is not pushed back by it.)
    for pair in granted.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap + WAKE_LATENESS >= interval, "{gap:?}");
        assert!(gap <= interval + WAKE_LATENESS, "{gap:?}");
    }
    assert!(
        granted[49] - granted[0] <= interval * 49 + WAKE_LATENESS,
        "no drift"
    );
    // Counted per simulated second: never above the limit, 9 a second.
    let mut per_second = [0u32; 6];
    for at in &granted {
        per_second[(*at - t0).as_secs() as usize] += 1;
    }
    assert_eq!(per_second[..5], [9, 9, 9, 9, 9], "{per_second:?}");
    // Any window of one second, not only the aligned ones.
    for (i, at) in granted.iter().enumerate() {
        let within = granted[i..]
            .iter()
            .take_while(|t| **t - *at < Duration::from_secs(1))
            .count();
        assert!(within <= 10, "{within} turns in the second from {:?}", *at - t0);
    }
    assert_eq!(waiting(&pacer, key(START)), 0);
}

#[tokio::test(start_paused = true)]
async fn a_high_limit_allows_a_burst_after_an_idle_spell() {
    let pacer = Pacer::new(RateLimitConfig::adaptive());
    // 100/s: paced at 90/s, a burst of 10, so no second holds more than 100.
    let t0 = Instant::now();
    for _ in 0..10 {
        pacer
            .acquire(key(START), Some(100), &RateLimit::Default, None)
            .await
            .unwrap();
    }
    assert_eq!(Instant::now(), t0, "the burst waits for nothing");
    let permit = pacer
        .acquire(key(START), Some(100), &RateLimit::Default, None)
        .await
        .unwrap();
    assert!(permit.waited() > Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t1 = Instant::now();
    for _ in 0..10 {
        pacer
            .acquire(key(START), Some(100), &RateLimit::Default, None)
            .await
            .unwrap();
    }
    assert_eq!(Instant::now(), t1, "the burst is back after a second idle");
    // A limit of 10/s or less has no burst: 1 + 9 a second ≤ 10.
    pacer
        .acquire(key("RunInstances"), Some(10), &RateLimit::Default, None)
        .await
        .unwrap();
    let permit = pacer
        .acquire(key("RunInstances"), Some(10), &RateLimit::Default, None)
        .await
        .unwrap();
    assert!(
        permit.waited() >= Duration::from_millis(111),
        "{:?}",
        permit.waited()
    );
}

#[tokio::test(start_paused = true)]
async fn a_turn_past_the_deadline_is_refused_at_once_with_the_wait_it_needed() {
    let pacer = Arc::new(Pacer::new(RateLimitConfig::adaptive()));
    let first = spawn_turn(&pacer, Some(10));
    settle().await;
    first.await.unwrap();
    let queued: Vec<_> = (0..4).map(|_| spawn_turn(&pacer, Some(10))).collect::<Vec<_>>();
    settle().await;
    assert_eq!(waiting(&pacer, key(START)), 4);

    let asked = Instant::now();
    let refused = pacer
        .acquire(
            key(START),
            Some(10),
            &RateLimit::Default,
            deadline_in(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert_eq!(Instant::now(), asked, "refused without waiting");
    // Four queued ahead after the next turn in 1/9 s: five intervals.
    let five = (Duration::from_secs(1) / 9) * 5;
    assert!(
        refused.would_wait.abs_diff(five) < Duration::from_millis(2),
        "{refused:?}"
    );
    assert!((refused.per_second - 9.0).abs() < 1e-9);
    let message = refused.to_string();
    assert!(
        message.contains("9.0 requests/s") && message.contains("555 ms"),
        "{message}"
    );
    assert_eq!(waiting(&pacer, key(START)), 4, "the refused call left no trace");

    // With room before the deadline, it waits its turn.
    let permit = pacer
        .acquire(
            key(START),
            Some(10),
            &RateLimit::Default,
            deadline_in(Duration::from_secs(1)),
        )
        .await
        .unwrap();
    assert!(
        permit.waited().abs_diff(five) < Duration::from_millis(2),
        "{permit:?}"
    );
    for task in queued {
        task.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn cancelled_waiters_do_not_wedge_the_queue() {
    let pacer = Arc::new(Pacer::new(RateLimitConfig::adaptive()));
    spawn_turn(&pacer, Some(10)).await.unwrap();
    let t0 = Instant::now();
    // The next in line (sleeping until its turn), then two queued behind.
    let head = spawn_turn(&pacer, Some(10));
    settle().await;
    let middle = spawn_turn(&pacer, Some(10));
    settle().await;
    let last = spawn_turn(&pacer, Some(10));
    settle().await;
    assert_eq!(waiting(&pacer, key(START)), 3);
    head.abort();
    middle.abort();
    settle().await;
    assert_eq!(waiting(&pacer, key(START)), 1);
    let at = last.await.unwrap();
    // The cancelled ones' turns were not taken: the last goes one interval
    // after the turn before them.
    assert!(
        at - t0 <= Duration::from_secs(1) / 9 + Duration::from_millis(1),
        "{:?}",
        at - t0
    );
    assert_eq!(waiting(&pacer, key(START)), 0);

    // A call given up at its deadline while queued leaves the queue too.
    for _ in 0..3 {
        spawn_turn(&pacer, Some(10));
    }
    settle().await;
    let give_up = pacer.acquire(key(START), Some(10), &RateLimit::Default, None);
    let timed_out = tokio::time::timeout(Duration::from_millis(50), give_up).await;
    assert!(timed_out.is_err());
    let permit = pacer
        .acquire(key(START), Some(10), &RateLimit::Default, None)
        .await
        .unwrap();
    assert!(permit.waited() > Duration::ZERO);
    assert_eq!(waiting(&pacer, key(START)), 0);
}

async fn turn(pacer: &Pacer, key: PaceKey<'_>, known: Option<u32>) -> Permit {
    pacer
        .acquire(key, known, &RateLimit::Default, None)
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn each_action_and_region_has_its_own_turns() {
    let pacer = Pacer::new(RateLimitConfig::adaptive());
    let t0 = Instant::now();
    let lighthouse = PaceKey {
        service: "lighthouse",
        action: START,
        region: GUANGZHOU,
    };
    for key in [
        in_region(GUANGZHOU),
        in_region(Some("ap-beijing")),
        in_region(None),
        key("StopInstances"),
        lighthouse,
    ] {
        turn(&pacer, key, Some(1)).await;
    }
    assert_eq!(Instant::now(), t0, "five keys, a first turn each");
    let again = turn(&pacer, in_region(GUANGZHOU), Some(1)).await;
    assert!(again.waited() >= Duration::from_millis(1_111), "{again:?}");
    assert_eq!(pacer.tracked_keys(), 5);
}

#[tokio::test(start_paused = true)]
async fn off_and_zero_mean_not_paced_and_huge_limits_saturate() {
    let t0 = Instant::now();
    let off = Pacer::new(RateLimitConfig::off());
    let known = Pacer::new(RateLimitConfig::known_limits().with_action_limit(CVM, START, 0));
    let adaptive = Pacer::new(RateLimitConfig::adaptive());
    for _ in 0..100 {
        off.acquire(key(START), Some(1), &RateLimit::Default, None)
            .await
            .unwrap();
        // An action limit of 0 turns pacing off for that action.
        known
            .acquire(key(START), Some(1), &RateLimit::Default, None)
            .await
            .unwrap();
        // A documented 0 is no limit; the call's own 0 is off.
        adaptive
            .acquire(key("A"), Some(0), &RateLimit::Default, None)
            .await
            .unwrap();
        adaptive
            .acquire(key("B"), Some(1), &RateLimit::Off, None)
            .await
            .unwrap();
        adaptive
            .acquire(key("C"), Some(1), &RateLimit::PerSecond(0), None)
            .await
            .unwrap();
        adaptive
            .acquire(key("D"), None, &RateLimit::PerSecond(u32::MAX), None)
            .await
            .unwrap();
    }
    assert_eq!(Instant::now(), t0);
    // Known limits only, none known: not even tracked.
    assert_eq!(known.tracked_keys(), 0);
    assert_eq!(off.tracked_keys(), 0);
    // The call's own limit applies even when the client's pacing is off.
    off.acquire(key(START), None, &RateLimit::PerSecond(2), None)
        .await
        .unwrap();
    let permit = off
        .acquire(key(START), None, &RateLimit::PerSecond(2), None)
        .await
        .unwrap();
    assert!(permit.waited() >= Duration::from_millis(555), "{permit:?}");
    // And the configuration's limit wins over the documented one.
    let raised = Pacer::new(RateLimitConfig::adaptive().with_action_limit(CVM, START, 100));
    let t1 = Instant::now();
    for _ in 0..10 {
        turn(&raised, key(START), Some(1)).await;
    }
    assert_eq!(Instant::now(), t1);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_action_is_paced_only_once_throttled_and_only_once_per_decrease() {
    let pacer = Pacer::new(RateLimitConfig::adaptive());
    let t0 = Instant::now();
    let mut permits = Vec::new();
    for _ in 0..32 {
        permits.push(
            pacer
                .acquire(key(START), None, &RateLimit::Default, None)
                .await
                .unwrap(),
        );
    }
    assert_eq!(Instant::now(), t0, "not paced before any throttling");
    // Ten accepted, 22 throttled, answers interleaved: one decrease only.
    for (i, permit) in permits.iter().enumerate() {
        match i % 3 == 0 && i < 30 {
            true => pacer.on_accepted(key(START), permit),
            false => pacer.on_throttled(key(START), permit),
        }
    }
    let generation = pacer
        .lock()
        .get_mut(key(START).names())
        .unwrap()
        .learner
        .generation();
    assert_eq!(generation, 1);
    // Paced now near what was accepted (10 in the last second), backed off.
    let first = pacer
        .acquire(key(START), None, &RateLimit::Default, None)
        .await
        .unwrap();
    let second = pacer
        .acquire(key(START), None, &RateLimit::Default, None)
        .await
        .unwrap();
    let interval = second.waited().max(first.waited());
    assert!(
        interval >= Duration::from_millis(105) && interval <= Duration::from_millis(115),
        "{interval:?}"
    );
    // Known limits only: throttling teaches nothing.
    let known = Pacer::new(RateLimitConfig::known_limits());
    let permit = known
        .acquire(key(START), Some(10), &RateLimit::Default, None)
        .await
        .unwrap();
    known.on_throttled(key(START), &permit);
    assert_eq!(
        known
            .lock()
            .get_mut(key(START).names())
            .unwrap()
            .learner
            .generation(),
        0
    );
}

#[tokio::test(start_paused = true)]
async fn hostile_action_names_cannot_grow_the_key_map() {
    let pacer = Arc::new(Pacer::with_capacity(RateLimitConfig::adaptive(), 64));
    // A key with calls waiting is never forgotten.
    let busy = spawn_turn(&pacer, Some(1));
    settle().await;
    let queued = spawn_turn(&pacer, Some(1));
    settle().await;
    for i in 0..10_000 {
        let action = format!("Action{i}\u{202e}{}", "x".repeat(i % 300));
        let key = key(&action);
        let permit = pacer.acquire(key, None, &RateLimit::Default, None).await.unwrap();
        pacer.on_throttled(key, &permit);
        pacer.on_accepted(key, &permit);
        assert!(pacer.tracked_keys() <= 64);
    }
    assert_eq!(waiting(&pacer, key(START)), 1);
    busy.await.unwrap();
    queued.await.unwrap();
    assert_eq!(waiting(&pacer, key(START)), 0);
}

#[tokio::test(start_paused = true)]
async fn a_wait_is_reported_as_a_debug_event() {
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    // `tracing` caches per call site whether anyone listens: another test
    // thread, without a subscriber, may have reached this one's call sites
    // first (runtime/tests/retry_trace.rs is alone in its binary for this).
    tracing::callsite::rebuild_interest_cache();
    let pacer = Pacer::new(RateLimitConfig::adaptive());
    pacer
        .acquire(key(START), Some(10), &RateLimit::Default, None)
        .await
        .unwrap();
    pacer
        .acquire(key(START), Some(10), &RateLimit::Default, None)
        .await
        .unwrap();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("waited for the action's turn"))
        .unwrap_or_default();
    for field in [
        "service=\"cvm\"",
        "action=\"StartInstances\"",
        "region=\"ap-guangzhou\"",
        "waited_ms=11",
    ] {
        assert!(line.contains(field), "{field} in {text}");
    }
}
