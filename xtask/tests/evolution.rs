//! Tencent's weekly additions to a spec do not break code written against
//! today's crates.
//!
//! Tencent's API descriptions grow every week: optional members on requests,
//! answers and objects, error codes, values of enumerations, whole actions.
//! A user who regenerates the SDK from the new descriptions must not have to
//! touch their code. This test
//!
//! 1. copies the specs of cvm and sts and their crates (with
//!    tencentcloud-config, which uses sts-api) into a workspace of their own
//!    whose other dependencies are this checkout's crates, by path;
//! 2. updates the copied specs as Tencent does: a new optional string member
//!    on every object (requests and responses included), a new error code
//!    on every action, a new value in every open enum, a new action;
//! 3. regenerates the copies with this checkout's generator
//!    (`xtask::regen`);
//! 4. checks, unchanged, what was written against this checkout's crates:
//!    cvm-api's examples (all but `fleet`, which needs VPC's crate too),
//!    the README's Rust samples (as rustdoc builds its
//!    doc tests) and a user's crate, `tests/evolution/user`, which first has
//!    to compile against this checkout's crates, in a workspace of its own;
//! 5. the other way: removes a member the user's crate sets, regenerates,
//!    and expects the user's crate, alone, to fail to compile, the compiler
//!    naming the member's setter. Removal is the breaking change it should
//!    be, and the checks above are not vacuous.
//!
//! `cargo check` only, in the workspace's target directory (as
//! `tests/readme.rs` does), so the registry dependencies are reused: what is
//! checked anew is the copies of the generated crates and the code using
//! them, most of it cvm-api's copy.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    cargo_plain, copy_tree, doctest_program, fenced_blocks, is_compiled_rust, profiles, root, run,
    target_dir, toml_string, Output,
};
use serde_json::{json, Value};

/// The crates copied into the scratch workspace: the generated crates the
/// examples, the README's samples and the user's crate depend on, and
/// `tencentcloud-config`, which depends on sts-api (the checkout's would
/// bring the checkout's sts-api beside the copy's). Every other crate
/// (runtime, model, signer...) is used from the checkout, by path.
const CRATES: &[&str] = &["cvm-api", "services/sts-api", "config"];

/// cvm-api's examples left out of the copy, with the dev-dependency only
/// they use: `fleet` calls VPC too, and checking vpc-api (6 MB of generated
/// code, a third of this test's time) would check no code of the copies. Its
/// CVM calls are those the other examples make.
const LEFT_OUT_EXAMPLES: &[(&str, &str)] = &[("fleet", "vpc-api")];

/// The user's crate, in the copies' workspace.
const USER: &str = "user";

/// A member added to every object, as Tencent adds optional parameters.
const NEW_MEMBER: &str = "EvolutionAddedMember";
/// A code added to every action's documented codes.
const NEW_CODE: &str = "FailedOperation.EvolutionAddedCode";
/// A value added to every open enum (`rules.json`'s `enums`).
const NEW_VALUE: &str = "EVOLUTION_ADDED_VALUE";
/// An action added to every spec, with its request and response objects.
const NEW_ACTION: &str = "DescribeEvolutionGadgets";

/// The member removed in the second part, and what the compiler must say
/// about the user's code that sets it (`.external_id(..)` on a call
/// builder). A member of STS, which only its small crate and what uses it
/// (the user's crate; the examples through tencentcloud-config) compile
/// again.
const REMOVED_SPEC: &str = "spec/sts/v20180813";
const REMOVED_OBJECT: &str = "AssumeRoleRequest";
const REMOVED_MEMBER: &str = "ExternalId";
const REMOVED_ERROR: &str = "no method named `external_id` found";

/// What the copies' workspace checks: cvm-api's examples (the README's
/// samples among them) and the user's crate, in one run that checks the copy
/// of cvm-api once for both; every target that can be checked is, so that a
/// failure lists all the code it breaks. The same packages and targets after
/// the removal, so that the features, hence the crates not regenerated, are
/// the same and need no second check.
const CHECK_COPIES: &[&str] = &[
    "-p",
    "cvm-api",
    "-p",
    "evolution-user",
    "--bins",
    "--examples",
    "--keep-going",
];

