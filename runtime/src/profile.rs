//! Tencent Cloud's configuration files, read in one place: the SDKs' INI
//! file (`~/.tencentcloud/credentials`) and the official CLI's own
//! (`~/.tccli/<profile>.credential`, `~/.tccli/<profile>.configure`).
//!
//! Every file goes through [`read_text`]: only a regular file is read (a
//! FIFO would block the open, a device such as `/dev/zero` never end), and
//! only up to [`MAX_FILE_BYTES`]. The credential files are read by
//! [`ProfileProvider`](crate::credentials::ProfileProvider) and the default
//! chain; a configure file's settings (region, output format, each
//! service's endpoint and API version) by [`TccliConfigure`], which
//! [`Config::from_environment`](crate::Config::from_environment) uses for
//! the region and the `tcloud` command line for the rest.
//!
//! A [`ProfileError`] names the file, and the line (or the JSON member)
//! when there is one, but never quotes the file's text: it may hold a
//! secret.
//!
//! ```no_run
//! use tencentcloud_runtime::{profile, Env};
//!
//! # fn demo() -> Result<(), profile::ProfileError> {
//! let env = Env::process();
//! if let Some(conf) = profile::TccliConfigure::read(&env, &profile::profile_name(&env))? {
//!     println!("{:?} {:?}", conf.region(), conf.endpoint("cvm"));
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::display::Escaped;
use crate::identity::{check_secret_id, check_token};
use crate::{Credentials, CredentialsError, Env, SecretKey};

/// The variable naming the profile.
pub(crate) const PROFILE: &str = "TENCENTCLOUD_PROFILE";

/// Far larger than any real configuration file; a bigger one is refused, not read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The profile named by `TENCENTCLOUD_PROFILE`, else `default`.
pub fn profile_name(env: &Env) -> String {
    env.get(PROFILE).unwrap_or_else(|| "default".to_owned())
}

/// `~/.tccli/<profile>.<extension>` (`credential` or `configure`), when
/// there is a home directory.
pub fn tccli_file(env: &Env, profile: &str, extension: &str) -> Option<PathBuf> {
    env.home()
        .map(|home| home.join(".tccli").join(format!("{profile}.{extension}")))
}

/// A configuration file that cannot be used: unreadable, not a regular
/// file, too large, not UTF-8, or malformed. Its message names the file and
/// the line or member, never the file's text.
#[derive(Debug)]
pub struct ProfileError {
    path: PathBuf,
    message: String,
    source: Option<std::io::Error>,
}

impl ProfileError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        ProfileError {
            path: path.to_owned(),
            message: message.into(),
            source: None,
        }
    }

    /// The file at fault.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped(&self.message))?;
        if let Some(source) = &self.source {
            write!(f, ": {}", Escaped(&source.to_string()))?;
        }
        Ok(())
    }
}

impl std::error::Error for ProfileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl From<ProfileError> for CredentialsError {
    fn from(e: ProfileError) -> Self {
        match e.source {
            Some(io) => CredentialsError::with_source(e.message, io),
            None => CredentialsError::new(e.message),
        }
    }
}

/// The UTF-8 text of the configuration file `path`, at most
/// [`MAX_FILE_BYTES`]; `Ok(None)` when there is no such file. Anything else
/// that stands there (a directory, a FIFO, a device, a file it cannot read,
/// a symbolic link to nothing) is an error, unread.
pub fn read_text(path: &Path) -> Result<Option<String>, ProfileError> {
    // The link itself: a dangling one is a broken file, not an absent one.
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => read_bounded(path, MAX_FILE_BYTES, "a configuration file").map(Some),
    }
}

