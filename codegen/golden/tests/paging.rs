//! The generated paginators and waiters of the `paging` fixture, against a
//! local server that pages and changes state as scripted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::post;
use codegen_golden::paging::types::{ListPoolsRequest, ListSlotsRequest, ListThingsRequest};
use codegen_golden::paging::Client;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tencentcloud_runtime::{
    Config, Credentials, Endpoint, InvalidResponseKind, SecretKey, WaitError, WaitOptions,
};

/// What the server answers, and what it was asked.
#[derive(Default)]
struct Server {
    things: Vec<Value>,
    /// ListThings: claim one more thing than exists, forever.
    endless: bool,
    /// ListThings: fail the page at this offset.
    fail_at: Option<i64>,
    pools: Vec<&'static str>,
    /// ListPools: answer this token on every page.
    stuck_token: Option<&'static str>,
    /// DescribeThings: answers in turn (the last repeats).
    describe: Vec<Value>,
    /// ListSlots: `Offset`, `Limit` and `TotalCount` are decimal strings.
    slots: Vec<Value>,
    asked: Vec<(String, Value)>,
}

type Shared = Arc<Mutex<Server>>;

fn envelope(mut response: Value) -> String {
    response["RequestId"] = json!("req-1");
    json!({ "Response": response }).to_string()
}

async fn answer(
    axum::extract::State(server): axum::extract::State<Shared>,
    headers: HeaderMap,
    body: String,
) -> String {
    let action = headers["x-tc-action"].to_str().unwrap().to_owned();
    let request: Value = serde_json::from_str(&body).unwrap();
    let mut s = server.lock().unwrap();
    s.asked.push((action.clone(), request.clone()));
    match action.as_str() {
        "ListThings" => {
            let offset = request["Offset"].as_i64().unwrap_or(0);
            let limit = request["Limit"].as_i64().unwrap();
            if s.fail_at == Some(offset) {
                return envelope(json!({"Error": {"Code": "InternalError", "Message": "scripted"}}));
            }
            if s.endless {
                let page: Vec<Value> = (0..limit)
                    .map(|i| json!({"ThingId": format!("t-{}", offset + i), "State": "READY"}))
                    .collect();
                return envelope(json!({"ThingSet": page, "TotalCount": offset + limit + 1}));
            }
            let page: Vec<Value> = s
                .things
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            envelope(json!({"ThingSet": page, "TotalCount": s.things.len()}))
        }
        "ListPools" => {
            let size = request["MaxResults"].as_u64().unwrap() as usize;
            let start: usize = request["NextToken"]
                .as_str()
                .map_or(0, |t| t.trim_start_matches('p').parse().unwrap());
            let page: Vec<&str> = s.pools.iter().skip(start).take(size).copied().collect();
            let next = match s.stuck_token {
                Some(token) => token.to_owned(),
                None if start + size < s.pools.len() => format!("p{}", start + size),
                None => String::new(),
            };
            envelope(json!({"PoolSet": page, "NextToken": next}))
        }
        "ListSlots" => {
            let number = |member: &str| {
                let text = request[member].as_str();
                text.map(|t| t.parse::<usize>().unwrap_or_else(|_| panic!("{member} {t:?}")))
            };
            let offset = number("Offset").expect("Offset, a string");
            // The service's default page size, when Limit is not sent.
            let limit = number("Limit").unwrap_or(4);
            let page: Vec<Value> = s.slots.iter().skip(offset).take(limit).cloned().collect();
            envelope(json!({
                "SlotSet": page,
                "Errors": ["a list of strings, not the items"],
                "TotalCount": s.slots.len().to_string(),
            }))
        }
        "DescribeThings" => {
            let next = if s.describe.len() > 1 {
                s.describe.remove(0)
            } else {
                s.describe[0].clone()
            };
            envelope(next)
        }
        other => panic!("unexpected action {other}"),
    }
}

