//! Instance state: what `--state` files hold and what
//! [`RunningEmulator::state_snapshot`](crate::RunningEmulator::state_snapshot)
//! returns, and the store the handlers work on.
//!
//! Transitions are lazy: an operation records the state it leads to and when
//! it completes; every access first settles the transitions that are due.
//! No background task runs, and a zero transition time is instant.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use cvm_api::types::{
    Instance, InternetAccessible, LoginSettings, Placement, SystemDisk, VirtualPrivateCloud,
};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::persist::{self, ChangeRef, Persistence, Ticket};
use crate::time::{iso8601, now_ms};

/// Every `InstanceState` the emulator knows.
pub const INSTANCE_STATES: &[&str] = &[
    "PENDING",
    "LAUNCH_FAILED",
    "RUNNING",
    "STOPPED",
    "STARTING",
    "STOPPING",
    "REBOOTING",
    "SHUTDOWN",
    "TERMINATING",
];

/// Target of a pending `TerminateInstances`: the instance disappears.
pub const TERMINATED: &str = "TERMINATED";

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

/// A state that cannot be loaded or kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The text is not a state document.
    #[error("invalid state JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// An instance is unusable (bad id, unknown state, duplicate...).
    #[error("invalid state: {0}")]
    Invalid(String),
    /// A problem with the contents of a state file (it is left as it is).
    #[error("state file {path}: {source}")]
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
        "{path}, line {line} (byte {offset}): damaged record ({problem}), and {after} record(s) follow it; \
         refusing to start: restore the journal, or delete that line to give up its change"
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

    /// The instance called `instance_id`, if present.
    pub fn instance(&self, instance_id: &str) -> Option<&StoredInstance> {
        self.instances
            .iter()
            .find(|i| i.instance.instance_id == instance_id)
    }

    /// Parses the JSON form. Unknown members are refused (see [`State`]);
    /// errors name the member (`Instances.3.CPU`).
    pub fn from_json(text: &str) -> Result<Self, StateError> {
        let mut unknown = None;
        let mut note = |path: serde_ignored::Path<'_>| {
            unknown.get_or_insert_with(|| member_name(&path));
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = State::deserialize(serde_ignored::Deserializer::new(&mut de, &mut note))
            .and_then(|state| de.end().map(|()| state));
        let state = match parsed {
            Ok(state) => state,
            // Again, tracking the path (which halves the speed) to name
            // the member at fault.
            Err(e) => {
                let mut de = serde_json::Deserializer::from_str(text);
                return Err(StateError::Json(
                    match serde_path_to_error::deserialize::<_, State>(&mut de) {
                        Err(located) if !dotted(located.path()).is_empty() => {
                            let path = dotted(located.path());
                            de::Error::custom(format!("{path}: {}", located.into_inner()))
                        }
                        _ => e,
                    },
                ));
            }
        };
        if let Some(path) = unknown {
            return Err(StateError::Json(de::Error::custom(format!(
                "{path}: unknown member (an instance has the members of a DescribeInstances Instance, \
                 plus Region and PendingTransition)"
            ))));
        }
        Ok(state)
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
        persist::write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n")
        })
        .map_err(|source| StateError::Io {
            path: path.display().to_string(),
            source,
        })
    }
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

impl StoredInstance {
    /// An instance in `zone` (`ap-guangzhou-3`), in `state` (`STOPPED`...),
    /// with plausible values for every other member.
    pub fn new(instance_id: impl Into<String>, zone: &str, state: &str) -> Self {
        let mut stored = StoredInstance {
            region: String::new(),
            instance: Instance {
                instance_id: instance_id.into(),
                instance_state: state.to_owned(),
                placement: Placement {
                    zone: zone.to_owned(),
                    ..Placement::default()
                },
                ..Instance::default()
            },
            pending: None,
        };
        // Distinct instances get distinct addresses: derived from the id.
        let mut ip = ip_seed(&stored.instance.instance_id);
        fill_defaults(&mut stored, now_ms(), &mut ip);
        stored
    }

    /// [`StoredInstance::new`] with a fresh random id.
    pub fn with_random_id(zone: &str, state: &str) -> Self {
        StoredInstance::new(new_instance_id(), zone, state)
    }
}

/// A fresh random id of the form `ins-` + 8 lower-case letters or digits.
pub fn new_instance_id() -> String {
    random_id("ins-")
}

/// The characters of generated ids.
const ID_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `prefix` + 8 random lower-case letters or digits.
pub(crate) fn random_id(prefix: &str) -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut id = String::with_capacity(prefix.len() + 8);
    id.push_str(prefix);
    // Bytes 6 and 8 carry the UUID version and variant; skip them.
    for &b in bytes[..6].iter().chain(&bytes[10..12]) {
        id.push(char::from(ID_ALPHABET[usize::from(b) % 36]));
    }
    id
}

/// `prefix` + 8 lower-case letters or digits derived from `seed`: stable
/// across restarts (default VPC, subnet and security group of a region).
pub(crate) fn stable_id(prefix: &str, seed: &str) -> String {
    let mut h = fnv1a(seed.bytes().chain(prefix.bytes()));
    let mut id = prefix.to_owned();
    for _ in 0..8 {
        id.push(char::from(ID_ALPHABET[(h % 36) as usize]));
        h /= 36;
        h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
    }
    id
}

/// The region's default VPC, where instances launched without a
/// `VirtualPrivateCloud` live (VPC's `DescribeVpcs` lists it).
pub(crate) fn default_vpc_id(region: &str) -> String {
    stable_id("vpc-", region)
}

