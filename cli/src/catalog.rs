//! The services tcloud knows: the descriptions imported into `spec/` (with
//! our `rules.json` and `waiters.json`) and every official one (facts only,
//! from tccli), both embedded deflated. A command inflates and models one
//! service version; nothing else is decoded.

use serde::Deserialize;
use serde_json::value::RawValue;
use tencentcloud_model::partial;
use tencentcloud_model::spec::ErrorsFile;
use tencentcloud_model::Model;

use crate::error::CliError;
use tencentcloud_descriptions::{self as bundle, Entry};

static IMPORTED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/imported.bin"));
static OFFICIAL: &[u8] = tencentcloud_descriptions::OFFICIAL;

const EMPTY_RULES: &str = tencentcloud_model::official::EMPTY_RULES;

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

/// An entry: `spec/`'s carry `errors` (its errors.json), the official ones
/// `codes` (`tencentcloud_model::official`); help lists an action's codes
/// from them.
#[derive(Deserialize)]
struct Parts<'a> {
    #[serde(borrow)]
    api: &'a RawValue,
    #[serde(borrow, default)]
    errors: Option<&'a RawValue>,
    #[serde(default)]
    codes: Option<std::collections::BTreeSet<String>>,
    #[serde(borrow, default)]
    rules: Option<&'a RawValue>,
    #[serde(borrow, default)]
    waiters: Option<&'a RawValue>,
}

impl Parts<'_> {
    fn errors(&self) -> Result<ErrorsFile, String> {
        match (&self.errors, &self.codes) {
            (Some(raw), _) => tencentcloud_model::parse_errors(raw.get()).map_err(|e| e.to_string()),
            (None, Some(codes)) => Ok(tencentcloud_model::official::errors_file(codes)),
            (None, None) => Ok(ErrorsFile::default()),
        }
    }
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

    /// The entry of `service` at `version` (`2017-03-12` or `v20170312`;
    /// when `None`, tccli's default, else the newest), imported before
    /// official, and its version.
    fn entry(
        &self,
        service: &str,
        version: Option<&str>,
    ) -> Result<(&(Entry<'static>, Origin), String), CliError> {
        let versions = self.versions(service);
        let Some(newest) = versions.last() else {
            let names: Vec<String> = self.services().iter().map(|s| s.to_string()).collect();
            return Err(CliError::usage(format!(
                "unknown service `{service}`{}; `tcloud help` lists them",
                crate::error::suggest(service, names.iter())
            )));
        };
        let default = self
            .entries
            .iter()
            .find(|(e, _)| e.service == service && e.default)
            .map(|(e, _)| e.version);
        let wanted = match version {
            None => default.unwrap_or(newest).to_string(),
            Some(v) => format!("v{}", v.trim_start_matches('v').replace('-', "")),
        };
        match self
            .entries
            .iter()
            .find(|(e, _)| e.service == service && e.version == wanted)
        {
            Some(found) => Ok((found, wanted)),
            None => Err(CliError::usage(format!(
                "`{service}` has no API version {}; available: {}",
                version.unwrap_or_default(),
                versions.join(" ")
            ))),
        }
    }

    /// The description's JSON text, inflated (`{"api": .., "rules": ..}`).
    pub fn text(&self, service: &str, version: Option<&str>) -> Result<Vec<u8>, CliError> {
        Ok(self.inflate(service, version)?.text)
    }

    /// [`Catalog::load`] for one action: the model holds that action, the
    /// actions its service's waiters poll, and the objects they reach, so
    /// that a command of a large service neither parses nor models all of
    /// it. The description is only scanned (borrowed JSON slices); just the
    /// definitions kept are parsed. An action the service lacks gets the
    /// whole model, whose names suggest the nearest.
    pub fn load_action(
        &self,
        service: &str,
        version: Option<&str>,
        action: &str,
    ) -> Result<Service, CliError> {
        let inflated = self.inflate(service, version)?;
        let broken = |e: String| inflated.broken(e);
        let parts = inflated.parts()?;
        let errors = parts.errors().map_err(broken)?;
        let model = partial::model_of_action(
            parts.api.get(),
            &errors,
            parts.rules.map(RawValue::get),
            parts.waiters.map(RawValue::get),
            action,
        )
        .map_err(broken)?;
        match model {
            Some(model) => Ok(inflated.service(model)),
            None => Ok(inflated.service(whole_model(&parts).map_err(broken)?)),
        }
    }

    /// Inflates and models `service` at `version` (as [`Catalog::text`]).
    pub fn load(&self, service: &str, version: Option<&str>) -> Result<Service, CliError> {
        let inflated = self.inflate(service, version)?;
        let model = whole_model(&inflated.parts()?).map_err(|e| inflated.broken(e))?;
        Ok(inflated.service(model))
    }

    fn inflate(&self, service: &str, version: Option<&str>) -> Result<Inflated, CliError> {
        let ((entry, origin), version) = self.entry(service, version)?;
        Ok(Inflated {
            text: entry.inflate().map_err(CliError::internal)?,
            service: service.to_owned(),
            version,
            origin: *origin,
        })
    }
}

/// One entry, inflated, with what messages and the model's service need.
struct Inflated {
    text: Vec<u8>,
    service: String,
    version: String,
    origin: Origin,
}

impl Inflated {
    fn parts(&self) -> Result<Parts<'_>, CliError> {
        serde_json::from_slice(&self.text).map_err(|e| self.broken(e.to_string()))
    }

    /// An embedded description that does not read: a bug of the build.
    fn broken(&self, problem: String) -> CliError {
        CliError::internal(format!(
            "embedded description {}/{}: {problem}",
            self.service, self.version
        ))
    }

    fn service(&self, model: Model) -> Service {
        Service {
            name: self.service.clone(),
            origin: self.origin,
            model,
        }
    }
}

/// Every action and object of the description modelled.
fn whole_model(parts: &Parts) -> Result<Model, String> {
    let errors = serde_json::to_string(&parts.errors()?).map_err(|e| e.to_string())?;
    tencentcloud_model::model_from_texts(
        parts.api.get(),
        &errors,
        parts.rules.map_or(EMPTY_RULES, RawValue::get),
        parts.waiters.map(RawValue::get),
    )
    .map_err(|e| e.to_string())
}
