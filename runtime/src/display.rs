//! Text for messages: what every error of the runtime writes the same way.

use std::fmt;

/// Displays untrusted text as one inert line: control characters escaped
/// (`\u{1b}`, `\n`, ...) and the invisible ones that reorder text (bidi
/// overrides, zero-width marks), as the model crate's `inert` writes every
/// echo; not cut (the caller bounds what it shows).
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tencentcloud_model::validate::inert(self.0, usize::MAX))
    }
}

/// ` (after N attempts)` when more than one request was sent.
pub(crate) fn after_attempts(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    if attempts > 1 {
        write!(f, " (after {attempts} attempts)")?;
    }
    Ok(())
}

/// `A`, `A and B`, `A, B and C`.
pub(crate) struct AndList<'a>(pub(crate) &'a [&'a str]);

impl fmt::Display for AndList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == n { " and " } else { ", " })?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_list() {
        assert_eq!(AndList(&["A"]).to_string(), "A");
        assert_eq!(AndList(&["A", "B"]).to_string(), "A and B");
        assert_eq!(AndList(&["A", "B", "C"]).to_string(), "A, B and C");
    }
}
