//! Request checks: method, content type, every auth scheme and its
//! failures, the timestamp window, function permissions, the Date header.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Client, harness, now};
use miva_mock::{Clock, ManualClock};
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::{Value, json};

fn product_query() -> Value {
    json!({"Store_Code": "STORE", "Function": "ProductList_Load_Query", "Count": 1})
}

fn denied(message: &str) -> Value {
    json!({"success": 0, "error_code": "access_denied", "error_message": message})
}

#[test]
fn every_scheme_is_accepted() {
    let h = harness(|c| c);
    let mut client = h.client();
    for credential in [&h.sha256, &h.sha1, &h.plain, &h.ssh256, &h.ssh512] {
        let answer = client.call(credential, product_query());
        assert_eq!(answer["success"], 1, "{credential:?}: {answer}");
        assert_eq!(answer["data"]["data"][0]["code"], "P000001");
    }
}

#[test]
fn document_header_name_is_accepted_for_every_scheme() {
    let h = harness(|c| c);
    let mut client = h.client();
    for credential in [&h.sha256, &h.ssh256] {
        let body = serde_json::to_vec(&json!({
            "Store_Code": "STORE", "Function": "ProductList_Load_Query", "Count": 1,
            "Miva_Request_Timestamp": now(),
        }))
        .unwrap();
        let auth = credential.authorize(&body).unwrap();
        let response = client.send(
            "POST",
            "/mm5/json.mvc",
            &[
                ("Content-Type", "application/json"),
                ("X-Miva-API-Authentication", auth.value()),
            ],
            &body,
        );
        assert_eq!(response.json()["success"], 1);
    }
}

#[test]
fn missing_or_malformed_header_gets_an_empty_body() {
    let h = harness(|c| c);
    let mut client = h.client();
    let body = br#"{"Store_Code":"STORE","Function":"ProductList_Load_Query"}"#;
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[("Content-Type", "application/json")],
        body,
    );
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
    assert!(response.header("date").is_some());
    for bad in [
        "garbage",
        "MIVA",
        "MIVA-HMAC-SHA256 tok-sha256",
        "MIVA-HMAC-SHA256 tok-sha256:***",
        "SSH-RSA-SHA2-256 !!!:AAAA",
        "BEARER abc",
    ] {
        let response = client.send(
            "POST",
            "/mm5/json.mvc",
            &[
                ("Content-Type", "application/json"),
                ("X-Miva-API-Authorization", bad),
            ],
            body,
        );
        assert_eq!(response.status, 200, "{bad}");
        assert!(response.body.is_empty(), "{bad}: {:?}", response.body);
    }
}

#[test]
fn unknown_token_or_user_is_access_denied() {
    let h = harness(|c| c);
    let mut client = h.client();
    let unknown = Credential::token(ApiToken::new("nobody").unwrap());
    assert_eq!(
        client.call(&unknown, product_query()),
        denied("Access denied")
    );
    let key = SigningKey::from_base64(common::KEY_256).unwrap();
    let unknown_hmac = Credential::hmac(ApiToken::new("nobody").unwrap(), &key, HmacDigest::Sha256);
    assert_eq!(
        client.call(&unknown_hmac, product_query()),
        denied("Access denied")
    );
    let private =
        miva_sign::RsaPrivateKey::from_text(&common::fixture("rsa2048-pkcs1.pem"), None).unwrap();
    let stranger = Credential::ssh("stranger", private, miva_sign::RsaDigest::Sha256).unwrap();
    assert_eq!(
        client.call(&stranger, product_query()),
        denied("Access denied")
    );
}

