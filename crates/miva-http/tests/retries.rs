//! Opt-in retries (only where repeating is safe, re-signed each time) and
//! the client-side rate and in-flight limits, over real HTTP on loopback.
//! Requests are counted through the mock's fault queue: each request takes
//! one entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use miva_envelope::{ListQuery, ProductListLoadQuery, ProductUpdate};
use miva_http::miva::{CallOptions, MivaClient, MivaClientBuilder};
use miva_http::{Error, RetryPolicy};
use miva_mock::{Credentials, Fault, Faults, MockConfig, MockServer, TokenConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::json;

const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key; not a real store's
const UNAVAILABLE: Option<Fault> = Some(Fault::ServiceUnavailable);

fn mock(config: impl FnOnce(MockConfig) -> MockConfig) -> MockServer {
    let creds = Credentials::new("TEST")
        .unwrap()
        .with_token(TokenConfig::hmac("tok-sha256", KEY_B64, HmacDigest::Sha256).unwrap());
    MockServer::start(config(MockConfig::new(creds).with_products(20))).unwrap()
}

fn credential(key: &str) -> Credential {
    Credential::hmac(
        ApiToken::new("tok-sha256").unwrap(),
        &SigningKey::from_base64(key).unwrap(),
        HmacDigest::Sha256,
    )
}

fn builder(url: &str) -> MivaClientBuilder {
    MivaClient::builder(url, credential(KEY_B64)).store_code("TEST")
}

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::new(n)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn list() -> ProductListLoadQuery {
    ProductListLoadQuery::new(ListQuery::new().count(3))
}

/// Requests the server has taken since `queued` entries were queued.
fn taken(server: &MockServer, queued: usize) -> usize {
    queued - server.pending_faults()
}

#[test]
fn a_read_is_retried_through_503s_and_re_signed_with_fresh_timestamps() {
    let server = mock(|c| c);
    // Timestamps one second apart on every call: each retry must carry a
    // new one (the mock accepts any within 30 s).
    let ticks = Arc::new(Mutex::new(Vec::new()));
    let seen = ticks.clone();
    let start = SystemTime::now();
    let counter = Arc::new(Mutex::new(0u64));
    let client = builder(server.url())
        .retry(fast_retries(3))
        .clock(move || {
            let mut n = counter.lock().unwrap();
            *n += 1;
            let t = start + Duration::from_secs(*n);
            seen.lock().unwrap().push(t);
            t
        })
        .build()
        .unwrap();
    server.inject_faults([UNAVAILABLE, UNAVAILABLE, None, None]);
    assert_eq!(client.call(&list()).unwrap().data.len(), 3);
    assert_eq!(taken(&server, 4), 3, "two 503s, then the answer");
    let ticks = ticks.lock().unwrap();
    assert_eq!(ticks.len(), 3, "one fresh timestamp per attempt");
}

#[test]
fn retries_stop_at_the_limit_with_the_last_error() {
    let server = mock(|c| c.with_faults(Faults::default().with_fault(Fault::ServiceUnavailable)));
    let client = builder(server.url())
        .retry(fast_retries(2))
        .build()
        .unwrap();
    server.inject_faults([UNAVAILABLE; 10]);
    match client.call(&list()) {
        Err(Error::HttpStatus { status: 503, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(taken(&server, 10), 3, "the first attempt and two retries");
}

#[test]
fn without_a_policy_nothing_is_retried() {
    let server = mock(|c| c);
    let client = builder(server.url()).build().unwrap();
    server.inject_faults([UNAVAILABLE, None]);
    assert!(matches!(
        client.call(&list()),
        Err(Error::HttpStatus { status: 503, .. })
    ));
    assert_eq!(taken(&server, 2), 1);
}

#[test]
fn a_write_is_not_retried_unless_marked_safe() {
    let server = mock(|c| c);
    let client = builder(server.url())
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let update = ProductUpdate::new()
        .edit_product("P000001")
        .product_price(9.5);
    // A retry would get a normal answer: the 503 coming back shows there
    // was none.
    server.inject_faults([UNAVAILABLE]);
    assert!(matches!(
        client.call(&update),
        Err(Error::HttpStatus { status: 503, .. })
    ));
    assert_eq!(server.pending_faults(), 0);
    // Marked idempotent, it is retried.
    server.inject_faults([UNAVAILABLE]);
    let options = CallOptions::new().idempotent(true);
    client.call_with(&update, &options).unwrap();
    assert_eq!(server.pending_faults(), 0);
    // Raw calls follow the function name.
    server.inject_faults([UNAVAILABLE]);
    client
        .call_raw("ProductList_Load_Query", &json!({"Count": 1}))
        .unwrap();
    assert_eq!(server.pending_faults(), 0);
}

#[test]
fn signature_errors_and_other_statuses_are_never_retried() {
    let server = mock(|c| c);
    let wrong = MivaClient::builder(
        server.url(),
        credential("d3Jvbmcta2V5LWZvci10aGUtcmV0cnktdGVzdHM="),
    )
    .store_code("TEST")
    .retry(fast_retries(3))
    .build()
    .unwrap();
    server.inject_faults([None, None]);
    assert!(matches!(
        wrong.call(&list()),
        Err(Error::AccessDenied { .. })
    ));
    assert_eq!(taken(&server, 2), 1);
    let server = mock(|c| c);
    let client = builder(server.url())
        .retry(fast_retries(3))
        .build()
        .unwrap();
    // A 500 is not a gateway's "retry later": a retry would have succeeded.
    server.inject_faults([Some(Fault::ServerErrorHtml)]);
    assert!(matches!(
        client.call(&list()),
        Err(Error::HttpStatus { status: 500, .. })
    ));
    assert_eq!(server.pending_faults(), 0);
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mm5/json.mvc");
    let policy = RetryPolicy::new(2)
        .initial_backoff(Duration::from_millis(100))
        .max_backoff(Duration::from_millis(100));
    let client = builder(&url).retry(policy).build().unwrap();
    let started = Instant::now();
    let error = client.call(&list()).unwrap_err();
    assert!(
        matches!(error, Error::Transport(_) | Error::Timeout { .. }),
        "{error:?}"
    );
    // Bounded: two waits of at most 100 ms each, no endless loop.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_rate_limit_spaces_requests_across_clones_and_threads() {
    let server = mock(|c| c);
    let client = builder(server.url()).rate_limit(20.0).build().unwrap();
    let started = Instant::now();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..4 {
                    client.call(&list()).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 12 requests at 20 per second: the last starts 11 intervals (550 ms)
    // after the first. A lower bound only.
    assert!(
        started.elapsed() >= Duration::from_millis(540),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_in_flight_limit_holds_requests_back() {
    // Each answer takes 150 ms; six calls from six threads with at most
    // two in flight need three rounds.
    let server =
        mock(|c| c.with_faults(Faults::default().with_latency(Duration::from_millis(150))));
    let client = builder(server.url()).max_in_flight(2).build().unwrap();
    let started = Instant::now();
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || client.call(&list()).unwrap().data.len())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 3);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(440),
        "{:?}",
        started.elapsed()
    );
}
