//! Tag (2018-08-13): TagResources, UnTagResources and
//! DescribeResourceTagsByResourceIds on the resources the emulator keeps.
//!
//! A tag lives where the resource's own description keeps it (an
//! instance's `Tags`, a disk's `Tags`, a VPC's `TagSet`): [`TAGGABLE`] says
//! where, per service and resource prefix. So DescribeInstances' tag
//! filters, each service's listings and the tag service always agree.
//! Resources are named as the tag service names them:
//! `qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-abcd1234`.

use md5::{Digest, Md5};
use serde_json::{json, Value};
use tag_api::types::{
    DescribeResourceTagsByResourceIdsRequest, DescribeResourceTagsByResourceIdsResponse, FailedResource,
    TagResource, TagResourcesRequest, TagResourcesResponse, UnTagResourcesRequest, UnTagResourcesResponse,
};

use crate::cvm::common::{check_tags, not_kept, respond, MAX_TAGS};
use crate::cvm::resources::{Kind, ADDRESS, DISK, IMAGE, KEY_PAIR, SECURITY_GROUP, SUBNET, VPC};
use crate::cvm::state_file::ResourceKey;
use crate::cvm::store::{ChangeSet, Store};
use crate::decode::{check_rules, decode as decode_as, Params};
use crate::error::{shorten, ApiError};
use crate::fallback::Fallback;
use crate::shared::Ctx;
use crate::time::now_ms;

/// The tag actions the emulator implements.
pub const TAG_EMULATED_ACTIONS: &[&str] = &[
    "DescribeResourceTagsByResourceIds",
    "TagResources",
    "UnTagResources",
];

/// Most resources one request names.
const MAX_RESOURCES: usize = 50;

/// Where a resource keeps its tags.
enum Holder {
    /// An instance's `Tags`.
    Instance,
    /// A stored resource's item, in this member (`Tags` or `TagSet`).
    Item(&'static Kind, &'static str),
}

/// (service, resource prefix, where its tags live).
const TAGGABLE: &[(&str, &str, Holder)] = &[
    ("cvm", "instance", Holder::Instance),
    ("cvm", "keypair", Holder::Item(&KEY_PAIR, "Tags")),
    ("cvm", "image", Holder::Item(&IMAGE, "Tags")),
    ("cbs", "disk", Holder::Item(&DISK, "Tags")),
    ("vpc", "vpc", Holder::Item(&VPC, "TagSet")),
    ("vpc", "subnet", Holder::Item(&SUBNET, "TagSet")),
    ("vpc", "sg", Holder::Item(&SECURITY_GROUP, "TagSet")),
    ("vpc", "eip", Holder::Item(&ADDRESS, "TagSet")),
];

/// A decoded request of an emulated tag action.
pub(crate) enum TagRequest {
    TagResources(Box<TagResourcesRequest>),
    UnTagResources(Box<UnTagResourcesRequest>),
    DescribeResourceTagsByResourceIds(Box<DescribeResourceTagsByResourceIdsRequest>),
}

impl TagRequest {
    pub(crate) fn action(&self) -> &'static str {
        match self {
            TagRequest::TagResources(_) => "TagResources",
            TagRequest::UnTagResources(_) => "UnTagResources",
            TagRequest::DescribeResourceTagsByResourceIds(_) => "DescribeResourceTagsByResourceIds",
        }
    }
}

/// Decodes `params` as a request of `action` (one of Tag's).
pub(crate) fn decode<S: Fallback>(
    service: &'static S,
    action: &'static str,
    params: Params,
) -> Result<S::Checked, ApiError>
where
    S::Checked: From<TagRequest>,
{
    let request = match action {
        "TagResources" => TagRequest::TagResources(Box::new(decode_as(service, action, params)?)),
        "UnTagResources" => TagRequest::UnTagResources(Box::new(decode_as(service, action, params)?)),
        "DescribeResourceTagsByResourceIds" => {
            TagRequest::DescribeResourceTagsByResourceIds(Box::new(decode_as(service, action, params)?))
        }
        _ => return service.validate(action, params),
    };
    Ok(request.into())
}

/// Answers one decoded tag request.
pub(crate) fn handle(request: TagRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    match request {
        TagRequest::TagResources(r) => tag_resources(&r, ctx),
        TagRequest::UnTagResources(r) => untag_resources(&r, ctx),
        TagRequest::DescribeResourceTagsByResourceIds(r) => describe_by_ids(&r, ctx),
    }
}

/// A resource named in a request: where its tags live.
struct Named<'a> {
    name: &'a str,
    service: &'a str,
    region: &'a str,
    holder: &'static Holder,
    id: &'a str,
}

