//! MivaClient over real HTTP on loopback: against the mock store (every
//! credential kind, typed and raw calls, errors, multicall continuation,
//! pagination) and against a canned server for answers the mock never
//! gives (broken 206s, empty bodies).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use miva_envelope::{
    AccessDenied, ListQuery, Operation, OperationResult, OrderListLoadQuery, ProductInsert,
    ProductListLoadQuery, ProductUpdate, RawListQuery, Response, Search, Sort, StoreListLoadQuery,
};
use miva_http::miva::MivaClient;
use miva_http::{Error, TransportConfig};
use miva_mock::{Credentials, MockConfig, MockServer, SshUserConfig, TokenConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, RsaDigest, RsaPrivateKey, SigningKey};
use serde_json::{Value, json};

const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key; not a real store's

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../miva-sign/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn mock(products: usize, budget: Option<usize>) -> MockServer {
    let creds = Credentials::new("TEST")
        .unwrap()
        .with_token(TokenConfig::hmac("tok-sha256", KEY_B64, HmacDigest::Sha256).unwrap())
        .with_token(TokenConfig::hmac("tok-sha1", KEY_B64, HmacDigest::Sha1).unwrap())
        .with_token(TokenConfig::token_only("tok-plain").unwrap())
        .with_token(
            TokenConfig::hmac("tok-limited", KEY_B64, HmacDigest::Sha256)
                .unwrap()
                .with_functions(["ProductList_Load_Query"]),
        )
        .with_ssh_user(SshUserConfig::new("ssh-user", &fixture("rsa2048.pub")).unwrap());
    MockServer::start(
        MockConfig::new(creds)
            .with_products(products)
            .with_multicall_budget(budget),
    )
    .unwrap()
}

fn hmac(token: &str, digest: HmacDigest) -> Credential {
    Credential::hmac(
        ApiToken::new(token).unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        digest,
    )
}

fn client(server: &MockServer, credential: Credential) -> MivaClient {
    MivaClient::builder(server.url(), credential)
        .store_code(server.store_code())
        .build()
        .unwrap()
}

fn codes(client: &MivaClient, page_size: u64, concurrency: usize) -> Vec<String> {
    client
        .list(ProductListLoadQuery::new(
            ListQuery::new().sort(Sort::asc("id")),
        ))
        .page_size(page_size)
        .concurrency(concurrency)
        .map(|p| p.unwrap().code.unwrap())
        .collect()
}

#[test]
fn every_credential_kind_is_accepted() {
    let server = mock(3, None);
    let key = || RsaPrivateKey::from_text(&fixture("rsa2048-pkcs1.pem"), None).unwrap();
    for credential in [
        hmac("tok-sha256", HmacDigest::Sha256),
        hmac("tok-sha1", HmacDigest::Sha1),
        Credential::token(ApiToken::new("tok-plain").unwrap()),
        Credential::ssh("ssh-user", key(), RsaDigest::Sha256).unwrap(),
        Credential::ssh("ssh-user", key(), RsaDigest::Sha512).unwrap(),
    ] {
        let c = client(&server, credential);
        assert_eq!(codes(&c, 10, 1), ["P000001", "P000002", "P000003"]);
    }
}

#[test]
fn typed_writes_and_validation_errors() {
    let server = mock(2, None);
    let c = client(&server, hmac("tok-sha256", HmacDigest::Sha256));
    let created = c
        .call(
            &ProductInsert::new()
                .product_code("NEW-1")
                .product_name("New")
                .product_price(12.5),
        )
        .unwrap()
        .expect("the mock answers an insert with the product");
    assert_eq!(created.code.as_deref(), Some("NEW-1"));
    assert_eq!(created.price, Some(12.5));
    c.call(
        &ProductUpdate::new()
            .edit_product("NEW-1")
            .product_price(13.0),
    )
    .unwrap();
    let found = c
        .call(&ProductListLoadQuery::new(
            ListQuery::new().search(Search::new().eq("code", "NEW-1")),
        ))
        .unwrap();
    assert_eq!(found.total_count, 1);
    assert_eq!(found.data[0].price, Some(13.0));

    let err = c
        .call(
            &ProductInsert::new()
                .product_code("NEW-1")
                .product_name("Again"),
        )
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert!(api.is_validation(), "{api:?}");
    assert_eq!(api.error_field.as_deref(), Some("Product_Code"));

    c.call(&miva_envelope::ProductDelete::new().edit_product("NEW-1"))
        .unwrap();
    assert_eq!(codes(&c, 5, 1), ["P000001", "P000002"]);
}

