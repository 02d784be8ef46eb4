//! Cloud disks with the service's rules: made alone or with an instance,
//! attached to one instance of their zone, terminated only when detached,
//! gone with their instance when made to.

use crate::common::described::{assert_described, model};
use crate::common::*;
use serde_json::{json, Value};

async fn cbs(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> Value {
    Call {
        service: "cbs".into(),
        ..Call::post(action, body)
    }
    .send(emu)
    .await
}

async fn ok(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> Value {
    let answer = cbs(emu, action, body.clone()).await;
    assert_eq!(code(&answer), "", "{action} {body}: {answer}");
    assert_described(&model("cbs", "v20170312"), action, &answer);
    answer
}

async fn refused(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> String {
    let answer = cbs(emu, action, body.clone()).await;
    assert_ne!(code(&answer), "", "{action} {body} succeeded: {answer}");
    code(&answer)
}

fn ids(answer: &Value, member: &str) -> Vec<String> {
    answer[member]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn disks_follow_the_services_rules() {
    let (emu, instances) = seeded(config(), 1, "STOPPED").await;
    let made = ok(
        &emu,
        "CreateDisks",
        json!({"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD",
               "DiskSize": 100, "DiskCount": 2, "DiskName": "data"}),
    )
    .await;
    let disks = ids(&made, "DiskIdSet");
    assert_eq!(disks.len(), 2);
    let elsewhere = ok(
        &emu,
        "CreateDisks",
        json!({"Placement": {"Zone": "ap-guangzhou-4"}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_PREMIUM", "DiskSize": 50}),
    )
    .await;
    let elsewhere = ids(&elsewhere, "DiskIdSet").remove(0);
    for (body, expected) in [
        (
            json!({"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 15}),
            "InvalidParameter.DiskSizeNotMatch",
        ),
        (
            json!({"Placement": {"Zone": "ap-guangzhou-9"}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 20}),
            "InvalidParameterValue.ZoneNotSupported",
        ),
        // Free text is bounded, and tags follow the tag service's rules.
        (
            json!({"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 20,
                   "DiskName": "d".repeat(61)}),
            "InvalidParameterValue",
        ),
        (
            json!({"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_SSD", "DiskSize": 20,
                   "Tags": (0..51).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect::<Vec<_>>()}),
            "LimitExceeded.ResourceAttachedTags",
        ),
    ] {
        assert_eq!(
            refused(&emu, "CreateDisks", body.clone()).await,
            expected,
            "{body}"
        );
    }

    // Attached to one instance of their zone at a time.
    ok(
        &emu,
        "AttachDisks",
        json!({"InstanceId": instances[0], "DiskIds": disks}),
    )
    .await;
    assert_eq!(
        refused(
            &emu,
            "AttachDisks",
            json!({"InstanceId": instances[0], "DiskIds": [disks[0]]})
        )
        .await,
        "ResourceUnavailable.Attached"
    );
    assert_eq!(
        refused(
            &emu,
            "AttachDisks",
            json!({"InstanceId": instances[0], "DiskIds": [elsewhere]})
        )
        .await,
        "ResourceUnavailable.ZoneNotMatch"
    );
    let listed = ok(
        &emu,
        "DescribeDisks",
        json!({"Filters": [{"Name": "instance-id", "Values": [instances[0]]}]}),
    )
    .await;
    assert_eq!(listed["TotalCount"], 2, "{listed}");
    assert!(listed["DiskSet"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["DiskState"] == "ATTACHED"));
    let described = Call::post("DescribeInstances", json!({"InstanceIds": [instances[0]]}))
        .send(&emu)
        .await;
    let data_disks: Vec<&str> = described["InstanceSet"][0]["DataDisks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["DiskId"].as_str().unwrap())
        .collect();
    assert_eq!(data_disks, [disks[0].as_str(), disks[1].as_str()], "{described}");

    // Terminated only when detached.
    assert_eq!(
        refused(&emu, "TerminateDisks", json!({"DiskIds": [disks[0]]})).await,
        "ResourceUnavailable.Attached"
    );
    ok(&emu, "DetachDisks", json!({"DiskIds": [disks[0]]})).await;
    assert_eq!(
        refused(&emu, "DetachDisks", json!({"DiskIds": [disks[0]]})).await,
        "ResourceUnavailable.NotSupported"
    );
    ok(&emu, "TerminateDisks", json!({"DiskIds": [disks[0]]})).await;
    assert_eq!(
        refused(&emu, "TerminateDisks", json!({"DiskIds": [disks[0]]})).await,
        "InvalidDiskId.NotFound"
    );

    // Made with an instance: attached to it, and gone with it; a disk
    // attached afterwards stays, detached.
    let run = Call::post(
        "RunInstances",
        json!({"Placement": {"Zone": ZONE}, "ImageId": "img-9qabwvbn",
               "DataDisks": [{"DiskType": "CLOUD_PREMIUM", "DiskSize": 100}]}),
    )
    .send(&emu)
    .await;
    let launched = ids(&run, "InstanceIdSet").remove(0);
    let with_it = ok(
        &emu,
        "DescribeDisks",
        json!({"Filters": [{"Name": "instance-id", "Values": [launched]}]}),
    )
    .await;
    let its_own = with_it["DiskSet"][0]["DiskId"].as_str().unwrap().to_owned();
    assert_eq!(with_it["DiskSet"][0]["DeleteWithInstance"], true);
    assert_eq!(
        refused(
            &emu,
            "AttachDisks",
            json!({"InstanceId": launched, "DiskIds": [disks[1]]})
        )
        .await,
        "ResourceUnavailable.Attached",
        "already on instance {}",
        instances[0]
    );
    ok(
        &emu,
        "DetachDisks",
        json!({"DiskIds": [disks[1]], "InstanceId": instances[0]}),
    )
    .await;
    ok(
        &emu,
        "AttachDisks",
        json!({"InstanceId": launched, "DiskIds": [disks[1]]}),
    )
    .await;
    let gone = Call::post("TerminateInstances", json!({"InstanceIds": [launched]}))
        .send(&emu)
        .await;
    assert_eq!(code(&gone), "", "{gone}");
    let after = ok(&emu, "DescribeDisks", json!({"DiskIds": [its_own, disks[1]]})).await;
    assert_eq!(after["TotalCount"], 1, "{after}");
    assert_eq!(after["DiskSet"][0]["DiskId"], disks[1].as_str());
    assert_eq!(after["DiskSet"][0]["DiskState"], "UNATTACHED");
    ok(&emu, "TerminateDisks", json!({"DiskIds": [disks[1], elsewhere]})).await;
    assert_eq!(ok(&emu, "DescribeDisks", json!({})).await["TotalCount"], 0);
}

/// A retry with the same ClientToken answers what the first call made,
/// across a restart too; another token makes more.
#[tokio::test]
async fn client_tokens_make_creation_safe_to_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start(config().with_state_file(&path)).await;
    let disks = json!({"Placement": {"Zone": ZONE}, "DiskChargeType": "POSTPAID_BY_HOUR", "DiskType": "CLOUD_PREMIUM",
                       "DiskSize": 20, "DiskCount": 2, "ClientToken": "once-only"});
    let first = ids(&ok(&emu, "CreateDisks", disks.clone()).await, "DiskIdSet");
    assert_eq!(
        ids(&ok(&emu, "CreateDisks", disks.clone()).await, "DiskIdSet"),
        first
    );
    let addresses = json!({"AddressCount": 1, "ClientToken": "once-only"});
    let eip = Call {
        service: "vpc".into(),
        ..Call::post("AllocateAddresses", addresses.clone())
    };
    let allocated = eip.send(&emu).await["AddressSet"].clone();
    assert_eq!(eip.send(&emu).await["AddressSet"], allocated);
    emu.shutdown().await;
    let again = start(config().with_state_file(&path)).await;
    assert_eq!(
        ids(&ok(&again, "CreateDisks", disks.clone()).await, "DiskIdSet"),
        first
    );
    assert_eq!(eip.send(&again).await["AddressSet"], allocated);
    let mut other = disks;
    other["ClientToken"] = "another".into();
    assert_ne!(ids(&ok(&again, "CreateDisks", other).await, "DiskIdSet"), first);
    assert_eq!(ok(&again, "DescribeDisks", json!({})).await["TotalCount"], 4);
}
