//! A bad spec gets a clear error naming the file, the JSON path and the
//! problem: one test per kind of mistake, and never a panic.

use proptest::prelude::*;
use serde_json::{json, Value};

const API: &str = include_str!("fixtures/minimal/api.json");
const ERRORS: &str = include_str!("fixtures/minimal/errors.json");
const RULES: &str = include_str!("fixtures/minimal/rules.json");

fn base() -> (Value, Value, Value) {
    (
        serde_json::from_str(API).unwrap(),
        serde_json::from_str(ERRORS).unwrap(),
        serde_json::from_str(RULES).unwrap(),
    )
}

/// The problems reported for a spec, as `file: path: message` lines.
fn problems(api: &Value, errors: &Value, rules: &Value) -> Vec<String> {
    problems_text(&api.to_string(), &errors.to_string(), &rules.to_string())
}

fn problems_text(api: &str, errors: &str, rules: &str) -> Vec<String> {
    match codegen::model_from_sources(api, errors, rules) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(|p| p.to_string()).collect(),
    }
}

#[track_caller]
fn assert_reports(found: Vec<String>, expected: &str) {
    assert!(
        found.iter().any(|p| p.contains(expected)),
        "expected a problem containing {expected:?}, got {found:#?}"
    );
}

fn member0(api: &mut Value) -> &mut Value {
    &mut api["objects"]["StartInstancesRequest"]["members"][0]
}

#[test]
fn the_fixture_is_valid() {
    let (api, errors, rules) = base();
    assert_eq!(problems(&api, &errors, &rules), Vec::<String>::new());
}

#[test]
fn unknown_type() {
    let (mut api, errors, rules) = base();
    member0(&mut api)["type"] = json!("strin");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0].type: unknown variant `strin`",
    );
}

#[test]
fn unknown_member_type() {
    let (mut api, errors, rules) = base();
    member0(&mut api)["type"] = json!("int");
    member0(&mut api)["member"] = json!("int32");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0].member: unknown member type `int32` for type `int` (expected int64 or uint64)",
    );
}

#[test]
fn dangling_object_reference() {
    let (mut api, errors, rules) = base();
    api["objects"]["Placement"] = json!({"document": "", "members": [], "type": "object"});
    member0(&mut api)["type"] = json!("object");
    member0(&mut api)["member"] = json!("Placment");
    let found = problems(&api, &errors, &rules);
    assert_reports(
        found,
        "api.json: objects.StartInstancesRequest.members[0].member: references unknown object `Placment` (did you mean `Placement`?)",
    );
}

#[test]
fn duplicate_member() {
    let (mut api, errors, rules) = base();
    let copy = member0(&mut api).clone();
    api["objects"]["StartInstancesRequest"]["members"]
        .as_array_mut()
        .unwrap()
        .push(copy);
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[1].name: duplicate member `InstanceIds` (first at members[0])",
    );
}

#[test]
fn duplicate_key_in_a_json_object() {
    let (api, _, _) = base();
    let action = api["actions"]["StartInstances"].to_string();
    let api = API.replacen(
        r#""StartInstances": {"#,
        &format!(r#""StartInstances": {action}, "StartInstances": {{"#),
        1,
    );
    assert_reports(
        problems_text(&api, ERRORS, RULES),
        "api.json: actions: duplicate key `StartInstances`",
    );
}

#[test]
fn action_without_input_or_output() {
    let (mut api, errors, rules) = base();
    api["actions"]["StartInstances"]
        .as_object_mut()
        .unwrap()
        .remove("input");
    api["actions"]["StartInstances"]
        .as_object_mut()
        .unwrap()
        .remove("output");
    let found = problems(&api, &errors, &rules);
    assert_reports(
        found.clone(),
        "api.json: actions.StartInstances: action has no input object",
    );
    assert_reports(
        found,
        "api.json: actions.StartInstances: action has no output object",
    );
}

#[test]
fn action_input_names_a_missing_object() {
    let (mut api, errors, rules) = base();
    api["actions"]["StartInstances"]["input"] = json!("StartInstanceRequest");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: actions.StartInstances.input: references unknown object `StartInstanceRequest` (did you mean `StartInstancesRequest`?)",
    );
}

