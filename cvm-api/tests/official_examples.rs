//! Every request and response example of the official `examples.json`
//! (tccli 3.1.189.1), through the generated types.

mod support;

use serde_json::Value;

use support::tccli;

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

        fn decode_response(action: &str, json: &Value) -> Option<Result<(), String>> {
            match action {
                $(stringify!($action) => Some(
                    serde_json::from_value::<cvm_api::types::$resp>(json.clone()).map(|_| ()).map_err(|e| e.to_string()),
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

/// Numbers the spec types as strings (and the reverse) are re-encoded in the
/// spec's type; compare values, not their JSON spelling.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_value(v, w))
        }
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x)) => {
            x.to_string() == *y || y.parse::<f64>().ok() == x.as_f64()
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[test]
fn every_response_example_decodes() {
    let examples = examples();
    assert_eq!(examples.len(), 123);
    let mut failures = Vec::new();
    for ex in &examples {
        let response = &ex.output["Response"];
        match decode_response(&ex.action, response) {
            Some(Ok(())) => {}
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
            Some(Ok(again)) if same_value(&again, &ex.input) => {}
            Some(Ok(again)) => failures.push(format!("{}: {} became {again}", ex.action, ex.input)),
            Some(Err(e)) => failures.push(format!("{}: {e}", ex.action)),
            None => failures.push(format!("{}: no such action in cvm-api", ex.action)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_client_covers_all_106_actions() {
    assert_eq!(ACTIONS.len(), 106);
}
