//! The mock Miravia gateway, driven by the project's MiraviaClient over real
//! HTTP on loopback, plus raw requests for what the client never sends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use miravia_sign::AppSecret;
use miva_http::Error;
use miva_http::miravia::{FilePart, Gateway, Method, MiraviaClient, PageSpec};
use miva_mock::ManualClock;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};

const KEY: &str = "500123";
const SECRET: &str = "mock-secret-not-real";
const TOKEN: &str = "seller-token-not-real";
const NOW: i64 = 1_700_000_000;

fn gateway() -> MiraviaGateway {
    let config = MiraviaConfig::new(KEY, AppSecret::new(SECRET).unwrap())
        .with_access_token(TOKEN)
        .with_clock(Arc::new(ManualClock::new(NOW)));
    MiraviaGateway::start(config).unwrap()
}

fn clock() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs())
}

fn client(gw: &MiraviaGateway, secret: &str) -> miva_http::miravia::MiraviaClientBuilder {
    MiraviaClient::builder(
        Gateway::Custom(gw.url().to_owned()),
        KEY,
        AppSecret::new(secret).unwrap(),
    )
    .clock(clock)
}

fn code(err: Error) -> String {
    match err {
        Error::Miravia(e) => e.code,
        other => panic!("expected a platform error, got {other}"),
    }
}

