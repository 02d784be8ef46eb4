//! CVM's actions at the gateway: the emulated ones decoded into `cvm_api`'s
//! typed requests for [`crate::cvm::actions`], every other one checked against
//! the description (see [`crate::services`]).

use cvm_api::types::{
    AssociateInstancesKeyPairsRequest, CreateImageRequest, CreateKeyPairRequest, DeleteImagesRequest,
    DeleteKeyPairsRequest, DescribeImagesRequest, DescribeInstanceTypeConfigsRequest,
    DescribeInstancesRequest, DescribeInstancesStatusRequest, DescribeKeyPairsRequest,
    DescribeRegionsRequest, DescribeZoneInstanceConfigInfosRequest, DescribeZonesRequest,
    DisassociateInstancesKeyPairsRequest, ImportKeyPairRequest, ModifyInstancesAttributeRequest,
    RebootInstancesRequest, ResetInstanceRequest, ResetInstancesPasswordRequest, ResetInstancesTypeRequest,
    ResizeInstanceDisksRequest, RunInstancesRequest, StartInstancesRequest, StopInstancesRequest,
    TerminateInstancesRequest,
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
    ResetInstance(Box<ResetInstanceRequest>),
    ResizeInstanceDisks(Box<ResizeInstanceDisksRequest>),
    CreateImage(Box<CreateImageRequest>),
    DeleteImages(Box<DeleteImagesRequest>),
    ModifyInstancesAttribute(Box<ModifyInstancesAttributeRequest>),
    ResetInstancesPassword(Box<ResetInstancesPasswordRequest>),
    ResetInstancesType(Box<ResetInstancesTypeRequest>),
    AssociateInstancesKeyPairs(Box<AssociateInstancesKeyPairsRequest>),
    CreateKeyPair(Box<CreateKeyPairRequest>),
    DeleteKeyPairs(Box<DeleteKeyPairsRequest>),
    DescribeKeyPairs(Box<DescribeKeyPairsRequest>),
    DisassociateInstancesKeyPairs(Box<DisassociateInstancesKeyPairsRequest>),
    ImportKeyPair(Box<ImportKeyPairRequest>),
    DescribeImages(Box<DescribeImagesRequest>),
    DescribeInstanceTypeConfigs(Box<DescribeInstanceTypeConfigsRequest>),
    DescribeRegions,
    DescribeZoneInstanceConfigInfos(Box<DescribeZoneInstanceConfigInfosRequest>),
    DescribeZones,
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
            CvmRequest::ResetInstance(_) => "ResetInstance",
            CvmRequest::ResizeInstanceDisks(_) => "ResizeInstanceDisks",
            CvmRequest::CreateImage(_) => "CreateImage",
            CvmRequest::DeleteImages(_) => "DeleteImages",
            CvmRequest::ModifyInstancesAttribute(_) => "ModifyInstancesAttribute",
            CvmRequest::ResetInstancesPassword(_) => "ResetInstancesPassword",
            CvmRequest::ResetInstancesType(_) => "ResetInstancesType",
            CvmRequest::AssociateInstancesKeyPairs(_) => "AssociateInstancesKeyPairs",
            CvmRequest::CreateKeyPair(_) => "CreateKeyPair",
            CvmRequest::DeleteKeyPairs(_) => "DeleteKeyPairs",
            CvmRequest::DescribeKeyPairs(_) => "DescribeKeyPairs",
            CvmRequest::DisassociateInstancesKeyPairs(_) => "DisassociateInstancesKeyPairs",
            CvmRequest::ImportKeyPair(_) => "ImportKeyPair",
            CvmRequest::DescribeImages(_) => "DescribeImages",
            CvmRequest::DescribeInstanceTypeConfigs(_) => "DescribeInstanceTypeConfigs",
            CvmRequest::DescribeRegions => "DescribeRegions",
            CvmRequest::DescribeZoneInstanceConfigInfos(_) => "DescribeZoneInstanceConfigInfos",
            CvmRequest::DescribeZones => "DescribeZones",
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
        "ResetInstance" => CvmRequest::ResetInstance(Box::new(decode_as(service, action, params)?)),
        "ResizeInstanceDisks" => {
            CvmRequest::ResizeInstanceDisks(Box::new(decode_as(service, action, params)?))
        }
        "CreateImage" => CvmRequest::CreateImage(Box::new(decode_as(service, action, params)?)),
        "DeleteImages" => CvmRequest::DeleteImages(Box::new(decode_as(service, action, params)?)),
        "ModifyInstancesAttribute" => {
            CvmRequest::ModifyInstancesAttribute(Box::new(decode_as(service, action, params)?))
        }
        "ResetInstancesPassword" => {
            CvmRequest::ResetInstancesPassword(Box::new(decode_as(service, action, params)?))
        }
        "ResetInstancesType" => CvmRequest::ResetInstancesType(Box::new(decode_as(service, action, params)?)),
        "AssociateInstancesKeyPairs" => {
            CvmRequest::AssociateInstancesKeyPairs(Box::new(decode_as(service, action, params)?))
        }
        "CreateKeyPair" => CvmRequest::CreateKeyPair(Box::new(decode_as(service, action, params)?)),
        "DeleteKeyPairs" => CvmRequest::DeleteKeyPairs(Box::new(decode_as(service, action, params)?)),
        "DescribeKeyPairs" => CvmRequest::DescribeKeyPairs(Box::new(decode_as(service, action, params)?)),
        "DisassociateInstancesKeyPairs" => {
            CvmRequest::DisassociateInstancesKeyPairs(Box::new(decode_as(service, action, params)?))
        }
        "ImportKeyPair" => CvmRequest::ImportKeyPair(Box::new(decode_as(service, action, params)?)),
        "DescribeImages" => CvmRequest::DescribeImages(Box::new(decode_as(service, action, params)?)),
        "DescribeInstanceTypeConfigs" => {
            CvmRequest::DescribeInstanceTypeConfigs(Box::new(decode_as(service, action, params)?))
        }
        // No members: decoded only to refuse unknown ones.
        "DescribeRegions" => {
            decode_as::<DescribeRegionsRequest, _>(service, action, params)?;
            CvmRequest::DescribeRegions
        }
        "DescribeZoneInstanceConfigInfos" => {
            CvmRequest::DescribeZoneInstanceConfigInfos(Box::new(decode_as(service, action, params)?))
        }
        "DescribeZones" => {
            decode_as::<DescribeZonesRequest, _>(service, action, params)?;
            CvmRequest::DescribeZones
        }
        "DescribeInstances" => CvmRequest::DescribeInstances(Box::new(decode_as(service, action, params)?)),
        "DescribeInstancesStatus" => {
            CvmRequest::DescribeInstancesStatus(Box::new(decode_as(service, action, params)?))
        }
        "RebootInstances" => CvmRequest::RebootInstances(Box::new(decode_as(service, action, params)?)),
        "RunInstances" => CvmRequest::RunInstances(Box::new(decode_as(service, action, params)?)),
        "StartInstances" => CvmRequest::StartInstances(Box::new(decode_as(service, action, params)?)),
        "StopInstances" => CvmRequest::StopInstances(Box::new(decode_as(service, action, params)?)),
        "TerminateInstances" => CvmRequest::TerminateInstances(Box::new(decode_as(service, action, params)?)),
        _ => return service.validate(action, params),
    };
    Ok(request.into())
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
                tree.pointer(&pointer).is_some_and(|v| !v.is_null())
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
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                segments_of(parent, out)
            }
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
