//! Credential providers and the runtime's default chain against local
//! servers: a metadata service (axum) and the API (the scripted server).
//! Every environment is an `Env` value and every home directory a temporary
//! one, so the process environment and the real home are never read. The
//! STS-backed sources are `tencentcloud-config`'s, tested there.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::credential_env::{assert_falls_to_the_cvm_role, closed_port, env, Metadata, TempDir};
use crate::support::{Scripted, Step};
use serde_json::json;
use tencentcloud_runtime::credentials::{
    ChainSource, DefaultChain, InstanceRoleProvider, Lookup, ProfileProvider,
};
use tencentcloud_runtime::{
    Client, Config, ConfigError, Credentials, Endpoint, Env, Error, ProvideCredentials, SecretKey,
    ServiceError,
};

const SECRET_ID: &str = "AKIDbase0123456789";
const SECRET_KEY: &str = "base-secret-key-1a2b3c";

async fn describe(client: &Client) -> Result<serde_json::Value, Error<ServiceError>> {
    client
        .call("cvm", "2017-03-12", "DescribeInstances", &json!({}))
        .await
}

/// A metadata service that refuses the connection fails the CVM role at
/// once: no source is retried or waited on, and the call makes no attempt.
/// Bounded at 10 s, loose for a loaded machine (the call takes milliseconds)
/// yet under what a retried source would cost: the metadata service's
/// timeouts (1 s to connect, 2 s a request) or a backoff of its cache.
#[tokio::test]
async fn with_no_source_anywhere_the_error_lists_every_source_without_waiting() {
    let home = TempDir::new();
    let metadata = format!("http://127.0.0.1:{}", closed_port());
    let home_text = home.path().display().to_string();
    let env = env(&[
        ("HOME", &home_text),
        ("TENCENTCLOUD_METADATA_ENDPOINT", &metadata),
    ]);
    let config = Config::from_environment(&env)
        .unwrap()
        .with_region("ap-guangzhou");
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let error = describe(&client).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(matches!(error, Error::Credentials(_)), "{error:?}");
    assert_eq!(error.attempts(), 0);
    let text = error.to_string();
    for expected in [
        "environment: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set",
        &format!("profile file: no {home_text}/.tencentcloud/credentials"),
        &format!("no {home_text}/.tccli/default.credential"),
        &format!("CVM role: cannot reach {metadata}/latest/meta-data/cam/security-credentials/"),
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
}

/// Given up at its 1 s timeout, once: not before 0.9 s, on the one
/// connection it opened (a retry would open another), and well before
/// anything longer. That bound, 5 s, leaves room for a loaded machine's
/// late timers; without the timeout the call would wait for ever.
#[tokio::test]
async fn a_silent_metadata_service_is_given_up_in_about_a_second() {
    // Accepts connections and never answers: as a host that swallows packets.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    let provider = InstanceRoleProvider::new(&format!("http://{addr}"), None).unwrap();
    let started = Instant::now();
    let error = provider.provide().await.unwrap_err().to_string();
    let elapsed = started.elapsed();
    hold.abort();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection, not retried");
    assert!(error.contains("cannot reach"), "{error}");
}

#[tokio::test]
async fn the_chain_takes_environment_then_profile_then_cvm_role() {
    let metadata = Metadata::start(3600).await;
    let home = TempDir::new();
    home.write(
        ".tencentcloud/credentials",
        "[default]\nsecret_id = AKIDprofile\nsecret_key = profile-key\n",
    );
    let token_file = home.write("token", "web-identity-token-1\n");
    let home_text = home.path().display().to_string();
    let token_text = token_file.display().to_string();
    let metadata_url = metadata.url();
    let everything: Vec<(&str, &str)> = vec![
        ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
        ("TENCENTCLOUD_SECRET_KEY", "env-key"),
        ("HOME", &home_text),
        // The runtime calls no service: TKE OIDC is not among its sources.
        ("TKE_REGION", "ap-shanghai"),
        ("TKE_PROVIDER_ID", "tke-oidc-provider"),
        ("TKE_WEB_IDENTITY_TOKEN_FILE", &token_text),
        ("TKE_ROLE_ARN", "qcs::cam::uin/100000000001:roleName/deployer"),
        ("TENCENTCLOUD_METADATA_ENDPOINT", &metadata_url),
        ("TENCENTCLOUD_ENDPOINT", "http://127.0.0.1:9"),
    ];
    let without = |names: &[&str]| -> Env {
        env(&everything
            .iter()
            .filter(|(n, _)| !names.iter().any(|x| n.starts_with(x)))
            .cloned()
            .collect::<Vec<_>>())
    };

    let chain = DefaultChain::from_environment(&without(&[])).unwrap();
    assert_eq!(chain.source(), Some("environment"));
    assert_eq!(chain.provide().await.unwrap().secret_id(), "AKIDenv");

    let chain = DefaultChain::from_environment(&without(&["TENCENTCLOUD_SECRET"])).unwrap();
    assert_eq!(chain.source(), Some("profile file"));
    let c = chain.provide().await.unwrap();
    assert_eq!(
        (c.secret_id(), c.secret_key().expose()),
        ("AKIDprofile", "profile-key")
    );

    let chain = DefaultChain::from_environment(&without(&["TENCENTCLOUD_SECRET", "HOME"])).unwrap();
    assert_falls_to_the_cvm_role(&chain, &metadata).await;
}

/// A source the runtime does not know, as `tencentcloud-config` adds TKE OIDC.
struct Vault {
    present: bool,
    broken: bool,
}

impl ChainSource for Vault {
    fn name(&self) -> &'static str {
        "vault"
    }

    fn find(&self, _env: &Env) -> Result<Lookup, tencentcloud_runtime::CredentialsError> {
        if self.broken {
            return Err(tencentcloud_runtime::CredentialsError::new("sealed"));
        }
        Ok(match self.present {
            true => Lookup::Found(Arc::new(
                Credentials::new("AKIDvault", SecretKey::new("vault-key")).with_source("vault"),
            )),
            false => Lookup::Absent("VAULT_ADDR is not set".to_owned()),
        })
    }
}

