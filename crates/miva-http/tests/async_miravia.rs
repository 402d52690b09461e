//! The async `miva_http::tokio::MiraviaClient` over real HTTP on loopback,
//! checked the way `miravia_client.rs` checks the blocking one (the same
//! minimal gateway, copied from there until the suites are folded into one:
//! it parses each request, checks the signature with `miravia_sign::verify`
//! and answers in the platform's shapes), against `miva_mock`'s gateway for
//! the clock-skew retry, plus what only the async client has: many calls
//! on one thread, cancellation by drop, `Send` futures, a `Stream` of pages.

#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_core::Stream;
use miravia_sign::AppSecret;
use miva_http::Error;
use miva_http::miravia::{FilePart, Gateway, Method, PageSpec, Token};
use miva_http::tokio::MiraviaClient;
use miva_mock::ManualClock;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};
use serde_json::{Value, json};
use std::pin::Pin;

const SECRET: &str = "test-secret-not-real";
const APP_KEY: &str = "100001";

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    params: BTreeMap<String, String>,
    files: Vec<(String, Vec<u8>)>,
    content_type: String,
}

struct Gw {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    refreshes: Arc<AtomicUsize>,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn parse_form(s: &str) -> BTreeMap<String, String> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

type Files = Vec<(String, Vec<u8>)>;

fn parse_multipart(ct: &str, body: &[u8]) -> (BTreeMap<String, String>, Files) {
    let boundary = format!("--{}", ct.split("boundary=").nth(1).unwrap());
    let mut params = BTreeMap::new();
    let mut files = Vec::new();
    let text = body;
    let b = boundary.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + b.len() <= text.len() {
        if &text[i..i + b.len()] == b {
            starts.push(i);
            i += b.len();
        } else {
            i += 1;
        }
    }
    for w in starts.windows(2) {
        let part = &text[w[0] + b.len() + 2..w[1] - 2];
        let split = part.windows(4).position(|x| x == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let content = part[split + 4..].to_vec();
        let name = head
            .split("name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        if head.contains("filename=") {
            files.push((name, content));
        } else {
            params.insert(name, String::from_utf8(content).unwrap());
        }
    }
    (params, files)
}

fn gateway(now_ms: u64) -> Gw {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rest", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let (seen2, refreshes2) = (seen.clone(), refreshes.clone());
    std::thread::spawn(move || {
        let secret = AppSecret::new(SECRET).unwrap();
        let secret = Arc::new(secret);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (seen2, refreshes2, secret) = (seen2.clone(), refreshes2.clone(), secret.clone());
            // One thread per connection: clients keep connections alive.
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap().to_owned();
                    let target = parts.next().unwrap().to_owned();
                    let mut length = 0;
                    let mut content_type = String::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        match k.to_ascii_lowercase().as_str() {
                            "content-length" => length = v.trim().parse().unwrap(),
                            "content-type" => content_type = v.trim().to_owned(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                    let api = path.strip_prefix("/rest").unwrap_or("").to_owned();
                    let (mut params, files) = if content_type.starts_with("multipart/") {
                        parse_multipart(&content_type, &body)
                    } else {
                        (parse_form(&String::from_utf8(body).unwrap()), Vec::new())
                    };
                    params.extend(parse_form(query));
                    seen2.lock().unwrap().push(Seen {
                        method,
                        path: api.clone(),
                        params: params.clone(),
                        files,
                        content_type,
                    });
                    let sign = params.get("sign").cloned().unwrap_or_default();
                    let ts: u64 = params
                        .get("timestamp")
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    let reply = if params.get("app_key").map(String::as_str) != Some(APP_KEY) {
                        json!({"type": "ISV", "code": "InvalidAppKey", "message": "Invalid app key", "request_id": "r1"})
                    } else if miravia_sign::verify(&secret, &api, &params, None, &sign).is_err() {
                        json!({"type": "ISV", "code": "IncompleteSignature", "message": "The request signature does not conform to platform standards", "request_id": "r2"})
                    } else if ts.abs_diff(now_ms) > 7_200_000 {
                        json!({"type": "ISV", "code": "InvalidTimestamp", "message": "timestamp out of range", "request_id": "r3"})
                    } else {
                        match api.as_str() {
                            "/seller/get" => {
                                json!({"code": "0", "request_id": "r4", "data": {"name": "Tienda", "seller_id": 7}})
                            }
                            "/auth/token/create" | "/auth/token/refresh" => {
                                let n = refreshes2.fetch_add(1, Ordering::SeqCst);
                                json!({"code": "0", "request_id": "r5", "access_token": format!("access-{n}"),
                                   "refresh_token": format!("refresh-{n}"), "expires_in": 3600,
                                   "refresh_expires_in": 7200, "country": "es"})
                            }
                            "/products/get" => {
                                let offset: usize = params["offset"].parse().unwrap();
                                let limit: usize = params["limit"].parse().unwrap();
                                let items: Vec<Value> = (offset..(offset + limit).min(23))
                                    .map(|i| json!({"item_id": i}))
                                    .collect();
                                json!({"code": "0", "data": {"total_products": 23, "products": items}})
                            }
                            // Every page after a delay (for cancellation).
                            "/slow/products" => {
                                std::thread::sleep(Duration::from_millis(300));
                                let offset: usize = params["offset"].parse().unwrap();
                                let limit: usize = params["limit"].parse().unwrap();
                                let items: Vec<Value> = (offset..(offset + limit).min(23))
                                    .map(|i| json!({"item_id": i}))
                                    .collect();
                                json!({"code": "0", "data": {"total_products": 23, "products": items}})
                            }
                            "/image/upload" => json!({"code": "0", "data": {"bytes": 0}}),
                            // Rate limited twice, then served.
                            "/flaky/limit" => {
                                let n = seen2
                                    .lock()
                                    .unwrap()
                                    .iter()
                                    .filter(|s| s.path == api)
                                    .count();
                                if n <= 2 {
                                    json!({"type": "ISV", "code": "AppCallLimit", "message": "call limit exceeded", "request_id": "r8"})
                                } else {
                                    json!({"code": "0", "data": {"attempt": n}})
                                }
                            }
                            "/flaky/system" => {
                                json!({"type": "SYSTEM", "code": "ServiceTimeout", "message": "try again later", "request_id": "r9"})
                            }
                            "/needs/token" if !params.contains_key("access_token") => {
                                json!({"type": "ISV", "code": "MissingAccessToken", "message": "no token"})
                            }
                            "/needs/token" => {
                                json!({"code": "0", "data": {"token": params["access_token"]}})
                            }
                            _ => {
                                json!({"type": "ISV", "code": "InvalidApi", "message": "no such api", "request_id": "r6"})
                            }
                        }
                    };
                    let body = reply.to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    Gw {
        url,
        seen,
        refreshes,
    }
}

const NOW_MS: u64 = 1_700_000_000_000;

fn fixed_clock() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(NOW_MS)
}

fn client(gw: &Gw) -> miva_http::miravia::MiraviaClientBuilder<MiraviaClient> {
    MiraviaClient::builder(
        Gateway::Custom(gw.url.clone()),
        APP_KEY,
        AppSecret::new(SECRET).unwrap(),
    )
    .clock(fixed_clock)
}

fn calls_to(gw: &Gw, path: &str) -> usize {
    gw.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == path)
        .count()
}

fn fast_retries(n: u32) -> miva_http::RetryPolicy {
    miva_http::RetryPolicy::new(n)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

/// The next item of a stream (no futures-util needed).
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// Every item of a stream, to its end.
async fn collect<S: Stream + Unpin>(mut stream: S) -> Vec<S::Item> {
    let mut items = Vec::new();
    while let Some(item) = next(&mut stream).await {
        items.push(item);
    }
    items
}

#[tokio::test]
async fn get_and_post_are_signed_and_decoded() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).access_token("tok").build().unwrap();
    let seller = c
        .get(
            "/seller/get",
            &[("filter", "a b&c=d+e%20f ñ"), ("empty", "")],
        )
        .await
        .unwrap();
    assert_eq!(seller["data"]["name"], "Tienda");
    let seller = c.post("/seller/get", &[("filter", "ñ")]).await.unwrap();
    assert_eq!(seller["data"]["seller_id"], 7);
    let seen = gw.seen.lock().unwrap().clone();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].params["filter"], "a b&c=d+e%20f ñ");
    assert!(
        !seen[0].params.contains_key("empty"),
        "empty values are not sent"
    );
    assert_eq!(seen[0].params["timestamp"], NOW_MS.to_string());
    assert_eq!(seen[0].params["sign_method"], "sha256");
    assert_eq!(seen[0].params["access_token"], "tok");
    assert_eq!(
        seen[0].params["partner_id"],
        miva_http::miravia::DEFAULT_PARTNER_ID
    );
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].content_type, "application/x-www-form-urlencoded");
}

