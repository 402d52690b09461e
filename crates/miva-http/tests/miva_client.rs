//! MivaClient over real HTTP on loopback: against the mock store (every
//! credential kind, typed and raw calls, errors, multicall continuation,
//! pagination) and against a canned server for answers the mock never
//! gives (broken 206s, empty bodies). Every test is written once with
//! `both!` and runs on the blocking and the async client
//! (`name::blocking`, `name::tokio`).

#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use driver::{Driver, ListOpts};
use miva_envelope::{
    AccessDenied, ListQuery, Operation, OperationResult, OrderListLoadQuery, ProductInsert,
    ProductListLoadQuery, ProductUpdate, RawListQuery, Response, Search, Sort, StoreListLoadQuery,
};
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

fn client<D: Driver>(server: &MockServer, credential: Credential) -> D {
    D::build(D::builder(server.url(), credential).store_code(server.store_code())).unwrap()
}

async fn codes<D: Driver>(client: &D, page_size: u64, concurrency: usize) -> Vec<String> {
    client
        .list_all(
            ProductListLoadQuery::new(ListQuery::new().sort(Sort::asc("id"))),
            ListOpts::new()
                .page_size(page_size)
                .concurrency(concurrency),
        )
        .await
        .into_iter()
        .map(|p| p.unwrap().code.unwrap())
        .collect()
}

