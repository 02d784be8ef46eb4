//! The one validation engine: what a request may break, how it is reported,
//! and which code the gateway answers for it.
//!
//! Two drivers walk a request and record into the same [`Validator`]: the
//! generated `Validate` impls (typed requests, in the SDK) and
//! [`crate::check`] (a JSON tree against the model, in the emulator's gateway
//! and in `tcloud`). The rules' data comes from one place (`rules.json`,
//! through the model), and their words from one place: [`Problem`]'s
//! `Display`. So the three agree on the code, the path and the words.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

/// Implemented by every object that can appear in a request.
pub trait Validate {
    /// Records every problem with `self` in `v`.
    fn validate(&self, v: &mut Validator);

    /// Runs every check; `Err` lists all problems found.
    fn check(&self) -> Result<(), ValidationError> {
        let mut v = Validator::default();
        self.validate(&mut v);
        v.finish()
    }
}

/// A regular expression from `rules.json`, compiled on first use.
pub struct Pattern {
    source: Cow<'static, str>,
    compiled: OnceLock<Option<regex_lite::Regex>>,
}

impl Pattern {
    /// A pattern held in a `static` (generated code).
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source: Cow::Borrowed(source),
            compiled: OnceLock::new(),
        }
    }

    /// A pattern read at run time (a model's rule).
    pub fn owned(source: String) -> Self {
        Pattern {
            source: Cow::Owned(source),
            compiled: OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// `None` when the source does not compile (the model checks it does).
    fn regex(&self) -> Option<&regex_lite::Regex> {
        self.compiled
            .get_or_init(|| regex_lite::Regex::new(&self.source).ok())
            .as_ref()
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// One step of a path into a request: a member (by wire name) or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Member(Cow<'static, str>),
    Index(usize),
}

/// Where in a request a problem is: wire member names and list indices.
/// Written as the gateway writes parameters, joined by dots
/// (`Filters.0.Name`); empty for the request as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A path from its dotted form (`Filters.0.Name`): digits are indices.
    pub fn parse(dotted: &str) -> FieldPath {
        if dotted.is_empty() {
            return FieldPath::default();
        }
        FieldPath(
            dotted
                .split('.')
                .map(|s| match s.parse::<usize>() {
                    Ok(i) => Segment::Index(i),
                    Err(_) => Segment::Member(Cow::Owned(s.to_owned())),
                })
                .collect(),
        )
    }
}

/// Text from a request, as it may appear in a message: control characters
/// and the invisible characters that reorder or hide text escaped (a value
/// cannot rewrite a terminal, forge a log line or disguise itself) and cut
/// to [`MAX_ECHO`] characters (a 10 MiB value is not echoed whole).
struct Inert<'a>(&'a str, usize);

impl<'a> Inert<'a> {
    fn echo(text: &'a str) -> Self {
        Inert(text, MAX_ECHO)
    }

    /// Our own words around a value (the lenient reader's): a longer cut.
    fn reason(text: &'a str) -> Self {
        Inert(text, MAX_REASON)
    }
}

/// The most characters of one value a message echoes.
pub const MAX_ECHO: usize = 64;
/// The most characters of a reason (which may quote a value) a message shows.
const MAX_REASON: usize = 256;

/// Characters that change how the text around them reads without showing
/// themselves: bidi embeddings, overrides and isolates, zero-width marks.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

impl fmt::Display for Inert<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i == self.1 {
                return f.write_str("...");
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else if is_invisible_format(c) {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// `text` escaped and cut as a message echoes a value (see [`MAX_ECHO`]),
/// for tools that echo client input in their own messages.
pub fn inert(text: &str, max_chars: usize) -> String {
    Inert(text, max_chars).to_string()
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match segment {
                Segment::Member(name) => write!(f, "{}", Inert::echo(name))?,
                Segment::Index(index) => write!(f, "{index}")?,
            }
        }
        Ok(())
    }
}

