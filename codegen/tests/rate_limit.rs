//! An action's documented rate limit (`rules.json`'s `rate_limits`) reaches
//! generated code as `Action::RATE_LIMIT` and as a doc line made from the
//! data; an action without one, and every official entry, gets neither.

use std::collections::BTreeSet;

use serde_json::{json, Value};

const API: &str = include_str!("fixtures/minimal/api.json");
const ERRORS: &str = include_str!("fixtures/minimal/errors.json");
const RULES: &str = include_str!("fixtures/minimal/rules.json");

/// The generated `client.rs` of `model`.
fn client_rs(model: &codegen::Model) -> String {
    codegen::generate(model, "x")
        .expect("generation succeeds")
        .into_iter()
        .find(|f| f.name == "client.rs")
        .expect("a client.rs")
        .contents
}

/// The `Action` impl of `request` in `client`.
fn action_impl<'a>(client: &'a str, request: &str) -> &'a str {
    let start = client
        .find(&format!(
            "impl tencentcloud_runtime::Action for super::types::{request} {{"
        ))
        .unwrap_or_else(|| panic!("no Action impl for {request}"));
    let rest = &client[start..];
    &rest[..rest.find("\n}").expect("the impl ends")]
}

/// The minimal fixture with `rate_limits` set to `limits`.
fn minimal_client(limits: Value) -> String {
    let mut rules: Value = serde_json::from_str(RULES).unwrap();
    rules["rate_limits"] = limits;
    let model = codegen::model_from_sources(API, ERRORS, &rules.to_string()).expect("the spec is valid");
    client_rs(&model)
}

#[test]
fn the_constant_appears_for_a_limited_action_only() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fleet");
    let client = client_rs(&codegen::load_dir(&dir).unwrap());
    assert!(
        action_impl(&client, "StartInstancesRequest").contains("const RATE_LIMIT: Option<u32> = Some(10);"),
        "{client}"
    );
    assert!(
        !action_impl(&client, "DescribeInstancesRequest").contains("RATE_LIMIT"),
        "{client}"
    );
    assert_eq!(client.matches("RATE_LIMIT").count(), 1, "{client}");
}

#[test]
fn the_doc_line_comes_from_the_data() {
    let line = |n: u32| format!("/// - Documented rate limit: {n} requests per second per account.");
    let with_25 = minimal_client(json!({"StartInstances": 25}));
    assert!(with_25.contains(&line(25)), "{with_25}");
    assert!(with_25.contains("const RATE_LIMIT: Option<u32> = Some(25);"));
    // Another figure in the data, another line; no figure, no line.
    let with_7 = minimal_client(json!({"StartInstances": 7}));
    assert!(
        with_7.contains(&line(7)) && !with_7.contains(&line(25)),
        "{with_7}"
    );
    let without = minimal_client(json!({}));
    assert!(
        !without.contains("rate limit") && !without.contains("RATE_LIMIT"),
        "{without}"
    );
}

/// The facade's build script and `xtask import` model official entries:
/// they have no `rules.json`, so no limits.
#[test]
fn official_entries_have_no_limits() {
    let api = tencentcloud_model::parse_api(API).unwrap();
    let json = tencentcloud_model::official::entry_json(&api, &BTreeSet::new()).unwrap();
    let entry = tencentcloud_model::official::parse_entry(&json).unwrap();
    let model = codegen::official_model(&entry).expect("the entry models");
    assert!(model.actions.iter().all(|a| a.rate_limit.is_none()));
    let client = client_rs(&model);
    assert!(!client.contains("RATE_LIMIT") && !client.contains("rate limit"));
}
