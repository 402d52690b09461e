//! MivaClient against a mock store that misbehaves on purpose (the mock's
//! fault injection): every fault ends in its own typed error, within the
//! configured timeout, with no hang, no endless loop, and a body read no
//! further than the client's limit; a paginated export either yields every
//! record exactly once or stops with an error naming the page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::time::{Duration, Instant};

use miva_envelope::{ListQuery, Operation, ProductListLoadQuery, Sort};
use miva_http::miva::MivaClient;
use miva_http::{Error, TransportConfig};
use miva_mock::{Credentials, Fault, Faults, MockConfig, MockServer, TokenConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::json;

const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key; not a real store's
/// The per-call limit every test configures: no fault may take longer.
const TIMEOUT: Duration = Duration::from_secs(5);
const BODY_LIMIT: u64 = 256 * 1024;

fn mock(config: impl FnOnce(MockConfig) -> MockConfig) -> MockServer {
    let creds = Credentials::new("TEST")
        .unwrap()
        .with_token(TokenConfig::hmac("tok-sha256", KEY_B64, HmacDigest::Sha256).unwrap());
    MockServer::start(config(MockConfig::new(creds).with_products(50))).unwrap()
}

fn client(server: &MockServer) -> MivaClient {
    let credential = Credential::hmac(
        ApiToken::new("tok-sha256").unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        HmacDigest::Sha256,
    );
    MivaClient::builder(server.url(), credential)
        .store_code("TEST")
        .transport(
            TransportConfig::new()
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT)
                .body_limit(BODY_LIMIT),
        )
        .build()
        .unwrap()
}

fn query(count: u64) -> ProductListLoadQuery {
    ProductListLoadQuery::new(ListQuery::new().count(count).sort(Sort::asc("id")))
}

/// One call with `fault` injected; the error, checked to come in time.
fn call_with_fault(fault: Fault) -> Error {
    let server = mock(|c| c);
    let client = client(&server);
    server.inject_faults([Some(fault)]);
    let started = Instant::now();
    let result = client.call(&query(5));
    assert!(
        started.elapsed() < TIMEOUT,
        "{fault:?}: took {:?}",
        started.elapsed()
    );
    assert_eq!(server.pending_faults(), 0);
    // The next call, on a fresh or reused connection, works again.
    assert_eq!(client.call(&query(5)).unwrap().data.len(), 5);
    match result {
        Ok(page) => panic!(
            "{fault:?}: expected an error, got {} records",
            page.data.len()
        ),
        Err(e) => e,
    }
}