/// What is wrong at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A value the member's type cannot hold: what the lenient reader said.
    Invalid(String),
    /// A member the object does not define.
    Unknown,
    /// A required member is absent.
    Missing,
    /// A required member is present but empty (an empty string or list is
    /// the same as no parameter on the wire).
    Empty,
    /// A list shorter than its rule allows.
    TooFewItems { len: usize, min: usize },
    /// A list longer than its rule allows.
    TooManyItems { len: usize, max: usize },
    /// A string that does not match its rule's pattern.
    NoMatch { value: String, pattern: String },
    /// A rule's pattern that does not compile (the model refuses these, so
    /// only a hand-built rule meets it).
    BadPattern { pattern: String },
    /// An integer below its rule's minimum.
    BelowMinimum { value: i128, min: i64 },
    /// An integer above its rule's maximum.
    AboveMaximum { value: i128, max: i64 },
    /// A request that cannot be sent as it is, for a reason outside its
    /// members: no region for an action that needs one, no ids to wait for,
    /// a value serde cannot write.
    Unsendable(String),
}

impl Problem {
    /// The code Tencent's gateway answers for this problem.
    pub fn gateway_code(&self) -> &'static str {
        match self {
            Problem::Invalid(_) | Problem::Unsendable(_) => "InvalidParameter",
            Problem::Unknown => "UnknownParameter",
            Problem::Missing | Problem::Empty => "MissingParameter",
            _ => "InvalidParameterValue",
        }
    }

    /// Which problem the gateway reports when a request has several: a value
    /// of the wrong type first, then an unknown member, then a missing one,
    /// then any other rule (lower first).
    fn precedence(&self) -> u8 {
        match self {
            Problem::Invalid(_) | Problem::Unsendable(_) => 0,
            Problem::Unknown => 1,
            Problem::Missing | Problem::Empty => 2,
            _ => 3,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Invalid(why) => write!(f, "is invalid: {}", Inert::reason(why)),
            Problem::Unknown => f.write_str("is not a parameter of this action"),
            Problem::Missing => f.write_str("is required"),
            Problem::Empty => f.write_str("is required but empty"),
            Problem::TooFewItems { len, min } => write!(f, "has {len} items; at least {min} required"),
            Problem::TooManyItems { len, max } => write!(f, "has {len} items; at most {max} allowed"),
            Problem::NoMatch { value, pattern } => {
                write!(
                    f,
                    "`{}` does not match `{}`",
                    Inert::echo(value),
                    Inert::echo(pattern)
                )
            }
            Problem::BadPattern { pattern } => {
                write!(f, "cannot be checked: invalid pattern `{}`", Inert::echo(pattern))
            }
            Problem::BelowMinimum { value, min } => write!(f, "is {value}; must be at least {min}"),
            Problem::AboveMaximum { value, max } => write!(f, "is {value}; must be at most {max}"),
            Problem::Unsendable(why) => write!(f, "{}", Inert::reason(why)),
        }
    }
}

/// One problem with a request, at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: FieldPath,
    pub problem: Problem,
}

impl Violation {
    /// The code Tencent's gateway answers for this violation.
    pub fn gateway_code(&self) -> &'static str {
        self.problem.gateway_code()
    }

    /// The message a gateway answers with: the same words as `Display`.
    pub fn gateway_message(&self) -> String {
        if self.path.is_empty() {
            format!("The request {}.", self.problem)
        } else {
            format!("The parameter `{}` {}.", self.path, self.problem)
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "the request {}", self.problem)
        } else {
            write!(f, "{} {}", self.path, self.problem)
        }
    }
}

/// The violation a gateway reports of several (it reports one): the first
/// of the highest precedence (see [`Problem::gateway_code`]).
pub fn gateway_choice(violations: &[Violation]) -> Option<&Violation> {
    violations.iter().min_by_key(|v| v.problem.precedence())
}

/// Collects violations while walking a request.
#[derive(Debug, Default)]
pub struct Validator {
    path: Vec<Segment>,
    violations: Vec<Violation>,
}

impl Validator {
    /// Checks inside member `name` of the current object.
    pub fn field(&mut self, name: &'static str, check: impl FnOnce(&mut Self)) {
        self.member(Cow::Borrowed(name), check);
    }

