//! The validated model: every reference resolved, every fact of the wire
//! decided (optionality, recursion, paging, read-only status), every problem
//! reported with the JSON path where it was found. It holds no names of any
//! programming language: codegen annotates it with Rust names.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::error::{SpecError, SpecErrors};
use crate::paging::{paging, Paging};
use crate::spec::{ApiFile, ErrorsFile, MemberDef, MemberKind, Rule, RulesFile, WaitersFile};
use crate::waiters::Waiter;
use crate::words::{is_error_code, is_identifier, suggest};

pub const API_FILE: &str = "api.json";
pub const ERRORS_FILE: &str = "errors.json";
pub const RULES_FILE: &str = "rules.json";

/// The member that every action's output carries and the runtime relies on.
pub const REQUEST_ID: &str = "RequestId";

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// `cvm`: the service name used in the credential scope and host.
    pub service: String,
    /// `2017-03-12`: sent as `X-TC-Version`.
    pub api_version: String,
    /// Sorted by name.
    pub actions: Vec<Action>,
    /// Sorted by name.
    pub objects: Vec<Object>,
    /// Codes any action may return, sorted.
    pub common_errors: Vec<ErrorCode>,
    /// From `waiters.json`, sorted by name.
    pub waiters: Vec<Waiter>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: String,
    pub title: String,
    pub document: String,
    /// Wire names of the input and output objects.
    pub input: String,
    pub output: String,
    /// Sorted by code.
    pub errors: Vec<ErrorCode>,
    /// Whether a call must carry `X-TC-Region` (`rules.json` lists the exceptions).
    pub needs_region: bool,
    /// Whether the action only reads, and so is safe to repeat: see [`is_read_only`].
    pub read_only: bool,
    /// How the action pages, if it does (see [`crate::paging`]).
    pub paging: Option<Paging>,
    /// The service takes it unsigned (`skip_sign` in the spec).
    pub skip_sign: bool,
}

/// Name prefixes of the actions that only read. Tencent Cloud names actions
/// verb first, and these verbs change nothing (`DescribeInstances`,
/// `InquiryPriceRunInstances`, `GetMonitorData`, `ListUsers`, `QueryTask`);
/// every other verb (`Run`, `Create`, `Start`, `Modify`, `Sync`, ...) may.
pub const READ_ONLY_PREFIXES: &[&str] = &["Describe", "Inquiry", "Inquire", "Get", "List", "Query"];

