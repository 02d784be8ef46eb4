//! tcloud against the official command line, tccli (pinned in
//! `scripts/python/requirements.txt`, installed by `setup-venv.sh`): the same
//! commands, against the same emulator, must print the same JSON, the
//! `RequestId` aside, and for most, the same text. Every emulated action is
//! covered, with plain strings, JSON lists, nested objects, `--filter`,
//! `--cli-input-json`, `--generate-cli-skeleton`, `--output text|table` and a
//! service error.
//!
//! Commands that change state run once per tool on different instances;
//! commands whose answers cannot be equal (new ids, fresh credentials) are
//! compared by shape: the same members, of the same JSON types, and lists
//! of the same lengths.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::*;
use serde_json::Value;

const WEB_IDENTITY_TOKEN: &str = "parity-oidc-token";
const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/parity";

/// The pinned venv with tccli, made (once) by `scripts/python/setup-venv.sh`.
async fn tccli() -> PathBuf {
    let root = workspace_root();
    let mut setup = tokio::process::Command::new("bash");
    setup
        .arg(root.join("scripts/python/setup-venv.sh"))
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(600), setup.output())
        .await
        .expect("setting up the venv took over 10 minutes")
        .expect("bash runs");
    assert!(
        out.status.success(),
        "scripts/python/setup-venv.sh failed (PyPI must be reachable on the first run):\n{}",
        show(&out)
    );
    let venv = stdout(&out).lines().last().unwrap_or_default().trim().to_owned();
    PathBuf::from(venv).join("bin/tccli")
}

struct Tools {
    tccli: PathBuf,
    endpoint: String,
    tccli_home: tempfile::TempDir,
    tcloud_home: tempfile::TempDir,
}

impl Tools {
    fn command(&self, program: &Path, home: &Path, args: &[&str]) -> tokio::process::Command {
        let mut command = command(program, home);
        command.args(args).args([
            "--region",
            REGION,
            "--endpoint",
            &self.endpoint,
            "--secretId",
            SECRET_ID,
            "--secretKey",
            SECRET_KEY,
        ]);
        command
    }

    /// `args` run by tccli and by tcloud, at once.
    async fn both(&self, args: &[&str]) -> (Output, Output) {
        self.each(args, args).await
    }

    /// `official` run by tccli and `ours` by tcloud, at once.
    async fn each(&self, official: &[&str], ours: &[&str]) -> (Output, Output) {
        let official = output(self.command(&self.tccli, self.tccli_home.path(), official));
        let ours = output(self.command(&tcloud(), self.tcloud_home.path(), ours));
        tokio::join!(official, ours)
    }
}

fn json(output: &Output, who: &str) -> Value {
    assert!(output.status.success(), "{who} failed:\n{}", show(output));
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("{who} printed no JSON ({e}):\n{}", show(output)))
}

fn without_request_id(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.remove("RequestId");
    }
    value
}

/// The printed text without the `RequestId` line.
fn text_without_request_id(output: &Output) -> String {
    stdout(output)
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"RequestId\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The same JSON value, and the same text, `RequestId` aside.
fn assert_same(what: &str, (official, ours): &(Output, Output)) {
    let (a, b) = (json(official, "tccli"), json(ours, "tcloud"));
    assert_eq!(
        without_request_id(a),
        without_request_id(b),
        "{what}: values differ"
    );
    assert_eq!(
        text_without_request_id(official),
        text_without_request_id(ours),
        "{what}: texts differ"
    );
}

/// The same text, for outputs that are not JSON.
fn assert_same_text(what: &str, (official, ours): &(Output, Output)) {
    assert!(official.status.success(), "tccli failed:\n{}", show(official));
    assert!(ours.status.success(), "tcloud failed:\n{}", show(ours));
    assert_eq!(stdout(official), stdout(ours), "{what}: texts differ");
}

/// Members, JSON types and list lengths, not values.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => Value::Null,
    }
}

fn assert_same_shape(what: &str, (official, ours): &(Output, Output)) -> (Value, Value) {
    let (a, b) = (json(official, "tccli"), json(ours, "tcloud"));
    assert_eq!(shape(&a), shape(&b), "{what}: shapes differ");
    (a, b)
}

/// tccli: `[TencentCloudSDKException] code:C message:M requestId:R`.
fn tccli_error(output: &Output) -> (String, String) {
    let text = stderr(output);
    let line = text
        .lines()
        .find(|l| l.contains("code:"))
        .unwrap_or_else(|| panic!("tccli printed no error code:\n{}", show(output)));
    let rest = &line[line.find("code:").unwrap() + 5..];
    let (code, rest) = rest.split_once(" message:").expect("message follows code");
    let message = rest.rsplit_once(" requestId:").map_or(rest, |(m, _)| m);
    (code.to_owned(), message.to_owned())
}

