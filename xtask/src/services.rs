//! `cargo xtask services`: every official service version through the
//! generator, in memory.
//!
//! For each `<service>/<version>` of the official descriptions (tccli's
//! `api.json`) and error codes (the Python SDK's `errorcodes.py`), the spec is
//! made as `cargo xtask import --all` would make it ([`import::facts_only`]),
//! with an `errors.json` built by [`tencentcloud_model::official::errors_file`],
//! no rules and no waiters: the bundle entry `tcloud` and the `tencentcloud`
//! crate's build read ([`tencentcloud_model::official`]);
//! then it is validated and generated. Nothing is written unless asked
//! (`--compile DIR`). A broken service version is reported and the run goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use codegen::{GeneratedFile, SpecErrors};
use tencentcloud_model::official;

use crate::{import, sdk_codes};

/// Where the official inputs are.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// `<dir>/<service>/<version>/api.json`.
    pub descriptions: PathBuf,
    /// `<dir>/<service>/<version>/errorcodes.py`.
    pub errorcodes: PathBuf,
    /// Each service's default version (the one tccli calls when none is
    /// named), from `<descriptions>/defaults.json` when it is there.
    pub defaults: BTreeMap<String, String>,
}

impl Inputs {
    /// The directories given, else the pinned ones fetched (once) into `target/official`.
    pub fn resolve(root: &Path, from: Option<PathBuf>, errorcodes: Option<PathBuf>) -> Result<Self, String> {
        let descriptions = match from {
            Some(dir) => dir,
            None => sdk_codes::fetch_all_descriptions(root)?,
        };
        let errorcodes = match errorcodes {
            Some(dir) => dir,
            None => sdk_codes::fetch_all(root)?,
        };
        let defaults = crate::official::default_versions(&descriptions)?;
        Ok(Inputs {
            descriptions,
            errorcodes,
            defaults,
        })
    }
}

/// One service version, by its directory names (`autoscaling`, `v20180419`:
/// the directory, not `serviceShortName`, which is `as` there).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceVersion {
    pub service: String,
    pub version: String,
}

/// Every `<service>/<version>` holding an `api.json` under `dir`, sorted;
/// only the services named in `only` when it is not empty (each must exist).
pub fn discover(dir: &Path, only: &[String]) -> Result<Vec<ServiceVersion>, String> {
    let subdirs = |dir: &Path| -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !name.starts_with('.') {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    };
    let services = subdirs(dir)?;
    let unknown: Vec<&String> = only.iter().filter(|s| !services.contains(s)).collect();
    if !unknown.is_empty() {
        let names: Vec<String> = unknown
            .iter()
            .map(|s| format!("{s}{}", tencentcloud_model::words::suggest(s, services.iter())))
            .collect();
        return Err(format!(
            "no such service in {}: {}",
            dir.display(),
            names.join(", ")
        ));
    }
    let mut found = Vec::new();
    for service in services {
        if !only.is_empty() && !only.contains(&service) {
            continue;
        }
        for version in subdirs(&dir.join(&service))? {
            if dir.join(&service).join(&version).join("api.json").is_file() {
                found.push(ServiceVersion {
                    service: service.clone(),
                    version,
                });
            }
        }
    }
    Ok(found)
}

/// What happened to one service version.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: ServiceVersion,
    pub actions: usize,
    pub objects: usize,
    /// Lines of generated Rust, all files together.
    pub lines: usize,
    /// Each names its file and JSON path (or line); empty when all went well.
    pub problems: Vec<String>,
    /// Official input left out, each naming its file and line: constants of
    /// `errorcodes.py` whose values are not error codes.
    pub notes: Vec<String>,
    pub elapsed: Duration,
    /// The generated files, when kept (`--compile`).
    pub files: Vec<GeneratedFile>,
    /// The bundle entry (facts-only description and codes), when kept (see
    /// [`crate::cli_descriptions`]).
    pub bundle_entry: Option<Vec<u8>>,
}

