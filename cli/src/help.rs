//! `help` at each level, and `--generate-cli-skeleton`, from the model.

use std::collections::BTreeSet;
use std::fmt::Write;

use tencentcloud_model::facts::{self, Ref, Render, Topic};
use tencentcloud_model::model::{Leaf, Member, Model, Object, Paging, PagingStyle, Scalar};

use crate::args::OPTIONS;
use crate::catalog::{Catalog, Origin, Service};
use crate::output::Node;
use crate::params::shape;
use crate::waiters::cli_name;

pub fn usage(catalog: &Catalog) -> String {
    let mut out = String::from(
        "tcloud: every Tencent Cloud API from the command line, as tccli takes it.\n\n\
         usage: tcloud <service> <Action> [--Param value ...] [options]\n\
         \x20      tcloud <service> <Action> help\n\
         \x20      tcloud <service> help\n\
         \x20      tcloud completion bash|zsh|fish\n\n\
         A string parameter takes its value as typed; any other takes JSON:\n\
         \x20 tcloud cvm DescribeInstances --InstanceIds '[\"ins-r8hr2upy\"]' --Limit 10\n\nOptions:\n",
    );
    options(&mut out);
    let services = catalog.services();
    let _ = writeln!(out, "\nServices ({}):", services.len());
    for row in services.chunks(8) {
        let _ = writeln!(
            out,
            "  {}",
            row.iter()
                .map(|s| format!("{s:<14}"))
                .collect::<String>()
                .trim_end()
        );
    }
    out
}

fn options(out: &mut String) {
    for (name, about) in OPTIONS {
        let _ = writeln!(out, "  --{name:<24}{about}");
    }
}

/// The service's actions, a line each; with `detail`, each action's whole
/// documentation under its name.
pub fn service(catalog: &Catalog, service: &Service, detail: bool) -> String {
    let model = &service.model;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (API version {}; versions: {}; {})\n",
        service.name,
        model.api_version,
        catalog.versions(&service.name).join(" "),
        match service.origin {
            Origin::Imported => "imported into spec/",
            Origin::Official => "official description",
        }
    );
    let _ = writeln!(out, "Actions ({}):", model.actions.len());
    for action in &model.actions {
        let _ = writeln!(out, "  {:<39} {}", action.name, first_line(&action.title));
        if detail && !action.document.trim().is_empty() {
            paragraphs(&mut out, &action.document, DETAIL_INDENT);
            out.push('\n');
        }
    }
    if !model.waiters.is_empty() {
        let _ = writeln!(out, "\nWaiters (--wait NAME):");
        for w in &model.waiters {
            let _ = writeln!(out, "  {:<27} {}", cli_name(w), first_line(&w.documentation));
        }
    }
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

/// Parameters with types and whether each is required, the output's
/// members, and the objects either reaches, each listed once. Without
/// `detail`, a member gets its documentation's first line and its rules;
/// with it (tccli's `help --detail`), its whole documentation and every
/// fact the model holds about it: shape, presence, rules, values, example.
pub fn action(service: &Service, name: &str, detail: bool) -> String {
    let model = &service.model;
    let Some(action) = model.action(name) else {
        return String::new();
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} (API version {})",
        service.name, action.name, model.api_version
    );
    if !action.document.is_empty() {
        let _ = writeln!(out, "\n{}", action.document.trim());
    }
    let _ = writeln!(out);
    for fact in facts::action(model, action) {
        // The SDK's paginator fetches every page; a tcloud command is one
        // call, one page: say how to page by hand instead.
        if fact.topic == Topic::Paging {
            if let Some(line) = action.paging.as_ref().map(paging_by_hand) {
                let _ = writeln!(out, "  - {line}");
            }
            continue;
        }
        let _ = writeln!(out, "  - {}", fact.render(&Text { model }));
    }
    let mut objects = BTreeSet::new();
    if let Some(input) = model.object(&action.input) {
        let _ = writeln!(out, "\nParameters:");
        if input.members.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        members(&mut out, model, input, "--", detail, &mut objects);
    }
    if let Some(output) = model.object(&action.output) {
        let _ = writeln!(out, "\nOutput:");
        members(&mut out, model, output, "", detail, &mut objects);
    }
    // Each object reached, by name, once.
    let mut shown = BTreeSet::new();
    while let Some(name) = objects.iter().find(|o| !shown.contains(*o)).cloned() {
        shown.insert(name.clone());
        if let Some(object) = model.object(&name) {
            let _ = writeln!(out, "\n{name}:");
            if detail && !object.document.trim().is_empty() {
                paragraphs(&mut out, &object.document, 2);
            }
            members(&mut out, model, object, "", detail, &mut objects);
        }
    }
    let _ = writeln!(out, "\nOptions:");
    options(&mut out);
    out
}

/// How to page with tcloud, which makes one call: the page size and the
/// member that moves on.
fn paging_by_hand(paging: &Paging) -> String {
    let size = match (&paging.page_size, paging.max_page_size) {
        (Some(size), Some(max)) => {
            format!("the service's default page size unless --{size} says otherwise; at most {max}")
        }
        (Some(size), None) => format!("the service's default page size unless --{size} says otherwise"),
        (None, _) => "the service's page size".to_owned(),
    };
    let next = match paging.style {
        PagingStyle::Offset => format!(
            "--{} moves on, up to {}",
            paging.offset.as_deref().unwrap_or("Offset"),
            paging.total_count.as_deref().unwrap_or("TotalCount")
        ),
        PagingStyle::Token => format!(
            "--{} takes the NextToken of the page before",
            paging.token.as_deref().unwrap_or("NextToken")
        ),
    };
    format!(
        "Pages: one command returns one page of {} ({size}); {next}.",
        paging.items
    )
}

