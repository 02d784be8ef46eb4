//! The services tcloud knows: the descriptions imported into `spec/` (with
//! our `rules.json` and `waiters.json`) and every official one (facts only,
//! from tccli), both embedded deflated. A command inflates and models one
//! service version; nothing else is decoded.

use codegen::Model;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::bundle::{self, Entry};
use crate::error::CliError;

static IMPORTED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/imported.bin"));
static OFFICIAL: &[u8] = include_bytes!("../descriptions/official.bin");

/// No error lists: tcloud prints the code the service answers.
const EMPTY_ERRORS: &str = r#"{"codes": {}, "common": [], "actions": {}}"#;
const EMPTY_RULES: &str = r#"{"objects": {}}"#;

/// Where a description comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `spec/`: what the SDK generates from, with rules and waiters.
    Imported,
    /// tccli's, facts only.
    Official,
}

pub struct Catalog {
    /// Imported entries first: they win over the official ones.
    entries: Vec<(Entry<'static>, Origin)>,
}

/// One service version, modelled.
pub struct Service {
    /// The directory name (`cvm`; `autoscaling`, whose endpoint is `as`).
    pub name: String,
    pub origin: Origin,
    pub model: Model,
}

#[derive(Deserialize)]
struct Parts<'a> {
    #[serde(borrow)]
    api: &'a RawValue,
    #[serde(borrow, default)]
    rules: Option<&'a RawValue>,
    #[serde(borrow, default)]
    waiters: Option<&'a RawValue>,
}

impl Catalog {
    pub fn embedded() -> Result<Catalog, CliError> {
        Catalog::from_bundles(IMPORTED, OFFICIAL)
    }

    pub fn from_bundles(imported: &'static [u8], official: &'static [u8]) -> Result<Catalog, CliError> {
        let read = |bytes, what| {
            bundle::read(bytes).map_err(|e| CliError::internal(format!("{what} descriptions: {e}")))
        };
        let mut entries: Vec<_> = read(imported, "imported")?
            .into_iter()
            .map(|e| (e, Origin::Imported))
            .collect();
        entries.extend(
            read(official, "official")?
                .into_iter()
                .map(|e| (e, Origin::Official)),
        );
        Ok(Catalog { entries })
    }

    /// Every service name, sorted.
    pub fn services(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.entries.iter().map(|(e, _)| e.service).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The service's versions, oldest first.
    pub fn versions(&self, service: &str) -> Vec<&'static str> {
        let mut versions: Vec<_> = self
            .entries
            .iter()
            .filter(|(e, _)| e.service == service)
            .map(|(e, _)| e.version)
            .collect();
        versions.sort_unstable();
        versions.dedup();
        versions
    }

    /// Inflates and models `service` at `version` (`2017-03-12` or
    /// `v20170312`; the newest when `None`).
    pub fn load(&self, service: &str, version: Option<&str>) -> Result<Service, CliError> {
        let versions = self.versions(service);
        let Some(newest) = versions.last() else {
            let names = self.services();
            return Err(CliError::usage(format!(
                "unknown service `{service}`{}; `tcloud help` lists them",
                codegen::model::suggest(
                    service,
                    names.iter().map(|s| s.to_string()).collect::<Vec<_>>().iter()
                )
            )));
        };
        let wanted = match version {
            None => newest.to_string(),
            Some(v) => format!("v{}", v.trim_start_matches('v').replace('-', "")),
        };
        let Some((entry, origin)) = self
            .entries
            .iter()
            .find(|(e, _)| e.service == service && e.version == wanted)
        else {
            return Err(CliError::usage(format!(
                "`{service}` has no API version {}; available: {}",
                version.unwrap_or_default(),
                versions.join(" ")
            )));
        };
        let text = entry.inflate().map_err(CliError::internal)?;
        let broken = |e: String| CliError::internal(format!("embedded description {service}/{wanted}: {e}"));
        let parts: Parts = serde_json::from_slice(&text).map_err(|e| broken(e.to_string()))?;
        let model = codegen::model_from_texts(
            parts.api.get(),
            EMPTY_ERRORS,
            parts.rules.map_or(EMPTY_RULES, RawValue::get),
            parts.waiters.map(RawValue::get),
        )
        .map_err(|e| broken(e.to_string()))?;
        Ok(Service {
            name: service.to_owned(),
            origin: *origin,
            model,
        })
    }
}
