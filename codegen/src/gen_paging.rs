//! Paginators: the runtime's paging traits implemented for every action
//! that pages (see [`tencentcloud_model::paging`]); what the docs say of
//! paging is the model's ([`tencentcloud_model::facts`]).

use proc_macro2::TokenStream;
use quote::quote;

use tencentcloud_model::model::{Action, Leaf, Member, Object, Scalar};
use tencentcloud_model::paging::{Paging, PagingStyle};

use crate::rust::RustModel as Model;
use crate::tokens::{ident, leaf_type};

fn member<'o>(object: &'o Object, wire: &str) -> &'o Member {
    object.member(wire).expect("paging members come from the object")
}

/// `Option<i64>` from the number member `m` (field `field`) of `base`: an
/// integer, or a string holding one in decimal (`None` when it does not).
fn int_get(base: TokenStream, field: &str, m: &Member) -> TokenStream {
    let field = ident(field);
    match (&m.ty.leaf, m.optional) {
        (Leaf::Scalar(Scalar::String), true) => {
            quote!(#base.#field.as_deref().and_then(|v| v.parse::<i64>().ok()))
        }
        (Leaf::Scalar(Scalar::String), false) => quote!(#base.#field.parse::<i64>().ok()),
        (Leaf::Scalar(Scalar::U64), true) => {
            quote!(#base.#field.map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
        }
        (Leaf::Scalar(Scalar::U64), false) => quote!(Some(i64::try_from(#base.#field).unwrap_or(i64::MAX))),
        (_, true) => quote!(#base.#field),
        (_, false) => quote!(Some(#base.#field)),
    }
}

/// Sets the number member `m` (field `field`) of `self` to the `i64` named
/// `value`: a string member to its decimal digits.
fn int_set(field: &str, m: &Member, value: TokenStream) -> TokenStream {
    let field = ident(field);
    let converted = match m.ty.leaf {
        Leaf::Scalar(Scalar::U64) => quote!(u64::try_from(#value).unwrap_or(0)),
        Leaf::Scalar(Scalar::String) => quote!(#value.to_string()),
        _ => value,
    };
    if m.optional {
        quote!(self.#field = Some(#converted);)
    } else {
        quote!(self.#field = #converted;)
    }
}

fn impls(model: &Model, action: &Action, paging: &Paging) -> TokenStream {
    let input_object = model.object(&action.input).expect("input exists");
    let output_object = model.object(&action.output).expect("output exists");
    let input = ident(model.input_type(action));
    let items = member(output_object, &paging.items);
    let items_field = ident(model.field(output_object, items));
    let item_type = match &items.ty.leaf {
        Leaf::Object(_) => {
            let leaf = leaf_type(model, &items.ty.leaf);
            quote!(super::types::#leaf)
        }
        scalar => leaf_type(model, scalar),
    };
    let (count, into) = if items.optional {
        (
            quote!(response.#items_field.as_ref().map_or(0, Vec::len)),
            quote!(response.#items_field.unwrap_or_default()),
        )
    } else {
        (quote!(response.#items_field.len()), quote!(response.#items_field))
    };
    let max = match paging.max_page_size.map(proc_macro2::Literal::i64_unsuffixed) {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    let size = paging.page_size.as_deref().map(|wire| member(input_object, wire));
    let (size_get, size_set) = match size {
        Some(m) => {
            let field = model.field(input_object, m);
            (int_get(quote!(self), field, m), int_set(field, m, quote!(size)))
        }
        // Nothing to set: the service's default size applies.
        None => (quote!(None), quote!(let _ = size;)),
    };
    let style = match paging.style {
        PagingStyle::Offset => quote!(tencentcloud_runtime::paginate::ByOffset),
        PagingStyle::Token => quote!(tencentcloud_runtime::paginate::ByToken),
    };
    let specific = match paging.style {
        PagingStyle::Offset => {
            let offset = member(input_object, paging.offset.as_deref().expect("offset style"));
            let total = member(
                output_object,
                paging.total_count.as_deref().expect("offset style"),
            );
            let offset_field = model.field(input_object, offset);
            let offset_get = int_get(quote!(self), offset_field, offset);
            let offset_set = int_set(offset_field, offset, quote!(offset));
            let total_get = int_get(quote!(response), model.field(output_object, total), total);
            quote! {
                // A deprecated Offset or TotalCount (vod's DescribeRoundPlays) still pages.
                #[allow(deprecated)]
                impl tencentcloud_runtime::OffsetPaged for super::types::#input {
                    fn offset(&self) -> Option<i64> {
                        #offset_get
                    }
                    fn set_offset(&mut self, offset: i64) {
                        #offset_set
                    }
                    fn total_count(response: &Self::Response) -> Option<i64> {
                        #total_get
                    }
                }
            }
        }
        PagingStyle::Token => {
            let wire = paging.token.as_deref().expect("token style");
            let token_in = member(input_object, wire);
            let token_out = member(output_object, wire);
            let field_in = ident(model.field(input_object, token_in));
            let field_out = ident(model.field(output_object, token_out));
            let set = if token_in.optional {
                quote!(self.#field_in = token;)
            } else {
                quote!(self.#field_in = token.unwrap_or_default();)
            };
            let get = if token_out.optional {
                quote!(response.#field_out.as_deref())
            } else {
                quote!(Some(response.#field_out.as_str()))
            };
            quote! {
                #[allow(deprecated)]
                impl tencentcloud_runtime::TokenPaged for super::types::#input {
                    fn set_next_token(&mut self, token: Option<String>) {
                        #set
                    }
                    fn next_token(response: &Self::Response) -> Option<&str> {
                        #get
                    }
                }
            }
        }
    };
    quote! {
        #[allow(deprecated)]
        impl tencentcloud_runtime::Paginated for super::types::#input {
            type Item = #item_type;
            type Style = #style;
            const MAX_PAGE_SIZE: Option<i64> = #max;
            fn page_size(&self) -> Option<i64> {
                #size_get
            }
            fn set_page_size(&mut self, size: i64) {
                #size_set
            }
            fn item_count(response: &Self::Response) -> usize {
                #count
            }
            fn into_items(response: Self::Response) -> Vec<Self::Item> {
                #into
            }
        }
        #specific
    }
}

/// The trait impls of every paging action.
pub fn paging_impls(model: &Model) -> TokenStream {
    let all = model
        .actions
        .iter()
        .filter_map(|a| a.paging.as_ref().map(|p| impls(model, a, p)));
    quote!(#(#all)*)
}
