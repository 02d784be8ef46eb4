//! The emulated actions. Each handler runs under the store's lock without
//! awaiting, so batches are all-or-nothing and transitions are never lost or
//! doubled. With a state file, a handler that changes the store records the
//! change in the journal before releasing the lock, and no answer is sent
//! before the changes it may reflect are on disk.

use std::collections::HashSet;

use cvm_api::types::{
    DescribeInstancesRequest, DescribeInstancesResponse, DescribeInstancesStatusRequest,
    DescribeInstancesStatusResponse, Filter, Instance, InstanceStatus, InternetAccessible, LoginSettings,
    Placement, RebootInstancesRequest, RebootInstancesResponse, RunInstancesRequest, RunInstancesResponse,
    StartInstancesResponse, StopInstancesRequest, StopInstancesResponse, SystemDisk, Tag,
    TerminateInstancesResponse, VirtualPrivateCloud,
};
use serde::Serialize;

use crate::cvm::ids::{default_subnet_id, default_vpc_id, is_instance_id, random_id, region_of_zone};
use crate::cvm::instances::{fill_defaults, instance_type_size};
use crate::cvm::request::CvmRequest;
use crate::cvm::state_file::{ClientTokenRecord, PendingTransition, StoredInstance};
use crate::cvm::transitions::{complete, LAUNCH_FAILED, TERMINATED};
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::{iso8601, now_ms};

/// The actions the emulator implements.
pub const EMULATED_ACTIONS: &[&str] = &[
    "DescribeInstances",
    "DescribeInstancesStatus",
    "RebootInstances",
    "RunInstances",
    "StartInstances",
    "StopInstances",
    "TerminateInstances",
];

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

/// `img-` followed by 8 lower-case letters or digits.
pub(crate) fn is_image_id(id: &str) -> bool {
    id.len() == 12
        && id.starts_with("img-")
        && id.as_bytes()[4..]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Most ids in one request, and most items in one page.
const MAX_IDS: usize = 100;
const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: i64 = 20;

/// Answers one decoded request: the JSON of the `Response` object.
///
/// With a state file, the answer waits until every change written so far
/// is on disk: its own, and any other it may have seen. An answer is an
/// acknowledgement, so nothing it shows can be lost in a crash.
pub(crate) async fn handle(request: CvmRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let failure = ctx.shared.store().persistence_failure();
    if let Some(why) = failure {
        return Err(not_kept(&why));
    }
    let result = handle_now(request, ctx);
    let ticket = ctx.shared.store().ticket();
    if let Some(ticket) = ticket {
        ticket.durable().await.map_err(|why| not_kept(&why))?;
    }
    result
}

/// The state file can no longer be written: nothing can be acknowledged.
fn not_kept(why: &str) -> ApiError {
    ApiError::new(
        "InternalError",
        format!("cvm-emulator cannot keep its state file ({why}); restart it once the file can be written."),
    )
}

fn handle_now(request: CvmRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let request_id = ctx.request_id.to_owned();
    match request {
        CvmRequest::RunInstances(r) => run_instances(&r, ctx),
        CvmRequest::DescribeInstances(r) => describe_instances(&r, ctx),
        CvmRequest::DescribeInstancesStatus(r) => describe_instances_status(&r, ctx),
        CvmRequest::StartInstances(r) => {
            change_state(Op::Start, &r.instance_ids, ctx, &Options::default())?;
            respond(&StartInstancesResponse { request_id })
        }
        CvmRequest::StopInstances(r) => {
            let options = stop_options(&r)?;
            change_state(Op::Stop, &r.instance_ids, ctx, &options)?;
            respond(&StopInstancesResponse { request_id })
        }
        CvmRequest::RebootInstances(r) => {
            let options = reboot_options(&r)?;
            change_state(Op::Reboot, &r.instance_ids, ctx, &options)?;
            respond(&RebootInstancesResponse { request_id })
        }
        CvmRequest::TerminateInstances(r) => {
            change_state(Op::Terminate, &r.instance_ids, ctx, &Options::default())?;
            respond(&TerminateInstancesResponse { request_id })
        }
    }
}

fn respond<T: Serialize>(response: &T) -> Result<String, ApiError> {
    serde_json::to_string(response)
        .map_err(|e| ApiError::new("InternalError", format!("cannot encode the response: {e}")))
}

/// The request's region: the gateway has checked it against the list and
/// sends none only to actions that need none, which are not emulated.
fn region<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    ctx.region.ok_or_else(|| ApiError::missing("Region"))
}

