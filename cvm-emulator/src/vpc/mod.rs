//! VPC (2017-03-12): `DescribeVpcs` and `DescribeSubnets`, answered from
//! the network the emulator assigns its instances and the VPCs and subnets
//! made by `CreateVpc` and `CreateSubnet` ([`networks`]).
//!
//! The region's default VPC and its zones' default subnets are derived
//! from the instances that live in them (their `VirtualPrivateCloud`), so
//! they can never disagree with CVM's `DescribeInstances`: an instance
//! launched without a `VirtualPrivateCloud` lives in its region's default
//! VPC and its zone's default subnet (see [`default_vpc_id`],
//! [`default_subnet_id`]), whose block is [`CIDR_BLOCK`]. Created VPCs and
//! subnets are stored resources with blocks of their own; an instance
//! launched into one gets an address of its block. Listings follow the
//! instances' one creation order, then the created networks no instance
//! uses, in creation order.

pub(crate) mod addresses;
pub(crate) mod networks;
pub(crate) mod security_groups;

use std::collections::HashMap;

use serde::Serialize;
use vpc_api::types::{
    AllocateAddressesRequest, AssociateAddressRequest, CreateSecurityGroupPoliciesRequest,
    CreateSecurityGroupRequest, CreateSubnetRequest, CreateVpcRequest, DeleteSecurityGroupRequest,
    DeleteSubnetRequest, DeleteVpcRequest, DescribeAddressesRequest, DescribeSecurityGroupPoliciesRequest,
    DescribeSecurityGroupsRequest, DescribeSubnetsRequest, DescribeSubnetsResponse, DescribeVpcsRequest,
    DescribeVpcsResponse, DisassociateAddressRequest, Filter, ReleaseAddressesRequest, Subnet, Vpc,
};

use crate::cvm::ids::{default_subnet_id, default_vpc_id, stable_id};
use crate::cvm::resources::{item, SUBNET, VPC};
use crate::decode::{check_rules, decode as decode_as, Params};
use crate::error::{shorten, ApiError};
use crate::fallback::Fallback;
use crate::shared::Ctx;
use crate::time::now_ms;

/// The VPC actions the emulator implements.
pub const VPC_EMULATED_ACTIONS: &[&str] = &[
    "AllocateAddresses",
    "AssociateAddress",
    "CreateSecurityGroup",
    "CreateSecurityGroupPolicies",
    "CreateSubnet",
    "CreateVpc",
    "DeleteSecurityGroup",
    "DeleteSubnet",
    "DeleteVpc",
    "DescribeAddresses",
    "DescribeSecurityGroupPolicies",
    "DescribeSecurityGroups",
    "DescribeSubnets",
    "DescribeVpcs",
    "DisassociateAddress",
    "ReleaseAddresses",
];

/// The block every emulated VPC and subnet reports: the one the
/// emulator's private addresses come from (`10.0.c.d`).
pub(crate) const CIDR_BLOCK: &str = "10.0.0.0/16";
/// Addresses of a /16 the service lets instances use (it keeps 3 per subnet).
const USABLE_ADDRESSES: u64 = 65_536 - 3;
/// The service's documented paging: 20 by default, at most 100.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
/// Most ids, filters and values per filter in one request.
const MAX_IDS: usize = 100;
const MAX_FILTERS: usize = 10;
const MAX_FILTER_VALUES: usize = 100;
/// Tencent Cloud's internal DNS servers, every VPC's defaults.
pub(crate) const DNS_SERVERS: [&str; 2] = ["183.60.83.19", "183.60.82.98"];

