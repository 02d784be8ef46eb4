//! Elastic IPs: AllocateAddresses, DescribeAddresses, AssociateAddress,
//! DisassociateAddress and ReleaseAddresses. An address records the
//! instance it is bound to; DescribeInstances shows it among the
//! instance's public addresses. An address whose instance is gone reads
//! as unbound ([`effective`]), so termination needs no background work.
//! Addresses come from 198.19.0.0/16 (benchmarking space, as instances'
//! own public addresses come from 198.18.0.0/16).

use std::collections::HashMap;

use vpc_api::types::{
    Address, AlgType, AllocateAddressesRequest, AllocateAddressesResponse, AssociateAddressRequest,
    AssociateAddressResponse, DescribeAddressesRequest, DescribeAddressesResponse,
    DisassociateAddressRequest, DisassociateAddressResponse, ReleaseAddressesRequest,
    ReleaseAddressesResponse,
};

use crate::cvm::common::{check_length, check_tags, not_kept, quoted_list, respond};
use crate::cvm::ids::is_instance_id;
use crate::cvm::resources::{item, ADDRESS};
use crate::cvm::state_file::{ResourceKey, StoredResource};
use crate::cvm::store::{ChangeSet, Store};
use crate::cvm::tokens::{check_token, earlier, remember};
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::{iso8601, now_ms};

use super::{any_of, check_filters, check_ids, coexist};

/// Most addresses one request allocates.
const MAX_COUNT: i64 = 10;
const FILTERS: &[&str] = &[
    "address-id",
    "address-name",
    "address-ip",
    "address-status",
    "instance-id",
];

/// `address` as it stands: bound to an instance that is gone, it is unbound.
fn effective(store: &Store, stored: &StoredResource) -> Result<Address, ApiError> {
    let mut address: Address = item(stored)?;
    if !address.instance_id.is_empty() && store.get(&address.instance_id).is_none() {
        unbind(&mut address);
    }
    Ok(address)
}

fn unbind(address: &mut Address) {
    address.instance_id = String::new();
    address.private_address_ip = String::new();
    address.address_status = "UNBIND".to_owned();
    address.instance_type = Some(String::new());
}

fn region_of<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    ctx.region.ok_or_else(|| ApiError::missing("Region"))
}

/// The region's addresses as they stand, oldest first.
fn addresses_in(store: &Store, region: &str) -> Result<Vec<Address>, ApiError> {
    store
        .resources
        .in_region(&ADDRESS, region)
        .map(|stored| effective(store, stored))
        .collect()
}

/// The bound addresses of the region, by instance, for DescribeInstances.
pub(crate) fn addresses_by_instance(
    store: &Store,
    region: &str,
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for address in addresses_in(store, region)? {
        if !address.instance_id.is_empty() {
            out.entry(address.instance_id)
                .or_default()
                .push(address.address_ip);
        }
    }
    Ok(out)
}

/// The first of 198.19.0.1 onwards no address of any region holds.
fn next_ip(store: &Store) -> String {
    let taken: std::collections::HashSet<&str> = store
        .resources
        .all()
        .filter(|r| r.kind == ADDRESS.name)
        .filter_map(|r| r.item.get("AddressIp").and_then(|v| v.as_str()))
        .collect();
    (0u32..65_024)
        .map(|n| format!("198.19.{}.{}", n / 254, n % 254 + 1))
        .find(|ip| !taken.contains(ip.as_str()))
        .unwrap_or_else(|| "198.19.255.254".to_owned())
}

fn keep(store: &mut Store, region: &str, addresses: &[Address], removed: &[String]) -> Result<(), ApiError> {
    keep_with(store, region, addresses, removed, &[], &[])
}

/// [`keep`], journaling other resources put and dropped in the same record.
fn keep_with(
    store: &mut Store,
    region: &str,
    addresses: &[Address],
    removed: &[String],
    also_put: &[ResourceKey],
    also_removed: &[ResourceKey],
) -> Result<(), ApiError> {
    let mut put = also_put.to_vec();
    for address in addresses {
        store
            .resources
            .put(ADDRESS.store(region, &address.address_id, address)?);
        put.push(ADDRESS.key(&address.address_id));
    }
    for id in removed {
        store.resources.remove(&ADDRESS, id);
    }
    let mut removed: Vec<ResourceKey> = removed.iter().map(|id| ADDRESS.key(id)).collect();
    removed.extend_from_slice(also_removed);
    store
        .commit(ChangeSet {
            put_resources: &put,
            removed_resources: &removed,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))
}

