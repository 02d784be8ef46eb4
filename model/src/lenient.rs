//! Lenient decoding of scalar members in responses.
//!
//! Real servers are not always faithful to their own description: a number
//! arrives where the spec says string, or a numeric string where it says
//! integer (the official Go SDK fails on DescribeImages for this reason).
//! These functions accept both forms and keep the value exactly; anything
//! that cannot be converted without loss is an error, never a silent default.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// 2^53: every integer up to here is exact in an f64, and none beyond is sure to be.
const MAX_EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// `#[serde(deserialize_with = "crate::runtime::lenient::deserialize")]`.
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient,
{
    T::lenient(deserializer)
}

/// [`deserialize`] for a member the spec says is always present: `null`
/// decodes as the empty value, as an omitted member does.
pub fn deserialize_or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient + Default,
{
    Option::<T>::lenient(deserializer).map(Option::unwrap_or_default)
}

/// For a list or object member the spec says is always present: `null`
/// decodes as the empty value, as an omitted member does (some services send
/// `null` for an empty list).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A type with a lenient decoding.
#[doc(hidden)]
pub trait Lenient: Sized {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string (or a number or bool, kept as its text)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        // serde_json hands over integers beyond u64 as f64, already rounded:
        // past 2^53 the text can no longer be recovered exactly.
        if v.is_finite() && v.abs() <= MAX_EXACT_F64 {
            Ok(v.to_string())
        } else {
            Err(E::custom(format!(
                "number {v} cannot be kept exactly as a string"
            )))
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl Lenient for String {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringVisitor)
    }
}

