//! Resources other than instances, kept alike: each is the item its
//! describing action lists (a `KeyPair`), with its kind, id and region, in
//! creation order. A kind is a row of [`KINDS`]: its id prefix, the member
//! holding the id, its quota and how to check an item. What a kind's
//! actions do beyond that is its own module's (`keypairs.rs`).

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::ids::random_id;
use super::state_file::{ResourceKey, StateError, StoredResource};
use crate::error::ApiError;

/// A kind of resource.
pub(crate) struct Kind {
    /// `KeyPair`: the state file's `Kind`.
    pub(crate) name: &'static str,
    /// `skey-`: ids are the prefix and 8 lower-case letters or digits.
    pub(crate) id_prefix: &'static str,
    /// The item's member that holds the id (`KeyId`), if it has one.
    pub(crate) id_member: Option<&'static str>,
    /// Most resources of the kind per region, as the service allows.
    pub(crate) quota: usize,
    /// Whether a stored item is one of these (it decodes as the type).
    check: fn(&Value) -> Result<(), String>,
    /// Whether an item goes when the instance it names is gone (the
    /// instance's id, if so).
    goes_with_instance: Option<fn(&Value) -> Option<&str>>,
}

/// A disk launched with an instance (or attached with `DeleteWithInstance`)
/// goes with it.
fn disk_goes_with(item: &Value) -> Option<&str> {
    let yes = |member: &str| item.get(member).and_then(Value::as_bool) == Some(true);
    if yes("Attached") && yes("DeleteWithInstance") {
        item.get("InstanceId").and_then(Value::as_str)
    } else {
        None
    }
}

fn decodes<T: DeserializeOwned>(item: &Value) -> Result<(), String> {
    T::deserialize(item).map(|_| ()).map_err(|e| e.to_string())
}

/// Key pairs (`DescribeKeyPairs`' `KeyPair`).
pub(crate) const KEY_PAIR: Kind = Kind {
    name: "KeyPair",
    id_prefix: "skey-",
    id_member: Some("KeyId"),
    quota: 100,
    check: decodes::<cvm_api::types::KeyPair>,
    goes_with_instance: None,
};

/// VPCs made by CreateVpc (`DescribeVpcs`' `Vpc`); the region's default
/// VPC is derived, not stored.
pub(crate) const VPC: Kind = Kind {
    name: "Vpc",
    id_prefix: "vpc-",
    id_member: Some("VpcId"),
    quota: 20,
    check: decodes::<vpc_api::types::Vpc>,
    goes_with_instance: None,
};

/// Subnets made by CreateSubnet (`DescribeSubnets`' `Subnet`).
pub(crate) const SUBNET: Kind = Kind {
    name: "Subnet",
    id_prefix: "subnet-",
    id_member: Some("SubnetId"),
    quota: 100,
    check: decodes::<vpc_api::types::Subnet>,
    goes_with_instance: None,
};

/// Security groups made by CreateSecurityGroup (`DescribeSecurityGroups`'
/// `SecurityGroup`); the region's default group is derived, not stored.
pub(crate) const SECURITY_GROUP: Kind = Kind {
    name: "SecurityGroup",
    id_prefix: "sg-",
    id_member: Some("SecurityGroupId"),
    quota: 50,
    check: decodes::<vpc_api::types::SecurityGroup>,
    goes_with_instance: None,
};

/// A security group's rules (`DescribeSecurityGroupPolicies`'
/// `SecurityGroupPolicySet`), under the group's id.
pub(crate) const SECURITY_GROUP_POLICIES: Kind = Kind {
    name: "SecurityGroupPolicySet",
    id_prefix: "sg-",
    id_member: None,
    quota: 50,
    check: decodes::<vpc_api::types::SecurityGroupPolicySet>,
    goes_with_instance: None,
};

/// Cloud disks (CBS `DescribeDisks`' `Disk`).
pub(crate) const DISK: Kind = Kind {
    name: "Disk",
    id_prefix: "disk-",
    id_member: Some("DiskId"),
    quota: 500,
    check: decodes::<cbs_api::types::Disk>,
    goes_with_instance: Some(disk_goes_with),
};

/// Images made by CreateImage (`DescribeImages`' `Image`); public images
/// are data ([`super::catalog`]), not stored.
pub(crate) const IMAGE: Kind = Kind {
    name: "Image",
    id_prefix: "img-",
    id_member: Some("ImageId"),
    quota: 500,
    check: decodes::<cvm_api::types::Image>,
    goes_with_instance: None,
};

/// Elastic IPs (`DescribeAddresses`' `Address`).
pub(crate) const ADDRESS: Kind = Kind {
    name: "Address",
    id_prefix: "eip-",
    id_member: Some("AddressId"),
    quota: 20,
    check: decodes::<vpc_api::types::Address>,
    goes_with_instance: None,
};

