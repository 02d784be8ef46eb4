//! The on-disk formats, parsed as they are written, before any cross-checking.
//!
//! `api.json` has the shape of Tencent Cloud's own API description (the one the
//! official CLI ships as `tccli/services/<service>/<version>/api.json`), so an
//! action copied from the official file parses unchanged. `errors.json` and
//! `rules.json` are ours: facts the official format does not carry.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A map that refuses duplicate keys: serde_json would otherwise keep the last
/// one silently, and a spec with two `StartInstances` actions is a mistake.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct UniqueMap<V>(pub BTreeMap<String, V>);

impl<V> UniqueMap<V> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        UniqueMap(BTreeMap::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UniqueVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueVisitor<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    let value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        deserializer.deserialize_map(UniqueVisitor(PhantomData))
    }
}

/// `api.json`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiFile {
    pub actions: UniqueMap<ActionDef>,
    pub metadata: Metadata,
    pub objects: UniqueMap<ObjectDef>,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Metadata {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    #[serde(rename = "serviceShortName")]
    pub service_short_name: String,
    /// Other metadata (`api_brief`, `serviceNameCN`, ...) is carried through untouched.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    pub document: String,
    pub input: Option<String>,
    pub name: String,
    pub output: Option<String>,
    /// The service takes the action unsigned (`Authorization: SKIP`): STS's
    /// `AssumeRoleWithWebIdentity` and `AssumeRoleWithSAML`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_sign: Option<bool>,
    /// `online`, `deprecated`; a few official actions have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDef {
    pub document: String,
    pub members: Vec<MemberDef>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Usage {
    In,
    Out,
    Both,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MemberDef {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "flag")]
    pub disabled: Option<bool>,
    pub document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    pub member: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "flag")]
    pub output_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "flag")]
    pub required: Option<bool>,
    #[serde(rename = "type")]
    pub kind: MemberKind,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "flag")]
    pub value_allowed_null: Option<bool>,
}

/// A member's flag: `true`/`false`, or `1`/`0` as one official description
/// (databuddy 2026-07-15) writes `required`. Nothing else: `2` or `"yes"`
/// would be a guess.
fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    use serde_json::Value;
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(Some(false)),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(Some(true)),
        other => Err(serde::de::Error::custom(format!(
            "invalid flag `{other}`, expected true, false, 1 or 0"
        ))),
    }
}

/// The `type` of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberKind {
    String,
    Int,
    Float,
    Bool,
    List,
    Object,
    /// File content (`member` is `binary` too): cii's `DescribeQualityScore`.
    Binary,
}

/// `errors.json`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ErrorsFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Every known code with a short English description (may be empty).
    pub codes: UniqueMap<String>,
    /// Codes any action may return.
    pub common: Vec<String>,
    /// Codes each action documents.
    pub actions: UniqueMap<Vec<String>>,
}

/// `rules.json`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// object name → member name → rule.
    pub objects: UniqueMap<UniqueMap<Rule>>,
    /// Actions that take no `Region`. Tencent's common parameters make
    /// `Region` required unless an action's documentation says otherwise,
    /// and the official description does not record which say so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions_without_region: Vec<String>,
    /// Closed sets of values a string member takes, where our docs state
    /// them: enum name → its values and the members (`Object.Member`) that
    /// take them. Generated code makes each an open enum.
    #[serde(default, skip_serializing_if = "UniqueMap::is_empty")]
    pub enums: UniqueMap<EnumDef>,
    /// Action name → the requests per second Tencent documents for it, per
    /// account. Signed, so that a zero or a negative number is refused by the
    /// model's checks with its own words rather than by a type error.
    #[serde(default, skip_serializing_if = "UniqueMap::is_empty")]
    pub rate_limits: UniqueMap<i64>,
}

/// One closed set of string values (`rules.json`'s `enums`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EnumDef {
    /// The values as sent on the wire, e.g. `RUNNING`.
    pub values: Vec<String>,
    /// The members of this type, as `Object.Member`.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
}

/// `waiters.json`: waiters in our own format, modelled on Smithy's waiter
/// trait: the action to poll, the awaited items, acceptors in order, delays.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WaitersFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Waiter name (`InstancesRunning`) → definition.
    pub waiters: UniqueMap<WaiterDef>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WaiterDef {
    /// One or two English sentences: what is awaited.
    pub documentation: String,
    /// The action polled.
    pub action: String,
    pub ids: WaiterIds,
    /// Seconds between polls: the first pause is `min_delay`, growing to `max_delay`.
    pub min_delay: u64,
    pub max_delay: u64,
    /// Seconds the whole wait may last unless the caller says otherwise.
    pub deadline: u64,
    pub acceptors: Vec<AcceptorDef>,
}

/// Which items are awaited and where the answer lists them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WaiterIds {
    /// The input member taking the ids (a list of strings).
    pub input: String,
    /// The output member listing the items (a list of objects).
    pub items: String,
    /// The item member holding its id.
    pub key: String,
    /// The value every item path takes for an id the answer does not list
    /// (`TERMINATED`); absent, a missing id matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptorDef {
    pub state: AcceptorState,
    pub matcher: MatcherDef,
}

/// What a waiter does when an acceptor matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AcceptorState {
    /// The wait is over: what was awaited happened.
    Success,
    /// The wait is over: it cannot happen any more (e.g. `LAUNCH_FAILED`).
    Failure,
    /// Poll again.
    Retry,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherDef {
    /// Member names joined by `.`: from each awaited item for `all` and
    /// `any`, from the answer for `equals`.
    pub path: String,
    pub comparator: Comparator,
    /// The value compared with, as a string (`RUNNING`, `0`).
    pub expected: String,
}

/// How an acceptor's path is compared with its expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparator {
    /// Every awaited item's value at the path equals the expected value.
    All,
    /// Some awaited item's value equals it.
    Any,
    /// The answer's own value at the path equals it.
    Equals,
}
