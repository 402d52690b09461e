//! Everything the clients log, captured at TRACE level across a full run
//! (signing, calls, lists, multicall, errors, retries, clock correction,
//! tokens), holds no secret: no API token, signing key, signature, private
//! key, app secret or access token. The HTTP library's own `log` output
//! (ureq's, reqwest's) is captured at DEBUG too (at TRACE, ureq prints
//! request URLs, which for Miravia GET calls carry the access token: see
//! the README).
//!
//! One test body, run on each driver with `both!`: the blocking Miva and
//! Miravia clients (`::blocking`), the async ones (`::tokio`). Each test
//! captures its own thread (a thread-local subscriber and a `log` logger
//! that writes to the thread's capture), so the two runs do not mix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
// The harness drives the async clients too.
#![cfg(feature = "tokio")]

#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;
#[path = "common/miravia_driver.rs"]
#[allow(dead_code)]
mod miravia_driver;

use std::any::Any;
use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, SystemTime};

use miravia_sign::AppSecret;
use miva_envelope::{ListQuery, Operation, ProductListLoadQuery};
use miva_http::RetryPolicy;
use miva_http::miravia::Gateway;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};
use miva_mock::{Credentials, Fault, MockConfig, MockServer, SshUserConfig, TokenConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, RsaDigest, RsaPrivateKey, SigningKey};
use serde_json::json;

use driver::ListOpts;

// Clearly fake secrets, distinctive so that any leak is found.
const TOKEN: &str = "leakcheck0token000000000000000a1";
const KEY_B64: &str = "bGVha2NoZWNrLXNpZ25pbmcta2V5LW5vdC1yZWFsLTAx";
const APP_SECRET: &str = "leakcheck-app-secret-not-real";
const ACCESS_TOKEN: &str = "leakcheck-access-token-not-real";
const APP_KEY: &str = "700800";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// Where this thread's `log` records go (the logger is process-wide;
    /// each test captures its own thread, as its tracing subscriber does).
    static LOG_TARGET: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// The process-wide `log` logger: each record to its thread's capture.
struct LogCapture;

impl log::Log for LogCapture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Debug
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            LOG_TARGET.with(|target| {
                if let Some(captured) = target.borrow().as_ref() {
                    let _ = writeln!(
                        captured.clone(),
                        "log {} {}: {}",
                        record.level(),
                        record.target(),
                        record.args()
                    );
                }
            });
        }
    }
    fn flush(&self) {}
}

/// Captures everything logged on this thread (tracing at TRACE, `log` at
/// DEBUG) until the guard drops. Both drivers' tests run on a
/// current-thread runtime, so every task of the client under test (the
/// async client's connection tasks too) runs on this thread.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    static LOGGER: Once = Once::new();
    LOGGER.call_once(|| {
        log::set_boxed_logger(Box::new(LogCapture)).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
    });
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    LOG_TARGET.with(|target| *target.borrow_mut() = Some(captured.clone()));
    (captured, guard)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../miva-sign/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// `client`'s Debug output (the Miva `Driver` trait does not ask for
/// Debug; both clients have it).
fn debug_of<D: driver::Driver>(client: &D) -> String {
    let any: &dyn Any = client;
    if let Some(c) = any.downcast_ref::<miva_http::miva::MivaClient>() {
        format!("{c:?}")
    } else if let Some(c) = any.downcast_ref::<miva_http::tokio::MivaClient>() {
        format!("{c:?}")
    } else {
        panic!("not a Miva client: {}", D::NAME)
    }
}

/// What the Miravia part of the run leaves to check.
struct MiraviaRun {
    issued: String,
    debug_token: String,
    debug_client: String,
    debug_builder: String,
    base: String,
}

