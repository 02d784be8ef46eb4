//! `cargo xtask import` on small in-memory specs.

use serde_json::json;
use xtask::import::{import, Options, SpecFiles};

fn official() -> serde_json::Value {
    json!({
        "actions": {
            "StopInstances": {"document": "停止实例", "input": "StopInstancesRequest", "name": "关闭实例",
                              "output": "StopInstancesResponse", "status": "online"},
            "StartInstances": {"document": "启动实例", "input": "StartInstancesRequest", "name": "启动实例",
                               "output": "StartInstancesResponse", "status": "online"}
        },
        "metadata": {"apiVersion": "2017-03-12", "serviceShortName": "cvm", "api_brief": "云服务器"},
        "objects": {
            "StopInstancesRequest": {"document": "参数", "type": "object", "members": [
                {"disabled": false, "document": "实例", "example": "[\"ins-r8hr2upy\"]", "member": "string",
                 "name": "InstanceIds", "required": true, "type": "list"},
                {"disabled": true, "document": "强制", "example": "无", "member": "bool",
                 "name": "ForceStop", "required": false, "type": "bool"},
                {"disabled": false, "document": "位置", "example": "", "member": "Placement",
                 "name": "Placement", "required": false, "type": "object"}
            ]},
            "Placement": {"document": "位置", "usage": "both", "members": [
                {"disabled": false, "document": "可用区", "example": "ap-guangzhou-3", "member": "string",
                 "name": "Zone", "required": true, "type": "string"}
            ]},
            "StopInstancesResponse": {"document": "", "type": "object", "members": [
                {"document": "请求ID", "member": "string", "name": "RequestId", "type": "string"}
            ]},
            "StartInstancesRequest": {"document": "", "type": "object", "members": []},
            "StartInstancesResponse": {"document": "", "type": "object", "members": [
                {"document": "", "member": "string", "name": "RequestId", "type": "string"}
            ]}
        },
        "version": "1.0"
    })
}

fn ours() -> SpecFiles {
    let api = json!({
        "actions": {}, "metadata": {"apiVersion": "2017-03-12", "serviceShortName": "cvm"},
        "objects": {}, "version": "1.0"
    });
    SpecFiles {
        api: codegen::parse_api(&api.to_string()).unwrap(),
        errors: codegen::parse_errors(r#"{"codes": {}, "common": [], "actions": {}}"#).unwrap(),
    }
}

fn opts(actions: &[&str]) -> Options {
    Options {
        from: "official/api.json".into(),
        actions: actions.iter().map(|s| s.to_string()).collect(),
        all: false,
        keep_docs: false,
        errors_from: None,
        overwrite: false,
    }
}

#[test]
fn copies_facts_and_reachable_objects_but_not_prose() {
    let mut spec = ours();
    let report = import(&mut spec, &official().to_string(), &opts(&["StopInstances"])).unwrap();
    assert_eq!(
        (
            report.actions_added,
            report.objects_added,
            report.examples_dropped
        ),
        (1, 3, 1)
    );
    let text = xtask::import::to_stable_json(&spec.api).unwrap();
    assert!(text.is_ascii(), "prose leaked: {text}");
    let action = &spec.api.actions.0["StopInstances"];
    assert_eq!(action.name, "Stop instances");
    assert_eq!(action.document, "");
    let request = &spec.api.objects.0["StopInstancesRequest"];
    assert_eq!(request.members[0].example.as_deref(), Some("[\"ins-r8hr2upy\"]"));
    assert_eq!(request.members[1].example.as_deref(), Some(""));
    assert_eq!(request.members[1].disabled, Some(true));
    assert!(spec.api.objects.0.contains_key("Placement"));
    assert!(!spec.api.actions.0.contains_key("StartInstances"));
}

#[test]
fn keep_docs_keeps_tencents_text() {
    let mut spec = ours();
    let mut o = opts(&["StopInstances"]);
    o.keep_docs = true;
    import(&mut spec, &official().to_string(), &o).unwrap();
    assert_eq!(spec.api.actions.0["StopInstances"].document, "停止实例");
    assert_eq!(spec.api.objects.0["Placement"].members[0].document, "可用区");
}

#[test]
fn our_own_docs_survive_a_reimport() {
    let mut spec = ours();
    import(&mut spec, &official().to_string(), &opts(&["StopInstances"])).unwrap();
    spec.api.actions.0.get_mut("StopInstances").unwrap().document = "Stops instances.".into();
    spec.api.objects.0.get_mut("Placement").unwrap().members[0].document = "Availability zone.".into();
    let report = import(&mut spec, &official().to_string(), &opts(&["StopInstances"])).unwrap();
    assert_eq!((report.actions_updated, report.objects_updated), (0, 0));
    assert_eq!(spec.api.actions.0["StopInstances"].document, "Stops instances.");
    assert_eq!(
        spec.api.objects.0["Placement"].members[0].document,
        "Availability zone."
    );
}

#[test]
fn a_missing_action_names_the_closest_ones() {
    let err = import(&mut ours(), &official().to_string(), &opts(&["StopInstance"]))
        .err()
        .unwrap();
    assert_eq!(
        err,
        "no action `StopInstance` in official/api.json; closest: StopInstances, StartInstances"
    );
}

#[test]
fn a_conflicting_object_says_which_members_differ() {
    let mut spec = ours();
    import(&mut spec, &official().to_string(), &opts(&["StopInstances"])).unwrap();
    let mut changed = official();
    changed["objects"]["Placement"]["members"][0]["type"] = json!("list");
    changed["objects"]["Placement"]["members"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"document": "", "member": "int64", "name": "ProjectId", "required": false, "type": "int"}),
        );
    let err = import(&mut spec.clone(), &changed.to_string(), &opts(&["StopInstances"]))
        .err()
        .unwrap();
    assert!(
        err.contains("object `Placement` differs from official/api.json"),
        "{err}"
    );
    assert!(err.contains("member `ProjectId`: only in theirs"), "{err}");
    assert!(
        err.contains("member `Zone`: ours string<string> required=true"),
        "{err}"
    );
    assert!(err.contains("theirs list<string> required=true"), "{err}");
    let mut o = opts(&["StopInstances"]);
    o.overwrite = true;
    let report = import(&mut spec, &changed.to_string(), &o).unwrap();
    assert_eq!(report.objects_updated, 1);
}

#[test]
fn mismatched_service_is_refused() {
    let mut other = official();
    other["metadata"]["serviceShortName"] = json!("vpc");
    let err = import(&mut ours(), &other.to_string(), &opts(&["StopInstances"]))
        .err()
        .unwrap();
    assert!(
        err.contains("metadata.serviceShortName `vpc`, ours has `cvm`"),
        "{err}"
    );
}
