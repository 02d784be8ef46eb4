//! What xtask reads of the official descriptions beside each one: tccli's
//! default version per service, and the facts-only bundle entry of a
//! description (used by `services` as it checks every version and by
//! `cli-descriptions` as it writes tcloud's bundle).

use std::path::Path;

/// The bundle entry of a facts-only description: `{"api": ...}`, compact,
/// members sorted.
pub fn entry_json(api: &tencentcloud_model::spec::ApiFile) -> Result<Vec<u8>, String> {
    let api = serde_json::to_value(api).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({ "api": api }).to_string().into_bytes())
}

/// `<descriptions>/defaults.json` (`{"cvm": "v20170312", ...}`, written by
/// `scripts/fetch-tccli.py --all`); empty when absent, as in a directory
/// given by hand, whose services then default to their newest version.
pub fn default_versions(descriptions: &Path) -> Result<std::collections::BTreeMap<String, String>, String> {
    let path = descriptions.join("defaults.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}