#[tokio::test]
async fn multipart_files_are_sent_but_not_signed() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).access_token("tok").build().unwrap();
    let image: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let file = FilePart::new("image", "a.jpg", image.clone());
    c.call(
        Method::Post,
        "/image/upload",
        &[("note", "x")],
        std::slice::from_ref(&file),
    )
    .await
    .unwrap();
    let seen = gw.seen.lock().unwrap().clone();
    assert!(
        seen[0]
            .content_type
            .starts_with("multipart/form-data; boundary=")
    );
    assert_eq!(seen[0].files, vec![("image".to_owned(), image)]);
    assert_eq!(seen[0].params["note"], "x");
    let err = c
        .call(Method::Get, "/image/upload", &[], &[file])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert_eq!(calls_to(&gw, "/image/upload"), 1, "refused before sending");
}

#[tokio::test]
async fn platform_errors_are_typed() {
    let gw = gateway(NOW_MS);
    let wrong = MiraviaClient::builder(
        Gateway::Custom(gw.url.clone()),
        APP_KEY,
        AppSecret::new("other").unwrap(),
    )
    .clock(fixed_clock)
    .build()
    .unwrap();
    match wrong.get("/seller/get", &[]).await.unwrap_err() {
        Error::Miravia(e) => {
            assert_eq!(e.code, "IncompleteSignature");
            assert_eq!(e.error_type.as_deref(), Some("ISV"));
            assert_eq!(e.request_id.as_deref(), Some("r2"));
        }
        other => panic!("{other}"),
    }
    let c = client(&gw).build().unwrap();
    match c.get("/nope", &[]).await.unwrap_err() {
        Error::Miravia(e) => assert_eq!(e.code, "InvalidApi"),
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn app_call_limit_is_retried_when_a_policy_is_set() {
    let gw = gateway(NOW_MS);
    let plain = client(&gw).build().unwrap();
    let error = plain.get("/flaky/limit", &[]).await.unwrap_err();
    assert!(error.is_rate_limited(), "{error}");
    assert_eq!(calls_to(&gw, "/flaky/limit"), 1, "no policy, no retry");
    let gw = gateway(NOW_MS);
    let retrying = client(&gw).retry(fast_retries(3)).build().unwrap();
    let answer = retrying.get("/flaky/limit", &[]).await.unwrap();
    assert_eq!(answer["data"]["attempt"], 3);
    let seen = gw.seen.lock().unwrap();
    assert!(seen.iter().all(|s| s.params.contains_key("sign")));
}

#[tokio::test]
async fn system_errors_are_retried_for_get_only() {
    let gw = gateway(NOW_MS);
    let client = client(&gw).retry(fast_retries(2)).build().unwrap();
    assert!(client.get("/flaky/system", &[]).await.is_err());
    assert_eq!(calls_to(&gw, "/flaky/system"), 3);
    assert!(
        client
            .post("/flaky/system", &[("payload", "{}")])
            .await
            .is_err()
    );
    assert_eq!(calls_to(&gw, "/flaky/system"), 4, "a POST is sent once");
}

#[tokio::test]
async fn a_refused_timestamp_is_corrected_from_the_date_header_once() {
    // miva_mock's gateway, as crates/miva-mock/tests/miravia.rs uses it.
    const NOW: i64 = 1_700_000_000;
    const TOKEN: &str = "mock-access-token";
    let gw = MiraviaGateway::start(
        MiraviaConfig::new(APP_KEY, AppSecret::new(SECRET).unwrap())
            .with_access_token(TOKEN)
            .with_clock(Arc::new(ManualClock::new(NOW))),
    )
    .unwrap();
    let clock = || SystemTime::UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs());
    let late = MiraviaClient::builder(
        Gateway::Custom(gw.url().to_owned()),
        APP_KEY,
        AppSecret::new(SECRET).unwrap(),
    )
    .access_token(TOKEN)
    .clock(move || clock() + Duration::from_secs(7201))
    .build()
    .unwrap();
    assert_eq!(late.clock_offset_ms(), 0);
    assert!(late.get("/seller/get", &[]).await.is_ok());
    assert_eq!(late.clock_offset_ms(), -7_201_000);
    // A clock that keeps running away is refused after the one retry.
    let readings = Arc::new(AtomicUsize::new(0));
    let drifting = MiraviaClient::builder(
        Gateway::Custom(gw.url().to_owned()),
        APP_KEY,
        AppSecret::new(SECRET).unwrap(),
    )
    .access_token(TOKEN)
    .clock(move || {
        let n = readings.fetch_add(1, Ordering::Relaxed) as u64 + 1;
        clock() + Duration::from_secs(3 * 3600 * n)
    })
    .build()
    .unwrap();
    match drifting.get("/seller/get", &[]).await.unwrap_err() {
        Error::Miravia(e) => assert_eq!(e.code, "InvalidTimestamp"),
        other => panic!("{other}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn fifty_concurrent_calls_on_one_thread_refresh_the_token_exactly_once() {
    let gw = gateway(NOW_MS);
    let refreshed = Arc::new(Mutex::new(Vec::new()));
    let record = refreshed.clone();
    let expiring = Token::new(
        "old",
        Some("refresh-old"),
        Some(fixed_clock() + Duration::from_secs(60)),
    );
    let c = client(&gw)
        .token(expiring)
        .auto_refresh(Duration::from_secs(300))
        .on_refresh(move |t| {
            record.lock().unwrap().push((
                t.access_token().to_owned(),
                t.refresh_token().map(str::to_owned),
                t.expires_at,
            ))
        })
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get("/needs/token", &[]).await })
        })
        .collect();
    for task in tasks {
        let answer = task.await.unwrap().unwrap();
        assert_eq!(answer["data"]["token"], "access-0");
    }
    assert_eq!(gw.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(calls_to(&gw, "/auth/token/refresh"), 1);
    assert_eq!(calls_to(&gw, "/needs/token"), 50);
    // The callback got the new token, once.
    assert_eq!(
        *refreshed.lock().unwrap(),
        [(
            "access-0".to_owned(),
            Some("refresh-0".to_owned()),
            Some(fixed_clock() + Duration::from_secs(3600))
        )]
    );
    assert_eq!(c.token().unwrap().access_token(), "access-0");
    assert_eq!(
        c.token().unwrap().refresh_expires_at,
        Some(fixed_clock() + Duration::from_secs(7200))
    );
    // An explicit refresh is reported too (not installed).
    let explicit = c.refresh_token("refresh-0").await.unwrap();
    assert_eq!(explicit.access_token(), "access-1");
    assert_eq!(refreshed.lock().unwrap().len(), 2);
    assert_eq!(c.token().unwrap().access_token(), "access-0");
}

