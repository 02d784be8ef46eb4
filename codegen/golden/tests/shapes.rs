//! What the generator promises, checked on the compiled golden output.

use codegen_golden::shapes::errors::{CommonErrorCode, DescribeThingsError};
use codegen_golden::shapes::types::*;
use serde_json::json;
use tencentcloud_runtime::{Action, ServiceError, Validate};

#[test]
fn optional_members_are_omitted_and_keywords_round_trip() {
    let request = {
        let mut new_value = DescribeThingsRequest::default();
        new_value.placement = {
            let mut new_value = Placement::default();
            new_value.zone = "ap-guangzhou-3".into();
            new_value.project_id = None;
            new_value.host_ids = Some(vec!["h-1".into()]);
            Some(new_value)
        };
        new_value.r#type = Some("big".into());
        new_value
    };
    let wire = serde_json::to_value(&request).unwrap();
    assert_eq!(
        wire,
        json!({"Placement": {"Zone": "ap-guangzhou-3", "HostIds": ["h-1"]}, "Type": "big"})
    );
    assert_eq!(
        serde_json::from_value::<DescribeThingsRequest>(wire).unwrap(),
        request
    );
    assert_eq!(<DescribeThingsRequest as Action>::NAME, "DescribeThings");
    assert_eq!(<DescribeThingsRequest as Action>::SERVICE, "demo");
    assert_eq!(<DescribeThingsRequest as Action>::VERSION, "2020-01-01");
}

#[test]
#[allow(deprecated)]
fn deprecated_members_still_work() {
    let request = {
        let mut new_value = DescribeThingsRequest::default();
        new_value.force_stop = Some(true);
        new_value
    };
    assert_eq!(serde_json::to_value(&request).unwrap()["ForceStop"], json!(true));
}

#[test]
fn responses_tolerate_unknown_fields_nulls_and_loose_scalars() {
    let body = json!({
        "TotalCount": "2",
        "ThingSet": [{
            "InstanceId": "ins-1", "InstanceID": 7, "Price": "1.5", "CreatedTime": "2020-01-01 00:00:00",
            "ExpiredTime": null, "Placement": {"Zone": "z", "ProjectId": 3, "Extra": true},
            "Parent": {"InstanceId": "ins-0", "Price": 2, "CreatedTime": "x", "Placement": {"Zone": "z"}, "Self": false},
            "Self": true, "NewField": [1, 2]
        }],
        "RequestId": "req-1",
        "SomethingNew": {"a": 1}
    });
    let response: DescribeThingsResponse = serde_json::from_value(body).unwrap();
    assert_eq!(response.total_count, 2);
    assert_eq!(response.request_id, "req-1");
    let thing = &response.thing_set.as_ref().unwrap()[0];
    assert_eq!(thing.instance_id_2.as_deref(), Some("7"));
    assert_eq!(thing.price, 1.5);
    assert_eq!(thing.expired_time, None);
    assert_eq!(thing.parent.as_ref().unwrap().instance_id, "ins-0");
    assert!(thing.self_);
    // A null list is allowed where the spec says it may be null.
    let empty: DescribeThingsResponse =
        serde_json::from_value(json!({"TotalCount": 0, "ThingSet": null, "RequestId": "r"})).unwrap();
    assert_eq!(empty.thing_set, None);
}

#[test]
fn lossy_values_are_errors_and_lagging_servers_are_tolerated() {
    // A member the spec calls always present, omitted: decoded as empty.
    let missing = json!({"ThingSet": [], "RequestId": "r"});
    assert_eq!(
        serde_json::from_value::<DescribeThingsResponse>(missing)
            .unwrap()
            .total_count,
        0
    );
    // The envelope's RequestId is never invented.
    let no_id = json!({"TotalCount": 1, "ThingSet": []});
    assert!(serde_json::from_value::<DescribeThingsResponse>(no_id).is_err());
    let fractional = json!({"TotalCount": 1.5, "ThingSet": [], "RequestId": "r"});
    assert!(serde_json::from_value::<DescribeThingsResponse>(fractional).is_err());
}

#[test]
fn validation_walks_nested_objects_and_lists() {
    let request = {
        let mut new_value = DescribeThingsRequest::default();
        new_value.placement = {
            let mut new_value = Placement::default();
            new_value.zone = "Guangzhou".into();
            new_value.project_id = None;
            new_value.host_ids = None;
            Some(new_value)
        };
        new_value.limit = Some(101);
        new_value.filters = Some(vec![
            {
                let mut new_value = Filter::default();
                new_value.name = "zone".into();
                new_value.values = vec!["a".into()];
                new_value
            },
            {
                let mut new_value = Filter::default();
                new_value.name = String::new();
                new_value.values = vec![];
                new_value
            },
        ]);
        new_value
    };
    let err = request.check().unwrap_err();
    let found: Vec<String> = err.violations.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        found,
        [
            "Filters.1.Name is required but empty",
            "Filters.1.Values is required but empty",
            "Limit is 101; must be at most 100",
            "Placement.Zone `Guangzhou` does not match `^[a-z]+-[a-z]+-[0-9]+$`",
            // Optional in Rust (responses may omit it) but required in requests.
            "Placement.HostIds is required",
        ]
    );
}

#[test]
fn error_codes_map_to_variants_common_codes_and_a_catch_all() {
    let e = |code: &str| DescribeThingsError::from(ServiceError::new(code, "m", "req"));
    assert!(matches!(
        e("InvalidParameter.ValueTooLarge"),
        DescribeThingsError::InvalidParameter_ValueTooLarge(_)
    ));
    assert!(matches!(
        e("InvalidParameterValue.TooLarge"),
        DescribeThingsError::InvalidParameterValue_TooLarge(_)
    ));
    assert!(matches!(e("Common"), DescribeThingsError::CommonCode(_)));
    assert!(matches!(
        e("InternalError"),
        DescribeThingsError::Common(CommonErrorCode::InternalError, _)
    ));
    // Documented for the action *and* common: matched as common, so a code
    // moving in or out of the action's list never moves a match arm.
    let both = e("ResourceNotFound");
    assert!(matches!(
        both,
        DescribeThingsError::Common(CommonErrorCode::ResourceNotFound, _)
    ));
    assert_eq!(both.common_code(), Some(CommonErrorCode::ResourceNotFound));
    let unknown = e("Brand.NewCode");
    assert!(unknown.is_unknown() && !both.is_unknown());
    assert_eq!(
        (unknown.code(), unknown.message(), unknown.request_id()),
        ("Brand.NewCode", "m", "req")
    );
    assert_eq!(unknown.to_string(), "Brand.NewCode: m (request id req)");
    assert_eq!(
        CommonErrorCode::from_code("InternalError").map(|c| c.as_str()),
        Some("InternalError")
    );
}

#[test]
fn the_action_list_macro_names_every_action() {
    macro_rules! names {
        ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
            [$(stringify!($action)),*]
        };
    }
    assert_eq!(
        codegen_golden::demo_actions!(names),
        ["DescribeThings", "PingService"]
    );
}
