//! The `tencentcloud` crate's generated parts: its manifest (a feature per
//! service), its `lib.rs` (a module per service) and the list of curated
//! services its build script leaves to their committed crates. Written by
//! `cargo xtask regen` from the bundle's index and `spec/`, checked by
//! `regen --check`; its `build.rs` is written by hand.
//!
//! A service of the bundle is generated at build time when its feature is
//! on; a service under `spec/` (curated: CVM's docs and rules, the imported
//! ones' waiters) is its committed crate, re-exported under the same name.

use std::collections::BTreeMap;
use std::path::Path;

use tencentcloud_descriptions as bundle;

/// Where the crate lives, from the workspace root.
pub const DIR: &str = "tencentcloud";

/// One service as the facade offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The directory name: feature and module name (`autoscaling`).
    pub name: String,
    /// Its versions in the bundle, sorted (`v20180419`).
    pub versions: Vec<String>,
    /// tccli's default version.
    pub default: String,
    /// The committed crate's directory, from the root, for a curated service.
    pub curated: Option<String>,
    /// A curated service's versions under `spec/` (the crate's modules).
    pub curated_versions: Vec<String>,
}

impl Service {
    fn feature(&self) -> String {
        self.name.clone()
    }

    fn curated_package(&self) -> Option<String> {
        let dir = self.curated.as_deref()?;
        Some(dir.rsplit('/').next().unwrap_or(dir).to_owned())
    }
}

/// Every service of the bundle, with the curated ones marked (a curated
/// service the bundle lacks is an error: its module would have no facts
/// behind the name).
pub fn services(root: &Path, bundle_bytes: &[u8]) -> Result<Vec<Service>, String> {
    let mut by_name: BTreeMap<String, Service> = BTreeMap::new();
    for entry in bundle::read(bundle_bytes)? {
        let service = by_name
            .entry(entry.service.to_owned())
            .or_insert_with(|| Service {
                name: entry.service.to_owned(),
                versions: Vec::new(),
                default: String::new(),
                curated: None,
                curated_versions: Vec::new(),
            });
        service.versions.push(entry.version.to_owned());
        if entry.default {
            service.default = entry.version.to_owned();
        }
    }
    for target in crate::regen::targets(root)? {
        let name = target
            .spec
            .split('/')
            .nth(1)
            .ok_or_else(|| format!("{}: not spec/<service>/<version>", target.spec))?;
        let service = by_name.get_mut(name).ok_or_else(|| {
            format!(
                "{}: no service `{name}` in {}",
                target.spec,
                bundle::OFFICIAL_PATH
            )
        })?;
        let crate_dir = target.out.split("/src/").next().unwrap_or(&target.out).to_owned();
        service.curated = Some(crate_dir);
        let version = target.spec.rsplit('/').next().unwrap_or_default().to_owned();
        if !service.versions.contains(&version) {
            return Err(format!(
                "{}: `{name}` has no version {version} in {} (it has {})",
                target.spec,
                bundle::OFFICIAL_PATH,
                service.versions.join(", ")
            ));
        }
        service.curated_versions.push(version);
    }
    for service in by_name.values_mut() {
        check_names(service)?;
        service.versions.sort();
        let flagged = (!service.default.is_empty()).then(|| service.default.clone());
        // No default flagged: the newest, as for a directory given by hand. A
        // curated service: the version its crate puts at its root.
        let versions = if service.curated.is_some() {
            service.curated_versions.sort();
            &service.curated_versions
        } else {
            &service.versions
        };
        service.default = default_version(versions, flagged.as_deref());
    }
    Ok(by_name.into_values().collect())
}

/// The version a crate or module of `versions` puts at its root: tccli's
/// default (`preferred`) when it is one of them, else the newest.
pub fn default_version(versions: &[String], preferred: Option<&str>) -> String {
    match preferred {
        Some(v) if versions.iter().any(|x| x == v) => v.to_owned(),
        _ => versions.iter().max().cloned().unwrap_or_default(),
    }
}