/// Miravia: GET and POST with an access token, a token created, an error,
/// on the Miravia client of the same driver `M`.
async fn miravia_run<M: miravia_driver::Driver>() -> MiraviaRun {
    let gateway = MiraviaGateway::start(
        MiraviaConfig::new(APP_KEY, AppSecret::new(APP_SECRET).unwrap())
            .with_access_token(ACCESS_TOKEN),
    )
    .unwrap();
    let miravia = M::build(
        M::builder(
            Gateway::Custom(gateway.url().to_owned()),
            APP_KEY,
            AppSecret::new(APP_SECRET).unwrap(),
        )
        .access_token(ACCESS_TOKEN)
        .token_gateway(Gateway::Custom(gateway.url().to_owned()))
        .retry(RetryPolicy::new(1).initial_backoff(Duration::from_millis(1))),
    )
    .unwrap();
    miravia.get("/seller/get", &[]).await.unwrap();
    miravia
        .post(
            "/product/create",
            &[(
                "payload",
                r#"{"Request":{"Product":{"Attributes":{"name":"x"}}}}"#,
            )],
        )
        .await
        .unwrap();
    let token = miravia.create_token("leakcheck-code").await.unwrap();
    let issued = token.access_token().to_owned();
    assert!(
        miravia.get("/no/such/api", &[]).await.is_err(),
        "{}",
        M::NAME
    );
    let builder = M::builder(
        Gateway::MiraviaEs,
        APP_KEY,
        AppSecret::new(APP_SECRET).unwrap(),
    )
    .access_token(ACCESS_TOKEN);
    MiraviaRun {
        issued,
        debug_token: format!("{token:?}"),
        debug_client: format!("{miravia:?}"),
        debug_builder: format!("{builder:?}"),
        base: gateway.url().to_owned(),
    }
}