/// Parses `qcs::SERVICE:REGION:uin/UIN:PREFIX/ID`.
fn parse(name: &str) -> Result<Named<'_>, ApiError> {
    let malformed = || {
        ApiError::new(
            "InvalidParameterValue.ResourceDescriptionError",
            format!(
                "`{}` is not a resource name of the form qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-abcd1234.",
                shorten(name)
            ),
        )
    };
    let parts: Vec<&str> = name.split(':').collect();
    let [qcs, "", service, region, account, resource] = parts.as_slice() else {
        return Err(malformed());
    };
    if *qcs != "qcs" || !account.starts_with("uin/") {
        return Err(malformed());
    }
    let (prefix, id) = resource.split_once('/').ok_or_else(malformed)?;
    let holder = TAGGABLE
        .iter()
        .find(|(s, p, _)| s == service && p == &prefix)
        .map(|(_, _, h)| h)
        .ok_or_else(|| {
            let known: Vec<String> = TAGGABLE.iter().map(|(s, p, _)| format!("{s} {p}")).collect();
            ApiError::new(
                "InvalidParameterValue.ResourcePrefixInvalid",
                format!(
                    "Resources of {} `{}` are not tagged by cvm-emulator; it tags {}.",
                    shorten(service),
                    shorten(prefix),
                    known.join(", ")
                ),
            )
        })?;
    Ok(Named {
        name,
        service,
        region,
        holder,
        id,
    })
}

/// The tags of a resource as (key, value) pairs, if it exists.
fn tags_of(store: &Store, named: &Named<'_>) -> Option<Vec<(String, String)>> {
    match named.holder {
        Holder::Instance => store.get(named.id).filter(|s| s.region == named.region).map(|s| {
            s.instance
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect()
        }),
        Holder::Item(kind, member) => {
            let stored = store
                .resources
                .get(kind, named.id)
                .filter(|r| r.region == named.region)?;
            let list = stored
                .item
                .get(*member)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            Some(
                list.iter()
                    .map(|t| {
                        let text = |m: &str| t.get(m).and_then(Value::as_str).unwrap_or_default().to_owned();
                        (text("Key"), text("Value"))
                    })
                    .collect(),
            )
        }
    }
}

/// Writes a resource's tags back where they live; what to journal.
fn set_tags(store: &mut Store, named: &Named<'_>, tags: &[(String, String)], changed: &mut Changed) {
    match named.holder {
        Holder::Instance => {
            if let Some(stored) = store.get_mut(named.id) {
                stored.instance.tags = tags
                    .iter()
                    .map(|(k, v)| cvm_api::types::Tag::new().set_key(k.clone()).set_value(v.clone()))
                    .collect();
                changed.instances.push(named.id.to_owned());
            }
        }
        Holder::Item(kind, member) => {
            if let Some(stored) = store.resources.get(kind, named.id) {
                let mut stored = stored.clone();
                stored.item[*member] =
                    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect());
                store.resources.put(stored);
                changed.resources.push(kind.key(named.id));
            }
        }
    }
}

#[derive(Default)]
struct Changed {
    instances: Vec<String>,
    resources: Vec<ResourceKey>,
}

fn failed(name: &str) -> FailedResource {
    FailedResource::new()
        .set_resource(name)
        .set_code("ResourceNotFound.RecordNotFound")
        .set_message("No such resource in the emulator.")
}

