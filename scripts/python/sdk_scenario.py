#!/usr/bin/env python3
"""The provisioning flow people test, with the official Tencent Cloud Python
SDK (its cvm, vpc and cbs packages, each request built from the SDK's own
models and each answer read back into them):

  1. discover a zone, an image and an instance type;
  2. create a key pair, a VPC, a subnet and a security group with a rule;
  3. run 3 instances into them with a data disk and tags;
  4. list them by tag and by VPC;
  5. attach one more disk;
  6. rename one;
  7. stop, resize and start them;
  8. make an image;
  9. tear everything down in order, each refusal out of order asserted.

The same flow as cvm-emulator/tests/emulator/scenario.rs, which runs it with
our SDK. Usage:

  sdk_scenario.py --endpoint HOST:PORT --secret-id ID --region REGION

The secret key comes from $TENCENTCLOUD_SECRET_KEY. Prints one line per
check, stops at the first failure (exit status 1), and ends with a summary
such as `python-scenario: 31 passed, 0 failed`.
"""

import argparse
import json
import os
import sys

try:
    from tencentcloud.cbs.v20170312 import cbs_client, models as cbs_models
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client, models as cvm_models
    from tencentcloud.vpc.v20170312 import vpc_client, models as vpc_models
except ImportError as e:  # pragma: no cover - environment problem
    print(f"python-scenario: cannot import the Tencent Cloud SDK ({e}); run scripts/python/setup-venv.sh "
          "and use its interpreter", file=sys.stderr)
    sys.exit(2)


class CheckFailed(Exception):
    pass


