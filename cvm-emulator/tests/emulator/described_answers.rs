//! Every action the emulator keeps state for answers as its description
//! says: each answer is held against the action's output (see
//! `common::described`).

use crate::common::described::{assert_described, model};
use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn instance_answers_hold_to_the_description() {
    let (emu, ids) = seeded(config(), 2, "RUNNING").await;
    let cvm = model("cvm", "v20170312");
    let run = Call::post(
        "RunInstances",
        json!({"Placement": {"Zone": ZONE}, "ImageId": "img-pmqg1cw7", "InstanceCount": 1}),
    )
    .send(&emu)
    .await;
    assert_described(&cvm, "RunInstances", &run);
    for (action, body) in [
        ("DescribeInstances", json!({})),
        ("DescribeInstancesStatus", json!({})),
        ("StopInstances", json!({"InstanceIds": [ids[0]]})),
        ("StartInstances", json!({"InstanceIds": [ids[0]]})),
        ("RebootInstances", json!({"InstanceIds": [ids[1]]})),
        ("TerminateInstances", json!({"InstanceIds": [ids[1]]})),
    ] {
        let answer = Call::post(action, body).send(&emu).await;
        assert_eq!(code(&answer), "", "{action}: {answer}");
        assert_described(&cvm, action, &answer);
    }
    // The network the instances live in, as VPC lists it.
    let vpc = model("vpc", "v20170312");
    for action in ["DescribeVpcs", "DescribeSubnets"] {
        let answer = Call {
            service: "vpc".into(),
            ..Call::post(action, json!({}))
        }
        .send(&emu)
        .await;
        assert_eq!(code(&answer), "", "{action}: {answer}");
        assert!(answer["TotalCount"].as_u64().unwrap() > 0, "{answer}");
        assert_described(&vpc, action, &answer);
    }
}

/// The README's table of what the emulator answers from state lists
/// exactly the emulated actions of each service.
#[test]
fn the_readme_lists_what_is_emulated() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let row = |service: &str| -> Vec<String> {
        let section = readme
            .split("## The emulator: what it emulates")
            .nth(1)
            .expect("the README's emulator section");
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("| {service} ")))
            .unwrap_or_else(|| panic!("no README row for {service}"));
        line.split('`').skip(1).step_by(2).map(str::to_owned).collect()
    };
    let sorted = |actions: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = actions.iter().map(|a| (*a).to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(row("cvm"), sorted(cvm_emulator::EMULATED_ACTIONS));
    assert_eq!(row("vpc"), sorted(cvm_emulator::VPC_EMULATED_ACTIONS));
    assert_eq!(row("sts"), sorted(cvm_emulator::STS_EMULATED_ACTIONS));
    assert_eq!(row("cbs"), sorted(cvm_emulator::CBS_EMULATED_ACTIONS));
    assert_eq!(row("tag"), sorted(cvm_emulator::TAG_EMULATED_ACTIONS));
    assert!(row("clb").is_empty(), "clb");
}
