//! Changes to existing instances: ModifyInstancesAttribute (name, host
//! name, security groups, termination protection, role),
//! ResetInstancesType, ResetInstancesPassword, ResetInstance (a new system
//! from an image) and ResizeInstanceDisks, with the states each needs. Batches are all or nothing: every instance is checked before
//! any changes.

use cvm_api::types::{
    ModifyInstancesAttributeRequest, ModifyInstancesAttributeResponse, ResetInstanceRequest,
    ResetInstanceResponse, ResetInstancesPasswordRequest, ResetInstancesPasswordResponse,
    ResetInstancesTypeRequest, ResetInstancesTypeResponse, ResizeInstanceDisksRequest,
    ResizeInstanceDisksResponse,
};

use super::catalog::{check_offered, public_image};
use super::common::{check_ids, check_length, not_kept, quoted_list, region, respond, state_refusal};
use super::ids::is_image_id;
use super::instances::instance_type_size;
use super::keypairs::check_keys_exist;
use super::resources::IMAGE;
use super::store::{ChangeSet, Store};
use super::transitions::complete;
use crate::cbs::disks::grow_disk;
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::now_ms;
use crate::vpc::security_groups::check_groups_exist;

/// Longest instance name, in characters.
const MAX_NAME: usize = 128;

/// The instances `ids` of `region`; `InvalidInstanceId.NotFound` naming
/// those that are not there.
fn check_found(store: &Store, region: &str, ids: &[String]) -> Result<(), ApiError> {
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| store.get(id).is_none_or(|s| s.region != region))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("No instance {} in {region}.", quoted_list(&missing)),
        ))
    }
}

/// Every instance of `ids` is in one of `allowed` (or RUNNING, when
/// `force_stop` lets the action stop it at once).
fn check_states(
    store: &Store,
    ids: &[String],
    action: &str,
    allowed: &[&str],
    force_stop: bool,
) -> Result<(), ApiError> {
    for id in ids {
        let Some(stored) = store.get(id) else { continue };
        let state = stored.instance.instance_state.as_str();
        if allowed.contains(&state) || (force_stop && state == "RUNNING") {
            continue;
        }
        return Err(state_refusal(id, state, action, allowed));
    }
    Ok(())
}

/// Records `action` as the instances' latest operation, and journals them.
fn finish(store: &mut Store, ids: &[String], action: &str, request_id: &str) -> Result<(), ApiError> {
    for id in ids {
        if let Some(stored) = store.get_mut(id) {
            let instance = &mut stored.instance;
            instance.latest_operation = Some(action.to_owned());
            instance.latest_operation_state = Some(cvm_api::types::LatestOperationState::Success);
            instance.latest_operation_request_id = Some(request_id.to_owned());
            instance.latest_operation_error_msg = Some(String::new());
        }
    }
    store
        .commit(ChangeSet {
            put: ids,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))
}

pub(crate) fn modify_instances_attribute(
    r: &ModifyInstancesAttributeRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    let ids = check_ids(&r.instance_ids, true)?;
    if let Some(name) = &r.instance_name {
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(ApiError::new(
                "InvalidInstanceName.TooLong",
                format!("InstanceName must be 1 to {MAX_NAME} characters."),
            ));
        }
    }
    check_length("HostName", r.host_name.as_deref().unwrap_or_default(), 60)?;
    check_length("CamRoleName", r.cam_role_name.as_deref().unwrap_or_default(), 128)?;
    if r.user_data.is_some() || r.enable_jumbo_frame.is_some() || r.auto_reboot.is_some() {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "UserData, EnableJumboFrame and AutoReboot are not emulated by cvm-emulator; the other attributes are.",
        ));
    }
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    check_found(&store, region, &ids)?;
    check_states(
        &store,
        &ids,
        "ModifyInstancesAttribute",
        &["RUNNING", "STOPPED", "LAUNCH_FAILED"],
        false,
    )?;
    if let Some(groups) = &r.security_groups {
        if groups.is_empty() {
            return Err(ApiError::missing("SecurityGroups"));
        }
        check_groups_exist(&store, region, groups)?;
    }
    for id in &ids {
        let Some(stored) = store.get_mut(id) else { continue };
        let instance = &mut stored.instance;
        if let Some(name) = &r.instance_name {
            instance.instance_name = name.clone();
        }
        if let Some(host) = &r.host_name {
            instance.host_name = host.clone();
        }
        if let Some(groups) = &r.security_groups {
            instance.security_group_ids = groups.clone();
        }
        if let Some(protect) = r.disable_api_termination {
            instance.disable_api_termination = protect;
        }
        if let Some(role) = &r.cam_role_name {
            instance.cam_role_name = Some(role.clone());
        }
    }
    finish(&mut store, &ids, "ModifyInstancesAttribute", ctx.request_id)?;
    drop(store);
    respond(&ModifyInstancesAttributeResponse::new().set_request_id(ctx.request_id))
}

