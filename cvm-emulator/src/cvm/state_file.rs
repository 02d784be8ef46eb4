//! The state's JSON form: what `--state` files hold and what
//! [`RunningEmulator::state_snapshot`](crate::RunningEmulator::state_snapshot)
//! returns. Unknown members are refused at any depth, so a misspelt member
//! is an error rather than a silent default.

use std::fmt;
use std::path::Path;

use cvm_api::types::Instance;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;

/// The emulator's whole state: the instances of every region, and the
/// `ClientToken`s of the RunInstances calls that created them.
///
/// Its JSON form is what `--state FILE` reads and writes:
///
/// ```json
/// {"Instances": [
///   {"InstanceId": "ins-abcd1234", "InstanceState": "STOPPED", "Placement": {"Zone": "ap-guangzhou-3"}}
/// ]}
/// ```
///
/// `Resources` (key pairs, ...) may follow: each a `Kind`, `Region`, `Id`
/// and the `Item` its describing action lists.
///
/// Each instance is a DescribeInstances `Instance` object plus `Region`
/// (derived from the zone when absent) and, while an operation is under
/// way, `PendingTransition`. Members left out of a seed get plausible values
/// when the emulator starts; only `Placement.Zone` is required.
/// [`State::from_json`] and [`State::load`] refuse members the emulator does
/// not know, at the top level and at any depth inside instances (a misspelt
/// `InstanceStat` would otherwise be ignored); plain serde refuses unknown
/// top-level members only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Instances, oldest first.
    #[serde(rename = "Instances", default)]
    pub instances: Vec<StoredInstance>,
    /// RunInstances calls made with a `ClientToken`: a retry with the same
    /// token returns the same instances instead of creating more.
    #[serde(rename = "ClientTokens", default, skip_serializing_if = "Vec::is_empty")]
    pub client_tokens: Vec<ClientTokenRecord>,
    /// Resources other than instances (key pairs, ...), oldest first.
    #[serde(rename = "Resources", default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<StoredResource>,
}

/// A resource other than an instance, as its describing action lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredResource {
    /// What it is: `KeyPair`.
    #[serde(rename = "Kind")]
    pub kind: String,
    /// The region it belongs to.
    #[serde(rename = "Region")]
    pub region: String,
    /// Its id (`skey-abcd1234`), as its item holds it too.
    #[serde(rename = "Id")]
    pub id: String,
    /// The item its describing action lists (a DescribeKeyPairs `KeyPair`),
    /// checked against its type when the state is loaded.
    #[serde(rename = "Item")]
    pub item: serde_json::Value,
}

/// What a `ClientToken` of CreateDisks or AllocateAddresses made (the
/// item of a `ClientToken` resource).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenItem {
    /// The action called.
    #[serde(rename = "Action")]
    pub action: String,
    /// The caller's token.
    #[serde(rename = "ClientToken")]
    pub client_token: String,
    /// What the first call made.
    #[serde(rename = "Ids")]
    pub ids: Vec<String>,
}

/// Names a stored resource in a journal record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceKey {
    /// The resource's kind (`KeyPair`).
    #[serde(rename = "Kind")]
    pub kind: String,
    /// Its id.
    #[serde(rename = "Id")]
    pub id: String,
}

impl StoredResource {
    /// Its kind and id.
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            kind: self.kind.clone(),
            id: self.id.clone(),
        }
    }
}

/// The instances one RunInstances with a `ClientToken` created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTokenRecord {
    /// Region of the call.
    #[serde(rename = "Region")]
    pub region: String,
    /// The token.
    #[serde(rename = "ClientToken")]
    pub client_token: String,
    /// The instances created, in the order returned.
    #[serde(rename = "InstanceIds")]
    pub instance_ids: Vec<String>,
}

/// One instance as kept by the emulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredInstance {
    /// Region the instance lives in (`ap-guangzhou`); requests see only the
    /// instances of their `X-TC-Region`.
    #[serde(rename = "Region", default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// The instance as DescribeInstances returns it.
    #[serde(flatten)]
    pub instance: Instance,
    /// The operation under way, if any.
    #[serde(
        rename = "PendingTransition",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pending: Option<PendingTransition>,
}