both! {
    async fn every_credential_kind_is_accepted<D>() {
        let server = mock(3, None);
        let key = || RsaPrivateKey::from_text(&fixture("rsa2048-pkcs1.pem"), None).unwrap();
        for credential in [
            hmac("tok-sha256", HmacDigest::Sha256),
            hmac("tok-sha1", HmacDigest::Sha1),
            Credential::token(ApiToken::new("tok-plain").unwrap()),
            Credential::ssh("ssh-user", key(), RsaDigest::Sha256).unwrap(),
            Credential::ssh("ssh-user", key(), RsaDigest::Sha512).unwrap(),
        ] {
            let c = client::<D>(&server, credential);
            assert_eq!(
                codes(&c, 10, 1).await,
                ["P000001", "P000002", "P000003"],
                "{}",
                D::NAME
            );
        }
    }

    async fn typed_writes_and_validation_errors<D>() {
        let server = mock(2, None);
        let c = client::<D>(&server, hmac("tok-sha256", HmacDigest::Sha256));
        let created = c
            .call(
                &ProductInsert::new()
                    .product_code("NEW-1")
                    .product_name("New")
                    .product_price(12.5),
            )
            .await
            .unwrap()
            .expect("the mock answers an insert with the product");
        assert_eq!(created.code.as_deref(), Some("NEW-1"));
        assert_eq!(created.price, Some(12.5));
        c.call(
            &ProductUpdate::new()
                .edit_product("NEW-1")
                .product_price(13.0),
        )
        .await
        .unwrap();
        let found = c
            .call(&ProductListLoadQuery::new(
                ListQuery::new().search(Search::new().eq("code", "NEW-1")),
            ))
            .await
            .unwrap();
        assert_eq!(found.total_count, 1);
        assert_eq!(found.data[0].price, Some(13.0));

        let err = c
            .call(
                &ProductInsert::new()
                    .product_code("NEW-1")
                    .product_name("Again"),
            )
            .await
            .unwrap_err();
        let Error::Api(api) = &err else {
            panic!("{}: {err:?}", D::NAME)
        };
        assert!(api.is_validation(), "{api:?}");
        assert_eq!(api.error_field.as_deref(), Some("Product_Code"));

        c.call(&miva_envelope::ProductDelete::new().edit_product("NEW-1"))
            .await
            .unwrap();
        assert_eq!(codes(&c, 5, 1).await, ["P000001", "P000002"]);
    }

    async fn raw_calls_domain_scope_and_store_override<D>() {
        let server = mock(4, None);
        let c = client::<D>(&server, hmac("tok-sha256", HmacDigest::Sha256));
        let data = c
            .call_raw(
                "ProductList_Load_Query",
                &json!({"Count": 2, "Offset": 1, "Sort": "-id"}),
            )
            .await
            .unwrap();
        assert_eq!(data["total_count"], 4);
        assert_eq!(data["data"][0]["code"], "P000003");
        let stores = c.call(&StoreListLoadQuery::default()).await.unwrap();
        assert_eq!(stores.data[0].code.as_deref(), Some(server.store_code()));
        let err = c
            .call_raw("ProductList_Load_Query", &json!({"Store_Code": "NOPE"}))
            .await
            .unwrap_err();
        assert!(err.api_error().is_some(), "{}: {err}", D::NAME);
        let err = c
            .call_raw("ProductList_Load_Query", &json!([1]))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{}: {err}", D::NAME);
        let orders = c
            .call(&OrderListLoadQuery::new(
                ListQuery::new().count(1).ondemand(["items"]),
            ))
            .await
            .unwrap();
        assert!(orders.data[0].items.is_some());
        let any = c
            .list_all(
                RawListQuery::new("CustomerList_Load_Query", ListQuery::new()),
                ListOpts::new().page_size(3),
            )
            .await
            .len();
        assert!(any > 0, "{}", D::NAME);
    }

    async fn access_denied_is_classified<D>() {
        let server = mock(1, None);
        let wrong_key = Credential::hmac(
            ApiToken::new("tok-sha256").unwrap(),
            &SigningKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
            HmacDigest::Sha256,
        );
        let err = client::<D>(&server, wrong_key)
            .call_raw("ProductList_Load_Query", &json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::AccessDenied {
                    kind: AccessDenied::InvalidSignature,
                    ..
                }
            ),
            "{}: {err:?}",
            D::NAME
        );
        assert!(err.to_string().contains("signing key"), "{err}");

        let limited = client::<D>(&server, hmac("tok-limited", HmacDigest::Sha256));
        assert!(
            limited
                .call_raw("ProductList_Load_Query", &json!({}))
                .await
                .is_ok()
        );
        let err = limited
            .call_raw("OrderList_Load_Query", &json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::AccessDenied {
                    kind: AccessDenied::NotPermitted,
                    ..
                }
            ),
            "{}: {err:?}",
            D::NAME
        );

        // A clock an hour off (the store's window is 30 s) is corrected from
        // the store's Date header, and the call goes through.
        let late = D::build(
            D::builder(server.url(), hmac("tok-sha256", HmacDigest::Sha256))
                .store_code(server.store_code())
                .clock(|| SystemTime::now() - Duration::from_secs(3600)),
        )
        .unwrap();
        late.call_raw("ProductList_Load_Query", &json!({}))
            .await
            .unwrap();
        assert!(
            (3598..=3602).contains(&(late.clock_offset_ms() / 1000)),
            "{}: {}",
            D::NAME,
            late.clock_offset_ms()
        );
        // A clock that loses another hour at every reading cannot be corrected:
        // the refusal comes back after one retry.
        let readings = std::sync::atomic::AtomicU64::new(0);
        let drifting = D::build(
            D::builder(server.url(), hmac("tok-sha256", HmacDigest::Sha256))
                .store_code(server.store_code())
                .clock(move || {
                    let n = readings.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    SystemTime::now() - Duration::from_secs(3600 * n)
                }),
        )
        .unwrap();
        let err = drifting
            .call_raw("ProductList_Load_Query", &json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::AccessDenied {
                    kind: AccessDenied::TimestampOutsideWindow,
                    ..
                }
            ),
            "{}: {err:?}",
            D::NAME
        );
        let no_ts = D::build(
            D::builder(server.url(), hmac("tok-sha256", HmacDigest::Sha256))
                .store_code(server.store_code())
                .timestamps(false),
        )
        .unwrap();
        let err = no_ts
            .call_raw("ProductList_Load_Query", &json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::AccessDenied {
                    kind: AccessDenied::MissingTimestamp,
                    ..
                }
            ),
            "{}: {err:?}",
            D::NAME
        );
    }

    async fn pagination_yields_each_record_once_in_order_at_any_concurrency<D>() {
        let server = mock(103, None);
        let c = client::<D>(&server, hmac("tok-sha256", HmacDigest::Sha256));
        let expected: Vec<String> = (1..=103).map(|i| format!("P{i:06}")).collect();
        for (size, k) in [(10, 1), (7, 4), (1000, 3), (1, 8), (103, 2)] {
            assert_eq!(
                codes(&c, size, k).await,
                expected,
                "{}: page size {size}, concurrency {k}",
                D::NAME
            );
        }
        // Starting offset and a filter are honoured.
        let some: Vec<String> = c
            .list_all(
                ProductListLoadQuery::new(
                    ListQuery::new()
                        .offset(1)
                        .search(Search::new().like("code", "P0001%")),
                ),
                ListOpts::new().page_size(2),
            )
            .await
            .into_iter()
            .map(|p| p.unwrap().code.unwrap())
            .collect();
        assert_eq!(some, ["P000101", "P000102", "P000103"], "{}", D::NAME);
        // An empty result ends at once.
        let none = c
            .list_all(
                ProductListLoadQuery::new(
                    ListQuery::new().search(Search::new().eq("code", "nothing")),
                ),
                ListOpts::new(),
            )
            .await
            .len();
        assert_eq!(none, 0, "{}", D::NAME);
    }

    async fn a_total_that_changes_mid_way_is_an_error_not_a_skip<D>() {
        let server = mock(30, None);
        let c = client::<D>(&server, hmac("tok-sha256", HmacDigest::Sha256));
        // The first ten records (the first page), then an insert, then what
        // the export yields after it.
        let mut taken = 0;
        let mut after = Vec::new();
        c.list_each_async(
            ProductListLoadQuery::new(ListQuery::new()),
            ListOpts::new().page_size(10),
            async |item| {
                if taken < 10 {
                    item.unwrap();
                    taken += 1;
                    if taken == 10 {
                        c.call(
                            &ProductInsert::new()
                                .product_code("LATE")
                                .product_name("Late"),
                        )
                        .await
                        .unwrap();
                    }
                } else {
                    after.push(item);
                }
                true
            },
        )
        .await;
        assert_eq!(taken, 10, "{}", D::NAME);
        let mut after = after.into_iter();
        let err = after.next().unwrap().unwrap_err();
        assert!(
            matches!(err, Error::Page { offset: 10, .. }),
            "{}: {err:?}",
            D::NAME
        );
        let Error::Pagination { offset, reason, .. } = err.root() else {
            panic!("{}: {err:?}", D::NAME)
        };
        assert_eq!(*offset, 10);
        assert!(reason.contains("from 30 to 31"), "{reason}");
        assert!(after.next().is_none(), "{}: stops after the error", D::NAME);
    }

    async fn multicall_continues_through_206_until_every_operation_is_answered<D>() {
        let server = mock(5, Some(2));
        let c = client::<D>(&server, hmac("tok-sha256", HmacDigest::Sha256));
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
        let results = c.multicall(&ops).await.unwrap();
        assert_eq!(results.len(), 4, "{}", D::NAME);
        let OperationResult::Iterations(updates) = &results[1] else {
            panic!("{}: nested", D::NAME)
        };
        assert_eq!(updates.len(), 3);
        assert!(updates.iter().all(|u| matches!(u, Response::Success(_))));
        let OperationResult::One(Response::Success(list)) = &results[3] else {
            panic!("{}", D::NAME)
        };
        assert_eq!(list["total_count"], 4);
        assert_eq!(list["data"][0]["price"], 1.25);
    }
}

