#!/usr/bin/env python3
"""Fetch official API descriptions from the tccli wheel on PyPI.

Usage: fetch-tccli.py CACHE_DIR          the CVM description and examples
       fetch-tccli.py --all CACHE_DIR    every service's

Downloads tccli==3.1.189.1 once (pinned by version and SHA-256, cached as
CACHE_DIR/tccli-3.1.189.1.whl) and extracts from it, printing the directory
holding the result:
- CVM: tccli/services/cvm/v20170312/{api.json,examples.json} into
  CACHE_DIR/tccli-3.1.189.1;
- --all: every tccli/services/<service>/<version>/{api.json,examples.json}
  into CACHE_DIR/tccli-3.1.189.1-services/<service>/<version>/, and
  defaults.json there: each service's default version, the first of
  tccli/services/__init__.py's SERVICE_VERSIONS (read as a literal, not run).
A second call finds the cache and does nothing. Extraction goes through a
temporary directory and a rename, so concurrent callers never see a
half-written tree.
"""
import ast
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

VERSION = "3.1.189.1"
WHEEL = f"tccli-{VERSION}-py2.py3-none-any.whl"
WHEEL_SHA256 = "98ec6fdc56000f0947ae34d601bfb86e49824afe21f6deb03d1b259221bf871c"
MEMBERS = ["api.json", "examples.json"]
PREFIX = "tccli/services/cvm/v20170312/"
SERVICE_FILE = re.compile(r"^tccli/services/([a-z0-9]+)/(v[0-9]{8})/(api\.json|examples\.json)$")
COMPLETE = ".complete"


def progress(message: str) -> None:
    """On stderr (stdout carries the path): a download is the slow part of a first run."""
    print(f"fetch-tccli: {message}", file=sys.stderr, flush=True)


def wheel_path(cache: str) -> str:
    """The pinned wheel, downloaded once and checked every time."""
    path = os.path.join(cache, WHEEL)
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        progress(f"downloading tccli=={VERSION} from PyPI (once; cached as {path})")
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                 "--quiet", "-d", tmp, f"tccli=={VERSION}"],
                check=True,
            )
            os.replace(os.path.join(tmp, WHEEL), path)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != WHEEL_SHA256:
        os.remove(path)
        raise SystemExit(f"{WHEEL}: sha256 {digest}, expected {WHEEL_SHA256}")
    return path


def publish(staged: str, final: str, complete) -> None:
    try:
        os.rename(staged, final)
    except OSError:
        # Another caller got there first; theirs is identical.
        if not complete():
            raise


def cvm(cache: str) -> str:
    final = os.path.join(cache, f"tccli-{VERSION}")
    done = lambda: all(os.path.exists(os.path.join(final, m)) for m in MEMBERS)
    if done():
        return final
    wheel = wheel_path(cache)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        staged = os.path.join(tmp, "out")
        os.makedirs(staged)
        with zipfile.ZipFile(wheel) as z:
            for m in MEMBERS:
                with open(os.path.join(staged, m), "wb") as out:
                    out.write(z.read(PREFIX + m))
        publish(staged, final, done)
    return final


DEFAULTS = "defaults.json"


def default_versions(wheel: str) -> dict:
    """{service: "vYYYYMMDD"}: the version tccli calls when none is named."""
    with zipfile.ZipFile(wheel) as z:
        source = z.read("tccli/services/__init__.py").decode("utf-8")
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "SERVICE_VERSIONS" for t in node.targets):
            versions = ast.literal_eval(node.value)
            return {service: "v" + listed[0].replace("-", "") for service, listed in versions.items()}
    raise SystemExit("tccli/services/__init__.py: no SERVICE_VERSIONS")


def write_defaults(directory: str, wheel: str) -> None:
    path = os.path.join(directory, DEFAULTS)
    staged = path + f".{os.getpid()}.tmp"
    with open(staged, "w") as out:
        json.dump(default_versions(wheel), out, indent=1, sort_keys=True)
    os.replace(staged, path)


def every_service(cache: str) -> str:
    final = os.path.join(cache, f"tccli-{VERSION}-services")
    done = lambda: os.path.exists(os.path.join(final, COMPLETE))
    if done():
        # Caches made before defaults.json existed get it now.
        if not os.path.exists(os.path.join(final, DEFAULTS)):
            write_defaults(final, wheel_path(cache))
        return final
    wheel = wheel_path(cache)
    progress(f"extracting every service's description into {final}")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        staged = os.path.join(tmp, "out")
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                match = SERVICE_FILE.match(name)
                if not match:
                    continue
                service, version, member = match.groups()
                directory = os.path.join(staged, service, version)
                os.makedirs(directory, exist_ok=True)
                with open(os.path.join(directory, member), "wb") as out:
                    out.write(z.read(name))
        write_defaults(staged, wheel)
        open(os.path.join(staged, COMPLETE), "w").close()
        publish(staged, final, done)
    return final


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 1 and not args[0].startswith("-"):
        print(cvm(os.path.abspath(args[0])))
        return 0
    if len(args) == 2 and args[0] == "--all":
        print(every_service(os.path.abspath(args[1])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