pub(crate) fn allocate_addresses(r: &AllocateAddressesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let count = r.address_count.unwrap_or(1);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(ApiError::invalid_value(format!(
            "AddressCount is {count}; it must be between 1 and {MAX_COUNT}."
        )));
    }
    check_length("AddressName", r.address_name.as_deref().unwrap_or_default(), 128)?;
    check_tags(
        r.tags
            .iter()
            .flatten()
            .map(|t| (t.key.as_str(), t.value.as_deref().unwrap_or_default())),
    )?;
    if r.address_type.as_deref().is_some_and(|t| t != "EIP") {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "Only AddressType EIP is emulated by cvm-emulator.",
        ));
    }
    let token = r.client_token.as_deref().filter(|t| !t.is_empty());
    if let Some(token) = token {
        check_token(token)?;
    }
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    if let Some(ids) = token
        .map(|t| earlier(&store, region, "AllocateAddresses", t))
        .transpose()?
        .flatten()
    {
        // A retry: what the first call allocated.
        return respond(
            &AllocateAddressesResponse::new()
                .set_address_set(ids)
                .set_task_id("")
                .set_request_id(ctx.request_id),
        );
    }
    let held = addresses_in(&store, region)?.len();
    ADDRESS.check_room(
        region,
        held,
        count as usize,
        "AddressQuotaLimitExceeded",
        "addresses",
    )?;
    let mut made = Vec::new();
    for _ in 0..count {
        let id = store.resources.new_id(&ADDRESS);
        let address = Address::new()
            .set_address_id(id.clone())
            .set_address_name(r.address_name.clone().unwrap_or_default())
            .set_address_status("UNBIND")
            .set_address_ip(next_ip(&store))
            .set_instance_id("")
            .set_created_time(iso8601(now_ms()))
            .set_network_interface_id("")
            .set_private_address_ip("")
            .set_is_arrears(false)
            .set_is_blocked(false)
            .set_is_eip_direct_connection(false)
            .set_address_type("EIP")
            .set_cascade_release(false)
            .set_eip_alg_type(AlgType::new().set_ftp(false).set_sip(false))
            .set_internet_service_provider(
                r.internet_service_provider
                    .clone()
                    .unwrap_or_else(|| "BGP".to_owned()),
            )
            .set_local_bgp(false)
            .set_bandwidth(u64::try_from(r.internet_max_bandwidth_out.unwrap_or(1)).unwrap_or(1))
            .set_internet_charge_type(
                r.internet_charge_type
                    .clone()
                    .unwrap_or_else(|| "TRAFFIC_POSTPAID_BY_HOUR".to_owned()),
            )
            .set_tag_set(r.tags.clone().unwrap_or_default())
            .set_deadline_date("")
            .set_instance_type("")
            .set_egress(r.egress.clone().unwrap_or_else(|| "center_egress1".to_owned()));
        // Kept at once: the next address's id and IP are drawn past it.
        store.resources.put(ADDRESS.store(region, &id, &address)?);
        made.push(address);
    }
    let ids: Vec<String> = made.iter().map(|a| a.address_id.clone()).collect();
    let (put, dropped) = match token {
        Some(token) => remember(&mut store, region, "AllocateAddresses", token, &ids)?,
        None => (Vec::new(), Vec::new()),
    };
    keep_with(&mut store, region, &made, &[], &put, &dropped)?;
    drop(store);
    respond(
        &AllocateAddressesResponse::new()
            .set_address_set(ids)
            .set_task_id("")
            .set_request_id(ctx.request_id),
    )
}

fn address_matches(a: &Address, f: &vpc_api::types::Filter) -> bool {
    match f.name.as_str() {
        "address-id" => any_of(f, &a.address_id),
        "address-name" => any_of(f, &a.address_name),
        "address-ip" => any_of(f, &a.address_ip),
        "address-status" => any_of(f, &a.address_status),
        "instance-id" => any_of(f, &a.instance_id),
        _ => false,
    }
}

pub(crate) fn describe_addresses(r: &DescribeAddressesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let ids = check_ids("AddressIds", "eip-", r.address_ids.as_deref().unwrap_or_default())?;
    let filters = check_filters(r.filters.as_deref().unwrap_or_default(), FILTERS)?;
    if !ids.is_empty() && !filters.is_empty() {
        return Err(coexist("AddressIds"));
    }
    let (offset, limit) = crate::cvm::common::paging(r.offset, r.limit)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let chosen: Vec<Address> = addresses_in(&store, region)?
        .into_iter()
        .filter(|a| ids.is_empty() || ids.contains(&a.address_id))
        .filter(|a| filters.iter().all(|f| address_matches(a, f)))
        .collect();
    drop(store);
    let total = chosen.len() as i64;
    let page: Vec<Address> = chosen.into_iter().skip(offset).take(limit).collect();
    respond(
        &DescribeAddressesResponse::new()
            .set_total_count(total)
            .set_address_set(page)
            .set_request_id(ctx.request_id),
    )
}

