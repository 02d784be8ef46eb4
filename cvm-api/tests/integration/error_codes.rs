//! Every code the spec documents for an action alone becomes that action's
//! own variant; a common code is `Common` for every action, documented for it
//! or not (so a code moving in or out of an action's list moves no match
//! arm); unknown codes are kept, never lost.

use std::collections::BTreeMap;

use cvm_api::runtime::Action;
use cvm_api::ServiceError;

#[derive(serde::Deserialize)]
struct Errors {
    common: Vec<String>,
    actions: BTreeMap<String, Vec<String>>,
}

fn errors() -> Errors {
    serde_json::from_str(include_str!("../../../spec/cvm/v20170312/errors.json")).unwrap()
}

/// The variant name a code landed in, from its `Debug` form.
fn variant<E: std::fmt::Debug>(e: &E) -> String {
    format!("{e:?}").split('(').next().unwrap().to_string()
}

/// For each action: (action, documented codes, classify(code) -> (variant, code(), message(), request_id(), common)).
macro_rules! classify_all {
    ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
        fn classify(action: &str, code: &str) -> Option<(String, String, String, String, bool)> {
            let raw = ServiceError::new(code, "the message", "the-request-id");
            match action {
                $(stringify!($action) => {
                    let e = <<cvm_api::types::$req as Action>::Error>::from(raw);
                    Some((variant(&e), e.code().to_string(), e.message().to_string(), e.request_id().to_string(), e.common_code().is_some()))
                })*
                _ => None,
            }
        }
    };
}
cvm_api::cvm_actions!(classify_all);

#[test]
fn start_instances_has_a_variant_for_each_of_its_28_documented_codes() {
    let errors = errors();
    let codes = &errors.actions["StartInstances"];
    assert_eq!(codes.len(), 28);
    let mut own = 0;
    for code in codes {
        let (variant, wire, message, request_id, common) = classify("StartInstances", code).unwrap();
        if common {
            assert_eq!(variant, "Common", "{code}");
        } else {
            assert_eq!(variant, code.replace('.', ""), "{code}");
            own += 1;
        }
        assert_eq!(
            (wire.as_str(), message.as_str(), request_id.as_str()),
            (code.as_str(), "the message", "the-request-id")
        );
    }
    // InvalidParameterValue and MissingParameter are common.
    assert_eq!(own, 26);
}

#[test]
fn every_documented_code_of_every_action_is_typed_and_round_trips() {
    let errors = errors();
    assert_eq!(errors.actions.len(), 106);
    let mut checked = 0;
    for (action, codes) in &errors.actions {
        for code in codes {
            let (variant, wire, _, _, common) =
                classify(action, code).unwrap_or_else(|| panic!("no action {action}"));
            if common {
                assert_eq!(variant, "Common", "{action}: {code}");
            } else {
                assert!(
                    variant != "Unknown" && variant != "Common",
                    "{action}: {code} landed in {variant}"
                );
            }
            assert_eq!(&wire, code);
            checked += 1;
        }
    }
    assert!(checked > 1000, "checked {checked}");
}

#[test]
fn common_codes_are_recognised_the_same_way_by_every_action() {
    let errors = errors();
    for action in errors.actions.keys() {
        for code in &errors.common {
            let (variant, wire, _, _, common) = classify(action, code).unwrap();
            assert!(common, "{action}: {code} not recognised as common");
            assert_eq!(&wire, code);
            assert_eq!(variant, "Common", "{action}: {code}");
        }
        let (variant, wire, message, _, common) = classify(action, "Brand.NewCode").unwrap();
        assert_eq!(
            (variant.as_str(), wire.as_str(), message.as_str(), common),
            ("Unknown", "Brand.NewCode", "the message", false)
        );
    }
}