/// Whether an action only reads: its name is a read-only verb followed by
/// a capitalised word (`Describe` + `Instances`; not `Getaway`).
pub fn is_read_only(action: &str) -> bool {
    READ_ONLY_PREFIXES.iter().any(|prefix| {
        action
            .strip_prefix(prefix)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase())
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub name: String,
    pub document: String,
    pub members: Vec<Member>,
    /// Reachable from some action's input (and so validated before sending).
    pub in_input: bool,
    /// Reachable from some action's output.
    pub in_output: bool,
    /// The top-level output object of an action.
    pub is_response: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub wire_name: String,
    pub document: String,
    pub example: Option<String>,
    pub ty: TypeRef,
    /// May be absent on some side it is used on (see the optionality rule
    /// in ARCHITECTURE.md): `Option<T>` in Rust.
    pub optional: bool,
    /// The member's object leads back to its owner (they share a cycle of
    /// objects): a value of it must be held by reference (`Box<T>` in Rust).
    pub recursive: bool,
    pub deprecated: bool,
    pub required: bool,
    pub output_required: bool,
    pub nullable: bool,
    pub rule: Option<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub leaf: Leaf,
    pub list: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    Scalar(Scalar),
    /// The wire name of an object.
    Object(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    String,
    /// A string holding `YYYY-MM-DD HH:MM:SS`.
    DateTime,
    /// A string holding an ISO 8601 time.
    DateTimeIso,
    /// A string holding `YYYY-MM-DD`.
    Date,
    /// File content. Sent as a JSON string: the runtime sends JSON only (the
    /// official SDKs upload such actions' files as multipart forms).
    Binary,
    I64,
    U64,
    F64,
    Bool,
}

impl Scalar {
    fn from_member(kind: MemberKind, member: &str) -> Option<Scalar> {
        use MemberKind as K;
        Some(match (kind, member) {
            (K::String | K::List, "string") => Scalar::String,
            (K::String | K::List, "datetime") => Scalar::DateTime,
            (K::String | K::List, "datetime_iso") => Scalar::DateTimeIso,
            (K::String | K::List, "date") => Scalar::Date,
            (K::Binary, "binary") => Scalar::Binary,
            (K::Int | K::List, "int64") => Scalar::I64,
            (K::Int | K::List, "uint64") => Scalar::U64,
            (K::Float | K::List, "float") => Scalar::F64,
            (K::Bool | K::List, "bool") => Scalar::Bool,
            _ => return None,
        })
    }

    /// How the wire type reads in documentation.
    pub fn describe(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::DateTime => "date-time string (`YYYY-MM-DD HH:MM:SS`)",
            Scalar::DateTimeIso => "ISO 8601 date-time string",
            Scalar::Date => "date string (`YYYY-MM-DD`)",
            Scalar::Binary => "binary content, sent as a string",
            Scalar::I64 => "int64",
            Scalar::U64 => "uint64",
            Scalar::F64 => "float",
            Scalar::Bool => "bool",
        }
    }
}

impl Object {
    /// The member with this wire name.
    pub fn member(&self, wire: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.wire_name == wire)
    }
}

impl Model {
    /// The action with this name (`actions` is sorted by name).
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions
            .binary_search_by(|a| a.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.actions[i])
    }

    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects
            .binary_search_by(|o| o.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.objects[i])
    }
}

