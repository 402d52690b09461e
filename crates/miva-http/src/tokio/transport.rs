//! The async HTTP layer both async clients share: one reqwest client (one
//! keep-alive pool for every clone and task), explicit timeouts, no
//! redirects, bounded response bodies. It takes the same
//! [`HttpRequest`] as the blocking transport and gives the same
//! [`RawResponse`]s and errors; the rules (URL check, body budget, what a
//! response means) are the core's ([`miva_protocol`]), this file only moves
//! bytes.
//!
//! What it matches in the blocking transport (ureq):
//! - the connect limit is `connect_timeout`; the whole exchange, connect to
//!   the last body byte, is bounded by the request's timeout (or the
//!   configured one), so a server that drips its body is cut;
//! - a timeout is `Error::Timeout` with kind `Connect` or `Request` and the
//!   request's overall limit, as ureq reports it;
//! - redirects are never followed; a 3xx comes back as a response (the core
//!   turns it into `Error::Redirect`) with its `Location` redacted;
//! - at most the budget's body limit is read (plus the last chunk);
//! - no compression is negotiated and no proxy is taken from the
//!   environment (ureq 3 reads no proxy variable unless configured to);
//! - certificates are always verified: webpki roots, or the operating
//!   system's verifier with the `platform-verifier` feature; rustls on the
//!   `ring` provider, the one ureq uses;
//! - every error message goes through [`miva_protocol::redact_url`] (a
//!   Miravia GET's URL holds the access token and the signature).

use std::sync::Arc;
use std::time::Duration;

use miva_protocol::{Error, RawResponse, TimeoutKind, TransportConfig, TransportError};

use crate::transport::HttpRequest;

/// The async transport: a reqwest client (its pool is shared by clones)
/// and the settings.
#[derive(Debug, Clone)]
pub(crate) struct AsyncTransport {
    client: reqwest::Client,
    config: TransportConfig,
}

/// The TLS settings: rustls on ring, safe default protocol versions,
/// certificates always verified, no client certificate.
fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let tls_error = |e: rustls::Error| {
        Error::Transport(TransportError::other(format!(
            "TLS setup failed: {}",
            redact(&e.to_string())
        )))
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    #[cfg(feature = "platform-verifier")]
    let builder = {
        use rustls_platform_verifier::BuilderVerifierExt;
        builder.with_platform_verifier().map_err(tls_error)?
    };
    #[cfg(not(feature = "platform-verifier"))]
    let builder = builder.with_root_certificates(rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    });
    Ok(builder.with_no_client_auth())
}

impl AsyncTransport {
    /// A transport with these settings; fails only if TLS or the HTTP
    /// client cannot be set up.
    pub(crate) fn new(config: TransportConfig) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.as_str())
            .build()
            .map_err(|e| {
                Error::Transport(TransportError::other(format!(
                    "the HTTP client could not be set up: {}",
                    describe(&e)
                )))
            })?;
        Ok(Self { client, config })
    }

    /// Sends `request`; reads at most the budget's body limit. Dropping the
    /// future drops the connection's exchange (nothing keeps running).
    pub(crate) async fn send(&self, request: &HttpRequest<'_>) -> Result<RawResponse, Error> {
        let limit = request.timeout.unwrap_or(self.config.timeout);
        match tokio::time::timeout(limit, self.exchange(request, limit)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                kind: TimeoutKind::Request,
                limit,
            }),
        }
    }

    async fn exchange(
        &self,
        request: &HttpRequest<'_>,
        limit: Duration,
    ) -> Result<RawResponse, Error> {
        let mut builder = match request.body {
            None => self.client.get(request.url),
            Some((content_type, body)) => self
                .client
                .post(request.url)
                .header("Content-Type", content_type)
                .body(body.to_vec()),
        };
        for (name, value) in request.headers {
            builder = builder.header(*name, *value);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| transport_error(&e, limit))?;

        let mut raw = RawResponse::new(response.status().as_u16(), Vec::new());
        for name in RawResponse::HEADERS {
            if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
                raw.set_header(name, value);
            }
        }
        if (300..400).contains(&raw.status) {
            tracing::debug!(
                status = raw.status,
                location = raw.location.as_deref(),
                "redirect not followed"
            );
        }

        let body_limit = request.budget.body_limit();
        if response.content_length().is_some_and(|n| n > body_limit) {
            return Err(request.budget.body_too_large());
        }
        // The declared length (within the limit, checked above) is reserved
        // once instead of growing the buffer chunk by chunk.
        let declared = response.content_length().unwrap_or(0);
        let reserve = declared.min(1 << 20);
        let mut body = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(&e, limit))?
        {
            let total = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
            if total > body_limit {
                return Err(request.budget.body_too_large());
            }
            body.extend_from_slice(&chunk);
        }
        raw.body = body;
        Ok(raw)
    }
}

