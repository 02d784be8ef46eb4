//! Key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs,
//! DeleteKeyPairs, AssociateInstancesKeyPairs and
//! DisassociateInstancesKeyPairs, with the service's rules: names unique
//! per region, a key in use cannot be deleted, keys are bound to STOPPED
//! Linux instances only.
//!
//! Which instances use a key is theirs to say (`LoginSettings.KeyIds`):
//! `AssociatedInstanceIds` is read from them, so it never disagrees with
//! DescribeInstances, and a terminated instance lets go of its keys.
//! Key material is random, in the right format: the emulator's instances
//! take no SSH connection.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cvm_api::types::{
    AssociateInstancesKeyPairsRequest, AssociateInstancesKeyPairsResponse, CreateKeyPairRequest,
    CreateKeyPairResponse, DeleteKeyPairsRequest, DeleteKeyPairsResponse, DescribeKeyPairsRequest,
    DescribeKeyPairsResponse, DisassociateInstancesKeyPairsRequest, DisassociateInstancesKeyPairsResponse,
    Filter, ImportKeyPairRequest, ImportKeyPairResponse, KeyPair, Tag, TagSpecification,
};
use rand::RngExt;

use super::common::{
    check_filters, check_ids, check_length, check_tags, not_kept, paging, passes, quoted_list, region,
    respond, state_refusal,
};
use super::resources::{item, KEY_PAIR};
use super::state_file::ResourceKey;
use super::store::{ChangeSet, Store};
use super::transitions::complete;
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::{iso8601, now_ms};

/// Longest key name, in characters.
const MAX_NAME: usize = 25;
/// Most key ids in one request.
const MAX_KEY_IDS: usize = 100;

const FILTERS: &[&str] = &["project-id", "key-name", "tag-key", "tag-value", "tag:KEY"];

/// Public key types ImportKeyPair takes.
const KEY_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::new("InvalidKeyPairNameEmpty", "KeyName is empty."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::new(
            "InvalidKeyPairNameTooLong",
            format!("KeyName is longer than {MAX_NAME} characters."),
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ApiError::new(
            "InvalidKeyPairNameIncludeIllegalChar",
            format!(
                "KeyName `{}` holds a character other than letters, digits and `_`.",
                shorten(name)
            ),
        ));
    }
    Ok(())
}

fn check_project(project_id: Option<i64>) -> Result<i64, ApiError> {
    match project_id.unwrap_or(0) {
        0 => Ok(0),
        other => Err(ApiError::new(
            "InvalidProjectId.NotFound",
            format!("No project {other}: the emulator has the default project, 0."),
        )),
    }
}

/// The tags a TagSpecification gives a key pair.
fn tags_for(specs: Option<&[TagSpecification]>) -> Result<Vec<Tag>, ApiError> {
    let mut tags = Vec::new();
    for spec in specs.unwrap_or_default() {
        if spec.resource_type != "keypair" {
            return Err(ApiError::invalid_value(format!(
                "TagSpecification.ResourceType is `{}`; a key pair takes `keypair`.",
                shorten(spec.resource_type.as_str())
            )));
        }
        tags.extend(spec.tags.iter().cloned());
    }
    check_tags(tags.iter().map(|t| (t.key.as_str(), t.value.as_str())))?;
    Ok(tags)
}

/// The checks both ways of making a key share, under the store's lock:
/// name free in the region, quota not reached.
fn check_room(store: &Store, region: &str, name: &str) -> Result<(), ApiError> {
    let mut count = 0;
    for stored in store.resources.in_region(&KEY_PAIR, region) {
        count += 1;
        if stored.item.get("KeyName").and_then(|v| v.as_str()) == Some(name) {
            return Err(ApiError::new(
                "InvalidKeyPairName.Duplicate",
                format!("A key pair named `{}` already exists in {region}.", shorten(name)),
            ));
        }
    }
    if count >= KEY_PAIR.quota {
        return Err(ApiError::new(
            "InvalidKeyPair.LimitExceeded",
            format!("{region} holds {count} key pairs, the most allowed."),
        ));
    }
    Ok(())
}

