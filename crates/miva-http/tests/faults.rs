//! MivaClient against a mock store that misbehaves on purpose (the mock's
//! fault injection): every fault ends in its own typed error, within the
//! configured timeout, with no hang, no endless loop, and a body read no
//! further than the client's limit; a paginated export either yields every
//! record exactly once or stops with an error naming the page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
// The harness drives the async client too.
#![cfg(feature = "tokio")]

#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;
#[path = "common/miravia_driver.rs"]
#[allow(dead_code)]
#[macro_use]
mod miravia_driver;

use std::time::{Duration, Instant};

use driver::ListOpts;
use miva_envelope::{ListQuery, Operation, ProductListLoadQuery, Sort};
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

fn credential() -> Credential {
    Credential::hmac(
        ApiToken::new("tok-sha256").unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        HmacDigest::Sha256,
    )
}

fn client<D: driver::Driver>(server: &MockServer) -> D {
    D::build(
        D::builder(server.url(), credential())
            .store_code("TEST")
            .transport(
                TransportConfig::new()
                    .timeout(TIMEOUT)
                    .connect_timeout(TIMEOUT)
                    .body_limit(BODY_LIMIT),
            ),
    )
    .unwrap()
}

fn query(count: u64) -> ProductListLoadQuery {
    ProductListLoadQuery::new(ListQuery::new().count(count).sort(Sort::asc("id")))
}

fn five_single_ops() -> Vec<Operation> {
    (0..5)
        .map(|i| {
            Operation::new("ProductList_Load_Query", &json!({"Count": 1, "Offset": i})).unwrap()
        })
        .collect()
}

/// One call with `fault` injected; the error, checked to come in time.
async fn call_with_fault<D: driver::Driver>(fault: Fault) -> Error {
    let server = mock(|c| c);
    let client = client::<D>(&server);
    server.inject_faults([Some(fault)]);
    let started = Instant::now();
    let result = client.call(&query(5)).await;
    assert!(
        started.elapsed() < TIMEOUT,
        "{}: {fault:?}: took {:?}",
        D::NAME,
        started.elapsed()
    );
    assert_eq!(server.pending_faults(), 0, "{}", D::NAME);
    // The next call, on a fresh or reused connection, works again.
    assert_eq!(
        client.call(&query(5)).await.unwrap().data.len(),
        5,
        "{}",
        D::NAME
    );
    match result {
        Ok(page) => panic!(
            "{}: {fault:?}: expected an error, got {} records",
            D::NAME,
            page.data.len()
        ),
        Err(e) => e,
    }
}

