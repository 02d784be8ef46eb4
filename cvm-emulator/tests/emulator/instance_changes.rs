//! Changes to existing instances, with the states each needs: attributes,
//! type, password; and images made from them.

use crate::common::described::{assert_described, model};
use crate::common::*;
use serde_json::{json, Value};

async fn ok(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> Value {
    let answer = Call::post(action, body.clone()).send(emu).await;
    assert_eq!(code(&answer), "", "{action} {body}: {answer}");
    assert_described(&model("cvm", "v20170312"), action, &answer);
    answer
}

async fn refused(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> String {
    let answer = Call::post(action, body.clone()).send(emu).await;
    assert_ne!(code(&answer), "", "{action} {body} succeeded: {answer}");
    code(&answer)
}

async fn instance(emu: &cvm_emulator::RunningEmulator, id: &str) -> Value {
    let answer = ok(emu, "DescribeInstances", json!({"InstanceIds": [id]})).await;
    answer["InstanceSet"][0].clone()
}

#[tokio::test]
async fn instances_change_in_the_states_each_change_needs() {
    let (emu, ids) = seeded(config(), 2, "RUNNING").await;
    // Attributes: on RUNNING or STOPPED instances, all or nothing.
    ok(
        &emu,
        "ModifyInstancesAttribute",
        json!({"InstanceIds": [ids[0]], "InstanceName": "web-1"}),
    )
    .await;
    assert_eq!(instance(&emu, &ids[0]).await["InstanceName"], "web-1");
    assert_eq!(
        refused(
            &emu,
            "ModifyInstancesAttribute",
            json!({"InstanceIds": [ids[0], "ins-00000000"], "InstanceName": "x"})
        )
        .await,
        "InvalidInstanceId.NotFound"
    );
    assert_eq!(instance(&emu, &ids[0]).await["InstanceName"], "web-1");
    assert_eq!(
        refused(
            &emu,
            "ModifyInstancesAttribute",
            json!({"InstanceIds": [ids[0]], "SecurityGroups": ["sg-00000000"]})
        )
        .await,
        "InvalidSecurityGroupId.NotFound"
    );
    let group = Call {
        service: "vpc".into(),
        ..Call::post(
            "CreateSecurityGroup",
            json!({"GroupName": "web", "GroupDescription": "web"}),
        )
    }
    .send(&emu)
    .await["SecurityGroup"]["SecurityGroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &emu,
        "ModifyInstancesAttribute",
        json!({"InstanceIds": [ids[0]], "SecurityGroups": [group]}),
    )
    .await;
    assert_eq!(instance(&emu, &ids[0]).await["SecurityGroupIds"], json!([group]));

    // The type changes on STOPPED instances (ForceStop stops RUNNING ones).
    assert_eq!(
        refused(
            &emu,
            "ResetInstancesType",
            json!({"InstanceIds": [ids[0]], "InstanceType": "S5.LARGE8"})
        )
        .await,
        "UnsupportedOperation.InstanceStateRunning"
    );
    assert_eq!(
        refused(
            &emu,
            "ResetInstancesType",
            json!({"InstanceIds": [ids[0]], "InstanceType": "S5.3XLARGE7"})
        )
        .await,
        "ResourceNotFound.InvalidZoneInstanceType"
    );
    ok(&emu, "StopInstances", json!({"InstanceIds": [ids[0]]})).await;
    ok(
        &emu,
        "ResetInstancesType",
        json!({"InstanceIds": [ids[0]], "InstanceType": "S5.LARGE8"}),
    )
    .await;
    ok(
        &emu,
        "ResetInstancesType",
        json!({"InstanceIds": [ids[1]], "InstanceType": "SA2.MEDIUM4", "ForceStop": true}),
    )
    .await;
    let first = instance(&emu, &ids[0]).await;
    assert_eq!(
        (
            first["InstanceType"].as_str(),
            first["CPU"].as_i64(),
            first["Memory"].as_i64()
        ),
        (Some("S5.LARGE8"), Some(4), Some(8))
    );
    let second = instance(&emu, &ids[1]).await;
    assert_eq!(second["InstanceState"], "STOPPED");
    assert_eq!(second["LatestOperation"], "ResetInstancesType");

    // Passwords: checked, never kept.
    assert_eq!(
        refused(
            &emu,
            "ResetInstancesPassword",
            json!({"InstanceIds": [ids[0]], "Password": "short"})
        )
        .await,
        "InvalidPassword"
    );
    ok(
        &emu,
        "ResetInstancesPassword",
        json!({"InstanceIds": [ids[0]], "Password": "Emul8tor!pass"}),
    )
    .await;
    assert!(!emu
        .state_snapshot()
        .instances
        .iter()
        .any(|i| format!("{:?}", i).contains("Emul8tor")));
}

#[tokio::test]
async fn images_are_made_from_instances_and_launch_like_public_ones() {
    let (emu, ids) = seeded(config(), 1, "STOPPED").await;
    let made = ok(
        &emu,
        "CreateImage",
        json!({"ImageName": "golden", "InstanceId": ids[0]}),
    )
    .await;
    let image = made["ImageId"].as_str().unwrap().to_owned();
    assert_eq!(
        refused(
            &emu,
            "CreateImage",
            json!({"ImageName": "golden", "InstanceId": ids[0]})
        )
        .await,
        "InvalidImageName.Duplicate"
    );
    assert_eq!(
        refused(
            &emu,
            "CreateImage",
            json!({"ImageName": "other", "InstanceId": "ins-00000000"})
        )
        .await,
        "InvalidInstanceId.NotFound"
    );
    let mine = ok(
        &emu,
        "DescribeImages",
        json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]}),
    )
    .await;
    assert_eq!(mine["TotalCount"], 1, "{mine}");
    assert_eq!(mine["ImageSet"][0]["ImageId"], image.as_str());
    assert_eq!(mine["ImageSet"][0]["SnapshotSet"][0]["DiskUsage"], "SYSTEM_DISK");
    let launched = ok(
        &emu,
        "RunInstances",
        json!({"Placement": {"Zone": ZONE}, "ImageId": image}),
    )
    .await;
    let launched = launched["InstanceIdSet"][0].as_str().unwrap().to_owned();
    assert_eq!(instance(&emu, &launched).await["ImageId"], image.as_str());

    assert_eq!(
        refused(&emu, "DeleteImages", json!({"ImageIds": ["img-9qabwvbn"]})).await,
        "InvalidParameterValue.InvalidImageId"
    );
    assert_eq!(
        refused(&emu, "DeleteImages", json!({"ImageIds": ["img-00000000"]})).await,
        "InvalidImageId.NotFound"
    );
    ok(&emu, "DeleteImages", json!({"ImageIds": [image]})).await;
    assert_eq!(
        ok(&emu, "DescribeImages", json!({"ImageIds": [image]})).await["TotalCount"],
        0
    );
}