#[test]
fn output_without_request_id() {
    let (mut api, errors, rules) = base();
    api["objects"]["StartInstancesResponse"]["members"] = json!([]);
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesResponse: output object of `StartInstances` has no `RequestId` member",
    );
}

#[test]
fn member_name_that_is_not_an_identifier() {
    let (mut api, errors, rules) = base();
    member0(&mut api)["name"] = json!("Instance Ids");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0].name: member name `Instance Ids` is not an identifier",
    );
}

#[test]
fn missing_required_key() {
    let (mut api, errors, rules) = base();
    member0(&mut api).as_object_mut().unwrap().remove("member");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0]: missing field `member`",
    );
}

#[test]
fn unexpected_key_is_named() {
    let (mut api, errors, rules) = base();
    member0(&mut api)["requird"] = json!(true);
    assert_reports(problems(&api, &errors, &rules), "unknown field `requird`");
}

#[test]
fn malformed_json_names_line_and_column() {
    assert_reports(
        problems_text("{\n  \"actions\": [", ERRORS, RULES),
        "api.json: actions: invalid type",
    );
    assert_reports(
        problems_text("{ \"version\": ", ERRORS, RULES),
        "api.json: version: EOF while parsing a value at line 1 column 13",
    );
}

#[test]
fn bad_metadata() {
    let (mut api, errors, rules) = base();
    api["metadata"]["apiVersion"] = json!("2017-3-12");
    api["metadata"]["serviceShortName"] = json!("CVM");
    let found = problems(&api, &errors, &rules);
    assert_reports(
        found.clone(),
        "api.json: metadata.apiVersion: `2017-3-12` is not a date like 2017-03-12",
    );
    assert_reports(
        found,
        "api.json: metadata.serviceShortName: `CVM` is not a lower-case service name",
    );
}

/// Adds an object named `name` with no members, reached from the request.
fn add_reached_object(api: &mut Value, name: &str) {
    api["objects"][name] = json!({"document": "", "members": [], "type": "object"});
    let members = api["objects"]["StartInstancesRequest"]["members"]
        .as_array_mut()
        .unwrap();
    let field = format!("Field{}", members.len());
    members.push(json!({"document": "", "member": name, "name": field, "type": "object"}));
}

