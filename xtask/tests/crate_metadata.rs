//! The crates' metadata as a Rust user expects it: one rust-version, the
//! workspace's, equal to the highest one the locked dependencies declare;
//! on every library a user depends on, docs.rs metadata and the choice of
//! TLS (rustls by default, or native-tls); and no tokio feature that only
//! the emulator, the cli or the tests ask for reaching those libraries.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{cargo, root, run};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(300);

/// The libraries a user of the SDK depends on, besides `services/*-api`.
const LIBRARIES: &[&str] = &[
    "tencentcloud-runtime",
    "tencentcloud-model",
    "signer",
    "tencentcloud-config",
    "cvm-api",
];

/// tokio features only the emulator, the cli or the tests need: none of them
/// may reach a user of the libraries.
const NOT_FOR_USERS: &[&str] = &[
    "full",
    "rt-multi-thread",
    "macros",
    "signal",
    "process",
    "fs",
    "io-std",
    "parking_lot",
    "test-util",
];

/// `cargo metadata` with every feature of every member (a user may choose
/// native-tls) and every platform's packages. Offline, those of other
/// platforms may never have been downloaded: then the host's only, said on
/// stderr.
fn metadata() -> Value {
    let all = ["metadata", "--format-version", "1", "--offline", "--all-features"];
    let out = run(cargo().args(all).current_dir(root()), LIMIT);
    let out = if out.success {
        out
    } else if out.stderr.contains("--offline") {
        let host = host();
        eprintln!(
            "note: the packages of other platforms are not downloaded; \
             their rust-version is not checked, only {host}'s"
        );
        let out = run(
            cargo()
                .args(all)
                .args(["--filter-platform", &host])
                .current_dir(root()),
            LIMIT,
        );
        assert!(
            out.success,
            "cargo metadata --filter-platform {host} failed:\n{}",
            out.stderr
        );
        out
    } else {
        panic!("cargo metadata failed:\n{}", out.stderr);
    };
    serde_json::from_str(&out.stdout).expect("cargo metadata prints JSON")
}

/// The host's target triple, from `cargo -vV`.
fn host() -> String {
    let out = run(cargo().arg("-vV"), LIMIT);
    assert!(out.success, "cargo -vV failed:\n{}", out.stderr);
    out.stdout
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("cargo -vV names the host")
        .trim()
        .to_owned()
}

