//! Helpers shared by the integration tests: emulators, hand-signed requests,
//! raw HTTP.

#![allow(dead_code)]

pub mod binary;
pub mod described;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cvm_emulator::{
    Emulator, EmulatorConfig, RunningEmulator, SecretKey, State, DEMO_SECRET_ID, DEMO_SECRET_KEY,
};
use serde_json::Value;
use signer::{Payload, Signer, SigningRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const REGION: &str = "ap-guangzhou";
pub const ZONE: &str = "ap-guangzhou-3";

/// No rate limit, instant transitions, the demo credential.
pub fn config() -> EmulatorConfig {
    EmulatorConfig::default()
        .with_transition(Duration::ZERO)
        .with_rate_limit(None)
}

pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config, "127.0.0.1:0")
        .await
        .expect("emulator starts")
}

/// An emulator seeded with `n` instances of `state` in [`ZONE`]; their ids.
pub async fn seeded(config: EmulatorConfig, n: usize, state: &str) -> (RunningEmulator, Vec<String>) {
    let seed = State::new().with_random_instances(ZONE, state, n);
    let ids = seed
        .instances
        .iter()
        .map(|s| s.instance.instance_id.clone())
        .collect();
    (start(config.with_state(seed)).await, ids)
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A request signed by hand, with every part adjustable.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub action: Option<String>,
    pub version: Option<String>,
    pub region: Option<String>,
    pub query: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub timestamp: i64,
    pub secret_id: String,
    pub secret_key: String,
    /// Replaces the computed Authorization header (`Some("")`: none sent).
    pub authorization: Option<String>,
    /// Replaces the X-TC-Timestamp header sent (the signature still uses `timestamp`).
    pub timestamp_header: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    /// Sign `X-TC-Action` too (`SignedHeaders=content-type;host;x-tc-action`,
    /// as our client and Tencent's published example do); `false` signs what
    /// the official SDKs sign.
    pub sign_action: bool,
    /// The service of the credential scope (`cvm` unless changed).
    pub service: String,
}

impl Call {
    pub fn post(action: &str, body: Value) -> Call {
        Call::post_bytes(action, serde_json::to_vec(&body).unwrap())
    }

    pub fn post_bytes(action: &str, body: Vec<u8>) -> Call {
        Call {
            method: "POST".into(),
            action: Some(action.into()),
            version: Some("2017-03-12".into()),
            region: Some(REGION.into()),
            query: String::new(),
            content_type: "application/json".into(),
            body,
            timestamp: now(),
            secret_id: DEMO_SECRET_ID.into(),
            secret_key: DEMO_SECRET_KEY.into(),
            authorization: None,
            timestamp_header: None,
            extra_headers: Vec::new(),
            sign_action: true,
            service: "cvm".into(),
        }
    }

    /// An STS (2018-08-13) POST signed with scope `sts`.
    pub fn sts(action: &str, body: Value) -> Call {
        Call {
            version: Some("2018-08-13".into()),
            service: "sts".into(),
            ..Call::post(action, body)
        }
    }

    /// Signs with this (secret id, key) and sends `token` as `X-TC-Token`.
    pub fn with_credential(mut self, id: &str, key: &str, token: Option<&str>) -> Call {
        self.secret_id = id.into();
        self.secret_key = key.into();
        if let Some(token) = token {
            self.extra_headers.push(("X-TC-Token".into(), token.into()));
        }
        self
    }

    /// A GET, the way the official SDKs send one.
    pub fn get(action: &str, query: &str) -> Call {
        Call {
            method: "GET".into(),
            query: query.into(),
            content_type: "application/x-www-form-urlencoded".into(),
            body: Vec::new(),
            ..Call::post_bytes(action, Vec::new())
        }
    }

