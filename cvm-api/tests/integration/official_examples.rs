//! Every request and response example of the official `examples.json`
//! (tccli 3.1.189.1), through the generated types.

use serde_json::Value;

use crate::support::tccli;

/// Decodes `json` into the action's request type and re-encodes it, or its
/// response type; `None` for an action the generated code does not know.
macro_rules! dispatch {
    ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
        fn request_round_trip(action: &str, json: &Value) -> Option<Result<Value, String>> {
            match action {
                $(stringify!($action) => Some(
                    serde_json::from_value::<cvm_api::types::$req>(json.clone())
                        .map_err(|e| e.to_string())
                        .and_then(|typed| serde_json::to_value(&typed).map_err(|e| e.to_string())),
                ),)*
                _ => None,
            }
        }

        fn response_round_trip(action: &str, json: &Value) -> Option<Result<Value, String>> {
            match action {
                $(stringify!($action) => Some(
                    serde_json::from_value::<cvm_api::types::$resp>(json.clone())
                        .map_err(|e| e.to_string())
                        .and_then(|typed| serde_json::to_value(&typed).map_err(|e| e.to_string())),
                ),)*
                _ => None,
            }
        }

        const ACTIONS: &[&str] = &[$(stringify!($action)),*];
    };
}
cvm_api::cvm_actions!(dispatch);

struct Example {
    action: String,
    /// The request parameters: the JSON body of a POST, or `{}` for a GET
    /// whose query holds only common parameters.
    input: Value,
    output: Value,
}

fn examples() -> Vec<Example> {
    let all: Value = serde_json::from_str(&tccli::read_official("examples.json")).unwrap();
    let mut out = Vec::new();
    for (action, list) in all["actions"].as_object().unwrap() {
        for example in list.as_array().unwrap() {
            let input = example["input"].as_str().unwrap();
            let input = match input.split_once("\n\n") {
                Some((_, body)) => serde_json::from_str(body).unwrap(),
                None => {
                    assert!(
                        input.starts_with("https://"),
                        "{action}: unexpected example {input}"
                    );
                    Value::Object(Default::default())
                }
            };
            let output = serde_json::from_str(example["output"].as_str().unwrap()).unwrap();
            out.push(Example {
                action: action.clone(),
                input,
                output,
            });
        }
    }
    out
}

/// Does `again` (re-encoded from the typed value) keep everything `original`
/// said? A number the spec types as a string (or the reverse) must keep its
/// exact text; `null` may come back absent; members `again` adds (defaults
/// for omitted ones) are allowed only with `allow_extra`.
fn keeps(original: &Value, again: &Value, allow_extra: bool) -> bool {
    match (original, again) {
        (Value::Object(x), Value::Object(y)) => {
            (allow_extra || y.keys().all(|k| x.contains_key(k)))
                && x.iter().all(|(k, v)| match y.get(k) {
                    Some(w) => keeps(v, w, allow_extra),
                    None => v.is_null(),
                })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| keeps(v, w, allow_extra))
        }
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x)) => x.to_string() == *y,
        // Integers exactly; a float member re-encodes 40 as 40.0, the same f64.
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(a), Some(b), _, _) => a == b,
            (_, _, Some(a), Some(b)) => a == b,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => original == again,
    }
}

#[test]
fn every_response_example_decodes_without_losing_a_member() {
    let examples = examples();
    assert_eq!(examples.len(), 123);
    let mut failures = Vec::new();
    for ex in &examples {
        let response = &ex.output["Response"];
        match response_round_trip(&ex.action, response) {
            // A member the types do not know, or under a wrong wire name, would
            // be missing from the re-encoded value.
            Some(Ok(again)) if keeps(response, &again, true) => {}
            Some(Ok(again)) => failures.push(format!("{}: {response} became {again}", ex.action)),
            Some(Err(e)) => failures.push(format!("{}: {e}", ex.action)),
            None => failures.push(format!("{}: no such action in cvm-api", ex.action)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 123 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_request_example_round_trips_without_loss() {
    let mut failures = Vec::new();
    for ex in examples() {
        match request_round_trip(&ex.action, &ex.input) {
            Some(Ok(again)) if keeps(&ex.input, &again, false) => {}
            Some(Ok(again)) => failures.push(format!("{}: {} became {again}", ex.action, ex.input)),
            Some(Err(e)) => failures.push(format!("{}: {e}", ex.action)),
            None => failures.push(format!("{}: no such action in cvm-api", ex.action)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_comparison_notices_loss() {
    let original = serde_json::json!({"A": 1, "B": "x", "C": null});
    assert!(keeps(&original, &serde_json::json!({"A": 1, "B": "x"}), false));
    assert!(keeps(
        &original,
        &serde_json::json!({"A": "1", "B": "x", "D": 0}),
        true
    ));
    assert!(!keeps(
        &original,
        &serde_json::json!({"A": 1, "B": "x", "D": 0}),
        false
    ));
    assert!(!keeps(&original, &serde_json::json!({"B": "x"}), true));
    assert!(!keeps(&original, &serde_json::json!({"A": 2, "B": "x"}), true));
    assert!(!keeps(
        &serde_json::json!({"A": 1.10}),
        &serde_json::json!({"A": "1.100"}),
        true
    ));
}

#[test]
fn the_client_covers_all_106_actions() {
    assert_eq!(ACTIONS.len(), 106);
}
