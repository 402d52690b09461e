//! Server behaviour: body limits, malformed input, base64 bodies,
//! concurrency, start errors, shutdown and wait.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64ct::Encoding as _;
use common::{Client, code, harness, now};
use miva_mock::{Credentials, ErrorKind, MockConfig, MockServer};
use serde_json::json;

#[test]
fn oversized_body_gets_413() {
    let h = harness(|c| c.with_max_body_bytes(64 * 1024));
    let mut client = h.client();
    let padding = "x".repeat(100 * 1024);
    let body = format!(
        r#"{{"Store_Code":"STORE","Function":"ProductList_Load_Query","Pad":"{padding}","Miva_Request_Timestamp":{}}}"#,
        now()
    );
    let response = client.post_signed(&h.sha256, body.as_bytes());
    assert_eq!(response.status, 413);
    assert_eq!(response.header("connection"), Some("close"));
    let answer = response.json();
    assert_eq!(answer["success"], 0);
    assert_eq!(answer["error_code"], "request_too_large");
    assert!(answer["error_message"].as_str().unwrap().contains("65536"));
    // The server is fine afterwards.
    assert_eq!(
        h.call(json!({"Function": "StoreList_Load_Query"}))["success"],
        1
    );
}

#[test]
fn default_limit_is_8_mib() {
    let h = harness(|c| c);
    let mut client = h.client();
    let body = vec![b' '; 8 * 1024 * 1024 + 1];
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[
            ("Content-Type", "application/json"),
            ("X-Miva-API-Authorization", "MIVA tok-plain"),
        ],
        &body,
    );
    assert_eq!(response.status, 413);
    // Just under the limit is read (and is not JSON).
    let mut client = h.client();
    let mut body = vec![b' '; 8 * 1024 * 1024 - 2];
    body.extend_from_slice(b"{}");
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[
            ("Content-Type", "application/json"),
            ("X-Miva-API-Authorization", "MIVA tok-nots"),
        ],
        &body,
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["error_code"], "invalid_function");
}

#[test]
fn malformed_json_never_breaks_the_server() {
    let h = harness(|c| c);
    let mut client = h.client();
    let bodies: [&[u8]; 9] = [
        b"",
        b"{",
        b"not json",
        b"[1,2,3]",
        b"\"string\"",
        b"{\"Function\": }",
        b"\xff\xfe\x00",
        b"{\"Operations\": [[[[[[[[]]]]]]]]}",
        b"{\"Function\":\"ProductList_Load_Query\",\"Store_Code\":\"STORE\",\"Filter\":[{\"name\":\"search\",\"value\":[{\"field\":\"search_OR\",\"operator\":\"SUBWHERE\",\"value\":7}]}]}",
    ];
    for body in bodies {
        let response = client.post_signed(&h.no_timestamp, body);
        assert_eq!(response.status, 200, "{body:?}");
        let answer = response.json();
        let answer = if answer.is_array() {
            answer[0].clone()
        } else {
            answer
        };
        assert_eq!(answer["success"], 0, "{body:?}: {answer}");
    }
    let answer = client.post_signed(&h.no_timestamp, b"{").json();
    assert_eq!(answer["error_code"], "invalid_json");
    assert!(answer["error_message"].as_str().unwrap().contains("line 1"));
    let answer = client.post_signed(&h.no_timestamp, b"[1]").json();
    assert_eq!(answer["error_code"], "invalid_json");
    // Deep nesting is refused by the JSON parser, not by a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let answer = client.post_signed(&h.no_timestamp, deep.as_bytes()).json();
    assert_eq!(answer["error_code"], "invalid_json");
    // Odd values in every list parameter.
    for extra in [
        json!({"Count": -5}),
        json!({"Count": 1e300}),
        json!({"Offset": {"a": 1}}),
        json!({"Sort": 5}),
        json!({"Filter": [1, 2]}),
        json!({"Filter": [{"name": "search", "value": [{"field": "id"}]}]}),
        json!({"Filter": [{"name": "search", "value": [{"field": "id", "operator": "IN", "value": [1, [2], {"x": 3}]}]}]}),
        json!({"Filter": [{"name": "ondemandcolumns", "value": {"x": 1}}]}),
        json!({"Filter": [{"name": "ondemandcolumns", "value": "descrip,url"}]}),
        json!({"Function": 5}),
        json!({"Store_Code": ["STORE"]}),
    ] {
        let mut request = json!({"Function": "ProductList_Load_Query", "Store_Code": "STORE"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        let answer = client.call(&h.no_timestamp, request.clone());
        assert!(
            answer["success"] == 0 || answer["success"] == 1,
            "{request}: {answer}"
        );
    }
}

#[test]
fn base64_binary_encoding() {
    let h = harness(|c| c);
    let mut client = h.client();
    let json_body = serde_json::to_vec(&json!({
        "Store_Code": "STORE", "Function": "ProductList_Load_Query", "Count": 1,
        "Miva_Request_Timestamp": now(),
    }))
    .unwrap();
    let encoded = base64ct::Base64::encode_string(&json_body);
    let auth = h.sha256.authorize(encoded.as_bytes()).unwrap();
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[
            ("Content-Type", "application/json"),
            ("X-Miva-API-Binary-Encoding", "base64"),
            (auth.name(), auth.value()),
        ],
        encoded.as_bytes(),
    );
    assert_eq!(first(&response.json()), "P000001");
    // The SDKs send the header with a plain JSON body.
    let auth = h.sha256.authorize(&json_body).unwrap();
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[
            ("Content-Type", "application/json"),
            ("X-Miva-API-Binary-Encoding", "base64"),
            ("X-Miva-API-Timeout", "120"),
            (auth.name(), auth.value()),
        ],
        &json_body,
    );
    assert_eq!(first(&response.json()), "P000001");
    let garbage = b"%%%not base64%%%";
    let auth = h.sha256.authorize(garbage).unwrap();
    let response = client.send(
        "POST",
        "/mm5/json.mvc",
        &[
            ("Content-Type", "application/json"),
            ("X-Miva-API-Binary-Encoding", "base64"),
            (auth.name(), auth.value()),
        ],
        garbage,
    );
    assert_eq!(response.json()["error_code"], "invalid_encoding");
}