/// The zone's default subnet in its region's default VPC: one per zone,
/// as a subnet belongs to one zone (VPC's `DescribeSubnets` lists it).
pub(crate) fn default_subnet_id(zone: &str) -> String {
    stable_id("subnet-", zone)
}

/// FNV-1a: good enough to spread region names and ids.
fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The private address counter for an instance built outside a store:
/// derived from its id, so different ids get different addresses (and the
/// same id the same one).
fn ip_seed(instance_id: &str) -> u32 {
    u32::try_from(fnv1a(instance_id.bytes()) % u64::from(IP_HOSTS)).unwrap_or(0)
}

/// `ap-guangzhou-3` → `ap-guangzhou`.
pub(crate) fn region_of_zone(zone: &str) -> &str {
    match zone.rsplit_once('-') {
        Some((region, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => region,
        _ => zone,
    }
}

pub(crate) fn is_instance_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 12
        && id.starts_with("ins-")
        && b[4..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// CPU cores and memory (GiB) from an instance type such as `S5.MEDIUM4`
/// or `S5.2XLARGE16`; `None` when the name does not have that shape.
pub(crate) fn instance_type_size(instance_type: &str) -> Option<(i64, i64)> {
    if !instance_type.is_ascii() {
        return None;
    }
    let (family, size) = instance_type.split_once('.')?;
    let family_ok = family.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && family
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !family_ok {
        return None;
    }
    // Memory is the trailing number; a leading number multiplies XLARGE.
    let mem_start = size.rfind(|c: char| !c.is_ascii_digit())? + 1;
    let (word, memory) = size.split_at(mem_start);
    let memory: i64 = memory.parse().ok().filter(|m| *m > 0 && *m <= 100_000)?;
    let lead_end = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
    let (lead, word) = word.split_at(lead_end);
    let cpu = match word {
        "SMALL" if lead.is_empty() => 1,
        "MEDIUM" if lead.is_empty() => 2,
        "LARGE" if lead.is_empty() => 4,
        "XLARGE" => {
            4 * lead
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .unwrap_or(1)
        }
        _ => return None,
    };
    Some((cpu, memory))
}

/// Fills every empty member of a seeded or new instance with a plausible
/// value; members already set are kept. `ip` numbers private addresses.
pub(crate) fn fill_defaults(stored: &mut StoredInstance, now: u64, ip: &mut u32) {
    if stored.region.is_empty() {
        stored.region = region_of_zone(&stored.instance.placement.zone).to_owned();
    }
    let region = stored.region.clone();
    let i = &mut stored.instance;
    let set = |field: &mut String, value: &dyn Fn() -> String| {
        if field.is_empty() {
            *field = value();
        }
    };
    set(&mut i.instance_id, &new_instance_id);
    set(&mut i.instance_state, &|| "RUNNING".to_owned());
    set(&mut i.instance_type, &|| "S5.MEDIUM2".to_owned());
    if i.cpu == 0 || i.memory == 0 {
        let (cpu, memory) = instance_type_size(&i.instance_type).unwrap_or((2, 2));
        if i.cpu == 0 {
            i.cpu = cpu;
        }
        if i.memory == 0 {
            i.memory = memory;
        }
    }
    set(&mut i.restrict_state, &|| "NORMAL".to_owned());
    set(&mut i.instance_name, &|| "Unnamed".to_owned());
    set(&mut i.instance_charge_type, &|| "POSTPAID_BY_HOUR".to_owned());
    if i.placement.project_id.is_none() {
        i.placement.project_id = Some(0);
    }
    if i.system_disk == SystemDisk::default() {
        i.system_disk = SystemDisk {
            disk_type: Some("CLOUD_PREMIUM".to_owned()),
            disk_size: Some(50),
            ..SystemDisk::default()
        };
    }
    if i.system_disk.disk_id.is_none() {
        i.system_disk.disk_id = Some(random_id("disk-"));
    }
    if i.private_ip_addresses.is_empty() {
        i.private_ip_addresses = vec![next_private_ip(ip)];
    }
    if i.internet_accessible == InternetAccessible::default() {
        i.internet_accessible = InternetAccessible {
            internet_charge_type: Some("TRAFFIC_POSTPAID_BY_HOUR".to_owned()),
            internet_max_bandwidth_out: Some(0),
            public_ip_assigned: Some(i.public_ip_addresses.as_ref().is_some_and(|p| !p.is_empty())),
            ..InternetAccessible::default()
        };
    }
    if i.virtual_private_cloud == VirtualPrivateCloud::default() {
        i.virtual_private_cloud = VirtualPrivateCloud {
            vpc_id: default_vpc_id(&region),
            subnet_id: default_subnet_id(&i.placement.zone),
            as_vpc_gateway: Some(false),
            ..VirtualPrivateCloud::default()
        };
    }
    set(&mut i.image_id, &|| "img-9qabwvbn".to_owned());
    set(&mut i.os_name, &|| "TencentOS Server 3.1 (TK4)".to_owned());
    set(&mut i.renew_flag, &|| "NOTIFY_AND_MANUAL_RENEW".to_owned());
    set(&mut i.created_time, &|| iso8601(now));
    if i.security_group_ids.is_empty() {
        i.security_group_ids = vec![stable_id("sg-", &region)];
    }
    if i.login_settings == LoginSettings::default() {
        i.login_settings.key_ids = Some(Vec::new());
    }
    // Never keep (or return) a password.
    i.login_settings.password = None;
    if i.stop_charging_mode.is_empty() {
        i.stop_charging_mode = if i.instance_state == "STOPPED" {
            "KEEP_CHARGING".to_owned()
        } else {
            "NOT_APPLICABLE".to_owned()
        };
    }
    set(&mut i.uuid, &|| uuid::Uuid::new_v4().to_string());
    if i.latest_operation.is_none() {
        // A seed in LAUNCH_FAILED got there by a failed RunInstances.
        let failed = i.instance_state == LAUNCH_FAILED;
        i.latest_operation = Some("RunInstances".to_owned());
        i.latest_operation_state = Some(if failed { "FAILED" } else { "SUCCESS" }.to_owned());
        i.latest_operation_request_id = Some(uuid::Uuid::new_v4().to_string());
        if failed && i.latest_operation_error_msg.is_none() {
            i.latest_operation_error_msg =
                Some("The instance failed to launch (seeded in LAUNCH_FAILED).".to_owned());
        }
    }
    if i.latest_operation_error_msg.is_none() {
        i.latest_operation_error_msg = Some(String::new());
    }
    if i.cam_role_name.is_none() {
        i.cam_role_name = Some(String::new());
    }
    if i.rdma_ip_addresses.is_none() {
        i.rdma_ip_addresses = Some(Vec::new());
    }
    set(&mut i.isolated_source, &|| "NOTISOLATED".to_owned());
    set(&mut i.license_type, &|| "TencentCloud".to_owned());
    if i.host_name.is_empty() {
        i.host_name = default_host_name(i.private_ip_addresses.first().map_or("", String::as_str));
    }
    set(&mut i.default_login_user, &|| "root".to_owned());
    if i.default_login_port == 0 {
        i.default_login_port = 22;
    }
}

/// `VM-c-d-tencentos` for `10.0.c.d`, the service's default host name.
fn default_host_name(ip: &str) -> String {
    let tail: Vec<&str> = ip.split('.').skip(2).collect();
    format!("VM-{}-tencentos", tail.join("-"))
}

/// Private addresses numbered by [`next_private_ip`].
const IP_HOSTS: u32 = 65_024;

/// `10.0.c.d`, numbered from `counter` (which advances).
pub(crate) fn next_private_ip(counter: &mut u32) -> String {
    let n = *counter;
    *counter = counter.wrapping_add(1);
    // 10.0.0.1 .. 10.0.255.254, then wraps: plenty for an emulator.
    let host = n % IP_HOSTS;
    format!("10.0.{}.{}", host / 254, host % 254 + 1)
}

/// The instances, indexed by id, with their transitions.
pub(crate) struct Store {
    /// By creation order (sequence number). Boxed: a `StoredInstance` is
    /// about 1.7 KB and B-tree nodes (11 slots, about half full when filled
    /// in order) would hold nearly twice that per instance inline.
    instances: BTreeMap<u64, Box<StoredInstance>>,
    by_id: HashMap<String, u64>,
    next_seq: u64,
    /// Earliest `completes_at_ms` of any pending transition (`u64::MAX`: none).
    next_deadline: u64,
    /// (region, ClientToken) → the instances a RunInstances created; an
    /// entry goes when the last of its instances does.
    client_tokens: HashMap<(String, String), Vec<String>>,
    /// Instance id → its entry in `client_tokens`.
    token_of: HashMap<String, (String, String)>,
    private_ip_counter: u32,
    /// Private addresses of the seeded instances: new ones avoid them.
    seeded_ips: HashSet<String>,
    pub(crate) public_ip_counter: u32,
    /// The state file, when changes are kept on disk.
    persist: Option<Persistence>,
}

impl Store {
    /// Loads `state`, filling defaults and checking every instance.
    /// Transitional states without a pending transition complete after
    /// `transition_ms`.
    pub(crate) fn from_state(state: State, transition_ms: u64, now: u64) -> Result<Store, StateError> {
        let mut store = Store {
            instances: BTreeMap::new(),
            by_id: HashMap::new(),
            next_seq: 0,
            next_deadline: u64::MAX,
            client_tokens: HashMap::new(),
            token_of: HashMap::new(),
            private_ip_counter: 2,
            seeded_ips: HashSet::new(),
            public_ip_counter: 0,
            persist: None,
        };
        // Number new private addresses after the seeded ones.
        store.private_ip_counter = store
            .private_ip_counter
            .saturating_add(u32::try_from(state.instances.len()).unwrap_or(u32::MAX));
        // Addresses the seeds bring: new ones avoid them.
        for stored in &state.instances {
            store
                .seeded_ips
                .extend(stored.instance.private_ip_addresses.iter().cloned());
        }
        let mut assigned = HashSet::new();
        // Taken from the end, in the original order, and the vector shrunk
        // as it empties: a large state is not held twice while it loads.
        let mut seeds = state.instances;
        seeds.reverse();
        while let Some(mut stored) = seeds.pop() {
            if seeds.capacity() > 64 && seeds.len() < seeds.capacity() / 2 {
                seeds.shrink_to_fit();
            }
            let id = stored.instance.instance_id.clone();
            if !id.is_empty() && !is_instance_id(&id) {
                return Err(StateError::Invalid(format!(
                    "instance id `{id}` is not `ins-` followed by 8 lower-case letters or digits"
                )));
            }
            if stored.instance.placement.zone.is_empty() {
                return Err(StateError::Invalid(format!(
                    "instance `{id}` has no Placement.Zone"
                )));
            }
            let state = stored.instance.instance_state.as_str();
            if !state.is_empty() && !INSTANCE_STATES.contains(&state) {
                return Err(StateError::Invalid(format!(
                    "instance `{id}` has unknown InstanceState `{state}` (expected one of {})",
                    INSTANCE_STATES.join(", ")
                )));
            }
            if stored.instance.private_ip_addresses.is_empty() {
                stored.instance.private_ip_addresses = vec![store.allocate_private_ip()];
            }
            fill_defaults(&mut stored, now, &mut 0);
            store.separate_derived_ip(&mut stored, &assigned);
            assigned.extend(stored.instance.private_ip_addresses.iter().cloned());
            store
                .seeded_ips
                .extend(stored.instance.private_ip_addresses.iter().cloned());
            if let Some(p) = &stored.pending {
                if p.target_state != TERMINATED && !INSTANCE_STATES.contains(&p.target_state.as_str()) {
                    return Err(StateError::Invalid(format!(
                        "instance `{id}` has unknown PendingTransition.TargetState `{}`",
                        p.target_state
                    )));
                }
            } else if let Some(target) = settles_to(&stored.instance.instance_state) {
                stored.pending = Some(PendingTransition {
                    target_state: target.to_owned(),
                    completes_at_ms: now.saturating_add(transition_ms),
                });
                stored.instance.latest_operation_state = Some("OPERATING".to_owned());
            }
            if store.by_id.contains_key(&stored.instance.instance_id) {
                return Err(StateError::Invalid(format!(
                    "instance id `{}` appears twice",
                    stored.instance.instance_id
                )));
            }
            if let Some(n) = stored
                .instance
                .public_ip_addresses
                .iter()
                .flatten()
                .filter_map(|ip| public_ip_number(ip))
                .max()
            {
                // New public addresses continue after the loaded ones.
                store.public_ip_counter = store.public_ip_counter.max(n);
            }
            store.insert(stored);
        }
        let mut tokens = HashSet::new();
        for record in state.client_tokens {
            check_token_record(&record)?;
            let key = (record.region, record.client_token);
            if !tokens.insert(key.clone()) {
                return Err(StateError::Invalid(format!(
                    "ClientToken `{}` of region {} appears twice",
                    key.1, key.0
                )));
            }
            // A token goes with the last of its instances.
            if record.instance_ids.iter().any(|id| store.contains(id)) {
                store.record_client_token(key, record.instance_ids);
            }
        }
        store.settle(now);
        Ok(store)
    }

    /// Two instances made by [`StoredInstance::new`] whose ids hash to the
    /// same address: the later one gets a fresh address (addresses given
    /// explicitly are kept as they are).
    fn separate_derived_ip(&mut self, stored: &mut StoredInstance, assigned: &HashSet<String>) {
        let instance = &mut stored.instance;
        let [ip] = instance.private_ip_addresses.as_slice() else {
            return;
        };
        let derived = next_private_ip(&mut ip_seed(&instance.instance_id));
        if *ip != derived || !assigned.contains(ip) {
            return;
        }
        let fresh = self.allocate_private_ip();
        if instance.host_name == default_host_name(ip) {
            instance.host_name = default_host_name(&fresh);
        }
        instance.private_ip_addresses = vec![fresh];
    }

    /// Keeps every change in `persist` from now on.
    pub(crate) fn attach(&mut self, persist: Persistence) {
        self.persist = Some(persist);
    }

    /// Records a change just made under this lock: the instances `put`
    /// (their whole current form), the ones `removed`, and a new
    /// ClientToken. Written to the journal now, so the journal's order is
    /// the store's; durable once [`Store::ticket`]'s wait returns. Without
    /// a state file, nothing to do.
    ///
    /// On failure the change stays in memory but not on disk: the store
    /// refuses every later request (see [`Store::persistence_failure`]).
    pub(crate) fn commit(
        &mut self,
        put: &[String],
        removed: &[String],
        token: Option<&ClientTokenRecord>,
    ) -> Result<(), String> {
        if self.persist.is_none() {
            return Ok(());
        }
        let change = ChangeRef {
            put: put.iter().filter_map(|id| self.get(id)).collect(),
            remove: removed,
            client_token: token,
        };
        let json = serde_json::to_string(&change).map_err(|e| format!("cannot encode a change: {e}"))?;
        let Some(persist) = self.persist.as_mut() else {
            return Ok(());
        };
        persist.append(&json)?;
        if persist.wants_compaction() {
            // The journal keeps every change; a failed compaction only
            // postpones the next one.
            if let Err(e) = self.compact() {
                tracing::warn!(error = %e, "cannot fold the journal into the state file; will retry later");
            }
        }
        Ok(())
    }

    /// What a request waits for before answering: every change written so
    /// far being on disk. `None` without a state file.
    pub(crate) fn ticket(&self) -> Option<Ticket> {
        self.persist.as_ref().map(Persistence::ticket)
    }

    /// Why the state can no longer be kept (a write or flush failed).
    pub(crate) fn persistence_failure(&self) -> Option<String> {
        self.persist.as_ref().and_then(Persistence::failure)
    }

    /// Writes the whole state to the state file and empties the journal.
    pub(crate) fn compact(&mut self) -> Result<(), StateError> {
        self.settle(now_ms());
        let Store {
            persist,
            instances,
            client_tokens,
            ..
        } = self;
        let Some(persist) = persist.as_mut() else {
            return Ok(());
        };
        let view = StateView {
            instances,
            client_tokens: token_records(client_tokens),
        };
        persist.compact(|w| {
            serde_json::to_writer_pretty(&mut *w, &view)?;
            w.write_all(b"\n")
        })
    }

    /// Tells the lock file who holds it.
    pub(crate) fn set_holder(&mut self, holder: &str) {
        if let Some(persist) = self.persist.as_mut() {
            persist.set_holder(holder);
        }
    }

    /// A private address for a new instance: the next of the counter that
    /// no seeded instance uses.
    pub(crate) fn allocate_private_ip(&mut self) -> String {
        let mut ip = next_private_ip(&mut self.private_ip_counter);
        for _ in 0..IP_HOSTS {
            if !self.seeded_ips.contains(&ip) {
                break;
            }
            ip = next_private_ip(&mut self.private_ip_counter);
        }
        ip
    }

    pub(crate) fn len(&self) -> usize {
        self.instances.len()
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub(crate) fn insert(&mut self, stored: StoredInstance) {
        if let Some(p) = &stored.pending {
            self.next_deadline = self.next_deadline.min(p.completes_at_ms);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_id.insert(stored.instance.instance_id.clone(), seq);
        self.instances.insert(seq, Box::new(stored));
    }

    pub(crate) fn get(&self, id: &str) -> Option<&StoredInstance> {
        self.by_id
            .get(id)
            .and_then(|seq| self.instances.get(seq))
            .map(|b| &**b)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut StoredInstance> {
        match self.by_id.get(id) {
            Some(seq) => self.instances.get_mut(seq).map(|b| &mut **b),
            None => None,
        }
    }

    /// Records that a transition completes at `at`.
    pub(crate) fn schedule(&mut self, at: u64) {
        self.next_deadline = self.next_deadline.min(at);
    }

    pub(crate) fn remove(&mut self, id: &str) {
        if let Some(seq) = self.by_id.remove(id) {
            self.instances.remove(&seq);
        }
        if let Some(key) = self.token_of.remove(id) {
            let all_gone = self
                .client_tokens
                .get(&key)
                .map_or(true, |ids| ids.iter().all(|i| !self.by_id.contains_key(i)));
            if all_gone {
                self.client_tokens.remove(&key);
            }
        }
    }

    /// The instances a RunInstances with this (region, ClientToken) created.
    pub(crate) fn client_token(&self, key: &(String, String)) -> Option<&Vec<String>> {
        self.client_tokens.get(key)
    }

    /// Records the instances a RunInstances with a ClientToken created.
    pub(crate) fn record_client_token(&mut self, key: (String, String), ids: Vec<String>) {
        for id in &ids {
            self.token_of.insert(id.clone(), key.clone());
        }
        self.client_tokens.insert(key, ids);
    }

    #[cfg(test)]
    pub(crate) fn client_token_count(&self) -> usize {
        self.client_tokens.len()
    }

    /// Instances of `region`, oldest first.
    pub(crate) fn in_region<'a>(&'a self, region: &'a str) -> impl Iterator<Item = &'a StoredInstance> + 'a {
        self.instances
            .values()
            .map(|b| &**b)
            .filter(move |s| s.region == region)
    }

    /// Completes every transition due at `now`.
    pub(crate) fn settle(&mut self, now: u64) {
        if now < self.next_deadline {
            return;
        }
        let mut next = u64::MAX;
        let mut gone = Vec::new();
        for stored in self.instances.values_mut() {
            let Some(p) = &stored.pending else { continue };
            if p.completes_at_ms > now {
                next = next.min(p.completes_at_ms);
                continue;
            }
            let target = p.target_state.clone();
            stored.pending = None;
            if target == TERMINATED {
                gone.push(stored.instance.instance_id.clone());
            } else {
                complete(&mut stored.instance, &target);
            }
        }
        for id in gone {
            self.remove(&id);
        }
        self.next_deadline = next;
    }

    /// The state at `now` (after settling).
    pub(crate) fn snapshot(&mut self, now: u64) -> State {
        self.settle(now);
        State {
            instances: self.instances.values().map(|b| (**b).clone()).collect(),
            client_tokens: token_records(&self.client_tokens)
                .into_iter()
                .map(|r| ClientTokenRecord {
                    region: r.region.to_owned(),
                    client_token: r.client_token.to_owned(),
                    instance_ids: r.instance_ids.to_vec(),
                })
                .collect(),
        }
    }

    pub(crate) fn instance_count(&self) -> usize {
        self.instances.len()
    }
}

/// The number `n` behind a public address `198.18.a.b` handed out by
/// RunInstances (`a * 254 + b - 1`).
fn public_ip_number(ip: &str) -> Option<u32> {
    let rest = ip.strip_prefix("198.18.")?;
    let (a, b) = rest.split_once('.')?;
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    (a < 256 && (1..=254).contains(&b)).then(|| a * 254 + b - 1)
}

fn check_token_record(record: &ClientTokenRecord) -> Result<(), StateError> {
    let token = &record.client_token;
    if record.region.is_empty() || token.is_empty() || token.len() > 64 {
        return Err(StateError::Invalid(format!(
            "ClientTokens: `{token}` in region `{}` needs a region and a token of 1 to 64 characters",
            record.region
        )));
    }
    if let Some(bad) = record.instance_ids.iter().find(|id| !is_instance_id(id)) {
        return Err(StateError::Invalid(format!(
            "ClientToken `{token}` names the malformed instance id `{bad}`"
        )));
    }
    Ok(())
}

/// The state as the state file holds it, borrowed from the store (no copy
/// of the instances while it is written).
#[derive(Serialize)]
struct StateView<'a> {
    #[serde(rename = "Instances", serialize_with = "instances_in_order")]
    instances: &'a BTreeMap<u64, Box<StoredInstance>>,
    #[serde(rename = "ClientTokens", skip_serializing_if = "Vec::is_empty")]
    client_tokens: Vec<TokenView<'a>>,
}

#[derive(Serialize)]
struct TokenView<'a> {
    #[serde(rename = "Region")]
    region: &'a str,
    #[serde(rename = "ClientToken")]
    client_token: &'a str,
    #[serde(rename = "InstanceIds")]
    instance_ids: &'a [String],
}

fn instances_in_order<S: Serializer>(
    instances: &&BTreeMap<u64, Box<StoredInstance>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(instances.values())
}

/// The ClientToken records, sorted (the file does not depend on hashing).
fn token_records(tokens: &HashMap<(String, String), Vec<String>>) -> Vec<TokenView<'_>> {
    let mut out: Vec<TokenView<'_>> = tokens
        .iter()
        .map(|((region, token), ids)| TokenView {
            region,
            client_token: token,
            instance_ids: ids,
        })
        .collect();
    out.sort_by(|a, b| (a.region, a.client_token).cmp(&(b.region, b.client_token)));
    out
}

/// Ends an operation: `target` state, operation SUCCESS, except a launch
/// that ends in LAUNCH_FAILED: its RunInstances operation is FAILED, with
/// a message, as the service reports a failed launch.
pub(crate) fn complete(instance: &mut Instance, target: &str) {
    instance.instance_state = target.to_owned();
    if target == "RUNNING" {
        instance.stop_charging_mode = "NOT_APPLICABLE".to_owned();
    } else if target == "STOPPED" && instance.stop_charging_mode == "NOT_APPLICABLE" {
        instance.stop_charging_mode = "KEEP_CHARGING".to_owned();
    }
    if target == LAUNCH_FAILED {
        instance.latest_operation_state = Some("FAILED".to_owned());
        instance.latest_operation_error_msg = Some(launch_failure_message(&instance.image_id));
    } else {
        instance.latest_operation_state = Some("SUCCESS".to_owned());
    }
}

/// The state of an instance whose launch failed.
pub(crate) const LAUNCH_FAILED: &str = "LAUNCH_FAILED";

/// `LatestOperationErrorMsg` of a failed launch.
fn launch_failure_message(image_id: &str) -> String {
    format!(
        "The instance failed to launch: cvm-emulator fails every launch from image `{}` \
         (LAUNCH_FAILURE_IMAGE_ID, or configured with --fail-launch-image).",
        crate::error::shorten(image_id)
    )
}

/// The state a transitional state leads to.
fn settles_to(state: &str) -> Option<&'static str> {
    match state {
        "PENDING" | "STARTING" | "REBOOTING" => Some("RUNNING"),
        "STOPPING" => Some("STOPPED"),
        "TERMINATING" => Some(TERMINATED),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_zones() {
        for _ in 0..100 {
            assert!(is_instance_id(&new_instance_id()));
        }
        assert!(!is_instance_id("ins-ABCDEFGH"));
        assert!(!is_instance_id("ins-abc"));
        assert_eq!(region_of_zone("ap-guangzhou-3"), "ap-guangzhou");
        assert_eq!(region_of_zone("ap-guangzhou"), "ap-guangzhou");
        assert_eq!(
            stable_id("vpc-", "ap-guangzhou"),
            stable_id("vpc-", "ap-guangzhou")
        );
        assert_eq!(stable_id("vpc-", "ap-guangzhou").len(), 12);
    }

    #[test]
    fn instances_get_distinct_private_addresses() {
        // Built with `new`: derived from the id (no longer all 10.0.0.3).
        let a = StoredInstance::new("ins-abcd1234", "ap-guangzhou-3", "STOPPED");
        let b = StoredInstance::new("ins-abcd1235", "ap-guangzhou-3", "STOPPED");
        let a_ip = &a.instance.private_ip_addresses;
        assert_eq!(a_ip.len(), 1);
        assert_ne!(a_ip, &b.instance.private_ip_addresses);
        assert_eq!(
            a_ip,
            &StoredInstance::new("ins-abcd1234", "ap-guangzhou-3", "RUNNING")
                .instance
                .private_ip_addresses
        );
        assert_eq!(a.instance.host_name, default_host_name(&a_ip[0]));

        // Many seeds, including ones without an address, and new instances
        // after them: all distinct within a store.
        let mut state = State::new();
        for n in 0..300 {
            state = state.with_instance(StoredInstance::with_random_id("ap-guangzhou-3", "RUNNING"));
            if n % 3 == 0 {
                let mut bare = StoredInstance::with_random_id("ap-guangzhou-3", "RUNNING");
                bare.instance.private_ip_addresses.clear();
                bare.instance.host_name.clear();
                state = state.with_instance(bare);
            }
        }
        // A seeded address equal to what the counter hands out next.
        let mut explicit = StoredInstance::with_random_id("ap-guangzhou-3", "RUNNING");
        explicit.instance.private_ip_addresses = vec!["10.0.1.153".to_owned()];
        explicit.instance.host_name.clear();
        state = state.with_instance(explicit);
        let mut store = Store::from_state(state, 0, 0).unwrap();
        let mut seen = HashSet::new();
        for stored in store.snapshot(0).instances {
            let ip = stored.instance.private_ip_addresses[0].clone();
            assert_eq!(stored.instance.host_name, default_host_name(&ip));
            assert!(seen.insert(ip.clone()), "{ip} given twice");
        }
        for _ in 0..500 {
            let ip = store.allocate_private_ip();
            assert!(seen.insert(ip.clone()), "{ip} given twice");
        }
    }

    #[test]
    fn client_tokens_go_with_their_instances() {
        let state = State::new()
            .with_instance(StoredInstance::new("ins-aaaaaaa1", "ap-guangzhou-3", "RUNNING"))
            .with_instance(StoredInstance::new("ins-aaaaaaa2", "ap-guangzhou-3", "RUNNING"))
            .with_instance(StoredInstance::new("ins-aaaaaaa3", "ap-guangzhou-3", "RUNNING"));
        let mut store = Store::from_state(state, 0, 0).unwrap();
        let key = |t: &str| ("ap-guangzhou".to_owned(), t.to_owned());
        store.record_client_token(key("t1"), vec!["ins-aaaaaaa1".into(), "ins-aaaaaaa2".into()]);
        store.record_client_token(key("t2"), vec!["ins-aaaaaaa3".into()]);
        assert_eq!(store.client_token_count(), 2);
        // One of two gone: the token still answers.
        store.remove("ins-aaaaaaa1");
        assert!(store.client_token(&key("t1")).is_some());
        store.remove("ins-aaaaaaa2");
        assert!(store.client_token(&key("t1")).is_none());
        // Through a settled TerminateInstances as well.
        store.get_mut("ins-aaaaaaa3").unwrap().pending = Some(PendingTransition {
            target_state: TERMINATED.to_owned(),
            completes_at_ms: 10,
        });
        store.schedule(10);
        store.settle(5);
        assert!(store.client_token(&key("t2")).is_some());
        store.settle(10);
        assert!(store.client_token(&key("t2")).is_none());
        assert_eq!(store.client_token_count(), 0);
    }

    #[test]
    fn seeds_keep_their_order() {
        // Enough seeds for the loading vector to be shrunk several times.
        let mut state = State::new();
        for _ in 0..1_000 {
            state = state.with_instance(StoredInstance::with_random_id("ap-guangzhou-3", "STOPPED"));
        }
        let ids: Vec<String> = state
            .instances
            .iter()
            .map(|s| s.instance.instance_id.clone())
            .collect();
        let mut store = Store::from_state(state, 0, 0).unwrap();
        assert_eq!(store.len(), 1_000);
        let snap = store.snapshot(0);
        let loaded: Vec<String> = snap
            .instances
            .iter()
            .map(|s| s.instance.instance_id.clone())
            .collect();
        assert_eq!(loaded, ids);
        for id in &ids {
            assert_eq!(store.get(id).map(|s| &s.instance.instance_id), Some(id));
        }
    }

    #[test]
    fn instance_types() {
        assert_eq!(instance_type_size("S5.MEDIUM2"), Some((2, 2)));
        assert_eq!(instance_type_size("S5.SMALL1"), Some((1, 1)));
        assert_eq!(instance_type_size("S5.LARGE8"), Some((4, 8)));
        assert_eq!(instance_type_size("S5.2XLARGE16"), Some((8, 16)));
        assert_eq!(instance_type_size("S5.16XLARGE256"), Some((64, 256)));
        for bad in [
            "s5.medium2",
            "S5",
            "S5.MEDIUM",
            "S5.2MEDIUM4",
            ".MEDIUM2",
            "S5.HUGE2",
        ] {
            assert_eq!(instance_type_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn state_json_round_trips_and_settles() {
        let text = r#"{"Instances": [
            {"InstanceId": "ins-abcd1234", "InstanceState": "STOPPING", "Placement": {"Zone": "ap-guangzhou-3"}},
            {"InstanceId": "ins-abcd1235", "InstanceState": "TERMINATING", "Placement": {"Zone": "ap-guangzhou-3"}}
        ]}"#;
        let state = State::from_json(text).unwrap();
        let mut store = Store::from_state(state, 100, 1_000).unwrap();
        let snap = store.snapshot(1_050);
        assert_eq!(snap.instances.len(), 2);
        assert_eq!(snap.instances[0].region, "ap-guangzhou");
        assert_eq!(snap.instances[0].instance.instance_state, "STOPPING");
        let again = State::from_json(&snap.to_json_pretty()).unwrap();
        assert_eq!(again, snap);
        let snap = store.snapshot(1_100);
        assert_eq!(snap.instances.len(), 1);
        assert_eq!(snap.instances[0].instance.instance_state, "STOPPED");
        assert_eq!(snap.instances[0].instance.stop_charging_mode, "KEEP_CHARGING");
        assert_eq!(snap.instances[0].pending, None);
    }

    #[test]
    fn failed_launches_settle_to_failed_also_after_a_reload() {
        // A failing launch under way, as a state file keeps it.
        let mut pending = StoredInstance::new("ins-aaaaaaa1", "ap-guangzhou-3", "PENDING");
        pending.instance.latest_operation_state = Some("OPERATING".to_owned());
        pending.pending = Some(PendingTransition {
            target_state: LAUNCH_FAILED.to_owned(),
            completes_at_ms: 2_000,
        });
        let seeded = StoredInstance::new("ins-aaaaaaa2", "ap-guangzhou-3", LAUNCH_FAILED);
        assert_eq!(seeded.instance.latest_operation_state.as_deref(), Some("FAILED"));
        let state = State::new().with_instance(pending).with_instance(seeded);
        let reloaded = State::from_json(&state.to_json_pretty()).unwrap();
        let mut store = Store::from_state(reloaded, 100, 1_000).unwrap();
        let snap = store.snapshot(1_999);
        assert_eq!(snap.instances[0].instance.instance_state, "PENDING");
        let snap = store.snapshot(2_000);
        let failed = &snap.instances[0].instance;
        assert_eq!(failed.instance_state, LAUNCH_FAILED);
        assert_eq!(failed.latest_operation_state.as_deref(), Some("FAILED"));
        assert!(failed
            .latest_operation_error_msg
            .as_deref()
            .is_some_and(|m| m.contains("failed to launch")));
        assert_eq!(
            snap.instances[1].instance.latest_operation_state.as_deref(),
            Some("FAILED")
        );
    }

    #[test]
    fn unknown_members_are_refused_what_the_emulator_writes_is_not() {
        for (bad, named) in [
            (r#"{"instances": []}"#, "unknown field `instances`"),
            (r#"{"Instances": [], "Extra": 1}"#, "unknown field `Extra`"),
            (
                r#"{"Instances": [{"InstanceStat": "RUNNING", "Placement": {"Zone": "z-1"}}]}"#,
                "Instances.0.InstanceStat: unknown member",
            ),
            (
                r#"{"Instances": [{"Placement": {"Zone": "z-1"}}, {"Placement": {"Zonee": "z-1"}}]}"#,
                "Instances.1.Placement.Zonee: unknown member",
            ),
            (
                r#"{"Instances": [{"Placement": {"Zone": "z-1"}, "PendingTransition": {"TargetState": "RUNNING", "CompletesAtMs": 1, "X": 1}}]}"#,
                "Instances.0.PendingTransition",
            ),
            (
                r#"{"Instances": [{"Placement": {"Zone": "z-1"}, "CPU": "many"}]}"#,
                "Instances.0.CPU: string \"many\" is not an int64 at line 1 column",
            ),
            (
                r#"{"Instances": [{"Placement": {"Zone": "z-1"}, "GPUInfo": {"Bogus": 1}}]}"#,
                "Instances.0.GPUInfo.Bogus: unknown member",
            ),
            (
                r#"{"Instances": [{"Placement": {"Zone": "z-1"}, "Region": "a", "Region": "b"}]}"#,
                "duplicate field `Region`",
            ),
            (
                r#"{"ClientTokens": [{"Region": "r", "ClientToken": "t", "InstanceIds": [], "When": 1}]}"#,
                "unknown field `When`",
            ),
        ] {
            let e = State::from_json(bad).unwrap_err().to_string();
            assert!(e.contains(named), "{bad}: {e}");
        }
        // Empty and null members are as good as absent.
        let ok = r#"{"Instances": [{"Region": "", "Placement": {"Zone": "z-1"}, "Tags": [], "CamRoleName": null}]}"#;
        assert_eq!(State::from_json(ok).unwrap().instances.len(), 1);

        // The emulator's own output, every member filled, reads back as it was.
        let mut seed = State::new();
        for state in INSTANCE_STATES {
            let mut stored = StoredInstance::with_random_id("ap-guangzhou-3", state);
            stored.instance.public_ip_addresses = Some(vec!["198.18.0.9".into()]);
            stored.instance.data_disks = vec![Default::default()];
            seed = seed.with_instance(stored);
        }
        let mut store = Store::from_state(seed, 60_000, 0).unwrap();
        let key = ("ap-guangzhou".to_owned(), "token-1".to_owned());
        let first = store.snapshot(0).instances[0].instance.instance_id.clone();
        store.record_client_token(key, vec![first]);
        let written = store.snapshot(0);
        assert!(written.instances.iter().any(|s| s.pending.is_some()));
        assert_eq!(written.client_tokens.len(), 1);
        assert_eq!(State::from_json(&written.to_json_pretty()).unwrap(), written);
    }

    #[test]
    fn client_tokens_and_public_addresses_survive_a_reload() {
        let mut with_ip = StoredInstance::new("ins-aaaaaaa1", "ap-guangzhou-3", "RUNNING");
        with_ip.instance.public_ip_addresses = Some(vec!["198.18.1.5".into()]);
        let state = State::new()
            .with_instance(with_ip)
            .with_instance(StoredInstance::new("ins-aaaaaaa2", "ap-guangzhou-3", "RUNNING"));
        let mut store = Store::from_state(state, 0, 0).unwrap();
        let key = |t: &str| ("ap-guangzhou".to_owned(), t.to_owned());
        store.record_client_token(key("t1"), vec!["ins-aaaaaaa1".into(), "ins-aaaaaaa9".into()]);
        store.record_client_token(key("t2"), vec!["ins-aaaaaaa2".into()]);
        store.remove("ins-aaaaaaa2");
        let snap = store.snapshot(0);
        assert_eq!(snap.client_tokens.len(), 1);

        let mut again = Store::from_state(snap.clone(), 0, 0).unwrap();
        assert_eq!(
            again.client_token(&key("t1")),
            Some(&vec!["ins-aaaaaaa1".to_owned(), "ins-aaaaaaa9".to_owned()])
        );
        assert_eq!(again.snapshot(0), snap);
        // New public addresses continue after 198.18.1.5 (number 258).
        assert_eq!(again.public_ip_counter, 258);
        // A token none of whose instances is left is dropped.
        let mut gone = snap.clone();
        gone.instances.clear();
        assert_eq!(Store::from_state(gone, 0, 0).unwrap().client_token_count(), 0);
        // Twice the same token, or a malformed id, is refused.
        let mut twice = snap.clone();
        twice.client_tokens.push(twice.client_tokens[0].clone());
        assert!(Store::from_state(twice, 0, 0).is_err());
        let mut bad = snap;
        bad.client_tokens[0].instance_ids.push("nope".into());
        assert!(Store::from_state(bad, 0, 0).is_err());
    }

    #[test]
    fn bad_seeds_are_refused() {
        for bad in [
            r#"{"Instances": [{"InstanceId": "ins-X", "Placement": {"Zone": "ap-guangzhou-3"}}]}"#,
            r#"{"Instances": [{"InstanceId": "ins-abcd1234"}]}"#,
            r#"{"Instances": [{"InstanceState": "FLYING", "Placement": {"Zone": "z-1"}}]}"#,
            r#"{"Instances": [{"InstanceId": "ins-abcd1234", "Placement": {"Zone": "z-1"}},
                              {"InstanceId": "ins-abcd1234", "Placement": {"Zone": "z-1"}}]}"#,
        ] {
            let state = State::from_json(bad).unwrap();
            assert!(Store::from_state(state, 0, 0).is_err(), "{bad}");
        }
    }
}
