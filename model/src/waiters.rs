//! `waiters.json`, checked against the model: every action, member and path
//! it names must exist, with the types its use needs.

use crate::error::SpecError;
use crate::model::{Leaf, Member, Model, Object, Scalar};
use crate::spec::{AcceptorState, Comparator, WaitersFile};
use crate::words::{is_identifier, suggest};

pub const WAITERS_FILE: &str = "waiters.json";

pub use crate::model::{Acceptor, PathRef, Waiter};

fn problem(path: String, message: String) -> SpecError {
    SpecError {
        file: WAITERS_FILE.to_owned(),
        path,
        message,
    }
}

fn find<'o>(object: &'o Object, wire: &str) -> Option<&'o Member> {
    object.member(wire)
}

fn no_member(object: &Object, wire: &str) -> String {
    let names: Vec<String> = object.members.iter().map(|m| m.wire_name.clone()).collect();
    format!(
        "`{}` has no member `{wire}`{}",
        object.name,
        suggest(wire, names.iter())
    )
}

/// The scalar at the end of `path` (members joined by `.`) from `object`.
fn resolve(model: &Model, object: &Object, path: &str) -> Result<(Vec<String>, Scalar), String> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut current = object;
    let mut chain = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let m = find(current, segment).ok_or_else(|| no_member(current, segment))?;
        chain.push(m.wire_name.clone());
        let last = i + 1 == segments.len();
        match (&m.ty.leaf, m.ty.list, last) {
            (_, true, _) => {
                return Err(format!(
                    "`{}` in path `{path}` is a list; paths read single values",
                    m.wire_name
                ))
            }
            (Leaf::Scalar(scalar), false, true) => return Ok((chain, *scalar)),
            (Leaf::Scalar(_), false, false) => {
                return Err(format!("`{}` in path `{path}` is not an object", m.wire_name))
            }
            (Leaf::Object(name), false, false) => {
                current = model
                    .object(name)
                    .ok_or_else(|| format!("unknown object `{name}`"))?;
            }
            (Leaf::Object(_), false, true) => {
                return Err(format!(
                    "path `{path}` ends at an object; name one of its members"
                ))
            }
        }
    }
    Err("the path is empty".to_owned())
}

