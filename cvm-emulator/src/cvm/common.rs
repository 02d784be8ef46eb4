//! What several CVM actions share: the region, instance ids and paging
//! checks, the answer's encoding, and the error when nothing can be kept.

use std::collections::HashSet;

use cvm_api::types::Filter;
use serde::Serialize;

use super::ids::is_instance_id;
use crate::error::{shorten, ApiError};
use crate::shared::Ctx;

/// Most ids in one request, and most items in one page.
const MAX_IDS: usize = 100;
const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: i64 = 20;

/// The state file can no longer be written: nothing can be acknowledged.
pub(crate) fn not_kept(why: &str) -> ApiError {
    ApiError::new(
        "InternalError",
        format!("cvm-emulator cannot keep its state file ({why}); restart it once the file can be written."),
    )
}

/// The refusal of an action on instance `id` in `state`, which it needs
/// to be in one of `needs` for: `UnsupportedOperation.InstanceState<State>`,
/// as the actions that change an instance document them.
pub(crate) fn state_refusal(id: &str, state: &str, action: &str, needs: &[&str]) -> ApiError {
    let suffix: String = state
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect();
    ApiError::new(
        format!("UnsupportedOperation.InstanceState{suffix}"),
        format!(
            "The instance `{id}` is {state}; {action} needs an instance in state {}.",
            needs.join(" or ")
        ),
    )
}

/// Most tags on one resource, and the longest key and value, in
/// characters (the tag service's limits, held by every action that takes
/// tags).
pub(crate) const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 127;
const MAX_TAG_VALUE: usize = 255;

/// `InvalidParameterValue` when `value` is longer than `max` characters:
/// every free-text member is bounded, as the service bounds it.
pub(crate) fn check_length(member: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid_value(format!(
            "{member} is longer than {max} characters."
        )));
    }
    Ok(())
}

/// Tags as (key, value) pairs, held to the tag service's rules: at most
/// [`MAX_TAGS`], keys 1 to 127 characters and not reserved (`qcloud:`),
/// values at most 255, no key twice.
pub(crate) fn check_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), ApiError> {
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in tags {
        if key.is_empty() {
            return Err(ApiError::new(
                "InvalidParameterValue.TagKeyEmpty",
                "A tag key is empty.",
            ));
        }
        if key.chars().count() > MAX_TAG_KEY || value.chars().count() > MAX_TAG_VALUE {
            return Err(ApiError::new(
                "InvalidParameterValue.TagKeyLengthExceeded",
                format!("Tag keys are at most {MAX_TAG_KEY} characters, values at most {MAX_TAG_VALUE}."),
            ));
        }
        if key.starts_with("qcloud:") || key.starts_with("project") {
            return Err(ApiError::new(
                "InvalidParameterValue.ReservedTagKey",
                format!("The tag key `{}` is reserved.", shorten(key)),
            ));
        }
        if seen.contains(&key) {
            return Err(ApiError::new(
                "InvalidParameterValue.TagKeyDuplicate",
                format!("The tag key `{}` is given twice.", shorten(key)),
            ));
        }
        seen.push(key);
        if seen.len() > MAX_TAGS {
            return Err(ApiError::new(
                "LimitExceeded.ResourceAttachedTags",
                format!("A resource carries at most {MAX_TAGS} tags."),
            ));
        }
    }
    Ok(())
}

/// `answer`'s result once it is safe to send: with a state file, the
/// answer waits until every change written so far is on disk, its own and
/// any other it may have seen. An answer is an acknowledgement, so nothing
/// it shows can be lost in a crash. Every service that keeps state answers
/// through this.
pub(crate) async fn answer_kept(
    ctx: &Ctx<'_>,
    answer: impl FnOnce() -> Result<String, ApiError>,
) -> Result<String, ApiError> {
    let failure = ctx.shared.store().persistence_failure();
    if let Some(why) = failure {
        return Err(not_kept(&why));
    }
    let result = answer();
    let ticket = ctx.shared.store().ticket();
    if let Some(ticket) = ticket {
        ticket.durable().await.map_err(|why| not_kept(&why))?;
    }
    result
}

