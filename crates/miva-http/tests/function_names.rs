//! A store matches function, filter, operator and field names exactly and
//! drops what it does not know, which widens a list's result
//! (`mmlsk-json.mv`, wire-facts.md "Envelope" and "List Load Query"): the
//! client refuses such a name, or a set the store would not read as
//! written, before anything is sent, for raw calls, raw list queries and
//! multicall operations alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::net::TcpListener;
use std::time::Duration;

use miva_envelope::{ListQuery, Operation, RawListQuery};
use miva_http::TransportConfig;
use miva_http::miva::MivaClient;
use miva_sign::{ApiToken, Credential};
use serde_json::json;

/// A listener that must never see a connection, and a client aimed at it.
fn silent_store() -> (TcpListener, MivaClient) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let credential = Credential::token(ApiToken::new("tok-plain").unwrap());
    let client = MivaClient::builder(&endpoint, credential)
        .store_code("S")
        // A request sent by mistake fails the test in 5 s, not 120.
        .transport(TransportConfig::new().timeout(Duration::from_secs(5)))
        .build()
        .unwrap();
    (listener, client)
}

fn assert_nothing_sent(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a request reached the store: {other:?}"),
    }
}

#[test]
fn wrong_case_function_names_are_refused_before_sending() {
    let (listener, client) = silent_store();

    let err = client
        .call_raw("productlist_load_query", &json!({}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("did you mean `ProductList_Load_Query`?"),
        "{err}"
    );

    let raw = RawListQuery::new("PRODUCTLIST_LOAD_QUERY", ListQuery::new());
    let first = client.list(raw).next().unwrap().unwrap_err().to_string();
    assert!(
        first.contains("did you mean `ProductList_Load_Query`?"),
        "{first}"
    );

    let ops = [
        Operation::new("ProductList_Load_Query", &json!({})).unwrap(),
        Operation::new("category_insert", &json!({"Category_Code": "c"})).unwrap(),
    ];
    let err = client.multicall(&ops).unwrap_err().to_string();
    assert!(err.contains("did you mean `Category_Insert`?"), "{err}");

    assert_nothing_sent(&listener);
}

#[test]
fn names_the_spec_lacks_are_still_sent() {
    // The spec may lag behind a store: an unknown name is the store's to
    // answer, so the request goes out (here to a store that hangs up).
    let (listener, client) = silent_store();
    listener.set_nonblocking(false).unwrap();
    let store = std::thread::spawn(move || listener.accept().map(drop).is_ok());
    assert!(client.call_raw("Some_Future_Function", &json!({})).is_err());
    assert!(store.join().unwrap(), "the request was not sent");
}

#[test]
fn raw_list_filters_a_store_would_drop_are_refused_before_sending() {
    let (listener, client) = silent_store();
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
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{params}: {err}");
        let op = Operation::new("ProductList_Load_Query", &params).unwrap();
        let err = client.multicall(&[op]).unwrap_err().to_string();
        assert!(err.contains(needle), "multicall {params}: {err}");
    }
    // An iteration's filters are checked over the operation's.
    let op = Operation::with_iterations(
        "ProductList_Load_Query",
        &json!({"Count": 1}),
        [json!({}), search("search", "code", "NOT_IN", "")],
    )
    .unwrap();
    assert!(client.multicall(&[op]).is_err());
    assert_nothing_sent(&listener);
}
