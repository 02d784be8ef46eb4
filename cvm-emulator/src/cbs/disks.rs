//! Cloud disks: made by CreateDisks or by RunInstances' `DataDisks`,
//! attached to one instance of their zone at a time, terminated only when
//! detached.
//!
//! A disk records the instance it is attached to. An instance that is
//! gone (terminated, possibly while the emulator was down: transitions
//! settle lazily) lets go of its disks by the same rule wherever a disk is
//! read ([`effective`]): a disk made to go with it is gone, any other is
//! detached. So no background work, and nothing a restart could miss.

use std::collections::HashMap;

use cbs_api::types::{
    AttachDisksRequest, AttachDisksResponse, CreateDisksRequest, CreateDisksResponse, DescribeDisksRequest,
    DescribeDisksResponse, DetachDisksRequest, DetachDisksResponse, Disk, Filter, Placement, Tag,
    TerminateDisksRequest, TerminateDisksResponse,
};
use cvm_api::types::DataDisk;

use crate::cvm::catalog::check_zone;
use crate::cvm::common::{
    check_filters, check_length, check_tags, not_kept, paging, passes, quoted_list, respond,
};
use crate::cvm::ids::is_instance_id;
use crate::cvm::resources::{item, DISK};
use crate::cvm::state_file::{ResourceKey, StoredResource};
use crate::cvm::store::{ChangeSet, Store};
use crate::cvm::tokens::{check_token, earlier, remember};
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::{iso8601, now_ms};

/// Disk types and the sizes each takes, in GB.
const DISK_TYPES: &[(&str, u64, u64)] = &[
    ("CLOUD_BASIC", 10, 32_000),
    ("CLOUD_PREMIUM", 10, 32_000),
    ("CLOUD_BSSD", 20, 32_000),
    ("CLOUD_SSD", 20, 32_000),
    ("CLOUD_HSSD", 20, 32_000),
    ("CLOUD_TSSD", 10, 32_000),
];
const CHARGE_TYPES: &[&str] = &["POSTPAID_BY_HOUR", "PREPAID", "CDCPAID", "DEDICATED_CLUSTER_PAID"];
/// Most disks one CreateDisks makes, and most data disks per instance.
const MAX_COUNT: u64 = 50;
const MAX_PER_INSTANCE: usize = 20;
/// Most disk ids in one request.
const MAX_IDS: usize = 100;
const FILTERS: &[&str] = &[
    "disk-usage",
    "disk-charge-type",
    "project-id",
    "disk-id",
    "disk-name",
    "disk-type",
    "disk-state",
    "instance-id",
    "zone",
    "tag-key",
    "tag-value",
    "tag:KEY",
];

/// `disk` as it stands: attached to an instance that is gone, it is gone
/// too (`None`) when made to go with it, else detached.
pub(crate) fn effective(store: &Store, stored: &StoredResource) -> Result<Option<Disk>, ApiError> {
    let mut disk: Disk = item(stored)?;
    if disk.attached && store.get(&disk.instance_id).is_none() {
        if disk.delete_with_instance {
            return Ok(None);
        }
        detach(&mut disk);
    }
    Ok(Some(disk))
}

fn detach(disk: &mut Disk) {
    disk.attached = false;
    // It went with its instance only while attached to it.
    disk.delete_with_instance = false;
    disk.instance_id = String::new();
    disk.instance_id_list = Vec::new();
    disk.disk_state = "UNATTACHED".to_owned();
}

/// The region's disks as they stand, oldest first.
fn disks_in(store: &Store, region: &str) -> Result<Vec<Disk>, ApiError> {
    let mut out = Vec::new();
    for stored in store.resources.in_region(&DISK, region) {
        if let Some(disk) = effective(store, stored)? {
            out.push(disk);
        }
    }
    Ok(out)
}

