//! The provisioning flow people test, with our SDK (CVM, VPC and CBS
//! clients on one runtime): discover a zone, image and type; make a key
//! pair, VPC, subnet and security group with a rule; run 3 instances into
//! them with a data disk and tags; list them by tag and by VPC; attach one
//! more disk; rename one; stop, resize and start them; make an image; tear
//! everything down in order, each refusal out of order asserted. Once in
//! one process, once across a `kill -9` and restart halfway.
//! `tests/python/scenario.py` runs the same flow with the official SDK.

use std::time::Duration;

use cbs_api::types as cbs;
use cvm_api::runtime::{ActionError, Client as Runtime, Config, Credentials, Endpoint, Error, SecretKey};
use cvm_api::types as cvm;
use vpc_api::types as vpc;

use crate::common::{config, start, REGION};
use crate::durability;

struct Clients {
    cvm: cvm_api::Client,
    vpc: vpc_api::Client,
    cbs: cbs_api::Client,
}

fn clients(url: &str) -> Clients {
    let runtime = Runtime::new(
        Config::new(Credentials::new(
            cvm_emulator::DEMO_SECRET_ID,
            SecretKey::new(cvm_emulator::DEMO_SECRET_KEY),
        ))
        .with_endpoint(Endpoint::custom(url).unwrap())
        .with_region(REGION)
        .with_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    Clients {
        cvm: cvm_api::Client::new(&runtime),
        vpc: vpc_api::Client::new(&runtime),
        cbs: cbs_api::Client::new(&runtime),
    }
}

/// The service's code of a call that must fail.
fn refusal<T: std::fmt::Debug, E: ActionError + std::fmt::Debug + std::fmt::Display>(
    result: Result<T, Error<E>>,
) -> String {
    match result {
        Err(Error::Service(e)) => e.service_error().code().to_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// What the first half made, for the second.
struct Made {
    key: String,
    vpc: String,
    subnet: String,
    group: String,
    instances: Vec<String>,
    extra_disk: String,
}

async fn states(c: &Clients, ids: &[String]) -> Vec<String> {
    let set = c
        .cvm
        .describe_instances()
        .set_instance_ids(ids.to_vec())
        .send()
        .await
        .unwrap()
        .instance_set;
    set.into_iter()
        .map(|i| i.instance_state.as_str().to_owned())
        .collect()
}

/// Steps 1 to 5: discover, make the network and key, run, list, attach.
async fn first_half(c: &Clients) -> Made {
    // 1. A zone, an image and a type from the catalogs.
    let zone = c
        .cvm
        .describe_zones()
        .send()
        .await
        .unwrap()
        .zone_set
        .remove(0)
        .zone;
    let image = c
        .cvm
        .describe_images()
        .filters(
            cvm::Filter::new()
                .set_name("platform")
                .set_values(vec!["Ubuntu".to_owned()]),
        )
        .send()
        .await
        .unwrap()
        .image_set
        .remove(0)
        .image_id;
    let instance_type = c
        .cvm
        .describe_instance_type_configs()
        .filters(cvm::Filter::new().set_name("zone").set_values(vec![zone.clone()]))
        .filters(
            cvm::Filter::new()
                .set_name("instance-family")
                .set_values(vec!["S5".to_owned()]),
        )
        .send()
        .await
        .unwrap()
        .instance_type_config_set
        .into_iter()
        .find(|t| t.cpu == 2 && t.memory == 4)
        .expect("an S5 with 2 cores and 4 GB")
        .instance_type;

    // 2. A key pair, a VPC, a subnet and a security group with a rule.
    let key = c
        .cvm
        .create_key_pair()
        .key_name("scenario")
        .project_id(0)
        .send()
        .await
        .unwrap()
        .key_pair
        .key_id;
    let vpc_id = c
        .vpc
        .create_vpc()
        .vpc_name("scenario")
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .vpc_id;
    let subnet = c
        .vpc
        .create_subnet()
        .vpc_id(vpc_id.clone())
        .subnet_name("scenario")
        .zone(zone.clone())
        .cidr_block("10.20.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet
        .subnet_id
        .unwrap();
    let group = c
        .vpc
        .create_security_group()
        .group_name("scenario")
        .group_description("ssh from the office")
        .send()
        .await
        .unwrap()
        .security_group
        .security_group_id;
    c.vpc
        .create_security_group_policies()
        .security_group_id(group.clone())
        .security_group_policy_set(vpc::SecurityGroupPolicySet::new().set_ingress(
            vec![vpc::SecurityGroupPolicy::new()
                .set_protocol("TCP")
                .set_port("22")
                .set_cidr_block("203.0.113.0/24")
                .set_action("ACCEPT")],
        ))
        .send()
        .await
        .unwrap();

    // 3. Three instances into them, with a data disk and tags.
    let instances = c
        .cvm
        .run_instances()
        .placement(cvm::Placement::new().set_zone(zone.clone()))
        .image_id(image)
        .instance_type(instance_type)
        .instance_count(3)
        .virtual_private_cloud(
            cvm::VirtualPrivateCloud::new()
                .set_vpc_id(vpc_id.clone())
                .set_subnet_id(subnet.clone()),
        )
        .security_group_ids(group.clone())
        .login_settings(cvm::LoginSettings::new().set_key_ids(vec![key.clone()]))
        .data_disks(
            cvm::DataDisk::new()
                .set_disk_type("CLOUD_PREMIUM")
                .set_disk_size(50),
        )
        .tag_specification(
            cvm::TagSpecification::new()
                .set_resource_type("instance")
                .set_tags(vec![cvm::Tag::new().set_key("env").set_value("scenario")]),
        )
        .send()
        .await
        .unwrap()
        .instance_id_set;
    assert_eq!(instances.len(), 3);
    assert_eq!(states(c, &instances).await, ["RUNNING"; 3]);

    // 4. Listed by tag and by VPC.
    for filter in [
        cvm::Filter::new()
            .set_name("tag:env")
            .set_values(vec!["scenario".to_owned()]),
        cvm::Filter::new()
            .set_name("vpc-id")
            .set_values(vec![vpc_id.clone()]),
    ] {
        let listed = c
            .cvm
            .describe_instances()
            .filters(filter.clone())
            .send()
            .await
            .unwrap();
        let mut ids: Vec<String> = listed
            .instance_set
            .iter()
            .map(|i| i.instance_id.clone())
            .collect();
        ids.sort();
        let mut expected = instances.clone();
        expected.sort();
        assert_eq!(ids, expected, "{filter:?}");
        assert!(
            listed.instance_set.iter().all(|i| i.data_disks.len() == 1),
            "{listed:?}"
        );
    }

    // 5. One more disk, attached to the first instance.
    let extra_disk = c
        .cbs
        .create_disks()
        .placement(cbs::Placement::new().set_zone(zone))
        .disk_charge_type("POSTPAID_BY_HOUR")
        .disk_type("CLOUD_SSD")
        .disk_size(100)
        .send()
        .await
        .unwrap()
        .disk_id_set
        .unwrap()
        .remove(0);
    c.cbs
        .attach_disks()
        .instance_id(instances[0].clone())
        .disk_ids(extra_disk.clone())
        .send()
        .await
        .unwrap();
    Made {
        key,
        vpc: vpc_id,
        subnet,
        group,
        instances,
        extra_disk,
    }
}

/// Steps 6 to 9: rename, resize, image, and tear down in order.
async fn second_half(c: &Clients, made: Made) {
    let ids = &made.instances;
    let first = c
        .cvm
        .describe_instances()
        .instance_ids(ids[0].clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.instance_set[0].data_disks.len(),
        2,
        "the launch's disk and the extra one"
    );

    // 6. Rename one.
    c.cvm
        .modify_instances_attribute()
        .set_instance_ids(vec![ids[1].clone()])
        .instance_name("scenario-renamed")
        .send()
        .await
        .unwrap();

    // 7. Stop, resize and start them.
    c.cvm
        .stop_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(states(c, ids).await, ["STOPPED"; 3]);
    c.cvm
        .reset_instances_type()
        .set_instance_ids(ids.clone())
        .instance_type("S5.LARGE8")
        .send()
        .await
        .unwrap();
    c.cvm
        .start_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await
        .unwrap();
    let running = c
        .cvm
        .describe_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await
        .unwrap();
    for i in &running.instance_set {
        assert_eq!(
            (i.instance_state.as_str(), i.instance_type.as_str(), i.cpu),
            ("RUNNING", "S5.LARGE8", 4)
        );
    }
    assert!(running
        .instance_set
        .iter()
        .any(|i| i.instance_name == "scenario-renamed"));

    // 8. An image of the first.
    let image = c
        .cvm
        .create_image()
        .image_name("scenario")
        .instance_id(ids[0].clone())
        .send()
        .await
        .unwrap()
        .image_id;

    // 9. Out of order first: each refused.
    assert_eq!(
        refusal(c.vpc.delete_vpc().vpc_id(made.vpc.clone()).send().await),
        "ResourceInUse"
    );
    assert_eq!(
        refusal(c.vpc.delete_subnet().subnet_id(made.subnet.clone()).send().await),
        "ResourceInUse"
    );
    assert_eq!(
        refusal(
            c.vpc
                .delete_security_group()
                .security_group_id(made.group.clone())
                .send()
                .await
        ),
        "ResourceInUse"
    );
    assert_eq!(
        refusal(c.cvm.delete_key_pairs().key_ids(made.key.clone()).send().await),
        "InvalidParameterValue.KeyPairNotSupported"
    );
    assert_eq!(
        refusal(
            c.cbs
                .terminate_disks()
                .disk_ids(made.extra_disk.clone())
                .send()
                .await
        ),
        "ResourceUnavailable.Attached"
    );
    // Then in order: instances (their launch disks go with them; the
    // extra disk stays, detached), disks, image, key, group, subnet, VPC.
    c.cvm
        .terminate_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await
        .unwrap();
    let left = c
        .cvm
        .describe_instances()
        .set_instance_ids(ids.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(left.total_count, 0);
    let disks = c.cbs.describe_disks().send().await.unwrap();
    assert_eq!(disks.total_count, 1, "{disks:?}");
    assert_eq!(disks.disk_set[0].disk_state, "UNATTACHED");
    c.cbs
        .terminate_disks()
        .disk_ids(made.extra_disk)
        .send()
        .await
        .unwrap();
    c.cvm.delete_images().image_ids(image).send().await.unwrap();
    c.cvm.delete_key_pairs().key_ids(made.key).send().await.unwrap();
    c.vpc
        .delete_security_group()
        .security_group_id(made.group)
        .send()
        .await
        .unwrap();
    c.vpc.delete_subnet().subnet_id(made.subnet).send().await.unwrap();
    c.vpc.delete_vpc().vpc_id(made.vpc.clone()).send().await.unwrap();
    let vpcs = c.vpc.describe_vpcs().vpc_ids(made.vpc).send().await.unwrap();
    assert_eq!(vpcs.total_count, 0);
}

#[tokio::test]
async fn the_provisioning_flow_with_our_sdk() {
    let emu = start(config()).await;
    let c = clients(&emu.endpoint_url());
    let made = first_half(&c).await;
    second_half(&c, made).await;
}

#[tokio::test]
async fn the_provisioning_flow_survives_kill_9_halfway() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let before = durability::start(&state, 1).serving();
    let made = first_half(&clients(&before.url)).await;
    before.kill_9();
    let after = durability::start(&state, 2).serving();
    second_half(&clients(&after.url), made).await;
}
