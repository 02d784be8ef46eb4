//! One command, start to end.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use serde_json::Value;
use tencentcloud_runtime::{CallOptions, Client};

use crate::args::{self, ActionArgs, Command};
use crate::catalog::Catalog;
use crate::error::CliError;
use crate::output::{self, Filter, Node};
use crate::settings;
use crate::waiters::{self, TccliWaiter};
use crate::{completion, help, params};

/// Runs `tcloud` with `args` (the program name left out), printing what it
/// prints and returning its exit status.
pub fn main(args: Vec<OsString>) -> ExitCode {
    // The argument is not echoed: it may be a secret.
    let args: Result<Vec<String>, _> = args
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            a.into_string()
                .map_err(|_| CliError::usage(format!("argument {} is not UTF-8", i + 1)))
        })
        .collect();
    let result = args.and_then(|args| {
        let command = args::parse(&args)?;
        let catalog = Catalog::embedded()?;
        run(&catalog, command)
    });
    match result.and_then(|out| write_stdout(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // `tcloud ... | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::call(format!("writing the output: {e}"))),
    }
}

fn run(catalog: &Catalog, command: Command) -> Result<Vec<u8>, CliError> {
    match command {
        Command::Help => Ok(help::usage(catalog).into_bytes()),
        Command::Version => Ok(format!("tcloud {}\n", env!("CARGO_PKG_VERSION")).into_bytes()),
        Command::Completion(shell) => completion::script(&shell),
        Command::Complete(words) => Ok(completion::candidates(catalog, &words)),
        Command::ServiceHelp {
            service,
            version,
            detail,
        } => {
            let service = catalog.load(&service, version.as_deref())?;
            Ok(help::service(catalog, &service, detail).into_bytes())
        }
        Command::Action(args) => action(catalog, *args),
    }
}

fn action(catalog: &Catalog, args: ActionArgs) -> Result<Vec<u8>, CliError> {
    let settings = if args.help || args.skeleton {
        None
    } else {
        Some(settings::resolve(&args.flags, &args.service)?)
    };
    // Help and the skeleton describe the version a call would use.
    let version = match &settings {
        Some(settings) => settings.version.clone(),
        None => settings::version(&args.flags, &args.service)?,
    };
    let service = catalog.load_action(&args.service, version.as_deref(), &args.action)?;
    let model = &service.model;
    let Some(action) = model.action(&args.action) else {
        let names: Vec<String> = model.actions.iter().map(|a| a.name.clone()).collect();
        return Err(CliError::usage(format!(
            "`{}` has no action `{}`{}; `tcloud {} help` lists them",
            service.name,
            args.action,
            crate::error::suggest(&args.action, names.iter()),
            service.name
        )));
    };
    let input = model
        .object(&action.input)
        .ok_or_else(|| CliError::internal(format!("{}: no input object", action.name)))?;
    if args.help {
        return Ok(help::action(&service, &action.name, args.detail).into_bytes());
    }
    if args.skeleton {
        let mut out = String::new();
        output::write_json(&help::skeleton(model, input), 0, &mut out);
        out.push('\n');
        return Ok(out.into_bytes());
    }
    let settings = settings.ok_or_else(|| CliError::internal("settings not resolved"))?;

    let mut request = match &args.cli_input_json {
        Some(_) if !args.params.is_empty() => {
            return Err(CliError::usage(
                "--cli-input-json takes every parameter: give no --Param with it",
            ))
        }
        Some(source) => cli_input_json(source)?,
        None => params::from_pairs(input, &args.params)?,
    };
    // As the official SDKs do: a token the caller left out is made here, once,
    // so that every retry of this call carries the same one and the service
    // acts at most once.
    let has_token = params::client_token_member(input);
    if has_token {
        if let Value::Object(map) = &mut request {
            if token_missing(map.get("ClientToken")) {
                map.insert(
                    "ClientToken".into(),
                    Value::String(uuid::Uuid::new_v4().to_string()),
                );
            }
        }
    }
    params::check(model, input, &request)?;
    let filter = args
        .filter
        .as_deref()
        .map(|f| Filter::compile(f, "--filter"))
        .transpose()?;
    let tccli_waiter = args.waiter.as_deref().map(TccliWaiter::parse).transpose()?;
    let named_waiter = args
        .wait
        .as_deref()
        .map(|name| waiters::find(&model.waiters, name))
        .transpose()?;
    if args.wait_timeout.is_some() && args.wait.is_none() {
        return Err(CliError::usage("--wait-timeout bounds --wait: give --wait NAME"));
    }
    let wait_deadline = args
        .wait_timeout
        .as_deref()
        .map(|s| settings::seconds("--wait-timeout", s))
        .transpose()?;
    if action.needs_region && settings.config.region().is_none() {
        return Err(CliError::usage(settings.missing_region(&action.name)));
    }

    // What the answer may expand to: decoded (by the runtime), projected and
    // printed (here), each within these.
    let limits = settings.config.response_limits();
    let config = if action.skip_sign {
        // The service takes this action unsigned (its proof is in the
        // request, as STS `AssumeRoleWithWebIdentity`): no credential is
        // looked up or sent.
        settings.config.without_signing()
    } else {
        settings.config
    };
    // Nothing is sent yet: a setting is wrong (`--language`, ...).
    let client = Client::new(config).map_err(|e| CliError::usage(e.to_string()))?;
    let options = CallOptions::new().with_idempotent(action.read_only || has_token);
    let output_object = model.object(&action.output);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(format!("async runtime: {e}")))?;
    let format = settings.format;
    let render = |node: Node| -> Result<Vec<u8>, CliError> {
        let node = match &filter {
            Some(filter) => filter.search(&node)?,
            None => node,
        };
        let text = output::render(&node, format, limits, strings_for_stdout())
            .map_err(|refused| CliError::call(format!("cannot print the answer: {refused}")))?;
        Ok(text.into_bytes())
    };
    runtime.block_on(async {
        let call = || async {
            let answer: Value = client
                .call_with(
                    &model.service,
                    &model.api_version,
                    &action.name,
                    &request,
                    &options,
                )
                .await?;
            Ok::<_, CliError>(answer)
        };
        let project = |answer: &Value| match output_object {
            Some(object) => output::project(model, object, answer, limits).map_err(too_complex),
            None => Ok(Node::from(answer)),
        };
        let (answer, node) = match &tccli_waiter {
            None => {
                let answer = call().await?;
                let node = project(&answer)?;
                (answer, node)
            }
            Some(waiter) => waiter.run(call, project).await?,
        };
        let text = render(node)?;
        if let Some(waiter) = named_waiter {
            // The answer first: what the call did is kept when the wait then
            // fails (a new key pair's private key is shown once, new ids).
            write_stdout(&text)?;
            let ids = waiters::ids(waiter, &request, &answer)?;
            waiters::wait(
                &client,
                &model.service,
                &model.api_version,
                waiter,
                &ids,
                wait_deadline,
            )
            .await?;
            return Ok(Vec::new());
        }
        Ok::<_, CliError>(text)
    })
}

