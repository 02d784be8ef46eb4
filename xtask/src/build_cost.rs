//! `cargo xtask build-cost`: what a user pays to build a service, measured
//! on a user's program, against `aws-sdk-ec2` for scale.
//!
//! Each case is a tiny binary crate under `DIR/<case>/` (default
//! `target/build-cost`), outside the workspace (a `[workspace]` table of its
//! own, cargo's default profiles: what a user gets), with its own
//! `CARGO_TARGET_DIR` (`DIR/<case>/target`). The `tencentcloud` cases depend
//! on this checkout's `tencentcloud` crate with one service feature and use
//! the checkout's `Cargo.lock`; `aws-sdk-ec2` depends on the newest
//! `aws-sdk-ec2` from crates.io. Each `main.rs` makes a client and builds one
//! action's request future (never sent), so the code is compiled and linked.
//!
//! Per case, after an untimed `cargo fetch`:
//! 1. the first debug build from clean, `cargo build --offline`;
//! 2. the crate alone: `cargo clean -p <package>` (untimed) then `cargo build
//!    --offline` again. The package is `tencentcloud` for a generated service
//!    (its build script is compiled and run again: the generation is part of
//!    the figure), the committed crate for a curated one (`vpc-api`, then the
//!    facade and the program above it), `aws-sdk-ec2` for the comparison.
//!
//! Every timed build runs under `/usr/bin/time -v` in a process group of its
//! own: wall, CPU (user + system of the build and every process it waited
//! for) and the largest single process's peak RSS come from `time`; the
//! peak of the whole group's RSS at once is sampled from `/proc`, as are the
//! load average and the CPU the rest of the machine used meanwhile. Each
//! child is killed (the whole group) after `--timeout`. Results are saved in
//! `DIR/<case>/result.json`, so a later run (`--only`, `--crate-alone-only`)
//! prints them beside its own. Heavy: not part of the test suite; only its
//! parsing is unit-tested.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tencentcloud_descriptions as bundle;

/// The cases run without `--only`, in order.
pub const DEFAULT_CASES: &[&str] = &["tke", "vpc", LARGEST, AWS];
/// The largest service by action count (every version) the facade generates
/// at build time (not curated), found in the bundle.
pub const LARGEST: &str = "largest";
/// The comparison.
pub const AWS: &str = "aws-sdk-ec2";

/// The command's options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only this case: `tke`, `vpc`, `largest` (the largest generated
    /// service), `aws-sdk-ec2`, or any service's feature name; repeatable.
    #[arg(long = "only", value_name = "CASE")]
    pub only: Vec<String>,
    /// Where the user programs and their target directories go.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Measure the crate-alone rebuild this many times per case.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Skip the first build: the case's earlier build in DIR must exist; the
    /// crate-alone runs are added to its saved result.
    #[arg(long)]
    pub crate_alone_only: bool,
    /// Kill any child (with its processes) after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2400)]
    pub timeout: u64,
}

/// What a case builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `tencentcloud` with one service's feature.
    Facade {
        service: String,
        /// The committed crate re-exported for a curated service.
        curated_package: Option<String>,
        /// The client method the program calls (`describe_clusters`).
        method: String,
    },
    /// The newest `aws-sdk-ec2`.
    Aws,
}

/// One user program to build.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its directory and row name (`tke`, `aws-sdk-ec2`).
    pub name: String,
    pub kind: Kind,
    /// What the row stands for (`tke: generated, 296 actions (v20180525 272, ...)`).
    pub description: String,
    /// Actions compiled, every version; 0 for aws-sdk-ec2 (not counted).
    pub actions: usize,
}

impl Case {
    /// The package `cargo clean -p` removes for the crate-alone rebuild.
    pub fn cleaned_package(&self) -> &str {
        match &self.kind {
            Kind::Facade {
                curated_package: Some(package),
                ..
            } => package,
            Kind::Facade { .. } => "tencentcloud",
            Kind::Aws => AWS,
        }
    }

    fn package_name(&self) -> String {
        format!("build-cost-{}", self.name)
    }
}

