//! The emulated actions. Each handler runs under the store's lock without
//! awaiting, so batches are all-or-nothing and transitions are never lost or
//! doubled. With a state file, a handler that changes the store records the
//! change in the journal before releasing the lock, and no answer is sent
//! before the changes it may reflect are on disk.

use cvm_api::types::{
    RebootInstancesResponse, StartInstancesResponse, StopInstancesResponse, TerminateInstancesResponse,
};

use super::catalog;
use super::change_state::{change_state, reboot_options, stop_options, Op, Options};
use super::common::{answer_kept, respond};
use super::describe::{describe_instances, describe_instances_status};
use super::keypairs;
use super::launch::run_instances;
use super::request::CvmRequest;
use super::{images, modify};
use crate::error::ApiError;
use crate::shared::Ctx;

/// The actions the emulator implements.
pub const EMULATED_ACTIONS: &[&str] = &[
    "AssociateInstancesKeyPairs",
    "CreateImage",
    "CreateKeyPair",
    "DeleteImages",
    "DeleteKeyPairs",
    "DescribeImages",
    "DescribeInstanceTypeConfigs",
    "DescribeInstances",
    "DescribeInstancesStatus",
    "DescribeKeyPairs",
    "DescribeRegions",
    "DescribeZoneInstanceConfigInfos",
    "DescribeZones",
    "DisassociateInstancesKeyPairs",
    "ImportKeyPair",
    "ModifyInstancesAttribute",
    "RebootInstances",
    "ResetInstance",
    "ResetInstancesPassword",
    "ResetInstancesType",
    "ResizeInstanceDisks",
    "RunInstances",
    "StartInstances",
    "StopInstances",
    "TerminateInstances",
];

/// Answers one decoded request: the JSON of the `Response` object, once
/// every change it may reflect is on disk ([`answer_kept`]).
pub(crate) async fn handle(request: CvmRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    answer_kept(ctx, || handle_now(request, ctx)).await
}

fn handle_now(request: CvmRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let request_id = ctx.request_id.to_owned();
    match request {
        CvmRequest::DescribeRegions => catalog::describe_regions(ctx),
        CvmRequest::DescribeZones => catalog::describe_zones(ctx),
        CvmRequest::DescribeImages(r) => catalog::describe_images(&r, ctx),
        CvmRequest::DescribeInstanceTypeConfigs(r) => catalog::describe_instance_type_configs(&r, ctx),
        CvmRequest::DescribeZoneInstanceConfigInfos(r) => {
            catalog::describe_zone_instance_config_infos(&r, ctx)
        }
        CvmRequest::CreateKeyPair(r) => keypairs::create_key_pair(&r, ctx),
        CvmRequest::ImportKeyPair(r) => keypairs::import_key_pair(&r, ctx),
        CvmRequest::DescribeKeyPairs(r) => keypairs::describe_key_pairs(&r, ctx),
        CvmRequest::DeleteKeyPairs(r) => keypairs::delete_key_pairs(&r, ctx),
        CvmRequest::AssociateInstancesKeyPairs(r) => keypairs::associate_instances_key_pairs(&r, ctx),
        CvmRequest::DisassociateInstancesKeyPairs(r) => keypairs::disassociate_instances_key_pairs(&r, ctx),
        CvmRequest::ModifyInstancesAttribute(r) => modify::modify_instances_attribute(&r, ctx),
        CvmRequest::ResetInstancesType(r) => modify::reset_instances_type(&r, ctx),
        CvmRequest::ResetInstancesPassword(r) => modify::reset_instances_password(&r, ctx),
        CvmRequest::ResetInstance(r) => modify::reset_instance(&r, ctx),
        CvmRequest::ResizeInstanceDisks(r) => modify::resize_instance_disks(&r, ctx),
        CvmRequest::CreateImage(r) => images::create_image(&r, ctx),
        CvmRequest::DeleteImages(r) => images::delete_images(&r, ctx),
        CvmRequest::RunInstances(r) => run_instances(&r, ctx),
        CvmRequest::DescribeInstances(r) => describe_instances(&r, ctx),
        CvmRequest::DescribeInstancesStatus(r) => describe_instances_status(&r, ctx),
        CvmRequest::StartInstances(r) => {
            change_state(Op::Start, &r.instance_ids, ctx, &Options::default())?;
            respond(&StartInstancesResponse::new().set_request_id(request_id))
        }
        CvmRequest::StopInstances(r) => {
            let options = stop_options(&r)?;
            change_state(Op::Stop, &r.instance_ids, ctx, &options)?;
            respond(&StopInstancesResponse::new().set_request_id(request_id))
        }
        CvmRequest::RebootInstances(r) => {
            let options = reboot_options(&r)?;
            change_state(Op::Reboot, &r.instance_ids, ctx, &options)?;
            respond(&RebootInstancesResponse::new().set_request_id(request_id))
        }
        CvmRequest::TerminateInstances(r) => {
            change_state(Op::Terminate, &r.instance_ids, ctx, &Options::default())?;
            respond(&TerminateInstancesResponse::new().set_request_id(request_id))
        }
    }
}
