#!/usr/bin/env python3
"""tcloud and the official tccli, side by side: wall time and peak RSS of
one `cvm DescribeInstances` against a local emulator, median of N runs each.

Usage (from the workspace root, after
`cargo build --release -p tencentcloud-cli -p cvm-emulator` and
`scripts/python/setup-venv.sh`):

    python3 scripts/cli-vs-tccli.py [--runs 20]

The two programs run alternately, so that whatever else the machine is doing
weighs on both alike. Peak RSS is what GNU time (/usr/bin/time, Debian's
`time` package) reports: a child spawned straight from Python would count
Python's own pages, which Linux carries into the child's peak across exec.
Each run gets the same fresh home directory, where tccli keeps its configure
file and log. Both print the same answer: the script checks that first.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_ID = "AKIDEMULATOR000000000000000000000000"
SECRET_KEY = "emulator-demo-secret-key"
REGION = "ap-guangzhou"


def run(argv, env):
    """One untimed run; its stdout."""
    done = subprocess.run(argv, env=env, capture_output=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    return done.stdout


GNU_TIME = "/usr/bin/time"


def measured(argv, env):
    """One run: wall seconds and peak RSS in KiB."""
    started = time.perf_counter()
    done = subprocess.run([GNU_TIME, "-f", "maxrss %M", *argv], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    last = done.stderr.decode().strip().splitlines()[-1]
    return wall, int(last.split()[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tcloud", default=os.path.join(ROOT, "target/release/tcloud"))
    parser.add_argument("--tccli", default=os.path.join(ROOT, "target/py-venv/bin/tccli"))
    parser.add_argument("--emulator", default=os.path.join(ROOT, "target/release/cvm-emulator"))
    args = parser.parse_args()
    for path in (args.tcloud, args.tccli, args.emulator, GNU_TIME):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path}: not built (see the usage)")

    emulator = subprocess.Popen(
        [args.emulator, "--listen", "127.0.0.1:0", "--rate-limit", "0", "--transition-ms", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    home = tempfile.mkdtemp(prefix="cli-vs-tccli-")
    try:
        line = emulator.stdout.readline()
        match = re.search(r"http://\S+", line)
        if not match:
            sys.exit(f"the emulator did not say where it listens: {line!r}")
        endpoint = match.group(0)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "LANG": "C.UTF-8", "NO_PROXY": "127.0.0.1"}
        common = ["--region", REGION, "--endpoint", endpoint, "--secretId", SECRET_ID, "--secretKey", SECRET_KEY]
        seed = [args.tcloud, "cvm", "RunInstances", "--ImageId", "img-pmqg1cw7",
                "--Placement", '{"Zone": "ap-guangzhou-3"}', "--InstanceCount", "3"] + common
        run(seed, env)
        tcloud = [args.tcloud, "cvm", "DescribeInstances"] + common
        tccli = [args.tccli, "cvm", "DescribeInstances"] + common

        # The same answer, RequestId aside (this run also warms tccli's caches).
        answers = [json.loads(run(argv, env)) for argv in (tccli, tcloud)]
        for answer in answers:
            answer.pop("RequestId", None)
        if answers[0] != answers[1]:
            sys.exit("tccli and tcloud printed different answers")

        samples = {"tcloud": [], "tccli": []}
        for _ in range(args.runs):
            samples["tcloud"].append(measured(tcloud, env))
            samples["tccli"].append(measured(tccli, env))
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)

    med = {name: (statistics.median(w for w, _ in s), statistics.median(r for _, r in s))
           for name, s in samples.items()}
    print(f"cvm DescribeInstances (3 instances) against the emulator, median of {args.runs} runs each:")
    print(f"{'':8} {'wall':>10} {'peak RSS':>10}")
    for name, (wall, rss) in med.items():
        print(f"{name:8} {wall * 1000:8.1f} ms {rss / 1024:7.1f} MB")
    wall_ratio = med["tccli"][0] / med["tcloud"][0]
    rss_ratio = med["tccli"][1] / med["tcloud"][1]
    print(f"tcloud is {wall_ratio:.0f}x faster and uses {rss_ratio:.1f}x less memory")
    print(f"tcloud binary: {os.path.getsize(args.tcloud) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