/// How far to take each service version, and with what.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Generate (and parse and format) the code, not only validate the spec.
    pub generate: bool,
    /// Keep the generated files in [`Outcome::files`] (for `--compile`).
    pub keep_files: bool,
    /// Keep [`Outcome::bundle_entry`].
    pub keep_bundle_entry: bool,
    pub threads: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            generate: true,
            keep_files: false,
            keep_bundle_entry: false,
            threads: default_threads(),
        }
    }
}

/// Runs one service version through import, validation and (when
/// `options.generate`) generation. `several_versions`: the service has other
/// versions, which `--compile` mounts beside this one in one crate (see
/// [`codegen::Layout`]).
pub fn check(inputs: &Inputs, id: &ServiceVersion, options: &RunOptions, several_versions: bool) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome {
        id: id.clone(),
        actions: 0,
        objects: 0,
        lines: 0,
        problems: Vec::new(),
        notes: Vec::new(),
        elapsed: Duration::ZERO,
        files: Vec::new(),
        bundle_entry: None,
    };
    let layout = codegen::Layout { several_versions };
    if let Err(problems) = check_into(inputs, id, options, layout, &mut outcome) {
        outcome.problems = problems;
    }
    outcome.elapsed = started.elapsed();
    outcome
}

fn check_into(
    inputs: &Inputs,
    id: &ServiceVersion,
    options: &RunOptions,
    layout: codegen::Layout,
    outcome: &mut Outcome,
) -> Result<(), Vec<String>> {
    let api_path = inputs
        .descriptions
        .join(&id.service)
        .join(&id.version)
        .join("api.json");
    let codes_path = inputs
        .errorcodes
        .join(&id.service)
        .join(&id.version)
        .join("errorcodes.py");
    let api_name = api_path.display().to_string();
    let text =
        std::fs::read_to_string(&api_path).map_err(|e| vec![format!("cannot read {api_name}: {e}")])?;
    let official = tencentcloud_model::parse_api(&text)
        .map_err(|e| vec![format!("{api_name}: {}", e.path_and_message())])?;
    // Facts only, as `import` writes them: JSON paths (keys, member indices)
    // are the official file's, so problems below can name it.
    let (api, _) = import::facts_only(&official, &api_path).map_err(|e| vec![e])?;
    let codes = sdk_codes::read_any(&codes_path).map_err(|e| vec![e])?;
    outcome.notes = codes.malformed;
    let entry = official::Entry {
        api,
        codes: codes.codes,
    };
    if options.keep_bundle_entry {
        outcome.bundle_entry = Some(official::entry_json(&entry.api, &entry.codes).map_err(|e| vec![e])?);
    }
    outcome.actions = entry.api.actions.0.len();
    outcome.objects = entry.api.objects.0.len();
    let errors_name = format!("errors.json (made from {})", codes_path.display());
    let rename = |errors: SpecErrors| -> Vec<String> {
        errors
            .0
            .into_iter()
            .map(|e| {
                let file = match e.file.as_str() {
                    tencentcloud_model::API_FILE => api_name.clone(),
                    tencentcloud_model::ERRORS_FILE => errors_name.clone(),
                    other => format!("{other} (empty)"),
                };
                format!("{file}: {}", e.path_and_message())
            })
            .collect()
    };
    let model = codegen::official_model(&entry).map_err(rename)?;
    if !options.generate {
        return Ok(());
    }
    let source = format!("official {}/{}", id.service, id.version);
    let files =
        codegen::generate_with(&model, &source, layout).map_err(|e| vec![format!("{api_name}: {e}")])?;
    outcome.lines = files.iter().map(|f| f.contents.lines().count()).sum();
    if options.keep_files {
        outcome.files = files;
    }
    Ok(())
}