/// One timed build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// `first build` or `crate alone`.
    pub step: String,
    pub wall_s: f64,
    pub user_s: f64,
    pub sys_s: f64,
    /// The largest single process's peak RSS (`time`'s maximum resident set).
    pub max_rss_kb: u64,
    /// The peak of the sum of the build's processes' RSS, sampled.
    pub peak_group_rss_kb: u64,
    /// CPU seconds the rest of the machine used during the build.
    pub others_cpu_s: f64,
    /// One-minute load average at the start, its highest sample, at the end.
    pub load: [f64; 3],
    /// The packages cargo compiled (`Compiling <name>` lines).
    pub compiled: Vec<String>,
    /// The command, as a shell line.
    pub command: String,
    /// The checkout's commit when measured (`+dirty`: uncommitted changes).
    #[serde(default)]
    pub checkout: String,
}

impl Measurement {
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }
}

/// A case's saved figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case: String,
    pub description: String,
    pub actions: usize,
    /// The aws-sdk-ec2 version resolved, or the checkout's commit.
    pub version: String,
    /// The packages a crate-alone build compiles when nothing else changed.
    #[serde(default)]
    pub expected_alone: Vec<String>,
    pub first: Option<Measurement>,
    pub crate_alone: Vec<Measurement>,
    /// Loaded from an earlier run rather than measured now.
    #[serde(skip)]
    pub saved: bool,
}

impl CaseResult {
    /// The crate-alone run with the median wall time.
    pub fn crate_alone_median(&self) -> Option<&Measurement> {
        let mut runs: Vec<&Measurement> = self.crate_alone.iter().collect();
        runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
        runs.get(runs.len().saturating_sub(1) / 2).copied()
    }
}

