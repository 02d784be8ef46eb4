//! Request parameters (a JSON tree) checked against the model at run time.
//!
//! The generated request types are one driver of the validation engine:
//! serde decoding, then `Validate::check`. That costs a monomorphised decoder
//! per action, which is right for the actions a program calls and wrong for a
//! gateway or a command line that must accept every action of every service.
//! This module is the other driver: it walks a `serde_json::Value` against
//! the model and records into the same [`Validator`], so its verdicts are the
//! same [`Violation`]s, with the same paths and words.
//!
//! - Decoding: a value the member's type cannot hold (read by the one
//!   lenient reader, [`crate::lenient`]), a member the object does not define
//!   (an unknown `null` is as good as absent) and a required member left out.
//!   As serde would stop at the first of these, only the first of each
//!   kind is kept, in key order.
//! - Only when decoding would succeed: the rules, in the generated
//!   `Validate`'s order (members in declared order, depth first): required
//!   members that are empty, then `rules.json`'s list sizes, patterns and
//!   ranges.
//!
//! No I/O, no service.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::lenient::Lenient;
use crate::model::{Leaf, Member, Model, Object, Scalar};
use crate::spec::Rule;
use crate::validate::{Pattern, Segment, Validator, Violation};

/// The input object of `action`, if the model has the action.
pub fn input_of<'m>(model: &'m Model, action: &str) -> Option<&'m Object> {
    model.object(&model.action(action)?.input)
}

/// Every violation of `params` as the action's `input`: the first decoding
/// problem of each kind if there is one (decoding stops there), else every
/// rule broken. [`crate::validate::gateway_choice`] picks the one a gateway
/// answers with.
pub fn check(model: &Model, input: &Object, params: &Value) -> Vec<Violation> {
    let decoding = decode_violations(model, input, params);
    if !decoding.is_empty() {
        return decoding;
    }
    rule_violations(model, input, params)
}

/// What decoding `params` as an `input` would refuse: at most one violation
/// of each kind (wrong type, unknown member, missing member), each the first
/// found in key order.
pub fn decode_violations(model: &Model, input: &Object, params: &Value) -> Vec<Violation> {
    let mut walk = Decode::default();
    match params {
        Value::Object(map) => walk.object(model, input, map),
        other => walk.invalid(format!("expected an object, found {}", kind(other))),
    }
    // The walk records at most one of each kind (see `Decode`).
    walk.v.into_violations()
}

/// Every rule `params` (which decoding accepts) breaks, in the generated
/// `Validate`'s order.
pub fn rule_violations(model: &Model, input: &Object, params: &Value) -> Vec<Violation> {
    let mut v = Validator::default();
    rules_of_object(model, input, params.as_object(), &mut v);
    v.into_violations()
}

#[derive(Default)]
struct Decode {
    v: Validator,
    /// Whether a violation of each kind was recorded: later ones are not
    /// looked for (serde stops at the first).
    invalid: bool,
    unknown: bool,
    missing: bool,
}

/// Whether the generated field is filled with its empty value when absent or
/// null: members the spec says are always present in an answer, on objects
/// that answers carry too.
fn empty_if_absent(object: &Object, m: &Member) -> bool {
    !m.optional && object.in_output
}

fn name(wire: &str) -> Cow<'static, str> {
    Cow::Owned(wire.to_owned())
}

impl Decode {
    fn invalid(&mut self, why: String) {
        if !self.invalid {
            self.invalid = true;
            self.v.invalid(why);
        }
    }

    fn object(&mut self, model: &Model, object: &Object, map: &Map<String, Value>) {
        for (key, value) in map {
            match object.member(key) {
                Some(m) => {
                    self.v.enter(Segment::Member(name(key)));
                    self.member(model, object, m, value);
                    self.v.leave();
                }
                None if !value.is_null() && !self.unknown => {
                    self.unknown = true;
                    self.v.member(name(key), Validator::unknown);
                }
                None => {}
            }
        }
        if !self.missing {
            if let Some(m) = object
                .members
                .iter()
                .find(|m| !m.optional && !empty_if_absent(object, m) && !map.contains_key(&m.wire_name))
            {
                self.missing = true;
                self.v.member(name(&m.wire_name), Validator::missing);
            }
        }
    }

