//! Request parameters to typed requests, with the gateway's error codes.
//!
//! The verdict on parameters is the model's, never serde's: every request
//! is judged by the one validation engine ([`tencentcloud_model::check`]) on
//! a tree first: a value of the wrong type (`InvalidParameter`), a member the
//! action does not define (`UnknownParameter`), a required one left out
//! (`MissingParameter`); only then is the typed request made from the tree.
//! The spec's rules, on a decoded request, are the generated `Validate`'s,
//! reported in the same engine's words ([`rules_verdict`]). So the SDK,
//! `tcloud` and this gateway agree on the code, the path and the words.
//!
//! Memory: a JSON body is first scanned in one pass that keeps nothing and
//! bounds it to [`MAX_VALUES`] values; its tree then takes the body's place
//! (the body is dropped once it is parsed), and the typed request takes the
//! tree's (its strings are moved, not copied). So a body costs about its own
//! size again in strings, plus a small overhead per value.

use std::fmt;

use axum::body::Bytes;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tencentcloud_model::validate::{gateway_choice, Validate, Violation};

use crate::error::ApiError;

/// Where a decoder gets the model's verdict on parameters its typed request
/// refuses: the service's description (the registry's `Service`, for which
/// the gateway implements it; a trait so that decoding does not depend on
/// the registry).
pub(crate) trait ModelVerdict {
    /// What decoding `params` as `action`'s input would refuse
    /// ([`tencentcloud_model::check::decode_violations`]).
    fn decode_violations(&'static self, action: &str, params: &Value) -> Result<Vec<Violation>, ApiError>;
}

/// Most values (objects, lists and scalars, at any depth) in a JSON body:
/// as many as the parameters accepted in a query or form, far more than any
/// action takes, and few enough that the decoded request stays near the
/// body's size.
pub(crate) const MAX_VALUES: usize = 10_000;

/// Request parameters, not yet decoded.
pub(crate) enum Params {
    /// A JSON body holding one object of at most [`MAX_VALUES`] values (see
    /// [`json_params`]).
    Json(Bytes),
    /// An object built from a query string or a form.
    Tree(Value),
}

impl Params {
    /// The parameters as a tree (a JSON body parsed; at most [`MAX_VALUES`] values).
    pub(crate) fn into_tree(self) -> Result<Value, ApiError> {
        match self {
            Params::Json(body) => to_tree(&body),
            Params::Tree(tree) => Ok(tree),
        }
    }
}

/// Checks a JSON body in one pass that keeps nothing: well-formed, an
/// object (or empty), at most [`MAX_VALUES`] values.
pub(crate) fn json_params(body: Bytes) -> Result<Params, ApiError> {
    let invalid = |why: String| ApiError::new("InvalidParameter", why);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::Tree(Value::Object(Map::new())));
    }
    let mut values = 0;
    let mut de = serde_json::Deserializer::from_slice(&body);
    let kind = Scan { values: &mut values }
        .deserialize(&mut de)
        .and_then(|kind| de.end().map(|()| kind));
    match kind {
        Ok("an object") => Ok(Params::Json(body)),
        Ok(kind) => Err(invalid(format!(
            "The request body must be a JSON object, not {kind}."
        ))),
        Err(_) if values > MAX_VALUES => Err(invalid(format!(
            "The request body holds more than {MAX_VALUES} values."
        ))),
        Err(e) => Err(invalid(format!("The request body is not valid JSON: {e}."))),
    }
}

/// Counts the values of a JSON document without keeping any; the kind of
/// the outermost one.
struct Scan<'a> {
    values: &'a mut usize,
}