macro_rules! lenient_integer {
    ($ty:ty, $what:literal) => {
        impl Lenient for $ty {
            fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(concat!("an ", $what, " (or a string holding one)"))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        <$ty>::try_from(v)
                            .map_err(|_| E::custom(format!("{v} is out of range for {}", $what)))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        <$ty>::try_from(v)
                            .map_err(|_| E::custom(format!("{v} is out of range for {}", $what)))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        // 3.0 is an integer written oddly; 3.5 is not an integer at
                        // all, and past 2^53 an f64 may already have been rounded.
                        if v.fract() == 0.0 && v.abs() <= MAX_EXACT_F64 && v >= <$ty>::MIN as f64 {
                            Ok(v as $ty)
                        } else {
                            Err(E::custom(format!("{v} is not an exact {}", $what)))
                        }
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.trim()
                            .parse()
                            .map_err(|_| E::custom(format!("string {v:?} is not an {}", $what)))
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

lenient_integer!(i64, "int64");
lenient_integer!(u64, "uint64");

impl Lenient for f64 {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number (or a string holding one)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                v.trim()
                    .parse()
                    .map_err(|_| E::custom(format!("string {v:?} is not a number")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl Lenient for bool {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a bool (or the string \"true\" or \"false\")")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
                Ok(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
                match v {
                    "true" | "TRUE" | "True" => Ok(true),
                    "false" | "FALSE" | "False" => Ok(false),
                    _ => Err(E::custom(format!("string {v:?} is not a bool"))),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

struct Seed<T>(PhantomData<T>);

impl<'de, T: Lenient> DeserializeSeed<'de> for Seed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::lenient(deserializer)
    }
}

impl<T: Lenient> Lenient for Option<T> {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Lenient> Visitor<'de> for V<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
                T::lenient(d).map(Some)
            }
        }
        deserializer.deserialize_option(V(PhantomData))
    }
}

impl<T: Lenient> Lenient for Vec<T> {
    fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Lenient> Visitor<'de> for V<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(item) = seq.next_element_seed(Seed::<T>(PhantomData))? {
                    out.push(item);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct AlwaysPresent {
        #[serde(default, deserialize_with = "super::deserialize_or_default")]
        count: i64,
        #[serde(default, deserialize_with = "super::deserialize_or_default")]
        name: String,
        #[serde(default, deserialize_with = "super::null_as_default")]
        items: Vec<String>,
    }

    #[test]
    fn null_reads_as_absent_for_members_the_spec_says_are_always_there() {
        let empty = AlwaysPresent {
            count: 0,
            name: String::new(),
            items: Vec::new(),
        };
        let nulls: AlwaysPresent =
            serde_json::from_str(r#"{"count": null, "name": null, "items": null}"#).unwrap();
        assert_eq!(nulls, empty);
        assert_eq!(serde_json::from_str::<AlwaysPresent>("{}").unwrap(), empty);
        let full: AlwaysPresent =
            serde_json::from_str(r#"{"count": "7", "name": 5, "items": ["a"]}"#).unwrap();
        assert_eq!((full.count, full.name.as_str(), full.items.len()), (7, "5", 1));
        // Still refused: what cannot be converted without loss.
        assert!(serde_json::from_str::<AlwaysPresent>(r#"{"count": "seven"}"#).is_err());
        assert!(serde_json::from_str::<AlwaysPresent>(r#"{"items": "a"}"#).is_err());
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sample {
        #[serde(deserialize_with = "super::deserialize")]
        s: String,
        #[serde(deserialize_with = "super::deserialize")]
        i: i64,
        #[serde(deserialize_with = "super::deserialize")]
        u: u64,
        #[serde(deserialize_with = "super::deserialize")]
        f: f64,
        #[serde(deserialize_with = "super::deserialize")]
        b: bool,
        #[serde(default, deserialize_with = "super::deserialize")]
        o: Option<Vec<String>>,
    }

    fn parse(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn accepts_both_forms_without_loss() {
        let strict =
            parse(r#"{"s":"x","i":-3,"u":18446744073709551615,"f":1.5,"b":true,"o":["a"]}"#).unwrap();
        let loose =
            parse(r#"{"s":"x","i":"-3","u":"18446744073709551615","f":"1.5","b":"true","o":["a"]}"#).unwrap();
        assert_eq!(strict, loose);
        let numbers = parse(r#"{"s":12345678901234,"i":4.0,"u":7,"f":2,"b":false,"o":[1,"b"]}"#).unwrap();
        assert_eq!(numbers.s, "12345678901234");
        assert_eq!(numbers.i, 4);
        assert_eq!(numbers.o, Some(vec!["1".to_string(), "b".to_string()]));
        let absent = parse(r#"{"s":"","i":0,"u":0,"f":0,"b":false}"#).unwrap();
        assert_eq!(absent.o, None);
        let null = parse(r#"{"s":"","i":0,"u":0,"f":0,"b":false,"o":null}"#).unwrap();
        assert_eq!(null.o, None);
    }

    #[test]
    fn refuses_lossy_conversions() {
        for bad in [
            r#"{"s":"","i":1.5,"u":0,"f":0,"b":false}"#,
            r#"{"s":"","i":"ten","u":0,"f":0,"b":false}"#,
            r#"{"s":"","i":0,"u":-1,"f":0,"b":false}"#,
            r#"{"s":"","i":0,"u":0,"f":"x","b":false}"#,
            r#"{"s":"","i":0,"u":0,"f":0,"b":"yes"}"#,
            r#"{"s":[],"i":0,"u":0,"f":0,"b":false}"#,
            r#"{"s":"","i":9223372036854775808,"u":0,"f":0,"b":false}"#,
            // 2^63 written as a float: would clamp to i64::MAX.
            r#"{"s":"","i":9223372036854775808.0,"u":0,"f":0,"b":false}"#,
            r#"{"s":"","i":0,"u":18446744073709551616.0,"f":0,"b":false}"#,
            r#"{"s":"","i":0,"u":1e300,"f":0,"b":false}"#,
            // Beyond u64 serde_json has already rounded it: the text is lost.
            r#"{"s":12345678901234567890123,"i":0,"u":0,"f":0,"b":false}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
