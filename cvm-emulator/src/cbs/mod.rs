//! CBS (2017-03-12): cloud disks. CreateDisks, DescribeDisks, AttachDisks,
//! DetachDisks and TerminateDisks act on stored disks ([`disks`]); every
//! other action is checked against the description, then answered
//! `UnsupportedOperation`.

pub(crate) mod disks;

use cbs_api::types::{
    AttachDisksRequest, CreateDisksRequest, DescribeDisksRequest, DetachDisksRequest, TerminateDisksRequest,
};

use crate::decode::{decode as decode_as, Params};
use crate::error::ApiError;
use crate::fallback::Fallback;
use crate::shared::Ctx;

/// The CBS actions the emulator implements.
pub const CBS_EMULATED_ACTIONS: &[&str] = &[
    "AttachDisks",
    "CreateDisks",
    "DescribeDisks",
    "DetachDisks",
    "TerminateDisks",
];

/// A decoded request of an emulated CBS action (named as the actions are).
#[allow(clippy::enum_variant_names)]
pub(crate) enum CbsRequest {
    CreateDisks(Box<CreateDisksRequest>),
    DescribeDisks(Box<DescribeDisksRequest>),
    AttachDisks(Box<AttachDisksRequest>),
    DetachDisks(Box<DetachDisksRequest>),
    TerminateDisks(Box<TerminateDisksRequest>),
}

impl CbsRequest {
    pub(crate) fn action(&self) -> &'static str {
        match self {
            CbsRequest::CreateDisks(_) => "CreateDisks",
            CbsRequest::DescribeDisks(_) => "DescribeDisks",
            CbsRequest::AttachDisks(_) => "AttachDisks",
            CbsRequest::DetachDisks(_) => "DetachDisks",
            CbsRequest::TerminateDisks(_) => "TerminateDisks",
        }
    }
}

/// Decodes `params` as a request of `action` (one of CBS's): the emulated
/// actions into `cbs_api`'s typed requests, the others checked against the
/// description, for `UnsupportedOperation`.
pub(crate) fn decode<S: Fallback>(
    service: &'static S,
    action: &'static str,
    params: Params,
) -> Result<S::Checked, ApiError>
where
    S::Checked: From<CbsRequest>,
{
    let request = match action {
        "CreateDisks" => CbsRequest::CreateDisks(Box::new(decode_as(service, action, params)?)),
        "DescribeDisks" => CbsRequest::DescribeDisks(Box::new(decode_as(service, action, params)?)),
        "AttachDisks" => CbsRequest::AttachDisks(Box::new(decode_as(service, action, params)?)),
        "DetachDisks" => CbsRequest::DetachDisks(Box::new(decode_as(service, action, params)?)),
        "TerminateDisks" => CbsRequest::TerminateDisks(Box::new(decode_as(service, action, params)?)),
        _ => return service.validate(action, params),
    };
    Ok(request.into())
}

/// Answers one decoded CBS request: the JSON of the `Response` object.
pub(crate) fn handle(request: CbsRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    match request {
        CbsRequest::CreateDisks(r) => disks::create_disks(&r, ctx),
        CbsRequest::DescribeDisks(r) => disks::describe_disks(&r, ctx),
        CbsRequest::AttachDisks(r) => disks::attach_disks(&r, ctx),
        CbsRequest::DetachDisks(r) => disks::detach_disks(&r, ctx),
        CbsRequest::TerminateDisks(r) => disks::terminate_disks(&r, ctx),
    }
}
