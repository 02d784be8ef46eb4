//! RunInstances: the request checked, then under the store's lock the
//! ClientToken replayed or the quota checked, and the batch built and kept.

use cvm_api::types::{
    Instance, InstanceChargeType, InstanceState, InternetAccessible, InternetChargeType,
    LatestOperationState, LoginSettings, Placement, RenewFlag, RunInstancesRequest, RunInstancesResponse,
    StopChargingMode, SystemDisk, SystemDiskType, Tag, VirtualPrivateCloud,
};

use super::catalog::{check_offered, check_zone, public_image};
use super::common::{check_tags, not_kept, one_of, region, respond};
use super::ids::{default_subnet_id, default_vpc_id, is_image_id, random_id, region_of_zone};
use super::instances::{default_host_name, fill_defaults, instance_type_size};
use super::keypairs::check_keys_exist;
use super::resources::{IMAGE, KEY_PAIR};
use super::state_file::{ClientTokenRecord, PendingTransition, StoredInstance};
use super::store::{ChangeSet, Store};
use super::transitions::{complete, LAUNCH_FAILED};
use crate::cbs::disks::{check_launch_disks, launch_disks};
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::{iso8601, now_ms};
use crate::vpc::networks::{check_launch_network, free_addresses};
use crate::vpc::security_groups::check_groups_exist;

/// RunInstances from this image makes instances that go PENDING →
/// `LAUNCH_FAILED` (instead of RUNNING) after the transition time, their
/// `LatestOperation` `RunInstances` with `LatestOperationState` `FAILED`
/// (`OPERATING` while PENDING) and a `LatestOperationErrorMsg`. The call
/// itself succeeds and returns their ids, as the service's does: a launch
/// fails after it was accepted. It has the form of an image id, so it passes
/// every check a real one does. More such images:
/// [`EmulatorConfig::with_failing_image`](crate::EmulatorConfig::with_failing_image)
/// (the CLI's `--fail-launch-image`).
pub const LAUNCH_FAILURE_IMAGE_ID: &str = "img-nolaunch";

/// What a checked RunInstances asks for.
struct Launch<'r> {
    region: &'r str,
    zone: &'r str,
    image_id: &'r str,
    instance_type: String,
    cpu: i64,
    memory: i64,
    charge_type: InstanceChargeType,
    count: usize,
}

