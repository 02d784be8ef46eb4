//! `cargo xtask import`: copy actions from an official `api.json` into ours.
//!
//! Facts (names, types, required-ness, nullability, deprecation, plain example
//! values) come from the official file. Prose does not: Tencent's `document`
//! text is dropped unless `--keep-docs` is given, each action's title is made
//! from its name, and examples that are words rather than data are dropped.
//! Our own English docs, where we wrote some, are kept.
//!
//! Error codes come from two official sources, because neither says it all
//! (see [`ErrorSources`]): which codes the service has, from the Python SDK's
//! `errorcodes.py`; which of them each action returns, from the Go SDK's
//! per-action lists, a copy of which is bundled here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tencentcloud_model::graph::reachable;
use tencentcloud_model::spec::{
    ActionDef, ApiFile, ErrorsFile, MemberDef, MemberKind, Metadata, ObjectDef, UniqueMap,
};
use tencentcloud_model::words::closest;

use crate::sdk_codes;

pub struct Options {
    pub from: PathBuf,
    pub actions: Vec<String>,
    pub all: bool,
    pub keep_docs: bool,
    /// A file `{"actions": {"StartInstances": ["Code", ...]}}` to use instead
    /// of the bundled per-action lists.
    pub errors_from: Option<PathBuf>,
    /// An `errorcodes.py` to use instead of the pinned one fetched from PyPI.
    pub errorcodes: Option<PathBuf>,
    /// Take the official definition where ours differs, instead of failing.
    pub overwrite: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    pub actions_added: usize,
    pub actions_updated: usize,
    pub objects_added: usize,
    pub objects_updated: usize,
    pub examples_dropped: usize,
    /// (action, code) pairs newly listed in `errors.json` `actions`.
    pub codes_attached: usize,
    /// Codes newly added to `errors.json` `codes` (with no description yet).
    pub codes_added: usize,
    /// `Action: Code` pairs the per-action lists give but the service's code
    /// list does not have: left out.
    pub codes_skipped: Vec<String>,
    /// Imported actions the per-action lists say nothing about.
    pub actions_without_codes: Vec<String>,
}

impl Report {
    /// What the import did, for the terminal.
    pub fn lines(&self, sources: &ErrorSources) -> Vec<String> {
        let mut lines = vec![format!(
            "actions: {} added, {} updated; objects: {} added, {} updated; {} word examples dropped; \
             error codes: {} attached to actions, {} new in `codes`",
            self.actions_added,
            self.actions_updated,
            self.objects_added,
            self.objects_updated,
            self.examples_dropped,
            self.codes_attached,
            self.codes_added,
        )];
        if self.codes_added > 0 {
            lines.push(format!(
                "note: the {} new codes have an empty description in errors.json; write a short English one",
                self.codes_added
            ));
        }
        if !self.codes_skipped.is_empty() {
            lines.push(format!(
                "warning: {} codes left out, listed for an action but absent from {}: {}",
                self.codes_skipped.len(),
                sources.service_origin,
                self.codes_skipped.join(", ")
            ));
        }
        if !self.actions_without_codes.is_empty() {
            lines.push(format!(
                "warning: no per-action codes in {} for: {} (their enums have only the common codes)",
                sources.per_action_origin,
                self.actions_without_codes.join(", ")
            ));
        }
        lines
    }
}

/// The per-action lists of the official Go SDK (`cvm/v20170312/client.go`),
/// codes only. The Go SDK is not on a registry our tools may fetch from, so a
/// copy is kept here; refresh it when moving to a newer API description.
const BUNDLED_ACTION_ERRORS: &str = include_str!("../data/cvm-action-errors.json");
const BUNDLED_ACTION_ERRORS_NAME: &str = "xtask/data/cvm-action-errors.json";

/// Where imported actions get their error codes.
///
/// `errorcodes.py` lists every code of the service but not who returns it;
/// the Go SDK's lists say which action returns which. A code is attached to an
/// action when the per-action list gives it and the service has it (the
/// Python SDK lists it, or it is one of our `common` codes, which come from
/// Tencent's common error code documentation). Codes the per-action list gives
/// but the service does not have are left out and reported by name.
pub struct ErrorSources {
    /// Every code the service has.
    pub service: BTreeSet<String>,
    pub service_origin: String,
    /// Which codes each action may return.
    pub per_action: BTreeMap<String, Vec<String>>,
    pub per_action_origin: String,
}