/// `cargo xtask build-cost`.
pub fn run_command(root: &Path, args: &Args) -> Result<ExitCode, String> {
    let dir = match &args.dir {
        Some(dir) if dir.is_absolute() => dir.clone(),
        Some(dir) => std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?
            .join(dir),
        None => root.join("target/build-cost"),
    };
    let names: Vec<String> = if args.only.is_empty() {
        DEFAULT_CASES.iter().map(|s| s.to_string()).collect()
    } else {
        args.only.clone()
    };
    let cases = resolve_cases(root, &names)?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let clock_ticks = clock_ticks();
    let mut results = Vec::new();
    for case in &cases {
        eprintln!("== {}: {}", case.name, case.description);
        let result = run_case(root, &dir, case, args, clock_ticks)?;
        let path = dir.join(&case.name).join("result.json");
        let text = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        results.push(result);
    }
    // Cases saved by earlier runs in DIR, for the comparison.
    for name in saved_case_names(&dir) {
        if results.iter().any(|r| r.case == name) {
            continue;
        }
        if let Some(mut saved) = load_result(&dir.join(&name).join("result.json")) {
            saved.saved = true;
            results.push(saved);
        }
    }
    // The comparison last.
    results.sort_by_key(|r| r.case == AWS);
    for line in table(&results) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn saved_case_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("result.json").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn load_result(path: &Path) -> Option<CaseResult> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The cases named, `largest` resolved.
pub fn resolve_cases(root: &Path, names: &[String]) -> Result<Vec<Case>, String> {
    let bytes = std::fs::read(root.join(bundle::OFFICIAL_PATH))
        .map_err(|e| format!("cannot read {}: {e}", bundle::OFFICIAL_PATH))?;
    let services = crate::facade::services(root, &bytes)?;
    let mut cases: Vec<Case> = Vec::new();
    for name in names {
        let case = if name == AWS {
            Case {
                name: AWS.into(),
                kind: Kind::Aws,
                description: "aws-sdk-ec2 (newest on crates.io, default features)".into(),
                actions: 0,
            }
        } else {
            let service = if name == LARGEST {
                largest_generated(root)?.0
            } else {
                name.clone()
            };
            let facts = services
                .iter()
                .find(|s| s.name == service)
                .ok_or_else(|| format!("no case or service `{name}` (cases: {DEFAULT_CASES:?})"))?;
            facade_case(root, &bytes, facts, name == LARGEST)?
        };
        if !cases.iter().any(|c| c.name == case.name) {
            cases.push(case);
        }
    }
    Ok(cases)
}

/// The largest service the facade generates at build time, and its action
/// count over every version.
pub fn largest_generated(root: &Path) -> Result<(String, usize), String> {
    let bytes = std::fs::read(root.join(bundle::OFFICIAL_PATH))
        .map_err(|e| format!("cannot read {}: {e}", bundle::OFFICIAL_PATH))?;
    let curated: Vec<String> = crate::facade::services(root, &bytes)?
        .into_iter()
        .filter(|s| s.curated.is_some())
        .map(|s| s.name)
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for entry in bundle::read(&bytes)? {
        if curated.iter().any(|c| c == entry.service) {
            continue;
        }
        *counts.entry(entry.service.to_owned()).or_default() += entry_actions(&entry)?.len();
    }
    counts
        .into_iter()
        .max_by_key(|(name, n)| (*n, std::cmp::Reverse(name.clone())))
        .ok_or_else(|| "no generated service in the bundle".into())
}

fn entry_actions(entry: &bundle::Entry) -> Result<Vec<String>, String> {
    let json = entry.inflate()?;
    let parsed = tencentcloud_model::official::parse_entry(&json)
        .map_err(|e| format!("{}/{}: {}", entry.service, entry.version, e.path_and_message()))?;
    Ok(parsed.api.actions.0.keys().cloned().collect())
}

fn facade_case(
    root: &Path,
    bytes: &[u8],
    service: &crate::facade::Service,
    largest: bool,
) -> Result<Case, String> {
    let entries = bundle::read(bytes)?;
    let mut per_version = Vec::new();
    let mut method = None;
    for entry in entries.iter().filter(|e| e.service == service.name) {
        let actions = if service.curated.is_some() {
            let path = root
                .join("spec")
                .join(entry.service)
                .join(entry.version)
                .join("api.json");
            match std::fs::read_to_string(&path) {
                // The committed crate's versions are spec/'s.
                Ok(text) => tencentcloud_model::parse_api(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .actions
                    .0
                    .keys()
                    .cloned()
                    .collect(),
                Err(_) => continue,
            }
        } else {
            entry_actions(entry)?
        };
        if entry.version == service.default {
            method = Some(client_method(entry, &actions)?);
        }
        per_version.push((entry.version.to_owned(), actions.len()));
    }
    let method = method.ok_or_else(|| format!("{}: no default version {}", service.name, service.default))?;
    let actions: usize = per_version.iter().map(|(_, n)| n).sum();
    let versions: Vec<String> = per_version.iter().map(|(v, n)| format!("{v} {n}")).collect();
    let curated_package = service
        .curated
        .as_deref()
        .map(|dir| dir.rsplit('/').next().unwrap_or(dir).to_owned());
    let how = match &curated_package {
        Some(package) => format!("curated, the committed crate {package}"),
        None if largest => "generated at build time; the largest generated service".into(),
        None => "generated at build time".into(),
    };
    Ok(Case {
        name: service.name.clone(),
        kind: Kind::Facade {
            service: service.name.clone(),
            curated_package,
            method,
        },
        description: format!(
            "tencentcloud, features = [\"{}\"]: {how}, {actions} actions ({})",
            service.name,
            versions.join(", ")
        ),
        actions,
    })
}

/// The default version's client method the program calls: a
/// `Describe*` action (the first in name order), else the first action.
fn client_method(entry: &bundle::Entry, actions: &[String]) -> Result<String, String> {
    let wanted = ["DescribeClusters", "DescribeVpcs"]
        .iter()
        .find(|a| actions.iter().any(|b| b == *a))
        .map(|a| a.to_string())
        .or_else(|| actions.iter().find(|a| a.starts_with("Describe")).cloned())
        .or_else(|| actions.first().cloned())
        .ok_or_else(|| format!("{}/{}: no action", entry.service, entry.version))?;
    let json = entry.inflate()?;
    let parsed = tencentcloud_model::official::parse_entry(&json)
        .map_err(|e| format!("{}/{}: {}", entry.service, entry.version, e.path_and_message()))?;
    let model = codegen::official_model(&parsed).map_err(|e| format!("{}: {e}", entry.service))?;
    let action = model
        .actions
        .iter()
        .find(|a| a.name == wanted)
        .ok_or_else(|| format!("{}: no action {wanted} in the model", entry.service))?;
    Ok(model.method(action).to_owned())
}

/// The user program's manifest.
pub fn manifest(root: &Path, case: &Case) -> String {
    let dependency = match &case.kind {
        Kind::Facade { service, .. } => format!(
            "tencentcloud = {{ path = {}, features = [\"{service}\"] }}\n",
            toml_string(&root.join("tencentcloud"))
        ),
        Kind::Aws => "aws-sdk-ec2 = \"1\"\n".to_owned(),
    };
    format!(
        "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\n{dependency}\n\
         # Not a member of the SDK's workspace: cargo's default profiles, as a user has.\n[workspace]\n",
        case.package_name()
    )
}

/// The user program: a client, and one action's request future, never sent.
pub fn main_rs(case: &Case) -> String {
    match &case.kind {
        Kind::Facade { service, method, .. } => format!(
            "//! Makes a `{service}` client and one request (never sent): the service's code is\n\
             //! compiled and linked as a user's program would have it.\n\n\
             fn main() {{\n    \
                 let shared = match tencentcloud::from_env() {{\n        \
                     Ok(shared) => shared,\n        \
                     Err(e) => {{\n            \
                         eprintln!(\"no configuration: {{e}}\");\n            \
                         return;\n        \
                     }}\n    \
                 }};\n    \
                 let client = tencentcloud::{service}::Client::new(&shared);\n    \
                 let request = client.{method}().send();\n    \
                 println!(\"{{}}\", std::any::type_name_of_val(&request));\n\
             }}\n"
        ),
        Kind::Aws => "//! Makes an EC2 client and one request (never sent): the crate is compiled and\n\
             //! linked as a user's program would have it.\n\n\
             use aws_sdk_ec2::config::{BehaviorVersion, Region};\n\n\
             fn main() {\n    \
                 let config = aws_sdk_ec2::Config::builder()\n        \
                     .behavior_version(BehaviorVersion::latest())\n        \
                     .region(Region::new(\"us-east-1\"))\n        \
                     .build();\n    \
                 let client = aws_sdk_ec2::Client::from_conf(config);\n    \
                 let request = client.describe_instances().send();\n    \
                 println!(\"{}\", std::any::type_name_of_val(&request));\n\
             }\n"
        .to_owned(),
    }
}

fn toml_string(path: &Path) -> String {
    let text = path.to_string_lossy();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn run_case(root: &Path, dir: &Path, case: &Case, args: &Args, ticks: f64) -> Result<CaseResult, String> {
    let case_dir = dir.join(&case.name);
    let target = case_dir.join("target");
    let logs = case_dir.join("logs");
    let timeout = Duration::from_secs(args.timeout);
    let mut result = if args.crate_alone_only {
        if !target.is_dir() {
            return Err(format!(
                "{}: --crate-alone-only, but {} has no earlier build",
                case.name,
                target.display()
            ));
        }
        load_result(&case_dir.join("result.json"))
            .ok_or_else(|| format!("{}: no saved result in {}", case.name, case_dir.display()))?
    } else {
        let _ = std::fs::remove_dir_all(&case_dir);
        std::fs::create_dir_all(case_dir.join("src"))
            .map_err(|e| format!("cannot create {}: {e}", case_dir.display()))?;
        write(&case_dir.join("Cargo.toml"), &manifest(root, case))?;
        write(&case_dir.join("src/main.rs"), &main_rs(case))?;
        if case.kind != Kind::Aws {
            // The checkout's lock: the versions the SDK is tested with.
            std::fs::copy(root.join("Cargo.lock"), case_dir.join("Cargo.lock"))
                .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
        }
        CaseResult {
            case: case.name.clone(),
            description: case.description.clone(),
            actions: case.actions,
            version: String::new(),
            expected_alone: Vec::new(),
            first: None,
            crate_alone: Vec::new(),
            saved: false,
        }
    };
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let step = |name: &str,
                run: usize,
                cargo_args: &[&str],
                timed: bool|
     -> Result<Option<Measurement>, String> {
        let log = logs.join(format!("{}-{run}.log", name.replace(' ', "-")));
        let mut command = cargo(&case_dir, &target);
        command.args(cargo_args);
        if timed {
            let measured =
                measure(command, &log, timeout, ticks).map_err(|e| format!("{}: {name}: {e}", case.name))?;
            let m = Measurement {
                step: name.into(),
                command: format!(
                    "cd {} && CARGO_TARGET_DIR={} /usr/bin/time -v cargo {}",
                    case_dir.display(),
                    target.display(),
                    cargo_args.join(" ")
                ),
                checkout: checkout_commit(root),
                ..measured
            };
            eprintln!(
                "   {name}: wall {:.1} s, CPU {:.1} s, peak process {}, peak all {}, others' CPU {:.1} s, load {:.2}/{:.2}/{:.2}",
                m.wall_s,
                m.cpu_s(),
                mib(m.max_rss_kb),
                mib(m.peak_group_rss_kb),
                m.others_cpu_s,
                m.load[0],
                m.load[1],
                m.load[2]
            );
            Ok(Some(m))
        } else {
            run_untimed(command, &log, timeout).map_err(|e| format!("{}: {name}: {e}", case.name))?;
            Ok(None)
        }
    };
    if !args.crate_alone_only {
        step("fetch", 0, &["fetch"], false)?;
        result.version = match case.kind {
            Kind::Aws => locked_version(&case_dir.join("Cargo.lock"), AWS).unwrap_or_default(),
            _ => checkout_commit(root),
        };
        result.first = step("first build", 0, &["build", "--offline"], true)?;
    }
    let package = case.cleaned_package();
    result.expected_alone = [package, "tencentcloud", case.package_name().as_str()]
        .iter()
        .filter(|p| case.kind != Kind::Aws || **p != "tencentcloud")
        .map(|p| p.to_string())
        .collect();
    result.expected_alone.dedup();
    for _ in 0..args.repeat {
        let run = result.crate_alone.len() + 1;
        step("clean", run, &["clean", "--offline", "-p", package], false)?;
        let m = step("crate alone", run, &["build", "--offline"], true)?.expect("timed");
        if !m.compiled.iter().any(|c| c == package) {
            return Err(format!(
                "{}: the crate-alone build did not compile {package} (compiled: {:?})",
                case.name, m.compiled
            ));
        }
        result.crate_alone.push(m);
    }
    Ok(result)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A package's version in a `Cargo.lock`.
pub fn locked_version(lock: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    let name_line = format!("name = \"{package}\"");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            let version = lines
                .next()?
                .trim()
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(version.to_owned());
        }
    }
    None
}

/// `checkout <commit>`, `+dirty` when the sources the cases build (not
/// xtask's) have uncommitted changes.
fn checkout_commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short", "HEAD"]) else {
        return String::new();
    };
    let paths = [
        "Cargo.lock",
        "tencentcloud",
        "runtime",
        "config",
        "signer",
        "model",
        "codegen",
        "descriptions",
        "cvm-api",
        "services",
    ];
    let mut args = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    args.extend(paths);
    let dirty = git(&args).is_some_and(|s| !s.is_empty());
    format!("checkout {commit}{}", if dirty { "+dirty" } else { "" })
}