/// Checks a list of instance ids: count, then format. Duplicates are dropped.
fn check_ids(ids: &[String], required: bool) -> Result<Vec<String>, ApiError> {
    if required && ids.is_empty() {
        return Err(ApiError::missing("InstanceIds"));
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "InstanceIds has {} items; at most {MAX_IDS} are allowed.",
                ids.len()
            ),
        ));
    }
    let malformed: Vec<&str> = ids
        .iter()
        .filter(|id| !is_instance_id(id))
        .map(String::as_str)
        .collect();
    if !malformed.is_empty() {
        return Err(ApiError::new(
            "InvalidInstanceId.Malformed",
            format!(
                "Malformed instance id {} (expected `ins-` followed by 8 lower-case letters or digits).",
                quoted_list(&malformed)
            ),
        ));
    }
    let mut seen = HashSet::new();
    Ok(ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect())
}

/// `` `a`, `b` `` (at most 10 shown, each cut to 64 characters).
fn quoted_list(items: &[&str]) -> String {
    let mut out: Vec<String> = items
        .iter()
        .take(10)
        .map(|s| format!("`{}`", shorten(s)))
        .collect();
    if items.len() > 10 {
        out.push(format!("and {} more", items.len() - 10));
    }
    out.join(", ")
}

fn paging(offset: Option<i64>, limit: Option<i64>) -> Result<(usize, usize), ApiError> {
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid_value(format!(
            "Offset is {offset}; it must not be negative."
        )));
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(0..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_value(format!(
            "Limit is {limit}; it must be between 0 and {MAX_LIMIT}."
        )));
    }
    Ok((
        usize::try_from(offset).unwrap_or(usize::MAX),
        usize::try_from(limit).unwrap_or(0),
    ))
}

// ---------------------------------------------------------------------------
// State changes

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
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
struct Options {
    /// `StoppedMode` of StopInstances.
    stopped_mode: Option<String>,
}

fn check_stop_type(stop_type: Option<&str>) -> Result<(), ApiError> {
    match stop_type {
        None | Some("SOFT" | "HARD" | "SOFT_FIRST") => Ok(()),
        Some(other) => Err(ApiError::invalid_value(format!(
            "StopType `{}` is not one of SOFT, HARD, SOFT_FIRST.",
            shorten(other)
        ))),
    }
}

fn stop_options(r: &StopInstancesRequest) -> Result<Options, ApiError> {
    check_stop_type(r.stop_type.as_deref())?;
    match r.stopped_mode.as_deref() {
        None | Some("KEEP_CHARGING" | "STOP_CHARGING") => {}
        Some(other) => {
            return Err(ApiError::invalid_value(format!(
                "StoppedMode `{}` is not one of KEEP_CHARGING, STOP_CHARGING.",
                shorten(other)
            )))
        }
    }
    Ok(Options {
        stopped_mode: r.stopped_mode.clone(),
    })
}

fn reboot_options(r: &RebootInstancesRequest) -> Result<Options, ApiError> {
    check_stop_type(r.stop_type.as_deref())?;
    Ok(Options::default())
}