/// An operation under way: the state it leads to and when it completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingTransition {
    /// The state the instance reaches, or [`TERMINATED`] (it disappears).
    #[serde(rename = "TargetState")]
    pub target_state: String,
    /// When, in milliseconds since the Unix epoch.
    #[serde(rename = "CompletesAtMs")]
    pub completes_at_ms: u64,
}

/// Decoded by hand rather than derived: through serde's `flatten` the
/// members of `Instance` would be buffered first and unknown ones dropped
/// unseen. Here `Region` and `PendingTransition` are taken out and every
/// other member goes straight to `Instance`, so [`State::from_json`] sees
/// (and refuses) unknown members at any depth, in one pass.
impl<'de> Deserialize<'de> for StoredInstance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StoredInstanceVisitor)
    }
}

struct StoredInstanceVisitor;

impl<'de> Visitor<'de> for StoredInstanceVisitor {
    type Value = StoredInstance;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an instance object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StoredInstance, A::Error> {
        let mut own = OwnMembers {
            map,
            region: None,
            pending: None,
        };
        let instance = Instance::deserialize(de::value::MapAccessDeserializer::new(&mut own))?;
        Ok(StoredInstance {
            region: own.region.unwrap_or_default(),
            instance,
            pending: own.pending.flatten(),
        })
    }
}

/// An instance's map with `Region` and `PendingTransition` taken out.
struct OwnMembers<A> {
    map: A,
    region: Option<String>,
    pending: Option<Option<PendingTransition>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for OwnMembers<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<String>()? else {
                return Ok(None);
            };
            match key.as_str() {
                "Region" if self.region.is_some() => return Err(de::Error::duplicate_field("Region")),
                "Region" => self.region = Some(self.map.next_value()?),
                "PendingTransition" if self.pending.is_some() => {
                    return Err(de::Error::duplicate_field("PendingTransition"))
                }
                "PendingTransition" => self.pending = Some(self.map.next_value()?),
                _ => return seed.deserialize(key.into_deserializer()).map(Some),
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Text from a state file or journal (a member's name, a value serde
/// quotes) as one inert line: it is echoed to terminals and logs.
fn inert(text: impl std::fmt::Display) -> String {
    tencentcloud_model::validate::inert(&text.to_string(), usize::MAX)
}

/// A state that cannot be loaded or kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file could not be read or written.
    #[error("{}: {source}", inert(path))]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The text is not a state document.
    #[error("invalid state JSON: {}", inert(.0))]
    Json(#[from] serde_json::Error),
    /// An instance is unusable (bad id, unknown state, duplicate...).
    #[error("invalid state: {}", inert(.0))]
    Invalid(String),
    /// A problem with the contents of a state file (it is left as it is).
    #[error("state file {}: {source}", inert(path))]
    File {
        /// The state file.
        path: String,
        /// What is wrong with it.
        source: Box<StateError>,
    },
    /// A record in the middle of the journal is damaged: a crash can only
    /// tear the last one, so this is not the trace of a crash, and starting
    /// would silently drop the changes it and the records after it hold.
    #[error(
        "{}, line {line} (byte {offset}): damaged record ({}), and {after} record(s) follow it; \
         refusing to start: restore the journal, or delete that line to give up its change",
        inert(path),
        inert(problem)
    )]
    Journal {
        /// The journal file.
        path: String,
        /// 1-based line (one record per line).
        line: usize,
        /// Byte offset of the line.
        offset: u64,
        /// What is wrong with it.
        problem: String,
        /// Records after it.
        after: usize,
    },
    /// Another emulator uses the state file.
    #[error("state file {path} is in use by another emulator ({holder}); lock file {lock_path}")]
    Locked {
        /// The state file.
        path: String,
        /// The lock file beside it.
        lock_path: String,
        /// Who holds it, as its lock file says (`pid 123, http://127.0.0.1:9000`).
        holder: String,
    },
}

impl State {
    /// No instances.
    pub fn new() -> Self {
        State::default()
    }

