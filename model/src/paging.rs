//! Which actions page, and how: derived from the shape of their input and
//! output, so every action of every service that follows Tencent Cloud's
//! paging conventions gets a paginator without being listed anywhere.
//!
//! - **Offset style**: the input has members `Offset` and `Limit`, the
//!   output a `TotalCount` and the page's items. Each of the three is an
//!   integer, or a string holding one in decimal (VPC declares `Offset` and
//!   `Limit` so; the paginator then writes them as decimal strings).
//! - **Token style**: the input has a string `NextToken` (and an integer
//!   `MaxResults` or `Limit`, if any), the output a string `NextToken` and
//!   the page's items.
//!
//! An action that pages both ways pages by offset when its three members
//! are all integers, else by token: with string numbers, the offset style
//! is only for actions without a token (VPC's `DescribeSubnets` pages by
//! `NextToken`).
//!
//! **The items** are the output's list, when it has exactly one. When it
//! has several, they are its only list of objects (the others, lists of
//! strings or numbers, say something of the page: TKE's `DescribeClusters`
//! answers `Clusters` and `Errors`); when that does not decide, there are
//! none, and the action does not page (CSIP's `DescribeAssetTags` answers
//! `AssetTags` and the filter options `AutoTaggingEnabledList`, both lists
//! of objects).
//!
//! The page size the spec allows is the `maximum` of the size member's rule
//! in `rules.json` (an integer member's only: a string has no `maximum`).

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

/// An integer, or a string that holds one in decimal (any string: not one
/// of a closed set of values).
fn is_number(m: &Member) -> bool {
    is_integer(m) || (is_string(m) && m.value_set.is_none())
}

/// The list that holds a page's items, if it can be told (see the module's docs).
fn items(output: &Object) -> Option<&Member> {
    let lists: Vec<&Member> = output.members.iter().filter(|m| m.ty.list).collect();
    if let [only] = lists[..] {
        return Some(only);
    }
    let mut objects = lists.into_iter().filter(|m| matches!(m.ty.leaf, Leaf::Object(_)));
    let items = objects.next()?;
    objects.next().is_none().then_some(items)
}