/// Status, extra headers, body.
type Canned = (u16, Vec<(&'static str, String)>, String);

/// A server that answers each request with the next canned response and
/// records the request headers. It runs on a std thread, never on the
/// test's runtime (the blocking driver blocks that runtime's only thread).
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

fn canned_client<D: Driver>(url: &str) -> D {
    D::build(
        D::builder(url, hmac("t", HmacDigest::Sha256))
            .store_code("S")
            .transport(TransportConfig::new().timeout(Duration::from_secs(10))),
    )
    .unwrap()
}

fn two_ops() -> Vec<Operation> {
    vec![
        Operation::new("A", &json!({})).unwrap(),
        Operation::new("B", &json!({})).unwrap(),
    ]
}

both! {
    async fn broken_206_answers_are_errors_and_range_stays_with_its_request<D>() {
        let ok = r#"{"success":1}"#;
        // 206 without Content-Range.
        let (url, _) = canned(vec![(206, vec![], format!("[{ok}]"))]);
        let err = canned_client::<D>(&url)
            .multicall(&two_ops())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("without a Content-Range"),
            "{}: {err}",
            D::NAME
        );
        // Counts that do not add up.
        let (url, _) = canned(vec![(
            206,
            vec![("Content-Range", "2/3".into())],
            format!("[{ok}]"),
        )]);
        let err = canned_client::<D>(&url)
            .multicall(&two_ops())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("does not add up"),
            "{}: {err}",
            D::NAME
        );
        // No progress.
        let (url, _) = canned(vec![
            (
                206,
                vec![("Content-Range", "1/2".into())],
                format!("[{ok}]"),
            ),
            (206, vec![("Content-Range", "1/2".into())], "[]".into()),
        ]);
        let err = canned_client::<D>(&url)
            .multicall(&two_ops())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no progress"), "{}: {err}", D::NAME);
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
        let c = canned_client::<D>(&url);
        assert_eq!(c.multicall(&two_ops()).await.unwrap().len(), 2);
        assert_eq!(c.call_raw("X", &json!({})).await.unwrap(), json!(1));
        let seen = seen.lock().unwrap().clone();
        assert!(!seen[0].contains("\r\nrange:"), "{}: {}", D::NAME, seen[0]);
        assert!(
            seen[1].contains("\r\nrange: operations=2-2\r\n"),
            "{}: {}",
            D::NAME,
            seen[1]
        );
        assert!(!seen[2].contains("\r\nrange:"), "{}: {}", D::NAME, seen[2]);
    }

    async fn empty_html_and_undecodable_answers<D>() {
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
        let c = D::build(
            D::builder(&url, hmac("t", HmacDigest::Sha256))
                .store_code("S")
                .api_timeout(Duration::from_secs(90)),
        )
        .unwrap();
        let err = c.call_raw("X", &json!({})).await.unwrap_err();
        assert!(
            matches!(err, Error::EmptyResponse { .. }),
            "{}: {err:?}",
            D::NAME
        );
        assert!(
            err.to_string().contains("X-Miva-API-Authorization"),
            "{err}"
        );
        let err = c.call_raw("X", &json!({})).await.unwrap_err();
        assert!(
            matches!(err, Error::HttpStatus { status: 500, .. }),
            "{}: {err:?}",
            D::NAME
        );
        assert!(err.to_string().contains("Internal Server Error"));
        let err = c.call_raw("X", &json!({})).await.unwrap_err();
        assert!(
            matches!(err, Error::Undecodable { .. }),
            "{}: {err:?}",
            D::NAME
        );
        let err = c.call_raw("X", &json!({})).await.unwrap_err();
        assert!(
            matches!(err, Error::Redirect { status: 302, .. }),
            "{}: {err:?}",
            D::NAME
        );
        let head = seen.lock().unwrap()[0].clone();
        // X-Miva-API-Timeout is the store's multicall budget: only multicalls
        // carry it (tests/paging.rs).
        assert!(
            !head.contains("\r\nx-miva-api-timeout:"),
            "{}: {head}",
            D::NAME
        );
        assert!(
            head.contains("\r\nuser-agent: miva-rs/"),
            "{}: {head}",
            D::NAME
        );
        assert!(
            head.contains("\r\ncontent-type: application/json\r\n"),
            "{}: {head}",
            D::NAME
        );
        assert!(
            head.contains("\r\nx-miva-api-authorization: miva-hmac-sha256 t:"),
            "{}: {head}",
            D::NAME
        );
    }

    async fn the_client_is_send_sync_and_shares_across_threads<D>() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<D>();
        let server = mock(20, None);
        let c = client::<D>(&server, hmac("tok-sha256", HmacDigest::Sha256));
        // Four clones at once: on four threads (blocking) or four futures
        // polled together (tokio).
        let counts = c
            .concurrently(4, |c| async move { codes(&c, 3, 2).await.len() })
            .await;
        assert_eq!(counts, [20; 4], "{}", D::NAME);
        let debug = c.debug();
        assert!(
            !debug.contains("tok-sha256") && !debug.contains(KEY_B64),
            "{}: {debug}",
            D::NAME
        );
        let err = D::build(D::builder(
            "http://store.example.com/mm5/json.mvc",
            hmac("t", HmacDigest::Sha256),
        ))
        .err()
        .expect("a plain-HTTP endpoint that is not loopback is refused");
        assert!(matches!(err, Error::Config(_)), "{}: {err}", D::NAME);
    }

    async fn module_calls_reach_the_store<D>() {
        let server = mock(1, None);
        let c = client::<D>(&server, hmac("tok-sha256", HmacDigest::Sha256));
        let err = c
            .call_module("nomodule", "Run", &Value::Null)
            .await
            .unwrap_err();
        assert!(err.api_error().is_some(), "{}: {err}", D::NAME);
    }
}

