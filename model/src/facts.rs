//! What every tool says about an action and its members, in our own words,
//! from the model's facts alone: the one place these sentences are written.
//! `codegen` renders them as rustdoc (references become links), `tcloud`'s
//! help as text (references become its parameters and options).
//!
//! A [`Fact`] is one short sentence: text, code spans and [`Ref`]s, which
//! each [`Render`]er names in its own way. No description prose is used
//! (imported descriptions carry none); only names, types, rules, codes and
//! flags.

use crate::model::{Action, Leaf, Member, Model, Object, PagingStyle, Scalar, REQUEST_ID};

/// The request member Tencent Cloud uses as an idempotency token.
pub const CLIENT_TOKEN: &str = "ClientToken";

/// The input's top-level `ClientToken` member, when it is one string: the
/// token the SDK and `tcloud` fill in and the retry rule trusts.
pub fn client_token(input: &Object) -> Option<&Member> {
    input
        .member(CLIENT_TOKEN)
        .filter(|m| !m.ty.list && m.ty.leaf == Leaf::Scalar(Scalar::String))
}

/// The address of an action in Tencent Cloud's API Explorer.
pub fn explorer_url(model: &Model, action: &Action) -> String {
    format!(
        "https://console.cloud.tencent.com/api/explorer?Product={}&Version={}&Action={}",
        model.service, model.api_version, action.name
    )
}

/// Something a fact names that each tool shows its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// A member of the action's request, by wire name.
    Member(String),
    /// The action's paginator (the SDK's `into_paginator`; nothing in `tcloud`).
    Paginator,
    /// A waiter that polls the action, by name.
    Waiter(String),
    /// The type holding the action's errors (the SDK's error enum).
    Errors,
    /// An object, by wire name.
    Object(String),
    /// A closed set of values, by name.
    ValueSet(String),
}

/// A piece of a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// A wire name or value, shown as code.
    Code(String),
    Ref(Ref),
    /// A web address.
    Url(String),
}

/// What a fact is about, so that a tool can leave out what its model does
/// not hold (`tcloud` embeds no error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    ReadOnly,
    Token,
    Retries,
    /// The documented requests per second (`rules.json`'s `rate_limits`).
    RateLimit,
    Region,
    Signing,
    Paging,
    Waiters,
    Required,
    Errors,
    Service,
    Explorer,
    /// A member's wire name, type and presence.
    Shape,
    /// A member's rules: list sizes, pattern, range, closed set of values.
    Rule,
    Example,
    Deprecated,
}

/// One fact: a short sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub topic: Topic,
    pub pieces: Vec<Piece>,
}

/// How a tool shows a fact's pieces.
pub trait Render {
    /// A code span; Markdown by default (safe for any text).
    fn code(&self, text: &str) -> String {
        code_span(text)
    }
    /// What `reference` reads as; may be empty (`tcloud` has no paginator).
    fn reference(&self, reference: &Ref) -> String;
    /// A web address.
    fn url(&self, url: &str) -> String {
        url.to_owned()
    }
}

/// `text` as one Markdown code span, with enough backticks around it.
pub fn code_span(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let ticks = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{ticks}{text}{ticks}")
    } else {
        format!("{ticks} {text} {ticks}")
    }
}

impl Fact {
    fn new(topic: Topic) -> Self {
        Fact {
            topic,
            pieces: Vec::new(),
        }
    }
    fn text(mut self, text: &str) -> Self {
        self.pieces.push(Piece::Text(text.to_owned()));
        self
    }
    fn code(mut self, text: &str) -> Self {
        self.pieces.push(Piece::Code(text.to_owned()));
        self
    }
    fn reference(mut self, reference: Ref) -> Self {
        self.pieces.push(Piece::Ref(reference));
        self
    }
    /// `items` as code spans separated by commas.
    fn codes<'a>(mut self, items: impl IntoIterator<Item = &'a str>) -> Self {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self = self.text(", ");
            }
            self = self.code(item);
        }
        self
    }
    /// `refs` separated by commas.
    fn refs(mut self, refs: impl IntoIterator<Item = Ref>) -> Self {
        for (i, r) in refs.into_iter().enumerate() {
            if i > 0 {
                self = self.text(", ");
            }
            self = self.reference(r);
        }
        self
    }

    /// The sentence as `render` shows it.
    pub fn render(&self, render: &impl Render) -> String {
        self.pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.clone(),
                Piece::Code(text) => render.code(text),
                Piece::Ref(r) => render.reference(r),
                Piece::Url(url) => render.url(url),
            })
            .collect()
    }
}

