//! The checks on a small description: each verdict, its precedence and its
//! path. (The emulator's tests compare them with the typed requests of every
//! CVM action.)

use serde_json::{json, Value};
use tencentcloud_model::check::{check, decode_violations, input_of, rule_violations};
use tencentcloud_model::{Model, Problem, Violation};

/// The verdict a gateway gives: the kind and its dotted path.
#[derive(Debug, PartialEq)]
enum Verdict {
    Invalid { path: String },
    Unknown { path: String },
    Missing { path: String },
}

fn verdict(violations: &[Violation]) -> Option<Verdict> {
    let v = tencentcloud_model::validate::gateway_choice(violations)?;
    let path = v.path.to_string();
    Some(match v.problem {
        Problem::Invalid(_) => Verdict::Invalid { path },
        Problem::Unknown => Verdict::Unknown { path },
        Problem::Missing => Verdict::Missing { path },
        ref other => panic!("not a decoding problem: {other:?}"),
    })
}

const API: &str = r#"{
  "actions": {
    "RunThings": { "document": "", "input": "RunThingsRequest", "name": "Run things", "output": "RunThingsResponse", "status": "online" }
  },
  "metadata": { "apiVersion": "2020-01-01", "serviceShortName": "demo" },
  "objects": {
    "RunThingsRequest": { "document": "", "type": "object", "members": [
      { "document": "", "member": "string", "name": "Name", "required": true, "type": "string" },
      { "document": "", "member": "int64", "name": "Count", "required": false, "type": "int" },
      { "document": "", "member": "string", "name": "Ids", "required": true, "type": "list" },
      { "document": "", "member": "Place", "name": "Place", "required": false, "type": "object" },
      { "document": "", "member": "bool", "name": "DryRun", "required": false, "type": "bool" }
    ]},
    "Place": { "document": "", "type": "object", "members": [
      { "document": "", "member": "string", "name": "Zone", "required": true, "type": "string" }
    ]},
    "RunThingsResponse": { "document": "", "type": "object", "members": [
      { "document": "", "member": "string", "name": "RequestId", "type": "string" }
    ]}
  },
  "version": "1.0"
}"#;
const ERRORS: &str = r#"{ "codes": {}, "common": [], "actions": {} }"#;
const RULES: &str = r#"{ "objects": { "RunThingsRequest": {
  "Count": { "minimum": 1, "maximum": 10 },
  "Ids": { "max_items": 2, "pattern": "^id-[0-9]+$" }
} } }"#;

fn model() -> Model {
    tencentcloud_model::model_from_sources(API, ERRORS, RULES).expect("the description builds")
}

fn problem(params: Value) -> Option<Verdict> {
    let model = model();
    let input = input_of(&model, "RunThings").unwrap();
    verdict(&decode_violations(&model, input, &params))
}

fn rules(params: Value) -> Vec<(String, String)> {
    let model = model();
    let input = input_of(&model, "RunThings").unwrap();
    rule_violations(&model, input, &params)
        .into_iter()
        .map(|v| (v.path.to_string(), v.problem.to_string()))
        .collect()
}