/// A decoded request of an emulated VPC action.
pub(crate) enum VpcRequest {
    AllocateAddresses(Box<AllocateAddressesRequest>),
    AssociateAddress(Box<AssociateAddressRequest>),
    DescribeAddresses(Box<DescribeAddressesRequest>),
    DisassociateAddress(Box<DisassociateAddressRequest>),
    ReleaseAddresses(Box<ReleaseAddressesRequest>),
    CreateSecurityGroup(Box<CreateSecurityGroupRequest>),
    DeleteSecurityGroup(Box<DeleteSecurityGroupRequest>),
    DescribeSecurityGroups(Box<DescribeSecurityGroupsRequest>),
    CreateSecurityGroupPolicies(Box<CreateSecurityGroupPoliciesRequest>),
    DescribeSecurityGroupPolicies(Box<DescribeSecurityGroupPoliciesRequest>),
    CreateVpc(Box<CreateVpcRequest>),
    DeleteVpc(Box<DeleteVpcRequest>),
    CreateSubnet(Box<CreateSubnetRequest>),
    DeleteSubnet(Box<DeleteSubnetRequest>),
    DescribeVpcs(Box<DescribeVpcsRequest>),
    DescribeSubnets(Box<DescribeSubnetsRequest>),
}

impl VpcRequest {
    pub(crate) fn action(&self) -> &'static str {
        match self {
            VpcRequest::AllocateAddresses(_) => "AllocateAddresses",
            VpcRequest::AssociateAddress(_) => "AssociateAddress",
            VpcRequest::DescribeAddresses(_) => "DescribeAddresses",
            VpcRequest::DisassociateAddress(_) => "DisassociateAddress",
            VpcRequest::ReleaseAddresses(_) => "ReleaseAddresses",
            VpcRequest::CreateSecurityGroup(_) => "CreateSecurityGroup",
            VpcRequest::DeleteSecurityGroup(_) => "DeleteSecurityGroup",
            VpcRequest::DescribeSecurityGroups(_) => "DescribeSecurityGroups",
            VpcRequest::CreateSecurityGroupPolicies(_) => "CreateSecurityGroupPolicies",
            VpcRequest::DescribeSecurityGroupPolicies(_) => "DescribeSecurityGroupPolicies",
            VpcRequest::CreateVpc(_) => "CreateVpc",
            VpcRequest::DeleteVpc(_) => "DeleteVpc",
            VpcRequest::CreateSubnet(_) => "CreateSubnet",
            VpcRequest::DeleteSubnet(_) => "DeleteSubnet",
            VpcRequest::DescribeVpcs(_) => "DescribeVpcs",
            VpcRequest::DescribeSubnets(_) => "DescribeSubnets",
        }
    }
}

/// Decodes `params` as a request of `action` (one of VPC's): the emulated
/// actions into `vpc_api`'s typed requests for [`handle`], the others
/// checked against the description, for `UnsupportedOperation`.
/// Generic over the service ([`Fallback`]) so that this module does not
/// depend on the registry that names it.
pub(crate) fn decode<S: Fallback>(
    service: &'static S,
    action: &'static str,
    params: Params,
) -> Result<S::Checked, ApiError>
where
    S::Checked: From<VpcRequest>,
{
    let request = match action {
        "AllocateAddresses" => VpcRequest::AllocateAddresses(Box::new(decode_as(service, action, params)?)),
        "AssociateAddress" => VpcRequest::AssociateAddress(Box::new(decode_as(service, action, params)?)),
        "DescribeAddresses" => VpcRequest::DescribeAddresses(Box::new(decode_as(service, action, params)?)),
        "DisassociateAddress" => {
            VpcRequest::DisassociateAddress(Box::new(decode_as(service, action, params)?))
        }
        "ReleaseAddresses" => VpcRequest::ReleaseAddresses(Box::new(decode_as(service, action, params)?)),
        "CreateSecurityGroup" => {
            VpcRequest::CreateSecurityGroup(Box::new(decode_as(service, action, params)?))
        }
        "DeleteSecurityGroup" => {
            VpcRequest::DeleteSecurityGroup(Box::new(decode_as(service, action, params)?))
        }
        "DescribeSecurityGroups" => {
            VpcRequest::DescribeSecurityGroups(Box::new(decode_as(service, action, params)?))
        }
        "CreateSecurityGroupPolicies" => {
            VpcRequest::CreateSecurityGroupPolicies(Box::new(decode_as(service, action, params)?))
        }
        "DescribeSecurityGroupPolicies" => {
            VpcRequest::DescribeSecurityGroupPolicies(Box::new(decode_as(service, action, params)?))
        }
        "CreateVpc" => VpcRequest::CreateVpc(Box::new(decode_as(service, action, params)?)),
        "DeleteVpc" => VpcRequest::DeleteVpc(Box::new(decode_as(service, action, params)?)),
        "CreateSubnet" => VpcRequest::CreateSubnet(Box::new(decode_as(service, action, params)?)),
        "DeleteSubnet" => VpcRequest::DeleteSubnet(Box::new(decode_as(service, action, params)?)),
        "DescribeVpcs" => VpcRequest::DescribeVpcs(Box::new(decode_as(service, action, params)?)),
        "DescribeSubnets" => VpcRequest::DescribeSubnets(Box::new(decode_as(service, action, params)?)),
        _ => return service.validate(action, params),
    };
    Ok(request.into())
}

