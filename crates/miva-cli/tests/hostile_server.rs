//! The `miva` command against servers that misbehave on purpose (loopback
//! servers in this file, and the mock store with faults): a redirect that
//! echoes the signed query prints no credential (issue item 4), server
//! text with escape sequences reaches the terminal escaped (item 5), and a
//! failed `miva list -o FILE` leaves FILE as it was (item 6).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use miva_mock::{Credentials, Fault, MockConfig, MockServer, TokenConfig};
use miva_sign::HmacDigest;

// Fake test credentials (not a real store's or app's).
const TOKEN: &str = "00000000000000000000000000c1e0ff";
const KEY: &str = "ZmFrZS1zaWduaW5nLWtleS1mb3ItY2xpLXRlc3RzLTAwMDA";
const ACCESS_TOKEN: &str = "hostile-cli-access-token-not-real";
const APP_SECRET: &str = "hostile-cli-app-secret-not-real";

fn miva(args: &[&str], env: &[(&str, &str)]) -> Output {
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
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

/// A loopback HTTP server answering every request with `answer(target)`
/// (the request target: path and query). Returns `http://127.0.0.1:PORT`.
fn server(answer: impl Fn(&str) -> String + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut content_length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; content_length];
            let _ = reader.read_exact(&mut body);
            let target = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
            let _ = stream.write_all(answer(&target).as_bytes());
        }
    });
    format!("http://{addr}")
}

