//! Flat form parameters (`Filters.0.Values.1=x`) to the nested JSON object
//! the typed requests decode from.
//!
//! Every value stays a string: the typed structs decode leniently, so
//! `Limit=20` becomes 20 and `DryRun=true` becomes `true` there.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::shorten;

/// Deepest nesting accepted in a parameter name (`A.0.B.1.C` is 5).
const MAX_DEPTH: usize = 16;
/// Most parameters accepted in one request.
const MAX_PARAMS: usize = 10_000;

enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

/// Parses `application/x-www-form-urlencoded` text (a GET query or a form
/// body) into a JSON object. `Err` says what is wrong, naming the parameter.
pub(crate) fn form_to_json(raw: &[u8]) -> Result<Map<String, Value>, String> {
    let mut root = BTreeMap::new();
    for (count, (name, value)) in form_urlencoded::parse(raw).enumerate() {
        if count >= MAX_PARAMS {
            return Err(format!("more than {MAX_PARAMS} parameters"));
        }
        if name.is_empty() {
            if value.is_empty() {
                continue; // `a=1&&b=2`
            }
            return Err("a parameter has an empty name".to_owned());
        }
        let segments: Vec<&str> = name.split('.').collect();
        if segments.len() > MAX_DEPTH {
            return Err(format!("parameter `{}` is nested too deeply", shorten(&name)));
        }
        if segments.iter().any(|s| s.is_empty()) {
            return Err(format!("parameter name `{}` is malformed", shorten(&name)));
        }
        insert(&mut root, &segments, value.into_owned(), &name)?;
    }
    let mut out = Map::new();
    for (key, node) in root {
        match to_value(node) {
            Ok(value) => {
                out.insert(key, value);
            }
            Err(mut inner) => {
                inner.push(key);
                inner.reverse();
                return Err(format!(
                    "parameter `{}` has the same index twice",
                    shorten(&inner.join("."))
                ));
            }
        }
    }
    Ok(out)
}

fn insert(
    branch: &mut BTreeMap<String, Node>,
    segments: &[&str],
    value: String,
    name: &str,
) -> Result<(), String> {
    let (first, rest) = match segments.split_first() {
        Some(split) => split,
        None => return Ok(()),
    };
    if rest.is_empty() {
        return match branch.get(*first) {
            Some(Node::Leaf(_)) => Err(format!("parameter `{}` is given more than once", shorten(name))),
            Some(Node::Branch(_)) => Err(format!(
                "parameter `{}` is given both as a value and as a structure",
                shorten(name)
            )),
            None => {
                branch.insert((*first).to_owned(), Node::Leaf(value));
                Ok(())
            }
        };
    }
    let child = branch
        .entry((*first).to_owned())
        .or_insert_with(|| Node::Branch(BTreeMap::new()));
    match child {
        Node::Branch(inner) => insert(inner, rest, value, name),
        Node::Leaf(_) => Err(format!(
            "parameter `{}` is given both as a value and as a structure",
            shorten(name)
        )),
    }
}

/// A branch whose keys are all indices becomes a list, in index order.
/// `Err`: the path (innermost segment first) of a branch that gives one
/// index twice; the path is made only then, so that a body of long names
/// costs no path string per node.
fn to_value(node: Node) -> Result<Value, Vec<String>> {
    match node {
        Node::Leaf(s) => Ok(Value::String(s)),
        Node::Branch(children) => {
            let all_indices = !children.is_empty() && children.keys().all(|k| parse_index(k).is_some());
            if all_indices {
                let mut items: Vec<(u32, Node)> = Vec::with_capacity(children.len());
                for (k, v) in children {
                    let Some(i) = parse_index(&k) else { continue };
                    items.push((i, v));
                }
                items.sort_by_key(|(i, _)| *i);
                if items.windows(2).any(|w| w[0].0 == w[1].0) {
                    return Err(Vec::new());
                }
                let mut list = Vec::with_capacity(items.len());
                for (i, v) in items {
                    list.push(to_value(v).map_err(|mut path| {
                        path.push(i.to_string());
                        path
                    })?);
                }
                Ok(Value::Array(list))
            } else {
                let mut map = Map::new();
                for (k, v) in children {
                    match to_value(v) {
                        Ok(value) => {
                            map.insert(k, value);
                        }
                        Err(mut path) => {
                            path.push(k);
                            return Err(path);
                        }
                    }
                }
                Ok(Value::Object(map))
            }
        }
    }
}

fn parse_index(key: &str) -> Option<u32> {
    if key.is_empty() || key.len() > 9 || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::form_to_json;

    fn parse(q: &str) -> serde_json::Value {
        serde_json::Value::Object(form_to_json(q.as_bytes()).unwrap())
    }

    #[test]
    fn nests_lists_and_objects() {
        assert_eq!(
            parse(
                "InstanceIds.0=ins-aaaaaaaa&InstanceIds.1=ins-bbbbbbbb&Filters.0.Name=zone\
                 &Filters.0.Values.0=ap-guangzhou-3&Limit=20&Placement.Zone=a%2Bb+c"
            ),
            json!({
                "InstanceIds": ["ins-aaaaaaaa", "ins-bbbbbbbb"],
                "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}],
                "Limit": "20",
                "Placement": {"Zone": "a+b c"},
            })
        );
        assert_eq!(parse("A.10=x&A.2=y"), json!({"A": ["y", "x"]}));
        assert_eq!(parse(""), json!({}));
    }

    #[test]
    fn refuses_ambiguous_input() {
        for bad in [
            "A=1&A=2",
            "A=1&A.0=2",
            "A.0=2&A=1",
            "A..B=1",
            "=x",
            "A.0=1&A.00=2",
        ] {
            assert!(form_to_json(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = (0..40).map(|_| "A").collect::<Vec<_>>().join(".") + "=1";
        assert!(form_to_json(deep.as_bytes()).is_err());
        // The repeated index is named, cut and inert.
        let e = form_to_json(b"B.x.0=1&B.x.00=2").unwrap_err();
        assert!(e.contains("`B.x` has the same index twice"), "{e}");
        let long = format!("%1B{}.0=1&%1B{}.00=2", "A".repeat(5000), "A".repeat(5000));
        let e = form_to_json(long.as_bytes()).unwrap_err();
        assert!(
            e.len() < 200 && !e.contains('\u{1b}') && e.contains("\\u{1b}"),
            "{e}"
        );
    }
}
