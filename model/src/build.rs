//! The model made from the files: every cross-check first (each problem
//! reported with its file and JSON path, all of them, not just the first),
//! then the facts decided: optionality, recursion, paging, waiters.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::error::{SpecError, SpecErrors};
use crate::graph::{components, is_scalar_name, reachable};
use crate::model::{
    is_read_only, Action, ErrorCode, Leaf, Member, Model, Object, Scalar, TypeRef, ValueSet, MAX_RATE_LIMIT,
    REQUEST_ID,
};
use crate::model::{API_FILE, ERRORS_FILE, RULES_FILE};
use crate::paging::{paging, Paging};
use crate::spec::{ApiFile, ErrorsFile, MemberDef, MemberKind, ObjectDef, RulesFile, WaitersFile};
use crate::words::{is_error_code, is_identifier, suggest};

/// Cross-checks the files and builds the model. Every problem found is
/// reported, not just the first.
pub fn build(
    api: &ApiFile,
    errors: &ErrorsFile,
    rules: &RulesFile,
    waiters: Option<&WaitersFile>,
) -> Result<Model, SpecErrors> {
    let roots = check(api, errors, rules)?;
    let objects = &api.objects.0;
    let sides = Sides {
        input: reachable(&roots.input, objects),
        output: reachable(&roots.output, objects),
        responses: roots.output.iter().cloned().collect(),
    };
    check_rules_apply_to_requests(rules, &sides)?;
    let mut model = Model {
        service: api.metadata.service_short_name.clone(),
        api_version: api.metadata.api_version.clone(),
        actions: actions(api, errors, rules),
        objects: model_objects(objects, rules, &sides),
        common_errors: common_errors(errors),
        waiters: Vec::new(),
        enums: rules
            .enums
            .0
            .iter()
            .map(|(name, def)| ValueSet {
                name: name.clone(),
                values: def.values.clone(),
            })
            .collect(),
    };
    add_paging(&mut model);
    if let Some(file) = waiters {
        model.waiters = crate::waiters::build(file, &model).map_err(SpecErrors)?;
    }
    Ok(model)
}

/// The objects the actions take and give, in action order.
struct Roots {
    input: Vec<String>,
    output: Vec<String>,
}

/// Which side of the wire each object is on.
struct Sides {
    /// Reached from some action's input.
    input: BTreeSet<String>,
    /// Reached from some action's output.
    output: BTreeSet<String>,
    /// Some action's top-level output object.
    responses: BTreeSet<String>,
}

/// Every cross-check of the three files: metadata, objects, actions, what
/// no action reaches, errors and rules.
fn check(api: &ApiFile, errors: &ErrorsFile, rules: &RulesFile) -> Result<Roots, SpecErrors> {
    let mut problems = Problems::default();
    check_metadata(api, &mut problems);
    check_objects(api, &mut problems);
    let roots = check_actions(api, &mut problems);
    check_reached(api, &roots, &mut problems);
    check_errors(api, errors, &mut problems);
    check_rules(api, rules, &mut problems);
    problems.into_result()?;
    Ok(roots)
}

/// Object and member names, member types, references. Names that clash
/// once converted to a language's names are that language's concern.
fn check_objects(api: &ApiFile, problems: &mut Problems) {
    let objects = &api.objects.0;
    for (name, object) in objects {
        let path = format!("objects.{name}");
        if !is_identifier(name) {
            problems.api(&path, format!("object name `{name}` is not an identifier"));
            continue;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, member) in object.members.iter().enumerate() {
            let mpath = format!("{path}.members[{i}]");
            if !is_identifier(&member.name) {
                problems.api(
                    &format!("{mpath}.name"),
                    format!("member name `{}` is not an identifier", member.name),
                );
            }
            if let Some(first) = seen.insert(&member.name, i) {
                problems.api(
                    &format!("{mpath}.name"),
                    format!("duplicate member `{}` (first at members[{first}])", member.name),
                );
            }
            if let Err(message) = resolve_type(member, objects) {
                problems.api(&format!("{mpath}.member"), message);
            }
        }
    }
}

