//! `cargo xtask cli-descriptions`: the official descriptions `tcloud`
//! embeds (`descriptions/official.bin`), made from the pinned tccli
//! wheel.
//!
//! Each service version goes through `import`'s facts-only filter, as an
//! imported service does: names, types and structure, none of Tencent's
//! prose. Each is checked to build a model before it is bundled, so that
//! `tcloud` never meets a description it cannot read.

use std::path::{Path, PathBuf};

use tencentcloud_descriptions as bundle;

use tencentcloud_model::official;

use crate::services::{self, Inputs};
use crate::{import, sdk_codes};

/// Where the bundle lives, from the workspace root.
pub const BUNDLE: &str = bundle::OFFICIAL_PATH;

/// Deflate level: the bundle is made once and read at every start.
const LEVEL: u8 = 9;

/// Every official service version under `inputs`, as bundle entries;
/// with `validate`, each is checked to build a model first.
pub fn sources(inputs: &Inputs, validate: bool) -> Result<Vec<bundle::Source>, String> {
    let ids = services::discover(&inputs.descriptions, &[])?;
    let mut sources = Vec::with_capacity(ids.len());
    for id in &ids {
        let path = inputs
            .descriptions
            .join(&id.service)
            .join(&id.version)
            .join("api.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let official = tencentcloud_model::parse_api(&text)
            .map_err(|e| format!("{}: {}", path.display(), e.path_and_message()))?;
        let (api, _) = import::facts_only(&official, &path)?;
        let codes_path = inputs
            .errorcodes
            .join(&id.service)
            .join(&id.version)
            .join("errorcodes.py");
        let entry = official::Entry {
            api,
            codes: sdk_codes::read_any(&codes_path)?.codes,
        };
        if validate {
            codegen::official_model(&entry).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        sources.push(bundle::Source {
            service: id.service.clone(),
            version: id.version.clone(),
            default: inputs.defaults.get(&id.service) == Some(&id.version),
            json: official::entry_json(&entry.api, &entry.codes)?,
        });
    }
    Ok(sources)
}

/// Where the checked-in bundle differs from `sources`, if anywhere: its
/// entries are inflated and compared, which is much faster than deflating
/// the sources again.
pub fn stale(bundle_bytes: &[u8], sources: &[bundle::Source]) -> Result<Option<String>, String> {
    let entries = bundle::read(bundle_bytes)?;
    if entries.len() != sources.len() {
        return Ok(Some(format!(
            "{} service versions, the descriptions have {}",
            entries.len(),
            sources.len()
        )));
    }
    for (entry, source) in entries.iter().zip(sources) {
        let name = format!("{}/{}", source.service, source.version);
        if (entry.service, entry.version) != (source.service.as_str(), source.version.as_str()) {
            return Ok(Some(format!(
                "{}/{} where {name} belongs",
                entry.service, entry.version
            )));
        }
        if entry.default != source.default {
            return Ok(Some(format!(
                "{name} is {}tccli's default version",
                if source.default { "now " } else { "no longer " }
            )));
        }
        if entry.inflate()? != source.json {
            return Ok(Some(format!("{name} differs")));
        }
    }
    Ok(None)
}

/// Writes the bundle (or, with `check`, fails if the checked-in one differs).
pub fn run(
    root: &Path,
    from: Option<PathBuf>,
    errorcodes: Option<PathBuf>,
    check: bool,
) -> Result<String, String> {
    let inputs = Inputs::resolve(root, from, errorcodes)?;
    let path = root.join(BUNDLE);
    if check {
        let sources = sources(&inputs, false)?;
        let current = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(why) = stale(&current, &sources)? {
            return Err(format!(
                "{BUNDLE} is stale ({why}): run `cargo xtask cli-descriptions`"
            ));
        }
        return Ok(format!(
            "{BUNDLE}: up to date ({} service versions)",
            sources.len()
        ));
    }
    let sources = sources(&inputs, true)?;
    let bytes = bundle::write(&sources, LEVEL)?;
    std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!(
        "{BUNDLE}: {} service versions, {} bytes",
        sources.len(),
        bytes.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(service: &str, json: &str) -> bundle::Source {
        bundle::Source {
            service: service.into(),
            version: "v20170312".into(),
            default: false,
            json: json.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_changed_missing_or_renamed_entry_is_stale() {
        let bytes = bundle::write(&[source("cvm", "{}"), source("vpc", "[]")], LEVEL).unwrap();
        assert_eq!(
            stale(&bytes, &[source("cvm", "{}"), source("vpc", "[]")]).unwrap(),
            None
        );
        let why = |sources: &[bundle::Source]| stale(&bytes, sources).unwrap().unwrap();
        assert_eq!(
            why(&[source("cvm", "{}"), source("vpc", "[1]")]),
            "vpc/v20170312 differs"
        );
        assert_eq!(
            why(&[source("cvm", "{}")]),
            "2 service versions, the descriptions have 1"
        );
        assert_eq!(
            why(&[source("cvm", "{}"), source("vpcx", "[]")]),
            "vpc/v20170312 where vpcx/v20170312 belongs"
        );
        let mut now_default = source("vpc", "[]");
        now_default.default = true;
        assert_eq!(
            why(&[source("cvm", "{}"), now_default]),
            "vpc/v20170312 is now tccli's default version"
        );
    }
}
