//! Paging and multicall against hostile servers on loopback: stores that
//! ignore or shift `Offset`, send more records than `Count` or fewer before
//! the end; Miravia gateways that ignore `offset`, grow their total or never
//! send a short page; slow multicall rounds. Each ends in an error naming
//! the page (or the deadline) with every record before it delivered exactly
//! once, never duplicates, a silent skip or an endless loop. Sequential and
//! concurrent paging alike.
//!
//! The Miva tests are written once with `both!` (see
//! `common/miva_driver.rs`) and run on the blocking and the async client
//! (`name::blocking`, `name::tokio`); the Miravia ones likewise with
//! `both_miravia!` (see `common/miravia_driver.rs`) on both Miravia clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// tests may
// Without the `tokio` feature only the Miravia tests are built (on the
// blocking client only).
#![cfg_attr(not(feature = "tokio"), allow(dead_code, unused_imports))]

#[cfg(feature = "tokio")]
#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;
#[path = "common/miravia_driver.rs"]
#[allow(dead_code)] // its gateway is not used here
#[macro_use]
mod miravia_driver;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use miravia_driver::Driver as MiraviaDriver;
use miravia_sign::AppSecret;
use miva_envelope::{ListQuery, Operation, ProductListLoadQuery, Sort};
use miva_http::miravia::{Gateway, MiraviaClientBuilder, PageSpec};
use miva_http::miva::{CallOptions, MAX_CONCURRENCY};
use miva_http::{Error, TimeoutKind, TransportConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::{Value, json};

const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key; not a real store's
const TIMEOUT: Duration = Duration::from_secs(5);

/// What a hostile server answers: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, String);
type Handler = Arc<dyn Fn(&Request) -> Answer + Send + Sync>;

/// One request as the hostile server read it.
#[derive(Debug, Clone)]
struct Request {
    /// Path and query.
    target: String,
    /// Lower-case header names and values.
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Request {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }
}

/// A loopback HTTP server answering every request with `handler`, one
/// thread per connection, keep-alive. Counts the requests.
struct Hostile {
    url: String,
    requests: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Hostile {
    fn start(path: &str, handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let handler: Handler = Arc::new(handler);
        let requests = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (Arc::clone(&requests), Arc::clone(&log));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (handler, count, seen) =
                    (Arc::clone(&handler), Arc::clone(&count), Arc::clone(&seen));
                std::thread::spawn(move || serve(stream, &handler, &count, &seen));
            }
        });
        Self { url, requests, log }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn serve(stream: TcpStream, handler: &Handler, count: &AtomicUsize, log: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut start = String::new();
        if reader.read_line(&mut start).unwrap_or(0) == 0 {
            return;
        }
        let target = start.split(' ').nth(1).unwrap_or("/").to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Request {
            target,
            headers,
            body,
        };
        count.fetch_add(1, Ordering::SeqCst);
        log.lock().unwrap().push(request.clone());
        let (status, extra, body) = handler(&request);
        let mut out = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in extra {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&body);
        if stream.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------- Miva

#[cfg(feature = "tokio")]
use driver::{Driver, ListOpts};

/// A store of `total` products (ids 1..=total) whose list page for
/// (`Offset`, `Count`) is decided by `shape`: it returns the start_offset
/// to report and the ids to send.
fn store(
    total: u64,
    shape: impl Fn(u64, u64) -> (u64, Vec<u64>) + Send + Sync + 'static,
) -> Hostile {
    Hostile::start("/mm5/json.mvc", move |request| {
        let body = request.json();
        let offset = body["Offset"].as_u64().unwrap_or(0);
        let count = body["Count"].as_u64().unwrap_or(0);
        let (start, ids) = shape(offset, count);
        let data: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "code": format!("P{id:06}")}))
            .collect();
        let page = json!({"success": 1, "data": {
            "total_count": total, "start_offset": start, "data": data}});
        (200, vec![], page.to_string())
    })
}

/// The ids of a well-behaved page: `count` from `offset`, within `total`.
fn honest(total: u64, offset: u64, count: u64) -> Vec<u64> {
    (offset + 1..=(offset + count).min(total)).collect()
}

fn credential() -> Credential {
    Credential::hmac(
        ApiToken::new("tok-sha256").unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        HmacDigest::Sha256,
    )
}