both! {
    async fn html_500_is_an_http_status_error_with_an_excerpt<D>() {
        match call_with_fault::<D>(Fault::ServerErrorHtml).await {
            Error::HttpStatus { status, excerpt } => {
                assert_eq!(status, 500, "{}", D::NAME);
                assert!(excerpt.contains("Internal Server Error"), "{}: {excerpt}", D::NAME);
            }
            other => panic!("{}: {other:?}", D::NAME),
        }
    }

    async fn empty_200_is_an_empty_response_with_its_hint<D>() {
        match call_with_fault::<D>(Fault::EmptyOk).await {
            Error::EmptyResponse { status, hint } => {
                assert_eq!(status, 200, "{}", D::NAME);
                assert!(hint.contains("header"), "{}: {hint}", D::NAME);
            }
            other => panic!("{}: {other:?}", D::NAME),
        }
    }

    async fn truncated_json_is_undecodable_with_an_excerpt<D>() {
        match call_with_fault::<D>(Fault::TruncatedJson).await {
            Error::Undecodable {
                status, excerpt, ..
            } => {
                assert_eq!(status, 200, "{}", D::NAME);
                assert!(excerpt.starts_with('{'), "{}: {excerpt}", D::NAME);
            }
            other => panic!("{}: {other:?}", D::NAME),
        }
    }

    async fn connection_closed_mid_body_is_a_transport_error<D>() {
        match call_with_fault::<D>(Fault::CloseMidBody).await {
            Error::Transport(e) => {
                let text = e.to_string().to_lowercase();
                assert!(
                    text.contains("disconnect") || text.contains("eof") || text.contains("closed"),
                    "{}: {text}",
                    D::NAME
                );
            }
            other => panic!("{}: {other:?}", D::NAME),
        }
    }

    async fn a_body_over_the_limit_stops_at_the_limit<D>() {
        // 64 MiB offered, 256 KiB accepted: the client stops reading at its
        // limit instead of holding the whole body.
        match call_with_fault::<D>(Fault::OversizedBody(64 * 1024 * 1024)).await {
            Error::BodyTooLarge { limit } => assert_eq!(limit, BODY_LIMIT, "{}", D::NAME),
            other => panic!("{}: {other:?}", D::NAME),
        }
    }

    async fn a_206_without_content_range_is_a_multicall_error<D>() {
        let server = mock(|c| c.with_multicall_budget(Some(2)));
        let client = client::<D>(&server);
        server.inject_faults([Some(Fault::PartialWithoutContentRange)]);
        let ops = five_single_ops();
        let started = Instant::now();
        match client.multicall(&ops).await {
            Err(Error::Multicall(message)) => {
                assert!(message.contains("Content-Range"), "{}: {message}", D::NAME)
            }
            other => panic!("{}: {other:?}", D::NAME),
        }
        assert!(started.elapsed() < TIMEOUT, "{}", D::NAME);
        // Without the fault the same multicall completes through 206s.
        assert_eq!(client.multicall(&ops).await.unwrap().len(), 5, "{}", D::NAME);
    }

    async fn partial_answers_that_never_reach_the_total_end_in_an_error_not_a_loop<D>() {
        let server = mock(|c| {
            c.with_multicall_budget(Some(2))
                .with_faults(Faults::default().with_fault(Fault::PartialWithoutProgress))
        });
        let client = client::<D>(&server);
        let ops = five_single_ops();
        let started = Instant::now();
        match client.multicall(&ops).await {
            Err(Error::Multicall(message)) => assert!(!message.is_empty(), "{}", D::NAME),
            other => panic!("{}: {other:?}", D::NAME),
        }
        assert!(started.elapsed() < TIMEOUT, "{}", D::NAME);
    }

    async fn latency_past_the_timeout_is_a_timeout_error_in_time<D>() {
        let server =
            mock(|c| c.with_faults(Faults::default().with_latency(Duration::from_secs(30))));
        let limit = Duration::from_millis(500);
        let client = D::build(
            D::builder(server.url(), credential())
                .store_code("TEST")
                .transport(TransportConfig::new().timeout(limit)),
        )
        .unwrap();
        let started = Instant::now();
        match client.call(&query(1)).await {
            Err(Error::Timeout { limit: l, .. }) => assert_eq!(l, limit, "{}", D::NAME),
            other => panic!("{}: {other:?}", D::NAME),
        }
        // Generous against scheduling noise; the point is: not 30 s.
        assert!(started.elapsed() < Duration::from_secs(5), "{}", D::NAME);
    }
}

