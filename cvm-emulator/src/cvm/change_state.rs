//! StartInstances, StopInstances, RebootInstances and TerminateInstances:
//! which states each accepts, the state it passes through and where it
//! ends, and the error codes the service documents for each.

use cvm_api::types::{
    InstanceChargeType, LatestOperationState, RebootInstancesRequest, StopInstancesRequest, StopType,
    StoppedMode,
};

use super::common::{check_ids, not_kept, one_of, quoted_list, region};
use super::state_file::PendingTransition;
use super::store::ChangeSet;
use super::transitions::{complete, TERMINATED};
use crate::error::ApiError;
use crate::shared::Ctx;
use crate::time::now_ms;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Op {
    Start,
    Stop,
    Reboot,
    Terminate,
}

impl Op {
    fn action(self) -> &'static str {
        match self {
            Op::Start => "StartInstances",
            Op::Stop => "StopInstances",
            Op::Reboot => "RebootInstances",
            Op::Terminate => "TerminateInstances",
        }
    }

    /// States the operation may start from.
    fn allowed_from(self) -> &'static [&'static str] {
        match self {
            Op::Start => &["STOPPED"],
            Op::Stop | Op::Reboot => &["RUNNING"],
            Op::Terminate => &["RUNNING", "STOPPED", "LAUNCH_FAILED", "SHUTDOWN"],
        }
    }

    /// (state while under way, state reached)
    fn transition(self) -> (&'static str, &'static str) {
        match self {
            Op::Start => ("STARTING", "RUNNING"),
            Op::Stop => ("STOPPING", "STOPPED"),
            Op::Reboot => ("REBOOTING", "RUNNING"),
            Op::Terminate => ("TERMINATING", TERMINATED),
        }
    }

    /// The `UnsupportedOperation.InstanceState*` suffixes errors.json
    /// documents for the action, among those [`Op::state_error`] can give.
    /// errors.json also lists `Terminated` for Start, Stop and Terminate,
    /// but the emulator never has a terminated instance: it is TERMINATING,
    /// then gone (`InvalidInstanceId.NotFound`).
    fn documented_state_codes(self) -> &'static [&'static str] {
        match self {
            Op::Start => &[
                "Pending",
                "Rebooting",
                "Running",
                "Shutdown",
                "Starting",
                "Stopped",
                "Stopping",
                "Terminating",
            ],
            Op::Stop => &[
                "Pending",
                "Rebooting",
                "Shutdown",
                "Starting",
                "Stopped",
                "Stopping",
                "Terminating",
            ],
            Op::Reboot => &[
                "Pending",
                "Rebooting",
                "Shutdown",
                "Starting",
                "Stopped",
                "Stopping",
                "Terminating",
            ],
            Op::Terminate => &[
                "LaunchFailed",
                "Pending",
                "Rebooting",
                "Starting",
                "Stopping",
                "Terminating",
            ],
        }
    }

    fn state_error(self, id: &str, state: &str) -> ApiError {
        let suffix = match state {
            "PENDING" => "Pending",
            "LAUNCH_FAILED" => "LaunchFailed",
            "RUNNING" => "Running",
            "STOPPED" => "Stopped",
            "STARTING" => "Starting",
            "STOPPING" => "Stopping",
            "REBOOTING" => "Rebooting",
            "SHUTDOWN" => "Shutdown",
            "TERMINATING" => "Terminating",
            _ => "",
        };
        let code = if self.documented_state_codes().contains(&suffix) {
            format!("UnsupportedOperation.InstanceState{suffix}")
        } else {
            "UnsupportedOperation".to_owned()
        };
        ApiError::new(
            code,
            format!(
                "The instance `{id}` is {state}; {} needs an instance in state {}.",
                self.action(),
                self.allowed_from().join(" or ")
            ),
        )
    }
}

/// Options of StopInstances / RebootInstances that change the outcome.
#[derive(Default)]
pub(crate) struct Options {
    /// `StoppedMode` of StopInstances.
    stopped_mode: Option<String>,
}

fn check_stop_type(stop_type: Option<&StopType>) -> Result<(), ApiError> {
    one_of("StopType", stop_type.map(StopType::as_str), StopType::VALUES)
}

pub(crate) fn stop_options(r: &StopInstancesRequest) -> Result<Options, ApiError> {
    check_stop_type(r.stop_type.as_ref())?;
    one_of(
        "StoppedMode",
        r.stopped_mode.as_ref().map(StoppedMode::as_str),
        StoppedMode::VALUES,
    )?;
    Ok(Options {
        stopped_mode: r.stopped_mode.as_ref().map(|m| m.as_str().to_owned()),
    })
}

