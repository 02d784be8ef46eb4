//! Holds an answer against its action's output in the service's
//! description: every member the description says is always present is
//! there, every member has the declared JSON type, and nothing undeclared
//! appears. Typed decoding would not notice a missing member (the SDK reads
//! it as empty), nor an extra one.

use std::path::Path;

use serde_json::Value;
use tencentcloud_model::model::{Leaf, Scalar};
use tencentcloud_model::Model;

/// The description of `service` (`cvm`, `vpc`, ...) at `version` (`v20170312`).
pub fn model(service: &str, version: &str) -> Model {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec")
        .join(service)
        .join(version);
    tencentcloud_model::load_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// What is wrong with `answer` (a success's `Response` object) as `action`'s
/// output: one line per problem, each naming its path.
pub fn problems(model: &Model, action: &str, answer: &Value) -> Vec<String> {
    let action = model
        .action(action)
        .unwrap_or_else(|| panic!("{action} is not in the description"));
    let mut out = Vec::new();
    object(model, &action.output, answer, "Response", &mut out);
    out
}

/// Panics listing the problems of `answer`, if any.
pub fn assert_described(model: &Model, action: &str, answer: &Value) {
    let found = problems(model, action, answer);
    assert!(
        found.is_empty(),
        "{action}'s answer against its description:\n{}\n{answer:#}",
        found.join("\n")
    );
}

fn object(model: &Model, name: &str, value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(object) = model.object(name) else {
        out.push(format!("{path}: object {name} is not in the description"));
        return;
    };
    let Some(map) = value.as_object() else {
        out.push(format!("{path}: {value} is not an object ({name})"));
        return;
    };
    for key in map.keys() {
        if object.member(key).is_none() {
            out.push(format!("{path}.{key}: not a member of {name}"));
        }
    }
    for member in &object.members {
        let at = format!("{path}.{}", member.wire_name);
        match map.get(&member.wire_name) {
            None if member.output_required => {
                out.push(format!("{at}: missing, though always present in answers"));
            }
            Some(Value::Null) if member.output_required && !member.nullable => {
                out.push(format!("{at}: null, though never null in answers"));
            }
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if member.ty.list => {
                for (i, item) in items.iter().enumerate() {
                    leaf(model, &member.ty.leaf, item, &format!("{at}[{i}]"), out);
                }
            }
            Some(other) if member.ty.list => out.push(format!("{at}: {other} is not a list")),
            Some(other) => leaf(model, &member.ty.leaf, other, &at, out),
        }
    }
}

fn leaf(model: &Model, leaf: &Leaf, value: &Value, path: &str, out: &mut Vec<String>) {
    let fits = match leaf {
        Leaf::Object(name) => return object(model, name, value, path, out),
        Leaf::Scalar(Scalar::I64) => value.is_i64(),
        Leaf::Scalar(Scalar::U64) => value.is_u64(),
        Leaf::Scalar(Scalar::F64) => value.is_number(),
        Leaf::Scalar(Scalar::Bool) => value.is_boolean(),
        Leaf::Scalar(_) => value.is_string(),
    };
    if !fits {
        out.push(format!("{path}: {value} is not a {leaf:?}"));
    }
}