    /// Adds an instance (builder style).
    pub fn with_instance(mut self, instance: StoredInstance) -> Self {
        self.instances.push(instance);
        self
    }

    /// Adds `count` instances in `zone`, in `state` (`STOPPED`...), each
    /// with a random id none of the others has (builder style): what the
    /// demo and `--instances` start with.
    pub fn with_random_instances(mut self, zone: &str, state: &str, count: usize) -> Self {
        let mut ids: std::collections::HashSet<String> = self
            .instances
            .iter()
            .map(|i| i.instance.instance_id.clone())
            .collect();
        let wanted = self.instances.len() + count;
        while self.instances.len() < wanted {
            let instance = StoredInstance::with_random_id(zone, state);
            if ids.insert(instance.instance.instance_id.clone()) {
                self.instances.push(instance);
            }
        }
        self
    }

    /// The instance called `instance_id`, if present.
    pub fn instance(&self, instance_id: &str) -> Option<&StoredInstance> {
        self.instances
            .iter()
            .find(|i| i.instance.instance_id == instance_id)
    }

    /// Parses the JSON form. Unknown members are refused (see [`State`]);
    /// errors name the member (`Instances.3.CPU`).
    pub fn from_json(text: &str) -> Result<Self, StateError> {
        strict_from_json(
            text,
            "an instance has the members of a DescribeInstances Instance, plus Region and PendingTransition",
        )
        .map_err(StateError::Json)
    }

    /// The JSON form, pretty-printed.
    pub fn to_json_pretty(&self) -> String {
        // Serializing plain data into a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads a state file; errors name it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| StateError::Io {
            path: path.display().to_string(),
            source,
        })?;
        State::from_json(&text).map_err(|e| StateError::File {
            path: path.display().to_string(),
            source: Box::new(e),
        })
    }

    /// Writes a state file crash-safely: to `FILE.tmp`, flushed to disk,
    /// renamed over `FILE`, and the directory flushed. A crash leaves the
    /// old file or the new one, never a mix.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), StateError> {
        let path = path.as_ref();
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n")
        })
        .map_err(|source| StateError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

/// `text` as a `T`, refusing a member `T` does not have (serde would drop
/// it silently, and with it what the file meant) with `hint`, which says
/// what the members are. Errors name the member (`Instances.3.CPU`).
pub(crate) fn strict_from_json<T: de::DeserializeOwned>(
    text: &str,
    hint: &str,
) -> Result<T, serde_json::Error> {
    let mut unknown = None;
    let mut note = |path: serde_ignored::Path<'_>| {
        unknown.get_or_insert_with(|| member_name(&path));
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = T::deserialize(serde_ignored::Deserializer::new(&mut de, &mut note))
        .and_then(|value| de.end().map(|()| value));
    let value = match parsed {
        Ok(value) => value,
        // Again, tracking the path (which halves the speed) to name
        // the member at fault.
        Err(e) => {
            let mut de = serde_json::Deserializer::from_str(text);
            return Err(match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(located) if !dotted(located.path()).is_empty() => {
                    let path = dotted(located.path());
                    de::Error::custom(format!("{path}: {}", located.into_inner()))
                }
                _ => e,
            });
        }
    };
    if let Some(path) = unknown {
        return Err(de::Error::custom(format!("{path}: unknown member ({hint})")));
    }
    Ok(value)
}

/// `Instances.3.Placement.Zonee`: members and indices (serde_ignored's
/// own form marks optional values with `?`, which names no member).
fn member_name(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    let (parent, own) = match path {
        Path::Root => return String::new(),
        Path::Seq { parent, index } => (parent, index.to_string()),
        Path::Map { parent, key } => (parent, key.clone()),
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            return member_name(parent)
        }
    };
    let parent = member_name(parent);
    if parent.is_empty() {
        own
    } else {
        format!("{parent}.{own}")
    }
}

/// `Instances.3.Placement` (members and indices, dot-separated).
fn dotted(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}
