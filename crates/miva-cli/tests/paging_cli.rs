//! `miva list` and `miva call` against hostile stores on loopback: a store
//! that ignores `Offset` makes the export fail (exit 2) after the records it
//! delivered once, at any concurrency; `--concurrency` above the maximum is
//! a clear error, not a panic; `--deadline` bounds a whole export, call or
//! multicall, and `miva multicall` sends `X-Miva-API-Timeout`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

// Fake test credentials (not a real store's).
const TOKEN: &str = "00000000000000000000000000c1e001";
const KEY: &str = "ZmFrZS1zaWduaW5nLWtleS1mb3ItY2xpLXRlc3RzLTAwMDA";

/// Status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, String);
type Handler = Arc<dyn Fn(&Value, &HashMap<String, String>) -> Answer + Send + Sync>;

/// A store on loopback answering each request body with `handler`; its URL.
fn store(handler: impl Fn(&Value) -> String + Send + Sync + 'static) -> String {
    store_with_headers(move |body, _| (200, vec![], handler(body)))
}

/// A store answering each request (body, lower-case headers) with `handler`.
fn store_with_headers(
    handler: impl Fn(&Value, &HashMap<String, String>) -> Answer + Send + Sync + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let handler: Handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || serve(stream, &handler));
        }
    });
    url
}

fn serve(stream: TcpStream, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut headers = HashMap::new();
        let mut first = true;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" && !first {
                break;
            }
            first = false;
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
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (status, extra, answer) = handler(&body, &headers);
        let mut out = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            answer.len()
        );
        for (k, v) in extra {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&answer);
        if stream.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

/// A list page of products `ids`, claiming `start` and `total`.
fn page(total: u64, start: u64, ids: impl Iterator<Item = u64>) -> String {
    let data: Vec<Value> = ids.map(|id| json!({"id": id})).collect();
    json!({"success": 1, "data": {"total_count": total, "start_offset": start, "data": data}})
        .to_string()
}

