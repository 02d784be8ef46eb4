//! What CVM offers, as data shipped with the emulator: public images and
//! instance types (regions and zones are [`super::regions`]'s). The
//! catalog actions answer from it, and RunInstances takes what it lists:
//! a program that picks a zone, an image and a type from the answers can
//! launch with them.

use cvm_api::types::{
    DescribeImagesRequest, DescribeImagesResponse, DescribeInstanceTypeConfigsRequest,
    DescribeInstanceTypeConfigsResponse, DescribeRegionsResponse, DescribeZoneInstanceConfigInfosRequest,
    DescribeZoneInstanceConfigInfosResponse, DescribeZonesResponse, Externals, Filter, Image,
    InstanceTypeConfig, InstanceTypeQuotaItem, ItemPrice, LocalDiskType, RegionInfo, Snapshot, Tag, ZoneInfo,
};

use super::common::{check_filters, paging, passes, quoted_list, region, respond};
use super::ids::is_image_id;
use super::instances::instance_type_size;
use super::regions::{region_entry, Region, REGION_TABLE};
use super::resources::{item, IMAGE};
use crate::decode::check_rules;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;

/// A public image.
pub(crate) struct PublicImage {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) os_name: &'static str,
    pub(crate) platform: &'static str,
    /// `x86_64` or `arm`.
    pub(crate) architecture: &'static str,
    /// Of the system disk it needs, in GB.
    pub(crate) size_gb: i64,
    pub(crate) created: &'static str,
    /// The user an instance of it logs in as.
    pub(crate) login_user: &'static str,
}

/// The public images, sorted by id. `img-9qabwvbn` is what an instance
/// without an `ImageId` of its own shows.
pub(crate) const PUBLIC_IMAGES: &[PublicImage] = &[
    PublicImage {
        id: "img-22trbn9x",
        name: "Windows Server 2022 Datacenter 64-bit English",
        os_name: "Windows Server 2022 Datacenter 64-bit English",
        platform: "Windows",
        architecture: "x86_64",
        size_gb: 50,
        created: "2023-03-20T07:40:11Z",
        login_user: "Administrator",
    },
    PublicImage {
        id: "img-487zeit5",
        name: "Ubuntu Server 22.04 LTS 64-bit",
        os_name: "Ubuntu Server 22.04 LTS 64bit",
        platform: "Ubuntu",
        architecture: "x86_64",
        size_gb: 20,
        created: "2022-04-28T02:51:05Z",
        login_user: "ubuntu",
    },
    PublicImage {
        id: "img-9qabwvbn",
        name: "TencentOS Server 3.1 (TK4)",
        os_name: "TencentOS Server 3.1 (TK4)",
        platform: "TencentOS",
        architecture: "x86_64",
        size_gb: 20,
        created: "2022-02-15T09:12:24Z",
        login_user: "root",
    },
    PublicImage {
        id: "img-eb30mz89",
        name: "CentOS 7.9 64-bit",
        os_name: "CentOS 7.9 64bit",
        platform: "CentOS",
        architecture: "x86_64",
        size_gb: 20,
        created: "2021-03-12T06:03:41Z",
        login_user: "root",
    },
    PublicImage {
        id: "img-hdt9xxkt",
        name: "Debian 12.0 64-bit",
        os_name: "Debian 12.0 64bit",
        platform: "Debian",
        architecture: "x86_64",
        size_gb: 20,
        created: "2023-06-14T03:20:52Z",
        login_user: "root",
    },
    PublicImage {
        id: "img-l5eqiljn",
        name: "TencentOS Server 3.1 (TK4) for ARM",
        os_name: "TencentOS Server 3.1 (TK4) for ARM",
        platform: "TencentOS",
        architecture: "arm",
        size_gb: 20,
        created: "2022-05-09T11:47:30Z",
        login_user: "root",
    },
    PublicImage {
        id: "img-pmqg1cw7",
        name: "OpenCloudOS 8.6 64-bit",
        os_name: "OpenCloudOS 8.6 64bit",
        platform: "OpenCloudOS",
        architecture: "x86_64",
        size_gb: 20,
        created: "2022-10-11T08:35:16Z",
        login_user: "root",
    },
];