    fn member(&mut self, model: &Model, object: &Object, m: &Member, value: &Value) {
        if value.is_null() {
            if !(m.optional || empty_if_absent(object, m)) {
                self.invalid(format!("expected {}, found null", expected(model, m)));
            }
            return;
        }
        if !m.ty.list {
            self.leaf(model, &m.ty.leaf, value);
            return;
        }
        let Value::Array(items) = value else {
            self.invalid(format!("expected {}, found {}", expected(model, m), kind(value)));
            return;
        };
        for (i, item) in items.iter().enumerate() {
            self.v.enter(Segment::Index(i));
            self.leaf(model, &m.ty.leaf, item);
            self.v.leave();
        }
    }

    fn leaf(&mut self, model: &Model, leaf: &Leaf, value: &Value) {
        match leaf {
            Leaf::Scalar(scalar) => {
                if let Err(why) = read_scalar(*scalar, value) {
                    self.invalid(why);
                }
            }
            Leaf::Object(name) => match (model.object(name), value) {
                (Some(object), Value::Object(map)) => self.object(model, object, map),
                (_, other) => self.invalid(format!("expected an object, found {}", kind(other))),
            },
        }
    }
}

/// A scalar as the generated field would hold it.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Text(String),
    Int(i128),
    Other,
}

/// Reads `value` as `scalar` with the lenient reader the generated types use.
fn read_scalar(scalar: Scalar, value: &Value) -> Result<Read, String> {
    let why = |e: serde_json::Error| e.to_string();
    match scalar {
        Scalar::String | Scalar::DateTime | Scalar::DateTimeIso | Scalar::Date | Scalar::Binary => {
            String::lenient(value).map(Read::Text).map_err(why)
        }
        Scalar::I64 => i64::lenient(value).map(|i| Read::Int(i.into())).map_err(why),
        Scalar::U64 => u64::lenient(value).map(|u| Read::Int(u.into())).map_err(why),
        Scalar::F64 => f64::lenient(value).map(|_| Read::Other).map_err(why),
        Scalar::Bool => bool::lenient(value).map(|_| Read::Other).map_err(why),
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

/// The generated `validate` of `object` on `map` (`None`: the object's
/// empty value, as a non-optional member left out decodes).
fn rules_of_object(model: &Model, object: &Object, map: Option<&Map<String, Value>>, v: &mut Validator) {
    for m in &object.members {
        let value = map.and_then(|map| map.get(&m.wire_name)).filter(|v| !v.is_null());
        v.member(name(&m.wire_name), |v| rules_of_member(model, m, value, v));
    }
}

fn rules_of_member(model: &Model, m: &Member, value: Option<&Value>, v: &mut Validator) {
    if m.optional && value.is_none() {
        if m.required {
            v.missing();
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
        if m.ty.list {
            v.required_len(each.len());
        } else if m.ty.leaf.is_text() {
            v.required_str(&text(m, value));
        }
    }
    let no_rule = Rule::default();
    let rule = m.rule.as_ref().unwrap_or(&no_rule);
    if m.ty.list {
        v.count(each.len(), rule.min_items, rule.max_items);
    }
    // Compiled once for every item of a list.
    let pattern = rule.pattern.clone().map(Pattern::owned);
    for (index, item) in each {
        let check_item = |v: &mut Validator| {
            if let Some(pattern) = &pattern {
                v.pattern(&text(m, item), pattern);
            }
            if rule.minimum.is_some() || rule.maximum.is_some() {
                let value = match (&m.ty.leaf, item) {
                    (Leaf::Scalar(s), Some(value)) => match read_scalar(*s, value) {
                        Ok(Read::Int(i)) => Some(i),
                        _ => None,
                    },
                    _ => Some(0),
                };
                if let Some(value) = value {
                    v.range(value, rule.minimum, rule.maximum);
                }
            }
            if let Leaf::Object(name) = &m.ty.leaf {
                // Only a value present is walked (an object member of a
                // request is always optional in the model), so the depth is
                // the JSON parser's, which is bounded.
                if let (Some(object), Some(item)) = (model.object(name), item) {
                    rules_of_object(model, object, item.as_object(), v);
                }
            }
        };
        match index {
            Some(i) => v.index(i, check_item),
            None => check_item(v),
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