/// How the action with this input and output pages, if it does.
pub fn paging(input: &Object, output: &Object) -> Option<Paging> {
    let items = items(output)?;
    let size_member = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| member(input, n).filter(|m| is_integer(m)))
    };
    let max_of = |m: Option<&Member>| m.and_then(|m| m.rule.as_ref()).and_then(|r| r.maximum);
    let offset_style = || {
        let offset = member(input, "Offset").filter(|m| is_number(m))?;
        let limit = member(input, "Limit").filter(|m| is_number(m))?;
        let total = member(output, "TotalCount").filter(|m| is_number(m))?;
        Some((offset, limit, total))
    };
    let by_offset = |(offset, limit, total): (&Member, &Member, &Member)| Paging {
        style: PagingStyle::Offset,
        page_size: Some(limit.wire_name.clone()),
        offset: Some(offset.wire_name.clone()),
        total_count: Some(total.wire_name.clone()),
        token: None,
        items: items.wire_name.clone(),
        max_page_size: max_of(Some(limit)),
    };
    let offset = offset_style();
    if let Some(members @ (o, l, t)) = offset {
        if is_integer(o) && is_integer(l) && is_integer(t) {
            return Some(by_offset(members));
        }
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
    offset.map(by_offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TypeRef;

    const INT: Leaf = Leaf::Scalar(Scalar::I64);
    const UINT: Leaf = Leaf::Scalar(Scalar::U64);
    const STRING: Leaf = Leaf::Scalar(Scalar::String);

    fn obj(name: &str) -> Leaf {
        Leaf::Object(name.into())
    }

    fn member(wire: &str, leaf: Leaf, list: bool) -> Member {
        Member {
            wire_name: wire.into(),
            document: String::new(),
            example: None,
            ty: TypeRef { leaf, list },
            value_set: None,
            optional: true,
            recursive: false,
            deprecated: false,
            required: false,
            output_required: false,
            nullable: false,
            rule: None,
        }
    }

    fn one(wire: &str, leaf: Leaf) -> Member {
        member(wire, leaf, false)
    }

    fn list(wire: &str, leaf: Leaf) -> Member {
        member(wire, leaf, true)
    }

    fn object(name: &str, members: Vec<Member>) -> Object {
        Object {
            name: name.into(),
            document: String::new(),
            members,
            in_input: false,
            in_output: false,
            is_response: false,
        }
    }

    fn offset_paging(items: &str) -> Paging {
        Paging {
            style: PagingStyle::Offset,
            page_size: Some("Limit".into()),
            offset: Some("Offset".into()),
            total_count: Some("TotalCount".into()),
            token: None,
            items: items.into(),
            max_page_size: None,
        }
    }

    fn request(offset: Leaf, limit: Leaf) -> Object {
        object("Request", vec![one("Offset", offset), one("Limit", limit)])
    }

    #[test]
    fn integer_offset_limit_and_total_with_one_list_page() {
        let mut limit = one("Limit", INT);
        limit.rule = Some(crate::spec::Rule {
            maximum: Some(100),
            ..Default::default()
        });
        let input = object("Request", vec![one("Offset", INT), limit]);
        let output = object(
            "Response",
            vec![one("TotalCount", UINT), list("InstanceSet", obj("Instance"))],
        );
        let expected = Paging {
            max_page_size: Some(100),
            ..offset_paging("InstanceSet")
        };
        assert_eq!(paging(&input, &output), Some(expected));
    }

    /// VPC's `DescribeVpcs`: `Offset` and `Limit` are strings.
    #[test]
    fn string_offset_and_limit_page() {
        let output = object(
            "Response",
            vec![one("TotalCount", UINT), list("VpcSet", obj("Vpc"))],
        );
        assert_eq!(
            paging(&request(STRING, STRING), &output),
            Some(offset_paging("VpcSet"))
        );
        // One of each kind (dsgc's DescribeDSPAAssessmentLatestRiskList).
        assert_eq!(
            paging(&request(STRING, INT), &output),
            Some(offset_paging("VpcSet"))
        );
    }

    /// waf's `DescribeCustomRuleList`: `TotalCount` is a string.
    #[test]
    fn a_string_total_pages() {
        let output = object(
            "Response",
            vec![one("TotalCount", STRING), list("RuleList", obj("Rule"))],
        );
        assert_eq!(
            paging(&request(UINT, UINT), &output),
            Some(offset_paging("RuleList"))
        );
    }

    /// TKE's `DescribeClusters` (2022-05-01): `Clusters` and the list of
    /// strings `Errors`; the one list of objects holds the items.
    #[test]
    fn the_only_list_of_objects_among_lists_of_scalars_holds_the_items() {
        let output = object(
            "Response",
            vec![
                one("TotalCount", INT),
                list("Clusters", obj("Cluster")),
                list("Errors", STRING),
            ],
        );
        assert_eq!(
            paging(&request(INT, INT), &output),
            Some(offset_paging("Clusters"))
        );
        // Which list comes first does not matter.
        let output = object(
            "Response",
            vec![
                list("RunningOrderIds", UINT),
                one("TotalCount", UINT),
                list("Events", obj("JobEvent")),
            ],
        );
        assert_eq!(
            paging(&request(UINT, UINT), &output),
            Some(offset_paging("Events"))
        );
    }

    /// An action offering both styles keeps its token when its offset
    /// members are strings (VPC's `DescribeSubnets`), and its offset when
    /// they are integers (VPC's `DescribeVpcEndPoint`).
    #[test]
    fn with_a_token_too_string_offsets_give_way_and_integer_ones_do_not() {
        let both = |offset: Leaf| {
            let input = object(
                "Request",
                vec![
                    one("Offset", offset.clone()),
                    one("Limit", offset),
                    one("NextToken", STRING),
                    one("MaxResults", UINT),
                ],
            );
            let output = object(
                "Response",
                vec![
                    one("TotalCount", UINT),
                    list("SubnetSet", obj("Subnet")),
                    one("NextToken", STRING),
                ],
            );
            paging(&input, &output).map(|p| p.style)
        };
        assert_eq!(both(STRING), Some(PagingStyle::Token));
        assert_eq!(both(INT), Some(PagingStyle::Offset));
    }

    #[test]
    fn shapes_that_do_not_page() {
        let items = |lists: Vec<Member>| {
            let mut members = vec![one("TotalCount", INT)];
            members.extend(lists);
            object("Response", members)
        };
        let int_request = request(INT, INT);
        // Several lists of objects: which holds the items is not decided
        // (csip's DescribeAssetTags: AssetTags and AutoTaggingEnabledList).
        let two_object_lists = items(vec![
            list("AssetTags", obj("AssetTagItem")),
            list("AutoTaggingEnabledList", obj("AttributeOptionSet")),
        ]);
        assert_eq!(paging(&int_request, &two_object_lists), None);
        // Several lists of scalars, none of objects (cwp's DescribeWarningHostConfig).
        let scalar_lists = items(vec![list("ItemLabels", STRING), list("Quuids", STRING)]);
        assert_eq!(paging(&int_request, &scalar_lists), None);
        // No list at all.
        assert_eq!(paging(&int_request, &items(vec![])), None);
        // No TotalCount.
        let untotalled = object("Response", vec![list("ReleaseSet", obj("Release"))]);
        assert_eq!(paging(&int_request, &untotalled), None);
        // Members of other types are no numbers: a float, a date, a list
        // of strings, a string of a closed set of values.
        let one_list = items(vec![list("Set", obj("Item"))]);
        let float = Leaf::Scalar(Scalar::F64);
        let date = Leaf::Scalar(Scalar::DateTime);
        for input in [request(float, INT), request(INT, date)] {
            assert_eq!(paging(&input, &one_list), None);
        }
        let listed = object("Request", vec![list("Offset", STRING), one("Limit", STRING)]);
        assert_eq!(paging(&listed, &one_list), None);
        let mut limit = one("Limit", STRING);
        limit.value_set = Some("PageSize".into());
        let closed = object("Request", vec![one("Offset", STRING), limit]);
        assert_eq!(paging(&closed, &one_list), None);
        // A token that is a number (cloudaudit's DescribeEvents) pages neither way.
        let cursor_in = object("Request", vec![one("NextToken", UINT), one("MaxResults", UINT)]);
        let cursor_out = object(
            "Response",
            vec![one("NextToken", UINT), list("Events", obj("Event"))],
        );
        assert_eq!(paging(&cursor_in, &cursor_out), None);
    }
}
