#!/usr/bin/env python3
"""Drive a CVM endpoint (normally the local emulator) with the official
Tencent Cloud Python SDK, to show that it speaks the real protocol.

For each HTTP method (POST with a JSON body, GET with a form-encoded query;
both signed with TC3-HMAC-SHA256 by the SDK itself) it runs an instance
lifecycle and the error cases:

  RunInstances (2)  -> DescribeInstances until RUNNING
  StartInstances on RUNNING        -> UnsupportedOperation.InstanceStateRunning
  StopInstances     -> STOPPED;  StartInstances -> RUNNING
  RebootInstances   -> RUNNING;  DescribeInstancesStatus
  wrong secret key                 -> AuthFailure.SignatureFailure
  unknown secret id                -> AuthFailure.SecretIdNotFound
  malformed instance id            -> InvalidInstanceId.Malformed
  unknown instance id              -> InvalidInstanceId.NotFound
  TerminateInstances -> gone from DescribeInstances

and checks that every answer carries a request id, all of them distinct.

Usage:
  sdk_lifecycle.py [--endpoint HOST:PORT] [--secret-id ID] [--secret-key KEY]
                   [--region REGION] [--methods POST,GET] [--timeout SECONDS]

Each option falls back to an environment variable: CVM_ENDPOINT,
TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_REGION.
The endpoint may also be given as a URL (http://127.0.0.1:PORT); it is
always reached over plain HTTP.

Prints one line per check, stops at the first failure (exit status 1), and
ends with a summary line such as `python-sdk: 24 passed, 0 failed`.
"""

import argparse
import os
import re
import sys
import time
import uuid

try:
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client, models
except ImportError as e:  # pragma: no cover - environment problem
    print(f"python-sdk: cannot import the Tencent Cloud SDK ({e}); run scripts/python/setup-venv.sh "
          "and use its interpreter", file=sys.stderr)
    sys.exit(2)

INSTANCE_ID = re.compile(r"^ins-[a-z0-9]{8}$")
UNKNOWN_INSTANCE = "ins-zz000000"
MALFORMED_INSTANCE = "not-an-instance-id"


class CheckFailed(Exception):
    pass


class Run:
    """Counts checks, remembers request ids, stops at the first failure."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.request_ids = {}

    def ok(self, what):
        self.passed += 1
        print(f"ok {self.passed:3} - {what}", flush=True)

    def fail(self, what, detail):
        self.failed += 1
        raise CheckFailed(f"{what}: {detail}")

    def check(self, condition, what, detail=""):
        if condition:
            self.ok(what)
        else:
            self.fail(what, detail or "condition is false")

    def request_id(self, rid, context):
        """Every answer, success or error, must have a fresh request id."""
        if not isinstance(rid, str) or not rid:
            self.fail(context, f"answer has no RequestId (got {rid!r})")
        if rid in self.request_ids:
            self.fail(context, f"RequestId {rid} was already returned by {self.request_ids[rid]}")
        self.request_ids[rid] = context

    def summary(self):
        return f"python-sdk: {self.passed} passed, {self.failed} failed"


def make_client(endpoint, secret_id, secret_key, region, method):
    cred = credential.Credential(secret_id, secret_key)
    http = HttpProfile(endpoint=endpoint, protocol="http", reqMethod=method, reqTimeout=10)
    profile = ClientProfile(httpProfile=http, signMethod="TC3-HMAC-SHA256")
    return cvm_client.CvmClient(cred, region, profile)


def call(run, client, action, request, context):
    """Calls `action`; any SDK exception is a failure of `context`."""
    try:
        response = getattr(client, action)(request)
    except TencentCloudSDKException as e:
        run.fail(context, f"{action} failed: code={e.get_code()} message={e.get_message()} "
                          f"request_id={e.get_request_id()}")
    except Exception as e:  # transport errors, decoding errors, ...
        run.fail(context, f"{action} raised {type(e).__name__}: {e}")
    run.request_id(getattr(response, "RequestId", None), f"{context} ({action})")
    return response


def expect_error(run, client, action, request, code, context):
    """Calls `action` and requires a service error with `code` and a request id."""
    try:
        response = getattr(client, action)(request)
    except TencentCloudSDKException as e:
        got = e.get_code()
        if got != code:
            run.fail(context, f"{action}: expected error {code}, got code={got} message={e.get_message()}")
        run.request_id(e.get_request_id(), f"{context} ({action} error)")
        run.ok(f"{context}: {code}")
        return
    except Exception as e:
        run.fail(context, f"{action}: expected error {code}, raised {type(e).__name__}: {e}")
    run.fail(context, f"{action}: expected error {code}, but it succeeded "
                      f"(RequestId {getattr(response, 'RequestId', None)})")


def ids_request(cls, ids):
    request = cls()
    request.InstanceIds = list(ids)
    return request


def states(run, client, ids, context):
    """InstanceId -> InstanceState, from DescribeInstances."""
    response = call(run, client, "DescribeInstances", ids_request(models.DescribeInstancesRequest, ids), context)
    found = {i.InstanceId: i.InstanceState for i in (response.InstanceSet or [])}
    if response.TotalCount != len(found):
        run.fail(context, f"DescribeInstances: TotalCount {response.TotalCount} but {len(found)} instances listed")
    return found


def wait_for(run, client, ids, state, timeout, context):
    """Polls DescribeInstances until every id is in `state` (or, for None, gone)."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        found = states(run, client, ids, context)
        if state is None:
            done = not any(i in found for i in ids)
        else:
            done = all(found.get(i) == state for i in ids)
        snapshot = ",".join(f"{i}={found.get(i, 'absent')}" for i in ids)
        if not seen or seen[-1] != snapshot:
            seen.append(snapshot)
        if done:
            run.ok(f"{context}: {'gone' if state is None else state} "
                   f"(states seen: {' -> '.join(seen)})")
            return
        if time.monotonic() > deadline:
            run.fail(context, f"not {'gone' if state is None else state} after {timeout}s; "
                              f"states seen: {' -> '.join(seen)}")
        time.sleep(0.02)


