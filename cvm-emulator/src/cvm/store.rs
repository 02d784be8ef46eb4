//! The store the handlers work on: the instances in creation order,
//! indexed by id, with their pending transitions and ClientTokens, and the
//! state file that keeps every change (when there is one).

use std::collections::{BTreeMap, HashMap, HashSet};

use cvm_api::types::LatestOperationState;

use serde::{Serialize, Serializer};

use super::ids::is_instance_id;
use super::instances::{default_host_name, fill_defaults, ip_seed, next_private_ip, IP_HOSTS};
use super::persist::{ChangeRef, Persistence, Ticket};
use super::resources::{Resources, KINDS};
use super::state_file::{
    ClientTokenRecord, PendingTransition, ResourceKey, State, StateError, StoredInstance, StoredResource,
};
use super::transitions::{complete, settles_to, INSTANCE_STATES, TERMINATED};
use crate::time::now_ms;

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
    /// Key pairs and the other resources besides instances.
    pub(crate) resources: Resources,
    /// The state file, when changes are kept on disk.
    persist: Option<Persistence>,
}

/// What one request changed, for the journal: instances by id (their whole
/// current form is written), resources by kind and id, a ClientToken.
#[derive(Default)]
pub(crate) struct ChangeSet<'a> {
    pub(crate) put: &'a [String],
    pub(crate) removed: &'a [String],
    pub(crate) token: Option<&'a ClientTokenRecord>,
    pub(crate) put_resources: &'a [ResourceKey],
    pub(crate) removed_resources: &'a [ResourceKey],
}