fn check_expected(scalar: Scalar, expected: &str) -> Result<(), String> {
    let ok = match scalar {
        Scalar::I64 => expected.parse::<i64>().is_ok(),
        Scalar::U64 => expected.parse::<u64>().is_ok(),
        Scalar::F64 => expected.parse::<f64>().is_ok(),
        Scalar::Bool => matches!(expected, "true" | "false"),
        Scalar::String | Scalar::DateTime | Scalar::DateTimeIso | Scalar::Date | Scalar::Binary => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{expected}` is not a {} value", scalar.describe()))
    }
}

/// Checks `file` against `model`; every problem found is returned.
pub fn build(file: &WaitersFile, model: &Model) -> Result<Vec<Waiter>, Vec<SpecError>> {
    let mut problems = Vec::new();
    let mut waiters = Vec::new();
    for (name, def) in &file.waiters.0 {
        let base = format!("waiters.{name}");
        let before = problems.len();
        let mut push = |path: String, message: String| problems.push(problem(path, message));
        if !is_identifier(name) || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            push(
                base.clone(),
                format!("waiter name `{name}` is not a CamelCase identifier"),
            );
            continue;
        }
        if def.documentation.trim().is_empty() {
            push(
                format!("{base}.documentation"),
                "say what the waiter waits for".to_owned(),
            );
        }
        if def.min_delay == 0 {
            push(
                format!("{base}.min_delay"),
                "must be at least 1 second".to_owned(),
            );
        }
        if def.max_delay < def.min_delay {
            push(
                format!("{base}.max_delay"),
                format!("{} is less than min_delay {}", def.max_delay, def.min_delay),
            );
        }
        if def.deadline < def.max_delay {
            push(
                format!("{base}.deadline"),
                format!("{} is less than max_delay {}", def.deadline, def.max_delay),
            );
        }
        let Some(action) = model.actions.iter().find(|a| a.name == def.action) else {
            let names: Vec<String> = model.actions.iter().map(|a| a.name.clone()).collect();
            push(
                format!("{base}.action"),
                format!("no action `{}`{}", def.action, suggest(&def.action, names.iter())),
            );
            continue;
        };
        let (Some(input), Some(output)) = (model.object(&action.input), model.object(&action.output)) else {
            continue;
        };
        // The ids go in, the items come out.
        match find(input, &def.ids.input) {
            None => push(format!("{base}.ids.input"), no_member(input, &def.ids.input)),
            Some(m) if !(m.ty.list && m.ty.leaf == Leaf::Scalar(Scalar::String)) => push(
                format!("{base}.ids.input"),
                format!("`{}` must be a list of strings", m.wire_name),
            ),
            Some(m) => {
                // Every awaited item must fit on the one page polled, or a
                // missing one would read as absent.
                if let Some(paging) = &action.paging {
                    let page = paging.max_page_size.unwrap_or(0);
                    let ids = m.rule.as_ref().and_then(|r| r.max_items);
                    if ids.is_none_or(|n| n as i64 > page) {
                        push(
                            format!("{base}.ids.input"),
                            format!(
                                "`{}` must allow no more ids (a max_items rule) than the largest page of `{}` \
                                 ({}), so that one poll sees every awaited item",
                                m.wire_name,
                                def.action,
                                paging.max_page_size.map_or("unknown: give its size member a maximum rule".to_owned(), |n| n.to_string())
                            ),
                        );
                    }
                }
            }
        }
        for m in &input.members {
            if m.required && m.wire_name != def.ids.input {
                push(
                    format!("{base}.action"),
                    format!(
                        "`{}` requires `{}`, which a waiter cannot fill in",
                        def.action, m.wire_name
                    ),
                );
            }
        }
        let item = match find(output, &def.ids.items) {
            None => {
                push(format!("{base}.ids.items"), no_member(output, &def.ids.items));
                None
            }
            Some(m) => match (&m.ty.leaf, m.ty.list) {
                (Leaf::Object(object), true) => model.object(object),
                _ => {
                    push(
                        format!("{base}.ids.items"),
                        format!("`{}` must be a list of objects", m.wire_name),
                    );
                    None
                }
            },
        };
        if let Some(item) = item {
            match find(item, &def.ids.key) {
                None => push(format!("{base}.ids.key"), no_member(item, &def.ids.key)),
                Some(m) if m.ty.list || m.ty.leaf != Leaf::Scalar(Scalar::String) => push(
                    format!("{base}.ids.key"),
                    format!("`{}` must be a string", m.wire_name),
                ),
                Some(_) => {}
            }
        }
        if def.acceptors.is_empty() || !def.acceptors.iter().any(|a| a.state == AcceptorState::Success) {
            push(
                format!("{base}.acceptors"),
                "needs at least one success acceptor".to_owned(),
            );
        }
        let mut item_paths: Vec<Vec<String>> = Vec::new();
        let mut root_paths: Vec<Vec<String>> = Vec::new();
        let mut acceptors = Vec::new();
        for (i, acceptor) in def.acceptors.iter().enumerate() {
            let apath = format!("{base}.acceptors[{i}].matcher");
            let matcher = &acceptor.matcher;
            let (from, list) = match matcher.comparator {
                Comparator::All | Comparator::Any => (item, &mut item_paths),
                Comparator::Equals => (Some(output), &mut root_paths),
            };
            let Some(from) = from else { continue };
            match resolve(model, from, &matcher.path) {
                Err(message) => push(format!("{apath}.path"), message),
                Ok((chain, scalar)) => {
                    if let Err(message) = check_expected(scalar, &matcher.expected) {
                        push(format!("{apath}.expected"), message);
                    }
                    let index = list.iter().position(|c| *c == chain).unwrap_or_else(|| {
                        list.push(chain);
                        list.len() - 1
                    });
                    acceptors.push(Acceptor {
                        state: acceptor.state,
                        comparator: matcher.comparator,
                        path: matcher.path.clone(),
                        value: match matcher.comparator {
                            Comparator::Equals => PathRef::Root(index),
                            _ => PathRef::Item(index),
                        },
                        expected: matcher.expected.clone(),
                    });
                }
            }
        }
        if problems.len() == before {
            waiters.push(Waiter {
                name: name.clone(),
                documentation: def.documentation.trim().to_owned(),
                action: def.action.clone(),
                ids_input: def.ids.input.clone(),
                items: def.ids.items.clone(),
                key: def.ids.key.clone(),
                absent: def.ids.absent.clone(),
                min_delay: def.min_delay,
                max_delay: def.max_delay,
                deadline: def.deadline,
                acceptors,
                item_paths,
                root_paths,
            });
        }
    }
    if problems.is_empty() {
        Ok(waiters)
    } else {
        Err(problems)
    }
}
