//! The SDK's credential sources against the emulator, end to end: each
//! source chosen by environment variables as a user would set them, the
//! `start_instances` example run unchanged with each (logging at
//! `RUST_LOG=trace`, which must show no secret), and renewal under load.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{config, seeded, start};
use cvm_api::runtime::credentials::DefaultChain;
use cvm_api::runtime::{AttemptOutcome, Env, Interceptor};
use cvm_api::{Client, Config, DescribeInstancesRequest};
use cvm_emulator::{RunningEmulator, DEMO_SECRET_ID, DEMO_SECRET_KEY};

const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/deployer";
const WEB_IDENTITY_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.web-identity-token-for-tests.signature";
const REGION: &str = "ap-guangzhou";

/// A temporary home directory, removed on drop.
struct TempDir(tempfile::TempDir);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        TempDir(
            tempfile::Builder::new()
                .prefix(&format!("tc-sources-{tag}-"))
                .tempdir()
                .unwrap(),
        )
    }

    fn write(&self, relative: &str, text: &str) -> String {
        let path = self.0.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// One way of giving the SDK credentials: the variables (and files) a user sets.
struct Source {
    name: &'static str,
    /// Kept for the files the variables name.
    _home: TempDir,
    vars: Vec<(String, String)>,
}

/// Every source of the chain, and AssumeRole, each alone, pointed at `emulator`.
fn sources(emulator: &RunningEmulator) -> Vec<Source> {
    let url = emulator.endpoint_url();
    let common = |home: &TempDir, region: bool| {
        let mut vars = vec![
            ("HOME".to_owned(), home.path().display().to_string()),
            ("TENCENTCLOUD_ENDPOINT".to_owned(), url.clone()),
            // Wherever the chain reaches the CVM role, it finds nothing.
            (
                "TENCENTCLOUD_METADATA_ENDPOINT".to_owned(),
                "http://127.0.0.1:9".to_owned(),
            ),
        ];
        if region {
            vars.push(("TENCENTCLOUD_REGION".to_owned(), REGION.to_owned()));
        }
        vars
    };
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let mut all = Vec::new();

    let home = TempDir::new("env");
    let mut vars = common(&home, true);
    vars.extend([
        pair("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID),
        pair("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY),
    ]);
    all.push(Source {
        name: "environment",
        _home: home,
        vars,
    });

    let home = TempDir::new("ini");
    home.write(
        ".tencentcloud/credentials",
        &format!("[default]\nsecret_id = {DEMO_SECRET_ID}\nsecret_key = {DEMO_SECRET_KEY}\n"),
    );
    let vars = common(&home, true);
    all.push(Source {
        name: "profile file",
        _home: home,
        vars,
    });

    // The official CLI's own files, region included: no TENCENTCLOUD_REGION.
    let home = TempDir::new("tccli");
    home.write(
        ".tccli/default.credential",
        &format!(r#"{{"secretId": "{DEMO_SECRET_ID}", "secretKey": "{DEMO_SECRET_KEY}"}}"#),
    );
    home.write(
        ".tccli/default.configure",
        &format!(r#"{{"_sys_param": {{"region": "{REGION}", "output": "json"}}}}"#),
    );
    let vars = common(&home, false);
    all.push(Source {
        name: "tccli files",
        _home: home,
        vars,
    });

    let home = TempDir::new("role");
    let mut vars = common(&home, true);
    vars.retain(|(k, _)| k != "TENCENTCLOUD_METADATA_ENDPOINT");
    vars.push(pair("TENCENTCLOUD_METADATA_ENDPOINT", &url));
    all.push(Source {
        name: "CVM role",
        _home: home,
        vars,
    });

    let home = TempDir::new("oidc");
    let token_file = home.write("serviceaccount/token", WEB_IDENTITY_TOKEN);
    let mut vars = common(&home, true);
    vars.extend([
        pair("TKE_REGION", REGION),
        pair("TKE_PROVIDER_ID", "tke-oidc-provider"),
        pair("TKE_WEB_IDENTITY_TOKEN_FILE", &token_file),
        pair("TKE_ROLE_ARN", ROLE_ARN),
    ]);
    all.push(Source {
        name: "TKE OIDC",
        _home: home,
        vars,
    });

    let home = TempDir::new("assume");
    let mut vars = common(&home, true);
    vars.extend([
        pair("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID),
        pair("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY),
        pair("TENCENTCLOUD_ROLE_ARN", ROLE_ARN),
        pair("TENCENTCLOUD_ROLE_SESSION_NAME", "example-run"),
    ]);
    all.push(Source {
        name: "AssumeRole",
        _home: home,
        vars,
    });
    all
}

fn emulator_config() -> cvm_emulator::EmulatorConfig {
    config().with_web_identity_token(Some(WEB_IDENTITY_TOKEN.to_owned()))
}

#[tokio::test]
async fn each_source_signs_calls_the_emulator_accepts() {
    let emulator = start(emulator_config()).await;
    let mut issued_before = emulator.credentials_issued();
    for source in sources(&emulator) {
        let env = Env::from_pairs(source.vars.clone());
        // The SDK's full configuration: the STS-backed sources are tencentcloud-config's.
        let config = tencentcloud_config::config_from_environment(&env)
            .unwrap_or_else(|e| panic!("{}: {e}", source.name));
        assert_eq!(config.region(), Some(REGION), "{}", source.name);
        let client = Client::from_config(config).unwrap();
        let response = client
            .call((DescribeInstancesRequest::default()).clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", source.name));
        assert_eq!(response.total_count, 0);
        let issued = emulator.credentials_issued();
        let expected = match source.name {
            "CVM role" => (1, 0, 0),
            "AssumeRole" => (0, 1, 0),
            "TKE OIDC" => (0, 0, 1),
            _ => (0, 0, 0),
        };
        assert_eq!(
            (
                issued.metadata - issued_before.metadata,
                issued.assume_role - issued_before.assume_role,
                issued.web_identity - issued_before.web_identity
            ),
            expected,
            "{}",
            source.name
        );
        issued_before = issued;
    }
}

/// The longest run of hex digits outside secret ids (`AKID...`, public:
/// the emulator's temporary ids carry hex): a derived key, a session token
/// or a signature would be one of 64.
fn longest_hex_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    let mut in_id = false;
    for (i, c) in text.char_indices() {
        if text[i..].starts_with("AKID") {
            in_id = true;
        }
        in_id &= c.is_ascii_alphanumeric();
        run = if c.is_ascii_hexdigit() && !in_id {
            run + 1
        } else {
            0
        };
        longest = longest.max(run);
    }
    longest
}

#[test]
fn the_hex_check_sees_keys_and_tokens_but_not_secret_ids() {
    let token = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_eq!(longest_hex_run(&format!("x-tc-token: {token}")), 64);
    assert!(longest_hex_run("secret_id=\"AKIDtmp000000006b0d60a4842e9d3f9859fe0710dcb6e4cb4bbef1\" ok") < 32);
    assert_eq!(longest_hex_run(&format!("AKIDtmp00 {token}")), 64);
}

#[tokio::test]
async fn the_start_instances_example_works_unchanged_with_each_source_and_logs_no_secret() {
    let (emulator, ids) = seeded(emulator_config(), 6, "STOPPED").await;
    let binary = common::example_binary("start_instances");
    for (source, id) in sources(&emulator).into_iter().zip(ids) {
        let mut command = Command::new(&binary);
        command.arg(&id).env_clear().env("RUST_LOG", "trace");
        for (k, v) in &source.vars {
            command.env(k, v);
        }
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.starts_with("RequestId: "),
            "{}: {stdout} {stderr}",
            source.name
        );
        // The trace log is there, and names where the credentials came from...
        assert!(stderr.contains("sending request"), "{}: {stderr}", source.name);
        // ...but holds no secret: not the keys, not the web identity token,
        // and nothing as long as a derived key, a session token or a signature.
        for secret in [DEMO_SECRET_KEY, WEB_IDENTITY_TOKEN] {
            assert!(!stderr.contains(secret), "{}: {stderr}", source.name);
        }
        assert!(longest_hex_run(&stderr) < 32, "{}: {stderr}", source.name);
        if matches!(source.name, "CVM role" | "TKE OIDC" | "AssumeRole") {
            assert!(
                stderr.contains("credentials fetched"),
                "{}: {stderr}",
                source.name
            );
        }
    }
    let state = emulator.state_snapshot();
    assert!(state
        .instances
        .iter()
        .all(|i| i.instance.instance_state != "STOPPED"));
}

/// Counts attempts the service refused for authentication.
#[derive(Debug, Default, Clone)]
struct AuthFailures(Arc<AtomicU64>);

impl Interceptor for AuthFailures {
    fn after_attempt(&self, outcome: &AttemptOutcome<'_>) {
        if outcome.error_code().is_some_and(|c| c.starts_with("AuthFailure")) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credentials_of_three_seconds_renewed_under_load_never_fail() {
    const LIFETIME: Duration = Duration::from_secs(3);
    const DURATION: Duration = Duration::from_secs(15);
    const CALLERS: usize = 16;
    // Bounded in count as well as time.
    const MAX_CALLS_PER_CALLER: u64 = 20_000;

    let emulator = start(config().with_credential_ttl(LIFETIME)).await;
    let env = Env::from_pairs([
        ("TENCENTCLOUD_METADATA_ENDPOINT", emulator.endpoint_url()),
        ("HOME", "/nonexistent-home-for-tests".to_owned()),
    ]);
    let chain = DefaultChain::from_environment(&env).unwrap();
    let refused = AuthFailures::default();
    let config = Config::from_credentials_provider(chain)
        .with_endpoint(cvm_api::runtime::Endpoint::custom(&emulator.endpoint_url()).unwrap())
        .with_region(REGION)
        .with_timeout(Duration::from_secs(10))
        .with_interceptor(refused.clone());
    let client = Client::from_config(config).unwrap();

    let started = Instant::now();
    let failures = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let client = client.clone();
        let failures = failures.clone();
        let calls = calls.clone();
        tasks.push(tokio::spawn(async move {
            let mut first_error = None;
            for _ in 0..MAX_CALLS_PER_CALLER {
                if started.elapsed() >= DURATION {
                    break;
                }
                calls.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = client
                    .call((DescribeInstancesRequest::default()).clone())
                    .send()
                    .await
                {
                    failures.fetch_add(1, Ordering::Relaxed);
                    first_error.get_or_insert(e.to_string());
                }
            }
            first_error
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let fetches = emulator.credentials_issued().metadata;
    let expected = elapsed.as_secs_f64() / LIFETIME.as_secs_f64();
    println!(
        "{} calls by {CALLERS} callers in {:.1} s: {} failed, {} attempts refused for authentication, \
         {fetches} credential fetches (duration / lifetime = {expected:.1})",
        calls.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        failures.load(Ordering::Relaxed),
        refused.0.load(Ordering::Relaxed),
    );
    assert_eq!(failures.load(Ordering::Relaxed), 0, "{errors:?}");
    assert!(calls.load(Ordering::Relaxed) >= CALLERS as u64 * 10);
    // ExpiredTime is whole seconds, so a credential lives 2 to 3 s, and is
    // renewed a tenth of its life early: between 1 and 2 fetches per lifetime.
    assert!(
        fetches as f64 >= expected * 0.9 && fetches as f64 <= expected * 2.0 + 1.0,
        "{fetches} fetches for {expected:.1} lifetimes"
    );
    // A call retried after a refusal would hide one; there should be none to hide.
    assert!(
        refused.0.load(Ordering::Relaxed) <= 1,
        "{} refusals",
        refused.0.load(Ordering::Relaxed)
    );
}
