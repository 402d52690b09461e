//! Opt-in retries (only where repeating is safe, re-signed each time) and
//! the client-side rate and in-flight limits, over real HTTP on loopback.
//! Requests are counted through the mock's fault queue: each request takes
//! one entry. Every test is written once with `both!` and runs on the
//! blocking and the async client (`name::blocking`, `name::tokio`).

#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use driver::Driver;
use miva_envelope::{ListQuery, ProductListLoadQuery, ProductUpdate};
use miva_http::miva::{CallOptions, MivaClientBuilder};
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

fn builder<D: Driver>(url: &str) -> MivaClientBuilder<D> {
    D::builder(url, credential(KEY_B64)).store_code("TEST")
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

both! {
    async fn a_read_is_retried_through_503s_and_re_signed_with_fresh_timestamps<D>() {
        let server = mock(|c| c);
        // Timestamps one second apart on every call: each retry must carry a
        // new one (the mock accepts any within 30 s).
        let ticks = Arc::new(Mutex::new(Vec::new()));
        let seen = ticks.clone();
        let start = SystemTime::now();
        let counter = Arc::new(Mutex::new(0u64));
        let client = D::build(builder::<D>(server.url()).retry(fast_retries(3)).clock(
            move || {
                let mut n = counter.lock().unwrap();
                *n += 1;
                let t = start + Duration::from_secs(*n);
                seen.lock().unwrap().push(t);
                t
            },
        ))
        .unwrap();
        server.inject_faults([UNAVAILABLE, UNAVAILABLE, None, None]);
        assert_eq!(client.call(&list()).await.unwrap().data.len(), 3);
        assert_eq!(
            taken(&server, 4),
            3,
            "{}: two 503s, then the answer",
            D::NAME
        );
        let ticks = ticks.lock().unwrap();
        assert_eq!(
            ticks.len(),
            3,
            "{}: one fresh timestamp per attempt",
            D::NAME
        );
    }

    async fn retries_stop_at_the_limit_with_the_last_error<D>() {
        let server =
            mock(|c| c.with_faults(Faults::default().with_fault(Fault::ServiceUnavailable)));
        let client = D::build(builder::<D>(server.url()).retry(fast_retries(2))).unwrap();
        server.inject_faults([UNAVAILABLE; 10]);
        match client.call(&list()).await {
            Err(Error::HttpStatus { status: 503, .. }) => {}
            other => panic!("{}: {other:?}", D::NAME),
        }
        assert_eq!(
            taken(&server, 10),
            3,
            "{}: the first attempt and two retries",
            D::NAME
        );
    }

    async fn without_a_policy_nothing_is_retried<D>() {
        let server = mock(|c| c);
        let client = D::build(builder::<D>(server.url())).unwrap();
        server.inject_faults([UNAVAILABLE, None]);
        assert!(
            matches!(
                client.call(&list()).await,
                Err(Error::HttpStatus { status: 503, .. })
            ),
            "{}",
            D::NAME
        );
        assert_eq!(taken(&server, 2), 1, "{}", D::NAME);
    }

    async fn a_write_is_not_retried_unless_marked_safe<D>() {
        let server = mock(|c| c);
        let client = D::build(builder::<D>(server.url()).retry(fast_retries(3))).unwrap();
        let update = ProductUpdate::new()
            .edit_product("P000001")
            .product_price(9.5);
        // A retry would get a normal answer: the 503 coming back shows there
        // was none.
        server.inject_faults([UNAVAILABLE]);
        assert!(
            matches!(
                client.call(&update).await,
                Err(Error::HttpStatus { status: 503, .. })
            ),
            "{}",
            D::NAME
        );
        assert_eq!(server.pending_faults(), 0, "{}", D::NAME);
        // Marked idempotent, it is retried.
        server.inject_faults([UNAVAILABLE]);
        let options = CallOptions::new().idempotent(true);
        client.call_with(&update, &options).await.unwrap();
        assert_eq!(server.pending_faults(), 0, "{}", D::NAME);
        // Raw calls follow the function name.
        server.inject_faults([UNAVAILABLE]);
        client
            .call_raw("ProductList_Load_Query", &json!({"Count": 1}))
            .await
            .unwrap();
        assert_eq!(server.pending_faults(), 0, "{}", D::NAME);
    }

    async fn signature_errors_and_other_statuses_are_never_retried<D>() {
        let server = mock(|c| c);
        let wrong = D::build(
            D::builder(
                server.url(),
                credential("d3Jvbmcta2V5LWZvci10aGUtcmV0cnktdGVzdHM="),
            )
            .store_code("TEST")
            .retry(fast_retries(3)),
        )
        .unwrap();
        server.inject_faults([None, None]);
        assert!(
            matches!(wrong.call(&list()).await, Err(Error::AccessDenied { .. })),
            "{}",
            D::NAME
        );
        assert_eq!(taken(&server, 2), 1, "{}", D::NAME);
        let server = mock(|c| c);
        let client = D::build(builder::<D>(server.url()).retry(fast_retries(3))).unwrap();
        // A 500 is not a gateway's "retry later": a retry would have succeeded.
        server.inject_faults([Some(Fault::ServerErrorHtml)]);
        assert!(
            matches!(
                client.call(&list()).await,
                Err(Error::HttpStatus { status: 500, .. })
            ),
            "{}",
            D::NAME
        );
        assert_eq!(server.pending_faults(), 0, "{}", D::NAME);
    }

    async fn a_refused_connection_is_retried_then_reported<D>() {
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
        let client = D::build(builder::<D>(&url).retry(policy)).unwrap();
        let started = Instant::now();
        let error = client.call(&list()).await.unwrap_err();
        assert!(
            matches!(error, Error::Transport(_) | Error::Timeout { .. }),
            "{}: {error:?}",
            D::NAME
        );
        // Bounded: two waits of at most 100 ms each, no endless loop.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}: {:?}",
            D::NAME,
            started.elapsed()
        );
    }

    async fn the_rate_limit_spaces_requests_across_clones_and_threads<D>() {
        let server = mock(|c| c);
        let client = D::build(builder::<D>(server.url()).rate_limit(20.0)).unwrap();
        let started = Instant::now();
        // Three clones at once: on three threads (blocking) or three
        // futures polled together (tokio).
        client
            .concurrently(3, |client| async move {
                for _ in 0..4 {
                    client.call(&list()).await.unwrap();
                }
            })
            .await;
        // 12 requests at 20 per second: the last starts 11 intervals (550 ms)
        // after the first. A lower bound only.
        assert!(
            started.elapsed() >= Duration::from_millis(540),
            "{}: {:?}",
            D::NAME,
            started.elapsed()
        );
    }

    async fn the_in_flight_limit_holds_requests_back<D>() {
        // Each answer takes 150 ms; six calls from six threads (or six
        // futures polled together) with at most two in flight need three
        // rounds.
        let server =
            mock(|c| c.with_faults(Faults::default().with_latency(Duration::from_millis(150))));
        let client = D::build(builder::<D>(server.url()).max_in_flight(2)).unwrap();
        let started = Instant::now();
        let sizes = client
            .concurrently(6, |client| async move {
                client.call(&list()).await.unwrap().data.len()
            })
            .await;
        assert_eq!(sizes, [3; 6], "{}", D::NAME);
        assert!(
            started.elapsed() >= Duration::from_millis(440),
            "{}: {:?}",
            D::NAME,
            started.elapsed()
        );
    }
}