/// The public image with id `id`.
pub(crate) fn public_image(id: &str) -> Option<&'static PublicImage> {
    PUBLIC_IMAGES.iter().find(|i| i.id == id)
}

/// An instance family and the sizes it comes in (`S5` + `MEDIUM4` is
/// `S5.MEDIUM4`: 2 cores, 4 GB, by [`instance_type_size`]).
pub(crate) struct Family {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) cpu_type: &'static str,
    pub(crate) frequency: &'static str,
    /// Hourly price, pay as you go, per core and per GB of memory.
    pub(crate) per_core: f64,
    pub(crate) per_gb: f64,
    pub(crate) sizes: &'static [&'static str],
}

/// The families on sale in every zone, sorted by name.
pub(crate) const FAMILIES: &[Family] = &[
    Family {
        name: "M5",
        title: "Memory Optimized M5",
        cpu_type: "Intel Xeon Cascade Lake 8255C (2.5 GHz/3.1 GHz)",
        frequency: "2.5GHz/3.1GHz",
        per_core: 0.05,
        per_gb: 0.025,
        sizes: &["MEDIUM16", "LARGE32", "2XLARGE64", "4XLARGE128"],
    },
    Family {
        name: "S5",
        title: "Standard S5",
        cpu_type: "Intel Xeon Cascade Lake 8255C (2.5 GHz/3.1 GHz)",
        frequency: "2.5GHz/3.1GHz",
        per_core: 0.06,
        per_gb: 0.03,
        sizes: &[
            "SMALL1",
            "SMALL2",
            "SMALL4",
            "MEDIUM2",
            "MEDIUM4",
            "MEDIUM8",
            "LARGE8",
            "LARGE16",
            "2XLARGE16",
            "2XLARGE32",
            "4XLARGE32",
            "4XLARGE64",
            "8XLARGE64",
            "16XLARGE256",
        ],
    },
    Family {
        name: "SA2",
        title: "Standard SA2",
        cpu_type: "AMD EPYC ROME (2.6 GHz/3.3 GHz)",
        frequency: "2.6GHz/3.3GHz",
        per_core: 0.05,
        per_gb: 0.025,
        sizes: &["MEDIUM2", "MEDIUM4", "LARGE8", "2XLARGE16", "4XLARGE32"],
    },
];

/// An offered instance type.
pub(crate) struct Offer {
    pub(crate) family: &'static Family,
    pub(crate) instance_type: String,
    pub(crate) cpu: i64,
    pub(crate) memory: i64,
}

/// Every offered type, family by family.
pub(crate) fn offers() -> impl Iterator<Item = Offer> {
    FAMILIES.iter().flat_map(|family| {
        family.sizes.iter().filter_map(move |size| {
            let instance_type = format!("{}.{size}", family.name);
            let (cpu, memory) = instance_type_size(&instance_type)?;
            Some(Offer {
                family,
                instance_type,
                cpu,
                memory,
            })
        })
    })
}

/// The offer of `instance_type`, if it is on sale.
pub(crate) fn offer(instance_type: &str) -> Option<Offer> {
    offers().find(|o| o.instance_type == instance_type)
}

/// The types on sale, for messages.
fn offered_list() -> String {
    let types: Vec<String> = offers().map(|o| o.instance_type).collect();
    let names: Vec<&str> = types.iter().map(String::as_str).collect();
    quoted_list(&names)
}

/// `InvalidParameterValue.InstanceTypeNotFound` unless `instance_type`
/// (well formed) is on sale.
pub(crate) fn check_offered(instance_type: &str) -> Result<Offer, ApiError> {
    offer(instance_type).ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue.InstanceTypeNotFound",
            format!(
                "The instance type `{}` is not on sale; DescribeInstanceTypeConfigs lists those that are ({}).",
                shorten(instance_type),
                offered_list()
            ),
        )
    })
}