/// Time allowed to each cargo run; the first run after the dependencies
/// changed compiles them (in check mode) too.
const CARGO_LIMIT: Duration = Duration::from_secs(900);

#[test]
#[ignore = "heavy (about 140 s of cargo check on two cores): `cargo xtask exhaustive` runs it"]
fn weekly_spec_additions_keep_user_code_compiling() {
    let started = Instant::now();
    let root = root();
    let target = target_dir();
    let manifest = read(&root.join("Cargo.toml"));
    let scratch = Scratch::new(&root);
    let sdk = scratch.0.join("sdk");

    // The user's crate against this checkout's crates, in a workspace of its
    // own, while the copies are made, updated and regenerated.
    let user_of_checkout = scratch.0.join("user-of-checkout");
    let standalone = format!(
        "{}\n# A workspace of its own, not a member of the SDK's.\n[workspace]\n\n{}",
        user_manifest(&root, &root),
        profiles(&manifest)
    );
    write_user_crate(&user_of_checkout, &standalone, &root);
    std::fs::copy(root.join("Cargo.lock"), user_of_checkout.join("Cargo.lock")).expect("copy Cargo.lock");
    let (baseline, added) = std::thread::scope(|scope| {
        let baseline = scope.spawn(|| timed(|| cargo_check(&user_of_checkout, &[], &target)));
        let copy = timed(|| {
            copy_sdk(&root, &sdk, &manifest);
            let added = add_to_specs(&sdk);
            regenerate(&sdk, "the updated specs");
            added
        });
        let baseline = baseline.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (baseline, copy)
    });
    let ((baseline, baseline_time), (added, copy_time)) = (baseline, added);
    eprintln!("user crate against the checkout: {baseline_time:.1?}");
    eprintln!("copy, update and regeneration ({added}): {copy_time:.1?}");
    assert!(
        baseline.success,
        "the user crate (xtask/tests/evolution/user) does not compile against this checkout's crates, \
         so the test cannot tell what an update breaks; fix it or the API:\n{}",
        cargo_errors(&baseline)
    );
    assert_additions_generated(&sdk);

    // Unchanged, against the regenerated copies: cvm-api's examples, the
    // README's samples (as examples of the copy) and the user's crate (a
    // member of the copies' workspace: one check of the copy of cvm-api
    // serves all three).
    let samples = write_readme_samples(&root, &sdk.join("cvm-api/examples"));
    write_user_crate(&sdk.join(USER), &user_manifest(&sdk, &root), &root);
    let (out, time) = timed(|| cargo_check(&sdk, CHECK_COPIES, &target));
    eprintln!(
        "cvm-api's examples, {} README samples and the user crate against the copies: {time:.1?}",
        samples.len()
    );
    assert!(
        out.success,
        "after an update of the specs ({added}), code written against this checkout's crates no longer \
         compiles against the regenerated ones: {}. The README's samples are the copy's examples {}; the \
         user crate is xtask/tests/evolution/user. (If an example or sample does not compile against this \
         checkout's crates either, `cargo check -p cvm-api --examples` or `cargo test -p cvm-api --doc` \
         shows it.)\n{}",
        failed_targets(&out),
        samples.join(", "),
        cargo_errors(&out)
    );

    // The other way: a member the user sets, removed, breaks the user's
    // code, and the compiler says which.
    let (out, time) = timed(|| {
        remove_member(&sdk.join(REMOVED_SPEC), REMOVED_OBJECT, REMOVED_MEMBER);
        regenerate(&sdk, "the spec without a member");
        cargo_check(&sdk, CHECK_COPIES, &target)
    });
    eprintln!("user crate with {REMOVED_OBJECT}.{REMOVED_MEMBER} removed: {time:.1?}");
    assert!(
        !out.success,
        "{REMOVED_OBJECT}.{REMOVED_MEMBER} was removed from the spec, which the user crate sets with \
         `.external_id(..)`, yet it still compiles:\n{}",
        out.stderr
    );
    assert_eq!(
        failed_crates(&out),
        ["evolution-user"],
        "with {REMOVED_OBJECT}.{REMOVED_MEMBER} removed from the spec, the user crate alone should fail \
         to compile (removing an optional member breaks only the code that uses it; if an example or a \
         README sample now uses it too, remove another member here):\n{}",
        cargo_errors(&out)
    );
    let locations = error_locations(&out.stderr, REMOVED_ERROR);
    assert!(
        locations
            .iter()
            .any(|at| at.starts_with(&format!("{USER}/src/main.rs:"))),
        "with {REMOVED_OBJECT}.{REMOVED_MEMBER} removed, the user crate fails to compile, but the \
         compiler does not say `{REMOVED_ERROR}` in its src/main.rs (said at: {locations:?}):\n{}",
        cargo_errors(&out)
    );
    eprintln!("total: {:.1?}", started.elapsed());
}