/// The answer decoded, but printing it as tccli does (every declared member,
/// `null` where absent) would pass the limits.
fn too_complex(limit: tencentcloud_model::budget::LimitExceeded) -> CliError {
    CliError::call(format!("cannot print the answer: {limit}"))
}

/// Text and table write the service's strings raw, as tccli does, into a
/// pipe or a file; on a terminal, inert (line feeds included, so that a
/// value cannot forge a line).
fn strings_for_stdout() -> crate::format::Strings {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        crate::format::Strings::Inert
    } else {
        crate::format::Strings::Raw
    }
}

/// `--cli-input-json`: `file://PATH`, or the JSON itself.
fn cli_input_json(source: &str) -> Result<Value, CliError> {
    const MAX_BYTES: u64 = 64 << 20;
    let (text, from) = match source.strip_prefix("file://") {
        Some(path) => {
            // As tccli: `file://~/req.json`.
            let path = match (
                path.strip_prefix("~/"),
                tencentcloud_runtime::Env::process().home(),
            ) {
                (Some(rest), Some(home)) => home.join(rest),
                _ => std::path::PathBuf::from(path),
            };
            let shown = path.display().to_string();
            let failed = |e: std::io::Error| CliError::usage(format!("--cli-input-json {shown}: {e}"));
            let mut text = String::new();
            // Bounded by reading, not by the file's size: a pipe or a device
            // has none.
            use std::io::Read;
            std::fs::File::open(&path)
                .map_err(failed)?
                .take(MAX_BYTES + 1)
                .read_to_string(&mut text)
                .map_err(failed)?;
            if text.len() as u64 > MAX_BYTES {
                return Err(CliError::usage(format!(
                    "--cli-input-json {shown}: larger than 64 MiB"
                )));
            }
            (text, shown)
        }
        None => (source.to_owned(), "the argument".to_owned()),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("--cli-input-json: {from} is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(CliError::parameter(
            "InvalidParameter",
            format!("--cli-input-json: {from} must be a JSON object of parameters"),
        ));
    }
    Ok(value)
}

/// Whether a `ClientToken` is left for tcloud to make.
fn token_missing(token: Option<&Value>) -> bool {
    match token {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}
