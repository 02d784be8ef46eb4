//! An action's parameters from the command line, checked against the model
//! before anything is sent.
//!
//! As tccli takes them: a string member's value is the argument as typed;
//! every other member's is JSON (`--Limit 10`, `--InstanceIds '["ins-1"]'`,
//! `--Placement '{"Zone": "ap-guangzhou-3"}'`); a bool also takes tccli's
//! `True`/`False`.

use serde_json::{Map, Value};
use tencentcloud_model::model::{Leaf, Member, Model, Object, Scalar};
use tencentcloud_model::validate::{gateway_choice, Problem, Segment, Violation};

use crate::error::CliError;

/// The parameters given as `--Name value` pairs, in order.
pub fn from_pairs(input: &Object, pairs: &[(String, String)]) -> Result<Value, CliError> {
    let mut params = Map::new();
    for (name, raw) in pairs {
        if params.contains_key(name) {
            return Err(CliError::usage(format!("--{name} is given twice")));
        }
        // A name the action does not define is kept for the engine to judge,
        // in the gateway's order (a wrong type elsewhere comes first; an
        // unknown null is as good as absent): as JSON if it reads as JSON.
        let value = match input.member(name) {
            Some(member) => value_of(member, raw)?,
            None => serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.clone())),
        };
        params.insert(name.clone(), value);
    }
    Ok(Value::Object(params))
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

/// Every violation of `params`, as the one validation engine finds them
/// (the SDK's generated checks and the emulator's gateway give the same).
pub fn violations(model: &Model, input: &Object, params: &Value) -> Vec<Violation> {
    tencentcloud_model::check::check(model, input, params)
}

/// Refuses parameters the generated request type would refuse, with the
/// code the gateway would answer: the violation the gateway reports comes
/// first, then every other one.
pub fn check(model: &Model, input: &Object, params: &Value) -> Result<(), CliError> {
    let violations = violations(model, input, params);
    let Some(chosen) = gateway_choice(&violations) else {
        return Ok(());
    };
    let others = violations.iter().filter(|v| !std::ptr::eq(*v, chosen));
    let mut listed: Vec<String> = std::iter::once(chosen).chain(others).map(shown).collect();
    if let (Problem::Unknown, [Segment::Member(name)]) = (&chosen.problem, chosen.path.segments()) {
        let names: Vec<String> = input.members.iter().map(|m| m.wire_name.clone()).collect();
        listed[0].push_str(&crate::error::suggest(name, names.iter()));
    }
    Err(CliError::parameter(chosen.gateway_code(), listed.join("; ")))
}

/// `--InstanceIds.3 ...`: a violation with its path as the user typed the
/// parameter.
fn shown(violation: &Violation) -> String {
    if violation.path.is_empty() {
        violation.to_string()
    } else {
        format!("--{violation}")
    }
}

/// The action's `ClientToken`, when its input takes one as a string.
pub fn client_token_member(input: &Object) -> bool {
    tencentcloud_model::facts::client_token(input).is_some()
}