fn model(api: &Value, errors: &Value, rules: &Value) -> codegen::Model {
    let model = codegen::model_from_sources(&api.to_string(), &errors.to_string(), &rules.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    codegen::generate(&model, "x").expect("a valid model generates");
    model
}

fn rust_type(model: &codegen::Model, object: &str) -> String {
    model.type_name(object).to_owned()
}

// No official description has such a pair today, but the rule that renames
// `Option` covers it: two objects whose names differ only in case get
// distinct types, the later in wire order with `Value`.
#[test]
fn objects_that_become_the_same_rust_type_are_told_apart() {
    let (mut api, errors, rules) = base();
    add_reached_object(&mut api, "Data_disk");
    add_reached_object(&mut api, "DataDisk");
    add_reached_object(&mut api, "DataDiskValue");
    let model = model(&api, &errors, &rules);
    assert_eq!(rust_type(&model, "DataDisk"), "DataDisk");
    assert_eq!(rust_type(&model, "DataDiskValue"), "DataDiskValue");
    assert_eq!(rust_type(&model, "Data_disk"), "DataDiskValue2");
}

#[test]
fn unknown_error_code_in_an_action_list() {
    let (api, mut errors, rules) = base();
    errors["actions"]["StartInstances"] = json!(["InvalidInstanceId.NotFund"]);
    assert_reports(
        problems(&api, &errors, &rules),
        "errors.json: actions.StartInstances[0]: unknown error code `InvalidInstanceId.NotFund` (not in `codes`) (did you mean `InvalidInstanceId.NotFound`?)",
    );
}

#[test]
fn unknown_error_code_in_the_common_list() {
    let (api, mut errors, rules) = base();
    errors["common"] = json!(["RequestLimitExceeded"]);
    assert_reports(
        problems(&api, &errors, &rules),
        "errors.json: common[0]: unknown error code `RequestLimitExceeded` (not in `codes`)",
    );
}

#[test]
fn error_list_for_an_unknown_action() {
    let (api, mut errors, rules) = base();
    errors["actions"]["StopInstances"] = json!([]);
    assert_reports(
        problems(&api, &errors, &rules),
        "errors.json: actions.StopInstances: no action `StopInstances` in api.json (did you mean `StartInstances`?)",
    );
}

#[test]
fn malformed_and_repeated_error_codes() {
    let (api, mut errors, rules) = base();
    errors["codes"]["Bad Code"] = json!("");
    errors["actions"]["StartInstances"] = json!(["MissingParameter", "MissingParameter"]);
    let found = problems(&api, &errors, &rules);
    assert_reports(
        found.clone(),
        "errors.json: codes.Bad Code: `Bad Code` is not an error code",
    );
    assert_reports(
        found,
        "errors.json: actions.StartInstances[1]: `MissingParameter` is listed twice",
    );
}

#[test]
fn rules_that_do_not_fit() {
    let (api, errors, mut rules) = base();
    rules["objects"]["StartInstancesRequest"]["InstanceIds"] =
        json!({"min_items": 5, "max_items": 1, "pattern": "(", "minimum": 1});
    rules["objects"]["StartInstancesRequest"]["InstanceId"] = json!({});
    rules["objects"]["StopInstancesRequest"] = json!({});
    let found = problems(&api, &errors, &rules);
    for expected in [
        "rules.json: objects.StartInstancesRequest.InstanceIds: min_items 5 is greater than max_items 1",
        "rules.json: objects.StartInstancesRequest.InstanceIds.pattern: invalid regular expression",
        "rules.json: objects.StartInstancesRequest.InstanceIds: minimum/maximum apply only to integers",
        "rules.json: objects.StartInstancesRequest.InstanceId: `StartInstancesRequest` has no member `InstanceId` (did you mean `InstanceIds`?)",
        "rules.json: objects.StopInstancesRequest: no object `StopInstancesRequest` in api.json",
    ] {
        assert_reports(found.clone(), expected);
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let (mut api, mut errors, rules) = base();
    member0(&mut api)["member"] = json!("Nope");
    member0(&mut api)["type"] = json!("object");
    errors["actions"]["StartInstances"] = json!(["Nope"]);
    let found = problems(&api, &errors, &rules);
    // The dangling reference, the unknown code, and two rules that no longer fit.
    assert_eq!(found.len(), 4, "{found:#?}");
    assert_reports(
        found.clone(),
        "api.json: objects.StartInstancesRequest.members[0].member",
    );
    assert_reports(found.clone(), "errors.json: actions.StartInstances[0]");
    assert_reports(found, "rules.json: objects.StartInstancesRequest.InstanceIds");
}

#[test]
fn display_counts_the_problems() {
    let (mut api, errors, rules) = base();
    api["objects"]["StartInstancesResponse"]["members"] = json!([]);
    let err =
        codegen::model_from_sources(&api.to_string(), &errors.to_string(), &rules.to_string()).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("the spec has 1 problem:\n  api.json: objects.StartInstancesResponse:"));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9_.]{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "string",
            "int",
            "list",
            "object",
            "int64",
            "StartInstancesRequest"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(api in ".{0,200}", errors in ".{0,50}") {
        let _ = codegen::model_from_sources(&api, &errors, RULES);
    }

    /// Replace any one member field of the valid spec with an arbitrary value.
    #[test]
    fn arbitrary_member_values_never_panic(
        key in prop::sample::select(vec!["type", "member", "name", "required", "example", "document"]),
        value in json_value(),
    ) {
        let (mut api, errors, rules) = base();
        member0(&mut api)[key] = value;
        if let Ok(model) = codegen::model_from_sources(&api.to_string(), &errors.to_string(), &rules.to_string()) {
            codegen::generate(&model, "x").expect("a valid model always generates");
        }
    }

    #[test]
    fn arbitrary_objects_never_panic(objects in json_value()) {
        let (mut api, errors, rules) = base();
        api["objects"] = objects;
        if let Ok(model) = codegen::model_from_sources(&api.to_string(), &errors.to_string(), &rules.to_string()) {
            codegen::generate(&model, "x").expect("a valid model always generates");
        }
    }
}

fn add_action(api: &mut Value, name: &str) {
    let action = api["actions"]["StartInstances"].clone();
    api["actions"][name] = action;
}

fn method(model: &codegen::Model, action: &str) -> String {
    model.method(model.action(action).unwrap()).to_owned()
}

#[test]
fn actions_that_become_the_same_method_are_told_apart() {
    let (mut api, errors, rules) = base();
    add_action(&mut api, "Start_Instances");
    let model = model(&api, &errors, &rules);
    assert_eq!(method(&model, "StartInstances"), "start_instances");
    assert_eq!(method(&model, "Start_Instances"), "start_instances_2");
    let enums: Vec<&str> = model.actions.iter().map(|a| model.error_enum(a)).collect();
    assert_eq!(enums, ["StartInstancesError", "StartInstancesErrorValue"]);
}

#[test]
fn an_action_named_like_a_client_method_is_renamed() {
    let (mut api, errors, rules) = base();
    add_action(&mut api, "Send");
    add_action(&mut api, "WithOptions");
    let model = model(&api, &errors, &rules);
    assert_eq!(method(&model, "Send"), "send_2");
    assert_eq!(method(&model, "WithOptions"), "with_options_2");
}

// Found by `cargo xtask services`: ess and lke have an object `Option`, gs and
// ssl `Error`, iai and scf `Result`, tiia `Box`.
#[test]
fn an_object_named_like_a_generated_type_is_renamed() {
    let (mut api, errors, rules) = base();
    for name in [
        "StartInstancesError",
        "String",
        "Option",
        "Error",
        "Result",
        "Box",
        "Client",
        "Self",
    ] {
        add_reached_object(&mut api, name);
    }
    let model = model(&api, &errors, &rules);
    for (object, rust) in [
        ("StartInstancesError", "StartInstancesErrorValue"),
        ("String", "StringValue"),
        ("Option", "OptionValue"),
        ("Error", "ErrorValue"),
        ("Result", "ResultValue"),
        ("Box", "BoxValue"),
        ("Client", "ClientValue"),
        ("Self", "Self_"),
    ] {
        assert_eq!(rust_type(&model, object), rust, "{object}");
    }
    assert_eq!(model.error_enum(&model.actions[0]), "StartInstancesError");
}

#[test]
fn request_id_that_is_not_a_string() {
    let (mut api, errors, rules) = base();
    api["objects"]["StartInstancesResponse"]["members"][0]["type"] = json!("int");
    api["objects"]["StartInstancesResponse"]["members"][0]["member"] = json!("int64");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesResponse: `RequestId` must be a string",
    );
}

