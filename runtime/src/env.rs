//! The environment the providers read: variables, looked up through one
//! value so that tests (and programs with their own configuration) never
//! touch the process environment.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where configuration variables come from: the process environment
/// ([`Env::process`]) or a fixed set ([`Env::from_pairs`], [`Env::from_fn`]).
///
/// Values are trimmed, and an empty value counts as unset.
#[derive(Clone)]
pub struct Env {
    lookup: Arc<Lookup>,
    /// Every variable name, for the `TENCENTCLOUD_ENDPOINT_<SERVICE>`
    /// overrides; `None` when the source cannot list (a plain function).
    names: Option<Arc<[String]>>,
}

impl Env {
    /// The process environment, as it is when read (each lookup reads it).
    /// A value that is not UTF-8 counts as unset.
    pub fn process() -> Env {
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        Env {
            lookup: Arc::new(|name| std::env::var(name).ok()),
            names: Some(names.into()),
        }
    }

    /// A fixed set of variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        let map: BTreeMap<String, String> = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let names: Vec<String> = map.keys().cloned().collect();
        Env {
            lookup: Arc::new(move |name| map.get(name).cloned()),
            names: Some(names.into()),
        }
    }

    /// Variables looked up by `lookup`. It cannot list names, so
    /// `TENCENTCLOUD_ENDPOINT_<SERVICE>` overrides are not found.
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Env {
        Env {
            lookup: Arc::new(lookup),
            names: None,
        }
    }

    /// The trimmed value of `name`, `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Names of the set variables that start with `prefix`, sorted.
    pub(crate) fn names_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .names
            .iter()
            .flat_map(|names| names.iter())
            .filter(|n| n.starts_with(prefix) && n.len() > prefix.len())
            .cloned()
            .collect();
        found.sort();
        found.dedup();
        found
    }

    /// The home directory: `HOME`, else `USERPROFILE` (Windows); a blank
    /// value is none.
    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME")
            .or_else(|| self.get("USERPROFILE"))
            .map(PathBuf::from)
    }
}

/// Values may be secrets: only the count of known names is shown.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("names", &self.names.as_ref().map(|n| n.len()))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let env = Env::from_pairs([("A", " x "), ("B", "  "), ("TENCENTCLOUD_ENDPOINT_STS", "u")]);
        assert_eq!(env.get("A").as_deref(), Some("x"));
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), None);
        assert_eq!(
            env.names_with_prefix("TENCENTCLOUD_ENDPOINT_"),
            ["TENCENTCLOUD_ENDPOINT_STS"]
        );
        assert!(Env::from_fn(|_| None).names_with_prefix("A").is_empty());
        assert!(!format!("{env:?}").contains('x'));
    }
}