/// A new disk of `zone`.
#[allow(clippy::too_many_arguments)]
fn new_disk(
    id: &str,
    zone: &str,
    disk_type: &str,
    size: u64,
    charge_type: &str,
    name: &str,
    tags: Vec<Tag>,
    usage: &str,
) -> Disk {
    Disk::new()
        .set_disk_id(id)
        .set_disk_name(name)
        .set_disk_type(disk_type)
        .set_disk_size(size)
        .set_disk_usage(usage)
        .set_disk_charge_type(charge_type)
        .set_disk_state("UNATTACHED")
        .set_placement(
            Placement::new()
                .set_zone(zone)
                .set_project_id(0)
                .set_project_name("Default Project")
                .set_cage_id("")
                .set_cdc_id("")
                .set_cdc_name("")
                .set_dedicated_cluster_id(""),
        )
        .set_delete_with_instance(false)
        .set_renew_flag("NOTIFY_AND_MANUAL_RENEW")
        .set_snapshot_count(0)
        .set_auto_renew_flag_error(false)
        .set_rollbacking(false)
        .set_instance_id_list(Vec::<String>::new())
        .set_encrypt(false)
        .set_backup_disk(false)
        .set_tags(tags)
        .set_instance_id("")
        .set_attach_mode("PF")
        .set_auto_snapshot_policy_ids(Vec::<String>::new())
        .set_throughput_performance(0)
        .set_migrating(false)
        .set_snapshot_size(0)
        .set_deadline_time("")
        .set_attached(false)
        .set_migrate_percent(0)
        .set_portable(true)
        .set_snapshot_ability(true)
        .set_deadline_error(false)
        .set_rollback_percent(0)
        .set_differ_days_of_deadline(0)
        .set_return_fail_code(0)
        .set_shareable(false)
        .set_create_time(
            iso8601(now_ms())
                .replacen('T', " ", 1)
                .trim_end_matches('Z')
                .to_owned(),
        )
        .set_delete_snapshot(0)
        .set_disk_backup_quota(0)
        .set_disk_backup_count(0)
        .set_instance_type("CVM")
        .set_last_attach_ins_id("")
        .set_error_prompt("")
        .set_burst_performance(false)
}

fn attach(disk: &mut Disk, instance_id: &str, delete_with_instance: bool) {
    disk.attached = true;
    disk.instance_id = instance_id.to_owned();
    disk.instance_id_list = vec![instance_id.to_owned()];
    disk.last_attach_ins_id = Some(instance_id.to_owned());
    disk.disk_state = "ATTACHED".to_owned();
    disk.delete_with_instance = delete_with_instance;
}

/// Checks a disk type and size (`size` of 0: the type's smallest).
fn check_disk(disk_type: &str, size: u64) -> Result<u64, ApiError> {
    let Some((_, min, max)) = DISK_TYPES.iter().find(|(t, _, _)| *t == disk_type) else {
        let names: Vec<&str> = DISK_TYPES.iter().map(|(t, _, _)| *t).collect();
        return Err(ApiError::invalid_value(format!(
            "DiskType `{}` is not one of {}.",
            shorten(disk_type),
            names.join(", ")
        )));
    };
    let size = if size == 0 { *min } else { size };
    if !(*min..=*max).contains(&size) || size % 10 != 0 {
        return Err(ApiError::new(
            "InvalidParameter.DiskSizeNotMatch",
            format!("DiskSize {size} GB does not suit {disk_type}: {min} to {max} GB, in steps of 10."),
        ));
    }
    Ok(size)
}

/// Stores `disks` (new or changed) and journals them with `removed`.
fn keep(store: &mut Store, region: &str, disks: &[Disk], removed: &[String]) -> Result<(), ApiError> {
    keep_with(store, region, disks, removed, &[], &[])
}