/// Answers one decoded VPC request: the JSON of the `Response` object.
pub(crate) fn handle(request: VpcRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = ctx.region.ok_or_else(|| ApiError::missing("Region"))?;
    let request_id = ctx.request_id.to_owned();
    match request {
        VpcRequest::AllocateAddresses(r) => addresses::allocate_addresses(&r, ctx),
        VpcRequest::AssociateAddress(r) => addresses::associate_address(&r, ctx),
        VpcRequest::DescribeAddresses(r) => addresses::describe_addresses(&r, ctx),
        VpcRequest::DisassociateAddress(r) => addresses::disassociate_address(&r, ctx),
        VpcRequest::ReleaseAddresses(r) => addresses::release_addresses(&r, ctx),
        VpcRequest::CreateSecurityGroup(r) => security_groups::create_security_group(&r, ctx),
        VpcRequest::DeleteSecurityGroup(r) => security_groups::delete_security_group(&r, ctx),
        VpcRequest::DescribeSecurityGroups(r) => security_groups::describe_security_groups(&r, ctx),
        VpcRequest::CreateSecurityGroupPolicies(r) => {
            security_groups::create_security_group_policies(&r, ctx)
        }
        VpcRequest::DescribeSecurityGroupPolicies(r) => {
            security_groups::describe_security_group_policies(&r, ctx)
        }
        VpcRequest::CreateVpc(r) => networks::create_vpc(&r, ctx),
        VpcRequest::DeleteVpc(r) => networks::delete_vpc(&r, ctx),
        VpcRequest::CreateSubnet(r) => networks::create_subnet(&r, ctx),
        VpcRequest::DeleteSubnet(r) => networks::delete_subnet(&r, ctx),
        VpcRequest::DescribeVpcs(r) => {
            check_rules(&*r)?;
            let ids = check_ids("VpcIds", "vpc-", r.vpc_ids.as_deref().unwrap_or_default())?;
            let filters = check_filters(r.filters.as_deref().unwrap_or_default(), VPC_FILTERS)?;
            if !ids.is_empty() && !filters.is_empty() {
                return Err(coexist("VpcIds"));
            }
            let window = Window::offset(r.offset.as_deref(), r.limit.as_deref())?;
            let vpcs = network(ctx, region).vpcs;
            let chosen = choose(
                &vpcs,
                &ids,
                |v| v.vpc_id.as_str(),
                |v| filters.iter().all(|f| vpc_matches(v, f)),
            );
            let (total, page, _) = window.apply(chosen);
            respond(&{
                let mut new_value = DescribeVpcsResponse::default();
                new_value.total_count = total;
                new_value.vpc_set = page.into_iter().cloned().collect();
                new_value.request_id = request_id;
                new_value
            })
        }
        VpcRequest::DescribeSubnets(r) => {
            check_rules(&*r)?;
            let ids = check_ids(
                "SubnetIds",
                "subnet-",
                r.subnet_ids.as_deref().unwrap_or_default(),
            )?;
            let filters = check_filters(r.filters.as_deref().unwrap_or_default(), SUBNET_FILTERS)?;
            if !ids.is_empty() && !filters.is_empty() {
                return Err(coexist("SubnetIds"));
            }
            let by_offset = r.offset.is_some() || r.limit.is_some();
            let by_token = r.max_results.is_some() || r.next_token.is_some();
            let window = match (by_offset, by_token) {
                (true, true) => {
                    return Err(ApiError::new(
                        "InvalidParameter.Coexist",
                        "Offset/Limit and MaxResults/NextToken cannot be used together.",
                    ))
                }
                (_, false) => Window::offset(r.offset.as_deref(), r.limit.as_deref())?,
                (false, true) => Window::token(r.next_token.as_deref(), r.max_results)?,
            };
            let subnets = network(ctx, region).subnets;
            let chosen = choose(
                &subnets,
                &ids,
                |s| s.subnet_id.as_deref().unwrap_or(""),
                |s| filters.iter().all(|f| subnet_matches(s, f)),
            );
            let (total, page, next_token) = window.apply(chosen);
            respond(&{
                let mut new_value = DescribeSubnetsResponse::default();
                new_value.total_count = total;
                new_value.subnet_set = page.into_iter().cloned().collect();
                new_value.next_token = next_token;
                new_value.request_id = request_id;
                new_value
            })
        }
    }
}

