//! Known-answer tests against signatures from the official Python SDK.

use serde::Deserialize;
use signer::{
    derive_signing_key, parse_authorization, utc_date, verify, Payload, ReceivedRequest, SecretKey, Signer,
    SigningRequest,
};

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    secret_id: String,
    secret_key: String,
    method: String,
    host: String,
    service: String,
    timestamp: i64,
    content_type: String,
    query: String,
    body: String,
    canonical_request: String,
    date: String,
    string_to_sign: String,
    signature: String,
    authorization: String,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("data/tc3-vectors.json");
    serde_json::from_str::<Vectors>(text)
        .expect("fixture parses")
        .vectors
}

fn request(v: &Vector) -> SigningRequest<'_> {
    SigningRequest {
        method: &v.method,
        host: &v.host,
        query: &v.query,
        content_type: &v.content_type,
        payload: Payload::Bytes(v.body.as_bytes()),
        service: &v.service,
        timestamp: v.timestamp,
        action: None,
    }
}

#[test]
fn all_ten_vectors_match_byte_for_byte() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 10);
    for v in &vectors {
        let signer = Signer::new(v.secret_id.clone(), SecretKey::new(v.secret_key.clone()));
        let req = request(v);
        let signed = signer.sign_detailed(&req);
        assert_eq!(signed.canonical_request, v.canonical_request, "{}", v.name);
        assert_eq!(signed.string_to_sign, v.string_to_sign, "{}", v.name);
        assert_eq!(signed.date, v.date, "{}", v.name);
        assert_eq!(utc_date(v.timestamp), v.date, "{}", v.name);
        assert_eq!(signed.signature, v.signature, "{}", v.name);
        assert_eq!(signed.authorization, v.authorization, "{}", v.name);
        // The fast path agrees, both on a cache miss and on a hit.
        assert_eq!(signer.authorization(&req), v.authorization, "{}", v.name);
        assert_eq!(signer.authorization(&req), v.authorization, "{}", v.name);
    }
}

#[test]
fn all_vectors_verify() {
    for v in &vectors() {
        let parsed = parse_authorization(&v.authorization).expect("fixture parses");
        assert_eq!(parsed.secret_id, v.secret_id);
        assert_eq!(parsed.date, v.date);
        assert_eq!(parsed.service, v.service);
        assert_eq!(parsed.signed_headers, ["content-type", "host"]);
        assert_eq!(parsed.signature, v.signature);
        let headers = [
            ("Content-Type", v.content_type.as_str()),
            ("Host", v.host.as_str()),
            ("X-TC-Action", "StartInstances"),
        ];
        let received = ReceivedRequest {
            method: &v.method,
            query: &v.query,
            headers: &headers,
            body: v.body.as_bytes(),
            timestamp: v.timestamp,
            authorization: &parsed,
        };
        assert_eq!(
            verify(&received, &SecretKey::new(v.secret_key.clone())),
            Ok(()),
            "{}",
            v.name
        );
    }
}

/// The worked example of the public API 3.0 signature documentation.
#[test]
fn documentation_example() {
    let body = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    assert_eq!(body.len(), 86);
    let signer = Signer::new(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
    );
    let signed = signer.sign_detailed(&SigningRequest {
        method: "POST",
        host: "cvm.tencentcloudapi.com",
        query: "",
        content_type: "application/json; charset=utf-8",
        payload: Payload::Bytes(body.as_bytes()),
        service: "cvm",
        timestamp: 1551113065,
        action: None,
    });
    let sig = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";
    assert_eq!(signed.date, "2019-02-25");
    assert_eq!(signed.signature, sig);
    assert_eq!(
        signed.authorization,
        format!(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature={sig}"
        )
    );
    assert_eq!(
        signed.canonical_request,
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
}

/// The newer version of the same documentation signs the action too:
/// `SignedHeaders=content-type;host;x-tc-action`, with the header value
/// lower-cased in the canonical request. Known answer computed with the
/// official Python SDK's `Sign.sign_tc3`.
#[test]
fn documentation_example_with_signed_action() {
    let body = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    assert_eq!(body.len(), 86);
    let key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    let signer = Signer::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", SecretKey::new(key));
    let request = SigningRequest {
        method: "POST",
        host: "cvm.tencentcloudapi.com",
        query: "",
        content_type: "application/json; charset=utf-8",
        payload: Payload::Bytes(body.as_bytes()),
        service: "cvm",
        timestamp: 1551113065,
        action: Some("DescribeInstances"),
    };
    let signed = signer.sign_detailed(&request);
    let sig = "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26";
    assert_eq!(
        signed.canonical_request,
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(signed.signature, sig);
    let expected = format!(
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature={sig}"
    );
    assert_eq!(signed.authorization, expected);
    assert_eq!(signer.authorization(&request), expected);

    // The verifier canonicalises the received header the same way...
    let parsed = parse_authorization(&expected).unwrap();
    assert_eq!(parsed.signed_headers, ["content-type", "host", "x-tc-action"]);
    let received = |action: &'static str| {
        [
            ("Host", "cvm.tencentcloudapi.com"),
            ("Content-Type", "application/json; charset=utf-8"),
            ("X-TC-Action", action),
        ]
    };
    let check = |headers: &[(&str, &str)]| {
        verify(
            &ReceivedRequest {
                method: "POST",
                query: "",
                headers,
                body: body.as_bytes(),
                timestamp: 1551113065,
                authorization: &parsed,
            },
            &SecretKey::new(key),
        )
    };
    assert_eq!(check(&received("DescribeInstances")), Ok(()));
    // ...so a captured signature cannot be replayed as another action.
    assert_eq!(
        check(&received("TerminateInstances")),
        Err(signer::VerifyError::SignatureMismatch)
    );
    assert_eq!(
        check(&received("DescribeInstances")[..2]),
        Err(signer::VerifyError::MissingSignedHeader("x-tc-action".into()))
    );
}

#[test]
fn derive_signing_key_matches_hmac_chain() {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    fn h(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }
    // Short key, and one longer than the 64-byte HMAC block (hashed first).
    for secret in ["Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", &"k".repeat(100), ""] {
        let expected = h(
            &h(&h(format!("TC3{secret}").as_bytes(), b"2019-02-25"), b"cvm"),
            b"tc3_request",
        );
        assert_eq!(derive_signing_key(secret, "2019-02-25", "cvm").to_vec(), expected);
    }
}
