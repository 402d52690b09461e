//! A gateway or proxy that answers 301/302 with a `Location` echoing the
//! signed query (access token, signature) must not make any client put
//! those values into an error's `Display` or `Debug`, or into a TRACE log
//! (issue item 4). The gateway is a loopback server (on std threads) in
//! this test.
//!
//! Every test runs on both drivers from one source: the Miva one (and the
//! Miravia one of the same driver) through `both!`, the Miravia-only ones
//! through `both_miravia!` (`common/miravia_driver.rs`'s trait). The test
//! that checks the logs captures its own thread with a thread-local
//! subscriber (its runtime is current-thread, so every task of the async
//! clients runs there too).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
// The harness drives the async clients too.
#![cfg(feature = "tokio")]

#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;
#[path = "common/miravia_driver.rs"]
#[allow(dead_code)]
#[macro_use]
mod miravia_driver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use miravia_driver::Driver as MiraviaDriver;
use miravia_sign::AppSecret;
use miva_http::Error;
use miva_http::miravia::Gateway;
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};

// Distinctive fake values, so that any leak is found.
const ACCESS_TOKEN: &str = "redirleak-access-token-not-real";
const APP_SECRET: &str = "redirleak-app-secret-not-real";
const MIVA_TOKEN: &str = "redirleak0token00000000000000a1";
const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A loopback "gateway" answering every request with `answer(echoed)`, a
/// whole HTTP response, where `echoed` is the request's path and query plus
/// (for POSTs, whose query is empty) the signed parameters a proxy might
/// have logged. Returns its base URL.
fn gateway(answer: impl Fn(&str) -> String + Send + 'static) -> String {
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
            let echoed = if target.contains('?') {
                target
            } else {
                format!("{target}?access_token={ACCESS_TOKEN}&sign=ECHOEDSIGNATURE0123")
            };
            let _ = stream.write_all(answer(&echoed).as_bytes());
        }
    });
    format!("http://{addr}")
}

