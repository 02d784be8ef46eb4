//! Request parameters to typed requests, with the gateway's error codes.
//!
//! The typed structs generated from the spec are the schema: a parameter of
//! the wrong type fails to decode (`InvalidParameter`), a parameter the
//! action does not define is absent when the decoded struct is encoded again
//! (`UnknownParameter`), a required one is reported by serde or by the spec's
//! rules (`MissingParameter`).

use cvm_api::runtime::Validate;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Bound on decode attempts when filling in missing members.
const MAX_ATTEMPTS: usize = 64;

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

/// Decodes `params` (a JSON object) into the request type of `action`.
///
/// Errors, in this order of precedence: the wrong type
/// (`InvalidParameter`), a parameter `T` does not define
/// (`UnknownParameter`), a missing required parameter (`MissingParameter`).
pub(crate) fn decode<T: DeserializeOwned + Serialize>(action: &str, params: &Value) -> Result<T, ApiError> {
    let err = match attempt::<T>(params) {
        Ok(value) => {
            check_unknown(action, params, &value)?;
            return Ok(value);
        }
        Err(e) => e,
    };
    let (path, message) = err;
    let Some(member) = missing_member(&message) else {
        return Err(invalid(&path, &message));
    };
    // Fill in stand-ins for missing members until the request decodes, to
    // find unknown parameters; then report the first missing one.
    let mut working = params.clone();
    let mut missing = vec![Missing {
        at: path,
        member,
        kind: 0,
    }];
    if !set_member(&mut working, &missing[0], 0) {
        return Err(missing_error(&missing));
    }
    for _ in 0..MAX_ATTEMPTS {
        match attempt::<T>(&working) {
            Ok(value) => {
                check_unknown(action, params, &value)?;
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
                    if !set_member(&mut working, &m, 0) {
                        break;
                    }
                    missing.push(m);
                    continue;
                }
                // A stand-in of the wrong kind: try the next one.
                let Some(m) = missing.iter_mut().find(|m| path.starts_with(&m.full())) else {
                    return Err(invalid(&path, &message));
                };
                m.kind += 1;
                let kind = m.kind;
                let m = &*m;
                if !set_member(&mut working, m, kind) {
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

fn invalid(path: &[String], message: &str) -> ApiError {
    if path.is_empty() {
        ApiError::new(
            "InvalidParameter",
            format!("The request parameters are invalid: {message}."),
        )
    } else {
        ApiError::new(
            "InvalidParameter",
            format!("The parameter `{}` is invalid: {message}.", dotted(path)),
        )
    }
}

fn attempt<T: DeserializeOwned>(params: &Value) -> Result<T, (Path, String)> {
    serde_path_to_error::deserialize::<_, T>(params).map_err(|e| {
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
        (path, e.into_inner().to_string())
    })
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

/// `UnknownParameter` for the first member of `params` that the decoded
/// request does not have.
fn check_unknown<T: Serialize>(action: &str, params: &Value, decoded: &T) -> Result<(), ApiError> {
    let encoded = serde_json::to_value(decoded)
        .map_err(|e| ApiError::new("InternalError", format!("cannot encode the decoded request: {e}")))?;
    let mut path = Vec::new();
    if find_unknown(params, &encoded, &mut path) {
        return Err(ApiError::new(
            "UnknownParameter",
            format!(
                "The parameter `{}` is not recognized: action {action} does not define it.",
                dotted(&path)
            ),
        ));
    }
    Ok(())
}

/// Walks `input` and `known` together; `true` with `path` naming the first
/// member of `input` missing from `known`. Null members are skipped (an
/// absent optional member encodes to nothing).
fn find_unknown(input: &Value, known: &Value, path: &mut Vec<String>) -> bool {
    match (input, known) {
        (Value::Object(given), Value::Object(defined)) => {
            for (key, value) in given {
                if value.is_null() {
                    continue;
                }
                path.push(key.clone());
                match defined.get(key) {
                    None => return true,
                    Some(inner) => {
                        if find_unknown(value, inner, path) {
                            return true;
                        }
                    }
                }
                path.pop();
            }
            false
        }
        (Value::Array(given), Value::Array(defined)) => {
            for (i, (value, inner)) in given.iter().zip(defined).enumerate() {
                path.push(i.to_string());
                if find_unknown(value, inner, path) {
                    return true;
                }
                path.pop();
            }
            false
        }
        _ => false,
    }
}

/// The spec's rules (required members, list sizes, patterns, ranges) as
/// gateway errors: `MissingParameter` for an empty required member, else
/// `InvalidParameterValue` naming the first violation.
pub(crate) fn check_rules<T: Validate + ?Sized>(request: &T) -> Result<(), ApiError> {
    let Err(e) = request.check() else {
        return Ok(());
    };
    let wire = |field: &str| field.replace('[', ".").replace(']', "");
    if let Some(v) = e.violations.iter().find(|v| v.problem.starts_with("is required")) {
        return Err(ApiError::missing(&wire(&v.field)));
    }
    match e.violations.first() {
        Some(v) => Err(ApiError::invalid_value(format!(
            "The parameter `{}` {}.",
            wire(&v.field),
            v.problem
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use cvm_api::types::{DescribeInstancesRequest, RunInstancesRequest, StartInstancesRequest};
    use serde_json::json;

    use super::*;

    fn code<T: DeserializeOwned + Serialize>(params: Value) -> (String, String) {
        let e = decode::<T>("X", &params).err().expect("should fail");
        (e.code, e.message)
    }

    #[test]
    fn decodes_leniently() {
        let r: DescribeInstancesRequest = decode(
            "DescribeInstances",
            &json!({"Limit": "20", "Offset": 1, "Filters": [{"Name": "zone", "Values": ["z"]}]}),
        )
        .unwrap();
        assert_eq!(r.limit, Some(20));
        assert_eq!(r.filters.unwrap()[0].values, vec!["z".to_owned()]);
        let r: RunInstancesRequest = decode("RunInstances", &json!({"DryRun": "True"})).unwrap();
        assert_eq!(r.dry_run, Some(true));
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
        assert!(decode::<DescribeInstancesRequest>("D", &json!({"Limit": null})).is_ok());
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
