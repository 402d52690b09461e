//! Peak memory of a call or an export is bounded by the body limit,
//! whatever the JSON's shape: each scenario runs in a child process (this
//! test binary run again, see `child`) against a loopback server sending
//! hostile bodies, and the child reports its own peak resident set
//! (`VmHWM` in `/proc/self/status`) as it ends. The bound asserted is the
//! README's: `(DECODE_MULTIPLE + 1) x` the body limit above the peak of
//! the same child making a tiny call. No timing is asserted.
//!
//! Also here: integers of 2^64 and more are refused naming their field
//! (on both Miravia clients, with `both_miravia!` from
//! `common/miravia_driver.rs`), a 200 HTML page is undecodable,
//! and the store's errors on HTTP 503 (`api_offline`) and access-denied
//! messages are read as the store means them (Miva's own server code,
//! `mmlsk-json.mv` 1381-1384, 1549, 1579).
//!
//! The Miva tests are written once with `both!` (see
//! `common/miva_driver.rs`) and run on the blocking and the async client
//! (`name::blocking`, `name::tokio`): the memory scenarios run the chosen
//! driver in the child (on a current-thread runtime), against a baseline
//! measured with the same driver.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
// Without the `tokio` feature only the Miravia test is built.
#![cfg_attr(not(feature = "tokio"), allow(dead_code, unused_imports))]

#[cfg(feature = "tokio")]
#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;
#[path = "common/miravia_driver.rs"]
#[allow(dead_code)] // its gateway is not used here
#[macro_use]
mod miravia_driver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[cfg(feature = "tokio")]
use driver::{Driver, ListOpts};
use miva_envelope::{AccessDenied, ListQuery, RawListQuery};
use miva_http::{DECODE_MULTIPLE, Error, RetryPolicy, TransportConfig};
use miva_sign::{ApiToken, Credential};
use serde_json::{Value, json};

/// The body limit of every child: small, so the test is fast.
const LIMIT: u64 = 4 * 1024 * 1024;

type Answer = dyn Fn(&Value) -> (u16, Vec<u8>) + Send + Sync;

/// A loopback HTTP/1.1 server answering each POST with `answer(request
/// JSON)`; counts requests. Keep-alive, one thread per connection.
struct Server {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn serve(answer: impl Fn(&Value) -> (u16, Vec<u8>) + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let answer: Arc<Answer> = Arc::new(answer);
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let answer = Arc::clone(&answer);
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                let _ = connection(stream, &*answer, &counter);
            });
        }
    });
    Server { url, hits }
}

/// One request's body (by `Content-Length`); `None` at end of stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = 0usize;
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}

fn connection(stream: TcpStream, answer: &Answer, hits: &AtomicUsize) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let Some(body) = read_request(&mut reader)? else {
            return Ok(());
        };
        hits.fetch_add(1, Ordering::SeqCst);
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (status, reply) = answer(&request);
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        )?;
        stream.write_all(&reply)?;
        stream.flush()?;
    }
}

#[cfg(feature = "tokio")]
fn client<D: Driver>(url: &str) -> D {
    D::build(
        D::builder(
            url,
            Credential::token(ApiToken::new("memory-test-token").unwrap()),
        )
        .store_code("MEM")
        .transport(
            TransportConfig::new()
                .timeout(Duration::from_secs(30))
                .body_limit(LIMIT),
        ),
    )
    .unwrap()
}