    /// [`Validator::field`] for a name known only at run time.
    pub fn member(&mut self, name: Cow<'static, str>, check: impl FnOnce(&mut Self)) {
        self.path.push(Segment::Member(name));
        check(self);
        self.path.pop();
    }

    /// Checks inside item `index` of the current list.
    pub fn index(&mut self, index: usize, check: impl FnOnce(&mut Self)) {
        self.path.push(Segment::Index(index));
        check(self);
        self.path.pop();
    }

    /// Checks each item of a list, with its index in the reported path.
    pub fn each<T>(&mut self, items: &[T], mut check: impl FnMut(&mut Self, &T)) {
        for (i, item) in items.iter().enumerate() {
            self.index(i, |v| check(v, item));
        }
    }

    /// Checks a nested object.
    pub fn nested<T: Validate + ?Sized>(&mut self, value: &T) {
        value.validate(self);
    }

    /// Steps into `segment` until the matching [`Validator::leave`]: for
    /// walkers that cannot nest closures.
    pub fn enter(&mut self, segment: Segment) {
        self.path.push(segment);
    }

    /// Steps out of the last [`Validator::enter`].
    pub fn leave(&mut self) {
        self.path.pop();
    }

    /// A required member is absent.
    pub fn missing(&mut self) {
        self.fail(Problem::Missing);
    }

    /// A member the object does not define.
    pub fn unknown(&mut self) {
        self.fail(Problem::Unknown);
    }

    /// A value its member's type cannot hold.
    pub fn invalid(&mut self, why: impl Into<String>) {
        self.fail(Problem::Invalid(why.into()));
    }

    /// A required string must not be empty.
    pub fn required_str(&mut self, value: &str) {
        if value.is_empty() {
            self.fail(Problem::Empty);
        }
    }

    /// A required list must have at least one item: an empty list is the
    /// same as no parameter on the wire.
    pub fn required_list<T>(&mut self, value: &[T]) {
        self.required_len(value.len());
    }

    /// [`Validator::required_list`] by length.
    pub fn required_len(&mut self, len: usize) {
        if len == 0 {
            self.fail(Problem::Empty);
        }
    }

    /// A list's length must lie in `min..=max`.
    pub fn count(&mut self, len: usize, min: Option<usize>, max: Option<usize>) {
        if let Some(min) = min.filter(|&min| len < min) {
            self.fail(Problem::TooFewItems { len, min });
        }
        if let Some(max) = max.filter(|&max| len > max) {
            self.fail(Problem::TooManyItems { len, max });
        }
    }

    /// An integer must lie in `min..=max`.
    pub fn range(&mut self, value: impl Into<i128>, min: Option<i64>, max: Option<i64>) {
        let value = value.into();
        if let Some(min) = min.filter(|&min| value < i128::from(min)) {
            self.fail(Problem::BelowMinimum { value, min });
        }
        if let Some(max) = max.filter(|&max| value > i128::from(max)) {
            self.fail(Problem::AboveMaximum { value, max });
        }
    }

    /// A string must match the pattern.
    pub fn pattern(&mut self, value: &str, pattern: &Pattern) {
        match pattern.regex() {
            Some(re) if re.is_match(value) => {}
            Some(_) => self.fail(Problem::NoMatch {
                value: value.to_owned(),
                pattern: pattern.as_str().to_owned(),
            }),
            None => self.fail(Problem::BadPattern {
                pattern: pattern.as_str().to_owned(),
            }),
        }
    }

    /// Records `problem` at the current path.
    pub fn fail(&mut self, problem: Problem) {
        self.violations.push(Violation {
            path: FieldPath(self.path.clone()),
            problem,
        });
    }

    /// Every violation recorded, in the order found.
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    /// `Ok` when nothing was recorded.
    pub fn finish(self) -> Result<(), ValidationError> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                violations: self.violations,
            })
        }
    }
}

/// A request refused before sending, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub violations: Vec<Violation>,
}

