//! Credentials and region from files: the SDKs' INI file
//! (`~/.tencentcloud/credentials`) and the official CLI's own
//! (`~/.tccli/<profile>.credential`, `~/.tccli/<profile>.configure`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::identity::{check_secret_id, check_token};
use crate::Env;
use crate::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials, SecretKey};

pub(crate) const CREDENTIALS_FILE: &str = "TENCENTCLOUD_CREDENTIALS_FILE";
pub(crate) const PROFILE: &str = "TENCENTCLOUD_PROFILE";
/// Where the official SDKs look when the home directory has no file.
const SYSTEM_FILE: &str = "/etc/tencentcloud/credentials";
/// Far larger than any real file; a bigger one is refused, not read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The profile named by `TENCENTCLOUD_PROFILE`, else `default`.
pub(crate) fn profile_name(env: &Env) -> String {
    env.get(PROFILE).unwrap_or_else(|| "default".to_owned())
}

/// Credentials from a profile, found as the default chain looks for them:
///
/// 1. the INI file `TENCENTCLOUD_CREDENTIALS_FILE`, else
///    `~/.tencentcloud/credentials`, else `/etc/tencentcloud/credentials`:
///    section `[<profile>]` with `secret_id` and `secret_key`;
/// 2. the official CLI's `~/.tccli/<profile>.credential`: JSON with
///    `secretId`, `secretKey` and optionally `token`.
///
/// The profile is `TENCENTCLOUD_PROFILE`, else `default`. A file that exists
/// but cannot be used (a bad line, a missing key) is an error naming the
/// file and the line, never skipped.
#[derive(Debug, Clone)]
pub struct ProfileProvider {
    credentials: Credentials,
}

impl ProfileProvider {
    /// The profile's credentials, found from the process environment; an
    /// error when no file has the profile.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_environment(&Env::process())
    }

    /// [`ProfileProvider::from_env`] reading `env`.
    pub fn from_environment(env: &Env) -> Result<Self, CredentialsError> {
        match Self::find(env)? {
            Ok(credentials) => Ok(ProfileProvider { credentials }),
            Err(why) => Err(CredentialsError::new(format!(
                "no profile `{}`: {why}",
                profile_name(env)
            ))),
        }
    }

    /// The credentials read.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The profile's credentials, or `Ok(Err(why))` when no file has the profile.
    pub(crate) fn find(env: &Env) -> Result<Result<Credentials, String>, CredentialsError> {
        let profile = profile_name(env);
        let mut looked = Vec::new();
        let ini = match env.get(CREDENTIALS_FILE) {
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(CredentialsError::new(format!(
                        "{CREDENTIALS_FILE} names {}, which is not a readable file",
                        path.display()
                    )));
                }
                Some(path)
            }
            None => {
                let candidates = env
                    .home()
                    .map(|home| home.join(".tencentcloud").join("credentials"))
                    .into_iter()
                    .chain([PathBuf::from(SYSTEM_FILE)]);
                let mut found = None;
                for path in candidates {
                    if path.is_file() {
                        found = Some(path);
                        break;
                    }
                    looked.push(format!("no {}", path.display()));
                }
                found
            }
        };
        if let Some(path) = ini {
            let text = read_small(&path)?;
            match credentials_from_ini(&path, &text, &profile)? {
                Some(credentials) => return Ok(Ok(credentials)),
                None => looked.push(format!("no [{profile}] in {}", path.display())),
            }
        }
        match env.home() {
            Some(home) => {
                let path = home.join(".tccli").join(format!("{profile}.credential"));
                if path.is_file() {
                    let text = read_small(&path)?;
                    return credentials_from_tccli(&path, &text).map(Ok);
                }
                looked.push(format!("no {}", path.display()));
            }
            None => looked.push("no home directory (HOME and USERPROFILE unset)".to_owned()),
        }
        if env.get(PROFILE).is_some() {
            // Named on purpose: not finding it is a mistake, not an absence.
            return Err(CredentialsError::new(format!(
                "{PROFILE} is `{profile}`, but no profile file has it: {}",
                looked.join(", ")
            )));
        }
        Ok(Err(looked.join(", ")))
    }

    /// The region of the official CLI's `~/.tccli/<profile>.configure`
    /// (`_sys_param.region`), if that file exists and sets one.
    pub(crate) fn region(env: &Env) -> Result<Option<String>, CredentialsError> {
        let Some(home) = env.home() else {
            return Ok(None);
        };
        let path = home
            .join(".tccli")
            .join(format!("{}.configure", profile_name(env)));
        if !path.is_file() {
            return Ok(None);
        }
        let text = read_small(&path)?;
        region_from_tccli(&path, &text)
    }
}

impl ProvideCredentials for ProfileProvider {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::ready(Ok(self.credentials.clone()))
    }
}

fn read_small(path: &Path) -> Result<String, CredentialsError> {
    read_bounded(path, MAX_FILE_BYTES, "a credentials file")
}