fn respond<T: Serialize>(response: &T) -> Result<String, ApiError> {
    serde_json::to_string(response)
        .map_err(|e| ApiError::new("InternalError", format!("cannot encode the response: {e}")))
}

fn coexist(ids: &str) -> ApiError {
    ApiError::new(
        "InvalidParameter.Coexist",
        format!("{ids} and Filters cannot be specified together."),
    )
}

/// The VPCs and subnets the region's instances live in, in the order of
/// their oldest instance.
struct Network {
    vpcs: Vec<Vpc>,
    subnets: Vec<Subnet>,
}

/// Reads the region's instances (settled, under the store's lock, which
/// is released before answering). At most one VPC and one subnet per
/// instance, so both lists are bounded by the instance cap.
fn network(ctx: &Ctx<'_>, region: &str) -> Network {
    let default_vpc = default_vpc_id(region);
    let mut vpcs: Vec<Vpc> = Vec::new();
    let mut subnets: Vec<Subnet> = Vec::new();
    let mut vpc_index: HashMap<String, usize> = HashMap::new();
    let mut subnet_index: HashMap<String, usize> = HashMap::new();
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    // The created ones (a stored item that does not decode is skipped: the
    // state was checked when loaded).
    let mut made_vpcs: Vec<Vpc> = store
        .resources
        .in_region(&VPC, region)
        .filter_map(|r| item(r).ok())
        .collect();
    let mut made_subnets: Vec<Subnet> = store
        .resources
        .in_region(&SUBNET, region)
        .filter_map(|r| item(r).ok())
        .collect();
    for stored in store.in_region(region) {
        let instance = &stored.instance;
        let net = &instance.virtual_private_cloud;
        let zone = instance.placement.zone.as_str();
        let created = vpc_time(&instance.created_time);
        if !vpc_index.contains_key(&net.vpc_id) {
            vpc_index.insert(net.vpc_id.clone(), vpcs.len());
            let is_default = net.vpc_id == default_vpc;
            if let Some(i) = made_vpcs.iter().position(|v| v.vpc_id == net.vpc_id) {
                vpcs.push(made_vpcs.remove(i));
                continue_subnet(
                    &mut subnets,
                    &mut subnet_index,
                    &mut made_subnets,
                    net,
                    zone,
                    &created,
                    &default_vpc,
                );
                continue;
            }
            vpcs.push({
                let mut new_value = Vpc::default();
                new_value.vpc_name = if is_default {
                    "Default-VPC".to_owned()
                } else {
                    net.vpc_id.clone()
                };
                new_value.vpc_id = net.vpc_id.clone();
                new_value.cidr_block = CIDR_BLOCK.to_owned();
                new_value.is_default = is_default;
                new_value.enable_multicast = false;
                new_value.created_time = created.clone();
                new_value.dns_server_set = DNS_SERVERS.iter().map(|s| (*s).to_owned()).collect();
                new_value.domain_name = String::new();
                new_value.dhcp_options_id = String::new();
                new_value.enable_dhcp = true;
                new_value.ipv6_cidr_block = String::new();
                new_value.tag_set = Vec::new();
                new_value.assistant_cidr_set = Some(Vec::new());
                new_value.enable_route_vpc_publish = false;
                new_value.ipv6_cidr_block_set = Vec::new();
                new_value
            });
        }
        continue_subnet(
            &mut subnets,
            &mut subnet_index,
            &mut made_subnets,
            net,
            zone,
            &created,
            &default_vpc,
        );
    }
    vpcs.extend(made_vpcs);
    subnets.extend(made_subnets);
    Network { vpcs, subnets }
}

