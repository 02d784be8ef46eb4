//! `ClientToken`s of the making actions besides RunInstances (CreateDisks,
//! AllocateAddresses): a retry with the same token answers the ids the
//! first call made instead of making more, as the service does. Kept as
//! resources of their own kind, so they persist like everything else; the
//! oldest go once a region holds [`CLIENT_TOKEN`]'s quota of them.

use sha2::{Digest, Sha256};

use super::resources::{item, CLIENT_TOKEN};
use super::state_file::{ResourceKey, TokenItem};
use super::store::Store;
use crate::error::ApiError;

/// Longest token, in bytes.
const MAX_TOKEN: usize = 64;
/// Ids tried for one token (a hash collision takes the next).
const PROBES: u8 = 4;

fn id(region: &str, action: &str, token: &str, probe: u8) -> String {
    let digest = Sha256::digest(format!("{region}\n{action}\n{token}\n{probe}").as_bytes());
    format!("tok-{}", &hex::encode(digest)[..8])
}

/// `InvalidParameterValue` for a token longer than the service takes.
pub(crate) fn check_token(token: &str) -> Result<(), ApiError> {
    if token.len() > MAX_TOKEN {
        return Err(ApiError::invalid_value(format!(
            "ClientToken is longer than {MAX_TOKEN} characters."
        )));
    }
    Ok(())
}

/// The ids an earlier call of `action` with `token` made in `region`.
pub(crate) fn earlier(
    store: &Store,
    region: &str,
    action: &str,
    token: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    for probe in 0..PROBES {
        let Some(stored) = store
            .resources
            .get(&CLIENT_TOKEN, &id(region, action, token, probe))
        else {
            return Ok(None);
        };
        let kept: TokenItem = item(stored)?;
        if stored.region == region && kept.action == action && kept.client_token == token {
            return Ok(Some(kept.ids));
        }
    }
    Ok(None)
}

/// Remembers what `token` made; the keys to journal (the record, and the
/// oldest one dropped to make room).
pub(crate) fn remember(
    store: &mut Store,
    region: &str,
    action: &str,
    token: &str,
    ids: &[String],
) -> Result<(Vec<ResourceKey>, Vec<ResourceKey>), ApiError> {
    let mut removed = Vec::new();
    if store.resources.in_region(&CLIENT_TOKEN, region).count() >= CLIENT_TOKEN.quota {
        let oldest = store
            .resources
            .in_region(&CLIENT_TOKEN, region)
            .next()
            .map(|r| r.id.clone());
        if let Some(oldest) = oldest {
            store.resources.remove(&CLIENT_TOKEN, &oldest);
            removed.push(CLIENT_TOKEN.key(&oldest));
        }
    }
    let free = (0..PROBES)
        .map(|probe| id(region, action, token, probe))
        .find(|candidate| store.resources.get(&CLIENT_TOKEN, candidate).is_none());
    let Some(free) = free else {
        // Every probe taken by other tokens: this one is not remembered.
        return Ok((Vec::new(), removed));
    };
    let record = TokenItem {
        action: action.to_owned(),
        client_token: token.to_owned(),
        ids: ids.to_vec(),
    };
    store.resources.put(CLIENT_TOKEN.store(region, &free, &record)?);
    Ok((vec![CLIENT_TOKEN.key(&free)], removed))
}
