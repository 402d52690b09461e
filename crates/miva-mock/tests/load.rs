//! Both mock servers under load: 64 concurrent clients x 1,000 signed
//! requests each, every one answered correctly, and the process's memory
//! flat between the first and the second half of the run (no growth per
//! request).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use miravia_sign::AppSecret;
use miva_envelope::{ListQuery, ProductListLoadQuery};
use miva_http::miravia::{Gateway, MiraviaClient};
use miva_http::miva::MivaClient;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};
use miva_mock::{Credentials, MockConfig, MockServer, TokenConfig};
use miva_sign::HmacDigest;

const CLIENTS: usize = 64;
const REQUESTS: usize = 1_000;
const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key; not a real store's

/// Resident memory of this process in KiB (Linux), or None elsewhere.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `CLIENTS` threads of `per_thread` calls each; the number that
/// failed.
fn round(per_thread: usize, call: Arc<dyn Fn() -> bool + Send + Sync>) -> usize {
    let failures = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let call = call.clone();
            let failures = failures.clone();
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    if !call() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    failures.load(Ordering::Relaxed)
}

/// One load test at a time: memory is the process's, so a second test
/// starting its server and 64 threads mid-way would show up as growth in
/// the first one's measurement (seen once on a loaded machine).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Two halves; memory after the second within a margin of the first.
fn load(name: &str, call: Arc<dyn Fn() -> bool + Send + Sync>) {
    let half = REQUESTS / 2;
    assert_eq!(
        round(half, call.clone()),
        0,
        "{name}: failures in the first half"
    );
    let after_first = rss_kib();
    assert_eq!(round(half, call), 0, "{name}: failures in the second half");
    if let (Some(first), Some(second)) = (after_first, rss_kib()) {
        // 32,000 more requests: a leak of even 1 KiB each would show.
        assert!(
            second <= first + 16 * 1024,
            "{name}: memory grew from {first} KiB to {second} KiB"
        );
    }
}

#[test]
fn the_miva_store_answers_64_clients_x_1000_requests() {
    let _alone = alone();
    let creds = Credentials::new("LOAD")
        .unwrap()
        .with_token(TokenConfig::hmac("tok-load", KEY_B64, HmacDigest::Sha256).unwrap());
    let server = MockServer::start(MockConfig::new(creds).with_products(100)).unwrap();
    let credential = server.credentials().tokens()[0].credential();
    let client = MivaClient::builder(server.url(), credential)
        .store_code("LOAD")
        .build()
        .unwrap();
    let query = ProductListLoadQuery::new(ListQuery::new().count(2));
    load(
        "miva mock",
        Arc::new(move || {
            client
                .call(&query)
                .is_ok_and(|page| page.total_count == 100 && page.data.len() == 2)
        }),
    );
}

#[test]
fn the_miravia_gateway_answers_64_clients_x_1000_requests() {
    let _alone = alone();
    let gateway = MiraviaGateway::start(
        MiraviaConfig::new(
            "900100",
            AppSecret::new("load-test-secret-not-real").unwrap(),
        )
        .with_access_token("load-test-token"),
    )
    .unwrap();
    let client = MiraviaClient::builder(
        Gateway::Custom(gateway.url().to_owned()),
        "900100",
        AppSecret::new("load-test-secret-not-real").unwrap(),
    )
    .access_token("load-test-token")
    .build()
    .unwrap();
    load(
        "miravia mock",
        Arc::new(move || {
            client
                .get("/seller/get", &[])
                .is_ok_and(|answer| answer["code"] == "0")
        }),
    );
}
