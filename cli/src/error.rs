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
            Kind::Parameter(code) => write!(f, "{code}: {}", self.message),
            Kind::Usage => write!(f, "tcloud: {}", self.message),
            // May quote the server (a waiter's last value, an invalid answer).
            Kind::Call => write!(f, "{}", Inert(&self.message)),
            Kind::Internal => write!(f, "tcloud: internal error: {}", self.message),
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

/// Text with control characters escaped (`\u{1b}`, `\n`), so that what a
/// server sends prints as one line and cannot drive the terminal.
struct Inert<'a>(&'a str);

impl fmt::Display for Inert<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}
