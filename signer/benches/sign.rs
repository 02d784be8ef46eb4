//! Full TC3 signature of the StartInstances request (first fixture vector):
//! textbook baseline vs. `Signer` with and without a cached signing key.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use signer::{
    derive_signing_key, parse_authorization, utc_date, verify, Payload, ReceivedRequest, SecretKey, Signer,
    SigningRequest,
};

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const HOST: &str = "cvm.tencentcloudapi.com";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";
const BODY: &[u8] = br#"{"InstanceIds":["ins-r8hr2upy","ins-5d8a23rs"]}"#;
const TIMESTAMP: i64 = 1551113065;
const EXPECTED: &str = "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=452cec19d8d7c514ae9e4307af88820c941487912ce66be38d1207a050c20645";

fn request() -> SigningRequest<'static> {
    SigningRequest {
        method: "POST",
        host: HOST,
        query: "",
        content_type: CONTENT_TYPE,
        payload: Payload::Bytes(BODY),
        service: "cvm",
        timestamp: TIMESTAMP,
        action: None,
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// The textbook algorithm, as the official SDKs write it.
#[allow(clippy::too_many_arguments)]
fn baseline(
    secret_id: &str,
    secret_key: &str,
    method: &str,
    host: &str,
    content_type: &str,
    body: &[u8],
    service: &str,
    timestamp: i64,
) -> String {
    let hashed_payload = hex::encode(Sha256::digest(body));
    let canonical_headers = format!("content-type:{content_type}\nhost:{host}\n");
    let signed_headers = "content-type;host";
    let canonical_request = format!("{method}\n/\n\n{canonical_headers}\n{signed_headers}\n{hashed_payload}");
    let date = utc_date(timestamp);
    let credential_scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{credential_scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let secret_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    format!("TC3-HMAC-SHA256 Credential={secret_id}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}")
}

fn bench_sign(c: &mut Criterion) {
    let req = request();
    assert_eq!(
        baseline(
            SECRET_ID,
            SECRET_KEY,
            "POST",
            HOST,
            CONTENT_TYPE,
            BODY,
            "cvm",
            TIMESTAMP
        ),
        EXPECTED
    );
    let cached = Signer::new(SECRET_ID, SecretKey::new(SECRET_KEY));
    assert_eq!(cached.authorization(&req), EXPECTED);

    let mut g = c.benchmark_group("start_instances");
    g.bench_function("baseline", |b| {
        b.iter(|| {
            baseline(
                black_box(SECRET_ID),
                black_box(SECRET_KEY),
                "POST",
                black_box(HOST),
                CONTENT_TYPE,
                black_box(BODY),
                "cvm",
                black_box(TIMESTAMP),
            )
        })
    });
    g.bench_function("signer_fresh_key", |b| {
        // A new Signer each time: empty cache, so the key is derived and cached.
        b.iter(|| {
            let signer = Signer::new(black_box(SECRET_ID), SecretKey::new(black_box(SECRET_KEY)));
            signer.authorization(black_box(&req))
        })
    });
    g.bench_function("signer_cached_key", |b| {
        b.iter(|| cached.authorization(black_box(&req)))
    });
    g.bench_function("sign_detailed_cached_key", |b| {
        b.iter(|| cached.sign_detailed(black_box(&req)))
    });
    g.bench_function("derive_signing_key", |b| {
        b.iter(|| derive_signing_key(black_box(SECRET_KEY), black_box("2019-02-25"), "cvm"))
    });
    g.finish();
}

fn bench_verify(c: &mut Criterion) {
    let parsed = parse_authorization(EXPECTED).expect("valid");
    let headers = [("Host", HOST), ("Content-Type", CONTENT_TYPE)];
    let key = SecretKey::new(SECRET_KEY);
    let received = ReceivedRequest {
        method: "POST",
        query: "",
        headers: &headers,
        body: BODY,
        timestamp: TIMESTAMP,
        authorization: &parsed,
    };
    assert_eq!(verify(&received, &key), Ok(()));
    let mut g = c.benchmark_group("start_instances");
    g.bench_function("parse_and_verify", |b| {
        b.iter(|| {
            let parsed = parse_authorization(black_box(EXPECTED)).expect("valid");
            verify(
                &ReceivedRequest {
                    authorization: &parsed,
                    ..received
                },
                &key,
            )
        })
    });
    g.finish();
}

/// Raw SHA-256 throughput: ~2 GB/s or more means the SHA-NI backend is active
/// (the portable backend manages a few hundred MB/s).
fn bench_sha256(c: &mut Criterion) {
    let data = vec![0x5au8; 64 * 1024];
    let mut g = c.benchmark_group("sha256");
    g.throughput(criterion::Throughput::Bytes(data.len() as u64));
    g.bench_function("64KiB", |b| b.iter(|| Sha256::digest(black_box(&data))));
    g.finish();
}

criterion_group!(benches, bench_sign, bench_verify, bench_sha256);
criterion_main!(benches);