/// Start/Stop/Reboot/Terminate: every id is checked under one lock before
/// any instance changes.
fn change_state(op: Op, ids: &[String], ctx: &Ctx<'_>, options: &Options) -> Result<(), ApiError> {
    let region = region(ctx)?;
    let ids = check_ids(ids, true)?;
    let transition_ms = ctx.shared.transition_ms;
    let mut store = ctx.shared.store();
    let now = now_ms();
    store.settle(now);

    let not_found: Vec<&str> = ids
        .iter()
        .filter(|id| store.get(id).map_or(true, |s| s.region != region))
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
            return Err(op.state_error(id, &instance.instance_state));
        }
        if op == Op::Terminate && instance.disable_api_termination {
            return Err(ApiError::new(
                "UnsupportedOperation.InstancesProtected",
                format!("The instance `{id}` has termination protection (DisableApiTermination) enabled."),
            ));
        }
        if op == Op::Stop
            && options.stopped_mode.as_deref() == Some("STOP_CHARGING")
            && instance.instance_charge_type != "POSTPAID_BY_HOUR"
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
        instance.instance_state = during.to_owned();
        instance.latest_operation = Some(op.action().to_owned());
        instance.latest_operation_state = Some("OPERATING".to_owned());
        instance.latest_operation_request_id = Some(ctx.request_id.to_owned());
        instance.latest_operation_error_msg = Some(String::new());
        if op == Op::Stop {
            instance.stop_charging_mode = options
                .stopped_mode
                .clone()
                .unwrap_or_else(|| "KEEP_CHARGING".to_owned());
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
        .commit(&changed, &removed, None)
        .map_err(|why| not_kept(&why))
}

// ---------------------------------------------------------------------------
// RunInstances