/// The address `id` of `region` as it stands.
fn found(store: &Store, region: &str, id: &str) -> Result<Address, ApiError> {
    if !ADDRESS.is_id(id) {
        return Err(ApiError::new(
            "InvalidParameterValue.AddressIdMalformed",
            format!("`{}` is not an address id of the form eip-xxxxxxxx.", shorten(id)),
        ));
    }
    match store.resources.get(&ADDRESS, id).filter(|a| a.region == region) {
        Some(stored) => effective(store, stored),
        None => Err(ApiError::new(
            "InvalidAddressId.NotFound",
            format!("No address {id} in {region}."),
        )),
    }
}

pub(crate) fn associate_address(r: &AssociateAddressRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let Some(instance_id) = r.instance_id.as_deref() else {
        return Err(if r.network_interface_id.is_some() {
            ApiError::new(
                "UnsupportedOperation",
                "Binding to a network interface is not emulated by cvm-emulator; give InstanceId.",
            )
        } else {
            ApiError::missing("InstanceId")
        });
    };
    if !is_instance_id(instance_id) {
        return Err(ApiError::new(
            "InvalidParameterValue.InstanceIdMalformed",
            format!(
                "`{}` is not an instance id of the form ins-xxxxxxxx.",
                shorten(instance_id)
            ),
        ));
    }
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut address = found(&store, region, &r.address_id)?;
    if !address.instance_id.is_empty() {
        return Err(ApiError::new(
            "InvalidAddressIdStatus.NotPermit",
            format!(
                "The address {} is bound to {}.",
                address.address_id, address.instance_id
            ),
        ));
    }
    let Some(instance) = store.get(instance_id).filter(|s| s.region == region) else {
        return Err(ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("No instance {instance_id} in {region}."),
        ));
    };
    let state = instance.instance.instance_state.as_str();
    if state != "RUNNING" && state != "STOPPED" {
        return Err(ApiError::new(
            "InvalidInstanceState",
            format!("The instance {instance_id} is {state}; addresses bind to RUNNING or STOPPED instances."),
        ));
    }
    let private_ip = instance
        .instance
        .private_ip_addresses
        .first()
        .cloned()
        .unwrap_or_default();
    if addresses_in(&store, region)?
        .iter()
        .any(|a| a.instance_id == instance_id)
    {
        return Err(ApiError::new(
            "InvalidInstanceId.AlreadyBindEip",
            format!("The instance {instance_id} already has an elastic IP."),
        ));
    }
    address.instance_id = instance_id.to_owned();
    address.private_address_ip = private_ip;
    address.address_status = "BIND".to_owned();
    address.instance_type = Some("CVM".to_owned());
    keep(&mut store, region, &[address], &[])?;
    drop(store);
    respond(
        &AssociateAddressResponse::new()
            .set_task_id("")
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn disassociate_address(
    r: &DisassociateAddressRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut address = found(&store, region, &r.address_id)?;
    if address.instance_id.is_empty() {
        return Err(ApiError::new(
            "InvalidAddressIdStatus.NotPermit",
            format!("The address {} is not bound.", address.address_id),
        ));
    }
    unbind(&mut address);
    keep(&mut store, region, &[address], &[])?;
    drop(store);
    respond(
        &DisassociateAddressResponse::new()
            .set_task_id("")
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn release_addresses(r: &ReleaseAddressesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    if r.address_ids.is_empty() {
        return Err(ApiError::missing("AddressIds"));
    }
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut bound = Vec::new();
    for id in &r.address_ids {
        let address = found(&store, region, id)?;
        if !address.instance_id.is_empty() {
            bound.push(id.as_str());
        }
    }
    if !bound.is_empty() {
        return Err(ApiError::new(
            "ResourceInUse.Address",
            format!(
                "The address(es) {} are bound; disassociate them first.",
                quoted_list(&bound)
            ),
        ));
    }
    keep(&mut store, region, &[], &r.address_ids)?;
    drop(store);
    respond(
        &ReleaseAddressesResponse::new()
            .set_task_id("")
            .set_request_id(ctx.request_id),
    )
}
