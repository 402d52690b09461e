//! What only the async `miva_http::tokio::MivaClient` has, over real HTTP
//! on loopback: cancellation by dropping a stream or a future (the
//! requests in flight are cut, nothing more is sent), many calls on one
//! thread under the in-flight and rate limits (which wait without blocking
//! it), an export consumed slowly holding a bounded number of pages, an
//! SSH-agent signer that blocks kept off the executor, and tracing spans
//! kept across awaits. Everything both clients do is tested once, on both,
//! with `both!` (`miva_client.rs`, `paging.rs`, `faults.rs`, ...).
//!
//! No durations are asserted: counts and orderings only, with generous
//! timeouts so that a failure ends instead of hanging.

#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_core::Stream;
use miva_envelope::{ListQuery, ProductListLoadQuery, Sort};
use miva_http::tokio::MivaClient;
use miva_http::{Error, RetryPolicy, TransportConfig};
use miva_mock::{Credentials, MockConfig, MockServer, SshUserConfig};
use miva_sign::{ApiToken, Credential, RsaDigest, RsaPrivateKey, RsaSigner};
use serde_json::{Value, json};

/// Only to end a test that would otherwise hang; never a measure.
const PATIENCE: Duration = Duration::from_secs(30);

/// What the server does with one request: wait this long (answering
/// nothing, watching for the client closing the connection), then answer
/// with this status and body.
type Answer = (Duration, u16, String);
type Handler = dyn Fn(&Value) -> Answer + Send + Sync;

/// What a [`Loopback`] server has seen.
#[derive(Default)]
struct Stats {
    /// Requests read whole.
    requests: AtomicUsize,
    /// Requests read and not yet answered (nor cut).
    in_flight: AtomicUsize,
    /// The most requests in flight at once.
    max_in_flight: AtomicUsize,
    /// Requests answered.
    answered: AtomicUsize,
    /// Requests whose connection the client closed before the answer.
    cut: AtomicUsize,
    /// Every request's JSON body, in arrival order.
    log: Mutex<Vec<Value>>,
}

impl Stats {
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
    fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
    fn cut(&self) -> usize {
        self.cut.load(Ordering::SeqCst)
    }
    fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
    /// Every request has been answered or cut.
    fn settled(&self) -> bool {
        self.answered() + self.cut() == self.requests()
    }
}

/// A loopback HTTP/1.1 server on std threads (one per connection,
/// keep-alive), never on the test's runtime.
struct Loopback {
    url: String,
    stats: Arc<Stats>,
}

impl Loopback {
    fn start(handler: impl Fn(&Value) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
        let handler: Arc<Handler> = Arc::new(handler);
        let stats = Arc::new(Stats::default());
        let shared = Arc::clone(&stats);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (handler, stats) = (Arc::clone(&handler), Arc::clone(&shared));
                std::thread::spawn(move || {
                    let _ = connection(stream, &*handler, &stats);
                });
            }
        });
        Self { url, stats }
    }
}

fn connection(stream: TcpStream, handler: &Handler, stats: &Stats) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut headers = HashMap::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        stats.log.lock().unwrap().push(request.clone());
        stats.requests.fetch_add(1, Ordering::SeqCst);
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let (delay, status, reply) = handler(&request);
        let closed = closed_within(&stream, delay);
        // Out of flight before the answer is written: the client may send
        // its next request as soon as it has read this one.
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        if closed {
            stats.cut.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        )?;
        stream.write_all(reply.as_bytes())?;
        stream.flush()?;
        stats.answered.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits `delay`, watching the connection: true as soon as the client has
/// closed it (end of stream or a reset), false when `delay` passed first.
fn closed_within(stream: &TcpStream, delay: Duration) -> bool {
    if delay.is_zero() {
        return false;
    }
    let end = Instant::now() + delay;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
    let mut byte = [0u8; 1];
    let closed = loop {
        if Instant::now() >= end {
            break false;
        }
        match stream.peek(&mut byte) {
            Ok(0) => break true,
            // A pipelined request (not expected): keep waiting.
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break true,
        }
    };
    let _ = stream.set_read_timeout(None);
    closed
}

