//! The official Tencent Cloud Python SDK against the emulator: proof that the
//! emulator speaks the real protocol (TC3 signatures made by Tencent's own
//! code, POST JSON and GET form-encoded requests, error envelopes the SDK
//! turns into `TencentCloudSDKException` codes).
//!
//! Runs `scripts/python/setup-venv.sh` (a pinned venv, cached under the
//! target directory as `py-venv`; the first run downloads the SDK from PyPI),
//! starts an emulator in-process and runs `scripts/python/sdk_lifecycle.py`
//! against it with the venv's interpreter. Needs Python 3 with `venv` and
//! pip: without it the test fails (it never passes silently). `$PYTHON`
//! picks another interpreter than `python3`.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use cvm_emulator::{Emulator, EmulatorConfig, SecretKey};
use tokio::process::Command;

const SECRET_ID: &str = "AKIDpythonSdkTest0123456789abcdef";
const SECRET_KEY: &str = "python-sdk-test-secret-key-4b1c9e";
const REGION: &str = "ap-guangzhou";

/// Creating the venv downloads a few packages on a fresh machine.
const SETUP_TIMEOUT: Duration = Duration::from_secs(600);
/// The lifecycle itself takes about a second.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

/// `$CARGO_TARGET_DIR` (relative to the workspace when relative) or
/// `<workspace>/target`.
fn target_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn python() -> String {
    std::env::var("PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_owned())
}

fn show(output: &Output) -> String {
    format!(
        "--- exit status: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `command` to completion within `limit`; the child is killed on timeout.
async fn run(mut command: Command, what: &str, limit: Duration) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what} did not finish within {limit:?} (killed)"),
    }
}

/// Keeps proxies configured for the outside world away from loopback.
fn no_proxy(command: &mut Command) {
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
}

/// The pinned venv (created on first use): its directory.
async fn venv() -> PathBuf {
    let python = python();
    let probe = Command::new(&python).arg("--version").output().await;
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`{python} --version` failed: the official Python SDK test needs Python 3 with venv and pip \
             (CI machines have Python 3.11).\n{}",
            show(&out)
        ),
        Err(e) => panic!(
            "`{python}` cannot be run ({e}): the official Python SDK test needs Python 3 with venv and pip \
             (CI machines have Python 3.11); set $PYTHON to use another interpreter"
        ),
    }

    let root = workspace_root();
    let venv = target_dir().join("py-venv");
    let started = Instant::now();
    let mut setup = Command::new("bash");
    setup
        .arg(root.join("scripts/python/setup-venv.sh"))
        .arg(&venv)
        .env("PYTHON", &python)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    let output = run(setup, "scripts/python/setup-venv.sh", SETUP_TIMEOUT).await;
    assert!(
        output.status.success(),
        "setting up the Python venv failed (PyPI must be reachable on the first run):\n{}",
        show(&output)
    );
    eprintln!("venv ready in {:.2?}: {}", started.elapsed(), venv.display());
    venv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_runs_the_lifecycle_against_the_emulator() {
    let root = workspace_root();
    let venv = venv().await;
    let config = EmulatorConfig::default()
        .with_only_credential(SECRET_ID, SecretKey::new(SECRET_KEY))
        .with_transition(Duration::from_millis(50))
        .with_rate_limit(None);
    let emulator = Emulator::start(config, "127.0.0.1:0")
        .await
        .expect("the emulator starts on 127.0.0.1:0");

    let started = Instant::now();
    let mut script = Command::new(venv.join("bin/python"));
    script
        .arg(root.join("scripts/python/sdk_lifecycle.py"))
        .args(["--endpoint", &emulator.host()])
        .args(["--secret-id", SECRET_ID])
        .args(["--region", REGION])
        .args(["--methods", "POST,GET"])
        .args(["--timeout", "20"])
        // The key goes through the environment, not the command line.
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    no_proxy(&mut script);
    let output = run(script, "scripts/python/sdk_lifecycle.py", SCRIPT_TIMEOUT).await;
    let elapsed = started.elapsed();
    let state = emulator.shutdown().await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "the official Python SDK failed against the emulator:\n{}",
        show(&output)
    );
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("python-sdk: ") && l.ends_with(" failed"))
        .unwrap_or_else(|| panic!("no summary line in the script's output:\n{}", show(&output)));
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("python-sdk: 0 passed"),
        "unexpected summary `{summary}`:\n{}",
        show(&output)
    );
    assert!(
        state.instances.is_empty(),
        "the script terminates what it creates, yet {} instance(s) remain: {:?}",
        state.instances.len(),
        state
            .instances
            .iter()
            .map(|i| (&i.instance.instance_id, &i.instance.instance_state))
            .collect::<Vec<_>>()
    );
    eprintln!("{summary} in {elapsed:.2?}");
}

