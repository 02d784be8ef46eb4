//! Wire names → Rust names.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

pub use tencentcloud_model::words::{is_identifier, title_from_action};

/// Words that cannot be plain identifiers. Most become raw identifiers
/// (`r#type`); the few that cannot be raw get a trailing underscore.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// `InstanceIds` → `instance_ids`, `Type` → `r#type`.
pub fn field_name(wire: &str) -> String {
    escape(wire.to_snake_case())
}

/// `StartInstances` → `start_instances`.
pub fn method_name(action: &str) -> String {
    escape(tencentcloud_model::words::snake_words(action))
}

/// `DataDisk` → `DataDisk`; normalises odd casing.
pub fn type_name(wire: &str) -> String {
    escape(wire.to_upper_camel_case())
}

/// `InvalidInstanceId.Malformed` → `InvalidInstanceIdMalformed`.
pub fn variant_name(code: &str) -> String {
    escape(code.split('.').map(|s| s.to_upper_camel_case()).collect())
}

/// The fallback when two codes collapse to one variant name:
/// `InvalidParameter.ValueTooLarge` → `InvalidParameter_ValueTooLarge`.
pub fn variant_name_separated(code: &str) -> String {
    escape(
        code.split('.')
            .map(|s| s.to_upper_camel_case())
            .collect::<Vec<_>>()
            .join("_"),
    )
}

/// `base`, or if `taken` has it, `base` + `Value`, then `Value2`, `Value3`…
/// (a number straight after a name ending in a digit would read as part of
/// it: `Ipv62`). The result is added to `taken`.
pub fn unique_type_name(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        name = if n == 1 {
            format!("{}Value", base.trim_end_matches('_'))
        } else {
            format!("{}Value{n}", base.trim_end_matches('_'))
        };
        n += 1;
    }
    name
}

/// `base`, or if `taken` has it, `base_2`, `base_3`… (a raw `r#type` becomes
/// `type_2`, which needs no escaping). The result is added to `taken`.
pub fn unique_snake_name(base: String, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{}_{n}", base.trim_start_matches("r#").trim_end_matches('_'));
        n += 1;
    }
    name
}

fn escape(name: String) -> String {
    if NOT_RAW.contains(&name.as_str()) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_names() {
        assert_eq!(field_name("InstanceIds"), "instance_ids");
        assert_eq!(field_name("Type"), "r#type");
        assert_eq!(field_name("Self"), "self_");
        assert_eq!(field_name("VPCId"), "vpc_id");
        assert_eq!(method_name("StartInstances"), "start_instances");
        assert_eq!(
            variant_name("InvalidInstanceId.Malformed"),
            "InvalidInstanceIdMalformed"
        );
        assert_eq!(
            variant_name_separated("InvalidParameter.ValueTooLarge"),
            "InvalidParameter_ValueTooLarge"
        );
    }

    #[test]
    fn unique_names_take_a_suffix_when_taken() {
        let mut taken = BTreeSet::from(["Option".to_string()]);
        assert_eq!(unique_type_name("Option", &mut taken), "OptionValue");
        assert_eq!(unique_type_name("Option", &mut taken), "OptionValue2");
        assert_eq!(unique_type_name("Self_", &mut taken), "Self_");
        assert_eq!(unique_type_name("Self_", &mut taken), "SelfValue");
        let mut taken = BTreeSet::new();
        assert_eq!(unique_snake_name("r#type".into(), &mut taken), "r#type");
        assert_eq!(unique_snake_name("r#type".into(), &mut taken), "type_2");
        assert_eq!(unique_snake_name("self_".into(), &mut taken), "self_");
        assert_eq!(unique_snake_name("self_".into(), &mut taken), "self_2");
        assert_eq!(unique_snake_name("self_".into(), &mut taken), "self_3");
    }
}
