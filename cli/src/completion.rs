//! `tcloud completion <shell>`: a completion script (clap_complete) naming
//! every service, its actions, and each action's parameters and options,
//! all from the embedded descriptions.

use clap::{Arg, Command};

use crate::args::OPTIONS;
use crate::catalog::Catalog;
use crate::error::CliError;

/// clap takes `'static` names; the script is written once and the process
/// ends, so the names are leaked rather than copied into an arena.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

pub fn script(catalog: &Catalog, shell: &str) -> Result<Vec<u8>, CliError> {
    let shell: clap_complete::Shell = shell.parse().map_err(|_| {
        CliError::usage(format!(
            "completion: unknown shell `{shell}`: bash, zsh, fish, elvish or powershell"
        ))
    })?;
    let mut root = Command::new("tcloud")
        .subcommand(Command::new("help"))
        .subcommand(Command::new("completion").arg(Arg::new("shell").value_parser([
            "bash",
            "zsh",
            "fish",
            "elvish",
            "powershell",
        ])));
    for name in catalog.services() {
        let service = catalog.load(name, None)?;
        let model = &service.model;
        let mut command = Command::new(name).subcommand(Command::new("help"));
        for action in &model.actions {
            let mut sub = Command::new(leak(&action.name)).subcommand(Command::new("help"));
            if let Some(input) = model.object(&action.input) {
                for m in &input.members {
                    let wire = leak(&m.wire_name);
                    sub = sub.arg(Arg::new(wire).long(wire).num_args(1));
                }
            }
            for (option, about) in OPTIONS {
                sub = sub.arg(Arg::new(*option).long(*option).help(*about).num_args(1));
            }
            command = command.subcommand(sub);
        }
        root = root.subcommand(command);
    }
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut root, "tcloud", &mut out);
    Ok(out)
}