/// A list page of a store of `total` products: `Count` from `Offset`.
fn page(request: &Value, total: u64) -> String {
    let offset = request["Offset"].as_u64().unwrap_or(0);
    let count = request["Count"].as_u64().unwrap_or(100);
    let data: Vec<Value> = (offset + 1..=(offset + count).min(total))
        .map(|id| json!({"id": id, "code": format!("P{id:06}")}))
        .collect();
    json!({"success": 1, "data": {"total_count": total, "start_offset": offset, "data": data}})
        .to_string()
}

fn builder(url: &str) -> miva_http::miva::MivaClientBuilder<MivaClient> {
    MivaClient::builder(
        url,
        Credential::token(ApiToken::new("async-test-token").unwrap()),
    )
    .store_code("ASYNC")
    // Far longer than any test waits: only cancellation cuts a request.
    .transport(
        TransportConfig::new()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10)),
    )
}

fn products() -> ProductListLoadQuery {
    ProductListLoadQuery::new(ListQuery::new().sort(Sort::asc("id")))
}

/// The next item of a stream.
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// Waits (on the runtime, so its tasks run) until `done`, at most
/// [`PATIENCE`]; false if it never was.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > PATIENCE {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

fn product_id(item: Option<Result<miva_envelope::Product, Error>>) -> u64 {
    let product = item.expect("a record").expect("no error");
    u64::try_from(product.id.unwrap()).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_an_export_cuts_its_requests_and_sends_no_more() {
    // The first page at once, every other page only after 10 s: what is in
    // flight when the stream is dropped can only end by being cut.
    let server = Loopback::start(|request| {
        let delay = if request["Offset"].as_u64().unwrap_or(0) == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(10)
        };
        (delay, 200, page(request, 1000))
    });
    let stats = Arc::clone(&server.stats);
    let client = builder(&server.url).build().unwrap();
    let mut records = client.list(products()).page_size(10).concurrency(4);
    for id in 1..=3 {
        assert_eq!(product_id(next(&mut records).await), id);
    }
    // Keep polling (the rest of the first page comes out) until the 4 pages
    // after it have reached the server.
    let mut id = 3;
    let started = Instant::now();
    while stats.requests() < 5 {
        assert!(
            started.elapsed() < PATIENCE,
            "{} requests",
            stats.requests()
        );
        if let Ok(item) = tokio::time::timeout(Duration::from_millis(10), next(&mut records)).await
        {
            id += 1;
            assert!(id <= 10, "a slow page came early");
            assert_eq!(product_id(item), id);
        }
    }
    assert_eq!(records.in_flight(), 4);
    assert_eq!(records.total_count(), Some(1000));
    drop(records);
    // Each request in flight is cut (the server sees its connection close)
    // rather than answered 10 s later.
    assert!(
        eventually(|| stats.settled()).await,
        "requests {}, answered {}, cut {}",
        stats.requests(),
        stats.answered(),
        stats.cut()
    );
    assert_eq!(stats.cut(), 4, "the pages in flight were cut");
    assert_eq!(stats.answered(), 1, "only the first page was answered");
    // And nothing more is sent.
    let sent = stats.requests();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stats.requests(), sent);
    assert_eq!(sent, 5);
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_a_call_future_closes_its_connection() {
    let server = Loopback::start(|_| {
        (
            Duration::from_secs(10),
            200,
            r#"{"success":1,"data":1}"#.into(),
        )
    });
    let stats = Arc::clone(&server.stats);
    let client = builder(&server.url).build().unwrap();
    let params = json!({});
    let mut call = Box::pin(client.call_raw("ProductList_Load_Query", &params));
    // Polled until the request has reached the server, then dropped.
    let started = Instant::now();
    loop {
        tokio::select! {
            biased;
            result = &mut call => panic!("answered: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        if stats.requests() == 1 {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "the request never arrived");
    }
    drop(call);
    assert!(
        eventually(|| stats.settled()).await,
        "the connection is still open: answered {}, cut {}",
        stats.answered(),
        stats.cut()
    );
    assert_eq!(stats.cut(), 1, "the server saw the connection close");
    assert_eq!(stats.answered(), 0);
    // The client still works afterwards (a new connection).
    let quick = Loopback::start(|_| (Duration::ZERO, 200, r#"{"success":1,"data":7}"#.into()));
    let client = builder(&quick.url).build().unwrap();
    assert_eq!(client.call_raw("F", &params).await.unwrap(), json!(7));
}

/// Runs `n` `call_raw`s of `client` at once (tasks on this runtime): their
/// results, in order.
async fn calls_at_once(client: &MivaClient, n: usize) -> Vec<Result<Value, Error>> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let client = client.clone();
        tasks.spawn(async move {
            let result = client
                .call_raw("ProductList_Load_Query", &json!({"Count": i}))
                .await;
            (i, result)
        });
    }
    let mut results: Vec<Option<Result<Value, Error>>> = (0..n).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        let (i, result) = done.unwrap();
        results[i] = Some(result);
    }
    results.into_iter().map(Option::unwrap).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn two_hundred_calls_at_once_on_one_thread_all_succeed_within_max_in_flight() {
    let answer = |request: &Value| {
        let n = request["Count"].clone();
        (
            Duration::from_millis(50),
            200,
            json!({"success": 1, "data": n}).to_string(),
        )
    };
    // No limit: all 200 succeed, and many are in flight at once.
    let server = Loopback::start(answer);
    let client = builder(&server.url).build().unwrap();
    let results = calls_at_once(&client, 200).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(result.unwrap(), json!(i));
    }
    assert_eq!(server.stats.requests(), 200);
    assert!(
        server.stats.max_in_flight() > 8,
        "only {} at once without a limit",
        server.stats.max_in_flight()
    );
    // With `max_in_flight(8)`: all 200 succeed, never more than 8 at once.
    let server = Loopback::start(answer);
    let client = builder(&server.url).max_in_flight(8).build().unwrap();
    let results = calls_at_once(&client, 200).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(result.unwrap(), json!(i));
    }
    assert_eq!(server.stats.requests(), 200);
    let most = server.stats.max_in_flight();
    assert!((1..=8).contains(&most), "{most} in flight at once");
}