#[tokio::test]
async fn added_sources_come_after_the_profile_file_and_before_the_cvm_role() {
    let home = TempDir::new();
    let home_text = home.path().display().to_string();
    let metadata = format!("http://127.0.0.1:{}", closed_port());
    let vault = |present, broken| DefaultChain::builder().source(Vault { present, broken });
    let bare = env(&[
        ("HOME", &home_text),
        ("TENCENTCLOUD_METADATA_ENDPOINT", &metadata),
    ]);

    // Before the CVM role...
    let chain = vault(true, false).build(&bare).unwrap();
    assert_eq!(chain.source(), Some("vault"));
    assert_eq!(chain.provide().await.unwrap().secret_id(), "AKIDvault");
    // ...after the environment.
    let keys = env(&[
        ("HOME", &home_text),
        ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
        ("TENCENTCLOUD_SECRET_KEY", "env-key"),
    ]);
    assert_eq!(
        vault(true, false).build(&keys).unwrap().source(),
        Some("environment")
    );
    // A broken source is an error naming it, never skipped.
    let e = vault(true, true).build(&bare).unwrap_err().to_string();
    assert!(e.contains("vault: sealed"), "{e}");
    // An absent one is listed with the others when none has credentials.
    let chain = vault(false, false).build(&bare).unwrap();
    let e = chain.provide().await.unwrap_err().to_string();
    assert!(
        e.contains("profile file: ") && e.contains("; vault: VAULT_ADDR is not set; CVM role: "),
        "{e}"
    );
    // Config takes its credentials from such a chain too.
    let config = Config::from_environment_with(&bare, vault(true, false)).unwrap();
    assert!(config.credentials().is_none(), "a provider, not fixed keys");
    let c = config.credentials_provider().provide().await.unwrap();
    assert_eq!(c.secret_id(), "AKIDvault");
}