/// `InvalidParameterValue.ZoneNotSupported` unless `zone` is a zone of
/// the region; `InvalidZone.MismatchRegion` when it names another region.
pub(crate) fn check_zone(region: &str, zone: &str) -> Result<(), ApiError> {
    let Some(entry) = region_entry(region) else {
        return Err(ApiError::new(
            "InvalidRegion.NotFound",
            format!("No region `{region}`."),
        ));
    };
    if entry.has_zone(zone) {
        return Ok(());
    }
    let elsewhere = REGION_TABLE.iter().any(|r| r.name != region && r.has_zone(zone));
    if elsewhere {
        return Err(ApiError::new(
            "InvalidZone.MismatchRegion",
            format!(
                "The zone `{}` is not in the region {region} of the request.",
                shorten(zone)
            ),
        ));
    }
    let zones: Vec<String> = entry.zones().map(|z| z.name).collect();
    let names: Vec<&str> = zones.iter().map(String::as_str).collect();
    Err(ApiError::new(
        "InvalidParameterValue.ZoneNotSupported",
        format!(
            "The zone `{}` is not a zone of {region}; DescribeZones lists them ({}).",
            shorten(zone),
            quoted_list(&names)
        ),
    ))
}

fn region_of<'a>(ctx: &Ctx<'a>) -> Result<&'static Region, ApiError> {
    let name = region(ctx)?;
    region_entry(name).ok_or_else(|| ApiError::new("InvalidRegion.NotFound", format!("No region `{name}`.")))
}

pub(crate) fn describe_regions(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let set: Vec<RegionInfo> = REGION_TABLE
        .iter()
        .map(|r| {
            RegionInfo::new()
                .set_region(r.name)
                .set_region_name(r.title)
                .set_region_state("AVAILABLE")
        })
        .collect();
    respond(
        &DescribeRegionsResponse::new()
            .set_total_count(set.len() as u64)
            .set_region_set(set)
            .set_request_id(ctx.request_id),
    )
}

pub(crate) fn describe_zones(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let set: Vec<ZoneInfo> = region_of(ctx)?
        .zones()
        .map(|z| {
            ZoneInfo::new()
                .set_zone(z.name)
                .set_zone_name(z.title)
                .set_zone_id(z.id)
                .set_zone_state("AVAILABLE")
        })
        .collect();
    respond(
        &DescribeZonesResponse::new()
            .set_total_count(set.len() as u64)
            .set_zone_set(set)
            .set_request_id(ctx.request_id),
    )
}

const IMAGE_FILTERS: &[&str] = &[
    "image-id",
    "image-type",
    "image-name",
    "platform",
    "tag-key",
    "tag-value",
    "tag:KEY",
    "dedicated-cluster-id",
    "cdc-cache-status",
];

/// Whether an image passes one filter (public images carry no tags and
/// belong to no dedicated cluster).
fn image_matches(image: &Image, name: &str, values: &[String]) -> bool {
    let any = |candidate: &str| values.iter().any(|v| v == candidate);
    match name {
        "image-id" => any(&image.image_id),
        "image-type" => any(image.image_type.as_str()),
        "image-name" => any(&image.image_name),
        "platform" => any(&image.platform),
        "tag-key" => image.tags.iter().any(|t| any(&t.key)),
        "tag-value" => image.tags.iter().any(|t| any(&t.value)),
        _ => name
            .strip_prefix("tag:")
            .is_some_and(|k| image.tags.iter().any(|t| t.key == k && any(&t.value))),
    }
}

