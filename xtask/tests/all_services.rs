//! `cargo xtask services` through its library: every official service version
//! (tccli 3.1.189.1, Python SDK 3.1.189, pinned and cached under target/)
//! must import and validate, and tcloud's bundle must hold exactly them.
//! Generation, the costly part (about 90 s of CPU for all 300 in a debug
//! build), runs here on a fixed sample: the services whose descriptions found
//! generator bugs, the largest, and every [`GENERATE_EVERY`]th service. The
//! whole generation is `cargo xtask services` (and `cargo xtask exhaustive`).

use std::collections::BTreeSet;

use codegen::GeneratedFile;
use xtask::services::{self, Inputs, Outcome, RunOptions, ServiceVersion};

fn inputs() -> Inputs {
    let root = xtask::regen::workspace_root().unwrap();
    Inputs::resolve(&root, None, None).unwrap_or_else(|e| panic!("{e}"))
}

/// Every problem, `service/version: problem`, one a line.
fn problems(outcomes: &[Outcome]) -> String {
    let mut lines = Vec::new();
    for o in outcomes {
        for p in &o.problems {
            lines.push(format!("{}/{}: {p}", o.id.service, o.id.version));
        }
    }
    lines.join("\n")
}

/// The services whose descriptions found a generator bug (each fix has its
/// own test in codegen): aai (an action without `status`), cii (a `binary`
/// member), cpdp (errorcodes.py constants that are not codes), databuddy
/// (`"required": 1`), ess, gs, iai, tiia (objects `Option`, `Error`,
/// `Result`, `Box`), monitor (two versions; a required bool carried by
/// responses too), sts (`skip_sign`), autoscaling (serviceShortName `as`, a
/// keyword); and csip, the largest.
const GENERATED_ALWAYS: &[&str] = &[
    "aai",
    "autoscaling",
    "cii",
    "cpdp",
    "csip",
    "databuddy",
    "ess",
    "gs",
    "iai",
    "monitor",
    "sts",
    "tiia",
];
/// Besides those, every this-many-th service (by name) is generated too.
const GENERATE_EVERY: usize = 20;

/// Every official service version validated, and the sample generated.
#[test]
fn every_official_service_version_validates_and_the_sample_generates() {
    let inputs = inputs();
    let ids = services::discover(&inputs.descriptions, &[]).unwrap();
    let options = RunOptions {
        generate: false,
        keep_bundle_entry: true,
        ..RunOptions::default()
    };
    let outcomes = services::check_all(&inputs, &ids, &options);
    let found = problems(&outcomes);
    assert!(found.is_empty(), "problems:\n{found}");
    let services: BTreeSet<&str> = ids.iter().map(|id| id.service.as_str()).collect();
    assert_eq!((services.len(), ids.len()), (262, 300));
    let actions: usize = outcomes.iter().map(|o| o.actions).sum();
    let objects: usize = outcomes.iter().map(|o| o.objects).sum();
    assert_eq!(
        (actions, objects),
        (16_204, 48_044),
        "every action and object is imported"
    );

    // Whole services, so that each is laid out as with all its versions.
    let sampled: BTreeSet<&str> = services
        .iter()
        .enumerate()
        .filter(|(i, name)| i % GENERATE_EVERY == 0 || GENERATED_ALWAYS.contains(name))
        .map(|(_, name)| *name)
        .collect();
    assert!(
        GENERATED_ALWAYS.iter().all(|name| sampled.contains(name)),
        "a service of GENERATED_ALWAYS is no longer among the official ones"
    );
    let sample: Vec<_> = ids
        .iter()
        .filter(|id| sampled.contains(id.service.as_str()))
        .cloned()
        .collect();
    let generated = services::check_all(&inputs, &sample, &RunOptions::default());
    let found = problems(&generated);
    assert!(found.is_empty(), "problems:\n{found}");
    assert!(
        generated.iter().all(|o| o.lines > 0),
        "each sampled service version generates code"
    );
    assert!(sample.len() >= 25, "{} sampled", sample.len());

    // tcloud's bundle holds exactly these descriptions.
    let sources: Vec<_> = outcomes
        .iter()
        .map(|o| tencentcloud_descriptions::Source {
            service: o.id.service.clone(),
            version: o.id.version.clone(),
            default: inputs.defaults.get(&o.id.service) == Some(&o.id.version),
            json: o.bundle_entry.clone().expect("kept"),
        })
        .collect();
    let root = xtask::regen::workspace_root().unwrap();
    let bundle = std::fs::read(root.join(xtask::cli_descriptions::BUNDLE)).unwrap();
    if let Some(why) = xtask::cli_descriptions::stale(&bundle, &sources).unwrap() {
        panic!(
            "{} is stale ({why}): run `cargo xtask cli-descriptions`",
            xtask::cli_descriptions::BUNDLE
        );
    }
    // The only official input left out: two constants of cpdp's errorcodes.py.
    let notes: Vec<String> = outcomes
        .iter()
        .flat_map(|o| {
            o.notes
                .iter()
                .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
        })
        .collect();
    assert_eq!(
        notes,
        [
            "errorcodes.py:369: `INTERNALERROR_` is `InternalError.`, not an error code like `InvalidInstanceId.NotFound`",
            "errorcodes.py:495: `MISSINGPARAMETER_` is `MissingParameter.`, not an error code like `InvalidInstanceId.NotFound`",
        ]
    );
}