fn first(answer: &serde_json::Value) -> &str {
    answer["data"]["data"][0]["code"].as_str().unwrap()
}

#[test]
fn concurrent_clients_get_correct_answers() {
    let h = harness(|c| c.with_products(500));
    let credentials = [&h.sha256, &h.sha1, &h.plain, &h.ssh256];
    std::thread::scope(|scope| {
        for t in 0..8u64 {
            let credential = credentials[(t % 4) as usize];
            let addr = h.server.addr();
            scope.spawn(move || {
                let mut client = Client::connect(addr);
                for i in 0..50u64 {
                    let id = (t * 50 + i) % 500 + 1;
                    if i % 10 == 9 {
                        // Now and then a fresh connection.
                        client = Client::connect(addr);
                    }
                    let answer = client.call(
                        credential,
                        json!({"Store_Code": "STORE", "Function": "ProductList_Load_Query",
                               "Filter": [{"name": "search", "value": [
                                   {"field": "id", "operator": "EQ", "value": id}]}]}),
                    );
                    assert_eq!(answer["data"]["total_count"], 1, "thread {t} call {i}");
                    assert_eq!(first(&answer), code(id), "thread {t} call {i}");
                }
            });
        }
        // Writers alongside the readers.
        for t in 0..2u64 {
            let addr = h.server.addr();
            let credential = &h.sha256;
            scope.spawn(move || {
                let mut client = Client::connect(addr);
                for i in 0..25u64 {
                    let code = format!("W{t}-{i}");
                    let answer = client.call(
                        credential,
                        json!({"Store_Code": "STORE", "Function": "Product_Insert",
                               "Product_Code": code, "Product_Name": "Concurrent"}),
                    );
                    assert_eq!(answer["data"]["code"], code);
                }
            });
        }
    });
    let all = h.list("ProductList_Load_Query", json!({}));
    assert_eq!(all["total_count"], 550);
    let mut ids: Vec<u64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 550, "ids are unique");
}

#[test]
fn start_errors() {
    let h = harness(|c| c);
    let taken =
        MockServer::start(MockConfig::new(common::credentials()).with_bind(h.server.addr()));
    let err = taken.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Bind);
    assert!(
        err.to_string().contains(&h.server.addr().to_string()),
        "{err}"
    );
    let mut config = MockConfig::new(common::credentials());
    config.endpoint_path = "json.mvc".into();
    assert_eq!(
        MockServer::start(config).unwrap_err().kind(),
        ErrorKind::Config
    );
}

