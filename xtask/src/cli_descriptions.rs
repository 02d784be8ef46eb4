//! `cargo xtask cli-descriptions`: the official descriptions `tcloud`
//! embeds (`cli/descriptions/official.bin`), made from the pinned tccli
//! wheel.
//!
//! Each service version goes through `import`'s facts-only filter, as an
//! imported service does: names, types and structure, none of Tencent's
//! prose. Each is checked to build a model before it is bundled, so that
//! `tcloud` never meets a description it cannot read.

use std::path::{Path, PathBuf};

use tencentcloud_cli::bundle;

use crate::import;
use crate::services::{self, Inputs, EMPTY_RULES};

/// Where the bundle lives, from the workspace root.
pub const BUNDLE: &str = "cli/descriptions/official.bin";

/// An `errors.json` with no codes: the command line prints the codes the
/// service answers and needs no list of them.
pub const EMPTY_ERRORS: &str = r#"{"codes": {}, "common": [], "actions": {}}"#;

/// Deflate level: the bundle is made once and read at every start.
const LEVEL: u8 = 9;

/// The bundle's bytes, from every official service version under `inputs`.
pub fn build(inputs: &Inputs) -> Result<Vec<u8>, String> {
    let ids = services::discover(&inputs.descriptions, &[])?;
    let mut sources = Vec::with_capacity(ids.len());
    for id in &ids {
        let path = inputs
            .descriptions
            .join(&id.service)
            .join(&id.version)
            .join("api.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let official =
            codegen::parse_api(&text).map_err(|e| format!("{}: {}", path.display(), e.path_and_message()))?;
        let (api, _) = import::facts_only(&official, &path)?;
        let api = serde_json::to_value(&api).map_err(|e| e.to_string())?;
        let api_text = api.to_string();
        codegen::model_from_texts(&api_text, EMPTY_ERRORS, EMPTY_RULES, None)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let entry = serde_json::json!({ "api": api });
        sources.push(bundle::Source {
            service: id.service.clone(),
            version: id.version.clone(),
            json: entry.to_string().into_bytes(),
        });
    }
    bundle::write(&sources, LEVEL)
}

/// Writes the bundle (or, with `check`, fails if the checked-in one differs).
pub fn run(root: &Path, from: Option<PathBuf>, check: bool) -> Result<String, String> {
    let inputs = Inputs::resolve(root, from, None)?;
    let bytes = build(&inputs)?;
    let path = root.join(BUNDLE);
    let entries = bundle::read(&bytes)?.len();
    if check {
        let current = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if current != bytes {
            return Err(format!("{BUNDLE} is stale: run `cargo xtask cli-descriptions`"));
        }
        return Ok(format!("{BUNDLE}: up to date ({entries} service versions)"));
    }
    std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!(
        "{BUNDLE}: {entries} service versions, {} bytes",
        bytes.len()
    ))
}
