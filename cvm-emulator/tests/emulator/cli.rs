//! The `cvm-emulator` binary: serving, state files, credentials, the demo.

use crate::common;
use crate::common::binary::{refused, serve, stop, wait, BIN};

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use cvm_api::{
    Client, Config, Credentials, Endpoint, Error, SecretKey, StartInstancesError, StartInstancesRequest,
};
use cvm_emulator::demo::DemoOptions;
use cvm_emulator::{State, StoredInstance, DEMO_SECRET_ID, DEMO_SECRET_KEY};

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cvm-emulator-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn client(url: &str, id: &str, key: &str) -> Client {
    Client::from_config(
        Config::new(Credentials::new(id, SecretKey::new(key)))
            .with_endpoint(Endpoint::custom(url).unwrap())
            .with_region("ap-guangzhou")
            .with_timeout(Duration::from_secs(10))
            // The emulator here enforces no rate limit: nor does the client.
            .with_rate_limit(cvm_api::runtime::RateLimitConfig::off()),
    )
    .unwrap()
}

#[tokio::test]
async fn serves_and_saves_state_on_sigterm() {
    let dir = temp_dir();
    let state_file = dir.join("state.json");
    State::new()
        .with_instance(StoredInstance::new("ins-cli00001", "ap-guangzhou-3", "STOPPED"))
        .save(&state_file)
        .unwrap();
    let served = serve(&["--transition-ms", "0", "--state", state_file.to_str().unwrap()]);
    let url = served.url.clone();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let c = client(&url, DEMO_SECRET_ID, DEMO_SECRET_KEY);
    c.call({
        let mut new_value = StartInstancesRequest::default();
        new_value.instance_ids = vec!["ins-cli00001".into()];
        new_value
    })
    .send()
    .await
    .unwrap();

    let stderr = stop(served);
    assert!(!stderr.contains(DEMO_SECRET_KEY), "{stderr}");
    let saved = State::load(&state_file).unwrap();
    assert_eq!(
        saved.instance("ins-cli00001").unwrap().instance.instance_state,
        "RUNNING"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn credentials_file_and_dump() {
    let dir = temp_dir();
    let creds = dir.join("creds.json");
    std::fs::write(
        &creds,
        r#"[{"secret_id": "AKIDcli", "secret_key": "cli-key-do-not-print"}]"#,
    )
    .unwrap();
    let dump = dir.join("dump.json");
    let served = serve(&[
        "--credentials",
        creds.to_str().unwrap(),
        "--rate-limit",
        "0",
        "--transition-ms",
        "0",
        "--dump",
        dump.to_str().unwrap(),
    ]);
    let url = served.url.clone();
    // The demo credential is not accepted when others are configured.
    let err = client(&url, DEMO_SECRET_ID, DEMO_SECRET_KEY)
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec!["ins-00000000".into()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Service(ref e) if e.code() == "AuthFailure.SecretIdNotFound"),
        "{err:?}"
    );
    let err = client(&url, "AKIDcli", "cli-key-do-not-print")
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec!["ins-00000000".into()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::InvalidInstanceIdNotFound(_))
        ),
        "{err:?}"
    );
    let stderr = stop(served);
    assert!(stderr.contains("AKIDcli"), "{stderr}");
    assert!(!stderr.contains("cli-key-do-not-print"), "{stderr}");
    assert!(State::load(&dump).unwrap().instances.is_empty());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_arguments_fail_clearly() {
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--secret-id", "AKIDx"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pairs"));

    let dir = temp_dir();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"Instances": [{"InstanceId": "nope", "Placement": {"Zone": "z-1"}}]}"#,
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--state", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));

    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains(DEMO_SECRET_ID) && help.contains("demo"), "{help}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn demo_subcommand_exits_zero() {
    let mut child = Command::new(BIN)
        .args(["demo", "--transition-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait(&mut child, Duration::from_secs(30));
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("StartInstances"), "{stdout}");
    assert!(
        stdout.contains("UnsupportedOperation.InstanceStateRunning"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nOK: 3 instance(s) STOPPED -> RUNNING"),
        "{stdout}"
    );
}

#[tokio::test]
async fn demo_in_process() {
    let mut out = Vec::new();
    let options = DemoOptions {
        instances: 2,
        transition: Duration::from_millis(20),
        ..DemoOptions::default()
    };
    cvm_emulator::demo::run(&options, &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("OK: 2 instance(s)"), "{text}");
}

#[test]
fn misshaped_state_file_is_refused_and_left_alone() {
    let dir = temp_dir();
    let path = dir.join("state.json");
    for (text, named) in [
        (
            r#"{"instances": [{"InstanceId": "ins-abcd1234", "Placement": {"Zone": "ap-guangzhou-3"}}]}"#,
            "unknown field `instances`",
        ),
        (
            r#"{"Instances": [{"InstanceId": "ins-abcd1234", "InstanceStat": "STOPPED", "Placement": {"Zone": "ap-guangzhou-3"}}]}"#,
            "Instances.0.InstanceStat: unknown member",
        ),
        ("", "EOF while parsing"),
    ] {
        std::fs::write(&path, text).unwrap();
        let stderr = refused(&["--state", path.to_str().unwrap()]);
        assert!(
            stderr.contains(&format!("state file {}", path.display())),
            "{stderr}"
        );
        assert!(stderr.contains(named), "{stderr}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn unwritable_state_path_is_refused_before_serving() {
    let dir = temp_dir();
    let not_a_dir = dir.join("plain-file");
    std::fs::write(&not_a_dir, "x").unwrap();
    for path in [
        PathBuf::from("/no/such/dir/s.json"),
        not_a_dir.join("s.json"),
        // A directory where the file should be.
        dir.clone(),
    ] {
        let stderr = refused(&["--state", path.to_str().unwrap()]);
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&not_a_dir).unwrap(), "x");
    // The directory's lock file, beside it.
    std::fs::remove_file(format!("{}.lock", dir.display())).ok();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn second_emulator_on_the_same_state_file_is_refused() {
    let dir = temp_dir();
    let path = dir.join("state.json");
    let path_arg = path.to_str().unwrap();
    let first = serve(&["--transition-ms", "0", "--state", path_arg]);
    let url = first.url.clone();
    let snapshot = std::fs::read(&path).unwrap();

    let stderr = refused(&["--state", path_arg]);
    assert!(
        stderr.contains(&format!("state file {path_arg} is in use")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("pid {}, {url}", first.child.id())),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), snapshot);

    // The first one is unharmed.
    let c = client(&url, DEMO_SECRET_ID, DEMO_SECRET_KEY);
    let err = c
        .call({
            let mut new_value = StartInstancesRequest::default();
            new_value.instance_ids = vec!["ins-00000000".into()];
            new_value
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service(StartInstancesError::InvalidInstanceIdNotFound(_))
        ),
        "{err:?}"
    );
    stop(first);

    // Free once the first has exited.
    stop(serve(&["--state", path_arg]));
    std::fs::remove_dir_all(dir).ok();
}

/// `GET url`: status and body.
async fn get_text(url: &str) -> (u16, String) {
    let resp = common::http().get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn credential_flags_serve_the_role_the_ttl_and_the_oidc_token_file() {
    let dir = temp_dir();
    let token_file = dir.join("token");
    let token = "eyJ.cli-oidc-token-never-printed.sig";
    // A trailing newline, as `echo` writes: ignored.
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let served = serve(&[
        "--role-name",
        "CliRole",
        "--credential-ttl",
        "5s",
        "--oidc-token-file",
        token_file.to_str().unwrap(),
    ]);
    let url = served.url.clone();
    let roles = format!("{url}/latest/meta-data/cam/security-credentials/");
    assert_eq!(get_text(&roles).await, (200, "CliRole".to_owned()));
    let before = common::now();
    let (status, body) = get_text(&format!("{roles}CliRole")).await;
    assert_eq!(status, 200, "{body}");
    let creds: serde_json::Value = serde_json::from_str(&body).unwrap();
    let expired = creds["ExpiredTime"].as_i64().unwrap();
    assert!((before + 5..=common::now() + 5).contains(&expired), "{creds}");

    // The file's token (without its newline) is the one accepted.
    let host = url.strip_prefix("http://").unwrap();
    let call = common::Call {
        authorization: Some("SKIP".into()),
        ..common::Call::sts(
            "AssumeRoleWithWebIdentity",
            serde_json::json!({"ProviderId": "OIDC", "WebIdentityToken": token,
                               "RoleArn": "qcs::cam::uin/1:roleName/r", "RoleSessionName": "cli"}),
        )
    };
    let mut request = common::http().post(format!("{url}/")).body(call.body.clone());
    for (k, v) in call.headers(host) {
        request = request.header(k, v);
    }
    let answer = common::envelope(&request.send().await.unwrap().bytes().await.unwrap());
    assert_eq!(common::code(&answer), "", "{answer}");
    // At most the TTL, whatever DurationSeconds defaults to.
    assert!(
        answer["ExpiredTime"].as_i64().unwrap() <= common::now() + 5,
        "{answer}"
    );

    let stderr = stop(served);
    assert!(!stderr.contains(token), "{stderr}");
    assert!(
        !stderr.contains(creds["TmpSecretKey"].as_str().unwrap()),
        "{stderr}"
    );
    assert!(!stderr.contains(creds["Token"].as_str().unwrap()), "{stderr}");
    assert!(stderr.contains("instance role CliRole"), "{stderr}");

    let served = serve(&["--no-instance-role"]);
    for path in ["", "CVM_QcsRole"] {
        let (status, _) = get_text(&format!(
            "{}/latest/meta-data/cam/security-credentials/{path}",
            served.url
        ))
        .await;
        assert_eq!(status, 404, "{path}");
    }
    stop(served);

    for (args, expected) in [
        (vec!["--credential-ttl", "0"], "1 s to 604800 s"),
        (vec!["--credential-ttl", "10x"], "not a duration"),
        (vec!["--role-name", "has space"], "role name"),
        (
            vec!["--oidc-token-file", "/nonexistent/token"],
            "/nonexistent/token",
        ),
    ] {
        let stderr = refused(&args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let empty = dir.join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let stderr = refused(&["--oidc-token-file", empty.to_str().unwrap()]);
    assert!(stderr.contains("empty"), "{stderr}");
    std::fs::remove_dir_all(dir).ok();
}