/// A gateway answering `status` with a `Location` on another host that
/// repeats the (signed) request.
fn redirecting_gateway(status: u16) -> String {
    gateway(move |echoed| {
        format!(
            "HTTP/1.1 {status} Moved\r\nLocation: https://elsewhere.example{echoed}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
    })
}

/// A proxy answering 502 with an nginx-style HTML error page that echoes
/// the request line, signed query and all (HTML-escaped, as nginx does).
/// The signatures it was sent are pushed to `seen`.
fn echoing_error_gateway(seen: Arc<Mutex<Vec<String>>>) -> String {
    gateway(move |echoed| {
        if let Some((_, sign)) = echoed.split_once("&sign=") {
            let sign = sign.split('&').next().unwrap_or_default();
            seen.lock().unwrap().push(sign.to_owned());
        }
        let body = format!(
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
             <p>GET {} HTTP/1.1</p>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
            echoed.replace('&', "&amp;")
        );
        format!(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    })
}

/// A gateway redirecting to a login page whose `next=` is the signed
/// request, percent-encoded.
fn login_redirect_gateway() -> String {
    gateway(|echoed| {
        let next: String = echoed
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!(
            "HTTP/1.1 301 Moved\r\nLocation: https://login.example/?next={next}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
    })
}

/// `error` is a `status` redirect whose location still starts with
/// `prefix` (it says where) and holds `access_token` and `sign` redacted
/// after `assign` (`=`, or `%3D` in an encoded query); its Display and
/// Debug hold no credential nor the OAuth code. Returns the Display.
fn assert_redirect_redacted(error: &Error, status: u16, prefix: &str, assign: &str) -> String {
    let Error::Redirect {
        status: got,
        location,
    } = error
    else {
        panic!("expected a redirect error, got {error:?}");
    };
    assert_eq!(*got, status);
    let location = location.as_deref().unwrap();
    assert!(
        location.starts_with(prefix),
        "the redacted location still says where: {location}"
    );
    assert!(
        location.contains(&format!("access_token{assign}<redacted>")),
        "{location}"
    );
    assert!(
        location.contains(&format!("sign{assign}<redacted>")),
        "{location}"
    );
    let display = error.to_string();
    let debug = format!("{error:?}");
    assert_clean("Display", &display, &[]);
    assert_clean("Debug", &debug, &[]);
    assert!(!display.contains("redirleak-oauth-code"), "{display}");
    assert!(!debug.contains("redirleak-oauth-code"), "{debug}");
    display
}

fn assert_clean(what: &str, text: &str, signatures: &[&str]) {
    assert!(
        !text.contains(ACCESS_TOKEN),
        "{what} leaks the access token: {text}"
    );
    assert!(
        !text.contains(APP_SECRET),
        "{what} leaks the app secret: {text}"
    );
    assert!(
        !text.contains(MIVA_TOKEN),
        "{what} leaks the API token: {text}"
    );
    assert!(
        !text.contains("ECHOEDSIGNATURE0123"),
        "{what} leaks a signature: {text}"
    );
    for sign in signatures {
        assert!(
            !text.contains(sign),
            "{what} leaks the signature {sign}: {text}"
        );
    }
}

/// Miravia GET, POST and token creation against a gateway answering
/// `status` with the signed request echoed in the `Location`: each error
/// checked redacted; their Displays.
async fn miravia_redirects<M: MiraviaDriver>(status: u16) -> Vec<String> {
    let base = redirecting_gateway(status);
    let client = M::build(
        M::builder(
            Gateway::Custom(format!("{base}/rest")),
            "123456",
            AppSecret::new(APP_SECRET).unwrap(),
        )
        .access_token(ACCESS_TOKEN),
    )
    .unwrap();
    let mut displays = Vec::new();
    for error in [
        client.get("/seller/get", &[("x", "1")]).await.unwrap_err(),
        client.post("/seller/get", &[("x", "1")]).await.unwrap_err(),
        client
            .create_token("redirleak-oauth-code")
            .await
            .unwrap_err(),
    ] {
        displays.push(assert_redirect_redacted(
            &error,
            status,
            "https://elsewhere.example/rest/",
            "=",
        ));
    }
    displays
}

/// A Miravia client configured with credentials in its URL: its Debug.
fn odd_miravia_debug<M: MiraviaDriver>(base: &str) -> String {
    let odd = M::build(M::builder(
        Gateway::Custom(format!("{base}/rest?access_token={ACCESS_TOKEN}")),
        "123456",
        AppSecret::new(APP_SECRET).unwrap(),
    ))
    .unwrap();
    format!("{odd:?}")
}

both! {
    async fn redirect_locations_reach_errors_and_logs_redacted<D>() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let blocking = D::NAME == "blocking";

        // Miravia GET: the query carries access_token and sign; the gateway
        // echoes it in the Location. (The Miravia client of the same driver.)
        let mut displays = Vec::new();
        for status in [301, 302] {
            displays.extend(if blocking {
                miravia_redirects::<miva_http::miravia::MiraviaClient>(status).await
            } else {
                miravia_redirects::<miva_http::tokio::MiraviaClient>(status).await
            });
        }
        assert!(
            displays[0].contains("HTTP 301 redirect to https://elsewhere.example/rest/seller/get?"),
            "{}: {}",
            D::NAME,
            displays[0]
        );

        // Miva: the POST answered with a redirect whose Location echoes
        // credentials.
        let base = redirecting_gateway(301);
        let key = SigningKey::from_base64(KEY_B64).unwrap();
        let miva = D::build(
            D::builder(
                &format!("{base}/mm5/json.mvc"),
                Credential::hmac(ApiToken::new(MIVA_TOKEN).unwrap(), &key, HmacDigest::Sha256),
            )
            .store_code("S"),
        )
        .unwrap();
        let error = miva
            .call_raw("StoreList_Load_Query", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::Redirect { status: 301, .. }),
            "{}: {error:?}",
            D::NAME
        );
        assert_clean("Display", &error.to_string(), &[]);
        assert_clean("Debug", &format!("{error:?}"), &[]);

        // A client configured with credentials in its URL shows them redacted.
        let odd = if blocking {
            odd_miravia_debug::<miva_http::miravia::MiraviaClient>(&base)
        } else {
            odd_miravia_debug::<miva_http::tokio::MiraviaClient>(&base)
        };
        assert_clean("client Debug", &odd, &[]);

        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            logs.contains("redirect not followed") && logs.contains("access_token=<redacted>"),
            "{}: the redirects were logged, redacted: {logs}",
            D::NAME
        );
        assert_clean("TRACE logs", &logs, &[]);
        assert!(!logs.contains("redirleak-oauth-code"), "{}: {logs}", D::NAME);
    }
}

