//! Sign → verify round trips, tampering, caching, dates and redaction.

use signer::{
    derive_signing_key, parse_authorization, utc_date, verify, verify_with_service, Payload, ReceivedRequest,
    SecretKey, Signer, SigningRequest, UtcDate, VerifyError, MAX_AUTHORIZATION_LEN, MAX_SIGNED_HEADERS,
};

const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const HOST: &str = "cvm.tencentcloudapi.com";
const CT: &str = "application/json; charset=utf-8";
const BODY: &[u8] = br#"{"InstanceIds":["ins-r8hr2upy","ins-5d8a23rs"]}"#;
const TS: i64 = 1551113065;

fn signer() -> Signer {
    Signer::new(ID, SecretKey::new(KEY))
}

fn post(body: &[u8], ts: i64) -> SigningRequest<'_> {
    SigningRequest {
        method: "POST",
        host: HOST,
        query: "",
        content_type: CT,
        payload: Payload::Bytes(body),
        service: "cvm",
        timestamp: ts,
        action: None,
    }
}

/// Verifies `authorization` against a received request built from the parts.
fn check(
    authorization: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    ts: i64,
    key: &str,
) -> Result<(), VerifyError> {
    let parsed = parse_authorization(authorization)?;
    verify(
        &ReceivedRequest {
            method: "POST",
            query: "",
            headers,
            body,
            timestamp: ts,
            authorization: &parsed,
        },
        &SecretKey::new(key),
    )
}

fn std_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("host", HOST),
        ("content-type", CT),
        ("X-TC-Action", "StartInstances"),
        ("X-TC-Timestamp", "1551113065"),
    ]
}

#[test]
fn round_trip_succeeds() {
    let auth = signer().authorization(&post(BODY, TS));
    assert_eq!(check(&auth, &std_headers(), BODY, TS, KEY), Ok(()));
}

#[test]
fn header_names_are_case_insensitive_and_values_trimmed() {
    let auth = signer().authorization(&post(BODY, TS));
    let headers = [
        ("HOST", HOST),
        ("Content-TYPE", " application/json; charset=utf-8\t"),
    ];
    assert_eq!(check(&auth, &headers, BODY, TS, KEY), Ok(()));
}