/// Cargo in `dir`, building into `target`, in the environment of a shell:
/// without what `cargo run` (the xtask alias) set for xtask itself, nor a
/// lint wrapper.
fn cargo(dir: &Path, target: &Path) -> Command {
    let mut command = crate::cargo_env::shell_cargo();
    for wrapper in ["RUSTC_WORKSPACE_WRAPPER", "RUSTC_WRAPPER", "CLIPPY_ARGS"] {
        command.env_remove(wrapper);
    }
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TERM_PROGRESS_WHEN", "never");
    command
}

/// A child in a process group of its own, killed with its group on timeout.
struct Child {
    child: std::process::Child,
    started: Instant,
    timeout: Duration,
}

impl Child {
    fn spawn(mut command: Command, log: &Path, timeout: Duration) -> Result<Self, String> {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        Ok(Child {
            child,
            started: Instant::now(),
            timeout,
        })
    }

    fn pgid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status once done; an error (the group killed) after the timeout.
    fn poll(&mut self) -> Result<Option<std::process::ExitStatus>, String> {
        if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        if self.started.elapsed() > self.timeout {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.pgid())])
                .status();
            let _ = self.child.wait();
            return Err(format!("still running after {:?}; killed", self.timeout));
        }
        Ok(None)
    }
}

fn run_untimed(command: Command, log: &Path, timeout: Duration) -> Result<(), String> {
    let mut child = Child::spawn(command, log, timeout)?;
    loop {
        if let Some(status) = child.poll()? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("{status}; see {}", log.display()))
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn measure(command: Command, log: &Path, timeout: Duration, ticks: f64) -> Result<Measurement, String> {
    let report = log.with_extension("time");
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-v").arg("-o").arg(&report).arg(command.get_program());
    timed.args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(name, value),
            None => timed.env_remove(name),
        };
    }
    let load_start = load_average().unwrap_or(f64::NAN);
    let busy_start = cpu_busy_ticks();
    let started = Instant::now();
    let mut child = Child::spawn(timed, log, timeout)?;
    let (mut peak_group, mut load_max) = (0u64, load_start);
    let status = loop {
        if let Some(status) = child.poll()? {
            break status;
        }
        peak_group = peak_group.max(group_rss_kb(child.pgid()));
        if let Some(load) = load_average() {
            load_max = load_max.max(load);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let wall = started.elapsed().as_secs_f64();
    let busy_end = cpu_busy_ticks();
    let load_end = load_average().unwrap_or(f64::NAN);
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    let time = parse_time_v(&text)?;
    if !status.success() || time.exit_status != 0 {
        return Err(format!("failed ({status}); see {}", log.display()));
    }
    let output = std::fs::read_to_string(log).unwrap_or_default();
    let cpu = time.user_s + time.sys_s;
    let others = match (busy_start, busy_end) {
        (Some(a), Some(b)) => ((b.saturating_sub(a)) as f64 / ticks - cpu).max(0.0),
        _ => f64::NAN,
    };
    Ok(Measurement {
        step: String::new(),
        // time's clock has centiseconds; ours is as good and covers the same span.
        wall_s: if time.wall_s > 0.0 { time.wall_s } else { wall },
        user_s: time.user_s,
        sys_s: time.sys_s,
        max_rss_kb: time.max_rss_kb,
        peak_group_rss_kb: peak_group.max(time.max_rss_kb),
        others_cpu_s: others,
        load: [load_start, load_max.max(load_end), load_end],
        compiled: compiled_packages(&output),
        command: String::new(),
        checkout: String::new(),
    })
}

/// What `/usr/bin/time -v` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeReport {
    pub user_s: f64,
    pub sys_s: f64,
    pub wall_s: f64,
    pub max_rss_kb: u64,
    pub exit_status: i32,
}

