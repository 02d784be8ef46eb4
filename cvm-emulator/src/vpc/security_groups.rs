//! Security groups and their rules: CreateSecurityGroup,
//! DescribeSecurityGroups, DeleteSecurityGroup, CreateSecurityGroupPolicies
//! and DescribeSecurityGroupPolicies. Each region has a default group
//! (derived, like the default VPC), which instances launched without
//! `SecurityGroupIds` are in; created groups are stored resources, their
//! rules another (the group's id, in the `SecurityGroupPolicySet` kind).
//! A group in use (by an instance, or named by another group's rule) is
//! not deleted.

use vpc_api::types::{
    CreateSecurityGroupPoliciesRequest, CreateSecurityGroupPoliciesResponse, CreateSecurityGroupRequest,
    CreateSecurityGroupResponse, DeleteSecurityGroupRequest, DeleteSecurityGroupResponse,
    DescribeSecurityGroupPoliciesRequest, DescribeSecurityGroupPoliciesResponse,
    DescribeSecurityGroupsRequest, DescribeSecurityGroupsResponse, Filter, SecurityGroup,
    SecurityGroupPolicy, SecurityGroupPolicySet, Tag,
};

use crate::cvm::common::{check_tags, not_kept, quoted_list};
use crate::cvm::ids::default_security_group_id;
use crate::cvm::resources::{item, SECURITY_GROUP, SECURITY_GROUP_POLICIES};
use crate::cvm::store::{ChangeSet, Store};
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::now_ms;

use super::networks::Cidr;
use super::{any_of, check_filters, check_ids, check_text, choose, coexist, respond, vpc_time, Window};

/// Longest group name and description, in characters.
const MAX_NAME: usize = 60;
const MAX_DESCRIPTION: usize = 100;
/// Most rules per direction.
const MAX_RULES: usize = 100;
const PROTOCOLS: &[&str] = &["TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL"];
const ACTIONS: &[&str] = &["ACCEPT", "DROP"];
const FILTERS: &[&str] = &[
    "security-group-id",
    "project-id",
    "security-group-name",
    "tag-key",
];

fn default_group(region: &str) -> SecurityGroup {
    SecurityGroup::new()
        .set_security_group_id(default_security_group_id(region))
        .set_security_group_name("default")
        .set_security_group_desc("The region's default security group")
        .set_project_id("0")
        .set_is_default(true)
        .set_created_time("2020-01-01 00:00:00")
        .set_tag_set(Vec::<Tag>::new())
        .set_update_time("2020-01-01 00:00:00")
}

/// The group `id` of `region`, default or created.
fn group(store: &Store, region: &str, id: &str) -> Result<Option<SecurityGroup>, ApiError> {
    if id == default_security_group_id(region) {
        return Ok(Some(default_group(region)));
    }
    match store.resources.get(&SECURITY_GROUP, id) {
        Some(stored) if stored.region == region => item(stored).map(Some),
        _ => Ok(None),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "InvalidSecurityGroupID.NotFound",
        format!("No security group `{}` in this region.", shorten(id)),
    )
}

fn check_group_id(id: &str) -> Result<(), ApiError> {
    if SECURITY_GROUP.is_id(id) {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidSecurityGroupID.Malformed",
            format!("`{}` is not an id of the form sg-xxxxxxxx.", shorten(id)),
        ))
    }
}

/// `InvalidSecurityGroupId.NotFound` unless every group of `ids` is in
/// `region` (RunInstances' check of `SecurityGroupIds`).
pub(crate) fn check_groups_exist(store: &Store, region: &str, ids: &[String]) -> Result<(), ApiError> {
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !matches!(group(store, region, id), Ok(Some(_))))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidSecurityGroupId.NotFound",
            format!("No security group {} in {region}.", quoted_list(&missing)),
        ))
    }
}

fn region_of<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    ctx.region.ok_or_else(|| ApiError::missing("Region"))
}