/// [`check`] on every service version, on `options.threads` threads;
/// outcomes in the order of `ids`, whatever order they finish in.
pub fn check_all(inputs: &Inputs, ids: &[ServiceVersion], options: &RunOptions) -> Vec<Outcome> {
    let threads = options.threads;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; ids.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, ids.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { break };
                let several = ids.iter().filter(|other| other.service == id.service).count() > 1;
                let outcome = check(inputs, id, options, several);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// The number of threads to use: the cores this process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The report: a row per service version (problems under it), then the totals.
pub fn report_lines(outcomes: &[Outcome]) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<16} {:<10} {:>7} {:>7} {:>8} {:>8} {:>8}",
        "service", "version", "actions", "objects", "lines", "problems", "ms"
    )];
    for o in outcomes {
        lines.push(format!(
            "{:<16} {:<10} {:>7} {:>7} {:>8} {:>8} {:>8.1}",
            o.id.service,
            o.id.version,
            o.actions,
            o.objects,
            o.lines,
            o.problems.len(),
            o.elapsed.as_secs_f64() * 1000.0
        ));
        for problem in &o.problems {
            lines.push(format!("    {problem}"));
        }
        for note in &o.notes {
            lines.push(format!("    note: left out {note}"));
        }
    }
    let services: BTreeSet<&str> = outcomes.iter().map(|o| o.id.service.as_str()).collect();
    let failed = outcomes.iter().filter(|o| !o.problems.is_empty()).count();
    lines.push(format!(
        "total: {} services, {} service versions ({failed} with problems), {} actions, {} objects, {} lines, {} problems, {} notes",
        services.len(),
        outcomes.len(),
        outcomes.iter().map(|o| o.actions).sum::<usize>(),
        outcomes.iter().map(|o| o.objects).sum::<usize>(),
        outcomes.iter().map(|o| o.lines).sum::<usize>(),
        outcomes.iter().map(|o| o.problems.len()).sum::<usize>(),
        outcomes.iter().map(|o| o.notes.len()).sum::<usize>(),
    ));
    lines
}

/// Writes the generated code as a Cargo workspace under `dir`: a crate
/// `tencentcloud-<service>` per service, its versions as modules `v<date>`
/// when it has several (each with its own `<service>_<version>_actions!`), else
/// at the crate root; each depends on this checkout's runtime by path and on
/// serde. The checkout's `Cargo.lock` is copied, so dependencies resolve to
/// the versions the workspace already uses. Returns the crate directories.
pub fn write_workspace(root: &Path, dir: &Path, outcomes: &[Outcome]) -> Result<Vec<String>, String> {
    let write = |path: &Path, text: &str| -> Result<(), String> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
            return Ok(()); // unchanged: keep the mtime, so cargo keeps its work
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let mut by_service: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| o.problems.is_empty()) {
        by_service.entry(&o.id.service).or_default().push(o);
    }
    let runtime = root.join("runtime");
    let runtime = runtime.to_str().ok_or("the checkout's path is not UTF-8")?;
    let mut members = Vec::new();
    for (service, versions) in &by_service {
        let crate_dir = dir.join(service);
        let manifest = format!(
            "[package]\nname = \"tencentcloud-{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\ntencentcloud-runtime = {{ path = {runtime:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n",
            service.replace('_', "-")
        );
        write(&crate_dir.join("Cargo.toml"), &manifest)?;
        // Warnings are the generator's bugs too (an unused binding, say), and
        // so is an item without docs: every one states its facts.
        let mut lib = format!(
            "// @generated by `cargo xtask services --compile`.\n//! The `{service}` API.\n#![deny(warnings, missing_docs)]\n"
        );
        if let [only] = versions.as_slice() {
            lib.push_str("#[rustfmt::skip]\nmod generated;\npub use generated::*;\n");
            for file in &only.files {
                write(&crate_dir.join("src/generated").join(file.name), &file.contents)?;
            }
        } else {
            for o in versions {
                lib.push_str(&format!("#[rustfmt::skip]\npub mod {};\n", o.id.version));
                for file in &o.files {
                    write(
                        &crate_dir.join("src").join(&o.id.version).join(file.name),
                        &file.contents,
                    )?;
                }
            }
        }
        write(&crate_dir.join("src/lib.rs"), &lib)?;
        members.push(service.to_string());
    }
    let list: Vec<String> = members.iter().map(|m| format!("    {m:?},\n")).collect();
    write(
        &dir.join("Cargo.toml"),
        &format!("[workspace]\nresolver = \"2\"\nmembers = [\n{}]\n", list.concat()),
    )?;
    if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
        if !dir.join("Cargo.lock").exists() {
            write(&dir.join("Cargo.lock"), &lock)?;
        }
    }
    Ok(members)
}