impl ErrorSources {
    /// The sources `opts` names, else the pinned `errorcodes.py` (fetched and
    /// cached under `target/`) and the bundled per-action lists.
    pub fn load(root: &Path, opts: &Options) -> Result<Self, String> {
        let errorcodes = match &opts.errorcodes {
            Some(path) => path.clone(),
            None => sdk_codes::fetch(root)?,
        };
        let service = sdk_codes::read(&errorcodes)?;
        let (per_action, per_action_origin) = match &opts.errors_from {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let origin = path.display().to_string();
                (parse_action_errors(&origin, &text)?, origin)
            }
            None => (
                parse_action_errors(BUNDLED_ACTION_ERRORS_NAME, BUNDLED_ACTION_ERRORS)?,
                BUNDLED_ACTION_ERRORS_NAME.to_string(),
            ),
        };
        Ok(ErrorSources {
            service,
            service_origin: errorcodes.display().to_string(),
            per_action,
            per_action_origin,
        })
    }
}

#[derive(serde::Deserialize)]
struct ActionErrors {
    actions: BTreeMap<String, Vec<String>>,
}

/// `{"actions": {"StartInstances": ["Code", ...]}}`; other keys are ignored.
pub fn parse_action_errors(name: &str, text: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let parsed: ActionErrors = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    Ok(parsed.actions)
}

/// The spec directory's two files, as they are and as they will be written.
#[derive(Clone)]
pub struct SpecFiles {
    pub api: ApiFile,
    pub errors: ErrorsFile,
}

pub fn read_spec(dir: &Path) -> Result<SpecFiles, String> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let api = tencentcloud_model::parse_api(&read("api.json")?).map_err(|e| e.to_string())?;
    let errors = tencentcloud_model::parse_errors(&read("errors.json")?).map_err(|e| e.to_string())?;
    Ok(SpecFiles { api, errors })
}