impl Store {
    /// Loads `state`, filling defaults and checking every instance, of
    /// which there may be `max_instances` at most (the quota RunInstances
    /// enforces). Transitional states without a pending transition complete
    /// after `transition_ms`.
    pub(crate) fn from_state(
        state: State,
        transition_ms: u64,
        now: u64,
        max_instances: usize,
    ) -> Result<Store, StateError> {
        // Those on their way out do not count: a crash leaves a terminated
        // instance in the journal until its transition settles here (it
        // is never journaled as removed), and a replacement may already
        // have been launched in its place.
        let kept = state
            .instances
            .iter()
            .filter(|s| s.pending.as_ref().is_none_or(|p| p.target_state != TERMINATED))
            .count();
        if kept > max_instances {
            return Err(StateError::Invalid(format!(
                "{kept} instances, more than the emulator's quota of {max_instances}"
            )));
        }
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
            resources: Resources::load(state.resources)?,
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
            } else if let Some(target) = settles_to(stored.instance.instance_state.as_str()) {
                stored.pending = Some(PendingTransition {
                    target_state: target.to_owned(),
                    completes_at_ms: now.saturating_add(transition_ms),
                });
                stored.instance.latest_operation_state = Some(LatestOperationState::Operating);
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
        store.sweep_resources();
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
    pub(crate) fn commit(&mut self, change: ChangeSet<'_>) -> Result<(), String> {
        if self.persist.is_none() {
            return Ok(());
        }
        let change = ChangeRef {
            put: change.put.iter().filter_map(|id| self.get(id)).collect(),
            remove: change.removed,
            client_token: change.token,
            put_resources: change
                .put_resources
                .iter()
                .filter_map(|key| {
                    let kind = KINDS.iter().find(|k| k.name == key.kind)?;
                    self.resources.get(kind, &key.id)
                })
                .collect(),
            remove_resources: change.removed_resources,
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
            resources,
            ..
        } = self;
        let Some(persist) = persist.as_mut() else {
            return Ok(());
        };
        let view = StateView {
            instances,
            client_tokens: token_records(client_tokens),
            resources: resources.all().collect(),
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
                .is_none_or(|ids| ids.iter().all(|i| !self.by_id.contains_key(i)));
            if all_gone {
                self.client_tokens.remove(&key);
            }
        }
        self.sweep_resources();
    }

    /// Drops the resources made to go with an instance that is gone (a
    /// disk launched with it). Not journaled: removing the instance, from
    /// the journal or by settling its transition, leads here again.
    fn sweep_resources(&mut self) {
        let orphans = self.resources.orphans(|id| self.by_id.contains_key(id));
        for (kind, id) in orphans {
            self.resources.remove(kind, &id);
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
            resources: self.resources.all().cloned().collect(),
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
    #[serde(rename = "Resources", skip_serializing_if = "Vec::is_empty")]
    resources: Vec<&'a StoredResource>,
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

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::transitions::LAUNCH_FAILED;
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
        // Fixed ids, so that no seed's derived address happens to be the
        // explicit one below (random ids made that a 1-in-170 failure).
        let mut state = State::new();
        for n in 0..300 {
            let id = format!("ins-{n:08x}");
            state = state.with_instance(StoredInstance::new(id, "ap-guangzhou-3", "RUNNING"));
            if n % 3 == 0 {
                let mut bare = StoredInstance::new(format!("ins-b{n:07x}"), "ap-guangzhou-3", "RUNNING");
                bare.instance.private_ip_addresses.clear();
                bare.instance.host_name.clear();
                state = state.with_instance(bare);
            }
        }
        // A seeded address equal to what the counter hands out next.
        let mut explicit = StoredInstance::new("ins-e0000000", "ap-guangzhou-3", "RUNNING");
        explicit.instance.private_ip_addresses = vec!["10.0.1.153".to_owned()];
        explicit.instance.host_name.clear();
        state = state.with_instance(explicit);
        let mut store = Store::from_state(state, 0, 0, 10_000).unwrap();
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
        let mut store = Store::from_state(state, 0, 0, 10_000).unwrap();
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
        let mut store = Store::from_state(state, 0, 0, 10_000).unwrap();
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
    fn state_json_round_trips_and_settles() {
        let text = r#"{"Instances": [
            {"InstanceId": "ins-abcd1234", "InstanceState": "STOPPING", "Placement": {"Zone": "ap-guangzhou-3"}},
            {"InstanceId": "ins-abcd1235", "InstanceState": "TERMINATING", "Placement": {"Zone": "ap-guangzhou-3"}}
        ]}"#;
        let state = State::from_json(text).unwrap();
        let mut store = Store::from_state(state, 100, 1_000, 10_000).unwrap();
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
        pending.instance.latest_operation_state = Some(LatestOperationState::Operating);
        pending.pending = Some(PendingTransition {
            target_state: LAUNCH_FAILED.to_owned(),
            completes_at_ms: 2_000,
        });
        let seeded = StoredInstance::new("ins-aaaaaaa2", "ap-guangzhou-3", LAUNCH_FAILED);
        assert_eq!(
            seeded
                .instance
                .latest_operation_state
                .as_ref()
                .map(|s| s.as_str()),
            Some("FAILED")
        );
        let state = State::new().with_instance(pending).with_instance(seeded);
        let reloaded = State::from_json(&state.to_json_pretty()).unwrap();
        let mut store = Store::from_state(reloaded, 100, 1_000, 10_000).unwrap();
        let snap = store.snapshot(1_999);
        assert_eq!(snap.instances[0].instance.instance_state, "PENDING");
        let snap = store.snapshot(2_000);
        let failed = &snap.instances[0].instance;
        assert_eq!(failed.instance_state, LAUNCH_FAILED);
        assert_eq!(
            failed.latest_operation_state.as_ref().map(|s| s.as_str()),
            Some("FAILED")
        );
        assert!(failed
            .latest_operation_error_msg
            .as_deref()
            .is_some_and(|m| m.contains("failed to launch")));
        assert_eq!(
            snap.instances[1]
                .instance
                .latest_operation_state
                .as_ref()
                .map(|s| s.as_str()),
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
        let mut store = Store::from_state(seed, 60_000, 0, 10_000).unwrap();
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
        let mut store = Store::from_state(state, 0, 0, 10_000).unwrap();
        let key = |t: &str| ("ap-guangzhou".to_owned(), t.to_owned());
        store.record_client_token(key("t1"), vec!["ins-aaaaaaa1".into(), "ins-aaaaaaa9".into()]);
        store.record_client_token(key("t2"), vec!["ins-aaaaaaa2".into()]);
        store.remove("ins-aaaaaaa2");
        let snap = store.snapshot(0);
        assert_eq!(snap.client_tokens.len(), 1);

        let mut again = Store::from_state(snap.clone(), 0, 0, 10_000).unwrap();
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
        assert_eq!(
            Store::from_state(gone, 0, 0, 10_000)
                .unwrap()
                .client_token_count(),
            0
        );
        // Twice the same token, or a malformed id, is refused.
        let mut twice = snap.clone();
        twice.client_tokens.push(twice.client_tokens[0].clone());
        assert!(Store::from_state(twice, 0, 0, 10_000).is_err());
        let mut bad = snap;
        bad.client_tokens[0].instance_ids.push("nope".into());
        assert!(Store::from_state(bad, 0, 0, 10_000).is_err());
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
            assert!(Store::from_state(state, 0, 0, 10_000).is_err(), "{bad}");
        }
    }
}
