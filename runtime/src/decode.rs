//! A success's `Response` object as the action's response type, within the
//! client's [`ResponseLimits`]: what an answer may expand to in memory,
//! which its byte size does not bound (see `tencentcloud_model::budget`).

use serde::de::DeserializeOwned;
use tencentcloud_model::budget::{self, Bounded, Budget};

use super::{InvalidResponseKind, ResponseLimits};

/// Why a `Response` object was not decoded.
pub(crate) struct Undecoded {
    pub(crate) kind: InvalidResponseKind,
    pub(crate) reason: String,
}

/// The `Response` object of a success as `R`, counted against `limits` as
/// it is built. Path tracking costs on every call, so only a failure is
/// decoded again (within the same limits) to say where it failed.
pub(crate) fn decode<R: DeserializeOwned>(raw: &str, limits: ResponseLimits) -> Result<R, Undecoded> {
    let mut budget = Budget::new(limits);
    budget::from_str(raw, &mut budget).map_err(|plain| {
        // Decoding is deterministic: the second pass fails where the first
        // did, having built no more. The count wraps the path tracking, so
        // that the path names the item that broke a limit.
        let mut again = Budget::new(limits);
        let mut track = serde_path_to_error::Track::new();
        let mut de = serde_json::Deserializer::from_str(raw);
        let tracked = serde_path_to_error::Deserializer::new(&mut de, &mut track);
        let second = R::deserialize(Bounded::new(tracked, &mut again)).err();
        let path = track.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        let e = second.unwrap_or(plain);
        match budget.exceeded() {
            Some(limit) => Undecoded {
                kind: InvalidResponseKind::TooComplex,
                reason: format!(
                    "the `Response` object is too complex to decode: {at}{limit} (line {}, column {}); \
                     raise it with `Config::with_response_limits` if the answer is genuine",
                    e.line(),
                    e.column()
                ),
            },
            None => Undecoded {
                kind: InvalidResponseKind::Undecodable,
                reason: format!("cannot decode the `Response` object: {at}{e}"),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Answer {
        #[serde(rename = "Items", default)]
        items: Vec<Item>,
        #[serde(rename = "RequestId")]
        request_id: String,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        #[serde(rename = "A")]
        a: Option<String>,
        #[serde(rename = "B")]
        b: Option<i64>,
    }

    fn undecoded(raw: &str, limits: ResponseLimits) -> Undecoded {
        match decode::<Answer>(raw, limits) {
            Ok(answer) => panic!("decoded: {answer:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_broken_limit_is_too_complex_and_named_with_where() {
        let raw = format!(r#"{{"RequestId":"r","Items":[{}]}}"#, vec!["{}"; 100].join(","));
        assert!(decode::<Answer>(&raw, ResponseLimits::new()).is_ok());
        let e = undecoded(&raw, ResponseLimits::new().with_max_values(50));
        assert_eq!(e.kind, InvalidResponseKind::TooComplex);
        assert!(
            e.reason.starts_with(
                "the `Response` object is too complex to decode: Items[16]: the answer expands to more than \
                 50 values (the limit `max_values`) (line 1, column "
            ),
            "{}",
            e.reason
        );
        let e = undecoded(&raw, ResponseLimits::new().with_max_depth(2));
        assert_eq!(e.kind, InvalidResponseKind::TooComplex);
        assert!(
            e.reason.contains("deeper than 2 levels (the limit `max_depth`)"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn a_wrong_type_is_undecodable_with_its_path() {
        let e = undecoded(r#"{"RequestId":"r","Items":[{"B":"x"}]}"#, ResponseLimits::new());
        assert_eq!(e.kind, InvalidResponseKind::Undecodable);
        assert!(
            e.reason
                .starts_with("cannot decode the `Response` object: Items[0].B: invalid type"),
            "{}",
            e.reason
        );
    }
}