/// A directory of the system's temporary directory, one per checkout and
/// the same at every run: cargo names the copies' outputs in the target
/// directory after their paths, so a new directory per run would leave
/// another set of them (over 50 MB) there every time; the same directory
/// also lets cargo's incremental caches (when on) serve the next run. Emptied when the
/// test starts; removed when it passes, kept for inspection when it fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new(root: &Path) -> Self {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        root.hash(&mut hasher);
        let dir = std::env::temp_dir().join(format!("cvm-evolution-{:016x}", hasher.finish()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("cannot empty {}: {e}", dir.display()));
        }
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "kept {} for inspection (emptied by the next run)",
                self.0.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_json(path: &Path, value: &Value) {
    write(path, &serde_json::to_string_pretty(value).expect("JSON"));
}

/// `cargo check --offline` in `dir` with `args`, in the workspace's target
/// directory, with plain rustc.
fn cargo_check(dir: &Path, args: &[&str], target: &Path) -> Output {
    let mut command = cargo_plain(dir, target);
    command
        .args(["check", "--offline", "--color", "never"])
        .args(args);
    run(&mut command, CARGO_LIMIT)
}

/// Cargo's stderr without its progress lines, cut after 300 lines.
fn cargo_errors(out: &Output) -> String {
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            ![
                "Checking ",
                "Compiling ",
                "Blocking ",
                "warning: profile package spec",
            ]
            .iter()
            .any(|noise| l.starts_with(noise))
        })
        .collect();
    let mut text = lines.iter().take(300).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > 300 {
        text.push_str(&format!("\n[... {} more lines]", lines.len() - 300));
    }
    text
}

/// The targets cargo could not compile, from its `error: could not compile`
/// lines.
fn failed_targets(out: &Output) -> String {
    let failed: Vec<&str> = out
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: could not compile "))
        .collect();
    if failed.is_empty() {
        "cargo failed".to_string()
    } else {
        failed.join("; ")
    }
}