/// Cross-checks the three files and builds the model. Every problem found is
/// reported, not just the first.
pub fn build(
    api: &ApiFile,
    errors: &ErrorsFile,
    rules: &RulesFile,
    waiters: Option<&WaitersFile>,
) -> Result<Model, SpecErrors> {
    let mut problems = Problems::default();
    check_metadata(api, &mut problems);
    let objects = &api.objects.0;

    // Object and member names, member types, references. Names that clash
    // once converted to a language's names are that language's concern.
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

    // Actions.
    let mut in_roots = Vec::new();
    let mut out_roots = Vec::new();
    for (name, action) in &api.actions.0 {
        let path = format!("actions.{name}");
        if !is_identifier(name) {
            problems.api(&path, format!("action name `{name}` is not an identifier"));
            continue;
        }
        for (field, target, roots) in [
            ("input", &action.input, &mut in_roots),
            ("output", &action.output, &mut out_roots),
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
            match request_id {
                Some(m) if m.kind == MemberKind::String && m.member == "string" => {}
                Some(_) => problems.api(
                    &format!("objects.{}", action.output.as_deref().unwrap_or_default()),
                    format!("`{REQUEST_ID}` must be a string"),
                ),
                None => problems.api(
                    &format!("objects.{}", action.output.as_deref().unwrap_or_default()),
                    format!("output object of `{name}` has no `{REQUEST_ID}` member"),
                ),
            }
        }
    }
    // An object no action reaches has no side to take its optionality from,
    // and no caller: it is left over from a removed action (or misspelt).
    let roots: Vec<String> = in_roots.iter().chain(&out_roots).cloned().collect();
    let reached = reachable(&roots, objects);
    for name in objects.keys().filter(|name| !reached.contains(*name)) {
        problems.api(
            &format!("objects.{name}"),
            format!(
                "no action reaches `{name}`; delete it (and any rules for it), or add the action that uses it"
            ),
        );
    }

    check_errors(api, errors, &mut problems);
    check_rules(api, rules, &mut problems);
    problems.into_result()?;

    // Everything resolves: build the model.
    let in_reach = reachable(&in_roots, objects);
    let out_reach = reachable(&out_roots, objects);
    let mut problems = Problems::default();
    for object in rules.objects.0.keys() {
        if out_reach.contains(object) && !in_reach.contains(object) {
            problems.rules(
                &format!("objects.{object}"),
                format!("`{object}` appears only in responses; rules check requests"),
            );
        }
    }
    problems.into_result()?;
    let component = components(objects);
    let responses: BTreeSet<&String> = out_roots.iter().collect();
    let mut model_objects = Vec::with_capacity(objects.len());
    for (name, object) in objects {
        // Every object is reached from one side at least (checked above).
        let in_input = in_reach.contains(name);
        let in_output = out_reach.contains(name);
        let is_response = responses.contains(name);
        let member_rules = rules.objects.0.get(name);
        let members = object
            .members
            .iter()
            .map(|m| {
                let ty = resolve_type(m, objects).expect("checked above");
                let required = m.required.unwrap_or(false);
                let output_required = m.output_required.unwrap_or(false);
                let nullable = m.value_allowed_null.unwrap_or(false);
                let optional = if is_response && m.name == REQUEST_ID {
                    false
                } else {
                    (in_input && !required) || (in_output && (!output_required || nullable))
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
        model_objects.push(Object {
            name: name.clone(),
            document: object.document.clone(),
            members,
            in_input,
            in_output,
            is_response,
        });
    }

    let common_set: BTreeSet<&str> = errors.common.iter().map(String::as_str).collect();
    let describe = |code: &str| errors.codes.0.get(code).cloned().unwrap_or_default();
    let common_errors = error_codes(common_set.iter().copied(), &describe);
    let actions = api
        .actions
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
            }
        })
        .collect();

    let mut model = Model {
        service: api.metadata.service_short_name.clone(),
        api_version: api.metadata.api_version.clone(),
        actions,
        objects: model_objects,
        common_errors,
        waiters: Vec::new(),
    };
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
    if let Some(file) = waiters {
        model.waiters = crate::waiters::build(file, &model).map_err(SpecErrors)?;
    }
    Ok(model)
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

fn resolve_type(
    member: &MemberDef,
    objects: &BTreeMap<String, crate::spec::ObjectDef>,
) -> Result<TypeRef, String> {
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

fn is_scalar_name(name: &str) -> bool {
    matches!(
        name,
        "string" | "datetime" | "datetime_iso" | "date" | "binary" | "int64" | "uint64" | "float" | "bool"
    )
}

fn object_refs(object: &crate::spec::ObjectDef) -> impl Iterator<Item = &str> + '_ {
    member_refs(&object.members)
}

/// `roots` and every object their members lead to (roots that are not
/// objects are kept, so callers can report them).
pub fn reachable(roots: &[String], objects: &BTreeMap<String, crate::spec::ObjectDef>) -> BTreeSet<String> {
    let found: Result<_, std::convert::Infallible> = reach(roots.iter().cloned(), |name| {
        Ok(objects
            .get(name)
            .map(|o| object_refs(o).map(str::to_owned).collect()))
    });
    found.unwrap_or_else(|never| match never {})
}

/// The one walk of the object graph: `roots` and every name the objects
/// reached refer to. `refs` gives an object's references (`None`: no such
/// object; the name is kept for the caller to report), and may fail, for
/// callers that parse each object as it is first met.
pub fn reach<E>(
    roots: impl IntoIterator<Item = String>,
    mut refs: impl FnMut(&str) -> Result<Option<Vec<String>>, E>,
) -> Result<BTreeSet<String>, E> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.into_iter().collect();
    while let Some(name) = stack.pop() {
        if seen.contains(&name) {
            continue;
        }
        if let Some(next) = refs(&name)? {
            stack.extend(next);
        }
        seen.insert(name);
    }
    Ok(seen)
}