fn json_response(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn miravia_env(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MIRAVIA_ENDPOINT", format!("{base}/rest")),
        ("MIRAVIA_APP_KEY", "700700".to_owned()),
        ("MIRAVIA_APP_SECRET", APP_SECRET.to_owned()),
        ("MIRAVIA_ACCESS_TOKEN", ACCESS_TOKEN.to_owned()),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn a_redirect_echoing_the_query_prints_no_credential() {
    let base = server(|target| {
        format!(
            "HTTP/1.1 301 Moved Permanently\r\nLocation: https://proxy.example{target}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let env = miravia_env(&base);
    let o = miva(&["-vv", "miravia", "call", "/seller/get"], &borrowed(&env));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("HTTP 301 redirect to https://proxy.example/rest/seller/get?"),
        "{stderr}"
    );
    assert!(stderr.contains("access_token=<redacted>"), "{stderr}");
    assert!(stderr.contains("sign=<redacted>"), "{stderr}");
    assert!(!stderr.contains(ACCESS_TOKEN), "{stderr}");
    assert!(!stderr.contains(APP_SECRET), "{stderr}");
    // The signature is 64 uppercase hex digits: none in the output.
    let hex_run = stderr
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(hex_run < 64, "a signature reached stderr: {stderr}");
    assert!(o.stdout.is_empty());
}

#[test]
fn an_error_page_echoing_the_signed_request_prints_no_credential() {
    // A proxy's 502 page repeating the request line, query and all; the
    // query is also repeated percent-encoded, as a login link's `next=`.
    let base = server(|target| {
        let encoded: String = target
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let body = format!(
            "<html><body><p>GET {target} HTTP/1.1</p>\
             <a href=\"/login?next={encoded}\">log in</a></body></html>"
        );
        format!(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
    });
    let env = miravia_env(&base);
    let o = miva(&["-vv", "miravia", "call", "/seller/get"], &borrowed(&env));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("HTTP 502"), "{stderr}");
    assert!(stderr.contains("access_token=<redacted>"), "{stderr}");
    assert!(!stderr.contains(ACCESS_TOKEN), "{stderr}");
    assert!(!stderr.contains(APP_SECRET), "{stderr}");
    let hex_run = stderr
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(hex_run < 64, "a signature reached stderr: {stderr}");
    assert!(o.stdout.is_empty());
}

/// ESC ] 0 ; title BEL (retitles the window) and ESC [ 2 J (clears the
/// screen), as JSON escapes in the server's answer.
const HOSTILE: &str = r"\u001b]0;pwned\u0007\u001b[2J";

fn assert_no_control_bytes(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' || ('\u{80}'..='\u{9f}').contains(&c)),
        "{what} holds a raw control character: {text:?}"
    );
}

/// The run exited 1 (the server refused it) and its stderr holds no raw
/// control character; returns that stderr.
fn refused_with_escaped_stderr(o: &Output) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_no_control_bytes("stderr", &o.stderr);
    stderr
}

#[test]
fn miva_error_text_from_the_store_is_escaped() {
    let body = format!(
        r#"{{"success":0,"error_code":"MER-{HOSTILE}","error_message":"bad{HOSTILE}thing","validation_error":true,"error_field":"Code{HOSTILE}","error_field_message":"no\r\u009b2J"}}"#
    );
    let base = server(move |_| json_response(&body));
    let endpoint = format!("{base}/mm5/json.mvc");
    let env = [
        ("MIVA_ENDPOINT", endpoint.as_str()),
        ("MIVA_STORE_CODE", "S"),
        ("MIVA_API_TOKEN", TOKEN),
        ("MIVA_SIGNING_KEY", KEY),
    ];
    for args in [
        &["-vv", "call", "Product_Insert"][..],
        &["list", "ProductList_Load_Query"][..],
    ] {
        let stderr = refused_with_escaped_stderr(&miva(args, &env));
        assert!(
            stderr.contains(r"MER-\u{1b}]0;pwned\u{7}\u{1b}[2J: bad\u{1b}]0;pwned"),
            "{stderr}"
        );
        assert!(stderr.contains(r"Code\u{1b}]0;pwned"), "{stderr}");
        assert!(stderr.contains(r"no\r\u{9b}2J"), "{stderr}");
    }

    // Data with C1 controls is printed as the same JSON, escaped.
    let data = r#"{"success":1,"data":{"name":"x\u009b2J\u007fy","esc":"\u001b[2J"}}"#;
    let base = server(move |_| json_response(data));
    let endpoint = format!("{base}/mm5/json.mvc");
    let env = [
        ("MIVA_ENDPOINT", endpoint.as_str()),
        ("MIVA_STORE_CODE", "S"),
        ("MIVA_API_TOKEN", TOKEN),
        ("MIVA_SIGNING_KEY", KEY),
    ];
    let o = miva(&["call", "Product_Load"], &env);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_no_control_bytes("stdout", &o.stdout);
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed["name"], "x\u{9b}2J\u{7f}y");
    assert_eq!(printed["esc"], "\u{1b}[2J");
}

#[test]
fn miravia_error_text_from_the_gateway_is_escaped() {
    let body = format!(
        r#"{{"type":"ISV","code":"Bad{HOSTILE}","message":"m{HOSTILE}","request_id":"r\u009b1"}}"#
    );
    let base = server(move |_| json_response(&body));
    let env = miravia_env(&base);
    let stderr = refused_with_escaped_stderr(&miva(
        &["-vv", "miravia", "call", "/seller/get"],
        &borrowed(&env),
    ));
    assert!(
        stderr.contains(r"Bad\u{1b}]0;pwned\u{7}\u{1b}[2J: m\u{1b}]0;pwned"),
        "{stderr}"
    );
    assert!(stderr.contains(r"(r\u{9b}1)"), "{stderr}");
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("miva-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names(dir: &PathBuf) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_export_leaves_yesterdays_file_alone() {
    let dir = out_dir("export");
    let file = dir.join("products.jsonl");
    let yesterday = b"{\"id\":1}\n{\"id\":2}\n".repeat(50);
    std::fs::write(&file, &yesterday).unwrap();
    let file_arg = file.to_str().unwrap();

    // Connection refused on the first request.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/mm5/json.mvc", closed.local_addr().unwrap());
    drop(closed);
    let env = [
        ("MIVA_ENDPOINT", endpoint.as_str()),
        ("MIVA_STORE_CODE", "CLI"),
        ("MIVA_API_TOKEN", TOKEN),
        ("MIVA_SIGNING_KEY", KEY),
    ];
    let o = miva(&["list", "ProductList_Load_Query", "-o", file_arg], &env);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), yesterday, "FILE was changed");
    let partial = dir.join("products.jsonl.partial");
    assert!(stderr.contains(&*partial.to_string_lossy()), "{stderr}");
    assert_eq!(names(&dir), ["products.jsonl", "products.jsonl.partial"]);

    // Failing mid-way: FILE still as it was, the first page in FILE.partial.
    let creds = Credentials::new("CLI")
        .unwrap()
        .with_token(TokenConfig::hmac(TOKEN, KEY, HmacDigest::Sha256).unwrap());
    let store = MockServer::start(MockConfig::new(creds).with_products(30)).unwrap();
    store.inject_faults([None, Some(Fault::ServerErrorHtml)]);
    let env = [
        ("MIVA_ENDPOINT", store.url()),
        ("MIVA_STORE_CODE", "CLI"),
        ("MIVA_API_TOKEN", TOKEN),
        ("MIVA_SIGNING_KEY", KEY),
    ];
    let args = [
        "list",
        "ProductList_Load_Query",
        "--page-size",
        "10",
        "-o",
        file_arg,
    ];
    let o = miva(&args, &env);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), yesterday, "FILE was changed");
    let kept = std::fs::read_to_string(&partial).unwrap();
    assert_eq!(kept.lines().count(), 10, "{kept}");
    assert_eq!(names(&dir), ["products.jsonl", "products.jsonl.partial"]);

    // Success: FILE replaced whole, no temporary file left.
    let o = miva(&args, &env);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let today = std::fs::read_to_string(&file).unwrap();
    assert_eq!(today.lines().count(), 30);
    assert!(
        today.lines().next().unwrap().contains("\"id\":1,"),
        "{today}"
    );
    assert_eq!(names(&dir), ["products.jsonl", "products.jsonl.partial"]);
    let _ = std::fs::remove_dir_all(&dir);
}
