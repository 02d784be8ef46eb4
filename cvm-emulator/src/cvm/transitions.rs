//! Instance states and how an operation under way ends. Transitions are
//! lazy: an operation records the state it leads to and when it completes,
//! and every access first settles those that are due ([`Store::settle`]).
//! No background task runs, and a zero transition time is instant.
//!
//! [`Store::settle`]: super::store::Store::settle

use cvm_api::types::{Instance, LatestOperationState, StopChargingMode};

use crate::error::shorten;

/// Every `InstanceState` the emulator knows.
pub const INSTANCE_STATES: &[&str] = &[
    "PENDING",
    "LAUNCH_FAILED",
    "RUNNING",
    "STOPPED",
    "STARTING",
    "STOPPING",
    "REBOOTING",
    "SHUTDOWN",
    "TERMINATING",
];

/// Target of a pending `TerminateInstances`: the instance disappears.
pub const TERMINATED: &str = "TERMINATED";

/// The state of an instance whose launch failed.
pub(crate) const LAUNCH_FAILED: &str = "LAUNCH_FAILED";

/// Ends an operation: `target` state, operation SUCCESS, except a launch
/// that ends in LAUNCH_FAILED: its RunInstances operation is FAILED, with
/// a message, as the service reports a failed launch.
pub(crate) fn complete(instance: &mut Instance, target: &str) {
    instance.instance_state = target.into();
    if target == "RUNNING" {
        instance.stop_charging_mode = StopChargingMode::NotApplicable;
    } else if target == "STOPPED" && instance.stop_charging_mode == "NOT_APPLICABLE" {
        instance.stop_charging_mode = StopChargingMode::KeepCharging;
    }
    if target == LAUNCH_FAILED {
        instance.latest_operation_state = Some(LatestOperationState::Failed);
        instance.latest_operation_error_msg = Some(launch_failure_message(&instance.image_id));
    } else {
        instance.latest_operation_state = Some(LatestOperationState::Success);
    }
}

/// `LatestOperationErrorMsg` of a failed launch.
fn launch_failure_message(image_id: &str) -> String {
    format!(
        "The instance failed to launch: cvm-emulator fails every launch from image `{}` \
         (LAUNCH_FAILURE_IMAGE_ID, or configured with --fail-launch-image).",
        shorten(image_id)
    )
}

/// The state a transitional state leads to.
pub(crate) fn settles_to(state: &str) -> Option<&'static str> {
    match state {
        "PENDING" | "STARTING" | "REBOOTING" => Some("RUNNING"),
        "STOPPING" => Some("STOPPED"),
        "TERMINATING" => Some(TERMINATED),
        _ => None,
    }
}