/// A reqwest failure as the core's error: timeouts by kind, connection
/// failures (refused, unreachable: nothing of the request was sent) as
/// "nothing was sent", everything else opaque, every URL in the message
/// redacted. A TLS failure is opaque even in the handshake, as the blocking
/// transport (ureq) has it: it cannot tell a handshake's TLS error from a
/// later one, and both drivers must decide retries the same way.
fn transport_error(e: &reqwest::Error, limit: Duration) -> Error {
    if e.is_timeout() {
        let kind = if e.is_connect() {
            TimeoutKind::Connect
        } else {
            TimeoutKind::Request
        };
        return Error::Timeout { kind, limit };
    }
    if e.is_connect() && !is_tls(e) {
        return Error::Transport(TransportError::connect(describe(e)));
    }
    Error::Transport(TransportError::other(describe(e)))
}

/// Whether a rustls error is among the causes (an `io::Error`'s own
/// `source` skips the error it wraps, so those are unwrapped by hand).
fn is_tls(e: &reqwest::Error) -> bool {
    fn wraps_tls(mut cause: &(dyn std::error::Error + 'static)) -> bool {
        loop {
            if cause.is::<rustls::Error>() {
                return true;
            }
            match cause
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(inner) => cause = inner,
                None => return false,
            }
        }
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if wraps_tls(cause) {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The error and its causes on one line, URLs redacted.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    redact(&text)
}

fn redact(text: &str) -> String {
    miva_protocol::redact_url(text).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
mod tests {
    //! The transport against small hostile loopback servers (std threads,
    //! as in tests/faults.rs): each case gives the same response or error
    //! the blocking transport gives.

    use super::*;
    use miva_protocol::BodyBudget;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::time::Instant;

    const LIMIT: Duration = Duration::from_secs(5);

    fn transport(timeout: Duration) -> AsyncTransport {
        AsyncTransport::new(
            TransportConfig::new()
                .timeout(timeout)
                .connect_timeout(timeout)
                .user_agent("miva-test/1"),
        )
        .unwrap()
    }

    /// A server that hands each connection to `handler` on its own thread.
    fn serve(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || handler(stream));
            }
        });
        addr
    }

    /// Reads one request: its head and its body (by Content-Length).
    fn read_request(stream: &mut TcpStream) -> (String, Vec<u8>) {
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let mut data = Vec::new();
        let mut byte = [0u8; 1];
        while !data.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap_or(0) == 0 {
                break;
            }
            data.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&data).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).unwrap();
        (head, body)
    }

    fn get<'a>(url: &'a str, budget: BodyBudget) -> HttpRequest<'a> {
        HttpRequest {
            url,
            body: None,
            headers: &[],
            timeout: None,
            budget,
        }
    }

    #[tokio::test]
    async fn sends_exactly_the_given_request_and_reads_the_response() {
        let (tx, rx) = mpsc::channel();
        let addr = serve(move |mut s| {
            let request = read_request(&mut s);
            tx.send(request).unwrap();
            s.write_all(
                b"HTTP/1.1 206 Partial Content\r\nContent-Range: 2/5\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nRetry-After: 3\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
            )
            .unwrap();
        });
        let url = format!("http://{addr}/mm5/json.mvc");
        let headers = [("X-Miva-API-Authorization", "MIVA-HMAC-SHA256 tok:sig")];
        let request = HttpRequest {
            url: &url,
            body: Some(("application/json", br#"{"Function":"X"}"#)),
            headers: &headers,
            timeout: None,
            budget: BodyBudget::call(1024),
        };
        let raw = transport(LIMIT).send(&request).await.unwrap();
        assert_eq!(raw.status, 206);
        assert_eq!(raw.body, br#"{"a":1}"#);
        assert_eq!(raw.content_range.as_deref(), Some("2/5"));
        assert_eq!(raw.retry_after.as_deref(), Some("3"));
        assert!(raw.date.is_some());

        let (head, body) = rx.recv_timeout(LIMIT).unwrap();
        let head_lower = head.to_ascii_lowercase();
        assert!(
            head.starts_with("POST /mm5/json.mvc HTTP/1.1\r\n"),
            "{head}"
        );
        assert_eq!(body, br#"{"Function":"X"}"#);
        assert!(
            head_lower.contains("\r\ncontent-type: application/json\r\n"),
            "{head}"
        );
        assert!(
            head_lower.contains("\r\nuser-agent: miva-test/1\r\n"),
            "{head}"
        );
        assert!(
            head.contains("MIVA-HMAC-SHA256 tok:sig\r\n"),
            "the given header: {head}"
        );
        assert!(
            !head_lower.contains("accept-encoding"),
            "no compression: {head}"
        );
    }

    #[tokio::test]
    async fn an_endless_body_stops_at_the_limit() {
        let (tx, rx) = mpsc::channel();
        let addr = serve(move |mut s| {
            read_request(&mut s);
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap();
            let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
            let mut sent = 0usize;
            while s.write_all(chunk.as_bytes()).is_ok() {
                sent += 0x1000;
                if sent > 64 * 1024 * 1024 {
                    break;
                }
            }
            tx.send(sent).unwrap();
        });
        let url = format!("http://{addr}/");
        let budget = BodyBudget::call(100_000);
        let err = transport(LIMIT).send(&get(&url, budget)).await.unwrap_err();
        assert!(
            matches!(err, Error::BodyTooLarge { limit: 100_000 }),
            "{err:?}"
        );
        // The client hung up soon after the limit: the server could not
        // push anything like the 64 MiB it would have sent.
        // (Waited for on the runtime, which closes the dropped connection.)
        let sent = tokio::task::spawn_blocking(move || rx.recv_timeout(LIMIT))
            .await
            .unwrap()
            .unwrap();
        assert!(sent < 32 * 1024 * 1024, "sent {sent} bytes");
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let addr = serve(|mut s| {
            read_request(&mut s);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\nxx");
            std::thread::sleep(Duration::from_secs(2));
        });
        let url = format!("http://{addr}/");
        let budget = BodyBudget::page(100_000, 4);
        let err = transport(LIMIT).send(&get(&url, budget)).await.unwrap_err();
        assert_eq!(err.to_string(), budget.body_too_large().to_string());
    }

    #[tokio::test]
    async fn a_slow_drip_is_cut_at_the_request_timeout() {
        let addr = serve(|mut s| {
            read_request(&mut s);
            if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                .is_err()
            {
                return;
            }
            for _ in 0..1000 {
                std::thread::sleep(Duration::from_millis(50));
                if s.write_all(b"x").is_err() {
                    return;
                }
            }
        });
        let url = format!("http://{addr}/");
        let limit = Duration::from_millis(400);
        let mut request = get(&url, BodyBudget::call(1_000_000));
        request.timeout = Some(limit);
        let started = Instant::now();
        let err = transport(LIMIT).send(&request).await.unwrap_err();
        assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
        match err {
            Error::Timeout { kind, limit: l } => {
                assert_eq!(kind, TimeoutKind::Request);
                assert_eq!(l, limit);
            }
            other => panic!("expected a request timeout, got {other:?}"),
        }
        // The configured limit applies when the request sets none.
        let err = transport(limit)
            .send(&get(&url, BodyBudget::call(1_000_000)))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Timeout { kind: TimeoutKind::Request, limit: l } if l == limit),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_its_location_is_redacted() {
        let (tx, rx) = mpsc::channel();
        let addr = serve(move |mut s| {
            let (head, _) = read_request(&mut s);
            tx.send(head).unwrap();
            s.write_all(
                b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/steal?access_token=SECRETTOKEN&sign=SIGNATURE&x=1\r\nContent-Length: 0\r\n\r\n",
            )
            .unwrap();
        });
        let url = format!("http://{addr}/order/get?access_token=SECRETTOKEN");
        let raw = transport(LIMIT)
            .send(&get(&url, BodyBudget::call(1024)))
            .await
            .unwrap();
        assert_eq!(raw.status, 302);
        let location = raw.location.unwrap();
        assert!(
            location.starts_with("http://127.0.0.1:9/steal?"),
            "{location}"
        );
        assert!(!location.contains("SECRETTOKEN"), "{location}");
        assert!(!location.contains("SIGNATURE"), "{location}");
        // One request reached the server, and none followed.
        assert!(rx.recv_timeout(LIMIT).is_ok());
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[tokio::test]
    async fn a_refused_connection_is_nothing_sent_and_redacted() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/x?access_token=SECRETTOKEN&sign=SIGNATURE");
        let err = transport(LIMIT)
            .send(&get(&url, BodyBudget::call(1024)))
            .await
            .unwrap_err();
        assert!(err.nothing_was_sent(), "{err:?}");
        assert!(err.is_retryable(), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRETTOKEN"), "{text}");
        assert!(!text.contains("SIGNATURE"), "{text}");
    }

    #[tokio::test]
    async fn a_connect_that_gets_no_answer_is_a_connect_timeout() {
        // A non-routable address: with a network, the SYN goes unanswered
        // (a connect timeout); without one, the connect fails at once. In
        // both cases nothing was sent, within the limit.
        let config = TransportConfig::new()
            .connect_timeout(Duration::from_millis(300))
            .timeout(LIMIT)
            .allow_insecure_http(true);
        let transport = AsyncTransport::new(config).unwrap();
        let started = Instant::now();
        let result = transport
            .send(&get("http://10.255.255.1:81/", BodyBudget::call(1024)))
            .await;
        let Err(err) = result else {
            // Something on this network answers for every address (an
            // intercepting proxy): there is no unreachable port to try.
            eprintln!("skipped: 10.255.255.1:81 answered here");
            return;
        };
        assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
        assert!(err.nothing_was_sent(), "{err:?}");
        if let Error::Timeout { kind, limit } = &err {
            assert_eq!(*kind, TimeoutKind::Connect);
            assert_eq!(*limit, LIMIT);
        }
    }

    #[tokio::test]
    async fn tls_to_a_plain_tcp_server_is_a_transport_error() {
        let addr = serve(|mut s| {
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        let url = format!("https://{addr}/");
        let err = transport(LIMIT)
            .send(&get(&url, BodyBudget::call(1024)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
        // Read as the blocking transport reads a TLS failure: opaque, not
        // "nothing was sent" (ureq cannot tell the handshake's from a later
        // one), so both drivers decide retries the same way.
        assert!(!err.nothing_was_sent(), "{err:?}");
        assert!(!err.is_retryable(), "{err:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn many_sends_run_concurrently_on_one_thread() {
        const N: usize = 12;
        // The server answers nobody until all N requests have arrived:
        // sends that ran one after another would time out.
        let (arrived_tx, arrived_rx) = mpsc::channel::<mpsc::Sender<()>>();
        let arrived_rx = std::sync::Mutex::new(arrived_rx);
        std::thread::spawn(move || {
            let mut waiting = Vec::new();
            while waiting.len() < N {
                match arrived_rx.lock().unwrap().recv_timeout(LIMIT) {
                    Ok(go) => waiting.push(go),
                    Err(_) => return,
                }
            }
            for go in waiting {
                let _ = go.send(());
            }
        });
        let arrived_tx = std::sync::Mutex::new(arrived_tx);
        let addr = serve(move |mut s| {
            let (head, _) = read_request(&mut s);
            let (go_tx, go_rx) = mpsc::channel();
            arrived_tx.lock().unwrap().send(go_tx).unwrap();
            if go_rx.recv_timeout(LIMIT).is_err() {
                return;
            }
            let path = head.split(' ').nth(1).unwrap_or("").to_owned();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{path}",
                path.len()
            );
            let _ = s.write_all(reply.as_bytes());
        });
        let transport = transport(LIMIT);
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let transport = transport.clone();
                tokio::spawn(async move {
                    let url = format!("http://{addr}/{i}");
                    transport.send(&get(&url, BodyBudget::call(1024))).await
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let raw = task.await.unwrap().unwrap();
            assert_eq!(raw.body, format!("/{i}").into_bytes());
        }
    }

    #[test]
    fn tls_is_rustls_on_ring_with_verification() {
        let config = tls_config().unwrap();
        // The ring provider (the one ureq uses), SNI on.
        assert!(!config.crypto_provider().cipher_suites.is_empty());
        assert!(config.enable_sni);
    }
}