/// Parses `/usr/bin/time -v` (GNU time) output.
pub fn parse_time_v(text: &str) -> Result<TimeReport, String> {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        // The label may hold colons itself ("(h:mm:ss or m:ss): 0:01.23").
        if let Some(at) = line.rfind(": ") {
            fields.insert(&line[..at], line[at + 2..].trim());
        }
    }
    let get = |label: &str| {
        fields
            .iter()
            .find(|(k, _)| k.starts_with(label))
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("no `{label}` in /usr/bin/time's report:\n{text}"))
    };
    let number = |label: &str| -> Result<f64, String> {
        let value = get(label)?;
        value
            .parse::<f64>()
            .map_err(|e| format!("`{label}: {value}`: {e}"))
    };
    Ok(TimeReport {
        user_s: number("User time (seconds)")?,
        sys_s: number("System time (seconds)")?,
        wall_s: parse_clock(get("Elapsed (wall clock) time")?)?,
        max_rss_kb: number("Maximum resident set size (kbytes)")? as u64,
        exit_status: number("Exit status")? as i32,
    })
}

/// `1:02:03.45`, `2:03.45` or `3.45` as seconds.
pub fn parse_clock(text: &str) -> Result<f64, String> {
    let mut seconds = 0.0;
    for part in text.split(':') {
        let value: f64 = part.parse().map_err(|e| format!("clock `{text}`: {e}"))?;
        seconds = seconds * 60.0 + value;
    }
    Ok(seconds)
}