/// What a `ClientToken` made ([`super::tokens`]), under a hash of the
/// region, action and token.
pub(crate) const CLIENT_TOKEN: Kind = Kind {
    name: "ClientToken",
    id_prefix: "tok-",
    id_member: None,
    quota: 10_000,
    check: decodes::<super::state_file::TokenItem>,
    goes_with_instance: None,
};

/// Every kind.
pub(crate) const KINDS: &[&Kind] = &[
    &CLIENT_TOKEN,
    &ADDRESS,
    &IMAGE,
    &DISK,
    &KEY_PAIR,
    &VPC,
    &SUBNET,
    &SECURITY_GROUP,
    &SECURITY_GROUP_POLICIES,
];

impl Kind {
    /// Whether `id` has this kind's form.
    pub(crate) fn is_id(&self, id: &str) -> bool {
        id.strip_prefix(self.id_prefix).is_some_and(|rest| {
            rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
    }

    /// A stored resource holding `item`.
    pub(crate) fn store<T: Serialize>(
        &self,
        region: &str,
        id: &str,
        item: &T,
    ) -> Result<StoredResource, ApiError> {
        let item = serde_json::to_value(item)
            .map_err(|e| ApiError::new("InternalError", format!("cannot encode a {}: {e}", self.name)))?;
        Ok(StoredResource {
            kind: self.name.to_owned(),
            region: region.to_owned(),
            id: id.to_owned(),
            item,
        })
    }

    /// `code` unless `more` fit beside the `held` of `region` within the
    /// kind's quota (`what` names them in the message: `disks`).
    pub(crate) fn check_room(
        &self,
        region: &str,
        held: usize,
        more: usize,
        code: &str,
        what: &str,
    ) -> Result<(), ApiError> {
        if held + more > self.quota {
            return Err(ApiError::new(
                code,
                format!(
                    "{region} holds {held} {what}; {more} more would pass the quota of {}.",
                    self.quota
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn key(&self, id: &str) -> ResourceKey {
        ResourceKey {
            kind: self.name.to_owned(),
            id: id.to_owned(),
        }
    }
}

/// A stored resource's item as its type.
pub(crate) fn item<T: DeserializeOwned>(resource: &StoredResource) -> Result<T, ApiError> {
    T::deserialize(&resource.item).map_err(|e| {
        ApiError::new(
            "InternalError",
            format!(
                "the stored {} {} does not decode: {e}",
                resource.kind, resource.id
            ),
        )
    })
}

/// The resources, in creation order, indexed by kind and id.
#[derive(Default)]
pub(crate) struct Resources {
    by_seq: BTreeMap<u64, StoredResource>,
    by_key: HashMap<ResourceKey, u64>,
    /// Each kind's sequence numbers: a kind's listing reads its own
    /// resources only, however many of other kinds there are.
    by_kind: HashMap<String, std::collections::BTreeSet<u64>>,
    next_seq: u64,
}

impl Resources {
    /// Loads a state's resources, checking each against its kind.
    pub(crate) fn load(list: Vec<StoredResource>) -> Result<Resources, StateError> {
        let mut resources = Resources::default();
        for resource in list {
            let Some(kind) = KINDS.iter().find(|k| k.name == resource.kind) else {
                let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
                return Err(StateError::Invalid(format!(
                    "resource `{}` has unknown Kind `{}` (expected one of {})",
                    resource.id,
                    resource.kind,
                    names.join(", ")
                )));
            };
            if !kind.is_id(&resource.id) {
                return Err(StateError::Invalid(format!(
                    "{} id `{}` is not `{}` followed by 8 lower-case letters or digits",
                    kind.name, resource.id, kind.id_prefix
                )));
            }
            (kind.check)(&resource.item)
                .map_err(|e| StateError::Invalid(format!("{} `{}`: {e}", kind.name, resource.id)))?;
            if let Some(member) = kind.id_member {
                if resource.item.get(member).and_then(Value::as_str) != Some(resource.id.as_str()) {
                    return Err(StateError::Invalid(format!(
                        "{} `{}`: its {member} is not its Id",
                        kind.name, resource.id
                    )));
                }
            }
            if resources.by_key.contains_key(&resource.key()) {
                return Err(StateError::Invalid(format!(
                    "{} id `{}` appears twice",
                    kind.name, resource.id
                )));
            }
            resources.put(resource);
        }
        Ok(resources)
    }

    pub(crate) fn get(&self, kind: &Kind, id: &str) -> Option<&StoredResource> {
        let seq = self.by_key.get(&kind.key(id))?;
        self.by_seq.get(seq)
    }

    /// The kind's resources in `region`, oldest first.
    pub(crate) fn in_region<'a>(
        &'a self,
        kind: &'a Kind,
        region: &'a str,
    ) -> impl Iterator<Item = &'a StoredResource> + 'a {
        self.of_kind(kind).filter(move |r| r.region == region)
    }

    /// The kind's resources in every region, oldest first.
    fn of_kind<'a>(&'a self, kind: &'a Kind) -> impl Iterator<Item = &'a StoredResource> + 'a {
        self.by_kind
            .get(kind.name)
            .into_iter()
            .flatten()
            .filter_map(|seq| self.by_seq.get(seq))
    }

    /// Adds a resource, or replaces the one of its kind and id in place.
    pub(crate) fn put(&mut self, resource: StoredResource) {
        match self.by_key.get(&resource.key()) {
            Some(seq) => {
                self.by_seq.insert(*seq, resource);
            }
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.by_key.insert(resource.key(), seq);
                self.by_kind.entry(resource.kind.clone()).or_default().insert(seq);
                self.by_seq.insert(seq, resource);
            }
        }
    }

    pub(crate) fn remove(&mut self, kind: &Kind, id: &str) -> Option<StoredResource> {
        let seq = self.by_key.remove(&kind.key(id))?;
        if let Some(seqs) = self.by_kind.get_mut(kind.name) {
            seqs.remove(&seq);
        }
        self.by_seq.remove(&seq)
    }

    /// The resources whose instance is gone (by `exists`) and that go with it.
    pub(crate) fn orphans(&self, exists: impl Fn(&str) -> bool) -> Vec<(&'static Kind, String)> {
        let mut out = Vec::new();
        for kind in KINDS {
            let Some(goes_with) = kind.goes_with_instance else {
                continue;
            };
            for r in self.of_kind(kind) {
                if goes_with(&r.item).is_some_and(|id| !exists(id)) {
                    out.push((*kind, r.id.clone()));
                }
            }
        }
        out
    }

    /// Every resource, oldest first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &StoredResource> {
        self.by_seq.values()
    }

    /// A fresh id of `kind`.
    pub(crate) fn new_id(&self, kind: &Kind) -> String {
        loop {
            let id = random_id(kind.id_prefix);
            if !self.by_key.contains_key(&kind.key(&id)) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_pair(id: &str) -> StoredResource {
        StoredResource {
            kind: "KeyPair".into(),
            region: "ap-guangzhou".into(),
            id: id.into(),
            item: serde_json::json!({"KeyId": id, "KeyName": "k", "ProjectId": 0}),
        }
    }

    #[test]
    fn loaded_resources_are_checked_against_their_kind() {
        assert!(Resources::load(vec![key_pair("skey-abcd1234")]).is_ok());
        for (bad, why) in [
            (
                StoredResource {
                    kind: "Volcano".into(),
                    ..key_pair("skey-abcd1234")
                },
                "unknown Kind",
            ),
            (key_pair("skey-ABCD1234"), "is not `skey-`"),
            (
                StoredResource {
                    item: serde_json::json!({"KeyId": "skey-abcd1234", "ProjectId": "zero"}),
                    ..key_pair("skey-abcd1234")
                },
                "KeyPair `skey-abcd1234`",
            ),
            (
                StoredResource {
                    id: "skey-00000000".into(),
                    ..key_pair("skey-abcd1234")
                },
                "its KeyId is not its Id",
            ),
        ] {
            let e = Resources::load(vec![bad]).err().expect("refused").to_string();
            assert!(e.contains(why), "{e}");
        }
        let twice = Resources::load(vec![key_pair("skey-abcd1234"), key_pair("skey-abcd1234")]);
        assert!(twice
            .err()
            .is_some_and(|e| e.to_string().contains("appears twice")));
    }

    #[test]
    fn a_put_replaces_in_place_and_order_is_creation_order() {
        let mut r = Resources::default();
        r.put(key_pair("skey-00000001"));
        r.put(key_pair("skey-00000002"));
        let mut changed = key_pair("skey-00000001");
        changed.item["KeyName"] = "renamed".into();
        r.put(changed);
        let ids: Vec<&str> = r.all().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["skey-00000001", "skey-00000002"]);
        assert_eq!(
            r.get(&KEY_PAIR, "skey-00000001").unwrap().item["KeyName"],
            "renamed"
        );
        assert!(r.remove(&KEY_PAIR, "skey-00000001").is_some());
        assert!(r.get(&KEY_PAIR, "skey-00000001").is_none());
        assert!(KEY_PAIR.is_id(&r.new_id(&KEY_PAIR)));
    }
}
