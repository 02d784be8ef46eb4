//! `tcloud` as a user runs it, against the emulator: credentials from each
//! source of the SDK's chain, tccli's profile files, parameters refused
//! before anything is sent, text on a terminal, waiters, help and completions.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use cvm_emulator::{RunningEmulator, State, StoredInstance};
use serde_json::Value;

const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/cli";
const WEB_IDENTITY_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.cli-web-identity.signature";

/// An emulator with `n` instances in `state`, and their ids.
async fn seeded(transition: Duration, n: usize, state: &str) -> (RunningEmulator, Vec<String>) {
    let mut seed = State::new();
    for _ in 0..n {
        seed = seed.with_instance(StoredInstance::with_random_id(ZONE, state));
    }
    let ids = seed
        .instances
        .iter()
        .map(|s| s.instance.instance_id.clone())
        .collect();
    let config = config(transition)
        .with_state(seed)
        .with_web_identity_token(Some(WEB_IDENTITY_TOKEN.to_owned()));
    (start(config).await, ids)
}

/// A credential source: its name, home directory, variables and flags.
type Source = (
    &'static str,
    tempfile::TempDir,
    Vec<(&'static str, String)>,
    Vec<String>,
);

/// `tcloud args`, with `home` and `vars` only.
async fn tcloud_in(home: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = command(&tcloud(), home);
    command.args(args).envs(vars.iter().copied());
    output(command).await
}

fn write(home: &Path, relative: &str, text: &str) -> String {
    let path = home.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn state_of(emulator: &RunningEmulator, id: &str) -> String {
    emulator
        .state_snapshot()
        .instances
        .iter()
        .find(|s| s.instance.instance_id == id)
        .map(|s| s.instance.instance_state.to_string())
        .unwrap_or_else(|| "absent".to_owned())
}

/// A command refused before sending: exit 2, nothing on stdout, one line on
/// stderr, which is returned.
fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", show(out));
    assert!(out.stdout.is_empty(), "{}", show(out));
    let text = stderr(out);
    assert_eq!(text.lines().count(), 1, "one line: {}", show(out));
    text
}

fn ok_json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", show(output));
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", show(output)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_instances_works_with_credentials_from_each_source() {
    let (emulator, ids) = seeded(Duration::ZERO, 8, "STOPPED").await;
    let url = emulator.endpoint_url();
    let no_role = ("TENCENTCLOUD_METADATA_ENDPOINT", "http://127.0.0.1:9");
    let region = ("TENCENTCLOUD_REGION", REGION);
    let endpoint = ("TENCENTCLOUD_ENDPOINT", url.as_str());
    let mut ids = ids.iter();
    let mut next = || format!(r#"["{}"]"#, ids.next().unwrap());

    // Each source alone, as a user sets it up.
    let mut cases: Vec<Source> = Vec::new();
    let flags = vec![
        "--secretId".to_owned(),
        SECRET_ID.to_owned(),
        "--secretKey".to_owned(),
        SECRET_KEY.to_owned(),
        "--region".to_owned(),
        REGION.to_owned(),
        "--endpoint".to_owned(),
        url.clone(),
    ];
    cases.push(("flags", tempfile::tempdir().unwrap(), vec![], flags));
    cases.push((
        "environment",
        tempfile::tempdir().unwrap(),
        vec![
            ("TENCENTCLOUD_SECRET_ID", SECRET_ID.to_owned()),
            ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY.to_owned()),
        ],
        vec![],
    ));
    let ini = tempfile::tempdir().unwrap();
    write(
        ini.path(),
        ".tencentcloud/credentials",
        &format!("[default]\nsecret_id = {SECRET_ID}\nsecret_key = {SECRET_KEY}\n"),
    );
    cases.push(("SDK profile file", ini, vec![], vec![]));
    let tccli = tempfile::tempdir().unwrap();
    write(
        tccli.path(),
        ".tccli/default.credential",
        &format!(r#"{{"secretId": "{SECRET_ID}", "secretKey": "{SECRET_KEY}"}}"#),
    );
    cases.push(("tccli default profile", tccli, vec![], vec![]));
    cases.push((
        "CVM role",
        tempfile::tempdir().unwrap(),
        vec![("TENCENTCLOUD_METADATA_ENDPOINT", url.clone())],
        vec![],
    ));
    let oidc = tempfile::tempdir().unwrap();
    let token_file = write(oidc.path(), "serviceaccount/token", WEB_IDENTITY_TOKEN);
    cases.push((
        "TKE OIDC",
        oidc,
        vec![
            ("TKE_REGION", REGION.to_owned()),
            ("TKE_PROVIDER_ID", "tke-oidc-provider".to_owned()),
            ("TKE_WEB_IDENTITY_TOKEN_FILE", token_file),
            ("TKE_ROLE_ARN", ROLE_ARN.to_owned()),
        ],
        vec![],
    ));
    cases.push((
        "AssumeRole",
        tempfile::tempdir().unwrap(),
        vec![
            ("TENCENTCLOUD_SECRET_ID", SECRET_ID.to_owned()),
            ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY.to_owned()),
            ("TENCENTCLOUD_ROLE_ARN", ROLE_ARN.to_owned()),
        ],
        vec![],
    ));

    for (name, home, source, extra) in &cases {
        let id = next();
        let mut vars: Vec<(&str, &str)> = source.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if extra.is_empty() {
            vars.extend([region, endpoint]);
        }
        if !vars.iter().any(|(k, _)| *k == no_role.0) {
            vars.push(no_role);
        }
        let mut args = vec!["cvm", "StartInstances", "--InstanceIds", id.as_str()];
        args.extend(extra.iter().map(String::as_str));
        let out = tcloud_in(home.path(), &vars, &args).await;
        let answer = ok_json(&out);
        assert!(answer["RequestId"].is_string(), "{name}: {}", show(&out));
        assert!(stderr(&out).is_empty(), "{name}: {}", show(&out));
        let started: Vec<String> = serde_json::from_str(&id).unwrap();
        assert_eq!(state_of(&emulator, &started[0]), "RUNNING", "{name}");
        for secret in [SECRET_KEY, WEB_IDENTITY_TOKEN] {
            assert!(!show(&out).contains(secret), "{name} printed a secret");
        }
    }
    assert_eq!(emulator.request_count("StartInstances"), cases.len() as u64);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_profile_gives_credentials_region_output_and_endpoint_and_wins_over_the_environment() {
    let (emulator, ids) = seeded(Duration::ZERO, 2, "STOPPED").await;
    let url = emulator.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".tccli/prod.credential",
        &format!(r#"{{"secretId": "{SECRET_ID}", "secretKey": "{SECRET_KEY}"}}"#),
    );
    write(
        home.path(),
        ".tccli/prod.configure",
        &format!(
            r#"{{"_sys_param": {{"region": "{REGION}", "output": "text"}}, "cvm": {{"endpoint": "{url}"}}}}"#
        ),
    );
    // Keys in the environment that the emulator refuses: a profile named
    // on the command line is used as written, as in tccli.
    let wrong = [
        ("TENCENTCLOUD_SECRET_ID", "AKIDwrongwrongwrongwrongwrongwrong00"),
        ("TENCENTCLOUD_SECRET_KEY", "wrong-key"),
        ("TENCENTCLOUD_REGION", "ap-nowhere"),
        ("TENCENTCLOUD_METADATA_ENDPOINT", "http://127.0.0.1:9"),
    ];
    let id = format!(r#"["{}"]"#, ids[0]);
    let out = tcloud_in(
        home.path(),
        &wrong,
        &["cvm", "StartInstances", "--profile", "prod", "--InstanceIds", &id],
    )
    .await;
    assert!(out.status.success(), "{}", show(&out));
    // The profile's output format: text, not JSON.
    assert!(
        stdout(&out).starts_with("RequestId\t") || !stdout(&out).starts_with('{'),
        "{}",
        show(&out)
    );
    assert_eq!(state_of(&emulator, &ids[0]), "RUNNING");

    // TCCLI_PROFILE names it too; --output wins over the profile's.
    let out = tcloud_in(
        home.path(),
        &[
            ("TCCLI_PROFILE", "prod"),
            ("TENCENTCLOUD_METADATA_ENDPOINT", "http://127.0.0.1:9"),
        ],
        &[
            "cvm",
            "DescribeInstances",
            "--output",
            "json",
            "--filter",
            "TotalCount",
        ],
    )
    .await;
    assert_eq!(stdout(&out).trim(), "2", "{}", show(&out));

    // The environment's endpoint wins over the profile's (which `tccli
    // configure` writes for every service), as in the SDK.
    let out = tcloud_in(
        home.path(),
        &[
            ("TCCLI_PROFILE", "prod"),
            ("TENCENTCLOUD_ENDPOINT", "http://127.0.0.1:9"),
        ],
        &["cvm", "DescribeInstances", "--timeout", "2"],
    )
    .await;
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(stderr(&out).contains("127.0.0.1:9"), "{}", show(&out));

    // Without the profile, the environment's wrong keys are used and refused.
    let out = tcloud_in(
        home.path(),
        &wrong,
        &["cvm", "DescribeInstances", "--region", REGION, "--endpoint", &url],
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).starts_with("AuthFailure"), "{}", show(&out));

    let out = tcloud_in(
        home.path(),
        &[],
        &["cvm", "DescribeInstances", "--profile", "../x"],
    )
    .await;
    assert!(refused(&out).starts_with("tcloud: --profile `../x` is not a profile name"));

    // A named profile without a region: the environment's region serves it
    // (the README's precedence table), so the message below is true.
    write(
        home.path(),
        ".tccli/noregion.credential",
        &format!(r#"{{"secretId": "{SECRET_ID}", "secretKey": "{SECRET_KEY}"}}"#),
    );
    write(
        home.path(),
        ".tccli/noregion.configure",
        &format!(r#"{{"cvm": {{"endpoint": "{url}"}}}}"#),
    );
    let profile = [
        "cvm",
        "DescribeInstances",
        "--profile",
        "noregion",
        "--filter",
        "TotalCount",
    ];
    let out = tcloud_in(home.path(), &[("TENCENTCLOUD_REGION", REGION)], &profile).await;
    assert_eq!(stdout(&out).trim(), "2", "{}", show(&out));
    // Neither: the message names the file it looked in, in the order used.
    let out = tcloud_in(home.path(), &[], &profile).await;
    let configure = home.path().join(".tccli/noregion.configure");
    assert_eq!(
        refused(&out).trim_end(),
        format!(
            "tcloud: DescribeInstances needs a region: --region, else `region` in {}, which has none, else TENCENTCLOUD_REGION",
            configure.display()
        ),
        "{}",
        show(&out)
    );
    // A profile whose configure file does not exist says so.
    write(
        home.path(),
        ".tccli/keysonly.credential",
        &format!(r#"{{"secretId": "{SECRET_ID}", "secretKey": "{SECRET_KEY}"}}"#),
    );
    let out = tcloud_in(
        home.path(),
        &[],
        &[
            "cvm",
            "DescribeInstances",
            "--profile",
            "keysonly",
            "--endpoint",
            &url,
        ],
    )
    .await;
    assert!(
        refused(&out).contains(&format!(
            "{}, which does not exist",
            home.path().join(".tccli/keysonly.configure").display()
        )),
        "{}",
        show(&out)
    );
    emulator.shutdown().await;
}

/// Text and table print the service's strings as tccli does into a pipe;
/// on a terminal (here `script`'s), with control characters escaped, line
/// feeds included, so that an instance's name cannot forge a line of output.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_server_text_cannot_forge_lines() {
    let mut hostile = StoredInstance::with_random_id(ZONE, "RUNNING");
    hostile.instance.instance_name = "web\nINSTANCESET\tins-forged\r".to_owned();
    let emulator = start(config(Duration::ZERO).with_state(State::new().with_instance(hostile))).await;
    let url = emulator.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let vars = [
        ("TENCENTCLOUD_SECRET_ID", SECRET_ID),
        ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY),
        ("TENCENTCLOUD_REGION", REGION),
    ];
    let args = ["cvm", "DescribeInstances", "--endpoint", &url, "--output", "text"];
    let forged_lines = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("INSTANCESET\tins-forged"))
            .count()
    };

    let piped = tcloud_in(home.path(), &vars, &args).await;
    assert!(piped.status.success(), "{}", show(&piped));
    assert_eq!(
        forged_lines(&stdout(&piped)),
        1,
        "tccli's raw text: {}",
        show(&piped)
    );

    // `script` runs the command on a pseudo-terminal, which writes each
    // line feed as CR LF.
    let quoted: Vec<String> = std::iter::once(tcloud().display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| format!("'{a}'"))
        .collect();
    let mut on_terminal = command(Path::new("script"), home.path());
    on_terminal
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .envs(vars);
    let out = output(on_terminal).await;
    assert!(out.status.success(), "{}", show(&out));
    let shown = stdout(&out).replace("\r\n", "\n");
    assert_eq!(forged_lines(&shown), 0, "{shown}");
    assert!(shown.contains("\tweb\\nINSTANCESET\\tins-forged\\r\t"), "{shown}");
    assert!(!shown.contains('\r'), "{shown:?}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_refused_before_anything_is_sent() {
    let (emulator, _) = seeded(Duration::ZERO, 0, "RUNNING").await;
    let url = emulator.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let base = [
        "--region",
        REGION,
        "--endpoint",
        url.as_str(),
        "--secretId",
        SECRET_ID,
        "--secretKey",
        SECRET_KEY,
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &["cvm", "StartInstances", "--InstanceIdz", r#"["ins-12345678"]"#],
            "UnknownParameter: --InstanceIdz is not a parameter of this action (did you mean `InstanceIds`?)",
        ),
        (
            &["cvm", "StartInstances", "--InstanceIds", "ins-12345678"],
            "InvalidParameter: --InstanceIds takes JSON (list of string)",
        ),
        (
            &["cvm", "StartInstances", "--InstanceIds", r#""ins-12345678""#],
            "InvalidParameter: --InstanceIds is invalid:",
        ),
        (
            &["cvm", "StartInstances"],
            "MissingParameter: --InstanceIds is required",
        ),
        (
            &["cvm", "StartInstances", "--InstanceIds", r#"["ins-1"]"#],
            "InvalidParameterValue: --InstanceIds.0",
        ),
        (
            &["cvm", "StartInstances", "--InstanceIds", "[]"],
            "MissingParameter: --InstanceIds",
        ),
        (
            &[
                "cvm",
                "RunInstances",
                "--Placement",
                r#"{"Zone": ["a"]}"#,
                "--ImageId",
                IMAGE,
            ],
            "InvalidParameter: --Placement.Zone is invalid:",
        ),
        (
            &[
                "cvm",
                "RunInstances",
                "--Placement",
                r#"{"Zonee": "a"}"#,
                "--ImageId",
                IMAGE,
            ],
            "UnknownParameter: --Placement.Zonee is not a parameter of this action",
        ),
        // The gateway's order, whatever the order of the flags: a wrong
        // type before an unknown name.
        (
            &["cvm", "DescribeInstances", "--Bogus", "1", "--Limit", r#""many""#],
            "InvalidParameter: --Limit is invalid:",
        ),
        (
            &["cvm", "RunInstances", "--DryRun", "maybe"],
            "InvalidParameter: --DryRun takes true or false (t/f, 1/0)",
        ),
        (
            &["cvm", "DescribeInstances", "--Limit", "10", "--Limit", "20"],
            "tcloud: --Limit is given twice",
        ),
        (
            &["cvm", "DescribeInstances", "--filter", "InstanceSet[?"],
            "tcloud: --filter:",
        ),
        (
            &["cvm", "DescribeInstances", "--cli-input-json", "[1]"],
            "InvalidParameter: --cli-input-json: the argument must be a JSON object",
        ),
        (
            &["cvm", "DescribeInstancez"],
            "tcloud: `cvm` has no action `DescribeInstancez` (did you mean `DescribeInstances`?)",
        ),
        (
            &["cvmm", "DescribeInstances"],
            "tcloud: unknown service `cvmm` (did you mean `cvm`?)",
        ),
        (
            &["cvm", "DescribeInstances", "--waiter", r#"{"to": 1}"#],
            "tcloud: --waiter: `expr`",
        ),
        (
            &["cvm", "DescribeInstances", "--wait", "instances-runing"],
            "tcloud: --wait instances-runing: no such waiter",
        ),
        (
            &["cvm", "DescribeInstances", "--output", "yaml"],
            "tcloud: unknown output format `yaml`",
        ),
        (
            &["cvm", "DescribeInstances", "--wait-timeout", "5"],
            "tcloud: --wait-timeout bounds --wait",
        ),
        (
            &["cvm", "DescribeInstances", "--language", "en\nx"],
            "tcloud: invalid language",
        ),
        (
            &[
                "cvm",
                "DescribeInstances",
                "--cli-input-json",
                "file://~/absent.json",
            ],
            "tcloud: --cli-input-json /",
        ),
        (
            &["cvm\u{1b}[2J", "DescribeInstances"],
            "tcloud: unknown service `cvm\\u{1b}[2J`",
        ),
    ];
    for (args, message) in cases {
        let mut all = args.to_vec();
        all.extend(base);
        let out = tcloud_in(home.path(), &[], &all).await;
        let text = refused(&out);
        assert!(text.starts_with(message), "{args:?}: wanted {message}\n{text}");
    }
    // An expression deep enough to overflow the JMESPath crate's stack.
    let deep = format!("{}a{}", "(".repeat(300), ")".repeat(300));
    let out = tcloud_in(home.path(), &[], &["cvm", "DescribeInstances", "--filter", &deep]).await;
    assert!(refused(&out).starts_with("tcloud: --filter: the expression has 300 operators; at most 256"));

    // A secret that is not UTF-8 is refused without being shown.
    {
        use std::os::unix::ffi::OsStringExt;
        let key = std::ffi::OsString::from_vec(b"not-utf8-secret-\xff".to_vec());
        let mut command = command(&tcloud(), home.path());
        command.args(["cvm", "DescribeInstances", "--secretKey"]).arg(key);
        let out = output(command).await;
        assert_eq!(refused(&out).trim(), "tcloud: argument 4 is not UTF-8");
    }

    // A configure file that is a FIFO is refused, not waited on: tcloud reads
    // it with the runtime's reader (`tencentcloud_runtime::profile`, whose
    // own tests hold it to refusing devices, directories and large files).
    let fifo_home = tempfile::tempdir().unwrap();
    std::fs::create_dir(fifo_home.path().join(".tccli")).unwrap();
    let fifo = fifo_home.path().join(".tccli/default.configure");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut all = vec!["cvm", "DescribeInstances"];
    all.extend(base);
    let out = tcloud_in(fifo_home.path(), &[], &all).await;
    assert!(refused(&out).contains("default.configure: not a regular file, as a configuration file must be"));

    // A malformed region is named by its flag, not the variable it becomes.
    let out = tcloud_in(
        home.path(),
        &[],
        &[
            "cvm",
            "DescribeInstances",
            "--region",
            "ap guangzhou",
            "--endpoint",
            &url,
        ],
    )
    .await;
    assert!(refused(&out).starts_with("tcloud: --region is malformed"));

    // A token without the keys it belongs to.
    let out = tcloud_in(
        home.path(),
        &[],
        &["cvm", "DescribeInstances", "--endpoint", &url, "--token", "t"],
    )
    .await;
    assert!(refused(&out).starts_with("tcloud: --token goes with --secretId and --secretKey"));
    // No region anywhere.
    let out = tcloud_in(
        home.path(),
        &[],
        &[
            "cvm",
            "DescribeInstances",
            "--endpoint",
            &url,
            "--secretId",
            SECRET_ID,
            "--secretKey",
            SECRET_KEY,
        ],
    )
    .await;
    assert!(refused(&out).contains("needs a region"));
    // An empty value (`--region "$R"`, R unset) is refused, not replaced
    // by the profile's.
    for (flag, value) in [("--region", ""), ("--region", " "), ("--secretId", "")] {
        let mut line = vec!["cvm", "DescribeInstances", "--endpoint", &url];
        if flag != "--secretId" {
            line.extend(["--secretId", SECRET_ID, "--secretKey", SECRET_KEY]);
        } else {
            line.extend(["--secretKey", SECRET_KEY, "--region", REGION]);
        }
        line.extend([flag, value]);
        let out = tcloud_in(home.path(), &[("TENCENTCLOUD_REGION", REGION)], &line).await;
        assert_eq!(refused(&out).trim_end(), format!("tcloud: {flag} is empty"));
    }

    for action in ["StartInstances", "RunInstances", "DescribeInstances"] {
        assert_eq!(emulator.request_count(action), 0, "{action} reached the server");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_reach_running_and_give_up_at_their_timeout() {
    let transition = Duration::from_millis(1500);
    let (emulator, ids) = seeded(transition, 2, "STOPPED").await;
    let url = emulator.endpoint_url();
    let home = tempfile::tempdir().unwrap();
    let base = [
        "--region",
        REGION,
        "--endpoint",
        url.as_str(),
        "--secretId",
        SECRET_ID,
        "--secretKey",
        SECRET_KEY,
    ];
    let run = |args: Vec<String>| {
        let home = home.path().to_owned();
        async move {
            let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
            all.extend(base);
            tcloud_in(&home, &[], &all).await
        }
    };

    // --wait: StartInstances, then the generated waiter until RUNNING.
    let first = format!(r#"["{}"]"#, ids[0]);
    let started = Instant::now();
    let out = run(vec![
        "cvm".into(),
        "StartInstances".into(),
        "--InstanceIds".into(),
        first.clone(),
        "--wait".into(),
        "instances-running".into(),
    ])
    .await;
    assert!(ok_json(&out)["RequestId"].is_string());
    assert!(
        started.elapsed() >= transition,
        "returned before the transition ended"
    );
    assert_eq!(state_of(&emulator, &ids[0]), "RUNNING");
    // Not on a terminal: one line says the wait began.
    assert!(
        stderr(&out).starts_with(
            "instances-running: waiting for 1 resource (polling DescribeInstances every 2 to 15 s, for up to 600 s)\n"
        ),
        "{}",
        show(&out)
    );

    // Waiting for RUNNING after a stop cannot succeed: the waiter fails at
    // its first poll, naming the state, instead of waiting out its deadline.
    let polls_before = emulator.request_count("DescribeInstances");
    let out = run(vec![
        "cvm".into(),
        "StopInstances".into(),
        "--InstanceIds".into(),
        first.clone(),
        "--wait".into(),
        "instances-running".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(stderr(&out).contains("STOPPING"), "{}", show(&out));
    // The call's answer is printed before the wait: what it did is not lost.
    let answer: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", show(&out)));
    assert!(answer["RequestId"].is_string(), "{}", show(&out));
    assert_eq!(emulator.request_count("DescribeInstances"), polls_before + 1);

    // tccli's --waiter: DescribeInstances again until the expression is RUNNING.
    let second = format!(r#"["{}"]"#, ids[1]);
    assert!(run(vec![
        "cvm".into(),
        "StartInstances".into(),
        "--InstanceIds".into(),
        second.clone()
    ])
    .await
    .status
    .success());
    let out = run(vec![
        "cvm".into(),
        "DescribeInstances".into(),
        "--InstanceIds".into(),
        second.clone(),
        "--waiter".into(),
        r#"{"expr": "InstanceSet[0].InstanceState", "to": "RUNNING", "timeout": 30, "interval": 0.2}"#.into(),
        "--filter".into(),
        "InstanceSet[0].InstanceState".into(),
    ])
    .await;
    assert_eq!(ok_json(&out), "RUNNING");
    emulator.shutdown().await;

    // Both give up at their timeout while the instance is still STARTING.
    let (emulator, ids) = seeded(Duration::from_secs(3600), 1, "STOPPED").await;
    let url = emulator.endpoint_url();
    let base = [
        "--region",
        REGION,
        "--endpoint",
        url.as_str(),
        "--secretId",
        SECRET_ID,
        "--secretKey",
        SECRET_KEY,
    ];
    let one = format!(r#"["{}"]"#, ids[0]);
    let started = Instant::now();
    let mut args = vec![
        "cvm",
        "StartInstances",
        "--InstanceIds",
        &one,
        "--wait",
        "instances-running",
        "--wait-timeout",
        "1",
    ];
    args.extend(base);
    let out = tcloud_in(home.path(), &[], &args).await;
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(stderr(&out).contains("gave up after"), "{}", show(&out));
    // At its 1 s timeout, not the waiter's default 600 s: one poll at most
    // (the next pause, 2 s at least, would end past the timeout), and the
    // whole command, start-up included, a tenth of that default at most,
    // room for a loaded machine.
    assert!(emulator.request_count("DescribeInstances") <= 1);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let mut args = vec![
        "cvm",
        "DescribeInstances",
        "--InstanceIds",
        &one,
        "--waiter",
        r#"{"expr": "InstanceSet[0].InstanceState", "to": "RUNNING", "timeout": 1, "interval": 0.3}"#,
    ];
    args.extend(base);
    let out = tcloud_in(home.path(), &[], &args).await;
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(
        stderr(&out).starts_with("--waiter: waiting for `InstanceSet[0].InstanceState` to be \"RUNNING\" (every 0.3 s, for up to 1 s); now \"STARTING\"\n")
            && stderr(&out).lines().last().unwrap_or_default().starts_with("Request timeout, wait `InstanceSet[0].InstanceState` to `\"RUNNING\"` timeout, last request is \"STARTING\""),
        "{}",
        show(&out)
    );
    assert!(out.stdout.is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn help_lists_services_actions_and_parameters_without_credentials() {
    let home = tempfile::tempdir().unwrap();
    let out = tcloud_in(home.path(), &[], &["help"]).await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains("Services (262)"), "{}", show(&out));

    let out = tcloud_in(home.path(), &[], &["cvm", "help"]).await;
    assert!(stdout(&out).contains("StartInstances") && stdout(&out).contains("instances-running"));

    let out = tcloud_in(home.path(), &[], &["cvm", "StartInstances", "help"]).await;
    let text = stdout(&out);
    assert!(
        text.contains("--InstanceIds") && text.contains("list of string") && text.contains("required"),
        "{text}"
    );
    assert!(text.contains("Output:") && text.contains("RequestId"), "{text}");
    // The model's facts, as the SDK's docs state them.
    for fact in [
        "- Not read-only: it may change resources.",
        "- Documented rate limit: 10 requests per second per account.",
        "- Required members: --InstanceIds.",
        "- Service cvm (endpoint cvm.tencentcloudapi.com, signed for cvm), API version 2017-03-12.",
        "- API Explorer: https://console.cloud.tencent.com/api/explorer?Product=cvm&Version=2017-03-12&Action=StartInstances",
        "- Waiters polling it:",
    ] {
        assert!(text.contains(fact) != fact.starts_with("- Waiters"), "{fact}\n{text}");
    }
    let out = tcloud_in(home.path(), &[], &["cvm", "DescribeInstances", "help"]).await;
    let text = stdout(&out);
    for fact in [
        "- Read-only: it changes nothing.",
        "- Retried on throttling and connection failures, and, being read-only, on timeouts",
        "- Documented rate limit: 40 requests per second per account.",
        "- Pages: one command returns one page of InstanceSet (the service's default page size unless --Limit says otherwise; at most 100); --Offset moves on, up to TotalCount.",
        "--wait instances-running",
        "- Holds at most 100 items.",
    ] {
        assert!(text.contains(fact), "{fact}\n{text}");
    }
    let out = tcloud_in(home.path(), &[], &["vpc", "CreateVpc", "help"]).await;
    let text = stdout(&out);
    assert!(
        text.contains("- Not read-only: it may change resources.")
            && text.contains("- Retried only on throttling and connection failures")
            && text.contains("- Required members: --VpcName.")
            && !text.contains("rate limit")
            && text.contains("Product=vpc&Version=2017-03-12&Action=CreateVpc"),
        "{text}"
    );

    // An official service, not imported: its facts, from tccli's description.
    let out = tcloud_in(home.path(), &[], &["cdb", "DescribeDBInstances", "help"]).await;
    let text = stdout(&out);
    assert!(
        text.contains("--InstanceIds") && text.contains("--Limit") && text.contains("uint64"),
        "{text}"
    );
    // tccli's default version, not the newest: monitor's newest lacks GetMonitorData.
    let out = tcloud_in(home.path(), &[], &["monitor", "GetMonitorData", "help"]).await;
    assert!(
        stdout(&out).contains("(API version 2018-07-24)"),
        "{}",
        show(&out)
    );
    let out = tcloud_in(home.path(), &[], &["cdb", "--version", "2017-03-20", "help"]).await;
    assert!(stdout(&out).contains("DescribeDBInstances"), "{}", show(&out));
}

/// tccli's `help --detail`: each parameter's whole documentation, then
/// every fact of it, also for the objects the action reaches.
#[tokio::test]
async fn help_detail_shows_everything_known_of_each_parameter() {
    let home = tempfile::tempdir().unwrap();
    let out = tcloud_in(home.path(), &[], &["cvm", "RunInstances", "help", "--detail"]).await;
    assert!(out.status.success(), "{}", show(&out));
    let text = stdout(&out);
    let after = |heading: &str| -> String {
        let start = text
            .find(heading)
            .unwrap_or_else(|| panic!("no {heading}\n{text}"));
        text[start..].lines().take(12).collect::<Vec<_>>().join("\n")
    };
    // A parameter: its line, its documentation in full, its shape and rules.
    let charge = after("  --InstanceChargeType");
    assert!(
        charge.contains("\n      How the instances are billed")
            && charge.contains(
                "\n      - Wire name InstanceChargeType, InstanceChargeType; optional in requests."
            )
            && charge.contains("\n      - One of PREPAID, POSTPAID_BY_HOUR"),
        "{charge}"
    );
    // A member of an object the parameters reach.
    let disk = after("DataDisk:");
    assert!(
        disk.contains("  DiskType") && disk.contains("Default `LOCAL_BASIC`"),
        "{disk}"
    );
    // Without --detail, one line of documentation and no shape facts.
    let short = tcloud_in(home.path(), &[], &["cvm", "RunInstances", "help"]).await;
    assert!(!stdout(&short).contains("- Wire name"), "{}", show(&short));
    assert!(stdout(&short).len() < text.len());

    // At the service level, each action's documentation under its name.
    let out = tcloud_in(home.path(), &[], &["cvm", "help", "--detail"]).await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stdout(&out).contains("      Boots `STOPPED` instances, up to 100 per request."),
        "{}",
        show(&out)
    );
    // Help describes the version a call would use: the profile's, unless
    // --version says otherwise.
    write(
        home.path(),
        ".tccli/default.configure",
        r#"{"tke": {"version": "2022-05-01"}}"#,
    );
    let out = tcloud_in(home.path(), &[], &["tke", "DescribeClusters", "help"]).await;
    assert!(
        stdout(&out).starts_with("tke DescribeClusters (API version 2022-05-01)"),
        "{}",
        show(&out)
    );
    let out = tcloud_in(
        home.path(),
        &[],
        &["tke", "DescribeClusters", "help", "--version", "2018-05-25"],
    )
    .await;
    assert!(
        stdout(&out).starts_with("tke DescribeClusters (API version 2018-05-25)"),
        "{}",
        show(&out)
    );
    // --detail belongs to help.
    let out = tcloud_in(home.path(), &[], &["cvm", "StartInstances", "--detail"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(stderr(&out).contains("--detail goes with help"), "{}", show(&out));
}

/// What bash completes after `line` (the last word being typed), through
/// the script `tcloud completion bash` prints.
async fn bash_completes(home: &Path, line: &[&str]) -> Vec<String> {
    let script = write(
        home,
        "tcloud.bash",
        &stdout(&tcloud_in(home, &[], &["completion", "bash"]).await),
    );
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {script}; COMP_WORDS=(tcloud {}); COMP_CWORD={}; _tcloud; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words.join(" "),
        line.len()
    );
    let dir = tcloud().parent().unwrap().display().to_string();
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let mut bash = command(Path::new("bash"), home);
    bash.arg("-c").arg(program).env("PATH", path);
    let out = output(bash).await;
    assert!(out.status.success(), "{}", show(&out));
    stdout(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn completions_come_from_the_descriptions() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".tccli/prod.credential", "{}");
    let has = |found: &[String], want: &[&str]| want.iter().all(|w| found.iter().any(|f| f == w));
    let found = bash_completes(home.path(), &["cv"]).await;
    assert!(
        has(&found, &["cvm"]) && found.iter().all(|f| f.starts_with("cv")),
        "{found:?}"
    );
    let found = bash_completes(home.path(), &["cvm", "StartInst"]).await;
    assert_eq!(found, ["StartInstances"]);
    let found = bash_completes(home.path(), &["cdb", "DescribeDBInst"]).await;
    assert!(has(&found, &["DescribeDBInstances"]), "{found:?}");
    let found = bash_completes(
        home.path(),
        &["cvm", "StopInstances", "--InstanceIds", "[]", "--"],
    )
    .await;
    assert!(has(&found, &["--StopType", "--region", "--wait"]), "{found:?}");
    assert!(
        !found.contains(&"--InstanceIds".to_owned()),
        "given already: {found:?}"
    );
    assert_eq!(
        bash_completes(home.path(), &["cvm", "StartInstances", "--wait", "instances-r"]).await,
        ["instances-running"]
    );
    assert_eq!(
        bash_completes(home.path(), &["cvm", "StartInstances", "--output", "t"]).await,
        ["table", "text"]
    );
    assert_eq!(
        bash_completes(home.path(), &["cvm", "StartInstances", "--profile", ""]).await,
        ["prod"]
    );
    assert!(bash_completes(home.path(), &["nosuch", ""]).await.is_empty());
    for shell in ["zsh", "fish"] {
        let out = tcloud_in(home.path(), &[], &["completion", shell]).await;
        assert!(
            out.status.success() && stdout(&out).contains("tcloud __complete"),
            "{shell}"
        );
    }
    let out = tcloud_in(home.path(), &[], &["completion", "tcsh"]).await;
    assert!(refused(&out).starts_with("tcloud: completion: unknown shell `tcsh`"));
}