/// Names the facade's own items and features use: no service may take them.
const RESERVED: &[&str] = &[
    "runtime",
    "default",
    "rustls",
    "native-tls",
    "from-env",
    "self",
    "crate",
    "super",
];

/// A service name becomes a feature, a module and `CARGO_FEATURE_<NAME>`;
/// a version, a module. A bundle that breaks either is refused here, not
/// left to break every user's build.
fn check_names(service: &Service) -> Result<(), String> {
    let name = &service.name;
    let identifier = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !identifier || RESERVED.contains(&name.as_str()) || syn_keyword(name) {
        return Err(format!(
            "{}: service `{name}` cannot be a feature and a module of the tencentcloud crate",
            bundle::OFFICIAL_PATH
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for version in &service.versions {
        let dated = version.len() == 9
            && version.starts_with('v')
            && version[1..].chars().all(|c| c.is_ascii_digit());
        if !dated || !seen.insert(version) {
            return Err(format!(
                "{}: `{name}` version `{version}` is not a unique v<YYYYMMDD>",
                bundle::OFFICIAL_PATH
            ));
        }
    }
    Ok(())
}

/// Rust's keywords, strict and reserved (`as`, `type`, `gen`, ...).
fn syn_keyword(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
        "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
        "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "static",
        "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where",
        "while", "yield",
    ];
    KEYWORDS.contains(&name)
}

/// The generated files, each as (path from the root, contents).
pub fn files(root: &Path) -> Result<Vec<(String, String)>, String> {
    // The checkout's file, not the bytes compiled into xtask: clones sharing
    // a target directory share one xtask binary.
    let path = root.join(bundle::OFFICIAL_PATH);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let services = services(root, &bytes)?;
    Ok(vec![
        (format!("{DIR}/Cargo.toml"), manifest(&services)),
        (format!("{DIR}/src/lib.rs"), lib_rs(&services)),
        (format!("{DIR}/curated.rs"), curated_rs(&services)),
    ])
}

const HEADER: &str =
    "@generated by `cargo xtask regen` from descriptions/official.bin and spec/. Do not edit by hand.";

fn manifest(services: &[Service]) -> String {
    let mut out = format!("# {HEADER}\n");
    out.push_str(
        "[package]\nname = \"tencentcloud\"\nversion = \"0.1.0\"\nedition.workspace = true\n\
         rust-version.workspace = true\nlicense.workspace = true\npublish.workspace = true\n\
         description = \"Every Tencent Cloud service from one dependency: a feature per service, each \
         generated at build time from the official description the SDK ships\"\n\n\
         [package.metadata.docs.rs]\n# The curated services: all 262 would be one very large build.\nfeatures = [",
    );
    let curated: Vec<&Service> = services.iter().filter(|s| s.curated.is_some()).collect();
    let docs_features: Vec<String> = curated.iter().map(|s| format!("{:?}", s.feature())).collect();
    out.push_str(&docs_features.join(", "));
    out.push_str("]\ntargets = [\"x86_64-unknown-linux-gnu\"]\n\n");
    out.push_str(
        "[lib]\n# The crate's one example is its docs' `ignore` block: no rustdoc pass.\ndoctest = false\n\n",
    );
    out.push_str(
        "[features]\n# HTTPS, through the runtime: rustls with the webpki roots by default, or\n\
         # native-tls (the platform's TLS: OpenSSL on Linux). With neither, only\n\
         # plain-HTTP endpoints (a local emulator) are reachable.\n\
         default = [\"rustls\", \"from-env\"]\n",
    );
    for (feature, forwarded) in [("rustls", "rustls"), ("native-tls", "native-tls")] {
        let mut list = vec![format!("\"tencentcloud-runtime/{forwarded}\"")];
        list.push(format!("\"tencentcloud-config?/{forwarded}\""));
        for s in &curated {
            list.push(format!(
                "\"{}?/{forwarded}\"",
                s.curated_package().unwrap_or_default()
            ));
        }
        out.push_str(&format!("{feature} = [{}]\n", list.join(", ")));
    }
    out.push_str(
        "# `tencentcloud::from_env()`: the default credential chain, STS-backed\n\
         # sources included (tencentcloud-config).\nfrom-env = [\"dep:tencentcloud-config\"]\n\n\
         # A feature per service, named as its directory in tccli. Curated services\n\
         # are the SDK's committed crates; every other is generated by build.rs.\n",
    );
    for s in services {
        match s.curated_package() {
            Some(package) => out.push_str(&format!("{} = [\"dep:{package}\"]\n", s.feature())),
            None => out.push_str(&format!("{} = []\n", s.feature())),
        }
    }
    out.push_str(
        "\n[dependencies]\ntencentcloud-runtime.workspace = true\nserde.workspace = true\n\
         tencentcloud-config = { workspace = true, optional = true }\n",
    );
    for s in &curated {
        let package = s.curated_package().unwrap_or_default();
        let dir = s.curated.as_deref().unwrap_or_default();
        out.push_str(&format!(
            "{package} = {{ path = \"../{dir}\", default-features = false, optional = true }}\n"
        ));
    }
    out.push_str(
        "\n[build-dependencies]\n# The generator `cargo xtask import` uses, on the descriptions the SDK ships.\n\
         codegen.workspace = true\ntencentcloud-model.workspace = true\ntencentcloud-descriptions.workspace = true\n",
    );
    out
}

fn date(version: &str) -> String {
    let digits = version.trim_start_matches('v');
    if digits.len() == 8 {
        format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..])
    } else {
        version.to_owned()
    }
}

