//! The actions with a paginator are exactly those the official description
//! says page, computed here independently from the raw JSON (not through
//! codegen's model): an input with `Offset` and `Limit` and an output with a
//! `TotalCount`, each an integer or a string, or a string `NextToken` in
//! both; and in the output one list, or among several exactly one list of
//! objects.

use std::collections::BTreeSet;

use crate::support::tccli;
use serde_json::Value;

fn members(api: &Value, object: &str) -> Vec<(String, String, String)> {
    api["objects"][object]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["type"].as_str().unwrap().to_owned(),
                m["member"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(list: &[(String, String, String)], name: &str, ty: &str) -> bool {
    list.iter().any(|(n, t, _)| n == name && t == ty)
}

#[test]
fn paginated_actions_match_the_official_description() {
    let api: Value = serde_json::from_str(&tccli::read_official("api.json")).unwrap();
    let mut official = BTreeSet::new();
    for (name, action) in api["actions"].as_object().unwrap() {
        let input = members(&api, action["input"].as_str().unwrap());
        let output = members(&api, action["output"].as_str().unwrap());
        let lists: Vec<&str> = output
            .iter()
            .filter(|(_, t, _)| t == "list")
            .map(|(_, _, m)| m.as_str())
            .collect();
        let object_lists = lists.iter().filter(|m| api["objects"].get(**m).is_some()).count();
        let items = lists.len() == 1 || object_lists == 1;
        let number = |list: &[(String, String, String)], name: &str| {
            has(list, name, "int")
                || list
                    .iter()
                    .any(|(n, t, m)| n == name && t == "string" && m == "string")
        };
        let numbers = number(&input, "Offset") && number(&input, "Limit") && number(&output, "TotalCount");
        let token_style = has(&input, "NextToken", "string") && has(&output, "NextToken", "string");
        if items && (numbers || token_style) {
            official.insert(name.as_str());
        }
    }
    let generated: BTreeSet<&str> = cvm_api::PAGINATED_ACTIONS.iter().copied().collect();
    assert_eq!(generated, official);
    assert_eq!(generated.len(), 12, "{generated:?}");
    // The page size asked for is the documented maximum.
    use cvm_api::runtime::Paginated;
    assert_eq!(
        <cvm_api::DescribeInstancesRequest as Paginated>::MAX_PAGE_SIZE,
        Some(100)
    );
    assert_eq!(
        <cvm_api::DescribeResourcePoolPacksRequest as Paginated>::MAX_PAGE_SIZE,
        Some(100)
    );
}