#[test]
fn a_scalar_named_as_an_object() {
    let (mut api, errors, rules) = base();
    member0(&mut api)["type"] = json!("object");
    member0(&mut api)["member"] = json!("string");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0].member: `string` is not allowed with type `object`",
    );
}

#[test]
fn a_service_name_that_cannot_name_a_macro() {
    let (mut api, errors, rules) = base();
    api["metadata"]["serviceShortName"] = json!("9cvm");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: metadata.serviceShortName: `9cvm` is not a lower-case service name",
    );
}

#[test]
fn codes_that_become_the_same_variant() {
    let (api, mut errors, rules) = base();
    errors["codes"]["invalidInstanceId.notFound"] = json!("");
    errors["actions"]["StartInstances"] = json!(["InvalidInstanceId.NotFound", "invalidInstanceId.notFound"]);
    assert_reports(
        problems(&api, &errors, &rules),
        "errors.json: actions.StartInstances: `InvalidInstanceId.NotFound` and `invalidInstanceId.notFound` both become the variant `InvalidInstanceId_NotFound`",
    );
}

#[test]
fn rules_on_an_object_only_responses_use() {
    let (api, errors, mut rules) = base();
    rules["objects"]["StartInstancesResponse"] = json!({"RequestId": {"pattern": "^x$"}});
    assert_reports(
        problems(&api, &errors, &rules),
        "rules.json: objects.StartInstancesResponse: `StartInstancesResponse` appears only in responses; rules check requests",
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever codes a spec lists, a spec that validates generates enums
    /// whose variants are distinct (a clash would not compile).
    #[test]
    fn arbitrary_error_codes_give_distinct_variants_or_a_spec_error(
        codes in prop::collection::vec("[A-Za-z][A-Za-z0-9]{0,3}(\\.[A-Za-z][A-Za-z0-9]{0,3})?", 1..8),
        service in "[a-z0-9]{0,4}",
    ) {
        let (mut api, mut errors, rules) = base();
        api["metadata"]["serviceShortName"] = json!(service);
        for code in &codes {
            errors["codes"][code] = json!("");
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        errors["actions"]["StartInstances"] = json!(unique);
        errors["common"] = json!(unique);
        if let Ok(model) = codegen::model_from_sources(&api.to_string(), &errors.to_string(), &rules.to_string()) {
            codegen::generate(&model, "x").expect("a valid model always generates");
            let lists = model
                .actions
                .iter()
                .map(|a| a.errors.iter().map(|c| model.variant(a, c)).collect::<Vec<_>>())
                .chain([model.common_errors.iter().map(|c| model.common_variant(c)).collect()]);
            for mut variants in lists {
                variants.sort();
                let before = variants.len();
                variants.dedup();
                prop_assert_eq!(before, variants.len());
            }
        }
    }
}

/// Objects left behind by a removed action are refused, each by name, rather
/// than generated with optionality guessed from no side (their `RequestId`
/// would become an `Option` whose docs say "always present").
#[test]
fn objects_no_action_reaches() {
    let (mut api, errors, rules) = base();
    api["objects"]["StopInstancesRequest"] = json!({"document": "", "type": "object", "members": [
        {"document": "", "member": "Placement", "name": "Placement", "required": true, "type": "object"}
    ]});
    api["objects"]["Placement"] = json!({"document": "", "type": "object", "members": [
        {"document": "", "member": "string", "name": "Zone", "required": true, "type": "string"}
    ]});
    api["objects"]["StopInstancesResponse"] = api["objects"]["StartInstancesResponse"].clone();
    let mut with_action = api.clone();
    with_action["actions"]["StopInstances"] = json!({"document": "", "input": "StopInstancesRequest",
        "name": "Stop instances", "output": "StopInstancesResponse", "status": "online"});
    assert_eq!(problems(&with_action, &errors, &rules), Vec::<String>::new());

    let found = problems(&api, &errors, &rules);
    let expected: Vec<String> = ["Placement", "StopInstancesRequest", "StopInstancesResponse"]
        .iter()
        .map(|o| {
            format!(
                "api.json: objects.{o}: no action reaches `{o}`; delete it (and any rules for it), or add the action that uses it"
            )
        })
        .collect();
    assert_eq!(found, expected);
}

// Found by `cargo xtask services`: member types and flags of the official
// descriptions that CVM's never used.
#[test]
fn date_and_binary_members_are_strings() {
    let (mut api, errors, rules) = base();
    let members = api["objects"]["StartInstancesRequest"]["members"]
        .as_array_mut()
        .unwrap();
    members.push(json!({"document": "", "member": "date", "name": "Day", "type": "string"}));
    members.push(json!({"document": "", "member": "date", "name": "Days", "type": "list"}));
    members.push(
        json!({"document": "", "member": "binary", "name": "File", "required": true, "type": "binary"}),
    );
    members.push(json!({"document": "", "member": "bool", "name": "Flags", "type": "list"}));
    members.push(json!({"document": "", "member": "float", "name": "Weights", "type": "list"}));
    let model = model(&api, &errors, &rules);
    let types = codegen::generate(&model, "x")
        .unwrap()
        .into_iter()
        .find(|f| f.name == "types.rs")
        .unwrap();
    for field in [
        "pub day: Option<String>,",
        "pub days: Option<Vec<String>>,",
        "pub file: String,",
        "pub flags: Option<Vec<bool>>,",
        "pub weights: Option<Vec<f64>>,",
    ] {
        assert!(
            types.contents.contains(field),
            "{field} not in\n{}",
            types.contents
        );
    }
}

#[test]
fn binary_is_only_binary() {
    let (mut api, errors, rules) = base();
    member0(&mut api)["member"] = json!("string");
    member0(&mut api)["type"] = json!("binary");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0].member: unknown member type `string` for type `binary` (expected binary)",
    );
}

