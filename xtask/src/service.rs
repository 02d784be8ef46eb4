//! `cargo xtask import --service NAME`: a whole service, every version or
//! one, into `spec/<name>/<version>/` and a crate `services/<name>-api/`
//! (workspace member through `services/*`).
//!
//! By default the service comes from the descriptions the SDK ships
//! (`tencentcloud_descriptions::OFFICIAL`): no Python, no network. With
//! `--from <tccli services dir>` it comes from a tccli release instead, its
//! codes from `--errorcodes` or the pinned Python SDK.
//!
//! The spec takes every action of the official description as
//! [`import::import_parsed`] does for CVM (facts only: no Tencent prose, English
//! titles, word examples dropped). `errors.json` lists every code of that
//! service version's `errorcodes.py` (official Python SDK, pinned; codes
//! only, with empty descriptions to write in English) except the codes every
//! service shares, which the runtime holds
//! ([`tencentcloud_model::official::errors_file`]). No per-action lists exist
//! outside CVM's, so actions list none: a code reaches the caller as
//! `Unknown` or `Common`, with its code and message intact.

use std::path::{Path, PathBuf};

use tencentcloud_descriptions as bundle;
use tencentcloud_model::official;
use tencentcloud_model::spec::ApiFile;

use crate::import::{self, SpecFiles};
use crate::sdk_codes;

/// The `[lib]` section of a generated crate's manifest: generated code has
/// no unit tests, and a test build of the library would compile the whole
/// crate a second time (VPC's: a minute); its one code block is `ignore`.
pub const GENERATED_LIB_SECTION: &str = "[lib]\n# Generated code has no unit tests and no doc tests (its one code block is\n# `ignore`): no second build of the crate for them, no rustdoc pass.\ntest = false\ndoctest = false\n";

/// Marks a `lib.rs` that import wrote and may rewrite when versions change.
const LIB_HEADER: &str =
    "// Written by `cargo xtask import`; rewritten when the service gains or loses a version.";

pub struct ServiceOptions {
    /// A tccli `services` directory: `<dir>/<service>/<version>/api.json`;
    /// `None`: the descriptions the SDK ships.
    pub from: Option<PathBuf>,
    pub services: Vec<String>,
    /// One version (`v20170312`) instead of all.
    pub version: Option<String>,
    /// A directory `<dir>/<service>/<version>/errorcodes.py`, instead of the
    /// pinned Python SDK fetched from PyPI.
    pub errorcodes: Option<PathBuf>,
}

/// The versions of `service` in a tccli services directory, sorted.
pub fn versions(from: &Path, service: &str) -> Result<Vec<String>, String> {
    let dir = from.join(service);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("no service `{service}` in {} ({e})", from.display()))?;
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("api.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!("{} has no <version>/api.json", dir.display()));
    }
    Ok(out)
}

/// One service version's spec files from its facts (a bundle entry, or a
/// tccli description through [`import::facts_only`]): the description and
/// the service's own codes ([`official::errors_file`]). Our English
/// documentation in `existing`, if any, is kept.
pub fn spec_for(entry: official::Entry, existing: Option<SpecFiles>) -> SpecFiles {
    let mut files = SpecFiles {
        errors: official::errors_file(&entry.codes),
        api: entry.api,
    };
    if let Some(existing) = existing {
        keep_our_docs(&mut files.api, &existing.api);
        for (code, description) in existing.errors.codes.0 {
            if let Some(slot) = files.errors.codes.0.get_mut(&code) {
                *slot = description;
            }
        }
    }
    files
}

/// Where a service's versions come from.
enum Origin<'b> {
    /// The descriptions the SDK ships: the checkout's file, not the bytes
    /// compiled into xtask (clones sharing a target directory share one
    /// xtask binary).
    Bundle(Vec<bundle::Entry<'b>>),
    /// A tccli services directory and a directory of `errorcodes.py`.
    Tccli { from: PathBuf, codes: PathBuf },
}

