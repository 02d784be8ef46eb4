//! The imported service crates on the wire and against the official
//! examples: each signs with its own service in the credential scope, sends
//! its own version, reaches the endpoint's host, and decodes every official
//! response example that is plain data (tccli 3.1.189.1's `examples.json`).
//!
//! Decoding every example instantiates every response type's decoder here,
//! which for VPC, CBS and CLB costs more to compile than the rest of the
//! crate's tests together (about 40 s of CPU): those three are decoded with
//! the feature `every-example`, which `cargo xtask exhaustive` turns on. TAG
//! and STS, made by the same generator, are decoded in every run.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use serde_json::Value;
use tencentcloud_runtime::{Config, Credentials, Endpoint, SecretKey};

const SECRET_ID: &str = "AKIDservices0123456789";
const SECRET_KEY: &str = "services-secret-key";

/// `fn decode(action, json)`: the action's response type from `json`.
macro_rules! decoder {
    ($($action:ident: $req:ident => $resp:ident, $method:ident;)*) => {
        pub fn decode(action: &str, json: &serde_json::Value) -> Option<Result<(), String>> {
            match action {
                $(stringify!($action) => Some(
                    serde_json::from_value::<types::$resp>(json.clone()).map(|_| ()).map_err(|e| e.to_string()),
                ),)*
                _ => None,
            }
        }
    };
}

mod tag {
    use tag_api::types;
    tag_api::tag_actions!(decoder);
}
mod sts {
    use sts_api::types;
    sts_api::sts_actions!(decoder);
}
#[cfg(feature = "every-example")]
mod vpc {
    use vpc_api::types;
    vpc_api::vpc_actions!(decoder);
}
#[cfg(feature = "every-example")]
mod cbs {
    use cbs_api::types;
    cbs_api::cbs_actions!(decoder);
}
#[cfg(feature = "every-example")]
mod clb {
    use clb_api::types;
    clb_api::clb_actions!(decoder);
}

fn services_dir() -> PathBuf {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"));
    let root = manifest
        .parent()
        .and_then(|p| p.parent())
        .expect("services/service-tests")
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let output = Command::new("python3")
        .arg(root.join("scripts/fetch-tccli.py"))
        .arg("--all")
        .arg(target.join("official"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// Decodes every plain-data response example of `service`/`version`;
/// returns how many.
fn examples(service: &str, version: &str, decode: fn(&str, &Value) -> Option<Result<(), String>>) -> usize {
    let path = services_dir().join(service).join(version).join("examples.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut decoded = 0;
    let mut failures = Vec::new();
    for (action, list) in all["actions"].as_object().unwrap() {
        for example in list.as_array().unwrap() {
            // Plain data only: some examples are prose or placeholders.
            let Ok(output) = serde_json::from_str::<Value>(example["output"].as_str().unwrap_or_default())
            else {
                continue;
            };
            let Some(response) = output.get("Response").filter(|r| r.get("Error").is_none()) else {
                continue;
            };
            match decode(action, response) {
                Some(Ok(())) => decoded += 1,
                Some(Err(e)) => failures.push(format!("{action}: {e}")),
                None => failures.push(format!("{action}: not in the generated crate")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{service}: {} examples do not decode:\n{}",
        failures.len(),
        failures.join("\n")
    );
    decoded
}

#[test]
fn every_plain_response_example_decodes() {
    let counts = [
        ("tag", examples("tag", "v20180813", tag::decode)),
        ("sts", examples("sts", "v20180813", sts::decode)),
    ];
    #[cfg(feature = "every-example")]
    let counts = counts.into_iter().chain([
        ("vpc", examples("vpc", "v20170312", vpc::decode)),
        ("cbs", examples("cbs", "v20170312", cbs::decode)),
        ("clb", examples("clb", "v20180317", clb::decode)),
    ]);
    for (service, n) in counts {
        assert!(n > 0, "{service}: no example decoded");
    }
}

type Seen = Arc<Mutex<Vec<HeaderMap>>>;

async fn server() -> (Endpoint, String, Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(headers);
                r#"{"Response":{"RequestId":"req-services"}}"#
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (
        Endpoint::custom(&format!("http://{host}")).unwrap(),
        host,
        seen,
        task,
    )
}

#[tokio::test]
async fn each_service_signs_for_itself_and_sends_its_version() {
    let (endpoint, host, seen, _task) = server().await;
    let config = Config::new(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
        .with_endpoint(endpoint)
        .with_region("ap-guangzhou");
    let shared = tencentcloud_runtime::Client::new(config).unwrap();
    // One client each, from one shared runtime.
    tag_api::Client::new(&shared)
        .describe_tags()
        .send()
        .await
        .unwrap();
    sts_api::Client::new(&shared)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    vpc_api::Client::new(&shared)
        .describe_vpcs()
        .send()
        .await
        .unwrap();
    cbs_api::Client::new(&shared)
        .describe_disks()
        .send()
        .await
        .unwrap();
    clb_api::Client::new(&shared)
        .describe_load_balancers()
        .send()
        .await
        .unwrap();
    let expected = [
        ("tag", "2018-08-13", "DescribeTags"),
        ("sts", "2018-08-13", "GetCallerIdentity"),
        ("vpc", "2017-03-12", "DescribeVpcs"),
        ("cbs", "2017-03-12", "DescribeDisks"),
        ("clb", "2018-03-17", "DescribeLoadBalancers"),
    ];
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), expected.len());
    for (headers, (service, version, action)) in seen.iter().zip(expected) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let authorization = header("authorization");
        let parsed = signer::parse_authorization(&authorization).unwrap();
        assert_eq!(parsed.secret_id, SECRET_ID);
        assert!(
            authorization.contains(&format!("/{service}/tc3_request")),
            "{service}: {authorization}"
        );
        assert_eq!(header("host"), host, "{service}");
        assert_eq!(header("x-tc-version"), version, "{service}");
        assert_eq!(header("x-tc-action"), action, "{service}");
    }
}

#[test]
fn the_generated_defaults_point_each_service_at_its_own_host() {
    use tencentcloud_runtime::Action;
    assert_eq!(<vpc_api::DescribeVpcsRequest as Action>::SERVICE, "vpc");
    assert_eq!(<cbs_api::DescribeDisksRequest as Action>::SERVICE, "cbs");
    assert_eq!(<clb_api::DescribeLoadBalancersRequest as Action>::SERVICE, "clb");
    assert_eq!(<tag_api::DescribeTagsRequest as Action>::SERVICE, "tag");
    assert_eq!(<sts_api::GetCallerIdentityRequest as Action>::SERVICE, "sts");
    // STS says which actions take no signature; the generated code carries it.
    assert_eq!(
        [
            <sts_api::AssumeRoleWithWebIdentityRequest as Action>::UNSIGNED,
            <sts_api::AssumeRoleWithSamlRequest as Action>::UNSIGNED,
            <sts_api::AssumeRoleRequest as Action>::UNSIGNED,
        ],
        [true, true, false]
    );
}