def lifecycle(run, args, method):
    tag = method
    client = make_client(args.endpoint, args.secret_id, args.secret_key, args.region, method)

    # RunInstances: two instances.
    request = models.RunInstancesRequest()
    placement = models.Placement()
    placement.Zone = args.zone
    request.Placement = placement
    request.ImageId = args.image_id
    request.InstanceType = "S5.MEDIUM2"
    request.InstanceChargeType = "POSTPAID_BY_HOUR"
    request.InstanceCount = 2
    request.InstanceName = f"python-sdk-{method.lower()}"
    request.ClientToken = str(uuid.uuid4())
    response = call(run, client, "RunInstances", request, f"{tag} RunInstances")
    ids = list(response.InstanceIdSet or [])
    run.check(len(ids) == 2 and len(set(ids)) == 2 and all(INSTANCE_ID.match(i) for i in ids),
              f"{tag} RunInstances: 2 instance ids {ids}", f"InstanceIdSet is {ids!r}")

    wait_for(run, client, ids, "RUNNING", args.timeout, f"{tag} after RunInstances")

    # One of them by a filter (nested parameters: Filters.0.Values.0 in GET).
    request = models.DescribeInstancesRequest()
    flt = models.Filter()
    flt.Name = "instance-id"
    flt.Values = [ids[0]]
    request.Filters = [flt]
    response = call(run, client, "DescribeInstances", request, f"{tag} DescribeInstances by filter")
    listed = [i.InstanceId for i in (response.InstanceSet or [])]
    run.check(response.TotalCount == 1 and listed == [ids[0]],
              f"{tag} DescribeInstances Filters instance-id: exactly {ids[0]}",
              f"TotalCount {response.TotalCount}, listed {listed}")

    expect_error(run, client, "StartInstances", ids_request(models.StartInstancesRequest, ids),
                 "UnsupportedOperation.InstanceStateRunning", f"{tag} StartInstances on RUNNING")

    call(run, client, "StopInstances", ids_request(models.StopInstancesRequest, ids), f"{tag} StopInstances")
    wait_for(run, client, ids, "STOPPED", args.timeout, f"{tag} after StopInstances")

    call(run, client, "StartInstances", ids_request(models.StartInstancesRequest, ids), f"{tag} StartInstances")
    wait_for(run, client, ids, "RUNNING", args.timeout, f"{tag} after StartInstances")

    call(run, client, "RebootInstances", ids_request(models.RebootInstancesRequest, ids), f"{tag} RebootInstances")
    wait_for(run, client, ids, "RUNNING", args.timeout, f"{tag} after RebootInstances")

    response = call(run, client, "DescribeInstancesStatus",
                    ids_request(models.DescribeInstancesStatusRequest, ids), f"{tag} DescribeInstancesStatus")
    status = {s.InstanceId: s.InstanceState for s in (response.InstanceStatusSet or [])}
    run.check(response.TotalCount == 2 and status == {i: "RUNNING" for i in ids},
              f"{tag} DescribeInstancesStatus: both RUNNING",
              f"TotalCount {response.TotalCount}, states {status}")

    # Errors.
    bad_key = make_client(args.endpoint, args.secret_id, args.secret_key + "x", args.region, method)
    expect_error(run, bad_key, "DescribeInstancesStatus", ids_request(models.DescribeInstancesStatusRequest, ids),
                 "AuthFailure.SignatureFailure", f"{tag} wrong secret key")
    unknown_id = make_client(args.endpoint, "AKIDunknown" + uuid.uuid4().hex[:16], args.secret_key,
                             args.region, method)
    expect_error(run, unknown_id, "DescribeInstancesStatus",
                 ids_request(models.DescribeInstancesStatusRequest, ids),
                 "AuthFailure.SecretIdNotFound", f"{tag} unknown secret id")
    expect_error(run, client, "StopInstances", ids_request(models.StopInstancesRequest, [MALFORMED_INSTANCE]),
                 "InvalidInstanceId.Malformed", f"{tag} malformed instance id")
    expect_error(run, client, "StopInstances", ids_request(models.StopInstancesRequest, [UNKNOWN_INSTANCE]),
                 "InvalidInstanceId.NotFound", f"{tag} unknown instance id")

    call(run, client, "TerminateInstances", ids_request(models.TerminateInstancesRequest, ids),
         f"{tag} TerminateInstances")
    wait_for(run, client, ids, None, args.timeout, f"{tag} after TerminateInstances")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("CVM_ENDPOINT"),
                        help="HOST:PORT or http://HOST:PORT (env CVM_ENDPOINT)")
    parser.add_argument("--secret-id", default=os.environ.get("TENCENTCLOUD_SECRET_ID"),
                        help="env TENCENTCLOUD_SECRET_ID")
    parser.add_argument("--secret-key", default=os.environ.get("TENCENTCLOUD_SECRET_KEY"),
                        help="env TENCENTCLOUD_SECRET_KEY")
    parser.add_argument("--region", default=os.environ.get("TENCENTCLOUD_REGION") or "ap-guangzhou",
                        help="env TENCENTCLOUD_REGION, default ap-guangzhou")
    parser.add_argument("--zone", default="ap-guangzhou-3")
    parser.add_argument("--image-id", default="img-pmqg1cw7")
    parser.add_argument("--methods", default="POST,GET", help="comma-separated: POST, GET or both")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for each state transition (default 30)")
    args = parser.parse_args(argv)
    missing = [name for name, value in [("--endpoint", args.endpoint), ("--secret-id", args.secret_id),
                                        ("--secret-key", args.secret_key)] if not value]
    if missing:
        parser.error("missing " + ", ".join(missing) + " (or the matching environment variables)")
    args.endpoint = re.sub(r"^https?://", "", args.endpoint).rstrip("/")
    args.methods = [m.strip().upper() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in args.methods if m not in ("POST", "GET")]
    if bad or not args.methods:
        parser.error(f"--methods: expected POST and/or GET, got {args.methods}")
    return args


def main(argv):
    args = parse_args(argv)
    run = Run()
    started = time.monotonic()
    try:
        for method in args.methods:
            lifecycle(run, args, method)
    except CheckFailed as e:
        print(f"FAIL - {e}", flush=True)
        print(f"python-sdk: stopped at the first failure after {time.monotonic() - started:.2f}s", flush=True)
        print(run.summary(), flush=True)
        return 1
    print(f"python-sdk: {len(run.request_ids)} distinct request ids, "
          f"{time.monotonic() - started:.2f}s against {args.endpoint}", flush=True)
    print(run.summary(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