#[test]
fn raw_calls_domain_scope_and_store_override() {
    let server = mock(4, None);
    let c = client(&server, hmac("tok-sha256", HmacDigest::Sha256));
    let data = c
        .call_raw(
            "ProductList_Load_Query",
            &json!({"Count": 2, "Offset": 1, "Sort": "-id"}),
        )
        .unwrap();
    assert_eq!(data["total_count"], 4);
    assert_eq!(data["data"][0]["code"], "P000003");
    let stores = c.call(&StoreListLoadQuery::default()).unwrap();
    assert_eq!(stores.data[0].code.as_deref(), Some(server.store_code()));
    let err = c
        .call_raw("ProductList_Load_Query", &json!({"Store_Code": "NOPE"}))
        .unwrap_err();
    assert!(err.api_error().is_some(), "{err}");
    let err = c
        .call_raw("ProductList_Load_Query", &json!([1]))
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let orders = c
        .call(&OrderListLoadQuery::new(
            ListQuery::new().count(1).ondemand(["items"]),
        ))
        .unwrap();
    assert!(orders.data[0].items.is_some());
    let any = c
        .list(RawListQuery::new(
            "CustomerList_Load_Query",
            ListQuery::new(),
        ))
        .page_size(3)
        .count();
    assert!(any > 0);
}

#[test]
fn access_denied_is_classified() {
    let server = mock(1, None);
    let wrong_key = Credential::hmac(
        ApiToken::new("tok-sha256").unwrap(),
        &SigningKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
        HmacDigest::Sha256,
    );
    let err = client(&server, wrong_key)
        .call_raw("ProductList_Load_Query", &json!({}))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AccessDenied {
                kind: AccessDenied::InvalidSignature,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("signing key"), "{err}");

    let limited = client(&server, hmac("tok-limited", HmacDigest::Sha256));
    assert!(
        limited
            .call_raw("ProductList_Load_Query", &json!({}))
            .is_ok()
    );
    let err = limited
        .call_raw("OrderList_Load_Query", &json!({}))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AccessDenied {
                kind: AccessDenied::NotPermitted,
                ..
            }
        ),
        "{err:?}"
    );

    // A clock an hour off (the store's window is 30 s) is corrected from
    // the store's Date header, and the call goes through.
    let late = MivaClient::builder(server.url(), hmac("tok-sha256", HmacDigest::Sha256))
        .store_code(server.store_code())
        .clock(|| SystemTime::now() - Duration::from_secs(3600))
        .build()
        .unwrap();
    late.call_raw("ProductList_Load_Query", &json!({})).unwrap();
    assert!((3598..=3602).contains(&(late.clock_offset_ms() / 1000)));
    // A clock that loses another hour at every reading cannot be corrected:
    // the refusal comes back after one retry.
    let readings = std::sync::atomic::AtomicU64::new(0);
    let drifting = MivaClient::builder(server.url(), hmac("tok-sha256", HmacDigest::Sha256))
        .store_code(server.store_code())
        .clock(move || {
            let n = readings.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            SystemTime::now() - Duration::from_secs(3600 * n)
        })
        .build()
        .unwrap();
    let err = drifting
        .call_raw("ProductList_Load_Query", &json!({}))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AccessDenied {
                kind: AccessDenied::TimestampOutsideWindow,
                ..
            }
        ),
        "{err:?}"
    );
    let no_ts = MivaClient::builder(server.url(), hmac("tok-sha256", HmacDigest::Sha256))
        .store_code(server.store_code())
        .timestamps(false)
        .build()
        .unwrap();
    let err = no_ts
        .call_raw("ProductList_Load_Query", &json!({}))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AccessDenied {
                kind: AccessDenied::MissingTimestamp,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn pagination_yields_each_record_once_in_order_at_any_concurrency() {
    let server = mock(103, None);
    let c = client(&server, hmac("tok-sha256", HmacDigest::Sha256));
    let expected: Vec<String> = (1..=103).map(|i| format!("P{i:06}")).collect();
    for (size, k) in [(10, 1), (7, 4), (1000, 3), (1, 8), (103, 2)] {
        assert_eq!(
            codes(&c, size, k),
            expected,
            "page size {size}, concurrency {k}"
        );
    }
    // Starting offset and a filter are honoured.
    let some: Vec<String> = c
        .list(ProductListLoadQuery::new(
            ListQuery::new()
                .offset(1)
                .search(Search::new().like("code", "P0001%")),
        ))
        .page_size(2)
        .map(|p| p.unwrap().code.unwrap())
        .collect();
    assert_eq!(some, ["P000101", "P000102", "P000103"]);
    // An empty result ends at once.
    let none = c
        .list(ProductListLoadQuery::new(
            ListQuery::new().search(Search::new().eq("code", "nothing")),
        ))
        .count();
    assert_eq!(none, 0);
}

#[test]
fn a_total_that_changes_mid_way_is_an_error_not_a_skip() {
    let server = mock(30, None);
    let c = client(&server, hmac("tok-sha256", HmacDigest::Sha256));
    let mut records = c
        .list(ProductListLoadQuery::new(ListQuery::new()))
        .page_size(10);
    for _ in 0..10 {
        records.next().unwrap().unwrap();
    }
    c.call(
        &ProductInsert::new()
            .product_code("LATE")
            .product_name("Late"),
    )
    .unwrap();
    let err = records.next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Page { offset: 10, .. }), "{err:?}");
    let Error::Pagination { offset, reason, .. } = err.root() else {
        panic!("{err:?}")
    };
    assert_eq!(*offset, 10);
    assert!(reason.contains("from 30 to 31"), "{reason}");
    assert!(records.next().is_none(), "stops after the error");
}