/// Stores `key` and journals it.
fn keep(store: &mut Store, region: &str, key: &KeyPair) -> Result<(), ApiError> {
    store.resources.put(KEY_PAIR.store(region, &key.key_id, key)?);
    store
        .commit(ChangeSet {
            put_resources: &[KEY_PAIR.key(&key.key_id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))
}

fn new_key(store: &Store, name: &str, project_id: i64, public_key: String, tags: Vec<Tag>) -> KeyPair {
    KeyPair::new()
        .set_key_id(store.resources.new_id(&KEY_PAIR))
        .set_key_name(name)
        .set_project_id(project_id)
        .set_description("")
        .set_public_key(public_key)
        .set_created_time(iso8601(now_ms()))
        .set_tags(tags)
}

/// An `ssh-ed25519` public key of random bytes, as `ssh-keygen` writes one.
fn random_public_key(comment: &str) -> String {
    let mut blob = Vec::with_capacity(51);
    for part in [&b"ssh-ed25519"[..], &rand::rng().random::<[u8; 32]>()[..]] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    format!("ssh-ed25519 {} {comment}", STANDARD.encode(blob))
}

/// A private key's PEM armour around random bytes: the right shape for a
/// program that stores it, no use to `ssh`.
fn random_private_key() -> String {
    let body = STANDARD.encode(rand::rng().random::<[u8; 48]>());
    format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n")
}

pub(crate) fn create_key_pair(r: &CreateKeyPairRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    check_name(&r.key_name)?;
    let project_id = check_project(r.project_id)?;
    let tags = tags_for(r.tag_specification.as_deref())?;
    let mut store = ctx.shared.store();
    check_room(&store, region, &r.key_name)?;
    let key = new_key(
        &store,
        &r.key_name,
        project_id,
        random_public_key(&r.key_name),
        tags,
    );
    keep(&mut store, region, &key)?;
    drop(store);
    // The private key is answered once and never kept, as the service does.
    let answered = key.set_private_key(random_private_key());
    respond(
        &CreateKeyPairResponse::new()
            .set_key_pair(answered)
            .set_request_id(ctx.request_id),
    )
}

/// `InvalidPublicKey.Malformed` unless `text` is `TYPE BASE64 [COMMENT]`
/// whose blob names the same type; the key as kept (type and blob).
fn check_public_key(text: &str) -> Result<String, ApiError> {
    let malformed = |why: &str| {
        ApiError::new(
            "InvalidPublicKey.Malformed",
            format!("PublicKey is not an OpenSSH public key: {why}."),
        )
    };
    // An RSA key of 16384 bits is under 3 KiB in this form.
    check_length("PublicKey", text, 4096)?;
    let mut parts = text.split_ascii_whitespace();
    let (Some(kind), Some(encoded)) = (parts.next(), parts.next()) else {
        return Err(malformed("expected `TYPE BASE64 [COMMENT]`"));
    };
    if !KEY_TYPES.contains(&kind) {
        return Err(malformed(&format!(
            "`{}` is not one of {}",
            shorten(kind),
            KEY_TYPES.join(", ")
        )));
    }
    let blob = STANDARD
        .decode(encoded)
        .map_err(|_| malformed("the key is not base64"))?;
    let named = blob
        .get(..4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
        .and_then(|n| blob.get(4..4 + n));
    if named != Some(kind.as_bytes()) {
        return Err(malformed("the key's own type is not the one it is given as"));
    }
    Ok(format!("{kind} {encoded}"))
}

pub(crate) fn import_key_pair(r: &ImportKeyPairRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    check_name(&r.key_name)?;
    let project_id = check_project(r.project_id)?;
    let public_key = check_public_key(&r.public_key)?;
    let tags = tags_for(r.tag_specification.as_deref())?;
    let mut store = ctx.shared.store();
    check_room(&store, region, &r.key_name)?;
    let same = store.resources.in_region(&KEY_PAIR, region).find(|k| {
        k.item
            .get("PublicKey")
            .and_then(|v| v.as_str())
            .is_some_and(|kept| kept.split_ascii_whitespace().take(2).eq(public_key.split(' ')))
    });
    if let Some(same) = same {
        return Err(ApiError::new(
            "InvalidPublicKey.Duplicate",
            format!("This public key is already imported as {}.", same.id),
        ));
    }
    let key = new_key(&store, &r.key_name, project_id, public_key, tags);
    keep(&mut store, region, &key)?;
    drop(store);
    respond(
        &ImportKeyPairResponse::new()
            .set_key_id(key.key_id)
            .set_request_id(ctx.request_id),
    )
}

/// Checks key ids: count, then form; duplicates dropped.
fn check_key_ids(ids: &[String], required: bool) -> Result<Vec<String>, ApiError> {
    if required && ids.is_empty() {
        return Err(ApiError::missing("KeyIds"));
    }
    if ids.len() > MAX_KEY_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "KeyIds has {} items; at most {MAX_KEY_IDS} are allowed.",
                ids.len()
            ),
        ));
    }
    let malformed: Vec<&str> = ids
        .iter()
        .filter(|id| !KEY_PAIR.is_id(id))
        .map(String::as_str)
        .collect();
    if !malformed.is_empty() {
        return Err(ApiError::new(
            "InvalidKeyPairId.Malformed",
            format!(
                "Malformed key id {} (expected `skey-` followed by 8 lower-case letters or digits).",
                quoted_list(&malformed)
            ),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// `InvalidKeyPairId.NotFound` unless every key of `ids` is in `region`.
pub(crate) fn check_keys_exist(store: &Store, region: &str, ids: &[String]) -> Result<(), ApiError> {
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| {
            store
                .resources
                .get(&KEY_PAIR, id)
                .is_none_or(|k| k.region != region)
        })
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidKeyPairId.NotFound",
            format!("No key pair {} in {region}.", quoted_list(&missing)),
        ))
    }
}

