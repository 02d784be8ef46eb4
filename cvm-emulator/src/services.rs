//! Every service whose description is in the workspace, on one listener.
//!
//! The descriptions (`spec/<service>/<version>/`) are embedded by `build.rs`
//! and turned into models at first use. The credential scope of a signed
//! request names the service; from there the gateway applies that service's
//! version, action list and region rule, then checks the parameters against
//! the action's input in the model ([`tencentcloud_model::check`]:
//! `InvalidParameter`, `UnknownParameter`, `MissingParameter`, then the
//! spec's rules), and answers `UnsupportedOperation`.
//!
//! A few services emulate actions ([`EMULATED`]): CVM, STS, VPC, CBS and
//! Tag decode theirs into their crates' typed requests and
//! leave the rest to the model. No other service's crate
//! is compiled into the emulator: a typed decoder per action of every service
//! cost minutes of build time for the same answers.

use std::sync::OnceLock;

use serde_json::Value;
use tencentcloud_model::validate::{gateway_choice, Violation};
use tencentcloud_model::Model;

use crate::checked::Checked;
use crate::decode::{gateway_error, rules_verdict, Params};
use crate::error::{shorten, ApiError};

/// A service description compiled into the emulator.
pub(crate) struct EmbeddedSpec {
    /// The directory's names: `cvm`, and `2017-03-12` from `v20170312`.
    pub(crate) service: &'static str,
    pub(crate) version: &'static str,
    /// `spec/cvm/v20170312`, for error messages.
    pub(crate) dir: &'static str,
    pub(crate) api: &'static str,
    pub(crate) errors: &'static str,
    pub(crate) rules: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/specs.rs"));

/// Decodes the parameters of one of a service's actions into a [`Checked`]
/// request; actions it does not emulate go to [`Service::validate`].
type Decoder = fn(&'static Service, &'static str, Params) -> Result<Checked, ApiError>;

/// A service with emulated actions.
struct Emulated {
    name: &'static str,
    /// The actions answered from the emulator's state, named in the
    /// `UnsupportedOperation` of the others.
    actions: &'static [&'static str],
    decode: Decoder,
    /// `X-TC-Region` is never required (STS's endpoint is global, and the
    /// runtime's credential providers send none).
    region_optional: bool,
}

const EMULATED: &[Emulated] = &[
    Emulated {
        name: "cvm",
        actions: crate::cvm::actions::EMULATED_ACTIONS,
        decode: crate::cvm::request::decode,
        region_optional: false,
    },
    Emulated {
        name: "sts",
        actions: crate::sts::STS_EMULATED_ACTIONS,
        decode: crate::sts::decode,
        region_optional: true,
    },
    Emulated {
        name: "cbs",
        actions: crate::cbs::CBS_EMULATED_ACTIONS,
        decode: crate::cbs::decode,
        region_optional: false,
    },
    Emulated {
        name: "tag",
        actions: crate::tag::TAG_EMULATED_ACTIONS,
        decode: crate::tag::decode,
        region_optional: false,
    },
    Emulated {
        name: "vpc",
        actions: crate::vpc::VPC_EMULATED_ACTIONS,
        decode: crate::vpc::decode,
        region_optional: false,
    },
];

/// One service on the listener: what the gateway checks a request against.
pub(crate) struct Service {
    /// The credential scope's service (`cvm`, `vpc`, ...).
    pub(crate) name: &'static str,
    /// The only `X-TC-Version` accepted.
    pub(crate) version: &'static str,
    spec: &'static EmbeddedSpec,
    /// Built at the service's first request: a process that never calls
    /// VPC never reads VPC's megabyte of description.
    model: OnceLock<Result<Model, String>>,
    emulated: Option<&'static Emulated>,
}

/// Every service on the listener, by name.
pub(crate) fn all() -> &'static [Service] {
    static SERVICES: OnceLock<Vec<Service>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        EMBEDDED
            .iter()
            .map(|spec| Service {
                name: spec.service,
                version: spec.version,
                spec,
                model: OnceLock::new(),
                emulated: EMULATED.iter().find(|e| e.name == spec.service),
            })
            .collect()
    })
}

/// Builds every service's model: the first problem, if one does not build
/// (a test holds every embedded description to building).
#[cfg(test)]
pub(crate) fn load() -> Result<(), String> {
    for service in all() {
        service.model().map_err(|e| e.message)?;
    }
    Ok(())
}