/// The provisioning scenario (`scripts/python/sdk_scenario.py`) with the
/// official SDK's cvm, vpc and cbs packages: the same flow as
/// `scenario.rs` runs with ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_runs_the_provisioning_scenario() {
    let root = workspace_root();
    let venv = venv().await;
    let config = EmulatorConfig::default()
        .with_only_credential(SECRET_ID, SecretKey::new(SECRET_KEY))
        .with_transition(Duration::ZERO)
        .with_rate_limit(None);
    let emulator = Emulator::start(config, "127.0.0.1:0")
        .await
        .expect("the emulator starts on 127.0.0.1:0");
    let mut script = Command::new(venv.join("bin/python"));
    script
        .arg(root.join("scripts/python/sdk_scenario.py"))
        .args(["--endpoint", &emulator.host()])
        .args(["--secret-id", SECRET_ID])
        .args(["--region", REGION])
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    no_proxy(&mut script);
    let output = run(script, "scripts/python/sdk_scenario.py", SCRIPT_TIMEOUT).await;
    let state = emulator.shutdown().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the scenario failed:\n{}", show(&output));
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("python-scenario: "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", show(&output)));
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("python-scenario: 0 passed"),
        "unexpected summary `{summary}`:\n{}",
        show(&output)
    );
    assert!(
        state.instances.is_empty() && state.resources.is_empty(),
        "the scenario tears down what it makes, yet {} instance(s) and {} resource(s) remain",
        state.instances.len(),
        state.resources.len()
    );
    eprintln!("{summary}");
}

/// The SDK's `CVMRoleCredential` pointed at our metadata service (its class
/// attributes `_metadata_endpoint`/`_role_endpoint`), `STSAssumeRoleCredential`
/// and `OIDCRoleArnCredential` pointed at our STS, each signing a CVM
/// DescribeInstances. The STS ones take an endpoint but no scheme (always
/// https): the script substitutes the `HttpProfile` they construct with one
/// defaulting to http (see `tests/python/credentials.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_credential_providers_against_the_emulator() {
    let venv = venv().await;
    let oidc_token = "eyJ.python-sdk-oidc-token.sig";
    let dir = std::env::temp_dir().join(format!("cvm-emulator-py-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, oidc_token).unwrap();
    let config = EmulatorConfig::default()
        .with_only_credential(SECRET_ID, SecretKey::new(SECRET_KEY))
        .with_rate_limit(None)
        .with_web_identity_token(Some(oidc_token.to_owned()));
    let emulator = Emulator::start(config, "127.0.0.1:0")
        .await
        .expect("the emulator starts on 127.0.0.1:0");

    let mut script = Command::new(venv.join("bin/python"));
    script
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/credentials.py"))
        .args(["--endpoint", &emulator.host()])
        .args(["--region", REGION])
        .args(["--role-arn", "qcs::cam::uin/100000000001:roleName/python-sdk"])
        .arg("--oidc-token-file")
        .arg(&token_file)
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    no_proxy(&mut script);
    let output = run(script, "tests/python/credentials.py", SCRIPT_TIMEOUT).await;
    let issued = emulator.credentials_issued();
    let describes = emulator.request_count("DescribeInstances");
    emulator.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();

    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "the official Python SDK's credential providers failed against the emulator:\n{}",
        show(&output)
    );
    assert!(
        stdout.contains("credentials: 4 passed, 0 failed"),
        "unexpected summary:\n{}",
        show(&output)
    );
    // One fetch each: the SDK caches what it got.
    assert_eq!(issued.metadata, 1, "{issued:?}");
    assert_eq!(issued.assume_role, 1, "{issued:?}");
    assert_eq!(issued.web_identity, 1, "{issued:?}");
    assert_eq!(describes, 3);
}