/// `{"success":1,"data":[item,item,...]}` of about `bytes` bytes.
fn list_body(item: &str, bytes: usize) -> Vec<u8> {
    let n = bytes / (item.len() + 1);
    let mut out = Vec::with_capacity(bytes + 64);
    out.extend_from_slice(br#"{"success":1,"data":["#);
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

/// A list page of `n` records of about `record_bytes` each, string-heavy
/// (what real records look like), at `offset` of `total`.
fn page_body(offset: u64, n: u64, total: u64, record_bytes: usize) -> Vec<u8> {
    let filler = "x".repeat(record_bytes.saturating_sub(40));
    let n = n.min(total.saturating_sub(offset));
    let records: Vec<String> = (offset..offset + n)
        .map(|id| format!(r#"{{"id":{id},"code":"P{id:06}","descrip":"{filler}"}}"#))
        .collect();
    format!(
        r#"{{"success":1,"data":{{"total_count":{total},"start_offset":{offset},"data":[{}]}}}}"#,
        records.join(",")
    )
    .into_bytes()
}

/// A page of `n` tiny object records (`{"id":N}`): ~85 x on decoding.
fn tiny_objects_page(offset: u64, n: u64, total: u64) -> Vec<u8> {
    let records: Vec<String> = (offset..offset + n.min(total - offset))
        .map(|id| format!(r#"{{"id":{id}}}"#))
        .collect();
    format!(
        r#"{{"success":1,"data":{{"total_count":{total},"start_offset":{offset},"data":[{}]}}}}"#,
        records.join(",")
    )
    .into_bytes()
}

fn offset_count(request: &Value) -> (u64, u64) {
    (
        request["Offset"].as_u64().unwrap_or(0),
        request["Count"].as_u64().unwrap_or(100),
    )
}

/// The server for `scenario` (in the parent: its memory is not the
/// child's).
fn server_for(scenario: &str) -> Server {
    match scenario {
        "tiny" => serve(|_| (200, br#"{"success":1,"data":[1,2,3]}"#.to_vec())),
        "zeros" => {
            let body = list_body("0", LIMIT as usize - 64);
            serve(move |_| (200, body.clone()))
        }
        "objects" => {
            let body = list_body(r#"{"a":0}"#, LIMIT as usize - 64);
            serve(move |_| (200, body.clone()))
        }
        "nested" => {
            let body = list_body("[[0]]", LIMIT as usize - 64);
            serve(move |_| (200, body.clone()))
        }
        "fits" => {
            let body = list_body(&format!("\"{}\"", "y".repeat(1000)), LIMIT as usize / 2);
            serve(move |_| (200, body.clone()))
        }
        // 4 pages in flight of ~LIMIT/6 each: each fits its share (LIMIT/5).
        "list4" => serve(|r| {
            let (offset, count) = offset_count(r);
            (200, page_body(offset, count, 48 * 128, 1000))
        }),
        // Pages of tiny objects as large as the whole limit allows.
        "list4-objects" => serve(|r| {
            let (offset, count) = offset_count(r);
            (200, tiny_objects_page(offset, count, 16 * 400_000))
        }),
        // Empty records: 3 bytes of JSON each, a whole typed Product (over
        // a kilobyte) once decoded.
        "typed-call" => serve(|_| {
            let records = vec!["{}"; 200_000].join(",");
            (
                200,
                format!(
                    r#"{{"success":1,"data":{{"total_count":200000,"start_offset":0,"data":[{records}]}}}}"#
                )
                .into_bytes(),
            )
        }),
        other => panic!("unknown scenario {other}"),
    }
}

/// What a child does for `scenario` against `url`: the outcome as one line.
#[cfg(feature = "tokio")]
async fn run_scenario<D: Driver>(scenario: &str, url: &str) -> String {
    let client = client::<D>(url);
    match scenario {
        "typed-call" => {
            match client
                .call(&miva_envelope::ProductListLoadQuery::new(ListQuery::new()))
                .await
            {
                Ok(page) => format!("ok {}", page.data.len()),
                Err(e) => format!("error: {e:?} / {e}"),
            }
        }
        "list4" | "list4-objects" => {
            let page_size = if scenario == "list4" { 128 } else { 400_000 };
            let request = RawListQuery::new("ProductList_Load_Query", ListQuery::new());
            let mut n = 0u64;
            let mut failed = None;
            let opts = ListOpts::new().page_size(page_size).concurrency(4);
            client
                .list_each(request, opts, |record| match record {
                    Ok(_) => {
                        n += 1;
                        true
                    }
                    Err(e) => {
                        failed = Some(format!("error after {n} records: {e:?} / {e}"));
                        false
                    }
                })
                .await;
            failed.unwrap_or_else(|| format!("ok {n} records"))
        }
        _ => match client.call_raw("ProductList_Load_Query", &json!({})).await {
            Ok(v) => format!("ok {}", v.as_array().map_or(0, Vec::len)),
            Err(e) => format!("error: {e:?} / {e}"),
        },
    }
}

/// The child's side: runs only when started by `measure`, with the driver
/// it names (on a current-thread runtime either way).
#[cfg(feature = "tokio")]
#[test]
fn child() {
    let Ok(scenario) = std::env::var("MIVA_MEMORY_SCENARIO") else {
        return;
    };
    let url = std::env::var("MIVA_MEMORY_URL").unwrap();
    let outcome = match std::env::var("MIVA_MEMORY_DRIVER").as_deref() {
        Ok("tokio") => driver::block_on(run_scenario::<miva_http::tokio::MivaClient>(
            &scenario, &url,
        )),
        _ => driver::block_on(run_scenario::<miva_http::miva::MivaClient>(&scenario, &url)),
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap();
    println!("\nMEMORY-RESULT {hwm} {outcome}");
}

/// Runs `scenario` in a child with the driver named `driver`; its peak RSS
/// in bytes and its outcome.
fn measure(driver: &str, scenario: &str) -> (u64, String) {
    let server = server_for(scenario);
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("MIVA_MEMORY_SCENARIO", scenario)
        .env("MIVA_MEMORY_DRIVER", driver)
        .env("MIVA_MEMORY_URL", &server.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("MEMORY-RESULT ").map(|(_, rest)| rest))
        .unwrap_or_else(|| {
            panic!(
                "{scenario}: no result: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let (kb, outcome) = line.split_once(' ').unwrap();
    (kb.parse::<u64>().unwrap() * 1024, outcome.to_owned())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(feature = "tokio")]
both! {
    async fn peak_memory_is_bounded_by_the_body_limit_whatever_the_shape<D>() {
        if !std::path::Path::new("/proc/self/status").exists() {
            eprintln!("no /proc: peak memory is not measured on this system");
            return;
        }
        let (baseline, outcome) = measure(D::NAME, "tiny");
        assert_eq!(outcome, "ok 3");
        let bound = baseline + (DECODE_MULTIPLE + 1) * LIMIT;
        for (scenario, expect) in [
            ("zeros", "ResponseTooLarge"),
            ("objects", "ResponseTooLarge"),
            ("nested", "ResponseTooLarge"),
            ("fits", "ok "),
            ("list4", "ok 6144 records"),
            ("list4-objects", "lower the page size or the concurrency"),
            ("typed-call", "ResponseTooLarge"),
        ] {
            let (peak, outcome) = measure(D::NAME, scenario);
            eprintln!(
                "{} {scenario}: peak {:.1} MiB (baseline {:.1}, bound {:.1}): {}",
                D::NAME,
                mib(peak),
                mib(baseline),
                mib(bound),
                &outcome[..outcome.len().min(300)]
            );
            assert!(outcome.contains(expect), "{} {scenario}: {outcome}", D::NAME);
            assert!(
                peak <= bound,
                "{} {scenario}: peak {:.1} MiB is over the bound {:.1} MiB ({} x the {:.0} MiB limit above \
                 the baseline {:.1} MiB)",
                D::NAME,
                mib(peak),
                mib(bound),
                DECODE_MULTIPLE + 1,
                mib(LIMIT),
                mib(baseline)
            );
        }
    }

    async fn integers_past_64_bits_are_refused_naming_the_field<D>() {
        let server = serve(|_| {
            (
                200,
                br#"{"success":1,"data":{"total_count":4,"start_offset":0,"data":[{"id":1},{"id":2},{"id":3},{"id":18446744073709551616}]}}"#
                    .to_vec(),
            )
        });
        let client = client::<D>(&server.url);
        match client.call_raw("ProductList_Load_Query", &json!({})).await {
            Err(Error::InexactInteger { path, message }) => {
                assert_eq!(path, "data.data[3].id");
                assert!(message.contains("18446744073709551616"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let request = RawListQuery::new("ProductList_Load_Query", ListQuery::new());
        let results = client.list_all(request, ListOpts::new()).await;
        let Some(Err(e)) = results.last() else {
            panic!("{results:?}")
        };
        assert!(
            matches!(e.root(), Error::InexactInteger { path, .. } if path == "data.data[3].id"),
            "{e:?}"
        );
    }

    async fn api_offline_on_503_is_its_own_error_and_not_retried<D>() {
        // mmlsk-json.mv 1381-1384: HTTP 503 and JSON_Response_Error('api_offline', ...).
        let server = serve(|_| {
            (
                503,
                br#"{"success":0,"error_code":"api_offline","error_message":"The API is currently offline"}"#
                    .to_vec(),
            )
        });
        let client = D::build(
            D::builder(
                &server.url,
                Credential::token(ApiToken::new("memory-test-token").unwrap()),
            )
            .store_code("MEM")
            .retry(RetryPolicy::new(3).initial_backoff(Duration::from_millis(1))),
        )
        .unwrap();
        let e = client
            .call_raw("ProductList_Load_Query", &json!({}))
            .await
            .unwrap_err();
        let Error::ApiOffline(api) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(api.message, "The API is currently offline");
        assert_eq!(server.hits.load(Ordering::SeqCst), 1, "retried: {e}");
        let text = e.to_string();
        assert!(text.contains("The API is currently offline"), "{text}");
        assert!(text.contains("switched off"), "{text}");
        assert!(e.hint().is_some_and(|h| h.contains("administrator")));
    }

    async fn access_denied_messages_of_the_store_get_their_own_kind<D>() {
        for (message, kind) in [
            (
                "Timestamp requires request signature",
                AccessDenied::SignatureRequired,
            ),
            ("Token is disabled", AccessDenied::TokenDisabled),
        ] {
            let body =
                format!(r#"{{"success":0,"error_code":"access_denied","error_message":"{message}"}}"#);
            let server = serve(move |_| (200, body.clone().into_bytes()));
            match client::<D>(&server.url)
                .call_raw("ProductList_Load_Query", &json!({}))
                .await
            {
                Err(Error::AccessDenied { kind: got, error }) => {
                    assert_eq!(got, kind, "{message}");
                    assert_eq!(error.message, message);
                }
                other => panic!("{message}: {other:?}"),
            }
        }
    }

    async fn list_writes_keep_processed_and_warnings<D>() {
        // JSON_Response_ListProcessed (mmlsk-json.mv 2304-2356).
        let server = serve(|_| {
            (
                200,
                br#"{"success":1,"warnings":[{"identifier":"P9","code":"W","message":"m"}],"processed":2}"#
                    .to_vec(),
            )
        });
        let data = client::<D>(&server.url)
            .call_raw("CouponList_Delete", &json!({"Coupon_IDs": [1, 2]}))
            .await
            .unwrap();
        assert_eq!(data["processed"], 2);
        assert_eq!(data["warnings"][0]["identifier"], "P9");
    }

    async fn an_endless_body_is_cut_off_at_the_limit<D>() {
        // A body with no length that never ends: the call and the export
        // stop reading at the limit, and the connection is dropped (the
        // server's writes fail) instead of read to the end.
        let server = endless();
        let client = client::<D>(&server.url);
        let started = Instant::now();
        match client.call_raw("ProductList_Load_Query", &json!({})).await {
            Err(Error::BodyTooLarge { limit }) => assert_eq!(limit, LIMIT, "{}", D::NAME),
            other => panic!("{}: {other:?}", D::NAME),
        }
        let request = RawListQuery::new("ProductList_Load_Query", ListQuery::new());
        let results = client
            .list_all(request, ListOpts::new().page_size(100).concurrency(2))
            .await;
        assert_eq!(results.len(), 1, "{}: {results:?}", D::NAME);
        let Some(Err(e)) = results.last() else {
            panic!("{results:?}")
        };
        assert!(
            matches!(e, Error::Page { offset: 0, .. }),
            "{}: {e:?}",
            D::NAME
        );
        assert!(
            // Two pages at once: each within a third of the limit.
            matches!(e.root(), Error::ResponseTooLarge { limit, .. } if *limit == LIMIT / 3),
            "{}: {e:?}",
            D::NAME
        );
        drop(client);
        // Every connection the server wrote to was closed by the client
        // (generous timeout: only to avoid a hang).
        while server.open.load(Ordering::SeqCst) > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{}: {} connections still read",
                D::NAME,
                server.open.load(Ordering::SeqCst)
            );
            // Not a thread sleep: the async client's connections are
            // closed by tasks on this runtime.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(server.hits.load(Ordering::SeqCst), 2, "{}", D::NAME);
        // What was written before the writes failed: the limit, plus what
        // the sockets' buffers took; never the endless rest.
        let sent = server.sent.load(Ordering::SeqCst) as u64;
        assert!(sent < 2 * (LIMIT + 32 * 1024 * 1024), "{}: {sent} bytes", D::NAME);
    }
}

both_miravia! {
    async fn miravia_integers_past_64_bits_are_refused<D>() {
        let server = serve(|_| {
            (
                200,
                br#"{"code":"0","request_id":"r1","data":{"item_id":18446744073709551616}}"#.to_vec(),
            )
        });
        let base = server.url.replace("/mm5/json.mvc", "/rest");
        let client = D::build(D::builder(
            miva_http::miravia::Gateway::Custom(base),
            "123456",
            miravia_sign::AppSecret::new("memory-test-secret").unwrap(),
        ))
        .unwrap();
        match client.get("/product/item/get", &[("item_id", "1")]).await {
            Err(Error::InexactInteger { path, .. }) => {
                assert_eq!(path, "data.item_id", "{}", D::NAME);
            }
            other => panic!("{}: {other:?}", D::NAME),
        }
    }
}

#[cfg(feature = "tokio")]
both! {
    async fn html_digits_are_not_numbers<D>() {
        // A 200 HTML page with a long number in its text is undecodable, not
        // an inexact integer.
        let html = serve(|_| {
            (
                200,
                b"<html>error 123456789012345678901234567890</html>".to_vec(),
            )
        });
        match client::<D>(&html.url)
            .call_raw("ProductList_Load_Query", &json!({}))
            .await
        {
            Err(Error::Undecodable { .. }) => {}
            other => panic!("{}: {other:?}", D::NAME),
        }
    }
}

/// A loopback server answering each request (`hits`) with a chunked body
/// that never ends, until a write fails: `open` connections being written
/// to, `sent` body bytes written in all.
struct Endless {
    url: String,
    hits: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    sent: Arc<AtomicUsize>,
}

fn endless() -> Endless {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicUsize::new(0));
    let (h, o, b) = (Arc::clone(&hits), Arc::clone(&open), Arc::clone(&sent));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (h, o, b) = (Arc::clone(&h), Arc::clone(&o), Arc::clone(&b));
            std::thread::spawn(move || {
                let _ = endless_connection(stream, &h, &o, &b);
            });
        }
    });
    Endless {
        url,
        hits,
        open,
        sent,
    }
}

fn endless_connection(
    stream: TcpStream,
    hits: &AtomicUsize,
    open: &AtomicUsize,
    sent: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    if read_request(&mut reader)?.is_none() {
        return Ok(());
    }
    hits.fetch_add(1, Ordering::SeqCst);
    open.fetch_add(1, Ordering::SeqCst);
    let result = (|| {
        stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        )?;
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        stream.write_all(b"6\r\n[1,2,3\r\n")?;
        loop {
            stream.write_all(chunk.as_bytes())?;
            sent.fetch_add(64 * 1024, Ordering::SeqCst);
        }
    })();
    open.fetch_sub(1, Ordering::SeqCst);
    result
}