/// Counts one instance in its subnet, listing the subnet at its first
/// instance: the created one of that id when there is one, else derived.
fn continue_subnet(
    subnets: &mut Vec<Subnet>,
    subnet_index: &mut HashMap<String, usize>,
    made_subnets: &mut Vec<Subnet>,
    net: &cvm_api::types::VirtualPrivateCloud,
    zone: &str,
    created: &str,
    default_vpc: &str,
) {
    match subnet_index.get(&net.subnet_id) {
        Some(&i) => {
            let available = &mut subnets[i].available_ip_address_count;
            *available = Some(available.unwrap_or(0).saturating_sub(1));
        }
        None => {
            subnet_index.insert(net.subnet_id.clone(), subnets.len());
            if let Some(i) = made_subnets
                .iter()
                .position(|s| s.subnet_id.as_deref() == Some(net.subnet_id.as_str()))
            {
                let mut made = made_subnets.remove(i);
                made.available_ip_address_count = made.total_ip_address_count.map(|n| n.saturating_sub(1));
                subnets.push(made);
                return;
            }
            let is_default = net.vpc_id == default_vpc && net.subnet_id == default_subnet_id(zone);
            subnets.push({
                let mut new_value = Subnet::default();
                new_value.vpc_id = Some(net.vpc_id.clone());
                new_value.subnet_id = Some(net.subnet_id.clone());
                new_value.subnet_name = Some(if is_default {
                    "Default-Subnet".to_owned()
                } else {
                    net.subnet_id.clone()
                });
                new_value.cidr_block = Some(CIDR_BLOCK.to_owned());
                new_value.is_default = Some(is_default);
                new_value.enable_broadcast = Some(false);
                // A subnet is in the zone of the first instance
                // launched into it (a default subnet is its zone's).
                new_value.zone = Some(zone.to_owned());
                new_value.route_table_id = Some(stable_id("rtb-", &net.vpc_id));
                new_value.created_time = Some(created.to_owned());
                new_value.available_ip_address_count = Some(USABLE_ADDRESSES - 1);
                new_value.ipv6_cidr_block = Some(String::new());
                new_value.network_acl_id = Some(String::new());
                new_value.is_remote_vpc_snat = Some(false);
                new_value.total_ip_address_count = Some(USABLE_ADDRESSES);
                new_value.tag_set = Some(Vec::new());
                new_value.cdc_id = Some(String::new());
                new_value.is_cdc_subnet = Some(0);
                new_value
            });
        }
    }
}

/// CVM's `2023-06-01T00:00:00Z` in VPC's form, `2023-06-01 00:00:00`.
pub(crate) fn vpc_time(iso: &str) -> String {
    iso.replacen('T', " ", 1).trim_end_matches('Z').to_owned()
}

/// The items with the ids asked for, in the request's order (unknown ids
/// skipped), or else every item that passes `keep`.
fn choose<'a, T>(
    items: &'a [T],
    ids: &[String],
    id_of: impl Fn(&T) -> &str,
    keep: impl Fn(&T) -> bool,
) -> Vec<&'a T> {
    if ids.is_empty() {
        items.iter().filter(|i| keep(i)).collect()
    } else {
        ids.iter()
            .filter_map(|id| items.iter().find(|i| id_of(i) == id))
            .collect()
    }
}

