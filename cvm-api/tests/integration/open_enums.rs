//! Open enums on the wire: a known value is its variant, any other value is
//! kept as sent and round-trips, and a bare value decodes as the fields
//! holding it do (a number kept as its text).

use cvm_api::{Instance, InstanceState};

#[test]
fn known_and_unknown_values_round_trip() {
    let running: InstanceState = serde_json::from_str("\"RUNNING\"").unwrap();
    assert_eq!(running, InstanceState::Running);
    assert!(!running.is_unknown());
    let later: InstanceState = serde_json::from_str("\"HIBERNATING\"").unwrap();
    assert!(later.is_unknown());
    assert_eq!(later, "HIBERNATING");
    assert_eq!(serde_json::to_string(&later).unwrap(), "\"HIBERNATING\"");
    assert_eq!(
        InstanceState::from(String::from("RUNNING")),
        InstanceState::Running
    );
    assert_eq!(String::from(later.clone()), "HIBERNATING");
    let owned = String::from("HIBERNATING");
    assert!("HIBERNATING" == later && later == owned);
}

#[test]
fn a_bare_value_decodes_as_a_field_does() {
    let bare: InstanceState = serde_json::from_str("5").unwrap();
    let field: Instance = serde_json::from_str(r#"{"InstanceState": 5}"#).unwrap();
    assert_eq!(bare, "5");
    assert_eq!(field.instance_state, bare);
}
