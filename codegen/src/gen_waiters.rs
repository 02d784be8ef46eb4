//! Waiters: each `waiters.json` entry as a static `WaiterSpec`, a function
//! reading the acceptors' paths out of the typed answer, and a
//! `wait_until_<name>` method. The matching itself is the runtime's.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use tencentcloud_model::model::{Leaf, Member, Object};
use tencentcloud_model::spec::{AcceptorState, Comparator};
use tencentcloud_model::waiters::{PathRef, Waiter};

use crate::rust::RustModel as Model;
use crate::tokens::{doc, ident};

fn member<'o>(object: &'o Object, wire: &str) -> &'o Member {
    object.member(wire).expect("waiter members were checked")
}

/// A value read along a path: certainly there, or maybe.
enum Read {
    /// An expression of type `String`.
    Plain(TokenStream),
    /// An expression of type `Option<String>`.
    Maybe(TokenStream),
}

/// The value at `chain` from `base` (a place of type `object`).
fn read(model: &Model, object: &Object, base: TokenStream, chain: &[String]) -> Read {
    let m = member(object, &chain[0]);
    let field = ident(model.field(object, m));
    if chain.len() == 1 {
        return if m.optional {
            Read::Maybe(quote!(#base.#field.as_ref().map(|v| v.to_string())))
        } else {
            Read::Plain(quote!(#base.#field.to_string()))
        };
    }
    let Leaf::Object(name) = &m.ty.leaf else {
        unreachable!("paths were checked: only the last member is a scalar")
    };
    let next = model.object(name).expect("checked");
    if !m.optional {
        return read(model, next, quote!(#base.#field), &chain[1..]);
    }
    match read(model, next, quote!(v), &chain[1..]) {
        Read::Plain(inner) => Read::Maybe(quote!(#base.#field.as_ref().map(|v| #inner))),
        Read::Maybe(inner) => Read::Maybe(quote!(#base.#field.as_ref().and_then(|v| #inner))),
    }
}

/// An `Option<String>` expression: the value at `chain` from `base`.
fn value(model: &Model, object: &Object, base: TokenStream, chain: &[String]) -> TokenStream {
    match read(model, object, base, chain) {
        Read::Plain(expr) => quote!(Some(#expr)),
        Read::Maybe(expr) => expr,
    }
}

fn waiter_tokens(model: &Model, waiter: &Waiter) -> (TokenStream, TokenStream) {
    let action = model
        .actions
        .iter()
        .find(|a| a.name == waiter.action)
        .expect("checked");
    let input_object = model.object(&action.input).expect("checked");
    let output_object = model.object(&action.output).expect("checked");
    let items = member(output_object, &waiter.items);
    let Leaf::Object(item_name) = &items.ty.leaf else {
        unreachable!("ids.items was checked to be a list of objects")
    };
    let item_object = model.object(item_name).expect("checked");
    let key = member(item_object, &waiter.key);

    let static_name = model.waiter_static(waiter);
    let spec_name = format_ident!("{}", static_name);
    let observe = format_ident!("observe_{}", static_name.to_ascii_lowercase());
    let name = &waiter.name;
    let action_name = &waiter.action;
    let (min, max, deadline) = (
        Literal::u64_unsuffixed(waiter.min_delay),
        Literal::u64_unsuffixed(waiter.max_delay),
        Literal::u64_unsuffixed(waiter.deadline),
    );
    let absent = match &waiter.absent {
        Some(v) => quote!(Some(std::borrow::Cow::Borrowed(#v))),
        None => quote!(None),
    };
    let acceptors = waiter.acceptors.iter().map(|a| {
        let state = match a.state {
            AcceptorState::Success => quote!(Success),
            AcceptorState::Failure => quote!(Failure),
            AcceptorState::Retry => quote!(Retry),
        };
        let comparator = match a.comparator {
            Comparator::All => quote!(All),
            Comparator::Any => quote!(Any),
            Comparator::Equals => quote!(Equals),
        };
        let value = match a.value {
            PathRef::Item(i) => {
                let i = Literal::usize_unsuffixed(i);
                quote!(Item(#i))
            }
            PathRef::Root(i) => {
                let i = Literal::usize_unsuffixed(i);
                quote!(Root(#i))
            }
        };
        let (path, expected) = (&a.path, &a.expected);
        quote! {
            tencentcloud_runtime::waiter::Acceptor {
                state: tencentcloud_runtime::waiter::AcceptorState::#state,
                comparator: tencentcloud_runtime::waiter::Comparator::#comparator,
                path: std::borrow::Cow::Borrowed(#path),
                value: tencentcloud_runtime::waiter::PathRef::#value,
                expected: std::borrow::Cow::Borrowed(#expected),
            }
        }
    });
    let items_field = ident(model.field(output_object, items));
    let iter = if items.optional {
        quote!(response.#items_field.iter().flatten())
    } else {
        quote!(response.#items_field.iter())
    };
    let key_field = ident(model.field(item_object, key));
    let key_value = if key.optional {
        quote!(item.#key_field.clone().unwrap_or_default())
    } else {
        quote!(item.#key_field.clone())
    };
    let item_values = waiter
        .item_paths
        .iter()
        .map(|chain| value(model, item_object, quote!(item), chain));
    let root_values = waiter
        .root_paths
        .iter()
        .map(|chain| value(model, output_object, quote!(response), chain));
    let output = ident(model.output_type(action));
    let statics = quote! {
        static #spec_name: tencentcloud_runtime::waiter::WaiterSpec = tencentcloud_runtime::waiter::WaiterSpec {
            name: std::borrow::Cow::Borrowed(#name),
            action: std::borrow::Cow::Borrowed(#action_name),
            min_delay: std::time::Duration::from_secs(#min),
            max_delay: std::time::Duration::from_secs(#max),
            deadline: std::time::Duration::from_secs(#deadline),
            acceptors: std::borrow::Cow::Borrowed(&[#(#acceptors),*]),
            absent: #absent,
        };

        #[allow(deprecated)]
        fn #observe(response: &super::types::#output) -> tencentcloud_runtime::waiter::Observation {
            tencentcloud_runtime::waiter::Observation {
                items: #iter.map(|item| (#key_value, Vec::from([#(#item_values),*]))).collect(),
                root: Vec::from([#(#root_values),*]),
            }
        }
    };

    let method = ident(&model.waiter_method(waiter));
    let call_name = model.method(action);
    let input = ident(model.input_type(action));
    let error = ident(model.error_enum(action));
    let ids = member(input_object, &waiter.ids_input);
    let ids_field = ident(model.field(input_object, ids));
    let ids_value = if ids.optional {
        quote!(Some(#ids_field.to_vec()))
    } else {
        quote!(#ids_field.to_vec())
    };
    // One page must hold every awaited item (checked against the ids' limit).
    let page = action
        .paging
        .as_ref()
        .and_then(|p| Some((p.page_size.as_deref()?, p.max_page_size?)));
    let page_init = page.map(|(wire, size)| {
        let m = member(input_object, wire);
        let field = ident(model.field(input_object, m));
        // Unsuffixed: the member may be i64 or u64.
        let size = Literal::i64_unsuffixed(size);
        if m.optional {
            quote!(#field: Some(#size),)
        } else {
            quote!(#field: #size,)
        }
    });
    let docs = doc(&format!(
        "{}\n\nPolls [`{}`](Self::{}) with these `{}`, pausing {} s at first and up to {} s \
         between polls (jittered), for at most {} s unless `options` says otherwise. \
         Declared in `waiters.json` as `{name}`.",
        waiter.documentation,
        call_name,
        call_name,
        waiter.ids_input,
        waiter.min_delay,
        waiter.max_delay,
        waiter.deadline
    ));
    let method_tokens = quote! {
        #docs
        pub async fn #method(
            &self,
            #ids_field: &[String],
            options: &tencentcloud_runtime::WaitOptions,
        ) -> Result<
            tencentcloud_runtime::WaitOutcome<super::types::#output>,
            tencentcloud_runtime::WaitError<super::errors::#error>,
        > {
            #[allow(clippy::needless_update, deprecated)]
            let request = super::types::#input {
                #ids_field: #ids_value,
                #page_init
                ..Default::default()
            };
            tencentcloud_runtime::waiter::wait(&#spec_name, #ids_field, options, || self.runtime.send_with(&request, &self.options), #observe).await
        }
    };
    (statics, method_tokens)
}

/// The statics and observation functions of every waiter, and their methods.
pub fn waiters(model: &Model) -> (TokenStream, TokenStream) {
    let (statics, methods): (Vec<_>, Vec<_>) = model.waiters.iter().map(|w| waiter_tokens(model, w)).unzip();
    (quote!(#(#statics)*), quote!(#(#methods)*))
}
