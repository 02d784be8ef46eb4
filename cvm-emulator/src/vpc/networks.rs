//! VPCs and subnets made by CreateVpc and CreateSubnet, and the rules
//! around them: private blocks only, subnets inside their VPC and apart
//! from one another, nothing deleted while something lives in it, and
//! instances launched only into networks that exist.

use std::fmt;

use vpc_api::types::{
    CreateSubnetRequest, CreateSubnetResponse, CreateVpcRequest, CreateVpcResponse, DeleteSubnetRequest,
    DeleteSubnetResponse, DeleteVpcRequest, DeleteVpcResponse, Subnet, Tag, Vpc,
};

use crate::cvm::catalog::check_zone;
use crate::cvm::common::{check_length, check_tags, not_kept, respond};
use crate::cvm::ids::{default_subnet_id, default_vpc_id, stable_id};
use crate::cvm::resources::{item, SUBNET, VPC};
use crate::cvm::store::{ChangeSet, Store};
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::now_ms;

use super::{check_text, vpc_time, DNS_SERVERS};

/// Longest VPC or subnet name, in characters.
const MAX_NAME: usize = 60;

/// An IPv4 block: `10.1.0.0/16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    base: u32,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` whose host bits are zero.
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = text.split_once('/')?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32 && !prefix.starts_with('+'))?;
        let address: std::net::Ipv4Addr = address.parse().ok()?;
        let base = u32::from(address);
        let cidr = Cidr { base, prefix };
        (base & !cidr.mask() == 0).then_some(cidr)
    }

    fn mask(self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0)
    }

    fn last(self) -> u32 {
        self.base | !self.mask()
    }

    pub(crate) fn contains_block(self, inner: Cidr) -> bool {
        inner.prefix >= self.prefix && inner.base & self.mask() == self.base
    }

    pub(crate) fn overlaps(self, other: Cidr) -> bool {
        self.base <= other.last() && other.base <= self.last()
    }

    /// Addresses instances can have: the service keeps the first two and
    /// the last of every subnet.
    pub(crate) fn usable(self) -> u64 {
        (1u64 << (32 - u32::from(self.prefix))).saturating_sub(3)
    }

    /// The `n`th usable address (from 0).
    pub(crate) fn host(self, n: u64) -> Option<String> {
        (n < self.usable()).then(|| std::net::Ipv4Addr::from(self.base + 2 + n as u32).to_string())
    }

    pub(crate) fn holds(self, address: &str) -> bool {
        address
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| u32::from(a) & self.mask() == self.base)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", std::net::Ipv4Addr::from(self.base), self.prefix)
    }
}

/// The private ranges a VPC may take, with the smallest mask each allows.
const PRIVATE_RANGES: [(&str, u8); 3] = [("10.0.0.0/8", 12), ("172.16.0.0/12", 16), ("192.168.0.0/16", 16)];
/// The smallest VPC and subnet: a /28 and a /29.
const MAX_VPC_PREFIX: u8 = 28;
const MAX_SUBNET_PREFIX: u8 = 29;

fn check_vpc_cidr(text: &str) -> Result<Cidr, ApiError> {
    let cidr = Cidr::parse(text).ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue.Malformed",
            format!(
                "CidrBlock `{}` is not a block of the form 10.0.0.0/16.",
                shorten(text)
            ),
        )
    })?;
    let allowed = PRIVATE_RANGES.iter().any(|(range, min)| {
        Cidr::parse(range).is_some_and(|r| r.contains_block(cidr))
            && (*min..=MAX_VPC_PREFIX).contains(&cidr.prefix)
    });
    if !allowed {
        return Err(ApiError::new(
            "InvalidParameterValue.Range",
            format!(
                "CidrBlock {cidr} is not inside 10.0.0.0/8 (masks /12 to /28), 172.16.0.0/12 or 192.168.0.0/16 (masks /16 to /28)."
            ),
        ));
    }
    Ok(cidr)
}

