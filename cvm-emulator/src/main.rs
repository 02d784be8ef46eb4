//! `cvm-emulator`: a local Tencent Cloud CVM endpoint for tests.

use std::io::Write;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use cvm_emulator::demo::DemoOptions;
use cvm_emulator::{
    Emulator, EmulatorConfig, FaultConfig, SecretKey, State, DEFAULT_ROLE_NAME, DEMO_SECRET_ID,
    LAUNCH_FAILURE_IMAGE_ID, MAX_CLOCK_SKEW_SECS, MAX_CREDENTIAL_TTL, MAX_INJECTED_LATENCY,
    MAX_WEB_IDENTITY_TOKEN_LEN,
};
use serde::Deserialize;

const AFTER_HELP: &str = "\
Credentials: without --secret-id/--secret-key or --credentials, the emulator accepts the public
demo credential AKIDEMULATOR000000000000000000000000 / emulator-demo-secret-key. It is fake:
never give the emulator real keys. Keys given with --secret-key are visible to other local
users (ps, /proc/PID/cmdline); --credentials FILE keeps them out of the process list.

Examples:
  cvm-emulator demo
  cvm-emulator --listen 127.0.0.1:9000
  cvm-emulator --listen 127.0.0.1:0 --transition-ms 0 --rate-limit 0 --state state.json
  cvm-emulator --instances 3   # start with 3 STOPPED instances instead of none
  cvm-emulator --credentials creds.json   # [{\"secret_id\": \"AKID...\", \"secret_key\": \"...\"}]

