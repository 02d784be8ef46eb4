//! The client's settings, from the same sources as the SDK's
//! (`tencentcloud_config::config_from_environment`: the runtime's
//! configuration with every credential source, TKE OIDC and
//! `TENCENTCLOUD_ROLE_ARN` through STS included), with the command line's
//! flags and tccli's profile files on top, as tccli reads them:
//!
//! - `--profile P` (else `TCCLI_PROFILE`, else `TENCENTCLOUD_PROFILE`, else
//!   `default`) names `~/.tccli/P.credential` and `~/.tccli/P.configure`. A
//!   profile named on the command line wins over the environment's keys, as
//!   in tccli, and its region over `TENCENTCLOUD_REGION`, which still serves
//!   a profile that names no region (the README's precedence table);
//! - `--secretId`, `--secretKey`, `--token` and `--region` win over both;
//! - `P.configure` gives the region, the output format
//!   (`_sys_param.output`) and a service's endpoint and API version
//!   (`<service>.endpoint`, `<service>.version`), read by the runtime's
//!   one reader of these files (`tencentcloud_runtime::profile`), which also
//!   reads the `.credential` file for the default chain.

use std::path::PathBuf;
use std::time::Duration;

use tencentcloud_runtime::profile::TccliConfigure;
use tencentcloud_runtime::{Config, Endpoint, Env};

use crate::error::CliError;
use crate::output::Format;

const SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
const SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
const SESSION_TOKEN: &str = "TENCENTCLOUD_SESSION_TOKEN";
/// tccli's name for the session token.
const TCCLI_TOKEN: &str = "TENCENTCLOUD_TOKEN";
const REGION: &str = "TENCENTCLOUD_REGION";
const PROFILE: &str = "TENCENTCLOUD_PROFILE";
const ENDPOINT: &str = "TENCENTCLOUD_ENDPOINT";
const TCCLI_PROFILE: &str = "TCCLI_PROFILE";

/// The flags that configure the client.
#[derive(Default, Clone)]
pub struct Flags {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub secret_id: Option<String>,
    /// Redacted by `Debug`; handed to the runtime, whose credential type
    /// keeps it out of every message.
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub output: Option<String>,
    pub language: Option<String>,
    /// Seconds per request.
    pub timeout: Option<String>,
    /// The service's API version (`2017-03-12`).
    pub version: Option<String>,
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("Flags")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint", &self.endpoint)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &redacted(&self.secret_key))
            .field("token", &redacted(&self.token))
            .field("output", &self.output)
            .field("language", &self.language)
            .field("timeout", &self.timeout)
            .field("version", &self.version)
            .finish()
    }
}

pub struct Settings {
    pub config: Config,
    pub format: Format,
    /// The API version asked for, by flag or profile.
    pub version: Option<String>,
    /// The profile's configure file, where a region could have come from,
    /// and whether it exists: named when no region was found.
    configure_file: Option<(PathBuf, bool)>,
    /// A profile named by `--profile`: its region comes before the
    /// environment's.
    named_profile: bool,
}

impl Settings {
    /// Why there is no region, naming every place a region is taken from,
    /// in the order they are looked at.
    pub fn missing_region(&self, action: &str) -> String {
        let file = match &self.configure_file {
            Some((path, true)) => format!("`region` in {}, which has none", path.display()),
            Some((path, false)) => format!("{}, which does not exist", path.display()),
            None => "a profile's configure file (no home directory)".to_owned(),
        };
        if self.named_profile {
            format!("{action} needs a region: --region, else {file}, else {REGION}")
        } else {
            format!("{action} needs a region: --region, else {REGION}, else {file}")
        }
    }
}

