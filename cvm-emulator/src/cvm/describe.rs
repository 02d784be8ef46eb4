//! DescribeInstances and DescribeInstancesStatus: filters, ids and pages
//! over the region's instances in creation order.

use cvm_api::types::{
    DescribeInstancesRequest, DescribeInstancesResponse, DescribeInstancesStatusRequest,
    DescribeInstancesStatusResponse, Filter, Instance, InstanceStatus,
};

use super::common::{check_filters, check_ids, paging, region, respond};
use super::state_file::StoredInstance;
use crate::cbs::disks::data_disks_by_instance;
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::now_ms;
use crate::vpc::addresses::addresses_by_instance;

const FILTER_NAMES: &[&str] = &[
    "zone",
    "project-id",
    "host-id",
    "dedicated-cluster-id",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "uuid",
    "security-group-id",
    "instance-name",
    "instance-charge-type",
    "instance-state",
    "private-ip-address",
    "public-ip-address",
    "ipv6-address",
    "tag-key",
    "tag-value",
    "tag:KEY",
    "creation-start-time",
    "creation-end-time",
];

/// Filters checked and with creation times turned into `CreatedTime` form.
struct Prepared<'a> {
    name: &'a str,
    values: Vec<String>,
}

fn prepare_filters(filters: &[Filter]) -> Result<Vec<Prepared<'_>>, ApiError> {
    check_filters(filters, FILTER_NAMES)?;
    let mut out = Vec::with_capacity(filters.len());
    for f in filters {
        let name = f.name.as_str();
        let mut values = f.values.clone();
        if name == "creation-start-time" || name == "creation-end-time" {
            values = values
                .iter()
                .map(|v| creation_time(v))
                .collect::<Result<_, _>>()?;
        }
        if name == "instance-id" {
            check_ids(&f.values, false)?;
        }
        out.push(Prepared { name, values });
    }
    Ok(out)
}

/// `2023-06-01 00:00:00` → `2023-06-01T00:00:00Z`.
fn creation_time(value: &str) -> Result<String, ApiError> {
    let b = value.as_bytes();
    let shaped = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ' || *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        return Err(ApiError::new(
            "InvalidParameterValue.InvalidTimeFormat",
            format!(
                "`{}` is not a time of the form `2023-06-01 00:00:00`.",
                shorten(value)
            ),
        ));
    }
    Ok(format!("{}T{}Z", &value[..10], &value[11..]))
}

