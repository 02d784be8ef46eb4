//! Request parameters to typed requests, with the gateway's error codes.
//!
//! The typed structs generated from the spec are the schema: a parameter of
//! the wrong type fails to decode (`InvalidParameter`), a parameter the
//! action does not define is one the decoder ignores (`UnknownParameter`), a
//! required one is reported by serde or by the spec's rules
//! (`MissingParameter`).
//!
//! Memory: a JSON body is decoded straight into the typed request, without
//! an intermediate tree, after a first pass that bounds it to
//! [`MAX_VALUES`] values; so a body costs at most its own size again in
//! strings plus a small overhead per value. A tree (`serde_json::Value`) is
//! built only for a query, a form, or a JSON request missing a required
//! member, and then in place of the body, not beside it.

use std::fmt;

use axum::body::Bytes;
use cvm_api::runtime::Validate;
use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Bound on decode attempts when filling in missing members.
const MAX_ATTEMPTS: usize = 64;

/// Most values (objects, lists and scalars, at any depth) in a JSON body:
/// as many as the parameters accepted in a query or form, far more than any
/// action takes, and few enough that the decoded request stays near the
/// body's size.
pub(crate) const MAX_VALUES: usize = 10_000;

/// Request parameters, not yet decoded.
pub(crate) enum Params {
    /// A JSON body holding one object of at most [`MAX_VALUES`] values (see
    /// [`json_params`]).
    Json(Bytes),
    /// An object built from a query string or a form.
    Tree(Value),
}

impl Params {
    /// The parameters as a tree (a JSON body parsed; at most [`MAX_VALUES`] values).
    pub(crate) fn into_tree(self) -> Result<Value, ApiError> {
        match self {
            Params::Json(body) => to_tree(&body),
            Params::Tree(tree) => Ok(tree),
        }
    }
}

/// Checks a JSON body in one pass that keeps nothing: well-formed, an
/// object (or empty), at most [`MAX_VALUES`] values.
pub(crate) fn json_params(body: Bytes) -> Result<Params, ApiError> {
    let invalid = |why: String| ApiError::new("InvalidParameter", why);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::Tree(Value::Object(Map::new())));
    }
    let mut values = 0;
    let mut de = serde_json::Deserializer::from_slice(&body);
    let kind = Scan { values: &mut values }
        .deserialize(&mut de)
        .and_then(|kind| de.end().map(|()| kind));
    match kind {
        Ok("an object") => Ok(Params::Json(body)),
        Ok(kind) => Err(invalid(format!(
            "The request body must be a JSON object, not {kind}."
        ))),
        Err(_) if values > MAX_VALUES => Err(invalid(format!(
            "The request body holds more than {MAX_VALUES} values."
        ))),
        Err(e) => Err(invalid(format!("The request body is not valid JSON: {e}."))),
    }
}

/// Counts the values of a JSON document without keeping any; the kind of
/// the outermost one.
struct Scan<'a> {
    values: &'a mut usize,
}

impl Scan<'_> {
    fn count<E: de::Error>(&mut self, kind: &'static str) -> Result<&'static str, E> {
        *self.values += 1;
        if *self.values > MAX_VALUES {
            return Err(E::custom("too many values"));
        }
        Ok(kind)
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<&'static str, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<&'static str, E> {
        self.count("null")
    }
    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<&'static str, E> {
        self.count("a bool")
    }
    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<&'static str, E> {
        self.count("a number")
    }
    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<&'static str, E> {
        self.count("a number")
    }
    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<&'static str, E> {
        self.count("a number")
    }
    fn visit_str<E: de::Error>(mut self, _: &str) -> Result<&'static str, E> {
        self.count("a string")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<&'static str, A::Error> {
        let kind = self.count("an array")?;
        while seq.next_element_seed(Scan { values: self.values })?.is_some() {}
        Ok(kind)
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<&'static str, A::Error> {
        let kind = self.count("an object")?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Scan { values: self.values })?;
        }
        Ok(kind)
    }
}

/// Stand-ins tried, in order, for a missing required member so that the
/// rest of the request can still be checked for unknown parameters: one of
/// them suits a string, a list, an object, a number or a bool.
fn placeholder(kind: usize) -> Option<Value> {
    Some(match kind {
        0 => Value::String(String::new()),
        1 => Value::Array(Vec::new()),
        2 => Value::Object(Map::new()),
        3 => Value::from(0),
        4 => Value::Bool(false),
        _ => return None,
    })
}