#[test]
fn tampered_body_fails() {
    let auth = signer().authorization(&post(BODY, TS));
    let tampered = br#"{"InstanceIds":["ins-r8hr2upy","ins-5d8a23rX"]}"#;
    assert_eq!(
        check(&auth, &std_headers(), tampered, TS, KEY),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_host_fails() {
    let auth = signer().authorization(&post(BODY, TS));
    let headers = [
        ("Host", "cvm.ap-guangzhou.tencentcloudapi.com"),
        ("Content-Type", CT),
    ];
    assert_eq!(
        check(&auth, &headers, BODY, TS, KEY),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn tampered_timestamp_fails() {
    let auth = signer().authorization(&post(BODY, TS));
    // Same UTC day: only the signature can tell.
    assert_eq!(
        check(&auth, &std_headers(), BODY, TS + 1, KEY),
        Err(VerifyError::SignatureMismatch)
    );
    // Another UTC day: the credential date no longer matches.
    assert_eq!(
        check(&auth, &std_headers(), BODY, TS + 86_400, KEY),
        Err(VerifyError::CredentialDateMismatch {
            credential: "2019-02-25".into(),
            expected: "2019-02-26".into(),
        })
    );
}

#[test]
fn tampered_signature_fails() {
    let auth = signer().authorization(&post(BODY, TS));
    let last = auth.chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    let tampered = format!("{}{}", &auth[..auth.len() - 1], flipped);
    assert_eq!(
        check(&tampered, &std_headers(), BODY, TS, KEY),
        Err(VerifyError::SignatureMismatch)
    );
    // Uppercase hex still decodes to the same bytes.
    let upper = auth.replace(&auth[auth.len() - 64..], &auth[auth.len() - 64..].to_uppercase());
    assert_eq!(check(&upper, &std_headers(), BODY, TS, KEY), Ok(()));
}

#[test]
fn wrong_secret_fails() {
    let auth = signer().authorization(&post(BODY, TS));
    assert_eq!(
        check(
            &auth,
            &std_headers(),
            BODY,
            TS,
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLf"
        ),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn missing_and_duplicated_signed_headers() {
    let auth = signer().authorization(&post(BODY, TS));
    assert_eq!(
        check(&auth, &[("Host", HOST)], BODY, TS, KEY),
        Err(VerifyError::MissingSignedHeader("content-type".into()))
    );
    let dup = [("Host", HOST), ("Content-Type", CT), ("host", HOST)];
    assert_eq!(
        check(&auth, &dup, BODY, TS, KEY),
        Err(VerifyError::DuplicatedSignedHeader("host".into()))
    );
    // Duplicates of unsigned headers do not matter.
    let extra = [("Host", HOST), ("Content-Type", CT), ("X-A", "1"), ("x-a", "2")];
    assert_eq!(check(&auth, &extra, BODY, TS, KEY), Ok(()));
}

#[test]
fn unsigned_payload_round_trip() {
    let mut req = post(BODY, TS);
    req.payload = Payload::Unsigned;
    let signed = signer().sign_detailed(&req);
    assert!(signed.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    assert_eq!(signer().authorization(&req), signed.authorization);

    let mut headers = std_headers();
    headers.push(("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD"));
    // Any body verifies: it is not covered by the signature.
    assert_eq!(check(&signed.authorization, &headers, BODY, TS, KEY), Ok(()));
    assert_eq!(check(&signed.authorization, &headers, b"other", TS, KEY), Ok(()));
    // Without the header the server hashes the body, which was not what was signed.
    assert_eq!(
        check(&signed.authorization, &std_headers(), BODY, TS, KEY),
        Err(VerifyError::SignatureMismatch)
    );
    // A signed body does not verify if an attacker adds the header.
    let auth = signer().authorization(&post(BODY, TS));
    assert_eq!(
        check(&auth, &headers, b"other", TS, KEY),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn get_round_trip_signs_query_and_post_ignores_it() {
    let signer = signer();
    let query = "Action=DescribeInstances&Limit=1";
    let mut req = post(b"", TS);
    req.method = "GET";
    req.query = query;
    req.content_type = "application/x-www-form-urlencoded";
    let auth = signer.authorization(&req);
    let parsed = parse_authorization(&auth).unwrap();
    let headers = [
        ("Host", HOST),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let received = |q| ReceivedRequest {
        method: "GET",
        query: q,
        headers: &headers,
        body: b"",
        timestamp: TS,
        authorization: &parsed,
    };
    assert_eq!(verify(&received(query), &SecretKey::new(KEY)), Ok(()));
    assert_eq!(
        verify(
            &received("Action=DescribeInstances&Limit=2"),
            &SecretKey::new(KEY)
        ),
        Err(VerifyError::SignatureMismatch)
    );

    let mut with_query = post(BODY, TS);
    with_query.query = "ignored=1";
    assert_eq!(
        signer.authorization(&with_query),
        signer.authorization(&post(BODY, TS))
    );
}

#[test]
fn long_requests_spill_past_the_stack_buffer() {
    // Canonical request / string to sign longer than the internal stack
    // buffer (256 bytes), with the overflow at various points.
    let signer = signer();
    for n in [100, 180, 250, 256, 300, 1000, 5000] {
        let query: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let service = &query[..n.min(300)];
        let req = SigningRequest {
            method: "GET",
            host: HOST,
            query: &query,
            content_type: "application/x-www-form-urlencoded",
            payload: Payload::Bytes(b""),
            service,
            timestamp: TS,
            action: None,
        };
        let detailed = signer.sign_detailed(&req);
        assert!(detailed.canonical_request.contains(&query));
        assert_eq!(signer.authorization(&req), detailed.authorization, "{n}");
        let parsed = parse_authorization(&detailed.authorization).unwrap();
        let headers = [
            ("Host", HOST),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let received = ReceivedRequest {
            method: "GET",
            query: &query,
            headers: &headers,
            body: b"",
            timestamp: TS,
            authorization: &parsed,
        };
        assert_eq!(verify(&received, &SecretKey::new(KEY)), Ok(()), "{n}");
    }
}

#[test]
fn service_scope_is_checked() {
    let auth = signer().authorization(&post(BODY, TS));
    let parsed = parse_authorization(&auth).unwrap();
    let headers = std_headers();
    let received = ReceivedRequest {
        method: "POST",
        query: "",
        headers: &headers,
        body: BODY,
        timestamp: TS,
        authorization: &parsed,
    };
    let key = SecretKey::new(KEY);
    assert_eq!(verify_with_service(&received, &key, "cvm"), Ok(()));
    assert_eq!(
        verify_with_service(&received, &key, "vpc"),
        Err(VerifyError::ServiceMismatch {
            credential: "cvm".into(),
            expected: "vpc".into()
        })
    );
    // Changing the scope's service breaks the signature.
    let mut other = parsed.clone();
    other.service = "vpc".into();
    let received = ReceivedRequest {
        authorization: &other,
        ..received
    };
    assert_eq!(verify(&received, &key), Err(VerifyError::SignatureMismatch));
}

#[test]
fn parse_authorization_rejects_malformed_headers() {
    let sig = "452cec19d8d7c514ae9e4307af88820c941487912ce66be38d1207a050c20645";
    let ok = format!("TC3-HMAC-SHA256 Credential={ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature={sig}");
    assert!(parse_authorization(&ok).is_ok());

    assert_eq!(
        parse_authorization(&ok.replace("TC3-HMAC-SHA256", "AWS4-HMAC-SHA256")),
        Err(VerifyError::UnsupportedAlgorithm("AWS4-HMAC-SHA256".into()))
    );
    let malformed = [
        String::new(),
        "TC3-HMAC-SHA256".into(),
        "TC3-HMAC-SHA256 ".into(),
        ok.replace("/tc3_request", "/aws4_request"),
        ok.replace("/tc3_request", "/tc3_request/x"),
        ok.replace("2019-02-25", "20190225"),
        ok.replace("/cvm/", "//"),
        ok.replace(&format!("{ID}/"), "/"),
        ok.replace("content-type;host", "Content-Type;Host"),
        ok.replace("content-type;host", "host"),
        ok.replace("content-type;host", "content-type;host;host"),
        ok.replace("content-type;host", "content-type;;host"),
        ok.replace(sig, &sig[1..]),
        ok.replace(sig, &sig.replace('4', "g")),
        format!("{ok}, Signature={sig}"),
        format!("{ok}, Extra=1"),
        ok.replace(", Signature=", ", Signature"),
        ok.replace(", SignedHeaders=content-type;host", ""),
    ];
    for h in &malformed {
        assert!(
            matches!(
                parse_authorization(h),
                Err(VerifyError::MalformedAuthorization(_))
            ),
            "{h:?} -> {:?}",
            parse_authorization(h)
        );
    }
}

#[test]
fn oversized_authorization_headers_are_refused_early() {
    use VerifyError::MalformedAuthorization as Malformed;
    let sig = "452cec19d8d7c514ae9e4307af88820c941487912ce66be38d1207a050c20645";
    let with_names = |names: &str| {
        format!("TC3-HMAC-SHA256 Credential={ID}/2019-02-25/cvm/tc3_request, SignedHeaders={names}, Signature={sig}")
    };

    // The reviewer's case: ~190 KB, 50 000 distinct names (quadratic before).
    let many: Vec<String> = (0..50_000).map(|i| format!("x-{i}")).collect();
    let huge = with_names(&format!("content-type;host;{}", many.join(";")));
    assert!(huge.len() > 190_000);
    assert_eq!(
        parse_authorization(&huge),
        Err(Malformed("header longer than 4096 bytes"))
    );
    // Length is measured before trimming: padding does not get around it.
    let padded = format!(
        "{}{}",
        " ".repeat(MAX_AUTHORIZATION_LEN),
        with_names("content-type;host")
    );
    assert_eq!(
        parse_authorization(&padded),
        Err(Malformed("header longer than 4096 bytes"))
    );

    // Under the length cap, but more than 32 names.
    let names: Vec<String> = (0..MAX_SIGNED_HEADERS - 1).map(|i| format!("x-{i}")).collect();
    let at_cap = with_names(&format!(
        "content-type;host;{}",
        names[..MAX_SIGNED_HEADERS - 2].join(";")
    ));
    assert!(at_cap.len() <= MAX_AUTHORIZATION_LEN);
    assert_eq!(
        parse_authorization(&at_cap).unwrap().signed_headers.len(),
        MAX_SIGNED_HEADERS
    );
    let over_cap = with_names(&format!("content-type;host;{}", names.join(";")));
    assert!(over_cap.len() <= MAX_AUTHORIZATION_LEN);
    assert_eq!(
        parse_authorization(&over_cap),
        Err(Malformed("more than 32 names in SignedHeaders"))
    );
    // Empty names count too (`;;;;`).
    let empties = with_names(&format!("content-type;host{}", ";".repeat(2000)));
    assert_eq!(
        parse_authorization(&empties),
        Err(Malformed("more than 32 names in SignedHeaders"))
    );

    // Repeated names are found wherever they are.
    for names in [
        "content-type;host;x-a;content-type",
        "x-a;content-type;x-b;host;x-a",
        "host;content-type;host",
    ] {
        assert_eq!(
            parse_authorization(&with_names(names)),
            Err(Malformed("repeated name in SignedHeaders")),
            "{names}"
        );
    }

    // verify re-checks the public fields: a hand-built ParsedAuthorization
    // with too many names is refused without touching the request.
    let mut parsed = parse_authorization(&with_names("content-type;host")).unwrap();
    parsed.signed_headers.extend(many.iter().cloned());
    let received = ReceivedRequest {
        method: "POST",
        query: "",
        headers: &[("Host", HOST), ("Content-Type", CT)],
        body: BODY,
        timestamp: TS,
        authorization: &parsed,
    };
    assert_eq!(
        verify(&received, &SecretKey::new(KEY)),
        Err(Malformed("more than 32 names in SignedHeaders"))
    );
}

#[test]
fn extra_signed_headers_are_supported_by_verify() {
    // A client of another SDK may sign more headers than content-type;host.
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let canonical = format!(
        "POST\n/\n\ncontent-type:{CT}\nhost:{HOST}\nx-tc-action:startinstances\n\ncontent-type;host;x-tc-action\n{}",
        hex::encode(Sha256::digest(BODY))
    );
    let sts = format!(
        "TC3-HMAC-SHA256\n{TS}\n2019-02-25/cvm/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = derive_signing_key(KEY, "2019-02-25", "cvm");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(sts.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let auth = format!("TC3-HMAC-SHA256 Credential={ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature={sig}");
    let headers = [
        ("Host", HOST),
        ("Content-Type", CT),
        ("X-TC-Action", "startinstances"),
    ];
    assert_eq!(check(&auth, &headers, BODY, TS, KEY), Ok(()));
    let headers = [
        ("Host", HOST),
        ("Content-Type", CT),
        ("X-TC-Action", "StopInstances"),
    ];
    assert_eq!(
        check(&auth, &headers, BODY, TS, KEY),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn cache_gives_the_same_answers_as_fresh_derivation() {
    let shared = signer();
    let days = [TS, TS + 86_400, TS - 86_400];
    let services = ["cvm", "vpc"];
    // Interleave so both cache hits and misses across keys are exercised, twice.
    for _ in 0..2 {
        for &ts in &days {
            for service in services {
                let mut req = post(BODY, ts);
                req.service = service;
                let fresh = signer().sign_detailed(&req);
                assert_eq!(shared.authorization(&req), fresh.authorization);
                assert_eq!(shared.sign_detailed(&req), fresh);
                // And the signature checks out with an independently derived key.
                let key = derive_signing_key(KEY, &utc_date(ts), service);
                use hmac::{Hmac, Mac};
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
                mac.update(fresh.string_to_sign.as_bytes());
                assert_eq!(hex::encode(mac.finalize().into_bytes()), fresh.signature);
            }
        }
    }
}

#[test]
fn cache_eviction_keeps_answers_correct() {
    let shared = signer();
    // More (day, service) pairs than the cache holds, visited twice.
    for _ in 0..2 {
        for day in 0..40 {
            let req = post(BODY, TS + day * 86_400);
            assert_eq!(
                shared.authorization(&req),
                signer().sign_detailed(&req).authorization
            );
        }
    }
}

#[test]
fn signer_is_send_and_sync_and_works_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Signer>();
    assert_send_sync::<SecretKey>();
    let shared = std::sync::Arc::new(signer());
    let expected = signer().authorization(&post(BODY, TS));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let s = shared.clone();
            std::thread::spawn(move || s.authorization(&post(BODY, TS)))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), expected);
    }
}

#[test]
fn utc_date_boundaries() {
    assert_eq!(utc_date(1551052799), "2019-02-24");
    assert_eq!(utc_date(1551052800), "2019-02-25");
    // 07:59 Beijing time on 2019-02-26 is still 2019-02-25 in UTC.
    assert_eq!(utc_date(1551139140), "2019-02-25");
    assert_eq!(utc_date(0), "1970-01-01");
    assert_eq!(utc_date(-1), "1969-12-31");
    assert_eq!(utc_date(-86_400), "1969-12-31");
    assert_eq!(utc_date(-86_401), "1969-12-30");
    assert_eq!(utc_date(951782400), "2000-02-29"); // 2000 is a leap year (÷400)
    assert_eq!(utc_date(4107456000), "2100-02-28");
    assert_eq!(utc_date(4107542400), "2100-03-01"); // 2100 is not (÷100)
    assert_eq!(utc_date(4102444799), "2099-12-31");
    assert_eq!(utc_date(253402300799), "9999-12-31");
    assert_eq!(utc_date(-62167219200), "0000-01-01");
    assert_eq!(utc_date(-62167219201), "-0001-12-31");
    // Extremes do not panic.
    let _ = utc_date(i64::MAX);
    let _ = utc_date(i64::MIN);
    assert_eq!(UtcDate::from_timestamp(1551113065).to_string(), "2019-02-25");
}

#[test]
fn utc_date_matches_naive_day_counting() {
    // Walk day by day from 1900 to 2200 and compare with a simple counter.
    fn leap(y: i64) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }
    let (mut y, mut m, mut d) = (1900i64, 1u8, 1u8);
    let mut days = -25_567i64; // 1900-01-01
    while y < 2200 {
        let date = UtcDate::from_timestamp(days * 86_400 + 43_200);
        assert_eq!((date.year, date.month, date.day), (y, m, d));
        let len = match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        d += 1;
        if d > len {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
        days += 1;
    }
}

#[test]
fn negative_and_extreme_timestamps_sign_and_verify() {
    for ts in [-1, -86_401, i64::MIN, i64::MAX] {
        let auth = signer().authorization(&post(BODY, ts));
        assert_eq!(auth, signer().sign_detailed(&post(BODY, ts)).authorization);
        // Dates outside 0000..9999 are not YYYY-MM-DD, so servers reject them.
        let r = check(&auth, &std_headers(), BODY, ts, KEY);
        if (0..253402300800).contains(&ts) || ts == -1 || ts == -86_401 {
            assert_eq!(r, Ok(()), "{ts}");
        } else {
            assert!(
                matches!(r, Err(VerifyError::MalformedAuthorization(_))),
                "{ts}: {r:?}"
            );
        }
    }
}

#[test]
fn secret_never_shows_in_debug_or_errors() {
    let key = SecretKey::new(KEY);
    assert_eq!(format!("{key:?}"), "SecretKey(***)");
    assert_eq!(key.expose(), KEY);
    let s = signer();
    let dbg = format!("{s:?} {s:#?}");
    assert!(!dbg.contains(KEY), "{dbg}");
    assert!(dbg.contains(ID));
    assert_eq!(s.secret_id(), ID);

    // Warm the cache and look again.
    let signed = s.sign_detailed(&post(BODY, TS));
    let dbg = format!("{s:?} {signed:?}");
    assert!(!dbg.contains(KEY));

    let auth = s.authorization(&post(BODY, TS));
    for err in [
        check(&auth, &std_headers(), b"x", TS, KEY),
        check(&auth, &[], BODY, TS, KEY),
        check(&auth, &std_headers(), BODY, TS + 86_400, KEY),
        check("garbage", &[], BODY, TS, KEY),
        check(&auth.replace(ID, KEY), &std_headers(), BODY, TS, ID),
    ] {
        let err = err.unwrap_err();
        assert!(!format!("{err} {err:?}").contains(KEY), "{err:?}");
    }
}

/// With the action signed, the signature covers `X-TC-Action`; header values
/// are compared as the gateway canonicalises them (trimmed, lower-cased).
#[test]
fn signed_action_is_bound_and_values_are_canonicalised() {
    let req = SigningRequest {
        action: Some("StartInstances"),
        ..post(BODY, TS)
    };
    let authorization = signer().authorization(&req);
    assert!(authorization.contains("SignedHeaders=content-type;host;x-tc-action, "));
    let with = |action: &'static str, content_type: &'static str| {
        vec![
            ("Host", HOST),
            ("Content-Type", content_type),
            ("X-TC-Action", action),
        ]
    };
    assert_eq!(
        check(&authorization, &with("StartInstances", CT), BODY, TS, KEY),
        Ok(())
    );
    assert_eq!(
        check(
            &authorization,
            &with(" StartInstances\t", "Application/JSON; Charset=UTF-8"),
            BODY,
            TS,
            KEY
        ),
        Ok(())
    );
    for other in ["StopInstances", "TerminateInstances", "StartInstance"] {
        assert_eq!(
            check(&authorization, &with(other, CT), BODY, TS, KEY),
            Err(VerifyError::SignatureMismatch),
            "{other}"
        );
    }
    // Signing without the action keeps what the official SDKs send.
    let legacy = signer().authorization(&post(BODY, TS));
    assert!(legacy.contains("SignedHeaders=content-type;host, "));
    assert_eq!(
        check(&legacy, &with("TerminateInstances", CT), BODY, TS, KEY),
        Ok(())
    );
}
