//! Everything both clients log, captured at TRACE level across a full run
//! (signing, calls, lists, multicall, errors, retries, clock correction,
//! tokens), holds no secret: no API token, signing key, signature, private
//! key, app secret or access token. ureq's own `log` output is captured at
//! DEBUG too (at TRACE, ureq prints request URLs, which for Miravia GET
//! calls carry the access token: see the README).
//!
//! One test function: the capturing subscriber and logger are global.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use miravia_sign::AppSecret;
use miva_envelope::{ListQuery, Operation, ProductListLoadQuery};
use miva_http::RetryPolicy;
use miva_http::miravia::{Gateway, MiraviaClient};
use miva_http::miva::MivaClient;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};
use miva_mock::{Credentials, Fault, MockConfig, MockServer, SshUserConfig, TokenConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, RsaDigest, RsaPrivateKey, SigningKey};
use serde_json::json;

// Clearly fake secrets, distinctive so that any leak is found.
const TOKEN: &str = "leakcheck0token000000000000000a1";
const KEY_B64: &str = "bGVha2NoZWNrLXNpZ25pbmcta2V5LW5vdC1yZWFsLTAx";
const APP_SECRET: &str = "leakcheck-app-secret-not-real";
const ACCESS_TOKEN: &str = "leakcheck-access-token-not-real";
const APP_KEY: &str = "700800";

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

struct LogCapture(Captured);

impl log::Log for LogCapture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Debug
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(
                self.0.clone(),
                "log {} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../miva-sign/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn nothing_secret_is_logged_at_any_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    log::set_boxed_logger(Box::new(LogCapture(captured.clone()))).unwrap();
    log::set_max_level(log::LevelFilter::Debug);

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
    let client = MivaClient::builder(server.url(), hmac)
        .store_code("LEAK")
        .retry(RetryPolicy::new(2).initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    let query = ProductListLoadQuery::new(ListQuery::new().count(3));
    client.call(&query).unwrap();
    assert_ne!(client.clock_offset_ms() / 1000, 0, "the clock was corrected");
    server.inject_faults([Some(Fault::ServiceUnavailable)]);
    client.call(&query).unwrap();
    assert_eq!(client.list(query.clone()).page_size(7).count(), 30);
    let ops: Vec<Operation> = (0..5)
        .map(|i| {
            Operation::new("ProductList_Load_Query", &json!({"Count": 1, "Offset": i})).unwrap()
        })
        .collect();
    assert_eq!(client.multicall(&ops).unwrap().len(), 5);
    let wrong = MivaClient::builder(
        server.url(),
        Credential::hmac(
            ApiToken::new(TOKEN).unwrap(),
            &SigningKey::from_base64("d3Jvbmcta2V5LWZvci10aGUtbGVhay1jaGVjaw==").unwrap(),
            HmacDigest::Sha256,
        ),
    )
    .store_code("LEAK")
    .build()
    .unwrap();
    assert!(wrong.call(&query).is_err());
    let ssh = Credential::ssh(
        "leak-user",
        RsaPrivateKey::from_text(&pem, None).unwrap(),
        RsaDigest::Sha256,
    )
    .unwrap();
    let ssh_header = ssh.authorize(b"{}").unwrap().value().to_owned();
    let ssh_client = MivaClient::builder(server.url(), ssh)
        .store_code("LEAK")
        .build()
        .unwrap();
    ssh_client.call(&query).unwrap();

    // Miravia: GET and POST with an access token, a token created, an
    // error.
    let gateway = MiraviaGateway::start(
        MiraviaConfig::new(APP_KEY, AppSecret::new(APP_SECRET).unwrap())
            .with_access_token(ACCESS_TOKEN),
    )
    .unwrap();
    let miravia = MiraviaClient::builder(
        Gateway::Custom(gateway.url().to_owned()),
        APP_KEY,
        AppSecret::new(APP_SECRET).unwrap(),
    )
    .access_token(ACCESS_TOKEN)
    .token_gateway(Gateway::Custom(gateway.url().to_owned()))
    .retry(RetryPolicy::new(1).initial_backoff(Duration::from_millis(1)))
    .build()
    .unwrap();
    miravia.get("/seller/get", &[]).unwrap();
    miravia
        .post(
            "/product/create",
            &[(
                "payload",
                r#"{"Request":{"Product":{"Attributes":{"name":"x"}}}}"#,
            )],
        )
        .unwrap();
    let token = miravia.create_token("leakcheck-code").unwrap();
    let issued = token.access_token().to_owned();
    assert!(miravia.get("/no/such/api", &[]).is_err());
    let _ = SystemTime::now();

    // Debug output of every type here that holds a secret, pinned.
    let debug_token = format!("{token:?}");
    assert!(
        debug_token.starts_with(
            r#"Token { access_token: "<redacted>", refresh_token: Some("<redacted>"), expires_at: Some("#
        ),
        "{debug_token}"
    );
    assert_eq!(
        format!("{client:?}"),
        format!(
            r#"MivaClient {{ endpoint: "{}", store_code: Some("LEAK"), credential: Hmac(HmacCredential {{ token: ApiToken(<redacted>), signing_key: <redacted>, digest: Sha256 }}), .. }}"#,
            server.url()
        )
    );
    assert_eq!(
        format!("{miravia:?}"),
        format!(
            r#"MiraviaClient {{ base: "{}", app_key: "{APP_KEY}", .. }}"#,
            gateway.url()
        )
    );
    let config = MiraviaConfig::new(APP_KEY, AppSecret::new(APP_SECRET).unwrap())
        .with_access_token(ACCESS_TOKEN);
    let debug_config = format!("{config:?}");
    let builder = MiraviaClient::builder(
        Gateway::MiraviaEs,
        APP_KEY,
        AppSecret::new(APP_SECRET).unwrap(),
    )
    .access_token(ACCESS_TOKEN);
    let debug_builder = format!("{builder:?}");
    let debug_ssh = format!("{ssh_client:?}");
    for text in [&debug_token, &debug_config, &debug_builder, &debug_ssh] {
        for secret in [TOKEN, KEY_B64, APP_SECRET, ACCESS_TOKEN, issued.as_str()] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(!text.contains("BEGIN"), "{text}");
    }
    assert!(debug_config.contains("<redacted>"), "{debug_config}");

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("miva call"), "the run was logged:\n{text}");
    assert!(
        text.contains("miravia call"),
        "the Miravia calls were logged:\n{text}"
    );
    assert!(
        text.contains("miva_request"),
        "inside request spans:\n{text}"
    );
    assert!(text.contains("retrying"), "the retry was logged:\n{text}");
    assert!(
        text.contains("log DEBUG ureq"),
        "ureq's log was captured:\n{text}"
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
        ("issued access token", issued.as_str()),
        ("a Miravia signature parameter", "sign="),
    ] {
        assert!(
            !text.contains(secret),
            "{what} appears in the logs:\n{text}"
        );
    }
}