/// Applies `change` to the tags of every resource of `list`: those that do
/// not exist are answered as failed, the others changed all at once.
fn retag(
    ctx: &Ctx<'_>,
    list: &[String],
    change: impl Fn(&mut Vec<(String, String)>) -> Result<(), ApiError>,
) -> Result<Vec<FailedResource>, ApiError> {
    if list.is_empty() {
        return Err(ApiError::missing("ResourceList"));
    }
    if list.len() > MAX_RESOURCES {
        return Err(ApiError::new(
            "LimitExceeded.ResourceNumPerRequest",
            format!(
                "ResourceList has {} items; at most {MAX_RESOURCES} are allowed.",
                list.len()
            ),
        ));
    }
    let named: Vec<Named<'_>> = list.iter().map(|n| parse(n)).collect::<Result<_, _>>()?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut failures = Vec::new();
    let mut updates = Vec::new();
    for n in &named {
        match tags_of(&store, n) {
            None => failures.push(failed(n.name)),
            Some(mut tags) => {
                change(&mut tags)?;
                updates.push((n, tags));
            }
        }
    }
    let mut changed = Changed::default();
    for (n, tags) in &updates {
        set_tags(&mut store, n, tags, &mut changed);
    }
    store
        .commit(ChangeSet {
            put: &changed.instances,
            put_resources: &changed.resources,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    Ok(failures)
}

fn tag_resources(r: &TagResourcesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    check_rules(r)?;
    if r.tags.is_empty() {
        return Err(ApiError::missing("Tags"));
    }
    check_tags(r.tags.iter().map(|t| (t.tag_key.as_str(), t.tag_value.as_str())))?;
    let failures = retag(ctx, &r.resource_list, |tags| {
        for t in &r.tags {
            match tags.iter_mut().find(|(k, _)| *k == t.tag_key) {
                Some(kept) => kept.1 = t.tag_value.clone(),
                None => tags.push((t.tag_key.clone(), t.tag_value.clone())),
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(ApiError::new(
                "LimitExceeded.ResourceAttachedTags",
                format!(
                    "A resource would carry {} tags; at most {MAX_TAGS} are allowed.",
                    tags.len()
                ),
            ));
        }
        Ok(())
    })?;
    respond(
        &TagResourcesResponse::new()
            .set_failed_resources(failures)
            .set_request_id(ctx.request_id),
    )
}

fn untag_resources(r: &UnTagResourcesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    check_rules(r)?;
    if r.tag_keys.is_empty() {
        return Err(ApiError::missing("TagKeys"));
    }
    let failures = retag(ctx, &r.resource_list, |tags| {
        tags.retain(|(k, _)| !r.tag_keys.contains(k));
        Ok(())
    })?;
    respond(
        &UnTagResourcesResponse::new()
            .set_failed_resources(failures)
            .set_request_id(ctx.request_id),
    )
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

fn describe_by_ids(r: &DescribeResourceTagsByResourceIdsRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    check_rules(r)?;
    if !TAGGABLE
        .iter()
        .any(|(s, p, _)| *s == r.service_type && *p == r.resource_prefix)
    {
        return Err(ApiError::new(
            "InvalidParameterValue.ResourcePrefixInvalid",
            format!(
                "Resources of {} `{}` are not tagged by cvm-emulator.",
                shorten(&r.service_type),
                shorten(&r.resource_prefix)
            ),
        ));
    }
    let offset = usize::try_from(r.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = r.limit.unwrap_or(15);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_value(format!(
            "Limit is {limit}; it must be between 1 and 100."
        )));
    }
    let names: Vec<String> = r
        .resource_ids
        .iter()
        .map(|id| {
            format!(
                "qcs::{}:{}:uin/0:{}/{id}",
                r.service_type, r.resource_region, r.resource_prefix
            )
        })
        .collect();
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let mut all = Vec::new();
    for name in &names {
        let named = parse(name)?;
        for (key, value) in tags_of(&store, &named).unwrap_or_default() {
            all.push(
                TagResource::new()
                    .set_tag_key_md5(md5_hex(&key))
                    .set_tag_value_md5(md5_hex(&value))
                    .set_tag_key(key)
                    .set_tag_value(value)
                    .set_resource_id(named.id)
                    .set_service_type(named.service)
                    .set_category("Custom"),
            );
        }
    }
    drop(store);
    let total = all.len() as u64;
    let page: Vec<TagResource> = all.into_iter().skip(offset).take(limit as usize).collect();
    respond(
        &DescribeResourceTagsByResourceIdsResponse::new()
            .set_total_count(total)
            .set_offset(offset as u64)
            .set_limit(limit)
            .set_tags(page)
            .set_request_id(ctx.request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_are_parsed_and_checked() {
        let n = parse("qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-abcd1234").unwrap();
        assert_eq!(
            (n.service, n.region, n.id),
            ("cvm", "ap-guangzhou", "ins-abcd1234")
        );
        for bad in [
            "ins-abcd1234",
            "qcs:x:cvm:ap-guangzhou:uin/1:instance/ins-abcd1234",
            "qcs::cvm:ap-guangzhou:1:instance/ins-abcd1234",
            "qcs::cvm:ap-guangzhou:uin/1:ins-abcd1234",
        ] {
            assert_eq!(
                parse(bad).err().unwrap().code,
                "InvalidParameterValue.ResourceDescriptionError",
                "{bad}"
            );
        }
        assert_eq!(
            parse("qcs::cdb:ap-guangzhou:uin/1:instanceId/cdb-1")
                .err()
                .unwrap()
                .code,
            "InvalidParameterValue.ResourcePrefixInvalid"
        );
        // RFC 1321's test vectors.
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }
}
