//! How far an answer may expand in memory once decoded, and the counting
//! that holds it there: the runtime's decoding of every answer and
//! tcloud's projection and rendering share it.
//!
//! The body's size is capped before decoding, but a small body can expand
//! enormously: `{}` is three bytes, and as a typed response item it becomes
//! a whole struct (dozens of members); as a `serde_json::Value` each `0` of
//! `[0,0,…]` takes 32 bytes, sixteen times its text. So what is bounded is
//! what decoding builds, counted in *values*:
//!
//! - every member a typed struct declares, counted when the struct is
//!   decoded (present in the answer or not: the struct holds them all) —
//!   `fields.len()`, which serde hands the deserializer, follows the struct's
//!   size without knowing any type (CVM's `Instance`: 49 members, 1 616
//!   bytes, its inline members included);
//! - every item of a list and every member of a map (a `Value` object);
//! - for tcloud, every value its projection and output add.
//!
//! and the nesting of lists and objects (`max_depth`). Scalars in a counted
//! slot cost nothing more, and text never outgrows the body it came from,
//! which [`max_response_bytes`] already caps: so the value count is the
//! measure of the decoded size, and a separate byte count would bound
//! nothing the two do not.
//!
//! Counting happens while decoding (a [`Deserializer`] wrapper in the style
//! of `serde_path_to_error`), not in a pre-scan of the bytes: a pre-scan
//! cannot know what a `{}` becomes, and decoding reads the bytes once
//! anyway. Values decoding ignores (unknown members) are skipped uncounted:
//! they build nothing.
//!
//! [`max_response_bytes`]: https://docs.rs/tencentcloud-runtime/latest/tencentcloud_runtime/struct.Config.html#method.max_response_bytes

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::Deserialize;

/// How far one answer may expand when decoded: see the [module](self) for
/// what is counted. The defaults are far above any real answer (a
/// `DescribeInstances` page of 100 full instances is 11 303 values; the
/// largest catalogue answers, thousands of items of a few dozen members, a
/// few hundred thousand) and keep the worst answer within about 100 MB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseLimits {
    /// Most values an answer may decode to. Default
    /// [`ResponseLimits::DEFAULT_MAX_VALUES`].
    pub max_values: usize,
    /// Deepest nesting of lists and objects, the `Response` object being
    /// level 1. Default [`ResponseLimits::DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
}

impl ResponseLimits {
    /// A million values: about 33 MB as typed structs (CVM's `Instance` is
    /// 33 bytes a declared member), up to about 100 MB as a
    /// `serde_json::Value` (a map member with its key), several times the
    /// largest real answers.
    pub const DEFAULT_MAX_VALUES: usize = 1_000_000;
    /// The deepest of the 16 204 official actions' answers nests 15 levels;
    /// 65 return trees, nested as deep as their data, which this leaves 17
    /// more levels (8 of tree). serde_json itself refuses 128.
    pub const DEFAULT_MAX_DEPTH: usize = 32;

    /// The defaults.
    pub fn new() -> Self {
        ResponseLimits {
            max_values: Self::DEFAULT_MAX_VALUES,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }

    /// Sets [`ResponseLimits::max_values`].
    pub fn with_max_values(mut self, values: usize) -> Self {
        self.max_values = values;
        self
    }

    /// Sets [`ResponseLimits::max_depth`].
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }
}

impl Default for ResponseLimits {
    fn default() -> Self {
        ResponseLimits::new()
    }
}

/// Which limit an answer broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitExceeded {
    /// More values than [`ResponseLimits::max_values`] (the limit).
    Values(usize),
    /// Nested deeper than [`ResponseLimits::max_depth`] (the limit).
    Depth(usize),
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitExceeded::Values(limit) => write!(
                f,
                "the answer expands to more than {limit} values (the limit `max_values`)"
            ),
            LimitExceeded::Depth(limit) => write!(
                f,
                "the answer nests lists and objects deeper than {limit} levels (the limit `max_depth`)"
            ),
        }
    }
}

impl std::error::Error for LimitExceeded {}

/// What one answer has spent of its [`ResponseLimits`].
#[derive(Debug)]
pub struct Budget {
    limits: ResponseLimits,
    values: usize,
    depth: usize,
    exceeded: Option<LimitExceeded>,
}