pub(crate) fn run_instances(r: &RunInstancesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let launch = check_launch(r, region(ctx)?)?;
    let mut store = ctx.shared.store();
    let now = now_ms();
    store.settle(now);
    let token_key = r
        .client_token
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| (launch.region.to_owned(), t.clone()));
    if let Some(ids) = token_key.as_ref().and_then(|k| store.client_token(k)) {
        // Idempotent retry: the instances of the first call.
        return respond(
            &RunInstancesResponse::new()
                .set_instance_id_set(ids.clone())
                .set_request_id(ctx.request_id),
        );
    }
    check_quota(&store, launch.count, ctx.shared.max_instances)?;
    check_launch_keys(&store, r, &launch)?;
    let data_disks = r.data_disks.as_deref().unwrap_or_default();
    check_launch_disks(&store, launch.region, data_disks, launch.count)?;
    if let Some(groups) = r.security_group_ids.as_deref().filter(|g| !g.is_empty()) {
        check_groups_exist(&store, launch.region, groups)?;
    }
    // Addresses from a created subnet's block, taken before any instance is made.
    let mut addresses = match &r.virtual_private_cloud {
        Some(net) => {
            match check_launch_network(&store, launch.region, launch.zone, &net.vpc_id, &net.subnet_id)? {
                Some(block) => free_addresses(&store, launch.region, block, launch.count)?,
                None => Vec::new(),
            }
        }
        None => Vec::new(),
    }
    .into_iter();
    // Decided now and kept in the pending transition: the outcome does not
    // change if the emulator restarts from its state file before it is due.
    let target = if ctx.shared.launch_fails(launch.image_id) {
        LAUNCH_FAILED
    } else {
        "RUNNING"
    };
    let mut ids = Vec::with_capacity(launch.count);
    let mut disks = Vec::new();
    for index in 0..launch.count {
        let mut stored = build_instance(&mut store, r, ctx, &launch, index, now, target);
        if let Some(address) = addresses.next() {
            let instance = &mut stored.instance;
            let pooled = instance
                .private_ip_addresses
                .first()
                .map(|ip| default_host_name(ip));
            if pooled.as_deref() == Some(instance.host_name.as_str()) {
                instance.host_name = default_host_name(&address);
            }
            instance.private_ip_addresses = vec![address];
        }
        // Its data disks are CBS disks attached to it, which DescribeInstances shows.
        disks.extend(launch_disks(
            &mut store,
            launch.region,
            launch.zone,
            &stored.instance.instance_id,
            data_disks,
        )?);
        ids.push(stored.instance.instance_id.clone());
        store.insert(stored);
    }
    let token = token_key.map(|(region, client_token)| ClientTokenRecord {
        region,
        client_token,
        instance_ids: ids.clone(),
    });
    if let Some(t) = &token {
        store.record_client_token((t.region.clone(), t.client_token.clone()), ids.clone());
    }
    store
        .commit(ChangeSet {
            put: &ids,
            token: token.as_ref(),
            put_resources: &disks,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    respond(
        &RunInstancesResponse::new()
            .set_instance_id_set(ids)
            .set_request_id(ctx.request_id),
    )
}

/// Every check that needs no state, in the service's order (`DryRun`
/// last: it answers only a request that would have succeeded).
fn check_launch<'r>(r: &'r RunInstancesRequest, region: &'r str) -> Result<Launch<'r>, ApiError> {
    if r.launch_template.is_some() {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "LaunchTemplate is not emulated by cvm-emulator; pass the instance settings directly.",
        ));
    }
    let zone = match &r.placement {
        None => return Err(ApiError::missing("Placement")),
        Some(p) if p.zone.is_empty() => return Err(ApiError::missing("Placement.Zone")),
        Some(p) => p.zone.as_str(),
    };
    if region_of_zone(zone) != region {
        return Err(ApiError::new(
            "InvalidZone.MismatchRegion",
            format!(
                "The zone `{}` is not in the region {region} of the request.",
                shorten(zone)
            ),
        ));
    }
    check_zone(region, zone)?;
    let image_id = match r.image_id.as_deref() {
        None | Some("") => return Err(ApiError::missing("ImageId")),
        Some(id) => id,
    };
    if !is_image_id(image_id) {
        return Err(ApiError::new(
            "InvalidImageId.Malformed",
            format!(
                "The image id `{}` is malformed (expected `img-` followed by 8 lower-case letters or digits).",
                shorten(image_id)
            ),
        ));
    }
    let instance_type = r.instance_type.clone().unwrap_or_else(|| "S5.MEDIUM2".to_owned());
    let Some((cpu, memory)) = instance_type_size(&instance_type) else {
        return Err(ApiError::new(
            "InvalidInstanceType.Malformed",
            format!(
                "The instance type `{}` is malformed (expected e.g. S5.MEDIUM4).",
                shorten(&instance_type)
            ),
        ));
    };
    check_offered(&instance_type)?;
    let count = r.instance_count.unwrap_or(1);
    if !(1..=100).contains(&count) {
        return Err(ApiError::invalid_value(format!(
            "InstanceCount is {count}; it must be between 1 and 100."
        )));
    }
    let count = usize::try_from(count).unwrap_or(1);
    if let Some(name) = &r.instance_name {
        if name.chars().count() > 128 {
            return Err(ApiError::new(
                "InvalidInstanceName.TooLong",
                "InstanceName is longer than 128 characters.",
            ));
        }
    }
    let charge_type = r
        .instance_charge_type
        .clone()
        .unwrap_or(InstanceChargeType::PostpaidByHour);
    one_of(
        "InstanceChargeType",
        Some(charge_type.as_str()),
        InstanceChargeType::VALUES,
    )?;
    if charge_type == InstanceChargeType::Prepaid && r.instance_charge_prepaid.is_none() {
        return Err(ApiError::missing("InstanceChargePrepaid"));
    }
    if let Some(token) = &r.client_token {
        if token.len() > 64 {
            return Err(ApiError::new(
                "InvalidClientToken.TooLong",
                "ClientToken is longer than 64 characters.",
            ));
        }
    }
    check_rules(r)?;
    check_tags(
        r.tag_specification
            .iter()
            .flatten()
            .filter(|t| t.resource_type == "instance")
            .flat_map(|t| t.tags.iter().map(|tag| (tag.key.as_str(), tag.value.as_str()))),
    )?;
    if r.dry_run == Some(true) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }

    Ok(Launch {
        region,
        zone,
        image_id,
        instance_type,
        cpu,
        memory,
        charge_type,
        count,
    })
}