/// The model's facts as terminal text: code as it is, a request member as
/// its parameter, a waiter as `--wait`'s name; the SDK's paginator and error
/// enum are not `tcloud`'s.
struct Text<'m> {
    model: &'m Model,
}

impl Render for Text<'_> {
    fn code(&self, text: &str) -> String {
        text.to_owned()
    }

    fn reference(&self, reference: &Ref) -> String {
        match reference {
            Ref::Member(wire) => format!("--{wire}"),
            Ref::Waiter(name) => match self.model.waiters.iter().find(|w| &w.name == name) {
                Some(waiter) => format!("--wait {}", cli_name(waiter)),
                None => name.clone(),
            },
            Ref::Object(name) | Ref::ValueSet(name) => name.clone(),
            Ref::Paginator | Ref::Errors => String::new(),
        }
    }
}

fn members(
    out: &mut String,
    model: &Model,
    object: &Object,
    prefix: &str,
    detail: bool,
    objects: &mut BTreeSet<String>,
) {
    let text = Text { model };
    for m in &object.members {
        if let Leaf::Object(name) = &m.ty.leaf {
            objects.insert(name.clone());
        }
        // Whether it is required says something only of request members.
        let need = match (object.in_input, m.required) {
            (false, _) => "",
            (true, true) => "required",
            (true, false) => "optional",
        };
        let name = format!("{prefix}{}", m.wire_name);
        let _ = write!(out, "  {name:<33} {:<25} {need:<9}", shape(m));
        if detail {
            out.truncate(out.trim_end().len());
            out.push('\n');
            paragraphs(out, &m.document, DETAIL_INDENT);
            let shape = facts::member_shape(object, m);
            for fact in std::iter::once(shape).chain(facts::member_rules(model, m)) {
                let _ = writeln!(out, "{:DETAIL_INDENT$}- {}", "", fact.render(&text));
            }
            continue;
        }
        let doc = first_line(&m.document);
        if !doc.is_empty() {
            let _ = write!(out, "{doc}");
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        for fact in facts::member_rules(model, m) {
            let _ = writeln!(out, "  {:<33} - {}", "", fact.render(&text));
        }
    }
}

/// Where `--detail` puts a member's text: under its name.
const DETAIL_INDENT: usize = 6;

/// Documentation as it is written, each line indented, paragraphs kept
/// apart; nothing when there is none.
fn paragraphs(out: &mut String, text: &str, indent: usize) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{:indent$}{line}", "");
        }
    }
}

/// tccli's `--generate-cli-skeleton`: every parameter, with its type's
/// name as the value. An object met again inside itself is shown by name.
pub fn skeleton(model: &Model, input: &Object) -> Node {
    fn object(model: &Model, object: &Object, seen: &mut Vec<String>) -> Node {
        let members = object
            .members
            .iter()
            .map(|m| (m.wire_name.clone(), member(model, m, seen)));
        Node::Object(members.collect())
    }
    fn member(model: &Model, m: &Member, seen: &mut Vec<String>) -> Node {
        let single = match &m.ty.leaf {
            Leaf::Scalar(s) => Node::String(type_name(*s).to_owned()),
            Leaf::Object(name) if seen.contains(name) => Node::String(name.clone()),
            Leaf::Object(name) => match model.object(name) {
                Some(inner) => {
                    seen.push(name.clone());
                    let node = object(model, inner, seen);
                    seen.pop();
                    node
                }
                None => Node::String(name.clone()),
            },
        };
        if m.ty.list {
            Node::List(vec![single])
        } else {
            single
        }
    }
    let mut seen = vec![input.name.clone()];
    object(model, input, &mut seen)
}

/// tccli's names for the scalar types in skeletons.
fn type_name(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::I64 | Scalar::U64 => "Integer",
        Scalar::F64 => "Float",
        Scalar::Bool => "Boolean",
        Scalar::String => "String",
        Scalar::Date | Scalar::DateTime | Scalar::DateTimeIso => "Timestamp",
        Scalar::Binary => "Binary",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every embedded service version decodes and models, and every
    /// action's help lists each of its parameters with its type.
    #[test]
    fn every_service_version_decodes_and_every_action_has_help() {
        let catalog = Catalog::embedded().unwrap();
        let (mut versions, mut actions) = (0, 0);
        for name in catalog.services() {
            for version in catalog.versions(name) {
                let service = catalog
                    .load(name, Some(version))
                    .unwrap_or_else(|e| panic!("{name}/{version}: {e}"));
                versions += 1;
                for a in &service.model.actions {
                    actions += 1;
                    let text = action(&service, &a.name, false);
                    let input = service.model.object(&a.input).unwrap();
                    for m in &input.members {
                        let line = format!("--{} ", m.wire_name);
                        assert!(
                            text.lines()
                                .any(|l| l.trim_start().starts_with(&line) && l.contains(&shape(m))),
                            "{name} {}: no line for {line}",
                            a.name
                        );
                    }
                }
            }
        }
        assert_eq!((catalog.services().len(), versions), (262, 300));
        assert!(actions >= 16_204, "{actions} actions");
    }
}
