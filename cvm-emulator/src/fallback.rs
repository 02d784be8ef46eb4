//! What an emulated service's decoder (`cvm::request`, `sts`, `vpc`) needs
//! of the registry of services ([`crate::services`]): the description's
//! check of the actions it does not emulate.
//!
//! The registry names the decoders in its table, so a decoder naming the
//! registry back would make the two depend on each other. Decoders are
//! generic over this trait instead; the gateway implements it for
//! `services::Service`, whose `Checked` is [`crate::checked::Checked`].

use crate::decode::{ModelVerdict, Params};
use crate::error::ApiError;

/// A service that can check any of its actions against its description.
pub(crate) trait Fallback: ModelVerdict {
    /// The gateway's checked request, which every emulated service's
    /// request enum converts into.
    type Checked;

    /// Checks `params` as a request of `action`, one the decoder does not
    /// emulate (`UnsupportedOperation` follows).
    fn validate(&'static self, action: &'static str, params: Params) -> Result<Self::Checked, ApiError>;
}