#[test]
fn html_500_is_an_http_status_error_with_an_excerpt() {
    match call_with_fault(Fault::ServerErrorHtml) {
        Error::HttpStatus { status, excerpt } => {
            assert_eq!(status, 500);
            assert!(excerpt.contains("Internal Server Error"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_200_is_an_empty_response_with_its_hint() {
    match call_with_fault(Fault::EmptyOk) {
        Error::EmptyResponse { status, hint } => {
            assert_eq!(status, 200);
            assert!(hint.contains("header"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_json_is_undecodable_with_an_excerpt() {
    match call_with_fault(Fault::TruncatedJson) {
        Error::Undecodable {
            status, excerpt, ..
        } => {
            assert_eq!(status, 200);
            assert!(excerpt.starts_with('{'), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn connection_closed_mid_body_is_a_transport_error() {
    match call_with_fault(Fault::CloseMidBody) {
        Error::Transport(e) => {
            let text = e.to_string().to_lowercase();
            assert!(
                text.contains("disconnect") || text.contains("eof") || text.contains("closed"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_body_over_the_limit_stops_at_the_limit() {
    // 64 MiB offered, 256 KiB accepted: the client stops reading at its
    // limit instead of holding the whole body.
    match call_with_fault(Fault::OversizedBody(64 * 1024 * 1024)) {
        Error::BodyTooLarge { limit } => assert_eq!(limit, BODY_LIMIT),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_206_without_content_range_is_a_multicall_error() {
    let server = mock(|c| c.with_multicall_budget(Some(2)));
    let client = client(&server);
    server.inject_faults([Some(Fault::PartialWithoutContentRange)]);
    let ops: Vec<Operation> = (0..5)
        .map(|i| {
            Operation::new("ProductList_Load_Query", &json!({"Count": 1, "Offset": i})).unwrap()
        })
        .collect();
    let started = Instant::now();
    match client.multicall(&ops) {
        Err(Error::Multicall(message)) => {
            assert!(message.contains("Content-Range"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < TIMEOUT);
    // Without the fault the same multicall completes through 206s.
    assert_eq!(client.multicall(&ops).unwrap().len(), 5);
}

#[test]
fn partial_answers_that_never_reach_the_total_end_in_an_error_not_a_loop() {
    let server = mock(|c| {
        c.with_multicall_budget(Some(2))
            .with_faults(Faults::default().with_fault(Fault::PartialWithoutProgress))
    });
    let client = client(&server);
    let ops: Vec<Operation> = (0..5)
        .map(|i| {
            Operation::new("ProductList_Load_Query", &json!({"Count": 1, "Offset": i})).unwrap()
        })
        .collect();
    let started = Instant::now();
    match client.multicall(&ops) {
        Err(Error::Multicall(message)) => assert!(!message.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < TIMEOUT);
}

#[test]
fn latency_past_the_timeout_is_a_timeout_error_in_time() {
    let server = mock(|c| c.with_faults(Faults::default().with_latency(Duration::from_secs(30))));
    let credential = Credential::hmac(
        ApiToken::new("tok-sha256").unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        HmacDigest::Sha256,
    );
    let limit = Duration::from_millis(500);
    let client = MivaClient::builder(server.url(), credential)
        .store_code("TEST")
        .transport(TransportConfig::new().timeout(limit))
        .build()
        .unwrap();
    let started = Instant::now();
    match client.call(&query(1)) {
        Err(Error::Timeout { limit: l, .. }) => assert_eq!(l, limit),
        other => panic!("{other:?}"),
    }
    // Generous against scheduling noise; the point is: not 30 s.
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A fault on page `k` of a paginated export: the records before it come
/// out once each and in order, then an error naming that page, then
/// nothing.
fn export_with_fault_on_page(concurrency: usize, fault: Fault) {
    let server = mock(|c| c);
    let client = client(&server);
    // 50 products, 10 per page: pages at offsets 0, 10, 20, 30, 40.
    server.inject_faults([None, None, Some(fault)]);
    let mut ids = Vec::new();
    let mut error = None;
    let mut records = client.list(query(0)).page_size(10).concurrency(concurrency);
    for item in &mut records {
        match item {
            Ok(product) => ids.push(product.id.unwrap()),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert!(records.next().is_none(), "nothing after the error");
    let error = error.unwrap_or_else(|| panic!("{fault:?}: no error, {} records", ids.len()));
    let Error::Page {
        function, offset, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(function, "ProductList_Load_Query");
    // Sequentially the third request is the page at 20; with threads the
    // third request may be any page after the first. Either way every
    // record before the failed page came out once, in order, and none
    // after it.
    assert_eq!(*offset % 10, 0);
    assert!(*offset >= 10 && *offset <= 40, "{offset}");
    assert_eq!(ids, (1..=*offset as i64).collect::<Vec<i64>>());
    if concurrency == 1 {
        assert_eq!(*offset, 20);
    }
    assert!(error.to_string().contains("offset"), "{error}");
    assert!(!matches!(error.root(), Error::Page { .. }));
}

#[test]
fn export_stops_at_the_failed_page_sequentially() {
    for fault in [
        Fault::ServerErrorHtml,
        Fault::EmptyOk,
        Fault::TruncatedJson,
        Fault::CloseMidBody,
    ] {
        export_with_fault_on_page(1, fault);
    }
}

#[test]
fn export_stops_at_the_failed_page_with_concurrent_fetching() {
    for fault in [Fault::ServerErrorHtml, Fault::TruncatedJson] {
        export_with_fault_on_page(3, fault);
    }
}

#[test]
fn export_without_faults_yields_every_record_once() {
    let server = mock(|c| c);
    let client = client(&server);
    for concurrency in [1, 4] {
        let ids: Vec<i64> = client
            .list(query(0))
            .page_size(7)
            .concurrency(concurrency)
            .map(|p| p.unwrap().id.unwrap())
            .collect();
        assert_eq!(ids, (1..=50).collect::<Vec<i64>>());
    }
}

#[test]
fn a_skewed_store_clock_is_learned_from_date_and_retried_once() {
    // The store's clock runs 10 minutes ahead of this machine's.
    let server = mock(|c| c.with_clock_skew_seconds(600));
    let client = client(&server);
    assert_eq!(client.clock_offset_ms() / 1000, 0);
    // Count requests: each takes one (empty) entry of the fault queue.
    server.inject_faults(std::iter::repeat_n(None, 10));
    assert_eq!(client.call(&query(2)).unwrap().data.len(), 2);
    assert_eq!(
        server.pending_faults(),
        8,
        "refused once, then retried once"
    );
    assert!(
        (598..=602).contains(&(client.clock_offset_ms() / 1000)),
        "{}",
        client.clock_offset_ms() / 1000
    );
    // Later calls, from clones too, use the offset: one request each.
    let clone = client.clone();
    assert_eq!(clone.call(&query(1)).unwrap().data.len(), 1);
    assert_eq!(server.pending_faults(), 7);
    let ops = vec![Operation::new("ProductList_Load_Query", &json!({"Count": 1})).unwrap()];
    assert_eq!(clone.multicall(&ops).unwrap().len(), 1);
    assert_eq!(server.pending_faults(), 6);
}

#[test]
fn a_multicall_refused_for_its_timestamp_is_retried_with_the_store_clock() {
    let server = mock(|c| {
        c.with_clock_skew_seconds(-900)
            .with_multicall_budget(Some(2))
    });
    let client = client(&server);
    server.inject_faults(std::iter::repeat_n(None, 10));
    let ops: Vec<Operation> = (0..5)
        .map(|i| {
            Operation::new("ProductList_Load_Query", &json!({"Count": 1, "Offset": i})).unwrap()
        })
        .collect();
    let results = client.multicall(&ops).unwrap();
    assert_eq!(results.len(), 5);
    // One refused request, then three rounds of at most two operations.
    assert_eq!(server.pending_faults(), 6);
    assert!((-902..=-898).contains(&(client.clock_offset_ms() / 1000)));
}

#[test]
fn a_store_clock_within_the_window_changes_nothing() {
    let server = mock(|c| c.with_clock_skew_seconds(5));
    let client = client(&server);
    server.inject_faults(std::iter::repeat_n(None, 3));
    client.call(&query(1)).unwrap();
    assert_eq!(server.pending_faults(), 2);
    assert_eq!(client.clock_offset_ms() / 1000, 0);
}

mod miravia {
    use super::*;
    use miravia_sign::AppSecret;
    use miva_http::miravia::{Gateway, MiraviaClient};
    use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};

    fn gateway(faults: Faults) -> (MiraviaGateway, MiraviaClient) {
        let gateway = MiraviaGateway::start(
            MiraviaConfig::new("300400", AppSecret::new("faults-secret-not-real").unwrap())
                .with_access_token("faults-token")
                .with_faults(faults),
        )
        .unwrap();
        let client = MiraviaClient::builder(
            Gateway::Custom(gateway.url().to_owned()),
            "300400",
            AppSecret::new("faults-secret-not-real").unwrap(),
        )
        .access_token("faults-token")
        .transport(
            TransportConfig::new()
                .timeout(TIMEOUT)
                .body_limit(BODY_LIMIT),
        )
        .build()
        .unwrap();
        (gateway, client)
    }

    fn with_fault(fault: Fault) -> Error {
        let (gateway, client) = gateway(Faults::default());
        gateway.inject_faults([Some(fault)]);
        let started = Instant::now();
        let result = client.get("/seller/get", &[]);
        assert!(started.elapsed() < TIMEOUT);
        assert_eq!(gateway.pending_faults(), 0);
        // And the next call works.
        assert_eq!(client.get("/seller/get", &[]).unwrap()["code"], "0");
        result.unwrap_err()
    }

    #[test]
    fn each_gateway_fault_gives_its_own_error() {
        assert!(matches!(
            with_fault(Fault::ServerErrorHtml),
            Error::HttpStatus { status: 500, .. }
        ));
        assert!(matches!(
            with_fault(Fault::ServiceUnavailable),
            Error::HttpStatus { status: 503, .. }
        ));
        assert!(matches!(
            with_fault(Fault::EmptyOk),
            Error::EmptyResponse { status: 200, .. }
        ));
        assert!(matches!(
            with_fault(Fault::TruncatedJson),
            Error::Undecodable { status: 200, .. }
        ));
        assert!(matches!(
            with_fault(Fault::CloseMidBody),
            Error::Transport(_)
        ));
        assert!(matches!(
            with_fault(Fault::OversizedBody(64 * 1024 * 1024)),
            Error::BodyTooLarge { limit: BODY_LIMIT }
        ));
    }

    #[test]
    fn a_refused_timestamp_is_corrected_from_the_gateway_date() {
        // The gateway's clock runs three hours ahead (the window is 2 h).
        let gateway = MiraviaGateway::start(
            MiraviaConfig::new("300400", AppSecret::new("faults-secret-not-real").unwrap())
                .with_access_token("faults-token")
                .with_clock(std::sync::Arc::new(miva_mock::SkewedClock::new(3 * 3600))),
        )
        .unwrap();
        let client = MiraviaClient::builder(
            Gateway::Custom(gateway.url().to_owned()),
            "300400",
            AppSecret::new("faults-secret-not-real").unwrap(),
        )
        .access_token("faults-token")
        .build()
        .unwrap();
        gateway.inject_faults(std::iter::repeat_n(None, 10));
        assert_eq!(client.get("/seller/get", &[]).unwrap()["code"], "0");
        assert_eq!(gateway.pending_faults(), 8, "refused once, retried once");
        let offset = client.clock_offset_ms();
        assert!((10_798_000..=10_802_000).contains(&offset), "{offset}");
        // Later calls use the offset: one request each.
        assert_eq!(client.get("/seller/get", &[]).unwrap()["code"], "0");
        assert_eq!(gateway.pending_faults(), 7);
    }

    #[test]
    fn gateway_latency_past_the_timeout_is_a_timeout() {
        let (gateway, _) = gateway(Faults::default().with_latency(Duration::from_secs(30)));
        let client = MiraviaClient::builder(
            Gateway::Custom(gateway.url().to_owned()),
            "300400",
            AppSecret::new("faults-secret-not-real").unwrap(),
        )
        .access_token("faults-token")
        .transport(TransportConfig::new().timeout(Duration::from_millis(400)))
        .build()
        .unwrap();
        let started = Instant::now();
        assert!(matches!(
            client.get("/seller/get", &[]),
            Err(Error::Timeout { .. })
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