impl Scan<'_> {
    fn count<E: de::Error>(&mut self, kind: &'static str) -> Result<&'static str, E> {
        *self.values += 1;
        if *self.values > MAX_VALUES {
            return Err(E::custom("too many values"));
        }
        Ok(kind)
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<&'static str, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<&'static str, E> {
        self.count("null")
    }
    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<&'static str, E> {
        self.count("a bool")
    }
    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<&'static str, E> {
        self.count("a number")
    }
    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<&'static str, E> {
        self.count("a number")
    }
    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<&'static str, E> {
        self.count("a number")
    }
    fn visit_str<E: de::Error>(mut self, _: &str) -> Result<&'static str, E> {
        self.count("a string")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<&'static str, A::Error> {
        let kind = self.count("an array")?;
        while seq.next_element_seed(Scan { values: self.values })?.is_some() {}
        Ok(kind)
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<&'static str, A::Error> {
        let kind = self.count("an object")?;
        // A member given twice is ambiguous (a tree would keep the last);
        // the keys kept to find one are bounded by the body.
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(de::Error::custom(format_args!(
                    "the member `{}` is given twice",
                    crate::error::shorten(&key)
                )));
            }
            map.next_value_seed(Scan { values: self.values })?;
            keys.insert(key);
        }
        Ok(kind)
    }
}

/// Decodes `params` into the request type of `action` (one of `service`'s).
///
/// Errors, in the gateway's order of precedence (the model's): the wrong
/// type (`InvalidParameter`), a parameter `T` does not define
/// (`UnknownParameter`), a missing required parameter (`MissingParameter`).
/// The model judges every request, not only what serde refuses: serde's
/// derived structs also take a list of their members' values in order,
/// which no gateway does.
pub(crate) fn decode<T: DeserializeOwned, S: ModelVerdict + ?Sized>(
    service: &'static S,
    action: &'static str,
    params: Params,
) -> Result<T, ApiError> {
    decode_tree(service, action, params.into_tree()?)
}

/// The tree of a body [`json_params`] accepted.
fn to_tree(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            "InvalidParameter",
            format!("The request body is not valid JSON: {e}."),
        )
    })
}

/// [`decode`] of a tree (a query, a form, or a parsed body): the model's
/// verdict first, then the typed request made from the tree, which it
/// consumes (its strings move into the request: no third copy).
pub(crate) fn decode_tree<T: DeserializeOwned, S: ModelVerdict + ?Sized>(
    service: &'static S,
    action: &'static str,
    params: Value,
) -> Result<T, ApiError> {
    if let Some(violation) = gateway_choice(&service.decode_violations(action, &params)?) {
        return Err(gateway_error(violation));
    }
    serde_json::from_value(params).map_err(|e| {
        // The model accepts what the typed request refuses: a bug of one of
        // the two, named as such rather than guessed at.
        ApiError::new(
            "InternalError",
            format!("cvm-emulator cannot decode parameters its description accepts: {e}."),
        )
    })
}

/// The gateway's answer to a violation: its code and the engine's words.
pub(crate) fn gateway_error(violation: &Violation) -> ApiError {
    ApiError::new(violation.gateway_code(), violation.gateway_message())
}

/// The spec's rules (required members, list sizes, patterns, ranges) on a
/// decoded request, as the gateway answers them.
pub(crate) fn check_rules<T: Validate + ?Sized>(request: &T) -> Result<(), ApiError> {
    match request.check() {
        Ok(()) => Ok(()),
        Err(e) => rules_verdict(&e.violations),
    }
}