#[tokio::test(flavor = "current_thread")]
async fn an_expired_token_that_cannot_be_refreshed_is_never_sent() {
    let gw = gateway(NOW_MS);
    let dead = Token::new(
        "dead-access",
        Some("dead-refresh"),
        Some(fixed_clock() - Duration::from_secs(10)),
    )
    .with_refresh_expires_at(Some(fixed_clock() - Duration::from_secs(5)));
    let c = client(&gw)
        .token(dead)
        .auto_refresh(Duration::from_secs(300))
        .build()
        .unwrap();
    let error = c.get("/needs/token", &[]).await.unwrap_err();
    let Error::Config(message) = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains("authorize the app again"), "{message}");
    assert!(!message.contains("dead-"), "{message}");
    assert!(gw.seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn pagination_streams_every_record_once_in_order() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).build().unwrap();
    for page_size in [1, 5, 10, 23, 50] {
        let pages = c.paginate(
            "/products/get",
            &[("filter", "live")],
            PageSpec::products(),
            page_size,
        );
        let ids: Vec<u64> = collect(pages)
            .await
            .into_iter()
            .map(|r| r.unwrap()["item_id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, (0..23).collect::<Vec<_>>(), "page size {page_size}");
    }
}

/// A gateway whose every `/products/get` page is the first (it ignores
/// `offset`), as paging.rs's hostile gateway.
fn repeating_gateway() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rest", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        if h.trim_end().is_empty() {
                            break;
                        }
                    }
                    let products: Vec<Value> = (0..10).map(|i| json!({"item_id": i})).collect();
                    let body =
                        json!({"code": "0", "data": {"products": products, "total_products": 40}})
                            .to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_gateway_that_ignores_offset_ends_the_stream_with_a_page_error() {
    let url = repeating_gateway();
    let c = MiraviaClient::builder(
        Gateway::Custom(url),
        APP_KEY,
        AppSecret::new(SECRET).unwrap(),
    )
    .build()
    .unwrap();
    let items = collect(c.paginate("/products/get", &[], PageSpec::products(), 10)).await;
    assert_eq!(items.len(), 11, "10 records, then the error, then the end");
    for (i, item) in items[..10].iter().enumerate() {
        assert_eq!(item.as_ref().unwrap()["item_id"], i);
    }
    let error = items[10].as_ref().unwrap_err();
    let Error::Page {
        function, offset, ..
    } = error
    else {
        panic!("{error:?}")
    };
    assert_eq!((function.as_str(), *offset), ("/products/get", 10));
    let Error::Pagination { reason, .. } = error.root() else {
        panic!("{:?}", error.root())
    };
    assert!(reason.contains("same records"), "{reason}");
    // The page cap, as the blocking pager.
    let gw = gateway(NOW_MS);
    let c = client(&gw).build().unwrap();
    let capped =
        collect(c.paginate("/products/get", &[], PageSpec::products().max_pages(2), 5)).await;
    assert_eq!(capped.len(), 11);
    assert!(
        capped[10]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("2 pages")
    );
}

