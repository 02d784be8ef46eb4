#![allow(dead_code)]
//! What the credential tests of the runtime and of `tencentcloud-config`
//! share: temporary homes, a metadata service (axum) issuing a new
//! credential per request, and fixed environments.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;
use tencentcloud_runtime::credentials::DefaultChain;
use tencentcloud_runtime::{Env, ProvideCredentials};

/// The CVM role the metadata service serves.
pub const ROLE: &str = "CVM_QcsRole";

/// A temporary directory (a home, a token's place), removed on drop.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new() -> TempDir {
        TempDir(tempfile::tempdir().unwrap())
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A metadata service: the role name, then a new credential per request.
pub struct Metadata {
    pub addr: SocketAddr,
    pub issued: Arc<AtomicU64>,
    pub down: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Metadata {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
pub struct MetadataState {
    issued: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    /// Seconds from now to each credential's `ExpiredTime` (negative: past).
    lifetime: i64,
}

impl Metadata {
    pub async fn start(lifetime: u64) -> Metadata {
        Self::issuing(i64::try_from(lifetime).unwrap()).await
    }

    /// A metadata service whose every credential expired `ago` seconds before it is issued.
    pub async fn start_expired(ago: u64) -> Metadata {
        Self::issuing(-i64::try_from(ago).unwrap()).await
    }

    async fn issuing(lifetime: i64) -> Metadata {
        let issued = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let state = MetadataState {
            issued: issued.clone(),
            down: down.clone(),
            lifetime,
        };
        let app = axum::Router::new()
            .route(
                "/latest/meta-data/cam/security-credentials/",
                get(|| async { ROLE }),
            )
            .route(
                "/latest/meta-data/cam/security-credentials/{role}",
                get(
                    |State(s): State<MetadataState>, UrlPath(role): UrlPath<String>| async move {
                        if role != ROLE || s.down.load(Ordering::SeqCst) {
                            return Err(StatusCode::NOT_FOUND);
                        }
                        let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
                        Ok(json!({
                            "TmpSecretId": format!("AKIDrole{n}"),
                            "TmpSecretKey": format!("role-key-{n}"),
                            "Token": format!("role-token-{n}"),
                            "ExpiredTime": unix_now() as i64 + s.lifetime,
                            "Expiration": "ignored",
                            "Code": "Success",
                        })
                        .to_string())
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Metadata {
            addr,
            issued,
            down,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

/// A chain with no source before it served by `metadata`'s CVM role: the
/// source is decided at the first call, the credential cached, and `Debug`
/// names the source, never a secret.
pub async fn assert_falls_to_the_cvm_role(chain: &DefaultChain, metadata: &Metadata) {
    assert_eq!(chain.source(), None, "decided at the first call");
    let c = chain.provide().await.unwrap();
    assert_eq!(chain.source(), Some("CVM role"));
    assert_eq!(
        (c.secret_id(), c.session_token()),
        ("AKIDrole1", Some("role-token-1"))
    );
    assert_eq!(c.source(), format!("CVM role {ROLE}"));
    assert!(c.expiry().unwrap() > SystemTime::now() + Duration::from_secs(3000));
    // Cached: no second fetch.
    assert!(chain.provide().await.unwrap().same_as(&c));
    assert_eq!(metadata.issued.load(Ordering::SeqCst), 1);
    // Debug names the source, never a secret.
    let shown = format!("{chain:?} {c:?}");
    assert!(shown.contains("CVM role"), "{shown}");
    assert!(
        !shown.contains("role-key-1") && !shown.contains("role-token-1"),
        "{shown}"
    );
}
