"""The official Python SDK's credential providers against cvm-emulator.

Run by cvm-emulator/tests/emulator/python_sdk.rs with the pinned venv:
  credentials.py --endpoint 127.0.0.1:PORT --region ap-guangzhou
    --role-arn ARN [--oidc-token-file FILE]
The permanent key for STSAssumeRoleCredential comes from
TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY. Prints one line per step
and `credentials: N passed, M failed`; exits 1 on any failure.
"""

import argparse
import os
import sys

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models


def cvm(cred, endpoint, region):
    http = HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=20)
    return cvm_client.CvmClient(cred, region, ClientProfile(httpProfile=http))


def describe(cred, endpoint, region):
    req = models.DescribeInstancesRequest()
    req.Limit = 1
    return cvm(cred, endpoint, region).DescribeInstances(req).TotalCount


class PlainHttpProfile(HttpProfile):
    """STSAssumeRoleCredential and OIDCRoleArnCredential build their
    HttpProfile internally and take no scheme: only https. The emulator
    serves plain http, so the test swaps the class they construct."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("protocol", "http")
        super().__init__(*args, **kwargs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--role-arn", required=True)
    p.add_argument("--oidc-token-file")
    args = p.parse_args()
    results = []

    def step(name, fn):
        try:
            detail = fn()
            results.append(True)
            print(f"ok   {name}: {detail}")
        except (TencentCloudSDKException, Exception) as e:  # noqa: BLE001 - report every failure
            results.append(False)
            print(f"FAIL {name}: {type(e).__name__}: {e}")

    # CVM instance role: the metadata service is the emulator.
    metadata = f"http://{args.endpoint}/latest/meta-data/"
    credential.CVMRoleCredential._metadata_endpoint = metadata
    credential.CVMRoleCredential._role_endpoint = metadata + "cam/security-credentials/"
    role = credential.CVMRoleCredential()

    def cvm_role():
        total = describe(role, args.endpoint, args.region)
        return f"role {role.get_role_name()}, DescribeInstances TotalCount={total}"

    step("CVMRoleCredential", cvm_role)

    credential.HttpProfile = PlainHttpProfile
    sts = credential.STSAssumeRoleCredential(
        os.environ["TENCENTCLOUD_SECRET_ID"],
        os.environ["TENCENTCLOUD_SECRET_KEY"],
        args.role_arn,
        "python-sdk",
        duration_seconds=900,
        endpoint=args.endpoint,
    )
    step("STSAssumeRoleCredential", lambda: f"TotalCount={describe(sts, args.endpoint, args.region)}")

    if args.oidc_token_file:
        with open(args.oidc_token_file) as f:
            token = f.read()
        oidc = credential.OIDCRoleArnCredential(
            args.region, "OIDC", token, args.role_arn, "python-sdk-oidc", 900, endpoint=args.endpoint
        )
        step("OIDCRoleArnCredential", lambda: f"TotalCount={describe(oidc, args.endpoint, args.region)}")

        wrong = credential.OIDCRoleArnCredential(
            args.region, "OIDC", "eyJ.wrong.token", args.role_arn, "python-sdk-oidc", 900, endpoint=args.endpoint
        )

        def refused():
            try:
                _ = wrong.secret_id
            except TencentCloudSDKException as e:
                if e.get_code() == "InvalidParameter.WebIdentityTokenError":
                    return e.get_code()
                raise
            raise AssertionError("a wrong web identity token was accepted")

        step("OIDCRoleArnCredential with a wrong token", refused)

    passed = sum(results)
    print(f"credentials: {passed} passed, {len(results) - passed} failed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
