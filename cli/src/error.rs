//! What goes wrong, as tcloud reports it: one line on stderr and an exit
//! status.

use std::fmt;
use std::process::ExitCode;

#[derive(Debug)]
pub struct CliError {
    kind: Kind,
    message: String,
}

#[derive(Debug)]
enum Kind {
    /// The command line itself is wrong: nothing was sent.
    Usage,
    /// A parameter is wrong, refused with the code the gateway would answer
    /// (`MissingParameter`, ...): nothing was sent.
    Parameter(&'static str),
    /// The service answered with an error.
    Service { code: String, request_id: String },
    /// The call failed otherwise (network, credentials, a bad answer), or a
    /// wait ended without success.
    Call,
    /// A broken embedded description or bundle: a bug of tcloud's build.
    Internal,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Usage,
            message: message.into(),
        }
    }

    pub fn parameter(code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Parameter(code),
            message: message.into(),
        }
    }

    pub fn service(code: &str, message: &str, request_id: &str) -> Self {
        CliError {
            kind: Kind::Service {
                code: code.to_owned(),
                request_id: request_id.to_owned(),
            },
            message: message.to_owned(),
        }
    }

    pub fn call(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Call,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Internal,
            message: message.into(),
        }
    }

    /// 2 when nothing was sent (usage, parameters); 255 otherwise, as tccli.
    pub fn exit_code(&self) -> ExitCode {
        match self.kind {
            Kind::Usage | Kind::Parameter(_) => ExitCode::from(2),
            _ => ExitCode::from(255),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // What the service sent is shown as inert text: no terminal escapes.
            Kind::Service { code, request_id } => write!(
                f,
                "{}: {} ({})",
                Inert(code),
                Inert(&self.message),
                Inert(request_id)
            ),
            // Every message may quote what the user typed or the server
            // sent: each is shown inert and bounded.
            Kind::Parameter(code) => write!(f, "{code}: {}", Inert(&self.message)),
            Kind::Usage => write!(f, "tcloud: {}", Inert(&self.message)),
            Kind::Call => write!(f, "{}", Inert(&self.message)),
            Kind::Internal => write!(f, "tcloud: internal error: {}", Inert(&self.message)),
        }
    }
}

impl<E: tencentcloud_runtime::ActionError + fmt::Display> From<tencentcloud_runtime::Error<E>> for CliError {
    fn from(e: tencentcloud_runtime::Error<E>) -> Self {
        match e.service_error() {
            Some(s) => CliError::service(s.code(), s.message(), s.request_id()),
            None => CliError::call(e.to_string()),
        }
    }
}

/// ` (did you mean `X`?)` for the candidate nearest to `wanted`, or
/// nothing. A name longer than any real one gets no suggestion: the edit
/// distance to each candidate costs the product of their lengths.
pub fn suggest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    if wanted.len() > 128 {
        return String::new();
    }
    tencentcloud_model::words::suggest(wanted, candidates)
}

/// How much of one message part is shown: a server's 10 MB message is not
/// a line to print.
const MAX_SHOWN_CHARS: usize = 2048;

/// Text with control characters (and the bidirectional overrides, which
/// reorder what a terminal shows) escaped, so that it prints as one line
/// and cannot drive the terminal; cut after [`MAX_SHOWN_CHARS`].
struct Inert<'a>(&'a str);

impl fmt::Display for Inert<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(MAX_SHOWN_CHARS) {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        let more = chars.count();
        if more > 0 {
            write!(f, "... [{more} more characters]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::CliError;

    #[test]
    fn messages_are_one_inert_bounded_line() {
        let e = CliError::service("X\u{1b}[2J", "line1\nline2\u{202e}", "r");
        assert_eq!(e.to_string(), "X\\u{1b}[2J: line1\\nline2\\u{202e} (r)");
        let long = CliError::usage("a".repeat(5000));
        assert_eq!(
            long.to_string(),
            format!("tcloud: {}... [2952 more characters]", "a".repeat(2048))
        );
    }
}
