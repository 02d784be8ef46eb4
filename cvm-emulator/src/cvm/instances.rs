//! What a new or seeded instance looks like: plausible values for every
//! member the caller left out, sizes from the instance type, private
//! addresses and host names.

use cvm_api::types::{
    Instance, InstanceChargeType, InstanceState, InternetAccessible, LatestOperationState, LoginSettings,
    Placement, StopChargingMode, SystemDisk, VirtualPrivateCloud,
};

use super::ids::{
    default_security_group_id, default_subnet_id, default_vpc_id, fnv1a, new_instance_id, random_id,
    region_of_zone,
};
use super::state_file::StoredInstance;
use super::transitions::LAUNCH_FAILED;
use crate::time::{iso8601, now_ms};

impl StoredInstance {
    /// An instance in `zone` (`ap-guangzhou-3`), in `state` (`STOPPED`...),
    /// with plausible values for every other member.
    pub fn new(instance_id: impl Into<String>, zone: &str, state: &str) -> Self {
        let mut stored = StoredInstance {
            region: String::new(),
            instance: Instance::new()
                .set_instance_id(instance_id)
                .set_instance_state(state)
                .set_placement(Placement::new().set_zone(zone)),
            pending: None,
        };
        // Distinct instances get distinct addresses: derived from the id.
        let mut ip = ip_seed(&stored.instance.instance_id);
        fill_defaults(&mut stored, now_ms(), &mut ip);
        stored
    }

    /// [`StoredInstance::new`] with a fresh random id.
    pub fn with_random_id(zone: &str, state: &str) -> Self {
        StoredInstance::new(new_instance_id(), zone, state)
    }
}

/// The private address counter for an instance built outside a store:
/// derived from its id, so different ids get different addresses (and the
/// same id the same one).
pub(crate) fn ip_seed(instance_id: &str) -> u32 {
    u32::try_from(fnv1a(instance_id.bytes()) % u64::from(IP_HOSTS)).unwrap_or(0)
}

/// CPU cores and memory (GiB) from an instance type such as `S5.MEDIUM4`
/// or `S5.2XLARGE16`; `None` when the name does not have that shape.
pub(crate) fn instance_type_size(instance_type: &str) -> Option<(i64, i64)> {
    if !instance_type.is_ascii() {
        return None;
    }
    let (family, size) = instance_type.split_once('.')?;
    let family_ok = family.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && family
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !family_ok {
        return None;
    }
    // Memory is the trailing number; a leading number multiplies XLARGE.
    let mem_start = size.rfind(|c: char| !c.is_ascii_digit())? + 1;
    let (word, memory) = size.split_at(mem_start);
    let memory: i64 = memory.parse().ok().filter(|m| *m > 0 && *m <= 100_000)?;
    let lead_end = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
    let (lead, word) = word.split_at(lead_end);
    let cpu = match word {
        "SMALL" if lead.is_empty() => 1,
        "MEDIUM" if lead.is_empty() => 2,
        "LARGE" if lead.is_empty() => 4,
        "XLARGE" => {
            4 * lead
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .unwrap_or(1)
        }
        _ => return None,
    };
    Some((cpu, memory))
}

