#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): formatting, lints, generated-code
# freshness, every test (including the ones against the official API
# description and the official Python SDK, and each benchmark run once in test
# mode), and the doc tests.
#
# Everything builds in the dev/test profile: the benchmarks too, since a
# release build only matters when measuring (`cargo bench`). The test steps
# select the same packages and targets, so dependencies are built once and
# shared; clippy's check artifacts cannot be shared with a build.
set -euo pipefail
cd "$(dirname "$0")/.."

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
secs() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

started=$(now_ms)
summary=()
current=""
step_started=0

finish_step() {
    [[ -n "$current" ]] || return 0
    local took=$(($(now_ms) - step_started))
    summary+=("$(printf '%8s  %s' "$(secs "$took")" "$current")")
    printf '<== %s: %s\n' "$current" "$(secs "$took")"
    current=""
}

step() {
    finish_step
    current="$*"
    step_started=$(now_ms)
    printf '\n==> %s\n' "$current"
}

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 && -n "$current" ]]; then
        printf '\nFAILED: %s (after %s)\n' "$current" "$(secs $(($(now_ms) - step_started)))"
        current=""
    fi
    finish_step
    printf '\n'
    printf '%s\n' "${summary[@]}"
    printf '%8s  total%s\n' "$(secs $(($(now_ms) - started)))" "$([[ $rc -eq 0 ]] || echo ", FAILED")"
}
trap on_exit EXIT

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "tests, benchmarks once in test mode"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --all-targets --no-fail-fast
else
    echo "cargo-nextest not found: running the tests with cargo test instead" \
        "(cargo install cargo-nextest --locked for parallel, per-test output)"
    cargo test --workspace --all-targets --no-fail-fast
fi

# After the tests, so xtask and its dependencies are already built.
step "cargo xtask regen --check"
cargo xtask regen --check

step "doc tests"
cargo test --workspace --doc --quiet