pub(crate) fn create_security_group(
    r: &CreateSecurityGroupRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    check_text("GroupName", &r.group_name, MAX_NAME)?;
    check_text("GroupDescription", &r.group_description, MAX_DESCRIPTION)?;
    check_tags(
        r.tags
            .iter()
            .flatten()
            .map(|t| (t.key.as_str(), t.value.as_deref().unwrap_or_default())),
    )?;
    if let Some(project) = r.project_id.as_deref().filter(|p| *p != "0") {
        return Err(ApiError::new(
            "InvalidParameterValue.Range",
            format!(
                "No project `{}`: the emulator has the default project, 0.",
                shorten(project)
            ),
        ));
    }
    let mut store = ctx.shared.store();
    if store.resources.in_region(&SECURITY_GROUP, region).count() >= SECURITY_GROUP.quota {
        return Err(ApiError::new(
            "LimitExceeded",
            format!(
                "{region} holds {} security groups, the most allowed.",
                SECURITY_GROUP.quota
            ),
        ));
    }
    let id = store.resources.new_id(&SECURITY_GROUP);
    let now = vpc_time(&crate::time::iso8601(now_ms()));
    let group = SecurityGroup::new()
        .set_security_group_id(id.clone())
        .set_security_group_name(r.group_name.clone())
        .set_security_group_desc(r.group_description.clone())
        .set_project_id("0")
        .set_is_default(false)
        .set_created_time(now.clone())
        .set_tag_set(r.tags.clone().unwrap_or_default())
        .set_update_time(now);
    store.resources.put(SECURITY_GROUP.store(region, &id, &group)?);
    store
        .commit(ChangeSet {
            put_resources: &[SECURITY_GROUP.key(&id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(
        &CreateSecurityGroupResponse::new()
            .set_security_group(group)
            .set_request_id(ctx.request_id),
    )
}

fn group_matches(g: &SecurityGroup, f: &Filter) -> bool {
    match f.name.as_str() {
        "security-group-id" => any_of(f, &g.security_group_id),
        "security-group-name" => any_of(f, &g.security_group_name),
        "project-id" => any_of(f, &g.project_id),
        "tag-key" => g.tag_set.iter().any(|t| any_of(f, &t.key)),
        name => name.strip_prefix("tag:").is_some_and(|k| {
            g.tag_set
                .iter()
                .any(|t| t.key == k && any_of(f, t.value.as_deref().unwrap_or("")))
        }),
    }
}

pub(crate) fn describe_security_groups(
    r: &DescribeSecurityGroupsRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let ids = check_ids(
        "SecurityGroupIds",
        "sg-",
        r.security_group_ids.as_deref().unwrap_or_default(),
    )?;
    let filters = check_filters(r.filters.as_deref().unwrap_or_default(), FILTERS)?;
    if !ids.is_empty() && !filters.is_empty() {
        return Err(coexist("SecurityGroupIds"));
    }
    let window = Window::offset(r.offset.as_deref(), r.limit.as_deref())?;
    let store = ctx.shared.store();
    let mut groups = vec![default_group(region)];
    for stored in store.resources.in_region(&SECURITY_GROUP, region) {
        groups.push(item(stored)?);
    }
    drop(store);
    let chosen = choose(
        &groups,
        &ids,
        |g| g.security_group_id.as_str(),
        |g| filters.iter().all(|f| group_matches(g, f)),
    );
    let (total, page, _) = window.apply(chosen);
    respond(
        &DescribeSecurityGroupsResponse::new()
            .set_security_group_set(page.into_iter().cloned().collect::<Vec<_>>())
            .set_total_count(total)
            .set_request_id(ctx.request_id),
    )
}

/// Who uses group `id`: its instances, and the groups whose rules name it.
fn users(store: &Store, region: &str, id: &str) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let instances = store
        .in_region(region)
        .filter(|s| s.instance.security_group_ids.iter().any(|g| g == id))
        .map(|s| s.instance.instance_id.clone())
        .collect();
    let mut groups = Vec::new();
    for stored in store.resources.in_region(&SECURITY_GROUP_POLICIES, region) {
        if stored.id == id {
            continue;
        }
        let set: SecurityGroupPolicySet = item(stored)?;
        let rules = set.ingress.iter().flatten().chain(set.egress.iter().flatten());
        if rules
            .into_iter()
            .any(|p| p.security_group_id.as_deref() == Some(id))
        {
            groups.push(stored.id.clone());
        }
    }
    Ok((instances, groups))
}

pub(crate) fn delete_security_group(
    r: &DeleteSecurityGroupRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let id = r.security_group_id.as_str();
    check_group_id(id)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    if id == default_security_group_id(region) {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "The region's default security group cannot be deleted.",
        ));
    }
    if group(&store, region, id)?.is_none() {
        return Err(not_found(id));
    }
    let (instances, groups) = users(&store, region, id)?;
    if !instances.is_empty() || !groups.is_empty() {
        let names: Vec<&str> = instances.iter().chain(&groups).map(String::as_str).collect();
        return Err(ApiError::new(
            "ResourceInUse",
            format!("The security group {id} is used by {}.", quoted_list(&names)),
        ));
    }
    store.resources.remove(&SECURITY_GROUP, id);
    let had_rules = store.resources.remove(&SECURITY_GROUP_POLICIES, id).is_some();
    let mut removed = vec![SECURITY_GROUP.key(id)];
    if had_rules {
        removed.push(SECURITY_GROUP_POLICIES.key(id));
    }
    store
        .commit(ChangeSet {
            removed_resources: &removed,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(&DeleteSecurityGroupResponse::new().set_request_id(ctx.request_id))
}

/// Checks a rule: a known protocol and action, a port only where the
/// protocol has ports, and exactly one source (a block or a group).
fn check_rule(
    store: &Store,
    region: &str,
    direction: &str,
    rule: &SecurityGroupPolicy,
) -> Result<(), ApiError> {
    let invalid =
        |why: String| ApiError::new("InvalidParameterValue.Malformed", format!("{direction}: {why}"));
    let protocol = rule.protocol.as_deref().unwrap_or("ALL");
    if !PROTOCOLS.iter().any(|p| p.eq_ignore_ascii_case(protocol)) {
        return Err(invalid(format!(
            "Protocol `{}` is not one of {}.",
            shorten(protocol),
            PROTOCOLS.join(", ")
        )));
    }
    let action = rule.action.as_deref().unwrap_or_default();
    if !ACTIONS.contains(&action) {
        return Err(invalid(format!(
            "Action `{}` is not ACCEPT or DROP.",
            shorten(action)
        )));
    }
    if let Some(port) = rule.port.as_deref().filter(|p| *p != "ALL") {
        let has_ports = ["TCP", "UDP"].iter().any(|p| p.eq_ignore_ascii_case(protocol));
        if !has_ports || !valid_ports(port) {
            return Err(invalid(format!(
                "Port `{}` is not ALL, a port, a list (80,443) or a range (8000-9000) of a TCP or UDP rule.",
                shorten(port)
            )));
        }
    }
    match (rule.cidr_block.as_deref(), rule.security_group_id.as_deref()) {
        (Some(block), None) => {
            Cidr::parse(block)
                .ok_or_else(|| invalid(format!("CidrBlock `{}` is not a block.", shorten(block))))?;
        }
        (None, Some(group_id)) => {
            check_group_id(group_id)?;
            if group(store, region, group_id)?.is_none() {
                return Err(not_found(group_id));
            }
        }
        _ => {
            return Err(invalid(
                "a rule takes one source: CidrBlock or SecurityGroupId.".to_owned(),
            ))
        }
    }
    if rule
        .policy_description
        .as_deref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(ApiError::new(
            "InvalidParameterValue.TooLong",
            format!("{direction}: PolicyDescription is longer than {MAX_DESCRIPTION} characters."),
        ));
    }
    Ok(())
}

fn valid_ports(port: &str) -> bool {
    let one = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
    if let Some((low, high)) = port.split_once('-') {
        return one(low) && one(high) && low.parse::<u16>().ok() < high.parse::<u16>().ok();
    }
    port.split(',').all(one)
}

/// The rules of group `id` (none yet: an empty set at version 0).
fn rules_of(store: &Store, id: &str) -> Result<SecurityGroupPolicySet, ApiError> {
    match store.resources.get(&SECURITY_GROUP_POLICIES, id) {
        Some(stored) => item(stored),
        None => Ok(SecurityGroupPolicySet::new()
            .set_version("0")
            .set_egress(Vec::<SecurityGroupPolicy>::new())
            .set_ingress(Vec::<SecurityGroupPolicy>::new())),
    }
}

pub(crate) fn create_security_group_policies(
    r: &CreateSecurityGroupPoliciesRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let id = r.security_group_id.as_str();
    check_group_id(id)?;
    let Some(given) = &r.security_group_policy_set else {
        return Err(ApiError::missing("SecurityGroupPolicySet"));
    };
    let mut store = ctx.shared.store();
    if group(&store, region, id)?.is_none() {
        return Err(not_found(id));
    }
    let mut set = rules_of(&store, id)?;
    let now = vpc_time(&crate::time::iso8601(now_ms()));
    let mut added = 0;
    for (direction, new_rules, kept) in [
        (
            "Egress",
            given.egress.as_deref().unwrap_or_default(),
            set.egress.get_or_insert_with(Vec::new),
        ),
        (
            "Ingress",
            given.ingress.as_deref().unwrap_or_default(),
            set.ingress.get_or_insert_with(Vec::new),
        ),
    ] {
        for rule in new_rules {
            check_rule(&store, region, direction, rule)?;
        }
        if kept.len() + new_rules.len() > MAX_RULES {
            return Err(ApiError::new(
                "LimitExceeded.SecurityGroupPolicySet",
                format!(
                    "{direction} would hold {} rules; at most {MAX_RULES} are allowed.",
                    kept.len() + new_rules.len()
                ),
            ));
        }
        for rule in new_rules {
            let mut rule = rule.clone();
            rule.policy_index = Some(kept.len() as i64);
            rule.protocol = Some(
                rule.protocol
                    .unwrap_or_else(|| "ALL".to_owned())
                    .to_ascii_uppercase(),
            );
            rule.port.get_or_insert_with(|| "ALL".to_owned());
            rule.policy_description.get_or_insert_with(String::new);
            rule.modify_time = Some(now.clone());
            kept.push(rule);
            added += 1;
        }
    }
    if added == 0 {
        return Err(ApiError::missing("SecurityGroupPolicySet.Ingress"));
    }
    let version = set
        .version
        .as_deref()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    set.version = Some(version.to_string());
    store
        .resources
        .put(SECURITY_GROUP_POLICIES.store(region, id, &set)?);
    store
        .commit(ChangeSet {
            put_resources: &[SECURITY_GROUP_POLICIES.key(id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(&CreateSecurityGroupPoliciesResponse::new().set_request_id(ctx.request_id))
}

pub(crate) fn describe_security_group_policies(
    r: &DescribeSecurityGroupPoliciesRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let id = r.security_group_id.as_str();
    check_group_id(id)?;
    if r.filters.as_deref().is_some_and(|f| !f.is_empty()) {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "Filters on DescribeSecurityGroupPolicies are not emulated; the whole set is answered without them.",
        ));
    }
    let store = ctx.shared.store();
    if group(&store, region, id)?.is_none() {
        return Err(not_found(id));
    }
    let set = rules_of(&store, id)?;
    drop(store);
    respond(
        &DescribeSecurityGroupPoliciesResponse::new()
            .set_security_group_policy_set(set)
            .set_request_id(ctx.request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_one_a_list_or_a_range() {
        for good in ["22", "80,443", "8000-9000", "1,65535"] {
            assert!(valid_ports(good), "{good}");
        }
        for bad in ["", "0", "65536", "9000-8000", "80-", "a", "22 ", "80,,443"] {
            assert!(!valid_ports(bad), "{bad}");
        }
    }
}
