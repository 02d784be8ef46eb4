//! Images made from instances: CreateImage and DeleteImages. A made image
//! is a private image of its region: DescribeImages lists it after the
//! public ones, and RunInstances takes it. Public images are data and are
//! never deleted.

use cvm_api::types::{
    CreateImageRequest, CreateImageResponse, DeleteImagesRequest, DeleteImagesResponse, Image, Snapshot, Tag,
    TagSpecification,
};

use super::catalog::public_image;
use super::common::{check_length, check_tags, not_kept, quoted_list, region, respond, state_refusal};
use super::ids::{is_image_id, random_id};
use super::resources::{item, IMAGE};
use super::state_file::ResourceKey;
use super::store::ChangeSet;
use crate::cbs::disks::data_disks_by_instance;
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;
use crate::time::{iso8601, now_ms};

/// Longest image name, in characters.
const MAX_NAME: usize = 60;
/// Most image ids in one request.
const MAX_IDS: usize = 100;

fn tags_for(specs: Option<&[TagSpecification]>) -> Result<Vec<Tag>, ApiError> {
    let mut tags = Vec::new();
    for spec in specs.unwrap_or_default() {
        if spec.resource_type != "image" {
            return Err(ApiError::invalid_value(format!(
                "TagSpecification.ResourceType is `{}`; an image takes `image`.",
                shorten(spec.resource_type.as_str())
            )));
        }
        tags.extend(spec.tags.iter().cloned());
    }
    check_tags(tags.iter().map(|t| (t.key.as_str(), t.value.as_str())))?;
    Ok(tags)
}

