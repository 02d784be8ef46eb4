#!/usr/bin/env bash
# Creates (or reuses) a Python virtual environment with the official Tencent
# Cloud SDK pinned in scripts/python/requirements.txt.
#
# Usage: scripts/python/setup-venv.sh [DIR]    (default: <workspace>/target/py-venv,
#                                               or $CARGO_TARGET_DIR/py-venv)
#
# Idempotent: DIR/.requirements-stamp holds a hash of requirements.txt and of
# the interpreter; when it matches, nothing is installed and the script returns
# at once. Concurrent callers are serialised with flock(1) where available.
# The interpreter is $PYTHON if set, else python3. Prints DIR on stdout; every
# other message goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$here/../.." && pwd)"
requirements="$here/requirements.txt"
target_dir="${CARGO_TARGET_DIR:-$workspace/target}"
# A relative CARGO_TARGET_DIR is taken from the workspace root, as the tests do.
[[ "$target_dir" == /* ]] || target_dir="$workspace/$target_dir"
venv="${1:-$target_dir/py-venv}"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup-venv: '$python' not found: Python 3 (3.8 or newer) with the venv module is required" >&2
    exit 1
fi

mkdir -p "$(dirname "$venv")"
venv="$(cd "$(dirname "$venv")" && pwd)/$(basename "$venv")"
stamp="$venv/.requirements-stamp"

want="$(
    {
        cat "$requirements"
        "$python" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
)"

up_to_date() {
    [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]
}

if up_to_date; then
    echo "$venv"
    exit 0
fi

# Serialise concurrent setups (two test runners at once, say).
lock="$venv.lock"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    flock 9
    if up_to_date; then
        echo "$venv"
        exit 0
    fi
fi

echo "setup-venv: creating $venv" >&2
rm -f "$stamp"
"$python" -m venv --clear "$venv" >&2
# --no-deps: requirements.txt pins every package needed, transitive ones
# included (see there why not tccli's own list). --no-compile: tccli ships a
# module per service; compiling them all took 17 of 30 s, while Python
# compiles the few a run imports on first use.
"$venv/bin/python" -m pip install \
    --disable-pip-version-check --no-input --quiet --no-deps --no-compile \
    -r "$requirements" >&2
"$venv/bin/python" -c 'import tencentcloud.cvm.v20170312.cvm_client, tencentcloud.cbs.v20170312.cbs_client, tencentcloud.common.credential, tccli.main' >&2
[[ -x "$venv/bin/tccli" ]] || { echo "setup-venv: tccli was not installed" >&2; exit 1; }
echo "$want" >"$stamp"
echo "setup-venv: installed $(grep -c '==' "$requirements") pinned packages into $venv" >&2
echo "$venv"