impl Service {
    /// The service a credential scope names.
    pub(crate) fn from_scope(name: &str) -> Option<&'static Service> {
        all().iter().find(|s| s.name == name)
    }

    /// The model of this service's description, built on first use.
    fn model(&'static self) -> Result<&'static Model, ApiError> {
        let built = self.model.get_or_init(|| {
            let spec = self.spec;
            let model = tencentcloud_model::model_from_sources(spec.api, spec.errors, spec.rules)
                .map_err(|e| format!("{}: {e}", spec.dir))?;
            if (model.service.as_str(), model.api_version.as_str()) != (spec.service, spec.version) {
                return Err(format!(
                    "{}: the description is of {} {}",
                    spec.dir, model.service, model.api_version
                ));
            }
            Ok(model)
        });
        built.as_ref().map_err(|why| {
            ApiError::new(
                "InternalError",
                format!("cvm-emulator cannot read its description of {}: {why}", self.name),
            )
        })
    }

    /// The static name of one of this service's actions, or `InvalidAction`.
    pub(crate) fn action(&'static self, name: &str) -> Result<&'static str, ApiError> {
        match self.model()?.action(name) {
            Some(action) => Ok(action.name.as_str()),
            None => Err(self.invalid_action(name)),
        }
    }

    /// Every action's name, sorted.
    #[cfg(test)]
    pub(crate) fn actions(&'static self) -> impl Iterator<Item = &'static str> {
        self.model().unwrap().actions.iter().map(|a| a.name.as_str())
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

    /// Whether `X-TC-Region` is required for `action` (the description's
    /// `NEEDS_REGION`, the fact the client checks too).
    pub(crate) fn needs_region(&'static self, action: &str) -> bool {
        if self.emulated.is_some_and(|e| e.region_optional) {
            return false;
        }
        let Ok(model) = self.model() else { return true };
        model.action(action).is_none_or(|a| a.needs_region)
    }

    /// Decodes and checks the parameters of `action` (one of the service's).
    pub(crate) fn decode(&'static self, action: &'static str, params: Params) -> Result<Checked, ApiError> {
        match self.emulated {
            Some(emulated) => (emulated.decode)(self, action, params),
            None => self.validate(action, params),
        }
    }

    /// Checks `params` against the input of `action` in the model, as its
    /// typed request would decode them; the spec's rules are checked too,
    /// but kept for after the injected fault, as for the emulated services.
    pub(crate) fn validate(&'static self, action: &'static str, params: Params) -> Result<Checked, ApiError> {
        let model = self.model()?;
        let input =
            tencentcloud_model::check::input_of(model, action).ok_or_else(|| self.invalid_action(action))?;
        let params = params.into_tree()?;
        if let Some(violation) = gateway_choice(&tencentcloud_model::check::decode_violations(
            model, input, &params,
        )) {
            return Err(gateway_error(violation));
        }
        let rules = rules_verdict(&tencentcloud_model::check::rule_violations(model, input, &params));
        Ok(Checked::NotEmulated {
            service: self.name,
            action,
            emulated: self.emulated.map_or(&[], |e| e.actions),
            rules,
        })
    }

    /// What decoding `params` as `action`'s input would refuse (the model's
    /// verdict, see [`tencentcloud_model::check::decode_violations`]).
    pub(crate) fn decode_violations(
        &'static self,
        action: &str,
        params: &Value,
    ) -> Result<Vec<Violation>, ApiError> {
        let model = self.model()?;
        let input =
            tencentcloud_model::check::input_of(model, action).ok_or_else(|| self.invalid_action(action))?;
        Ok(tencentcloud_model::check::decode_violations(model, input, params))
    }

    /// The names of every service, for error messages.
    pub(crate) fn names() -> String {
        let names: Vec<String> = all().iter().map(|s| format!("`{}`", s.name)).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use tencentcloud_model::model::{Leaf, Member};
    use tencentcloud_model::samples::filled;
    use tencentcloud_model::Problem;

    use super::*;
    use crate::cvm::request::Typed;

    #[test]
    fn every_service_is_known_by_its_scope_with_its_actions() {
        load().unwrap();
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
                assert_eq!(service.actions().count(), count, "{name}");
            }
            assert_eq!(service.action("NoSuchAction").unwrap_err().code, "InvalidAction");
        }
        assert!(Service::from_scope("cvm2").is_none());
        assert!(!Service::from_scope("sts").unwrap().needs_region("AssumeRole"));
        assert!(Service::from_scope("vpc").unwrap().needs_region("DescribeVpcs"));
        // The typed decoders know the same actions as the descriptions.
        let cvm: Vec<&str> = Service::from_scope("cvm").unwrap().actions().collect();
        let mut typed = crate::cvm::request::ACTIONS.to_vec();
        typed.sort_unstable();
        assert_eq!(cvm, typed);
        let sts: Vec<&str> = Service::from_scope("sts").unwrap().actions().collect();
        let mut typed = crate::sts::ACTIONS.to_vec();
        typed.sort_unstable();
        assert_eq!(sts, typed);
    }

    #[test]
    fn every_action_of_every_service_decodes_or_names_a_missing_member() {
        for service in all() {
            for action in service.actions() {
                // `{}`: a gateway error or a request, never a panic.
                match service.decode(action, Params::Tree(json!({}))) {
                    Ok(_) => {}
                    Err(e) => assert_eq!(e.code, "MissingParameter", "{} {action}: {e}", service.name),
                }
            }
        }
    }

    /// serde's derived structs also decode from a list of their members'
    /// values in order, a form no gateway takes: there the model-driven
    /// check is stricter (`InvalidParameter`), so such requests are left out.
    fn array_for_object(m: &Member, value: &Value) -> bool {
        matches!(m.ty.leaf, Leaf::Object(_)) && !m.ty.list && value.is_array()
    }

    /// The model-driven checks and CVM's typed decoding (serde into the
    /// generated requests, then their `Validate`) agree on every action for
    /// thousands of requests (each member left out, null, and given values
    /// of every JSON kind, at the top and one object down, and unknown
    /// members): serde refuses exactly what the model finds of the wrong
    /// type or missing; it ignores exactly the unknown member the model
    /// names; and on what both decode, the one engine's two drivers (the
    /// generated `Validate` and the model's walk) report the same
    /// violations, paths and words.
    #[test]
    fn the_model_checks_agree_with_the_typed_requests_on_every_cvm_action() {
        let cvm = Service::from_scope("cvm").unwrap();
        let odd = [
            json!(null),
            json!("x"),
            json!(""),
            json!("12"),
            json!(" 7 "),
            json!("true"),
            json!(7),
            json!(-3),
            json!(2.5),
            json!(4.0),
            json!(1e300),
            json!(18446744073709551615u64),
            json!(true),
            json!([]),
            json!(["x"]),
            json!([7]),
            json!([null]),
            json!({}),
            json!([{}]),
            json!({"Zzz": 1}),
        ];
        let mut compared = 0;
        for action in cvm.actions() {
            let model = cvm.model().unwrap();
            let input = tencentcloud_model::check::input_of(model, action).unwrap();
            let base = filled(model, input);
            let mut requests = vec![json!({}), base.clone()];
            for m in &input.members {
                let mut without = base.clone();
                without.as_object_mut().unwrap().remove(&m.wire_name);
                requests.push(without);
                for value in odd.iter().filter(|v| !array_for_object(m, v)) {
                    let mut request = base.clone();
                    request[&m.wire_name] = value.clone();
                    requests.push(request);
                }
                // One object down.
                if let Leaf::Object(name) = &m.ty.leaf {
                    let inner = model.object(name).unwrap();
                    for n in &inner.members {
                        for value in odd.iter().filter(|v| !array_for_object(n, v)) {
                            let mut object = filled(model, inner);
                            object[&n.wire_name] = value.clone();
                            let mut request = base.clone();
                            request[&m.wire_name] = if m.ty.list { json!([object]) } else { object };
                            requests.push(request);
                        }
                    }
                }
            }
            let mut unknown = base.clone();
            unknown["Zzz"] = json!(1);
            requests.push(unknown);
            let mut unknown_null = base.clone();
            unknown_null["Zzz"] = json!(null);
            requests.push(unknown_null);
            for request in requests {
                let typed = crate::cvm::request::decode_typed(action, &request);
                let decoding = tencentcloud_model::check::decode_violations(model, input, &request);
                let refused = decoding
                    .iter()
                    .any(|v| matches!(v.problem, Problem::Invalid(_) | Problem::Missing));
                let unknown = decoding.iter().find(|v| v.problem == Problem::Unknown);
                // What the gateway must answer when the model finds nothing
                // to refuse: the rules' verdict.
                let rules = match (refused, unknown, &typed) {
                    (true, _, Typed::Refused) => None,
                    // The first member serde ignored is the one the model names.
                    (false, Some(unknown), Typed::Ignored(paths)) => {
                        assert_eq!(paths[0], unknown.path.to_string(), "{action} {request}");
                        None
                    }
                    (false, None, Typed::Decoded(by_sdk)) => {
                        let by_model = tencentcloud_model::check::rule_violations(model, input, &request);
                        assert_eq!(&by_model, by_sdk, "{action} {request}");
                        Some(by_model)
                    }
                    _ => panic!("{action} {request}: the model found {decoding:?}, serde made {typed:?}"),
                };
                // The gateway answers the model's verdict.
                let gateway = cvm.validate(action, Params::Tree(request.clone()));
                match (rules, gateway) {
                    (Some(v), Ok(Checked::NotEmulated { rules, .. })) => {
                        assert_eq!(rules.err(), gateway_choice(&v).map(gateway_error))
                    }
                    (Some(_), other) => panic!("{action} {request}: {:?}", other.err()),
                    (None, Err(e)) => assert!(
                        ["InvalidParameter", "UnknownParameter", "MissingParameter"]
                            .contains(&e.code.as_str()),
                        "{e}"
                    ),
                    (None, Ok(_)) => panic!("{action} {request}: accepted"),
                }
                compared += 1;
            }
        }
        assert!(compared > 10_000, "{compared}");
    }
}