pub(crate) fn respond<T: Serialize>(response: &T) -> Result<String, ApiError> {
    serde_json::to_string(response)
        .map_err(|e| ApiError::new("InternalError", format!("cannot encode the response: {e}")))
}

/// The request's region: the gateway has checked it against the list and
/// sends none only to actions that need none (DescribeRegions, which does
/// not ask for it).
pub(crate) fn region<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    ctx.region.ok_or_else(|| ApiError::missing("Region"))
}

/// Checks a list of instance ids: count, then format. Duplicates are dropped.
pub(crate) fn check_ids(ids: &[String], required: bool) -> Result<Vec<String>, ApiError> {
    if required && ids.is_empty() {
        return Err(ApiError::missing("InstanceIds"));
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "InstanceIds has {} items; at most {MAX_IDS} are allowed.",
                ids.len()
            ),
        ));
    }
    let malformed: Vec<&str> = ids
        .iter()
        .filter(|id| !is_instance_id(id))
        .map(String::as_str)
        .collect();
    if !malformed.is_empty() {
        return Err(ApiError::new(
            "InvalidInstanceId.Malformed",
            format!(
                "Malformed instance id {} (expected `ins-` followed by 8 lower-case letters or digits).",
                quoted_list(&malformed)
            ),
        ));
    }
    let mut seen = HashSet::new();
    Ok(ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect())
}

/// `` `a`, `b` `` (at most 10 shown, each cut to 64 characters).
/// A value of a member that takes an open enum: the service refuses any
/// value outside the spec's set (`values`, the enum's `VALUES`).
pub(crate) fn one_of(member: &str, value: Option<&str>, values: &[&str]) -> Result<(), ApiError> {
    match value {
        Some(value) if !values.contains(&value) => Err(ApiError::invalid_value(format!(
            "{member} `{}` is not one of {}.",
            shorten(value),
            values.join(", ")
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn quoted_list(items: &[&str]) -> String {
    let mut out: Vec<String> = items
        .iter()
        .take(10)
        .map(|s| format!("`{}`", shorten(s)))
        .collect();
    if items.len() > 10 {
        out.push(format!("and {} more", items.len() - 10));
    }
    out.join(", ")
}

/// Checks `Filters` as the service does for every describing action: at
/// most 10, each named in `names` (where `tag:KEY` stands for any
/// `tag:` name), each with 1 to 5 values.
pub(crate) fn check_filters(filters: &[Filter], names: &[&str]) -> Result<(), ApiError> {
    if filters.len() > 10 {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("Filters has {} items; at most 10 are allowed.", filters.len()),
        ));
    }
    let tags = names.contains(&"tag:KEY");
    for f in filters {
        let name = f.name.as_str();
        let known =
            names.contains(&name) || (tags && name.strip_prefix("tag:").is_some_and(|k| !k.is_empty()));
        if !known {
            return Err(ApiError::new(
                "InvalidFilter",
                format!(
                    "The filter `{}` is not supported; use one of {}.",
                    shorten(name),
                    names.join(", ")
                ),
            ));
        }
        if f.values.is_empty() {
            return Err(ApiError::missing("Filters.Values"));
        }
        if f.values.len() > 5 {
            return Err(ApiError::new(
                "InvalidFilterValue.LimitExceeded",
                format!(
                    "The filter `{name}` has {} values; at most 5 are allowed.",
                    f.values.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether an item passes every filter: `matches(name, values)` says
/// whether it matches one (any of its values).
pub(crate) fn passes(filters: &[Filter], matches: impl Fn(&str, &[String]) -> bool) -> bool {
    filters.iter().all(|f| matches(&f.name, &f.values))
}

pub(crate) fn paging(offset: Option<i64>, limit: Option<i64>) -> Result<(usize, usize), ApiError> {
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid_value(format!(
            "Offset is {offset}; it must not be negative."
        )));
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(0..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_value(format!(
            "Limit is {limit}; it must be between 0 and {MAX_LIMIT}."
        )));
    }
    Ok((
        usize::try_from(offset).unwrap_or(usize::MAX),
        usize::try_from(limit).unwrap_or(0),
    ))
}