/// Serialises with sorted keys and two-space indentation, so that the files
/// diff cleanly.
pub fn to_stable_json<T: serde::Serialize>(value: &T) -> Result<String, String> {
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

pub fn write_spec(dir: &Path, files: &SpecFiles) -> Result<(), String> {
    for (name, text) in [
        ("api.json", to_stable_json(&files.api)?),
        ("errors.json", to_stable_json(&files.errors)?),
    ] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// An example is kept only if it is plain data: prose and sample names in
/// Chinese (`无`, "none", is the commonest) are not.
pub fn is_plain_example(example: &str) -> bool {
    example.is_ascii()
}

/// Reads the spec in `dir`, imports into it, checks that the result
/// validates and generates, and only then writes `api.json` and `errors.json`.
pub fn import_into_dir(dir: &Path, sources: &ErrorSources, opts: &Options) -> Result<Report, String> {
    let official = std::fs::read_to_string(&opts.from)
        .map_err(|e| format!("cannot read {}: {e}", opts.from.display()))?;
    let mut files = read_spec(dir)?;
    let report = import(&mut files, &official, sources, opts)?;
    let api = to_stable_json(&files.api)?;
    let errors = to_stable_json(&files.errors)?;
    let rules_path = dir.join(tencentcloud_model::RULES_FILE);
    let rules = std::fs::read_to_string(&rules_path)
        .map_err(|e| format!("cannot read {}: {e}", rules_path.display()))?;
    let model = codegen::model_from_sources(&api, &errors, &rules).map_err(|e| e.to_string())?;
    codegen::generate(&model, &dir.display().to_string()).map_err(|e| e.to_string())?;
    write_spec(dir, &files)?;
    Ok(report)
}

pub fn import(
    ours: &mut SpecFiles,
    official_text: &str,
    sources: &ErrorSources,
    opts: &Options,
) -> Result<Report, String> {
    let official =
        tencentcloud_model::parse_api(official_text).map_err(|e| format!("{}: {e}", opts.from.display()))?;
    import_parsed(ours, &official, sources, opts)
}

/// The official description `official` (read from `from`) in our spec form,
/// as `import --all` would make it into an empty spec: every action and the
/// objects they reach, facts only (no Tencent prose: documents dropped,
/// English titles, word examples dropped), metadata reduced to the service
/// name and version. Error codes are the caller's business.
pub fn facts_only(official: &ApiFile, from: &Path) -> Result<(ApiFile, Report), String> {
    let metadata = Metadata {
        api_version: official.metadata.api_version.clone(),
        service_short_name: official.metadata.service_short_name.clone(),
        // `api_brief`, `serviceNameCN` and the like are prose.
        other: BTreeMap::new(),
    };
    let mut files = SpecFiles {
        api: ApiFile {
            actions: UniqueMap::default(),
            metadata,
            objects: UniqueMap::default(),
            version: official.version.clone(),
        },
        errors: ErrorsFile::default(),
    };
    let sources = ErrorSources {
        service: BTreeSet::new(),
        service_origin: String::new(),
        per_action: BTreeMap::new(),
        per_action_origin: String::new(),
    };
    let opts = Options {
        from: from.to_path_buf(),
        actions: Vec::new(),
        all: true,
        keep_docs: false,
        errors_from: None,
        errorcodes: None,
        overwrite: false,
    };
    let report = import_parsed(&mut files, official, &sources, &opts)?;
    Ok((files.api, report))
}

/// [`import`] from an official description already parsed.
pub fn import_parsed(
    ours: &mut SpecFiles,
    official: &ApiFile,
    sources: &ErrorSources,
    opts: &Options,
) -> Result<Report, String> {
    for (field, theirs, mine) in [
        (
            "apiVersion",
            &official.metadata.api_version,
            &ours.api.metadata.api_version,
        ),
        (
            "serviceShortName",
            &official.metadata.service_short_name,
            &ours.api.metadata.service_short_name,
        ),
    ] {
        if theirs != mine {
            return Err(format!(
                "{} has metadata.{field} `{theirs}`, ours has `{mine}`",
                opts.from.display()
            ));
        }
    }

    let wanted: Vec<String> = if opts.all {
        official.actions.0.keys().cloned().collect()
    } else if opts.actions.is_empty() {
        return Err("name at least one --action, or --all".to_string());
    } else {
        opts.actions.clone()
    };
    let mut missing = Vec::new();
    for name in &wanted {
        if !official.actions.0.contains_key(name) {
            let near = closest(name, official.actions.0.keys(), 3);
            let near = if near.is_empty() {
                String::new()
            } else {
                format!(
                    "; closest: {}",
                    near.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )
            };
            missing.push(format!("no action `{name}` in {}{near}", opts.from.display()));
        }
    }
    if !missing.is_empty() {
        return Err(missing.join("\n"));
    }

    let mut report = Report::default();
    let mut roots = Vec::new();
    for name in &wanted {
        let theirs = &official.actions.0[name];
        let merged = ActionDef {
            document: pick_doc(
                ours.api.actions.0.get(name).map(|a| a.document.as_str()),
                &theirs.document,
                opts.keep_docs,
            ),
            input: theirs.input.clone(),
            name: ours
                .api
                .actions
                .0
                .get(name)
                .map(|a| a.name.clone())
                .filter(|t| !t.is_empty() && t.is_ascii())
                .unwrap_or_else(|| tencentcloud_model::words::title_from_action(name)),
            output: theirs.output.clone(),
            skip_sign: theirs.skip_sign,
            status: theirs.status.clone(),
        };
        match ours.api.actions.0.insert(name.clone(), merged.clone()) {
            None => report.actions_added += 1,
            Some(previous) if previous != merged => report.actions_updated += 1,
            Some(_) => {}
        }
        roots.extend(theirs.input.iter().cloned());
        roots.extend(theirs.output.iter().cloned());
    }
    let objects_needed = reachable(&roots, &official.objects.0);

    let mut conflicts = Vec::new();
    for name in &objects_needed {
        let Some(theirs) = official.objects.0.get(name) else {
            return Err(format!(
                "{}: objects.{name} is referenced but not defined",
                opts.from.display()
            ));
        };
        let mut theirs = theirs.clone();
        report.examples_dropped += strip_words(&mut theirs);
        let merged = match ours.api.objects.0.get(name) {
            None => {
                report.objects_added += 1;
                with_docs(theirs.clone(), None, &theirs, opts.keep_docs)
            }
            Some(mine) => {
                let differences = fact_differences(mine, &theirs);
                if !differences.is_empty() && !opts.overwrite {
                    conflicts.push(format!(
                        "object `{name}` differs from {}:\n    {}",
                        opts.from.display(),
                        differences.join("\n    ")
                    ));
                    continue;
                }
                let merged = with_docs(theirs.clone(), Some(mine), &theirs, opts.keep_docs);
                if &merged != mine {
                    report.objects_updated += 1;
                }
                merged
            }
        };
        ours.api.objects.0.insert(name.clone(), merged);
    }
    if !conflicts.is_empty() {
        return Err(format!(
            "{}\n(nothing was written; pass --overwrite to take the official definitions)",
            conflicts.join("\n")
        ));
    }

    attach_codes(&mut ours.errors, sources, &wanted, &mut report);
    Ok(report)
}

/// Our document if we wrote one; otherwise Tencent's only when asked.
fn pick_doc(ours: Option<&str>, theirs: &str, keep_docs: bool) -> String {
    match ours {
        Some(doc) if !doc.trim().is_empty() => doc.to_string(),
        _ if keep_docs => theirs.to_string(),
        _ => String::new(),
    }
}

/// The official facts with documents chosen by [`pick_doc`].
fn with_docs(
    mut facts: ObjectDef,
    mine: Option<&ObjectDef>,
    theirs: &ObjectDef,
    keep_docs: bool,
) -> ObjectDef {
    facts.document = pick_doc(mine.map(|m| m.document.as_str()), &theirs.document, keep_docs);
    for member in &mut facts.members {
        let my_doc = mine
            .and_then(|m| m.members.iter().find(|x| x.name == member.name))
            .map(|m| m.document.as_str());
        member.document = pick_doc(my_doc, &member.document, keep_docs);
    }
    facts
}

fn strip_words(object: &mut ObjectDef) -> usize {
    let mut dropped = 0;
    for member in &mut object.members {
        if let Some(example) = &member.example {
            if !is_plain_example(example) {
                member.example = Some(String::new());
                dropped += 1;
            }
        }
    }
    dropped
}

/// What differs between two definitions of one object, documents aside.
pub fn fact_differences(mine: &ObjectDef, theirs: &ObjectDef) -> Vec<String> {
    let mut out = Vec::new();
    if mine.kind != theirs.kind || mine.usage != theirs.usage {
        out.push(format!(
            "object type/usage: ours {:?}/{:?}, theirs {:?}/{:?}",
            mine.kind, mine.usage, theirs.kind, theirs.usage
        ));
    }
    let names = |o: &ObjectDef| o.members.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
    let (my_names, their_names) = (names(mine), names(theirs));
    for name in &my_names {
        if !their_names.contains(name) {
            out.push(format!("member `{name}`: only in ours"));
        }
    }
    for name in &their_names {
        if !my_names.contains(name) {
            out.push(format!("member `{name}`: only in theirs"));
        }
    }
    for mine_m in &mine.members {
        if let Some(theirs_m) = theirs.members.iter().find(|m| m.name == mine_m.name) {
            let a = facts(mine_m);
            let b = facts(theirs_m);
            if a != b {
                out.push(format!("member `{}`: ours {a}, theirs {b}", mine_m.name));
            }
        }
    }
    if out.is_empty() && my_names != their_names {
        out.push("members are in a different order".to_string());
    }
    out
}

fn facts(m: &MemberDef) -> String {
    let kind = match m.kind {
        MemberKind::String => "string",
        MemberKind::Int => "int",
        MemberKind::Float => "float",
        MemberKind::Bool => "bool",
        MemberKind::List => "list",
        MemberKind::Object => "object",
        MemberKind::Binary => "binary",
    };
    format!(
        "{kind}<{}> required={} output_required={} nullable={} disabled={} example={:?}",
        m.member,
        m.required.unwrap_or(false),
        m.output_required.unwrap_or(false),
        m.value_allowed_null.unwrap_or(false),
        m.disabled.unwrap_or(false),
        m.example.as_deref().unwrap_or(""),
    )
}

/// Lists, for each imported action, the codes [`ErrorSources`] attributes to
/// it. Codes already listed stay (hand additions included); a code new to
/// `codes` gets an empty description, for us to write in English: the only
/// official descriptions are Tencent's Chinese prose.
fn attach_codes(errors: &mut ErrorsFile, sources: &ErrorSources, actions: &[String], report: &mut Report) {
    for action in actions {
        let Some(codes) = sources.per_action.get(action) else {
            report.actions_without_codes.push(action.clone());
            continue;
        };
        let existing = errors.actions.0.get(action);
        let mut listed: BTreeSet<String> = existing.into_iter().flatten().cloned().collect();
        let mut attached = 0;
        for code in codes {
            if !sources.service.contains(code) && !errors.common.contains(code) {
                report.codes_skipped.push(format!("{action}: {code}"));
                continue;
            }
            if listed.insert(code.clone()) {
                attached += 1;
            }
            if !errors.codes.0.contains_key(code) {
                errors.codes.0.insert(code.clone(), String::new());
                report.codes_added += 1;
            }
        }
        // An untouched list keeps its order; one that grew is sorted.
        if attached > 0 || existing.is_none() {
            errors
                .actions
                .0
                .insert(action.clone(), listed.into_iter().collect());
        }
        report.codes_attached += attached;
    }
}