#[test]
fn bad_signatures_and_scheme_mismatches() {
    let h = harness(|c| c);
    let mut client = h.client();
    let invalid = denied("Invalid request signature");
    // Right token, wrong key.
    let wrong_key = SigningKey::from_base64(common::KEY_1).unwrap();
    let forged = Credential::hmac(
        ApiToken::new("tok-sha256").unwrap(),
        &wrong_key,
        HmacDigest::Sha256,
    );
    assert_eq!(client.call(&forged, product_query()), invalid);
    // Right key, but SHA-1 for a SHA-256 token.
    let key = SigningKey::from_base64(common::KEY_256).unwrap();
    let sha1 = Credential::hmac(ApiToken::new("tok-sha256").unwrap(), &key, HmacDigest::Sha1);
    assert_eq!(client.call(&sha1, product_query()), invalid);
    // No signature for a signing token.
    let bare = Credential::token(ApiToken::new("tok-sha256").unwrap());
    assert_eq!(client.call(&bare, product_query()), invalid);
    // A signature for a token-only token.
    let signed_plain = Credential::hmac(
        ApiToken::new("tok-plain").unwrap(),
        &key,
        HmacDigest::Sha256,
    );
    assert_eq!(client.call(&signed_plain, product_query()), invalid);
    // A valid signature over different bytes than the ones sent.
    let body = serde_json::to_vec(&json!({
        "Store_Code": "STORE", "Function": "ProductList_Load_Query",
        "Miva_Request_Timestamp": now(),
    }))
    .unwrap();
    let auth = h.sha256.authorize(b"{}").unwrap();
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[
            ("Content-Type", "application/json"),
            (auth.name(), auth.value()),
        ],
        &body,
    );
    assert_eq!(response.json(), invalid);
    // SSH signature over other bytes.
    let auth = h.ssh256.authorize(b"{}").unwrap();
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[
            ("Content-Type", "application/json"),
            (auth.name(), auth.value()),
        ],
        &body,
    );
    assert_eq!(response.json(), invalid);
}

#[test]
fn timestamps() {
    let h = harness(|c| c);
    let mut client = h.client();
    let with_ts = |ts: Value| {
        let mut q = product_query();
        q["Miva_Request_Timestamp"] = ts;
        q
    };
    for credential in [&h.sha256, &h.plain, &h.ssh256] {
        assert_eq!(
            client.call(credential, with_ts(Value::Null)),
            denied("Missing required timestamp")
        );
        assert_eq!(
            client.call(credential, with_ts(json!(""))),
            denied("Missing required timestamp")
        );
        assert_eq!(
            client.call(credential, with_ts(json!(now() - 31))),
            denied("Timestamp outside configured window")
        );
        assert_eq!(
            client.call(credential, with_ts(json!(now() + 3600))),
            denied("Timestamp outside configured window")
        );
        assert_eq!(
            client.call(credential, with_ts(json!("soon"))),
            denied("Timestamp outside configured window")
        );
        assert_eq!(
            client.call(credential, with_ts(json!(now() - 25)))["success"],
            1
        );
        assert_eq!(
            client.call(credential, with_ts(json!(now().to_string())))["success"],
            1
        );
    }
    // A token that does not require timestamps ignores them.
    let body = serde_json::to_vec(&product_query()).unwrap();
    assert_eq!(
        client.post_signed(&h.no_timestamp, &body).json()["success"],
        1
    );
    assert_eq!(
        client.call(&h.no_timestamp, with_ts(json!(1)))["success"],
        1
    );
}