/// A fault on page `k` of a paginated export: the records before it come
/// out once each and in order, then an error naming that page, then
/// nothing.
async fn export_with_fault_on_page<D: driver::Driver>(concurrency: usize, fault: Fault) {
    let server = mock(|c| c);
    let client = client::<D>(&server);
    // 50 products, 10 per page: pages at offsets 0, 10, 20, 30, 40.
    server.inject_faults([None, None, Some(fault)]);
    let mut ids = Vec::new();
    let mut error = None;
    let mut after_error = None;
    client
        .list_each(
            query(0),
            ListOpts::new().page_size(10).concurrency(concurrency),
            |item| {
                if error.is_some() {
                    // One more item asked for after the error: there must
                    // be none.
                    after_error = Some(format!("{item:?}"));
                    return false;
                }
                match item {
                    Ok(product) => ids.push(product.id.unwrap()),
                    Err(e) => error = Some(e),
                }
                true
            },
        )
        .await;
    assert!(
        after_error.is_none(),
        "{}: nothing after the error: {after_error:?}",
        D::NAME
    );
    let error =
        error.unwrap_or_else(|| panic!("{}: {fault:?}: no error, {} records", D::NAME, ids.len()));
    let Error::Page {
        function, offset, ..
    } = &error
    else {
        panic!("{}: {error:?}", D::NAME)
    };
    assert_eq!(function, "ProductList_Load_Query", "{}", D::NAME);
    // Sequentially the third request is the page at 20; with concurrent
    // fetching the third request may be any page after the first. Either
    // way every record before the failed page came out once, in order, and
    // none after it.
    assert_eq!(*offset % 10, 0, "{}", D::NAME);
    assert!(*offset >= 10 && *offset <= 40, "{}: {offset}", D::NAME);
    assert_eq!(
        ids,
        (1..=*offset as i64).collect::<Vec<i64>>(),
        "{}: {fault:?}",
        D::NAME
    );
    if concurrency == 1 {
        assert_eq!(*offset, 20, "{}", D::NAME);
    }
    assert!(error.to_string().contains("offset"), "{}: {error}", D::NAME);
    assert!(!matches!(error.root(), Error::Page { .. }), "{}", D::NAME);
}

both! {
    async fn export_stops_at_the_failed_page_sequentially<D>() {
        for fault in [
            Fault::ServerErrorHtml,
            Fault::EmptyOk,
            Fault::TruncatedJson,
            Fault::CloseMidBody,
        ] {
            export_with_fault_on_page::<D>(1, fault).await;
        }
    }

    async fn export_stops_at_the_failed_page_with_concurrent_fetching<D>() {
        for fault in [Fault::ServerErrorHtml, Fault::TruncatedJson] {
            export_with_fault_on_page::<D>(3, fault).await;
        }
    }

    async fn export_without_faults_yields_every_record_once<D>() {
        let server = mock(|c| c);
        let client = client::<D>(&server);
        for concurrency in [1, 4] {
            let ids: Vec<i64> = client
                .list_all(query(0), ListOpts::new().page_size(7).concurrency(concurrency))
                .await
                .into_iter()
                .map(|p| p.unwrap().id.unwrap())
                .collect();
            assert_eq!(ids, (1..=50).collect::<Vec<i64>>(), "{} {concurrency}", D::NAME);
        }
    }

    async fn a_skewed_store_clock_is_learned_from_date_and_retried_once<D>() {
        // The store's clock runs 10 minutes ahead of this machine's.
        let server = mock(|c| c.with_clock_skew_seconds(600));
        let client = client::<D>(&server);
        assert_eq!(client.clock_offset_ms() / 1000, 0, "{}", D::NAME);
        // Count requests: each takes one (empty) entry of the fault queue.
        server.inject_faults(std::iter::repeat_n(None, 10));
        assert_eq!(client.call(&query(2)).await.unwrap().data.len(), 2, "{}", D::NAME);
        assert_eq!(
            server.pending_faults(),
            8,
            "{}: refused once, then retried once",
            D::NAME
        );
        assert!(
            (598..=602).contains(&(client.clock_offset_ms() / 1000)),
            "{}: {}",
            D::NAME,
            client.clock_offset_ms() / 1000
        );
        // Later calls, from clones too, use the offset: one request each.
        let clone = client.clone();
        assert_eq!(clone.call(&query(1)).await.unwrap().data.len(), 1, "{}", D::NAME);
        assert_eq!(server.pending_faults(), 7, "{}", D::NAME);
        let ops = vec![Operation::new("ProductList_Load_Query", &json!({"Count": 1})).unwrap()];
        assert_eq!(clone.multicall(&ops).await.unwrap().len(), 1, "{}", D::NAME);
        assert_eq!(server.pending_faults(), 6, "{}", D::NAME);
    }

    async fn a_multicall_refused_for_its_timestamp_is_retried_with_the_store_clock<D>() {
        let server = mock(|c| {
            c.with_clock_skew_seconds(-900)
                .with_multicall_budget(Some(2))
        });
        let client = client::<D>(&server);
        server.inject_faults(std::iter::repeat_n(None, 10));
        let results = client.multicall(&five_single_ops()).await.unwrap();
        assert_eq!(results.len(), 5, "{}", D::NAME);
        // One refused request, then three rounds of at most two operations.
        assert_eq!(server.pending_faults(), 6, "{}", D::NAME);
        assert!(
            (-902..=-898).contains(&(client.clock_offset_ms() / 1000)),
            "{}: {}",
            D::NAME,
            client.clock_offset_ms()
        );
    }

    async fn a_store_clock_within_the_window_changes_nothing<D>() {
        let server = mock(|c| c.with_clock_skew_seconds(5));
        let client = client::<D>(&server);
        server.inject_faults(std::iter::repeat_n(None, 3));
        client.call(&query(1)).await.unwrap();
        assert_eq!(server.pending_faults(), 2, "{}", D::NAME);
        assert_eq!(client.clock_offset_ms() / 1000, 0, "{}", D::NAME);
    }
}

