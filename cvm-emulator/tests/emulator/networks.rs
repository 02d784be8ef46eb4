//! VPCs and subnets made and deleted with the service's rules, and
//! instances launched only into networks that exist.

use crate::common::described::{assert_described, model};
use crate::common::*;
use serde_json::{json, Value};

async fn vpc_call(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> Value {
    Call {
        service: "vpc".into(),
        ..Call::post(action, body)
    }
    .send(emu)
    .await
}

async fn ok(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> Value {
    let answer = vpc_call(emu, action, body.clone()).await;
    assert_eq!(code(&answer), "", "{action} {body}: {answer}");
    assert_described(&model("vpc", "v20170312"), action, &answer);
    answer
}

async fn refused(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> String {
    let answer = vpc_call(emu, action, body.clone()).await;
    assert_ne!(code(&answer), "", "{action} {body} succeeded: {answer}");
    code(&answer)
}

#[tokio::test]
async fn vpcs_and_subnets_follow_the_services_rules() {
    let emu = start(config()).await;
    let vpc = ok(
        &emu,
        "CreateVpc",
        json!({"VpcName": "app", "CidrBlock": "10.8.0.0/16"}),
    )
    .await["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    for (block, expected) in [
        ("8.8.0.0/16", "InvalidParameterValue.Range"),
        ("10.8.0.1/16", "InvalidParameterValue.Malformed"),
    ] {
        assert_eq!(
            refused(&emu, "CreateVpc", json!({"VpcName": "x", "CidrBlock": block})).await,
            expected
        );
    }
    // An instance in the default network, which DescribeVpcs then lists.
    let default_instance = Call::post(
        "RunInstances",
        json!({"Placement": {"Zone": ZONE}, "ImageId": "img-9qabwvbn"}),
    )
    .send(&emu)
    .await;
    assert_eq!(code(&default_instance), "", "{default_instance}");
    let default_vpc = ok(&emu, "DescribeVpcs", json!({})).await;
    let default_vpc = default_vpc["VpcSet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["IsDefault"] == true)
        .map(|v| v["VpcId"].as_str().unwrap().to_owned())
        .expect("the default VPC");
    let subnet = |name: &str, zone: &str, block: &str| json!({"VpcId": vpc, "SubnetName": name, "Zone": zone, "CidrBlock": block});
    let web = ok(&emu, "CreateSubnet", subnet("web", ZONE, "10.8.1.0/24")).await["Subnet"]["SubnetId"]
        .as_str()
        .unwrap()
        .to_owned();
    for (body, expected) in [
        (
            subnet("overlap", ZONE, "10.8.1.128/25"),
            "InvalidParameterValue.SubnetConflict",
        ),
        (
            subnet("outside", ZONE, "10.9.1.0/24"),
            "InvalidParameterValue.SubnetRange",
        ),
        (
            subnet("tiny", ZONE, "10.8.2.0/30"),
            "InvalidParameterValue.SubnetRange",
        ),
        (
            subnet("far", "ap-shanghai-2", "10.8.3.0/24"),
            "InvalidParameterValue.ZoneConflict",
        ),
        (
            json!({"VpcId": "vpc-00000000", "SubnetName": "x", "Zone": ZONE, "CidrBlock": "10.8.4.0/24"}),
            "ResourceNotFound",
        ),
        // The default VPC's block is its default subnets' (and its
        // instances' addresses'): it takes no more.
        (
            json!({"VpcId": default_vpc, "SubnetName": "x", "Zone": ZONE, "CidrBlock": "10.0.1.0/24"}),
            "UnsupportedOperation",
        ),
    ] {
        assert_eq!(
            refused(&emu, "CreateSubnet", body.clone()).await,
            expected,
            "{body}"
        );
    }

    // Instances go only into networks that exist, in their zone, and get
    // addresses of the subnet's block.
    let run = |net: Value| {
        Call::post(
            "RunInstances",
            json!({"Placement": {"Zone": ZONE}, "ImageId": "img-9qabwvbn", "InstanceCount": 2, "VirtualPrivateCloud": net}),
        )
    };
    let launched = run(json!({"VpcId": vpc, "SubnetId": web})).send(&emu).await;
    assert_eq!(code(&launched), "", "{launched}");
    for (net, expected) in [
        (
            json!({"VpcId": "vpc-00000000", "SubnetId": web}),
            "InvalidParameterValue.VpcIdNotExist",
        ),
        (
            json!({"VpcId": vpc, "SubnetId": "subnet-00000000"}),
            "InvalidParameterValue.SubnetNotExist",
        ),
        (
            json!({"VpcId": "vpc-1", "SubnetId": web}),
            "InvalidParameterValue.VpcIdMalformed",
        ),
    ] {
        assert_eq!(code(&run(net.clone()).send(&emu).await), expected, "{net}");
    }
    let other_zone = ok(
        &emu,
        "CreateSubnet",
        subnet("db", "ap-guangzhou-4", "10.8.2.0/24"),
    )
    .await["Subnet"]["SubnetId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        code(
            &run(json!({"VpcId": vpc, "SubnetId": other_zone}))
                .send(&emu)
                .await
        ),
        "InvalidParameterValue.SubnetIdZoneIdNotMatch"
    );
    let instances = Call::post(
        "DescribeInstances",
        json!({"Filters": [{"Name": "vpc-id", "Values": [vpc]}]}),
    )
    .send(&emu)
    .await;
    let addresses: Vec<&str> = instances["InstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["PrivateIpAddresses"][0].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["10.8.1.2", "10.8.1.3"], "{instances}");

    // Listed with their instances counted, held to the description.
    let listed = ok(&emu, "DescribeSubnets", json!({"SubnetIds": [web]})).await;
    assert_eq!(
        listed["SubnetSet"][0]["AvailableIpAddressCount"],
        253 - 2,
        "{listed}"
    );
    let vpcs = ok(&emu, "DescribeVpcs", json!({"VpcIds": [vpc]})).await;
    assert_eq!(vpcs["VpcSet"][0]["CidrBlock"], "10.8.0.0/16");

    // Nothing is deleted while something lives in it.
    assert_eq!(
        refused(&emu, "DeleteVpc", json!({"VpcId": vpc})).await,
        "ResourceInUse"
    );
    assert_eq!(
        refused(&emu, "DeleteSubnet", json!({"SubnetId": web})).await,
        "ResourceInUse"
    );
    let ids: Vec<&str> = instances["InstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap())
        .collect();
    let gone = Call::post("TerminateInstances", json!({"InstanceIds": ids}))
        .send(&emu)
        .await;
    assert_eq!(code(&gone), "", "{gone}");
    assert_eq!(
        refused(&emu, "DeleteVpc", json!({"VpcId": vpc})).await,
        "ResourceInUse"
    );
    ok(&emu, "DeleteSubnet", json!({"SubnetId": web})).await;
    ok(&emu, "DeleteSubnet", json!({"SubnetId": other_zone})).await;
    ok(&emu, "DeleteVpc", json!({"VpcId": vpc})).await;
    assert_eq!(
        refused(&emu, "DeleteVpc", json!({"VpcId": vpc})).await,
        "ResourceNotFound"
    );
    assert_eq!(
        ok(&emu, "DescribeVpcs", json!({"VpcIds": [vpc]})).await["TotalCount"],
        0
    );
}

#[tokio::test]
async fn security_groups_and_their_rules_follow_the_services_rules() {
    let emu = start(config()).await;
    let listed = ok(&emu, "DescribeSecurityGroups", json!({})).await;
    assert_eq!(listed["TotalCount"], 1, "the region's default group: {listed}");
    let default_group = listed["SecurityGroupSet"][0]["SecurityGroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = |name: &str| json!({"GroupName": name, "GroupDescription": "for tests"});
    let web = ok(&emu, "CreateSecurityGroup", made("web")).await["SecurityGroup"]["SecurityGroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = ok(&emu, "CreateSecurityGroup", made("db")).await["SecurityGroup"]["SecurityGroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rules =
        |ingress: Value| json!({"SecurityGroupId": web, "SecurityGroupPolicySet": {"Ingress": ingress}});
    ok(
        &emu,
        "CreateSecurityGroupPolicies",
        rules(json!([
            {"Protocol": "TCP", "Port": "22", "CidrBlock": "10.0.0.0/8", "Action": "ACCEPT", "PolicyDescription": "ssh"},
            {"Protocol": "tcp", "Port": "80,443", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}
        ])),
    )
    .await;
    ok(
        &emu,
        "CreateSecurityGroupPolicies",
        json!({"SecurityGroupId": db, "SecurityGroupPolicySet": {"Ingress": [
            {"Protocol": "TCP", "Port": "3306", "SecurityGroupId": web, "Action": "ACCEPT"}
        ]}}),
    )
    .await;
    for (ingress, expected) in [
        (
            json!([{"Protocol": "TCP", "Port": "22", "Action": "ACCEPT"}]),
            "InvalidParameterValue.Malformed",
        ),
        (
            json!([{"Protocol": "ICMP", "Port": "22", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}]),
            "InvalidParameterValue.Malformed",
        ),
        (
            json!([{"Protocol": "TCP", "Port": "22", "CidrBlock": "0.0.0.0/0", "Action": "ALLOW"}]),
            "InvalidParameterValue.Malformed",
        ),
        (
            json!([{"Protocol": "TCP", "Port": "22", "SecurityGroupId": "sg-00000000", "Action": "ACCEPT"}]),
            "InvalidSecurityGroupID.NotFound",
        ),
    ] {
        assert_eq!(
            refused(&emu, "CreateSecurityGroupPolicies", rules(ingress.clone())).await,
            expected,
            "{ingress}"
        );
    }
    let set = ok(
        &emu,
        "DescribeSecurityGroupPolicies",
        json!({"SecurityGroupId": web}),
    )
    .await;
    let ingress = set["SecurityGroupPolicySet"]["Ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 2, "{set}");
    assert_eq!(ingress[1]["Protocol"], "TCP");
    assert_eq!(ingress[1]["PolicyIndex"], 1);
    assert_eq!(set["SecurityGroupPolicySet"]["Version"], "1");
    let named = ok(
        &emu,
        "DescribeSecurityGroups",
        json!({"Filters": [{"Name": "security-group-name", "Values": ["db"]}]}),
    )
    .await;
    assert_eq!(named["SecurityGroupSet"][0]["SecurityGroupId"], db.as_str());

    // Instances take groups that exist.
    let run = |groups: Value| {
        Call::post(
            "RunInstances",
            json!({"Placement": {"Zone": ZONE}, "ImageId": "img-9qabwvbn", "SecurityGroupIds": groups}),
        )
    };
    assert_eq!(
        code(&run(json!(["sg-00000000"])).send(&emu).await),
        "InvalidSecurityGroupId.NotFound"
    );
    let launched = run(json!([web])).send(&emu).await;
    let instance = launched["InstanceIdSet"][0].as_str().unwrap().to_owned();
    let by_group = Call::post(
        "DescribeInstances",
        json!({"Filters": [{"Name": "security-group-id", "Values": [web]}]}),
    )
    .send(&emu)
    .await;
    assert_eq!(by_group["InstanceSet"][0]["InstanceId"], instance.as_str());

    // A group in use is not deleted: by an instance, or by another group's rule.
    assert_eq!(
        refused(&emu, "DeleteSecurityGroup", json!({"SecurityGroupId": web})).await,
        "ResourceInUse"
    );
    assert_eq!(
        refused(
            &emu,
            "DeleteSecurityGroup",
            json!({"SecurityGroupId": default_group})
        )
        .await,
        "UnsupportedOperation"
    );
    let gone = Call::post("TerminateInstances", json!({"InstanceIds": [instance]}))
        .send(&emu)
        .await;
    assert_eq!(code(&gone), "", "{gone}");
    assert_eq!(
        refused(&emu, "DeleteSecurityGroup", json!({"SecurityGroupId": web})).await,
        "ResourceInUse"
    );
    ok(&emu, "DeleteSecurityGroup", json!({"SecurityGroupId": db})).await;
    ok(&emu, "DeleteSecurityGroup", json!({"SecurityGroupId": web})).await;
    assert_eq!(
        refused(
            &emu,
            "DescribeSecurityGroupPolicies",
            json!({"SecurityGroupId": web})
        )
        .await,
        "InvalidSecurityGroupID.NotFound"
    );
    assert_eq!(
        ok(&emu, "DescribeSecurityGroups", json!({})).await["TotalCount"],
        1
    );
}

#[tokio::test]
async fn elastic_ips_bind_to_one_instance_and_are_released_unbound() {
    let (emu, instances) = seeded(config(), 2, "RUNNING").await;
    let allocated = ok(
        &emu,
        "AllocateAddresses",
        json!({"AddressCount": 2, "AddressName": "web"}),
    )
    .await;
    let ids: Vec<String> = allocated["AddressSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let listed = ok(&emu, "DescribeAddresses", json!({"AddressIds": [ids[0]]})).await;
    let ip = listed["AddressSet"][0]["AddressIp"].as_str().unwrap().to_owned();
    assert_eq!(listed["AddressSet"][0]["AddressStatus"], "UNBIND");

    ok(
        &emu,
        "AssociateAddress",
        json!({"AddressId": ids[0], "InstanceId": instances[0]}),
    )
    .await;
    assert_eq!(
        refused(
            &emu,
            "AssociateAddress",
            json!({"AddressId": ids[1], "InstanceId": instances[0]})
        )
        .await,
        "InvalidInstanceId.AlreadyBindEip"
    );
    assert_eq!(
        refused(
            &emu,
            "AssociateAddress",
            json!({"AddressId": ids[0], "InstanceId": instances[1]})
        )
        .await,
        "InvalidAddressIdStatus.NotPermit"
    );
    let described = Call::post("DescribeInstances", json!({"InstanceIds": [instances[0]]}))
        .send(&emu)
        .await;
    assert_eq!(
        described["InstanceSet"][0]["PublicIpAddresses"],
        json!([ip]),
        "{described}"
    );
    let by_ip = Call::post(
        "DescribeInstances",
        json!({"Filters": [{"Name": "public-ip-address", "Values": [ip]}]}),
    )
    .send(&emu)
    .await;
    assert_eq!(by_ip["TotalCount"], 1, "{by_ip}");
    let bound = ok(
        &emu,
        "DescribeAddresses",
        json!({"Filters": [{"Name": "instance-id", "Values": [instances[0]]}]}),
    )
    .await;
    assert_eq!(bound["AddressSet"][0]["AddressStatus"], "BIND");

    // Released only when unbound; an instance that goes lets go of it.
    assert_eq!(
        refused(&emu, "ReleaseAddresses", json!({"AddressIds": [ids[0]]})).await,
        "ResourceInUse.Address"
    );
    ok(&emu, "DisassociateAddress", json!({"AddressId": ids[0]})).await;
    ok(
        &emu,
        "AssociateAddress",
        json!({"AddressId": ids[1], "InstanceId": instances[1]}),
    )
    .await;
    let gone = Call::post("TerminateInstances", json!({"InstanceIds": [instances[1]]}))
        .send(&emu)
        .await;
    assert_eq!(code(&gone), "", "{gone}");
    let after = ok(&emu, "DescribeAddresses", json!({"AddressIds": [ids[1]]})).await;
    assert_eq!(after["AddressSet"][0]["AddressStatus"], "UNBIND");
    ok(&emu, "ReleaseAddresses", json!({"AddressIds": ids})).await;
    assert_eq!(ok(&emu, "DescribeAddresses", json!({})).await["TotalCount"], 0);
    assert_eq!(
        refused(&emu, "ReleaseAddresses", json!({"AddressIds": ["eip-00000000"]})).await,
        "InvalidAddressId.NotFound"
    );
}
