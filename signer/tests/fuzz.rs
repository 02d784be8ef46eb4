//! Property tests: the verifier never panics on hostile input, and signing
//! round-trips for arbitrary bodies and hosts.

use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::Sha256;
use signer::{
    derive_signing_key, parse_authorization, verify, ParsedAuthorization, Payload, ReceivedRequest,
    SecretKey, Signer, SigningRequest, VerifyError,
};

const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const VALID: &str = "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=452cec19d8d7c514ae9e4307af88820c941487912ce66be38d1207a050c20645";

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// Strings that look partly like a TC3 header, to get past the first checks.
fn authorization_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("TC3-HMAC-SHA256".to_owned()),
        Just(" ".to_owned()),
        Just(", ".to_owned()),
        Just("Credential=".to_owned()),
        Just("SignedHeaders=".to_owned()),
        Just("Signature=".to_owned()),
        Just("AKID/2019-02-25/cvm/tc3_request".to_owned()),
        Just("content-type;host".to_owned()),
        Just("/".to_owned()),
        Just(";".to_owned()),
        Just("=".to_owned()),
        "[0-9a-f]{0,70}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("Host".to_owned()),
                Just("content-type".to_owned()),
                Just("X-TC-Content-SHA256".to_owned()),
                any::<String>()
            ],
            prop_oneof![Just("UNSIGNED-PAYLOAD".to_owned()), any::<String>()],
        ),
        0..6,
    )
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_strings(s in any::<String>()) {
        // Random text is essentially never a valid header.
        prop_assert!(parse_authorization(&s).is_err());
    }

    #[test]
    fn parse_and_verify_never_panic_on_near_miss_headers(
        header in authorization_like(),
        hdrs in headers(),
        method in "[A-Z]{0,6}",
        query in any::<String>(),
        body in prop::collection::vec(any::<u8>(), 0..200),
        timestamp in any::<i64>(),
    ) {
        if let Ok(parsed) = parse_authorization(&header) {
            let hdrs: Vec<(&str, &str)> = hdrs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let req = ReceivedRequest {
                method: &method, query: &query, headers: &hdrs, body: &body, timestamp,
                authorization: &parsed,
            };
            prop_assert!(verify(&req, &SecretKey::new(KEY)).is_err());
        }
    }

    /// One random edit (replace, insert or delete a char) of a valid header.
    #[test]
    fn parse_and_verify_never_panic_on_mutated_valid_headers(
        pos in 0usize..200,
        op in 0u8..3,
        c in any::<char>(),
        timestamp in prop_oneof![Just(1551113065i64), any::<i64>()],
    ) {
        let mut chars: Vec<char> = VALID.chars().collect();
        let i = pos % chars.len();
        match op {
            0 => chars[i] = c,
            1 => chars.insert(i, c),
            _ => { chars.remove(i); }
        }
        let header: String = chars.into_iter().collect();
        let body = br#"{"InstanceIds":["ins-r8hr2upy","ins-5d8a23rs"]}"#;
        let hdrs = [("Host", "cvm.tencentcloudapi.com"), ("Content-Type", "application/json; charset=utf-8")];
        if let Ok(parsed) = parse_authorization(&header) {
            let req = ReceivedRequest {
                method: "POST", query: "", headers: &hdrs, body, timestamp, authorization: &parsed,
            };
            let r = verify(&req, &SecretKey::new(KEY));
            if r.is_ok() {
                // Only edits that do not change the signed meaning may still
                // verify: the SecretId (not signed; the server picks the key
                // by it), hex case, or whitespace around parameters.
                let valid = parse_authorization(VALID).unwrap();
                prop_assert_eq!(&parsed.date, &valid.date);
                prop_assert_eq!(&parsed.service, &valid.service);
                prop_assert_eq!(&parsed.signed_headers, &valid.signed_headers);
                prop_assert_eq!(parsed.signature.to_ascii_lowercase(), valid.signature);
            }
        }
    }

    /// The mid-state HMAC behind derive_signing_key agrees with RustCrypto's
    /// `hmac` for keys and scopes of any length.
    #[test]
    fn derive_signing_key_matches_reference(
        secret in any::<String>(),
        date in any::<String>(),
        service in any::<String>(),
    ) {
        let expected = hmac(
            &hmac(&hmac(format!("TC3{secret}").as_bytes(), date.as_bytes()), service.as_bytes()),
            b"tc3_request",
        );
        prop_assert_eq!(derive_signing_key(&secret, &date, &service).to_vec(), expected);
    }

    #[test]
    fn verify_never_panics_on_arbitrary_parsed_fields(
        algorithm in prop_oneof![Just("TC3-HMAC-SHA256".to_owned()), any::<String>()],
        secret_id in any::<String>(),
        date in prop_oneof![Just("2019-02-25".to_owned()), any::<String>()],
        service in prop_oneof![Just("cvm".to_owned()), any::<String>()],
        signed_headers in prop_oneof![
            Just(vec!["content-type".to_owned(), "host".to_owned()]),
            prop::collection::vec(any::<String>(), 0..4),
        ],
        signature in prop_oneof!["[0-9a-fA-F]{64}", any::<String>()],
        hdrs in headers(),
        body in prop::collection::vec(any::<u8>(), 0..100),
        timestamp in prop_oneof![Just(1551113065i64), any::<i64>()],
        key in any::<String>(),
    ) {
        let parsed = ParsedAuthorization { algorithm, secret_id, date, service, signed_headers, signature };
        let hdrs: Vec<(&str, &str)> = hdrs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let req = ReceivedRequest {
            method: "POST", query: "", headers: &hdrs, body: &body, timestamp, authorization: &parsed,
        };
        let _ = verify(&req, &SecretKey::new(key));
    }

    #[test]
    fn sign_verify_round_trips(
        body in prop::collection::vec(any::<u8>(), 0..2000),
        host in "[a-z0-9.-]{1,40}(:[0-9]{1,5})?",
        service in "[a-z]{1,10}|[a-z]{150,250}",
        content_type in "[ -~]{0,300}",
        secret_id in "[A-Za-z0-9]{1,40}",
        key in any::<String>(),
        timestamp in 0i64..253402300799,
        unsigned in any::<bool>(),
        tamper in any::<u8>(),
    ) {
        let signer = Signer::new(secret_id.clone(), SecretKey::new(key.clone()));
        let sreq = SigningRequest {
            method: "POST",
            host: &host,
            query: "",
            content_type: &content_type,
            payload: if unsigned { Payload::Unsigned } else { Payload::Bytes(&body) },
            service: &service,
            timestamp,
            action: None,
        };
        let auth = signer.authorization(&sreq);
        prop_assert_eq!(&auth, &signer.sign_detailed(&sreq).authorization);

        let parsed = parse_authorization(&auth).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&parsed.secret_id, &secret_id);
        let mut hdrs = vec![("Host", host.as_str()), ("Content-Type", content_type.as_str())];
        if unsigned {
            hdrs.push(("x-tc-content-sha256", "UNSIGNED-PAYLOAD"));
        }
        let req = ReceivedRequest {
            method: "POST", query: "", headers: &hdrs, body: &body, timestamp, authorization: &parsed,
        };
        prop_assert_eq!(verify(&req, &SecretKey::new(key.clone())), Ok(()));

        // Flipping a body byte breaks signed payloads only.
        if !body.is_empty() {
            let mut tampered = body.clone();
            let i = usize::from(tamper) % tampered.len();
            tampered[i] ^= 1;
            let req = ReceivedRequest { body: &tampered, ..req };
            let expected = if unsigned { Ok(()) } else { Err(VerifyError::SignatureMismatch) };
            prop_assert_eq!(verify(&req, &SecretKey::new(key.clone())), expected);
        }
        // Another secret never verifies.
        prop_assert_eq!(
            verify(&req, &SecretKey::new(format!("{key}x"))),
            Err(VerifyError::SignatureMismatch)
        );
    }
}
