//! `cvm-emulator demo`: starts an emulator, seeds stopped instances, and
//! starts them with the real [`cvm_api::Client`] (real HTTP, real TC3
//! signatures), printing every step.

use std::fmt::Write as _;
use std::io::Write;
use std::time::{Duration, Instant};

use cvm_api::{InstanceState, LatestOperationState, StartInstancesError};

use crate::config::{EmulatorConfig, DEMO_SECRET_ID};
use crate::cvm::state_file::State;
use crate::emulator::Emulator;

/// What the demo does.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of stopped instances to seed and start (1 to 100).
    pub instances: usize,
    /// Transition time of the emulator.
    pub transition: Duration,
    /// Zone of the instances; the region is derived from it.
    pub zone: String,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            instances: 3,
            transition: Duration::from_millis(500),
            zone: "ap-guangzhou-3".to_owned(),
        }
    }
}

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
#[error("demo failed: {0}")]
pub struct DemoError(String);

fn fail(what: impl std::fmt::Display) -> DemoError {
    DemoError(what.to_string())
}

/// Runs the demo, writing its narration to `out`.
pub async fn run(options: &DemoOptions, out: &mut (dyn Write + Send)) -> Result<(), DemoError> {
    if !(1..=100).contains(&options.instances) {
        return Err(fail("--instances must be between 1 and 100"));
    }
    let region = crate::cvm::ids::region_of_zone(&options.zone).to_owned();
    let state = State::new().with_random_instances(&options.zone, "STOPPED", options.instances);
    let ids: Vec<String> = state
        .instances
        .iter()
        .map(|s| s.instance.instance_id.clone())
        .collect();
    let config = EmulatorConfig::default()
        .with_transition(options.transition)
        .with_state(state);
    let emulator = Emulator::start(config, "127.0.0.1:0")
        .await
        .map_err(|e| fail(format!("cannot start the emulator: {e}")))?;
    let client = emulator
        .client(&region)
        .map_err(|e| fail(format!("cannot build the client: {e}")))?;
    let say = |out: &mut (dyn Write + Send), text: &str| -> Result<(), DemoError> {
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| fail(format!("cannot write the output: {e}")))
    };

    say(
        out,
        &format!(
            "cvm-emulator demo: the cvm-api client against a local CVM endpoint\n\
             \x20 endpoint    {} (region {region}, transition {} ms)\n\
             \x20 credential  {DEMO_SECRET_ID} (the public demo credential)\n\
             \x20 seeded      {} STOPPED instance(s): {}\n\n",
            emulator.endpoint_url(),
            options.transition.as_millis(),
            ids.len(),
            ids.join(", ")
        ),
    )?;

    // 1. Start them.
    say(out, &format!("1. StartInstances {}\n", ids.join(", ")))?;
    let started = Instant::now();
    let start = client.start_instances().set_instance_ids(ids.clone());
    let response = start
        .clone()
        .send()
        .await
        .map_err(|e| fail(format!("StartInstances failed: {e}")))?;
    say(out, &format!("   accepted (RequestId {})\n", response.request_id))?;

    // 2. Poll until every one is RUNNING.
    say(out, "2. DescribeInstances until all are RUNNING\n")?;
    let deadline = started + options.transition * 4 + Duration::from_secs(10);
    let poll_every = Duration::from_millis(150);
    let describe = client.describe_instances().set_instance_ids(ids.clone());
    let mut polls = 0u32;
    loop {
        polls += 1;
        let response = describe
            .clone()
            .send()
            .await
            .map_err(|e| fail(format!("DescribeInstances failed: {e}")))?;
        let mut line = format!("   poll {polls:<2} +{:.2} s ", started.elapsed().as_secs_f64());
        for instance in &response.instance_set {
            let _ = write!(line, " {} {}", instance.instance_id, instance.instance_state);
        }
        let _ = writeln!(line, "  (RequestId {})", response.request_id);
        say(out, &line)?;
        if response.instance_set.len() != ids.len() {
            return Err(fail(format!(
                "DescribeInstances returned {} of the {} instances",
                response.instance_set.len(),
                ids.len()
            )));
        }
        if response
            .instance_set
            .iter()
            .all(|i| i.instance_state == InstanceState::Running)
        {
            let operation_ok = response.instance_set.iter().all(|i| {
                i.latest_operation.as_deref() == Some("StartInstances")
                    && i.latest_operation_state == Some(LatestOperationState::Success)
            });
            if !operation_ok {
                return Err(fail(
                    "instances are RUNNING but LatestOperation is not StartInstances/SUCCESS",
                ));
            }
            break;
        }
        if Instant::now() >= deadline || polls >= 200 {
            return Err(fail("the instances did not reach RUNNING in time"));
        }
        tokio::time::sleep(poll_every).await;
    }
    let took = started.elapsed();

    // 3. Starting a running instance is refused with the documented code.
    say(
        out,
        "3. StartInstances again: a running instance cannot be started\n",
    )?;
    match start.send().await {
        Err(cvm_api::Error::Service(StartInstancesError::UnsupportedOperationInstanceStateRunning(e))) => {
            say(
                out,
                &format!(
                    "   refused as expected: {}\n   {} (RequestId {})\n",
                    e.code(),
                    e.message(),
                    e.request_id()
                ),
            )?;
        }
        Err(e) => {
            return Err(fail(format!(
                "expected UnsupportedOperation.InstanceStateRunning, got: {e}"
            )))
        }
        Ok(_) => {
            return Err(fail(
                "expected UnsupportedOperation.InstanceStateRunning, but the call succeeded",
            ))
        }
    }

    emulator.shutdown().await;
    say(
        out,
        &format!(
            "\nOK: {} instance(s) STOPPED -> RUNNING in {:.2} s, over HTTP with TC3-signed requests.\n",
            ids.len(),
            took.as_secs_f64()
        ),
    )?;
    Ok(())
}
