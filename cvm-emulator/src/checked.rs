//! What the gateway hands on: a request that passed every check, decoded
//! into its service's typed request, or checked against the description
//! when the action is not emulated. Each emulated service's request enum
//! converts into it, so the services' decoders never name this type
//! (see [`crate::fallback`]).

use crate::cbs::CbsRequest;
use crate::cvm::request::CvmRequest;
use crate::error::ApiError;
use crate::sts::StsRequest;
use crate::tag::TagRequest;
use crate::vpc::VpcRequest;

/// A request that passed the gateway, for the service it names.
pub(crate) enum Checked {
    Cvm(CvmRequest),
    Cbs(CbsRequest),
    Sts(StsRequest),
    Vpc(VpcRequest),
    Tag(TagRequest),
    /// A valid request of an action the emulator does not implement,
    /// with the result of the spec's rules (reported after the fault).
    NotEmulated {
        service: &'static str,
        action: &'static str,
        /// The service's emulated actions, for the message.
        emulated: &'static [&'static str],
        rules: Result<(), ApiError>,
    },
}

impl Checked {
    pub(crate) fn action(&self) -> &'static str {
        match self {
            Checked::Cvm(r) => r.action(),
            Checked::Cbs(r) => r.action(),
            Checked::Sts(r) => r.action(),
            Checked::Vpc(r) => r.action(),
            Checked::Tag(r) => r.action(),
            Checked::NotEmulated { action, .. } => action,
        }
    }
}

impl From<CvmRequest> for Checked {
    fn from(request: CvmRequest) -> Self {
        Checked::Cvm(request)
    }
}

impl From<CbsRequest> for Checked {
    fn from(request: CbsRequest) -> Self {
        Checked::Cbs(request)
    }
}

impl From<StsRequest> for Checked {
    fn from(request: StsRequest) -> Self {
        Checked::Sts(request)
    }
}

impl From<VpcRequest> for Checked {
    fn from(request: VpcRequest) -> Self {
        Checked::Vpc(request)
    }
}

impl From<TagRequest> for Checked {
    fn from(request: TagRequest) -> Self {
        Checked::Tag(request)
    }
}