/// Fills every empty member of a seeded or new instance with a plausible
/// value; members already set are kept. `ip` numbers private addresses.
pub(crate) fn fill_defaults(stored: &mut StoredInstance, now: u64, ip: &mut u32) {
    if stored.region.is_empty() {
        stored.region = region_of_zone(&stored.instance.placement.zone).to_owned();
    }
    let region = stored.region.clone();
    let i = &mut stored.instance;
    let set = |field: &mut String, value: &dyn Fn() -> String| {
        if field.is_empty() {
            *field = value();
        }
    };
    set(&mut i.instance_id, &new_instance_id);
    if i.instance_state.as_str().is_empty() {
        i.instance_state = InstanceState::Running;
    }
    set(&mut i.instance_type, &|| "S5.MEDIUM2".to_owned());
    if i.cpu == 0 || i.memory == 0 {
        let (cpu, memory) = instance_type_size(&i.instance_type).unwrap_or((2, 2));
        if i.cpu == 0 {
            i.cpu = cpu;
        }
        if i.memory == 0 {
            i.memory = memory;
        }
    }
    if i.restrict_state.as_str().is_empty() {
        i.restrict_state = cvm_api::types::InstanceRestrictState::Normal;
    }
    set(&mut i.instance_name, &|| "Unnamed".to_owned());
    if i.instance_charge_type.as_str().is_empty() {
        i.instance_charge_type = InstanceChargeType::PostpaidByHour;
    }
    if i.placement.project_id.is_none() {
        i.placement.project_id = Some(0);
    }
    if i.system_disk == SystemDisk::default() {
        i.system_disk = SystemDisk::new().set_disk_type("CLOUD_PREMIUM").set_disk_size(50);
    }
    if i.system_disk.disk_id.is_none() {
        i.system_disk.disk_id = Some(random_id("disk-"));
    }
    // Members every answer carries (the description says so): empty, not absent.
    i.system_disk.encrypt.get_or_insert(false);
    i.system_disk.kms_key_id.get_or_insert_with(String::new);
    i.public_ip_addresses.get_or_insert_with(Vec::new);
    i.i_pv6_addresses.get_or_insert_with(Vec::new);
    if i.private_ip_addresses.is_empty() {
        i.private_ip_addresses = vec![next_private_ip(ip)];
    }
    if i.internet_accessible == InternetAccessible::default() {
        i.internet_accessible = InternetAccessible::new()
            .set_internet_charge_type("TRAFFIC_POSTPAID_BY_HOUR")
            .set_internet_max_bandwidth_out(0)
            .set_public_ip_assigned(i.public_ip_addresses.as_ref().is_some_and(|p| !p.is_empty()));
    }
    if i.virtual_private_cloud == VirtualPrivateCloud::default() {
        i.virtual_private_cloud = VirtualPrivateCloud::new()
            .set_vpc_id(default_vpc_id(&region))
            .set_subnet_id(default_subnet_id(&i.placement.zone))
            .set_as_vpc_gateway(false);
    }
    set(&mut i.image_id, &|| "img-9qabwvbn".to_owned());
    set(&mut i.os_name, &|| "TencentOS Server 3.1 (TK4)".to_owned());
    if i.renew_flag.as_str().is_empty() {
        i.renew_flag = cvm_api::types::RenewFlag::NotifyAndManualRenew;
    }
    set(&mut i.created_time, &|| iso8601(now));
    if i.security_group_ids.is_empty() {
        i.security_group_ids = vec![default_security_group_id(&region)];
    }
    if i.login_settings == LoginSettings::default() {
        i.login_settings.key_ids = Some(Vec::new());
    }
    // Never keep (or return) a password.
    i.login_settings.password = None;
    if i.stop_charging_mode.as_str().is_empty() {
        i.stop_charging_mode = if i.instance_state == InstanceState::Stopped {
            StopChargingMode::KeepCharging
        } else {
            StopChargingMode::NotApplicable
        };
    }
    set(&mut i.uuid, &|| uuid::Uuid::new_v4().to_string());
    if i.latest_operation.is_none() {
        // A seed in LAUNCH_FAILED got there by a failed RunInstances.
        let failed = i.instance_state.as_str() == LAUNCH_FAILED;
        i.latest_operation = Some("RunInstances".to_owned());
        i.latest_operation_state = Some(if failed {
            LatestOperationState::Failed
        } else {
            LatestOperationState::Success
        });
        i.latest_operation_request_id = Some(uuid::Uuid::new_v4().to_string());
        if failed && i.latest_operation_error_msg.is_none() {
            i.latest_operation_error_msg =
                Some("The instance failed to launch (seeded in LAUNCH_FAILED).".to_owned());
        }
    }
    if i.latest_operation_error_msg.is_none() {
        i.latest_operation_error_msg = Some(String::new());
    }
    if i.cam_role_name.is_none() {
        i.cam_role_name = Some(String::new());
    }
    if i.rdma_ip_addresses.is_none() {
        i.rdma_ip_addresses = Some(Vec::new());
    }
    if i.isolated_source.as_str().is_empty() {
        i.isolated_source = cvm_api::types::InstanceIsolatedSource::Notisolated;
    }
    set(&mut i.license_type, &|| "TencentCloud".to_owned());
    if i.host_name.is_empty() {
        i.host_name = default_host_name(i.private_ip_addresses.first().map_or("", String::as_str));
    }
    set(&mut i.default_login_user, &|| "root".to_owned());
    if i.default_login_port == 0 {
        i.default_login_port = 22;
    }
}

/// `VM-c-d-tencentos` for `10.0.c.d`, the service's default host name.
pub(crate) fn default_host_name(ip: &str) -> String {
    let tail: Vec<&str> = ip.split('.').skip(2).collect();
    format!("VM-{}-tencentos", tail.join("-"))
}

/// Private addresses numbered by [`next_private_ip`].
pub(crate) const IP_HOSTS: u32 = 65_024;

/// `10.0.c.d`, numbered from `counter` (which advances).
pub(crate) fn next_private_ip(counter: &mut u32) -> String {
    let n = *counter;
    *counter = counter.wrapping_add(1);
    // 10.0.0.1 .. 10.0.255.254, then wraps: plenty for an emulator.
    let host = n % IP_HOSTS;
    format!("10.0.{}.{}", host / 254, host % 254 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_types() {
        assert_eq!(instance_type_size("S5.MEDIUM2"), Some((2, 2)));
        assert_eq!(instance_type_size("S5.SMALL1"), Some((1, 1)));
        assert_eq!(instance_type_size("S5.LARGE8"), Some((4, 8)));
        assert_eq!(instance_type_size("S5.2XLARGE16"), Some((8, 16)));
        assert_eq!(instance_type_size("S5.16XLARGE256"), Some((64, 256)));
        for bad in [
            "s5.medium2",
            "S5",
            "S5.MEDIUM",
            "S5.2MEDIUM4",
            ".MEDIUM2",
            "S5.HUGE2",
        ] {
            assert_eq!(instance_type_size(bad), None, "{bad}");
        }
    }
}