/// The UTF-8 text of `path`, refused unread when longer than `max` bytes
/// (`what` names what the file should be) or when it is not a regular file:
/// a FIFO would block the open and a device (`/dev/zero`) never end.
pub(crate) fn read_bounded(path: &Path, max: u64, what: &str) -> Result<String, CredentialsError> {
    use std::io::Read;
    let error =
        |e: std::io::Error| CredentialsError::with_source(format!("cannot read {}", path.display()), e);
    let meta = std::fs::metadata(path).map_err(error)?;
    if !meta.is_file() {
        return Err(CredentialsError::new(format!(
            "{} is not a regular file, as {what} must be",
            path.display()
        )));
    }
    let too_big = |size: u64| {
        CredentialsError::new(format!(
            "{} is {size} bytes, more than {what} can be ({max})",
            path.display()
        ))
    };
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    // Bounded by reading too: the file may grow between the two steps.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(error)?
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(error)?;
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        CredentialsError::new(format!(
            "{}: not UTF-8 text (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The section `profile` of an INI file: `None` when it has no such section.
/// Never echoes a line: it may hold a secret.
fn credentials_from_ini(
    path: &Path,
    text: &str,
    profile: &str,
) -> Result<Option<Credentials>, CredentialsError> {
    let at =
        |line: usize, problem: &str| CredentialsError::new(format!("{}:{line}: {problem}", path.display()));
    let mut section: Option<(String, usize)> = None;
    let mut found_at = None;
    let mut secret_id: Option<(String, usize)> = None;
    let mut secret_key: Option<(String, usize)> = None;
    let mut sections_seen = std::collections::BTreeSet::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err(at(number, "a section header must end with `]`"));
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(at(number, "empty section name"));
            }
            if !sections_seen.insert(name.to_owned()) {
                return Err(at(number, &format!("section [{name}] appears twice")));
            }
            if name == profile {
                found_at = Some(number);
            }
            section = Some((name.to_owned(), number));
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            return Err(at(number, "expected `[section]` or `key = value`"));
        };
        let key = line[..split].trim();
        if key.is_empty() {
            return Err(at(number, "a key is missing before `=`"));
        }
        let Some((current, _)) = &section else {
            return Err(at(number, "a key before any `[section]`"));
        };
        if current != profile {
            continue;
        }
        let value = unquote(line[split + 1..].trim());
        let slot = match key {
            "secret_id" => &mut secret_id,
            "secret_key" => &mut secret_key,
            _ => continue,
        };
        if slot.is_some() {
            return Err(at(number, &format!("`{key}` appears twice in [{profile}]")));
        }
        *slot = Some((value.to_owned(), number));
    }
    let Some(header) = found_at else {
        return Ok(None);
    };
    let (id, id_line) = secret_id.ok_or_else(|| at(header, &format!("[{profile}] has no `secret_id`")))?;
    let (key, key_line) =
        secret_key.ok_or_else(|| at(header, &format!("[{profile}] has no `secret_key`")))?;
    check_secret_id(&id).map_err(|e| at(id_line, &format!("secret_id {e}")))?;
    if key.is_empty() {
        return Err(at(key_line, "secret_key is empty"));
    }
    Ok(Some(Credentials::new(id, SecretKey::new(key)).with_source(
        format!("profile [{profile}] of {}", path.display()),
    )))
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|v| v.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

#[derive(Deserialize)]
struct TccliCredential {
    #[serde(rename = "secretId")]
    secret_id: Option<String>,
    #[serde(rename = "secretKey")]
    secret_key: Option<String>,
    token: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

fn credentials_from_tccli(path: &Path, text: &str) -> Result<Credentials, CredentialsError> {
    let file: TccliCredential = serde_json::from_str(text).map_err(|e| {
        // serde_json's message names line and column and never quotes the input.
        CredentialsError::new(format!("{}: not a tccli credential file: {e}", path.display()))
    })?;
    let missing = |member: &str| CredentialsError::new(format!("{}: no `{member}`", path.display()));
    if let Some(kind) = file.kind.as_deref().filter(|k| *k != "default") {
        return Err(CredentialsError::new(format!(
            "{}: credential type `{kind}` is renewed by tccli itself and not read here; \
             use static keys, or unset the profile so the chain reaches the CVM role or OIDC",
            path.display()
        )));
    }
    let id = file
        .secret_id
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| missing("secretId"))?;
    let key = file
        .secret_key
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| missing("secretKey"))?;
    let id = id.trim().to_owned();
    check_secret_id(&id).map_err(|e| CredentialsError::new(format!("{}: secretId {e}", path.display())))?;
    let mut credentials = Credentials::new(id, SecretKey::new(key.trim()));
    if let Some(token) = file.token.filter(|t| !t.trim().is_empty()) {
        check_token(token.trim())
            .map_err(|e| CredentialsError::new(format!("{}: token {e}", path.display())))?;
        credentials = credentials.with_session_token(token.trim());
    }
    Ok(credentials.with_source(format!("tccli profile {}", path.display())))
}

