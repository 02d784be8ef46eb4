//! Every service whose crate is in the workspace, through its generated
//! client: the gateway's checks per service, `UnsupportedOperation` for the
//! actions not emulated, VPC's `DescribeVpcs`/`DescribeSubnets` against
//! CVM's `DescribeInstances`, and the `fleet` example run as a process.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use crate::common::{code, http_text, raw_envelope, raw_http, start, Call, REGION, ZONE};
use cvm_api::runtime::{ActionError, Client as Runtime, Error};
use cvm_emulator::{RunningEmulator, State, StoredInstance, DEMO_SECRET_ID, DEMO_SECRET_KEY};
use serde_json::{json, Value};

/// A second zone of [`REGION`], and a zone of another region.
const ZONE_B: &str = "ap-guangzhou-4";
const OTHER_ZONE: &str = "ap-shanghai-2";

/// (scope, version, an action that is not emulated and needs no member).
const SERVICES: [(&str, &str, &str); 6] = [
    ("cvm", "2017-03-12", "DescribeHosts"),
    ("sts", "2018-08-13", "GetCallerIdentity"),
    ("vpc", "2017-03-12", "DescribeRouteTables"),
    ("cbs", "2017-03-12", "DescribeSnapshots"),
    ("clb", "2018-03-17", "DescribeLoadBalancers"),
    ("tag", "2018-08-13", "GetTags"),
];

/// Instances: 2 STOPPED in [`ZONE`], 2 STOPPED in [`ZONE_B`], 1 RUNNING
/// in [`ZONE`], 1 STOPPED in [`OTHER_ZONE`] (another region).
async fn fleet_emulator() -> RunningEmulator {
    let mut state = State::new();
    for (zone, status) in [
        (ZONE, "STOPPED"),
        (ZONE_B, "STOPPED"),
        (ZONE, "STOPPED"),
        (ZONE_B, "STOPPED"),
        (ZONE, "RUNNING"),
        (OTHER_ZONE, "STOPPED"),
    ] {
        state = state.with_instance(StoredInstance::with_random_id(zone, status));
    }
    start(common::config().with_state(state)).await
}

fn runtime(emu: &RunningEmulator) -> Runtime {
    Runtime::new(emu.client_config(REGION).unwrap()).unwrap()
}