/// Whether `instance` passes every filter; `elastic` are the elastic IPs
/// bound to it, public addresses as much as its own.
fn matches(instance: &Instance, elastic: &[String], filters: &[Prepared<'_>]) -> bool {
    filters.iter().all(|f| {
        let any = |candidate: &str| f.values.iter().any(|v| v == candidate);
        let any_of = |list: &[String]| list.iter().any(|c| any(c));
        match f.name {
            "zone" => any(&instance.placement.zone),
            "project-id" => any(&instance.placement.project_id.unwrap_or(0).to_string()),
            "host-id" => instance.placement.host_id.as_deref().is_some_and(any),
            "dedicated-cluster-id" => any(&instance.dedicated_cluster_id),
            "vpc-id" => any(&instance.virtual_private_cloud.vpc_id),
            "subnet-id" => any(&instance.virtual_private_cloud.subnet_id),
            "instance-id" => any(&instance.instance_id),
            "uuid" => any(&instance.uuid),
            "security-group-id" => any_of(&instance.security_group_ids),
            // The service matches names by substring.
            "instance-name" => f
                .values
                .iter()
                .any(|v| instance.instance_name.contains(v.as_str())),
            "instance-charge-type" => any(instance.instance_charge_type.as_str()),
            "instance-state" => any(instance.instance_state.as_str()),
            "private-ip-address" => any_of(&instance.private_ip_addresses),
            "public-ip-address" => {
                instance.public_ip_addresses.as_deref().is_some_and(any_of) || any_of(elastic)
            }
            "ipv6-address" => instance.i_pv6_addresses.as_deref().is_some_and(any_of),
            "tag-key" => instance.tags.iter().any(|t| any(&t.key)),
            "tag-value" => instance.tags.iter().any(|t| any(&t.value)),
            "creation-start-time" => f
                .values
                .iter()
                .any(|v| instance.created_time.as_str() >= v.as_str()),
            "creation-end-time" => f
                .values
                .iter()
                .any(|v| instance.created_time.as_str() <= v.as_str()),
            name => match name.strip_prefix("tag:") {
                Some(key) => instance.tags.iter().any(|t| t.key == key && any(&t.value)),
                None => false,
            },
        }
    })
}

pub(crate) fn describe_instances(r: &DescribeInstancesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    let ids = r.instance_ids.as_deref().unwrap_or_default();
    let filters = r.filters.as_deref().unwrap_or_default();
    if !ids.is_empty() && !filters.is_empty() {
        return Err(ApiError::new(
            "InvalidParameter",
            "InstanceIds and Filters cannot be specified together.",
        ));
    }
    let ids = check_ids(ids, false)?;
    let filters = prepare_filters(filters)?;
    let (offset, limit) = paging(r.offset, r.limit)?;
    check_rules(r)?;

    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut disks = data_disks_by_instance(&store, region)?;
    let mut addresses = addresses_by_instance(&store, region)?;
    let (total, page) = if ids.is_empty() {
        let mut total = 0;
        let mut page = Vec::new();
        let elastic = |id: &str| addresses.get(id).map_or(&[][..], Vec::as_slice);
        for stored in store
            .in_region(region)
            .filter(|s| matches(&s.instance, elastic(&s.instance.instance_id), &filters))
        {
            if total >= offset && page.len() < limit {
                page.push(stored.instance.clone());
            }
            total += 1;
        }
        (total, page)
    } else {
        let found: Vec<&StoredInstance> = ids
            .iter()
            .filter_map(|id| store.get(id))
            .filter(|s| s.region == region)
            .collect();
        let page = found
            .iter()
            .skip(offset)
            .take(limit)
            .map(|s| s.instance.clone())
            .collect();
        (found.len(), page)
    };
    drop(store);
    // Attached CBS disks, after any a state file's instance lists itself.
    let page: Vec<Instance> = page
        .into_iter()
        .map(|mut instance| {
            instance
                .data_disks
                .extend(disks.remove(&instance.instance_id).unwrap_or_default());
            if let Some(elastic) = addresses.remove(&instance.instance_id) {
                instance
                    .public_ip_addresses
                    .get_or_insert_with(Vec::new)
                    .extend(elastic);
            }
            instance
        })
        .collect();
    respond(
        &DescribeInstancesResponse::new()
            .set_total_count(i64::try_from(total).unwrap_or(i64::MAX))
            .set_instance_set(page)
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn describe_instances_status(
    r: &DescribeInstancesStatusRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region(ctx)?;
    let ids = check_ids(r.instance_ids.as_deref().unwrap_or_default(), false)?;
    let (offset, limit) = paging(r.offset, r.limit)?;
    check_rules(r)?;

    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let status = |s: &StoredInstance| {
        InstanceStatus::new()
            .set_instance_id(s.instance.instance_id.clone())
            .set_instance_state(s.instance.instance_state.clone())
    };
    let (total, page) = if ids.is_empty() {
        let all: Vec<&StoredInstance> = store.in_region(region).collect();
        (
            all.len(),
            all.iter()
                .skip(offset)
                .take(limit)
                .map(|s| status(s))
                .collect::<Vec<_>>(),
        )
    } else {
        let found: Vec<&StoredInstance> = ids
            .iter()
            .filter_map(|id| store.get(id))
            .filter(|s| s.region == region)
            .collect();
        (
            found.len(),
            found.iter().skip(offset).take(limit).map(|s| status(s)).collect(),
        )
    };
    drop(store);
    respond(
        &DescribeInstancesStatusResponse::new()
            .set_total_count(i64::try_from(total).unwrap_or(i64::MAX))
            .set_instance_status_set(page)
            .set_request_id(ctx.request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_times() {
        assert_eq!(
            creation_time("2023-06-01 00:00:00").unwrap(),
            "2023-06-01T00:00:00Z"
        );
        assert!(creation_time("2023-06-01").is_err());
    }
}