#[cfg(feature = "tokio")]
fn miva_client<D: Driver>(url: &str) -> D {
    D::build(
        D::builder(url, credential()).store_code("TEST").transport(
            TransportConfig::new()
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT),
        ),
    )
    .unwrap()
}

fn products() -> ProductListLoadQuery {
    ProductListLoadQuery::new(ListQuery::new().sort(Sort::asc("id")))
}

/// Runs an export with `opts` to its end: the ids yielded, and the error
/// that ended it (the export is read on after it: nothing may follow).
#[cfg(feature = "tokio")]
async fn export_with<D: Driver>(url: &str, opts: ListOpts) -> (Vec<u64>, Option<Error>) {
    let client = miva_client::<D>(url);
    let mut ids = Vec::new();
    let mut error = None;
    let mut after_error = 0usize;
    client
        .list_each(products(), opts, |item| {
            if error.is_some() {
                after_error += 1;
                return after_error < 1000;
            }
            match item {
                Ok(product) => ids.push(u64::try_from(product.id.unwrap()).unwrap()),
                Err(e) => error = Some(e),
            }
            ids.len() < 100_000
        })
        .await;
    assert_eq!(after_error, 0, "nothing after the error ({})", D::NAME);
    (ids, error)
}

/// Runs an export to its end: the ids yielded, and the error that ended it.
#[cfg(feature = "tokio")]
async fn export<D: Driver>(
    url: &str,
    page_size: u64,
    concurrency: usize,
) -> (Vec<u64>, Option<Error>) {
    let opts = ListOpts::new()
        .page_size(page_size)
        .concurrency(concurrency);
    export_with::<D>(url, opts).await
}

/// The export ended with an `Error::Page` at `offset` whose cause is a
/// pagination error mentioning `needle`; the records before it came out
/// once each, in order.
fn assert_page_error(ids: &[u64], error: Option<Error>, offset: u64, needle: &str) {
    let error = error.unwrap_or_else(|| panic!("no error after {} records: {ids:?}", ids.len()));
    let Error::Page {
        function,
        offset: at,
        ..
    } = &error
    else {
        panic!("expected Error::Page, got {error:?}")
    };
    assert_eq!(function, "ProductList_Load_Query");
    assert_eq!(*at, offset, "{error}");
    let Error::Pagination { reason, .. } = error.root() else {
        panic!("expected a pagination cause, got {:?}", error.root())
    };
    assert!(reason.contains(needle), "{reason}");
    // The message names the page once and then gives the reason.
    let text = error.to_string();
    assert_eq!(text.matches("ProductList_Load_Query").count(), 1, "{text}");
    assert!(text.ends_with(reason.as_str()), "{text}");
    assert_eq!(ids, (1..=offset).collect::<Vec<u64>>());
}