mod miravia {
    use super::*;
    use crate::miravia_driver::Driver;
    use miravia_sign::AppSecret;
    use miva_http::miravia::Gateway;
    use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};

    fn gateway<M: Driver>(faults: Faults) -> (MiraviaGateway, M) {
        let gateway = MiraviaGateway::start(
            MiraviaConfig::new("300400", AppSecret::new("faults-secret-not-real").unwrap())
                .with_access_token("faults-token")
                .with_faults(faults),
        )
        .unwrap();
        let client = M::build(
            M::builder(
                Gateway::Custom(gateway.url().to_owned()),
                "300400",
                AppSecret::new("faults-secret-not-real").unwrap(),
            )
            .access_token("faults-token")
            .transport(
                TransportConfig::new()
                    .timeout(TIMEOUT)
                    .body_limit(BODY_LIMIT),
            ),
        )
        .unwrap();
        (gateway, client)
    }

    async fn with_fault<M: Driver>(fault: Fault) -> Error {
        let (gateway, client) = gateway::<M>(Faults::default());
        gateway.inject_faults([Some(fault)]);
        let started = Instant::now();
        let result = client.get("/seller/get", &[]).await;
        assert!(started.elapsed() < TIMEOUT, "{}: {fault:?}", M::NAME);
        assert_eq!(gateway.pending_faults(), 0, "{}: {fault:?}", M::NAME);
        // And the next call works.
        assert_eq!(
            client.get("/seller/get", &[]).await.unwrap()["code"],
            "0",
            "{}: {fault:?}",
            M::NAME
        );
        result.unwrap_err()
    }

    both_miravia! {
        async fn each_gateway_fault_gives_its_own_error<M>() {
            let error = with_fault::<M>(Fault::ServerErrorHtml).await;
            assert!(
                matches!(error, Error::HttpStatus { status: 500, .. }),
                "{}: {error:?}",
                M::NAME
            );
            let error = with_fault::<M>(Fault::ServiceUnavailable).await;
            assert!(
                matches!(error, Error::HttpStatus { status: 503, .. }),
                "{}: {error:?}",
                M::NAME
            );
            let error = with_fault::<M>(Fault::EmptyOk).await;
            assert!(
                matches!(error, Error::EmptyResponse { status: 200, .. }),
                "{}: {error:?}",
                M::NAME
            );
            let error = with_fault::<M>(Fault::TruncatedJson).await;
            assert!(
                matches!(error, Error::Undecodable { status: 200, .. }),
                "{}: {error:?}",
                M::NAME
            );
            let error = with_fault::<M>(Fault::CloseMidBody).await;
            assert!(matches!(error, Error::Transport(_)), "{}: {error:?}", M::NAME);
            let error = with_fault::<M>(Fault::OversizedBody(64 * 1024 * 1024)).await;
            assert!(
                matches!(error, Error::BodyTooLarge { limit: BODY_LIMIT }),
                "{}: {error:?}",
                M::NAME
            );
        }

        async fn a_refused_timestamp_is_corrected_from_the_gateway_date<M>() {
            // The gateway's clock runs three hours ahead (the window is 2 h).
            let gateway = MiraviaGateway::start(
                MiraviaConfig::new("300400", AppSecret::new("faults-secret-not-real").unwrap())
                    .with_access_token("faults-token")
                    .with_clock(std::sync::Arc::new(miva_mock::SkewedClock::new(3 * 3600))),
            )
            .unwrap();
            let client = M::build(
                M::builder(
                    Gateway::Custom(gateway.url().to_owned()),
                    "300400",
                    AppSecret::new("faults-secret-not-real").unwrap(),
                )
                .access_token("faults-token"),
            )
            .unwrap();
            gateway.inject_faults(std::iter::repeat_n(None, 10));
            assert_eq!(
                client.get("/seller/get", &[]).await.unwrap()["code"],
                "0",
                "{}",
                M::NAME
            );
            assert_eq!(
                gateway.pending_faults(),
                8,
                "{}: refused once, retried once",
                M::NAME
            );
            let offset = client.clock_offset_ms();
            assert!(
                (10_798_000..=10_802_000).contains(&offset),
                "{}: {offset}",
                M::NAME
            );
            // Later calls use the offset: one request each.
            assert_eq!(
                client.get("/seller/get", &[]).await.unwrap()["code"],
                "0",
                "{}",
                M::NAME
            );
            assert_eq!(gateway.pending_faults(), 7, "{}", M::NAME);
        }

        async fn gateway_latency_past_the_timeout_is_a_timeout<M>() {
            let (gateway, _) =
                gateway::<M>(Faults::default().with_latency(Duration::from_secs(30)));
            let client = M::build(
                M::builder(
                    Gateway::Custom(gateway.url().to_owned()),
                    "300400",
                    AppSecret::new("faults-secret-not-real").unwrap(),
                )
                .access_token("faults-token")
                .transport(TransportConfig::new().timeout(Duration::from_millis(400))),
            )
            .unwrap();
            let started = Instant::now();
            let result = client.get("/seller/get", &[]).await;
            assert!(
                matches!(result, Err(Error::Timeout { .. })),
                "{}: {result:?}",
                M::NAME
            );
            assert!(started.elapsed() < Duration::from_secs(5), "{}", M::NAME);
        }
    }
}

both! {
    /// A TLS handshake that fails (here: the "https" server speaks plain
    /// HTTP) is the same error on both drivers: a transport error, neither
    /// "nothing was sent" nor retryable (ureq cannot tell a handshake's TLS
    /// error from a later one, so neither driver claims it).
    async fn a_failed_tls_handshake_is_the_same_transport_error_on_both<D>() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                use std::io::Write;
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            }
        });
        let credential = Credential::hmac(
            ApiToken::new("tok").unwrap(),
            &SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ").unwrap(),
            HmacDigest::Sha256,
        );
        let url = format!("https://127.0.0.1:{port}/mm5/json.mvc");
        let client: D = D::build(D::builder(&url, credential).store_code("S")).unwrap();
        let err = client.call_raw("ProductList_Load_Query", &json!({})).await.unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{}: {err:?}", D::NAME);
        assert!(!err.nothing_was_sent(), "{}: {err:?}", D::NAME);
        assert!(!err.is_retryable(), "{}: {err:?}", D::NAME);
    }
}
