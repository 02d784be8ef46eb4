//! A model of one action (and what it needs) from a whole description,
//! without parsing the rest: for a command line that serves one action of a
//! service of 2,000 objects per run.
//!
//! `api.json` is only scanned (borrowed JSON slices per action and object);
//! the action wanted, the actions its service's waiters poll, and the objects
//! they reach ([`crate::graph::reach`]) are parsed and modelled. The model
//! is the whole one's restriction: same checks, same facts.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::graph::{member_refs, reach};
use crate::model::Model;
use crate::spec::{ActionDef, ApiFile, ErrorsFile, Metadata, ObjectDef, UniqueMap};

/// `api.json` scanned, not parsed: each action and object is a slice of the
/// text, parsed only when kept.
#[derive(Deserialize)]
struct ScannedApi<'a> {
    #[serde(borrow)]
    actions: BTreeMap<Cow<'a, str>, &'a RawValue>,
    metadata: Metadata,
    #[serde(borrow)]
    objects: BTreeMap<Cow<'a, str>, &'a RawValue>,
    version: String,
}

/// The model of `action` in the description `api` (with its `rules.json`
/// and `waiters.json`, if any, and `errors`): that action, the actions the
/// waiters poll, and every object they reach. `Ok(None)` when the
/// description has no such action. Errors are one line naming the JSON path.
pub fn model_of_action(
    api: &str,
    errors: &ErrorsFile,
    rules: Option<&str>,
    waiters: Option<&str>,
    action: &str,
) -> Result<Option<Model>, String> {
    let scanned: ScannedApi = serde_json::from_str(api).map_err(|e| e.to_string())?;
    if !scanned.actions.contains_key(action) {
        return Ok(None);
    }
    let mut rules = match rules {
        Some(text) => crate::parse_rules(text).map_err(|e| e.to_string())?,
        None => Default::default(),
    };
    let waiters = waiters
        .map(crate::parse_waiters)
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut kept: BTreeSet<&str> = BTreeSet::from([action]);
    if let Some(file) = &waiters {
        kept.extend(file.waiters.0.values().map(|w| w.action.as_str()));
    }
    let mut actions = BTreeMap::new();
    let mut roots = Vec::new();
    for name in &kept {
        if let Some(raw) = scanned.actions.get(*name) {
            let def: ActionDef =
                serde_json::from_str(raw.get()).map_err(|e| format!("actions.{name}: {e}"))?;
            roots.extend(def.input.iter().chain(&def.output).cloned());
            actions.insert(name.to_string(), def);
        }
    }
    // The objects reached, parsed as they are met; a name with no object is
    // left for the model's checks to report.
    let mut objects: BTreeMap<String, ObjectDef> = BTreeMap::new();
    reach(roots, |name| {
        let Some(raw) = scanned.objects.get(name) else {
            return Ok(None);
        };
        let def: ObjectDef = serde_json::from_str(raw.get()).map_err(|e| format!("objects.{name}: {e}"))?;
        let refs = member_refs(&def.members).map(str::to_owned).collect();
        objects.insert(name.to_owned(), def);
        Ok::<_, String>(Some(refs))
    })?;
    rules.objects.0.retain(|name, _| objects.contains_key(name));
    rules.actions_without_region.retain(|a| kept.contains(a.as_str()));
    rules.rate_limits.0.retain(|a, _| kept.contains(a.as_str()));
    for set in rules.enums.0.values_mut() {
        set.members.retain(|m| {
            m.split_once('.')
                .is_some_and(|(object, _)| objects.contains_key(object))
        });
    }
    let api = ApiFile {
        actions: UniqueMap(actions),
        metadata: scanned.metadata,
        objects: UniqueMap(objects),
        version: scanned.version,
    };
    // The kept actions' code lists only: the others name actions not here.
    let mut errors = errors.clone();
    errors.actions.0.retain(|a, _| kept.contains(a.as_str()));
    crate::build::build(&api, &errors, &rules, waiters.as_ref())
        .map(Some)
        .map_err(|e| e.to_string())
}