    pub fn authorization_for(&self, host: &str) -> String {
        Signer::new(self.secret_id.clone(), SecretKey::new(self.secret_key.clone())).authorization(
            &SigningRequest {
                method: &self.method,
                host,
                query: &self.query,
                content_type: &self.content_type,
                payload: Payload::Bytes(&self.body),
                service: &self.service,
                timestamp: self.timestamp,
                action: self.action.as_deref().filter(|_| self.sign_action),
            },
        )
    }

    /// Headers to send (without Host and Content-Length).
    pub fn headers(&self, host: &str) -> Vec<(String, String)> {
        let mut h = vec![("Content-Type".to_owned(), self.content_type.clone())];
        let auth = self
            .authorization
            .clone()
            .unwrap_or_else(|| self.authorization_for(host));
        if !auth.is_empty() {
            h.push(("Authorization".into(), auth));
        }
        if let Some(a) = &self.action {
            h.push(("X-TC-Action".into(), a.clone()));
        }
        if let Some(v) = &self.version {
            h.push(("X-TC-Version".into(), v.clone()));
        }
        if let Some(r) = &self.region {
            h.push(("X-TC-Region".into(), r.clone()));
        }
        h.push((
            "X-TC-Timestamp".into(),
            self.timestamp_header
                .clone()
                .unwrap_or_else(|| self.timestamp.to_string()),
        ));
        h.extend(self.extra_headers.iter().cloned());
        h
    }

    /// Sends with reqwest; returns the `Response` object (asserting HTTP 200
    /// and a RequestId).
    pub async fn send(&self, emu: &RunningEmulator) -> Value {
        let host = emu.host();
        let mut url = format!("{}/", emu.endpoint_url());
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(&self.query);
        }
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut req = http().request(method, url).body(self.body.clone());
        for (k, v) in self.headers(&host) {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("request answered");
        assert_eq!(resp.status(), 200);
        let body = resp.bytes().await.unwrap();
        envelope(&body)
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The `Response` object of an envelope (asserting it has a UUID RequestId).
pub fn envelope(body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)));
    let r = v["Response"].clone();
    let id = r["RequestId"].as_str().expect("RequestId");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "RequestId {id} is not a UUID");
    r
}

/// The error code of a `Response` object ("" on success).
pub fn code(response: &Value) -> String {
    response["Error"]["Code"].as_str().unwrap_or("").to_owned()
}

pub fn message(response: &Value) -> String {
    response["Error"]["Message"].as_str().unwrap_or("").to_owned()
}

/// Writes `bytes` on a fresh connection and reads until the server closes
/// it (bounded by 10 s); the raw response text.
pub async fn raw_http(emu: &RunningEmulator, bytes: &[u8]) -> String {
    let fut = async {
        let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
        // The server may answer and close before reading everything.
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("raw request answered within 10 s")
}

/// Builds an HTTP/1.1 request with `Connection: close`.
pub fn http_text(method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// The `Response` object of a raw HTTP answer (status 200 asserted).
pub fn raw_envelope(text: &str) -> Value {
    assert!(text.starts_with("HTTP/1.1 200"), "unexpected answer: {text}");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    envelope(body.as_bytes())
}

/// Asserts the emulator still serves a normal signed request.
pub async fn assert_healthy(emu: &RunningEmulator) {
    let r = Call::post("DescribeInstances", serde_json::json!({"Limit": 1}))
        .send(emu)
        .await;
    assert_eq!(code(&r), "", "emulator unhealthy: {r}");
}

/// `RunInstances` of `count` instances from `image_id` in [`ZONE`].
pub fn launch_request(image_id: &str, count: i64) -> cvm_api::types::RunInstancesRequest {
    cvm_api::types::RunInstancesRequest::new()
        .set_placement(cvm_api::types::Placement::new().set_zone(ZONE))
        .set_image_id(image_id)
        .set_instance_type("S5.MEDIUM4")
        .set_instance_count(count)
}

/// A `cvm-api` example binary, built beside the test binaries.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p cvm-api --examples`",
        path.display()
    );
    path
}