/// The service's error code of a typed call that must fail.
fn error_code<T: std::fmt::Debug, E: ActionError + std::fmt::Debug + std::fmt::Display>(
    result: Result<T, Error<E>>,
) -> String {
    match result {
        Err(Error::Service(e)) => e.service_error().code().to_owned(),
        other => panic!("expected a service error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_call_to_an_action_not_emulated_is_unsupported_in_every_service() {
    let emu = fleet_emulator().await;
    let rt = runtime(&emu);
    let codes = [
        error_code(cvm_api::Client::new(&rt).describe_hosts().send().await),
        error_code(sts_api::Client::new(&rt).get_caller_identity().send().await),
        error_code(vpc_api::Client::new(&rt).describe_route_tables().send().await),
        error_code(cbs_api::Client::new(&rt).describe_snapshots().send().await),
        error_code(clb_api::Client::new(&rt).describe_load_balancers().send().await),
        error_code(tag_api::Client::new(&rt).get_tags().send().await),
    ];
    for ((service, _, action), code) in SERVICES.iter().zip(codes) {
        assert_eq!(code, "UnsupportedOperation", "{service} {action}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn every_service_checks_version_action_and_parameters_against_its_own_description() {
    let emu = fleet_emulator().await;
    let rt = runtime(&emu);
    let untyped = |service: &'static str, version: &'static str, action: &'static str, body: Value| {
        let rt = rt.clone();
        async move {
            match rt.call::<Value, Value>(service, version, action, &body).await {
                Err(Error::Service(e)) => (e.code().to_owned(), e.message().to_owned()),
                other => panic!("{service} {action}: expected a service error, got {other:?}"),
            }
        }
    };
    for (service, version, action) in SERVICES {
        let (code, message) = untyped(service, version, action, json!({"NoSuchMember": 1})).await;
        assert_eq!(code, "UnknownParameter", "{service}: {message}");
        assert!(message.contains("NoSuchMember"), "{service}: {message}");
        // A member of the right name and the wrong type.
        let (code, _) = untyped(service, version, action, json!({"Limit": {"not": "a number"}})).await;
        assert!(
            code == "InvalidParameter" || code == "UnknownParameter",
            "{service}: {code}"
        );
        let (code, message) = untyped(service, "2000-01-01", action, json!({})).await;
        assert_eq!(code, "NoSuchVersion", "{service}: {message}");
        assert!(message.contains(version), "{service}: {message}");
        let (code, message) = untyped(service, version, "NoSuchAction", json!({})).await;
        assert_eq!(code, "InvalidAction", "{service}: {message}");
        assert!(message.contains(service), "{service}: {message}");
    }
    // An action of VPC is not one of CVM's, though the versions agree.
    let (code, _) = untyped("cvm", "2017-03-12", "DescribeVpcs", json!({})).await;
    assert_eq!(code, "InvalidAction");
    // A required member missing: VPC's CreateVpc needs VpcName and CidrBlock.
    let (code, message) = untyped(
        "vpc",
        "2017-03-12",
        "CreateVpc",
        json!({"CidrBlock": "10.0.0.0/16"}),
    )
    .await;
    assert_eq!(code, "MissingParameter", "{message}");
    assert!(message.contains("VpcName"), "{message}");
    emu.shutdown().await;
}

/// Sends `call` as if to `host` (its Host header and signature), raw.
async fn send_to_host(emu: &RunningEmulator, call: &Call, host: &str) -> Value {
    let mut headers = vec![("Host".to_owned(), host.to_owned())];
    headers.extend(call.headers(host));
    raw_envelope(&raw_http(emu, &http_text("POST", "/", &headers, &call.body)).await)
}

#[tokio::test]
async fn a_signature_scoped_to_another_service_fails() {
    let emu = fleet_emulator().await;
    for (i, (service, version, action)) in SERVICES.iter().enumerate() {
        let other = SERVICES[(i + 1) % SERVICES.len()].0;
        let call = Call {
            version: Some((*version).to_owned()),
            service: other.to_owned(),
            ..Call::post(action, json!({}))
        };
        // The service's own host, signed for another service.
        let host = format!("{service}.tencentcloudapi.com");
        let r = send_to_host(&emu, &call, &host).await;
        assert_eq!(code(&r), "AuthFailure.SignatureFailure", "{service}/{other}: {r}");
        // The same host signed for its service passes the signature.
        let call = Call {
            service: (*service).to_owned(),
            ..call
        };
        let r = send_to_host(&emu, &call, &host).await;
        assert_eq!(code(&r), "UnsupportedOperation", "{service}: {r}");
        // A scope naming no service, on any host.
        let call = Call {
            service: format!("{service}x"),
            ..call
        };
        let r = call.send(&emu).await;
        assert_eq!(code(&r), "AuthFailure.SignatureFailure", "{service}x: {r}");
    }
    emu.shutdown().await;
}

/// (instance id → (zone, vpc id, subnet id)) from DescribeInstances.
async fn instances_network(cvm: &cvm_api::Client) -> BTreeMap<String, (String, String, String)> {
    let r = cvm
        .call({
            let mut new_value = cvm_api::DescribeInstancesRequest::default();
            new_value.limit = Some(100);
            new_value
        })
        .send()
        .await
        .unwrap();
    r.instance_set
        .into_iter()
        .map(|i| {
            let net = i.virtual_private_cloud;
            (i.instance_id, (i.placement.zone, net.vpc_id, net.subnet_id))
        })
        .collect()
}

#[tokio::test]
async fn vpcs_and_subnets_are_those_describe_instances_names() {
    let emu = fleet_emulator().await;
    let rt = runtime(&emu);
    let cvm = cvm_api::Client::new(&rt);
    let vpc = vpc_api::Client::new(&rt);
    // One instance in a VPC and subnet of the caller's making.
    let mine = vpc
        .create_vpc()
        .vpc_name("mine")
        .cidr_block("172.16.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .vpc_id;
    let my_subnet = vpc
        .create_subnet()
        .vpc_id(mine.clone())
        .subnet_name("mine-b")
        .zone(ZONE_B)
        .cidr_block("172.16.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet
        .subnet_id
        .unwrap();
    cvm.call({
        let mut new_value = cvm_api::RunInstancesRequest::default();
        new_value.placement = Some({
            let mut new_value = cvm_api::Placement::default();
            new_value.zone = ZONE_B.into();
            new_value
        });
        new_value.image_id = Some("img-pmqg1cw7".into());
        new_value.virtual_private_cloud = Some({
            let mut new_value = cvm_api::VirtualPrivateCloud::default();
            new_value.vpc_id = mine.clone();
            new_value.subnet_id = my_subnet.clone();
            new_value
        });
        new_value
    })
    .send()
    .await
    .unwrap();
    let instances = instances_network(&cvm).await;
    assert_eq!(instances.len(), 6, "{instances:?}");

    let vpcs = vpc.describe_vpcs().send().await.unwrap();
    let vpc_ids: BTreeSet<&str> = vpcs.vpc_set.iter().map(|v| v.vpc_id.as_str()).collect();
    let expected: BTreeSet<&str> = instances.values().map(|(_, v, _)| v.as_str()).collect();
    assert_eq!(vpc_ids, expected);
    assert_eq!(vpcs.total_count, 2);
    for v in &vpcs.vpc_set {
        assert_eq!(v.is_default, v.vpc_id != mine, "{v:?}");
        let block = if v.is_default {
            "10.0.0.0/16"
        } else {
            "172.16.0.0/16"
        };
        assert_eq!(v.cidr_block, block);
        assert!(!v.vpc_name.is_empty() && !v.created_time.is_empty(), "{v:?}");
    }

    let subnets = vpc.describe_subnets().send().await.unwrap();
    assert_eq!(subnets.total_count, 3, "{subnets:?}");
    let by_id: BTreeMap<&str, &vpc_api::Subnet> = subnets
        .subnet_set
        .iter()
        .map(|s| (s.subnet_id.as_deref().unwrap(), s))
        .collect();
    for (id, (zone, vpc_id, subnet_id)) in &instances {
        let s = by_id
            .get(subnet_id.as_str())
            .unwrap_or_else(|| panic!("{id}: {subnet_id}"));
        assert_eq!(s.zone.as_deref(), Some(zone.as_str()), "{id}");
        assert_eq!(s.vpc_id.as_deref(), Some(vpc_id.as_str()), "{id}");
        assert!(s.available_ip_address_count.unwrap() > 0);
    }
    // Every private address is in the subnet's block.
    let r = cvm.describe_instances().send().await.unwrap();
    for i in &r.instance_set {
        let block = if i.virtual_private_cloud.subnet_id == my_subnet {
            "172.16.1."
        } else {
            "10.0."
        };
        assert!(
            i.private_ip_addresses.iter().all(|ip| ip.starts_with(block)),
            "{i:?}"
        );
    }

    // The other region sees only its own instance's network.
    let shanghai = vpc_api::Client::new(&Runtime::new(emu.client_config("ap-shanghai").unwrap()).unwrap());
    let r = shanghai.describe_subnets().send().await.unwrap();
    assert_eq!(r.total_count, 1);
    assert_eq!(r.subnet_set[0].zone.as_deref(), Some(OTHER_ZONE));
    assert!(!vpc_ids.contains(r.subnet_set[0].vpc_id.as_deref().unwrap()));
    emu.shutdown().await;
}

#[tokio::test]
async fn vpc_listings_page_and_filter() {
    let emu = fleet_emulator().await;
    let rt = runtime(&emu);
    let vpc = vpc_api::Client::new(&rt);
    let all = vpc.describe_subnets().send().await.unwrap();
    assert_eq!(all.total_count, 2);
    let ids: Vec<String> = all
        .subnet_set
        .iter()
        .map(|s| s.subnet_id.clone().unwrap())
        .collect();

    // Offset/Limit (strings) partition the listing, in the same order.
    let mut paged = Vec::new();
    for offset in 0..3 {
        let r = vpc
            .call({
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.offset = Some(offset.to_string());
                new_value.limit = Some("1".into());
                new_value
            })
            .send()
            .await
            .unwrap();
        assert_eq!(r.total_count, 2);
        assert!(r.next_token.is_none());
        paged.extend(r.subnet_set.into_iter().map(|s| s.subnet_id.unwrap()));
    }
    assert_eq!(paged, ids);
    // MaxResults/NextToken too (the generated paginator's style).
    let mut token = None;
    let mut by_token = Vec::new();
    for _ in 0..5 {
        let r = vpc
            .call({
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.max_results = Some(1);
                new_value.next_token = token.clone();
                new_value
            })
            .send()
            .await
            .unwrap();
        by_token.extend(r.subnet_set.into_iter().map(|s| s.subnet_id.unwrap()));
        token = r.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(by_token, ids);

    // Filters: zone, vpc-id; ids.
    let filter = |name: &str, value: &str| {
        let mut new_value = vpc_api::Filter::default();
        new_value.name = name.into();
        new_value.values = vec![value.into()];
        new_value
    };
    let r = vpc
        .call({
            let mut new_value = vpc_api::DescribeSubnetsRequest::default();
            new_value.filters = Some(vec![filter("zone", ZONE_B)]);
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.total_count, 1);
    assert_eq!(r.subnet_set[0].zone.as_deref(), Some(ZONE_B));
    let default_vpc = all.subnet_set[0].vpc_id.clone().unwrap();
    let r = vpc
        .call({
            let mut new_value = vpc_api::DescribeSubnetsRequest::default();
            new_value.filters = Some(vec![filter("vpc-id", &default_vpc), filter("zone", ZONE)]);
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.total_count, 1);
    assert_eq!(r.subnet_set[0].zone.as_deref(), Some(ZONE));
    let r = vpc
        .call({
            let mut new_value = vpc_api::DescribeSubnetsRequest::default();
            new_value.subnet_ids = Some(vec![ids[1].clone(), "subnet-unknown1".into(), ids[1].clone()]);
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.total_count, 1);
    assert_eq!(r.subnet_set[0].subnet_id.as_deref(), Some(ids[1].as_str()));
    let r = vpc
        .call({
            let mut new_value = vpc_api::DescribeVpcsRequest::default();
            new_value.filters = Some(vec![filter("vpc-id", "vpc-unknown1")]);
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!((r.total_count, r.vpc_set.len()), (0, 0));
    let r = vpc
        .call({
            let mut new_value = vpc_api::DescribeVpcsRequest::default();
            new_value.vpc_ids = Some(vec![default_vpc.clone()]);
            new_value.offset = Some("1".into());
            new_value
        })
        .send()
        .await
        .unwrap();
    assert_eq!((r.total_count, r.vpc_set.len()), (1, 0));

    // Bad paging, ids and filters are refused with the service's codes.
    let bad = [
        (
            {
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.limit = Some("0".into());
                new_value
            },
            "InvalidParameterValue.Range",
        ),
        (
            {
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.offset = Some("minus one".into());
                new_value
            },
            "InvalidParameterValue.Malformed",
        ),
        (
            {
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.subnet_ids = Some(vec!["vpc-abcd1234".into()]);
                new_value
            },
            "InvalidParameterValue.Malformed",
        ),
        (
            {
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.subnet_ids = Some(vec![ids[0].clone()]);
                new_value.filters = Some(vec![filter("zone", ZONE)]);
                new_value
            },
            "InvalidParameter.Coexist",
        ),
        (
            {
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.limit = Some("1".into());
                new_value.max_results = Some(1);
                new_value
            },
            "InvalidParameter.Coexist",
        ),
        (
            {
                let mut new_value = vpc_api::DescribeSubnetsRequest::default();
                new_value.filters = Some(vec![filter("no-such-filter", "x")]);
                new_value
            },
            "InvalidParameter.FilterInvalidKey",
        ),
    ];
    for (request, expected) in bad {
        assert_eq!(
            error_code(vpc.call(request.clone()).send().await),
            expected,
            "{request:?}"
        );
    }
    emu.shutdown().await;
}

/// `DescribeVpcs` declares `Offset` and `Limit` as strings: its generated
/// paginator writes them as decimal strings (seen here on the wire, through
/// the emulator's router behind a layer that keeps each body) and, over
/// pages, lists every VPC once.
#[tokio::test]
async fn describe_vpcs_pages_with_string_offset_and_limit() {
    use futures::TryStreamExt;
    use std::sync::{Arc, Mutex};

    // An instance in ZONE, so that the region's default VPC is listed too.
    let state = State::new().with_instance(StoredInstance::with_random_id(ZONE, "RUNNING"));
    let emulator = cvm_emulator::Emulator::new(common::config().with_state(state)).unwrap();
    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let kept = Arc::clone(&bodies);
    let app = emulator.router().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let kept = Arc::clone(&kept);
            async move {
                let (parts, body) = request.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                if parts
                    .headers
                    .get("x-tc-action")
                    .is_some_and(|a| a == "DescribeVpcs")
                {
                    kept.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                }
                next.run(axum::extract::Request::from_parts(parts, body.into()))
                    .await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = cvm_api::Config::new(cvm_api::Credentials::new(
        DEMO_SECRET_ID,
        cvm_api::SecretKey::new(DEMO_SECRET_KEY),
    ))
    .with_endpoint(cvm_api::Endpoint::custom(&url).unwrap())
    .with_region(REGION)
    .with_rate_limit(cvm_api::runtime::RateLimitConfig::off());
    let vpc = vpc_api::Client::new(&Runtime::new(config).unwrap());

    let mut expected = BTreeSet::new();
    for i in 0..7 {
        let made = vpc
            .create_vpc()
            .vpc_name(format!("paged-{i}"))
            .cidr_block(format!("172.{}.0.0/16", 16 + i))
            .send()
            .await
            .unwrap();
        expected.insert(made.vpc.vpc_id);
    }
    let listed = vpc.describe_vpcs().send().await.unwrap();
    assert_eq!(listed.total_count, 8, "the default VPC and the seven made");
    let default_vpc = listed
        .vpc_set
        .iter()
        .find(|v| v.is_default)
        .expect("the default VPC");
    expected.insert(default_vpc.vpc_id.clone());
    bodies.lock().unwrap().clear();

    let vpcs: Vec<vpc_api::Vpc> = vpc
        .describe_vpcs()
        .into_paginator()
        .with_page_size(3)
        .by_item()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = vpcs.into_iter().map(|v| v.vpc_id).collect();
    let once: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), once.len(), "a VPC seen twice: {ids:?}");
    assert_eq!(once, expected);
    // Three pages, Offset and Limit as JSON strings; the last short.
    let sent: Vec<Value> = bodies
        .lock()
        .unwrap()
        .iter()
        .map(|b| json!([b["Offset"], b["Limit"]]))
        .collect();
    assert_eq!(sent, [json!(["0", "3"]), json!(["3", "3"]), json!(["6", "3"])]);

    // The service's page size (20) when the caller sets none: one page.
    bodies.lock().unwrap().clear();
    let pages: Vec<vpc_api::DescribeVpcsResponse> = vpc
        .describe_vpcs()
        .into_paginator()
        .by_page()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].vpc_set.len(), 8);
    assert_eq!(*bodies.lock().unwrap(), [json!({"Offset": "0"})]);
    server.abort();
}

fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p cvm-api --examples`",
        path.display()
    );
    path
}

/// Runs the fleet example against `emu` with `args`: (exit code, stdout, stderr).
async fn run_fleet(emu: &RunningEmulator, args: &[&str]) -> (i32, String, String) {
    run_example(emu, "fleet", args).await
}

/// Runs example `name` against `emu` with `args`: (exit code, stdout, stderr).
async fn run_example(emu: &RunningEmulator, name: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(example_binary(name));
    command
        .args(args)
        .env_clear()
        .env("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY)
        .env("TENCENTCLOUD_REGION", REGION)
        .env("TENCENTCLOUD_ENDPOINT", emu.endpoint_url());
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Checks one output line per id against DescribeInstances and VPC's answers.
async fn check_lines(emu: &RunningEmulator, stdout: &str, ids: &[String]) {
    let rt = runtime(emu);
    let instances = instances_network(&cvm_api::Client::new(&rt)).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), ids.len(), "{stdout}");
    for (line, id) in lines.iter().zip(ids) {
        let (zone, vpc_id, subnet_id) = &instances[id];
        let expected = format!(
            "{id} RUNNING vpc {vpc_id} \"Default-VPC\" 10.0.0.0/16 subnet {subnet_id} \"Default-Subnet\" 10.0.0.0/16 {zone}"
        );
        assert_eq!(*line, expected);
    }
}

#[tokio::test]
async fn the_fleet_example_starts_instances_and_names_their_vpc_and_subnet() {
    let emu = fleet_emulator().await;
    let seeded: Vec<StoredInstance> = emu.state_snapshot().instances;
    let stopped_here: Vec<String> = seeded
        .iter()
        .filter(|s| s.instance.instance_state == "STOPPED" && s.region == REGION)
        .map(|s| s.instance.instance_id.clone())
        .collect();
    assert_eq!(stopped_here.len(), 4);

    // Named instances, one per zone.
    let named = vec![stopped_here[0].clone(), stopped_here[1].clone()];
    let (status, stdout, stderr) = run_fleet(&emu, &[&named[0], &named[1]]).await;
    assert_eq!(status, 0, "{stdout} {stderr}");
    check_lines(&emu, &stdout, &named).await;

    // The rest with --all-stopped (the other region's is not touched).
    let (status, stdout, stderr) = run_fleet(&emu, &["--all-stopped"]).await;
    assert_eq!(status, 0, "{stdout} {stderr}");
    check_lines(&emu, &stdout, &stopped_here[2..]).await;
    let state = emu.state_snapshot();
    let shanghai = state
        .instances
        .iter()
        .find(|s| s.region == "ap-shanghai")
        .unwrap();
    assert_eq!(shanghai.instance.instance_state, "STOPPED");

    // Nothing left to start.
    let (status, stdout, _) = run_fleet(&emu, &["--all-stopped"]).await;
    assert_eq!((status, stdout.trim()), (0, "no STOPPED instance to start"));

    // Errors: one line on stderr, exit 1; usage errors exit 2.
    let (status, stdout, stderr) = run_fleet(&emu, &["ins-notthere"]).await;
    assert_eq!(status, 1, "{stdout} {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    let (status, _, _) = run_fleet(&emu, &[]).await;
    assert_eq!(status, 2);
    let (status, _, _) = run_fleet(&emu, &["--all-stopped", &named[0]]).await;
    assert_eq!(status, 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn the_regions_example_lists_each_region_through_one_client() {
    let emu = fleet_emulator().await;
    let state = emu.state_snapshot();
    let ids_in = |region: &str| -> Vec<String> {
        state
            .instances
            .iter()
            .filter(|s| s.region == region)
            .map(|s| s.instance.instance_id.clone())
            .collect()
    };
    let (here, shanghai) = (ids_in(REGION), ids_in("ap-shanghai"));
    assert_eq!((here.len(), shanghai.len()), (5, 1));

    let (status, stdout, stderr) = run_example(&emu, "regions", &[REGION, "ap-shanghai", "ap-beijing"]).await;
    assert_eq!(status, 0, "{stdout} {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let listed = |line: &str| -> (String, usize, std::collections::BTreeSet<String>) {
        let mut words = line.split(' ');
        let region = words.next().unwrap().to_owned();
        let count = words.next().unwrap().parse().unwrap();
        (region, count, words.map(str::to_owned).collect())
    };
    assert_eq!(
        listed(lines[0]),
        (REGION.to_owned(), 5, here.into_iter().collect())
    );
    assert_eq!(
        listed(lines[1]),
        ("ap-shanghai".to_owned(), 1, shanghai.into_iter().collect())
    );
    assert_eq!(listed(lines[2]), ("ap-beijing".to_owned(), 0, Default::default()));

    // A region the gateway does not know: one line on stderr naming it, exit 1.
    let (status, stdout, stderr) = run_example(&emu, "regions", &["ap-nowhere"]).await;
    assert_eq!(status, 1, "{stdout} {stderr}");
    assert!(stderr.starts_with("error: ap-nowhere: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    emu.shutdown().await;
}
