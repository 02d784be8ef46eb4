//! A bad `waiters.json` gets a clear error naming the file, the JSON path
//! and the problem; the paging rule picks the right actions.

use serde_json::{json, Value};

const API: &str = include_str!("fixtures/paging/api.json");
const ERRORS: &str = include_str!("fixtures/paging/errors.json");
const RULES: &str = include_str!("fixtures/paging/rules.json");
const WAITERS: &str = include_str!("fixtures/paging/waiters.json");

fn problems(waiters: &Value) -> Vec<String> {
    match codegen::model_from_texts(API, ERRORS, RULES, Some(&waiters.to_string())) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(|p| p.to_string()).collect(),
    }
}

fn base() -> Value {
    serde_json::from_str(WAITERS).unwrap()
}

#[track_caller]
fn assert_reports(waiters: &Value, expected: &str) {
    let found = problems(waiters);
    assert!(
        found.iter().any(|p| p.contains(expected)),
        "expected a problem containing {expected:?}, got {found:#?}"
    );
}

#[test]
fn the_fixture_is_valid_and_pages_as_expected() {
    assert_eq!(problems(&base()), Vec::<String>::new());
    let model = codegen::model_from_texts(API, ERRORS, RULES, Some(WAITERS)).unwrap();
    let paged: Vec<(&str, Option<i64>)> = model
        .actions
        .iter()
        .filter_map(|a| a.paging.as_ref().map(|p| (a.name.as_str(), p.max_page_size)))
        .collect();
    assert_eq!(
        paged,
        [
            ("DescribeThings", Some(50)),
            ("ListPools", Some(20)),
            // Offset and Limit are strings: no maximum.
            ("ListSlots", None),
            ("ListThings", Some(100))
        ]
    );
    assert_eq!(model.waiters.len(), 4);
}

#[test]
fn unknown_action() {
    let mut w = base();
    w["waiters"]["ThingsReady"]["action"] = json!("DescribeThing");
    assert_reports(
        &w,
        "waiters.json: waiters.ThingsReady.action: no action `DescribeThing` (did you mean `DescribeThings`?)",
    );
}

#[test]
fn a_path_that_does_not_exist() {
    let mut w = base();
    w["waiters"]["ThingsReady"]["acceptors"][1]["matcher"]["path"] = json!("Stat");
    assert_reports(
        &w,
        "waiters.json: waiters.ThingsReady.acceptors[1].matcher.path: `Thing` has no member `Stat` (did you mean `State`?)",
    );
    let mut w = base();
    w["waiters"]["ThingsHealthy"]["acceptors"][1]["matcher"]["path"] = json!("Health.Stats");
    assert_reports(
        &w,
        "waiters.ThingsHealthy.acceptors[1].matcher.path: `Health` has no member `Stats`",
    );
    let mut w = base();
    w["waiters"]["ThingsHealthy"]["acceptors"][1]["matcher"]["path"] = json!("Health");
    assert_reports(&w, "path `Health` ends at an object");
    let mut w = base();
    w["waiters"]["BatchDone"]["acceptors"][0]["matcher"]["path"] = json!("ThingSet");
    assert_reports(
        &w,
        "waiters.BatchDone.acceptors[0].matcher.path: `ThingSet` in path `ThingSet` is a list",
    );
}

#[test]
fn a_bad_comparator_or_state() {
    let mut w = base();
    w["waiters"]["ThingsReady"]["acceptors"][0]["matcher"]["comparator"] = json!("some");
    assert_reports(
        &w,
        "waiters.json: waiters.ThingsReady.acceptors[0].matcher.comparator: unknown variant `some`, expected one of `all`, `any`, `equals`",
    );
    let mut w = base();
    w["waiters"]["ThingsReady"]["acceptors"][0]["state"] = json!("done");
    assert_reports(
        &w,
        "waiters.ThingsReady.acceptors[0].state: unknown variant `done`",
    );
}

#[test]
fn expected_values_and_ids_are_checked() {
    let mut w = base();
    w["waiters"]["ThingsHealthy"]["acceptors"][0]["matcher"]["expected"] = json!("zero");
    assert_reports(
        &w,
        "waiters.ThingsHealthy.acceptors[0].matcher.expected: `zero` is not a uint64 value",
    );
    let mut w = base();
    w["waiters"]["ThingsReady"]["ids"]["key"] = json!("Id");
    assert_reports(&w, "waiters.ThingsReady.ids.key: `Thing` has no member `Id`");
    let mut w = base();
    w["waiters"]["ThingsReady"]["ids"]["items"] = json!("Summary");
    assert_reports(
        &w,
        "waiters.ThingsReady.ids.items: `Summary` must be a list of objects",
    );
    let mut w = base();
    w["waiters"]["ThingsReady"]["ids"]["input"] = json!("Limit");
    assert_reports(
        &w,
        "waiters.ThingsReady.ids.input: `Limit` must be a list of strings",
    );
}

#[test]
fn delays_names_and_acceptors_are_checked() {
    let mut w = base();
    w["waiters"]["ThingsReady"]["min_delay"] = json!(0);
    assert_reports(&w, "waiters.ThingsReady.min_delay: must be at least 1 second");
    let mut w = base();
    w["waiters"]["ThingsReady"]["max_delay"] = json!(100);
    assert_reports(&w, "waiters.ThingsReady.deadline: 60 is less than max_delay 100");
    let mut w = base();
    w["waiters"]["ThingsReady"]["acceptors"] = json!([{"state": "failure", "matcher": {"path": "State", "comparator": "any", "expected": "BROKEN"}}]);
    assert_reports(
        &w,
        "waiters.ThingsReady.acceptors: needs at least one success acceptor",
    );
    let mut w = base();
    w["waiters"]["thingsReady"] = w["waiters"]["ThingsReady"].clone();
    assert_reports(
        &w,
        "waiters.thingsReady: waiter name `thingsReady` is not a CamelCase identifier",
    );
    let mut w = base();
    w["waiters"]["ThingsReady"]["colour"] = json!("blue");
    assert_reports(
        &w,
        "waiters.json: waiters.ThingsReady.colour: unknown field `colour`",
    );
}

#[test]
fn awaited_ids_must_fit_on_one_page() {
    let rules: Value = serde_json::from_str(RULES).unwrap();
    let mut looser = rules.clone();
    looser["objects"]["DescribeThingsRequest"]["ThingIds"]["max_items"] = json!(200);
    let found = match codegen::model_from_texts(API, ERRORS, &looser.to_string(), Some(WAITERS)) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(|p| p.to_string()).collect(),
    };
    assert!(
        found
            .iter()
            .any(|p| p.contains("waiters.ThingsReady.ids.input: `ThingIds` must allow no more ids")),
        "{found:#?}"
    );
}