/// The ids of a request: at most [`MAX_IDS`], each `prefix` + 8 lower-case
/// letters or digits; duplicates dropped.
fn check_ids(member: &str, prefix: &str, ids: &[String]) -> Result<Vec<String>, ApiError> {
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("{member} has {} items; at most {MAX_IDS} are allowed.", ids.len()),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        let well_formed = id.len() == prefix.len() + 8
            && id.starts_with(prefix)
            && id.as_bytes()[prefix.len()..]
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !well_formed {
            return Err(ApiError::new(
                "InvalidParameterValue.Malformed",
                format!(
                    "{member} holds `{}`, which is not an id of the form {prefix}xxxxxxxx.",
                    shorten(id)
                ),
            ));
        }
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// Filters each action accepts (the description's names). Tags: the
/// emulated network has none, so tag filters match nothing.
const VPC_FILTERS: &[&str] = &[
    "vpc-id",
    "vpc-name",
    "is-default",
    "cidr-block",
    "tag-key",
    "tag:KEY",
];
const SUBNET_FILTERS: &[&str] = &[
    "subnet-id",
    "vpc-id",
    "subnet-name",
    "zone",
    "cidr-block",
    "is-default",
    "is-remote-vpc-snat",
    "cdc-id",
    "is-cdc-subnet",
    "tag-key",
    "tag:KEY",
];

/// Checks the filters' names and sizes.
fn check_filters<'f>(filters: &'f [Filter], known: &[&str]) -> Result<Vec<&'f Filter>, ApiError> {
    if filters.len() > MAX_FILTERS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "Filters has {} items; at most {MAX_FILTERS} are allowed.",
                filters.len()
            ),
        ));
    }
    for f in filters {
        let name = f.name.as_str();
        let is_tag = name.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !known.contains(&name) && !is_tag {
            return Err(ApiError::new(
                "InvalidParameter.FilterInvalidKey",
                format!(
                    "The filter `{}` is not supported; use one of {}.",
                    shorten(name),
                    known.join(", ")
                ),
            ));
        }
        if f.values.is_empty() || f.values.len() > MAX_FILTER_VALUES {
            return Err(ApiError::new(
                "InvalidParameterValue.LimitExceeded",
                format!(
                    "The filter `{}` has {} values; it needs 1 to {MAX_FILTER_VALUES}.",
                    shorten(name),
                    f.values.len()
                ),
            ));
        }
    }
    Ok(filters.iter().collect())
}

/// A name or description: not empty, at most `most` characters
/// (`InvalidParameterValue.Empty`, `InvalidParameterValue.TooLong`).
pub(crate) fn check_text(member: &str, text: &str, most: usize) -> Result<(), ApiError> {
    if text.is_empty() {
        return Err(ApiError::new(
            "InvalidParameterValue.Empty",
            format!("{member} is empty."),
        ));
    }
    if text.chars().count() > most {
        return Err(ApiError::new(
            "InvalidParameterValue.TooLong",
            format!("{member} is longer than {most} characters."),
        ));
    }
    Ok(())
}

fn any_of(f: &Filter, value: &str) -> bool {
    f.values.iter().any(|v| v == value)
}

/// `is-default` style filters take `true` or `false`.
fn any_bool(f: &Filter, value: bool) -> bool {
    f.values
        .iter()
        .any(|v| v.eq_ignore_ascii_case(if value { "true" } else { "false" }))
}

fn vpc_matches(v: &Vpc, f: &Filter) -> bool {
    match f.name.as_str() {
        "vpc-id" => any_of(f, &v.vpc_id),
        "vpc-name" => any_of(f, &v.vpc_name),
        "is-default" => any_bool(f, v.is_default),
        "cidr-block" => any_of(f, &v.cidr_block),
        // No tags.
        _ => false,
    }
}

fn subnet_matches(s: &Subnet, f: &Filter) -> bool {
    let text = |v: &Option<String>| any_of(f, v.as_deref().unwrap_or(""));
    match f.name.as_str() {
        "subnet-id" => text(&s.subnet_id),
        "vpc-id" => text(&s.vpc_id),
        "subnet-name" => text(&s.subnet_name),
        "zone" => text(&s.zone),
        "cidr-block" => text(&s.cidr_block),
        "cdc-id" => text(&s.cdc_id),
        "is-default" => any_bool(f, s.is_default.unwrap_or(false)),
        "is-remote-vpc-snat" => any_bool(f, s.is_remote_vpc_snat.unwrap_or(false)),
        "is-cdc-subnet" => any_of(f, &s.is_cdc_subnet.unwrap_or(0).to_string()),
        // No tags.
        _ => false,
    }
}