#[cfg(feature = "tokio")]
both! {
    async fn a_store_that_ignores_offset_is_an_error_at_the_second_page<D>() {
        // Always the first 10 of 30, start_offset 0: before, 30 lines, 10 unique.
        let server = store(30, |_, count| (0, honest(30, 0, count)));
        for concurrency in [1, 4] {
            let (ids, error) = export::<D>(&server.url, 10, concurrency).await;
            assert_page_error(&ids, error, 10, "start_offset 0");
        }
    }

    async fn pages_that_start_five_early_are_an_error_not_duplicates<D>() {
        let server = store(30, |offset, count| {
            let start = offset.saturating_sub(5);
            (start, honest(30, start, count))
        });
        for concurrency in [1, 4] {
            let (ids, error) = export::<D>(&server.url, 10, concurrency).await;
            assert_page_error(&ids, error, 10, "start_offset 5");
        }
    }

    async fn more_records_than_count_is_an_error<D>() {
        // The page at 10 holds 11 records.
        let server = store(30, |offset, count| {
            let extra = u64::from(offset == 10);
            (offset, honest(30, offset, count + extra))
        });
        for concurrency in [1, 4] {
            let (ids, error) = export::<D>(&server.url, 10, concurrency).await;
            assert_page_error(&ids, error, 10, "more than the Count");
        }
        // On the first page too.
        let server = store(30, |offset, count| (offset, honest(30, offset, count + 1)));
        let (ids, error) = export::<D>(&server.url, 10, 1).await;
        assert_page_error(&ids, error, 0, "more than the Count");
    }

    async fn fewer_records_than_count_before_the_end_is_an_error<D>() {
        // The page at 10 holds 9 records, and total_count says 30.
        let server = store(30, |offset, count| {
            let short = u64::from(offset == 10);
            (offset, honest(30, offset, count - short))
        });
        for concurrency in [1, 4] {
            let (ids, error) = export::<D>(&server.url, 10, concurrency).await;
            assert_page_error(&ids, error, 10, "fewer than");
        }
        // The last page may be short: 25 records in pages of 10.
        let server = store(25, |offset, count| (offset, honest(25, offset, count)));
        for concurrency in [1, 4] {
            let (ids, error) = export::<D>(&server.url, 10, concurrency).await;
            assert!(error.is_none(), "{error:?}");
            assert_eq!(ids, (1..=25).collect::<Vec<u64>>());
        }
    }

    async fn records_past_total_count_are_an_error<D>() {
        // total_count 25, yet the last page is full (10 records at 20).
        let server = store(25, |offset, count| {
            (offset, (offset + 1..=offset + count).collect())
        });
        let (ids, error) = export::<D>(&server.url, 10, 1).await;
        assert_page_error(&ids, error, 20, "past total_count");
    }

    async fn a_total_count_that_changes_between_pages_is_an_error<D>() {
        // total_count 30 on the first page, 40 on the others.
        let server = Hostile::start("/mm5/json.mvc", |request| {
            let body = request.json();
            let offset = body["Offset"].as_u64().unwrap_or(0);
            let count = body["Count"].as_u64().unwrap_or(0);
            let total = if offset == 0 { 30 } else { 40 };
            let data: Vec<Value> = honest(total, offset, count)
                .iter()
                .map(|id| json!({"id": id, "code": format!("P{id:06}")}))
                .collect();
            let page = json!({"success": 1, "data": {
                "total_count": total, "start_offset": offset, "data": data}});
            (200, vec![], page.to_string())
        });
        for concurrency in [1, 4] {
            let (ids, error) = export::<D>(&server.url, 10, concurrency).await;
            let error = error.unwrap_or_else(|| panic!("no error ({}): {ids:?}", D::NAME));
            let Error::Page { offset, .. } = &error else {
                panic!("expected Error::Page, got {error:?}")
            };
            assert_eq!(*offset, 10, "{error}");
            assert!(
                matches!(error.root(), Error::Pagination { .. }),
                "{:?}",
                error.root()
            );
            assert_eq!(ids, (1..=10).collect::<Vec<u64>>(), "{}", D::NAME);
        }
    }

    async fn concurrency_above_the_maximum_is_an_error_and_workers_never_outnumber_pages<D>() {
        let server = store(30, |offset, count| (offset, honest(30, offset, count)));
        let client = miva_client::<D>(&server.url);
        let opts = ListOpts::new().page_size(10).concurrency(20_000);
        let mut items = client.list_all(products(), opts).await;
        // The error first, and nothing after it.
        assert_eq!(items.len(), 1, "{} items", items.len());
        let error = items.remove(0).unwrap_err();
        let Error::Config(message) = &error else {
            panic!("{error:?}")
        };
        assert!(message.contains("20000"), "{message}");
        assert!(message.contains(&MAX_CONCURRENCY.to_string()), "{message}");
        assert_eq!(server.requests(), 0, "nothing was sent");

        // At the maximum, 3 pages: every record once, 3 requests, and no more
        // than the 2 remaining pages' worth of threads (blocking) or page
        // requests in flight (async).
        let (ids, error) = export::<D>(&server.url, 10, MAX_CONCURRENCY).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(ids, (1..=30).collect::<Vec<u64>>());
        assert_eq!(server.requests(), 3);
        if D::NAME == "blocking" {
            let client = miva_client::<miva_http::miva::MivaClient>(&server.url);
            let mut records = client
                .list(products())
                .page_size(10)
                .concurrency(MAX_CONCURRENCY);
            records.next().unwrap().unwrap();
            assert_eq!(records.workers(), 2);
        } else {
            let client = miva_client::<miva_http::tokio::MivaClient>(&server.url);
            let mut records = client
                .list(products())
                .page_size(10)
                .concurrency(MAX_CONCURRENCY);
            assert_eq!(records.in_flight(), 0, "nothing before the first poll");
            driver::next(&mut records).await.unwrap().unwrap();
            assert!(records.in_flight() <= 2, "{} in flight", records.in_flight());
            assert_eq!(records.total_count(), Some(30));
        }
    }

    async fn an_export_deadline_ends_with_a_timeout_naming_it<D>() {
        // Each page takes 300 ms; the export may take 500 ms: the third page is
        // never asked for (or is cut off), and the error names the deadline.
        let server = store(50, |offset, count| {
            std::thread::sleep(Duration::from_millis(300));
            (offset, honest(50, offset, count))
        });
        for concurrency in [1, 2] {
            let started = Instant::now();
            let opts = ListOpts::new()
                .page_size(10)
                .concurrency(concurrency)
                .deadline(Duration::from_millis(500));
            let (ids, error) = export_with::<D>(&server.url, opts).await;
            let error = error.expect("the deadline fired");
            let Error::Page { offset, .. } = &error else {
                panic!("{error:?}")
            };
            assert_eq!(ids, (1..=*offset).collect::<Vec<u64>>());
            let Error::Timeout { kind, limit } = error.root() else {
                panic!("{:?}", error.root())
            };
            assert!(kind.is_deadline(), "{kind}");
            assert_eq!(*limit, Duration::from_millis(500));
            // Not 5 pages × 300 ms, nor the 5 s per-request timeout.
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{:?}",
                started.elapsed()
            );
        }
    }
}