/// A rust-version as numbers: `1.89` and `1.89.0` are one version.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.trim().split('.').map(|part| {
        part.parse::<u64>()
            .unwrap_or_else(|_| panic!("rust-version `{text}` is not MAJOR.MINOR[.PATCH]"))
    });
    let major = parts.next().expect("a major version");
    (major, parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The lines of `[header]` in a manifest, whitespace removed, comments dropped.
fn table_lines(manifest: &str, header: &str) -> Vec<String> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in manifest.lines() {
        let line: String = line.split('#').next().unwrap_or("").split_whitespace().collect();
        if line.starts_with('[') {
            inside = line == format!("[{header}]");
        } else if inside && !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// `[workspace.package] rust-version` of the root manifest.
fn workspace_rust_version() -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("the root Cargo.toml");
    table_lines(&manifest, "workspace.package")
        .iter()
        .find_map(|line| line.strip_prefix("rust-version="))
        .map(|value| value.trim_matches('"').to_owned())
        .expect("the root Cargo.toml has [workspace.package] rust-version")
}

struct Workspace {
    packages: BTreeMap<String, Value>,
    members: BTreeSet<String>,
    /// The normal and build dependencies of each package, by id.
    edges: BTreeMap<String, Vec<String>>,
}

impl Workspace {
    fn load() -> Self {
        let metadata = metadata();
        let packages = metadata["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| (p["id"].as_str().expect("package id").to_owned(), p.clone()))
            .collect();
        let members = metadata["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .map(|id| id.as_str().expect("member id").to_owned())
            .collect();
        let mut edges = BTreeMap::new();
        for node in metadata["resolve"]["nodes"]
            .as_array()
            .expect("the resolve graph")
        {
            let deps = node["deps"]
                .as_array()
                .expect("deps")
                .iter()
                .filter(|dep| {
                    dep["dep_kinds"]
                        .as_array()
                        .expect("dep_kinds")
                        .iter()
                        .any(|kind| kind["kind"].is_null() || kind["kind"] == "build")
                })
                .map(|dep| dep["pkg"].as_str().expect("dep pkg").to_owned())
                .collect();
            edges.insert(node["id"].as_str().expect("node id").to_owned(), deps);
        }
        Self {
            packages,
            members,
            edges,
        }
    }

    fn name(&self, id: &str) -> &str {
        self.packages[id]["name"].as_str().expect("package name")
    }

    fn member(&self, name: &str) -> &Value {
        self.members
            .iter()
            .map(|id| &self.packages[id])
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no workspace member `{name}`"))
    }

    /// The libraries a user depends on: [`LIBRARIES`] and `services/*-api`.
    fn libraries(&self) -> Vec<&Value> {
        let services = root().join("services");
        let mut out: Vec<&Value> = LIBRARIES.iter().map(|name| self.member(name)).collect();
        out.extend(self.members.iter().map(|id| &self.packages[id]).filter(|p| {
            manifest_path(p).starts_with(&services) && p["name"].as_str().is_some_and(|n| n.ends_with("-api"))
        }));
        out
    }
}

fn manifest_path(package: &Value) -> PathBuf {
    PathBuf::from(package["manifest_path"].as_str().expect("manifest_path"))
}

fn name(package: &Value) -> &str {
    package["name"].as_str().expect("package name")
}

#[test]
fn the_rust_version_is_the_highest_the_locked_dependencies_declare() {
    let ws = Workspace::load();
    // Breadth first from every member along normal and build edges: the
    // path to each dependency is a shortest one, for the message.
    let mut via: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: VecDeque<&str> = ws.members.iter().map(String::as_str).collect();
    let mut seen: BTreeSet<&str> = queue.iter().copied().collect();
    while let Some(id) = queue.pop_front() {
        for dep in ws.edges.get(id).into_iter().flatten() {
            if seen.insert(dep) {
                via.insert(dep, id);
                queue.push_back(dep);
            }
        }
    }
    let path = |start: &str| {
        let mut names = vec![ws.name(start).to_owned()];
        let mut parent = via.get(start).copied();
        while let Some(id) = parent {
            names.push(ws.name(id).to_owned());
            parent = via.get(id).copied();
        }
        names.reverse();
        names.join(" -> ")
    };
    let mut highest: Option<((u64, u64, u64), Vec<String>)> = None;
    for id in seen.iter().filter(|id| !ws.members.contains(**id)) {
        let package = &ws.packages[*id];
        let Some(declared) = package["rust_version"].as_str() else {
            continue;
        };
        let this = version(declared);
        let line = format!(
            "{} {} (rust-version {declared}; {})",
            name(package),
            package["version"].as_str().unwrap_or("?"),
            path(id)
        );
        match &mut highest {
            Some((max, setters)) if this == *max => setters.push(line),
            Some((max, _)) if this < *max => {}
            _ => highest = Some((this, vec![line])),
        }
    }
    let (needed, setters) = highest.expect("some locked dependency declares a rust-version");
    let needed_text = format!("{}.{}", needed.0, needed.1)
        + &if needed.2 > 0 {
            format!(".{}", needed.2)
        } else {
            String::new()
        };
    let declared = workspace_rust_version();
    assert!(
        version(&declared) == needed,
        "[workspace.package] rust-version is {declared}, but the highest rust-version among the locked \
         normal and build dependencies of the workspace's members is {needed_text}, declared by:\n  {}\n\
         set rust-version = \"{needed_text}\" in the root Cargo.toml",
        setters.join("\n  ")
    );
}

#[test]
fn every_member_inherits_the_workspace_rust_version() {
    let ws = Workspace::load();
    let declared = workspace_rust_version();
    let mut wrong = Vec::new();
    for id in &ws.members {
        let package = &ws.packages[id];
        let manifest = std::fs::read_to_string(manifest_path(package)).expect("a member's Cargo.toml");
        let inherits = table_lines(&manifest, "package")
            .iter()
            .any(|line| line == "rust-version.workspace=true" || line == "rust-version={workspace=true}");
        let effective = package["rust_version"].as_str().unwrap_or("none");
        if !inherits || effective != declared {
            wrong.push(format!(
                "{} ({}): rust-version {effective}{}",
                name(package),
                manifest_path(package).display(),
                if inherits {
                    ""
                } else {
                    ", not `rust-version.workspace = true`"
                }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "every member must have `rust-version.workspace = true` (the workspace's is {declared}):\n  {}",
        wrong.join("\n  ")
    );
}

/// Whether a crate's sources mention `docsrs` (`#[cfg(docsrs)]`, `#[cfg_attr(docsrs, ...)]`).
fn uses_docsrs_cfg(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            uses_docsrs_cfg(&path)
        } else {
            path.extension().is_some_and(|e| e == "rs")
                && std::fs::read_to_string(&path).is_ok_and(|text| text.contains("docsrs"))
        }
    })
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn every_library_a_user_depends_on_has_docs_rs_metadata() {
    let ws = Workspace::load();
    let mut wrong = Vec::new();
    for package in ws.libraries() {
        let crate_name = name(package);
        let docs = &package["metadata"]["docs"]["rs"];
        if !docs.is_object() {
            wrong.push(format!("{crate_name}: no [package.metadata.docs.rs]"));
            continue;
        }
        if docs["all-features"] == true || strings(&docs["features"]).contains(&"native-tls") {
            wrong.push(format!(
                "{crate_name}: docs.rs would build native-tls (OpenSSL), which changes no API: document the default (rustls)"
            ));
        }
        let has_rustls = package["features"].get("rustls").is_some();
        if has_rustls
            && docs["no-default-features"] == true
            && !strings(&docs["features"]).contains(&"rustls")
        {
            wrong.push(format!(
                "{crate_name}: docs.rs would build without any TLS feature: keep rustls"
            ));
        }
        let dir = manifest_path(package)
            .parent()
            .expect("a crate directory")
            .join("src");
        let asks = strings(&docs["rustdoc-args"]).contains(&"docsrs");
        match (asks, uses_docsrs_cfg(&dir)) {
            (true, false) => wrong.push(format!(
                "{crate_name}: rustdoc-args pass `--cfg docsrs`, but no source uses cfg(docsrs)"
            )),
            (false, true) => wrong.push(format!(
                "{crate_name}: the sources use cfg(docsrs): rustdoc-args must pass `--cfg docsrs`"
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "docs.rs metadata:\n  {}", wrong.join("\n  "));
}

#[test]
fn every_library_on_the_runtime_offers_rustls_by_default_and_native_tls() {
    let ws = Workspace::load();
    let with_tls: BTreeSet<&str> = ws
        .members
        .iter()
        .map(|id| &ws.packages[id])
        .filter(|p| p["features"].get("rustls").is_some())
        .map(name)
        .collect();
    let mut wrong = Vec::new();
    for package in ws.libraries() {
        let crate_name = name(package);
        let features = &package["features"];
        let deps = package["dependencies"].as_array().expect("dependencies");
        let normal = |dep: &&Value| dep["kind"].is_null();
        let on_runtime = deps
            .iter()
            .filter(normal)
            .any(|dep| dep["name"] == "tencentcloud-runtime");
        if crate_name == "tencentcloud-runtime" {
            let reqwest = deps
                .iter()
                .filter(normal)
                .find(|dep| dep["name"] == "reqwest")
                .expect("the runtime uses reqwest");
            let tls: Vec<&str> = strings(&reqwest["features"])
                .into_iter()
                .filter(|f| f.contains("tls"))
                .collect();
            if !tls.is_empty() {
                wrong.push(format!("tencentcloud-runtime: reqwest always gets {tls:?}: only the rustls or native-tls feature may ask"));
            }
            for (feature, want) in [
                ("rustls", "reqwest/rustls-tls"),
                ("native-tls", "reqwest/native-tls"),
            ] {
                if !strings(&features[feature]).contains(&want) {
                    wrong.push(format!(
                        "tencentcloud-runtime: feature `{feature}` must enable `{want}`"
                    ));
                }
            }
        } else if !on_runtime {
            continue;
        } else {
            for feature in ["rustls", "native-tls"] {
                let want = format!("tencentcloud-runtime/{feature}");
                if !strings(&features[feature]).contains(&want.as_str()) {
                    wrong.push(format!("{crate_name}: feature `{feature}` must enable `{want}`"));
                }
            }
        }
        if strings(&features["default"]) != ["rustls"] {
            wrong.push(format!(
                "{crate_name}: default features {} instead of [\"rustls\"]",
                features["default"]
            ));
        }
        // A dependency's default TLS would be on whatever the user chose.
        for dep in deps.iter().filter(normal) {
            let dep_name = dep["name"].as_str().expect("dependency name");
            if with_tls.contains(dep_name) && dep["uses_default_features"] != false {
                wrong.push(format!(
                    "{crate_name}: depends on {dep_name} with its default features (rustls) on"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "TLS features:\n  {}", wrong.join("\n  "));
}

#[test]
fn no_tokio_feature_of_the_emulator_cli_or_tests_reaches_a_user() {
    let ws = Workspace::load();
    let mut command = cargo();
    command.current_dir(root()).args([
        "tree",
        "--offline",
        "-e",
        "normal",
        "-i",
        "tokio",
        "--depth",
        "0",
        "-f",
        "{f}",
    ]);
    let libraries: Vec<&str> = ws.libraries().into_iter().map(name).collect();
    for library in &libraries {
        command.args(["-p", library]);
    }
    let out = run(&mut command, LIMIT);
    assert!(out.success, "cargo tree -i tokio failed:\n{}", out.stderr);
    let features: BTreeSet<&str> = out.stdout.trim().split(',').map(str::trim).collect();
    let leaked: Vec<&&str> = NOT_FOR_USERS.iter().filter(|f| features.contains(**f)).collect();
    assert!(
        leaked.is_empty(),
        "a user of {} gets tokio features {leaked:?} (all: {features:?}); \
         `cargo tree -e features,normal -i tokio -p <crate>` shows who asks",
        libraries.join(", ")
    );
}

#[test]
fn import_writes_the_manifest_the_service_crates_have() {
    let ws = Workspace::load();
    let services = root().join("services");
    let mut checked = 0;
    for package in ws.libraries() {
        let path = manifest_path(package);
        let Some(service) = name(package)
            .strip_suffix("-api")
            .filter(|_| path.starts_with(&services))
        else {
            continue;
        };
        let committed = std::fs::read_to_string(&path).expect("a service crate's Cargo.toml");
        assert_eq!(
            committed,
            xtask::service::crate_manifest(service),
            "{} differs from what `cargo xtask import` writes for a new service \
             (xtask::service::crate_manifest): change both",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 0, "no services/*-api crate");
}