/// [`keep`], journaling other resources put and dropped in the same record.
fn keep_with(
    store: &mut Store,
    region: &str,
    disks: &[Disk],
    removed: &[String],
    also_put: &[ResourceKey],
    also_removed: &[ResourceKey],
) -> Result<(), ApiError> {
    let mut put = also_put.to_vec();
    for disk in disks {
        store.resources.put(DISK.store(region, &disk.disk_id, disk)?);
        put.push(DISK.key(&disk.disk_id));
    }
    for id in removed {
        store.resources.remove(&DISK, id);
    }
    let mut removed: Vec<ResourceKey> = removed.iter().map(|id| DISK.key(id)).collect();
    removed.extend_from_slice(also_removed);
    store
        .commit(ChangeSet {
            put_resources: &put,
            removed_resources: &removed,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))
}

fn region_of<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    ctx.region.ok_or_else(|| ApiError::missing("Region"))
}

pub(crate) fn create_disks(r: &CreateDisksRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let zone = match &r.placement {
        Some(p) if !p.zone.is_empty() => p.zone.as_str(),
        _ => return Err(ApiError::missing("Placement.Zone")),
    };
    check_zone(region, zone)?;
    if !CHARGE_TYPES.contains(&r.disk_charge_type.as_str()) {
        return Err(ApiError::invalid_value(format!(
            "DiskChargeType `{}` is not one of {}.",
            shorten(&r.disk_charge_type),
            CHARGE_TYPES.join(", ")
        )));
    }
    if r.snapshot_id.is_some() {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "Disks from snapshots are not emulated by cvm-emulator.",
        ));
    }
    check_length("DiskName", r.disk_name.as_deref().unwrap_or_default(), 60)?;
    check_tags(
        r.tags
            .iter()
            .flatten()
            .map(|t| (t.key.as_str(), t.value.as_str())),
    )?;
    let size = check_disk(&r.disk_type, r.disk_size.unwrap_or(0))?;
    let count = r.disk_count.unwrap_or(1);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(ApiError::invalid_value(format!(
            "DiskCount is {count}; it must be between 1 and {MAX_COUNT}."
        )));
    }
    let token = r.client_token.as_deref().filter(|t| !t.is_empty());
    if let Some(token) = token {
        check_token(token)?;
    }
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    if let Some(ids) = token
        .map(|t| earlier(&store, region, "CreateDisks", t))
        .transpose()?
        .flatten()
    {
        // A retry: what the first call made.
        return respond(
            &CreateDisksResponse::new()
                .set_disk_id_set(ids)
                .set_request_id(ctx.request_id),
        );
    }
    let held = disks_in(&store, region)?.len();
    DISK.check_room(
        region,
        held,
        count as usize,
        "ResourceInsufficient.OverQuota",
        "disks",
    )?;
    let mut made = Vec::new();
    for _ in 0..count {
        let id = store.resources.new_id(&DISK);
        let disk = new_disk(
            &id,
            zone,
            &r.disk_type,
            size,
            &r.disk_charge_type,
            r.disk_name.as_deref().unwrap_or_default(),
            r.tags.clone().unwrap_or_default(),
            "DATA_DISK",
        );
        // Ids are drawn from what is stored: keep each before the next.
        store.resources.put(DISK.store(region, &id, &disk)?);
        made.push(disk);
    }
    let ids: Vec<String> = made.iter().map(|d| d.disk_id.clone()).collect();
    let (put, dropped) = match token {
        Some(token) => remember(&mut store, region, "CreateDisks", token, &ids)?,
        None => (Vec::new(), Vec::new()),
    };
    keep_with(&mut store, region, &made, &[], &put, &dropped)?;
    drop(store);
    respond(
        &CreateDisksResponse::new()
            .set_disk_id_set(ids)
            .set_request_id(ctx.request_id),
    )
}