#[test]
fn multicall_continues_through_206_until_every_operation_is_answered() {
    let server = mock(5, Some(2));
    let c = client(&server, hmac("tok-sha256", HmacDigest::Sha256));
    let ops = vec![
        Operation::new("ProductList_Load_Query", &json!({"Count": 1})).unwrap(),
        Operation::with_iterations(
            "Product_Update",
            &json!({}),
            (1..=3).map(|i| json!({"Edit_Product": format!("P{i:06}"), "Product_Price": 1.25})),
        )
        .unwrap(),
        Operation::new("Product_Delete", &json!({"Edit_Product": "P000005"})).unwrap(),
        Operation::new("ProductList_Load_Query", &json!({"Count": 0})).unwrap(),
    ];
    let results = c.multicall(&ops).unwrap();
    assert_eq!(results.len(), 4);
    let OperationResult::Iterations(updates) = &results[1] else {
        panic!("nested")
    };
    assert_eq!(updates.len(), 3);
    assert!(updates.iter().all(|u| matches!(u, Response::Success(_))));
    let OperationResult::One(Response::Success(list)) = &results[3] else {
        panic!()
    };
    assert_eq!(list["total_count"], 4);
    assert_eq!(list["data"][0]["price"], 1.25);
}

/// Status, extra headers, body.
type Canned = (u16, Vec<(&'static str, String)>, String);

/// A server that answers each request with the next canned response and
/// records the request headers.
fn canned(responses: Vec<Canned>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (status, headers, body) in responses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let mut body_in = vec![0; length];
            reader.read_exact(&mut body_in).unwrap();
            log.lock().unwrap().push(head.to_ascii_lowercase());
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let mut stream = stream;
            stream.write_all(out.as_bytes()).unwrap();
        }
    });
    (url, seen)
}

fn canned_client(url: &str) -> MivaClient {
    MivaClient::builder(url, hmac("t", HmacDigest::Sha256))
        .store_code("S")
        .transport(TransportConfig::new().timeout(Duration::from_secs(10)))
        .build()
        .unwrap()
}

fn two_ops() -> Vec<Operation> {
    vec![
        Operation::new("A", &json!({})).unwrap(),
        Operation::new("B", &json!({})).unwrap(),
    ]
}

