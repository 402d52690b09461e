//! The call and multicall machines fed raw responses, with no socket.

use std::time::{Duration, UNIX_EPOCH};

use miva_envelope::{Operation, OperationResult};
use miva_sign::{ApiToken, Credential};
use serde_json::json;

use super::*;
use crate::{RetryPolicy, TimeoutKind};

const NOW: u64 = 1_700_000_000;

fn session() -> Session {
    let token = ApiToken::new("0f90f77b58ca98836eba3d50f526f523").unwrap();
    Session::new(
        "https://store.example.com/mm5/json.mvc",
        Credential::token(token),
    )
    .store_code(Some("S1".into()))
    .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

fn text(attempt: &Attempt) -> &str {
    std::str::from_utf8(attempt.body()).unwrap()
}

fn header(attempt: &Attempt, name: &str) -> Option<String> {
    attempt
        .headers()
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.to_owned())
}

fn ok(body: &str) -> Result<RawResponse, Error> {
    Ok(RawResponse::new(200, body.as_bytes().to_vec()))
}

fn status(code: u16, body: &str) -> Result<RawResponse, Error> {
    Ok(RawResponse::new(code, body.as_bytes().to_vec()))
}

const MS: Duration = Duration::from_millis(1);

/// The store's answer to a timestamp outside its window
/// (wire-facts.md, "Access denied" messages of `mmlsk-json.mv`).
const REFUSED: &str = r#"{"success":0,"error_code":"access_denied","error_message":"Timestamp outside configured window"}"#;