/// Checks disk ids: count, then form; duplicates dropped.
fn check_ids(ids: &[String], required: bool) -> Result<Vec<String>, ApiError> {
    if required && ids.is_empty() {
        return Err(ApiError::missing("DiskIds"));
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("DiskIds has {} items; at most {MAX_IDS} are allowed.", ids.len()),
        ));
    }
    if let Some(bad) = ids.iter().find(|id| !DISK.is_id(id)) {
        return Err(ApiError::invalid_value(format!(
            "`{}` is not a disk id of the form disk-xxxxxxxx.",
            shorten(bad)
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// The disks `ids` of `region` as they stand; `InvalidDiskId.NotFound`
/// naming those that are not there.
fn found(store: &Store, region: &str, ids: &[String]) -> Result<Vec<Disk>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        let disk = match store.resources.get(&DISK, id).filter(|d| d.region == region) {
            Some(stored) => effective(store, stored)?,
            None => None,
        };
        match disk {
            Some(disk) => out.push(disk),
            None => missing.push(id.as_str()),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::new(
            "InvalidDiskId.NotFound",
            format!("No disk {} in {region}.", quoted_list(&missing)),
        ))
    }
}

fn disk_matches(disk: &Disk, name: &str, values: &[String]) -> bool {
    let any = |candidate: &str| values.iter().any(|v| v == candidate);
    match name {
        "disk-usage" => any(&disk.disk_usage),
        "disk-charge-type" => any(&disk.disk_charge_type),
        "project-id" => any(&disk.placement.project_id.unwrap_or(0).to_string()),
        "disk-id" => any(&disk.disk_id),
        "disk-name" => any(&disk.disk_name),
        "disk-type" => any(&disk.disk_type),
        "disk-state" => any(&disk.disk_state),
        "instance-id" => any(&disk.instance_id),
        "zone" => any(&disk.placement.zone),
        "tag-key" => disk.tags.iter().any(|t| any(&t.key)),
        "tag-value" => disk.tags.iter().any(|t| any(&t.value)),
        _ => name
            .strip_prefix("tag:")
            .is_some_and(|k| disk.tags.iter().any(|t| t.key == k && any(&t.value))),
    }
}

/// CBS's filters, in CVM's own type (the same two members).
fn as_filters(filters: &[Filter]) -> Vec<cvm_api::types::Filter> {
    filters
        .iter()
        .map(|f| {
            cvm_api::types::Filter::new()
                .set_name(f.name.clone())
                .set_values(f.values.clone())
        })
        .collect()
}

pub(crate) fn describe_disks(r: &DescribeDisksRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let ids = check_ids(r.disk_ids.as_deref().unwrap_or_default(), false)?;
    let filters = as_filters(r.filters.as_deref().unwrap_or_default());
    check_filters(&filters, FILTERS)?;
    let to_i64 = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let (offset, limit) = paging(to_i64(r.offset), to_i64(r.limit))?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let chosen: Vec<Disk> = disks_in(&store, region)?
        .into_iter()
        .filter(|d| ids.is_empty() || ids.contains(&d.disk_id))
        .filter(|d| passes(&filters, |name, values| disk_matches(d, name, values)))
        .collect();
    drop(store);
    let total = chosen.len() as u64;
    let page: Vec<Disk> = chosen.into_iter().skip(offset).take(limit).collect();
    respond(
        &DescribeDisksResponse::new()
            .set_total_count(total)
            .set_disk_set(page)
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn attach_disks(r: &AttachDisksRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let ids = check_ids(&r.disk_ids, true)?;
    if !is_instance_id(&r.instance_id) {
        return Err(ApiError::invalid_value(format!(
            "`{}` is not an instance id of the form ins-xxxxxxxx.",
            shorten(&r.instance_id)
        )));
    }
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let Some(instance) = store.get(&r.instance_id).filter(|s| s.region == region) else {
        return Err(ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("No instance {} in {region}.", r.instance_id),
        ));
    };
    let state = instance.instance.instance_state.as_str();
    if state != "RUNNING" && state != "STOPPED" {
        return Err(ApiError::new(
            "InvalidInstance.NotSupported",
            format!(
                "The instance {} is {state}; disks attach to RUNNING or STOPPED instances.",
                r.instance_id
            ),
        ));
    }
    let zone = instance.instance.placement.zone.clone();
    let mut disks = found(&store, region, &ids)?;
    for disk in &disks {
        if disk.attached {
            return Err(ApiError::new(
                "ResourceUnavailable.Attached",
                format!("The disk {} is attached to {}.", disk.disk_id, disk.instance_id),
            ));
        }
        if disk.placement.zone != zone {
            return Err(ApiError::new(
                "ResourceUnavailable.ZoneNotMatch",
                format!(
                    "The disk {} is in {}, the instance in {zone}.",
                    disk.disk_id, disk.placement.zone
                ),
            ));
        }
    }
    let already = disks_in(&store, region)?
        .iter()
        .filter(|d| d.attached && d.instance_id == r.instance_id)
        .count();
    if already + disks.len() > MAX_PER_INSTANCE {
        return Err(ApiError::new(
            "LimitExceeded.InstanceAttachedDisk",
            format!(
                "The instance {} would have {} data disks; at most {MAX_PER_INSTANCE} are allowed.",
                r.instance_id,
                already + disks.len()
            ),
        ));
    }
    for disk in &mut disks {
        attach(disk, &r.instance_id, r.delete_with_instance.unwrap_or(false));
    }
    keep(&mut store, region, &disks, &[])?;
    drop(store);
    respond(&AttachDisksResponse::new().set_request_id(ctx.request_id))
}

pub(crate) fn detach_disks(r: &DetachDisksRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let ids = check_ids(&r.disk_ids, true)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut disks = found(&store, region, &ids)?;
    for disk in &disks {
        if !disk.attached {
            return Err(ApiError::new(
                "ResourceUnavailable.NotSupported",
                format!("The disk {} is not attached.", disk.disk_id),
            ));
        }
        if r.instance_id.as_deref().is_some_and(|i| i != disk.instance_id) {
            return Err(ApiError::invalid_value(format!(
                "The disk {} is attached to {}, not to {}.",
                disk.disk_id,
                disk.instance_id,
                shorten(r.instance_id.as_deref().unwrap_or_default())
            )));
        }
    }
    for disk in &mut disks {
        detach(disk);
    }
    keep(&mut store, region, &disks, &[])?;
    drop(store);
    respond(&DetachDisksResponse::new().set_request_id(ctx.request_id))
}

pub(crate) fn terminate_disks(r: &TerminateDisksRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let ids = check_ids(&r.disk_ids, true)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let disks = found(&store, region, &ids)?;
    if let Some(disk) = disks.iter().find(|d| d.attached) {
        return Err(ApiError::new(
            "ResourceUnavailable.Attached",
            format!(
                "The disk {} is attached to {}; detach it (DetachDisks) first.",
                disk.disk_id, disk.instance_id
            ),
        ));
    }
    keep(&mut store, region, &[], &ids)?;
    drop(store);
    respond(&TerminateDisksResponse::new().set_request_id(ctx.request_id))
}

/// Checks RunInstances' `DataDisks` (each instance gets disks of its
/// zone, attached to it, going with it unless told otherwise) before any
/// instance is made: types, sizes, how many, and room in the quota.
pub(crate) fn check_launch_disks(
    store: &Store,
    region: &str,
    data_disks: &[DataDisk],
    instances: usize,
) -> Result<(), ApiError> {
    if data_disks.len() > MAX_PER_INSTANCE {
        return Err(ApiError::new(
            "LimitExceeded.InstanceAttachedDisk",
            format!(
                "DataDisks has {} items; at most {MAX_PER_INSTANCE} are allowed.",
                data_disks.len()
            ),
        ));
    }
    for d in data_disks {
        let size = u64::try_from(d.disk_size.unwrap_or(0)).unwrap_or(0);
        check_disk(d.disk_type.as_ref().map_or("CLOUD_PREMIUM", |t| t.as_str()), size)?;
    }
    let held = disks_in(store, region)?.len();
    DISK.check_room(
        region,
        held,
        data_disks.len() * instances,
        "ResourceInsufficient.OverQuota",
        "disks",
    )?;
    Ok(())
}

/// Makes and stores the data disks of a new instance; their keys, for the
/// launch's one journal record.
pub(crate) fn launch_disks(
    store: &mut Store,
    region: &str,
    zone: &str,
    instance_id: &str,
    data_disks: &[DataDisk],
) -> Result<Vec<ResourceKey>, ApiError> {
    let mut keys = Vec::with_capacity(data_disks.len());
    for d in data_disks {
        let disk_type = d.disk_type.as_ref().map_or("CLOUD_PREMIUM", |t| t.as_str());
        let size = check_disk(disk_type, u64::try_from(d.disk_size.unwrap_or(0)).unwrap_or(0))?;
        let id = store.resources.new_id(&DISK);
        let mut disk = new_disk(
            &id,
            zone,
            disk_type,
            size,
            "POSTPAID_BY_HOUR",
            d.disk_name.as_deref().unwrap_or_default(),
            Vec::new(),
            "DATA_DISK",
        );
        attach(&mut disk, instance_id, d.delete_with_instance.unwrap_or(true));
        store.resources.put(DISK.store(region, &id, &disk)?);
        keys.push(DISK.key(&id));
    }
    Ok(keys)
}

/// Grows disk `disk_id`, attached to `instance_id`, to `size` GB (kept by
/// the caller's commit: its key is returned). Disks only grow.
pub(crate) fn grow_disk(
    store: &mut Store,
    region: &str,
    instance_id: &str,
    disk_id: &str,
    size: u64,
) -> Result<ResourceKey, ApiError> {
    let mut disk = found(store, region, &[disk_id.to_owned()])?.remove(0);
    if !disk.attached || disk.instance_id != instance_id {
        return Err(ApiError::invalid_value(format!(
            "The disk {disk_id} is not attached to {instance_id}."
        )));
    }
    let size = check_disk(&disk.disk_type, size)?;
    if size < disk.disk_size {
        return Err(ApiError::new(
            "InvalidParameter.DiskSizeNotMatch",
            format!(
                "The disk {disk_id} is {} GB; disks only grow, not to {size} GB.",
                disk.disk_size
            ),
        ));
    }
    disk.disk_size = size;
    store.resources.put(DISK.store(region, disk_id, &disk)?);
    Ok(DISK.key(disk_id))
}

/// The data disks attached to each instance of `region`, as
/// DescribeInstances shows them.
pub(crate) fn data_disks_by_instance(
    store: &Store,
    region: &str,
) -> Result<HashMap<String, Vec<DataDisk>>, ApiError> {
    let mut out: HashMap<String, Vec<DataDisk>> = HashMap::new();
    for disk in disks_in(store, region)? {
        if !disk.attached {
            continue;
        }
        let data_disk = DataDisk::new()
            .set_disk_id(disk.disk_id.clone())
            .set_disk_size(i64::try_from(disk.disk_size).unwrap_or(i64::MAX))
            .set_disk_type(disk.disk_type.clone())
            .set_delete_with_instance(disk.delete_with_instance)
            .set_encrypt(disk.encrypt)
            .set_kms_key_id(disk.kms_key_id.clone().unwrap_or_default())
            .set_disk_name(disk.disk_name.clone());
        out.entry(disk.instance_id).or_default().push(data_disk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_suit_their_type() {
        assert_eq!(check_disk("CLOUD_PREMIUM", 0).unwrap(), 10);
        assert_eq!(check_disk("CLOUD_SSD", 100).unwrap(), 100);
        assert_eq!(
            check_disk("CLOUD_SSD", 10).unwrap_err().code,
            "InvalidParameter.DiskSizeNotMatch"
        );
        assert_eq!(
            check_disk("CLOUD_BASIC", 15).unwrap_err().code,
            "InvalidParameter.DiskSizeNotMatch"
        );
        assert_eq!(
            check_disk("FLOPPY", 10).unwrap_err().code,
            "InvalidParameterValue"
        );
    }
}