fn region_from_tccli(path: &Path, text: &str) -> Result<Option<String>, CredentialsError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| CredentialsError::new(format!("{}: not a tccli configure file: {e}", path.display())))?;
    // tccli keeps it under `_sys_param`; versions before 3.0 at the top level.
    let region = value
        .get("_sys_param")
        .and_then(|p| p.get("region"))
        .or_else(|| value.get("region"));
    match region {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(r)) if r.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(r)) => Ok(Some(r.trim().to_owned())),
        Some(_) => Err(CredentialsError::new(format!(
            "{}: `_sys_param.region` is not a string",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ini(text: &str, profile: &str) -> Result<Option<Credentials>, String> {
        credentials_from_ini(Path::new("/h/.tencentcloud/credentials"), text, profile)
            .map_err(|e| e.to_string())
    }

    #[cfg(unix)]
    #[test]
    fn a_device_a_fifo_or_a_directory_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let device = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &device).unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo (coreutils) failed");
        for path in [device, fifo, dir.path().to_path_buf()] {
            let err = read_small(&path).unwrap_err().to_string();
            assert!(err.contains("is not a regular file"), "{}: {err}", path.display());
        }
    }

    #[test]
    fn ini_sections_and_keys() {
        let text = "# comment\n[default]\nsecret_id = AKIDdef\nsecret_key=\"kdef\"\n\n[prod]\nsecret_id: AKIDprod\nsecret_key = kprod\nrole_arn = x\n";
        let c = ini(text, "default").unwrap().unwrap();
        assert_eq!((c.secret_id(), c.secret_key().expose()), ("AKIDdef", "kdef"));
        assert_eq!(c.source(), "profile [default] of /h/.tencentcloud/credentials");
        let c = ini(text, "prod").unwrap().unwrap();
        assert_eq!((c.secret_id(), c.secret_key().expose()), ("AKIDprod", "kprod"));
        assert!(ini(text, "staging").unwrap().is_none());
    }

    #[test]
    fn ini_problems_name_the_file_and_line_but_not_the_secret() {
        let cases = [
            (
                "[default]\nsecret_id = AKID1\n",
                "credentials:1: [default] has no `secret_key`",
            ),
            (
                "[default]\nsecret_key = hunter2\n",
                "credentials:1: [default] has no `secret_id`",
            ),
            (
                "[default]\nsecret_id = AKID1\nhunter2 secret line\n",
                "credentials:3: expected `[section]` or `key = value`",
            ),
            (
                "secret_id = AKID1\n",
                "credentials:1: a key before any `[section]`",
            ),
            ("[default\n", "credentials:1: a section header must end with `]`"),
            (
                "[default]\n[default]\n",
                "credentials:2: section [default] appears twice",
            ),
            (
                "[default]\nsecret_id=AKID1\nsecret_id=AKID2\n",
                "credentials:3: `secret_id` appears twice",
            ),
            (
                "[default]\nsecret_id = AK/ID\nsecret_key = hunter2\n",
                "credentials:2: secret_id may only",
            ),
            (
                "[default]\nsecret_id = AKID1\nsecret_key =\n",
                "credentials:3: secret_key is empty",
            ),
        ];
        for (text, expected) in cases {
            let e = ini(text, "default").unwrap_err();
            assert!(e.contains(expected), "{e}");
            assert!(e.contains("/h/.tencentcloud/credentials:"), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn tccli_files() {
        let path = Path::new("/h/.tccli/default.credential");
        let c = credentials_from_tccli(path, r#"{"secretId": "AKIDcli", "secretKey": "kcli"}"#).unwrap();
        assert_eq!(
            (c.secret_id(), c.secret_key().expose(), c.session_token()),
            ("AKIDcli", "kcli", None)
        );
        let c = credentials_from_tccli(
            path,
            r#"{"secretId": "AKIDcli", "secretKey": "kcli", "token": "t", "type": "default"}"#,
        )
        .unwrap();
        assert_eq!(c.session_token(), Some("t"));
        for (text, expected) in [
            (r#"{"secretId": "AKIDcli"}"#, "default.credential: no `secretKey`"),
            (r#"{"secretKey": "hunter2"}"#, "default.credential: no `secretId`"),
            (
                "{\n\"secretId\": \"AKID\",\n\"secretKey\": hunter2\n}",
                "line 3 column",
            ),
            (r#"{"type": "cvm-role"}"#, "credential type `cvm-role`"),
        ] {
            let e = credentials_from_tccli(path, text).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
        let conf = Path::new("/h/.tccli/default.configure");
        assert_eq!(
            region_from_tccli(
                conf,
                r#"{"_sys_param": {"region": "ap-shanghai", "output": "json"}, "cvm": {}}"#
            )
            .unwrap(),
            Some("ap-shanghai".to_owned())
        );
        assert_eq!(
            region_from_tccli(conf, r#"{"region": "ap-beijing"}"#).unwrap(),
            Some("ap-beijing".to_owned())
        );
        assert_eq!(region_from_tccli(conf, r#"{"_sys_param": {}}"#).unwrap(), None);
        assert!(region_from_tccli(conf, "{")
            .unwrap_err()
            .to_string()
            .contains("default.configure"));
    }
}
