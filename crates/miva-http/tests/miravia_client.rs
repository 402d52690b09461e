//! MiraviaClient over real HTTP on loopback, against a minimal gateway
//! written here: it parses each request, checks the signature with
//! `miravia_sign::verify` and answers in the platform's shapes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use miravia_sign::AppSecret;
use miva_http::Error;
use miva_http::miravia::{FilePart, Gateway, Method, MiraviaClient, PageSpec, Token};
use serde_json::{Value, json};

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

fn client(gw: &Gw) -> miva_http::miravia::MiraviaClientBuilder {
    MiraviaClient::builder(
        Gateway::Custom(gw.url.clone()),
        APP_KEY,
        AppSecret::new(SECRET).unwrap(),
    )
    .clock(fixed_clock)
}

#[test]
fn get_and_post_are_signed_and_decoded() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).access_token("tok").build().unwrap();
    let seller = c
        .get(
            "/seller/get",
            &[("filter", "a b&c=d+e%20f ñ"), ("empty", "")],
        )
        .unwrap();
    assert_eq!(seller["data"]["name"], "Tienda");
    let seller = c.post("/seller/get", &[("filter", "ñ")]).unwrap();
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

#[test]
fn multipart_files_are_sent_but_not_signed() {
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
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
}

#[test]
fn platform_errors_are_typed() {
    let gw = gateway(NOW_MS);
    let wrong = MiraviaClient::builder(
        Gateway::Custom(gw.url.clone()),
        APP_KEY,
        AppSecret::new("other").unwrap(),
    )
    .clock(fixed_clock)
    .build()
    .unwrap();
    match wrong.get("/seller/get", &[]).unwrap_err() {
        Error::Miravia(e) => {
            assert_eq!(e.code, "IncompleteSignature");
            assert_eq!(e.error_type.as_deref(), Some("ISV"));
            assert_eq!(e.request_id.as_deref(), Some("r2"));
            assert_eq!(
                e.to_string(),
                "IncompleteSignature: The request signature does not conform to platform standards (r2)"
            );
        }
        other => panic!("{other}"),
    }
    let c = client(&gw).build().unwrap();
    match c.get("/nope", &[]).unwrap_err() {
        Error::Miravia(e) => assert_eq!(e.code, "InvalidApi"),
        other => panic!("{other}"),
    }
    let late = client(&gw)
        .clock(|| fixed_clock() + Duration::from_secs(7300))
        .build()
        .unwrap();
    match late.get("/seller/get", &[]).unwrap_err() {
        Error::Miravia(e) => assert_eq!(e.code, "InvalidTimestamp"),
        other => panic!("{other}"),
    }
}

#[test]
fn tokens_create_refresh_and_auto_refresh_once() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).build().unwrap();
    let token = c.create_token("auth-code").unwrap();
    assert_eq!(token.access_token(), "access-0");
    assert_eq!(token.refresh_token(), Some("refresh-0"));
    assert_eq!(
        token.expires_at,
        Some(fixed_clock() + Duration::from_secs(3600))
    );
    assert_eq!(token.details["country"], "es");
    assert!(!format!("{token:?}").contains("access-0"));
    let seen = gw.seen.lock().unwrap().clone();
    assert_eq!(seen[0].path, "/auth/token/create");
    assert_eq!(seen[0].params["code"], "auth-code");
    assert!(!seen[0].params.contains_key("access_token"));

    // A token about to expire is refreshed once, whatever the number of threads.
    let expiring = Token::new(
        "old",
        Some("refresh-old"),
        Some(fixed_clock() + Duration::from_secs(60)),
    );
    let c = client(&gw)
        .token(expiring)
        .auto_refresh(Duration::from_secs(300))
        .build()
        .unwrap();
    let before = gw.refreshes.load(Ordering::SeqCst);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || c.get("/needs/token", &[]).unwrap())
        })
        .collect();
    for h in handles {
        let answer = h.join().unwrap();
        assert_eq!(answer["data"]["token"], format!("access-{before}"));
    }
    assert_eq!(gw.refreshes.load(Ordering::SeqCst), before + 1);
    let refresh_call = gw
        .seen
        .lock()
        .unwrap()
        .iter()
        .find(|s| s.path == "/auth/token/refresh")
        .cloned()
        .unwrap();
    assert_eq!(refresh_call.params["refresh_token"], "refresh-old");
}

#[test]
fn pagination_yields_every_record_once_in_order() {
    let gw = gateway(NOW_MS);
    let c = client(&gw).build().unwrap();
    for page_size in [1, 5, 10, 23, 50] {
        let ids: Vec<u64> = c
            .paginate(
                "/products/get",
                &[("filter", "live")],
                PageSpec::products(),
                page_size,
            )
            .map(|r| r.unwrap()["item_id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, (0..23).collect::<Vec<_>>(), "page size {page_size}");
    }
}

#[test]
fn plain_http_is_refused_off_loopback_and_secrets_stay_out_of_debug() {
    let err = MiraviaClient::builder(
        Gateway::Custom("http://api.example.com/rest".into()),
        APP_KEY,
        AppSecret::new(SECRET).unwrap(),
    )
    .build()
    .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let gw = gateway(NOW_MS);
    let c = client(&gw)
        .access_token("very-secret-token")
        .build()
        .unwrap();
    let shown = format!("{c:?} {:?}", c.token());
    assert!(
        !shown.contains("very-secret-token") && !shown.contains(SECRET),
        "{shown}"
    );
    assert_eq!(Gateway::MiraviaEs.base_url(), "https://api.miravia.es/rest");
    assert_eq!(Gateway::LazadaTh.token_gateway(), Gateway::LazadaAuth);
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

#[test]
fn app_call_limit_is_retried_when_a_policy_is_set() {
    let gw = gateway(NOW_MS);
    let plain = client(&gw).build().unwrap();
    match plain.get("/flaky/limit", &[]) {
        Err(miva_http::Error::Miravia(e)) => assert_eq!(e.code, "AppCallLimit"),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls_to(&gw, "/flaky/limit"), 1, "no policy, no retry");
    let gw = gateway(NOW_MS);
    let retrying = client(&gw).retry(fast_retries(3)).build().unwrap();
    let answer = retrying.get("/flaky/limit", &[]).unwrap();
    assert_eq!(answer["data"]["attempt"], 3);
    // Each attempt was signed on its own.
    let seen = gw.seen.lock().unwrap();
    assert!(seen.iter().all(|s| s.params.contains_key("sign")));
}

#[test]
fn system_errors_are_retried_for_get_only() {
    let gw = gateway(NOW_MS);
    let client = client(&gw).retry(fast_retries(2)).build().unwrap();
    match client.get("/flaky/system", &[]) {
        Err(miva_http::Error::Miravia(e)) => {
            assert_eq!(e.error_type.as_deref(), Some("SYSTEM"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        calls_to(&gw, "/flaky/system"),
        3,
        "the first and two retries"
    );
    // A POST may have written something: sent once.
    assert!(client.post("/flaky/system", &[("payload", "{}")]).is_err());
    assert_eq!(calls_to(&gw, "/flaky/system"), 4);
    // A signature error is never retried.
    let wrong = MiraviaClient::builder(
        Gateway::Custom(gw.url.clone()),
        APP_KEY,
        AppSecret::new("another-secret").unwrap(),
    )
    .clock(fixed_clock)
    .retry(fast_retries(2))
    .build()
    .unwrap();
    assert!(wrong.get("/seller/get", &[]).is_err());
    assert_eq!(calls_to(&gw, "/seller/get"), 1);
}