// databuddy 2026-07-15 writes `"required": 1`.
#[test]
fn flags_may_be_one_or_zero_but_nothing_else() {
    let (mut api, errors, rules) = base();
    member0(&mut api)["required"] = json!(1);
    member0(&mut api)["disabled"] = json!(0);
    let model = model(&api, &errors, &rules);
    let member = &model.object("StartInstancesRequest").unwrap().members[0];
    assert!(member.required && !member.deprecated);
    member0(&mut api)["required"] = json!(2);
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0].required: invalid flag `2`, expected true, false, 1 or 0",
    );
    member0(&mut api)["required"] = json!("yes");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: objects.StartInstancesRequest.members[0].required: invalid flag `\"yes\"`",
    );
}

// Nine official actions (aai's `Chat`, ...) have no `status`; sts marks two `skip_sign`.
#[test]
fn status_is_optional_and_skip_sign_is_known() {
    let (mut api, errors, rules) = base();
    let action = api["actions"]["StartInstances"].as_object_mut().unwrap();
    action.remove("status");
    action.insert("skip_sign".into(), json!(true));
    model(&api, &errors, &rules);
    api["actions"]["StartInstances"]["skip_sign"] = json!("yes");
    assert_reports(
        problems(&api, &errors, &rules),
        "api.json: actions.StartInstances.skip_sign: invalid type: string",
    );
}