async fn start(server: Server) -> (Client, Shared, tokio::task::JoinHandle<()>) {
    let shared: Shared = Arc::new(Mutex::new(server));
    let app = axum::Router::new()
        .route("/", post(answer))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let config = Config::new(Credentials::new("AKIDpaging", SecretKey::new("k")))
        .with_endpoint(Endpoint::custom(&url).unwrap())
        .with_region("ap-guangzhou");
    let runtime = tencentcloud_runtime::Client::new(config).unwrap();
    (Client::new(&runtime), shared, task)
}

fn things(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"ThingId": format!("t-{i}"), "State": "READY"}))
        .collect()
}

fn asked(shared: &Shared, action: &str) -> Vec<Value> {
    let s = shared.lock().unwrap();
    s.asked
        .iter()
        .filter(|(a, _)| a == action)
        .map(|(_, r)| r.clone())
        .collect()
}

#[tokio::test]
async fn offset_paging_follows_offset_until_total_count() {
    let (client, shared, _task) = start(Server {
        things: things(23),
        ..Default::default()
    })
    .await;
    let request = {
        let mut new_value = ListThingsRequest::default();
        new_value.zone = Some("z-1".into());
        new_value.limit = Some(10);
        new_value
    };
    let items: Vec<_> = client
        .call(request.clone())
        .into_paginator()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = items.iter().map(|t| t.thing_id.clone().unwrap()).collect();
    assert_eq!(ids, (0..23).map(|i| format!("t-{i}")).collect::<Vec<_>>());
    let pages = asked(&shared, "ListThings");
    let offsets: Vec<_> = pages
        .iter()
        .map(|r| (r["Offset"].as_i64(), r["Limit"].as_i64()))
        .collect();
    // The first page says where it starts too: some actions require `Offset`.
    assert_eq!(
        offsets,
        [(Some(0), Some(10)), (Some(10), Some(10)), (Some(20), Some(10))]
    );
    assert!(
        pages.iter().all(|r| r["Zone"] == "z-1"),
        "every page keeps the filters"
    );

    // Without a size of its own, the paginator asks for the spec's largest page.
    let pages = client
        .call((ListThingsRequest::default()).clone())
        .into_paginator()
        .with_page_size(100)
        .by_page();
    assert_eq!(pages.count().await, 1);
}

/// `Offset`, `Limit` and `TotalCount` declared as strings (VPC's
/// `DescribeVpcs`): the paginator writes decimal strings and reads the total
/// from one; the list of strings beside the items is not paged.
#[tokio::test]
async fn offset_paging_with_decimal_strings() {
    let (client, shared, _task) = start(Server {
        slots: things(11),
        ..Default::default()
    })
    .await;
    let ids = |items: Vec<codegen_golden::paging::types::Thing>| -> Vec<String> {
        items.into_iter().map(|t| t.thing_id.unwrap()).collect()
    };
    let expected: Vec<String> = (0..11).map(|i| format!("t-{i}")).collect();
    let items: Vec<_> = client
        .call(ListSlotsRequest::default())
        .into_paginator()
        .with_page_size(5)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(items), expected);
    let sent: Vec<Value> = asked(&shared, "ListSlots")
        .iter()
        .map(|r| json!([r["Offset"], r["Limit"]]))
        .collect();
    assert_eq!(sent, [json!(["0", "5"]), json!(["5", "5"]), json!(["10", "5"])]);

    // No size of its own nor in the spec (a string has no maximum): the
    // service's page size, until TotalCount.
    shared.lock().unwrap().asked.clear();
    let items: Vec<_> = client
        .call(ListSlotsRequest::default())
        .into_paginator()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(items), expected);
    let offsets: Vec<Value> = asked(&shared, "ListSlots")
        .iter()
        .map(|r| r["Offset"].clone())
        .collect();
    assert_eq!(offsets, [json!("0"), json!("4"), json!("8")]);
    assert!(asked(&shared, "ListSlots")
        .iter()
        .all(|r| r.get("Limit").is_none()));

    // The request's own Offset and Limit, read from their strings.
    shared.lock().unwrap().asked.clear();
    let request = ListSlotsRequest::new().set_offset("6").set_limit("2");
    let items: Vec<_> = client
        .call(request)
        .into_paginator()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(items), expected[6..]);
    let sent: Vec<Value> = asked(&shared, "ListSlots")
        .iter()
        .map(|r| json!([r["Offset"], r["Limit"]]))
        .collect();
    assert_eq!(sent, [json!(["6", "2"]), json!(["8", "2"]), json!(["10", "2"])]);
}

