//! One harness for both Miravia clients: the [`Driver`] trait over the
//! blocking `miva_http::miravia::MiraviaClient` and the async
//! `miva_http::tokio::MiraviaClient`, the [`both!`] macro that runs one
//! test body on each, and the loopback gateway the tests talk to (a
//! minimal gateway written here: it parses each request, checks the
//! signature with `miravia_sign::verify` and answers in the platform's
//! shapes).
//!
//! Included by a test file with
//! `#[path = "common/miravia_driver.rs"] #[macro_use] mod driver;`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use miravia_sign::AppSecret;
use miva_http::Error;
use miva_http::miravia::{FilePart, Gateway, Method, MiraviaClientBuilder, PageSpec, Token};
use serde_json::{Value, json};

/// A client driven the same way whatever its I/O: every call is a future
/// (the blocking client's completes on its first poll).
#[allow(dead_code)] // async_miravia.rs uses the gateway only
pub(crate) trait Driver: Sized + Clone + Send + Sync + std::fmt::Debug + 'static {
    /// `"blocking"` or `"tokio"`.
    const NAME: &'static str;
    fn builder(gateway: Gateway, app_key: &str, secret: AppSecret) -> MiraviaClientBuilder<Self>;
    fn build(builder: MiraviaClientBuilder<Self>) -> Result<Self, Error>;
    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, Error>;
    async fn post(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, Error>;
    async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        files: &[FilePart],
    ) -> Result<Value, Error>;
    async fn create_token(&self, code: &str) -> Result<Token, Error>;
    async fn refresh_token(&self, refresh_token: &str) -> Result<Token, Error>;
    fn token(&self) -> Option<Token>;
    fn set_token(&self, token: Option<Token>);
    fn clock_offset_ms(&self) -> i64;
    /// Every item of `paginate` (with `deadline` if given, and
    /// `concurrency` pages in flight), to its end.
    async fn paginate_all(
        &self,
        path: &str,
        params: &[(&str, &str)],
        spec: PageSpec,
        page_size: u32,
        deadline: Option<Duration>,
        concurrency: usize,
    ) -> Vec<Result<Value, Error>>;
}

/// More items than any test's export has: paging that runs away.
#[allow(dead_code)]
const RUNAWAY: usize = 10_000;

impl Driver for miva_http::miravia::MiraviaClient {
    const NAME: &'static str = "blocking";

    fn builder(gateway: Gateway, app_key: &str, secret: AppSecret) -> MiraviaClientBuilder<Self> {
        miva_http::miravia::MiraviaClient::builder(gateway, app_key, secret)
    }

    fn build(builder: MiraviaClientBuilder<Self>) -> Result<Self, Error> {
        builder.build()
    }

    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        miva_http::miravia::MiraviaClient::get(self, path, params)
    }

    async fn post(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        miva_http::miravia::MiraviaClient::post(self, path, params)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        files: &[FilePart],
    ) -> Result<Value, Error> {
        miva_http::miravia::MiraviaClient::call(self, method, path, params, files)
    }

    async fn create_token(&self, code: &str) -> Result<Token, Error> {
        miva_http::miravia::MiraviaClient::create_token(self, code)
    }

    async fn refresh_token(&self, refresh_token: &str) -> Result<Token, Error> {
        miva_http::miravia::MiraviaClient::refresh_token(self, refresh_token)
    }

    fn token(&self) -> Option<Token> {
        miva_http::miravia::MiraviaClient::token(self)
    }

    fn set_token(&self, token: Option<Token>) {
        miva_http::miravia::MiraviaClient::set_token(self, token);
    }

    fn clock_offset_ms(&self) -> i64 {
        miva_http::miravia::MiraviaClient::clock_offset_ms(self)
    }

    async fn paginate_all(
        &self,
        path: &str,
        params: &[(&str, &str)],
        spec: PageSpec,
        page_size: u32,
        deadline: Option<Duration>,
        concurrency: usize,
    ) -> Vec<Result<Value, Error>> {
        let mut pages =
            miva_http::miravia::MiraviaClient::paginate(self, path, params, spec, page_size)
                .concurrency(concurrency);
        if let Some(limit) = deadline {
            pages = pages.deadline(limit);
        }
        let mut items = Vec::new();
        for item in pages {
            items.push(item);
            assert!(items.len() < RUNAWAY, "runaway paging");
        }
        items
    }
}