/// The facts of `action`, in a fixed order: what it does to resources, its
/// token and retries, its documented rate limit, region and signing, paging, waiters, required members,
/// errors, service and version, and its page in the API Explorer.
pub fn action(model: &Model, action: &Action) -> Vec<Fact> {
    let input = model.object(&action.input);
    let token = input.and_then(client_token);
    let mut facts = Vec::new();
    facts.push(if action.read_only {
        Fact::new(Topic::ReadOnly).text("Read-only: it changes nothing.")
    } else {
        Fact::new(Topic::ReadOnly).text("Not read-only: it may change resources.")
    });
    facts.push(match token {
        Some(_) => Fact::new(Topic::Token)
            .text("Idempotency token: ")
            .reference(Ref::Member(CLIENT_TOKEN.into()))
            .text(", filled with a new UUID when left empty and the same on every attempt."),
        None => Fact::new(Topic::Token).text("Takes no idempotency token."),
    });
    let transient = "timeouts, resets, 5xx or malformed answers and ";
    facts.push(match (action.read_only, token.is_some()) {
        (true, _) => Fact::new(Topic::Retries)
            .text("Retried on throttling and connection failures, and, being read-only, on ")
            .text(transient)
            .code("InternalError")
            .text("."),
        (false, true) => Fact::new(Topic::Retries)
            .text("Retried on throttling and connection failures, and, as its token makes repeating safe, on ")
            .text(transient)
            .code("InternalError")
            .text("."),
        (false, false) => Fact::new(Topic::Retries)
            .text("Retried only on throttling and connection failures: after timeouts, resets, 5xx or malformed answers and ")
            .code("InternalError")
            .text(" it may have taken effect, so it is not repeated."),
    });
    if let Some(limit) = action.rate_limit {
        facts.push(Fact::new(Topic::RateLimit).text(&format!(
            "Documented rate limit: {limit} request{} per second per account.",
            if limit == 1 { "" } else { "s" }
        )));
    }
    if !action.needs_region {
        facts.push(
            Fact::new(Topic::Region)
                .text("Regionless: sent without ")
                .code("X-TC-Region")
                .text("."),
        );
    }
    if action.skip_sign {
        facts.push(
            Fact::new(Topic::Signing)
                .text("Unsigned: sent with ")
                .code("Authorization: SKIP")
                .text(", it needs no credentials."),
        );
    }
    if let Some(paging) = &action.paging {
        let mut fact = Fact::new(Topic::Paging).text("Pages by ");
        fact = match paging.style {
            PagingStyle::Offset => fact
                .code(paging.offset.as_deref().unwrap_or("Offset"))
                .text(" until ")
                .code(paging.total_count.as_deref().unwrap_or("TotalCount")),
            PagingStyle::Token => fact.code(paging.token.as_deref().unwrap_or("NextToken")),
        };
        fact = fact.text(", items in ").code(&paging.items);
        fact = match (&paging.page_size, paging.max_page_size) {
            (Some(size), Some(max)) => fact
                .text(&format!(", {max} per page unless "))
                .reference(Ref::Member(size.clone()))
                .text(" says otherwise"),
            (Some(size), None) => fact
                .text(", the service's page size unless ")
                .reference(Ref::Member(size.clone()))
                .text(" says otherwise"),
            (None, _) => fact.text(", the service's page size"),
        };
        facts.push(fact.reference(Ref::Paginator).text("."));
    }
    let waiters: Vec<Ref> = model
        .waiters
        .iter()
        .filter(|w| w.action == action.name)
        .map(|w| Ref::Waiter(w.name.clone()))
        .collect();
    if !waiters.is_empty() {
        facts.push(
            Fact::new(Topic::Waiters)
                .text("Waiters polling it: ")
                .refs(waiters)
                .text("."),
        );
    }
    let required: Vec<Ref> = input
        .map(|o| o.members.iter().filter(|m| m.required))
        .into_iter()
        .flatten()
        .map(|m| Ref::Member(m.wire_name.clone()))
        .collect();
    facts.push(if required.is_empty() {
        Fact::new(Topic::Required).text("Required members: none.")
    } else {
        Fact::new(Topic::Required)
            .text("Required members: ")
            .refs(required)
            .text(".")
    });
    facts.push(if action.errors.is_empty() {
        Fact::new(Topic::Errors)
            .text("Errors: the service's codes and the common ones")
            .reference(Ref::Errors)
            .text("; none is documented for this action alone.")
    } else {
        Fact::new(Topic::Errors)
            .text("Errors: ")
            .codes(action.errors.iter().map(|c| c.code.as_str()))
            .text(", and the common ones")
            .reference(Ref::Errors)
            .text(".")
    });
    facts.push(
        Fact::new(Topic::Service)
            .text("Service ")
            .code(&model.service)
            .text(" (endpoint ")
            .code(&format!("{}.tencentcloudapi.com", model.service))
            .text(", signed for ")
            .code(&model.service)
            .text("), API version ")
            .code(&model.api_version)
            .text("."),
    );
    let mut explorer = Fact::new(Topic::Explorer).text("API Explorer: ");
    explorer.pieces.push(Piece::Url(explorer_url(model, action)));
    facts.push(explorer);
    facts
}