#[tokio::test]
async fn systems_are_reset_and_disks_grow() {
    let (emu, ids) = seeded(config(), 1, "STOPPED").await;
    let key = ok(&emu, "CreateKeyPair", json!({"KeyName": "reset", "ProjectId": 0})).await["KeyPair"]
        ["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &emu,
        "ResetInstance",
        json!({"InstanceId": ids[0], "ImageId": "img-487zeit5", "LoginSettings": {"KeyIds": [key]}, "SystemDisk": {"DiskSize": 80}}),
    )
    .await;
    let reset = instance(&emu, &ids[0]).await;
    assert_eq!(reset["ImageId"], "img-487zeit5");
    assert_eq!(reset["OsName"], "Ubuntu Server 22.04 LTS 64bit");
    assert_eq!(reset["LoginSettings"]["KeyIds"], json!([key]));
    assert_eq!(reset["SystemDisk"]["DiskSize"], 80);
    // A Windows system takes no key pairs.
    let windows =
        json!({"InstanceId": ids[0], "ImageId": "img-22trbn9x", "LoginSettings": {"KeyIds": [key]}});
    assert_eq!(
        refused(&emu, "ResetInstance", windows).await,
        "UnsupportedOperation.KeyPairUnsupportedWindows"
    );
    assert_eq!(
        refused(
            &emu,
            "ResetInstance",
            json!({"InstanceId": ids[0], "LoginSettings": {"KeyIds": ["skey-00000000"]}})
        )
        .await,
        "InvalidParameterValue.KeyPairNotFound"
    );

    // A data disk grows, on a STOPPED instance (or online when asked).
    let disk = Call {
        service: "cbs".into(),
        ..Call::post(
            "CreateDisks",
            json!({"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}),
        )
    }
    .send(&emu)
    .await["DiskIdSet"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let attached = Call {
        service: "cbs".into(),
        ..Call::post("AttachDisks", json!({"InstanceId": ids[0], "DiskIds": [disk]}))
    }
    .send(&emu)
    .await;
    assert_eq!(code(&attached), "", "{attached}");
    ok(
        &emu,
        "ResizeInstanceDisks",
        json!({"InstanceId": ids[0], "DataDisks": [{"DiskId": disk, "DiskSize": 200}]}),
    )
    .await;
    assert_eq!(instance(&emu, &ids[0]).await["DataDisks"][0]["DiskSize"], 200);
    assert_eq!(
        refused(
            &emu,
            "ResizeInstanceDisks",
            json!({"InstanceId": ids[0], "DataDisks": [{"DiskId": disk, "DiskSize": 100}]})
        )
        .await,
        "InvalidParameter.DiskSizeNotMatch"
    );
    ok(&emu, "StartInstances", json!({"InstanceIds": [ids[0]]})).await;
    assert_eq!(
        refused(
            &emu,
            "ResizeInstanceDisks",
            json!({"InstanceId": ids[0], "DataDisks": [{"DiskId": disk, "DiskSize": 300}]})
        )
        .await,
        "UnsupportedOperation.InstanceStateRunning"
    );
    ok(
        &emu,
        "ResizeInstanceDisks",
        json!({"InstanceId": ids[0], "DataDisks": [{"DiskId": disk, "DiskSize": 300}], "ResizeOnline": true}),
    )
    .await;
    assert_eq!(instance(&emu, &ids[0]).await["DataDisks"][0]["DiskSize"], 300);
}