fn invalid_at(problem: Option<Verdict>) -> String {
    match problem {
        Some(Verdict::Invalid { path }) => path,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn scalars_are_read_leniently_and_never_lossily() {
    let ok = json!({"Name": 12, "Ids": ["id-1"], "Count": " 7 ", "DryRun": "True", "Place": {"Zone": true}});
    assert_eq!(problem(ok), None);
    assert_eq!(problem(json!({"Name": "a", "Ids": [], "Count": 4.0})), None);
    for (params, path) in [
        (json!({"Name": [], "Ids": []}), "Name"),
        (json!({"Name": "a", "Ids": "id-1"}), "Ids"),
        (json!({"Name": "a", "Ids": [["x"]]}), "Ids.0"),
        (json!({"Name": "a", "Ids": [], "Count": 2.5}), "Count"),
        (json!({"Name": "a", "Ids": [], "Count": "seven"}), "Count"),
        (
            json!({"Name": "a", "Ids": [], "Count": 9223372036854775808u64}),
            "Count",
        ),
        (json!({"Name": "a", "Ids": [], "DryRun": "yes"}), "DryRun"),
        (json!({"Name": 1e300, "Ids": []}), "Name"),
        (json!({"Name": null, "Ids": []}), "Name"),
        (json!({"Name": "a", "Ids": [], "Place": "x"}), "Place"),
        (
            json!({"Name": "a", "Ids": [], "Place": {"Zone": {}}}),
            "Place.Zone",
        ),
        (json!([]), ""),
    ] {
        assert_eq!(invalid_at(problem(params.clone())), path, "{params}");
    }
}

#[test]
fn invalid_before_unknown_before_missing_and_unknown_nulls_are_absent() {
    let all = json!({"Zzz": 1, "Count": "x", "Place": {}});
    assert!(matches!(problem(all), Some(Verdict::Invalid { .. })));
    assert_eq!(
        problem(json!({"Zzz": 1, "Place": {}})),
        Some(Verdict::Unknown { path: "Zzz".into() })
    );
    assert_eq!(
        problem(json!({"Name": "a", "Ids": [], "Place": {"Zone": "z", "Deep": 1}})),
        Some(Verdict::Unknown {
            path: "Place.Deep".into()
        })
    );
    assert_eq!(
        problem(json!({"Zzz": null, "Ids": []})),
        Some(Verdict::Missing { path: "Name".into() })
    );
    assert_eq!(
        problem(json!({"Name": "a", "Ids": [], "Place": {}})),
        Some(Verdict::Missing {
            path: "Place.Zone".into()
        })
    );
    // Optional members may be null: as good as absent.
    assert_eq!(
        problem(json!({"Name": "a", "Ids": [], "Count": null, "Place": null})),
        None
    );
}

#[test]
fn rules_in_declared_order_with_the_runtime_words() {
    assert_eq!(rules(json!({"Name": "a", "Ids": ["id-1"]})), vec![]);
    assert_eq!(
        rules(json!({"Name": "", "Ids": ["x", "id-2", "id-3"], "Count": "0"})),
        vec![
            ("Name".to_owned(), "is required but empty".to_owned()),
            ("Count".to_owned(), "is 0; must be at least 1".to_owned()),
            ("Ids".to_owned(), "has 3 items; at most 2 allowed".to_owned()),
            ("Ids.0".to_owned(), "`x` does not match `^id-[0-9]+$`".to_owned()),
        ]
    );
    assert_eq!(
        rules(json!({"Name": "a", "Ids": [], "Count": 11})),
        vec![
            ("Count".to_owned(), "is 11; must be at most 10".to_owned()),
            ("Ids".to_owned(), "is required but empty".to_owned()),
        ]
    );
    let missing = rule_violations(
        &model(),
        input_of(&model(), "RunThings").unwrap(),
        &json!({"Name": "", "Ids": ["id-1"]}),
    );
    assert_eq!(missing[0].problem, Problem::Empty);
    assert_eq!(missing[0].gateway_code(), "MissingParameter");
    // A request that does not decode is judged on that alone.
    let all = check(
        &model(),
        input_of(&model(), "RunThings").unwrap(),
        &json!({"Name": "", "Ids": ["x"], "Zzz": 1}),
    );
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].gateway_code(), "UnknownParameter");
}

/// A description whose required member is its own object: left out, it is
/// missing (an object member of a request is optional in the model, so its
/// empty value is never expanded, however recursive the description).
#[test]
fn a_recursive_required_object_left_out_is_missing_and_never_expanded() {
    let api = r#"{
      "actions": { "Walk": { "document": "", "input": "WalkRequest", "name": "Walk", "output": "WalkResponse", "status": "online" } },
      "metadata": { "apiVersion": "2020-01-01", "serviceShortName": "demo" },
      "objects": {
        "WalkRequest": { "document": "", "type": "object", "members": [
          { "document": "", "member": "Node", "name": "Root", "required": true, "type": "object" } ]},
        "Node": { "document": "", "type": "object", "members": [
          { "document": "", "member": "string", "name": "Name", "required": true, "type": "string" },
          { "document": "", "member": "Node", "name": "Next", "required": true, "type": "object" } ]},
        "WalkResponse": { "document": "", "type": "object", "members": [
          { "document": "", "member": "string", "name": "RequestId", "type": "string" } ]}
      },
      "version": "1.0"
    }"#;
    let model = tencentcloud_model::model_from_sources(api, ERRORS, r#"{ "objects": {} }"#).expect("builds");
    let input = input_of(&model, "Walk").unwrap();
    let left_out = json!({"Root": {"Name": "a"}});
    assert_eq!(verdict(&decode_violations(&model, input, &left_out)), None);
    let all = check(&model, input, &left_out);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (all[0].path.to_string(), &all[0].problem),
        ("Root.Next".to_owned(), &Problem::Missing)
    );
    let violations = rule_violations(
        &model,
        input,
        &json!({"Root": {"Name": "a", "Next": {"Name": ""}}}),
    );
    let paths: Vec<String> = violations.iter().map(|v| v.path.to_string()).collect();
    assert_eq!(paths, ["Root.Next.Name", "Root.Next.Next"]);
}
