//! Request parameters checked against a service's model at run time.
//!
//! The generated request types are one way to check parameters: decoding
//! with serde, then `Validate::check`. That costs a monomorphised decoder per
//! action, which is right for the actions a program calls and wrong for a
//! gateway or a command line that must accept every action of every service.
//! This crate reaches the same verdicts from the model alone ([`codegen::Model`]),
//! walking a `serde_json::Value`:
//!
//! - [`decode_problem`]: what decoding into the generated type would refuse:
//!   a value of the wrong type ([`Problem::Invalid`]), a member the action does
//!   not define ([`Problem::Unknown`]; an unknown `null` is as good as absent)
//!   and a required member left out ([`Problem::Missing`]), in that order of
//!   precedence, each the first found in key order. Scalars are read as
//!   leniently as the runtime's `lenient` module reads them: a number for a
//!   string, a numeric string for a number, `"true"` for a bool, never a lossy
//!   conversion.
//! - [`rule_violations`]: what the generated `Validate` impl reports, in the
//!   same order and words: required members that are empty, then
//!   `rules.json`'s list sizes, patterns and ranges.
//!
//! The emulator's tests hold the two ways to the same answers for every CVM
//! action. This crate does no I/O and knows no service.

use codegen::model::{Leaf, Member, Model, Object, Scalar};
use codegen::spec::Rule;
use serde_json::{Map, Value};

/// 2^53: the largest integer every f64 holds exactly (as in the runtime's
/// lenient decoding).
const MAX_EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// How deep the empty values of objects left out are checked.
const MAX_DEFAULT_DEPTH: usize = 32;

/// Why decoding the parameters would fail. Paths are wire member names and
/// list indices joined by `.` (`Filters.0.Name`); empty for the whole request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Invalid { path: String, message: String },
    Unknown { path: String },
    Missing { path: String },
}

/// One rule a decodable request breaks, as the generated `Validate` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Dotted wire path (`InstanceIds.3`).
    pub path: String,
    /// `is required`, `is required but empty`, `has 0 items; at least 1 required`, ...
    pub problem: String,
}

impl Violation {
    /// A required member absent or empty (the gateway's `MissingParameter`).
    pub fn is_missing(&self) -> bool {
        self.problem.starts_with("is required")
    }
}

/// The input object of `action`, if the model has the action.
pub fn input_of<'m>(model: &'m Model, action: &str) -> Option<&'m Object> {
    model.object(&model.action(action)?.input)
}

/// The first problem decoding `params` as an `input` would meet, or `None`.
pub fn decode_problem(model: &Model, input: &Object, params: &Value) -> Option<Problem> {
    let mut found = Found::default();
    let mut path = Vec::new();
    match params {
        Value::Object(map) => walk_object(model, input, map, &mut path, &mut found),
        other => found.invalid(&path, format!("expected an object, found {}", kind(other))),
    }
    found
        .invalid
        .or(found.unknown.map(|path| Problem::Unknown { path }))
        .or(found.missing.map(|path| Problem::Missing { path }))
}

/// Every rule `params` (which [`decode_problem`] accepts) breaks, in the
/// generated `Validate`'s order: members in declared order, depth first.
pub fn rule_violations(model: &Model, input: &Object, params: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    rules_of_object(model, input, params.as_object(), &mut path, &mut out);
    out
}

/// The first of each kind of problem, in key order.
#[derive(Default)]
struct Found {
    invalid: Option<Problem>,
    unknown: Option<String>,
    missing: Option<String>,
}

impl Found {
    fn invalid(&mut self, path: &[String], message: String) {
        if self.invalid.is_none() {
            self.invalid = Some(Problem::Invalid {
                path: path.join("."),
                message,
            });
        }
    }
}

/// Whether the generated field is filled with its empty value when absent or
/// null: members the spec says are always present in an answer, on objects
/// that answers carry too.
fn empty_if_absent(object: &Object, m: &Member) -> bool {
    !m.optional && object.in_output
}

fn walk_object(
    model: &Model,
    object: &Object,
    map: &Map<String, Value>,
    path: &mut Vec<String>,
    found: &mut Found,
) {
    for (key, value) in map {
        path.push(key.clone());
        match object.member(key) {
            Some(m) => walk_member(model, object, m, value, path, found),
            None => {
                if !value.is_null() && found.unknown.is_none() {
                    found.unknown = Some(path.join("."));
                }
            }
        }
        path.pop();
    }
    if found.missing.is_none() {
        if let Some(m) = object
            .members
            .iter()
            .find(|m| !m.optional && !empty_if_absent(object, m) && !map.contains_key(&m.wire_name))
        {
            path.push(m.wire_name.clone());
            found.missing = Some(path.join("."));
            path.pop();
        }
    }
}