#[test]
fn skewed_clock_window_and_date_header() {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let h = harness(|c| {
        c.with_clock(clock.clone())
            .with_timestamp_window_seconds(10)
    });
    let mut client = h.client();
    let at = |ts: i64| {
        let mut q = product_query();
        q["Miva_Request_Timestamp"] = json!(ts);
        q
    };
    assert_eq!(client.call(&h.sha256, at(1_700_000_010))["success"], 1);
    assert_eq!(
        client.call(&h.sha256, at(now())),
        denied("Timestamp outside configured window")
    );
    clock.set(now());
    assert_eq!(client.call(&h.sha256, at(now()))["success"], 1);
    clock.set(1_700_000_000);
    let body = serde_json::to_vec(&at(1_700_000_000)).unwrap();
    let response = client.post_signed(&h.sha256, &body);
    assert_eq!(
        response.header("date"),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    clock.advance(86_400);
    let response = client.send("GET", "/mm5/json.mvc", &[], b"");
    assert_eq!(
        response.header("date"),
        Some("Wed, 15 Nov 2023 22:13:20 GMT")
    );
    assert_eq!(clock.now_unix(), 1_700_086_400);
}

#[test]
fn skew_config_moves_the_date_header() {
    let h = harness(|c| c.with_clock_skew_seconds(-7200));
    let mut client = h.client();
    let response = client.send("GET", "/mm5/json.mvc", &[], b"");
    let date = response.header("date").unwrap().to_owned();
    let expected_then = now() - 7200;
    let candidates: Vec<String> = (expected_then - 2..=expected_then + 2)
        .map(|t| {
            // Same format as the server; compare by re-deriving from a ManualClock server
            // would be circular, so check the hour field only.
            let secs = t.rem_euclid(86_400);
            format!("{:02}:{:02}", secs / 3600, (secs / 60) % 60)
        })
        .collect();
    assert!(
        candidates.iter().any(|hm| date.contains(hm.as_str())),
        "{date} vs {candidates:?}"
    );
    // The skewed store rejects a correct client's timestamp.
    assert_eq!(
        client.call(&h.sha256, product_query()),
        denied("Timestamp outside configured window")
    );
}

#[test]
fn method_content_type_and_path() {
    let h = harness(|c| c);
    let mut client = h.client();
    for method in ["GET", "PUT", "DELETE", "OPTIONS"] {
        let response = client.send(method, "/mm5/json.mvc", &[], b"");
        assert_eq!(response.status, 200, "{method}");
        assert_eq!(
            response.json(),
            denied("Invalid request method"),
            "{method}"
        );
    }
    let body = serde_json::to_vec(&json!({
        "Store_Code": "STORE", "Function": "ProductList_Load_Query",
        "Miva_Request_Timestamp": now(),
    }))
    .unwrap();
    let auth = h.sha256.authorize(&body).unwrap();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonp"),
        None,
    ] {
        let mut headers = vec![(auth.name(), auth.value())];
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        let response = client.send("POST", "/mm5/json.mvc", &headers, &body);
        assert_eq!(
            response.json(),
            denied("Invalid request content type"),
            "{content_type:?}"
        );
    }
    for ok in ["application/json; charset=utf-8", "Application/JSON"] {
        let response = client.send(
            "POST",
            "/mm5/json.mvc",
            &[("Content-Type", ok), (auth.name(), auth.value())],
            &body,
        );
        assert_eq!(response.json()["success"], 1, "{ok}");
    }
    let response = client.send("POST", "/other.mvc", &[], b"{}");
    assert_eq!(response.status, 404);
    // Query strings do not change the endpoint.
    let response = client.send(
        "POST",
        "/mm5/json.mvc?x=1",
        &[
            ("Content-Type", "application/json"),
            (auth.name(), auth.value()),
        ],
        &body,
    );
    assert_eq!(response.json()["success"], 1);
}

#[test]
fn function_permissions() {
    let h = harness(|c| c);
    let mut client = h.client();
    assert_eq!(client.call(&h.limited, product_query())["success"], 1);
    let categories = json!({"Store_Code": "STORE", "Function": "CategoryList_Load_Query"});
    assert_eq!(client.call(&h.limited, categories)["success"], 1);
    for function in [
        "Product_Delete",
        "CustomerList_Load_Query",
        "StoreList_Load_Query",
        "Nope",
    ] {
        let answer = client.call(
            &h.limited,
            json!({"Store_Code": "STORE", "Function": function, "Product_ID": 1}),
        );
        assert_eq!(answer, denied("Access denied"), "{function}");
    }
    // Nothing was deleted.
    assert_eq!(
        h.codes(json!([{"field": "id", "operator": "EQ", "value": 1}])),
        ["P000001"]
    );
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let h = harness(|c| c);
    let mut client = h.client();
    for i in 1..=20u64 {
        let answer = client.call(
            &h.sha256,
            json!({"Store_Code": "STORE", "Function": "ProductList_Load_Query",
                   "Filter": [{"name": "search", "value": [{"field": "id", "operator": "EQ", "value": i}]}]}),
        );
        assert_eq!(answer["data"]["data"][0]["code"], common::code(i));
    }
    let _ = Client::connect(h.server.addr());
}
