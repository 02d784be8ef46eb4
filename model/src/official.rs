//! An official service version as the SDK ships it: one entry of the
//! description bundle (`tencentcloud-descriptions`), holding the facts of
//! tccli's `api.json` (no prose) and the service's error codes (from the
//! official Python SDK's `errorcodes.py`, codes only).
//!
//! The one owner of the entry's layout, written by `cargo xtask
//! cli-descriptions` and read by the `tencentcloud` crate's build script,
//! `cargo xtask import` and `tcloud`:
//!
//! ```text
//! {"api": {..}, "codes": ["FailedOperation.X", ..]}
//! ```
//!
//! `codes` is sorted and may be empty. Readers ignore other members (tcloud's
//! bundle of `spec/` adds `rules` and `waiters`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::spec::{ApiFile, ErrorsFile};
use crate::{CommonErrorCode, SpecError};

/// The `rules.json` of a service with no rules of ours.
pub const EMPTY_RULES: &str = r#"{"objects": {}}"#;

/// One official service version.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub api: ApiFile,
    /// Every code the service's `errorcodes.py` lists, shared ones included.
    pub codes: BTreeSet<String>,
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    api: &'a RawValue,
    #[serde(default)]
    codes: Vec<String>,
}

/// Parses an entry's JSON; a problem names the JSON path from the entry's
/// top (`api.objects.X...`, `codes[3]`).
pub fn parse_entry(json: &[u8]) -> Result<Entry, SpecError> {
    let text = std::str::from_utf8(json).map_err(|e| SpecError {
        file: ENTRY.into(),
        path: String::new(),
        message: format!("not UTF-8: {e}"),
    })?;
    let raw: Raw = serde_json::from_str(text).map_err(|e| SpecError {
        file: ENTRY.into(),
        path: String::new(),
        message: e.to_string(),
    })?;
    let api = crate::parse_api(raw.api.get()).map_err(|e| SpecError {
        file: ENTRY.into(),
        path: if e.path.is_empty() {
            "api".into()
        } else {
            format!("api.{}", e.path)
        },
        message: e.message,
    })?;
    if let Some((i, code)) = raw
        .codes
        .iter()
        .enumerate()
        .find(|(_, c)| !crate::words::is_error_code(c))
    {
        return Err(SpecError {
            file: ENTRY.into(),
            path: format!("codes[{i}]"),
            message: format!("`{code}` is not an error code like `InvalidInstanceId.NotFound`"),
        });
    }
    Ok(Entry {
        api,
        codes: raw.codes.into_iter().collect(),
    })
}

/// What a problem in an entry names as its file.
const ENTRY: &str = "bundle entry";

/// The entry's JSON: compact, members sorted, so that its bytes depend on
/// the facts only.
pub fn entry_json(api: &ApiFile, codes: &BTreeSet<String>) -> Result<Vec<u8>, String> {
    let api = serde_json::to_value(api).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({ "api": api, "codes": codes })
        .to_string()
        .into_bytes())
}

/// The `errors.json` of an official service (any but CVM, whose lists are
/// curated): `codes` holds the service's own codes with empty descriptions
/// (the only official ones are Tencent's prose); `common` and `actions` are
/// empty, since the codes every service shares are [`CommonErrorCode`]'s and
/// no per-action lists exist outside CVM's.
pub fn errors_file(codes: &BTreeSet<String>) -> ErrorsFile {
    let common = common_codes();
    let mut errors = ErrorsFile::default();
    for code in codes.iter().filter(|c| !common.contains_key(c.as_str())) {
        errors.codes.0.insert(code.clone(), String::new());
    }
    errors
}

/// The codes every service shares, with their English descriptions.
pub fn common_codes() -> BTreeMap<&'static str, &'static str> {
    CommonErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.description()))
        .collect()
}

/// The model of an official service version: its facts and its own codes,
/// no rules, no waiters. Built from the parsed entry, not from JSON text
/// made again from it.
pub fn model(entry: &Entry) -> Result<crate::Model, crate::SpecErrors> {
    crate::build::build(
        &entry.api,
        &errors_file(&entry.codes),
        &crate::spec::RulesFile::default(),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_shared_codes_stay_out_of_errors() {
        let api = crate::parse_api(
            r#"{"actions": {}, "metadata": {"apiVersion": "2020-01-01", "serviceShortName": "demo"}, "objects": {}, "version": "1.0"}"#,
        )
        .unwrap();
        let codes: BTreeSet<String> = ["InternalError", "ResourceNotFound.Thing"]
            .map(String::from)
            .into();
        let json = entry_json(&api, &codes).unwrap();
        let entry = parse_entry(&json).unwrap();
        assert_eq!(entry, Entry { api, codes });
        let errors = errors_file(&entry.codes);
        assert_eq!(
            errors.codes.0.keys().collect::<Vec<_>>(),
            ["ResourceNotFound.Thing"]
        );
    }

    #[test]
    fn a_broken_entry_names_the_path() {
        let err = parse_entry(br#"{"api": {"actions": 3}}"#).unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.path.as_str()),
            ("bundle entry", "api.actions")
        );
        assert!(parse_entry(b"\xff").is_err());
        assert!(parse_entry(br#"{"codes": []}"#).is_err());
        let api = r#"{"actions": {}, "metadata": {"apiVersion": "2020-01-01", "serviceShortName": "demo"}, "objects": {}, "version": "1.0"}"#;
        let err = parse_entry(format!(r#"{{"api": {api}, "codes": ["A.B", "InternalError."]}}"#).as_bytes())
            .unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.path.as_str()),
            ("bundle entry", "codes[1]")
        );
    }
}
