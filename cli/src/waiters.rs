//! Waiting after a call: tccli's `--waiter` (repeat the call until a
//! JMESPath expression reaches a value) and the waiters of `waiters.json` by
//! name (`--wait instances-running`), run by the runtime's waiter engine.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use serde_json::Value;
use tencentcloud_model::waiters::Waiter;
use tencentcloud_model::words::snake_words;
use tencentcloud_runtime::waiter::{self, Observation, WaiterSpec};
use tencentcloud_runtime::{CallOptions, Client, WaitError, WaitOptions};

use crate::error::CliError;
use crate::output::{Filter, Node};

/// The shortest pause between `--waiter` calls.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// tccli's `--waiter`.
pub struct TccliWaiter {
    expression: String,
    filter: Filter,
    to: Value,
    timeout: Duration,
    interval: Duration,
}

impl TccliWaiter {
    /// Parses `{"expr": .., "to": .., "timeout": 180, "interval": 5}`
    /// (seconds; tccli's defaults).
    pub fn parse(text: &str) -> Result<TccliWaiter, CliError> {
        let bad = |why: String| CliError::usage(format!("--waiter: {why}"));
        let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let expression = value
            .get("expr")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`expr` (a JMESPath expression) is required".into()))?
            .to_owned();
        let to = value
            .get("to")
            .cloned()
            .ok_or_else(|| bad("`to` (the value awaited) is required".into()))?;
        let seconds = |key: &str, default: f64| -> Result<Duration, CliError> {
            match value.get(key) {
                None => Ok(Duration::from_secs_f64(default)),
                Some(v) => v
                    .as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| bad(format!("`{key}` takes seconds (0 to 86400)"))),
            }
        };
        let timeout = seconds("timeout", 180.0)?;
        // A floor, so that `"interval": 0` polls, not floods.
        let interval = seconds("interval", 5.0)?.min(timeout).max(MIN_INTERVAL);
        let filter = Filter::compile(&expression, "--waiter")?;
        Ok(TccliWaiter {
            expression,
            filter,
            to,
            timeout,
            interval,
        })
    }

    /// Calls `call` until the expression, applied to what would be printed
    /// (`project`ed), equals `to`; returns that answer and output. Gives up
    /// once `timeout` has passed.
    pub async fn run<F, Fut>(
        &self,
        mut call: F,
        project: impl Fn(&Value) -> Result<Node, CliError>,
    ) -> Result<(Value, Node), CliError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Value, CliError>>,
    {
        let started = Instant::now();
        let wanted = Node::from(&self.to);
        let terminal = std::io::stderr().is_terminal();
        let mut announce = true;
        loop {
            let answer = call().await?;
            let output = project(&answer)?;
            let found = self.filter.search(&output)?;
            if found == wanted {
                return Ok((answer, output));
            }
            let shown = Value::from(&found);
            if started.elapsed() >= self.timeout {
                return Err(CliError::call(format!(
                    "Request timeout, wait `{}` to `{}` timeout, last request is {shown}",
                    self.expression, self.to
                )));
            }
            if terminal {
                eprintln!("Inquiry result is {shown}.");
            } else if std::mem::replace(&mut announce, false) {
                // Off a terminal, one line as the waiting begins, as --wait
                // prints, so that a log does not go silent until the timeout.
                eprintln!(
                    "--waiter: waiting for `{}` to be {} (every {:.1} s, for up to {:.0} s); now {shown}",
                    self.expression,
                    self.to,
                    self.interval.as_secs_f64(),
                    self.timeout.as_secs_f64()
                );
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}

/// The waiter's name on the command line: `instances-running` for the
/// SDK's `wait_until_instances_running`; both are made from the model's
/// [`snake_words`], so that the two always agree.
pub fn cli_name(waiter: &Waiter) -> String {
    snake_words(&waiter.name).replace('_', "-")
}

/// The waiter `name` (kebab or as declared) of the service.
pub fn find<'m>(waiters: &'m [Waiter], name: &str) -> Result<&'m Waiter, CliError> {
    waiters
        .iter()
        .find(|w| cli_name(w) == name || w.name == name)
        .ok_or_else(|| {
            let names: Vec<String> = waiters.iter().map(cli_name).collect();
            if names.is_empty() {
                CliError::usage(format!("--wait {name}: this service declares no waiters"))
            } else {
                CliError::usage(format!(
                    "--wait {name}: no such waiter; this service has {}",
                    names.join(", ")
                ))
            }
        })
}