impl Budget {
    pub fn new(limits: ResponseLimits) -> Self {
        Budget {
            limits,
            values: 0,
            depth: 0,
            exceeded: None,
        }
    }

    /// Counts `values` more.
    #[inline]
    pub fn charge(&mut self, values: usize) -> Result<(), LimitExceeded> {
        self.values = self.values.saturating_add(values);
        if self.values > self.limits.max_values {
            return Err(self.exceed(LimitExceeded::Values(self.limits.max_values)));
        }
        Ok(())
    }

    /// One level deeper; [`Budget::leave`] when done with it.
    #[inline]
    pub fn enter(&mut self) -> Result<(), LimitExceeded> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.exceed(LimitExceeded::Depth(self.limits.max_depth)));
        }
        Ok(())
    }

    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Values counted so far.
    pub fn values(&self) -> usize {
        self.values
    }

    /// The limit broken, if one was: the decoder's error then only says
    /// where (a serde error carries text, not this).
    pub fn exceeded(&self) -> Option<LimitExceeded> {
        self.exceeded
    }

    fn exceed(&mut self, exceeded: LimitExceeded) -> LimitExceeded {
        self.exceeded = Some(exceeded);
        exceeded
    }
}

/// `text` (one JSON value, nothing after it) as `T`, within `budget`. On an
/// error, [`Budget::exceeded`] tells a broken limit from bad JSON.
pub fn from_str<'de, T: Deserialize<'de>>(
    text: &'de str,
    budget: &mut Budget,
) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Bounded::new(&mut de, budget))?;
    de.end()?;
    Ok(value)
}

/// A [`Deserializer`] that counts what it decodes against a [`Budget`] and
/// fails, with `D`'s error, once a limit is broken.
pub struct Bounded<'b, D> {
    inner: D,
    budget: &'b mut Budget,
}

impl<'b, D> Bounded<'b, D> {
    pub fn new(inner: D, budget: &'b mut Budget) -> Self {
        Bounded { inner, budget }
    }
}

/// How a container's entries are counted.
#[derive(Clone, Copy)]
enum Entries {
    /// A struct's members were counted when it began (`fields.len()`).
    Declared,
    /// One value each: list items, map members.
    Each,
}

/// `visitor` wrapped to count what it is handed.
struct BoundedVisitor<'b, V> {
    visitor: V,
    budget: &'b mut Budget,
    entries: Entries,
}

impl<'b, V> BoundedVisitor<'b, V> {
    fn new(visitor: V, budget: &'b mut Budget, entries: Entries) -> Self {
        BoundedVisitor {
            visitor,
            budget,
            entries,
        }
    }
}

