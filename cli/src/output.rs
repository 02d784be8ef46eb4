//! What a call prints: the `Response` object projected on the action's
//! output model, as tccli prints it, then `--filter` and `--output`.
//!
//! tccli decodes an answer into the Python SDK's model and prints that: every
//! member the model declares, in its order, `null` where the answer has none,
//! and nothing the model does not declare. The projection does the same
//! from the description, and the JSON is written as Python's
//! `json.dumps(indent=4, ensure_ascii=False)` writes it, so that the text
//! matches, not only the value.

use std::collections::HashMap;

use serde_json::{Number, Value};
use tencentcloud_model::budget::{Budget, LimitExceeded, ResponseLimits};
use tencentcloud_model::model::{Leaf, Model, Object};

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

/// `value` as `object` declares it, within `limits`.
///
/// Every member the object declares is printed, `null` where the answer has
/// none, so an empty `{}` in a list becomes as many values as its object
/// declares: each projected object is counted by its declared members (the
/// rest copies the decoded answer, which the runtime bounded already).
pub fn project(
    model: &Model,
    object: &Object,
    value: &Value,
    limits: ResponseLimits,
) -> Result<Node, LimitExceeded> {
    project_within(model, object, value, &mut Budget::new(limits))
}

fn project_within(
    model: &Model,
    object: &Object,
    value: &Value,
    budget: &mut Budget,
) -> Result<Node, LimitExceeded> {
    let Value::Object(map) = value else {
        return Ok(Node::from(value));
    };
    budget.charge(object.members.len())?;
    let mut members = Vec::with_capacity(object.members.len());
    for m in &object.members {
        let node = match map.get(&m.wire_name) {
            None | Some(Value::Null) => Node::Null,
            Some(v) => match (&m.ty.leaf, m.ty.list, v) {
                (Leaf::Object(name), true, Value::Array(items)) => match model.object(name) {
                    Some(inner) => Node::List(
                        items
                            .iter()
                            .map(|i| project_within(model, inner, i, budget))
                            .collect::<Result<_, _>>()?,
                    ),
                    None => Node::from(v),
                },
                (Leaf::Object(name), false, _) => match model.object(name) {
                    Some(inner) => project_within(model, inner, v, budget)?,
                    None => Node::from(v),
                },
                _ => Node::from(v),
            },
        };
        members.push((m.wire_name.clone(), node));
    }
    Ok(Node::Object(members))
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
pub struct Filter {
    expression: jmespath::Expression<'static>,
    /// `--filter`, `--waiter`: for messages.
    option: &'static str,
}

/// The most operators an expression may hold. The JMESPath crate parses and
/// evaluates recursively, so thousands of nested levels would overflow the
/// stack; real filters hold a few dozen.
const MAX_OPERATORS: usize = 256;

impl Filter {
    pub fn compile(expression: &str, option: &'static str) -> Result<Filter, CliError> {
        let operators = expression.chars().filter(|c| ".[({|!&".contains(*c)).count();
        if operators > MAX_OPERATORS {
            return Err(CliError::usage(format!(
                "{option}: the expression has {operators} operators; at most {MAX_OPERATORS}"
            )));
        }
        jmespath::compile(expression)
            .map(|expression| Filter { expression, option })
            .map_err(|e| CliError::usage(format!("{option}: {}", first_line(&e.to_string()))))
    }

    /// The expression applied to `node`. Objects come out in the order
    /// Python's jmespath gives them, as tccli prints them: a multi-select
    /// hash's keys as written, an object of the answer as the answer has it
    /// (the crate's own objects are sorted maps). The request was sent, so
    /// a failure here is a failed call, not a refused one.
    pub fn search(&self, node: &Node) -> Result<Node, CliError> {
        let found = self
            .expression
            .search(Value::from(node))
            .map_err(|e| CliError::call(format!("{}: {}", self.option, first_line(&e.to_string()))))?;
        let value =
            serde_json::to_value(&*found).map_err(|e| CliError::internal(format!("--filter result: {e}")))?;
        let orders = key_orders(self.expression.as_ast(), node);
        Ok(reordered(Node::from(&value), &orders))
    }
}

/// The parser's and interpreter's messages draw a caret under the
/// expression on further lines; errors are one line.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// An object's keys, sorted: what identifies it after a sorting search.
type KeySet = Vec<String>;

/// For each set of keys, the order to print them in: a multi-select hash's
/// as written, else the first object of `source` with those keys.
fn key_orders(expression: &jmespath::ast::Ast, source: &Node) -> HashMap<KeySet, Vec<String>> {
    use jmespath::ast::Ast;
    let mut orders = HashMap::new();
    let mut remember = |keys: Vec<String>| {
        let mut set = keys.clone();
        set.sort();
        orders.entry(set).or_insert(keys);
    };
    let mut asts = vec![expression];
    while let Some(ast) = asts.pop() {
        match ast {
            Ast::MultiHash { elements, .. } => {
                remember(elements.iter().map(|kv| kv.key.clone()).collect());
                asts.extend(elements.iter().map(|kv| &kv.value));
            }
            Ast::Comparison { lhs, rhs, .. }
            | Ast::Projection { lhs, rhs, .. }
            | Ast::And { lhs, rhs, .. }
            | Ast::Or { lhs, rhs, .. }
            | Ast::Subexpr { lhs, rhs, .. } => asts.extend([&**lhs, &**rhs]),
            Ast::Condition { predicate, then, .. } => asts.extend([&**predicate, &**then]),
            Ast::Expref { ast, .. } => asts.push(ast),
            Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
                asts.push(node)
            }
            Ast::Function { args, .. } => asts.extend(args),
            Ast::MultiList { elements, .. } => asts.extend(elements),
            Ast::Identity { .. }
            | Ast::Field { .. }
            | Ast::Index { .. }
            | Ast::Literal { .. }
            | Ast::Slice { .. } => {}
        }
    }
    let mut nodes = vec![source];
    while let Some(node) = nodes.pop() {
        match node {
            Node::Object(members) => {
                remember(members.iter().map(|(k, _)| k.clone()).collect());
                nodes.extend(members.iter().map(|(_, v)| v));
            }
            Node::List(items) => nodes.extend(items),
            _ => {}
        }
    }
    orders
}