fn run_instances(r: &RunInstancesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
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
        .unwrap_or_else(|| "POSTPAID_BY_HOUR".to_owned());
    if !["PREPAID", "POSTPAID_BY_HOUR", "CDHPAID", "SPOTPAID", "CDCPAID"].contains(&charge_type.as_str()) {
        return Err(ApiError::invalid_value(format!(
            "InstanceChargeType `{}` is not one of PREPAID, POSTPAID_BY_HOUR, CDHPAID, SPOTPAID, CDCPAID.",
            shorten(&charge_type)
        )));
    }
    if charge_type == "PREPAID" && r.instance_charge_prepaid.is_none() {
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
    if r.dry_run == Some(true) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }

    let transition_ms = ctx.shared.transition_ms;
    let mut store = ctx.shared.store();
    let now = now_ms();
    store.settle(now);
    let token_key = r
        .client_token
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| (region.to_owned(), t.clone()));
    if let Some(ids) = token_key.as_ref().and_then(|k| store.client_token(k)) {
        // Idempotent retry: the instances of the first call.
        return respond(&RunInstancesResponse {
            instance_id_set: ids.clone(),
            request_id: ctx.request_id.to_owned(),
        });
    }
    if store.len() + count > ctx.shared.max_instances {
        return Err(ApiError::new(
            "InstancesQuotaLimitExceeded",
            format!(
                "Creating {count} more instances would exceed the emulator's quota of {} instances.",
                ctx.shared.max_instances
            ),
        ));
    }

    // Decided now and kept in the pending transition: the outcome does not
    // change if the emulator restarts from its state file before it is due.
    let target = if ctx.shared.launch_fails(image_id) {
        LAUNCH_FAILED
    } else {
        "RUNNING"
    };
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        let mut id = random_id("ins-");
        while store.contains(&id) {
            id = random_id("ins-");
        }
        let mut instance = new_instance(r, ctx, &id, zone, &instance_type, index, count, now);
        instance.cpu = cpu;
        instance.memory = memory;
        instance.instance_charge_type = charge_type.clone();
        let public_ip = instance
            .internet_accessible
            .public_ip_assigned
            .unwrap_or(false)
            .then(|| {
                store.public_ip_counter = store.public_ip_counter.wrapping_add(1);
                let n = store.public_ip_counter % 65_024;
                // 198.18.0.0/15 is reserved for benchmarks: obviously not a real address.
                format!("198.18.{}.{}", n / 254, n % 254 + 1)
            });
        instance.public_ip_addresses = public_ip.map(|ip| vec![ip]);
        let mut stored = StoredInstance {
            region: region.to_owned(),
            instance,
            pending: None,
        };
        stored.instance.private_ip_addresses = vec![store.allocate_private_ip()];
        fill_defaults(&mut stored, now, &mut 0);
        if transition_ms == 0 {
            complete(&mut stored.instance, target);
        } else {
            stored.pending = Some(PendingTransition {
                target_state: target.to_owned(),
                completes_at_ms: now.saturating_add(transition_ms),
            });
        }
        store.insert(stored);
        ids.push(id);
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
        .commit(&ids, &[], token.as_ref())
        .map_err(|why| not_kept(&why))?;
    respond(&RunInstancesResponse {
        instance_id_set: ids,
        request_id: ctx.request_id.to_owned(),
    })
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
            i.internet_charge_type = Some("TRAFFIC_POSTPAID_BY_HOUR".to_owned());
        }
        if i.internet_max_bandwidth_out.is_none() {
            i.internet_max_bandwidth_out = Some(0);
        }
        i
    });
    let (renew_flag, expired_time) = match &r.instance_charge_prepaid {
        Some(p) if r.instance_charge_type.as_deref() == Some("PREPAID") => {
            let months = u64::try_from(p.period.clamp(1, 120)).unwrap_or(1);
            (
                p.renew_flag
                    .clone()
                    .unwrap_or_else(|| "NOTIFY_AND_MANUAL_RENEW".to_owned()),
                iso8601(now.saturating_add(months * 30 * 86_400_000)),
            )
        }
        _ => ("NOTIFY_AND_MANUAL_RENEW".to_owned(), String::new()),
    };
    let tags: Vec<Tag> = r
        .tag_specification
        .iter()
        .flatten()
        .filter(|t| t.resource_type == "instance")
        .flat_map(|t| t.tags.clone())
        .collect();
    let vpc = r.virtual_private_cloud.clone().map(|v| VirtualPrivateCloud {
        vpc_id: v.vpc_id,
        subnet_id: v.subnet_id,
        as_vpc_gateway: Some(v.as_vpc_gateway.unwrap_or(false)),
        ..VirtualPrivateCloud::default()
    });
    Instance {
        placement: Placement {
            zone: zone.to_owned(),
            project_id: Some(placement.project_id.unwrap_or(0)),
            ..Placement::default()
        },
        instance_id: id.to_owned(),
        instance_type: instance_type.to_owned(),
        restrict_state: "NORMAL".to_owned(),
        instance_name: instance_name(r.instance_name.as_deref(), index, count),
        system_disk: r
            .system_disk
            .clone()
            .map(|d| SystemDisk {
                disk_type: Some(d.disk_type.unwrap_or_else(|| "CLOUD_PREMIUM".to_owned())),
                disk_size: Some(d.disk_size.unwrap_or(50)),
                disk_id: Some(random_id("disk-")),
                ..SystemDisk::default()
            })
            .unwrap_or_default(),
        data_disks: r
            .data_disks
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|mut d| {
                d.disk_id = Some(random_id("disk-"));
                d.delete_with_instance = Some(d.delete_with_instance.unwrap_or(true));
                d
            })
            .collect(),
        internet_accessible: internet.unwrap_or_else(|| InternetAccessible {
            internet_charge_type: Some("TRAFFIC_POSTPAID_BY_HOUR".to_owned()),
            internet_max_bandwidth_out: Some(0),
            public_ip_assigned: Some(false),
            ..InternetAccessible::default()
        }),
        virtual_private_cloud: vpc.unwrap_or_else(|| VirtualPrivateCloud {
            vpc_id: default_vpc_id(region),
            subnet_id: default_subnet_id(zone),
            as_vpc_gateway: Some(false),
            ..VirtualPrivateCloud::default()
        }),
        image_id: r.image_id.clone().unwrap_or_default(),
        renew_flag,
        created_time: iso8601(now),
        expired_time,
        security_group_ids: r.security_group_ids.clone().unwrap_or_default(),
        login_settings: LoginSettings {
            // Only the key pairs are returned, never the password.
            key_ids: Some(
                r.login_settings
                    .as_ref()
                    .and_then(|l| l.key_ids.clone())
                    .unwrap_or_default(),
            ),
            ..LoginSettings::default()
        },
        instance_state: "PENDING".to_owned(),
        tags,
        stop_charging_mode: "NOT_APPLICABLE".to_owned(),
        uuid: uuid::Uuid::new_v4().to_string(),
        latest_operation: Some("RunInstances".to_owned()),
        latest_operation_state: Some("OPERATING".to_owned()),
        latest_operation_request_id: Some(ctx.request_id.to_owned()),
        latest_operation_error_msg: Some(String::new()),
        host_name: r.host_name.clone().unwrap_or_default(),
        disable_api_termination: r.disable_api_termination.unwrap_or(false),
        cam_role_name: Some(r.cam_role_name.clone().unwrap_or_default()),
        hpc_cluster_id: r.hpc_cluster_id.clone().unwrap_or_default(),
        dedicated_cluster_id: r.dedicated_cluster_id.clone().unwrap_or_default(),
        disaster_recover_group_ids: r.disaster_recover_group_ids.clone().unwrap_or_default(),
        ..Instance::default()
    }
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