fn miravia_client<M: MiraviaDriver>(base: &str) -> M {
    M::build(
        M::builder(
            Gateway::Custom(format!("{base}/rest")),
            "123456",
            AppSecret::new(APP_SECRET).unwrap(),
        )
        .access_token(ACCESS_TOKEN),
    )
    .unwrap()
}

both_miravia! {
    async fn an_error_page_echoing_the_signed_request_reaches_errors_redacted<M>() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let client = miravia_client::<M>(&echoing_error_gateway(seen.clone()));
        let errors = [
            client.get("/seller/get", &[("x", "1")]).await.unwrap_err(),
            client.post("/seller/get", &[("x", "1")]).await.unwrap_err(),
            client.create_token("redirleak-oauth-code").await.unwrap_err(),
        ];
        // The real signatures the proxy saw (a prefix is enough to leak).
        let seen: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.len() >= 16)
            .map(|s| s[..16].to_owned())
            .collect();
        let seen: Vec<&str> = seen.iter().map(String::as_str).collect();
        for error in &errors {
            let Error::HttpStatus { status, excerpt } = error else {
                panic!("{}: expected an HTTP status error, got {error:?}", M::NAME);
            };
            assert_eq!(*status, 502, "{}", M::NAME);
            assert!(excerpt.contains("502 Bad Gateway"), "{}: {excerpt}", M::NAME);
            assert!(
                excerpt.contains("GET /rest/") && excerpt.contains("access_token=<redacted>"),
                "{}: the excerpt still shows the page, redacted: {excerpt}",
                M::NAME
            );
            let display = error.to_string();
            let debug = format!("{error:?}");
            assert_clean("Display", &display, &seen);
            assert_clean("Debug", &debug, &seen);
            assert!(!display.contains("redirleak-oauth-code"), "{}: {display}", M::NAME);
            assert!(!debug.contains("redirleak-oauth-code"), "{}: {debug}", M::NAME);
        }
        // The POST's echo (short enough to fit in the excerpt) shows its
        // signature parameter redacted.
        let Error::HttpStatus { excerpt, .. } = &errors[1] else {
            unreachable!()
        };
        assert!(excerpt.contains("&amp;sign=<redacted>"), "{}: {excerpt}", M::NAME);
    }

    async fn a_login_redirect_with_the_signed_request_percent_encoded_is_redacted<M>() {
        let client = miravia_client::<M>(&login_redirect_gateway());
        for error in [
            client.get("/seller/get", &[("x", "1")]).await.unwrap_err(),
            client.post("/seller/get", &[("x", "1")]).await.unwrap_err(),
            client.create_token("redirleak-oauth-code").await.unwrap_err(),
        ] {
            assert_redirect_redacted(&error, 301, "https://login.example/?next=%2Frest%2F", "%3D");
        }
    }

    async fn a_token_answer_cut_short_shows_no_token_in_its_excerpt<M>() {
        // A token answer that breaks off mid-body (a proxy's limit, a dropped
        // connection behind it) cannot be decoded, and its excerpt is shown.
        let cut = r#"{"access_token":"cutshort-access-token-42","refresh_token":"cutshort-refresh"#;
        let base = gateway(move |_| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{cut}",
                cut.len()
            )
        });
        let error = miravia_client::<M>(&base)
            .create_token("cutshort-oauth-code")
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Undecodable { .. }), "{}: {error:?}", M::NAME);
        for shown in [error.to_string(), format!("{error:?}")] {
            for secret in [
                "cutshort-access-token-42",
                "cutshort-refresh",
                "cutshort-oauth-code",
            ] {
                assert!(!shown.contains(secret), "{}: {secret} in {shown}", M::NAME);
            }
            assert!(
                shown.contains("access_token") && shown.contains("<redacted>"),
                "{}: {shown}",
                M::NAME
            );
        }
    }
}