#[test]
fn a_call_sends_its_envelope_signed_and_returns_data() {
    let session = session();
    let mut call = session
        .raw_call(
            "Product_Load",
            &json!({"Product_Code": "P1"}),
            &CallOptions::new(),
        )
        .unwrap();
    assert_eq!(call.function(), "Product_Load");
    assert!(call.safe_to_repeat(), "a *_Load only reads");
    let attempt = call.next_attempt().unwrap();
    assert_eq!(
        text(&attempt),
        r#"{"Function":"Product_Load","Store_Code":"S1","Miva_Request_Timestamp":1700000000,"Product_Code":"P1"}"#
    );
    assert_eq!(
        header(&attempt, "X-Miva-API-Authorization").as_deref(),
        Some("MIVA 0f90f77b58ca98836eba3d50f526f523")
    );
    assert_eq!(
        header(&attempt, "X-Miva-API-Timeout"),
        None,
        "multicall only"
    );
    assert_eq!(attempt.timeout(), None, "the transport's limit stands");
    assert!(
        !format!("{attempt:?}").contains("0f90f77b"),
        "Debug redacts"
    );
    match call.on_response(ok(r#"{"success":1,"data":{"code":"P1"}}"#), MS) {
        Step::Done(data) => assert_eq!(data, json!({"code": "P1"})),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_envelope_matches_the_encoder_with_and_without_params() {
    let session = session().timestamps(false);
    for params in [
        json!({}),
        json!(null),
        json!({"A": [1, {"b": "c"}], "Z": null}),
    ] {
        let mut call = session
            .raw_call(
                "Order_Create",
                &params,
                &CallOptions::new().store_code("S2"),
            )
            .unwrap();
        let map = params.as_object().cloned().unwrap_or_default();
        let expected = miva_envelope::Envelope::function("Order_Create")
            .store_code(Some("S2"))
            .encode(&map)
            .unwrap();
        assert_eq!(call.next_attempt().unwrap().body(), expected.as_slice());
    }
    // A module call, whose params are not an object: refused before sending.
    let error = session.module_call("m", "f", &json!([1])).unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error}");
    let mut module = session.module_call("mod", "Run", &json!({"X": 1})).unwrap();
    assert_eq!(module.function(), "Module:mod:Run");
    assert!(!module.safe_to_repeat());
    assert_eq!(
        std::str::from_utf8(module.next_attempt().unwrap().body()).unwrap(),
        r#"{"Function":"Module","Module_Code":"mod","Module_Function":"Run","Store_Code":"S1","X":1}"#
    );
}

#[test]
fn a_refused_timestamp_with_a_date_header_is_resent_once_with_the_stores_clock() {
    let session = session();
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    // The store is 600 s ahead: 2023-11-14T22:23:20Z is NOW + 600.
    let refused = RawResponse::new(200, REFUSED.as_bytes().to_vec())
        .with_header("Date", "Tue, 14 Nov 2023 22:23:20 GMT");
    assert!(matches!(
        call.on_response(Ok(refused.clone()), MS),
        Step::Resend
    ));
    assert_eq!(session.clock_offset_ms(), 600_000);
    let again = call.next_attempt().unwrap();
    assert!(
        text(&again).contains(r#""Miva_Request_Timestamp":1700000600"#),
        "{}",
        text(&again)
    );
    // Refused again: once is enough.
    match call.on_response(Ok(refused), MS) {
        Step::Fail(Error::AccessDenied { kind, .. }) => {
            assert_eq!(kind, miva_envelope::AccessDenied::TimestampOutsideWindow);
        }
        other => panic!("{other:?}"),
    }
    // Without a Date header there is nothing to learn: it fails at once.
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    assert!(matches!(
        call.on_response(ok(REFUSED), MS),
        Step::Fail(Error::AccessDenied { .. })
    ));
}

#[test]
fn a_gateway_503_is_retried_for_a_read_and_not_for_a_write() {
    let policy = RetryPolicy::new(2).initial_backoff(Duration::from_millis(5));
    let session = session().retry(Some(policy));
    let mut read = session
        .raw_call("ProductList_Load_Query", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = read.next_attempt().unwrap();
    assert!(
        matches!(read.on_response(status(503, "busy"), MS), Step::Wait(w) if w <= Duration::from_millis(5))
    );
    let _ = read.next_attempt().unwrap();
    assert!(matches!(
        read.on_response(status(503, "busy"), MS),
        Step::Wait(_)
    ));
    let _ = read.next_attempt().unwrap();
    assert!(
        matches!(
            read.on_response(status(503, "busy"), MS),
            Step::Fail(Error::HttpStatus { status: 503, .. })
        ),
        "two retries, then the error"
    );

    let mut write = session
        .raw_call("Product_Update", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = write.next_attempt().unwrap();
    assert!(matches!(
        write.on_response(status(503, "busy"), MS),
        Step::Fail(Error::HttpStatus { status: 503, .. })
    ));
    // Marked idempotent, the write is retried.
    let mut marked = session
        .raw_call(
            "Product_Update",
            &json!({}),
            &CallOptions::new().idempotent(true),
        )
        .unwrap();
    let _ = marked.next_attempt().unwrap();
    assert!(matches!(
        marked.on_response(status(503, "busy"), MS),
        Step::Wait(_)
    ));
    // Without a policy nothing is retried.
    let plain = self::session();
    let mut read = plain
        .raw_call("ProductList_Load_Query", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = read.next_attempt().unwrap();
    assert!(matches!(
        read.on_response(status(503, "busy"), MS),
        Step::Fail(_)
    ));
}

#[test]
fn redirects_empty_bodies_and_api_errors_fail_with_their_kind() {
    let session = session();
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    let redirect = RawResponse::new(302, Vec::new()).with_header(
        "Location",
        "https://elsewhere.example/login?access_token=SECRET",
    );
    match call.on_response(Ok(redirect), MS) {
        Step::Fail(Error::Redirect {
            status: 302,
            location,
        }) => {
            assert!(!location.unwrap_or_default().contains("SECRET"));
        }
        other => panic!("{other:?}"),
    }
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    match call.on_response(ok("  \n"), MS) {
        Step::Fail(Error::EmptyResponse { status: 200, hint }) => assert_eq!(hint, EMPTY_HINT),
        other => panic!("{other:?}"),
    }
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    match call.on_response(
        ok(r#"{"success":0,"error_code":"access_denied","error_message":"Invalid request signature"}"#),
        MS,
    ) {
        Step::Fail(Error::AccessDenied { kind, .. }) => {
            assert_eq!(kind, miva_envelope::AccessDenied::InvalidSignature);
        }
        other => panic!("{other:?}"),
    }
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    assert!(matches!(
        call.on_response(
            ok(r#"{"success":0,"error_code":"PRD-NOT-FOUND","error_message":"x"}"#),
            MS
        ),
        Step::Fail(Error::Api(_))
    ));
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    assert!(matches!(
        call.on_response(ok("<html>oops</html>"), MS),
        Step::Fail(Error::Undecodable { status: 200, .. })
    ));
    // The store's api_offline 503 is its own error, never retried.
    let session = self::session().retry(Some(RetryPolicy::new(3)));
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let _ = call.next_attempt().unwrap();
    assert!(matches!(
        call.on_response(
            status(
                503,
                r#"{"success":0,"error_code":"api_offline","error_message":"off"}"#
            ),
            MS
        ),
        Step::Fail(Error::ApiOffline(_))
    ));
}

#[test]
fn a_deadline_cuts_the_request_and_names_itself() {
    let session = session();
    // Passed before the first attempt: nothing is sent.
    let mut call = session
        .raw_call(
            "Product_Load",
            &json!({}),
            &CallOptions::new().deadline(Duration::ZERO),
        )
        .unwrap();
    assert!(matches!(
        call.next_attempt(),
        Err(Error::Timeout {
            kind: TimeoutKind::CallDeadline,
            ..
        })
    ));
    // A deadline shorter than the transport's timeout cuts the request,
    // and a timeout then is the deadline's.
    let mut call = session
        .raw_call(
            "Product_Load",
            &json!({}),
            &CallOptions::new().deadline(Duration::from_secs(5)),
        )
        .unwrap();
    let attempt = call.next_attempt().unwrap();
    assert!(
        attempt
            .timeout()
            .is_some_and(|t| t <= Duration::from_secs(5))
    );
    let timeout = Err(Error::Timeout {
        kind: TimeoutKind::Request,
        limit: Duration::from_secs(5),
    });
    assert!(matches!(
        call.on_response(timeout, MS),
        Step::Fail(Error::Timeout { kind: TimeoutKind::CallDeadline, limit }) if limit == Duration::from_secs(5)
    ));
    // A per-call timeout replaces the transport's.
    let mut call = session
        .raw_call(
            "Product_Load",
            &json!({}),
            &CallOptions::new().timeout(Duration::from_millis(1500)),
        )
        .unwrap();
    assert_eq!(
        call.next_attempt().unwrap().timeout(),
        Some(Duration::from_millis(1500))
    );
}

#[test]
fn an_external_signer_gets_the_bytes_and_installs_the_header() {
    let session = session();
    assert!(!session.signs_externally());
    let mut call = session
        .raw_call("Product_Load", &json!({}), &CallOptions::new())
        .unwrap();
    let mut attempt = call.next_unsigned().unwrap();
    assert!(!attempt.is_signed());
    assert!(header(&attempt, "X-Miva-API-Authorization").is_none());
    let signed = session.credential().authorize(attempt.body()).unwrap();
    attempt.set_authorization(signed);
    assert!(attempt.is_signed());
    assert!(header(&attempt, "X-Miva-API-Authorization").is_some());
}

fn operations(n: usize) -> Vec<Operation> {
    (0..n)
        .map(|i| {
            Operation::new("Product_Update", &json!({"Product_Code": format!("P{i}")})).unwrap()
        })
        .collect()
}

fn answers(n: usize) -> String {
    let one = r#"{"success":1,"data":null}"#;
    format!("[{}]", vec![one; n].join(","))
}

fn partial(n: usize, range: Option<&str>) -> Result<RawResponse, Error> {
    let mut r = RawResponse::new(206, answers(n).into_bytes());
    if let Some(range) = range {
        r = r.with_header("Content-Range", range);
    }
    Ok(r)
}

#[test]
fn a_206_chain_continues_with_range_until_every_operation_is_answered() {
    let session = session().api_timeout(Some(Duration::from_secs(300)));
    let ops = operations(5);
    let mut multicall = session.multicall(&ops, &CallOptions::new()).unwrap();
    let first = multicall.next_attempt().unwrap();
    assert_eq!(header(&first, "Range"), None);
    assert_eq!(header(&first, "X-Miva-API-Timeout").as_deref(), Some("300"));
    // Raised to the store's budget plus the margin.
    assert_eq!(first.timeout(), Some(Duration::from_secs(310)));
    assert!(
        text(&first).starts_with(
            r#"{"Store_Code":"S1","Miva_Request_Timestamp":1700000000,"Operations":["#
        )
    );
    assert!(matches!(
        multicall.on_response(partial(2, Some("2/5")), MS),
        Step::Resend
    ));
    let second = multicall.next_attempt().unwrap();
    assert_eq!(header(&second, "Range").as_deref(), Some("Operations=3-5"));
    // A per-round count (the SDKs') or a cumulative one are both read.
    assert!(matches!(
        multicall.on_response(partial(1, Some("3/5")), MS),
        Step::Resend
    ));
    let third = multicall.next_attempt().unwrap();
    assert_eq!(header(&third, "Range").as_deref(), Some("Operations=4-5"));
    assert_eq!(multicall.progress(), (3, 3));
    match multicall.on_response(ok(&answers(2)), MS) {
        Step::Done(results) => {
            assert_eq!(results.len(), 5);
            assert!(results.iter().all(|r| matches!(r, OperationResult::One(_))));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_206_whose_counts_do_not_add_up_fails() {
    let session = session();
    let ops = operations(4);
    let cases: [(Result<RawResponse, Error>, &str); 5] = [
        (partial(1, None), "without a Content-Range"),
        (partial(1, Some("2/4")), "does not add up"),
        (partial(0, Some("0/4")), "no progress"),
        (partial(5, Some("5/5")), "more answers than operations"),
        (ok(&answers(3)), "3 of 4 operations with HTTP 200"),
    ];
    for (answer, needle) in cases {
        let mut multicall = session.multicall(&ops, &CallOptions::new()).unwrap();
        let _ = multicall.next_attempt().unwrap();
        match multicall.on_response(answer, MS) {
            Step::Fail(Error::Multicall(m)) => assert!(m.contains(needle), "{m}"),
            other => panic!("{needle}: {other:?}"),
        }
    }
}

#[test]
fn multicall_rounds_are_bounded() {
    let session = session().max_multicall_rounds(2);
    let ops = operations(4);
    let mut multicall = session.multicall(&ops, &CallOptions::new()).unwrap();
    let _ = multicall.next_attempt().unwrap();
    assert!(matches!(
        multicall.on_response(partial(1, Some("1/4")), MS),
        Step::Resend
    ));
    let _ = multicall.next_attempt().unwrap();
    match multicall.on_response(partial(1, Some("1/4")), MS) {
        Step::Fail(Error::Multicall(m)) => {
            assert!(m.contains("gave up after 2 requests with 2 of 4"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_multicall_retries_a_write_only_when_idempotent_and_the_clock_only_in_round_one() {
    let policy = RetryPolicy::new(2).initial_backoff(Duration::from_millis(1));
    let session = session().retry(Some(policy));
    let ops = operations(2);
    let mut write = session.multicall(&ops, &CallOptions::new()).unwrap();
    let _ = write.next_attempt().unwrap();
    assert!(matches!(
        write.on_response(status(502, "bad gateway"), MS),
        Step::Fail(Error::HttpStatus { status: 502, .. })
    ));
    let mut marked = session
        .multicall(&ops, &CallOptions::new().idempotent(true))
        .unwrap();
    let _ = marked.next_attempt().unwrap();
    assert!(matches!(
        marked.on_response(status(502, "x"), MS),
        Step::Wait(_)
    ));
    // The retry is the same round.
    let _ = marked.next_attempt().unwrap();
    assert_eq!(marked.progress(), (1, 0));

    // A refused timestamp in round 1: learned, resent as round 1.
    let mut multicall = session.multicall(&ops, &CallOptions::new()).unwrap();
    let _ = multicall.next_attempt().unwrap();
    let refused = RawResponse::new(200, REFUSED.as_bytes().to_vec())
        .with_header("Date", "Tue, 14 Nov 2023 22:23:20 GMT");
    assert!(matches!(
        multicall.on_response(Ok(refused.clone()), MS),
        Step::Resend
    ));
    let again = multicall.next_attempt().unwrap();
    assert!(text(&again).contains("1700000600"));
    assert_eq!(header(&again, "Range"), None);
    // In round 2 it is not retried (operations have run).
    let session = self::session();
    let mut multicall = session.multicall(&ops, &CallOptions::new()).unwrap();
    let _ = multicall.next_attempt().unwrap();
    assert!(matches!(
        multicall.on_response(partial(1, Some("1/2")), MS),
        Step::Resend
    ));
    let _ = multicall.next_attempt().unwrap();
    assert!(matches!(
        multicall.on_response(Ok(refused), MS),
        Step::Fail(Error::AccessDenied { .. })
    ));
}

#[test]
fn a_multicall_deadline_names_the_round_and_the_answers() {
    let session = session();
    let ops = operations(3);
    let mut multicall = session
        .multicall(&ops, &CallOptions::new().deadline(Duration::ZERO))
        .unwrap();
    match multicall.next_attempt() {
        Err(Error::Timeout {
            kind:
                TimeoutKind::MulticallDeadline {
                    round: 1,
                    answered: 0,
                    total: 3,
                },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // An operation that fails its check is refused before anything.
    let bad = [Operation::new("product_update", &json!({})).unwrap()];
    assert!(session.multicall(&bad, &CallOptions::new()).is_err());
    // The per-call timeout is used as given, not raised.
    let session = self::session().api_timeout(Some(Duration::from_secs(300)));
    let mut multicall = session
        .multicall(&ops, &CallOptions::new().timeout(Duration::from_secs(2)))
        .unwrap();
    assert_eq!(
        multicall.next_attempt().unwrap().timeout(),
        Some(Duration::from_secs(2))
    );
}