fn miva(url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_miva"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("MIVA_") || name.starts_with("MIRAVIA_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.env("MIVA_ENDPOINT", url)
        .env("MIVA_STORE_CODE", "CLI")
        .env("MIVA_API_TOKEN", TOKEN)
        .env("MIVA_SIGNING_KEY", KEY);
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_store_that_ignores_offset_fails_the_export_after_the_first_page() {
    // Always the first 10 of 30: before, exit 0 with 30 lines, 10 unique.
    let url = store(|body| {
        let count = body["Count"].as_u64().unwrap_or(10);
        page(30, 0, 1..=count)
    });
    for concurrency in ["1", "4"] {
        let out = miva(
            &url,
            &[
                "list",
                "ProductList_Load_Query",
                "--page-size",
                "10",
                "--concurrency",
                concurrency,
            ],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let ids: Vec<u64> = text(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            ids,
            (1..=10).collect::<Vec<u64>>(),
            "concurrency {concurrency}"
        );
        assert!(stderr.contains("offset 10"), "{stderr}");
        assert!(stderr.contains("start_offset 0"), "{stderr}");
    }
}

#[test]
fn concurrency_above_the_maximum_is_a_clear_error_not_a_panic() {
    let url = store(|_| page(0, 0, std::iter::empty()));
    let out = miva(
        &url,
        &["list", "ProductList_Load_Query", "--concurrency", "20000"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("--concurrency"), "{stderr}");
    assert!(
        stderr.contains(&miva_http::miva::MAX_CONCURRENCY.to_string()),
        "{stderr}"
    );
    let out = miva(
        &url,
        &["list", "ProductList_Load_Query", "--concurrency", "0"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn a_deadline_bounds_the_whole_export() {
    // 50 records, pages of 10 at 400 ms each; the export may take 1 s.
    let url = store(|body| {
        std::thread::sleep(Duration::from_millis(400));
        let offset = body["Offset"].as_u64().unwrap_or(0);
        let count = body["Count"].as_u64().unwrap_or(10);
        page(50, offset, offset + 1..=(offset + count).min(50))
    });
    let started = Instant::now();
    let out = miva(
        &url,
        &[
            "--timeout",
            "10",
            "list",
            "ProductList_Load_Query",
            "--page-size",
            "10",
            "--deadline",
            "1",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("export deadline"), "{stderr}");
    let lines = text(&out.stdout).lines().count();
    assert!(lines < 50 && lines.is_multiple_of(10), "{lines} lines");
    // Not 5 pages × 400 ms.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_deadline_bounds_a_call() {
    let url = store(|_| {
        std::thread::sleep(Duration::from_secs(3));
        json!({"success": 1, "data": 1}).to_string()
    });
    let started = Instant::now();
    let out = miva(
        &url,
        &[
            "--timeout",
            "10",
            "call",
            "ProductList_Load_Query",
            "--deadline",
            "0.5",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("call deadline"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
}

/// A store answering each multicall round with one operation and a 206
/// after `delay`; it records the X-Miva-API-Timeout it was sent.
fn slow_multicall(delay: Duration, seen: Arc<std::sync::Mutex<Vec<String>>>) -> String {
    store_with_headers(move |body, headers| {
        std::thread::sleep(delay);
        if let Some(t) = headers.get("x-miva-api-timeout") {
            seen.lock().unwrap().push(t.clone());
        }
        let total = body["Operations"].as_array().map_or(0, Vec::len);
        let from = headers
            .get("range")
            .and_then(|r| r.strip_prefix("Operations="))
            .and_then(|r| r.split('-').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(1);
        let status = if from >= total { 200 } else { 206 };
        (
            status,
            vec![("Content-Range".into(), format!("1/{total}"))],
            r#"[{"success":1,"data":{"n":1}}]"#.into(),
        )
    })
}

const FOUR_OPS: &str = r#"{"Operations": [
    {"Function": "Product_Update", "Edit_Product": "P1", "Product_Price": 1},
    {"Function": "Product_Update", "Edit_Product": "P2", "Product_Price": 2},
    {"Function": "Product_Update", "Edit_Product": "P3", "Product_Price": 3},
    {"Function": "Product_Update", "Edit_Product": "P4", "Product_Price": 4}]}"#;

#[test]
fn multicall_continues_through_206s_and_sends_the_store_budget() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let url = slow_multicall(Duration::ZERO, Arc::clone(&seen));
    let out = miva(
        &url,
        &[
            "multicall",
            "--json",
            FOUR_OPS,
            "--api-timeout",
            "7",
            "--compact",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.as_array().unwrap().len(), 4, "{results}");
    assert_eq!(results[3], json!({"success": 1, "data": {"n": 1}}));
    assert_eq!(*seen.lock().unwrap(), ["7", "7", "7", "7"]);
}

#[test]
fn a_deadline_bounds_every_round_of_a_multicall() {
    // 4 rounds of 400 ms each; the multicall may take 1 s in all.
    let url = slow_multicall(
        Duration::from_millis(400),
        Arc::new(std::sync::Mutex::new(Vec::new())),
    );
    let started = Instant::now();
    let out = miva(
        &url,
        &[
            "--timeout",
            "10",
            "multicall",
            "--json",
            FOUR_OPS,
            "--deadline",
            "1",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("multicall deadline"), "{stderr}");
    assert!(stderr.contains("of 4 operations"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn multicall_operations_are_checked_before_sending() {
    let url = store(|_| panic!("nothing may be sent"));
    for (json, needle) in [
        ("[]", "no operations"),
        (r#"[{"Edit_Product": "P1"}]"#, "no \"Function\""),
        (r#"{"Ops": []}"#, "Operations"),
        (r#"[{"Function": "X", "Iterations": 3}]"#, "Iterations"),
    ] {
        let out = miva(&url, &["multicall", "--json", json]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{json}: {stderr}");
        assert!(stderr.contains(needle), "{json}: {stderr}");
    }
}