/// Each action's name, input and output objects, and its output's
/// `RequestId`; the objects they name.
fn check_actions(api: &ApiFile, problems: &mut Problems) -> Roots {
    let objects = &api.objects.0;
    let mut roots = Roots {
        input: Vec::new(),
        output: Vec::new(),
    };
    for (name, action) in &api.actions.0 {
        let path = format!("actions.{name}");
        if !is_identifier(name) {
            problems.api(&path, format!("action name `{name}` is not an identifier"));
            continue;
        }
        for (field, target, roots) in [
            ("input", &action.input, &mut roots.input),
            ("output", &action.output, &mut roots.output),
        ] {
            match target {
                None => problems.api(&path, format!("action has no {field} object")),
                Some(target) => match objects.get(target) {
                    None => problems.api(
                        &format!("{path}.{field}"),
                        format!(
                            "references unknown object `{target}`{}",
                            suggest(target, objects.keys())
                        ),
                    ),
                    Some(_) => roots.push(target.clone()),
                },
            }
        }
        if let Some(output) = action.output.as_ref().and_then(|o| objects.get(o)) {
            let request_id = output.members.iter().find(|m| m.name == REQUEST_ID);
            let at = format!("objects.{}", action.output.as_deref().unwrap_or_default());
            match request_id {
                Some(m) if m.kind == MemberKind::String && m.member == "string" => {}
                Some(_) => problems.api(&at, format!("`{REQUEST_ID}` must be a string")),
                None => problems.api(
                    &at,
                    format!("output object of `{name}` has no `{REQUEST_ID}` member"),
                ),
            }
        }
    }
    roots
}

/// An object no action reaches has no side to take its optionality from,
/// and no caller: it is left over from a removed action (or misspelt).
fn check_reached(api: &ApiFile, roots: &Roots, problems: &mut Problems) {
    let objects = &api.objects.0;
    let all: Vec<String> = roots.input.iter().chain(&roots.output).cloned().collect();
    let reached = reachable(&all, objects);
    for name in objects.keys().filter(|name| !reached.contains(*name)) {
        problems.api(
            &format!("objects.{name}"),
            format!(
                "no action reaches `{name}`; delete it (and any rules for it), or add the action that uses it"
            ),
        );
    }
}

/// Rules check requests: a rule on an object only answers carry is a mistake.
fn check_rules_apply_to_requests(rules: &RulesFile, sides: &Sides) -> Result<(), SpecErrors> {
    let mut problems = Problems::default();
    for object in rules.objects.0.keys() {
        if sides.output.contains(object) && !sides.input.contains(object) {
            problems.rules(
                &format!("objects.{object}"),
                format!("`{object}` appears only in responses; rules check requests"),
            );
        }
    }
    problems.into_result()
}

/// Every object with its members' facts (every reference resolves and every
/// object is reached from one side at least: both checked before).
fn model_objects(objects: &BTreeMap<String, ObjectDef>, rules: &RulesFile, sides: &Sides) -> Vec<Object> {
    let component = components(objects);
    objects
        .iter()
        .map(|(name, object)| {
            let in_input = sides.input.contains(name);
            let in_output = sides.output.contains(name);
            let is_response = sides.responses.contains(name);
            let member_rules = rules.objects.0.get(name);
            let members = object
                .members
                .iter()
                .map(|m| {
                    let ty = resolve_type(m, objects).expect("checked before");
                    let required = m.required.unwrap_or(false);
                    let output_required = m.output_required.unwrap_or(false);
                    let nullable = m.value_allowed_null.unwrap_or(false);
                    // The optionality rule (ARCHITECTURE.md).
                    let optional = if is_response && m.name == REQUEST_ID {
                        false
                    } else {
                        (in_input && !(required && unset_is_visible(&ty)))
                            || (in_output && (!output_required || nullable))
                    };
                    let recursive = match &ty.leaf {
                        Leaf::Object(target) if !ty.list => {
                            component[target.as_str()] == component[name.as_str()]
                        }
                        _ => false,
                    };
                    Member {
                        wire_name: m.name.clone(),
                        document: m.document.clone(),
                        example: m.example.clone().filter(|e| !e.is_empty()),
                        value_set: rules.enums.0.iter().find_map(|(set, def)| {
                            def.members
                                .iter()
                                .any(|path| path.split_once('.') == Some((name.as_str(), m.name.as_str())))
                                .then(|| set.clone())
                        }),
                        ty,
                        optional,
                        recursive,
                        deprecated: m.disabled.unwrap_or(false),
                        required,
                        output_required,
                        nullable,
                        rule: member_rules.and_then(|r| r.0.get(&m.name)).cloned(),
                    }
                })
                .collect();
            Object {
                name: name.clone(),
                document: object.document.clone(),
                members,
                in_input,
                in_output,
                is_response,
            }
        })
        .collect()
}