fn lib_rs(services: &[Service]) -> String {
    let mut out = format!("// {HEADER}\n\n");
    out.push_str(LIB_HEAD);
    for s in services {
        let name = &s.name;
        out.push('\n');
        match s.curated_package() {
            Some(package) => {
                let others = if s.curated_versions.len() > 1 {
                    format!(
                        " at its root, with a module per version ({})",
                        s.curated_versions.join(", ")
                    )
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "/// The `{name}` API, version {}{others}: the SDK's committed crate `{package}` (curated).\n\
                     #[cfg(feature = \"{name}\")]\npub use {} as {name};\n",
                    date(&s.default),
                    package.replace('-', "_"),
                ));
            }
            None => {
                let others: Vec<String> = s
                    .versions
                    .iter()
                    .filter(|v| **v != s.default)
                    .map(|v| format!("[`{v}`](crate::{name}::{v})"))
                    .collect();
                let also = if others.is_empty() {
                    String::new()
                } else {
                    format!(" Other versions: {}.", others.join(", "))
                };
                out.push_str(&format!(
                    "/// The `{name}` API, version {} ([`{}`](crate::{name}::{}), re-exported here: tccli's default).{also}\n\
                     /// Generated at build time from the official description.\n\
                     #[cfg(feature = \"{name}\")]\npub mod {name} {{\n",
                    date(&s.default),
                    s.default,
                    s.default,
                ));
                for v in &s.versions {
                    out.push_str(&format!(
                        "    include!(concat!(env!(\"OUT_DIR\"), \"/{name}/{v}.rs\"));\n"
                    ));
                }
                // Every name of the default version's module (codegen's list,
                // the same as a one-version crate's root).
                out.push_str(&format!("    pub use self::{}::*;\n}}\n", s.default));
            }
        }
    }
    out
}

/// What `lib.rs` says before the services.
const LIB_HEAD: &str = r#"//! Every Tencent Cloud service from one dependency line.
//!
//! A feature per service, named as the service's directory in tccli (`cvm`,
//! `tke`, `autoscaling`...), turns on a module of the same name holding its
//! typed, signed `Client` (`tencentcloud::tke::Client`), request and response types, error
//! enums and call builders. Nothing else is compiled.
//!
//! - The services the SDK curates (CVM with its English docs, rules and
//!   waiters, and the imported VPC, CBS, CLB, STS and TAG) are their
//!   committed crates, re-exported.
//! - Every other service is generated by this crate's build script, from the
//!   official description the SDK ships (`tencentcloud-descriptions`), by
//!   the generator `cargo xtask import` uses: no Python, no network, no
//!   import step. Each version is a module (`tke::v20220501`) with the
//!   names the service's module has (`Client`, `Error`, request types, error
//!   enums...); the service's module re-exports tccli's default version.
//!
//! ```toml
//! [dependencies]
//! # A path to your clone, or `git = "<the repository's address>"`.
//! tencentcloud = { path = "../tencentcloud-sdk-rust/tencentcloud", features = ["cvm", "tke"] }
//! ```
//!
//! ```ignore
//! let shared = tencentcloud::from_env()?;
//! let tke = tencentcloud::tke::Client::new(&shared);
//! let clusters = tke.describe_clusters().limit(20).send().await?;
//! ```
//!
//! All clients made from one [`runtime::Client`] share its connection pool,
//! credentials, retry budget and clock correction.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Every generated item states its facts (`tencentcloud_model::facts`).
#![deny(missing_docs)]