/// The packages of cargo's `Compiling <name> v<version>` lines.
pub fn compiled_packages(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Compiling "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The process group's resident memory now: the sum of its processes' VmRSS.
fn group_rss_kb(pgid: u32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if stat_pgrp(&stat) != Some(pgid) {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            total += status_rss_kb(&status).unwrap_or(0);
        }
    }
    total
}

/// The process group of a `/proc/<pid>/stat` line (the fields after the
/// command's closing parenthesis: state, ppid, pgrp).
pub fn stat_pgrp(stat: &str) -> Option<u32> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(2)?.parse().ok()
}

/// `VmRSS:` of a `/proc/<pid>/status`, in kB.
pub fn status_rss_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The busy ticks of `/proc/stat`'s `cpu` line (all but idle and iowait).
pub fn cpu_busy_from(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest is inside user).
    let busy = values
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4);
    Some(busy.map(|(_, v)| v).sum())
}

fn cpu_busy_ticks() -> Option<u64> {
    cpu_busy_from(&std::fs::read_to_string("/proc/stat").ok()?)
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn mib(kb: u64) -> String {
    format!("{:.0} MiB", kb as f64 / 1024.0)
}

/// The figures, then each case's ratios to aws-sdk-ec2.
pub fn table(results: &[CaseResult]) -> Vec<String> {
    let mut lines = vec![String::new(), "cases:".to_owned()];
    for r in results {
        lines.push(format!(
            "  {}{}: {} [{}]",
            r.case,
            if r.saved { " (saved)" } else { "" },
            r.description,
            r.version
        ));
    }
    lines.push(String::new());
    let header = [
        "case",
        "step",
        "wall s",
        "CPU s",
        "peak proc MiB",
        "peak all MiB",
        "others' CPU s",
        "load 1m start/max/end",
        "checkout",
        "compiled",
    ];
    let mut extra = false;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in results {
        let runs: Vec<&Measurement> = r.first.iter().chain(&r.crate_alone).collect();
        for (i, m) in runs.iter().enumerate() {
            let step = if m.step == "crate alone" && r.crate_alone.len() > 1 {
                let n = i + 1 - usize::from(r.first.is_some());
                format!("crate alone #{n}")
            } else {
                m.step.clone()
            };
            let others: Vec<&String> = m
                .compiled
                .iter()
                .filter(|c| !r.expected_alone.contains(c))
                .collect();
            let compiled = if m.step != "crate alone" {
                format!("{} crates", m.compiled.len())
            } else if r.expected_alone.is_empty() || others.is_empty() {
                m.compiled.join(", ")
            } else {
                extra = true;
                format!(
                    "* {} crates, {} more than the crate: {}",
                    m.compiled.len(),
                    others.len(),
                    others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )
            };
            rows.push(vec![
                r.case.clone(),
                step,
                format!("{:.1}", m.wall_s),
                format!("{:.1}", m.cpu_s()),
                format!("{:.0}", m.max_rss_kb as f64 / 1024.0),
                format!("{:.0}", m.peak_group_rss_kb as f64 / 1024.0),
                format!("{:.1}", m.others_cpu_s),
                format!("{:.2}/{:.2}/{:.2}", m.load[0], m.load[1], m.load[2]),
                m.checkout
                    .strip_prefix("checkout ")
                    .unwrap_or(&m.checkout)
                    .to_owned(),
                compiled,
            ]);
        }
    }
    lines.extend(render(&header, &rows, 2));
    if extra {
        lines.push(
            "* the checkout's sources changed since the previous build: more than the crate was compiled"
                .to_owned(),
        );
    }
    if let Some(aws) = results.iter().find(|r| r.case == AWS) {
        lines.push(String::new());
        lines.push(format!(
            "ratio to {AWS} (crate alone: the run with the median wall time):"
        ));
        let header = [
            "case",
            "first wall",
            "first CPU",
            "first peak proc",
            "alone wall",
            "alone CPU",
            "alone peak proc",
        ];
        let ratio =
            |a: Option<&Measurement>, b: Option<&Measurement>, f: fn(&Measurement) -> f64| match (a, b) {
                (Some(a), Some(b)) if f(b) > 0.0 => format!("{:.2}", f(a) / f(b)),
                _ => "-".to_owned(),
            };
        let mut rows = Vec::new();
        for r in results.iter().filter(|r| r.case != AWS) {
            let (first, alone) = (r.first.as_ref(), r.crate_alone_median());
            let (aws_first, aws_alone) = (aws.first.as_ref(), aws.crate_alone_median());
            rows.push(vec![
                r.case.clone(),
                ratio(first, aws_first, |m| m.wall_s),
                ratio(first, aws_first, Measurement::cpu_s),
                ratio(first, aws_first, |m| m.max_rss_kb as f64),
                ratio(alone, aws_alone, |m| m.wall_s),
                ratio(alone, aws_alone, Measurement::cpu_s),
                ratio(alone, aws_alone, |m| m.max_rss_kb as f64),
            ]);
        }
        lines.extend(render(&header, &rows, 1));
    }
    lines
}

/// A Markdown table: the first `left` columns and the last (when more than
/// seven) aligned left, the figures right.
fn render(header: &[&str], rows: &[Vec<String>], left: usize) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < left || i + 1 == cells.len() && header.len() > 7 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        format!("| {} |", padded.join(" | ")).trim_end().to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    out.push(format!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIME_V: &str = "\tCommand being timed: \"cargo build --offline\"
\tUser time (seconds): 95.31
\tSystem time (seconds): 7.02
\tPercent of CPU this job got: 183%
\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:55.84
\tAverage shared text size (kbytes): 0
\tMaximum resident set size (kbytes): 1523412
\tMinor (reclaiming a frame) page faults: 2412345
\tVoluntary context switches: 41234
\tFile system outputs: 812344
\tPage size (bytes): 4096
\tExit status: 0
";

    #[test]
    fn reads_gnu_time_verbose_output() {
        let report = parse_time_v(TIME_V).unwrap();
        assert_eq!(
            report,
            TimeReport {
                user_s: 95.31,
                sys_s: 7.02,
                wall_s: 55.84,
                max_rss_kb: 1_523_412,
                exit_status: 0,
            }
        );
        let failed = format!(
            "Command exited with non-zero status 101\n{}",
            TIME_V.replace("status: 0", "status: 101")
        );
        assert_eq!(parse_time_v(&failed).unwrap().exit_status, 101);
        assert!(parse_time_v("\tUser time (seconds): 1.0\n").is_err());
    }

    #[test]
    fn reads_clocks_with_hours_minutes_or_seconds() {
        assert_eq!(parse_clock("1:02:03.50").unwrap(), 3723.5);
        assert_eq!(parse_clock("12:03.25").unwrap(), 723.25);
        assert_eq!(parse_clock("3.5").unwrap(), 3.5);
        assert!(parse_clock("1:x").is_err());
    }

    #[test]
    fn reads_proc_files() {
        // A command name with spaces and parentheses.
        let stat = "4242 (rustc (x) y) S 4200 4100 4100 0 -1 4194560 12 0 0 0";
        assert_eq!(stat_pgrp(stat), Some(4100));
        let status = "Name:\trustc\nVmPeak:\t 900000 kB\nVmRSS:\t  812345 kB\nThreads:\t3\n";
        assert_eq!(status_rss_kb(status), Some(812_345));
        let proc_stat = "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
        assert_eq!(cpu_busy_from(proc_stat), Some(100 + 5 + 50 + 3 + 2 + 1));
    }

    #[test]
    fn reads_cargo_output_and_locks() {
        let output = "   Compiling vpc-api v0.1.0 (/w/services/vpc-api)\n   Compiling tencentcloud v0.1.0 (/w/tencentcloud)\nwarning: x\n    Finished `dev` profile\n";
        assert_eq!(compiled_packages(output), ["vpc-api", "tencentcloud"]);
        let dir = std::env::temp_dir().join(format!("build-cost-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lock = dir.join("Cargo.lock");
        std::fs::write(
            &lock,
            "[[package]]\nname = \"aws-sdk-ec2\"\nversion = \"1.200.0\"\nsource = \"x\"\n",
        )
        .unwrap();
        assert_eq!(locked_version(&lock, "aws-sdk-ec2").as_deref(), Some("1.200.0"));
        assert_eq!(locked_version(&lock, "aws-config"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