#[tokio::test(flavor = "current_thread")]
async fn rate_limit_waits_do_not_block_the_thread() {
    // A task ticking on the same thread; the server notes the tick count
    // as each request arrives. 20 requests a second: 50 ms between starts,
    // in which a thread that is not blocked ticks many times.
    let ticks = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (t, s) = (Arc::clone(&ticks), Arc::clone(&seen));
    let server = Loopback::start(move |_| {
        s.lock().unwrap().push(t.load(Ordering::SeqCst));
        (Duration::ZERO, 200, r#"{"success":1,"data":1}"#.into())
    });
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let client = builder(&server.url).rate_limit(20.0).build().unwrap();
    let results = calls_at_once(&client, 6).await;
    ticker.abort();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 6);
    for pair in seen.windows(2) {
        assert!(
            pair[1] >= pair[0] + 3,
            "the ticker stood still between two requests: {seen:?}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_slowly_consumed_export_holds_a_bounded_number_of_pages() {
    // 20 pages answered at once, consumed a record at a time with pauses:
    // with concurrency k the server never gets more than k + 1 page
    // requests ahead of the pages consumed.
    const K: usize = 3;
    const PAGE: usize = 10;
    let server = Loopback::start(|request| (Duration::ZERO, 200, page(request, 200)));
    let stats = Arc::clone(&server.stats);
    let client = builder(&server.url).build().unwrap();
    let mut records = client
        .list(products())
        .page_size(PAGE as u64)
        .concurrency(K);
    let mut consumed = 0usize;
    let mut most_ahead = 0usize;
    while let Some(item) = next(&mut records).await {
        consumed += 1;
        assert_eq!(product_id(Some(item)), consumed as u64);
        let pages_consumed = consumed / PAGE;
        let ahead = stats.requests() - pages_consumed;
        most_ahead = most_ahead.max(ahead);
        assert!(
            ahead <= K + 1,
            "{} page requests after {consumed} records",
            stats.requests()
        );
        assert!(
            records.in_flight() <= K,
            "{} in flight",
            records.in_flight()
        );
        // Time for the requests in flight (and the server) to get ahead.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(consumed, 200);
    assert_eq!(stats.requests(), 20, "each page once");
    // The pages ahead were really fetched ahead (the bound was reached).
    assert_eq!(most_ahead, K + 1);
    // The offsets were asked for in order.
    let offsets: Vec<u64> = stats
        .log
        .lock()
        .unwrap()
        .iter()
        .map(|r| r["Offset"].as_u64().unwrap_or(0))
        .collect();
    let mut sorted = offsets.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..20).map(|p| p * 10).collect::<Vec<u64>>());
}

/// An SSH signer that blocks its thread 200 ms before signing (an SSH
/// agent on a slow socket), noting the ticker's count before and after.
#[derive(Debug)]
struct SlowSigner {
    key: RsaPrivateKey,
    ticks: Arc<AtomicUsize>,
    during: Arc<Mutex<Vec<(usize, usize)>>>,
}

impl RsaSigner for SlowSigner {
    fn sign(&self, digest: RsaDigest, message: &[u8]) -> Result<Vec<u8>, miva_sign::Error> {
        let before = self.ticks.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
        let after = self.ticks.load(Ordering::SeqCst);
        self.during.lock().unwrap().push((before, after));
        self.key.sign(digest, message)
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../miva-sign/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_ssh_signer_does_not_block_the_runtime() {
    let credentials = Credentials::new("SSH")
        .unwrap()
        .with_ssh_user(SshUserConfig::new("ssh-user", &fixture("rsa2048.pub")).unwrap());
    let server = MockServer::start(MockConfig::new(credentials).with_products(5)).unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let during = Arc::new(Mutex::new(Vec::new()));
    let signer = Arc::new(SlowSigner {
        key: RsaPrivateKey::from_text(&fixture("rsa2048-pkcs8.pem"), None).unwrap(),
        ticks: Arc::clone(&ticks),
        during: Arc::clone(&during),
    });
    let credential =
        Credential::ssh_external("ssh-user", signer.clone(), RsaDigest::Sha256).unwrap();
    let client = MivaClient::builder(server.url(), credential)
        .store_code(server.store_code())
        .build()
        .unwrap();
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Let the ticker start.
    assert!(eventually(|| ticks.load(Ordering::SeqCst) > 0).await);
    let page = client
        .call(&ProductListLoadQuery::new(ListQuery::new()))
        .await
        .unwrap();
    ticker.abort();
    // The mock checked the signature: the call went through.
    assert_eq!(page.total_count, 5);
    let first = during.lock().unwrap().clone();
    assert_eq!(first.len(), 1, "{first:?}");
    let (before, after) = first[0];
    // The ticker ran on this runtime's only thread while the signer slept.
    assert!(
        after >= before + 3,
        "the runtime stood still while signing: {first:?}"
    );
    // The control: the same signer called on this thread stops the ticker.
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let from = ticks.load(Ordering::SeqCst);
    assert!(eventually(|| ticks.load(Ordering::SeqCst) > from).await);
    signer.sign(RsaDigest::Sha256, b"{}").unwrap();
    ticker.abort();
    let (before, after) = during.lock().unwrap()[1];
    assert_eq!(after, before, "the ticker ran during a blocking signature");
    server.shutdown();
}

/// Events of `miva_*` targets, each with the `miva_request` span it was
/// in (its `function` field), if any.
#[derive(Debug, Clone)]
struct Seen {
    message: String,
    /// The event's own `function` field, if it has one.
    function: Option<String>,
    /// The `function` of the innermost `miva_request` span around it.
    span: Option<String>,
}

#[derive(Clone, Default)]
struct Capture {
    events: Arc<Mutex<Vec<Seen>>>,
}

/// The `function` field of a span.
struct SpanFunction(String);

#[derive(Default)]
struct Fields {
    message: Option<String>,
    function: Option<String>,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "function" => self.function = Some(value.to_owned()),
            "message" => self.message = Some(value.to_owned()),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "function" => self.function = Some(format!("{value:?}").trim_matches('"').to_owned()),
            "message" => self.message = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for Capture
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(function), Some(span)) = (fields.function, ctx.span(id)) {
            span.extensions_mut().insert(SpanFunction(function));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if !event.metadata().target().starts_with("miva_") {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let span = ctx.event_scope(event).and_then(|scope| {
            scope
                .filter(|span| span.name() == "miva_request")
                .find_map(|span| span.extensions().get::<SpanFunction>().map(|f| f.0.clone()))
        });
        self.events.lock().unwrap().push(Seen {
            message: fields.message.unwrap_or_default(),
            function: fields.function,
            span,
        });
    }
}

#[tokio::test(flavor = "current_thread")]
async fn events_of_retries_stay_in_their_calls_span_across_awaits() {
    use tracing_subscriber::layer::SubscriberExt as _;
    // Two calls at once on one thread, each answered 503 (retryable for a
    // read-only function) a different number of times before its answer:
    // every event, before and after each retry's wait, is in the
    // `miva_request` span of its own call.
    let failures: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let server = Loopback::start(move |request| {
        let function = request["Function"].as_str().unwrap_or("").to_owned();
        let fail_times = if function == "ProductList_Load_Query" {
            1
        } else {
            3
        };
        let mut failures = failures.lock().unwrap();
        let failed = failures.entry(function).or_insert(0);
        if *failed < fail_times {
            *failed += 1;
            (Duration::ZERO, 503, "<html>busy</html>".into())
        } else {
            (Duration::ZERO, 200, r#"{"success":1,"data":1}"#.into())
        }
    });
    let client = builder(&server.url)
        .retry(
            RetryPolicy::new(5)
                .initial_backoff(Duration::from_millis(20))
                .max_backoff(Duration::from_millis(40)),
        )
        .build()
        .unwrap();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let params = json!({});
    let (products, categories) = tokio::join!(
        client.call_raw("ProductList_Load_Query", &params),
        client.call_raw("CategoryList_Load_Query", &params),
    );
    assert_eq!(products.unwrap(), json!(1));
    assert_eq!(categories.unwrap(), json!(1));
    assert_eq!(server.stats.requests(), 2 + 4);
    let events = capture.events.lock().unwrap().clone();
    assert!(!events.is_empty());
    for event in &events {
        let span = event
            .span
            .as_deref()
            .unwrap_or_else(|| panic!("outside a miva_request span: {event:?}"));
        if let Some(function) = &event.function {
            assert_eq!(function, span, "{event:?}");
        }
    }
    let retries = |function: &str| {
        events
            .iter()
            .filter(|e| e.message == "retrying" && e.span.as_deref() == Some(function))
            .count()
    };
    assert_eq!(retries("ProductList_Load_Query"), 1, "{events:#?}");
    assert_eq!(retries("CategoryList_Load_Query"), 3, "{events:#?}");
    // The call events (one per attempt, after the waits too) name their
    // span's function.
    let calls = events.iter().filter(|e| e.function.is_some()).count();
    assert_eq!(calls, 6, "{events:#?}");
}