/// Rule violations, in the order found, as one gateway error: the one the
/// gateway reports ([`gateway_choice`]: a missing member first).
pub(crate) fn rules_verdict(violations: &[Violation]) -> Result<(), ApiError> {
    match gateway_choice(violations) {
        Some(violation) => Err(gateway_error(violation)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use cvm_api::types::{DescribeInstancesRequest, RunInstancesRequest, StartInstancesRequest};
    use serde_json::json;

    use super::*;

    /// CVM's description, as the registry of services would give it (read
    /// from the workspace, so these tests need no registry).
    struct Cvm(tencentcloud_model::Model);

    impl ModelVerdict for Cvm {
        fn decode_violations(
            &'static self,
            action: &str,
            params: &Value,
        ) -> Result<Vec<Violation>, ApiError> {
            let input = tencentcloud_model::check::input_of(&self.0, action).expect("a CVM action");
            Ok(tencentcloud_model::check::decode_violations(
                &self.0, input, params,
            ))
        }
    }

    fn cvm() -> &'static Cvm {
        static CVM: std::sync::OnceLock<Cvm> = std::sync::OnceLock::new();
        CVM.get_or_init(|| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/cvm/v20170312");
            Cvm(tencentcloud_model::load_dir(&dir).expect("CVM's description builds"))
        })
    }

    /// Decodes `params` both ways (as a JSON body and as a tree), which
    /// must agree on the outcome and the code.
    fn both<T: DeserializeOwned>(action: &'static str, params: Value) -> Result<T, ApiError> {
        let cvm = cvm();
        let body = Bytes::from(serde_json::to_vec(&params).unwrap());
        let from_json = decode::<T, _>(cvm, action, json_params(body).unwrap());
        let from_tree = decode::<T, _>(cvm, action, Params::Tree(params));
        match (&from_json, &from_tree) {
            (Ok(_), Ok(_)) => {}
            (Err(a), Err(b)) => assert_eq!(a.code, b.code, "{a} / {b}"),
            (a, b) => panic!(
                "JSON and tree disagree: {:?} / {:?}",
                a.as_ref().err(),
                b.as_ref().err()
            ),
        }
        from_json
    }

    fn code<T: DeserializeOwned>(action: &'static str, params: Value) -> (String, String) {
        let e = both::<T>(action, params).err().expect("should fail");
        (e.code, e.message)
    }

    #[test]
    fn decodes_leniently() {
        let r: DescribeInstancesRequest = both(
            "DescribeInstances",
            json!({"Limit": "20", "Offset": 1, "Filters": [{"Name": "zone", "Values": ["z"]}]}),
        )
        .unwrap();
        assert_eq!(r.limit, Some(20));
        assert_eq!(r.filters.unwrap()[0].values, vec!["z".to_owned()]);
        let r: RunInstancesRequest = both("RunInstances", json!({"DryRun": "True"})).unwrap();
        assert_eq!(r.dry_run, Some(true));
    }

    #[test]
    fn json_bodies_are_bounded_before_decoding() {
        let refused = |body: &str| match json_params(Bytes::from(body.to_owned())) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => {
                assert_eq!(e.code, "InvalidParameter", "{e}");
                e.message
            }
        };
        let many = format!("{{\"A\": [{}0]}}", "0,".repeat(MAX_VALUES));
        assert!(refused(&many).contains("more than 10000 values"));
        let just_enough = format!("{{\"A\": [{}0]}}", "0,".repeat(MAX_VALUES - 3));
        assert!(json_params(Bytes::from(just_enough)).is_ok());
        assert!(refused("[1]").contains("not an array"));
        assert!(refused("\"x\"").contains("not a string"));
        assert!(refused("{\"A\": 1} x").contains("not valid JSON"));
        assert!(refused("{\"A\": ").contains("not valid JSON"));
        assert!(matches!(
            json_params(Bytes::from_static(b" \n")),
            Ok(Params::Tree(_))
        ));
    }

    #[test]
    fn nulls_are_absent_and_duplicates_refused() {
        // An unknown member set to null is as good as absent, both ways.
        let r: DescribeInstancesRequest = both(
            "DescribeInstances",
            json!({"Limit": 2, "Bogus": null, "Filters": [{"Name": "zone", "Values": [], "Op": null}]}),
        )
        .unwrap();
        assert_eq!(r.limit, Some(2));
        // A member given twice is ambiguous in a JSON body.
        let e = json_params(Bytes::from_static(b"{\"Limit\": 1, \"Limit\": 2}"))
            .err()
            .expect("refused");
        assert_eq!(e.code, "InvalidParameter", "{e}");
        assert!(e.message.contains("`Limit` is given twice"), "{e}");
        // In a nested object too; the same key in two objects is no repeat.
        let e = json_params(Bytes::from_static(b"{\"A\": [{\"B\": 1, \"B\": 2}]}"))
            .err()
            .expect("refused");
        assert!(e.message.contains("`B` is given twice"), "{e}");
        assert!(json_params(Bytes::from_static(b"{\"A\": {\"B\": 1}, \"C\": {\"B\": 2}}")).is_ok());
    }

    /// serde's derived structs take a list of their members' values for an
    /// object; the gateway does not, whatever else the body holds (an
    /// outside attack launched an instance from `"Placement": [...]`).
    #[test]
    fn a_list_is_no_object() {
        for params in [
            json!({"Placement": ["ap-guangzhou-3"], "ImageId": "img-aaaaaaaa"}),
            json!({"Placement": ["ap-guangzhou-3"], "ImageId": "img-aaaaaaaa", "Zzz": null}),
        ] {
            let (c, m) = code::<RunInstancesRequest>("RunInstances", params);
            assert_eq!(c, "InvalidParameter");
            assert!(m.contains("`Placement` is invalid"), "{m}");
        }
        let (c, m) = code::<DescribeInstancesRequest>(
            "DescribeInstances",
            json!({"Filters": [["zone", ["ap-guangzhou-3"]]]}),
        );
        assert_eq!(c, "InvalidParameter");
        assert!(m.contains("`Filters.0` is invalid"), "{m}");
    }

    #[test]
    fn reports_in_gateway_order() {
        let (c, m) = code::<DescribeInstancesRequest>("DescribeInstances", json!({"Limit": "many"}));
        assert_eq!(c, "InvalidParameter");
        assert!(m.contains("`Limit`"), "{m}");
        let (c, m) = code::<DescribeInstancesRequest>(
            "DescribeInstances",
            json!({"Filters": [{"Name": "zone", "Values": [[]]}]}),
        );
        assert_eq!(c, "InvalidParameter");
        assert!(m.contains("`Filters.0.Values.0`"), "{m}");

        let (c, m) = code::<DescribeInstancesRequest>("DescribeInstances", json!({"Limit": 1, "Bogus": 1}));
        assert_eq!(
            (c.as_str(), m.contains("`Bogus`")),
            ("UnknownParameter", true),
            "{m}"
        );
        let (c, m) = code::<DescribeInstancesRequest>(
            "DescribeInstances",
            json!({"Filters": [{"Name": "zone", "Values": [], "Op": "x"}]}),
        );
        assert_eq!(c, "UnknownParameter");
        assert!(m.contains("`Filters.0.Op`"), "{m}");

        let (c, m) = code::<StartInstancesRequest>("StartInstances", json!({}));
        assert_eq!(c, "MissingParameter");
        assert!(m.contains("`InstanceIds`"), "{m}");
        // Unknown before missing, even when the required member is absent.
        let (c, m) = code::<StartInstancesRequest>("StartInstances", json!({"InstanceId": ["ins-aaaaaaaa"]}));
        assert_eq!(c, "UnknownParameter");
        assert!(m.contains("`InstanceId`"), "{m}");
        let (c, m) =
            code::<DescribeInstancesRequest>("DescribeInstances", json!({"Filters": [{"Values": ["a"]}]}));
        assert_eq!(c, "MissingParameter");
        assert!(m.contains("`Filters.0.Name`"), "{m}");
        let (c, _) = code::<DescribeInstancesRequest>(
            "DescribeInstances",
            json!({"Filters": [{"Values": ["a"], "X": 1}]}),
        );
        assert_eq!(c, "UnknownParameter");
        // Nulls are as good as absent.
        assert!(both::<DescribeInstancesRequest>("DescribeInstances", json!({"Limit": null})).is_ok());
    }

    #[test]
    fn rules_map_to_codes() {
        let r = {
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec![];
            new_value
        };
        assert_eq!(check_rules(&r).unwrap_err().code, "MissingParameter");
        let r = {
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec!["bad".into()];
            new_value
        };
        let e = check_rules(&r).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(e.message.contains("`InstanceIds.0`"), "{}", e.message);
    }
}