/// A location in the parameters: member names and list indices.
type Path = Vec<String>;

fn dotted(path: &[String]) -> String {
    path.join(".")
}

struct Missing {
    /// The object missing the member.
    at: Path,
    member: String,
    kind: usize,
}

impl Missing {
    fn full(&self) -> Path {
        let mut p = self.at.clone();
        p.push(self.member.clone());
        p
    }
}

/// A decoded request and the parameters the decoder ignored (not defined
/// by the action).
type Decoded<T> = (T, Vec<Path>);

/// Decodes `params` into the request type of `action`.
///
/// Errors, in this order of precedence: the wrong type
/// (`InvalidParameter`), a parameter `T` does not define
/// (`UnknownParameter`), a missing required parameter (`MissingParameter`).
pub(crate) fn decode<T: DeserializeOwned>(action: &str, params: Params) -> Result<T, ApiError> {
    let tree = match params {
        Params::Json(body) => {
            let first = attempt::<T, _>(&mut serde_json::Deserializer::from_slice(&body));
            match first {
                Ok((value, ignored)) if ignored.is_empty() => return Ok(value),
                Err((path, message)) if missing_member(&message).is_none() => {
                    return Err(invalid_at(&path, &message))
                }
                // The usual unknown parameter, found without a tree.
                Ok((_, ignored)) if !null_at(&body, &ignored[0]) => {
                    return Err(unknown(action, &dotted(&ignored[0])))
                }
                // A member ignored as null (as good as absent), or a
                // required member missing: the rest is judged on a tree
                // that takes the body's place (one copy at a time).
                other => {
                    drop(other);
                    to_tree(&body)?
                }
            }
        }
        Params::Tree(tree) => tree,
    };
    decode_tree(action, tree)
}

/// The tree of a body [`json_params`] accepted.
fn to_tree(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            "InvalidParameter",
            format!("The request body is not valid JSON: {e}."),
        )
    })
}

/// [`decode`] of a tree (a query, a form, or a parsed body).
pub(crate) fn decode_tree<T: DeserializeOwned>(action: &str, mut params: Value) -> Result<T, ApiError> {
    let err = match attempt::<T, _>(&params) {
        Ok((value, ignored)) => {
            check_unknown(action, &params, &ignored)?;
            return Ok(value);
        }
        Err(e) => e,
    };
    let (path, message) = err;
    let Some(member) = missing_member(&message) else {
        return Err(invalid_at(&path, &message));
    };
    // Fill in stand-ins for missing members until the request decodes, to
    // find unknown parameters; then report the first missing one. Stand-ins
    // are members the action defines, so they are never reported unknown.
    let mut missing = vec![Missing {
        at: path,
        member,
        kind: 0,
    }];
    if !set_member(&mut params, &missing[0], 0) {
        return Err(missing_error(&missing));
    }
    for _ in 0..MAX_ATTEMPTS {
        match attempt::<T, _>(&params) {
            Ok((_, ignored)) => {
                check_unknown(action, &params, &ignored)?;
                return Err(missing_error(&missing));
            }
            Err((path, message)) => {
                if let Some(member) = missing_member(&message) {
                    if missing.iter().any(|m| m.at == path && m.member == member) {
                        break;
                    }
                    let m = Missing {
                        at: path,
                        member,
                        kind: 0,
                    };
                    if !set_member(&mut params, &m, 0) {
                        break;
                    }
                    missing.push(m);
                    continue;
                }
                // A stand-in of the wrong kind: try the next one.
                let Some(m) = missing.iter_mut().find(|m| path.starts_with(&m.full())) else {
                    return Err(invalid_at(&path, &message));
                };
                m.kind += 1;
                let kind = m.kind;
                let m = &*m;
                if !set_member(&mut params, m, kind) {
                    break;
                }
            }
        }
    }
    Err(missing_error(&missing))
}

fn missing_error(missing: &[Missing]) -> ApiError {
    let name = missing.first().map(|m| dotted(&m.full())).unwrap_or_default();
    ApiError::missing(&name)
}