impl Origin<'_> {
    /// tccli's default version of `service`, where known.
    fn default_version(&self, service: &str) -> Option<String> {
        match self {
            Origin::Bundle(entries) => entries
                .iter()
                .find(|e| e.service == service && e.default)
                .map(|e| e.version.to_owned()),
            Origin::Tccli { from, .. } => crate::official::default_versions(from)
                .ok()
                .and_then(|defaults| defaults.get(service).cloned()),
        }
    }

    fn versions(&self, service: &str) -> Result<Vec<String>, String> {
        match self {
            Origin::Tccli { from, .. } => versions(from, service),
            Origin::Bundle(entries) => {
                let found: Vec<String> = entries
                    .iter()
                    .filter(|e| e.service == service)
                    .map(|e| e.version.to_owned())
                    .collect();
                if found.is_empty() {
                    let names: Vec<String> = entries.iter().map(|e| e.service.to_owned()).collect();
                    return Err(format!(
                        "no service `{service}` in the bundled descriptions{}",
                        tencentcloud_model::words::suggest(service, names.iter())
                    ));
                }
                Ok(found)
            }
        }
    }

    /// The facts of one version, and where they came from (for messages).
    fn entry(&self, service: &str, version: &str) -> Result<(official::Entry, String), String> {
        match self {
            Origin::Bundle(entries) => {
                let origin = format!("{} ({service}/{version})", bundle::OFFICIAL_PATH);
                let entry = entries
                    .iter()
                    .find(|e| e.service == service && e.version == version)
                    .ok_or_else(|| format!("{origin}: no such entry"))?;
                let parsed = official::parse_entry(&entry.inflate()?)
                    .map_err(|e| format!("{origin}: {}", e.path_and_message()))?;
                Ok((parsed, origin))
            }
            Origin::Tccli { from, codes } => {
                let origin = from.join(service).join(version).join("api.json");
                let text = std::fs::read_to_string(&origin)
                    .map_err(|e| format!("cannot read {}: {e}", origin.display()))?;
                let parsed =
                    tencentcloud_model::parse_api(&text).map_err(|e| format!("{}: {e}", origin.display()))?;
                let (api, _report) = import::facts_only(&parsed, &origin)?;
                let codes_path = codes.join(service).join(version).join("errorcodes.py");
                let codes = sdk_codes::read_any(&codes_path)?.codes;
                Ok((official::Entry { api, codes }, origin.display().to_string()))
            }
        }
    }
}

/// Documents we wrote (English) survive a re-import.
fn keep_our_docs(api: &mut ApiFile, ours: &ApiFile) {
    for (name, action) in &mut api.actions.0 {
        if let Some(mine) = ours.actions.0.get(name) {
            if !mine.document.is_empty() {
                action.document = mine.document.clone();
            }
            action.name = mine.name.clone();
        }
    }
    for (name, object) in &mut api.objects.0 {
        let Some(mine) = ours.objects.0.get(name) else {
            continue;
        };
        if !mine.document.is_empty() {
            object.document = mine.document.clone();
        }
        for member in &mut object.members {
            if let Some(m) = mine
                .members
                .iter()
                .find(|m| m.name == member.name && !m.document.is_empty())
            {
                member.document = m.document.clone();
            }
        }
    }
}