pub use tencentcloud_runtime as runtime;
pub use tencentcloud_runtime::{CallOptions, Config, Error, ServiceError};

/// The SDK's default configuration and credential chain (`tencentcloud-config`).
#[cfg(feature = "from-env")]
pub use tencentcloud_config::{config_from_env, config_from_environment, from_env, from_environment};
"#;

fn curated_rs(services: &[Service]) -> String {
    let names: Vec<String> = services
        .iter()
        .filter(|s| s.curated.is_some())
        .map(|s| format!("{:?}", s.name))
        .collect();
    format!(
        "// {HEADER}\n\n/// The services the build does not generate: their features re-export the\n\
         /// SDK's committed crates.\npub const CURATED: &[&str] = &[{}];\n",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, versions: &[&str]) -> Service {
        Service {
            name: name.into(),
            versions: versions.iter().map(|v| v.to_string()).collect(),
            default: String::new(),
            curated: None,
            curated_versions: Vec::new(),
        }
    }

    fn scratch(name: &str, spec_versions: &[&str]) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-facade-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for v in spec_versions {
            let dir = root.join("spec/tsw").join(v);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("api.json"), "{}").unwrap();
        }
        std::fs::create_dir_all(root.join("services/tsw-api")).unwrap();
        std::fs::write(root.join("services/tsw-api/Cargo.toml"), "").unwrap();
        root
    }

    fn tsw_bundle() -> Vec<u8> {
        let source = |version: &str, default: bool| bundle::Source {
            service: "tsw".into(),
            version: version.into(),
            default,
            json: b"{}".to_vec(),
        };
        bundle::write(&[source("v20200924", false), source("v20210412", true)], 1).unwrap()
    }

    /// A curated service's module is its crate's root, which holds tccli's
    /// default only when the crate has that version.
    #[test]
    fn a_curated_service_defaults_to_a_version_its_crate_has() {
        let both = scratch("both", &["v20200924", "v20210412"]);
        let found = services(&both, &tsw_bundle()).unwrap();
        assert_eq!(found[0].curated.as_deref(), Some("services/tsw-api"));
        assert_eq!(found[0].default, "v20210412");
        assert!(lib_rs(&found).contains("at its root, with a module per version (v20200924, v20210412)"));
        let older = scratch("older", &["v20200924"]);
        assert_eq!(services_default(&older), "v20200924");
        let unknown = scratch("unknown", &["v20990101"]);
        let err = services(&unknown, &tsw_bundle()).unwrap_err();
        assert!(err.contains("has no version v20990101"), "{err}");
        for root in [both, older, unknown] {
            std::fs::remove_dir_all(root).unwrap();
        }
    }

    fn services_default(root: &Path) -> String {
        services(root, &tsw_bundle()).unwrap()[0].default.clone()
    }

    #[test]
    fn names_that_cannot_be_features_and_modules_are_refused() {
        assert!(check_names(&service("tke", &["v20180525", "v20220501"])).is_ok());
        for bad in ["type", "foo-bar", "runtime", "default", "Tke", "1cloud", ""] {
            assert!(check_names(&service(bad, &["v20180525"])).is_err(), "{bad}");
        }
        assert!(check_names(&service("tke", &["v2018052"])).is_err());
        assert!(check_names(&service("tke", &["v20180525", "v20180525"])).is_err());
    }
}
