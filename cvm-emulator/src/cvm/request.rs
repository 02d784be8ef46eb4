//! CVM's actions at the gateway: the emulated ones decoded into `cvm_api`'s
//! typed requests for [`crate::cvm::actions`], every other one checked against
//! the description (see [`crate::services`]).

use cvm_api::types::{
    DescribeInstancesRequest, DescribeInstancesStatusRequest, RebootInstancesRequest, RunInstancesRequest,
    StartInstancesRequest, StopInstancesRequest, TerminateInstancesRequest,
};

use crate::decode::{decode as decode_as, Params};
use crate::error::ApiError;
use crate::fallback::Fallback;

/// Names of every action of the spec (`X-TC-Action` values), from
/// `cvm_api::cvm_actions!`: names only, nothing decoded.
pub const ACTIONS: &[&str] = {
    macro_rules! names {
        ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
            &[$(stringify!($action)),*]
        };
    }
    cvm_api::cvm_actions!(names)
};

/// A decoded request of an emulated action ([`EMULATED_ACTIONS`](crate::EMULATED_ACTIONS)).
pub(crate) enum CvmRequest {
    DescribeInstances(Box<DescribeInstancesRequest>),
    DescribeInstancesStatus(Box<DescribeInstancesStatusRequest>),
    RebootInstances(Box<RebootInstancesRequest>),
    RunInstances(Box<RunInstancesRequest>),
    StartInstances(Box<StartInstancesRequest>),
    StopInstances(Box<StopInstancesRequest>),
    TerminateInstances(Box<TerminateInstancesRequest>),
}

impl CvmRequest {
    /// The action's name.
    pub(crate) fn action(&self) -> &'static str {
        match self {
            CvmRequest::DescribeInstances(_) => "DescribeInstances",
            CvmRequest::DescribeInstancesStatus(_) => "DescribeInstancesStatus",
            CvmRequest::RebootInstances(_) => "RebootInstances",
            CvmRequest::RunInstances(_) => "RunInstances",
            CvmRequest::StartInstances(_) => "StartInstances",
            CvmRequest::StopInstances(_) => "StopInstances",
            CvmRequest::TerminateInstances(_) => "TerminateInstances",
        }
    }
}

/// The gateway's decoding for CVM: the emulated actions into typed
/// requests, answered from the state by [`crate::cvm::actions`]; the others
/// checked against the description, for `UnsupportedOperation`.
/// Generic over the service ([`Fallback`]) so that this module does not
/// depend on the registry that names it.
pub(crate) fn decode<S: Fallback>(
    service: &'static S,
    action: &'static str,
    params: Params,
) -> Result<S::Checked, ApiError>
where
    S::Checked: From<CvmRequest>,
{
    let request = match action {
        "DescribeInstances" => CvmRequest::DescribeInstances(Box::new(decode_as(action, params)?)),
        "DescribeInstancesStatus" => {
            CvmRequest::DescribeInstancesStatus(Box::new(decode_as(action, params)?))
        }
        "RebootInstances" => CvmRequest::RebootInstances(Box::new(decode_as(action, params)?)),
        "RunInstances" => CvmRequest::RunInstances(Box::new(decode_as(action, params)?)),
        "StartInstances" => CvmRequest::StartInstances(Box::new(decode_as(action, params)?)),
        "StopInstances" => CvmRequest::StopInstances(Box::new(decode_as(action, params)?)),
        "TerminateInstances" => CvmRequest::TerminateInstances(Box::new(decode_as(action, params)?)),
        _ => return service.validate(action, params),
    };
    Ok(request.into())
}

/// Every CVM action decoded into its typed request, then its rules: what the
/// model-driven checks are compared with (`services::tests`). Test builds
/// only: a decoder per action is what the gateway no longer compiles.
#[cfg(test)]
pub(crate) fn decode_typed(action: &str, params: Params) -> Result<(), ApiError> {
    use crate::decode::{check_rules, decode_tree};
    // The tree path alone: what the gateway runs on queries, forms and
    // bodies missing a member, at half the code of both paths.
    let tree = params.into_tree()?;
    macro_rules! every_action {
        ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
            match action {
                $(stringify!($action) => check_rules(&decode_tree::<cvm_api::types::$req>(action, tree)?),)*
                _ => Err(ApiError::new("InvalidAction", action.to_owned())),
            }
        };
    }
    cvm_api::cvm_actions!(every_action)
}
