//! Every service whose crate is in the workspace, on one listener.
//!
//! The credential scope of a signed request names the service; from there
//! the gateway applies that service's version, action list and region rule,
//! then decodes the parameters into the action's typed request, generated
//! from the official description (`UnknownParameter`, `MissingParameter`,
//! `InvalidParameter` as for CVM). Actions a service emulates are decoded
//! for their handlers; every other action is validated the same way and
//! answered `UnsupportedOperation`.
//!
//! Adding a service is a dependency on its generated crate and one line in
//! the [`services!`] call below: its `*_actions!` list gives the rest.

use crate::decode::{check_rules, decode, Params};
use crate::error::{shorten, ApiError};
use crate::server::Checked;

/// One service on the listener: what the gateway checks a request against.
pub(crate) struct Service {
    /// The credential scope's service (`cvm`, `vpc`, ...).
    pub(crate) name: &'static str,
    /// The only `X-TC-Version` accepted.
    pub(crate) version: &'static str,
    /// Every action of that version (`X-TC-Action` values, case-sensitive).
    pub(crate) actions: &'static [&'static str],
    /// Whether `X-TC-Region` is required for an action.
    needs_region: fn(&str) -> bool,
    /// Parameters to a checked request (see [`validate`](vpc::validate)).
    decode: fn(&'static str, Params) -> Result<Checked, ApiError>,
}

impl Service {
    /// The service a credential scope names.
    pub(crate) fn from_scope(name: &str) -> Option<&'static Service> {
        SERVICES.iter().copied().find(|s| s.name == name)
    }

    /// The static name of one of this service's actions, or `InvalidAction`.
    pub(crate) fn action(&self, name: &str) -> Result<&'static str, ApiError> {
        self.actions
            .iter()
            .copied()
            .find(|a| *a == name)
            .ok_or_else(|| self.invalid_action(name))
    }

    pub(crate) fn invalid_action(&self, name: &str) -> ApiError {
        ApiError::new(
            "InvalidAction",
            format!(
                "The action `{}` does not exist in version {} of {}.",
                shorten(name),
                self.version,
                self.name
            ),
        )
    }

    pub(crate) fn needs_region(&self, action: &str) -> bool {
        (self.needs_region)(action)
    }

    /// Decodes and checks the parameters of `action` (one of [`Self::actions`]).
    pub(crate) fn decode(&self, action: &'static str, params: Params) -> Result<Checked, ApiError> {
        (self.decode)(action, params)
    }

    /// The names of every service, for error messages.
    pub(crate) fn names() -> String {
        let names: Vec<String> = SERVICES.iter().map(|s| format!("`{}`", s.name)).collect();
        names.join(", ")
    }
}

/// What a service defines from its `*_actions!` list: `NAME`, `VERSION`
/// (from the first request type's `Action` impl: every action of a
/// service has the same), `ACTIONS`, `needs_region` and `validate`.
macro_rules! define_service {
    ($krate:ident; $first:ident: $first_req:ident; $($action:ident: $req:ident;)*) => {
        pub(crate) const NAME: &str = <$krate::types::$first_req as $krate::runtime::Action>::SERVICE;
        pub(crate) const VERSION: &str = <$krate::types::$first_req as $krate::runtime::Action>::VERSION;
        pub(crate) const ACTIONS: &[&str] = &[stringify!($first), $(stringify!($action)),*];

        /// The description's `NEEDS_REGION`, the fact the client checks too.
        #[allow(dead_code)] // A service whose region is optional (STS) has no use for it.
        pub(crate) fn needs_region(action: &str) -> bool {
            match action {
                stringify!($first) => <$krate::types::$first_req as $krate::runtime::Action>::NEEDS_REGION,
                $(stringify!($action) => <$krate::types::$req as $krate::runtime::Action>::NEEDS_REGION,)*
                _ => true,
            }
        }

        /// Decodes `params` into the typed request of `action`: the
        /// gateway's parameter errors come from there. The spec's rules
        /// are checked too, but kept for after the injected fault, as for
        /// CVM's actions that are not emulated.
        #[allow(dead_code)] // CVM decodes its own way (every action is handled there).
        pub(crate) fn validate(action: &'static str, params: Params) -> Result<Checked, ApiError> {
            let rules = match action {
                stringify!($first) => check_rules(&decode::<$krate::types::$first_req>(action, params)?),
                $(stringify!($action) => check_rules(&decode::<$krate::types::$req>(action, params)?),)*
                // The gateway only passes names from ACTIONS.
                other => return Err(ApiError::new(
                    "InvalidAction",
                    format!("The action `{}` does not exist in version {VERSION} of {NAME}.", shorten(other)),
                )),
            };
            Ok(Checked::NotEmulated { service: NAME, action, rules })
        }
    };
}

