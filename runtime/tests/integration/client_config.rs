//! Configuration from the environment (through `Config::from_lookup`, so the
//! process environment is never touched) and from code.

use std::collections::HashMap;
use std::time::Duration;

use tencentcloud_runtime::{Client, Config, ConfigError, Credentials, Endpoint, SecretKey};

const SECRET_KEY: &str = "env-secret-key-1a2b3c";
const TOKEN: &str = "env-session-token-4d5e6f";

fn lookup(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn missing_variables_are_named() {
    // No keys in the environment: the rest of the default chain (files,
    // OIDC, CVM role) is asked at the first call; see tests/integration/credentials.rs.
    let config = lookup(&[]).unwrap();
    assert!(config.credentials().is_none());

    // Half a pair is a mistake, named at once.
    let err = lookup(&[
        ("TENCENTCLOUD_SECRET_ID", "AKID1"),
        ("TENCENTCLOUD_REGION", "ap-guangzhou"),
    ])
    .unwrap_err();
    assert_eq!(err.to_string(), "missing TENCENTCLOUD_SECRET_KEY");

    // Empty or blank counts as unset.
    let err = lookup(&[
        ("TENCENTCLOUD_SECRET_ID", " "),
        ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY),
    ])
    .unwrap_err();
    assert_eq!(err.to_string(), "missing TENCENTCLOUD_SECRET_ID");
}

#[test]
fn full_environment() {
    let config = lookup(&[
        ("TENCENTCLOUD_SECRET_ID", "AKID1"),
        ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY),
        ("TENCENTCLOUD_SESSION_TOKEN", TOKEN),
        ("TENCENTCLOUD_REGION", "ap-guangzhou"),
        ("TENCENTCLOUD_ENDPOINT", "http://127.0.0.1:9000"),
    ])
    .unwrap();
    assert_eq!(config.credentials().unwrap().secret_id(), "AKID1");
    assert_eq!(config.credentials().unwrap().secret_key().expose(), SECRET_KEY);
    assert_eq!(config.credentials().unwrap().session_token(), Some(TOKEN));
    assert_eq!(config.region(), Some("ap-guangzhou"));
    assert_eq!(
        config.endpoint(),
        &Endpoint::custom("http://127.0.0.1:9000").unwrap()
    );
    assert_eq!(config.timeout(), Config::DEFAULT_TIMEOUT);
    assert!(Client::new(config).is_ok());

    let minimal = lookup(&[
        ("TENCENTCLOUD_SECRET_ID", "AKID1"),
        ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY),
    ])
    .unwrap();
    assert_eq!(minimal.region(), None);
    assert_eq!(minimal.credentials().unwrap().session_token(), None);
    assert_eq!(minimal.endpoint(), &Endpoint::global());
}

#[test]
fn malformed_variables_are_named() {
    let base = [
        ("TENCENTCLOUD_SECRET_ID", "AKID1"),
        ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY),
    ];
    for (name, value, expected) in [
        (
            "TENCENTCLOUD_ENDPOINT",
            "cvm.tencentcloudapi.com",
            "TENCENTCLOUD_ENDPOINT is malformed: not a valid URL",
        ),
        (
            "TENCENTCLOUD_ENDPOINT",
            "localhost:9000",
            "TENCENTCLOUD_ENDPOINT is malformed: scheme must be http or https",
        ),
        (
            "TENCENTCLOUD_ENDPOINT",
            "https://example.com/v3",
            "TENCENTCLOUD_ENDPOINT is malformed: must not have a path",
        ),
        (
            "TENCENTCLOUD_REGION",
            "Guangzhou!",
            "TENCENTCLOUD_REGION is malformed: `Guangzhou!`",
        ),
        (
            "TENCENTCLOUD_SECRET_ID",
            "AKID 1",
            "TENCENTCLOUD_SECRET_ID is malformed",
        ),
        (
            "TENCENTCLOUD_SESSION_TOKEN",
            "tok\u{7f}en",
            "TENCENTCLOUD_SESSION_TOKEN is malformed",
        ),
    ] {
        let mut vars = base.to_vec();
        vars.retain(|(n, _)| *n != name);
        vars.push((name, value));
        let err = lookup(&vars).unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidEnv { name: n, .. } if n == name),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.starts_with(expected), "{message}");
        if name == "TENCENTCLOUD_SESSION_TOKEN" || name == "TENCENTCLOUD_SECRET_ID" {
            assert!(!message.contains(value), "{message}");
        }
    }
}

#[test]
fn config_in_code() {
    let config = Config::new(Credentials::new("AKID1", SecretKey::new(SECRET_KEY)))
        .with_region("ap-singapore")
        .with_endpoint(Endpoint::international())
        .with_language("zh-CN")
        .with_timeout(Duration::from_secs(5))
        .with_connect_timeout(Duration::from_secs(2));
    assert_eq!(config.language(), Some("zh-CN"));
    assert_eq!(config.connect_timeout(), Duration::from_secs(2));
    let client = Client::new(config).unwrap();
    assert_eq!(client.config().region(), Some("ap-singapore"));

    let err = Client::new(
        Config::new(Credentials::new("AKID1", SecretKey::new(SECRET_KEY)))
            .with_endpoint(Endpoint::regional()),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::RegionRequired), "{err:?}");
}

#[test]
fn debug_never_shows_secrets() {
    let credentials = Credentials::new("AKID1", SecretKey::new(SECRET_KEY)).with_session_token(TOKEN);
    let config = Config::new(credentials.clone()).with_region("ap-guangzhou");
    let client = Client::new(config.clone()).unwrap();
    for shown in [
        format!("{credentials:?}"),
        format!("{credentials:#?}"),
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
    ] {
        assert!(!shown.contains(SECRET_KEY), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