class Scenario:
    def __init__(self, endpoint, secret_id, secret_key, region):
        cred = credential.Credential(secret_id, secret_key)

        def profile():
            http = HttpProfile(endpoint=endpoint, protocol="http", reqTimeout=20)
            return ClientProfile(httpProfile=http)

        self.clients = {
            "cvm": (cvm_client.CvmClient(cred, region, profile()), cvm_models),
            "vpc": (vpc_client.VpcClient(cred, region, profile()), vpc_models),
            "cbs": (cbs_client.CbsClient(cred, region, profile()), cbs_models),
        }
        self.passed = 0

    def call(self, service, action, params):
        """`action` with `params`, through the SDK's request and response
        models; the answer as a dict."""
        client, models = self.clients[service]
        request = getattr(models, action + "Request")()
        request.from_json_string(json.dumps(params))
        response = getattr(client, action)(request)
        return json.loads(response.to_json_string())

    def check(self, what, ok, detail=""):
        if not ok:
            raise CheckFailed(f"{what}: {detail}")
        self.passed += 1
        print(f"ok   {what}")

    def refused(self, what, service, action, params, code):
        try:
            answer = self.call(service, action, params)
        except TencentCloudSDKException as e:
            self.check(what, e.code == code, f"expected {code}, got {e.code}: {e.message}")
            return
        raise CheckFailed(f"{what}: expected {code}, but it succeeded: {answer}")

    def run(self):
        # 1. Discover.
        zone = self.call("cvm", "DescribeZones", {})["ZoneSet"][0]["Zone"]
        images = self.call("cvm", "DescribeImages", {"Filters": [{"Name": "platform", "Values": ["Ubuntu"]}]})
        self.check("an Ubuntu public image", images["TotalCount"] == 1, images)
        image = images["ImageSet"][0]["ImageId"]
        types = self.call("cvm", "DescribeInstanceTypeConfigs", {
            "Filters": [{"Name": "zone", "Values": [zone]}, {"Name": "instance-family", "Values": ["S5"]}],
        })["InstanceTypeConfigSet"]
        instance_type = next(t["InstanceType"] for t in types if t["CPU"] == 2 and t["Memory"] == 4)
        self.check("a type of the zone", instance_type.startswith("S5."), instance_type)

        # 2. Key pair, VPC, subnet, security group with a rule.
        key = self.call("cvm", "CreateKeyPair", {"KeyName": "pyscenario", "ProjectId": 0})["KeyPair"]
        self.check("the private key answered once", "PRIVATE KEY" in (key.get("PrivateKey") or ""), key)
        key = key["KeyId"]
        vpc = self.call("vpc", "CreateVpc", {"VpcName": "pyscenario", "CidrBlock": "10.30.0.0/16"})["Vpc"]["VpcId"]
        subnet = self.call("vpc", "CreateSubnet", {
            "VpcId": vpc, "SubnetName": "pyscenario", "Zone": zone, "CidrBlock": "10.30.1.0/24",
        })["Subnet"]["SubnetId"]
        self.refused("an overlapping subnet", "vpc", "CreateSubnet", {
            "VpcId": vpc, "SubnetName": "overlap", "Zone": zone, "CidrBlock": "10.30.1.0/25",
        }, "InvalidParameterValue.SubnetConflict")
        group = self.call("vpc", "CreateSecurityGroup", {
            "GroupName": "pyscenario", "GroupDescription": "ssh from the office",
        })["SecurityGroup"]["SecurityGroupId"]
        self.call("vpc", "CreateSecurityGroupPolicies", {
            "SecurityGroupId": group,
            "SecurityGroupPolicySet": {"Ingress": [
                {"Protocol": "TCP", "Port": "22", "CidrBlock": "203.0.113.0/24", "Action": "ACCEPT"},
            ]},
        })
        rules = self.call("vpc", "DescribeSecurityGroupPolicies", {"SecurityGroupId": group})
        self.check("the rule is kept", len(rules["SecurityGroupPolicySet"]["Ingress"]) == 1, rules)

        # 3. Three instances with a data disk and tags.
        instances = self.call("cvm", "RunInstances", {
            "Placement": {"Zone": zone},
            "ImageId": image,
            "InstanceType": instance_type,
            "InstanceCount": 3,
            "VirtualPrivateCloud": {"VpcId": vpc, "SubnetId": subnet},
            "SecurityGroupIds": [group],
            "LoginSettings": {"KeyIds": [key]},
            "DataDisks": [{"DiskType": "CLOUD_PREMIUM", "DiskSize": 50}],
            "TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "pyscenario"}]}],
        })["InstanceIdSet"]
        self.check("three instances", len(instances) == 3, instances)

        # 4. Listed by tag and by VPC.
        for name, value in [("tag:env", "pyscenario"), ("vpc-id", vpc)]:
            listed = self.call("cvm", "DescribeInstances", {"Filters": [{"Name": name, "Values": [value]}]})
            found = sorted(i["InstanceId"] for i in listed["InstanceSet"])
            self.check(f"listed by {name}", found == sorted(instances), listed)
            self.check(f"each with its data disk ({name})",
                       all(len(i["DataDisks"]) == 1 for i in listed["InstanceSet"]), listed)
            self.check(f"addresses of the subnet ({name})",
                       all(i["PrivateIpAddresses"][0].startswith("10.30.1.") for i in listed["InstanceSet"]), listed)

        # 5. One more disk.
        disk = self.call("cbs", "CreateDisks", {
            "Placement": {"Zone": zone}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 100,
        })["DiskIdSet"][0]
        self.call("cbs", "AttachDisks", {"InstanceId": instances[0], "DiskIds": [disk]})
        attached = self.call("cbs", "DescribeDisks", {"DiskIds": [disk]})["DiskSet"][0]
        self.check("the disk is attached", attached["InstanceId"] == instances[0], attached)

        # 6. Rename one.
        self.call("cvm", "ModifyInstancesAttribute", {"InstanceIds": [instances[1]], "InstanceName": "py-renamed"})

        # 7. Stop, resize, start.
        self.refused("resizing a running instance", "cvm", "ResetInstancesType",
                     {"InstanceIds": instances, "InstanceType": "S5.LARGE8"},
                     "UnsupportedOperation.InstanceStateRunning")
        self.call("cvm", "StopInstances", {"InstanceIds": instances})
        self.call("cvm", "ResetInstancesType", {"InstanceIds": instances, "InstanceType": "S5.LARGE8"})
        self.call("cvm", "StartInstances", {"InstanceIds": instances})
        running = self.call("cvm", "DescribeInstances", {"InstanceIds": instances})["InstanceSet"]
        self.check("resized and running", all(
            i["InstanceState"] == "RUNNING" and i["InstanceType"] == "S5.LARGE8" and i["CPU"] == 4 for i in running
        ), running)
        self.check("renamed", any(i["InstanceName"] == "py-renamed" for i in running), running)

        # 8. An image.
        made = self.call("cvm", "CreateImage", {"ImageName": "pyscenario", "InstanceId": instances[0]})["ImageId"]
        mine = self.call("cvm", "DescribeImages", {"ImageIds": [made]})["ImageSet"]
        self.check("the image is listed", [i["ImageType"] for i in mine] == ["PRIVATE_IMAGE"], mine)

        # 9. Tear down: out of order first, each refused; then in order.
        self.refused("deleting a VPC with instances", "vpc", "DeleteVpc", {"VpcId": vpc}, "ResourceInUse")
        self.refused("deleting a subnet with instances", "vpc", "DeleteSubnet", {"SubnetId": subnet}, "ResourceInUse")
        self.refused("deleting a group in use", "vpc", "DeleteSecurityGroup", {"SecurityGroupId": group},
                     "ResourceInUse")
        self.refused("deleting a key in use", "cvm", "DeleteKeyPairs", {"KeyIds": [key]},
                     "InvalidParameterValue.KeyPairNotSupported")
        self.refused("terminating an attached disk", "cbs", "TerminateDisks", {"DiskIds": [disk]},
                     "ResourceUnavailable.Attached")
        self.call("cvm", "TerminateInstances", {"InstanceIds": instances})
        left = self.call("cvm", "DescribeInstances", {"InstanceIds": instances})
        self.check("the instances are gone", left["TotalCount"] == 0, left)
        disks = self.call("cbs", "DescribeDisks", {})
        self.check("their own disks went with them; the extra one stayed",
                   [d["DiskId"] for d in disks["DiskSet"]] == [disk] and disks["DiskSet"][0]["DiskState"] == "UNATTACHED",
                   disks)
        self.call("cbs", "TerminateDisks", {"DiskIds": [disk]})
        self.call("cvm", "DeleteImages", {"ImageIds": [made]})
        self.call("cvm", "DeleteKeyPairs", {"KeyIds": [key]})
        self.call("vpc", "DeleteSecurityGroup", {"SecurityGroupId": group})
        self.call("vpc", "DeleteSubnet", {"SubnetId": subnet})
        self.call("vpc", "DeleteVpc", {"VpcId": vpc})
        vpcs = self.call("vpc", "DescribeVpcs", {"VpcIds": [vpc]})
        self.check("everything is gone", vpcs["TotalCount"] == 0, vpcs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--secret-id", required=True)
    parser.add_argument("--region", default="ap-guangzhou")
    args = parser.parse_args()
    secret_key = os.environ.get("TENCENTCLOUD_SECRET_KEY")
    if not secret_key:
        print("python-scenario: $TENCENTCLOUD_SECRET_KEY is not set", file=sys.stderr)
        return 2
    endpoint = args.endpoint.removeprefix("http://").rstrip("/")
    scenario = Scenario(endpoint, args.secret_id, secret_key, args.region)
    try:
        scenario.run()
    except (CheckFailed, TencentCloudSDKException) as e:
        print(f"FAIL {e}")
        print(f"python-scenario: {scenario.passed} passed, 1 failed")
        return 1
    print(f"python-scenario: {scenario.passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
