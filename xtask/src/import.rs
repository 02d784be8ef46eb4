//! `cargo xtask import`: copy actions from an official `api.json` into ours.
//!
//! Facts (names, types, required-ness, nullability, deprecation, plain example
//! values) come from the official file. Prose does not: Tencent's `document`
//! text is dropped unless `--keep-docs` is given, each action's title is made
//! from its name, and examples that are words rather than data are dropped.
//! Our own English docs, where we wrote some, are kept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use codegen::model::{closest, reachable};
use codegen::spec::{ActionDef, ApiFile, ErrorsFile, MemberDef, MemberKind, ObjectDef};

pub struct Options {
    pub from: PathBuf,
    pub actions: Vec<String>,
    pub all: bool,
    pub keep_docs: bool,
    /// A file `{"actions": {"StartInstances": ["Code", ...]}}` whose codes
    /// are merged into our errors file for the imported actions.
    pub errors_from: Option<PathBuf>,
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
    pub codes_added: usize,
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
    let api = codegen::parse_api(&read("api.json")?).map_err(|e| e.to_string())?;
    let errors = codegen::parse_errors(&read("errors.json")?).map_err(|e| e.to_string())?;
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

pub fn import(ours: &mut SpecFiles, official_text: &str, opts: &Options) -> Result<Report, String> {
    let official = codegen::parse_api(official_text).map_err(|e| format!("{}: {e}", opts.from.display()))?;
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
                .unwrap_or_else(|| codegen::names::title_from_action(name)),
            output: theirs.output.clone(),
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

    if let Some(path) = &opts.errors_from {
        report.codes_added += merge_errors(&mut ours.errors, path, &wanted)?;
    }
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

#[derive(serde::Deserialize)]
struct ActionErrors {
    actions: BTreeMap<String, Vec<String>>,
}

fn merge_errors(errors: &mut ErrorsFile, path: &Path, actions: &[String]) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let given: ActionErrors = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut added = 0;
    for action in actions {
        let Some(codes) = given.actions.get(action) else {
            continue;
        };
        let list = errors.actions.0.entry(action.clone()).or_default();
        let mut set: BTreeSet<String> = list.iter().cloned().collect();
        for code in codes {
            set.insert(code.clone());
            if !errors.codes.0.contains_key(code) {
                errors.codes.0.insert(code.clone(), String::new());
                added += 1;
            }
        }
        *list = set.into_iter().collect();
    }
    Ok(added)
}
