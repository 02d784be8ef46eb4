//! An action's parameters from the command line, checked against the model
//! before anything is sent.
//!
//! As tccli takes them: a string member's value is the argument as typed;
//! every other member's is JSON (`--Limit 10`, `--InstanceIds '["ins-1"]'`,
//! `--Placement '{"Zone": "ap-guangzhou-3"}'`); a bool also takes tccli's
//! `True`/`False`.

use codegen::model::{Leaf, Member, Model, Object, Scalar};
use serde_json::{Map, Value};

use crate::error::CliError;

/// The parameters given as `--Name value` pairs, in order.
pub fn from_pairs(input: &Object, pairs: &[(String, String)]) -> Result<Value, CliError> {
    let mut params = Map::new();
    for (name, raw) in pairs {
        let Some(member) = input.member(name) else {
            return Err(unknown(input, name));
        };
        if params.contains_key(name) {
            return Err(CliError::usage(format!("--{name} is given twice")));
        }
        params.insert(name.clone(), value_of(member, raw)?);
    }
    Ok(Value::Object(params))
}

fn unknown(input: &Object, name: &str) -> CliError {
    let names: Vec<String> = input.members.iter().map(|m| m.wire_name.clone()).collect();
    CliError::parameter(
        "UnknownParameter",
        format!(
            "--{name} is not a parameter of this action{}",
            crate::error::suggest(name, names.iter())
        ),
    )
}

fn value_of(member: &Member, raw: &str) -> Result<Value, CliError> {
    let name = &member.wire_name;
    match (&member.ty.leaf, member.ty.list) {
        (
            Leaf::Scalar(
                Scalar::String | Scalar::DateTime | Scalar::DateTimeIso | Scalar::Date | Scalar::Binary,
            ),
            false,
        ) => Ok(Value::String(raw.to_owned())),
        // tccli's spellings.
        (Leaf::Scalar(Scalar::Bool), false) => match raw.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" => Ok(Value::Bool(true)),
            "false" | "f" | "0" => Ok(Value::Bool(false)),
            _ => Err(CliError::parameter(
                "InvalidParameter",
                format!("--{name} takes true or false (t/f, 1/0)"),
            )),
        },
        _ => serde_json::from_str(raw).map_err(|e| {
            CliError::parameter(
                "InvalidParameter",
                format!("--{name} takes JSON ({}): {e}; found `{raw}`", shape(member)),
            )
        }),
    }
}

/// How a member's type reads in messages and help: `list of string`,
/// `Placement`, `int64`.
pub fn shape(member: &Member) -> String {
    let leaf = match &member.ty.leaf {
        Leaf::Scalar(s) => scalar_name(*s).to_owned(),
        Leaf::Object(name) => name.clone(),
    };
    if member.ty.list {
        format!("list of {leaf}")
    } else {
        leaf
    }
}

fn scalar_name(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "string",
        Scalar::DateTime => "datetime",
        Scalar::DateTimeIso => "datetime_iso",
        Scalar::Date => "date",
        Scalar::Binary => "binary",
        Scalar::I64 => "int64",
        Scalar::U64 => "uint64",
        Scalar::F64 => "float",
        Scalar::Bool => "bool",
    }
}

/// Refuses parameters the generated request type would refuse, with the
/// code the gateway would answer; every rule broken is named.
pub fn check(model: &Model, input: &Object, params: &Value) -> Result<(), CliError> {
    if let Some(problem) = spec_check::decode_problem(model, input, params) {
        return Err(match problem {
            spec_check::Problem::Invalid { path, message } => {
                CliError::parameter("InvalidParameter", format!("{}: {message}", shown(&path)))
            }
            spec_check::Problem::Unknown { path } => CliError::parameter(
                "UnknownParameter",
                format!("{} is not a parameter of this action", shown(&path)),
            ),
            spec_check::Problem::Missing { path } => {
                CliError::parameter("MissingParameter", format!("{} is required", shown(&path)))
            }
        });
    }
    let violations = spec_check::rule_violations(model, input, params);
    if violations.is_empty() {
        return Ok(());
    }
    // The gateway answers with the first rule broken.
    let code = if violations[0].is_missing() {
        "MissingParameter"
    } else {
        "InvalidParameterValue"
    };
    let listed: Vec<String> = violations
        .iter()
        .map(|v| format!("{} {}", shown(&v.path), v.problem))
        .collect();
    Err(CliError::parameter(code, listed.join("; ")))
}

/// `--InstanceIds.3`: a path as the user typed the parameter.
fn shown(path: &str) -> String {
    if path.is_empty() {
        "the parameters".to_owned()
    } else {
        format!("--{path}")
    }
}

/// The action's `ClientToken`, when its input takes one as a string.
pub fn client_token_member(input: &Object) -> bool {
    input
        .member("ClientToken")
        .is_some_and(|m| m.ty.leaf == Leaf::Scalar(Scalar::String) && !m.ty.list)
}