pub(crate) fn describe_images(r: &DescribeImagesRequest, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    region_of(ctx)?;
    check_rules(r)?;
    let ids = r.image_ids.as_deref().unwrap_or_default();
    let filters: &[Filter] = r.filters.as_deref().unwrap_or_default();
    if !ids.is_empty() && !filters.is_empty() {
        return Err(ApiError::new(
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
            "ImageIds and Filters cannot be given together.",
        ));
    }
    if let Some(bad) = ids.iter().find(|id| !is_image_id(id)) {
        return Err(ApiError::new(
            "InvalidImageId.Malformed",
            format!(
                "The image id `{}` is malformed (expected `img-` followed by 8 lower-case letters or digits).",
                shorten(bad)
            ),
        ));
    }
    check_filters(filters, IMAGE_FILTERS)?;
    if let Some(instance_type) = r.instance_type.as_deref() {
        check_offered(instance_type)?;
    }
    let to_i64 = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let (offset, limit) = paging(to_i64(r.offset), to_i64(r.limit))?;
    // The public images, then the region's own (CreateImage), oldest first.
    let mut images: Vec<Image> = PUBLIC_IMAGES.iter().map(image_item).collect();
    let store = ctx.shared.store();
    for stored in store.resources.in_region(&IMAGE, region_of(ctx)?.name) {
        images.push(item(stored)?);
    }
    drop(store);
    let chosen: Vec<Image> = images
        .into_iter()
        .filter(|image| ids.is_empty() || ids.contains(&image.image_id))
        .filter(|image| passes(filters, |name, values| image_matches(image, name, values)))
        .collect();
    let total = chosen.len();
    let page: Vec<Image> = chosen.into_iter().skip(offset).take(limit).collect();
    respond(
        &DescribeImagesResponse::new()
            .set_total_count(total as i64)
            .set_image_set(page)
            .set_request_id(ctx.request_id),
    )
}

fn image_item(image: &PublicImage) -> Image {
    Image::new()
        .set_image_id(image.id)
        .set_os_name(image.os_name)
        .set_image_type("PUBLIC_IMAGE")
        .set_created_time(image.created)
        .set_image_name(image.name)
        .set_image_description(image.name)
        .set_image_size(image.size_gb)
        .set_architecture(image.architecture)
        .set_image_state("NORMAL")
        .set_platform(image.platform)
        .set_image_creator("")
        .set_image_source("OFFICIAL")
        .set_sync_percent(100)
        .set_is_support_cloudinit(true)
        .set_snapshot_set(Vec::<Snapshot>::new())
        .set_tags(Vec::<Tag>::new())
        .set_license_type("TencentCloud")
        .set_image_deprecated(false)
}

const TYPE_FILTERS: &[&str] = &["zone", "instance-family", "instance-type"];

/// Whether (zone, offer) passes one of the filters both type actions take.
fn offer_matches(zone: &str, offer: &Offer, name: &str, values: &[String]) -> bool {
    let any = |candidate: &str| values.iter().any(|v| v == candidate);
    match name {
        "zone" => any(zone),
        "instance-family" => any(offer.family.name),
        "instance-type" => any(&offer.instance_type),
        _ => true,
    }
}

/// Checks the `zone` filter's values against the request's region.
fn check_zone_filter(region: &str, filters: &[Filter]) -> Result<(), ApiError> {
    for f in filters.iter().filter(|f| f.name == "zone") {
        for zone in &f.values {
            check_zone(region, zone)?;
        }
    }
    Ok(())
}

pub(crate) fn describe_instance_type_configs(
    r: &DescribeInstanceTypeConfigsRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let filters: &[Filter] = r.filters.as_deref().unwrap_or_default();
    check_filters(filters, TYPE_FILTERS)?;
    check_zone_filter(region.name, filters)?;
    let mut set = Vec::new();
    for zone in region.zones() {
        for offer in offers().filter(|o| passes(filters, |n, v| offer_matches(&zone.name, o, n, v))) {
            set.push(
                InstanceTypeConfig::new()
                    .set_zone(zone.name.clone())
                    .set_instance_type(offer.instance_type)
                    .set_instance_family(offer.family.name)
                    .set_gpu(0)
                    .set_cpu(offer.cpu)
                    .set_memory(offer.memory)
                    .set_fpga(0)
                    .set_gpu_count(0.0),
            );
        }
    }
    respond(
        &DescribeInstanceTypeConfigsResponse::new()
            .set_instance_type_config_set(set)
            .set_request_id(ctx.request_id),
    )
}

const QUOTA_FILTERS: &[&str] = &[
    "zone",
    "instance-family",
    "instance-type",
    "instance-charge-type",
    "sort-keys",
];

/// The charge types every offered type is sold with.
const CHARGE_TYPES: &[&str] = &["POSTPAID_BY_HOUR", "PREPAID"];