/// The ids to await: the request's member the waiter takes them in
/// (`InstanceIds`), else the same member of the answer, else the answer's
/// only list of strings (`RunInstances`' `InstanceIdSet`).
pub fn ids(waiter: &Waiter, request: &Value, answer: &Value) -> Result<Vec<String>, CliError> {
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect()
    };
    if let Some(ids) = request.get(&waiter.ids_input).and_then(strings) {
        return Ok(ids);
    }
    if let Some(ids) = answer.get(&waiter.ids_input).and_then(strings) {
        return Ok(ids);
    }
    let lists: Vec<Vec<String>> = answer
        .as_object()
        .map(|m| m.values().filter_map(strings).collect())
        .unwrap_or_default();
    match <[Vec<String>; 1]>::try_from(lists) {
        Ok([ids]) if !ids.is_empty() => Ok(ids),
        // The call was made: a failed command, not a refused one.
        _ => Err(CliError::call(format!(
            "--wait {}: no ids to wait for; give --{}",
            cli_name(waiter),
            waiter.ids_input
        ))),
    }
}

/// What one answer says at the waiter's paths: each listed item's key and
/// values, and the answer's own values.
fn observe(waiter: &Waiter, answer: &Value) -> Observation {
    let read = |value: &Value, chain: &[String]| -> Option<String> {
        let found = chain.iter().try_fold(value, |v, key| v.get(key))?;
        match found {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    let items = answer
        .get(&waiter.items)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let key = read(item, std::slice::from_ref(&waiter.key))?;
                    let values = waiter.item_paths.iter().map(|p| read(item, p)).collect();
                    Some((key, values))
                })
                .collect()
        })
        .unwrap_or_default();
    Observation {
        items,
        root: waiter.root_paths.iter().map(|p| read(answer, p)).collect(),
    }
}

/// Runs `waiter` over `ids`, polling its action through `client`.
pub async fn wait(
    client: &Client,
    service: &str,
    version: &str,
    waiter: &Waiter,
    ids: &[String],
    deadline: Option<Duration>,
) -> Result<(), CliError> {
    // Named as on the command line, in progress and errors.
    let spec = WaiterSpec {
        name: cli_name(waiter).into(),
        ..WaiterSpec::from(waiter)
    };
    let mut options = WaitOptions::new();
    if let Some(deadline) = deadline {
        options = options.with_deadline(deadline);
    }
    if !std::io::stderr().is_terminal() {
        // Into a log or a pipe, one line, so that a long wait is not silent;
        // on a terminal, the progress lines below say more.
        let within = deadline.map_or(waiter.deadline, |d| d.as_secs_f64().ceil() as u64);
        eprintln!(
            "{}: waiting for {} {} (polling {} every {} to {} s, for up to {within} s)",
            spec.name,
            ids.len(),
            if ids.len() == 1 { "resource" } else { "resources" },
            waiter.action,
            waiter.min_delay,
            waiter.max_delay,
        );
    } else {
        options = options.with_progress(|p| {
            let states: Vec<String> = p
                .states
                .iter()
                .take(5)
                .map(|(id, state)| format!("{id} {}", state.as_deref().unwrap_or("not listed")))
                .collect();
            eprintln!(
                "{}: {}/{} ready after {} polls ({:.0} s): {}",
                p.waiter,
                p.ready,
                p.total,
                p.polls,
                p.elapsed.as_secs_f64(),
                states.join(", ")
            );
        });
    }
    let mut request = serde_json::Map::new();
    request.insert(waiter.ids_input.clone(), ids.into());
    let request = Value::Object(request);
    let call_options = CallOptions::new().with_idempotent(true);
    let poll = || client.call_with::<_, Value>(service, version, &waiter.action, &request, &call_options);
    match waiter::wait(&spec, ids, &options, poll, |answer| observe(waiter, answer)).await {
        Ok(_) => Ok(()),
        Err(WaitError::Call(e)) => Err(CliError::from(e)),
        Err(e) => Err(CliError::call(e.to_string())),
    }
}