Seeding: the emulator starts empty; --instances N starts it with N STOPPED instances (random
ids) in zone ap-guangzhou-3, region ap-guangzhou; N is at most 10000, the emulator's instance
quota. With --state FILE they are seeded only when FILE does not exist yet, and written to it at
start; a later start finds FILE and keeps it as it is (--instances is ignored, with a note), so
restarts never add instances. (--fault-seed seeds fault injection, not instances.) FILE is JSON
the emulator writes: {\"Instances\": [...], \"ClientTokens\": [...], \"Resources\": [...]}:
each instance a DescribeInstances Instance plus Region and PendingTransition (written by hand,
only Placement.Zone is required; unknown members are refused), the ClientTokens of RunInstances,
and the other resources (key pairs, VPCs, disks...) as {\"Kind\", \"Region\", \"Id\", \"Item\"}.
FILE.journal beside it holds the changes since FILE was last written, one JSON line each. To
start afresh, stop the emulator and delete FILE and FILE.journal.
  cvm-emulator --instances 3 --state state.json   # seeds state.json once; restarts keep it

State: with --state FILE, every change is on disk before it is answered and survives a crash
(kill -9 included): it is appended to FILE.journal and flushed; the journal is folded into FILE at
start, on Ctrl-C / SIGTERM and when it grows past 64 MiB. FILE.lock keeps a second emulator off
FILE. The emulator refuses to start, leaving FILE as it is, when FILE cannot be read, has members
it does not know or cannot be written, or when its journal is damaged before the last record.

Fault injection (to reproduce production failures): --fault-* probabilities, --latency-ms and
--fault-seed apply only to authenticated, well-formed requests, those that passed the signature,
version, action, region and rate-limit checks and whose parameters decoded; auth errors stay
deterministic. Each such request gets at most one fault (the probabilities add up to at most 1):
  --fault-throttle P        answer RequestLimitExceeded; nothing changes
  --fault-internal-error P  answer InternalError; nothing changes
  --fault-reset-before P    reset the TCP connection (RST, no answer); nothing changes
  --fault-reset-after P     make the change (on disk with --state), then reset: no answer
All decisions and latencies come from one PRNG seeded by --fault-seed (old name --seed; default
a random seed, printed at start): the same seed and the same request order give the same faults.
--clock-skew SECS runs the emulator's clock ahead (negative: behind): X-TC-Timestamp must be
within 300 s of it, and every answer's Date header gives it.
  cvm-emulator --rate-limit 0 --fault-throttle 0.2 --fault-reset-after 0.05 --latency-ms 10..200 --fault-seed 7

Temporary credentials: the same listener serves the metadata service's instance role
(GET /latest/meta-data/cam/security-credentials/ gives the role name, --role-name, default
CVM_QcsRole; .../<role> a new credential valid --credential-ttl, default 2h; --no-instance-role:
both 404) and STS 2018-08-13 (credential scope `sts`): AssumeRole, signed by any valid
credential, and AssumeRoleWithWebIdentity, unsigned (Authorization: SKIP) with the token given
by --oidc-token or --oidc-token-file (the file keeps it out of the process list). Temporary
credentials need their X-TC-Token and die with the process.
  cvm-emulator --credential-ttl 10m --oidc-token-file /var/run/secrets/tke/token

Failed launches (to test waiters): RunInstances with ImageId img-nolaunch, or an image given with
--fail-launch-image (repeatable), succeeds, but its instances go PENDING -> LAUNCH_FAILED instead
of RUNNING after --transition-ms, with LatestOperation RunInstances and LatestOperationState
FAILED (OPERATING while PENDING; SUCCESS after a normal launch). TerminateInstances: TERMINATING,
then the instances leave DescribeInstances. DescribeInstances lists instances oldest first, new
ones at the end, the same order on every call (Limit: default 20, at most 100).
  cvm-emulator --transition-ms 500 --fail-launch-image img-badimage

Logs go to stderr (RUST_LOG=debug for more); secret keys, tokens and Authorization headers are never logged.";

/// A local Tencent Cloud CVM endpoint (API 2017-03-12): verifies TC3
/// signatures, keeps instance state, answers with the real error codes.
#[derive(Parser, Debug)]
#[command(name = "cvm-emulator", version, after_help = AFTER_HELP)]
struct Cli {
    /// Address to listen on; port 0 picks a free port (the address is printed).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,

    /// Accepted secret id; repeat with --secret-key for more pairs.
    #[arg(long = "secret-id", value_name = "ID")]
    secret_ids: Vec<String>,

    /// Secret key of the --secret-id at the same position. Keys on the
    /// command line are visible to other local users (ps, /proc); use
    /// --credentials FILE to avoid that.
    #[arg(
        long = "secret-key",
        value_name = "KEY",
        hide_default_value = true,
        value_parser = parse_secret_key
    )]
    secret_keys: Vec<SecretKey>,

    /// JSON file with a list of {"secret_id": ..., "secret_key": ...}; unlike
    /// --secret-key, keeps the keys out of the process list.
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,

    /// Duration of STARTING, STOPPING, REBOOTING, PENDING and TERMINATING, in ms (0: instant).
    #[arg(long, default_value_t = 300, value_name = "N")]
    transition_ms: u64,

    /// Requests per second per secret id and action (0: no limit).
    #[arg(long, default_value_t = 10, value_name = "N")]
    rate_limit: u32,

    /// Seconds allowed to receive a request's body, and for a body to wait
    /// for room in the shared body budget (1 to 3600; headers get at most 10).
    #[arg(long, default_value_t = 30, value_name = "S", value_parser = clap::value_parser!(u64).range(1..=3600))]
    read_timeout_secs: u64,

    /// Keep the instances in this JSON file: loaded at start if it exists,
    /// every change on disk (FILE.journal) before it is answered, the whole
    /// state written back at start and shutdown. Format and reset: see
    /// "Seeding" below.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Start with N STOPPED instances in ap-guangzhou-3 (at most 10000). With
    /// --state FILE: only when FILE does not exist yet (a restart adds none).
    #[arg(long, value_name = "N", value_parser = parse_instance_count)]
    instances: Option<usize>,

    /// Also write the final state to this file on shutdown (Ctrl-C / SIGTERM).
    #[arg(long, value_name = "FILE")]
    dump: Option<PathBuf>,

    /// Probability (0.0 to 1.0) of answering RequestLimitExceeded (injected;
    /// authenticated, well-formed requests only).
    #[arg(long, default_value_t = 0.0, value_name = "P", allow_negative_numbers = true, value_parser = parse_probability)]
    fault_throttle: f64,

    /// Probability of answering InternalError (injected).
    #[arg(long, default_value_t = 0.0, value_name = "P", allow_negative_numbers = true, value_parser = parse_probability)]
    fault_internal_error: f64,

    /// Probability of resetting the connection before the action takes effect.
    #[arg(long, default_value_t = 0.0, value_name = "P", allow_negative_numbers = true, value_parser = parse_probability)]
    fault_reset_before: f64,

    /// Probability of resetting the connection after the action took effect
    /// (the change is kept, the answer lost).
    #[arg(long, default_value_t = 0.0, value_name = "P", allow_negative_numbers = true, value_parser = parse_probability)]
    fault_reset_after: f64,

    /// Latency added before answering, uniform in MIN..MAX ms (or exactly N), at most 5000.
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_latency)]
    latency_ms: Option<RangeInclusive<Duration>>,

    /// Seed of the fault-injection PRNG (the --fault-* decisions and
    /// --latency-ms), for replaying the same faults; default: random,
    /// printed. It seeds no instances: for those, see --instances. (Old
    /// name: --seed.)
    #[arg(long = "fault-seed", alias = "seed", value_name = "N")]
    fault_seed: Option<u64>,

    /// Run the emulator's clock SECS seconds ahead of the machine's (negative:
    /// behind), for the X-TC-Timestamp check and the Date header.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "SECS",
        allow_negative_numbers = true,
        value_parser = parse_clock_skew
    )]
    clock_skew: i64,

    /// Name of the instance role the metadata service gives.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ROLE_NAME, conflicts_with = "no_instance_role")]
    role_name: String,

    /// Serve no instance role: the metadata credential paths answer 404,
    /// as on a machine without a role.
    #[arg(long)]
    no_instance_role: bool,

    /// Lifetime of metadata credentials and cap on STS ones: 90s, 10m, 2h or
    /// plain seconds (1 s to 7 days).
    #[arg(long, default_value = "2h", value_name = "DUR", value_parser = parse_ttl)]
    credential_ttl: Duration,

    /// The web identity (OIDC) token AssumeRoleWithWebIdentity accepts.
    /// Visible to other local users (ps); prefer --oidc-token-file.
    #[arg(long, value_name = "TOKEN", conflicts_with = "oidc_token_file", value_parser = parse_secret_key)]
    oidc_token: Option<SecretKey>,

    /// File holding the web identity token (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE")]
    oidc_token_file: Option<PathBuf>,

    /// Make every RunInstances from this image end in LAUNCH_FAILED (repeatable;
    /// img-nolaunch always does). An image id: img- and 8 lower-case letters or digits.
    #[arg(long = "fail-launch-image", value_name = "IMAGE_ID", value_parser = parse_image_id)]
    fail_launch_images: Vec<String>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start an emulator, seed stopped instances and start them with the
    /// real cvm-api client, printing each step; exits 0 when all is well.
    Demo {
        /// Number of instances.
        #[arg(long, default_value_t = 3)]
        instances: usize,
        /// Transition time in ms.
        #[arg(long, default_value_t = 500)]
        transition_ms: u64,
    },
}

