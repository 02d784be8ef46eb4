//! The command line, in tccli's shape:
//! `tcloud <service> <Action> [--Param value ...] [options]`.
//!
//! Parsed by hand: an action's parameters are known only once its service's
//! description is decoded, so they cannot be declared to a parser up front.
//! Options take `--name value` or `--name=value`; a name starting with a
//! capital letter is a parameter of the action.

use crate::error::CliError;
use crate::settings::Flags;

#[derive(Debug)]
pub enum Command {
    /// `tcloud`, `tcloud help`, `tcloud --help`.
    Help,
    /// `tcloud --version`.
    Version,
    /// `tcloud completion bash|zsh|fish`.
    Completion(String),
    /// `tcloud __complete WORD...`: the candidates for the last word (what
    /// the completion scripts call).
    Complete(Vec<String>),
    /// `tcloud cvm`, `tcloud cvm help [--detail]`.
    ServiceHelp {
        service: String,
        version: Option<String>,
        detail: bool,
    },
    Action(Box<ActionArgs>),
}

/// `Debug` shows the parameters' names, not their values (passwords,
/// user data), and redacts the secrets (see [`Flags`]).
#[derive(Default)]
pub struct ActionArgs {
    pub service: String,
    pub action: String,
    /// `help` after the action.
    pub help: bool,
    /// `help --detail`: every member's whole documentation and facts.
    pub detail: bool,
    pub flags: Flags,
    /// `--Param value`, in order.
    pub params: Vec<(String, String)>,
    pub cli_input_json: Option<String>,
    pub skeleton: bool,
    pub filter: Option<String>,
    /// tccli's `--waiter '{"expr": .., "to": ..}'`.
    pub waiter: Option<String>,
    /// A generated waiter by name (`instances-running`).
    pub wait: Option<String>,
    pub wait_timeout: Option<String>,
}

impl std::fmt::Debug for ActionArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ActionArgs")
            .field("service", &self.service)
            .field("action", &self.action)
            .field("help", &self.help)
            .field("detail", &self.detail)
            .field("flags", &self.flags)
            .field("params", &names)
            .field("cli_input_json", &self.cli_input_json.as_ref().map(|_| ".."))
            .field("skeleton", &self.skeleton)
            .field("filter", &self.filter)
            .field("waiter", &self.waiter)
            .field("wait", &self.wait)
            .field("wait_timeout", &self.wait_timeout)
            .finish()
    }
}

/// Every option but the action's parameters, for help and completions.
pub const OPTIONS: &[(&str, &str)] = &[
    ("region", "region to call, e.g. ap-guangzhou"),
    ("profile", "profile of ~/.tccli to use"),
    ("endpoint", "endpoint host or URL, e.g. http://127.0.0.1:9000"),
    ("secretId", "secret id (else the credential chain)"),
    ("secretKey", "secret key"),
    ("token", "session token of temporary credentials"),
    ("version", "API version of the service, e.g. 2017-03-12"),
    ("cli-input-json", "parameters as JSON: file://PATH or inline"),
    ("generate-cli-skeleton", "print a JSON skeleton of the parameters"),
    (
        "detail",
        "with help: every parameter's whole documentation and facts",
    ),
    ("filter", "JMESPath expression applied to the output"),
    ("output", "json, table or text"),
    (
        "waiter",
        "tccli waiter: {\"expr\": .., \"to\": .., \"timeout\": .., \"interval\": ..}",
    ),
    (
        "wait",
        "after the call, wait with a named waiter, e.g. instances-running",
    ),
    ("wait-timeout", "seconds --wait may take (default: the waiter's)"),
    ("timeout", "seconds each request may take"),
    ("language", "language of messages: zh-CN or en-US"),
];

pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let mut rest = args.iter();
    let Some(first) = rest.next() else {
        return Ok(Command::Help);
    };
    match first.as_str() {
        "help" | "--help" | "-h" => return Ok(Command::Help),
        "--version" | "-V" => return Ok(Command::Version),
        "completion" => {
            let shell = rest
                .next()
                .ok_or_else(|| CliError::usage("completion needs a shell: bash, zsh or fish"))?;
            return Ok(Command::Completion(shell.clone()));
        }
        "__complete" => return Ok(Command::Complete(rest.cloned().collect())),
        other if other.starts_with('-') => {
            return Err(CliError::usage(format!(
                "`{other}`: options come after `<service> <Action>`"
            )))
        }
        _ => {}
    }
    let service = first.clone();
    let rest: Vec<&String> = rest.collect();
    let action = match rest.first() {
        None => {
            return Ok(Command::ServiceHelp {
                service,
                version: None,
                detail: false,
            })
        }
        Some(a) if a.as_str() == "help" || a.starts_with('-') => {
            let (mut version, mut detail) = (None, false);
            let mut i = 0;
            while i < rest.len() {
                match rest[i].as_str() {
                    "help" | "--help" | "-h" => {
                        i += 1;
                        continue;
                    }
                    // As after an action: takes no value.
                    "--detail" => {
                        if std::mem::replace(&mut detail, true) {
                            return Err(CliError::usage("--detail is given twice"));
                        }
                        i += 1;
                        continue;
                    }
                    _ => {}
                }
                match option(&rest, &mut i)? {
                    (name, _) if name == "detail" => return Err(CliError::usage("--detail takes no value")),
                    (name, Some(value)) if name == "version" => {
                        if version.replace(value).is_some() {
                            return Err(CliError::usage("--version is given twice"));
                        }
                    }
                    (name, None) if name == "version" => {
                        return Err(CliError::usage("--version needs a value"))
                    }
                    (name, _) => return Err(CliError::usage(format!("--{name} needs an action"))),
                }
            }
            return Ok(Command::ServiceHelp {
                service,
                version,
                detail,
            });
        }
        Some(a) => a.to_string(),
    };
    let mut parsed = ActionArgs {
        service,
        action,
        ..ActionArgs::default()
    };
    let rest = &rest[1..];
    let mut i = 0;
    while i < rest.len() {
        if matches!(rest[i].as_str(), "help" | "--help" | "-h") {
            parsed.help = true;
            i += 1;
            continue;
        }
        // tccli's `help --detail`; takes no value.
        if rest[i].as_str() == "--detail" {
            if parsed.detail {
                return Err(CliError::usage("--detail is given twice"));
            }
            parsed.detail = true;
            i += 1;
            continue;
        }
        if rest[i].as_str() == "--generate-cli-skeleton" {
            parsed.skeleton = true;
            i += 1;
            // tccli's optional value.
            if rest.get(i).is_some_and(|v| v.as_str() == "input") {
                i += 1;
            }
            continue;
        }
        let (name, value) = option(rest, &mut i)?;
        if name == "detail" {
            return Err(CliError::usage("--detail takes no value"));
        }
        // An unknown option is named as such, even one tccli takes without
        // a value (`--use-cvm-role`).
        let needed =
            |value: Option<String>| value.ok_or_else(|| CliError::usage(format!("--{name} needs a value")));
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            let value = needed(value)?;
            parsed.params.push((name, value));
            continue;
        }
        let slot = match name.as_str() {
            "region" => &mut parsed.flags.region,
            "profile" => &mut parsed.flags.profile,
            "endpoint" => &mut parsed.flags.endpoint,
            "secretId" => &mut parsed.flags.secret_id,
            "secretKey" => &mut parsed.flags.secret_key,
            "token" => &mut parsed.flags.token,
            "output" => &mut parsed.flags.output,
            "language" => &mut parsed.flags.language,
            "timeout" => &mut parsed.flags.timeout,
            "version" => &mut parsed.flags.version,
            "cli-input-json" => &mut parsed.cli_input_json,
            "filter" => &mut parsed.filter,
            "waiter" => &mut parsed.waiter,
            "wait" => &mut parsed.wait,
            "wait-timeout" => &mut parsed.wait_timeout,
            other => {
                let names: Vec<String> = OPTIONS.iter().map(|(n, _)| n.to_string()).collect();
                return Err(CliError::usage(format!(
                    "unknown option --{other}{}",
                    crate::error::suggest(other, names.iter())
                )));
            }
        };
        if slot.replace(needed(value)?).is_some() {
            return Err(CliError::usage(format!("--{name} is given twice")));
        }
    }
    if parsed.detail && !parsed.help {
        return Err(CliError::usage(
            "--detail goes with help: tcloud <service> <Action> help --detail",
        ));
    }
    Ok(Command::Action(Box::new(parsed)))
}

