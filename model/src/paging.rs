//! Which actions page, and how: derived from the shape of their input and
//! output, so every action of every service that follows Tencent Cloud's
//! paging conventions gets a paginator without being listed anywhere.
//!
//! - **Offset style**: the input has integer members `Offset` and `Limit`,
//!   the output an integer `TotalCount` and exactly one list member.
//! - **Token style**: the input has a string `NextToken` (and an integer
//!   `MaxResults` or `Limit`, if any), the output a string `NextToken` and
//!   exactly one list member.
//!
//! The page size the spec allows is the `maximum` of the size member's rule
//! in `rules.json`.

use crate::model::{Leaf, Member, Object, Scalar};

pub use crate::model::{Paging, PagingStyle};

fn member<'o>(object: &'o Object, wire: &str) -> Option<&'o Member> {
    object.member(wire)
}

fn is_integer(m: &Member) -> bool {
    !m.ty.list && matches!(m.ty.leaf, Leaf::Scalar(Scalar::I64 | Scalar::U64))
}

fn is_string(m: &Member) -> bool {
    !m.ty.list && m.ty.leaf == Leaf::Scalar(Scalar::String)
}

/// How the action with this input and output pages, if it does.
pub fn paging(input: &Object, output: &Object) -> Option<Paging> {
    let mut lists = output.members.iter().filter(|m| m.ty.list);
    let items = lists.next()?;
    if lists.next().is_some() {
        return None;
    }
    let size_member = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| member(input, n).filter(|m| is_integer(m)))
    };
    let max_of = |m: Option<&Member>| m.and_then(|m| m.rule.as_ref()).and_then(|r| r.maximum);
    let offset = member(input, "Offset").filter(|m| is_integer(m));
    let limit = member(input, "Limit").filter(|m| is_integer(m));
    let total = member(output, "TotalCount").filter(|m| is_integer(m));
    if let (Some(offset), Some(limit), Some(total)) = (offset, limit, total) {
        return Some(Paging {
            style: PagingStyle::Offset,
            page_size: Some(limit.wire_name.clone()),
            offset: Some(offset.wire_name.clone()),
            total_count: Some(total.wire_name.clone()),
            token: None,
            items: items.wire_name.clone(),
            max_page_size: max_of(Some(limit)),
        });
    }
    let token_in = member(input, "NextToken").filter(|m| is_string(m));
    let token_out = member(output, "NextToken").filter(|m| is_string(m));
    if let (Some(token), Some(_)) = (token_in, token_out) {
        let size = size_member(&["MaxResults", "Limit"]);
        return Some(Paging {
            style: PagingStyle::Token,
            page_size: size.map(|m| m.wire_name.clone()),
            offset: None,
            total_count: None,
            token: Some(token.wire_name.clone()),
            items: items.wire_name.clone(),
            max_page_size: max_of(size),
        });
    }
    None
}
