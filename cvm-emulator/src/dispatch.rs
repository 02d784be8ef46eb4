//! Every action of the spec, decoded into its typed request.
//!
//! Built with `cvm_api::cvm_actions!`, so an action added to the spec is
//! decoded and checked here without touching this file; the handlers in
//! [`crate::actions`] answer the ones the emulator implements.

use crate::decode::{check_rules, decode, Params};
use crate::error::{shorten, ApiError};
use crate::server::Checked;

macro_rules! define_requests {
    ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
        /// Names of every action of the spec (`X-TC-Action` values).
        pub const ACTIONS: &[&str] = &[$(stringify!($action)),*];

        /// A decoded request of any action.
        #[allow(clippy::enum_variant_names)]
        pub(crate) enum ApiRequest {
            $($action(Box<cvm_api::types::$req>),)*
        }

        impl ApiRequest {
            /// Decodes `params` as a request of `action` (a name from [`ACTIONS`]).
            pub(crate) fn decode(action: &str, params: Params) -> Result<ApiRequest, ApiError> {
                match action {
                    $(stringify!($action) => decode::<cvm_api::types::$req>(action, params)
                        .map(|r| ApiRequest::$action(Box::new(r))),)*
                    _ => Err(invalid_action(action)),
                }
            }

            /// The spec's rules for this request (see [`check_rules`]).
            pub(crate) fn check_rules(&self) -> Result<(), ApiError> {
                match self {
                    $(ApiRequest::$action(r) => check_rules(&**r),)*
                }
            }

            /// The action's name.
            pub(crate) fn action(&self) -> &'static str {
                match self {
                    $(ApiRequest::$action(_) => stringify!($action),)*
                }
            }
        }
    };
}

cvm_api::cvm_actions!(define_requests);

/// The gateway's decoding for CVM (see [`crate::services`]): every action
/// decoded, the emulated ones answered from the state by [`crate::actions`].
pub(crate) fn decode_checked(action: &'static str, params: Params) -> Result<Checked, ApiError> {
    ApiRequest::decode(action, params).map(Checked::Cvm)
}

/// The static name of a known action (case-sensitive, like the gateway).
#[cfg(test)]
fn known_action(name: &str) -> Option<&'static str> {
    ACTIONS.iter().copied().find(|a| *a == name)
}

fn invalid_action(name: &str) -> ApiError {
    let shown = shorten(name);
    ApiError::new(
        "InvalidAction",
        format!("The action `{shown}` does not exist in version 2017-03-12 of cvm."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_action() {
        assert_eq!(ACTIONS.len(), 106);
        assert_eq!(known_action("StartInstances"), Some("StartInstances"));
        assert_eq!(known_action("startinstances"), None);
        for action in ACTIONS {
            // `{}` decodes for actions without required members; either way
            // the answer is a gateway error, never a panic.
            match ApiRequest::decode(action, Params::Tree(serde_json::json!({}))) {
                Ok(r) => assert_eq!(r.action(), *action),
                Err(e) => assert_eq!(e.code, "MissingParameter", "{action}: {e}"),
            }
        }
    }
}