fn invalid_at(path: &[String], message: &str) -> ApiError {
    invalid(&dotted(path), message)
}

/// `InvalidParameter` for the value at a dotted `path` ("" for the whole request).
pub(crate) fn invalid(path: &str, message: &str) -> ApiError {
    if path.is_empty() {
        ApiError::new(
            "InvalidParameter",
            format!("The request parameters are invalid: {message}."),
        )
    } else {
        ApiError::new(
            "InvalidParameter",
            format!("The parameter `{path}` is invalid: {message}."),
        )
    }
}

/// One decoding pass: the request and the members it ignored, or the path
/// and message of the first error.
fn attempt<'de, T, D>(deserializer: D) -> Result<Decoded<T>, (Path, String)>
where
    T: DeserializeOwned,
    D: Deserializer<'de>,
{
    let mut ignored = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| {
        // Every ignored member is a value the first pass counted.
        if ignored.len() <= MAX_VALUES {
            let mut segments = Vec::new();
            segments_of(&path, &mut segments);
            ignored.push(segments);
        }
    };
    let result =
        serde_path_to_error::deserialize::<_, T>(serde_ignored::Deserializer::new(deserializer, &mut note));
    match result {
        Ok(value) => Ok((value, ignored)),
        Err(e) => {
            let path = e
                .path()
                .iter()
                .filter_map(|segment| match segment {
                    serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                    serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                    serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                    serde_path_to_error::Segment::Unknown => None,
                })
                .collect();
            Err((path, e.into_inner().to_string()))
        }
    }
}

/// Member names and list indices of an ignored member's path.
fn segments_of(path: &serde_ignored::Path<'_>, out: &mut Path) {
    use serde_ignored::Path as P;
    match path {
        P::Root => {}
        P::Seq { parent, index } => {
            segments_of(parent, out);
            out.push(index.to_string());
        }
        P::Map { parent, key } => {
            segments_of(parent, out);
            out.push(key.clone());
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            segments_of(parent, out)
        }
    }
}

/// `missing field `Name`` → `Name`.
fn missing_member(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    let end = rest.find('`')?;
    Some(rest[..end].to_owned())
}

/// Puts stand-in number `kind` for `m` into `params`; `false` when there is
/// no such stand-in or no object at `m.at`.
fn set_member(params: &mut Value, m: &Missing, kind: usize) -> bool {
    let Some(value) = placeholder(kind) else {
        return false;
    };
    let mut node = params;
    for segment in &m.at {
        node = match node {
            Value::Object(map) => match map.get_mut(segment) {
                Some(next) => next,
                None => return false,
            },
            Value::Array(items) => match segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(next) => next,
                None => return false,
            },
            _ => return false,
        };
    }
    match node {
        Value::Object(map) => {
            map.insert(m.member.clone(), value);
            true
        }
        _ => false,
    }
}

/// `UnknownParameter` for the first member the decoder ignored (they come
/// in the order of `params`); ignored nulls are as good as absent (an absent
/// optional member is sent as null by some clients).
fn check_unknown(action: &str, params: &Value, ignored: &[Path]) -> Result<(), ApiError> {
    let first = ignored
        .iter()
        .find(|path| at(params, path).map_or(true, |v| !v.is_null()));
    match first {
        Some(path) => Err(unknown(action, &dotted(path))),
        None => Ok(()),
    }
}

/// `UnknownParameter` for the member at a dotted `path`.
pub(crate) fn unknown(action: &str, path: &str) -> ApiError {
    ApiError::new(
        "UnknownParameter",
        format!("The parameter `{path}` is not recognized: action {action} does not define it."),
    )
}

/// Whether the value at `path` in a JSON `body` is null, found in one pass
/// that keeps nothing (`false` when absent).
fn null_at(body: &[u8], path: &[String]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(body);
    NullAt { path }.deserialize(&mut de).unwrap_or(false)
}

/// Walks a JSON document to `path`, skipping everything else.
struct NullAt<'p> {
    path: &'p [String],
}