/// tcloud: `code: message (request id)`.
fn tcloud_error(output: &Output) -> (String, String) {
    let text = stderr(output);
    let line = text.lines().next().unwrap_or_default();
    let (code, rest) = line
        .split_once(": ")
        .unwrap_or_else(|| panic!("not `code: message (id)`:\n{}", show(output)));
    let message = rest.rsplit_once(" (").map_or(rest, |(m, _)| m);
    (code.to_owned(), message.to_owned())
}

fn ids(value: &Value) -> Vec<String> {
    value["InstanceIdSet"]
        .as_array()
        .expect("InstanceIdSet")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcloud_prints_what_tccli_prints() {
    let tccli = tccli().await;
    let emulator =
        start(config(Duration::ZERO).with_web_identity_token(Some(WEB_IDENTITY_TOKEN.to_owned()))).await;
    let tools = Tools {
        tccli,
        endpoint: emulator.endpoint_url(),
        tccli_home: tempfile::tempdir().unwrap(),
        tcloud_home: tempfile::tempdir().unwrap(),
    };

    // RunInstances: a nested object, a number, a list of objects; new ids.
    let placement = format!(r#"{{"Zone": "{ZONE}"}}"#);
    let run = [
        "cvm",
        "RunInstances",
        "--ImageId",
        IMAGE,
        "--Placement",
        &placement,
        "--InstanceCount",
        "2",
        "--InstanceName",
        "parity",
        "--TagSpecification",
        r#"[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "sdk"}]}]"#,
    ];
    let (a, b) = assert_same_shape("RunInstances", &tools.both(&run).await);
    let (official_ids, our_ids) = (ids(&a), ids(&b));
    assert_eq!((official_ids.len(), our_ids.len()), (2, 2));
    assert_eq!(emulator.emulator().instance_count(), 4);

    // Reads: the same state, the same answers.
    assert_same(
        "DescribeInstances",
        &tools.both(&["cvm", "DescribeInstances"]).await,
    );
    let one = format!(r#"["{}"]"#, official_ids[0]);
    assert_same(
        "DescribeInstances --InstanceIds",
        &tools
            .both(&["cvm", "DescribeInstances", "--InstanceIds", &one])
            .await,
    );
    assert_same(
        "DescribeInstances --Filters --Offset --Limit",
        &tools
            .both(&[
                "cvm",
                "DescribeInstances",
                "--Filters",
                r#"[{"Name": "instance-name", "Values": ["parity"]}]"#,
                "--Offset",
                "1",
                "--Limit",
                "2",
            ])
            .await,
    );
    let filtered = tools
        .both(&[
            "cvm",
            "DescribeInstances",
            "--filter",
            "InstanceSet[].{zone: Placement.Zone, id: InstanceId, state: InstanceState, where: Placement}",
        ])
        .await;
    assert_same("--filter", &filtered);
    assert_eq!(json(&filtered.1, "tcloud").as_array().map(Vec::len), Some(4));
    let all = serde_json::to_string(&[&official_ids[0], &official_ids[1], &our_ids[0], &our_ids[1]]).unwrap();
    assert_same(
        "DescribeInstancesStatus",
        &tools
            .both(&["cvm", "DescribeInstancesStatus", "--InstanceIds", &all])
            .await,
    );
    assert_same_text(
        "--output text",
        &tools
            .both(&[
                "cvm",
                "DescribeInstances",
                "--filter",
                "InstanceSet[].[InstanceId, InstanceState]",
                "--output",
                "text",
            ])
            .await,
    );
    assert_same_text(
        "--output table",
        &tools
            .both(&[
                "cvm",
                "DescribeInstances",
                "--filter",
                "InstanceSet[0].Placement",
                "--output",
                "table",
            ])
            .await,
    );

    // --cli-input-json: the parameters from a file.
    let request = tools.tcloud_home.path().join("request.json");
    std::fs::write(&request, format!(r#"{{"InstanceIds": {all}, "Limit": 3}}"#)).unwrap();
    let from_file = format!("file://{}", request.display());
    assert_same(
        "--cli-input-json",
        &tools
            .both(&["cvm", "DescribeInstances", "--cli-input-json", &from_file])
            .await,
    );

    // Changes: each tool acts on its own instance; plain string parameters.
    let official_one = format!(r#"["{}"]"#, official_ids[0]);
    let our_one = format!(r#"["{}"]"#, our_ids[0]);
    for action in ["StopInstances", "StartInstances", "RebootInstances"] {
        let mut official = vec!["cvm", action, "--InstanceIds", &official_one];
        let mut ours = vec!["cvm", action, "--InstanceIds", &our_one];
        if action == "StopInstances" {
            official.extend(["--StopType", "SOFT"]);
            ours.extend(["--StopType", "SOFT"]);
        }
        assert_same(action, &tools.each(&official, &ours).await);
    }
    let official_two = format!(r#"["{}"]"#, official_ids[1]);
    let our_two = format!(r#"["{}"]"#, our_ids[1]);
    assert_same(
        "TerminateInstances",
        &tools
            .each(
                &["cvm", "TerminateInstances", "--InstanceIds", &official_two],
                &["cvm", "TerminateInstances", "--InstanceIds", &our_two],
            )
            .await,
    );
    assert_same(
        "DescribeInstances after the changes",
        &tools.both(&["cvm", "DescribeInstances"]).await,
    );

    // A service error: the same code and message.
    let (official, ours) = tools
        .both(&["cvm", "StartInstances", "--InstanceIds", r#"["ins-zzzzzzzz"]"#])
        .await;
    assert!(!official.status.success() && !ours.status.success());
    assert!(ours.stdout.is_empty(), "nothing on stdout:\n{}", show(&ours));
    assert_eq!(tccli_error(&official), tcloud_error(&ours));
    assert_eq!(tcloud_error(&ours).0, "InvalidInstanceId.NotFound");

    // VPC and STS, the other emulated services.
    assert_same("vpc DescribeVpcs", &tools.both(&["vpc", "DescribeVpcs"]).await);
    let vpcs = json(&tools.both(&["vpc", "DescribeVpcs"]).await.1, "tcloud");
    let vpc_id = vpcs["VpcSet"][0]["VpcId"].as_str().expect("a VPC").to_owned();
    let filters = format!(r#"[{{"Name": "vpc-id", "Values": ["{vpc_id}"]}}]"#);
    assert_same(
        "vpc DescribeSubnets --Filters",
        &tools
            .both(&["vpc", "DescribeSubnets", "--Filters", &filters])
            .await,
    );
    let assumed = assert_same_shape(
        "sts AssumeRole",
        &tools
            .both(&[
                "sts",
                "AssumeRole",
                "--RoleArn",
                ROLE_ARN,
                "--RoleSessionName",
                "parity",
                "--DurationSeconds",
                "900",
            ])
            .await,
    );
    assert!(assumed.1["Credentials"]["Token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_same_shape(
        "sts AssumeRoleWithWebIdentity (unsigned)",
        &tools
            .both(&[
                "sts",
                "AssumeRoleWithWebIdentity",
                "--ProviderId",
                "OIDC",
                "--WebIdentityToken",
                WEB_IDENTITY_TOKEN,
                "--RoleArn",
                ROLE_ARN,
                "--RoleSessionName",
                "parity",
            ])
            .await,
    );

    // The catalogs, answered from data.
    for args in [
        &["cvm", "DescribeZones"][..],
        &[
            "cvm",
            "DescribeImages",
            "--Filters",
            r#"[{"Name": "platform", "Values": ["Ubuntu", "CentOS"]}]"#,
        ],
        &[
            "cvm",
            "DescribeInstanceTypeConfigs",
            "--Filters",
            r#"[{"Name": "instance-family", "Values": ["SA2"]}]"#,
        ],
    ] {
        assert_same(&args.join(" "), &tools.both(args).await);
    }
    // Key pairs each tool makes, then lists: the same listing.
    let made = tools
        .each(
            &[
                "cvm",
                "CreateKeyPair",
                "--KeyName",
                "tccli_key",
                "--ProjectId",
                "0",
            ],
            &[
                "cvm",
                "CreateKeyPair",
                "--KeyName",
                "tcloud_key",
                "--ProjectId",
                "0",
            ],
        )
        .await;
    let (a, b) = assert_same_shape("cvm CreateKeyPair", &made);
    assert!(a["KeyPair"]["PrivateKey"].is_string() && b["KeyPair"]["PrivateKey"].is_string());
    assert_same(
        "cvm DescribeKeyPairs",
        &tools.both(&["cvm", "DescribeKeyPairs"]).await,
    );
    // A refusal of the new rules: the same code and message.
    let (official, ours) = tools
        .both(&[
            "cvm",
            "CreateKeyPair",
            "--KeyName",
            "tcloud_key",
            "--ProjectId",
            "0",
        ])
        .await;
    assert_eq!(tccli_error(&official), tcloud_error(&ours));
    assert_eq!(tcloud_error(&ours).0, "InvalidKeyPairName.Duplicate");

    // The skeleton tccli prints for --cli-input-json.
    let skeleton = tools
        .both(&["cvm", "RunInstances", "--generate-cli-skeleton"])
        .await;
    assert_eq!(
        json(&skeleton.0, "tccli"),
        json(&skeleton.1, "tcloud"),
        "--generate-cli-skeleton"
    );

    emulator.shutdown().await;
}