// Found by `cargo xtask services --compile` (monitor): a required bool in an
// object that responses also carry is `Option` in Rust, and its check was
// `Some(value) => v.field("Enabled", |v| {})`, two unused bindings.
#[test]
fn a_required_member_with_nothing_to_check_but_presence() {
    let (mut api, errors, rules) = base();
    api["objects"]["Switch"] = json!({"document": "", "type": "object", "members": [
        {"document": "", "member": "bool", "name": "Enabled", "required": true, "type": "bool"}
    ]});
    let switch = json!({"document": "", "member": "Switch", "name": "Switch", "type": "object"});
    api["objects"]["StartInstancesRequest"]["members"]
        .as_array_mut()
        .unwrap()
        .push(switch.clone());
    api["objects"]["StartInstancesResponse"]["members"]
        .as_array_mut()
        .unwrap()
        .push(switch);
    let model = model(&api, &errors, &rules);
    let types = codegen::generate(&model, "x")
        .unwrap()
        .into_iter()
        .find(|f| f.name == "types.rs")
        .unwrap();
    let text = types.contents;
    assert!(text.contains("pub enabled: Option<bool>,"), "{text}");
    assert!(text.contains("if self.enabled.is_none() {"), "{text}");
    assert!(!text.contains("|v| {}"), "{text}");
}

// Found by `cargo xtask services --compile`: monitor's two versions share a
// crate, and two `#[macro_export] macro_rules! monitor_actions` clash.
#[test]
fn several_versions_in_one_crate_get_versioned_macros() {
    let (api, errors, rules) = base();
    let model = model(&api, &errors, &rules);
    let mod_rs = |layout| {
        codegen::generate_with(&model, "x", layout)
            .unwrap()
            .into_iter()
            .find(|f| f.name == "mod.rs")
            .unwrap()
            .contents
    };
    assert!(mod_rs(codegen::Layout::default()).contains("macro_rules! cvm_actions {"));
    let versioned = mod_rs(codegen::Layout {
        several_versions: true,
    });
    assert!(
        versioned.contains("macro_rules! cvm_v20170312_actions {"),
        "{versioned}"
    );
    assert!(!versioned.contains("cvm_actions"), "{versioned}");
}