/// The UTF-8 text of `path`, refused unread when longer than `max` bytes
/// (`what` names what the file should be, in the error) or when it is not a
/// regular file (a FIFO, a device, a directory). For files other than
/// configuration files, such as a web identity token; errors name the file,
/// never its text.
pub fn read_bounded(path: &Path, max: u64, what: &str) -> Result<String, ProfileError> {
    let error = |e: std::io::Error| ProfileError {
        source: Some(e),
        ..ProfileError::new(path, format!("cannot read {}", path.display()))
    };
    let not_regular = || {
        ProfileError::new(
            path,
            format!("{}: not a regular file, as {what} must be", path.display()),
        )
    };
    let too_big = |size: u64| {
        ProfileError::new(
            path,
            format!(
                "{}: {size} bytes, more than {what} can be ({max})",
                path.display()
            ),
        )
    };
    let meta = std::fs::metadata(path).map_err(error)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(error)?;
    // What was opened, not what the path named a moment ago.
    if !file.metadata().map_err(error)?.is_file() {
        return Err(not_regular());
    }
    // Bounded by reading too: the file may grow between the two steps.
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(error)?;
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        ProfileError::new(
            path,
            format!(
                "{}: not UTF-8 text (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// serde_json's verdict without the text it may quote (`invalid type:
/// string "hunter2"`): the kind of problem and where.
fn json_problem(path: &Path, what: &str, e: &serde_json::Error) -> ProfileError {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Syntax => "not valid JSON",
        Category::Eof => "the JSON ends early",
        Category::Data => "a member has the wrong type",
        Category::Io => "cannot read",
    };
    ProfileError::new(
        path,
        format!(
            "{}: not {what}: {kind} at line {} column {}",
            path.display(),
            e.line(),
            e.column()
        ),
    )
}

/// The settings of the official CLI's `~/.tccli/<profile>.configure`, as
/// `tccli configure` writes them:
///
/// ```json
/// {"_sys_param": {"region": "ap-guangzhou", "output": "json"},
///  "cvm": {"endpoint": "cvm.tencentcloudapi.com", "version": "2017-03-12"}}
/// ```
///
/// Files of tccli before 3.0 keep `region` and `output` at the top level;
/// they are read too. Blank values count as unset; a value that is neither
/// a string nor `null` is an error naming the file and the member.
#[derive(Debug, Clone)]
pub struct TccliConfigure {
    path: PathBuf,
    region: Option<String>,
    output: Option<String>,
    services: BTreeMap<String, ServiceSettings>,
}

#[derive(Debug, Clone, Default)]
struct ServiceSettings {
    endpoint: Option<String>,
    version: Option<String>,
}

impl TccliConfigure {
    /// `~/.tccli/<profile>.configure` under `env`'s home directory;
    /// `Ok(None)` without a home directory or without the file.
    pub fn read(env: &Env, profile: &str) -> Result<Option<Self>, ProfileError> {
        match tccli_file(env, profile, "configure") {
            Some(path) => Self::read_path(&path),
            None => Ok(None),
        }
    }

    /// The configure file at `path`; `Ok(None)` when there is none.
    pub fn read_path(path: &Path) -> Result<Option<Self>, ProfileError> {
        match read_text(path)? {
            Some(text) => Self::parse(path, &text).map(Some),
            None => Ok(None),
        }
    }

    /// `text`, the content of the file `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ProfileError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| json_problem(path, "a tccli configure file", &e))?;
        let Value::Object(top) = value else {
            return Err(ProfileError::new(
                path,
                format!(
                    "{}: not a tccli configure file: not a JSON object",
                    path.display()
                ),
            ));
        };
        let wrong = |member: &str, expected: &str| {
            ProfileError::new(path, format!("{}: `{member}` is not {expected}", path.display()))
        };
        let string = |object: &serde_json::Map<String, Value>, section: &str, key: &str| match object.get(key)
        {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(_) => {
                let member = match section {
                    "" => key.to_owned(),
                    _ => format!("{section}.{key}"),
                };
                Err(wrong(&member, "a string"))
            }
        };
        let sys = match top.get("_sys_param") {
            None | Some(Value::Null) => None,
            Some(Value::Object(sys)) => Some(sys),
            Some(_) => return Err(wrong("_sys_param", "an object")),
        };
        // tccli keeps them under `_sys_param`; versions before 3.0 at the top level.
        let mut region = None;
        let mut output = None;
        if let Some(sys) = sys {
            region = string(sys, "_sys_param", "region")?;
            output = string(sys, "_sys_param", "output")?;
        }
        if region.is_none() {
            region = string(&top, "", "region")?;
        }
        if output.is_none() {
            output = string(&top, "", "output")?;
        }
        let mut services = BTreeMap::new();
        for (name, section) in &top {
            let Value::Object(section) = section else {
                continue;
            };
            if name == "_sys_param" {
                continue;
            }
            services.insert(
                name.clone(),
                ServiceSettings {
                    endpoint: string(section, name, "endpoint")?,
                    version: string(section, name, "version")?,
                },
            );
        }
        Ok(TccliConfigure {
            path: path.to_owned(),
            region,
            output,
            services,
        })
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `_sys_param.region` (`ap-guangzhou`).
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// `_sys_param.output`: `json`, `text` or `table`, as written.
    pub fn output(&self) -> Option<&str> {
        self.output.as_deref()
    }

    /// `<service>.endpoint`: a host name (`cvm.tencentcloudapi.com`) or a
    /// URL, as written.
    pub fn endpoint(&self, service: &str) -> Option<&str> {
        self.services.get(service)?.endpoint.as_deref()
    }

    /// `<service>.version`: the service's API version (`2017-03-12`).
    pub fn version(&self, service: &str) -> Option<&str> {
        self.services.get(service)?.version.as_deref()
    }
}

/// The section `profile` of an SDK INI file: `None` when it has no such
/// section. Never echoes a line: it may hold a secret.
pub(crate) fn credentials_from_ini(
    path: &Path,
    text: &str,
    profile: &str,
) -> Result<Option<Credentials>, ProfileError> {
    let at =
        |line: usize, problem: &str| ProfileError::new(path, format!("{}:{line}: {problem}", path.display()));
    let mut section: Option<String> = None;
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
            section = Some(name.to_owned());
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            return Err(at(number, "expected `[section]` or `key = value`"));
        };
        let key = line[..split].trim();
        if key.is_empty() {
            return Err(at(number, "a key is missing before `=`"));
        }
        let Some(current) = &section else {
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

/// The official CLI's `<profile>.credential`: `secretId`, `secretKey` and
/// optionally `token`.
pub(crate) fn credentials_from_tccli(path: &Path, text: &str) -> Result<Credentials, ProfileError> {
    let file: TccliCredential =
        serde_json::from_str(text).map_err(|e| json_problem(path, "a tccli credential file", &e))?;
    let problem = |what: String| ProfileError::new(path, format!("{}: {what}", path.display()));
    if let Some(kind) = file.kind.as_deref().filter(|k| *k != "default") {
        return Err(problem(format!(
            "credential type `{}` is renewed by tccli itself and not read here; \
             use static keys, or unset the profile so the chain reaches the CVM role or OIDC",
            Escaped(kind)
        )));
    }
    let id = file
        .secret_id
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| problem("no `secretId`".to_owned()))?;
    let key = file
        .secret_key
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| problem("no `secretKey`".to_owned()))?;
    let id = id.trim().to_owned();
    check_secret_id(&id).map_err(|e| problem(format!("secretId {e}")))?;
    let mut credentials = Credentials::new(id, SecretKey::new(key.trim()));
    if let Some(token) = file.token.filter(|t| !t.trim().is_empty()) {
        check_token(token.trim()).map_err(|e| problem(format!("token {e}")))?;
        credentials = credentials.with_session_token(token.trim());
    }
    Ok(credentials.with_source(format!("tccli profile {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ini(text: &str, profile: &str) -> Result<Option<Credentials>, String> {
        credentials_from_ini(Path::new("/h/.tencentcloud/credentials"), text, profile)
            .map_err(|e| e.to_string())
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
    fn tccli_credential_files() {
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
                "not valid JSON at line 3 column",
            ),
            // serde_json would quote the value: `invalid type: integer `123456789``.
            (
                "{\"secretId\": \"AKID\",\n\"secretKey\": 123456789}",
                "a member has the wrong type at line 2 column",
            ),
            (
                "{\"secretId\": \"AKID\", \"secretKey\": [\"hunter2\"]}",
                "a member has the wrong type at line 1",
            ),
            (r#"{"type": "cvm-role"}"#, "credential type `cvm-role`"),
        ] {
            let e = credentials_from_tccli(path, text).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
            assert!(!e.contains("hunter2") && !e.contains("123456789"), "{e}");
        }
    }

    #[test]
    fn tccli_configure_files() {
        let conf = Path::new("/h/.tccli/default.configure");
        let c = TccliConfigure::parse(
            conf,
            r#"{"_sys_param": {"region": "ap-shanghai", "output": "table", "arrayCount": 10},
                "cvm": {"endpoint": " cvm.tencentcloudapi.com ", "version": "2017-03-12"},
                "vpc": {"endpoint": "", "version": null}}"#,
        )
        .unwrap();
        assert_eq!((c.region(), c.output()), (Some("ap-shanghai"), Some("table")));
        assert_eq!(c.endpoint("cvm"), Some("cvm.tencentcloudapi.com"));
        assert_eq!(c.version("cvm"), Some("2017-03-12"));
        assert_eq!((c.endpoint("vpc"), c.version("vpc")), (None, None));
        assert_eq!((c.endpoint("cbs"), c.endpoint("_sys_param")), (None, None));
        assert_eq!(c.path(), conf);
        // tccli before 3.0.
        let c = TccliConfigure::parse(conf, r#"{"region": "ap-beijing", "output": "text"}"#).unwrap();
        assert_eq!((c.region(), c.output()), (Some("ap-beijing"), Some("text")));
        let c = TccliConfigure::parse(conf, r#"{"_sys_param": {}}"#).unwrap();
        assert_eq!((c.region(), c.output()), (None, None));
        for (text, expected) in [
            (
                "{",
                "default.configure: not a tccli configure file: the JSON ends early at line 1",
            ),
            (
                "[1]",
                "default.configure: not a tccli configure file: not a JSON object",
            ),
            (
                r#"{"_sys_param": 1}"#,
                "default.configure: `_sys_param` is not an object",
            ),
            (
                r#"{"_sys_param": {"region": 1}}"#,
                "default.configure: `_sys_param.region` is not a string",
            ),
            (r#"{"output": []}"#, "default.configure: `output` is not a string"),
            (
                r#"{"cvm": {"endpoint": {"hunter2": 1}}}"#,
                "default.configure: `cvm.endpoint` is not a string",
            ),
        ] {
            let e = TccliConfigure::parse(conf, text).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }
}