/// The objects a member list refers to (scalar type names left out).
pub fn member_refs(members: &[MemberDef]) -> impl Iterator<Item = &str> + '_ {
    members
        .iter()
        .filter(|m| matches!(m.kind, MemberKind::Object | MemberKind::List) && !is_scalar_name(&m.member))
        .map(|m| m.member.as_str())
}

/// Each object's strongly connected component: a member of object `A` whose
/// object `B` leads back to `A` (`B` is in `A`'s component) needs a `Box`.
/// One pass over the graph (Tarjan's algorithm, iterative so a deep chain of
/// objects cannot overflow the stack); asking "does `B` reach `A`?" member
/// by member was a search of the graph each, which for the largest services
/// (csip: 2,068 objects) was most of the model's build time.
fn components(objects: &BTreeMap<String, crate::spec::ObjectDef>) -> HashMap<&str, usize> {
    let names: Vec<&str> = objects.keys().map(String::as_str).collect();
    let index_of: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<Vec<usize>> = objects
        .values()
        .map(|o| object_refs(o).filter_map(|r| index_of.get(r).copied()).collect())
        .collect();
    const UNSEEN: usize = usize::MAX;
    let n = names.len();
    let (mut index, mut low, mut on_stack) = (vec![UNSEEN; n], vec![0; n], vec![false; n]);
    let mut component = vec![UNSEEN; n];
    let (mut next_index, mut next_component) = (0, 0);
    let mut stack = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, next edge to follow)
        let mut work = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    names.into_iter().zip(component).collect()
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

#[cfg(test)]
mod read_only_tests {
    use super::is_read_only;

    #[test]
    fn read_only_verbs_begin_the_name() {
        for name in [
            "DescribeInstances",
            "InquiryPriceRunInstances",
            "InquirePricePurchaseReservedInstancesOffering",
            "GetMonitorData",
            "ListUsers",
            "QueryTask",
        ] {
            assert!(is_read_only(name), "{name}");
        }
        for name in [
            "RunInstances",
            "StartInstances",
            "ModifyInstancesAttribute",
            "SyncImages",
            "Describe",
            "Getaway",
            "Listen",
        ] {
            assert!(!is_read_only(name), "{name}");
        }
    }
}

#[cfg(test)]
mod component_tests {
    use super::components;
    use crate::spec::ObjectDef;
    use std::collections::BTreeMap;

    fn object(refs: &[&str]) -> ObjectDef {
        let members = refs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::from_value(serde_json::json!({
                    "document": "", "member": r, "name": format!("M{i}"), "type": "object"
                }))
                .unwrap()
            })
            .collect();
        ObjectDef {
            document: String::new(),
            members,
            kind: None,
            usage: None,
        }
    }

    #[test]
    fn objects_on_one_cycle_share_a_component() {
        let objects: BTreeMap<String, ObjectDef> = [
            ("A", object(&["B"])),
            ("B", object(&["A", "C"])),
            ("C", object(&["C", "string"])),
            ("D", object(&["A"])),
            ("E", object(&[])),
        ]
        .into_iter()
        .map(|(n, o)| (n.to_string(), o))
        .collect();
        let c = components(&objects);
        assert_eq!(c["A"], c["B"]);
        assert_ne!(c["A"], c["C"]);
        assert_ne!(c["A"], c["D"]);
        assert_ne!(c["C"], c["D"]);
        assert_ne!(c["E"], c["D"]);
        // A long chain needs no deep native stack.
        let chain: BTreeMap<String, ObjectDef> = (0..20_000)
            .map(|i| {
                (
                    format!("O{i:06}"),
                    object(&[&format!("O{:06}", (i + 1) % 20_000)]),
                )
            })
            .collect();
        let c = components(&chain);
        assert!(c.values().all(|&x| x == c["O000000"]));
    }
}