/// Every action with its codes, region rule and read-only status (paging
/// is added once the objects are modelled).
fn actions(api: &ApiFile, errors: &ErrorsFile, rules: &RulesFile) -> Vec<Action> {
    let describe = |code: &str| errors.codes.0.get(code).cloned().unwrap_or_default();
    api.actions
        .0
        .iter()
        .map(|(name, action)| {
            let listed: BTreeSet<&str> = errors
                .actions
                .0
                .get(name)
                .map(|codes| codes.iter().map(String::as_str).collect())
                .unwrap_or_default();
            Action {
                name: name.clone(),
                title: action.name.clone(),
                document: action.document.clone(),
                input: action.input.clone().unwrap_or_default(),
                output: action.output.clone().unwrap_or_default(),
                errors: error_codes(listed.into_iter(), &describe),
                needs_region: !rules.actions_without_region.contains(name),
                read_only: is_read_only(name),
                paging: None,
                skip_sign: action.skip_sign.unwrap_or(false),
                // Out-of-range limits were refused by `check_rate_limits`.
                rate_limit: rules
                    .rate_limits
                    .0
                    .get(name)
                    .and_then(|&limit| u32::try_from(limit).ok()),
            }
        })
        .collect()
}

/// The codes any action may return, sorted.
fn common_errors(errors: &ErrorsFile) -> Vec<ErrorCode> {
    let describe = |code: &str| errors.codes.0.get(code).cloned().unwrap_or_default();
    let common: BTreeSet<&str> = errors.common.iter().map(String::as_str).collect();
    error_codes(common.into_iter(), &describe)
}

/// How each action pages, from its input's and output's shapes.
fn add_paging(model: &mut Model) {
    let pagings: Vec<Option<Paging>> = model
        .actions
        .iter()
        .map(|a| match (model.object(&a.input), model.object(&a.output)) {
            (Some(input), Some(output)) => paging(input, output),
            _ => None,
        })
        .collect();
    for (action, paging) in model.actions.iter_mut().zip(pagings) {
        action.paging = paging;
    }
}

fn error_codes<'a>(
    codes: impl Iterator<Item = &'a str>,
    describe: &dyn Fn(&str) -> String,
) -> Vec<ErrorCode> {
    codes
        .map(|code| ErrorCode {
            code: code.to_string(),
            description: describe(code),
        })
        .collect()
}

fn resolve_type(member: &MemberDef, objects: &BTreeMap<String, ObjectDef>) -> Result<TypeRef, String> {
    let list = member.kind == MemberKind::List;
    if let Some(scalar) = Scalar::from_member(member.kind, &member.member) {
        return Ok(TypeRef {
            leaf: Leaf::Scalar(scalar),
            list,
        });
    }
    match member.kind {
        MemberKind::Object | MemberKind::List => {
            if objects.contains_key(&member.member) {
                Ok(TypeRef {
                    leaf: Leaf::Object(member.member.clone()),
                    list,
                })
            } else if is_scalar_name(&member.member) {
                Err(format!("`{}` is not allowed with type `object`", member.member))
            } else {
                Err(format!(
                    "references unknown object `{}`{}",
                    member.member,
                    suggest(&member.member, objects.keys())
                ))
            }
        }
        kind => {
            let allowed = match kind {
                MemberKind::String => "string, datetime, datetime_iso or date",
                MemberKind::Binary => "binary",
                MemberKind::Int => "int64 or uint64",
                MemberKind::Float => "float",
                _ => "bool",
            };
            Err(format!(
                "unknown member type `{}` for type `{}` (expected {allowed})",
                member.member,
                serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ))
        }
    }
}

fn check_metadata(api: &ApiFile, problems: &mut Problems) {
    let version = &api.metadata.api_version;
    let well_formed = version.len() == 10
        && version.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        problems.api(
            "metadata.apiVersion",
            format!("`{version}` is not a date like 2017-03-12"),
        );
    }
    let service = &api.metadata.service_short_name;
    // It names the `<service>_actions!` macro and the host's first label.
    if !service.starts_with(|c: char| c.is_ascii_lowercase())
        || !service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        problems.api(
            "metadata.serviceShortName",
            format!("`{service}` is not a lower-case service name"),
        );
    }
}

