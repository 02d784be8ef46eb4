//! A waiter read at run time, as tcloud runs them: the model's checked
//! `Waiter` turned into a `WaiterSpec` (owned, not `'static`) and driven by
//! `wait` with a closure that reads answers by the waiter it captures.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tencentcloud_model::waiters::Waiter;
use tencentcloud_runtime::waiter::{
    self, Acceptor, AcceptorState, Comparator, Observation, PathRef, WaiterSpec,
};
use tencentcloud_runtime::{WaitError, WaitOptions};

const API: &str = r#"{
  "actions": {
    "DescribeThings": {
      "document": "Describes things by id.",
      "input": "DescribeThingsRequest",
      "name": "Describe things",
      "output": "DescribeThingsResponse",
      "status": "online"
    }
  },
  "metadata": { "apiVersion": "2024-06-01", "serviceShortName": "things" },
  "objects": {
    "DescribeThingsRequest": {
      "document": "Parameters of DescribeThings.",
      "members": [
        { "document": "Things to describe.", "member": "string", "name": "ThingIds", "type": "list", "required": false }
      ],
      "type": "object"
    },
    "DescribeThingsResponse": {
      "document": "Result of DescribeThings.",
      "members": [
        { "document": "The things.", "member": "Thing", "name": "ThingSet", "type": "list", "output_required": true },
        { "document": "Request ID.", "member": "string", "name": "RequestId", "type": "string" }
      ],
      "type": "object"
    },
    "Thing": {
      "document": "A thing.",
      "members": [
        { "document": "Its id.", "member": "string", "name": "ThingId", "type": "string", "output_required": true },
        { "document": "READY, PENDING or BROKEN.", "member": "string", "name": "State", "type": "string", "output_required": true }
      ],
      "type": "object"
    }
  },
  "version": "1.0"
}"#;

const ERRORS: &str = r#"{ "codes": {}, "common": [], "actions": {} }"#;
const RULES: &str = r#"{ "objects": {} }"#;
const WAITERS: &str = r#"{
  "waiters": {
    "ThingsReady": {
      "documentation": "Waits until every thing is READY; fails when one is BROKEN.",
      "action": "DescribeThings",
      "ids": { "input": "ThingIds", "items": "ThingSet", "key": "ThingId" },
      "min_delay": 1,
      "max_delay": 4,
      "deadline": 60,
      "acceptors": [
        { "state": "failure", "matcher": { "path": "State", "comparator": "any", "expected": "BROKEN" } },
        { "state": "success", "matcher": { "path": "State", "comparator": "all", "expected": "READY" } }
      ]
    }
  }
}"#;

fn waiter() -> Waiter {
    let model = tencentcloud_model::model_from_texts(API, ERRORS, RULES, Some(WAITERS))
        .expect("the description is valid");
    let [waiter] = <[Waiter; 1]>::try_from(model.waiters).expect("one waiter");
    waiter
}

/// What tcloud does: read the waiter's paths out of an untyped answer.
fn observe(waiter: &Waiter, answer: &Value) -> Observation {
    let read = |value: &Value, chain: &[String]| {
        chain
            .iter()
            .try_fold(value, |v, key| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let items = answer[&waiter.items]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let key = read(item, std::slice::from_ref(&waiter.key))?;
            Some((key, waiter.item_paths.iter().map(|p| read(item, p)).collect()))
        })
        .collect();
    Observation {
        items,
        root: waiter.root_paths.iter().map(|p| read(answer, p)).collect(),
    }
}

fn answer(things: &[(&str, &str)]) -> Value {
    let set: Vec<Value> = things
        .iter()
        .map(|(id, state)| json!({"ThingId": id, "State": state}))
        .collect();
    json!({"ThingSet": set, "RequestId": "r"})
}

#[test]
fn the_model_waiter_converts_field_for_field() {
    let spec = WaiterSpec::from(&waiter());
    assert_eq!(
        spec,
        WaiterSpec {
            name: Cow::Borrowed("ThingsReady"),
            action: Cow::Borrowed("DescribeThings"),
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(4),
            deadline: Duration::from_secs(60),
            acceptors: Cow::Borrowed(&[
                Acceptor {
                    state: AcceptorState::Failure,
                    comparator: Comparator::Any,
                    path: Cow::Borrowed("State"),
                    value: PathRef::Item(0),
                    expected: Cow::Borrowed("BROKEN"),
                },
                Acceptor {
                    state: AcceptorState::Success,
                    comparator: Comparator::All,
                    path: Cow::Borrowed("State"),
                    value: PathRef::Item(0),
                    expected: Cow::Borrowed("READY"),
                },
            ]),
            absent: None,
        }
    );
}

#[tokio::test]
async fn a_spec_built_at_run_time_drives_the_engine_with_a_capturing_closure() {
    let waiter = waiter();
    let spec = WaiterSpec::from(&waiter);
    let ids = vec!["t-1".to_owned(), "t-2".to_owned()];
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let options = WaitOptions::new()
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_progress(move |p| {
            sink.lock()
                .unwrap()
                .push((p.waiter.to_owned(), p.polls, p.ready, p.total))
        });

    let script = Mutex::new(vec![
        answer(&[("t-1", "PENDING"), ("t-2", "PENDING")]),
        answer(&[("t-1", "READY"), ("t-2", "PENDING")]),
        answer(&[("t-1", "READY"), ("t-2", "READY"), ("t-3", "BROKEN")]),
    ]);
    let outcome = waiter::wait::<Value, Infallible, _, _>(
        &spec,
        &ids,
        &options,
        || {
            let next = script.lock().unwrap().remove(0);
            async move { Ok(next) }
        },
        |answer| observe(&waiter, answer),
    )
    .await
    .unwrap();
    assert_eq!(outcome.polls, 3);
    assert_eq!(outcome.response["ThingSet"][1]["State"], "READY");
    assert_eq!(
        *reports.lock().unwrap(),
        [
            ("ThingsReady".to_owned(), 1, 0, 2),
            ("ThingsReady".to_owned(), 2, 1, 2)
        ]
    );

    // A failure acceptor ends the wait; the error owns its text and
    // outlives the spec it came from.
    let error = {
        let spec = WaiterSpec {
            name: Cow::Owned("things-ready".to_owned()),
            ..WaiterSpec::from(&waiter)
        };
        waiter::wait::<Value, Infallible, _, _>(
            &spec,
            &ids,
            &WaitOptions::new(),
            || async { Ok(answer(&[("t-1", "READY"), ("t-2", "BROKEN")])) },
            |answer| observe(&waiter, answer),
        )
        .await
        .unwrap_err()
    };
    match &error {
        WaitError::Failed {
            waiter,
            id,
            path,
            value,
            polls,
        } => {
            assert_eq!(
                (
                    waiter.as_str(),
                    id.as_deref(),
                    path.as_str(),
                    value.as_str(),
                    *polls
                ),
                ("things-ready", Some("t-2"), "State", "BROKEN", 1)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "things-ready: t-2 State is BROKEN, so it will not happen (after 1 poll)"
    );
}
