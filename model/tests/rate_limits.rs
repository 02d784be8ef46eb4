//! `rules.json`'s `rate_limits`: parsed into each action's `rate_limit`,
//! refused with the file, the JSON path and the problem when wrong, and
//! stated by the action's facts from the data alone.

use tencentcloud_model::facts::{self, Ref, Render, Topic};
use tencentcloud_model::model::MAX_RATE_LIMIT;
use tencentcloud_model::partial::model_of_action;
use tencentcloud_model::{Model, SpecErrors};

const API: &str = r#"{
  "actions": {
    "DescribeThings": { "document": "", "input": "DescribeThingsRequest", "name": "Describe things", "output": "DescribeThingsResponse", "status": "online" },
    "StartThings": { "document": "", "input": "StartThingsRequest", "name": "Start things", "output": "StartThingsResponse", "status": "online" }
  },
  "metadata": { "apiVersion": "2020-01-01", "serviceShortName": "demo" },
  "objects": {
    "DescribeThingsRequest": { "document": "", "type": "object", "members": [] },
    "DescribeThingsResponse": { "document": "", "type": "object", "members": [
      { "document": "", "member": "string", "name": "RequestId", "type": "string" }
    ]},
    "StartThingsRequest": { "document": "", "type": "object", "members": [] },
    "StartThingsResponse": { "document": "", "type": "object", "members": [
      { "document": "", "member": "string", "name": "RequestId", "type": "string" }
    ]}
  },
  "version": "1.0"
}"#;
const ERRORS: &str = r#"{ "codes": {}, "common": [], "actions": {} }"#;

fn rules(rate_limits: &str) -> String {
    format!(r#"{{ "objects": {{}}, "rate_limits": {rate_limits} }}"#)
}

fn build(rate_limits: &str) -> Result<Model, SpecErrors> {
    tencentcloud_model::model_from_sources(API, ERRORS, &rules(rate_limits))
}

/// The problems reported, as `file: path: message` lines.
fn problems(rate_limits: &str) -> Vec<String> {
    match build(rate_limits) {
        Ok(_) => panic!("{rate_limits} was accepted"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn each_action_gets_its_documented_limit_and_none_without_one() {
    let model = build(r#"{ "StartThings": 10 }"#).unwrap();
    assert_eq!(model.action("StartThings").unwrap().rate_limit, Some(10));
    assert_eq!(model.action("DescribeThings").unwrap().rate_limit, None);
    let model = build(&format!(
        r#"{{ "StartThings": 1, "DescribeThings": {MAX_RATE_LIMIT} }}"#
    ))
    .unwrap();
    assert_eq!(model.action("StartThings").unwrap().rate_limit, Some(1));
    assert_eq!(
        model.action("DescribeThings").unwrap().rate_limit,
        Some(MAX_RATE_LIMIT)
    );
}

#[test]
fn rate_limits_are_optional() {
    let model = tencentcloud_model::model_from_sources(API, ERRORS, r#"{ "objects": {} }"#).unwrap();
    assert!(model.actions.iter().all(|a| a.rate_limit.is_none()));
}

#[test]
fn an_unknown_action_is_named_with_the_nearest_one() {
    assert_eq!(
        problems(r#"{ "StartThing": 10 }"#),
        ["rules.json: rate_limits.StartThing: no action `StartThing` in api.json (did you mean `StartThings`?)"]
    );
}

#[test]
fn a_limit_is_a_positive_whole_number_within_bounds() {
    assert_eq!(
        problems(r#"{ "StartThings": 0 }"#),
        ["rules.json: rate_limits.StartThings: a rate limit is a positive number of requests per second, not 0"]
    );
    assert_eq!(
        problems(r#"{ "StartThings": -5 }"#),
        ["rules.json: rate_limits.StartThings: a rate limit is a positive number of requests per second, not -5"]
    );
    assert_eq!(
        problems(&format!(r#"{{ "StartThings": {} }}"#, MAX_RATE_LIMIT + 1)),
        [format!(
            "rules.json: rate_limits.StartThings: {} requests per second is above the largest plausible limit, \
             {MAX_RATE_LIMIT}; check the documented figure",
            MAX_RATE_LIMIT + 1
        )]
    );
    // Each problem at once, each with its own path.
    assert_eq!(problems(r#"{ "StartThings": 0, "Nope": 3 }"#).len(), 2);
}

#[test]
fn a_limit_of_another_type_is_refused_at_its_path() {
    for (value, message) in [
        ("10.5", "invalid type: floating point `10.5`, expected i64"),
        (r#""10""#, r#"invalid type: string "10", expected i64"#),
        ("null", "invalid type: null, expected i64"),
    ] {
        let found = problems(&format!(r#"{{ "StartThings": {value} }}"#));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(&format!("rules.json: rate_limits.StartThings: {message}")),
            "{value}: {found:?}"
        );
    }
    let found = problems(r#"{ "StartThings": 10, "StartThings": 20 }"#);
    assert!(
        found[0].starts_with("rules.json: rate_limits: duplicate key `StartThings`"),
        "{found:?}"
    );
    let found = problems("[10]");
    assert!(
        found[0].starts_with("rules.json: rate_limits: invalid type: sequence"),
        "{found:?}"
    );
}

struct Plain;
impl Render for Plain {
    fn reference(&self, _: &Ref) -> String {
        String::new()
    }
}

fn rate_facts(model: &Model, action: &str) -> Vec<String> {
    facts::action(model, model.action(action).unwrap())
        .iter()
        .filter(|f| f.topic == Topic::RateLimit)
        .map(|f| f.render(&Plain))
        .collect()
}

#[test]
fn the_facts_state_the_limit_from_the_data() {
    let model = build(r#"{ "StartThings": 10, "DescribeThings": 1 }"#).unwrap();
    assert_eq!(
        rate_facts(&model, "StartThings"),
        ["Documented rate limit: 10 requests per second per account."]
    );
    assert_eq!(
        rate_facts(&model, "DescribeThings"),
        ["Documented rate limit: 1 request per second per account."]
    );
    // Right after the retry rule, which it bears on.
    let topics: Vec<Topic> = facts::action(&model, model.action("StartThings").unwrap())
        .iter()
        .map(|f| f.topic)
        .collect();
    let retries = topics.iter().position(|t| *t == Topic::Retries).unwrap();
    assert_eq!(topics[retries + 1], Topic::RateLimit);
    let model = build("{}").unwrap();
    assert!(rate_facts(&model, "StartThings").is_empty());
}

#[test]
fn one_action_models_keep_their_own_limit_only() {
    let errors = tencentcloud_model::parse_errors(ERRORS).unwrap();
    let rules = rules(r#"{ "StartThings": 10, "DescribeThings": 40 }"#);
    let model = model_of_action(API, &errors, Some(&rules), None, "StartThings")
        .unwrap()
        .unwrap();
    assert_eq!(model.actions.len(), 1);
    assert_eq!(model.actions[0].rate_limit, Some(10));
}
