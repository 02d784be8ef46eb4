//! The client's settings, from the same sources as the SDK's
//! (`Config::from_environment`), with the command line's flags and tccli's
//! profile files on top, as tccli reads them:
//!
//! - `--profile P` (else `TCCLI_PROFILE`, else `TENCENTCLOUD_PROFILE`, else
//!   `default`) names `~/.tccli/P.credential` and `~/.tccli/P.configure`. A
//!   profile named on the command line wins over the environment's keys and
//!   region, as in tccli;
//! - `--secretId`, `--secretKey`, `--token` and `--region` win over both;
//! - `P.configure` gives the region, the output format
//!   (`_sys_param.output`) and a service's endpoint and API version
//!   (`<service>.endpoint`, `<service>.version`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
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
const TCCLI_PROFILE: &str = "TCCLI_PROFILE";
/// Far larger than any real configure file; a bigger one is refused.
const MAX_CONFIGURE_BYTES: u64 = 1024 * 1024;

/// The flags that configure the client.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub secret_id: Option<String>,
    /// Never printed: `Flags` is only debugged in tests, and this field is
    /// handed to the runtime, whose credential type redacts it.
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub output: Option<String>,
    pub language: Option<String>,
    /// Seconds per request.
    pub timeout: Option<String>,
    /// The service's API version (`2017-03-12`).
    pub version: Option<String>,
}

pub struct Settings {
    pub config: Config,
    pub format: Format,
    /// The API version asked for, by flag or profile.
    pub version: Option<String>,
}

/// The profile's `configure` file, if any, parsed.
fn configure(profile: &str) -> Result<Option<(PathBuf, Value)>, CliError> {
    let Some(home) = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")) else {
        return Ok(None);
    };
    let path = PathBuf::from(home)
        .join(".tccli")
        .join(format!("{profile}.configure"));
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CliError::usage(format!("{}: {e}", path.display()))),
    };
    let mut text = String::new();
    use std::io::Read;
    file.take(MAX_CONFIGURE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    if text.len() as u64 > MAX_CONFIGURE_BYTES {
        return Err(CliError::usage(format!("{}: larger than 1 MiB", path.display())));
    }
    let value = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{}: not a tccli configure file: {e}", path.display())))?;
    Ok(Some((path, value)))
}

fn string_at<'v>(value: &'v Value, section: &str, key: &str) -> Option<&'v str> {
    value
        .get(section)?
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub fn resolve(flags: &Flags, service: &str) -> Result<Settings, CliError> {
    let named = flags.profile.is_some();
    let process = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    // Named by the command line or tccli's variable: the runtime is told,
    // and then requires it. Otherwise its own rules apply (its variable,
    // else `default` when a file has it).
    let chosen = flags.profile.clone().or_else(|| process(TCCLI_PROFILE));
    let profile = chosen
        .clone()
        .or_else(|| process(PROFILE))
        .unwrap_or_else(|| "default".to_owned());
    if profile.is_empty() || profile.contains(['/', '\\']) || profile.starts_with('.') {
        return Err(CliError::usage(format!(
            "--profile `{profile}` is not a profile name"
        )));
    }
    if flags.secret_id.is_some() != flags.secret_key.is_some() {
        return Err(CliError::usage("--secretId and --secretKey go together"));
    }
    let conf = configure(&profile)?;
    let conf_value = conf.as_ref().map(|(_, v)| v);

    let mut set: Vec<(&'static str, String)> = chosen.map(|p| (PROFILE, p)).into_iter().collect();
    let mut hidden: Vec<&'static str> = vec![TCCLI_TOKEN];
    if named {
        // tccli: a profile asked for by name is used as written, whatever the
        // environment holds.
        hidden.extend([SECRET_ID, SECRET_KEY, SESSION_TOKEN, REGION]);
    } else if process(SESSION_TOKEN).is_none() {
        if let Some(token) = process(TCCLI_TOKEN) {
            set.push((SESSION_TOKEN, token));
        }
    }
    if let (Some(id), Some(key)) = (&flags.secret_id, &flags.secret_key) {
        set.push((SECRET_ID, id.clone()));
        set.push((SECRET_KEY, key.clone()));
        hidden.push(SESSION_TOKEN);
    }
    if let Some(token) = &flags.token {
        set.push((SESSION_TOKEN, token.clone()));
    }
    if let Some(region) = &flags.region {
        set.push((REGION, region.clone()));
    }
    let env = Env::from_fn(move |name| {
        if let Some((_, value)) = set.iter().rev().find(|(n, _)| *n == name) {
            return Some(value.clone());
        }
        if hidden.contains(&name) {
            return None;
        }
        std::env::var(name).ok()
    });
    let mut config = Config::from_environment(&env).map_err(|e| CliError::call(e.to_string()))?;

    let endpoint = flags.endpoint.clone().or_else(|| {
        conf_value
            .and_then(|c| string_at(c, service, "endpoint"))
            .map(str::to_owned)
    });
    if let Some(endpoint) = endpoint {
        // tccli takes a host name (`cvm.ap-guangzhou.tencentcloudapi.com`)
        // or a URL (`http://127.0.0.1:9000`).
        let url = if endpoint.contains("://") {
            endpoint
        } else {
            format!("https://{endpoint}")
        };
        let endpoint = Endpoint::custom(&url).map_err(|e| CliError::usage(format!("--endpoint: {e}")))?;
        config = config.with_endpoint(endpoint);
    }
    if let Some(language) = &flags.language {
        config = config.with_language(language.clone());
    }
    if let Some(timeout) = &flags.timeout {
        let seconds: f64 = timeout
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
            .ok_or_else(|| {
                CliError::usage(format!("--timeout takes seconds (0 to 86400), not `{timeout}`"))
            })?;
        config = config.with_timeout(Duration::from_secs_f64(seconds));
    }
    let output = flags.output.clone().or_else(|| {
        conf_value
            .and_then(|c| string_at(c, "_sys_param", "output"))
            .map(str::to_owned)
    });
    let format = Format::parse(output.as_deref().unwrap_or("json"))?;
    let version = flags.version.clone().or_else(|| {
        conf_value
            .and_then(|c| string_at(c, service, "version"))
            .map(str::to_owned)
    });
    Ok(Settings {
        config,
        format,
        version,
    })
}