/// Which part of a listing one page is.
struct Window {
    start: usize,
    size: usize,
    /// Token paging: the answer carries the next page's token.
    by_token: bool,
}

impl Window {
    /// `Offset` and `Limit`, strings in VPC's API: decimal, `Limit` 1 to 100.
    fn offset(offset: Option<&str>, limit: Option<&str>) -> Result<Window, ApiError> {
        let start = number("Offset", offset)?.unwrap_or(0);
        let size = number("Limit", limit)?.unwrap_or(DEFAULT_LIMIT);
        Ok(Window {
            start,
            size: page_size("Limit", size)?,
            by_token: false,
        })
    }

    /// `NextToken` (one of ours: where the next page starts) and `MaxResults`.
    fn token(token: Option<&str>, max_results: Option<u64>) -> Result<Window, ApiError> {
        let start = number("NextToken", token.filter(|t| !t.is_empty()))?.unwrap_or(0);
        let size = max_results.map_or(DEFAULT_LIMIT, |n| usize::try_from(n).unwrap_or(usize::MAX));
        Ok(Window {
            start,
            size: page_size("MaxResults", size)?,
            by_token: true,
        })
    }

    /// The total, the page, and (token paging) the next page's token.
    fn apply<T>(&self, items: Vec<T>) -> (u64, Vec<T>, Option<String>) {
        let total = items.len();
        let end = self.start.saturating_add(self.size);
        let next = (self.by_token && end < total).then(|| end.to_string());
        let page = items.into_iter().skip(self.start).take(self.size).collect();
        (u64::try_from(total).unwrap_or(u64::MAX), page, next)
    }
}

fn number(member: &str, value: Option<&str>) -> Result<Option<usize>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let digits = !value.is_empty() && value.len() <= 9 && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<usize>() {
        Ok(n) if digits => Ok(Some(n)),
        _ => Err(ApiError::new(
            "InvalidParameterValue.Malformed",
            format!(
                "{member} `{}` is not a non-negative whole number.",
                shorten(value)
            ),
        )),
    }
}

fn page_size(member: &str, size: usize) -> Result<usize, ApiError> {
    if (1..=MAX_LIMIT).contains(&size) {
        Ok(size)
    } else {
        Err(ApiError::new(
            "InvalidParameterValue.Range",
            format!("{member} is {size}; it must be between 1 and {MAX_LIMIT}."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_and_ids() {
        let w = Window::offset(Some("2"), Some("2")).unwrap();
        assert_eq!(w.apply(vec![1, 2, 3, 4, 5]), (5, vec![3, 4], None));
        let w = Window::token(None, Some(2)).unwrap();
        assert_eq!(w.apply(vec![1, 2, 3]), (3, vec![1, 2], Some("2".to_owned())));
        let w = Window::token(Some("2"), Some(2)).unwrap();
        assert_eq!(w.apply(vec![1, 2, 3]), (3, vec![3], None));
        for (offset, limit, code) in [
            (Some("-1"), None, "InvalidParameterValue.Malformed"),
            (Some("x"), None, "InvalidParameterValue.Malformed"),
            (None, Some("0"), "InvalidParameterValue.Range"),
            (None, Some("101"), "InvalidParameterValue.Range"),
            (
                Some("99999999999999999999"),
                None,
                "InvalidParameterValue.Malformed",
            ),
        ] {
            assert_eq!(
                Window::offset(offset, limit).err().unwrap().code,
                code,
                "{offset:?} {limit:?}"
            );
        }
        assert_eq!(
            check_ids("VpcIds", "vpc-", &["vpc-abcd1234".into(), "vpc-abcd1234".into()]).unwrap(),
            vec!["vpc-abcd1234".to_owned()]
        );
        assert_eq!(
            check_ids("VpcIds", "vpc-", &["subnet-abcd1234".into()])
                .unwrap_err()
                .code,
            "InvalidParameterValue.Malformed"
        );
        assert_eq!(vpc_time("2023-06-01T10:20:30Z"), "2023-06-01 10:20:30");
    }
}