/// The instances of `region` that use key `id`, oldest first.
fn users(store: &Store, region: &str, id: &str) -> Vec<String> {
    store
        .in_region(region)
        .filter(|s| {
            s.instance
                .login_settings
                .key_ids
                .as_deref()
                .is_some_and(|keys| keys.iter().any(|k| k == id))
        })
        .map(|s| s.instance.instance_id.clone())
        .collect()
}

fn key_matches(key: &KeyPair, name: &str, values: &[String]) -> bool {
    let any = |candidate: &str| values.iter().any(|v| v == candidate);
    let tags = key.tags.as_deref().unwrap_or_default();
    match name {
        "project-id" => any(&key.project_id.to_string()),
        "key-name" => any(&key.key_name),
        "tag-key" => tags.iter().any(|t| any(&t.key)),
        "tag-value" => tags.iter().any(|t| any(&t.value)),
        _ => name
            .strip_prefix("tag:")
            .is_some_and(|k| tags.iter().any(|t| t.key == k && any(&t.value))),
    }
}

pub(crate) fn describe_key_pairs(r: &DescribeKeyPairsRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    let ids = check_key_ids(r.key_ids.as_deref().unwrap_or_default(), false)?;
    let filters: &[Filter] = r.filters.as_deref().unwrap_or_default();
    if !ids.is_empty() && !filters.is_empty() {
        return Err(ApiError::new(
            "InvalidParameter",
            "KeyIds and Filters cannot be given together.",
        ));
    }
    check_filters(filters, FILTERS)?;
    let (offset, limit) = paging(r.offset, r.limit)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut chosen = Vec::new();
    for stored in store.resources.in_region(&KEY_PAIR, region) {
        if !ids.is_empty() && !ids.contains(&stored.id) {
            continue;
        }
        let key: KeyPair = item(stored)?;
        if passes(filters, |name, values| key_matches(&key, name, values)) {
            chosen.push(key);
        }
    }
    let total = chosen.len();
    let page: Vec<KeyPair> = chosen
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|key| {
            let used_by = users(&store, region, &key.key_id);
            key.set_associated_instance_ids(used_by)
        })
        .collect();
    drop(store);
    respond(
        &DescribeKeyPairsResponse::new()
            .set_total_count(i64::try_from(total).unwrap_or(i64::MAX))
            .set_key_pair_set(page)
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn delete_key_pairs(r: &DeleteKeyPairsRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    let ids = check_key_ids(&r.key_ids, true)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    check_keys_exist(&store, region, &ids)?;
    // All or nothing: no key goes while one of them is in use.
    for id in &ids {
        let used_by = users(&store, region, id);
        if !used_by.is_empty() {
            let names: Vec<&str> = used_by.iter().map(String::as_str).collect();
            return Err(ApiError::new(
                "InvalidParameterValue.KeyPairNotSupported",
                format!(
                    "The key pair {id} is bound to {}; disassociate it (DisassociateInstancesKeyPairs) or terminate them first.",
                    quoted_list(&names)
                ),
            ));
        }
    }
    for id in &ids {
        store.resources.remove(&KEY_PAIR, id);
    }
    let removed: Vec<ResourceKey> = ids.iter().map(|id| KEY_PAIR.key(id)).collect();
    store
        .commit(ChangeSet {
            removed_resources: &removed,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(&DeleteKeyPairsResponse::new().set_request_id(ctx.request_id))
}

/// What both binding actions check, under the store's lock: the keys, the
/// instances, and that each instance can change keys now (STOPPED, or
/// RUNNING with `force_stop`, which stops it at once; not Windows).
fn check_binding(
    store: &Store,
    region: &str,
    instance_ids: &[String],
    key_ids: &[String],
    force_stop: bool,
) -> Result<(), ApiError> {
    check_keys_exist(store, region, key_ids)?;
    let missing: Vec<&str> = instance_ids
        .iter()
        .filter(|id| store.get(id).is_none_or(|s| s.region != region))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("No instance {} in {region}.", quoted_list(&missing)),
        ));
    }
    for id in instance_ids {
        let Some(stored) = store.get(id) else { continue };
        let instance = &stored.instance;
        if instance.os_name.contains("Windows") {
            return Err(ApiError::new(
                "UnsupportedOperation.InstanceOsWindows",
                format!("The instance `{id}` runs Windows, which takes no key pairs."),
            ));
        }
        let state = instance.instance_state.as_str();
        if state == "STOPPED" || (state == "RUNNING" && force_stop) {
            continue;
        }
        return Err(state_refusal(
            id,
            state,
            "changing key pairs",
            &["STOPPED", "RUNNING with ForceStop"],
        ));
    }
    Ok(())
}

