//! The Rust annotation of a model: every wire name's Rust name, unique in its
//! namespace, decided from the spec alone. The model itself
//! ([`tencentcloud_model::Model`]) knows no Rust; this pass adds it, as
//! google-cloud-rust's generator annotates its neutral API model.

use std::collections::{BTreeSet, HashMap};
use std::ops::Deref;

use tencentcloud_model::model::{Action, ErrorCode, Member, Object};
use tencentcloud_model::waiters::Waiter;
use tencentcloud_model::{SpecError, SpecErrors, ERRORS_FILE, WAITERS_FILE};

use crate::names;

/// Methods the generated `Client` has besides the actions' (and a few the
/// runtime's has, kept free so the two read alike).
const RESERVED_METHODS: &[&str] = &[
    "new",
    "call",
    "send",
    "config",
    "from_env",
    "from_config",
    "runtime",
    "with_options",
    "builder",
];
/// Methods the generated `Call` has besides the setters of request members.
const RESERVED_CALL_METHODS: &[&str] = &[
    "as_request",
    "into_request",
    "options",
    "with_options",
    "with_timeout",
    "with_deadline",
    "with_retry",
    "with_idempotent",
    "send",
    "into_paginator",
];
/// Types the generated code emits or names unqualified beside the objects.
const GENERATED_TYPE_NAMES: &[&str] = &[
    "CommonErrorCode",
    "Client",
    "Call",
    "Request",
    "Error",
    "ServiceError",
    "String",
    "Option",
    "Vec",
    "Box",
    "Result",
    "Serialize",
    "Deserialize",
];

/// A model with the Rust names of its types, methods, fields, variants and
/// waiters. Derefs to the model, so the generator reads wire facts as they are.
#[derive(Debug, Clone)]
pub struct RustModel {
    model: tencentcloud_model::Model,
    /// Object wire name → Rust type.
    types: HashMap<String, String>,
    /// Value set name → its open enum, and each value's variant.
    enums: HashMap<String, (String, Vec<String>)>,
    /// Action → its error enum.
    error_enums: HashMap<String, String>,
    /// Action → its method.
    methods: HashMap<String, String>,
    /// Object → member wire name → field.
    fields: HashMap<String, HashMap<String, String>>,
    /// Action (or "" for the common list) → code → variant.
    variants: HashMap<String, HashMap<String, String>>,
}

impl Deref for RustModel {
    type Target = tencentcloud_model::Model;

    fn deref(&self) -> &Self::Target {
        &self.model
    }
}

/// The scope of the common codes in [`RustModel::variants`].
const COMMON: &str = "";

impl RustModel {
    /// Names everything in `model`. Fails where two names cannot be told
    /// apart in Rust (codes that collapse to one variant, a waiter whose
    /// method is taken).
    ///
    /// The rule, deterministic and independent of anything but the spec:
    /// - types share one namespace (the crate re-exports `types::*` and
    ///   `errors::*` side by side): first the names in
    ///   [`GENERATED_TYPE_NAMES`], then each action's error enum
    ///   `<Action>Error` in action order, then each object whose wire name
    ///   is already its Rust name, then the others, each in wire-name
    ///   order; a name already taken gets `Value`, then `Value2`, `Value3`…
    ///   (`Option` → `OptionValue`; of `DBInstance` and `DbInstance`, the
    ///   first becomes `DbInstanceValue` whichever came first);
    /// - methods: [`RESERVED_METHODS`] first, then each action in order; a
    ///   taken name gets `_2`, `_3`… (`describe_db` then `describe_db_2`),
    ///   as fields do within their object.
    pub fn annotate(model: tencentcloud_model::Model) -> Result<RustModel, SpecErrors> {
        let mut taken: BTreeSet<String> = GENERATED_TYPE_NAMES.iter().map(|s| s.to_string()).collect();
        let error_enums = model
            .actions
            .iter()
            .map(|action| {
                let base = format!("{}Error", names::type_name(&action.name));
                (action.name.clone(), names::unique_type_name(&base, &mut taken))
            })
            .collect();
        // Objects whose wire name is already their Rust name are named first,
        // so that a newcomer differing only in case (`INSTANCE` beside
        // `Instance`) takes the suffix and existing names never move.
        let (exact, renamed): (Vec<&Object>, Vec<&Object>) = model
            .objects
            .iter()
            .partition(|object| names::type_name(&object.name) == object.name);
        let types = exact
            .into_iter()
            .chain(renamed)
            .map(|object| {
                let base = names::type_name(&object.name);
                (object.name.clone(), names::unique_type_name(&base, &mut taken))
            })
            .collect();
        let enums = model
            .enums
            .iter()
            .map(|set| {
                let name = names::unique_type_name(&names::type_name(&set.name), &mut taken);
                (set.name.clone(), (name, value_variants(&set.values)))
            })
            .collect();
        let mut taken: BTreeSet<String> = RESERVED_METHODS.iter().map(|s| s.to_string()).collect();
        let methods: HashMap<String, String> = model
            .actions
            .iter()
            .map(|action| {
                let method = names::unique_snake_name(names::method_name(&action.name), &mut taken);
                (action.name.clone(), method)
            })
            .collect();
        let fields = model
            .objects
            .iter()
            .map(|object| {
                let mut taken = BTreeSet::new();
                let fields = object
                    .members
                    .iter()
                    .map(|m| {
                        let field = names::unique_snake_name(names::field_name(&m.wire_name), &mut taken);
                        (m.wire_name.clone(), field)
                    })
                    .collect();
                (object.name.clone(), fields)
            })
            .collect();

        let mut problems = Vec::new();
        let mut variants = HashMap::new();
        variants.insert(
            COMMON.to_owned(),
            variants_of("common", &model.common_errors, &mut problems),
        );
        for action in &model.actions {
            let path = format!("actions.{}", action.name);
            variants.insert(
                action.name.clone(),
                variants_of(&path, &action.errors, &mut problems),
            );
        }
        check_waiter_methods(&model, &methods, &mut problems);
        if !problems.is_empty() {
            return Err(SpecErrors(problems));
        }
        Ok(RustModel {
            model,
            types,
            enums,
            error_enums,
            methods,
            fields,
            variants,
        })
    }