impl ValidationError {
    /// The violation the gateway would have answered for.
    pub fn gateway_choice(&self) -> Option<&Violation> {
        gateway_choice(&self.violations)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid request: ")?;
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ids(Vec<String>);
    static ID: Pattern = Pattern::new("^ins-[a-z0-9]{8}$");

    impl Validate for Ids {
        fn validate(&self, v: &mut Validator) {
            v.field("InstanceIds", |v| {
                v.required_list(&self.0);
                v.count(self.0.len(), Some(1), Some(2));
                v.each(&self.0, |v, id| v.pattern(id, &ID));
            });
        }
    }

    #[test]
    fn reports_every_violation_with_its_path() {
        assert!(Ids(vec!["ins-r8hr2upy".into()]).check().is_ok());
        let err = Ids(vec!["ins-r8hr2upy".into(), "ins-12".into(), "x".into()])
            .check()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid request: InstanceIds has 3 items; at most 2 allowed; \
             InstanceIds.1 `ins-12` does not match `^ins-[a-z0-9]{8}$`; \
             InstanceIds.2 `x` does not match `^ins-[a-z0-9]{8}$`"
        );
        assert_eq!(err.violations[1].path, FieldPath::parse("InstanceIds.1"));
        assert_eq!(err.violations[1].gateway_code(), "InvalidParameterValue");
        let err = Ids(vec![]).check().unwrap_err();
        assert_eq!(err.violations.len(), 2);
        assert_eq!(err.violations[0].path.to_string(), "InstanceIds");
        // The gateway reports the empty member, not the first violation.
        let chosen = err.gateway_choice().unwrap();
        assert_eq!(chosen.problem, Problem::Empty);
        assert_eq!(chosen.gateway_code(), "MissingParameter");
        assert_eq!(
            chosen.gateway_message(),
            "The parameter `InstanceIds` is required but empty."
        );
    }

    #[test]
    fn echoed_text_is_inert_and_bounded() {
        let mut v = Validator::default();
        v.member(Cow::Owned("Bad\u{1b}[2J".to_owned()), Validator::unknown);
        v.field("Name", |v| v.pattern(&"x".repeat(10_000), &ID));
        let err = v.finish().unwrap_err().to_string();
        assert!(err.contains("Bad\\u{1b}[2J is not a parameter"), "{err}");
        assert_eq!(
            inert("a\u{202e}b\u{200b}c\u{7}", 64),
            "a\\u{202e}b\\u{200b}c\\u{7}"
        );
        assert!(err.contains(&format!("`{}...`", "x".repeat(MAX_ECHO))), "{err}");
        assert!(err.len() < 300, "{err}");
    }

    #[test]
    fn ranges() {
        let mut v = Validator::default();
        v.field("Limit", |v| v.range(101i64, Some(0), Some(100)));
        v.field("Offset", |v| v.range(0u64, Some(0), None));
        assert_eq!(
            v.finish().unwrap_err().to_string(),
            "invalid request: Limit is 101; must be at most 100"
        );
    }

    #[test]
    fn precedence_is_type_then_unknown_then_missing_then_rules() {
        let at = |p: &str, problem| Violation {
            path: FieldPath::parse(p),
            problem,
        };
        let all = vec![
            at("A", Problem::TooFewItems { len: 0, min: 1 }),
            at("B", Problem::Missing),
            at("C", Problem::Unknown),
            at("D", Problem::Invalid("expected a bool".into())),
            at("E", Problem::Invalid("expected a list".into())),
        ];
        assert_eq!(gateway_choice(&all).unwrap().path.to_string(), "D");
        assert_eq!(gateway_choice(&all[..3]).unwrap().path.to_string(), "C");
        assert_eq!(gateway_choice(&all[..2]).unwrap().path.to_string(), "B");
        assert_eq!(
            gateway_choice(&all[..1]).unwrap().gateway_code(),
            "InvalidParameterValue"
        );
        assert_eq!(gateway_choice(&[]), None);
        let whole = at("", Problem::Invalid("expected an object, found a list".into()));
        assert_eq!(
            whole.gateway_message(),
            "The request is invalid: expected an object, found a list."
        );
        assert_eq!(FieldPath::parse("Filters.0.Name").to_string(), "Filters.0.Name");
    }
}