/// `LoginSettings.KeyIds`: key pairs of the region, on an image that takes
/// them (Windows does not).
fn check_launch_keys(store: &Store, r: &RunInstancesRequest, launch: &Launch<'_>) -> Result<(), ApiError> {
    let keys = r
        .login_settings
        .as_ref()
        .and_then(|l| l.key_ids.as_deref())
        .unwrap_or_default();
    if keys.is_empty() {
        return Ok(());
    }
    if let Some(bad) = keys.iter().find(|k| !KEY_PAIR.is_id(k)) {
        return Err(ApiError::new(
            "InvalidKeyPairId.Malformed",
            format!(
                "Malformed key id `{}` (expected `skey-` followed by 8 lower-case letters or digits).",
                shorten(bad)
            ),
        ));
    }
    if public_image(launch.image_id).is_some_and(|i| i.platform == "Windows") {
        return Err(ApiError::new(
            "UnsupportedOperation.KeyPairUnsupportedWindows",
            format!(
                "The image {} is Windows, which takes no key pairs.",
                launch.image_id
            ),
        ));
    }
    check_keys_exist(store, launch.region, keys)
        .map_err(|e| ApiError::new("InvalidParameterValue.KeyPairNotFound", e.message))
}

fn check_quota(store: &Store, count: usize, max_instances: usize) -> Result<(), ApiError> {
    if store.len() + count > max_instances {
        return Err(ApiError::new(
            "InstancesQuotaLimitExceeded",
            format!(
                "Creating {count} more instances would exceed the emulator's quota of {max_instances} instances."
            ),
        ));
    }
    Ok(())
}

/// Instance `index` of the batch: a fresh id, its addresses from the
/// store's counters, and a pending transition to `target` (or `target`
/// at once when transitions are instant).
fn build_instance(
    store: &mut Store,
    r: &RunInstancesRequest,
    ctx: &Ctx<'_>,
    launch: &Launch<'_>,
    index: usize,
    now: u64,
    target: &str,
) -> StoredInstance {
    let mut id = random_id("ins-");
    while store.contains(&id) {
        id = random_id("ins-");
    }
    let mut instance = new_instance(
        r,
        ctx,
        &id,
        launch.zone,
        &launch.instance_type,
        index,
        launch.count,
        now,
    );
    instance.cpu = launch.cpu;
    instance.memory = launch.memory;
    // A public image, or one of the region's own (CreateImage); any other
    // well-formed id is taken for an image of the caller's own.
    if let Some(image) = public_image(launch.image_id) {
        instance.os_name = image.os_name.to_owned();
        instance.default_login_user = image.login_user.to_owned();
    } else if let Some(made) = store
        .resources
        .get(&IMAGE, launch.image_id)
        .filter(|made| made.region == launch.region)
    {
        if let Some(os) = made.item.get("OsName").and_then(|v| v.as_str()) {
            instance.os_name = os.to_owned();
        }
    }
    instance.instance_charge_type = launch.charge_type.clone();
    let public_ip = instance
        .internet_accessible
        .public_ip_assigned
        .unwrap_or(false)
        .then(|| next_public_ip(store));
    instance.public_ip_addresses = public_ip.map(|ip| vec![ip]);
    let mut stored = StoredInstance {
        region: launch.region.to_owned(),
        instance,
        pending: None,
    };
    stored.instance.private_ip_addresses = vec![store.allocate_private_ip()];
    fill_defaults(&mut stored, now, &mut 0);
    let transition_ms = ctx.shared.transition_ms;
    if transition_ms == 0 {
        complete(&mut stored.instance, target);
    } else {
        stored.pending = Some(PendingTransition {
            target_state: target.to_owned(),
            completes_at_ms: now.saturating_add(transition_ms),
        });
    }
    stored
}

