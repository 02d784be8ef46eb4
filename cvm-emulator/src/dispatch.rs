//! CVM's actions at the gateway: the emulated ones decoded into `cvm_api`'s
//! typed requests for [`crate::actions`], every other one checked against
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
/// requests, answered from the state by [`crate::actions`]; the others
/// checked against the description, for `UnsupportedOperation`.
pub(crate) fn decode_checked(
    service: &'static Service,
    action: &'static str,
    params: Params,
) -> Result<Checked, ApiError> {
    let request = match action {
        "DescribeInstances" => ApiRequest::DescribeInstances(Box::new(decode(service, action, params)?)),
        "DescribeInstancesStatus" => ApiRequest::DescribeInstancesStatus(Box::new(decode(service, action, params)?)),
        "RebootInstances" => ApiRequest::RebootInstances(Box::new(decode(service, action, params)?)),
        "RunInstances" => ApiRequest::RunInstances(Box::new(decode(service, action, params)?)),
        "StartInstances" => ApiRequest::StartInstances(Box::new(decode(service, action, params)?)),
        "StopInstances" => ApiRequest::StopInstances(Box::new(decode(service, action, params)?)),
        "TerminateInstances" => ApiRequest::TerminateInstances(Box::new(decode(service, action, params)?)),
        _ => return service.validate(action, params),
    };
    Ok(Checked::Cvm(request))
}

/// What CVM's typed request made of a tree (test builds only: a decoder
/// per action is what the gateway no longer compiles).
#[cfg(test)]
#[derive(Debug, PartialEq)]
pub(crate) enum Typed {
    /// serde refused the tree.
    Refused,
    /// Decoded, ignoring members the request does not define (dotted paths
    /// of those that are not null, in the tree's order).
    Ignored(Vec<String>),
    /// Decoded whole; what its generated `Validate` reports.
    Decoded(Vec<tencentcloud_model::Violation>),
}

/// Every CVM action decoded into its typed request, then its rules: what the
/// model-driven checks are compared with (`services::tests`).
#[cfg(test)]
pub(crate) fn decode_typed(action: &str, tree: &serde_json::Value) -> Typed {
    use tencentcloud_model::Validate;

    fn typed<T: serde::de::DeserializeOwned + Validate>(tree: &serde_json::Value) -> Typed {
        let mut ignored = Vec::new();
        let decoded: Result<T, _> = serde_ignored::deserialize(tree, |path| {
            let mut segments = Vec::new();
            segments_of(&path, &mut segments);
            ignored.push(segments);
        });
        let Ok(request) = decoded else {
            return Typed::Refused;
        };
        // Nulls are as good as absent.
        let ignored: Vec<String> = ignored
            .into_iter()
            .filter(|segments| {
                let pointer: String = segments.iter().map(|s| format!("/{s}")).collect();
                !tree.pointer(&pointer).is_none_or(serde_json::Value::is_null)
            })
            .map(|segments| segments.join("."))
            .collect();
        if !ignored.is_empty() {
            return Typed::Ignored(ignored);
        }
        Typed::Decoded(request.check().err().map_or_else(Vec::new, |e| e.violations))
    }
    /// Member names and list indices of an ignored member's path.
    fn segments_of(path: &serde_ignored::Path<'_>, out: &mut Vec<String>) {
        use serde_ignored::Path as P;
        match path {
            P::Root => {}
            P::Seq { parent, index } => {
                segments_of(parent, out);
                out.push(index.to_string());
            }
            P::Map { parent, key } => {
                segments_of(parent, out);
                out.push(key.clone());
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => segments_of(parent, out),
        }
    }
    macro_rules! every_action {
        ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
            match action {
                $(stringify!($action) => typed::<cvm_api::types::$req>(tree),)*
                _ => Typed::Refused,
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
