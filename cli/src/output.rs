//! What a call prints: the `Response` object projected on the action's
//! output model, as tccli prints it, then `--filter` and `--output`.
//!
//! tccli decodes an answer into the Python SDK's model and prints that: every
//! member the model declares, in its order, `null` where the answer has none,
//! and nothing the model does not declare. The projection does the same
//! from the description, and the JSON is written as Python's
//! `json.dumps(indent=4, ensure_ascii=False)` writes it, so that the text
//! matches, not only the value.

use codegen::model::{Leaf, Model, Object};
use serde_json::{Number, Value};

use crate::error::CliError;
use crate::format;

/// A JSON value whose objects keep their members' order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// `value` as `object` declares it.
pub fn project(model: &Model, object: &Object, value: &Value) -> Node {
    let Value::Object(map) = value else {
        return Node::from(value);
    };
    let members = object.members.iter().map(|m| {
        let node = match map.get(&m.wire_name) {
            None | Some(Value::Null) => Node::Null,
            Some(v) => match (&m.ty.leaf, m.ty.list, v) {
                (Leaf::Object(name), true, Value::Array(items)) => match model.object(name) {
                    Some(inner) => Node::List(items.iter().map(|i| project(model, inner, i)).collect()),
                    None => Node::from(v),
                },
                (Leaf::Object(name), false, _) => match model.object(name) {
                    Some(inner) => project(model, inner, v),
                    None => Node::from(v),
                },
                _ => Node::from(v),
            },
        };
        (m.wire_name.clone(), node)
    });
    Node::Object(members.collect())
}

impl From<&Value> for Node {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(s.clone()),
            Value::Array(items) => Node::List(items.iter().map(Node::from).collect()),
            Value::Object(map) => Node::Object(map.iter().map(|(k, v)| (k.clone(), Node::from(v))).collect()),
        }
    }
}

impl From<&Node> for Value {
    fn from(node: &Node) -> Self {
        match node {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.clone()),
            Node::List(items) => Value::Array(items.iter().map(Value::from).collect()),
            Node::Object(members) => {
                Value::Object(members.iter().map(|(k, v)| (k.clone(), Value::from(v))).collect())
            }
        }
    }
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
    Text,
}

impl Format {
    pub fn parse(name: &str) -> Result<Format, CliError> {
        match name {
            "json" => Ok(Format::Json),
            "table" => Ok(Format::Table),
            "text" => Ok(Format::Text),
            other => Err(CliError::usage(format!(
                "unknown output format `{other}`: json, table or text"
            ))),
        }
    }
}

/// A compiled `--filter`, checked before any request is sent.
pub struct Filter(jmespath::Expression<'static>);

impl Filter {
    pub fn compile(expression: &str) -> Result<Filter, CliError> {
        // The parser's message draws a caret under the expression on more
        // lines; errors are one line.
        jmespath::compile(expression).map(Filter).map_err(|e| {
            let text = e.to_string();
            CliError::usage(format!("--filter: {}", text.lines().next().unwrap_or_default()))
        })
    }

    pub fn search(&self, node: &Node) -> Result<Node, CliError> {
        let found = self
            .0
            .search(Value::from(node))
            .map_err(|e| CliError::usage(format!("--filter: {e}")))?;
        let value =
            serde_json::to_value(&*found).map_err(|e| CliError::internal(format!("--filter result: {e}")))?;
        Ok(Node::from(&value))
    }
}

/// The text printed for `node` (empty for a top-level `null`, as tccli).
pub fn render(node: &Node, format: Format) -> String {
    if *node == Node::Null && format == Format::Json {
        return String::new();
    }
    match format {
        Format::Json => {
            let mut out = String::new();
            write_json(node, 0, &mut out);
            out.push('\n');
            out
        }
        Format::Text => format::text(&Value::from(node)),
        Format::Table => format::table(&Value::from(node)),
    }
}

/// Python's `json.dumps(node, indent=4, ensure_ascii=False)`.
pub fn write_json(node: &Node, depth: usize, out: &mut String) {
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&" ".repeat(depth * 4));
    };
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(n) => format::push_py_number(out, n),
        Node::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Node::List(items) if items.is_empty() => out.push_str("[]"),
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json(item, depth + 1, out);
            }
            newline(out, depth);
            out.push(']');
        }
        Node::Object(members) if members.is_empty() => out.push_str("{}"),
        Node::Object(members) => {
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_json(value, depth + 1, out);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_laid_out_as_python_does() {
        let node = Node::Object(vec![
            (
                "B".into(),
                Node::List(vec![Node::String("é\n".into()), Node::Null]),
            ),
            ("A".into(), Node::Object(vec![])),
            ("C".into(), Node::List(vec![])),
        ]);
        let mut out = String::new();
        write_json(&node, 0, &mut out);
        assert_eq!(
            out,
            "{\n    \"B\": [\n        \"é\\n\",\n        null\n    ],\n    \"A\": {},\n    \"C\": []\n}"
        );
    }
}
