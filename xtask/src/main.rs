//! Project automation: `cargo xtask regen [--check]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use xtask::{import, regen, services};

#[derive(Parser)]
#[command(name = "xtask", about = "Project automation for the CVM SDK workspace")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure what a user pays to build a service (first build, the crate
    /// alone: wall, CPU, peak RSS) against aws-sdk-ec2. Heavy.
    BuildCost(xtask::build_cost::Args),
    /// Measure the client's rate limiting against the emulator (2 000
    /// Start/StopInstances calls, 32 in flight, limit 10/s: with the limiter,
    /// without it, learning an unknown limit). A few minutes; release build.
    RateLimits(xtask::rate_limits::Args),
    /// The checks too heavy for the test command, which runs a sample of
    /// each: every official service version generated (`services`), then
    /// every official response example of VPC, CBS and CLB decoded by their
    /// crates. A few minutes.
    Exhaustive,
    /// Regenerate the checked-in code from `spec/`.
    Regen {
        /// Write nothing; list the files that would change and fail if any would.
        #[arg(long)]
        check: bool,
    },
    /// Copy actions (and every object they reach, and their error codes) from
    /// an official api.json into spec/cvm/v20170312, then regenerate. With
    /// --service, import whole services into spec/<service>/<version>/ and a
    /// crate services/<service>-api, from the descriptions the SDK ships (no
    /// Python, no network) or, with --from, a tccli services directory.
    Import {
        /// The official description, e.g. tccli/services/cvm/v20170312/api.json;
        /// with --service, a tccli services directory (tccli/services), instead
        /// of the descriptions the SDK ships (descriptions/official.bin).
        #[arg(long, required_unless_present = "services")]
        from: Option<PathBuf>,
        /// A service to import whole (every version unless --version); repeatable.
        #[arg(long = "service", value_name = "NAME", conflicts_with_all = ["actions", "all", "errors", "overwrite", "keep_docs"])]
        services: Vec<String>,
        /// With --service: only this version, e.g. v20170312.
        #[arg(long, requires = "services")]
        version: Option<String>,
        /// An action to import; repeatable.
        #[arg(long = "action", value_name = "NAME")]
        actions: Vec<String>,
        /// Import every action of the official file.
        #[arg(long, conflicts_with = "actions")]
        all: bool,
        /// Keep Tencent's documentation text (for your own private use only).
        #[arg(long)]
        keep_docs: bool,
        /// Which codes each action returns, as {"actions": {"Name": ["Code", ...]}},
        /// instead of the bundled lists from the official Go SDK.
        #[arg(long, value_name = "FILE")]
        errors: Option<PathBuf>,
        /// The service's codes: a Python SDK errorcodes.py (with --service, a
        /// directory of <service>/<version>/errorcodes.py), instead of the pinned
        /// official Python SDK fetched from PyPI and cached under target/.
        #[arg(long, value_name = "FILE")]
        errorcodes: Option<PathBuf>,
        /// Take the official definition where ours differs, instead of failing.
        #[arg(long)]
        overwrite: bool,
    },
    /// Run every official service version (tccli's descriptions, the Python
    /// SDK's error codes) through import, validation and generation, in
    /// memory, and print a row per service version; fail if any has a problem.
    Services {
        /// The official descriptions, <DIR>/<service>/<version>/api.json, instead
        /// of the pinned tccli ones fetched from PyPI and cached under target/.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// The error codes, <DIR>/<service>/<version>/errorcodes.py, instead of the
        /// pinned Python SDK ones fetched from PyPI and cached under target/.
        #[arg(long, value_name = "DIR")]
        errorcodes: Option<PathBuf>,
        /// Only this service (its directory name, e.g. `vpc`); repeatable.
        #[arg(long = "only", value_name = "SERVICE")]
        only: Vec<String>,
        /// Also write the generated code as a Cargo workspace under DIR (a crate
        /// per service) and run `cargo check` on it.
        #[arg(long, value_name = "DIR")]
        compile: Option<PathBuf>,
        /// Threads generating at once (default: the cores available).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Bundle every official description (facts only) with its service's error
    /// codes into descriptions/official.bin, which the `tencentcloud` crate
    /// generates services from, `tcloud` reads and `import --service` imports
    /// from. The one step that needs Python and PyPI.
    #[command(alias = "descriptions")]
    CliDescriptions {
        /// The official descriptions, <DIR>/<service>/<version>/api.json, instead
        /// of the pinned tccli ones fetched from PyPI and cached under target/.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// The error codes, <DIR>/<service>/<version>/errorcodes.py, instead of the
        /// pinned Python SDK ones fetched from PyPI and cached under target/.
        #[arg(long, value_name = "DIR")]
        errorcodes: Option<PathBuf>,
        /// Write nothing; fail if the checked-in bundle differs.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = match regen::workspace_root() {
        Ok(root) => root,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::BuildCost(args) => xtask::build_cost::run_command(&root, &args),
        Command::RateLimits(args) => xtask::rate_limits::run_command(&root, &args),
        Command::Exhaustive => match run_services(&root, None, None, &[], None, None) {
            Ok(code) if code == ExitCode::SUCCESS => match xtask::exhaustive::run_examples(&root) {
                Ok(code) if code == ExitCode::SUCCESS => xtask::exhaustive::run_evolution(&root),
                other => other,
            },
            other => other,
        },
        Command::Regen { check } => run_regen(&root, check),
        Command::Import {
            from,
            services,
            version,
            errorcodes,
            ..
        } if !services.is_empty() => {
            let opts = xtask::service::ServiceOptions {
                from,
                services,
                version,
                errorcodes,
            };
            xtask::service::import_services(&root, &opts).and_then(|lines| {
                for line in lines {
                    eprintln!("{line}");
                }
                run_regen(&root, false)
            })
        }
        Command::Import {
            from,
            actions,
            all,
            keep_docs,
            errors,
            errorcodes,
            overwrite,
            ..
        } => {
            let Some(from) = from else {
                eprintln!("error: --from path/to/api.json is required without --service");
                return ExitCode::FAILURE;
            };
            let opts = import::Options {
                from,
                actions,
                all,
                keep_docs,
                errors_from: errors,
                errorcodes,
                overwrite,
            };
            run_import(&root, &opts)
        }
        Command::CliDescriptions {
            from,
            errorcodes,
            check,
        } => xtask::cli_descriptions::run(&root, from, errorcodes, check).map(|line| {
            eprintln!("{line}");
            ExitCode::SUCCESS
        }),
        Command::Services {
            from,
            errorcodes,
            only,
            compile,
            threads,
        } => run_services(&root, from, errorcodes, &only, compile.as_deref(), threads),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_regen(root: &std::path::Path, check: bool) -> Result<ExitCode, String> {
    let started = std::time::Instant::now();
    let outcome = regen::regen(
        root,
        if check {
            regen::Mode::Check
        } else {
            regen::Mode::Write
        },
    )?;
    let elapsed = started.elapsed();
    let rel = |p: &PathBuf| p.strip_prefix(root).unwrap_or(p).display().to_string();
    if check {
        if outcome.stale.is_empty() {
            eprintln!(
                "generated code is up to date ({} files, {:.0?})",
                outcome.total, elapsed
            );
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("generated code is stale; run `cargo xtask regen` to update:");
            for path in &outcome.stale {
                eprintln!("  {}", rel(path));
            }
            Ok(ExitCode::FAILURE)
        }
    } else {
        for path in &outcome.stale {
            eprintln!("wrote {}", rel(path));
        }
        eprintln!(
            "regenerated {} files ({} changed) in {:.0?}",
            outcome.total,
            outcome.stale.len(),
            elapsed
        );
        Ok(ExitCode::SUCCESS)
    }
}

fn run_import(root: &std::path::Path, opts: &import::Options) -> Result<ExitCode, String> {
    let spec_dir = root.join(regen::CVM_SPEC);
    let sources = import::ErrorSources::load(root, opts)?;
    let report = import::import_into_dir(&spec_dir, &sources, opts)?;
    for line in report.lines(&sources) {
        eprintln!("{line}");
    }
    run_regen(root, false)
}

fn run_services(
    root: &std::path::Path,
    from: Option<PathBuf>,
    errorcodes: Option<PathBuf>,
    only: &[String],
    compile: Option<&std::path::Path>,
    threads: Option<usize>,
) -> Result<ExitCode, String> {
    let started = std::time::Instant::now();
    let inputs = services::Inputs::resolve(root, from, errorcodes)?;
    let ids = services::discover(&inputs.descriptions, only)?;
    let threads = threads.unwrap_or_else(services::default_threads);
    let options = services::RunOptions {
        generate: true,
        keep_files: compile.is_some(),
        keep_bundle_entry: false,
        threads,
    };
    let outcomes = services::check_all(&inputs, &ids, &options);
    for line in services::report_lines(&outcomes) {
        println!("{line}");
    }
    println!(
        "wall time: {:.2} s ({threads} threads)",
        started.elapsed().as_secs_f64()
    );
    let mut ok = outcomes.iter().all(|o| o.problems.is_empty());
    if let Some(dir) = compile {
        let started = std::time::Instant::now();
        let crates = services::write_workspace(root, dir, &outcomes)?;
        println!(
            "wrote {} crates under {}; cargo check:",
            crates.len(),
            dir.display()
        );
        let status = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            // --keep-going: one broken crate must not hide the next.
            .args(["check", "--workspace", "--quiet", "--keep-going"])
            .current_dir(dir)
            .status()
            .map_err(|e| format!("cannot run cargo check in {}: {e}", dir.display()))?;
        println!(
            "cargo check: {} in {:.1} s",
            if status.success() { "ok" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        ok &= status.success();
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
