//! Two generated services in one program: CVM and the `fleet` fixture, whose
//! actions have the same names (`DescribeInstances`, `StartInstances`). Both
//! clients are made from one shared runtime client and call one local server,
//! which checks that each request is signed for its own service.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Router;
use codegen_golden::fleet;
use tencentcloud_runtime::{Config, Credentials, Endpoint, SecretKey};

const SECRET_ID: &str = "AKIDcoexist0000000000";
const SECRET_KEY: &str = "coexist-secret-key";

/// What the server saw of one request: service of the credential scope,
/// action, version, and whether the signature verified.
type Seen = (String, String, String, bool);

async fn handle(State(seen): State<Arc<Mutex<Vec<Seen>>>>, headers: HeaderMap, body: Bytes) -> String {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let parsed = signer::parse_authorization(&get("authorization")).expect("a TC3 Authorization");
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or_default()))
        .collect();
    let verified = signer::verify(
        &signer::ReceivedRequest {
            method: "POST",
            query: "",
            headers: &pairs,
            body: &body,
            timestamp: get("x-tc-timestamp").parse().unwrap_or_default(),
            authorization: &parsed,
        },
        &SecretKey::new(SECRET_KEY),
    )
    .is_ok();
    let (action, version) = (get("x-tc-action"), get("x-tc-version"));
    seen.lock()
        .unwrap()
        .push((parsed.service.clone(), action.clone(), version, verified));
    match (parsed.service.as_str(), action.as_str()) {
        ("fleet", "DescribeInstances") => r#"{"Response":{"Names":["web-1","web-2"],"RequestId":"f-1"}}"#,
        ("fleet", "StartInstances") => r#"{"Response":{"RequestId":"f-2"}}"#,
        ("cvm", "DescribeInstances") => r#"{"Response":{"TotalCount":0,"InstanceSet":[],"RequestId":"c-1"}}"#,
        ("cvm", "StartInstances") => r#"{"Response":{"RequestId":"c-2"}}"#,
        _ => r#"{"Response":{"Error":{"Code":"InvalidAction","Message":"?"},"RequestId":"x"}}"#,
    }
    .to_owned()
}

#[tokio::test]
async fn two_services_with_the_same_action_names_share_one_runtime() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(handle).with_state(Arc::clone(&seen));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let shared = tencentcloud_runtime::Client::new(
        Config::new(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
            .with_endpoint(Endpoint::custom(&format!("http://{addr}")).unwrap())
            .with_region("ap-guangzhou"),
    )
    .unwrap();
    let cvm = cvm_api::Client::new(&shared);
    let fleet = fleet::Client::new(&shared);

    let names = fleet
        .call({
            let mut new_value = fleet::types::DescribeInstancesRequest::default();
            new_value.limit = Some(2);
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(names.names, ["web-1", "web-2"]);
    let listed = cvm
        .call((cvm_api::DescribeInstancesRequest::default()).clone())
        .send()
        .await
        .unwrap();
    assert_eq!((listed.total_count, listed.request_id.as_str()), (0, "c-1"));
    let started = fleet
        .call({
            let mut new_value = fleet::types::StartInstancesRequest::default();
            new_value.names = vec!["web-1".into()];
            new_value.client_token = None;
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(started.request_id, "f-2");
    let started = cvm
        .call({
            let mut new_value = cvm_api::StartInstancesRequest::default();
            new_value.instance_ids = vec!["ins-r8hr2upy".into()];
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(started.request_id, "c-2");

    let seen = seen.lock().unwrap().clone();
    let expected: Vec<Seen> = [
        ("fleet", "DescribeInstances", "2024-01-01"),
        ("cvm", "DescribeInstances", "2017-03-12"),
        ("fleet", "StartInstances", "2024-01-01"),
        ("cvm", "StartInstances", "2017-03-12"),
    ]
    .iter()
    .map(|(s, a, v)| (s.to_string(), a.to_string(), v.to_string(), true))
    .collect();
    assert_eq!(seen, expected);
    server.abort();
}