/// Which actions page, over every official service version (their models
/// built from the bundle, as `tencentcloud`'s build does): the census, so a
/// change of the paging rule (`tencentcloud_model::paging`) shows what it
/// gains or loses, and the shapes it must (not) take.
#[test]
fn paging_over_every_official_service_version() {
    use tencentcloud_model::model::PagingStyle;
    let entries = tencentcloud_descriptions::read(tencentcloud_descriptions::OFFICIAL).unwrap();
    assert_eq!(entries.len(), 300);
    let mut styles = (0, 0);
    let mut paging = std::collections::BTreeMap::new();
    for e in &entries {
        let entry = tencentcloud_model::official::parse_entry(&e.inflate().unwrap()).unwrap();
        let model = tencentcloud_model::official::model(&entry).unwrap();
        for action in &model.actions {
            let p = action.paging.as_ref();
            match p.map(|p| p.style) {
                Some(PagingStyle::Offset) => styles.0 += 1,
                Some(PagingStyle::Token) => styles.1 += 1,
                None => {}
            }
            let key = format!("{}/{} {}", e.service, e.version, action.name);
            paging.insert(key, p.map(|p| (p.style, p.items.clone())));
        }
    }
    // 1499 (1466 + 33) before string numbers and several lists were read.
    assert_eq!(styles, (1500, 33), "paginated actions (offset, token)");
    let of = |key: &str| paging[key].clone();
    let offset = |items: &str| Some((PagingStyle::Offset, items.to_owned()));
    // Strings Offset and Limit.
    assert_eq!(of("vpc/v20170312 DescribeVpcs"), offset("VpcSet"));
    // Clusters beside the list of strings Errors.
    assert_eq!(of("tke/v20220501 DescribeClusters"), offset("Clusters"));
    assert_eq!(of("tke/v20180525 DescribeClusters"), offset("Clusters"));
    // A string TotalCount.
    assert_eq!(of("waf/v20180125 DescribeCustomRuleList"), offset("RuleList"));
    // Strings Offset and Limit beside a NextToken: the token.
    assert_eq!(
        of("vpc/v20170312 DescribeSubnets"),
        Some((PagingStyle::Token, "SubnetSet".to_owned()))
    );
    // Several lists of objects: not decided.
    assert_eq!(of("csip/v20221121 DescribeAssetTags"), None);
    assert_eq!(of("gaap/v20180529 DescribeProxies"), None);
}

#[test]
fn a_common_code_the_service_also_lists_is_left_to_the_runtime() {
    let common = tencentcloud_model::official::common_codes();
    assert!(
        common["InternalError"].len() > 10,
        "the runtime's English description"
    );
    let codes: BTreeSet<String> = [
        "InternalError",
        "AuthFailure.SignatureFailure",
        "ResourceNotFound.Vpc",
    ]
    .map(String::from)
    .into();
    let errors = tencentcloud_model::official::errors_file(&codes);
    assert!(errors.common.is_empty(), "not copied into each service");
    assert!(errors.actions.0.is_empty());
    assert_eq!(
        errors.codes.0.keys().collect::<Vec<_>>(),
        ["ResourceNotFound.Vpc"]
    );
    assert_eq!(errors.codes.0["ResourceNotFound.Vpc"], "");
}

#[test]
fn unknown_services_are_named() {
    let inputs = inputs();
    let err = services::discover(&inputs.descriptions, &["vpcx".to_string()]).unwrap_err();
    assert!(
        err.contains("no such service") && err.contains("vpcx (did you mean `vpc`?)"),
        "{err}"
    );
}

fn outcome(service: &str, version: &str, files: &[&'static str]) -> Outcome {
    Outcome {
        id: ServiceVersion {
            service: service.into(),
            version: version.into(),
        },
        actions: 0,
        objects: 0,
        lines: 0,
        problems: Vec::new(),
        notes: Vec::new(),
        elapsed: Default::default(),
        bundle_entry: None,
        files: files
            .iter()
            .map(|name| GeneratedFile {
                name,
                contents: format!("// {service} {version} {name}\n"),
            })
            .collect(),
    }
}

#[test]
fn compile_writes_a_crate_per_service_and_a_module_per_version() {
    let root = xtask::regen::workspace_root().unwrap();
    let dir = std::env::temp_dir().join(format!("xtask-services-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut broken = outcome("cii", "v20210408", &["mod.rs"]);
    broken.problems.push("api.json: something".into());
    let outcomes = [
        broken,
        outcome("monitor", "v20180724", &["mod.rs", "types.rs"]),
        outcome("monitor", "v20230616", &["mod.rs"]),
        outcome("tag", "v20180813", &["mod.rs"]),
    ];
    let crates = services::write_workspace(&root, &dir, &outcomes).unwrap();
    assert_eq!(
        crates,
        ["monitor", "tag"],
        "a service version with problems is left out"
    );
    let read = |path: &str| std::fs::read_to_string(dir.join(path)).unwrap();
    assert!(read("Cargo.toml").contains("members = [\n    \"monitor\",\n    \"tag\",\n]"));
    let manifest = read("tag/Cargo.toml");
    assert!(manifest.contains("name = \"tencentcloud-tag\""), "{manifest}");
    assert!(manifest.contains(&format!("path = {:?}", root.join("runtime").to_str().unwrap())));
    assert!(read("tag/src/lib.rs").contains("mod generated;\npub use generated::*;"));
    assert_eq!(read("tag/src/generated/mod.rs"), "// tag v20180813 mod.rs\n");
    let lib = read("monitor/src/lib.rs");
    assert!(
        lib.contains("pub mod v20180724;") && lib.contains("pub mod v20230616;"),
        "{lib}"
    );
    assert_eq!(
        read("monitor/src/v20180724/types.rs"),
        "// monitor v20180724 types.rs\n"
    );
    assert!(read("Cargo.lock").contains("name = \"serde\""));
    std::fs::remove_dir_all(&dir).unwrap();
}