/// `--instances`: a count the emulator's instance quota allows, checked
/// before any instance is made.
fn parse_instance_count(value: &str) -> Result<usize, String> {
    let max = EmulatorConfig::default().max_instances;
    let n: usize = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number of instances (0 to {max})"))?;
    if n > max {
        return Err(format!("{n} is above the emulator's quota of {max} instances"));
    }
    Ok(n)
}

/// `count` STOPPED instances in `zone`, with distinct random ids; refused
/// above `max` (the quota), before any is made.
fn seed_state(count: usize, zone: &str, max: usize) -> Result<State, String> {
    if count > max {
        return Err(format!(
            "--instances {count} is above the emulator's quota of {max} instances"
        ));
    }
    Ok(State::new().with_random_instances(zone, "STOPPED", count))
}

/// Whether a `--state` file is already there (anything at the path counts,
/// a broken link too: the emulator then reports what is wrong with it).
fn state_file_exists(path: &Path) -> bool {
    !matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// `--secret-key` values go straight into a [`SecretKey`], whose `Debug`
/// is redacted (so is `Cli`'s).
fn parse_secret_key(value: &str) -> Result<SecretKey, std::convert::Infallible> {
    Ok(SecretKey::new(value))
}

/// An image id as RunInstances accepts it, so that a typo cannot
/// configure an image no launch could use.
fn parse_image_id(value: &str) -> Result<String, String> {
    let ok = value.len() == 12
        && value.starts_with("img-")
        && value.as_bytes()[4..]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "`{value}` is not an image id: give img- followed by 8 lower-case letters or digits"
        ))
    }
}

/// A probability: a number from 0.0 to 1.0.
fn parse_probability(value: &str) -> Result<f64, String> {
    let p: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number; give a probability between 0.0 and 1.0"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!(
            "{value} is not a probability: it must be between 0.0 and 1.0"
        ))
    }
}