pub(crate) fn reboot_options(r: &RebootInstancesRequest) -> Result<Options, ApiError> {
    check_stop_type(r.stop_type.as_ref())?;
    Ok(Options::default())
}

/// Start/Stop/Reboot/Terminate: every id is checked under one lock before
/// any instance changes.
pub(crate) fn change_state(op: Op, ids: &[String], ctx: &Ctx<'_>, options: &Options) -> Result<(), ApiError> {
    let region = region(ctx)?;
    let ids = check_ids(ids, true)?;
    let transition_ms = ctx.shared.transition_ms;
    let mut store = ctx.shared.store();
    let now = now_ms();
    store.settle(now);

    let not_found: Vec<&str> = ids
        .iter()
        .filter(|id| store.get(id).is_none_or(|s| s.region != region))
        .map(String::as_str)
        .collect();
    if !not_found.is_empty() {
        return Err(ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("No instance {} in region {region}.", quoted_list(&not_found)),
        ));
    }
    for id in &ids {
        let Some(stored) = store.get(id) else { continue };
        let instance = &stored.instance;
        if !op.allowed_from().contains(&instance.instance_state.as_str()) {
            return Err(op.state_error(id, instance.instance_state.as_str()));
        }
        if op == Op::Terminate && instance.disable_api_termination {
            return Err(ApiError::new(
                "UnsupportedOperation.InstancesProtected",
                format!("The instance `{id}` has termination protection (DisableApiTermination) enabled."),
            ));
        }
        if op == Op::Stop
            && options.stopped_mode.as_deref() == Some("STOP_CHARGING")
            && instance.instance_charge_type != InstanceChargeType::PostpaidByHour
        {
            return Err(ApiError::new(
                "UnsupportedOperation.StoppedModeStopCharging",
                format!(
                    "The instance `{id}` is {}; only POSTPAID_BY_HOUR instances can stop charging while stopped.",
                    instance.instance_charge_type
                ),
            ));
        }
    }

    let (during, after) = op.transition();
    let completes_at = now.saturating_add(transition_ms);
    let mut removed = Vec::new();
    for id in &ids {
        let Some(stored) = store.get_mut(id) else { continue };
        let instance = &mut stored.instance;
        instance.instance_state = during.into();
        instance.latest_operation = Some(op.action().to_owned());
        instance.latest_operation_state = Some(LatestOperationState::Operating);
        instance.latest_operation_request_id = Some(ctx.request_id.to_owned());
        instance.latest_operation_error_msg = Some(String::new());
        if op == Op::Stop {
            instance.stop_charging_mode = options
                .stopped_mode
                .clone()
                .unwrap_or_else(|| "KEEP_CHARGING".to_owned())
                .into();
        }
        if transition_ms == 0 {
            if after == TERMINATED {
                store.remove(id);
                removed.push(id.clone());
            } else {
                complete(instance, after);
            }
        } else {
            stored.pending = Some(PendingTransition {
                target_state: after.to_owned(),
                completes_at_ms: completes_at,
            });
        }
    }
    if transition_ms != 0 {
        store.schedule(completes_at);
    }
    let changed: Vec<String> = ids.into_iter().filter(|id| store.contains(id)).collect();
    store
        .commit(ChangeSet {
            put: &changed,
            removed: &removed,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_codes_follow_the_documented_lists() {
        assert_eq!(
            Op::Start.state_error("ins-aaaaaaaa", "RUNNING").code,
            "UnsupportedOperation.InstanceStateRunning"
        );
        assert_eq!(
            Op::Stop.state_error("ins-aaaaaaaa", "STOPPED").code,
            "UnsupportedOperation.InstanceStateStopped"
        );
        assert_eq!(
            Op::Start.state_error("ins-aaaaaaaa", "LAUNCH_FAILED").code,
            "UnsupportedOperation"
        );
        assert_eq!(
            Op::Terminate.state_error("ins-aaaaaaaa", "TERMINATING").code,
            "UnsupportedOperation.InstanceStateTerminating"
        );
    }

    #[test]
    fn every_documented_state_code_is_reachable() {
        for op in [Op::Start, Op::Stop, Op::Reboot, Op::Terminate] {
            for suffix in op.documented_state_codes() {
                let reachable = crate::cvm::transitions::INSTANCE_STATES.iter().any(|state| {
                    op.state_error("ins-aaaaaaaa", state).code
                        == format!("UnsupportedOperation.InstanceState{suffix}")
                });
                assert!(reachable, "{op:?}: {suffix}");
            }
        }
    }
}
