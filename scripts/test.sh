#!/usr/bin/env bash
# The whole check, as CI runs it: formatting, lints, generated-code freshness,
# every test (including the ones against the official API description and the
# official Python SDK), and benchmarks compiled but not run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo xtask regen --check"
cargo xtask regen --check

step "tests"
cargo nextest run --workspace --no-fail-fast

step "benchmarks compile (not run)"
cargo bench --workspace --no-run --quiet

step "doc tests"
cargo test --workspace --doc --quiet