/// `MIN..MAX` or `N` milliseconds, at most [`MAX_INJECTED_LATENCY`].
fn parse_latency(value: &str) -> Result<RangeInclusive<Duration>, String> {
    let max_ms = MAX_INJECTED_LATENCY.as_millis();
    let ms = |text: &str| {
        text.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{value}` is not MIN..MAX or N milliseconds (whole numbers)"))
    };
    let (min, max) = match value.split_once("..") {
        Some((min, max)) => (ms(min)?, ms(max.strip_prefix('=').unwrap_or(max))?),
        None => {
            let n = ms(value)?;
            (n, n)
        }
    };
    if min > max {
        return Err(format!("latency {min}..{max}: the minimum is above the maximum"));
    }
    if u128::from(max) > max_ms {
        return Err(format!("latency {max} ms is above the maximum of {max_ms} ms"));
    }
    Ok(Duration::from_millis(min)..=Duration::from_millis(max))
}

/// Signed seconds, at most ten years either way.
fn parse_clock_skew(value: &str) -> Result<i64, String> {
    let secs: i64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a whole number of seconds"))?;
    if secs.unsigned_abs() > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(format!(
            "{secs} s is beyond {MAX_CLOCK_SKEW_SECS} s (ten years) either way"
        ));
    }
    Ok(secs)
}

/// `90s`, `10m`, `2h` or plain seconds; from 1 s to [`MAX_CREDENTIAL_TTL`].
fn parse_ttl(value: &str) -> Result<Duration, String> {
    let text = value.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "`{value}` is not a duration: give whole seconds, or N followed by s, m or h (90s, 10m, 2h)"
            ))
        }
    };
    let n: u64 = digits.parse().map_err(|_| {
        format!("`{value}` is not a duration: give whole seconds, or N followed by s, m or h")
    })?;
    let secs = n.saturating_mul(per);
    let max = MAX_CREDENTIAL_TTL.as_secs();
    if secs < 1 || secs > max {
        return Err(format!(
            "{value} is out of range: a credential TTL is 1 s to {max} s (7 days)"
        ));
    }
    Ok(Duration::from_secs(secs))
}

/// The web identity token from `--oidc-token` or `--oidc-token-file`.
fn web_identity_token(cli: &Cli) -> Result<Option<String>, String> {
    if let Some(token) = &cli.oidc_token {
        return Ok(Some(token.expose().to_owned()));
    }
    let Some(path) = &cli.oidc_token_file else {
        return Ok(None);
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_WEB_IDENTITY_TOKEN_LEN as u64 {
        return Err(format!(
            "{}: {} bytes, more than a token ({MAX_WEB_IDENTITY_TOKEN_LEN} at most)",
            path.display(),
            meta.len()
        ));
    }
    // The content is never shown: it is a credential.
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "{}: the file is empty; it must hold the token",
            path.display()
        ));
    }
    Ok(Some(token.to_owned()))
}

#[derive(Deserialize)]
struct CredentialEntry {
    secret_id: String,
    secret_key: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if cli.command.is_some() { "warn" } else { "info" })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Some(Command::Demo { .. }) if cli.instances.is_some() => Err(
                "--instances before `demo` seeds a served emulator; give the demo's count after it: \
                 cvm-emulator demo --instances N"
                    .to_owned(),
            ),
            Some(Command::Demo {
                instances,
                transition_ms,
            }) => {
                let options = DemoOptions {
                    instances: *instances,
                    transition: Duration::from_millis(*transition_ms),
                    ..DemoOptions::default()
                };
                let mut stdout = std::io::stdout();
                cvm_emulator::demo::run(&options, &mut stdout)
                    .await
                    .map_err(|e| e.to_string())
            }
            None => serve(&cli).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn credentials(cli: &Cli) -> Result<Vec<(String, SecretKey)>, String> {
    if cli.secret_ids.len() != cli.secret_keys.len() {
        return Err(format!(
            "give --secret-id and --secret-key in pairs ({} ids, {} keys)",
            cli.secret_ids.len(),
            cli.secret_keys.len()
        ));
    }
    let mut pairs: Vec<(String, SecretKey)> = cli
        .secret_ids
        .iter()
        .zip(&cli.secret_keys)
        .map(|(id, key)| (id.clone(), key.clone()))
        .collect();
    if let Some(path) = &cli.credentials {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // The error is not shown: it could quote a key.
        let entries: Vec<CredentialEntry> = serde_json::from_str(&text).map_err(|_| {
            format!(
                "{}: expected a JSON list of {{\"secret_id\": ..., \"secret_key\": ...}}",
                path.display()
            )
        })?;
        pairs.extend(
            entries
                .into_iter()
                .map(|e| (e.secret_id, SecretKey::new(e.secret_key))),
        );
    }
    Ok(pairs)
}

async fn serve(cli: &Cli) -> Result<(), String> {
    let pairs = credentials(cli)?;
    let demo_credentials = pairs.is_empty();
    let mut config = EmulatorConfig {
        transition: Duration::from_millis(cli.transition_ms),
        rate_limit: Some(cli.rate_limit).filter(|n| *n > 0),
        read_timeout: Duration::from_secs(cli.read_timeout_secs),
        ..EmulatorConfig::default()
    };
    if !demo_credentials {
        config.credentials = pairs;
    }
    config.state_file = cli.state.clone();
    config.faults = FaultConfig {
        request_limit_exceeded: cli.fault_throttle,
        internal_error: cli.fault_internal_error,
        reset_before: cli.fault_reset_before,
        reset_after: cli.fault_reset_after,
        latency: cli.latency_ms.clone(),
        seed: cli.fault_seed,
    };
    config.clock_skew_secs = cli.clock_skew;
    config.instance_role = (!cli.no_instance_role).then(|| cli.role_name.clone());
    config.credential_ttl = cli.credential_ttl;
    config.web_identity_token = web_identity_token(cli)?.map(SecretKey::new);
    config.failing_images = cli.fail_launch_images.clone();
    let faults = config.faults.clone();
    let config_role = config.instance_role.clone();
    let has_oidc_token = config.web_identity_token.is_some();
    let ids: Vec<String> = config.credentials.iter().map(|(id, _)| id.clone()).collect();
    // --instances seeds a new state, never one a state file already holds:
    // restarting with the same command line must not add instances.
    let kept_file = cli.state.as_deref().filter(|path| state_file_exists(path));
    let zone = DemoOptions::default().zone;
    let seeded = match (cli.instances, kept_file) {
        (Some(count), None) => {
            let state = seed_state(count, &zone, config.max_instances)?;
            let ids: Vec<String> = state
                .instances
                .iter()
                .map(|s| s.instance.instance_id.clone())
                .collect();
            config.initial_state = Some(state);
            Some(ids)
        }
        _ => None,
    };
    // Loads, locks and rewrites the state file before anything listens.
    let emulator = Emulator::new(config).map_err(|e| e.to_string())?;
    let instances = emulator.instance_count();
    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    let running = emulator.serve(listener).map_err(|e| e.to_string())?;
    // Before the address is printed: a SIGTERM sent as soon as it is known
    // must shut down cleanly, not kill the process.
    let stop = shutdown_signal();

    if demo_credentials {
        eprintln!("accepting the demo credential {DEMO_SECRET_ID} (key: see --help)");
    } else {
        eprintln!("accepting secret ids: {}", ids.join(", "));
    }
    let kept = match &cli.state {
        Some(path) => format!(" (kept in {})", path.display()),
        None => String::new(),
    };
    if faults.is_active() {
        let latency = faults.latency.as_ref().map_or("none".to_owned(), |r| {
            format!("{}..{} ms", r.start().as_millis(), r.end().as_millis())
        });
        let seed = running.fault_seed();
        eprintln!(
            "injecting faults: throttle {}, internal error {}, reset before {}, reset after {}, latency {latency}; seed {seed} (replay with --fault-seed {seed})",
            faults.request_limit_exceeded, faults.internal_error, faults.reset_before, faults.reset_after
        );
    }
    eprintln!(
        "metadata: {}; temporary credentials live {} s; AssumeRoleWithWebIdentity {}",
        match &config_role {
            Some(role) => format!("instance role {role}"),
            None => "no instance role".to_owned(),
        },
        cli.credential_ttl.as_secs(),
        if has_oidc_token {
            "accepts the configured token"
        } else {
            "accepts no token (see --oidc-token-file)"
        }
    );
    eprintln!(
        "launches from {} fail (LAUNCH_FAILED)",
        std::iter::once(LAUNCH_FAILURE_IMAGE_ID)
            .chain(cli.fail_launch_images.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match (&seeded, cli.instances, kept_file) {
        (Some(ids), _, _) => {
            const SHOWN: usize = 5;
            let mut shown = ids.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
            if ids.len() > SHOWN {
                shown.push_str(&format!(" and {} more", ids.len() - SHOWN));
            }
            eprintln!(
                "seeded {} STOPPED instance(s) in {zone}{}{shown}",
                ids.len(),
                if ids.is_empty() { "" } else { ": " }
            );
        }
        (None, Some(count), Some(path)) => eprintln!(
            "--instances {count} ignored: {} already exists and is kept as it is ({instances} instance(s)); \
             to seed anew, stop the emulator and delete it and {}.journal",
            path.display(),
            path.display()
        ),
        _ => {}
    }
    if cli.clock_skew != 0 {
        eprintln!(
            "clock skew {} s: the emulator's clock is {} s {} the machine's",
            cli.clock_skew,
            cli.clock_skew.unsigned_abs(),
            if cli.clock_skew > 0 { "ahead of" } else { "behind" }
        );
    }
    eprintln!(
        "transition {} ms, rate limit {}, {instances} instance(s){kept}; Ctrl-C to stop",
        cli.transition_ms,
        if cli.rate_limit == 0 {
            "off".to_owned()
        } else {
            format!("{}/s per secret id and action", cli.rate_limit)
        }
    );
    // Last: whoever waits for this line (scripts, tests) may then read the
    // whole start-up report on stderr.
    println!("listening on {}", running.endpoint_url());
    let _ = std::io::stdout().flush();

    stop.await;
    eprintln!("shutting down");
    let state = running.shutdown().await;
    if let Some(path) = &cli.state {
        eprintln!("{} instance(s) kept in {}", state.instances.len(), path.display());
    }
    if let Some(path) = &cli.dump {
        state.save(path).map_err(|e| e.to_string())?;
        eprintln!(
            "saved {} instance(s) to {}",
            state.instances.len(),
            path.display()
        );
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The Unix handlers are installed by this
/// call, not when the future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let handlers = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
        async move {
            match handlers {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{CommandFactory, Parser};

    use super::Cli;

    #[test]
    fn debug_redacts_secret_keys_and_help_warns_about_ps() {
        let cli = Cli::try_parse_from([
            "cvm-emulator",
            "--secret-id",
            "AKIDcli",
            "--secret-key",
            "very-secret-cli-key",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(shown.contains("AKIDcli"), "{shown}");
        assert!(!shown.contains("very-secret-cli-key"), "{shown}");
        assert_eq!(cli.secret_keys[0].expose(), "very-secret-cli-key");
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("ps"), "{help}");
        assert!(help.contains("--credentials FILE"), "{help}");
    }

    #[test]
    fn fault_flags_are_parsed_and_checked() {
        let cli = Cli::try_parse_from([
            "cvm-emulator",
            "--fault-throttle",
            "0.25",
            "--fault-reset-after",
            "1",
            "--latency-ms",
            "10..200",
            "--fault-seed",
            "7",
            "--clock-skew",
            "-3600",
        ])
        .unwrap();
        assert_eq!(cli.fault_throttle, 0.25);
        assert_eq!(cli.fault_reset_after, 1.0);
        assert_eq!(cli.fault_internal_error, 0.0);
        assert_eq!(
            cli.latency_ms,
            Some(std::time::Duration::from_millis(10)..=std::time::Duration::from_millis(200))
        );
        assert_eq!(cli.fault_seed, Some(7));
        assert_eq!(cli.clock_skew, -3600);
        let exact = Cli::try_parse_from(["cvm-emulator", "--latency-ms", "50"]).unwrap();
        assert_eq!(
            exact.latency_ms,
            Some(std::time::Duration::from_millis(50)..=std::time::Duration::from_millis(50))
        );

        for (args, expected) in [
            (&["--fault-throttle", "1.5"][..], "between 0.0 and 1.0"),
            (&["--fault-internal-error", "-0.1"][..], "between 0.0 and 1.0"),
            (&["--fault-reset-before", "NaN"][..], "between 0.0 and 1.0"),
            (&["--fault-reset-after", "often"][..], "not a number"),
            (&["--latency-ms", "200..10"][..], "minimum is above the maximum"),
            (&["--latency-ms", "0..60000"][..], "above the maximum of 5000 ms"),
            (&["--latency-ms", "1..2..3"][..], "not MIN..MAX"),
            (&["--clock-skew", "999999999999"][..], "ten years"),
            (&["--fault-seed", "abc"][..], "--fault-seed"),
            (&["--seed", "abc"][..], "--fault-seed"),
            (&["--read-timeout-secs", "0"][..], "1..=3600"),
            (&["--read-timeout-secs", "3601"][..], "1..=3600"),
        ] {
            let err = Cli::try_parse_from(std::iter::once("cvm-emulator").chain(args.iter().copied()))
                .expect_err(&format!("{args:?} accepted"))
                .to_string();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("--fault-reset-after"), "{help}");
        assert!(help.contains("authenticated, well-formed requests"), "{help}");
    }

    #[test]
    fn seed_is_a_hidden_alias_of_fault_seed() {
        // Scripts written for the old name keep working.
        let old = Cli::try_parse_from(["cvm-emulator", "--seed", "9"]).unwrap();
        assert_eq!(old.fault_seed, Some(9));
        assert_eq!(old.instances, None);
        let new = Cli::try_parse_from(["cvm-emulator", "--fault-seed", "9"]).unwrap();
        assert_eq!(new.fault_seed, Some(9));
        let help = Cli::command().render_long_help().to_string();
        // The old name is not listed as an option, and the new one says what it seeds.
        assert!(!help.contains("--seed <"), "{help}");
        let entry = help
            .split("--fault-seed <N>")
            .nth(1)
            .and_then(|rest| rest.split("\n      --").next())
            .expect("--fault-seed has an entry");
        assert!(entry.contains("fault-injection PRNG"), "{entry}");
        assert!(entry.contains("no instances"), "{entry}");
        assert!(entry.contains("--instances"), "{entry}");
    }

    #[test]
    fn instances_flag_is_parsed_and_bounded_by_the_quota() {
        let max = cvm_emulator::EmulatorConfig::default().max_instances;
        assert_eq!(Cli::try_parse_from(["cvm-emulator"]).unwrap().instances, None);
        let cli = Cli::try_parse_from(["cvm-emulator", "--instances", "3", "--state", "s.json"]).unwrap();
        assert_eq!(cli.instances, Some(3));
        let at_max = Cli::try_parse_from(["cvm-emulator", "--instances", &max.to_string()]).unwrap();
        assert_eq!(at_max.instances, Some(max));
        assert_eq!(
            Cli::try_parse_from(["cvm-emulator", "--instances", "0"])
                .unwrap()
                .instances,
            Some(0)
        );
        for (bad, expected) in [
            ((max + 1).to_string(), format!("quota of {max} instances")),
            (
                "99999999999999999999999".to_owned(),
                "not a number of instances".to_owned(),
            ),
            ("-1".to_owned(), "unexpected argument".to_owned()),
            ("three".to_owned(), "not a number of instances".to_owned()),
        ] {
            let err = Cli::try_parse_from(["cvm-emulator", "--instances", &bad])
                .expect_err(&bad)
                .to_string();
            assert!(err.contains(&expected), "{bad}: {err}");
        }
        // The demo keeps its own --instances.
        let demo = Cli::try_parse_from(["cvm-emulator", "demo", "--instances", "2"]).unwrap();
        assert_eq!(demo.instances, None);
        assert!(matches!(
            demo.command,
            Some(super::Command::Demo { instances: 2, .. })
        ));
    }

    #[test]
    fn seed_state_makes_distinct_stopped_instances_and_refuses_above_the_quota() {
        let state = super::seed_state(50, "ap-guangzhou-3", 100).unwrap();
        assert_eq!(state.instances.len(), 50);
        let ids: std::collections::HashSet<_> =
            state.instances.iter().map(|s| &s.instance.instance_id).collect();
        assert_eq!(ids.len(), 50);
        // As the state file shows them.
        let json = serde_json::to_value(&state).unwrap();
        for instance in json["Instances"].as_array().unwrap() {
            assert_eq!(instance["InstanceState"], "STOPPED", "{instance}");
            assert_eq!(instance["Placement"]["Zone"], "ap-guangzhou-3", "{instance}");
        }
        assert!(super::seed_state(0, "ap-guangzhou-3", 100)
            .unwrap()
            .instances
            .is_empty());
        let err = super::seed_state(101, "ap-guangzhou-3", 100).unwrap_err();
        assert!(err.contains("quota of 100"), "{err}");
    }

    #[test]
    fn help_explains_seeding_and_the_state_file() {
        let help = Cli::command().render_long_help().to_string();
        let max = cvm_emulator::EmulatorConfig::default().max_instances;
        let seeding = help
            .split("Seeding:")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .expect("a Seeding paragraph");
        for needle in [
            "--instances N",
            "STOPPED",
            &format!("at most {max}"),
            "--state FILE",
            "does not exist yet",
            "never add instances",
            "--fault-seed",
            "\"Instances\"",
            "\"Resources\"",
            "FILE.journal",
            "delete FILE and FILE.journal",
        ] {
            assert!(seeding.contains(needle), "{needle}: {seeding}");
        }
        assert!(
            help.contains(&cvm_emulator::demo::DemoOptions::default().zone),
            "{help}"
        );
        assert!(help.contains("--instances <N>"), "{help}");
        assert!(help.contains("--fault-seed <N>"), "{help}");
    }

    #[test]
    fn failing_image_flags_are_parsed_and_checked() {
        let cli = Cli::try_parse_from([
            "cvm-emulator",
            "--fail-launch-image",
            "img-badimage",
            "--fail-launch-image",
            "img-00000001",
        ])
        .unwrap();
        assert_eq!(cli.fail_launch_images, ["img-badimage", "img-00000001"]);
        assert!(Cli::try_parse_from(["cvm-emulator"])
            .unwrap()
            .fail_launch_images
            .is_empty());
        for bad in ["img-BADIMAGE", "img-short", "ins-abcd1234", "img-abcd12345", ""] {
            let err = Cli::try_parse_from(["cvm-emulator", "--fail-launch-image", bad])
                .expect_err(bad)
                .to_string();
            assert!(err.contains("not an image id"), "{bad}: {err}");
        }
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("--fail-launch-image"), "{help}");
        assert!(help.contains(cvm_emulator::LAUNCH_FAILURE_IMAGE_ID), "{help}");
        assert!(help.contains("LAUNCH_FAILED"), "{help}");
    }

    #[test]
    fn credential_flags_are_parsed_and_checked() {
        let default = Cli::try_parse_from(["cvm-emulator"]).unwrap();
        assert_eq!(default.role_name, "CVM_QcsRole");
        assert!(!default.no_instance_role);
        assert_eq!(default.credential_ttl, Duration::from_secs(7200));
        assert!(default.oidc_token.is_none() && default.oidc_token_file.is_none());

        for (text, secs) in [("5s", 5), ("3", 3), ("10m", 600), ("2h", 7200), (" 90s ", 90)] {
            let cli = Cli::try_parse_from(["cvm-emulator", "--credential-ttl", text]).unwrap();
            assert_eq!(cli.credential_ttl, Duration::from_secs(secs), "{text}");
        }
        let cli = Cli::try_parse_from([
            "cvm-emulator",
            "--role-name",
            "MyRole",
            "--oidc-token",
            "very-secret-oidc-token",
        ])
        .unwrap();
        assert_eq!(cli.role_name, "MyRole");
        let shown = format!("{cli:?}");
        assert!(!shown.contains("very-secret-oidc-token"), "{shown}");

        for (args, expected) in [
            (&["--credential-ttl", "0"][..], "1 s to 604800 s"),
            (&["--credential-ttl", "0s"][..], "1 s to 604800 s"),
            (&["--credential-ttl", "8d"][..], "not a duration"),
            (&["--credential-ttl", "500ms"][..], "not a duration"),
            (&["--credential-ttl", "5x"][..], "not a duration"),
            (&["--credential-ttl", "200h"][..], "1 s to 604800 s"),
            (&["--credential-ttl", "h"][..], "not a duration"),
            (
                &["--role-name", "R", "--no-instance-role"][..],
                "cannot be used with",
            ),
            (
                &["--oidc-token", "a", "--oidc-token-file", "f"][..],
                "cannot be used with",
            ),
        ] {
            let err = Cli::try_parse_from(std::iter::once("cvm-emulator").chain(args.iter().copied()))
                .expect_err(&format!("{args:?} accepted"))
                .to_string();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
