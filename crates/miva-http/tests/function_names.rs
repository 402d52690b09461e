//! A store matches function, filter, operator and field names exactly and
//! drops what it does not know, which widens a list's result
//! (`mmlsk-json.mv`, wire-facts.md "Envelope" and "List Load Query"): the
//! client refuses such a name, or a set the store would not read as
//! written, before anything is sent, for raw calls, raw list queries and
//! multicall operations alike. Every test is written once with `both!` and
//! runs on the blocking and the async client (`name::blocking`,
//! `name::tokio`).

#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;

use std::net::TcpListener;
use std::time::Duration;

use driver::{Driver, ListOpts};
use miva_envelope::{ListQuery, Operation, RawListQuery};
use miva_http::TransportConfig;
use miva_sign::{ApiToken, Credential};
use serde_json::json;

/// A listener that must never see a connection, and a client aimed at it.
fn silent_store<D: Driver>() -> (TcpListener, D) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let credential = Credential::token(ApiToken::new("tok-plain").unwrap());
    let client = D::build(
        D::builder(&endpoint, credential)
            .store_code("S")
            // A request sent by mistake fails the test in 5 s, not 120.
            .transport(TransportConfig::new().timeout(Duration::from_secs(5))),
    )
    .unwrap();
    (listener, client)
}

fn assert_nothing_sent(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a request reached the store: {other:?}"),
    }
}

both! {
    async fn wrong_case_function_names_are_refused_before_sending<D>() {
        let (listener, client) = silent_store::<D>();

        let err = client
            .call_raw("productlist_load_query", &json!({}))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("did you mean `ProductList_Load_Query`?"),
            "{}: {err}",
            D::NAME
        );

        let raw = RawListQuery::new("PRODUCTLIST_LOAD_QUERY", ListQuery::new());
        let mut first = None;
        client
            .list_each(raw, ListOpts::new(), |item| {
                first = Some(item);
                false
            })
            .await;
        let first = first.unwrap().unwrap_err().to_string();
        assert!(
            first.contains("did you mean `ProductList_Load_Query`?"),
            "{}: {first}",
            D::NAME
        );

        let ops = [
            Operation::new("ProductList_Load_Query", &json!({})).unwrap(),
            Operation::new("category_insert", &json!({"Category_Code": "c"})).unwrap(),
        ];
        let err = client.multicall(&ops).await.unwrap_err().to_string();
        assert!(
            err.contains("did you mean `Category_Insert`?"),
            "{}: {err}",
            D::NAME
        );

        assert_nothing_sent(&listener);
    }

    async fn names_the_spec_lacks_are_still_sent<D>() {
        // The spec may lag behind a store: an unknown name is the store's to
        // answer, so the request goes out (here to a store that hangs up, on
        // a std thread).
        let (listener, client) = silent_store::<D>();
        listener.set_nonblocking(false).unwrap();
        let store = std::thread::spawn(move || listener.accept().map(drop).is_ok());
        assert!(
            client
                .call_raw("Some_Future_Function", &json!({}))
                .await
                .is_err(),
            "{}",
            D::NAME
        );
        assert!(
            store.join().unwrap(),
            "{}: the request was not sent",
            D::NAME
        );
    }

    async fn raw_list_filters_a_store_would_drop_are_refused_before_sending<D>() {
        let (listener, client) = silent_store::<D>();
        let search = |filter: &str, field: &str, operator: &str, value: &str| {
            json!({"Count": 5, "Filter": [{"name": filter, "value": [
                {"field": field, "operator": operator, "value": value}]}]})
        };
        let cases = [
            // The filter name in the wrong case: the whole search is dropped.
            (search("Search", "code", "EQ", "A"), "`search`"),
            // An empty IN set adds no condition: every record.
            (search("search", "code", "IN", ""), "code"),
            // category takes IN / NOT_IN only on product lists.
            (search("search", "category", "EQ", "shirts"), "category"),
            // Product_Show values are matched exactly; "all" means active only.
            (
                json!({"Filter": [{"name": "Product_Show", "value": "all"}]}),
                "Product_Show",
            ),
        ];
        for (params, needle) in cases {
            let err = client
                .call_raw("ProductList_Load_Query", &params)
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{}: {params}: {err}", D::NAME);
            let op = Operation::new("ProductList_Load_Query", &params).unwrap();
            let err = client.multicall(&[op]).await.unwrap_err().to_string();
            assert!(err.contains(needle), "{}: multicall {params}: {err}", D::NAME);
        }
        // An iteration's filters are checked over the operation's.
        let op = Operation::with_iterations(
            "ProductList_Load_Query",
            &json!({"Count": 1}),
            [json!({}), search("search", "code", "NOT_IN", "")],
        )
        .unwrap();
        assert!(client.multicall(&[op]).await.is_err(), "{}", D::NAME);
        assert_nothing_sent(&listener);
    }
}