fn check_errors(api: &ApiFile, errors: &ErrorsFile, problems: &mut Problems) {
    for code in errors.codes.0.keys() {
        if !is_error_code(code) {
            problems.errors(
                &format!("codes.{code}"),
                format!("`{code}` is not an error code like `InvalidInstanceId.NotFound`"),
            );
        }
    }
    let check_list = |path: &str, codes: &[String], problems: &mut Problems| {
        let mut seen = BTreeSet::new();
        for (i, code) in codes.iter().enumerate() {
            if !errors.codes.0.contains_key(code) {
                problems.errors(
                    &format!("{path}[{i}]"),
                    format!(
                        "unknown error code `{code}` (not in `codes`){}",
                        suggest(code, errors.codes.0.keys())
                    ),
                );
            }
            if !seen.insert(code) {
                problems.errors(&format!("{path}[{i}]"), format!("`{code}` is listed twice"));
            }
        }
    };
    check_list("common", &errors.common, problems);
    for (action, codes) in &errors.actions.0 {
        if !api.actions.0.contains_key(action) {
            problems.errors(
                &format!("actions.{action}"),
                format!(
                    "no action `{action}` in {API_FILE}{}",
                    suggest(action, api.actions.0.keys())
                ),
            );
        }
        check_list(&format!("actions.{action}"), codes, problems);
    }
}

fn check_rules(api: &ApiFile, rules: &RulesFile, problems: &mut Problems) {
    for (i, action) in rules.actions_without_region.iter().enumerate() {
        let path = format!("actions_without_region[{i}]");
        if !api.actions.0.contains_key(action) {
            problems.rules(
                &path,
                format!(
                    "no action `{action}` in {API_FILE}{}",
                    suggest(action, api.actions.0.keys())
                ),
            );
        } else if rules.actions_without_region[..i].contains(action) {
            problems.rules(&path, format!("`{action}` is listed twice"));
        }
    }
    check_enums(api, rules, problems);
    check_rate_limits(api, rules, problems);
    for (object, members) in &rules.objects.0 {
        let Some(def) = api.objects.0.get(object) else {
            problems.rules(
                &format!("objects.{object}"),
                format!(
                    "no object `{object}` in {API_FILE}{}",
                    suggest(object, api.objects.0.keys())
                ),
            );
            continue;
        };
        for (member, rule) in &members.0 {
            let path = format!("objects.{object}.{member}");
            let Some(m) = def.members.iter().find(|m| &m.name == member) else {
                let names = def.members.iter().map(|m| &m.name);
                problems.rules(
                    &path,
                    format!("`{object}` has no member `{member}`{}", suggest(member, names)),
                );
                continue;
            };
            let is_list = m.kind == MemberKind::List;
            let stringy = matches!(m.member.as_str(), "string" | "datetime" | "datetime_iso" | "date")
                && matches!(m.kind, MemberKind::String | MemberKind::List);
            let inty = matches!(m.member.as_str(), "int64" | "uint64");
            if (rule.min_items.is_some() || rule.max_items.is_some()) && !is_list {
                problems.rules(&path, "min_items/max_items apply only to lists".to_string());
            }
            if let (Some(lo), Some(hi)) = (rule.min_items, rule.max_items) {
                if lo > hi {
                    problems.rules(&path, format!("min_items {lo} is greater than max_items {hi}"));
                }
            }
            if (rule.minimum.is_some() || rule.maximum.is_some()) && !inty {
                problems.rules(&path, "minimum/maximum apply only to integers".to_string());
            }
            if let (Some(lo), Some(hi)) = (rule.minimum, rule.maximum) {
                if lo > hi {
                    problems.rules(&path, format!("minimum {lo} is greater than maximum {hi}"));
                }
            }
            if let Some(pattern) = &rule.pattern {
                if !stringy {
                    problems.rules(
                        &path,
                        "pattern applies only to strings and lists of strings".to_string(),
                    );
                }
                if let Err(e) = regex_lite::Regex::new(pattern) {
                    problems.rules(
                        &format!("{path}.pattern"),
                        format!("invalid regular expression: {e}"),
                    );
                }
            }
        }
    }
}

