//! Token helpers the file generators share: identifiers, doc attributes,
//! the Rust type of a member's values, and how a setter stores its argument.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use tencentcloud_model::facts::{self, code_span, Fact, Ref, Render};
use tencentcloud_model::model::{Action, Leaf, Member, Object, Scalar};

use crate::rust::RustModel as Model;

pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

pub(crate) fn doc(text: &str) -> TokenStream {
    let lines: Vec<TokenStream> = text
        .lines()
        .map(|line| {
            let line = format!(" {}", line.trim_end());
            quote!(#[doc = #line])
        })
        .collect();
    quote!(#(#lines)*)
}

/// One setter of a member: its parameter, the parameter's type, and the
/// statement that stores the argument into the member's field.
pub(crate) struct Setter {
    pub param: Ident,
    pub arg: TokenStream,
    pub store: TokenStream,
}

/// The argument type of a setter of one value of `m`, and whether the
/// argument converts (`.into()`). Numbers and flags are taken as they are: a
/// plain literal (`3600`) then needs no suffix, and `impl Into<i64>` would
/// also take a `bool`. Strings, open enums and objects take `impl Into<_>`.
fn value_arg(model: &Model, m: &Member) -> (TokenStream, bool) {
    let leaf = member_leaf(model, m);
    let plain = m.value_set.is_none()
        && matches!(
            m.ty.leaf,
            Leaf::Scalar(Scalar::I64 | Scalar::U64 | Scalar::F64 | Scalar::Bool)
        );
    if plain {
        (quote!(#leaf), false)
    } else {
        (quote!(impl Into<#leaf>), true)
    }
}

/// The setter that sets `m` in `target` (its field): one value, or for a
/// list every item of any `IntoIterator` of them.
pub(crate) fn set_member(model: &Model, m: &Member, target: TokenStream) -> Setter {
    let (arg, converts) = value_arg(model, m);
    if m.ty.list {
        let collect = if converts {
            quote!(items.into_iter().map(Into::into).collect())
        } else {
            quote!(items.into_iter().collect())
        };
        let value = if m.optional {
            quote!(Some(#collect))
        } else {
            collect
        };
        Setter {
            param: format_ident!("items"),
            arg: quote!(impl IntoIterator<Item = #arg>),
            store: quote!(#target = #value;),
        }
    } else {
        let mut value = if converts {
            quote!(value.into())
        } else {
            quote!(value)
        };
        if m.recursive {
            value = quote!(Box::new(#value));
        }
        if m.optional {
            value = quote!(Some(#value));
        }
        Setter {
            param: format_ident!("value"),
            arg,
            store: quote!(#target = #value;),
        }
    }
}

/// The setter that adds one item to the list `m` in `target` (its field).
pub(crate) fn push_item(model: &Model, m: &Member, target: TokenStream) -> Setter {
    let (arg, converts) = value_arg(model, m);
    let value = if converts {
        quote!(value.into())
    } else {
        quote!(value)
    };
    let store = if m.optional {
        quote!(#target.get_or_insert_with(Vec::new).push(#value);)
    } else {
        quote!(#target.push(#value);)
    };
    Setter {
        param: format_ident!("value"),
        arg,
        store,
    }
}

pub(crate) fn leaf_type(model: &Model, leaf: &Leaf) -> TokenStream {
    match leaf {
        Leaf::Scalar(
            Scalar::String | Scalar::DateTime | Scalar::DateTimeIso | Scalar::Date | Scalar::Binary,
        ) => quote!(String),
        Leaf::Scalar(Scalar::I64) => quote!(i64),
        Leaf::Scalar(Scalar::U64) => quote!(u64),
        Leaf::Scalar(Scalar::F64) => quote!(f64),
        Leaf::Scalar(Scalar::Bool) => quote!(bool),
        Leaf::Object(name) => {
            let rust = ident(model.type_name(name));
            quote!(#rust)
        }
    }
}

/// The Rust type of one value of `m`: its leaf type, or its open enum.
pub(crate) fn member_leaf(model: &Model, m: &Member) -> TokenStream {
    match &m.value_set {
        Some(set) => {
            let name = ident(model.enum_type(set));
            quote!(#name)
        }
        None => leaf_type(model, &m.ty.leaf),
    }
}

/// The model's facts ([`tencentcloud_model::facts`]) as rustdoc: references
/// become intra-doc links that resolve from any generated file of the module
/// (`super::types`, `super::errors`, `super::Client`, `super::Call`).
pub(crate) struct Docs<'m> {
    pub model: &'m Model,
    /// The action whose facts these are, for its members, errors and waiters.
    pub action: Option<&'m Action>,
}

impl Render for Docs<'_> {
    fn reference(&self, reference: &Ref) -> String {
        let model = self.model;
        match (reference, self.action) {
            (Ref::Member(wire), Some(action)) => {
                let input = model.input_type(action);
                let field = model.field_of(&action.input, wire).trim_start_matches("r#");
                format!("[`{wire}`](super::types::{input}::{field})")
            }
            (Ref::Paginator, _) => {
                "; [`into_paginator`](super::Call::into_paginator) streams the pages".to_owned()
            }
            (Ref::Waiter(name), _) => {
                let method = model
                    .waiters
                    .iter()
                    .find(|w| &w.name == name)
                    .map(|w| model.waiter_method(w))
                    .unwrap_or_default();
                format!("[`{method}`](super::Client::{method})")
            }
            (Ref::Errors, Some(action)) => {
                let error = model.error_enum(action);
                format!(" ([`{error}`](super::errors::{error}))")
            }
            // Member facts are written in `types.rs` and `calls.rs`, which
            // both see every type by its name.
            (Ref::Object(name), _) => format!("[`{}`]", model.type_name(name)),
            (Ref::ValueSet(name), _) => format!("[`{}`]", model.enum_type(name)),
            (Ref::Member(wire), None) => code_span(wire),
            (Ref::Errors, None) => String::new(),
        }
    }

    fn url(&self, url: &str) -> String {
        format!("<{url}>")
    }
}

/// Facts as a Markdown list, one line each.
pub(crate) fn fact_list(docs: &Docs, facts: &[Fact]) -> String {
    facts
        .iter()
        .map(|fact| format!("- {}", fact.render(docs)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An action's facts, as a list for its method and its request type.
pub(crate) fn action_facts(model: &Model, action: &Action) -> String {
    let docs = Docs {
        model,
        action: Some(action),
    };
    fact_list(&docs, &facts::action(model, action))
}

/// A member's facts: its shape on one line, then its rules as a list.
pub(crate) fn member_facts(model: &Model, object: &Object, m: &Member) -> String {
    let docs = Docs { model, action: None };
    let mut out = facts::member_shape(object, m).render(&docs);
    let rules = facts::member_rules(model, m);
    if !rules.is_empty() {
        out.push_str("\n\n");
        out.push_str(&fact_list(&docs, &rules));
    }
    out
}
