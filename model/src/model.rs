//! The validated model: every reference resolved, every fact of the wire
//! decided (optionality, recursion, paging, read-only status). It holds no
//! names of any programming language: codegen annotates it with Rust names.
//! [`build`] makes it from the files, checking them ([`crate::build`]).

use crate::spec::{AcceptorState, Comparator, MemberKind, Rule};

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
    /// Closed sets of string values (`rules.json`'s `enums`), sorted by name.
    pub enums: Vec<ValueSet>,
}

/// A closed set of string values that some members take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueSet {
    pub name: String,
    /// In the spec's order.
    pub values: Vec<String>,
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
    /// The requests per second Tencent documents for the action, per account
    /// (`rules.json`'s `rate_limits`); `None` where no limit is documented.
    pub rate_limit: Option<u32>,
}

/// The largest documented rate limit a spec may state, in requests per
/// second: Tencent's documented limits are in the tens to hundreds, so a
/// larger number is far likelier a typing mistake than a fact.
pub const MAX_RATE_LIMIT: u32 = 10_000;

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
    /// The closed set of values it takes ([`Model::enums`]), by name.
    pub value_set: Option<String>,
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

impl Leaf {
    /// Whether values are text on the wire (and in generated code), where
    /// empty is the same as absent: how "required" is checked depends on it.
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            Leaf::Scalar(
                Scalar::String | Scalar::DateTime | Scalar::DateTimeIso | Scalar::Date | Scalar::Binary
            )
        )
    }
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
    pub(crate) fn from_member(kind: MemberKind, member: &str) -> Option<Scalar> {
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

// ---------------------------------------------------------------- paging

/// How an action pages, as [`crate::paging`] derives it from its shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingStyle {
    Offset,
    Token,
}

/// How one action pages; members by wire name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub style: PagingStyle,
    /// `Limit` or `MaxResults`; `None` for a token style without one.
    pub page_size: Option<String>,
    /// `Offset` (offset style).
    pub offset: Option<String>,
    /// `TotalCount` (offset style).
    pub total_count: Option<String>,
    /// `NextToken`, in the input and the output (token style).
    pub token: Option<String>,
    /// The output's list.
    pub items: String,
    /// The largest page the spec allows.
    pub max_page_size: Option<i64>,
}

// ---------------------------------------------------------------- waiters

/// A waiter, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter {
    /// `InstancesRunning`.
    pub name: String,
    pub documentation: String,
    /// The polled action's wire name.
    pub action: String,
    /// Wire names: the input member taking the ids, the output list, the item's id.
    pub ids_input: String,
    pub items: String,
    pub key: String,
    pub absent: Option<String>,
    pub min_delay: u64,
    pub max_delay: u64,
    pub deadline: u64,
    pub acceptors: Vec<Acceptor>,
    /// Member chains (wire names) read from each awaited item, in `PathRef::Item` order.
    pub item_paths: Vec<Vec<String>>,
    /// Member chains read from the answer, in `PathRef::Root` order.
    pub root_paths: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptor {
    pub state: AcceptorState,
    pub comparator: Comparator,
    pub path: String,
    pub value: PathRef,
    pub expected: String,
}

/// Where an acceptor's value is read: an index into the waiter's
/// `item_paths` (each awaited item's values) or `root_paths` (the answer's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRef {
    Item(usize),
    Root(usize),
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