pub(crate) fn describe_zone_instance_config_infos(
    r: &DescribeZoneInstanceConfigInfosRequest,
    ctx: &Ctx<'_>,
) -> Result<String, ApiError> {
    let region = region_of(ctx)?;
    check_rules(r)?;
    let filters: &[Filter] = r.filters.as_deref().unwrap_or_default();
    check_filters(filters, QUOTA_FILTERS)?;
    check_zone_filter(region.name, filters)?;
    let charge_types: Vec<&str> = CHARGE_TYPES
        .iter()
        .copied()
        .filter(|c| {
            passes(filters, |n, v| {
                n != "instance-charge-type" || v.iter().any(|x| x == c)
            })
        })
        .collect();
    let mut set = Vec::new();
    for zone in region.zones() {
        for offer in offers().filter(|o| passes(filters, |n, v| offer_matches(&zone.name, o, n, v))) {
            for charge_type in &charge_types {
                set.push(quota_item(&zone.name, &offer, charge_type));
            }
        }
    }
    respond(
        &DescribeZoneInstanceConfigInfosResponse::new()
            .set_instance_type_quota_set(set)
            .set_request_id(ctx.request_id),
    )
}

fn quota_item(zone: &str, offer: &Offer, charge_type: &str) -> InstanceTypeQuotaItem {
    let hourly = offer.family.per_core * offer.cpu as f64 + offer.family.per_gb * offer.memory as f64;
    let hourly = (hourly * 100.0).round() / 100.0;
    let price = if charge_type == "PREPAID" {
        // A month of hours, at a fifth off.
        let monthly = (hourly * 720.0).round();
        ItemPrice::new()
            .set_original_price(monthly)
            .set_discount_price((monthly * 0.8).round())
            .set_discount(80.0)
    } else {
        ItemPrice::new()
            .set_unit_price(hourly)
            .set_charge_unit("HOUR")
            .set_unit_price_discount(hourly)
            .set_discount(100.0)
    };
    InstanceTypeQuotaItem::new()
        .set_zone(zone)
        .set_instance_type(offer.instance_type.clone())
        .set_instance_charge_type(charge_type)
        .set_network_card(25)
        .set_externals(Externals::new())
        .set_cpu(offer.cpu)
        .set_memory(offer.memory)
        .set_instance_family(offer.family.name)
        .set_type_name(offer.family.title)
        .set_local_disk_type_list(Vec::<LocalDiskType>::new())
        .set_status("SELL")
        .set_price(price)
        .set_sold_out_reason("")
        .set_instance_bandwidth((offer.cpu as f64 * 1.5).min(25.0))
        .set_instance_pps((offer.cpu * 150_000).min(6_000_000))
        .set_storage_block_amount(0)
        .set_cpu_type(offer.family.cpu_type)
        .set_gpu(0)
        .set_fpga(0)
        .set_remark("")
        .set_gpu_count(0.0)
        .set_frequency(offer.family.frequency)
        .set_status_category("EnoughStock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_sorted_and_well_formed() {
        assert!(PUBLIC_IMAGES.windows(2).all(|w| w[0].id < w[1].id));
        assert!(PUBLIC_IMAGES.iter().all(|i| is_image_id(i.id)));
        assert!(FAMILIES.windows(2).all(|w| w[0].name < w[1].name));
        // Every size names a type of the size it says.
        let sizes: usize = FAMILIES.iter().map(|f| f.sizes.len()).sum();
        assert_eq!(offers().count(), sizes);
        assert!(offer("S5.MEDIUM2").is_some_and(|o| (o.cpu, o.memory) == (2, 2)));
        assert!(offer("S5.HUGE2").is_none());
    }

    #[test]
    fn zones_are_checked_against_the_region() {
        assert!(check_zone("ap-guangzhou", "ap-guangzhou-3").is_ok());
        assert_eq!(
            check_zone("ap-guangzhou", "ap-shanghai-2").unwrap_err().code,
            "InvalidZone.MismatchRegion"
        );
        assert_eq!(
            check_zone("ap-guangzhou", "ap-guangzhou-9").unwrap_err().code,
            "InvalidParameterValue.ZoneNotSupported"
        );
    }
}