#[derive(Default)]
struct Problems(Vec<SpecError>);

impl Problems {
    fn push(&mut self, file: &str, path: &str, message: String) {
        self.0.push(SpecError {
            file: file.to_string(),
            path: path.to_string(),
            message,
        });
    }
    fn api(&mut self, path: &str, message: String) {
        self.push(API_FILE, path, message);
    }
    fn errors(&mut self, path: &str, message: String) {
        self.push(ERRORS_FILE, path, message);
    }
    fn rules(&mut self, path: &str, message: String) {
        self.push(RULES_FILE, path, message);
    }
    fn into_result(self) -> Result<(), SpecErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(SpecErrors(self.0))
        }
    }
}

/// Whether a member of this type left at its default can be told from one
/// set: an empty list or string is, so a required one needs no `Option` to
/// be refused as missing; a zero, a `false` or an empty object is not.
fn unset_is_visible(ty: &TypeRef) -> bool {
    ty.list || ty.leaf.is_text()
}

/// `rate_limits`: each names an action of the description, and its limit is
/// a whole number of requests per second from 1 to [`MAX_RATE_LIMIT`].
fn check_rate_limits(api: &ApiFile, rules: &RulesFile, problems: &mut Problems) {
    for (action, &limit) in &rules.rate_limits.0 {
        let path = format!("rate_limits.{action}");
        if !api.actions.0.contains_key(action) {
            problems.rules(
                &path,
                format!(
                    "no action `{action}` in {API_FILE}{}",
                    suggest(action, api.actions.0.keys())
                ),
            );
        }
        if limit < 1 {
            problems.rules(
                &path,
                format!("a rate limit is a positive number of requests per second, not {limit}"),
            );
        } else if limit > i64::from(MAX_RATE_LIMIT) {
            problems.rules(
                &path,
                format!(
                    "{limit} requests per second is above the largest plausible limit, \
                     {MAX_RATE_LIMIT}; check the documented figure"
                ),
            );
        }
    }
}

/// `enums`: names are identifiers no object has; values are non-empty,
/// printable and unique; each member exists, holds strings, and is in one
/// set at most.
fn check_enums(api: &ApiFile, rules: &RulesFile, problems: &mut Problems) {
    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, def) in &rules.enums.0 {
        let path = format!("enums.{name}");
        if !is_identifier(name) {
            problems.rules(&path, format!("`{name}` is not an identifier"));
        }
        if api.objects.0.contains_key(name) {
            problems.rules(&path, format!("`{name}` is also an object in {API_FILE}"));
        }
        if def.values.is_empty() {
            problems.rules(
                &format!("{path}.values"),
                "a set needs at least one value".to_string(),
            );
        }
        for (i, value) in def.values.iter().enumerate() {
            let at = format!("{path}.values[{i}]");
            if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
                problems.rules(&at, format!("{value:?} is not a wire value"));
            } else if def.values[..i].contains(value) {
                problems.rules(&at, format!("`{value}` is listed twice"));
            }
        }
        for (i, member_path) in def.members.iter().enumerate() {
            let at = format!("{path}.members[{i}]");
            let Some((object, member)) = member_path.split_once('.') else {
                problems.rules(&at, format!("`{member_path}` is not `Object.Member`"));
                continue;
            };
            let Some(m) = api
                .objects
                .0
                .get(object)
                .and_then(|o| o.members.iter().find(|m| m.name == member))
            else {
                problems.rules(&at, format!("no member `{member_path}` in {API_FILE}"));
                continue;
            };
            if m.member != "string" || !matches!(m.kind, MemberKind::String | MemberKind::List) {
                problems.rules(&at, format!("`{member_path}` does not hold strings"));
            }
            let patterned = rules
                .objects
                .0
                .get(object)
                .and_then(|r| r.0.get(member))
                .is_some_and(|r| r.pattern.is_some());
            if patterned {
                problems.rules(
                    &at,
                    format!("`{member_path}` has a pattern; a set of values replaces it"),
                );
            }
            if let Some(other) = claimed.insert(member_path, name) {
                problems.rules(&at, format!("`{member_path}` is already in `{other}`"));
            }
        }
    }
}