pub(crate) fn create_image(r: &CreateImageRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    if r.image_name.is_empty() || r.image_name.chars().count() > MAX_NAME {
        return Err(ApiError::invalid_value(format!(
            "ImageName must be 1 to {MAX_NAME} characters."
        )));
    }
    check_length(
        "ImageDescription",
        r.image_description.as_deref().unwrap_or_default(),
        256,
    )?;
    if r.snapshot_ids.is_some() {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "Images from snapshots are not emulated by cvm-emulator; give InstanceId.",
        ));
    }
    let Some(instance_id) = r.instance_id.as_deref() else {
        return Err(ApiError::missing("InstanceId"));
    };
    let tags = tags_for(r.tag_specification.as_deref())?;
    let mut store = ctx.shared.store();
    store.settle(now_ms());
    let Some(stored) = store.get(instance_id).filter(|s| s.region == region) else {
        return Err(ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("No instance `{}` in {region}.", shorten(instance_id)),
        ));
    };
    let instance = stored.instance.clone();
    let state = instance.instance_state.as_str();
    if state != "RUNNING" && state != "STOPPED" {
        return Err(state_refusal(
            instance_id,
            state,
            "CreateImage",
            &["RUNNING", "STOPPED"],
        ));
    }
    let mine: Vec<Image> = store
        .resources
        .in_region(&IMAGE, region)
        .map(item)
        .collect::<Result<_, _>>()?;
    if mine.iter().any(|i| i.image_name == r.image_name) {
        return Err(ApiError::new(
            "InvalidImageName.Duplicate",
            format!(
                "An image named `{}` already exists in {region}.",
                shorten(&r.image_name)
            ),
        ));
    }
    if mine.len() >= IMAGE.quota {
        return Err(ApiError::new(
            "ImageQuotaLimitExceeded",
            format!("{region} holds {} images, the most allowed.", IMAGE.quota),
        ));
    }
    // A snapshot of the system disk, and of each data disk asked for.
    let mut snapshots = vec![Snapshot::new()
        .set_snapshot_id(random_id("snap-"))
        .set_disk_usage("SYSTEM_DISK")
        .set_disk_size(instance.system_disk.disk_size.unwrap_or(50))];
    let wanted = r.data_disk_ids.as_deref().unwrap_or_default();
    if !wanted.is_empty() {
        let attached = data_disks_by_instance(&store, region)?
            .remove(instance_id)
            .unwrap_or_default();
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|id| !attached.iter().any(|d| d.disk_id.as_deref() == Some(id.as_str())))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::invalid_value(format!(
                "DataDiskIds {} are not attached to {instance_id}.",
                quoted_list(&missing)
            )));
        }
        for disk in attached
            .iter()
            .filter(|d| wanted.iter().any(|w| Some(w.as_str()) == d.disk_id.as_deref()))
        {
            snapshots.push(
                Snapshot::new()
                    .set_snapshot_id(random_id("snap-"))
                    .set_disk_usage("DATA_DISK")
                    .set_disk_size(disk.disk_size.unwrap_or(0)),
            );
        }
    }
    if r.dry_run == Some(true) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }
    let from = public_image(&instance.image_id);
    let id = store.resources.new_id(&IMAGE);
    let image = Image::new()
        .set_image_id(id.clone())
        .set_os_name(instance.os_name.clone())
        .set_image_type("PRIVATE_IMAGE")
        .set_created_time(iso8601(now_ms()))
        .set_image_name(r.image_name.clone())
        .set_image_description(r.image_description.clone().unwrap_or_default())
        .set_image_size(instance.system_disk.disk_size.unwrap_or(50))
        .set_architecture(from.map_or("x86_64", |i| i.architecture))
        .set_image_state("NORMAL")
        .set_platform(from.map_or("Other", |i| i.platform))
        .set_image_creator("")
        .set_image_source("CREATE_IMAGE")
        .set_sync_percent(100)
        .set_is_support_cloudinit(true)
        .set_snapshot_set(snapshots)
        .set_tags(tags)
        .set_license_type("TencentCloud")
        .set_image_family(r.image_family.clone().unwrap_or_default())
        .set_image_deprecated(false);
    store.resources.put(IMAGE.store(region, &id, &image)?);
    store
        .commit(ChangeSet {
            put_resources: &[IMAGE.key(&id)],
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(
        &CreateImageResponse::new()
            .set_image_id(id)
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn delete_images(r: &DeleteImagesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let region = region(ctx)?;
    check_rules(r)?;
    if r.image_ids.is_empty() {
        return Err(ApiError::missing("ImageIds"));
    }
    if r.image_ids.len() > MAX_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "ImageIds has {} items; at most {MAX_IDS} are allowed.",
                r.image_ids.len()
            ),
        ));
    }
    if let Some(bad) = r.image_ids.iter().find(|id| !is_image_id(id)) {
        return Err(ApiError::new(
            "InvalidImageId.Malformed",
            format!("The image id `{}` is malformed.", shorten(bad)),
        ));
    }
    if let Some(public) = r.image_ids.iter().find(|id| public_image(id).is_some()) {
        return Err(ApiError::new(
            "InvalidParameterValue.InvalidImageId",
            format!("{public} is a public image; only your own images are deleted."),
        ));
    }
    let mut store = ctx.shared.store();
    let missing: Vec<&str> = r
        .image_ids
        .iter()
        .filter(|id| store.resources.get(&IMAGE, id).is_none_or(|i| i.region != region))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::new(
            "InvalidImageId.NotFound",
            format!("No image {} in {region}.", quoted_list(&missing)),
        ));
    }
    if r.dry_run == Some(true) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded, but DryRun is set.",
        ));
    }
    let mut removed: Vec<ResourceKey> = Vec::with_capacity(r.image_ids.len());
    for id in &r.image_ids {
        if store.resources.remove(&IMAGE, id).is_some() {
            removed.push(IMAGE.key(id));
        }
    }
    store
        .commit(ChangeSet {
            removed_resources: &removed,
            ..ChangeSet::default()
        })
        .map_err(|why| not_kept(&why))?;
    drop(store);
    respond(&DeleteImagesResponse::new().set_request_id(ctx.request_id))
}