pub(crate) fn reset_instances_type(r: &ResetInstancesTypeRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    let ids = check_ids(&r.instance_ids, true)?;
    let Some((cpu, memory)) = instance_type_size(&r.instance_type) else {
        return Err(ApiError::new(
            "InvalidInstanceType.Malformed",
            format!(
                "The instance type `{}` is malformed (expected e.g. S5.MEDIUM4).",
                shorten(&r.instance_type)
            ),
        ));
    };
    check_offered(&r.instance_type)
        .map_err(|e| ApiError::new("ResourceNotFound.InvalidZoneInstanceType", e.message))?;
    let force_stop = r.force_stop == Some(true);
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    check_found(&store, region, &ids)?;
    check_states(&store, &ids, "ResetInstancesType", &["STOPPED"], force_stop)?;
    for id in &ids {
        let Some(stored) = store.get_mut(id) else { continue };
        let instance = &mut stored.instance;
        if instance.instance_state == "RUNNING" {
            complete(instance, "STOPPED");
        }
        instance.instance_type = r.instance_type.clone();
        instance.cpu = cpu;
        instance.memory = memory;
    }
    finish(&mut store, &ids, "ResetInstancesType", ctx.request_id)?;
    drop(store);
    respond(&ResetInstancesTypeResponse::new().set_request_id(ctx.request_id))
}

/// The service's password rule for Linux: 8 to 30 characters, of at least
/// three of lower case, upper case, digits and `()`~!@#$%^&*-+=|{}[]:;',.?/`.
fn check_password(password: &str) -> Result<(), ApiError> {
    const SPECIAL: &str = "()`~!@#$%^&*-+=|{}[]:;',.?/";
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| SPECIAL.contains(c)),
    ];
    let allowed = password
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || SPECIAL.contains(c));
    let length = password.chars().count();
    if !(8..=30).contains(&length) || !allowed || classes.iter().filter(|c| **c).count() < 3 {
        return Err(ApiError::new(
            "InvalidPassword",
            "Password must be 8 to 30 characters of at least three of: lower case, upper case, digits, and ()`~!@#$%^&*-+=|{}[]:;',.?/.",
        ));
    }
    Ok(())
}

pub(crate) fn reset_instances_password(
    r: &ResetInstancesPasswordRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    let ids = check_ids(&r.instance_ids, true)?;
    check_password(&r.password)?;
    let force_stop = r.force_stop == Some(true);
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    check_found(&store, region, &ids)?;
    check_states(&store, &ids, "ResetInstancesPassword", &["STOPPED"], force_stop)?;
    for id in &ids {
        let Some(stored) = store.get_mut(id) else { continue };
        if stored.instance.instance_state == "RUNNING" {
            complete(&mut stored.instance, "STOPPED");
        }
        // The password is never kept: nothing here can log in.
    }
    finish(&mut store, &ids, "ResetInstancesPassword", ctx.request_id)?;
    drop(store);
    respond(&ResetInstancesPasswordResponse::new().set_request_id(ctx.request_id))
}

pub(crate) fn reset_instance(r: &ResetInstanceRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    let ids = check_ids(std::slice::from_ref(&r.instance_id), true)?;
    if let Some(image) = r.image_id.as_deref() {
        if !is_image_id(image) {
            return Err(ApiError::new(
                "InvalidImageId.Malformed",
                format!("The image id `{}` is malformed.", shorten(image)),
            ));
        }
    }
    if r.user_data.is_some() || r.enhanced_service.is_some() {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "UserData and EnhancedService are not emulated by cvm-emulator on ResetInstance.",
        ));
    }
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    check_found(&store, region, &ids)?;
    check_states(&store, &ids, "ResetInstance", &["RUNNING", "STOPPED"], false)?;
    let keys = r.login_settings.as_ref().and_then(|l| l.key_ids.clone());
    if let Some(keys) = keys.as_deref().filter(|k| !k.is_empty()) {
        check_keys_exist(&store, region, keys)
            .map_err(|e| ApiError::new("InvalidParameterValue.KeyPairNotFound", e.message))?;
    }
    let os_name = r.image_id.as_deref().and_then(|image| match public_image(image) {
        Some(public) => Some(public.os_name.to_owned()),
        None => store
            .resources
            .get(&IMAGE, image)
            .filter(|made| made.region == region)
            .and_then(|made| made.item.get("OsName"))
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    });
    let windows = os_name.as_deref().is_some_and(|os| os.contains("Windows"));
    if windows && keys.as_deref().is_some_and(|k| !k.is_empty()) {
        return Err(ApiError::new(
            "UnsupportedOperation.KeyPairUnsupportedWindows",
            "A Windows image takes no key pairs.",
        ));
    }
    let Some(stored) = store.get_mut(&r.instance_id) else {
        return Err(ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("No instance {}.", r.instance_id),
        ));
    };
    let instance = &mut stored.instance;
    let size = r.system_disk.as_ref().and_then(|d| d.disk_size);
    if let Some(size) = size {
        if size < instance.system_disk.disk_size.unwrap_or(0) {
            return Err(ApiError::invalid_value(format!(
                "SystemDisk.DiskSize {size} GB is smaller than the instance's {} GB.",
                instance.system_disk.disk_size.unwrap_or(0)
            )));
        }
        instance.system_disk.disk_size = Some(size);
    }
    if let Some(image) = &r.image_id {
        instance.image_id = image.clone();
    }
    if let Some(os) = os_name {
        instance.os_name = os;
    }
    if let Some(host) = &r.host_name {
        instance.host_name = host.clone();
    }
    // A fresh system: its way in is what this request gives (never a password).
    instance.login_settings.key_ids = Some(keys.unwrap_or_default());
    finish(&mut store, &ids, "ResetInstance", ctx.request_id)?;
    drop(store);
    respond(&ResetInstanceResponse::new().set_request_id(ctx.request_id))
}