/// The packages cargo could not compile.
fn failed_crates(out: &Output) -> Vec<&str> {
    let mut crates: Vec<&str> = out
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: could not compile `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    crates.dedup();
    crates
}

/// Where the compiler reports each error whose message contains `message`
/// (the `--> file:line:column` line that follows it).
fn error_locations<'a>(stderr: &'a str, message: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("error") && line.contains(message) {
            if let Some(at) = lines.by_ref().find_map(|l| l.trim_start().strip_prefix("--> ")) {
                found.push(at);
            }
        }
    }
    found
}

/// The user crate's manifest: the fixture's template with `cvm-api` and
/// `sts-api` from `crates` (the checkout or the copies' workspace).
fn user_manifest(crates: &Path, root: &Path) -> String {
    let path = root.join("xtask/tests/evolution/user/Cargo.toml.template");
    let mut manifest = read(&path);
    for (placeholder, krate) in [("@CVM_API@", "cvm-api"), ("@STS_API@", "services/sts-api")] {
        assert!(
            manifest.contains(placeholder),
            "{} has no {placeholder}",
            path.display()
        );
        manifest = manifest.replace(placeholder, &toml_string(&crates.join(krate)));
    }
    manifest
}

/// The user's crate in `dir`: `manifest` and the fixture's `src/`.
fn write_user_crate(dir: &Path, manifest: &str, root: &Path) {
    write(&dir.join("Cargo.toml"), manifest);
    copy_tree(&root.join("xtask/tests/evolution/user/src"), &dir.join("src"));
}

/// A workspace at `sdk` holding copies of [`CRATES`] and their specs, whose
/// manifest is the checkout's with those crates as members and every other
/// path dependency pointing into the checkout.
fn copy_sdk(root: &Path, sdk: &Path, manifest: &str) {
    for krate in CRATES {
        copy_tree(&root.join(krate), &sdk.join(krate));
        let name = Path::new(krate).file_name().unwrap().to_str().unwrap();
        if let Some(service) = name.strip_suffix("-api") {
            let spec = format!("spec/{service}");
            copy_tree(&root.join(&spec), &sdk.join(&spec));
        }
    }
    for (example, dependency) in LEFT_OUT_EXAMPLES {
        let example_path = sdk.join(format!("cvm-api/examples/{example}.rs"));
        std::fs::remove_file(&example_path).unwrap_or_else(|e| panic!("{}: {e}", example_path.display()));
        let manifest_path = sdk.join("cvm-api/Cargo.toml");
        let text = read(&manifest_path);
        let kept: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim_start().starts_with(&format!("{dependency} =")))
            .collect();
        assert_eq!(
            kept.len() + 1,
            text.lines().count(),
            "cvm-api/Cargo.toml should name `{dependency}` once, for its {example} example"
        );
        let others: Vec<std::path::PathBuf> = std::fs::read_dir(sdk.join("cvm-api/examples"))
            .expect("examples")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| read(p).contains(&dependency.replace('-', "_")))
            .collect();
        assert!(
            others.is_empty(),
            "{others:?} use {dependency} too: leave them out as well"
        );
        write(&manifest_path, &(kept.join("\n") + "\n"));
    }
    for file in ["Cargo.lock", "README.md"] {
        std::fs::copy(root.join(file), sdk.join(file)).unwrap_or_else(|e| panic!("cannot copy {file}: {e}"));
    }
    write(&sdk.join("Cargo.toml"), &sdk_manifest(manifest, root, sdk));
}

/// The checkout's workspace manifest with [`CRATES`] and [`USER`] as its
/// members and each relative `path = "..."` the copy lacks made absolute
/// into `root`.
fn sdk_manifest(manifest: &str, root: &Path, sdk: &Path) -> String {
    let members: Vec<String> = CRATES.iter().chain([&USER]).map(|c| format!("\"{c}\"")).collect();
    let mut out = String::new();
    let mut table = "";
    let mut in_array = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if in_array {
            in_array = !trimmed.contains(']');
            continue;
        }
        if trimmed.starts_with('[') {
            table = trimmed;
            out.push_str(line);
            out.push('\n');
            if table == "[workspace]" {
                out.push_str(&format!("members = [{}]\n", members.join(", ")));
            }
            continue;
        }
        let key = trimmed.split('=').next().unwrap_or_default().trim();
        if table == "[workspace]" && ["members", "default-members", "exclude"].contains(&key) {
            in_array = trimmed.contains('[') && !trimmed.contains(']');
            continue;
        }
        out.push_str(&rewrite_paths(line, root, sdk));
        out.push('\n');
    }
    assert!(
        out.lines().any(|l| l.trim() == "[workspace]"),
        "the workspace manifest has no [workspace] table"
    );
    out
}

/// `line` with the value of each `path = "..."` key that names no directory
/// of `sdk` made absolute into `root`.
fn rewrite_paths(line: &str, root: &Path, sdk: &Path) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("path") {
        let is_key = match rest[..at].chars().next_back() {
            None => true,
            Some(c) => c == '{' || c == ',' || c.is_whitespace(),
        };
        let after = rest[at + 4..].trim_start();
        let value = after
            .strip_prefix('=')
            .map(str::trim_start)
            .and_then(|v| v.strip_prefix('"'))
            .and_then(|v| v.find('"').map(|end| &v[..end]));
        match value {
            Some(value) if is_key => {
                let start = at
                    + rest[at..]
                        .find(&format!("\"{value}\""))
                        .expect("the value just read");
                out.push_str(&rest[..start]);
                let relative = Path::new(value);
                if relative.is_relative() && !sdk.join(relative).exists() {
                    out.push_str(&toml_string(&root.join(relative)));
                } else {
                    out.push_str(&rest[start..start + value.len() + 2]);
                }
                rest = &rest[start + value.len() + 2..];
            }
            _ => {
                out.push_str(&rest[..at + 4]);
                rest = &rest[at + 4..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What [`add_to_specs`] added, for messages.
#[derive(Default)]
struct Added {
    specs: usize,
    members: usize,
    codes: usize,
    values: usize,
}

impl std::fmt::Display for Added {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} specs, each with a new action; a new optional member on {} objects, a new code on {} \
             actions, a new value in {} enums",
            self.specs, self.members, self.codes, self.values
        )
    }
}

/// The spec directories (`spec/<service>/<version>`) under `sdk`.
fn spec_dirs(sdk: &Path) -> Vec<PathBuf> {
    let targets = xtask::regen::targets(sdk).unwrap_or_else(|e| panic!("{e}"));
    targets.iter().map(|t| sdk.join(&t.spec)).collect()
}

/// Tencent's usual additions, to every spec under `sdk`.
fn add_to_specs(sdk: &Path) -> Added {
    let mut added = Added::default();
    for dir in spec_dirs(sdk) {
        add_to_spec(&dir, &mut added);
        added.specs += 1;
    }
    added
}

fn add_to_spec(dir: &Path, added: &mut Added) {
    let api_path = dir.join("api.json");
    let mut api = read_json(&api_path);
    let objects = api["objects"]
        .as_object_mut()
        .unwrap_or_else(|| panic!("{}: no objects", api_path.display()));
    for (name, object) in objects.iter_mut() {
        let members = object["members"]
            .as_array_mut()
            .unwrap_or_else(|| panic!("{}: {name} has no members", api_path.display()));
        assert!(
            !members.iter().any(|m| m["name"] == NEW_MEMBER),
            "{name} already has a member {NEW_MEMBER}"
        );
        members.push(json!({
            "document": "A parameter added by a later version of the API.",
            "example": "added",
            "member": "string",
            "name": NEW_MEMBER,
            "required": false,
            "type": "string"
        }));
        added.members += 1;
    }
    let (request, response) = (format!("{NEW_ACTION}Request"), format!("{NEW_ACTION}Response"));
    for name in [&request, &response] {
        assert!(!objects.contains_key(name), "{name} is already in the spec");
    }
    objects.insert(
        request.clone(),
        json!({
            "document": format!("Parameters of {NEW_ACTION}."),
            "members": [{
                "document": "IDs of the gadgets to describe.",
                "member": "string",
                "name": "GadgetIds",
                "required": false,
                "type": "list"
            }],
            "type": "object"
        }),
    );
    objects.insert(
        response.clone(),
        json!({
            "document": format!("Result of {NEW_ACTION}."),
            "members": [
                {
                    "document": "Names of the gadgets.",
                    "member": "string",
                    "name": "GadgetNames",
                    "output_required": true,
                    "type": "list"
                },
                {
                    "document": "Unique ID of the request, generated by the service.",
                    "member": "string",
                    "name": "RequestId",
                    "type": "string"
                }
            ],
            "type": "object"
        }),
    );
    let actions = api["actions"]
        .as_object_mut()
        .unwrap_or_else(|| panic!("{}: no actions", api_path.display()));
    assert!(
        !actions.contains_key(NEW_ACTION),
        "{NEW_ACTION} is already in the spec"
    );
    actions.insert(
        NEW_ACTION.to_string(),
        json!({
            "document": "Describes gadgets, an action added by a later version of the API.",
            "input": request,
            "name": "Describe gadgets",
            "output": response,
            "status": "online"
        }),
    );
    let action_names: Vec<String> = actions.keys().cloned().collect();
    write_json(&api_path, &api);

    let errors_path = dir.join("errors.json");
    let mut errors = if errors_path.exists() {
        read_json(&errors_path)
    } else {
        json!({ "codes": {}, "common": [], "actions": {} })
    };
    errors["codes"]
        .as_object_mut()
        .unwrap_or_else(|| panic!("{}: no codes", errors_path.display()))
        .insert(
            NEW_CODE.to_string(),
            "A code added by a later version of the API.".into(),
        );
    let documented = errors["actions"]
        .as_object_mut()
        .unwrap_or_else(|| panic!("{}: no actions", errors_path.display()));
    for action in action_names {
        documented
            .entry(action)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("a list of codes")
            .push(NEW_CODE.into());
        added.codes += 1;
    }
    write_json(&errors_path, &errors);

    let rules_path = dir.join("rules.json");
    if rules_path.exists() {
        let mut rules = read_json(&rules_path);
        if let Some(enums) = rules.get_mut("enums").and_then(Value::as_object_mut) {
            for (name, set) in enums.iter_mut() {
                let values = set["values"]
                    .as_array_mut()
                    .unwrap_or_else(|| panic!("{}: enum {name} has no values", rules_path.display()));
                values.push(NEW_VALUE.into());
                added.values += 1;
            }
        }
        write_json(&rules_path, &rules);
    }
}

/// Removes `member` from `object` in the spec at `dir`, with its rule and
/// its place in an enum if it has them.
fn remove_member(dir: &Path, object: &str, member: &str) {
    let api_path = dir.join("api.json");
    let mut api = read_json(&api_path);
    let members = api["objects"][object]["members"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("{}: no object {object}", api_path.display()));
    let before = members.len();
    members.retain(|m| m["name"] != member);
    assert_eq!(members.len() + 1, before, "{object} has no member {member}");
    write_json(&api_path, &api);

    let rules_path = dir.join("rules.json");
    if rules_path.exists() {
        let mut rules = read_json(&rules_path);
        if let Some(rules_of) = rules["objects"].get_mut(object).and_then(Value::as_object_mut) {
            rules_of.remove(member);
            if rules_of.is_empty() {
                rules["objects"].as_object_mut().expect("objects").remove(object);
            }
        }
        let path = format!("{object}.{member}");
        if let Some(enums) = rules.get_mut("enums").and_then(Value::as_object_mut) {
            for set in enums.values_mut() {
                if let Some(members) = set["members"].as_array_mut() {
                    members.retain(|m| m.as_str() != Some(path.as_str()));
                }
            }
        }
        write_json(&rules_path, &rules);
    }
}

/// Every generated crate under `sdk` regenerated from its spec, with the
/// generator of this checkout.
fn regenerate(sdk: &Path, what: &str) {
    let outcome = xtask::regen::regen(sdk, xtask::regen::Mode::Write)
        .unwrap_or_else(|e| panic!("the generator refuses {what}:\n{e}"));
    assert!(
        !outcome.stale.is_empty(),
        "regenerating from {what} changed no file"
    );
}

/// The generated code of each copied crate shows every kind of addition, so
/// the checks that follow are of the updated crates.
fn assert_additions_generated(sdk: &Path) {
    for target in xtask::regen::targets(sdk).unwrap_or_else(|e| panic!("{e}")) {
        let dir = sdk.join(&target.out);
        let mut code = String::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                code.push_str(&read(&path));
            }
        }
        let mut expected = vec![
            "pub evolution_added_member: Option<String>",
            "FailedOperationEvolutionAddedCode",
            "fn describe_evolution_gadgets",
        ];
        if target.spec == xtask::regen::CVM_SPEC {
            expected.push("EvolutionAddedValue");
        }
        for text in expected {
            assert!(
                code.contains(text),
                "the code regenerated in {} from the updated spec has no `{text}`",
                target.out
            );
        }
    }
}

/// Each README block rustdoc compiles, as rustdoc builds it, written to
/// `examples` as `readme_line_<N>.rs` (N: the line of its opening fence),
/// so that it is checked as an example of cvm-api: its doc tests build
/// with cvm-api's dev-dependencies too. Returns the examples' names.
fn write_readme_samples(root: &Path, examples: &Path) -> Vec<String> {
    let readme = read(&root.join("README.md"));
    let mut names = Vec::new();
    for block in fenced_blocks(&readme)
        .into_iter()
        .filter(|b| is_compiled_rust(b.info))
    {
        let name = format!("readme_line_{}", block.line);
        let path = examples.join(format!("{name}.rs"));
        assert!(!path.exists(), "cvm-api already has an example {name}");
        write(&path, &doctest_program(&block.body));
        names.push(name);
    }
    assert!(
        !names.is_empty(),
        "README.md has no Rust sample: is `is_compiled_rust` out of date?"
    );
    names
}
