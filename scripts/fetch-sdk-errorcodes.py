#!/usr/bin/env python3
"""Fetch the CVM error codes file of the official Python SDK from PyPI.

Usage: fetch-sdk-errorcodes.py CACHE_DIR

Downloads tencentcloud-sdk-python-cvm==3.1.178 once (pinned by version and
SHA-256; the version scripts/python/requirements.txt installs), extracts
tencentcloud/cvm/v20170312/errorcodes.py into CACHE_DIR and prints the path of
the extracted file. `cargo xtask import` reads the codes from it (never its
comments, which are Chinese prose). A second call finds the cache and does
nothing. The extraction goes through a temporary directory and a rename, so
concurrent callers never see a half-written file.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "tencentcloud-sdk-python-cvm"
VERSION = "3.1.178"
WHEEL = f"tencentcloud_sdk_python_cvm-{VERSION}-py2.py3-none-any.whl"
WHEEL_SHA256 = "ab88f687f975ecf6780efb3f7e969b6a9edbca1aa04a7c2abd25f6706948ed87"
MEMBER = "tencentcloud/cvm/v20170312/errorcodes.py"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    cache = os.path.abspath(sys.argv[1])
    final = os.path.join(cache, f"{PACKAGE}-{VERSION}")
    extracted = os.path.join(final, "errorcodes.py")
    if os.path.exists(extracted):
        print(extracted)
        return 0
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
             "--quiet", "-d", tmp, f"{PACKAGE}=={VERSION}"],
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
            with open(os.path.join(staged, "errorcodes.py"), "wb") as out:
                out.write(z.read(MEMBER))
        try:
            os.rename(staged, final)
        except OSError:
            # Another caller got there first; theirs is identical.
            if not os.path.exists(extracted):
                raise
    print(extracted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
