//! What CVM offers, as a provisioning program first asks: regions, zones,
//! images and instance types, each answer held against the description,
//! and what they list launches.

use crate::common::described::{assert_described, model};
use crate::common::*;
use cvm_api::types::*;
use cvm_api::Error;
use serde_json::json;

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::new()
        .set_name(name)
        .set_values(values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>())
}

fn code_of<T, E: std::fmt::Debug + std::fmt::Display>(result: Result<T, Error<E>>) -> String {
    match result {
        Err(Error::Service(e)) => format!("{e:?}").split('(').next().unwrap_or_default().to_owned(),
        Err(other) => format!("{other:?}"),
        Ok(_) => "ok".to_owned(),
    }
}

#[tokio::test]
async fn catalog_answers_hold_to_the_description() {
    let emu = start(config()).await;
    let cvm = model("cvm", "v20170312");
    for (action, body) in [
        ("DescribeRegions", json!({})),
        ("DescribeZones", json!({})),
        ("DescribeImages", json!({"Limit": 100})),
        ("DescribeInstanceTypeConfigs", json!({})),
        ("DescribeZoneInstanceConfigInfos", json!({})),
        (
            "DescribeZoneInstanceConfigInfos",
            json!({"Filters": [{"Name": "instance-charge-type", "Values": ["PREPAID"]}]}),
        ),
    ] {
        let answer = Call::post(action, body).send(&emu).await;
        assert_eq!(code(&answer), "", "{action}: {answer}");
        assert_described(&cvm, action, &answer);
    }
}

#[tokio::test]
async fn a_program_launches_with_what_the_catalog_lists() {
    let emu = start(config()).await;
    let client = emu.client(REGION).unwrap();
    let regions = client.describe_regions().send().await.unwrap();
    assert_eq!(regions.total_count as usize, regions.region_set.len());
    assert!(regions.region_set.iter().any(|r| r.region == REGION));
    let zones = client.describe_zones().send().await.unwrap().zone_set;
    assert!(zones
        .iter()
        .all(|z| z.zone.starts_with("ap-guangzhou-") && z.zone_state == "AVAILABLE"));
    let zone = zones.last().unwrap().zone.clone();

    let images = client
        .describe_images()
        .filters(filter("platform", &["Ubuntu"]))
        .send()
        .await
        .unwrap();
    assert_eq!(images.total_count, 1);
    let image = &images.image_set[0];
    assert_eq!(image.image_type, "PUBLIC_IMAGE");

    let types = client
        .describe_instance_type_configs()
        .filters(filter("zone", &[&zone]))
        .filters(filter("instance-family", &["SA2"]))
        .send()
        .await
        .unwrap()
        .instance_type_config_set;
    assert!(!types.is_empty());
    assert!(types.iter().all(|t| t.zone == zone && t.instance_family == "SA2"));
    let chosen = types.iter().find(|t| t.cpu == 4).unwrap();

    let quota = client
        .describe_zone_instance_config_infos()
        .filters(filter("instance-type", &[&chosen.instance_type]))
        .filters(filter("zone", &[&zone]))
        .send()
        .await
        .unwrap()
        .instance_type_quota_set;
    let charge_types: Vec<&str> = quota.iter().map(|q| q.instance_charge_type.as_str()).collect();
    assert_eq!(charge_types, ["POSTPAID_BY_HOUR", "PREPAID"]);
    assert!(quota[0].price.unit_price.is_some_and(|p| p > 0.0));

    let launched = client
        .run_instances()
        .placement(Placement::new().set_zone(zone.clone()))
        .image_id(image.image_id.clone())
        .instance_type(chosen.instance_type.clone())
        .send()
        .await
        .unwrap()
        .instance_id_set;
    let instance = client
        .describe_instances()
        .instance_ids(launched[0].clone())
        .send()
        .await
        .unwrap()
        .instance_set
        .remove(0);
    assert_eq!(instance.placement.zone, zone);
    assert_eq!(instance.instance_type, chosen.instance_type);
    assert_eq!((instance.cpu, instance.memory), (chosen.cpu, chosen.memory));
    assert_eq!(instance.os_name, image.os_name);
    assert_eq!(instance.default_login_user, "ubuntu");
}

#[tokio::test]
async fn the_catalog_refuses_what_it_does_not_list() {
    let emu = start(config()).await;
    let client = emu.client(REGION).unwrap();
    let launch = |zone: &str, instance_type: &str| {
        client
            .run_instances()
            .placement(Placement::new().set_zone(zone))
            .image_id("img-9qabwvbn")
            .instance_type(instance_type)
            .send()
    };
    assert_eq!(
        code_of(launch("ap-guangzhou-5", "S5.MEDIUM2").await),
        "InvalidParameterValueZoneNotSupported"
    );
    assert_eq!(
        code_of(launch("ap-shanghai-2", "S5.MEDIUM2").await),
        "InvalidZoneMismatchRegion"
    );
    assert_eq!(
        code_of(launch(ZONE, "S5.3XLARGE7").await),
        "InvalidParameterValueInstanceTypeNotFound"
    );
    // Filters: names checked, values counted; ids and filters not together.
    for (body, expected) in [
        (
            json!({"Filters": [{"Name": "os", "Values": ["x"]}]}),
            "InvalidFilter",
        ),
        (
            json!({"ImageIds": ["img-9qabwvbn"], "Filters": [{"Name": "platform", "Values": ["Ubuntu"]}]}),
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
        ),
        (json!({"ImageIds": ["img-BAD"]}), "InvalidImageId.Malformed"),
        (
            json!({"InstanceType": "S5.HUGE2"}),
            "InvalidParameterValue.InstanceTypeNotFound",
        ),
        (
            json!({"Filters": [{"Name": "image-id", "Values": ["a", "b", "c", "d", "e", "f"]}]}),
            "InvalidFilterValue.LimitExceeded",
        ),
    ] {
        let answer = Call::post("DescribeImages", body.clone()).send(&emu).await;
        assert_eq!(code(&answer), expected, "{body}: {answer}");
    }
    for (action, body, expected) in [
        (
            "DescribeInstanceTypeConfigs",
            json!({"Filters": [{"Name": "zone", "Values": ["ap-shanghai-2"]}]}),
            "InvalidZone.MismatchRegion",
        ),
        (
            "DescribeZoneInstanceConfigInfos",
            json!({"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-9"]}]}),
            "InvalidParameterValue.ZoneNotSupported",
        ),
        ("DescribeZones", json!({"Zone": "x"}), "UnknownParameter"),
    ] {
        let answer = Call::post(action, body.clone()).send(&emu).await;
        assert_eq!(code(&answer), expected, "{action} {body}: {answer}");
    }
    // By id, and paged.
    let answer = Call::post(
        "DescribeImages",
        json!({"ImageIds": ["img-9qabwvbn", "img-00000000"]}),
    )
    .send(&emu)
    .await;
    assert_eq!(answer["TotalCount"], 1, "{answer}");
    let page = Call::post("DescribeImages", json!({"Offset": 2, "Limit": 2}))
        .send(&emu)
        .await;
    assert_eq!(page["ImageSet"].as_array().unwrap().len(), 2, "{page}");
    assert!(page["TotalCount"].as_i64().unwrap() > 4, "{page}");
}