    /// The Rust type of the object with this wire name (every reference in
    /// a model resolves to an object).
    pub fn type_name(&self, object: &str) -> &str {
        &self.types[object]
    }

    /// The open enum of the value set with this name.
    pub fn enum_type(&self, set: &str) -> &str {
        &self.enums[set].0
    }

    /// The variant of each value of the set with this name, in the set's order.
    pub fn enum_variants(&self, set: &str) -> &[String] {
        &self.enums[set].1
    }

    /// The field of `member` in `object`.
    pub fn field(&self, object: &Object, member: &Member) -> &str {
        self.field_of(&object.name, &member.wire_name)
    }

    /// The field of the member with this wire name in the object with this one.
    pub fn field_of(&self, object: &str, wire: &str) -> &str {
        &self.fields[object][wire]
    }

    /// The client's method for `action`, `start_instances`.
    pub fn method(&self, action: &Action) -> &str {
        &self.methods[&action.name]
    }

    /// The request type of `action`.
    pub fn input_type(&self, action: &Action) -> &str {
        self.type_name(&action.input)
    }

    /// The response type of `action`.
    pub fn output_type(&self, action: &Action) -> &str {
        self.type_name(&action.output)
    }

    /// The error enum of `action`, `StartInstancesError`.
    pub fn error_enum(&self, action: &Action) -> &str {
        &self.error_enums[&action.name]
    }

    /// The variant of `code` in `action`'s error enum.
    pub fn variant(&self, action: &Action, code: &ErrorCode) -> &str {
        &self.variants[&action.name][&code.code]
    }

    /// The variant of a common `code` (as [`ErrorCode`]s of the common list).
    pub fn common_variant(&self, code: &ErrorCode) -> &str {
        &self.variants[COMMON][&code.code]
    }