/// One module per service (`$d` is `$`, for the callback macro inside),
/// and [`SERVICES`]. A line: `module: crate::list_macro`, then optionally
/// `decode = path` (the service emulates actions: that function decodes
/// them and passes the rest to the module's `validate`) and
/// `region = optional` (`X-TC-Region` never required).
macro_rules! services {
    (@region) => { needs_region };
    (@region optional) => { |_| false };
    (@decode) => { validate };
    (@decode $decode:path) => { $decode };
    ($d:tt $($module:ident: $krate:ident::$list:ident $(, decode = $decode:path)? $(, region = $optional:ident)?;)*) => {
        $(
            pub(crate) mod $module {
                use super::*;
                macro_rules! from_list {
                    ($d($d action:ident: $d req:ident => $d resp:ident, $d method:ident;)*) => {
                        define_service!($krate; $d($d action: $d req;)*);
                    };
                }
                $krate::$list!(from_list);

                /// The service, as the gateway sees it.
                pub(crate) static SERVICE: Service = Service {
                    name: NAME,
                    version: VERSION,
                    actions: ACTIONS,
                    needs_region: services!(@region $($optional)?),
                    decode: services!(@decode $($decode)?),
                };
            }
        )*

        /// Every service on the listener.
        pub(crate) static SERVICES: &[&Service] = &[$(&$module::SERVICE),*];
    };
}

services! {$
    cvm: cvm_api::cvm_actions, decode = crate::dispatch::decode_checked;
    // STS's endpoint is global: the region is optional, as the runtime's
    // credential providers send it.
    sts: sts_api::sts_actions, decode = crate::sts::decode, region = optional;
    vpc: vpc_api::vpc_actions, decode = crate::vpc::decode;
    cbs: cbs_api::cbs_actions;
    clb: clb_api::clb_actions;
    tag: tag_api::tag_actions;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_is_known_by_its_scope_with_its_actions() {
        for (name, version, some_action, count) in [
            ("cvm", "2017-03-12", "StartInstances", 106),
            ("sts", "2018-08-13", "AssumeRole", 7),
            ("vpc", "2017-03-12", "DescribeVpcs", 448),
            ("cbs", "2017-03-12", "DescribeDisks", 0),
            ("clb", "2018-03-17", "DescribeLoadBalancers", 0),
            ("tag", "2018-08-13", "GetTags", 0),
        ] {
            let service = Service::from_scope(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(service.version, version, "{name}");
            assert_eq!(service.action(some_action).ok(), Some(some_action), "{name}");
            if count > 0 {
                assert_eq!(service.actions.len(), count, "{name}");
            }
            assert_eq!(service.action("NoSuchAction").unwrap_err().code, "InvalidAction");
        }
        assert!(Service::from_scope("cvm2").is_none());
        assert!(!Service::from_scope("sts").unwrap().needs_region("AssumeRole"));
        assert!(Service::from_scope("vpc").unwrap().needs_region("DescribeVpcs"));
    }

    #[test]
    fn every_action_of_every_service_decodes_or_names_a_missing_member() {
        for service in SERVICES {
            for action in service.actions {
                // `{}`: a gateway error or a request, never a panic.
                match service.decode(action, Params::Tree(serde_json::json!({}))) {
                    Ok(_) => {}
                    Err(e) => assert_eq!(e.code, "MissingParameter", "{} {action}: {e}", service.name),
                }
            }
        }
    }
}