/// The next public address: 198.18.0.0/15 is reserved for benchmarks,
/// obviously not a real address.
fn next_public_ip(store: &mut Store) -> String {
    store.public_ip_counter = store.public_ip_counter.wrapping_add(1);
    let n = store.public_ip_counter % 65_024;
    format!("198.18.{}.{}", n / 254, n % 254 + 1)
}

#[allow(clippy::too_many_arguments)]
fn new_instance(
    r: &RunInstancesRequest,
    ctx: &Ctx<'_>,
    id: &str,
    zone: &str,
    instance_type: &str,
    index: usize,
    count: usize,
    now: u64,
) -> Instance {
    let region = region_of_zone(zone);
    let placement = r.placement.clone().unwrap_or_default();
    let internet = r.internet_accessible.clone().map(|mut i| {
        if i.public_ip_assigned.is_none() {
            i.public_ip_assigned = Some(i.internet_max_bandwidth_out.unwrap_or(0) > 0);
        }
        if i.internet_charge_type.is_none() {
            i.internet_charge_type = Some(InternetChargeType::TrafficPostpaidByHour);
        }
        if i.internet_max_bandwidth_out.is_none() {
            i.internet_max_bandwidth_out = Some(0);
        }
        i
    });
    let (renew_flag, expired_time) = match &r.instance_charge_prepaid {
        Some(p) if r.instance_charge_type == Some(InstanceChargeType::Prepaid) => {
            let months = u64::try_from(p.period.unwrap_or(1).clamp(1, 120)).unwrap_or(1);
            (
                p.renew_flag.clone().unwrap_or(RenewFlag::NotifyAndManualRenew),
                iso8601(now.saturating_add(months * 30 * 86_400_000)),
            )
        }
        _ => (RenewFlag::NotifyAndManualRenew, String::new()),
    };
    let tags: Vec<Tag> = r
        .tag_specification
        .iter()
        .flatten()
        .filter(|t| t.resource_type == "instance")
        .flat_map(|t| t.tags.clone())
        .collect();
    let vpc = r.virtual_private_cloud.clone().map(|v| {
        VirtualPrivateCloud::new()
            .set_vpc_id(v.vpc_id)
            .set_subnet_id(v.subnet_id)
            .set_as_vpc_gateway(v.as_vpc_gateway.unwrap_or(false))
    });
    let mut instance = Instance::new();
    instance.placement = Placement::new()
        .set_zone(zone)
        .set_project_id(placement.project_id.unwrap_or(0));
    instance.instance_id = id.to_owned();
    instance.instance_type = instance_type.to_owned();
    instance.restrict_state = cvm_api::types::InstanceRestrictState::Normal;
    instance.instance_name = instance_name(r.instance_name.as_deref(), index, count);
    instance.system_disk = r
        .system_disk
        .clone()
        .map(|d| {
            SystemDisk::new()
                .set_disk_type(d.disk_type.unwrap_or(SystemDiskType::CloudPremium))
                .set_disk_size(d.disk_size.unwrap_or(50))
                .set_disk_id(random_id("disk-"))
        })
        .unwrap_or_default();
    // Data disks are CBS disks (see `launch_disks`), not kept here.
    instance.data_disks = Vec::new();
    instance.internet_accessible = internet.unwrap_or_else(|| {
        InternetAccessible::new()
            .set_internet_charge_type("TRAFFIC_POSTPAID_BY_HOUR")
            .set_internet_max_bandwidth_out(0)
            .set_public_ip_assigned(false)
    });
    instance.virtual_private_cloud = vpc.unwrap_or_else(|| {
        VirtualPrivateCloud::new()
            .set_vpc_id(default_vpc_id(region))
            .set_subnet_id(default_subnet_id(zone))
            .set_as_vpc_gateway(false)
    });
    instance.image_id = r.image_id.clone().unwrap_or_default();
    instance.renew_flag = renew_flag;
    instance.created_time = iso8601(now);
    instance.expired_time = expired_time;
    instance.security_group_ids = r.security_group_ids.clone().unwrap_or_default();
    // Only the key pairs are returned, never the password.
    instance.login_settings = LoginSettings::new().set_key_ids(
        r.login_settings
            .as_ref()
            .and_then(|l| l.key_ids.clone())
            .unwrap_or_default(),
    );
    instance.instance_state = InstanceState::Pending;
    instance.tags = tags;
    instance.stop_charging_mode = StopChargingMode::NotApplicable;
    instance.uuid = uuid::Uuid::new_v4().to_string();
    instance.latest_operation = Some("RunInstances".to_owned());
    instance.latest_operation_state = Some(LatestOperationState::Operating);
    instance.latest_operation_request_id = Some(ctx.request_id.to_owned());
    instance.latest_operation_error_msg = Some(String::new());
    instance.host_name = r.host_name.clone().unwrap_or_default();
    instance.disable_api_termination = r.disable_api_termination.unwrap_or(false);
    instance.cam_role_name = Some(r.cam_role_name.clone().unwrap_or_default());
    instance.hpc_cluster_id = r.hpc_cluster_id.clone().unwrap_or_default();
    instance.dedicated_cluster_id = r.dedicated_cluster_id.clone().unwrap_or_default();
    instance.disaster_recover_group_ids = r.disaster_recover_group_ids.clone().unwrap_or_default();
    instance
}