// ----------------------------------------------------------- multicall

/// A store answering each multicall round with one more operation and a
/// 206, after `delay`.
fn slow_multicall(delay: Duration) -> Hostile {
    Hostile::start("/mm5/json.mvc", move |request| {
        std::thread::sleep(delay);
        let total = request.json()["Operations"].as_array().map_or(0, Vec::len);
        let from = request
            .headers
            .get("range")
            .and_then(|r| r.strip_prefix("Operations="))
            .and_then(|r| r.split('-').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(1);
        let status = if from >= total { 200 } else { 206 };
        (
            status,
            vec![("Content-Range".into(), format!("1/{total}"))],
            r#"[{"success":1}]"#.into(),
        )
    })
}

fn operations(n: usize) -> Vec<Operation> {
    (0..n)
        .map(|i| Operation::new("Product_Update", &json!({"Edit_Product": i})).unwrap())
        .collect()
}

#[cfg(feature = "tokio")]
both! {
    async fn a_multicall_deadline_bounds_all_rounds<D>() {
        // 6 rounds of 300 ms each; the whole multicall may take 700 ms.
        let server = slow_multicall(Duration::from_millis(300));
        let client = miva_client::<D>(&server.url);
        // Without a deadline: every round, every answer.
        assert_eq!(client.multicall(&operations(6)).await.unwrap().len(), 6);
        assert_eq!(server.requests(), 6);
        let options = CallOptions::new().deadline(Duration::from_millis(700));
        let started = Instant::now();
        let error = client
            .multicall_with(&operations(6), &options)
            .await
            .unwrap_err();
        let Error::Timeout {
            kind: TimeoutKind::MulticallDeadline { total, .. },
            limit,
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(*total, 6);
        let what = error.to_string();
        assert!(what.contains("multicall deadline"), "{what}");
        assert!(what.contains("of 6 operations"), "{what}");
        assert_eq!(*limit, Duration::from_millis(700));
        assert!(server.requests() < 12, "{} requests", server.requests());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    async fn a_multicall_deadline_cuts_off_a_round_in_flight<D>() {
        // One round of 3 s against a 5 s per-request timeout and a 500 ms
        // deadline: the request is cut off at the deadline, not at 3 s.
        let server = slow_multicall(Duration::from_secs(3));
        let client = miva_client::<D>(&server.url);
        let options = CallOptions::new().deadline(Duration::from_millis(500));
        let started = Instant::now();
        let error = client
            .multicall_with(&operations(2), &options)
            .await
            .unwrap_err();
        let Error::Timeout {
            kind: TimeoutKind::MulticallDeadline { .. },
            ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{:?}",
            started.elapsed()
        );
    }

    async fn the_api_timeout_header_goes_with_multicalls_only<D>() {
        let server = Hostile::start("/mm5/json.mvc", |request| {
            if request.json().get("Operations").is_some() {
                (200, vec![], r#"[{"success":1}]"#.into())
            } else {
                (200, vec![], r#"{"success":1,"data":1}"#.into())
            }
        });
        let client = D::build(
            D::builder(&server.url, credential())
                .store_code("TEST")
                .api_timeout(Duration::from_secs(7)),
        )
        .unwrap();
        client.call_raw("Product_Update", &json!({})).await.unwrap();
        client.multicall(&operations(1)).await.unwrap();
        let log = server.log.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].headers.get("x-miva-api-timeout"), None);
        assert_eq!(
            log[1].headers.get("x-miva-api-timeout").map(String::as_str),
            Some("7")
        );
    }
}

// ------------------------------------------------------------- Miravia

/// A gateway whose `/products/get` page for (offset, limit) is decided by
/// `shape`: the item ids and the total to report (if any).
fn gateway(
    shape: impl Fn(u64, u64, usize) -> (Vec<u64>, Option<u64>) + Send + Sync + 'static,
) -> Hostile {
    let calls = AtomicUsize::new(0);
    Hostile::start("/rest", move |request| {
        let offset = request
            .query("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let limit = request
            .query("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let call = calls.fetch_add(1, Ordering::SeqCst);
        let (ids, total) = shape(offset, limit, call);
        let products: Vec<Value> = ids.iter().map(|id| json!({"item_id": id})).collect();
        let mut data = json!({"products": products});
        if let Some(total) = total {
            data["total_products"] = json!(total);
        }
        let body = json!({"code": "0", "request_id": "r", "data": data});
        (200, vec![], body.to_string())
    })
}

/// A builder for the gateway at `url` (the hostile gateways check no
/// signature), with the per-request timeout.
fn miravia_builder<M: MiraviaDriver>(url: &str) -> MiraviaClientBuilder<M> {
    M::builder(
        Gateway::Custom(url.to_owned()),
        "123456",
        AppSecret::new("paging-secret-not-real").unwrap(),
    )
    .transport(TransportConfig::new().timeout(TIMEOUT))
}

fn miravia_client<M: MiraviaDriver>(url: &str) -> M {
    M::build(miravia_builder::<M>(url)).unwrap()
}

/// The item ids of an export read to its end, and the error that ended
/// it: nothing may follow the error, and no export runs away.
fn ids_and_error<M: MiraviaDriver>(items: Vec<Result<Value, Error>>) -> (Vec<u64>, Option<Error>) {
    let mut ids = Vec::new();
    let mut error = None;
    for item in items {
        assert!(error.is_none(), "nothing after the error ({})", M::NAME);
        match item {
            Ok(v) => ids.push(v["item_id"].as_u64().unwrap()),
            Err(e) => error = Some(e),
        }
        assert!(ids.len() < 1000, "runaway paging ({})", M::NAME);
    }
    (ids, error)
}

/// Pages through `/products/get` to the end (sequentially): the item ids
/// and the error that ended it.
async fn pages<M: MiraviaDriver>(
    server: &Hostile,
    spec: PageSpec,
    page_size: u32,
) -> (Vec<u64>, Option<Error>) {
    let client = miravia_client::<M>(&server.url);
    let items = client
        .paginate_all("/products/get", &[], spec, page_size, None, 1)
        .await;
    ids_and_error::<M>(items)
}

fn assert_miravia_error(ids: &[u64], error: Option<Error>, delivered: u64, needle: &str) {
    let error = error.unwrap_or_else(|| panic!("no error after {} records", ids.len()));
    let Error::Page {
        function, offset, ..
    } = &error
    else {
        panic!("expected Error::Page, got {error:?}")
    };
    assert_eq!(function, "/products/get");
    assert_eq!(*offset, delivered);
    let Error::Pagination { reason, .. } = error.root() else {
        panic!("{:?}", error.root())
    };
    assert!(reason.contains(needle), "{reason}");
    assert_eq!(ids, (0..delivered).collect::<Vec<u64>>());
}

both_miravia! {
    async fn a_gateway_that_ignores_offset_is_an_error_not_repeats<D>() {
        // 40 in total, always the first 10: before, 40 yielded, 10 unique.
        let server = gateway(|_, limit, _| ((0..limit).collect(), Some(40)));
        let (ids, error) = pages::<D>(&server, PageSpec::products(), 10).await;
        assert_miravia_error(&ids, error, 10, "same records");
        // Without a total the repeat is caught the same way.
        let server = gateway(|_, limit, _| ((0..limit).collect(), None));
        let (ids, error) = pages::<D>(&server, PageSpec::products(), 10).await;
        assert_miravia_error(&ids, error, 10, "same records");
    }

    async fn a_total_that_grows_on_every_page_is_an_error<D>() {
        let server = gateway(|offset, limit, call| {
            (
                (offset..offset + limit).collect(),
                Some(20 + 10 * call as u64),
            )
        });
        let (ids, error) = pages::<D>(&server, PageSpec::products(), 10).await;
        assert_miravia_error(&ids, error, 10, "from 20 to 30");
    }

    async fn no_total_and_full_pages_forever_hits_the_page_cap<D>() {
        let server = gateway(|offset, limit, _| ((offset..offset + limit).collect(), None));
        let spec = PageSpec::products().max_pages(7);
        let (ids, error) = pages::<D>(&server, spec, 10).await;
        assert_miravia_error(&ids, error, 70, "7 pages");
        assert_eq!(server.requests(), 7, "{}", D::NAME);
        // The default cap is documented and finite.
        assert_eq!(
            PageSpec::products().max_pages,
            miva_http::miravia::DEFAULT_MAX_PAGES
        );
    }

    async fn no_total_stops_at_the_first_short_page<D>() {
        let server = gateway(|offset, limit, _| {
            let end = (offset + limit).min(23);
            ((offset..end).collect(), None)
        });
        let (ids, error) = pages::<D>(&server, PageSpec::products(), 10).await;
        assert!(error.is_none(), "{}: {error:?}", D::NAME);
        assert_eq!(ids, (0..23).collect::<Vec<u64>>(), "{}", D::NAME);
        assert_eq!(server.requests(), 3, "{}", D::NAME);
    }

    async fn a_gateway_page_larger_than_the_limit_or_short_before_the_total_is_an_error<D>() {
        let server =
            gateway(|offset, limit, _| ((offset..offset + limit + 1).collect(), Some(40)));
        let (ids, error) = pages::<D>(&server, PageSpec::products(), 10).await;
        assert_miravia_error(&ids, error, 0, "more than the limit");
        let server = gateway(|offset, limit, _| {
            let short = u64::from(offset == 10);
            ((offset..offset + limit - short).collect(), Some(40))
        });
        let (ids, error) = pages::<D>(&server, PageSpec::products(), 10).await;
        assert_miravia_error(&ids, error, 10, "fewer than");
    }
}

/// Pages through `/products/get` with an export deadline of `limit`: the
/// item ids, the error that ended it, and how long it took.
async fn pages_within<M: MiraviaDriver>(
    client: &M,
    page_size: u32,
    limit: Duration,
) -> (Vec<u64>, Option<Error>, Duration) {
    let started = Instant::now();
    let items = client
        .paginate_all(
            "/products/get",
            &[],
            PageSpec::products(),
            page_size,
            Some(limit),
            1,
        )
        .await;
    let elapsed = started.elapsed();
    let (ids, error) = ids_and_error::<M>(items);
    (ids, error, elapsed)
}

/// `error` is the export deadline's, for the page at `offset`: returns it.
fn assert_export_deadline(error: Option<Error>, limit: Duration) -> u64 {
    let error = error.expect("the deadline fired");
    let Error::Page {
        function, offset, ..
    } = &error
    else {
        panic!("expected Error::Page, got {error:?}")
    };
    assert_eq!(function, "/products/get");
    let Error::Timeout { kind, limit: l } = error.root() else {
        panic!("{:?}", error.root())
    };
    assert_eq!(*kind, TimeoutKind::ExportDeadline);
    assert_eq!(*l, limit);
    *offset
}

both_miravia! {
    async fn a_miravia_export_deadline_ends_with_a_timeout_naming_it<D>() {
        // 50 records, 10 a page, each page after 200 ms: 1 s in all; the
        // export may take 500 ms.
        let server = gateway(|offset, limit, _| {
            std::thread::sleep(Duration::from_millis(200));
            let end = (offset + limit).min(50);
            ((offset..end).collect(), Some(50))
        });
        let client = miravia_client::<D>(&server.url);
        let limit = Duration::from_millis(500);
        let (ids, error, elapsed) = pages_within(&client, 10, limit).await;
        let offset = assert_export_deadline(error, limit);
        // The pages before it, each record exactly once, in order.
        assert!(offset >= 10, "{}: {offset}", D::NAME);
        assert!(offset < 50, "{}: {offset}", D::NAME);
        assert_eq!(ids, (0..offset).collect::<Vec<u64>>(), "{}", D::NAME);
        // Not 5 pages × 200 ms, nor the 5 s per-request timeout.
        assert!(elapsed < Duration::from_secs(3), "{}: {elapsed:?}", D::NAME);
        // With a deadline long enough the same gateway delivers everything.
        let (ids, error, _) = pages_within(&client, 10, Duration::from_secs(60)).await;
        assert!(error.is_none(), "{}: {error:?}", D::NAME);
        assert_eq!(ids, (0..50).collect::<Vec<u64>>(), "{}", D::NAME);
    }

    async fn a_miravia_page_hanging_past_the_export_deadline_is_cut_off_in_flight<D>() {
        // The first page at once, the second hangs 4 s (within the 5 s
        // per-request timeout): only the deadline can end it early.
        let server = gateway(|offset, limit, _| {
            if offset > 0 {
                std::thread::sleep(Duration::from_secs(4));
            }
            ((offset..offset + limit).collect(), Some(40))
        });
        let client = miravia_client::<D>(&server.url);
        let limit = Duration::from_millis(300);
        let (ids, error, elapsed) = pages_within(&client, 10, limit).await;
        assert_eq!(assert_export_deadline(error, limit), 10, "{}", D::NAME);
        assert_eq!(ids, (0..10).collect::<Vec<u64>>(), "{}", D::NAME);
        assert_eq!(server.requests(), 2, "{}", D::NAME);
        assert!(elapsed < Duration::from_secs(2), "{}: {elapsed:?}", D::NAME);
    }

    async fn a_miravia_retry_wait_never_outlasts_the_export_deadline<D>() {
        // The second page is always a SYSTEM error (retryable for a GET), and
        // the policy would retry 5 times after jittered waits of up to 30 s
        // each (uniform, so almost always far longer than the deadline):
        // within a 300 ms deadline a wait that does not fit is not taken (the
        // platform's error ends the export), and one that fits leaves the next
        // attempt to find the deadline passed.
        let server = Hostile::start("/rest", |request| {
            if request.query("offset").as_deref() == Some("0") {
                let products: Vec<Value> = (0..10).map(|id| json!({"item_id": id})).collect();
                let body =
                    json!({"code": "0", "data": {"products": products, "total_products": 40}});
                return (200, vec![], body.to_string());
            }
            let body = json!({"code": "ServiceUnavailable", "type": "SYSTEM", "message": "busy"});
            (200, vec![], body.to_string())
        });
        let client = D::build(
            miravia_builder::<D>(&server.url).retry(
                miva_http::RetryPolicy::new(5)
                    .initial_backoff(Duration::from_secs(30))
                    .max_backoff(Duration::from_secs(30)),
            ),
        )
        .unwrap();
        let (ids, error, elapsed) = pages_within(&client, 10, Duration::from_millis(300)).await;
        let error = error.expect("an error");
        let Error::Page { offset, .. } = &error else {
            panic!("{}: {error:?}", D::NAME)
        };
        assert_eq!(*offset, 10, "{}", D::NAME);
        match error.root() {
            Error::Miravia(e) => assert_eq!(e.code, "ServiceUnavailable"),
            Error::Timeout { kind, .. } => assert_eq!(*kind, TimeoutKind::ExportDeadline),
            other => panic!("{}: {other:?}", D::NAME),
        }
        assert_eq!(ids, (0..10).collect::<Vec<u64>>(), "{}", D::NAME);
        // Not a wait of seconds.
        assert!(elapsed < Duration::from_secs(2), "{}: {elapsed:?}", D::NAME);
    }
}