    /// The setters of `action`'s members on its `Call`, in member order:
    /// the member, its setter (for a list, the one that adds an item) and,
    /// for a list, the one that sets all items (`set_<field>`).
    ///
    /// Named after the fields; a name the `Call` already has
    /// ([`RESERVED_CALL_METHODS`]), an earlier setter took, or starting with
    /// `with_` or `set_` gets `_member`, then `_member2`, `_member3`…
    pub fn call_setters<'m>(&'m self, action: &Action) -> Vec<CallSetter<'m>> {
        let input = self
            .object(&action.input)
            .expect("every action has its input object");
        let mut taken: BTreeSet<String> = RESERVED_CALL_METHODS.iter().map(|s| s.to_string()).collect();
        // `with_` is the options' prefix and `set_` the set-all one: a member
        // whose setter would start with either (clb's `WithRs`) gets `_member`,
        // so that no member setter reads as an option or a list's.
        let looks_reserved = |name: &str| name.starts_with("with_") || name.starts_with("set_");
        let mut take = |base: String, own_prefix: bool| {
            let mut name = base.clone();
            let mut n = 1;
            while taken.contains(name.trim_start_matches("r#"))
                || (!own_prefix && n == 1 && looks_reserved(&name))
            {
                name = if n == 1 {
                    format!("{}_member", base.trim_start_matches("r#"))
                } else {
                    format!("{}_member{n}", base.trim_start_matches("r#"))
                };
                n += 1;
            }
            taken.insert(name.trim_start_matches("r#").to_owned());
            name
        };
        input
            .members
            .iter()
            .map(|member| {
                let field = self.field(input, member);
                let one = take(field.to_owned(), false);
                let all = member
                    .ty
                    .list
                    .then(|| take(format!("set_{}", field.trim_start_matches("r#")), true));
                CallSetter {
                    member,
                    field,
                    one,
                    all,
                }
            })
            .collect()
    }

    /// `wait_until_instances_running`.
    pub fn waiter_method(&self, waiter: &Waiter) -> String {
        waiter_method(&waiter.name)
    }

    /// `INSTANCES_RUNNING`: the name of the waiter's spec.
    pub fn waiter_static(&self, waiter: &Waiter) -> String {
        names::method_name(&waiter.name).to_ascii_uppercase()
    }
}

/// Each value's variant: `LAUNCH_FAILED` → `LaunchFailed`; `Unknown` is the
/// catch-all's, so a value of that name gets `UnknownValue`; a name already
/// taken gets `2`, `3`…
fn value_variants(values: &[String]) -> Vec<String> {
    let mut taken: BTreeSet<String> = ["Unknown".to_owned()].into();
    values
        .iter()
        .map(|value| {
            let base = names::type_name(&value.to_lowercase().replace(['.', '-', ' ', '/'], "_"));
            let base = if base.starts_with(|c: char| c.is_ascii_alphabetic()) {
                base
            } else {
                format!("V{base}")
            };
            names::unique_type_name(&base, &mut taken)
        })
        .collect()
}

/// A member's setters on its action's `Call` ([`RustModel::call_setters`]).
#[derive(Debug, Clone)]
pub struct CallSetter<'m> {
    pub member: &'m Member,
    /// The member's field in the request type.
    pub field: &'m str,
    /// Sets the member; for a list, adds one item.
    pub one: String,
    /// For a list: replaces all its items.
    pub all: Option<String>,
}

fn waiter_method(name: &str) -> String {
    format!("wait_until_{}", names::method_name(name))
}

/// The variant of each code, unique within its enum: the codes' camel-case
/// names, with `_` kept between segments for codes that would otherwise share
/// one (`InvalidParameter.ValueTooLarge`, `InvalidParameterValue.TooLarge`).
/// Codes that still share one (they differ only in case, say) are a problem
/// at `path` in `errors.json`.
fn variants_of(path: &str, codes: &[ErrorCode], problems: &mut Vec<SpecError>) -> HashMap<String, String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for code in codes {
        *counts.entry(names::variant_name(&code.code)).or_default() += 1;
    }
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut out = HashMap::new();
    for code in codes {
        let plain = names::variant_name(&code.code);
        let variant = if matches!(plain.as_str(), "Common" | "Unknown") {
            // The catch-all variants keep their names.
            format!("{plain}Code")
        } else if counts[&plain] > 1 {
            names::variant_name_separated(&code.code)
        } else {
            plain
        };
        if let Some(first) = seen.get(&variant) {
            problems.push(SpecError {
                file: ERRORS_FILE.to_owned(),
                path: path.to_owned(),
                message: format!(
                    "`{first}` and `{}` both become the variant `{variant}`",
                    code.code
                ),
            });
        } else {
            seen.insert(variant.clone(), &code.code);
        }
        out.insert(code.code.clone(), variant);
    }
    out
}

/// A waiter's method must not take an action's.
fn check_waiter_methods(
    model: &tencentcloud_model::Model,
    methods: &HashMap<String, String>,
    problems: &mut Vec<SpecError>,
) {
    let mut taken: BTreeSet<String> = methods.values().cloned().collect();
    for waiter in &model.waiters {
        let method = waiter_method(&waiter.name);
        if !taken.insert(method.clone()) {
            problems.push(SpecError {
                file: WAITERS_FILE.to_owned(),
                path: format!("waiters.{}", waiter.name),
                message: format!("waiter `{}` would become `{method}`, which is taken", waiter.name),
            });
        }
    }
}
