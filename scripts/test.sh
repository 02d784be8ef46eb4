#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): formatting, lints, generated-code
# freshness, every test (including the ones against the official API
# description and the official Python SDK, and each benchmark run once in test
# mode), and the doc tests.
#
# Everything builds in the dev/test profile: the benchmarks too, since a
# release build only matters when measuring (`cargo bench`). The test steps
# select the same packages, hence the same dependency features, so
# dependencies are built once for all of them. Each step prints its wall and
# CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."

now_ms() {
    if [[ -n "${EPOCHREALTIME:-}" ]]; then
        local t=${EPOCHREALTIME/./}
        echo $((t / 1000))
    else # bash before 5 (macOS): whole seconds
        echo $(($(date +%s) * 1000))
    fi
}
# CPU time (user + system) of the finished child processes, in ms; 0 where
# /proc is missing. On a shared machine it says what a step costs when wall
# time says how busy the machine was.
tick=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ms() {
    local stat
    read -r -a stat </proc/$$/stat 2>/dev/null || { echo 0; return; }
    echo $(((stat[15] + stat[16]) * 1000 / tick))
}
secs() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

started=$(now_ms)
summary=()
current=""
step_started=0
step_cpu=0

finish_step() {
    [[ -n "$current" ]] || return 0
    local took=$(($(now_ms) - step_started)) cpu=$(($(cpu_ms) - step_cpu))
    summary+=("$(printf '%9s %14s  %s' "$(secs "$took")" "(CPU $(secs "$cpu"))" "$current")")
    printf '<== %s: %s (CPU %s)\n' "$current" "$(secs "$took")" "$(secs "$cpu")"
    current=""
}

step() {
    finish_step
    current="$*"
    step_started=$(now_ms)
    step_cpu=$(cpu_ms)
    printf '\n==> %s\n' "$current"
}

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 && -n "$current" ]]; then
        printf '\nFAILED: %s\n' "$current"
        current="$current: FAILED"
    fi
    finish_step
    printf '\n'
    printf '%s\n' ${summary[@]+"${summary[@]}"}
    printf '%9s %14s  total%s\n' "$(secs $(($(now_ms) - started)))" "(CPU $(secs "$(cpu_ms)"))" \
        "$([[ $rc -eq 0 ]] || echo ", FAILED")"
}
trap on_exit EXIT

step "cargo fmt --check"
cargo fmt --all --check

# Clippy rides along the build instead of a check-only pass of its own over
# the same code (which took a third of this script's time): clippy-driver
# compiles the workspace's crates as rustc does, running clippy's lints on the
# way, with warnings denied, as `cargo clippy -- -D warnings` does. Every
# target is covered: libraries, binaries, tests and examples by the tests
# step, benchmarks by theirs. Dependencies are built by plain rustc.
clippy_driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)
if [[ -z "$clippy_driver" ]]; then
    echo "clippy-driver not found: rustup component add clippy" >&2
    exit 1
fi
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
# One build from scratch (CI's case) gains nothing from incremental caches
# and pays for writing them; `cargo test` by hand keeps them.
export CARGO_INCREMENTAL=0
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

# What the tests compare against, fetched before them so that a first run
# says what it downloads (the tests would fetch it too, silently): the
# official descriptions (tccli's wheel) and error codes (the Python SDK), and
# the venv of the official Python SDK and tccli. Pinned, checked and cached
# under the target directory: later runs find them and print nothing.
step "official packages (PyPI, pinned; downloaded on the first run only)"
target_dir="${CARGO_TARGET_DIR:-target}"
python3 scripts/fetch-tccli.py "$target_dir/official" >/dev/null
python3 scripts/fetch-tccli.py --all "$target_dir/official" >/dev/null
python3 scripts/fetch-sdk-errorcodes.py "$target_dir/official" >/dev/null
python3 scripts/fetch-sdk-errorcodes.py --all "$target_dir/official" >/dev/null
scripts/python/setup-venv.sh >/dev/null

# The default targets: libraries, binaries, integration tests, and the
# examples built as programs (a test runs one as a user would).
step "tests (compiled by clippy-driver: lints denied)"
if cargo nextest --version >/dev/null 2>&1; then
    run_tests() { cargo nextest run --workspace --no-fail-fast "$@"; }
else
    echo "cargo-nextest not found: running the tests with cargo test instead" \
        "(cargo install cargo-nextest --locked for parallel, per-test output)"
    # (This also runs the doc tests, again in their own step below.)
    run_tests() { cargo test --workspace --no-fail-fast "$@"; }
fi
run_tests

# Same profile and features as the tests, so only the bench programs are
# compiled; criterion runs each benchmark once when not given --bench.
# (`--benches` would also rerun the unit tests: libraries count as benches.)
step "benchmarks, once each in test mode"
run_tests --bench '*'

# `cargo xtask regen --check` is a test: xtask/tests/spec.rs
# (`checked_in_generated_code_is_fresh`) runs the same check through the
# library, and checkouts.rs runs the binary's `regen --check`; a step of its
# own would build xtask a second time, in the dev profile.

# Every official service version (300 of 262 services) goes through import
# and validation in `xtask/tests/all_services.rs`, with the tests, and a fixed
# sample of them through generation; `cargo xtask exhaustive` (not run here:
# minutes) generates all 300 and decodes every example of the imported
# services.

# The imported service crates (services/*-api) are left out: generated
# whole, their one doc block is the ignored sketch of their actions macro
# (cvm-api's twin is kept, with cvm-api's runnable ones), and finding it
# makes rustdoc parse 10 MB of generated code: 20 of this step's 30 s.
step "doc tests"
generated_only=()
for dir in services/*-api; do
    generated_only+=(--exclude "$(basename "$dir")")
done
cargo test --workspace --doc --quiet "${generated_only[@]}"