/// A regeneration must not rename what users already name: an object added
/// beside an existing one that differs only in case takes the suffix,
/// whichever sorts first.
#[test]
fn an_object_differing_only_in_case_never_takes_an_existing_name() {
    let (mut api, errors, rules) = base();
    add_reached_object(&mut api, "Gadget");
    let before = model(&api, &errors, &rules);
    assert_eq!(rust_type(&before, "Gadget"), "Gadget");
    add_reached_object(&mut api, "GADGET");
    let after = model(&api, &errors, &rules);
    assert_eq!(rust_type(&after, "Gadget"), "Gadget");
    assert_eq!(rust_type(&after, "GADGET"), "GadgetValue");
}

/// Number and flag setters take the plain type, so an integer literal needs
/// no suffix (`impl Into<u64>` would refuse `3600`, an `i32`) and a `bool`
/// is no number (`impl Into<i64>` would take `true`).
#[test]
fn u64_setters_take_plain_literals() {
    let (mut api, errors, rules) = base();
    api["objects"]["StartInstancesRequest"]["members"]
        .as_array_mut()
        .unwrap()
        .push(json!({"document": "", "member": "uint64", "name": "Seconds", "type": "int"}));
    let model = model(&api, &errors, &rules);
    let files = codegen::generate(&model, "spec/test").unwrap();
    let calls = &files.iter().find(|f| f.name == "calls.rs").unwrap().contents;
    let types = &files.iter().find(|f| f.name == "types.rs").unwrap().contents;
    assert!(
        calls.contains("pub fn seconds(mut self, value: u64) -> Self"),
        "{calls}"
    );
    assert!(
        types.contains("pub fn set_seconds(mut self, value: u64) -> Self"),
        "{types}"
    );
}

/// `with_` begins the options' names and `set_` the set-all setters': a
/// member whose setter would begin with either gets `_member`, so it reads
/// as neither (clb's `WithRs`, vpc's `SetDefaultLimitFlag`).
#[test]
fn member_setters_never_read_as_options_or_set_all() {
    let (mut api, errors, rules) = base();
    let members = api["objects"]["StartInstancesRequest"]["members"]
        .as_array_mut()
        .unwrap();
    members.push(json!({"document": "", "member": "int64", "name": "WithRs", "type": "int"}));
    members.push(json!({"document": "", "member": "bool", "name": "SetFlag", "type": "bool"}));
    let model = model(&api, &errors, &rules);
    let files = codegen::generate(&model, "spec/test").unwrap();
    let calls = &files.iter().find(|f| f.name == "calls.rs").unwrap().contents;
    assert!(
        calls.contains("pub fn with_rs_member(mut self, value: i64)"),
        "{calls}"
    );
    assert!(
        calls.contains("pub fn set_flag_member(mut self, value: bool)"),
        "{calls}"
    );
    assert!(calls.contains("pub fn set_instance_ids("), "{calls}");
}

/// A required member that takes an open enum is checked for emptiness on its
/// value as sent, as a required string is.
#[test]
fn a_required_open_enum_is_checked_as_text() {
    let (mut api, errors, mut rules) = base();
    api["objects"]["StartInstancesRequest"]["members"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"document": "", "member": "string", "name": "Mode", "required": true, "type": "string"}),
        );
    rules["enums"] = json!({"Mode": {"values": ["SOFT", "HARD"], "members": ["StartInstancesRequest.Mode"]}});
    let model = model(&api, &errors, &rules);
    let files = codegen::generate(&model, "spec/test").unwrap();
    let types = &files.iter().find(|f| f.name == "types.rs").unwrap().contents;
    assert!(types.contains("pub mode: Mode,"), "{types}");
    assert!(types.contains("v.required_str(value.as_str());"), "{types}");
}