both! {
    /// A call's deadline bounds its wait for the rate limit too: with one
    /// request start every 5 s, a call with a 200 ms deadline behind
    /// another ends with the deadline's timeout, sending nothing, instead
    /// of waiting out the rate and then failing. (The bound checked is
    /// generous: well under the 5 s the rate would make it wait.)
    async fn a_deadline_bounds_the_wait_for_a_rate_limit<D>() {
        let server = mock(|c| c);
        let client: D = D::build(builder(server.url()).rate_limit(0.2)).unwrap();
        client.call(&list()).await.unwrap();
        let queued = 10;
        server.inject_faults(std::iter::repeat_n(None, queued));
        let begin = Instant::now();
        let options = CallOptions::new().deadline(Duration::from_millis(200));
        let err = client.call_with(&list(), &options).await.unwrap_err();
        assert!(
            begin.elapsed() < Duration::from_secs(4),
            "{}: waited {:?} past a 200 ms deadline",
            D::NAME,
            begin.elapsed()
        );
        assert!(
            matches!(&err, Error::Timeout { kind: miva_http::TimeoutKind::CallDeadline, .. }),
            "{}: {err:?}",
            D::NAME
        );
        assert_eq!(taken(&server, queued), 0, "{}: a request was sent", D::NAME);
    }
}

both! {
    /// A deadline too far off to represent is no deadline, not a panic, on
    /// the limiter's path too.
    async fn a_deadline_too_far_off_is_no_deadline<D>() {
        let server = mock(|c| c);
        let client: D = D::build(builder(server.url()).rate_limit(1000.0).max_in_flight(2)).unwrap();
        let options = CallOptions::new().deadline(Duration::MAX);
        let page = client.call_with(&list(), &options).await.unwrap();
        assert_eq!(page.data.len(), 3, "{}", D::NAME);
        let multi = client
            .multicall_with(&[miva_envelope::Operation::request(&list()).unwrap()], &options)
            .await
            .unwrap();
        assert_eq!(multi.len(), 1, "{}", D::NAME);
    }
}
