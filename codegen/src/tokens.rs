//! Token helpers the file generators share: identifiers, doc attributes,
//! the Rust type of a member's values, and how a setter stores its argument.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use tencentcloud_model::model::{Leaf, Member, Scalar};

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

/// How a setter stores a value of the member's leaf type, `value`.
pub(crate) enum Store {
    /// `field = value` (or `Some(value)`, boxed where recursive).
    One(TokenStream),
    /// Lists: `items` replace the list.
    All(TokenStream),
}

/// The argument type of a setter of one value of `m`, and the conversion
/// that turns the argument `value` into the member's value type. Numbers
/// and flags are taken as they are: a plain literal (`3600`) then needs no
/// suffix, and `impl Into<i64>` would also take a `bool`. Strings, open
/// enums and objects take `impl Into<_>` and `.into()`.
pub(crate) fn value_arg(model: &Model, m: &Member) -> (TokenStream, TokenStream) {
    let leaf = member_leaf(model, m);
    let plain = m.value_set.is_none()
        && matches!(
            m.ty.leaf,
            Leaf::Scalar(Scalar::I64 | Scalar::U64 | Scalar::F64 | Scalar::Bool)
        );
    if plain {
        (quote!(#leaf), quote!(value))
    } else {
        (quote!(impl Into<#leaf>), quote!(value.into()))
    }
}

/// The argument type of a setter of `m` ([`value_arg`]; for a list, any
/// `IntoIterator` of them), and how it stores its argument into
/// `target.field`.
pub(crate) fn setter_parts(model: &Model, m: &Member, target: TokenStream) -> (TokenStream, Store) {
    let (arg, convert) = value_arg(model, m);
    if m.ty.list {
        let collect = if convert.to_string() == "value" {
            quote!(items.into_iter().collect())
        } else {
            quote!(items.into_iter().map(Into::into).collect())
        };
        let store = if m.optional {
            quote!(#target = Some(#collect);)
        } else {
            quote!(#target = #collect;)
        };
        (quote!(impl IntoIterator<Item = #arg>), Store::All(store))
    } else {
        let value = if m.recursive {
            quote!(Box::new(#convert))
        } else {
            convert
        };
        let store = if m.optional {
            quote!(#target = Some(#value);)
        } else {
            quote!(#target = #value;)
        };
        (arg, Store::One(store))
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