// ---------------------------------------------------------------------------
// Describe

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
    if filters.len() > 10 {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("Filters has {} items; at most 10 are allowed.", filters.len()),
        ));
    }
    let mut out = Vec::with_capacity(filters.len());
    for f in filters {
        let name = f.name.as_str();
        let known = FILTER_NAMES.contains(&name) || name.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
        if !known {
            return Err(ApiError::new(
                "InvalidFilter",
                format!(
                    "The filter `{}` is not supported; use one of {}.",
                    shorten(name),
                    FILTER_NAMES.join(", ")
                ),
            ));
        }
        if f.values.is_empty() {
            return Err(ApiError::missing("Filters.Values"));
        }
        if f.values.len() > 5 {
            return Err(ApiError::new(
                "InvalidFilterValue.LimitExceeded",
                format!(
                    "The filter `{name}` has {} values; at most 5 are allowed.",
                    f.values.len()
                ),
            ));
        }
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

fn matches(instance: &Instance, filters: &[Prepared<'_>]) -> bool {
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
            "instance-charge-type" => any(&instance.instance_charge_type),
            "instance-state" => any(&instance.instance_state),
            "private-ip-address" => any_of(&instance.private_ip_addresses),
            "public-ip-address" => instance.public_ip_addresses.as_deref().is_some_and(any_of),
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

fn describe_instances(r: &DescribeInstancesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
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
    let (total, page) = if ids.is_empty() {
        let mut total = 0;
        let mut page = Vec::new();
        for stored in store.in_region(region).filter(|s| matches(&s.instance, &filters)) {
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
    respond(&DescribeInstancesResponse {
        total_count: i64::try_from(total).unwrap_or(i64::MAX),
        instance_set: page,
        request_id: ctx.request_id.to_owned(),
    })
}

fn describe_instances_status(r: &DescribeInstancesStatusRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    let ids = check_ids(r.instance_ids.as_deref().unwrap_or_default(), false)?;
    let (offset, limit) = paging(r.offset, r.limit)?;
    check_rules(r)?;

    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let status = |s: &StoredInstance| InstanceStatus {
        instance_id: s.instance.instance_id.clone(),
        instance_state: s.instance.instance_state.clone(),
    };
    let (total, page) = if ids.is_empty() {
        let all: Vec<&StoredInstance> = store.in_region(region).collect();
        (
            all.len(),
            all.iter().skip(offset).take(limit).map(|s| status(s)).collect(),
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
    respond(&DescribeInstancesStatusResponse {
        total_count: i64::try_from(total).unwrap_or(i64::MAX),
        instance_status_set: page,
        request_id: ctx.request_id.to_owned(),
    })
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

    #[test]
    fn creation_times() {
        assert_eq!(
            creation_time("2023-06-01 00:00:00").unwrap(),
            "2023-06-01T00:00:00Z"
        );
        assert!(creation_time("2023-06-01").is_err());
    }
}