/// Imports `opts.services` and regenerates; returns lines to print.
pub fn import_services(root: &Path, opts: &ServiceOptions) -> Result<Vec<String>, String> {
    let bundle_path = root.join(bundle::OFFICIAL_PATH);
    let bundle_bytes = match &opts.from {
        Some(_) => Vec::new(),
        None => {
            std::fs::read(&bundle_path).map_err(|e| format!("cannot read {}: {e}", bundle_path.display()))?
        }
    };
    let origin = match &opts.from {
        Some(from) => Origin::Tccli {
            from: from.clone(),
            codes: match &opts.errorcodes {
                Some(dir) => dir.clone(),
                None => sdk_codes::fetch_all(root)?,
            },
        },
        None => Origin::Bundle(
            bundle::read(&bundle_bytes).map_err(|e| format!("{}: {e}", bundle::OFFICIAL_PATH))?,
        ),
    };
    let mut lines = Vec::new();
    for service in &opts.services {
        if service == "cvm" {
            return Err(
                "cvm is imported action by action into spec/cvm (cargo xtask import --from api.json --all), \
                 keeping its curated docs and rules"
                    .to_owned(),
            );
        }
        let all = origin.versions(service)?;
        let chosen: Vec<String> = match &opts.version {
            Some(v) if all.contains(v) => vec![v.clone()],
            Some(v) => {
                return Err(format!(
                    "`{service}` has no version {v}; it has {}",
                    all.join(", ")
                ))
            }
            None => all,
        };
        for version in &chosen {
            let (entry, _origin) = origin.entry(service, version)?;
            let dir = root.join("spec").join(service).join(version);
            let existing = if dir.join("api.json").is_file() {
                Some(import::read_spec(&dir)?)
            } else {
                None
            };
            let files = spec_for(entry, existing);
            let rules_path = dir.join(tencentcloud_model::RULES_FILE);
            let rules = std::fs::read_to_string(&rules_path)
                .unwrap_or_else(|_| "{\n  \"objects\": {}\n}\n".to_owned());
            // Checked before anything is written.
            let api = import::to_stable_json(&files.api)?;
            let errors = import::to_stable_json(&files.errors)?;
            let model = codegen::model_from_sources(&api, &errors, &rules).map_err(|e| e.to_string())?;
            codegen::generate(&model, &dir.display().to_string()).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            import::write_spec(&dir, &files)?;
            if !rules_path.is_file() {
                std::fs::write(&rules_path, rules)
                    .map_err(|e| format!("cannot write {}: {e}", rules_path.display()))?;
            }
            lines.push(format!(
                "{service} {version}: {} actions, {} objects, {} codes",
                model.actions.len(),
                model.objects.len(),
                files.errors.codes.0.len()
            ));
        }
        write_crate(root, service, origin.default_version(service))?;
    }
    Ok(lines)
}

