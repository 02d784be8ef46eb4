//! Client-side checks run before a request leaves the process.
//!
//! The generator decides *what* to check from the spec (required members,
//! `rules.json`); this module only knows *how* to check and report.

use std::fmt;
use std::sync::OnceLock;

use super::error::Escaped;

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
    source: &'static str,
    compiled: OnceLock<Option<regex_lite::Regex>>,
}

impl Pattern {
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.source
    }

    /// `None` when the source does not compile (codegen checks it does).
    fn regex(&self) -> Option<&regex_lite::Regex> {
        self.compiled
            .get_or_init(|| regex_lite::Regex::new(self.source).ok())
            .as_ref()
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

#[derive(Debug, Clone, Copy)]
enum Segment {
    Field(&'static str),
    Index(usize),
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
        self.path.push(Segment::Field(name));
        check(self);
        self.path.pop();
    }

    /// Checks each item of a list, with its index in the reported path.
    pub fn each<T>(&mut self, items: &[T], mut check: impl FnMut(&mut Self, &T)) {
        for (i, item) in items.iter().enumerate() {
            self.path.push(Segment::Index(i));
            check(self, item);
            self.path.pop();
        }
    }

    /// Checks a nested object.
    pub fn nested<T: Validate + ?Sized>(&mut self, value: &T) {
        value.validate(self);
    }

    /// A required member is absent.
    pub fn missing(&mut self) {
        self.fail("is required".to_string());
    }

    /// A required string must not be empty.
    pub fn required_str(&mut self, value: &str) {
        if value.is_empty() {
            self.fail("is required but empty".to_string());
        }
    }

    /// A required list must have at least one item: an empty list is the
    /// same as no parameter on the wire.
    pub fn required_list<T>(&mut self, value: &[T]) {
        if value.is_empty() {
            self.fail("is required but empty".to_string());
        }
    }

    /// A list's length must lie in `min..=max`.
    pub fn count(&mut self, len: usize, min: Option<usize>, max: Option<usize>) {
        if let Some(min) = min.filter(|&min| len < min) {
            self.fail(format!("has {len} items; at least {min} required"));
        }
        if let Some(max) = max.filter(|&max| len > max) {
            self.fail(format!("has {len} items; at most {max} allowed"));
        }
    }

    /// An integer must lie in `min..=max`.
    pub fn range(&mut self, value: impl Into<i128>, min: Option<i64>, max: Option<i64>) {
        let value = value.into();
        if let Some(min) = min.filter(|&min| value < i128::from(min)) {
            self.fail(format!("is {value}; must be at least {min}"));
        }
        if let Some(max) = max.filter(|&max| value > i128::from(max)) {
            self.fail(format!("is {value}; must be at most {max}"));
        }
    }

    /// A string must match the pattern.
    pub fn pattern(&mut self, value: &str, pattern: &Pattern) {
        match pattern.regex() {
            Some(re) if re.is_match(value) => {}
            Some(_) => self.fail(format!("`{value}` does not match `{}`", pattern.as_str())),
            None => self.fail(format!(
                "cannot be checked: invalid pattern `{}`",
                pattern.as_str()
            )),
        }
    }

    fn fail(&mut self, problem: String) {
        let mut field = String::new();
        for segment in &self.path {
            match segment {
                Segment::Field(name) if field.is_empty() => field.push_str(name),
                Segment::Field(name) => {
                    field.push('.');
                    field.push_str(name);
                }
                Segment::Index(i) => {
                    field.push('[');
                    field.push_str(&i.to_string());
                    field.push(']');
                }
            }
        }
        self.violations.push(Violation { field, problem });
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

/// One member that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Wire path, e.g. `InstanceIds[3]` or `Placement.Zone`.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Problems may quote the offending value: keep the line inert.
        write!(f, "{} {}", Escaped(&self.field), Escaped(&self.problem))
    }
}

/// A request refused before sending, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub violations: Vec<Violation>,
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
             InstanceIds[1] `ins-12` does not match `^ins-[a-z0-9]{8}$`; \
             InstanceIds[2] `x` does not match `^ins-[a-z0-9]{8}$`"
        );
        let err = Ids(vec![]).check().unwrap_err();
        assert_eq!(err.violations.len(), 2);
        assert_eq!(err.violations[0].field, "InstanceIds");
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
}