both! {
    /// Everything one driver's clients log over a full run (captured on
    /// this thread: the test's runtime is current-thread) holds no secret.
    async fn nothing_secret_is_logged_at_any_level<D>() {
        let (captured, _guard) = capture();

        // The capture sees this thread and the tasks of this test's
        // runtime (the async client's connection tasks run there): a
        // check that would fail if events were lost.
        tokio::spawn(async { tracing::trace!("leakcheck canary from a task") })
            .await
            .unwrap();
        assert!(
            captured.text().contains("leakcheck canary from a task"),
            "{}: the capture sees the runtime's tasks",
            D::NAME
        );

        // Miva: HMAC and SSH, calls, a list, a multicall continued through
        // 206s, a wrong key, a 503 retried, a skewed clock corrected.
        let pem = fixture("rsa2048-pkcs1.pem");
        let creds = Credentials::new("LEAK")
            .unwrap()
            .with_token(TokenConfig::hmac(TOKEN, KEY_B64, HmacDigest::Sha256).unwrap())
            .with_ssh_user(SshUserConfig::new("leak-user", &fixture("rsa2048.pub")).unwrap());
        let server = MockServer::start(
            MockConfig::new(creds)
                .with_products(30)
                .with_multicall_budget(Some(2))
                .with_clock_skew_seconds(300),
        )
        .unwrap();
        let key = SigningKey::from_base64(KEY_B64).unwrap();
        let hmac = Credential::hmac(ApiToken::new(TOKEN).unwrap(), &key, HmacDigest::Sha256);
        let some_header = hmac.authorize(b"{}").unwrap().value().to_owned();
        let client = D::build(
            D::builder(server.url(), hmac)
                .store_code("LEAK")
                .retry(RetryPolicy::new(2).initial_backoff(Duration::from_millis(1))),
        )
        .unwrap();
        let query = ProductListLoadQuery::new(ListQuery::new().count(3));
        client.call(&query).await.unwrap();
        assert_ne!(
            client.clock_offset_ms() / 1000,
            0,
            "{}: the clock was corrected",
            D::NAME
        );
        server.inject_faults([Some(Fault::ServiceUnavailable)]);
        client.call(&query).await.unwrap();
        assert_eq!(
            client
                .list_all(query.clone(), ListOpts::new().page_size(7))
                .await
                .len(),
            30,
            "{}",
            D::NAME
        );
        let ops: Vec<Operation> = (0..5)
            .map(|i| {
                Operation::new("ProductList_Load_Query", &json!({"Count": 1, "Offset": i}))
                    .unwrap()
            })
            .collect();
        assert_eq!(client.multicall(&ops).await.unwrap().len(), 5, "{}", D::NAME);
        let wrong = D::build(
            D::builder(
                server.url(),
                Credential::hmac(
                    ApiToken::new(TOKEN).unwrap(),
                    &SigningKey::from_base64("d3Jvbmcta2V5LWZvci10aGUtbGVhay1jaGVjaw==").unwrap(),
                    HmacDigest::Sha256,
                ),
            )
            .store_code("LEAK"),
        )
        .unwrap();
        assert!(wrong.call(&query).await.is_err(), "{}", D::NAME);
        let ssh = Credential::ssh(
            "leak-user",
            RsaPrivateKey::from_text(&pem, None).unwrap(),
            RsaDigest::Sha256,
        )
        .unwrap();
        let ssh_header = ssh.authorize(b"{}").unwrap().value().to_owned();
        let ssh_client = D::build(D::builder(server.url(), ssh).store_code("LEAK")).unwrap();
        ssh_client.call(&query).await.unwrap();

        // Miravia, on the same driver.
        let miravia = if D::NAME == "blocking" {
            miravia_run::<miva_http::miravia::MiraviaClient>().await
        } else {
            miravia_run::<miva_http::tokio::MiraviaClient>().await
        };
        let issued = miravia.issued.as_str();
        let _ = SystemTime::now();

        // Debug output of every type here that holds a secret, pinned.
        let debug_token = &miravia.debug_token;
        assert!(
            debug_token.starts_with(
                r#"Token { access_token: "<redacted>", refresh_token: Some("<redacted>"), expires_at: Some("#
            ),
            "{}: {debug_token}",
            D::NAME
        );
        assert_eq!(
            debug_of(&client),
            format!(
                r#"MivaClient {{ endpoint: "{}", store_code: Some("LEAK"), credential: Hmac(HmacCredential {{ token: ApiToken(<redacted>), signing_key: <redacted>, digest: Sha256 }}), .. }}"#,
                server.url()
            ),
            "{}",
            D::NAME
        );
        assert_eq!(
            miravia.debug_client,
            format!(
                r#"MiraviaClient {{ base: "{}", app_key: "{APP_KEY}", .. }}"#,
                miravia.base
            ),
            "{}",
            D::NAME
        );
        let config = MiraviaConfig::new(APP_KEY, AppSecret::new(APP_SECRET).unwrap())
            .with_access_token(ACCESS_TOKEN);
        let debug_config = format!("{config:?}");
        let debug_builder = &miravia.debug_builder;
        let debug_ssh = debug_of(&ssh_client);
        for text in [debug_token, &debug_config, debug_builder, &debug_ssh] {
            for secret in [TOKEN, KEY_B64, APP_SECRET, ACCESS_TOKEN, issued] {
                assert!(!text.contains(secret), "{}: {text}", D::NAME);
            }
            assert!(!text.contains("BEGIN"), "{}: {text}", D::NAME);
        }
        assert!(debug_config.contains("<redacted>"), "{debug_config}");

        let text = captured.text();
        assert!(text.contains("miva call"), "{}: the run was logged:\n{text}", D::NAME);
        assert!(
            text.contains("miravia call"),
            "{}: the Miravia calls were logged:\n{text}",
            D::NAME
        );
        assert!(
            text.contains("miva_request"),
            "{}: inside request spans:\n{text}",
            D::NAME
        );
        assert!(
            text.contains("retrying"),
            "{}: the retry was logged:\n{text}",
            D::NAME
        );
        // The HTTP library's own `log` output was captured too.
        let http_log = if D::NAME == "blocking" {
            "log DEBUG ureq"
        } else {
            "log DEBUG reqwest"
        };
        assert!(
            text.contains(http_log),
            "{}: the HTTP library's log was captured:\n{text}",
            D::NAME
        );
        let private_key_line = pem.lines().nth(1).unwrap();
        for (what, secret) in [
            ("API token", TOKEN),
            ("signing key", KEY_B64),
            ("an HMAC header", some_header.as_str()),
            ("an SSH header", ssh_header.as_str()),
            ("the HMAC scheme with a value", "MIVA-HMAC-SHA256 "),
            ("the SSH scheme with a value", "SSH-RSA-SHA2-256 "),
            ("private key", private_key_line),
            ("app secret", APP_SECRET),
            ("access token", ACCESS_TOKEN),
            ("issued access token", issued),
            ("a Miravia signature parameter", "sign="),
        ] {
            assert!(
                !text.contains(secret),
                "{}: {what} appears in the logs:\n{text}",
                D::NAME
            );
        }
    }
}