fn region_of<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    ctx.region.ok_or_else(|| ApiError::missing("Region"))
}

fn tags(tags: Option<&[Tag]>) -> Vec<Tag> {
    tags.unwrap_or_default().to_vec()
}

pub(crate) fn create_vpc(r: &CreateVpcRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    check_text("VpcName", &r.vpc_name, MAX_NAME)?;
    check_length("DomainName", r.domain_name.as_deref().unwrap_or_default(), 60)?;
    let dns = r.dns_servers.as_deref().unwrap_or_default();
    if dns.len() > 4 || dns.iter().any(|d| d.parse::<std::net::Ipv4Addr>().is_err()) {
        return Err(ApiError::invalid_value(
            "DnsServers takes at most 4 IPv4 addresses.",
        ));
    }
    check_tags(
        r.tags
            .iter()
            .flatten()
            .map(|t| (t.key.as_str(), t.value.as_deref().unwrap_or_default())),
    )?;
    let cidr = check_vpc_cidr(r.cidr_block.as_deref().unwrap_or("10.0.0.0/16"))?;
    let mut store = ctx.shared.store();
    if store.resources.in_region(&VPC, region).count() >= VPC.quota {
        return Err(ApiError::new(
            "LimitExceeded",
            format!("{region} holds {} VPCs, the most allowed.", VPC.quota),
        ));
    }
    let id = store.resources.new_id(&VPC);
    let vpc = Vpc::new()
        .set_vpc_name(r.vpc_name.clone())
        .set_vpc_id(id.clone())
        .set_cidr_block(cidr.to_string())
        .set_is_default(false)
        .set_enable_multicast(r.enable_multicast.as_deref() == Some("true"))
        .set_created_time(vpc_time(&crate::time::iso8601(now_ms())))
        .set_dns_server_set(
            r.dns_servers
                .clone()
                .unwrap_or_else(|| DNS_SERVERS.iter().map(|s| (*s).to_owned()).collect()),
        )
        .set_domain_name(r.domain_name.clone().unwrap_or_default())
        .set_dhcp_options_id("")
        .set_enable_dhcp(true)
        .set_ipv6_cidr_block("")
        .set_tag_set(tags(r.tags.as_deref()))
        .set_assistant_cidr_set(Vec::<vpc_api::types::AssistantCidr>::new())
        .set_enable_route_vpc_publish(false)
        .set_ipv6_cidr_block_set(Vec::<vpc_api::types::IspiPv6CidrBlock>::new());
    store.resources.put(VPC.store(region, &id, &vpc)?);
    store
        .commit(ChangeSet {
            put_resources: &[VPC.key(&id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(
        &CreateVpcResponse::new()
            .set_vpc(vpc)
            .set_request_id(ctx.request_id),
    )
}

/// The created VPC `id` of `region`.
fn stored_vpc(store: &Store, region: &str, id: &str) -> Result<Option<Vpc>, ApiError> {
    match store.resources.get(&VPC, id) {
        Some(stored) if stored.region == region => item(stored).map(Some),
        _ => Ok(None),
    }
}

fn vpc_not_found(id: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        format!("No VPC `{}` in this region.", shorten(id)),
    )
}

fn check_id(member: &str, id: &str, kind_prefix: &str) -> Result<(), ApiError> {
    let well_formed = id.strip_prefix(kind_prefix).is_some_and(|rest| {
        rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if well_formed {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidParameterValue.Malformed",
            format!(
                "{member} `{}` is not an id of the form {kind_prefix}xxxxxxxx.",
                shorten(id)
            ),
        ))
    }
}

pub(crate) fn delete_vpc(r: &DeleteVpcRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    check_id("VpcId", &r.vpc_id, "vpc-")?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    if r.vpc_id == default_vpc_id(region) {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "The region's default VPC is not deleted by the emulator.",
        ));
    }
    if stored_vpc(&store, region, &r.vpc_id)?.is_none() {
        return Err(vpc_not_found(&r.vpc_id));
    }
    let subnets = store
        .resources
        .in_region(&SUBNET, region)
        .filter(|s| s.item.get("VpcId").and_then(|v| v.as_str()) == Some(r.vpc_id.as_str()))
        .count();
    let instances = store
        .in_region(region)
        .filter(|s| s.instance.virtual_private_cloud.vpc_id == r.vpc_id)
        .count();
    if subnets > 0 || instances > 0 {
        return Err(ApiError::new(
            "ResourceInUse",
            format!(
                "The VPC {} still holds {subnets} subnet(s) and {instances} instance(s); delete them first.",
                r.vpc_id
            ),
        ));
    }
    store.resources.remove(&VPC, &r.vpc_id);
    store
        .commit(ChangeSet {
            removed_resources: &[VPC.key(&r.vpc_id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(&DeleteVpcResponse::new().set_request_id(ctx.request_id))
}

/// The created subnets of `vpc_id` in `region`.
fn subnets_of(store: &Store, region: &str, vpc_id: &str) -> Result<Vec<Subnet>, ApiError> {
    store
        .resources
        .in_region(&SUBNET, region)
        .filter(|s| s.item.get("VpcId").and_then(|v| v.as_str()) == Some(vpc_id))
        .map(item)
        .collect()
}

pub(crate) fn create_subnet(r: &CreateSubnetRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    check_id("VpcId", &r.vpc_id, "vpc-")?;
    check_text("SubnetName", &r.subnet_name, MAX_NAME)?;
    check_tags(
        r.tags
            .iter()
            .flatten()
            .map(|t| (t.key.as_str(), t.value.as_deref().unwrap_or_default())),
    )?;
    check_zone(region, &r.zone)
        .map_err(|e| ApiError::new("InvalidParameterValue.ZoneConflict", e.message))?;
    let text = r.cidr_block.as_deref().unwrap_or_default();
    let cidr = Cidr::parse(text).ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue.Malformed",
            format!(
                "CidrBlock `{}` is not a block of the form 10.0.1.0/24.",
                shorten(text)
            ),
        )
    })?;
    if r.vpc_id == default_vpc_id(region) {
        // Its default subnets share its whole block, from which instances
        // launched without a network are numbered: a subnet here would
        // hand out the same addresses.
        return Err(ApiError::new(
            "UnsupportedOperation",
            "The region's default VPC takes no new subnets in cvm-emulator; create a VPC (CreateVpc) for them.",
        ));
    }
    let mut store = ctx.shared.store();
    let vpc = stored_vpc(&store, region, &r.vpc_id)?.ok_or_else(|| vpc_not_found(&r.vpc_id))?;
    let vpc_block =
        Cidr::parse(&vpc.cidr_block).ok_or_else(|| ApiError::new("InternalError", "a stored VPC's block"))?;
    if !vpc_block.contains_block(cidr) || cidr.prefix > MAX_SUBNET_PREFIX {
        return Err(ApiError::new(
            "InvalidParameterValue.SubnetRange",
            format!("CidrBlock {cidr} is not a block of /{MAX_SUBNET_PREFIX} or larger inside the VPC's {vpc_block}."),
        ));
    }
    let siblings = subnets_of(&store, region, &r.vpc_id)?;
    if let Some(other) = siblings.iter().find(|s| {
        s.cidr_block
            .as_deref()
            .and_then(Cidr::parse)
            .is_some_and(|c| c.overlaps(cidr))
    }) {
        return Err(ApiError::new(
            "InvalidParameterValue.SubnetConflict",
            format!(
                "CidrBlock {cidr} overlaps the subnet {} ({}).",
                other.subnet_id.as_deref().unwrap_or_default(),
                other.cidr_block.as_deref().unwrap_or_default()
            ),
        ));
    }
    if store.resources.in_region(&SUBNET, region).count() >= SUBNET.quota {
        return Err(ApiError::new(
            "LimitExceeded",
            format!("{region} holds {} subnets, the most allowed.", SUBNET.quota),
        ));
    }
    let id = store.resources.new_id(&SUBNET);
    let subnet = Subnet::new()
        .set_vpc_id(r.vpc_id.clone())
        .set_subnet_id(id.clone())
        .set_subnet_name(r.subnet_name.clone())
        .set_cidr_block(cidr.to_string())
        .set_is_default(false)
        .set_enable_broadcast(false)
        .set_zone(r.zone.clone())
        .set_route_table_id(stable_id("rtb-", &r.vpc_id))
        .set_created_time(vpc_time(&crate::time::iso8601(now_ms())))
        .set_available_ip_address_count(cidr.usable())
        .set_ipv6_cidr_block("")
        .set_network_acl_id("")
        .set_is_remote_vpc_snat(false)
        .set_total_ip_address_count(cidr.usable())
        .set_tag_set(tags(r.tags.as_deref()))
        .set_cdc_id("")
        .set_is_cdc_subnet(0);
    store.resources.put(SUBNET.store(region, &id, &subnet)?);
    store
        .commit(ChangeSet {
            put_resources: &[SUBNET.key(&id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(
        &CreateSubnetResponse::new()
            .set_subnet(subnet)
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn delete_subnet(r: &DeleteSubnetRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    check_id("SubnetId", &r.subnet_id, "subnet-")?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    if store
        .resources
        .get(&SUBNET, &r.subnet_id)
        .is_none_or(|s| s.region != region)
    {
        return Err(ApiError::new(
            "ResourceNotFound",
            format!("No subnet `{}` in this region.", r.subnet_id),
        ));
    }
    let instances: Vec<&str> = store
        .in_region(region)
        .filter(|s| s.instance.virtual_private_cloud.subnet_id == r.subnet_id)
        .map(|s| s.instance.instance_id.as_str())
        .collect();
    if !instances.is_empty() {
        return Err(ApiError::new(
            "ResourceInUse",
            format!(
                "The subnet {} still holds {} instance(s), {}; terminate them first.",
                r.subnet_id,
                instances.len(),
                crate::cvm::common::quoted_list(&instances)
            ),
        ));
    }
    store.resources.remove(&SUBNET, &r.subnet_id);
    store
        .commit(ChangeSet {
            removed_resources: &[SUBNET.key(&r.subnet_id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(&DeleteSubnetResponse::new().set_request_id(ctx.request_id))
}

/// Where RunInstances puts an instance: the VPC and subnet it names, which
/// must exist in the region (the region's default VPC, with its zones'
/// default subnets, always does) and hold the zone. The created subnet's
/// block, when it is one, to number the instance's address from.
pub(crate) fn check_launch_network(
    store: &Store,
    region: &str,
    zone: &str,
    vpc_id: &str,
    subnet_id: &str,
) -> Result<Option<Cidr>, ApiError> {
    let form = |id: &str, prefix: &str, code: &str| {
        let ok = id.strip_prefix(prefix).is_some_and(|rest| {
            rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if ok {
            Ok(())
        } else {
            Err(ApiError::new(
                code,
                format!("`{}` is not an id of the form {prefix}xxxxxxxx.", shorten(id)),
            ))
        }
    };
    form(vpc_id, "vpc-", "InvalidParameterValue.VpcIdMalformed")?;
    form(subnet_id, "subnet-", "InvalidParameterValue.SubnetIdMalformed")?;
    let default_vpc = default_vpc_id(region);
    if vpc_id != default_vpc && stored_vpc(store, region, vpc_id)?.is_none() {
        return Err(ApiError::new(
            "InvalidParameterValue.VpcIdNotExist",
            format!("No VPC {vpc_id} in {region}."),
        ));
    }
    // A zone's default subnet, in the default VPC.
    if vpc_id == default_vpc && subnet_id == default_subnet_id(zone) {
        return Ok(None);
    }
    let Some(stored) = store
        .resources
        .get(&SUBNET, subnet_id)
        .filter(|s| s.region == region)
    else {
        return Err(ApiError::new(
            "InvalidParameterValue.SubnetNotExist",
            format!("No subnet {subnet_id} in {region}."),
        ));
    };
    let subnet: Subnet = item(stored)?;
    if subnet.vpc_id.as_deref() != Some(vpc_id) {
        return Err(ApiError::new(
            "InvalidParameterValue.VpcIdSubnetIdNotMatch",
            format!("The subnet {subnet_id} is not in the VPC {vpc_id}."),
        ));
    }
    if subnet.zone.as_deref() != Some(zone) {
        return Err(ApiError::new(
            "InvalidParameterValue.SubnetIdZoneIdNotMatch",
            format!(
                "The subnet {subnet_id} is in {}, not in {zone}.",
                subnet.zone.as_deref().unwrap_or_default()
            ),
        ));
    }
    Ok(subnet.cidr_block.as_deref().and_then(Cidr::parse))
}

/// `count` usable addresses of `block` no instance of the region holds,
/// lowest first; `FailedOperation.NoAvailableIpAddressCountInSubnet` when
/// fewer are left (checked before any instance is made).
pub(crate) fn free_addresses(
    store: &Store,
    region: &str,
    block: Cidr,
    count: usize,
) -> Result<Vec<String>, ApiError> {
    let used: std::collections::HashSet<&str> = store
        .in_region(region)
        .flat_map(|s| s.instance.private_ip_addresses.iter().map(String::as_str))
        .filter(|a| block.holds(a))
        .collect();
    let free: Vec<String> = (0..block.usable())
        .filter_map(|n| block.host(n))
        .filter(|a| !used.contains(a.as_str()))
        .take(count)
        .collect();
    if free.len() < count {
        return Err(ApiError::new(
            "FailedOperation.NoAvailableIpAddressCountInSubnet",
            format!(
                "The subnet's block {block} has {} address(es) left, fewer than {count}.",
                free.len()
            ),
        ));
    }
    Ok(free)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_parse_contain_and_overlap() {
        let vpc = Cidr::parse("10.1.0.0/16").unwrap();
        let a = Cidr::parse("10.1.1.0/24").unwrap();
        let b = Cidr::parse("10.1.1.128/25").unwrap();
        let c = Cidr::parse("10.1.2.0/24").unwrap();
        assert!(vpc.contains_block(a) && vpc.contains_block(b));
        assert!(!a.contains_block(vpc));
        assert!(a.overlaps(b) && b.overlaps(a));
        assert!(!a.overlaps(c));
        assert!(!vpc.contains_block(Cidr::parse("10.2.0.0/24").unwrap()));
        for bad in [
            "10.1.0.1/16",
            "10.1.0.0",
            "10.1.0.0/33",
            "10.1.0.0/+8",
            "300.1.0.0/16",
            "a/b",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
        assert_eq!(a.usable(), 253);
        assert_eq!(a.host(0).as_deref(), Some("10.1.1.2"));
        assert_eq!(a.host(252).as_deref(), Some("10.1.1.254"));
        assert_eq!(a.host(253), None);
        assert!(a.holds("10.1.1.77") && !a.holds("10.1.2.1"));
    }

    #[test]
    fn vpc_blocks_must_be_private_and_sized() {
        assert!(check_vpc_cidr("10.0.0.0/16").is_ok());
        assert!(check_vpc_cidr("172.16.0.0/16").is_ok());
        assert!(check_vpc_cidr("192.168.0.0/28").is_ok());
        for bad in ["8.8.0.0/16", "10.0.0.0/8", "192.168.0.0/29", "172.32.0.0/16"] {
            assert_eq!(
                check_vpc_cidr(bad).unwrap_err().code,
                "InvalidParameterValue.Range",
                "{bad}"
            );
        }
        assert_eq!(
            check_vpc_cidr("10.0.0.1/16").unwrap_err().code,
            "InvalidParameterValue.Malformed"
        );
    }
}
