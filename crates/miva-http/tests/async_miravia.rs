//! What only the async `miva_http::tokio::MiraviaClient` has, over real
//! HTTP on loopback against the gateway in `common/miravia_driver.rs`:
//! many calls on one thread, cancellation by drop, a `Stream` of pages
//! polled at the caller's pace, `Send` futures. Everything both clients do
//! is tested once, on both, in `miravia_client.rs`.

#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

#[path = "common/miravia_driver.rs"]
#[macro_use]
mod miravia_driver;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_core::Stream;
use miravia_driver::{NOW_MS, calls_to, client, fixed_clock, gateway, next};
use miva_http::Error;
use miva_http::miravia::{Method, PageSpec, Token};
use miva_http::tokio::MiraviaClient;
use serde_json::Value;

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
    let c = client::<MiraviaClient>(&gw)
        .token(expiring)
        .auto_refresh(Duration::from_secs(300))
        .on_refresh(move |t| record.lock().unwrap().push(t.access_token().to_owned()))
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
    // The callback got the new token, once (what it got, and the explicit
    // refresh, are checked on both clients in miravia_client.rs).
    assert_eq!(*refreshed.lock().unwrap(), ["access-0"]);
    assert_eq!(c.token().unwrap().access_token(), "access-0");
}

#[tokio::test]
async fn dropping_the_stream_mid_export_stops_its_requests() {
    let gw = gateway(NOW_MS);
    let c = client::<MiraviaClient>(&gw).build().unwrap();
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
    let c = client::<MiraviaClient>(&gw).build().unwrap();
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
    let c = client::<MiraviaClient>(&gw).build().unwrap();
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

#[tokio::test]
async fn dropping_the_stream_with_pages_in_flight_stops_its_requests() {
    let gw = gateway(NOW_MS);
    let c = client::<MiraviaClient>(&gw).build().unwrap();
    let mut pages = c
        .paginate("/slow/products", &[], PageSpec::products(), 5)
        .concurrency(3);
    for i in 0..5u64 {
        let item = next(&mut pages).await.unwrap().unwrap();
        assert_eq!(item["item_id"], i);
    }
    // Three pages are asked for at once, and the stream dropped while they
    // are in flight (the gateway takes 300 ms a page).
    let pending = tokio::time::timeout(Duration::from_millis(100), next(&mut pages)).await;
    assert!(pending.is_err(), "the pages were still in flight");
    assert_eq!(pages.in_flight(), 3);
    assert_eq!(pages.total(), Some(23));
    drop(pages);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        calls_to(&gw, "/slow/products"),
        4,
        "the first page and the three in flight when it was dropped, nothing after"
    );
    assert!(gw.max_in_flight.load(Ordering::SeqCst) >= 2);
}