#[cfg(feature = "tokio")]
impl Driver for miva_http::tokio::MiraviaClient {
    const NAME: &'static str = "tokio";

    fn builder(gateway: Gateway, app_key: &str, secret: AppSecret) -> MiraviaClientBuilder<Self> {
        miva_http::tokio::MiraviaClient::builder(gateway, app_key, secret)
    }

    fn build(builder: MiraviaClientBuilder<Self>) -> Result<Self, Error> {
        builder.build()
    }

    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        miva_http::tokio::MiraviaClient::get(self, path, params).await
    }

    async fn post(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        miva_http::tokio::MiraviaClient::post(self, path, params).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        files: &[FilePart],
    ) -> Result<Value, Error> {
        miva_http::tokio::MiraviaClient::call(self, method, path, params, files).await
    }

    async fn create_token(&self, code: &str) -> Result<Token, Error> {
        miva_http::tokio::MiraviaClient::create_token(self, code).await
    }

    async fn refresh_token(&self, refresh_token: &str) -> Result<Token, Error> {
        miva_http::tokio::MiraviaClient::refresh_token(self, refresh_token).await
    }

    fn token(&self) -> Option<Token> {
        miva_http::tokio::MiraviaClient::token(self)
    }

    fn set_token(&self, token: Option<Token>) {
        miva_http::tokio::MiraviaClient::set_token(self, token);
    }

    fn clock_offset_ms(&self) -> i64 {
        miva_http::tokio::MiraviaClient::clock_offset_ms(self)
    }

    async fn paginate_all(
        &self,
        path: &str,
        params: &[(&str, &str)],
        spec: PageSpec,
        page_size: u32,
        deadline: Option<Duration>,
        concurrency: usize,
    ) -> Vec<Result<Value, Error>> {
        let mut pages =
            miva_http::tokio::MiraviaClient::paginate(self, path, params, spec, page_size)
                .concurrency(concurrency);
        if let Some(limit) = deadline {
            pages = pages.deadline(limit);
        }
        let mut items = Vec::new();
        while let Some(item) = next(&mut pages).await {
            items.push(item);
            assert!(items.len() < RUNAWAY, "runaway paging");
        }
        items
    }
}

/// The next item of a stream (no futures-util needed).
#[cfg(feature = "tokio")]
pub(crate) async fn next<S: futures_core::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// `both_miravia! { async fn name<D>() { body } }` (one or more such functions,
/// each with its attributes and doc comments) expands each to a module
/// `name` with `async fn run<D: Driver>()` holding the body and two tests
/// running it, `blocking` (on a current-thread runtime, so the body may
/// await) and `tokio`: `cargo test name::` runs both, and a failure names
/// the driver.
#[allow(unused_macros)]
macro_rules! both_miravia {
    ($($(#[$meta:meta])* async fn $name:ident<$d:ident>() $body:block)*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use crate::miravia_driver::Driver as _;

            async fn run<$d: crate::miravia_driver::Driver>() $body

            #[test]
            fn blocking() {
                ::tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(run::<::miva_http::miravia::MiraviaClient>());
            }

            #[cfg(feature = "tokio")]
            #[::tokio::test]
            async fn tokio() {
                run::<::miva_http::tokio::MiraviaClient>().await;
            }
        }
    )*};
}

// ------------------------------------------------------------- the gateway

pub(crate) const SECRET: &str = "test-secret-not-real";
pub(crate) const APP_KEY: &str = "100001";
/// The gateway's and the clients' fixed clock.
pub(crate) const NOW_MS: u64 = 1_700_000_000_000;

pub(crate) fn fixed_clock() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(NOW_MS)
}

/// One request as the gateway saw it.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) params: BTreeMap<String, String>,
    pub(crate) files: Vec<(String, Vec<u8>)>,
    pub(crate) content_type: String,
}

