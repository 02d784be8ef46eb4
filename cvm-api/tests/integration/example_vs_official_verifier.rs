//! The `start_instances` example, run as a user runs it, against an
//! independent TC3 verifier built on the official Python SDK's signing code
//! (`scripts/python/tc3_verifier.py`).

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

/// `target/<profile>/examples/start_instances`, built by `cargo test` beside
/// this test binary.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join("start_instances");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p cvm-api --examples`",
        path.display()
    );
    path
}

struct Verifier {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Verifier {
    fn start() -> Verifier {
        let mut child = Command::new(support::python::venv_python())
            .arg(support::tccli::workspace_root().join("scripts/python/tc3_verifier.py"))
            .args([SECRET_ID, SECRET_KEY])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the verifier starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the verifier prints its port").unwrap();
        let port = first
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .expect("`port N`");
        Verifier { child, lines, port }
    }

    /// What the verifier said about the next request it saw.
    fn next_verdict(&mut self) -> String {
        self.lines.next().expect("a verdict line").unwrap()
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_example(port: u16, secret_key: &str, ids: &[&str]) -> (bool, String, String) {
    let output = Command::new(example_binary())
        .args(ids)
        .env_clear()
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", secret_key)
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .env("TENCENTCLOUD_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_example_is_accepted_by_an_independent_verifier_and_refused_with_a_wrong_key() {
    let mut verifier = Verifier::start();

    let (ok, stdout, stderr) = run_example(verifier.port, SECRET_KEY, &["ins-r8hr2upy", "ins-5d8a23rs"]);
    // The action is signed, canonicalised as the published algorithm says.
    assert_eq!(
        verifier.next_verdict(),
        "request StartInstances ok content-type;host;x-tc-action"
    );
    assert!(ok, "stderr: {stderr}");
    assert!(stdout.starts_with("RequestId: "), "stdout: {stdout}");

    let (ok, _, stderr) = run_example(verifier.port, "not-the-key", &["ins-r8hr2upy"]);
    assert_eq!(
        verifier.next_verdict(),
        "request StartInstances AuthFailure.SignatureFailure content-type;host;x-tc-action"
    );
    assert!(!ok);
    assert!(
        stderr.starts_with("AuthFailure.SignatureFailure: "),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("not-the-key"), "the key leaked: {stderr}");

    // Refused before sending: the next request the verifier sees is the last one.
    let (ok, _, stderr) = run_example(verifier.port, SECRET_KEY, &["ins-1122"]);
    assert!(!ok);
    assert!(
        stderr.contains("InstanceIds.0 `ins-1122` does not match"),
        "stderr: {stderr}"
    );
    let (ok, _, _) = run_example(verifier.port, SECRET_KEY, &["ins-5d8a23rs"]);
    assert!(ok);
    assert_eq!(
        verifier.next_verdict(),
        "request StartInstances ok content-type;host;x-tc-action"
    );

    // Without a region, refused before sending, on one line.
    let output = Command::new(example_binary())
        .arg("ins-5d8a23rs")
        .env_clear()
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env(
            "TENCENTCLOUD_ENDPOINT",
            format!("http://127.0.0.1:{}", verifier.port),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr,
        "error: invalid request: region is required by StartInstances: set TENCENTCLOUD_REGION, Config::with_region or the call's with_region (e.g. ap-guangzhou)\n"
    );
    let (ok, _, _) = run_example(verifier.port, SECRET_KEY, &["ins-5d8a23rs"]);
    assert!(ok);
    assert_eq!(
        verifier.next_verdict(),
        "request StartInstances ok content-type;host;x-tc-action"
    );
}

#[test]
fn without_credentials_the_example_names_every_source_it_tried() {
    let home = std::env::temp_dir().join(format!("tc-example-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    // Nothing listens there: the CVM role source fails at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = std::time::Instant::now();
    let output = Command::new(example_binary())
        .arg("ins-r8hr2upy")
        .env_clear()
        .env("HOME", &home)
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .env("TENCENTCLOUD_METADATA_ENDPOINT", format!("http://{closed}"))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&home);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set",
        "profile file: no ",
        "TKE OIDC: ",
        "CVM role: cannot reach http://127.0.0.1:",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in stderr: {stderr}");
    }
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
}