#[tokio::test]
async fn a_server_that_never_ends_stops_at_the_page_limit() {
    let (client, _shared, _task) = start(Server {
        endless: true,
        ..Default::default()
    })
    .await;
    let request = {
        let mut new_value = ListThingsRequest::default();
        new_value.limit = Some(5);
        new_value
    };
    let pages: Vec<_> = client
        .call(request.clone())
        .into_paginator()
        .with_max_pages(4)
        .by_page()
        .collect()
        .await;
    assert_eq!(pages.len(), 5);
    assert!(pages[..4].iter().all(Result::is_ok));
    match &pages[4] {
        Err(tencentcloud_runtime::Error::InvalidResponse { kind, reason, .. }) => {
            assert_eq!(*kind, InvalidResponseKind::EndlessPaging);
            assert!(reason.contains("after 4 pages"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_error_ends_the_stream_after_the_good_pages() {
    let (client, _shared, _task) = start(Server {
        things: things(30),
        fail_at: Some(10),
        ..Default::default()
    })
    .await;
    let request = {
        let mut new_value = ListThingsRequest::default();
        new_value.limit = Some(10);
        new_value
    };
    let pages: Vec<_> = client
        .with_options(
            tencentcloud_runtime::CallOptions::new()
                .with_retry(tencentcloud_runtime::RetryConfig::disabled()),
        )
        .call(request.clone())
        .into_paginator()
        .by_page()
        .collect()
        .await;
    assert_eq!(pages.len(), 2);
    assert!(pages[0].is_ok());
    assert_eq!(pages[1].as_ref().unwrap_err().code(), Some("InternalError"));
}

#[tokio::test]
async fn token_paging_follows_next_token_and_refuses_a_repeated_one() {
    let pools: Vec<&'static str> = vec![
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t",
        "u", "v", "w", "x", "y",
    ];
    let (client, shared, _task) = start(Server {
        pools: pools.clone(),
        ..Default::default()
    })
    .await;
    let all: Vec<String> = client
        .call((ListPoolsRequest::default()).clone())
        .into_paginator()
        .by_item()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, pools);
    let tokens: Vec<_> = asked(&shared, "ListPools")
        .iter()
        .map(|r| (r["NextToken"].clone(), r["MaxResults"].clone()))
        .collect();
    assert_eq!(tokens, [(Value::Null, json!(20)), (json!("p20"), json!(20))]);

    let (client, _shared, _task) = start(Server {
        pools,
        stuck_token: Some("p1"),
        ..Default::default()
    })
    .await;
    let pages: Vec<_> = client
        .call((ListPoolsRequest::default()).clone())
        .into_paginator()
        .by_page()
        .collect()
        .await;
    assert_eq!(pages.len(), 3, "two good pages, then the error");
    match &pages[2] {
        Err(tencentcloud_runtime::Error::InvalidResponse {
            kind: InvalidResponseKind::EndlessPaging,
            reason,
            ..
        }) => {
            assert!(reason.contains("NextToken `p1` again"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

fn fast() -> WaitOptions {
    WaitOptions::new().with_delays(Duration::from_millis(5), Duration::from_millis(20))
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn waiters_reach_success_fail_fast_and_give_up_clearly() {
    let step = |states: &[(&str, &str)]| json!({"TotalCount": states.len(), "ThingSet": states.iter().map(|(id, st)| json!({"ThingId": id, "State": st})).collect::<Vec<_>>()});
    let (client, shared, _task) = start(Server {
        describe: vec![
            step(&[("t-1", "PENDING"), ("t-2", "PENDING")]),
            step(&[("t-1", "READY"), ("t-2", "PENDING")]),
            step(&[("t-1", "READY"), ("t-2", "READY")]),
        ],
        ..Default::default()
    })
    .await;
    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = progress.clone();
    let outcome = client
        .wait_until_things_ready(
            &ids(&["t-1", "t-2"]),
            &fast().with_progress(move |p| sink.lock().unwrap().push(p.ready)),
        )
        .await
        .unwrap();
    assert_eq!(outcome.polls, 3);
    assert_eq!(*progress.lock().unwrap(), [0, 1]);
    // Each poll asks for exactly the awaited ids, on one page of the largest size.
    let polls = asked(&shared, "DescribeThings");
    assert!(
        polls
            .iter()
            .all(|r| *r == json!({"ThingIds": ["t-1", "t-2"], "Limit": 50})),
        "{polls:?}"
    );

    let (client, _shared, _task) = start(Server {
        describe: vec![step(&[("t-1", "READY"), ("t-2", "BROKEN")])],
        ..Default::default()
    })
    .await;
    let error = client
        .wait_until_things_ready(&ids(&["t-1", "t-2"]), &fast())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, WaitError::Failed { id: Some(id), value, polls: 1, .. } if id == "t-2" && value == "BROKEN"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "ThingsReady: t-2 State is BROKEN, so it will not happen (after 1 poll)"
    );

    let (client, _shared, _task) = start(Server {
        describe: vec![step(&[("t-1", "READY")])],
        ..Default::default()
    })
    .await;
    let error = client
        .wait_until_things_ready(
            &ids(&["t-1", "t-2"]),
            &fast().with_deadline(Duration::from_millis(150)),
        )
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("ThingsReady: gave up after")
            && text.ends_with("last seen: t-1 READY, t-2 not listed"),
        "{text}"
    );
}

#[tokio::test]
async fn absent_nested_and_root_paths() {
    let (client, _shared, _task) = start(Server {
        describe: vec![
            json!({"TotalCount": 2, "ThingSet": [{"ThingId": "t-1", "State": "GONE"}, {"ThingId": "t-2", "State": "LEAVING"}]}),
            json!({"TotalCount": 1, "ThingSet": [{"ThingId": "t-1", "State": "GONE"}]}),
        ],
        ..Default::default()
    })
    .await;
    let outcome = client
        .wait_until_things_gone(&ids(&["t-1", "t-2"]), &fast())
        .await
        .unwrap();
    assert_eq!(outcome.polls, 2, "t-2 no longer listed counts as gone");

    let (client, _shared, _task) = start(Server {
        describe: vec![
            json!({"TotalCount": 1, "ThingSet": [{"ThingId": "t-1", "State": "READY"}]}),
            json!({"TotalCount": 1, "ThingSet": [{"ThingId": "t-1", "State": "READY", "Health": {"Status": "OK", "Score": 0}}]}),
            json!({"TotalCount": 1, "ThingSet": [{"ThingId": "t-1", "State": "READY", "Health": {"Status": "OK", "Score": 7}}]}),
        ],
        ..Default::default()
    })
    .await;
    let outcome = client
        .wait_until_things_healthy(&ids(&["t-1"]), &fast())
        .await
        .unwrap();
    assert_eq!(
        outcome.polls, 3,
        "no health yet, then a retry acceptor on score 0, then OK"
    );

    let (client, _shared, _task) = start(Server {
        describe: vec![
            json!({"TotalCount": 0, "ThingSet": [], "Summary": {"Phase": "RUNNING"}}),
            json!({"TotalCount": 0, "ThingSet": [], "Summary": {"Phase": "DONE"}}),
        ],
        ..Default::default()
    })
    .await;
    let outcome = client
        .wait_until_batch_done(&ids(&["t-1"]), &fast())
        .await
        .unwrap();
    assert_eq!(outcome.polls, 2);
    assert_eq!(outcome.response.summary.unwrap().phase.as_deref(), Some("DONE"));

    let error = client.wait_until_batch_done(&[], &fast()).await.unwrap_err();
    assert!(error.to_string().contains("needs at least one id"), "{error}");
}