#[test]
fn broken_206_answers_are_errors_and_range_stays_with_its_request() {
    let ok = r#"{"success":1}"#;
    // 206 without Content-Range.
    let (url, _) = canned(vec![(206, vec![], format!("[{ok}]"))]);
    let err = canned_client(&url).multicall(&two_ops()).unwrap_err();
    assert!(err.to_string().contains("without a Content-Range"), "{err}");
    // Counts that do not add up.
    let (url, _) = canned(vec![(
        206,
        vec![("Content-Range", "2/3".into())],
        format!("[{ok}]"),
    )]);
    let err = canned_client(&url).multicall(&two_ops()).unwrap_err();
    assert!(err.to_string().contains("does not add up"), "{err}");
    // No progress.
    let (url, _) = canned(vec![
        (
            206,
            vec![("Content-Range", "1/2".into())],
            format!("[{ok}]"),
        ),
        (206, vec![("Content-Range", "1/2".into())], "[]".into()),
    ]);
    let err = canned_client(&url).multicall(&two_ops()).unwrap_err();
    assert!(err.to_string().contains("no progress"), "{err}");
    // A good continuation; then a plain call carries no Range header.
    let (url, seen) = canned(vec![
        (
            206,
            vec![("Content-Range", "1/2".into())],
            format!("[{ok}]"),
        ),
        (
            200,
            vec![("Content-Range", "1/2".into())],
            format!("[{ok}]"),
        ),
        (200, vec![], r#"{"success":1,"data":1}"#.into()),
    ]);
    let c = canned_client(&url);
    assert_eq!(c.multicall(&two_ops()).unwrap().len(), 2);
    assert_eq!(c.call_raw("X", &json!({})).unwrap(), json!(1));
    let seen = seen.lock().unwrap();
    assert!(!seen[0].contains("\r\nrange:"));
    assert!(
        seen[1].contains("\r\nrange: operations=2-2\r\n"),
        "{}",
        seen[1]
    );
    assert!(!seen[2].contains("\r\nrange:"), "{}", seen[2]);
}

#[test]
fn empty_html_and_undecodable_answers() {
    let (url, seen) = canned(vec![
        (200, vec![], String::new()),
        (500, vec![], "<html>Internal Server Error</html>".into()),
        (200, vec![], "{\"succ".into()),
        (
            302,
            vec![("Location", "https://elsewhere.example/".into())],
            String::new(),
        ),
    ]);
    let c = MivaClient::builder(&url, hmac("t", HmacDigest::Sha256))
        .store_code("S")
        .api_timeout(Duration::from_secs(90))
        .build()
        .unwrap();
    let err = c.call_raw("X", &json!({})).unwrap_err();
    assert!(matches!(err, Error::EmptyResponse { .. }), "{err:?}");
    assert!(
        err.to_string().contains("X-Miva-API-Authorization"),
        "{err}"
    );
    let err = c.call_raw("X", &json!({})).unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Internal Server Error"));
    let err = c.call_raw("X", &json!({})).unwrap_err();
    assert!(matches!(err, Error::Undecodable { .. }), "{err:?}");
    let err = c.call_raw("X", &json!({})).unwrap_err();
    assert!(
        matches!(err, Error::Redirect { status: 302, .. }),
        "{err:?}"
    );
    let head = seen.lock().unwrap()[0].clone();
    // X-Miva-API-Timeout is the store's multicall budget: only multicalls
    // carry it (tests/paging.rs).
    assert!(!head.contains("\r\nx-miva-api-timeout:"), "{head}");
    assert!(head.contains("\r\nuser-agent: miva-rs/"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: application/json\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nx-miva-api-authorization: miva-hmac-sha256 t:"),
        "{head}"
    );
}

#[test]
fn the_client_is_send_sync_and_shares_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<MivaClient>();
    let server = mock(20, None);
    let c = client(&server, hmac("tok-sha256", HmacDigest::Sha256));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || codes(&c, 3, 2).len())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 20);
    }
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("tok-sha256") && !debug.contains(KEY_B64),
        "{debug}"
    );
    let err = MivaClient::builder(
        "http://store.example.com/mm5/json.mvc",
        hmac("t", HmacDigest::Sha256),
    )
    .build()
    .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
}

#[test]
fn module_calls_reach_the_store() {
    let server = mock(1, None);
    let c = client(&server, hmac("tok-sha256", HmacDigest::Sha256));
    let err = c.call_module("nomodule", "Run", &Value::Null).unwrap_err();
    assert!(err.api_error().is_some(), "{err}");
}
