//! CVM's actions at the gateway: the emulated ones decoded into `cvm_api`'s
//! typed requests for [`crate::cvm::actions`], every other one checked against
//! the description (see [`crate::services`]).

use cvm_api::types::{
    DescribeInstancesRequest, DescribeInstancesStatusRequest, RebootInstancesRequest, RunInstancesRequest,
    StartInstancesRequest, StopInstancesRequest, TerminateInstancesRequest,
};

use crate::decode::{decode, Params};
use crate::error::ApiError;
use crate::server::Checked;
use crate::services::Service;

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

/// A decoded request of an emulated action ([`crate::EMULATED_ACTIONS`]).
pub(crate) enum ApiRequest {
    DescribeInstances(Box<DescribeInstancesRequest>),
    DescribeInstancesStatus(Box<DescribeInstancesStatusRequest>),
    RebootInstances(Box<RebootInstancesRequest>),
    RunInstances(Box<RunInstancesRequest>),
    StartInstances(Box<StartInstancesRequest>),
    StopInstances(Box<StopInstancesRequest>),
    TerminateInstances(Box<TerminateInstancesRequest>),
}

impl ApiRequest {
    /// The action's name.
    pub(crate) fn action(&self) -> &'static str {
        match self {
            ApiRequest::DescribeInstances(_) => "DescribeInstances",
            ApiRequest::DescribeInstancesStatus(_) => "DescribeInstancesStatus",
            ApiRequest::RebootInstances(_) => "RebootInstances",
            ApiRequest::RunInstances(_) => "RunInstances",
            ApiRequest::StartInstances(_) => "StartInstances",
            ApiRequest::StopInstances(_) => "StopInstances",
            ApiRequest::TerminateInstances(_) => "TerminateInstances",
        }
    }
}

/// The gateway's decoding for CVM: the emulated actions into typed
/// requests, answered from the state by [`crate::cvm::actions`]; the others
/// checked against the description, for `UnsupportedOperation`.
pub(crate) fn decode_checked(
    service: &'static Service,
    action: &'static str,
    params: Params,
) -> Result<Checked, ApiError> {
    let request = match action {
        "DescribeInstances" => ApiRequest::DescribeInstances(Box::new(decode(action, params)?)),
        "DescribeInstancesStatus" => ApiRequest::DescribeInstancesStatus(Box::new(decode(action, params)?)),
        "RebootInstances" => ApiRequest::RebootInstances(Box::new(decode(action, params)?)),
        "RunInstances" => ApiRequest::RunInstances(Box::new(decode(action, params)?)),
        "StartInstances" => ApiRequest::StartInstances(Box::new(decode(action, params)?)),
        "StopInstances" => ApiRequest::StopInstances(Box::new(decode(action, params)?)),
        "TerminateInstances" => ApiRequest::TerminateInstances(Box::new(decode(action, params)?)),
        _ => return service.validate(action, params),
    };
    Ok(Checked::Cvm(request))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_action_and_decodes_the_emulated_ones() {
        assert_eq!(ACTIONS.len(), 106);
        for action in crate::EMULATED_ACTIONS {
            assert!(ACTIONS.contains(action), "{action}");
        }
        let cvm = Service::from_scope("cvm").unwrap();
        for action in ACTIONS {
            let action = cvm.action(action).unwrap();
            // `{}`: a gateway error or a request, never a panic.
            match decode_checked(cvm, action, Params::Tree(serde_json::json!({}))) {
                Ok(Checked::Cvm(r)) => assert_eq!(r.action(), action),
                Ok(Checked::NotEmulated { action: a, .. }) => {
                    assert_eq!(a, action);
                    assert!(!crate::EMULATED_ACTIONS.contains(&action));
                }
                Ok(_) => panic!("{action}: another service's request"),
                Err(e) => assert_eq!(e.code, "MissingParameter", "{action}: {e}"),
            }
        }
    }
}
