//! Credentials from files: the SDKs' INI file (`~/.tencentcloud/credentials`)
//! and the official CLI's own (`~/.tccli/<profile>.credential`), read and
//! parsed by [`crate::profile`].

use std::path::PathBuf;

use crate::profile::{self, credentials_from_ini, credentials_from_tccli, profile_name, read_text, PROFILE};
use crate::Env;
use crate::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};

pub(crate) const CREDENTIALS_FILE: &str = "TENCENTCLOUD_CREDENTIALS_FILE";
/// Where the official SDKs look when the home directory has no file.
const SYSTEM_FILE: &str = "/etc/tencentcloud/credentials";

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
        // The first INI file that exists, with its text.
        let ini = match env.get(CREDENTIALS_FILE) {
            Some(path) => {
                let path = PathBuf::from(path);
                match read_text(&path)? {
                    Some(text) => Some((path, text)),
                    None => {
                        return Err(CredentialsError::new(format!(
                            "{CREDENTIALS_FILE} names {}, which does not exist",
                            path.display()
                        )))
                    }
                }
            }
            None => {
                let candidates = env
                    .home()
                    .map(|home| home.join(".tencentcloud").join("credentials"))
                    .into_iter()
                    .chain([PathBuf::from(SYSTEM_FILE)]);
                let mut found = None;
                for path in candidates {
                    if let Some(text) = read_text(&path)? {
                        found = Some((path, text));
                        break;
                    }
                    looked.push(format!("no {}", path.display()));
                }
                found
            }
        };
        if let Some((path, text)) = ini {
            match credentials_from_ini(&path, &text, &profile)? {
                Some(credentials) => return Ok(Ok(credentials)),
                None => looked.push(format!("no [{profile}] in {}", path.display())),
            }
        }
        match profile::tccli_file(env, &profile, "credential") {
            Some(path) => {
                if let Some(text) = read_text(&path)? {
                    return Ok(Ok(credentials_from_tccli(&path, &text)?));
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
}

impl ProvideCredentials for ProfileProvider {
    fn provide(&self) -> CredentialsFuture<'_> {
        CredentialsFuture::ready(Ok(self.credentials.clone()))
    }
}
