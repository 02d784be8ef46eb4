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
/// Types the generated code emits or names unqualified beside the objects.
const GENERATED_TYPE_NAMES: &[&str] = &[
    "CommonErrorCode",
    "Client",
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
    ///   `<Action>Error` in action order, then each object in wire-name
    ///   order; a name already taken gets `Value`, then `Value2`, `Value3`…
    ///   (`Option` → `OptionValue`; of `DBInstance` and `DbInstance`, the
    ///   second in byte order becomes `DbInstanceValue`);
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
        let types = model
            .objects
            .iter()
            .map(|object| {
                let base = names::type_name(&object.name);
                (object.name.clone(), names::unique_type_name(&base, &mut taken))
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

    /// `wait_until_instances_running`.
    pub fn waiter_method(&self, waiter: &Waiter) -> String {
        waiter_method(&waiter.name)
    }

    /// `INSTANCES_RUNNING`: the name of the waiter's spec.
    pub fn waiter_static(&self, waiter: &Waiter) -> String {
        names::method_name(&waiter.name).to_ascii_uppercase()
    }
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

/// A waiter's method must not take an action's or a paginator's.
fn check_waiter_methods(
    model: &tencentcloud_model::Model,
    methods: &HashMap<String, String>,
    problems: &mut Vec<SpecError>,
) {
    let mut taken: BTreeSet<String> = methods.values().cloned().collect();
    taken.extend(methods.values().map(|m| format!("{m}_paginator")));
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
