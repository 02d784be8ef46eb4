//! The committed spec and generated code, checked against themselves and
//! against the official API description.

#[path = "../../cvm-api/tests/support/tccli.rs"]
mod tccli;

use std::collections::BTreeMap;

use tencentcloud_model::spec::{ApiFile, MemberKind};
use xtask::regen::{self, Mode};

fn root() -> std::path::PathBuf {
    regen::workspace_root().expect("the tests run inside the workspace")
}

#[test]
fn checked_in_generated_code_is_fresh() {
    let outcome = regen::regen(&root(), Mode::Check).expect("the spec generates");
    let stale: Vec<String> = outcome.stale.iter().map(|p| p.display().to_string()).collect();
    assert!(
        stale.is_empty(),
        "generated code is stale; run `cargo xtask regen` to update:\n  {}",
        stale.join("\n  ")
    );
}

/// Every file under `spec/` (each service and version) and every crate's
/// generated code: Tencent's descriptions come bundled facts-only.
#[test]
fn no_chinese_text_in_the_spec_or_generated_code() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let root = root();
    let mut checked = Vec::new();
    files(&root.join("spec"), &mut checked);
    let mut crates = vec![root.join("cvm-api")];
    for entry in std::fs::read_dir(root.join("services")).unwrap() {
        crates.push(entry.unwrap().path());
    }
    let mut generated_dirs = 0;
    for krate in crates {
        let generated = krate.join("src/generated");
        if generated.is_dir() {
            generated_dirs += 1;
            files(&generated, &mut checked);
        }
    }
    let mut offenders = Vec::new();
    for path in &checked {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line
                .chars()
                .any(|c| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c))
            {
                offenders.push(format!("{}:{}: {line}", path.display(), n + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "Chinese text found:\n{}",
        offenders.join("\n")
    );
    // Six services' spec files and the generated code of each crate.
    assert!(
        generated_dirs >= 6 && checked.len() >= 30,
        "{generated_dirs} dirs, {} files",
        checked.len()
    );
}

/// The seed service is documented in our words: every action and every
/// member of every object has prose (RequestId too), so rustdoc and
/// `tcloud cvm <Action> help` say more than names and types.
#[test]
fn every_cvm_action_and_member_has_our_prose() {
    let api = ours();
    let mut missing = Vec::new();
    for (name, action) in &api.actions.0 {
        if action.document.trim().is_empty() {
            missing.push(format!("actions.{name}"));
        }
    }
    let mut members = 0;
    for (name, object) in &api.objects.0 {
        for m in &object.members {
            members += 1;
            // A sentence, not a name: at least a few words.
            if m.document.split_whitespace().count() < 3 {
                missing.push(format!("objects.{name}.{}: {:?}", m.name, m.document));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} without prose (write it in spec/cvm/v20170312/api.json):\n{}",
        missing.len(),
        missing.join("\n")
    );
    assert_eq!((api.actions.0.len(), members), (106, 1144));
}

/// A request rate is a fact of `rules.json`'s `rate_limits`, stated in the
/// docs by the model's facts; prose that repeated it would drift from the data.
#[test]
fn the_cvm_prose_states_no_rate_limit_by_hand() {
    let dir = root().join("spec/cvm/v20170312");
    let api = ours();
    let mut documents: Vec<(String, &str)> = Vec::new();
    for (name, action) in &api.actions.0 {
        documents.push((format!("actions.{name}"), &action.document));
    }
    for (name, object) in &api.objects.0 {
        documents.push((format!("objects.{name}"), &object.document));
        for m in &object.members {
            documents.push((format!("objects.{name}.{}", m.name), &m.document));
        }
    }
    // How prose words a rate; "a second call" and "MiB/s" are not one.
    let rate = ["per second", "calls a second", "requests a second", "/sec", "qps"];
    let stated: Vec<String> = documents
        .iter()
        .filter(|(_, text)| rate.iter().any(|r| text.to_lowercase().contains(r)))
        .map(|(path, text)| format!("{path}: {text}"))
        .collect();
    assert!(
        stated.is_empty(),
        "state rate limits in rules.json's rate_limits, not in prose:\n{}",
        stated.join("\n")
    );
    let model = tencentcloud_model::load_dir(&dir).unwrap();
    let limited: Vec<&str> = model
        .actions
        .iter()
        .filter(|a| a.rate_limit.is_some())
        .map(|a| a.name.as_str())
        .collect();
    assert!(!limited.is_empty(), "the CVM spec states no rate limit at all");
}

fn official() -> ApiFile {
    tencentcloud_model::parse_api(&tccli::read_official("api.json")).expect("official api.json parses")
}

fn ours() -> ApiFile {
    let text = std::fs::read_to_string(root().join("spec/cvm/v20170312/api.json")).unwrap();
    tencentcloud_model::parse_api(&text).unwrap()
}

#[test]
fn every_official_action_is_in_the_spec() {
    let (official, ours) = (official(), ours());
    assert_eq!(official.actions.0.len(), 106);
    let missing: Vec<&String> = official
        .actions
        .0
        .keys()
        .filter(|a| !ours.actions.0.contains_key(*a))
        .collect();
    assert!(missing.is_empty(), "actions missing from the spec: {missing:?}");
    for (name, action) in &ours.actions.0 {
        let theirs = &official.actions.0[name];
        assert_eq!(
            (&action.input, &action.output),
            (&theirs.input, &theirs.output),
            "{name}"
        );
    }
}

#[test]
fn every_member_matches_the_official_description() {
    let (official, ours) = (official(), ours());
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (name, object) in &ours.objects.0 {
        let Some(theirs) = official.objects.0.get(name) else {
            mismatches.push(format!("{name}: not in the official file"));
            continue;
        };
        let key =
            |m: &tencentcloud_model::spec::MemberDef| (m.kind, m.member.clone(), m.required.unwrap_or(false));
        let mine: BTreeMap<&str, (MemberKind, String, bool)> =
            object.members.iter().map(|m| (m.name.as_str(), key(m))).collect();
        let their: BTreeMap<&str, (MemberKind, String, bool)> =
            theirs.members.iter().map(|m| (m.name.as_str(), key(m))).collect();
        if mine != their {
            mismatches.push(format!("{name}: ours {mine:?}\n  theirs {their:?}"));
        }
        for (a, b) in object.members.iter().zip(&theirs.members) {
            compared += 1;
            if (a.output_required, a.value_allowed_null, a.disabled)
                != (b.output_required, b.value_allowed_null, b.disabled)
            {
                mismatches.push(format!("{name}.{}: nullability/deprecation differs", a.name));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(ours.objects.0.len(), 286);
    assert!(compared >= 1144, "compared {compared} members");
}

#[test]
fn importing_everything_again_changes_nothing() {
    let spec_dir = root().join("spec/cvm/v20170312");
    let mut files = xtask::import::read_spec(&spec_dir).unwrap();
    let before_api = std::fs::read_to_string(spec_dir.join("api.json")).unwrap();
    let before_errors = std::fs::read_to_string(spec_dir.join("errors.json")).unwrap();
    let opts = xtask::import::Options {
        from: tccli::official_dir().join("api.json"),
        actions: Vec::new(),
        all: true,
        keep_docs: false,
        errors_from: None,
        errorcodes: None,
        overwrite: false,
    };
    let sources = xtask::import::ErrorSources::load(&root(), &opts).unwrap();
    let report =
        xtask::import::import(&mut files, &tccli::read_official("api.json"), &sources, &opts).unwrap();
    assert_eq!((report.actions_added, report.actions_updated), (0, 0));
    assert_eq!((report.objects_added, report.objects_updated), (0, 0));
    assert_eq!((report.codes_attached, report.codes_added), (0, 0));
    assert!(report.codes_skipped.is_empty(), "{:?}", report.codes_skipped);
    assert!(
        report.actions_without_codes.is_empty(),
        "{:?}",
        report.actions_without_codes
    );
    assert_eq!(xtask::import::to_stable_json(&files.api).unwrap(), before_api);
    assert_eq!(
        xtask::import::to_stable_json(&files.errors).unwrap(),
        before_errors
    );
}

/// The pinned Python SDK lists every code our spec attaches to an action, and
/// only codes: its comments (Chinese prose) are never read.
#[test]
fn the_python_sdk_lists_every_code_an_action_returns() {
    let path = xtask::sdk_codes::fetch(&root()).unwrap();
    let service = xtask::sdk_codes::read(&path).unwrap();
    assert_eq!(
        service.len(),
        422,
        "tencentcloud-sdk-python-cvm 3.1.178 lists 422 codes"
    );
    assert!(service.iter().all(|c| c.is_ascii()));
    let errors = xtask::import::read_spec(&root().join("spec/cvm/v20170312"))
        .unwrap()
        .errors;
    let missing: Vec<&String> = errors
        .actions
        .0
        .values()
        .flatten()
        .filter(|c| !service.contains(*c))
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
}