/// `services/<service>-api` with a `lib.rs` mounting every version in `spec/`.
fn write_crate(root: &Path, service: &str, preferred: Option<String>) -> Result<(), String> {
    let dir = root.join("services").join(format!("{service}-api"));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    let spec = root.join("spec").join(service);
    let mut versions: Vec<String> = std::fs::read_dir(&spec)
        .map_err(|e| format!("cannot read {}: {e}", spec.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("api.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort();
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        let text = crate_manifest(service);
        std::fs::write(&manifest, text).map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
    }
    let lib = src.join("lib.rs");
    let current = std::fs::read_to_string(&lib).ok();
    if current.as_ref().is_some_and(|text| !text.starts_with(LIB_HEADER)) {
        // Edited by hand: leave it.
        return Ok(());
    }
    let default = crate::facade::default_version(&versions, preferred.as_deref());
    let text = lib_rs(service, &versions, &default);
    if current.as_deref() != Some(text.as_str()) {
        std::fs::write(&lib, text).map_err(|e| format!("cannot write {}: {e}", lib.display()))?;
    }
    Ok(())
}

/// The `Cargo.toml` import writes for a new `services/<service>-api`: the
/// workspace's rust-version, docs.rs metadata, and the runtime's TLS
/// features forwarded (rustls by default, or native-tls) as every library
/// of the SDK has them (`xtask/tests/crate_metadata.rs`).
pub fn crate_manifest(service: &str) -> String {
    const LIB_SECTION: &str = GENERATED_LIB_SECTION;
    format!(
        "[package]\nname = \"{service}-api\"\nversion = \"0.1.0\"\nedition.workspace = true\nrust-version.workspace = true\n\
         license.workspace = true\npublish.workspace = true\ndescription = \"Typed, signed Rust client for the Tencent Cloud \
         `{service}` API, generated from the official description\"\n\n\
         [package.metadata.docs.rs]\n# The default features (rustls): native-tls changes no API and needs OpenSSL.\n\
         # The API is the same on every platform: one target.\ntargets = [\"x86_64-unknown-linux-gnu\"]\n\n\
         {LIB_SECTION}\n\
         [features]\n# HTTPS, through the runtime: rustls with the webpki roots by default, or\n\
         # native-tls (the platform's TLS: OpenSSL on Linux). With neither, only\n\
         # plain-HTTP endpoints (a local emulator) are reachable.\n\
         default = [\"rustls\"]\nrustls = [\"tencentcloud-runtime/rustls\"]\nnative-tls = [\"tencentcloud-runtime/native-tls\"]\n\n\
         [dependencies]\ntencentcloud-runtime.workspace = true\nserde.workspace = true\n"
    )
}

/// One version: its client and types at the crate root. Several: a module
/// each, the same names in each as at a one-version crate's root (the
/// generated `mod.rs` holds them), and the default version's at the root.
pub fn lib_rs(service: &str, versions: &[String], default: &str) -> String {
    let mut out = format!("{LIB_HEADER}\n\n");
    if let [version] = versions {
        out.push_str(&format!(
            "//! The Tencent Cloud `{service}` API, version {version}: a typed, signed client \
             ([`Client`]) with a method per action, generated from the official description.\n\
             //! Make it from a shared [`runtime::Client`] to share one connection pool, credentials \
             and retry budget with other services.\n\n\
             #![deny(missing_docs)]\n\n\
             #[rustfmt::skip]\nmod generated;\n\n\
             // The version's module holds every name of the root (codegen's list).\n\
             pub use generated::*;\n"
        ));
    } else {
        // The default version at the root too, so that a program names
        // `<service>_api::Client` whether the crate has one version or several
        // (and the `tencentcloud` crate's module looks the same either way).
        out.push_str(&format!(
            "//! The Tencent Cloud `{service}` API, a module per version ({}), each laid out as a \
             one-version crate's root (its typed, signed client, types, error enums and `Error`), generated \
             from the official descriptions; {default}, tccli's default, is also at the root ([`Client`]).\n\n\
             #![deny(missing_docs)]\n\n\
             // Each version's module holds every name a one-version crate has at its root\n\
             // (codegen's list); the default's are the root's.\n\
             pub use {default}::*;\n",
            versions.join(", ")
        ));
        for version in versions {
            out.push_str(&format!(
                "\n/// Version {version} of the API.\n#[rustfmt::skip]\n#[path = \"generated/{version}/mod.rs\"]\npub mod {version};\n"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn one_version_at_the_root_several_as_modules() {
        let one = lib_rs("tag", &["v20180813".to_owned()], "v20180813");
        assert!(one.starts_with(LIB_HEADER));
        assert!(one.contains("mod generated;"));
        assert!(one.contains("\n#![deny(missing_docs)]\n"));
        // Every name at the root is the generated module's: one list, codegen's.
        let uses = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with("pub use"))
                .map(String::from)
                .collect()
        };
        assert_eq!(uses(&one), ["pub use generated::*;"]);
        assert!(!one.contains("pub mod v20180813"));
        let several = lib_rs(
            "monitor",
            &["v20180724".to_owned(), "v20230616".to_owned()],
            "v20180724",
        );
        assert_eq!(uses(&several), ["pub use v20180724::*;"]);
        for version in ["v20180724", "v20230616"] {
            assert!(several.contains(&format!(
                "#[path = \"generated/{version}/mod.rs\"]\npub mod {version};"
            )));
        }
        assert!(!several.contains("mod generated;"));
    }

    #[test]
    fn whole_services_keep_no_prose_and_leave_common_codes_to_the_runtime() {
        let official: ApiFile = tencentcloud_model::parse_api(
            r#"{
              "actions": {"DescribeThings": {"document": "列出", "input": "DescribeThingsRequest", "name": "查询", "output": "DescribeThingsResponse", "status": "online"}},
              "metadata": {"apiVersion": "2020-01-01", "serviceShortName": "demo", "serviceNameCN": "演示"},
              "objects": {
                "DescribeThingsRequest": {"document": "", "members": [{"disabled": false, "document": "数量", "example": "无", "member": "int64", "name": "Limit", "required": false, "type": "int"}], "type": "object"},
                "DescribeThingsResponse": {"document": "", "members": [{"document": "", "member": "string", "name": "RequestId", "type": "string"}], "type": "object"}
              },
              "version": "1.0"
            }"#,
        )
        .unwrap();
        let codes: BTreeSet<String> = ["InternalError", "ResourceNotFound.Thing"]
            .map(String::from)
            .into();
        let (api, _) = import::facts_only(&official, Path::new("demo/v20200101/api.json")).unwrap();
        let files = spec_for(official::Entry { api, codes }, None);
        let text =
            import::to_stable_json(&files.api).unwrap() + &import::to_stable_json(&files.errors).unwrap();
        assert!(text.is_ascii(), "{text}");
        assert_eq!(
            files.errors.codes.0.keys().collect::<Vec<_>>(),
            ["ResourceNotFound.Thing"]
        );
        assert!(files.errors.common.is_empty());
    }
}
