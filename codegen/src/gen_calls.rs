//! `calls.rs`: the service's `Call` builder, generic over the request (its
//! options and `send` forward to the runtime's `Call`), and each action's
//! member setters on it.

use proc_macro2::TokenStream;
use quote::quote;

use tencentcloud_model::model::Action;

use crate::rust::RustModel as Model;
use crate::tokens::{doc, ident, push_item, set_member, Setter};

pub(crate) fn calls_file(model: &Model) -> TokenStream {
    let setters = model.actions.iter().map(|action| action_setters(model, action));
    let requests = model.actions.iter().map(|action| {
        let input = ident(model.input_type(action));
        quote! {
            impl sealed::Sealed for types::#input {}
            impl Request for types::#input {}
        }
    });
    quote! {
        //! A call builder per action: [`Call`], with a setter per member of the
        //! action's request, per-call options, and `send`.
        #![allow(deprecated, clippy::doc_markdown)]

        #[allow(unused_imports)]
        use super::types::{self, *};

        /// One call of an action, made by the action's method on
        /// [`Client`](super::Client): set the request's members and the call's
        /// options, then [`send`](Call::send) it.
        ///
        /// A required member left unset is refused before anything is sent, as
        /// [`Error::InvalidRequest`](tencentcloud_runtime::Error::InvalidRequest)
        /// naming the member.
        #[derive(Clone, Debug)]
        #[must_use = "a call does nothing until it is sent"]
        pub struct Call<R>(tencentcloud_runtime::Call<R>);

        impl<R> Call<R> {
            pub(crate) fn new(
                runtime: tencentcloud_runtime::Client,
                options: tencentcloud_runtime::CallOptions,
                request: R,
            ) -> Self {
                Call(tencentcloud_runtime::Call::new(runtime, options, request))
            }

            /// The request as it stands.
            pub fn as_request(&self) -> &R {
                self.0.as_request()
            }

            /// The request, leaving the call.
            pub fn into_request(self) -> R {
                self.0.into_request()
            }

            /// The options this call will be sent with.
            pub fn options(&self) -> &tencentcloud_runtime::CallOptions {
                self.0.options()
            }

            /// Sets every option that `options` sets; the others keep what the
            /// service client (or an earlier setter) gave this call.
            pub fn with_options(self, options: tencentcloud_runtime::CallOptions) -> Self {
                Call(self.0.with_options(options))
            }

            /// Time allowed for each attempt of this call.
            pub fn with_timeout(self, timeout: std::time::Duration) -> Self {
                Call(self.0.with_timeout(timeout))
            }

            /// Time allowed for the whole call, retries and backoff included.
            pub fn with_deadline(self, deadline: std::time::Duration) -> Self {
                Call(self.0.with_deadline(deadline))
            }

            /// The retry policy of this call, e.g. `RetryConfig::disabled()`.
            pub fn with_retry(self, retry: tencentcloud_runtime::RetryConfig) -> Self {
                Call(self.0.with_retry(retry))
            }

            /// Whether repeating this call is safe, overriding what the action says.
            pub fn with_idempotent(self, idempotent: bool) -> Self {
                Call(self.0.with_idempotent(idempotent))
            }

            /// The region of this call (e.g. `ap-shanghai`), instead of the
            /// client's: one client serves every region.
            pub fn with_region(self, region: impl Into<String>) -> Self {
                Call(self.0.with_region(region))
            }

            /// How the client's rate limiter paces this call, e.g.
            /// `RateLimit::Off` for a call that must not wait.
            pub fn with_rate_limit(self, rate_limit: tencentcloud_runtime::RateLimit) -> Self {
                Call(self.0.with_rate_limit(rate_limit))
            }
        }

        impl<R: tencentcloud_runtime::Action> Call<R> {
            /// Checks the request, signs it and sends it, retrying as the options allow.
            pub async fn send(self) -> Result<R::Response, tencentcloud_runtime::Error<R::Error>> {
                self.0.send().await
            }
        }

        impl<R: tencentcloud_runtime::Paginated> Call<R> {
            /// Every page of this call's answer, starting where the request says:
            /// `.by_page()` or `.by_item()` streams.
            pub fn into_paginator(self) -> tencentcloud_runtime::Paginator<R> {
                self.0.into_paginator()
            }
        }

        mod sealed {
            /// Implemented by this service's request types alone, so that no
            /// other type is a [`Request`](super::Request).
            pub trait Sealed {}
        }

        /// The request of one of this service's actions, for
        /// [`Client::call`](super::Client::call).
        pub trait Request: tencentcloud_runtime::Action + sealed::Sealed {}

        #(#requests)*

        #(#setters)*
    }
}

fn action_setters(model: &Model, action: &Action) -> TokenStream {
    let input_type = model.input_type(action);
    let input = ident(input_type);
    let methods = model.call_setters(action).into_iter().map(|setter| {
        let m = setter.member;
        let wire = &m.wire_name;
        let field = ident(setter.field);
        let see = format!(
            "[`{input_type}::{}`](types::{input_type}::{})",
            setter.field.trim_start_matches("r#"),
            setter.field.trim_start_matches("r#")
        );
        let input_object = model
            .object(&action.input)
            .expect("every action has its input object");
        let facts = crate::tokens::member_facts(model, input_object, m);
        let deprecated = m
            .deprecated
            .then(|| quote!(#[deprecated(note = "deprecated by the service")]));
        let one = ident(&setter.one);
        let target = quote!(self.0.request_mut().#field);
        let set = set_member(model, m, target.clone());
        // A list's `one` adds an item and `all` sets them all; any other
        // member has `one` only, which sets it.
        let (first, first_doc, all) = match setter.all.as_deref() {
            Some(all) => {
                let all = ident(all);
                let all_doc = doc(&format!("Sets `{wire}` to these items; see {see}.\n\n{facts}"));
                let Setter { param, arg, store } = set;
                let all = quote! {
                    #all_doc
                    #deprecated
                    pub fn #all(mut self, #param: #arg) -> Self {
                        #store
                        self
                    }
                };
                let first_doc = doc(&format!("Adds one item to `{wire}`; see {see}.\n\n{facts}"));
                (push_item(model, m, target), first_doc, Some(all))
            }
            None => (set, doc(&format!("Sets `{wire}`; see {see}.\n\n{facts}")), None),
        };
        let Setter { param, arg, store } = first;
        quote! {
            #first_doc
            #deprecated
            pub fn #one(mut self, #param: #arg) -> Self {
                #store
                self
            }
            #all
        }
    });
    let methods: Vec<TokenStream> = methods.collect();
    if methods.is_empty() {
        return quote!();
    }
    quote! {
        impl Call<types::#input> {
            #(#methods)*
        }
    }
}