#[test]
fn custom_endpoint_and_credentials_file() {
    let creds = Credentials::from_json(
        r#"{"store_code": "shop", "tokens": [{"token": "t1", "digest": "none", "require_timestamp": false}]}"#,
    )
    .unwrap();
    let mut config = MockConfig::new(creds.clone());
    config.endpoint_path = "/Merchant2/json.mvc".into();
    let server = MockServer::start(config).unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert!(server.url().ends_with("/Merchant2/json.mvc"));
    assert_eq!(server.store_code(), "shop");
    let mut client = Client::connect(server.addr());
    let body = br#"{"Function":"ProductList_Load_Query","Store_Code":"SHOP","Count":1}"#;
    let response = client.send(
        "POST",
        "/Merchant2/json.mvc",
        &[
            ("Content-Type", "application/json"),
            ("X-Miva-API-Authorization", "MIVA t1"),
        ],
        body,
    );
    assert_eq!(first(&response.json()), "P000001");
    let response = client.send("POST", "/mm5/json.mvc", &[], body);
    assert_eq!(response.status, 404);
}

#[test]
fn shutdown_stops_serving() {
    let server = MockServer::start(MockConfig::new(common::credentials())).unwrap();
    let addr = server.addr();
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    idle.write_all(b"GET /mm5/json.mvc HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    server.shutdown();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after shutdown"
    );
    // The idle keep-alive connection was closed.
    let mut rest = Vec::new();
    assert!(
        matches!(idle.read_to_end(&mut rest), Ok(0) | Err(_)),
        "{rest:?}"
    );
}

#[test]
fn wait_returns_after_a_shutdown_handle_fires() {
    let server = MockServer::start(MockConfig::new(common::credentials())).unwrap();
    let addr = server.addr();
    let handle = server.shutdown_handle();
    let waiter = std::thread::spawn(move || server.wait());
    // Serving while waited on.
    let mut client = Client::connect(addr);
    assert_eq!(client.send("GET", "/mm5/json.mvc", &[], b"").status, 200);
    handle.shutdown();
    waiter.join().unwrap();
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn drop_stops_the_server() {
    let addr = {
        let server = MockServer::start(MockConfig::new(common::credentials())).unwrap();
        server.addr()
    };
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn raw_http_edge_cases() {
    let h = harness(|c| c);
    // A request split into many small writes, then pipelined requests.
    let mut stream = TcpStream::connect(h.server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let one = "GET /mm5/json.mvc HTTP/1.1\r\nHost: x\r\n\r\n";
    for chunk in one.as_bytes().chunks(3) {
        stream.write_all(chunk).unwrap();
        stream.flush().unwrap();
    }
    stream
        .write_all(
            format!("{one}{one}")
                .replace(
                    "Host: x\r\n\r\n",
                    "Host: x\r\nConnection: keep-alive\r\n\r\n",
                )
                .as_bytes(),
        )
        .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while seen.matches("Invalid request method").count() < 3 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    // Garbage instead of HTTP: the connection is dropped, the server lives on.
    let mut bad = TcpStream::connect(h.server.addr()).unwrap();
    bad.write_all(b"\x00\x01\x02 nonsense\r\n\r\n").unwrap();
    let mut sink = Vec::new();
    let _ = bad.read_to_end(&mut sink);
    assert_eq!(
        h.call(json!({"Function": "StoreList_Load_Query"}))["success"],
        1
    );
}

#[test]
fn starts_and_stops_inside_another_async_runtime() {
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    outer.block_on(async {
        let server = MockServer::start(MockConfig::new(common::credentials())).unwrap();
        let mut client = Client::connect(server.addr());
        assert_eq!(client.send("GET", "/mm5/json.mvc", &[], b"").status, 200);
        drop(server);
    });
}

#[test]
fn latency_fault_delays_every_answer_without_changing_it() {
    let plain = harness(|c| c);
    let slow = harness(|c| {
        c.with_faults(miva_mock::Faults::default().with_latency(Duration::from_millis(150)))
    });
    let query = json!({"Count": 3, "Sort": "id"});
    let expected = plain.list("ProductList_Load_Query", query.clone());
    let started = Instant::now();
    let answer = slow.list("ProductList_Load_Query", query);
    // A lower bound only: the answer cannot come before the added latency.
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(answer, expected);
    assert_eq!(answer["data"][0]["code"], "P000001");
    assert_eq!(answer["data"][2]["code"], "P000003");
}