/// Binds (`bind`) or unbinds `key_ids` on `instance_ids`, stopping the
/// RUNNING ones at once when forced.
fn rebind(
    ctx: &Ctx<'_>,
    instance_ids: &[String],
    key_ids: &[String],
    force_stop: Option<bool>,
    bind: bool,
) -> Result<(), ApiError> {
    let region = region(ctx)?;
    let instance_ids = check_ids(instance_ids, true)?;
    let key_ids = check_key_ids(key_ids, true)?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    check_binding(&store, region, &instance_ids, &key_ids, force_stop == Some(true))?;
    for id in &instance_ids {
        let Some(stored) = store.get_mut(id) else { continue };
        let instance = &mut stored.instance;
        if instance.instance_state == "RUNNING" {
            complete(instance, "STOPPED");
        }
        let keys = instance.login_settings.key_ids.get_or_insert_with(Vec::new);
        if bind {
            for key in &key_ids {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
            // A key replaces a password as the way in.
            instance.login_settings.password = None;
        } else {
            keys.retain(|k| !key_ids.contains(k));
        }
    }
    store
        .commit(ChangeSet {
            put: &instance_ids,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))
}

pub(crate) fn associate_instances_key_pairs(
    r: &AssociateInstancesKeyPairsRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    check_rules(r)?;
    rebind(ctx, &r.instance_ids, &r.key_ids, r.force_stop, true)?;
    respond(&AssociateInstancesKeyPairsResponse::new().set_request_id(ctx.request_id))
}

pub(crate) fn disassociate_instances_key_pairs(
    r: &DisassociateInstancesKeyPairsRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    check_rules(r)?;
    rebind(ctx, &r.instance_ids, &r.key_ids, r.force_stop, false)?;
    respond(&DisassociateInstancesKeyPairsResponse::new().set_request_id(ctx.request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_are_checked_for_their_form_and_type() {
        let made = random_public_key("me");
        assert_eq!(check_public_key(&made).unwrap(), made.rsplit_once(' ').unwrap().0);
        for bad in [
            "",
            "ssh-ed25519",
            "ssh-foo AAAA",
            "ssh-rsa not*base64",
            // An ed25519 blob given as RSA.
            &made.replacen("ssh-ed25519", "ssh-rsa", 1),
        ] {
            assert_eq!(
                check_public_key(bad).unwrap_err().code,
                "InvalidPublicKey.Malformed",
                "{bad}"
            );
        }
    }

    #[test]
    fn names_follow_the_services_rules() {
        assert!(check_name("my_key_1").is_ok());
        assert_eq!(check_name("").unwrap_err().code, "InvalidKeyPairNameEmpty");
        assert_eq!(
            check_name(&"k".repeat(26)).unwrap_err().code,
            "InvalidKeyPairNameTooLong"
        );
        assert_eq!(
            check_name("my-key").unwrap_err().code,
            "InvalidKeyPairNameIncludeIllegalChar"
        );
    }
}
