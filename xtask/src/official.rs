//! What xtask reads of the official descriptions beside each one: tccli's
//! default version per service. (A bundle entry's layout is
//! `tencentcloud_model::official`'s.)

use std::path::Path;

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