fn walk_member(
    model: &Model,
    object: &Object,
    m: &Member,
    value: &Value,
    path: &mut Vec<String>,
    found: &mut Found,
) {
    if value.is_null() {
        if !(m.optional || empty_if_absent(object, m)) {
            found.invalid(path, format!("expected {}, found null", expected(model, m)));
        }
        return;
    }
    if !m.ty.list {
        walk_leaf(model, &m.ty.leaf, value, path, found);
        return;
    }
    let Value::Array(items) = value else {
        found.invalid(
            path,
            format!("expected {}, found {}", expected(model, m), kind(value)),
        );
        return;
    };
    for (i, item) in items.iter().enumerate() {
        path.push(i.to_string());
        walk_leaf(model, &m.ty.leaf, item, path, found);
        path.pop();
    }
}

fn walk_leaf(model: &Model, leaf: &Leaf, value: &Value, path: &mut Vec<String>, found: &mut Found) {
    match leaf {
        Leaf::Scalar(scalar) => {
            if let Err(message) = read_scalar(*scalar, value) {
                found.invalid(path, message);
            }
        }
        Leaf::Object(name) => match (model.object(name), value) {
            (Some(object), Value::Object(map)) => walk_object(model, object, map, path, found),
            (_, other) => found.invalid(path, format!("expected an object, found {}", kind(other))),
        },
    }
}

/// A scalar as the generated field would hold it.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Text(String),
    Int(i128),
    Other,
}

/// Reads `value` as `scalar` the way the runtime's lenient decoding does.
fn read_scalar(scalar: Scalar, value: &Value) -> Result<Read, String> {
    let refuse = |what: &str| Err(format!("expected {what}, found {}", kind(value)));
    match scalar {
        Scalar::String | Scalar::DateTime | Scalar::DateTimeIso | Scalar::Date | Scalar::Binary => {
            match value {
                Value::String(s) => Ok(Read::Text(s.clone())),
                Value::Bool(b) => Ok(Read::Text(b.to_string())),
                Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => Ok(Read::Text(i.to_string())),
                    (_, Some(u), _) => Ok(Read::Text(u.to_string())),
                    (_, _, Some(f)) if f.is_finite() && f.abs() <= MAX_EXACT_F64 => {
                        Ok(Read::Text(f.to_string()))
                    }
                    _ => Err(format!("number {n} cannot be kept exactly as a string")),
                },
                _ => refuse("a string"),
            }
        }
        Scalar::I64 => integer(value, i128::from(i64::MIN), i128::from(i64::MAX), "int64"),
        Scalar::U64 => integer(value, 0, i128::from(u64::MAX), "uint64"),
        Scalar::F64 => match value {
            Value::Number(_) => Ok(Read::Other),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(Read::Other),
            Value::String(s) => Err(format!("string {s:?} is not a number")),
            _ => refuse("a number"),
        },
        Scalar::Bool => match value {
            Value::Bool(_) => Ok(Read::Other),
            Value::String(s)
                if matches!(s.as_str(), "true" | "TRUE" | "True" | "false" | "FALSE" | "False") =>
            {
                Ok(Read::Other)
            }
            Value::String(s) => Err(format!("string {s:?} is not a bool")),
            _ => refuse("a bool"),
        },
    }
}

fn integer(value: &Value, min: i128, max: i128, what: &str) -> Result<Read, String> {
    let in_range = |v: i128| {
        if (min..=max).contains(&v) {
            Ok(Read::Int(v))
        } else {
            Err(format!("{v} is out of range for {what}"))
        }
    };
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                in_range(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                in_range(i128::from(u))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // 3.0 is an integer written oddly; 3.5 is none, and past 2^53
                // an f64 may already have been rounded.
                if f.fract() == 0.0 && f.abs() <= MAX_EXACT_F64 && f >= min as f64 {
                    in_range(f as i128)
                } else {
                    Err(format!("{f} is not an exact {what}"))
                }
            }
        }
        Value::String(s) => match s.trim().parse::<i128>() {
            Ok(v) if (min..=max).contains(&v) => Ok(Read::Int(v)),
            _ => Err(format!("string {s:?} is not an {what}")),
        },
        other => Err(format!("expected an {what}, found {}", kind(other))),
    }
}