#[tokio::test]
async fn a_refused_credential_is_renewed_once_and_the_call_retried() {
    let metadata = Metadata::start(3600).await;
    let api = Scripted::builder(SECRET_ID, SECRET_KEY)
        .steps([Step::error("AuthFailure.TokenFailure", "req-1")])
        .key("AKIDrole1", "role-key-1")
        .key("AKIDrole2", "role-key-2")
        .start()
        .await;
    let provider = Arc::new(InstanceRoleProvider::new(&metadata.url(), None).unwrap());
    let config = Config::from_credentials_provider(provider.clone())
        .with_endpoint(api.endpoint())
        .with_region("ap-guangzhou");
    let client = Client::new(config).unwrap();
    describe(&client).await.unwrap();
    api.all_signed();
    let ids: Vec<String> = api
        .seen()
        .iter()
        .map(|s| s.header("x-tc-token").unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["role-token-1", "role-token-2"]);
    assert_eq!(metadata.issued.load(Ordering::SeqCst), 2);

    // Refused twice: renewed only once, then the error.
    let api = Scripted::builder(SECRET_ID, SECRET_KEY)
        .steps([
            Step::error("AuthFailure.TokenFailure", "req-2"),
            Step::error("AuthFailure.TokenFailure", "req-3"),
        ])
        .start()
        .await;
    let config = Config::from_credentials_provider(provider.clone())
        .with_endpoint(api.endpoint())
        .with_region("ap-guangzhou");
    let error = describe(&Client::new(config).unwrap()).await.unwrap_err();
    assert_eq!(error.code(), Some("AuthFailure.TokenFailure"));
    assert_eq!(error.attempts(), 2);
    assert_eq!(api.count(), 2);

    // Fixed keys cannot be renewed: no second request.
    let api = Scripted::start(
        SECRET_ID,
        SECRET_KEY,
        [Step::error("AuthFailure.TokenFailure", "req-4")],
    )
    .await;
    let config = Config::new(Credentials::new(SECRET_ID, SecretKey::new(SECRET_KEY)))
        .with_endpoint(api.endpoint())
        .with_region("ap-guangzhou");
    let error = describe(&Client::new(config).unwrap()).await.unwrap_err();
    assert_eq!(error.attempts(), 1);
    assert_eq!(api.count(), 1);
}

#[tokio::test]
async fn a_failed_renewal_serves_the_old_credential_until_it_expires() {
    // Lifetime 3 s: renewed from 2.7 s on.
    let metadata = Metadata::start(3).await;
    let provider = InstanceRoleProvider::new(&metadata.url(), None).unwrap();
    let first = provider.provide().await.unwrap();
    metadata.down.store(true, Ordering::SeqCst);
    let due = first.expiry().unwrap() - Duration::from_millis(200);
    tokio::time::sleep(due.duration_since(SystemTime::now()).unwrap_or_default()).await;
    assert!(provider.provide().await.unwrap().same_as(&first));
    metadata.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(
        first
            .expiry()
            .unwrap()
            .duration_since(SystemTime::now())
            .unwrap_or_default(),
    )
    .await;
    let renewed = provider.provide().await.unwrap();
    assert_eq!(renewed.secret_id(), "AKIDrole2");
}

#[tokio::test]
async fn a_metadata_service_handing_out_expired_credentials_is_not_asked_at_every_call() {
    const CALLS: u32 = 150;
    let metadata = Metadata::start_expired(60).await;
    let api = Scripted::builder(SECRET_ID, SECRET_KEY).start().await;
    let provider = InstanceRoleProvider::new(&metadata.url(), None).unwrap();
    let client =
        Client::new(Config::from_credentials_provider(provider).with_endpoint(api.endpoint())).unwrap();
    let started = Instant::now();
    for _ in 0..CALLS {
        let e = describe(&client).await.unwrap_err();
        assert!(matches!(e, Error::Credentials(_)), "{e}");
        assert!(
            e.to_string()
                .contains("gave credentials (AKIDrole1) that expired at"),
            "{e}"
        );
    }
    // One fetch (role name and credentials), then one more at most per
    // backoff (at least half a second) that went by: a count, however slow
    // the machine.
    let backoffs = u64::try_from(started.elapsed().as_millis() / 500).unwrap();
    let issued = metadata.issued.load(Ordering::SeqCst);
    assert!(
        (1..=1 + backoffs).contains(&issued),
        "{issued} credentials fetched for {CALLS} calls"
    );
    assert_eq!(api.count(), 0, "nothing is sent with expired credentials");
}