pub(crate) fn resize_instance_disks(
    r: &ResizeInstanceDisksRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    let ids = check_ids(std::slice::from_ref(&r.instance_id), true)?;
    let data_disks = r.data_disks.as_deref().unwrap_or_default();
    if data_disks.is_empty() && r.system_disk.is_none() {
        return Err(ApiError::missing("DataDisks"));
    }
    let online = r.resize_online == Some(true) || r.force_stop == Some(true);
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    check_found(&store, region, &ids)?;
    check_states(&store, &ids, "ResizeInstanceDisks", &["STOPPED"], online)?;
    // ForceStop stops a RUNNING instance; ResizeOnline leaves it running.
    let stop_first = r.force_stop == Some(true) && r.resize_online != Some(true);
    let mut grown = Vec::with_capacity(data_disks.len());
    // All or nothing: a refusal part way puts back the disks grown so far
    // (nothing is journaled before the one record at the end).
    let mut plan = Vec::with_capacity(data_disks.len());
    for d in data_disks {
        let Some(disk_id) = d.disk_id.as_deref() else {
            return Err(ApiError::missing("DataDisks.DiskId"));
        };
        let size = u64::try_from(d.disk_size.unwrap_or(0)).unwrap_or(0);
        plan.push((disk_id.to_owned(), size));
    }
    let before: Vec<_> = plan
        .iter()
        .filter_map(|(id, _)| store.resources.get(&crate::cvm::resources::DISK, id).cloned())
        .collect();
    for (disk_id, size) in &plan {
        match grow_disk(&mut store, region, &r.instance_id, disk_id, *size) {
            Ok(key) => grown.push(key),
            Err(e) => {
                for kept in before {
                    store.resources.put(kept);
                }
                return Err(e);
            }
        }
    }
    if let Some(system) = &r.system_disk {
        let Some(stored) = store.get_mut(&r.instance_id) else {
            return Err(ApiError::new(
                "InvalidInstanceId.NotFound",
                format!("No instance {}.", r.instance_id),
            ));
        };
        let now = stored.instance.system_disk.disk_size.unwrap_or(0);
        let size = system.disk_size.unwrap_or(now);
        if size < now {
            for kept in before {
                store.resources.put(kept);
            }
            return Err(ApiError::invalid_value(format!(
                "SystemDisk.DiskSize {size} GB is smaller than the instance's {now} GB; disks only grow."
            )));
        }
        stored.instance.system_disk.disk_size = Some(size);
    }
    for id in &ids {
        if let Some(stored) = store.get_mut(id) {
            if stop_first && stored.instance.instance_state == "RUNNING" {
                complete(&mut stored.instance, "STOPPED");
            }
            stored.instance.latest_operation = Some("ResizeInstanceDisks".to_owned());
            stored.instance.latest_operation_state = Some(cvm_api::types::LatestOperationState::Success);
            stored.instance.latest_operation_request_id = Some(ctx.request_id.to_owned());
        }
    }
    store
        .commit(ChangeSet {
            put: &ids,
            put_resources: &grown,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(&ResizeInstanceDisksResponse::new().set_request_id(ctx.request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_the_services_rule() {
        assert!(check_password("Passw0rd!").is_ok());
        assert!(check_password("abcdefG1").is_ok());
        for bad in [
            "Sh0rt!",
            "alllowercase1",
            "NoDigitsOrSigns",
            "Passw0rd\u{e9}!",
            &"Aa1!".repeat(8),
        ] {
            assert_eq!(check_password(bad).unwrap_err().code, "InvalidPassword", "{bad}");
        }
    }
}
