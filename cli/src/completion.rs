//! Shell completion: `tcloud completion bash|zsh|fish` prints a short script
//! whose completion function asks `tcloud __complete WORD...` for the
//! candidates, so that services, actions, parameters, options and their
//! values come from the embedded descriptions, decoding only the service at
//! hand.
//!
//! Not clap_complete's static scripts: a script naming every service, action
//! and parameter measured 62 MB for bash and 35 MB for zsh (86 s to write),
//! and would go stale with every description.

use crate::args::OPTIONS;
use crate::catalog::Catalog;
use crate::error::CliError;
use crate::waiters::cli_name;

const BASH: &str = r#"# tcloud completion for bash: source this file, or install it as
# /etc/bash_completion.d/tcloud.
_tcloud() {
    local IFS=$'\n'
    COMPREPLY=($(tcloud __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _tcloud tcloud
"#;

const ZSH: &str = r#"#compdef tcloud
# tcloud completion for zsh: put this file on $fpath as _tcloud, or source it.
_tcloud() {
    local -a candidates
    candidates=("${(@f)$(tcloud __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    compadd -a candidates
}
if [ "$funcstack[1]" = "_tcloud" ]; then
    _tcloud "$@"
else
    compdef _tcloud tcloud
fi
"#;

const FISH: &str = r#"# tcloud completion for fish: save as ~/.config/fish/completions/tcloud.fish.
complete -c tcloud -f -a '(tcloud __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
"#;

pub fn script(shell: &str) -> Result<Vec<u8>, CliError> {
    match shell {
        "bash" => Ok(BASH.into()),
        "zsh" => Ok(ZSH.into()),
        "fish" => Ok(FISH.into()),
        other => Err(CliError::usage(format!(
            "completion: unknown shell `{other}`: bash, zsh or fish"
        ))),
    }
}

/// The candidates for the last of `words` (the word being typed; the ones
/// before it are complete), one per line. Nothing on any error: completion
/// must never print one into the user's line.
pub fn candidates(catalog: &Catalog, words: &[String]) -> Vec<u8> {
    let Some((current, done)) = words.split_last() else {
        return Vec::new();
    };
    let mut found: Vec<String> = match done {
        [] => {
            let mut all: Vec<String> = catalog.services().iter().map(|s| s.to_string()).collect();
            all.extend(["help".to_owned(), "completion".to_owned()]);
            all
        }
        [first] if first == "completion" => ["bash", "zsh", "fish"].map(String::from).to_vec(),
        [service] => match catalog.load(service, None) {
            Ok(s) => s
                .model
                .actions
                .iter()
                .map(|a| a.name.clone())
                .chain(["help".to_owned()])
                .collect(),
            Err(_) => Vec::new(),
        },
        [service, action, given @ ..] => after_action(catalog, service, action, given),
    };
    found.retain(|c| c.starts_with(current.as_str()));
    let mut out = found.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.into_bytes()
}

fn after_action(catalog: &Catalog, service: &str, action: &str, given: &[String]) -> Vec<String> {
    let version = given
        .windows(2)
        .find(|w| w[0] == "--version")
        .map(|w| w[1].as_str());
    let Ok(service) = catalog.load(service, version) else {
        return Vec::new();
    };
    let model = &service.model;
    match given.last().map(String::as_str) {
        Some("--output") => return ["json", "table", "text"].map(String::from).to_vec(),
        Some("--wait") => return model.waiters.iter().map(cli_name).collect(),
        Some("--version") => {
            return catalog
                .versions(&service.name)
                .iter()
                .filter_map(|v| Some(format!("{}-{}-{}", v.get(1..5)?, v.get(5..7)?, v.get(7..9)?)))
                .collect()
        }
        Some("--profile") => return profiles(),
        // Any other option takes a value the descriptions cannot guess.
        Some(previous) if previous.starts_with("--") && previous != "--generate-cli-skeleton" => {
            return Vec::new()
        }
        _ => {}
    }
    let Some(action) = model.action(action) else {
        return Vec::new();
    };
    let parameters = model
        .object(&action.input)
        .map(|input| {
            input
                .members
                .iter()
                .map(|m| m.wire_name.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let options = OPTIONS.iter().map(|(name, _)| name.to_string());
    parameters
        .into_iter()
        .chain(options)
        .map(|name| format!("--{name}"))
        .filter(|flag| !given.contains(flag))
        .chain(["help".to_owned()])
        .collect()
}

/// The profiles of `~/.tccli`.
fn profiles() -> Vec<String> {
    let Some(home) = tencentcloud_runtime::Env::process().home() else {
        return Vec::new();
    };
    let Ok(dir) = std::fs::read_dir(home.join(".tccli")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| {
            n.strip_suffix(".credential")
                .or_else(|| n.strip_suffix(".configure"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