fn expected(model: &Model, m: &Member) -> String {
    let leaf = match &m.ty.leaf {
        Leaf::Scalar(s) => s.describe().to_owned(),
        Leaf::Object(name) => model
            .object(name)
            .map_or_else(|| name.clone(), |o| format!("an object ({})", o.name)),
    };
    if m.ty.list {
        format!("a list of {leaf}")
    } else {
        leaf
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn is_text(leaf: &Leaf) -> bool {
    matches!(
        leaf,
        Leaf::Scalar(Scalar::String | Scalar::DateTime | Scalar::DateTimeIso | Scalar::Date | Scalar::Binary)
    )
}

/// The generated `validate` of `object` on `map` (`None`: the object's
/// empty value, as a non-optional member left out decodes).
fn rules_of_object(
    model: &Model,
    object: &Object,
    map: Option<&Map<String, Value>>,
    path: &mut Vec<String>,
    out: &mut Vec<Violation>,
) {
    for m in &object.members {
        let value = map.and_then(|map| map.get(&m.wire_name)).filter(|v| !v.is_null());
        path.push(m.wire_name.clone());
        rules_of_member(model, m, value, path, out);
        path.pop();
    }
}

fn rules_of_member(
    model: &Model,
    m: &Member,
    value: Option<&Value>,
    path: &mut Vec<String>,
    out: &mut Vec<Violation>,
) {
    let fail = |out: &mut Vec<Violation>, path: &[String], problem: String| {
        out.push(Violation {
            path: path.join("."),
            problem,
        })
    };
    if m.optional && value.is_none() {
        if m.required {
            fail(out, path, "is required".to_owned());
        }
        return;
    }
    // The items checked one by one: each of a list, with its index, or the
    // one value (`None`: the empty value of a member left out that is never
    // `None`).
    let each: Vec<(Option<usize>, Option<&Value>)> = if m.ty.list {
        let items = value.and_then(Value::as_array).into_iter().flatten();
        items.enumerate().map(|(i, v)| (Some(i), Some(v))).collect()
    } else {
        vec![(None, value)]
    };
    if m.required {
        let empty = if m.ty.list {
            each.is_empty()
        } else {
            is_text(&m.ty.leaf) && text(m, value).is_empty()
        };
        if empty {
            fail(out, path, "is required but empty".to_owned());
        }
    }
    let no_rule = Rule::default();
    let rule = m.rule.as_ref().unwrap_or(&no_rule);
    if m.ty.list {
        let len = each.len();
        if let Some(min) = rule.min_items.filter(|&min| len < min) {
            fail(out, path, format!("has {len} items; at least {min} required"));
        }
        if let Some(max) = rule.max_items.filter(|&max| len > max) {
            fail(out, path, format!("has {len} items; at most {max} allowed"));
        }
    }
    // Compiled once for every item of a list.
    let compiled = rule.pattern.as_deref().map(regex_lite::Regex::new);
    for (index, item) in each {
        if let Some(i) = index {
            path.push(i.to_string());
        }
        if let (Some(pattern), Some(compiled)) = (&rule.pattern, &compiled) {
            let value = text(m, item);
            match compiled {
                Ok(re) if re.is_match(&value) => {}
                Ok(_) => fail(out, path, format!("`{value}` does not match `{pattern}`")),
                Err(_) => fail(
                    out,
                    path,
                    format!("cannot be checked: invalid pattern `{pattern}`"),
                ),
            }
        }
        if rule.minimum.is_some() || rule.maximum.is_some() {
            let value = match (&m.ty.leaf, item) {
                (Leaf::Scalar(s), Some(v)) => match read_scalar(*s, v) {
                    Ok(Read::Int(i)) => Some(i),
                    _ => None,
                },
                _ => Some(0),
            };
            if let Some(value) = value {
                if let Some(min) = rule.minimum.filter(|&min| value < i128::from(min)) {
                    fail(out, path, format!("is {value}; must be at least {min}"));
                }
                if let Some(max) = rule.maximum.filter(|&max| value > i128::from(max)) {
                    fail(out, path, format!("is {value}; must be at most {max}"));
                }
            }
        }
        if let Leaf::Object(name) = &m.ty.leaf {
            // A value's depth is bounded by the JSON parser; an object left
            // out is checked as its empty value, which a description could
            // make recursive: that stops at this depth.
            let deep_default = item.is_none() && path.len() >= MAX_DEFAULT_DEPTH;
            if let (Some(object), false) = (model.object(name), deep_default) {
                rules_of_object(model, object, item.and_then(Value::as_object), path, out);
            }
        }
        if index.is_some() {
            path.pop();
        }
    }
}

/// A text member's value as the generated field holds it ("" when left out).
fn text(m: &Member, value: Option<&Value>) -> String {
    match (&m.ty.leaf, value) {
        (Leaf::Scalar(s), Some(v)) => match read_scalar(*s, v) {
            Ok(Read::Text(t)) => t,
            _ => String::new(),
        },
        _ => String::new(),
    }
}
