//! The tag service on the resources the emulator keeps: a tag lives where
//! the resource's own description keeps it, so every listing agrees.

use crate::common::described::{assert_described, model};
use crate::common::*;
use serde_json::{json, Value};

async fn tag(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> Value {
    let answer = Call {
        service: "tag".into(),
        version: Some("2018-08-13".into()),
        ..Call::post(action, body.clone())
    }
    .send(emu)
    .await;
    if code(&answer).is_empty() {
        assert_described(&model("tag", "v20180813"), action, &answer);
    }
    answer
}

fn name(service: &str, prefix: &str, id: &str) -> String {
    format!("qcs::{service}:{REGION}:uin/100000000001:{prefix}/{id}")
}

#[tokio::test]
async fn tags_live_where_each_resource_keeps_them() {
    let (emu, ids) = seeded(config(), 2, "RUNNING").await;
    let vpc = Call {
        service: "vpc".into(),
        ..Call::post(
            "CreateVpc",
            json!({"VpcName": "tagged", "CidrBlock": "10.40.0.0/16"}),
        )
    }
    .send(&emu)
    .await["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resources = json!([
        name("cvm", "instance", &ids[0]),
        name("vpc", "vpc", &vpc),
        name("cvm", "instance", "ins-00000000")
    ]);
    let tagged = tag(
        &emu,
        "TagResources",
        json!({"ResourceList": resources, "Tags": [{"TagKey": "team", "TagValue": "infra"}, {"TagKey": "env", "TagValue": "dev"}]}),
    )
    .await;
    assert_eq!(code(&tagged), "", "{tagged}");
    let failed = tagged["FailedResources"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{tagged}");
    assert!(failed[0]["Resource"].as_str().unwrap().ends_with("ins-00000000"));

    // The instance's own listing and filters see them.
    let by_tag = Call::post(
        "DescribeInstances",
        json!({"Filters": [{"Name": "tag:team", "Values": ["infra"]}]}),
    )
    .send(&emu)
    .await;
    assert_eq!(by_tag["TotalCount"], 1, "{by_tag}");
    assert_eq!(by_tag["InstanceSet"][0]["InstanceId"], ids[0].as_str());
    let vpcs = Call {
        service: "vpc".into(),
        ..Call::post("DescribeVpcs", json!({"VpcIds": [vpc]}))
    }
    .send(&emu)
    .await;
    assert_eq!(vpcs["VpcSet"][0]["TagSet"].as_array().unwrap().len(), 2, "{vpcs}");

    // Listed by the tag service, with each key's and value's MD5.
    let listed = tag(
        &emu,
        "DescribeResourceTagsByResourceIds",
        json!({"ServiceType": "cvm", "ResourcePrefix": "instance", "ResourceIds": ids, "ResourceRegion": REGION}),
    )
    .await;
    assert_eq!(listed["TotalCount"], 2, "{listed}");
    assert_eq!(listed["Tags"][0]["TagKeyMd5"].as_str().unwrap().len(), 32);

    // A value replaced, a key removed.
    let again = tag(
        &emu,
        "TagResources",
        json!({"ResourceList": [name("cvm", "instance", &ids[0])], "Tags": [{"TagKey": "env", "TagValue": "prod"}]}),
    )
    .await;
    assert_eq!(code(&again), "", "{again}");
    let removed = tag(
        &emu,
        "UnTagResources",
        json!({"ResourceList": [name("cvm", "instance", &ids[0])], "TagKeys": ["team"]}),
    )
    .await;
    assert_eq!(code(&removed), "", "{removed}");
    let instance = Call::post("DescribeInstances", json!({"InstanceIds": [ids[0]]}))
        .send(&emu)
        .await;
    assert_eq!(
        instance["InstanceSet"][0]["Tags"],
        json!([{"Key": "env", "Value": "prod"}])
    );

    for (body, expected) in [
        (
            json!({"ResourceList": ["ins-abcd1234"], "Tags": [{"TagKey": "a", "TagValue": "b"}]}),
            "InvalidParameterValue.ResourceDescriptionError",
        ),
        (
            json!({"ResourceList": [name("cvm", "instance", &ids[1])], "Tags": [{"TagKey": "qcloud:x", "TagValue": "b"}]}),
            "InvalidParameterValue.ReservedTagKey",
        ),
        (
            json!({"ResourceList": [name("cvm", "instance", &ids[1])], "Tags": [{"TagKey": "a", "TagValue": "1"}, {"TagKey": "a", "TagValue": "2"}]}),
            "InvalidParameterValue.TagKeyDuplicate",
        ),
    ] {
        assert_eq!(
            code(&tag(&emu, "TagResources", body.clone()).await),
            expected,
            "{body}"
        );
    }
}