fn process(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The profile in use and where its name came from (named so in every
/// message about it): `--profile`, else `TCCLI_PROFILE`, else
/// `TENCENTCLOUD_PROFILE`, else `default`.
fn profile_name(flags: &Flags) -> Result<(String, &'static str), CliError> {
    let (profile, source) = match (&flags.profile, process(TCCLI_PROFILE)) {
        (Some(profile), _) => (profile.clone(), "--profile"),
        (None, Some(profile)) => (profile, TCCLI_PROFILE),
        (None, None) => (process(PROFILE).unwrap_or_else(|| "default".to_owned()), PROFILE),
    };
    if profile.is_empty() || profile.contains(['/', '\\']) || profile.starts_with('.') {
        return Err(CliError::usage(format!(
            "{source} `{profile}` is not a profile name"
        )));
    }
    Ok((profile, source))
}

/// The profile's configure file: where it is (none without a home
/// directory) and what it holds (none when it does not exist). Read,
/// bounded and parsed by the runtime, as the runtime reads it for the region.
fn configure(profile: &str) -> Result<(Option<PathBuf>, Option<TccliConfigure>), CliError> {
    let path = tencentcloud_runtime::profile::tccli_file(&Env::process(), profile, "configure");
    let conf = match &path {
        Some(path) => TccliConfigure::read_path(path).map_err(|e| CliError::usage(e.to_string()))?,
        None => None,
    };
    Ok((path, conf))
}

/// `--version`, else the profile's `<service>.version`.
fn version_of(flags: &Flags, conf: Option<&TccliConfigure>, service: &str) -> Option<String> {
    flags
        .version
        .clone()
        .or_else(|| conf.and_then(|c| c.version(service)).map(str::to_owned))
}

/// The API version a command asks for, without credentials (for `help`
/// and the skeleton), as a call would use it.
pub fn version(flags: &Flags, service: &str) -> Result<Option<String>, CliError> {
    if flags.version.is_some() {
        // The profile's file is not read: nothing in it could change this.
        return Ok(flags.version.clone());
    }
    let (profile, _) = profile_name(flags)?;
    let (_, conf) = configure(&profile)?;
    Ok(version_of(flags, conf.as_ref(), service))
}

pub fn resolve(flags: &Flags, service: &str) -> Result<Settings, CliError> {
    let named = flags.profile.is_some();
    let (profile, profile_source) = profile_name(flags)?;
    // An empty value (`--region "$R"` with R unset) is a mistake, never a
    // reason to fall back to the profile's.
    for (flag, value) in [
        ("--region", &flags.region),
        ("--secretId", &flags.secret_id),
        ("--secretKey", &flags.secret_key),
        ("--token", &flags.token),
    ] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            return Err(CliError::usage(format!("{flag} is empty")));
        }
    }
    if flags.secret_id.is_some() != flags.secret_key.is_some() {
        return Err(CliError::usage("--secretId and --secretKey go together"));
    }
    let (configure_path, conf) = configure(&profile)?;

    if flags.token.is_some() && flags.secret_id.is_none() {
        return Err(CliError::usage(
            "--token goes with --secretId and --secretKey (a profile keeps its token in its \
             .credential file, the environment in TENCENTCLOUD_SESSION_TOKEN)",
        ));
    }

    // The process environment, then the flags over it. A list, not a
    // lookup: the runtime lists `TENCENTCLOUD_ENDPOINT_<SERVICE>`.
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let tccli_token = vars
        .iter()
        .find(|(k, _)| k == TCCLI_TOKEN)
        .map(|(_, v)| v.clone());
    let unset =
        |vars: &mut Vec<(String, String)>, names: &[&str]| vars.retain(|(k, _)| !names.contains(&k.as_str()));
    unset(&mut vars, &[TCCLI_TOKEN]);
    if named {
        // tccli: a profile asked for by name is used as written, whatever the
        // environment holds: its keys, and its region when it has one (the
        // environment's region is the fallback of one that has none).
        unset(&mut vars, &[SECRET_ID, SECRET_KEY, SESSION_TOKEN]);
        if conf.as_ref().and_then(TccliConfigure::region).is_some() {
            unset(&mut vars, &[REGION]);
        }
    }
    let set = |vars: &mut Vec<(String, String)>, name: &str, value: &str| {
        vars.retain(|(k, _)| k != name);
        vars.push((name.to_owned(), value.to_owned()));
    };
    // Named by the command line or tccli's variable: the runtime is told,
    // and then requires it. Otherwise its own rules apply (its variable,
    // else `default` when a file has it).
    if profile_source != PROFILE {
        set(&mut vars, PROFILE, &profile);
    }
    match (&flags.secret_id, &flags.secret_key) {
        (Some(id), Some(key)) => {
            set(&mut vars, SECRET_ID, id);
            set(&mut vars, SECRET_KEY, key);
            // The environment's token belongs to the environment's keys.
            unset(&mut vars, &[SESSION_TOKEN]);
            if let Some(token) = &flags.token {
                set(&mut vars, SESSION_TOKEN, token);
            }
        }
        _ if !named && !vars.iter().any(|(k, _)| k == SESSION_TOKEN) => {
            if let Some(token) = tccli_token {
                set(&mut vars, SESSION_TOKEN, &token);
            }
        }
        _ => {}
    }
    if let Some(region) = &flags.region {
        set(&mut vars, REGION, region);
    }
    let service_endpoint = format!("{ENDPOINT}_{}", service.to_ascii_uppercase());
    let endpoint_in_env = vars.iter().any(|(k, _)| *k == ENDPOINT || *k == service_endpoint);
    let mut config = tencentcloud_config::config_from_environment(&Env::from_pairs(vars)).map_err(|e| {
        // Name the flag the user gave, not the variable it became.
        let mut message = e.to_string();
        if flags.region.is_some() {
            message = message.replace(REGION, "--region");
        }
        if profile_source != PROFILE {
            message = message.replace(PROFILE, profile_source);
        }
        if flags.secret_id.is_some() {
            message = message
                .replace(SECRET_ID, "--secretId")
                .replace(SESSION_TOKEN, "--token");
        }
        CliError::usage(message)
    })?;

    // The flag, else the environment's (as the SDK), else the profile's,
    // which `tccli configure` writes for every service.
    let configured = conf
        .as_ref()
        .and_then(|c| c.endpoint(service))
        .filter(|_| !endpoint_in_env)
        .map(|e| (e.to_owned(), "the profile's endpoint"));
    let endpoint = flags.endpoint.clone().map(|e| (e, "--endpoint")).or(configured);
    if let Some((endpoint, from)) = endpoint {
        // tccli takes a host name (`cvm.ap-guangzhou.tencentcloudapi.com`)
        // or a URL (`http://127.0.0.1:9000`).
        let url = if endpoint.contains("://") {
            endpoint
        } else {
            format!("https://{endpoint}")
        };
        let endpoint = Endpoint::custom(&url).map_err(|e| CliError::usage(format!("{from}: {e}")))?;
        config = config.with_endpoint(endpoint);
    }
    if let Some(language) = &flags.language {
        config = config.with_language(language.clone());
    }
    if let Some(timeout) = &flags.timeout {
        config = config.with_timeout(seconds("--timeout", timeout)?);
    }
    let output = flags
        .output
        .clone()
        .or_else(|| conf.as_ref().and_then(TccliConfigure::output).map(str::to_owned));
    let format = Format::parse(output.as_deref().unwrap_or("json"))?;
    let version = version_of(flags, conf.as_ref(), service);
    let configure_file = configure_path.map(|path| (path, conf.is_some()));
    Ok(Settings {
        config,
        format,
        version,
        configure_file,
        named_profile: named,
    })
}

/// A flag's value in seconds: more than 0, at most a day.
pub fn seconds(flag: &str, text: &str) -> Result<Duration, CliError> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            CliError::usage(format!(
                "{flag} takes seconds (more than 0, at most 86400), not `{text}`"
            ))
        })
}