/// A running gateway: its base URL, every request it saw, how many tokens
/// it issued (created or refreshed), and the most requests it was ever
/// answering at once.
pub(crate) struct Gw {
    pub(crate) url: String,
    pub(crate) seen: Arc<Mutex<Vec<Seen>>>,
    pub(crate) refreshes: Arc<AtomicUsize>,
    pub(crate) max_in_flight: Arc<AtomicUsize>,
}

/// A builder for `gw` with the app key, the secret and the fixed clock.
pub(crate) fn client<D: Driver>(gw: &Gw) -> MiraviaClientBuilder<D> {
    D::builder(
        Gateway::Custom(gw.url.clone()),
        APP_KEY,
        AppSecret::new(SECRET).unwrap(),
    )
    .clock(fixed_clock)
}

/// How many requests `gw` saw for `path`.
pub(crate) fn calls_to(gw: &Gw, path: &str) -> usize {
    gw.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == path)
        .count()
}

#[allow(dead_code)]
pub(crate) fn fast_retries(n: u32) -> miva_http::RetryPolicy {
    miva_http::RetryPolicy::new(n)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
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

/// `/products/get`'s page for `offset` and `limit` of 23 products.
fn products_page(params: &BTreeMap<String, String>) -> Value {
    let offset: usize = params["offset"].parse().unwrap();
    let limit: usize = params["limit"].parse().unwrap();
    let items: Vec<Value> = (offset..(offset + limit).min(23))
        .map(|i| json!({"item_id": i}))
        .collect();
    json!({"code": "0", "data": {"total_products": 23, "products": items}})
}

/// The page's offset.
fn offset_of(params: &BTreeMap<String, String>) -> u64 {
    params["offset"].parse().unwrap()
}

/// The gateway, on std threads (one per connection: clients keep
/// connections alive), whose clock reads `now_ms`. It serves on its own
/// threads, so a blocking client on a runtime's thread never starves it.
pub(crate) fn gateway(now_ms: u64) -> Gw {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rest", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let (seen2, refreshes2, max2) = (seen.clone(), refreshes.clone(), max_in_flight.clone());
    let answering = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        let secret = AppSecret::new(SECRET).unwrap();
        let secret = Arc::new(secret);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (seen2, refreshes2, secret) = (seen2.clone(), refreshes2.clone(), secret.clone());
            let (max2, answering) = (max2.clone(), answering.clone());
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
                    // Answering this one (until its reply is written).
                    let now = answering.fetch_add(1, Ordering::SeqCst) + 1;
                    max2.fetch_max(now, Ordering::SeqCst);
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
                            "/products/get" => products_page(&params),
                            // Every page after a delay (for cancellation).
                            "/slow/products" => {
                                std::thread::sleep(Duration::from_millis(300));
                                products_page(&params)
                            }
                            // Each page after 50 ms (to see pages in flight).
                            "/counted/products" => {
                                std::thread::sleep(Duration::from_millis(50));
                                products_page(&params)
                            }
                            // Later pages answer sooner: out of order.
                            "/shuffled/products" => {
                                let wait = 200u64.saturating_sub(10 * offset_of(&params));
                                std::thread::sleep(Duration::from_millis(wait));
                                products_page(&params)
                            }
                            // The page at offset 10 fails (later ones first).
                            "/failing/products" if offset_of(&params) == 10 => {
                                std::thread::sleep(Duration::from_millis(100));
                                json!({"type": "ISV", "code": "InvalidOffset", "message": "page refused", "request_id": "r10"})
                            }
                            "/failing/products" => products_page(&params),
                            // No total: paged to the first short page.
                            "/untotalled/products" => {
                                std::thread::sleep(Duration::from_millis(20));
                                let mut page = products_page(&params);
                                page["data"]
                                    .as_object_mut()
                                    .unwrap()
                                    .remove("total_products");
                                page
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
                    // Done before the reply goes out: a client sending its
                    // next request on reading it is not counted as two.
                    answering.fetch_sub(1, Ordering::SeqCst);
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
        max_in_flight,
    }
}

/// A gateway whose every `/products/get` page is the first (it ignores
/// `offset`), as paging.rs's hostile gateway: its base URL.
#[allow(dead_code)]
pub(crate) fn repeating_gateway() -> String {
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