/// Forwards a `deserialize_*` method whose values are counted by what the
/// visitor is handed (lists and maps count their entries).
macro_rules! forward_counted {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method($($arg,)* BoundedVisitor::new(visitor, self.budget, Entries::Each))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Bounded<'_, D> {
    type Error = D::Error;

    forward_counted! {
        deserialize_any(),
        deserialize_bool(),
        deserialize_i8(),
        deserialize_i16(),
        deserialize_i32(),
        deserialize_i64(),
        deserialize_i128(),
        deserialize_u8(),
        deserialize_u16(),
        deserialize_u32(),
        deserialize_u64(),
        deserialize_u128(),
        deserialize_f32(),
        deserialize_f64(),
        deserialize_char(),
        deserialize_str(),
        deserialize_string(),
        deserialize_bytes(),
        deserialize_byte_buf(),
        deserialize_option(),
        deserialize_unit(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_seq(),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_map(),
        deserialize_identifier(),
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.budget.charge(fields.len()).map_err(de::Error::custom)?;
        self.inner.deserialize_struct(
            name,
            fields,
            BoundedVisitor::new(visitor, self.budget, Entries::Declared),
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_enum(
            name,
            variants,
            BoundedVisitor::new(visitor, self.budget, Entries::Each),
        )
    }

    /// What is ignored builds nothing: skipped uncounted, and unwrapped, so
    /// that unknown members cost no more than before.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Forwards scalar visits unchanged.
macro_rules! forward_scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.visitor.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for BoundedVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    forward_scalars! {
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, deserializer: D2) -> Result<V::Value, D2::Error> {
        self.visitor.visit_some(Bounded::new(deserializer, self.budget))
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, deserializer: D2) -> Result<V::Value, D2::Error> {
        self.visitor
            .visit_newtype_struct(Bounded::new(deserializer, self.budget))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let BoundedVisitor {
            visitor,
            budget,
            entries,
        } = self;
        budget.enter().map_err(de::Error::custom)?;
        let value = visitor.visit_seq(BoundedAccess {
            access: seq,
            budget: &mut *budget,
            entries,
        });
        budget.leave();
        value
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let BoundedVisitor {
            visitor,
            budget,
            entries,
        } = self;
        budget.enter().map_err(de::Error::custom)?;
        let value = visitor.visit_map(BoundedAccess {
            access: map,
            budget: &mut *budget,
            entries,
        });
        budget.leave();
        value
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_enum(BoundedAccess {
            access: data,
            budget: self.budget,
            entries: Entries::Each,
        })
    }
}

/// A list's, a map's or an enum's access, counting its entries.
struct BoundedAccess<'b, A> {
    access: A,
    budget: &'b mut Budget,
    entries: Entries,
}

/// A seed whose value is decoded within the budget, counted as one value
/// first when `counted` (a list item or a map key: counted only once it is
/// known to be there).
struct BoundedSeed<'b, S> {
    seed: S,
    budget: &'b mut Budget,
    counted: bool,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for BoundedSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        if self.counted {
            self.budget.charge(1).map_err(de::Error::custom)?;
        }
        self.seed.deserialize(Bounded::new(deserializer, self.budget))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for BoundedAccess<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.access.next_element_seed(BoundedSeed {
            seed,
            budget: &mut *self.budget,
            counted: matches!(self.entries, Entries::Each),
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for BoundedAccess<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.access.next_key_seed(BoundedSeed {
            seed,
            budget: &mut *self.budget,
            counted: matches!(self.entries, Entries::Each),
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.access.next_value_seed(BoundedSeed {
            seed,
            budget: &mut *self.budget,
            counted: false,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'de, 'b, A: EnumAccess<'de>> EnumAccess<'de> for BoundedAccess<'b, A> {
    type Error = A::Error;
    type Variant = BoundedAccess<'b, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self::Variant), A::Error> {
        let BoundedAccess { access, budget, .. } = self;
        // The variant's name builds nothing: decoded unwrapped.
        let (value, variant) = access.variant_seed(seed)?;
        Ok((
            value,
            BoundedAccess {
                access: variant,
                budget,
                entries: Entries::Each,
            },
        ))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for BoundedAccess<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.access.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.access.newtype_variant_seed(BoundedSeed {
            seed,
            budget: self.budget,
            counted: false,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.access
            .tuple_variant(len, BoundedVisitor::new(visitor, self.budget, Entries::Each))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.budget.charge(fields.len()).map_err(de::Error::custom)?;
        self.access.struct_variant(
            fields,
            BoundedVisitor::new(visitor, self.budget, Entries::Declared),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// A struct of eight members, as a generated response item is one of dozens.
    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Item {
        a: Option<String>,
        b: Option<i64>,
        c: Option<Vec<String>>,
        d: Option<Box<Item>>,
        e: Option<bool>,
        f: Option<f64>,
        g: Vec<Tag>,
        h: Option<Kind>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Tag {
        key: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Kind {
        Plain,
        Pair(u8, u8),
        Named { x: u8 },
    }

    fn limits(values: usize, depth: usize) -> ResponseLimits {
        ResponseLimits::new()
            .with_max_values(values)
            .with_max_depth(depth)
    }

    /// The value `text` decodes to within `limits`, and what it spent; or
    /// the limit it broke.
    fn decode<T: for<'de> Deserialize<'de>>(
        text: &str,
        limits: ResponseLimits,
    ) -> Result<(T, usize), LimitExceeded> {
        let mut budget = Budget::new(limits);
        match from_str::<T>(text, &mut budget) {
            Ok(value) => Ok((value, budget.values())),
            Err(e) => Err(budget.exceeded().unwrap_or_else(|| panic!("not a limit: {e}"))),
        }
    }

    #[test]
    fn a_struct_costs_its_declared_members_present_or_not() {
        let (items, spent) = decode::<Vec<Item>>("[{},{},{}]", limits(100, 8)).unwrap();
        assert_eq!(items.len(), 3);
        // 3 items, 8 members each.
        assert_eq!(spent, 3 + 3 * 8);
        let (_, spent) = decode::<Vec<Item>>(r#"[{"g":[{"key":"k"}]}]"#, limits(100, 8)).unwrap();
        // The item, its 8 members, one tag, the tag's 1 member.
        assert_eq!(spent, 1 + 8 + 1 + 1);
        assert_eq!(
            decode::<Vec<Item>>("[{},{},{}]", limits(26, 8)).unwrap_err(),
            LimitExceeded::Values(26)
        );
    }

    #[test]
    fn lists_and_maps_cost_an_entry_each_and_scalars_nothing_more() {
        let (_, spent) = decode::<Value>(r#"{"a":[1,2,3],"b":{},"c":"text"}"#, limits(100, 8)).unwrap();
        assert_eq!(spent, 3 + 3);
        let (_, spent) = decode::<Value>("7", limits(0, 0)).unwrap();
        assert_eq!(spent, 0);
    }

    #[test]
    fn unknown_members_are_skipped_uncounted() {
        let wide = format!(r#"{{"a":"x","zz":[{}]}}"#, vec!["[[{}]]"; 1000].join(","));
        let (item, spent) = decode::<Item>(&wide, limits(8, 1)).unwrap();
        assert_eq!(item.a.as_deref(), Some("x"));
        assert_eq!(spent, 8);
    }

    #[test]
    fn depth_counts_lists_and_objects() {
        assert!(decode::<Value>("[[[]]]", limits(100, 3)).is_ok());
        assert_eq!(
            decode::<Value>("[[[]]]", limits(100, 2)).unwrap_err(),
            LimitExceeded::Depth(2)
        );
        assert_eq!(
            decode::<Item>(r#"{"d":{"d":{"d":{}}}}"#, limits(100, 3)).unwrap_err(),
            LimitExceeded::Depth(3)
        );
    }

    #[test]
    fn enums_are_counted_through() {
        let text = r#"[{"h":"Plain"},{"h":{"Pair":[1,2]}},{"h":{"Named":{"x":3}}}]"#;
        let (items, spent) = decode::<Vec<Item>>(text, limits(100, 8)).unwrap();
        assert_eq!(items[1].h, Some(Kind::Pair(1, 2)));
        assert_eq!(items[2].h, Some(Kind::Named { x: 3 }));
        // 3 items of 8 members, the pair's 2 items, the named variant's 1 member.
        assert_eq!(spent, 3 + 24 + 2 + 1);
    }

    #[test]
    fn a_flood_of_empty_items_is_refused_early_and_says_which_limit() {
        // The outside attack's shape: 200 000 `{}`, 600 KB that would be
        // 200 000 whole structs.
        let text = format!("[{}]", vec!["{}"; 200_000].join(","));
        let mut budget = Budget::new(ResponseLimits::new().with_max_values(10_000));
        let e = from_str::<Vec<Item>>(&text, &mut budget).unwrap_err();
        assert_eq!(budget.exceeded(), Some(LimitExceeded::Values(10_000)));
        // Refused at the item that broke the limit, not at the end.
        assert!(budget.values() <= 10_000 + 8, "{}", budget.values());
        assert!(
            e.to_string().starts_with(
                "the answer expands to more than 10000 values (the limit `max_values`) at line 1 column"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_json_is_not_taken_for_a_broken_limit() {
        let mut budget = Budget::new(ResponseLimits::new());
        assert!(from_str::<Vec<Item>>("[{},", &mut budget).is_err());
        assert_eq!(budget.exceeded(), None);
        assert!(from_str::<Value>("{} x", &mut budget).is_err());
        assert_eq!(budget.exceeded(), None);
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z\\\\\"é]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-h]{1,2}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Within its limits, the wrapper decodes what serde_json decodes.
        #[test]
        fn decoding_within_limits_changes_nothing(value in json()) {
            let text = value.to_string();
            let mut budget = Budget::new(ResponseLimits::new());
            prop_assert_eq!(from_str::<Value>(&text, &mut budget).unwrap(), value);
            let typed: Result<Vec<Item>, _> = serde_json::from_str(&text);
            let mut budget = Budget::new(ResponseLimits::new());
            let bounded: Result<Vec<Item>, _> = from_str(&text, &mut budget);
            prop_assert_eq!(typed.ok(), bounded.ok());
        }
    }
}
