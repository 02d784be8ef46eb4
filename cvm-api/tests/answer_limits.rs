//! Small answers that expand enormously: `{}` is three bytes, and each one in
//! `InstanceSet` was a whole `Instance` struct. Before the response limits,
//! 600 KB of them (200 000) cost the process over a gigabyte and 6 MB (two
//! million) 3.18 GB, all under the 32 MiB body cap. Now `describe_instances`
//! refuses both as `TooComplex` after building at most `max_values` values,
//! and the process's peak stays far below 300 MB.
//!
//! One test in its own binary, so that the peak it reads (`VmHWM`, Linux)
//! is its own.

#![cfg(target_os = "linux")]

use std::sync::Arc;
use std::time::Duration;

use cvm_api::runtime::{
    Client as Shared, Config, Credentials, Endpoint, Error, InvalidResponseKind, ResponseLimits, SecretKey,
};
use cvm_api::Client;

/// Far below the 1.2 GB and 3.18 GB the unbounded decoding took, and far
/// above what the test needs (the bodies and the first items decoded).
const PEAK_ALLOWED_MIB: f64 = 300.0;

/// `{"Response": {"TotalCount": n, "InstanceSet": [items], "RequestId"}}`,
/// `items` joined by commas.
fn answer(count: usize, items: &str) -> String {
    format!(r#"{{"Response":{{"TotalCount":{count},"InstanceSet":[{items}],"RequestId":"req-expand"}}}}"#)
}

/// A full instance, as a real page holds a hundred of.
fn instance(i: usize) -> String {
    format!(
        r#"{{"Placement":{{"Zone":"ap-guangzhou-3","ProjectId":0}},"InstanceId":"ins-{i:08}","InstanceType":"S5.MEDIUM4",
        "CPU":2,"Memory":4,"InstanceState":"RUNNING","InstanceName":"web-{i}","InstanceChargeType":"POSTPAID_BY_HOUR",
        "SystemDisk":{{"DiskType":"CLOUD_PREMIUM","DiskId":"disk-{i:08}","DiskSize":50}},
        "DataDisks":[{{"DiskType":"CLOUD_SSD","DiskId":"disk-a{i:07}","DiskSize":100}},{{"DiskType":"CLOUD_SSD","DiskId":"disk-b{i:07}","DiskSize":200}}],
        "PrivateIpAddresses":["10.0.0.{}"],"PublicIpAddresses":["203.0.113.{}"],
        "InternetAccessible":{{"InternetChargeType":"TRAFFIC_POSTPAID_BY_HOUR","InternetMaxBandwidthOut":10}},
        "VirtualPrivateCloud":{{"VpcId":"vpc-00000001","SubnetId":"subnet-00000001"}},"ImageId":"img-pmqg1cw7",
        "OsName":"TencentOS Server 3.1","SecurityGroupIds":["sg-00000001"],"LoginSettings":{{"KeyIds":["skey-00000001"]}},
        "Tags":[{{"Key":"team","Value":"web"}},{{"Key":"env","Value":"prod"}}],"CreatedTime":"2024-01-01T00:00:00Z",
        "Uuid":"00000000-0000-0000-0000-{i:012}","LatestOperation":"StartInstances","LatestOperationState":"SUCCESS",
        "RestrictState":"NORMAL","CamRoleName":"","HpcClusterId":"","DisasterRecoverGroupId":"","IPv6Addresses":[]}}"#,
        i % 250,
        i % 250
    )
}

/// Serves `body` to every request on 127.0.0.1.
async fn serve(body: String) -> String {
    let body = Arc::new(body);
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { String::clone(&body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn client(url: &str, limits: ResponseLimits) -> Client {
    let config = Config::new(Credentials::new(
        "AKIDanswerLimits0000000000000000000",
        SecretKey::new("answer-limits-secret"),
    ))
    .with_endpoint(Endpoint::custom(url).expect("endpoint"))
    .with_region("ap-guangzhou")
    .with_timeout(Duration::from_secs(120))
    .with_response_limits(limits);
    Client::new(&Shared::new(config).expect("config"))
}

/// `VmHWM`: this process's peak resident set, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmHWM");
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_empty_instances_are_refused_as_too_complex_within_bounded_memory() {
    // A real page: 100 full instances decode within the default limits.
    let page = answer(100, &(0..100).map(instance).collect::<Vec<_>>().join(","));
    let url = serve(page.clone()).await;
    let response = client(&url, ResponseLimits::new())
        .describe_instances()
        .send()
        .await
        .expect("a real page decodes");
    assert_eq!(response.instance_set.len(), 100);
    assert_eq!(response.instance_set[99].data_disks.len(), 2);

    // The outside attack's two shapes: 600 KB and 6 MB of `{}`.
    for count in [200_000, 2_000_000] {
        // Made as one string: a `Vec` of two million would dwarf what is measured.
        let mut items = "{},".repeat(count);
        items.pop();
        let body = answer(count, &items);
        drop(items);
        let bytes = body.len();
        let url = serve(body).await;
        let e = client(&url, ResponseLimits::new())
            .describe_instances()
            .send()
            .await
            .expect_err("refused");
        let Error::InvalidResponse {
            kind,
            reason,
            attempts,
            ..
        } = &e
        else {
            panic!("{count} items: {e}");
        };
        assert_eq!(*kind, InvalidResponseKind::TooComplex, "{e}");
        // The service would answer alike: not retried.
        assert_eq!(*attempts, 1, "{e}");
        // Where decoding stopped (a few thousand items in), and why.
        assert!(
            reason.starts_with("the `Response` object is too complex to decode: InstanceSet["),
            "{reason}"
        );
        assert!(
            reason.contains("]: the answer expands to more than 1000000 values (the limit `max_values`)"),
            "{reason}"
        );
        assert!(!e.is_retryable());
        eprintln!(
            "{count} items ({bytes} bytes): refused; peak so far {:.0} MiB",
            peak_mib()
        );
    }

    // A limit is the caller's to set, and names itself.
    let url = serve(page).await;
    let e = client(&url, ResponseLimits::new().with_max_depth(3))
        .describe_instances()
        .send()
        .await
        .expect_err("too deep for 3 levels");
    assert!(
        e.to_string()
            .contains("deeper than 3 levels (the limit `max_depth`)"),
        "{e}"
    );

    let peak = peak_mib();
    eprintln!("peak resident set: {peak:.0} MiB");
    assert!(
        peak < PEAK_ALLOWED_MIB,
        "peak resident set {peak:.0} MiB, allowed {PEAK_ALLOWED_MIB} MiB"
    );
}