#[test]
fn profile_files_and_their_errors() {
    let home = TempDir::new();
    let home_text = home.path().display().to_string();
    let with = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("HOME", home_text.as_str())];
        pairs.extend_from_slice(extra);
        env(&pairs)
    };
    // The official CLI's files: credentials, and the region when none is set.
    home.write(
        ".tccli/default.credential",
        r#"{"secretId": "AKIDcli", "secretKey": "cli-key"}"#,
    );
    home.write(
        ".tccli/default.configure",
        r#"{"_sys_param": {"region": "ap-chengdu", "output": "json"}, "cvm": {"endpoint": "cvm.tencentcloudapi.com"}}"#,
    );
    let config = Config::from_environment(&with(&[])).unwrap();
    assert_eq!(config.credentials().unwrap().secret_id(), "AKIDcli");
    assert_eq!(config.region(), Some("ap-chengdu"));
    let config = Config::from_environment(&with(&[("TENCENTCLOUD_REGION", "ap-hongkong")])).unwrap();
    assert_eq!(config.region(), Some("ap-hongkong"));

    // The INI file comes first; TENCENTCLOUD_PROFILE picks the section.
    let ini = home.write(
        ".tencentcloud/credentials",
        "[default]\nsecret_id = AKIDdefault\nsecret_key = default-key\n\n[prod]\nsecret_id = AKIDprod\nsecret_key = prod-key\n",
    );
    let ini_text = ini.display().to_string();
    let p = ProfileProvider::from_environment(&with(&[])).unwrap();
    assert_eq!(p.credentials().secret_id(), "AKIDdefault");
    let p = ProfileProvider::from_environment(&with(&[("TENCENTCLOUD_PROFILE", "prod")])).unwrap();
    assert_eq!(p.credentials().secret_id(), "AKIDprod");
    let e = ProfileProvider::from_environment(&with(&[("TENCENTCLOUD_PROFILE", "staging")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("TENCENTCLOUD_PROFILE is `staging`, but no profile file has it"),
        "{e}"
    );
    assert!(e.contains(&format!("no [staging] in {ini_text}")), "{e}");

    // TENCENTCLOUD_CREDENTIALS_FILE replaces the default path.
    let other = home.write(
        "elsewhere.ini",
        "[default]\nsecret_id = AKIDelsewhere\nsecret_key = k\n",
    );
    let other_text = other.display().to_string();
    let p =
        ProfileProvider::from_environment(&with(&[("TENCENTCLOUD_CREDENTIALS_FILE", &other_text)])).unwrap();
    assert_eq!(p.credentials().secret_id(), "AKIDelsewhere");

    // A broken file is an error naming the file and the line, not a fall-through.
    for (text, line, problem) in [
        (
            "[default]\nsecret_id = AKIDx\n",
            1,
            "[default] has no `secret_key`",
        ),
        (
            "[default]\nsecret_id = AKIDx\nsecret_key hunter2\n",
            3,
            "expected `[section]` or `key = value`",
        ),
    ] {
        home.write(".tencentcloud/credentials", text);
        let e = Config::from_environment(&with(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::Credentials(_)), "{e:?}");
        let e = e.to_string();
        assert!(e.contains(&format!("{ini_text}:{line}: {problem}")), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
    home.write(".tencentcloud/credentials", "[other]\n");
    home.write(
        ".tccli/default.credential",
        "{\"secretId\": \"AKIDcli\",\n \"secretKey\": }",
    );
    let e = Config::from_environment(&with(&[])).unwrap_err().to_string();
    assert!(
        e.contains("default.credential: not a tccli credential file") && e.contains("line 2"),
        "{e}"
    );
}

/// The one reader of configuration files (`tencentcloud_runtime::profile`),
/// which the credential providers, `Config::from_environment` and `tcloud`
/// share: a regular file of at most 1 MiB, or an error naming the file;
/// nothing else is opened for long or read to the end.
#[cfg(unix)]
#[test]
fn configuration_files_are_regular_bounded_files_or_errors() {
    use tencentcloud_runtime::profile::{self, TccliConfigure, MAX_FILE_BYTES};
    let home = TempDir::new();
    let fifo = home.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo (coreutils) failed");
    let zero = home.path().join("zero");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let big = home.path().join("big");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_FILE_BYTES + 1)
        .unwrap();
    let latin1 = home.path().join("latin1");
    std::fs::write(&latin1, b"[default]\nsecret_key = caf\xe9\n").unwrap();

    assert!(profile::read_text(&home.path().join("absent")).unwrap().is_none());
    let file = home.write("fine", "[default]\n");
    assert_eq!(profile::read_text(&file).unwrap().as_deref(), Some("[default]\n"));
    let cases = [
        (&fifo, "fifo: not a regular file".to_owned()),
        (&zero, "zero: not a regular file".to_owned()),
        (&home.path().to_path_buf(), "not a regular file".to_owned()),
        (&big, format!("big: {} bytes, more than", MAX_FILE_BYTES + 1)),
        (&latin1, "latin1: not UTF-8 text (byte 26)".to_owned()),
    ];
    for (path, expected) in &cases {
        let e = profile::read_text(path).unwrap_err();
        assert_eq!(e.path(), path.as_path());
        let e = e.to_string();
        assert!(e.contains(expected.as_str()), "{}: {e}", path.display());
        assert!(!e.contains("caf"), "{e}");
    }

    // Each file the runtime reads goes through it: a FIFO or a device where a
    // file is looked for is an error, neither waited on nor skipped.
    let home_text = home.path().display().to_string();
    let at = |relative: &str, target: &Path| {
        let path = home.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, &path).unwrap();
        path
    };
    let started = Instant::now();
    for (relative, target, expected) in [
        (
            ".tccli/default.configure",
            &fifo,
            "default.configure: not a regular file",
        ),
        (
            ".tccli/default.credential",
            &zero,
            "default.credential: not a regular file",
        ),
        (
            ".tencentcloud/credentials",
            &big,
            "credentials: 1048577 bytes, more than",
        ),
    ] {
        let path = at(relative, target);
        let e = Config::from_environment(&env(&[("HOME", &home_text)])).unwrap_err();
        let e = e.to_string();
        assert!(e.contains(expected), "{relative}: {e}");
        std::fs::remove_file(path).unwrap();
    }
    let fifo_text = fifo.display().to_string();
    let e = ProfileProvider::from_environment(&env(&[("TENCENTCLOUD_CREDENTIALS_FILE", &fifo_text)]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("fifo: not a regular file"), "{e}");
    // Neither waited on: a FIFO opened for reading waits for a writer (for
    // ever here), and /dev/zero read to the end never ends. 20 s tells
    // those apart from the milliseconds this takes, however loaded the
    // machine.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    // The configure file's settings, as tcloud reads them.
    home.write(
        ".tccli/prod.configure",
        r#"{"_sys_param": {"region": "ap-chengdu", "output": "table"}, "cvm": {"endpoint": "cvm.example.com", "version": "2017-03-12"}}"#,
    );
    let conf = TccliConfigure::read(&env(&[("HOME", &home_text)]), "prod")
        .unwrap()
        .unwrap();
    assert_eq!(
        (conf.region(), conf.output()),
        (Some("ap-chengdu"), Some("table"))
    );
    assert_eq!(
        (conf.endpoint("cvm"), conf.version("cvm")),
        (Some("cvm.example.com"), Some("2017-03-12"))
    );
    assert!(TccliConfigure::read(&env(&[("HOME", &home_text)]), "staging")
        .unwrap()
        .is_none());
    assert!(TccliConfigure::read(&env(&[]), "prod").unwrap().is_none());
}

/// `~/.tencentcloud/credentials` that is there but cannot be read as a
/// file is an error naming it: the chain never falls through to the next
/// file (tccli's, which holds other keys here). Only an absent one does.
#[cfg(unix)]
#[test]
fn a_broken_credentials_file_is_an_error_naming_it_never_a_fall_through() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    const INI: &str = "[default]\nsecret_id = AKIDini\nsecret_key = ini-key\n";
    let chain_in = |home: &TempDir| {
        let home_text = home.path().display().to_string();
        let metadata = format!("http://127.0.0.1:{}", closed_port());
        DefaultChain::from_environment(&env(&[
            ("HOME", &home_text),
            ("TENCENTCLOUD_METADATA_ENDPOINT", &metadata),
        ]))
    };
    let home_with = |make: &dyn Fn(&Path)| {
        let home = TempDir::new();
        home.write(
            ".tccli/default.credential",
            r#"{"secretId": "AKIDcli", "secretKey": "cli-key"}"#,
        );
        std::fs::create_dir_all(home.path().join(".tencentcloud")).unwrap();
        make(&home.path().join(".tencentcloud/credentials"));
        home
    };
    // Absent: the next file serves.
    let absent = home_with(&|_| {});
    let chain = chain_in(&absent).unwrap();
    assert_eq!(chain.source(), Some("profile file"));
    assert!(format!("{chain:?}").contains("AKIDcli"), "{chain:?}");

    /// Puts something broken at the credentials file's path.
    type Breaks = fn(&Path);
    let broken: [(&str, Breaks); 5] = [
        ("a FIFO", |path| {
            let made = std::process::Command::new("mkfifo").arg(path).status().unwrap();
            assert!(made.success(), "mkfifo (coreutils) failed");
        }),
        ("a directory", |path| std::fs::create_dir(path).unwrap()),
        ("a device", |path| symlink("/dev/null", path).unwrap()),
        ("a link to nothing", |path| {
            symlink(path.with_file_name("nowhere"), path).unwrap()
        }),
        ("a loop of links", |path| symlink(path, path).unwrap()),
    ];
    for (what, make) in broken {
        let home = home_with(&make);
        let path = home.path().join(".tencentcloud/credentials");
        let e = chain_in(&home).unwrap_err().to_string();
        assert!(
            e.contains(&format!("{}", path.display())) && !e.contains("AKIDcli"),
            "{what}: {e}"
        );
    }

    // A file it may not read: an error, unless the tests run with the
    // privilege to read it anyway (root), when it is simply read.
    let home = home_with(&|path| {
        std::fs::write(path, INI).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
    });
    let path = home.path().join(".tencentcloud/credentials");
    let privileged = std::fs::File::open(&path).is_ok();
    match chain_in(&home) {
        Ok(chain) => {
            assert!(privileged, "{chain:?}");
            assert!(format!("{chain:?}").contains("AKIDini"), "{chain:?}");
        }
        Err(e) => {
            assert!(!privileged, "{e}");
            let e = e.to_string();
            assert!(
                e.contains(&format!("cannot read {}", path.display())) && e.contains("ermission denied"),
                "{e}"
            );
        }
    }
}

#[test]
fn half_a_key_pair_is_an_error_not_a_fall_through() {
    let e = Config::from_environment(&env(&[("TENCENTCLOUD_SECRET_ID", "AKID1")])).unwrap_err();
    assert_eq!(e.to_string(), "missing TENCENTCLOUD_SECRET_KEY");
    let e = Config::from_environment(&env(&[("TENCENTCLOUD_ENDPOINT_STS", "sts.example.com")])).unwrap_err();
    assert!(e.to_string().contains("TENCENTCLOUD_ENDPOINT_STS"), "{e}");
    let e = Endpoint::custom("nope").unwrap_err();
    assert!(e.to_string().contains("endpoint"), "{e}");
}