/// The service's naming of batches: each `{R:x}` counts up from x; with no
/// pattern, several instances get the suffixes 1..n.
fn instance_name(name: Option<&str>, index: usize, count: usize) -> String {
    let base = match name {
        Some(n) if !n.is_empty() => n,
        _ => "Unnamed",
    };
    let mut out = String::new();
    let mut rest = base;
    let mut replaced = false;
    while let Some(start) = rest.find("{R:") {
        let after = &rest[start + 3..];
        let Some(end) = after.find('}') else { break };
        let Ok(first) = after[..end].parse::<u64>() else {
            out.push_str(&rest[..start + 3]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..start]);
        out.push_str(&first.saturating_add(index as u64).to_string());
        rest = &after[end + 1..];
        replaced = true;
    }
    out.push_str(rest);
    if !replaced && count > 1 {
        out.push_str(&(index + 1).to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_names() {
        assert_eq!(instance_name(Some("web"), 0, 1), "web");
        assert_eq!(instance_name(Some("web"), 1, 3), "web2");
        assert_eq!(instance_name(Some("web-{R:3}"), 1, 2), "web-4");
        assert_eq!(instance_name(Some("a{R:1}b{R:10}"), 2, 3), "a3b12");
        assert_eq!(instance_name(Some("a{R:x}"), 0, 2), "a{R:x}1");
        assert_eq!(instance_name(None, 0, 1), "Unnamed");
        assert_eq!(
            instance_name(Some("{R:18446744073709551615}"), 1, 2),
            "18446744073709551615"
        );
        assert_eq!(instance_name(Some("é{R:1}ü"), 0, 1), "é1ü");
    }
}