/// The option at `args[*i]`: its name and value (`--name=value` or
/// `--name value`), moving `i` past both.
fn option(args: &[&String], i: &mut usize) -> Result<(String, Option<String>), CliError> {
    let arg = args[*i];
    *i += 1;
    let Some(body) = arg.strip_prefix("--").filter(|b| !b.is_empty()) else {
        // Not echoed: a misplaced word may be a secret or a password.
        return Err(CliError::usage(format!(
            "unexpected argument ({} characters) where an option belongs: parameters are given as --Name value",
            arg.chars().count()
        )));
    };
    if let Some((name, value)) = body.split_once('=') {
        return Ok((name.to_owned(), Some(value.to_owned())));
    }
    // As tccli (argparse): a following option is not a value, so that
    // `--InstanceName --region x` is a missing value, not a name.
    let value = args
        .get(*i)
        .filter(|v| !v.starts_with("--"))
        .map(|v| v.to_string());
    if value.is_some() {
        *i += 1;
    }
    Ok((body.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> Vec<String> {
        line.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tccli_lines_parse() {
        let Command::Action(a) = parse(&args(&[
            "cvm",
            "DescribeInstances",
            "--InstanceIds",
            r#"["ins-1"]"#,
            "--region=ap-guangzhou",
            "--Limit",
            "10",
            "--filter",
            "InstanceSet[0]",
            "--generate-cli-skeleton",
        ]))
        .unwrap() else {
            panic!("not an action")
        };
        assert_eq!(
            (a.service.as_str(), a.action.as_str()),
            ("cvm", "DescribeInstances")
        );
        assert_eq!(
            a.params,
            [
                ("InstanceIds".to_owned(), r#"["ins-1"]"#.to_owned()),
                ("Limit".to_owned(), "10".to_owned())
            ]
        );
        assert_eq!(a.flags.region.as_deref(), Some("ap-guangzhou"));
        assert_eq!(a.filter.as_deref(), Some("InstanceSet[0]"));
        assert!(a.skeleton && !a.help);
    }

    #[test]
    fn mistakes_are_named() {
        let err = |line: &[&str]| parse(&args(line)).unwrap_err().to_string();
        assert_eq!(
            err(&["cvm", "X", "--regoin", "a"]),
            "tcloud: unknown option --regoin (did you mean `region`?)"
        );
        assert_eq!(err(&["cvm", "X", "--region"]), "tcloud: --region needs a value");
        assert_eq!(
            err(&["cvm", "X", "--use-cvm-role"]),
            "tcloud: unknown option --use-cvm-role"
        );
        assert_eq!(
            err(&["cvm", "X", "--region", "a", "--region", "b"]),
            "tcloud: --region is given twice"
        );
        assert!(err(&["cvm", "X", "stray"]).contains("unexpected argument (5 characters)"));
        // help --detail, at both levels, in any order; --detail takes no value.
        for line in [
            &["cvm", "help", "--detail", "--detail"][..],
            &["cvm", "X", "help", "--detail", "--detail"],
        ] {
            assert_eq!(err(line), "tcloud: --detail is given twice", "{line:?}");
        }
        for line in [
            &["cvm", "help", "--detail=x"][..],
            &["cvm", "X", "help", "--detail=x"],
        ] {
            assert_eq!(err(line), "tcloud: --detail takes no value", "{line:?}");
        }
        assert_eq!(
            err(&["cvm", "help", "--version"]),
            "tcloud: --version needs a value"
        );
        assert_eq!(
            err(&["tke", "help", "--version", "a", "--version", "b"]),
            "tcloud: --version is given twice"
        );
        for line in [&["cvm", "--detail", "help"][..], &["cvm", "help", "--detail"]] {
            assert!(
                matches!(parse(&args(line)), Ok(Command::ServiceHelp { detail: true, .. })),
                "{line:?}"
            );
        }
        assert_eq!(
            err(&["cvm", "X", "--InstanceName", "--region", "r"]),
            "tcloud: --InstanceName needs a value"
        );
        assert!(matches!(
            parse(&args(&["cvm", "help"])),
            Ok(Command::ServiceHelp { .. })
        ));
        assert!(matches!(parse(&args(&[])), Ok(Command::Help)));
    }
}