both! {
    /// An export's pages in flight hold in-flight permits only while their
    /// requests run: with `max_in_flight(1)` and two pages in flight, a call
    /// between records still gets its turn (the async driver once parked
    /// page requests that only the consumer's polls moved on, so the call
    /// waited forever).
    async fn a_call_between_records_gets_a_permit_while_pages_are_in_flight<D>() {
        let server = mock(20, None);
        let client: D = D::build(
            D::builder(server.url(), hmac("tok-sha256", HmacDigest::Sha256))
                .store_code(server.store_code())
                .max_in_flight(1),
        )
        .unwrap();
        let query = ProductListLoadQuery::new(ListQuery::new().sort(Sort::asc("id")));
        let mut seen = 0;
        let mut calls = 0;
        client
            .list_each_async(query, ListOpts::new().page_size(2).concurrency(2), async |item| {
                item.unwrap();
                seen += 1;
                if seen % 3 == 0 {
                    let params = json!({"Count": 1});
                    let call = client.call_raw("ProductList_Load_Query", &params);
                    let answer = tokio::time::timeout(Duration::from_secs(20), call)
                        .await
                        .unwrap_or_else(|_| panic!("{}: the call never got a permit", D::NAME));
                    assert_eq!(answer.unwrap()["total_count"], 20, "{}", D::NAME);
                    calls += 1;
                }
                true
            })
            .await;
        assert_eq!((seen, calls), (20, 6), "{}", D::NAME);
    }
}