#[tokio::test]
async fn dropping_the_stream_mid_export_stops_its_requests() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).build().unwrap();
    let mut pages = c.paginate("/slow/products", &[], PageSpec::products(), 5);
    for i in 0..5u64 {
        let item = next(&mut pages).await.unwrap().unwrap();
        assert_eq!(item["item_id"], i);
    }
    // The second page is asked for, and the stream dropped while it is in
    // flight (the gateway takes 300 ms per page).
    let pending = tokio::time::timeout(Duration::from_millis(100), next(&mut pages)).await;
    assert!(pending.is_err(), "the second page was still in flight");
    drop(pages);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        calls_to(&gw, "/slow/products"),
        2,
        "no page after the one in flight when the stream was dropped"
    );
}

#[tokio::test]
async fn a_stream_consumed_slowly_holds_one_page_and_asks_for_no_more() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).build().unwrap();
    let mut pages = c.paginate("/products/get", &[], PageSpec::products(), 5);
    assert_eq!(next(&mut pages).await.unwrap().unwrap()["item_id"], 0);
    // Not polled for a while: nothing more is fetched meanwhile.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(calls_to(&gw, "/products/get"), 1);
    for i in 1..5u64 {
        assert_eq!(next(&mut pages).await.unwrap().unwrap()["item_id"], i);
    }
    assert_eq!(
        calls_to(&gw, "/products/get"),
        1,
        "the page is served from memory"
    );
    assert_eq!(next(&mut pages).await.unwrap().unwrap()["item_id"], 5);
    assert_eq!(calls_to(&gw, "/products/get"), 2);
}

#[test]
fn futures_and_streams_are_send_and_the_client_is_clone_send_sync() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_client<T: Clone + Send + Sync + 'static>(_: &T) {}
    let gw = gateway(NOW_MS);
    let c = client(&gw).build().unwrap();
    assert_client(&c);
    assert_send(&c.get("/seller/get", &[]));
    assert_send(&c.post("/seller/get", &[]));
    assert_send(&c.call(Method::Get, "/seller/get", &[], &[]));
    assert_send(&c.create_token("code"));
    assert_send(&c.refresh_token("refresh"));
    let pages = c.paginate("/products/get", &[], PageSpec::products(), 5);
    assert_send(&pages);
    fn assert_stream<S: Stream<Item = Result<Value, Error>> + Send + 'static>(_: &S) {}
    assert_stream(&pages);
}
