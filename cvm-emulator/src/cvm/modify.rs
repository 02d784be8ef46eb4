//! Changes to existing instances: ModifyInstancesAttribute (name, host
//! name, security groups, termination protection, role),
//! ResetInstancesType and ResetInstancesPassword, with the states each
//! needs. Batches are all or nothing: every instance is checked before
//! any changes.

use cvm_api::types::{
    ModifyInstancesAttributeRequest, ModifyInstancesAttributeResponse, ResetInstancesPasswordRequest,
    ResetInstancesPasswordResponse, ResetInstancesTypeRequest, ResetInstancesTypeResponse,
};

use super::catalog::check_offered;
use super::common::{check_ids, not_kept, quoted_list, region, respond, state_refusal};
use super::instances::instance_type_size;
use super::store::{ChangeSet, Store};
use super::transitions::complete;
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