#[test]
fn catalogue_orders_create_and_upload() {
    let gw = gateway();
    let c = client(&gw, SECRET).access_token(TOKEN).build().unwrap();
    assert!(gw.url().ends_with("/rest"));
    assert_eq!(c.get("/seller/get", &[]).unwrap()["data"]["seller_id"], 42);

    let ids: Vec<u64> = c
        .paginate(
            "/products/get",
            &[("filter", "live")],
            PageSpec::products(),
            7,
        )
        .map(|p| p.unwrap()["item_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1_000_001..=1_000_030).collect::<Vec<_>>());

    let payload = r#"{"Request":{"Product":{"PrimaryCategory":"10002019","Attributes":{"name":"Camiseta algodón ñ"},"Skus":{"Sku":[{"SellerSku":"CAM-01","quantity":"3","price":"9.99"}]}}}}"#;
    let created = c.post("/product/create", &[("payload", payload)]).unwrap();
    assert_eq!(created["data"]["item_id"], 1_000_031);
    assert_eq!(created["data"]["sku_list"][0]["seller_sku"], "CAM-01");
    let total = c
        .get("/products/get", &[("offset", "0"), ("limit", "1")])
        .unwrap();
    assert_eq!(total["data"]["total_products"], 31);

    let orders: Vec<_> = c
        .paginate("/orders/get", &[], PageSpec::orders(), 5)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(orders.len(), 12);
    let one = c.get("/order/get", &[("order_id", "5000003")]).unwrap();
    assert_eq!(one["data"]["statuses"][0], "delivered");
    assert_eq!(
        code(c.get("/order/get", &[("order_id", "1")]).unwrap_err()),
        "InvalidParameter"
    );

    let image: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let file = FilePart::new("image", "foto.jpg", image);
    let up = c.call(Method::Post, "/image/upload", &[], &[file]).unwrap();
    assert_eq!(up["data"]["image"]["size"], 70_000);
    assert_eq!(
        code(
            c.call(Method::Post, "/image/upload", &[("x", "1")], &[])
                .unwrap_err()
        ),
        "MissingParameter"
    );
}

#[test]
fn tokens_are_issued_refreshed_once_and_then_accepted() {
    let gw = gateway();
    let c = client(&gw, SECRET).build().unwrap();
    assert_eq!(
        code(c.get("/seller/get", &[]).unwrap_err()),
        "IllegalAccessToken"
    );
    let token = c.create_token("4_100200_code").unwrap();
    assert_eq!(token.details["country"], "es");
    assert_eq!(
        token.expires_at,
        Some(clock() + Duration::from_secs(604_800))
    );
    c.set_token(Some(token.clone()));
    assert_eq!(
        c.get("/seller/get", &[]).unwrap()["data"]["name"],
        "Mock Seller"
    );
    let refreshed = c.refresh_token(token.refresh_token().unwrap()).unwrap();
    assert_ne!(refreshed.access_token(), token.access_token());
    assert_eq!(
        code(c.refresh_token(token.refresh_token().unwrap()).unwrap_err()),
        "IllegalRefreshToken"
    );
}

#[test]
fn the_platform_error_shapes() {
    let gw = gateway();
    let wrong_secret = client(&gw, "another-secret")
        .access_token(TOKEN)
        .build()
        .unwrap();
    assert_eq!(
        code(wrong_secret.get("/seller/get", &[]).unwrap_err()),
        "IncompleteSignature"
    );
    let wrong_key = MiraviaClient::builder(
        Gateway::Custom(gw.url().to_owned()),
        "999",
        AppSecret::new(SECRET).unwrap(),
    )
    .clock(clock)
    .build()
    .unwrap();
    assert_eq!(
        code(wrong_key.get("/seller/get", &[]).unwrap_err()),
        "InvalidAppKey"
    );
    // A client clock past the window is corrected from the gateway's Date
    // header (one retry)...
    let late = client(&gw, SECRET)
        .access_token(TOKEN)
        .clock(|| clock() + Duration::from_secs(7201))
        .build()
        .unwrap();
    assert!(late.get("/seller/get", &[]).is_ok());
    assert_eq!(late.clock_offset_ms(), -7_201_000);
    // ... but one that keeps running away is refused with InvalidTimestamp.
    let readings = std::sync::atomic::AtomicU64::new(0);
    let drifting = client(&gw, SECRET)
        .access_token(TOKEN)
        .clock(move || {
            let n = readings.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            clock() + Duration::from_secs(3 * 3600 * n)
        })
        .build()
        .unwrap();
    assert_eq!(
        code(drifting.get("/seller/get", &[]).unwrap_err()),
        "InvalidTimestamp"
    );
    let fine = client(&gw, SECRET)
        .access_token(TOKEN)
        .clock(|| clock() - Duration::from_secs(7100))
        .build()
        .unwrap();
    assert!(fine.get("/seller/get", &[]).is_ok());
    let c = client(&gw, SECRET).access_token("stolen").build().unwrap();
    assert_eq!(
        code(c.get("/seller/get", &[]).unwrap_err()),
        "IllegalAccessToken"
    );
    let c = client(&gw, SECRET).access_token(TOKEN).build().unwrap();
    assert_eq!(code(c.get("/no/such/api", &[]).unwrap_err()), "InvalidApi");
}

fn raw_get(gw: &MiraviaGateway, target: &str) -> String {
    let mut stream = TcpStream::connect(gw.addr()).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn iso_timestamps_are_accepted_and_tampering_is_caught() {
    let gw = gateway();
    let secret = AppSecret::new(SECRET).unwrap();
    // 1700000000 s is 2023-11-14T22:13:20Z (`date -u -d @1700000000`).
    let mut params = vec![
        ("app_key", KEY),
        ("access_token", TOKEN),
        ("sign_method", "sha256"),
        ("timestamp", "2023-11-14T22:13:20Z"),
    ];
    let sign = miravia_sign::sign(&secret, "/seller/get", &params, None)
        .unwrap()
        .to_hex();
    params.push(("sign", &sign));
    let query = miravia_sign::form_urlencode(&params);
    let ok = raw_get(&gw, &format!("/rest/seller/get?{query}"));
    assert!(
        ok.starts_with("HTTP/1.1 200") && ok.contains(r#""code":"0""#),
        "{ok}"
    );
    let tampered = raw_get(
        &gw,
        &format!(
            "/rest/seller/get?{}",
            query.replace("sha256", "sha256&extra=1")
        ),
    );
    assert!(tampered.contains("IncompleteSignature"), "{tampered}");
    let twice = raw_get(&gw, &format!("/rest/seller/get?{query}&app_key={KEY}"));
    assert!(twice.contains("given twice"), "{twice}");
    let no_rest = raw_get(&gw, "/seller/get");
    assert!(no_rest.contains("InvalidApi"), "{no_rest}");
}

/// One raw POST; the whole response as (lossy) text.
fn raw_post(gw: &MiraviaGateway, target: &str, content_type: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(gw.addr()).unwrap();
    write!(
        stream,
        "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

/// The JSON body of a raw response.
fn json_body(response: &str) -> serde_json::Value {
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[test]
fn hostile_requests_get_the_platform_error_shape_and_never_break_the_gateway() {
    let mut config = MiraviaConfig::new(KEY, AppSecret::new(SECRET).unwrap())
        .with_access_token(TOKEN)
        .with_clock(Arc::new(ManualClock::new(NOW)));
    config.max_body_bytes = 64 * 1024;
    let gw = MiraviaGateway::start(config).unwrap();

    // Over the body limit: 413 with the platform's error shape.
    let big = vec![b'a'; 100 * 1024];
    let response = raw_post(
        &gw,
        "/rest/seller/get",
        "application/x-www-form-urlencoded",
        &big,
    );
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    let answer = json_body(&response);
    assert_eq!(answer["code"], "RequestTooLarge");
    assert!(answer["type"].is_string() && answer["request_id"].is_string());

    // Malformed bodies: bad percent escapes, invalid UTF-8, a multipart
    // without its boundary or cut short, JSON where a form is expected.
    let cases: [(&str, &[u8]); 6] = [
        ("application/x-www-form-urlencoded", b"app_key=%zz&sign=%"),
        (
            "application/x-www-form-urlencoded",
            b"app_key=\xff\xfe&timestamp=\xc3",
        ),
        (
            "multipart/form-data",
            b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
        ),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"a\"",
        ),
        ("application/json", br#"{"app_key": 500123}"#),
        ("text/plain", b"\x00\x01\x02"),
    ];
    for (content_type, body) in cases {
        let response = raw_post(&gw, "/rest/seller/get", content_type, body);
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "{content_type}: {response}"
        );
        let answer = json_body(&response);
        assert!(
            answer["code"].is_string() && answer["code"] != "0",
            "{answer}"
        );
        assert!(answer["message"].is_string(), "{answer}");
    }
    // Random bytes, many times over.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..200 {
        let len = (round * 37) % 600;
        let body: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let content_type = if round % 2 == 0 {
            "application/x-www-form-urlencoded"
        } else {
            "multipart/form-data; boundary=zz"
        };
        let response = raw_post(&gw, "/rest/product/create", content_type, &body);
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
    // Still serving real calls.
    let c = client(&gw, SECRET).access_token(TOKEN).build().unwrap();
    assert_eq!(c.get("/seller/get", &[]).unwrap()["code"], "0");
}