impl<'de> DeserializeSeed<'de> for NullAt<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        if self.path.is_empty() {
            return Ok(Option::<IgnoredAny>::deserialize(deserializer)?.is_none());
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NullAt<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let (first, rest) = (&self.path[0], &self.path[1..]);
        let wanted = first.parse::<usize>().ok();
        let mut found = false;
        let mut index = 0;
        loop {
            if Some(index) == wanted {
                match seq.next_element_seed(NullAt { path: rest })? {
                    Some(null) => found = null,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            index += 1;
        }
        Ok(found)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let (first, rest) = (&self.path[0], &self.path[1..]);
        let mut found = false;
        while let Some(matches) = map.next_key_seed(KeyIs(first))? {
            if matches {
                found = map.next_value_seed(NullAt { path: rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether a map key equals the one wanted (escaped keys too).
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The value at `path` in `params`.
fn at<'v>(params: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(params, |node, segment| match node {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}
/// The spec's rules (required members, list sizes, patterns, ranges) as
/// gateway errors: `MissingParameter` for an empty required member, else
/// `InvalidParameterValue` naming the first violation.
pub(crate) fn check_rules<T: Validate + ?Sized>(request: &T) -> Result<(), ApiError> {
    let Err(e) = request.check() else {
        return Ok(());
    };
    let wire = |field: &str| field.replace('[', ".").replace(']', "");
    rules_error(e.violations.iter().map(|v| (wire(&v.field), v.problem.as_str())))
}

/// Rule violations (dotted path, problem), in the order found, as one
/// gateway error: `MissingParameter` for the first required member absent
/// or empty, else `InvalidParameterValue` naming the first violation.
pub(crate) fn rules_error<'a>(violations: impl Iterator<Item = (String, &'a str)>) -> Result<(), ApiError> {
    let violations: Vec<(String, &str)> = violations.collect();
    if let Some((path, _)) = violations
        .iter()
        .find(|(_, problem)| problem.starts_with("is required"))
    {
        return Err(ApiError::missing(path));
    }
    match violations.first() {
        Some((path, problem)) => Err(ApiError::invalid_value(format!(
            "The parameter `{path}` {problem}."
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use cvm_api::types::{DescribeInstancesRequest, RunInstancesRequest, StartInstancesRequest};
    use serde_json::json;

    use super::*;

    /// Decodes `params` both ways (as a JSON body and as a tree), which
    /// must agree on the outcome and the code.
    fn both<T: DeserializeOwned>(params: Value) -> Result<T, ApiError> {
        let body = Bytes::from(serde_json::to_vec(&params).unwrap());
        let from_json = decode::<T>("X", json_params(body).unwrap());
        let from_tree = decode::<T>("X", Params::Tree(params));
        match (&from_json, &from_tree) {
            (Ok(_), Ok(_)) => {}
            (Err(a), Err(b)) => assert_eq!(a.code, b.code, "{a} / {b}"),
            (a, b) => panic!(
                "JSON and tree disagree: {:?} / {:?}",
                a.as_ref().err(),
                b.as_ref().err()
            ),
        }
        from_json
    }

    fn code<T: DeserializeOwned>(params: Value) -> (String, String) {
        let e = both::<T>(params).err().expect("should fail");
        (e.code, e.message)
    }

    #[test]
    fn decodes_leniently() {
        let r: DescribeInstancesRequest =
            both(json!({"Limit": "20", "Offset": 1, "Filters": [{"Name": "zone", "Values": ["z"]}]}))
                .unwrap();
        assert_eq!(r.limit, Some(20));
        assert_eq!(r.filters.unwrap()[0].values, vec!["z".to_owned()]);
        let r: RunInstancesRequest = both(json!({"DryRun": "True"})).unwrap();
        assert_eq!(r.dry_run, Some(true));
    }

    #[test]
    fn json_bodies_are_bounded_before_decoding() {
        let refused = |body: &str| match json_params(Bytes::from(body.to_owned())) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => {
                assert_eq!(e.code, "InvalidParameter", "{e}");
                e.message
            }
        };
        let many = format!("{{\"A\": [{}0]}}", "0,".repeat(MAX_VALUES));
        assert!(refused(&many).contains("more than 10000 values"));
        let just_enough = format!("{{\"A\": [{}0]}}", "0,".repeat(MAX_VALUES - 3));
        assert!(json_params(Bytes::from(just_enough)).is_ok());
        assert!(refused("[1]").contains("not an array"));
        assert!(refused("\"x\"").contains("not a string"));
        assert!(refused("{\"A\": 1} x").contains("not valid JSON"));
        assert!(refused("{\"A\": ").contains("not valid JSON"));
        assert!(matches!(
            json_params(Bytes::from_static(b" \n")),
            Ok(Params::Tree(_))
        ));
    }

    #[test]
    fn finds_nulls_without_a_tree() {
        let body = br#"{"A": [1, {"B": null, "C\u0044": null}], "E": {"F": 0}, "G": null}"#;
        let path = |p: &str| p.split('.').map(str::to_owned).collect::<Vec<_>>();
        for (p, null) in [
            ("A.1.B", true),
            ("A.1.CD", true),
            ("G", true),
            ("A.0", false),
            ("A.1", false),
            ("A.2.B", false),
            ("E.F", false),
            ("E.X", false),
            ("X", false),
        ] {
            assert_eq!(null_at(body, &path(p)), null, "{p}");
        }
    }

    #[test]
    fn nulls_are_absent_and_duplicates_refused() {
        // An unknown member set to null is as good as absent, both ways.
        let r: DescribeInstancesRequest =
            both(json!({"Limit": 2, "Bogus": null, "Filters": [{"Name": "zone", "Values": [], "Op": null}]}))
                .unwrap();
        assert_eq!(r.limit, Some(2));
        // A member given twice is ambiguous in a JSON body.
        let e = decode::<DescribeInstancesRequest>(
            "X",
            json_params(Bytes::from_static(b"{\"Limit\": 1, \"Limit\": 2}")).unwrap(),
        )
        .expect_err("refused");
        assert_eq!(e.code, "InvalidParameter", "{e}");
    }

    #[test]
    fn reports_in_gateway_order() {
        let (c, m) = code::<DescribeInstancesRequest>(json!({"Limit": "many"}));
        assert_eq!(c, "InvalidParameter");
        assert!(m.contains("`Limit`"), "{m}");
        let (c, m) = code::<DescribeInstancesRequest>(json!({"Filters": [{"Name": "zone", "Values": [[]]}]}));
        assert_eq!(c, "InvalidParameter");
        assert!(m.contains("`Filters.0.Values.0`"), "{m}");

        let (c, m) = code::<DescribeInstancesRequest>(json!({"Limit": 1, "Bogus": 1}));
        assert_eq!(
            (c.as_str(), m.contains("`Bogus`")),
            ("UnknownParameter", true),
            "{m}"
        );
        let (c, m) =
            code::<DescribeInstancesRequest>(json!({"Filters": [{"Name": "zone", "Values": [], "Op": "x"}]}));
        assert_eq!(c, "UnknownParameter");
        assert!(m.contains("`Filters.0.Op`"), "{m}");

        let (c, m) = code::<StartInstancesRequest>(json!({}));
        assert_eq!(c, "MissingParameter");
        assert!(m.contains("`InstanceIds`"), "{m}");
        // Unknown before missing, even when the required member is absent.
        let (c, m) = code::<StartInstancesRequest>(json!({"InstanceId": ["ins-aaaaaaaa"]}));
        assert_eq!(c, "UnknownParameter");
        assert!(m.contains("`InstanceId`"), "{m}");
        let (c, m) = code::<DescribeInstancesRequest>(json!({"Filters": [{"Values": ["a"]}]}));
        assert_eq!(c, "MissingParameter");
        assert!(m.contains("`Filters.0.Name`"), "{m}");
        let (c, _) = code::<DescribeInstancesRequest>(json!({"Filters": [{"Values": ["a"], "X": 1}]}));
        assert_eq!(c, "UnknownParameter");
        // Nulls are as good as absent.
        assert!(both::<DescribeInstancesRequest>(json!({"Limit": null})).is_ok());
    }

    #[test]
    fn rules_map_to_codes() {
        let r = StartInstancesRequest { instance_ids: vec![] };
        assert_eq!(check_rules(&r).unwrap_err().code, "MissingParameter");
        let r = StartInstancesRequest {
            instance_ids: vec!["bad".into()],
        };
        let e = check_rules(&r).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(e.message.contains("`InstanceIds.0`"), "{}", e.message);
    }
}