/// The first fact of a member: wire name, type, and presence on the sides
/// its object is used on (a response-only object's `required` flag says
/// nothing a caller can act on).
pub fn member_shape(object: &Object, m: &Member) -> Fact {
    let mut fact = Fact::new(Topic::Shape)
        .text("Wire name ")
        .code(&m.wire_name)
        .text(", ");
    if m.ty.list {
        fact = fact.text("list of ");
    }
    fact = match (&m.value_set, &m.ty.leaf) {
        (Some(set), _) => fact.reference(Ref::ValueSet(set.clone())),
        (None, Leaf::Scalar(s)) => fact.text(s.describe()),
        (None, Leaf::Object(name)) => fact.reference(Ref::Object(name.clone())),
    };
    let mut sides = Vec::new();
    if object.in_input {
        sides.push(match (m.required, m.ty.list || m.ty.leaf.is_text()) {
            (true, true) => "required in requests (empty is missing)",
            (true, false) => "required in requests",
            (false, _) => "optional in requests",
        });
    }
    if object.in_output {
        // The envelope always carries the request's id.
        sides.push(
            if m.output_required || (object.is_response && m.wire_name == REQUEST_ID) {
                "always present in responses"
            } else {
                "may be absent from responses"
            },
        );
    }
    if m.nullable {
        sides.push("may be null");
    }
    for side in sides {
        fact = fact.text("; ").text(side);
    }
    fact.text(".")
}

/// The member's other facts: the rules it must obey (list sizes, pattern,
/// range, closed set of values), its example, its deprecation.
pub fn member_rules(model: &Model, m: &Member) -> Vec<Fact> {
    let mut facts = Vec::new();
    let each = if m.ty.list { "Each item " } else { "" };
    if let Some(rule) = &m.rule {
        match (rule.min_items, rule.max_items) {
            (Some(min), Some(max)) if min == max => {
                facts.push(Fact::new(Topic::Rule).text(&format!("Holds {}.", items(max))))
            }
            (Some(min), Some(max)) => {
                facts.push(Fact::new(Topic::Rule).text(&format!("Holds {min} to {}.", items(max))))
            }
            (Some(min), None) => {
                facts.push(Fact::new(Topic::Rule).text(&format!("Holds at least {}.", items(min))))
            }
            (None, Some(max)) => {
                facts.push(Fact::new(Topic::Rule).text(&format!("Holds at most {}.", items(max))))
            }
            (None, None) => {}
        }
        if let Some(pattern) = &rule.pattern {
            let verb = if each.is_empty() { "Matches " } else { "matches " };
            facts.push(
                Fact::new(Topic::Rule)
                    .text(each)
                    .text(verb)
                    .code(pattern)
                    .text("."),
            );
        }
        let range = match (rule.minimum, rule.maximum) {
            (Some(min), Some(max)) => Some(format!("from {min} to {max}")),
            (Some(min), None) => Some(format!("at least {min}")),
            (None, Some(max)) => Some(format!("at most {max}")),
            (None, None) => None,
        };
        if let Some(range) = range {
            facts.push(Fact::new(Topic::Rule).text(&capitalised(&format!("{each}{range}."))));
        }
    }
    if let Some(set) = m
        .value_set
        .as_deref()
        .and_then(|name| model.enums.iter().find(|s| s.name == name))
    {
        facts.push(
            Fact::new(Topic::Rule)
                .text(&capitalised(&format!("{each}one of ")))
                .codes(set.values.iter().map(String::as_str))
                .text("; another value is kept as sent."),
        );
    }
    if let Some(example) = m.example.as_deref().map(str::trim) {
        // One line of data: anything longer or stranger is left out.
        if !example.is_empty() && !example.contains(char::is_control) && example.len() <= 200 {
            facts.push(
                Fact::new(Topic::Example)
                    .text("Example: ")
                    .code(example)
                    .text("."),
            );
        }
    }
    if m.deprecated {
        facts.push(Fact::new(Topic::Deprecated).text("Deprecated by the service."));
    }
    facts
}

fn items(n: usize) -> String {
    if n == 1 {
        "1 item".to_owned()
    } else {
        format!("{n} items")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;
    impl Render for Plain {
        fn reference(&self, r: &Ref) -> String {
            match r {
                Ref::Member(name) => format!("--{name}"),
                _ => String::new(),
            }
        }
    }

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code_span("a"), "`a`");
        assert_eq!(code_span("a`b"), "`` a`b ``");
        assert_eq!(code_span("``"), "``` `` ```");
    }

    #[test]
    fn facts_render_their_references() {
        let fact = Fact::new(Topic::Required)
            .text("Required members: ")
            .refs([Ref::Member("A".into()), Ref::Member("B".into())]);
        assert_eq!(fact.render(&Plain), "Required members: --A, --B");
    }
}