fn reordered(node: Node, orders: &HashMap<KeySet, Vec<String>>) -> Node {
    match node {
        Node::List(items) => Node::List(items.into_iter().map(|i| reordered(i, orders)).collect()),
        Node::Object(members) => {
            let mut set: KeySet = members.iter().map(|(k, _)| k.clone()).collect();
            set.sort();
            let mut members: Vec<(String, Node)> = members
                .into_iter()
                .map(|(k, v)| (k, reordered(v, orders)))
                .collect();
            if let Some(order) = orders.get(&set) {
                members.sort_by_key(|(k, _)| order.iter().position(|o| o == k));
            }
            Node::Object(members)
        }
        other => other,
    }
}

/// The text printed for `node` (empty for a top-level `null`, as tccli).
/// JSON is a line per value; text and table, which can make far more (see
/// [`format`]), are held to `limits`; `strings` says how they write the
/// service's strings (JSON escapes control characters anyway).
pub fn render(
    node: &Node,
    format: Format,
    limits: ResponseLimits,
    strings: format::Strings,
) -> Result<String, format::Refused> {
    if *node == Node::Null && format == Format::Json {
        return Ok(String::new());
    }
    match format {
        Format::Json => {
            let mut out = String::new();
            write_json(node, 0, &mut out);
            out.push('\n');
            Ok(out)
        }
        Format::Text => format::text(&Value::from(node), limits, strings),
        Format::Table => format::table(&Value::from(node), limits, strings),
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
    fn projection_counts_each_object_by_its_declared_members() {
        let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/cvm/v20170312");
        let model = tencentcloud_model::load_dir(&spec).expect("the CVM description");
        let action = model.action("DescribeInstances").expect("the action");
        let output = model.object(&action.output).expect("its output");
        let declared = model.object("Instance").expect("Instance").members.len();
        // Ten empty items: each printed with every member `Instance` declares.
        let answer = serde_json::json!({"InstanceSet": vec![serde_json::json!({}); 10], "RequestId": "r"});
        let cost = output.members.len() + 10 * declared;
        let enough = ResponseLimits::new().with_max_values(cost);
        let Node::Object(members) = project(&model, output, &answer, enough).expect("within the limit")
        else {
            panic!("not an object");
        };
        let Some((_, Node::List(items))) = members.iter().find(|(k, _)| k == "InstanceSet") else {
            panic!("no InstanceSet");
        };
        assert!(matches!(&items[9], Node::Object(m) if m.len() == declared));
        let short = ResponseLimits::new().with_max_values(cost - 1);
        assert_eq!(
            project(&model, output, &answer, short),
            Err(LimitExceeded::Values(cost - 1))
        );
    }

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
