//! An axum service whose handler calls a Miva store with the async client:
//! `GET /products/{code}` answers the product's code, name and price.
//!
//! ```sh
//! # Against a store: the same variables as `miva` (HMAC-SHA256 credentials).
//! MIVA_ENDPOINT=https://www.example.com/mm5/json.mvc MIVA_STORE_CODE=store \
//! MIVA_API_TOKEN=... MIVA_SIGNING_KEY=... \
//!     cargo run -p miva-http --features tokio --example axum_handler
//! # Without MIVA_ENDPOINT it starts an in-process `miva mock` with 100 products.
//! # --self-test: serve, ask for one product and one unknown code, print both, exit.
//! ```
//!
//! The client is built once and cloned into every request (it is `Clone +
//! Send + Sync`, one connection pool); a dropped request (the browser gave
//! up) drops the handler's future, which cancels its call to the store.
//! Store errors are mapped to HTTP statuses without echoing anything
//! secret: the client's errors carry no token, key or signature.

use std::io::{Read, Write};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use miva_envelope::{ListQuery, ProductListLoadQuery, Search};
use miva_http::Error;
use miva_http::tokio::MivaClient;
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::{Value, json};

/// The handler: one typed call, bounded by a deadline so a slow store
/// cannot hold the request for the transport's full two minutes.
async fn product(
    State(client): State<MivaClient>,
    Path(code): Path<String>,
) -> Result<Json<Value>, (StatusCode, String)> {
    let query = ProductListLoadQuery::new(
        ListQuery::new()
            .count(1)
            .search(Search::new().eq("code", code.as_str())),
    );
    let options = miva_http::miva::CallOptions::new().deadline(Duration::from_secs(10));
    let page = client
        .call_with(&query, &options)
        .await
        .map_err(to_status)?;
    match page.data.first() {
        Some(p) => Ok(Json(json!({
            "code": p.code,
            "name": p.name,
            "price": p.price,
        }))),
        None => Err((StatusCode::NOT_FOUND, format!("no product {code:?}"))),
    }
}

/// A store error as an HTTP status for this service's callers.
fn to_status(error: Error) -> (StatusCode, String) {
    let status = if error.is_rate_limited() {
        StatusCode::TOO_MANY_REQUESTS
    } else if error.is_timeout() {
        StatusCode::GATEWAY_TIMEOUT
    } else if error.is_retryable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::BAD_GATEWAY
    };
    (status, format!("the store call failed: {error}"))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// The client: from the environment, or against an in-process mock.
fn client() -> Result<(MivaClient, Option<miva_mock::MockServer>), String> {
    if let Ok(endpoint) = std::env::var("MIVA_ENDPOINT") {
        let key = SigningKey::from_base64(&env("MIVA_SIGNING_KEY")?).map_err(|e| e.to_string())?;
        let token = ApiToken::new(&env("MIVA_API_TOKEN")?).map_err(|e| e.to_string())?;
        let client =
            MivaClient::builder(&endpoint, Credential::hmac(token, &key, HmacDigest::Sha256))
                .store_code(&env("MIVA_STORE_CODE")?)
                .build()
                .map_err(|e| e.to_string())?;
        return Ok((client, None));
    }
    let credentials = miva_mock::Credentials::generate().map_err(|e| e.to_string())?;
    let store =
        miva_mock::MockServer::start(miva_mock::MockConfig::new(credentials).with_products(100))
            .map_err(|e| e.to_string())?;
    let credential = store.credentials().tokens()[0].credential();
    let client = MivaClient::builder(store.url(), credential)
        .store_code(store.store_code())
        .build()
        .map_err(|e| e.to_string())?;
    Ok((client, Some(store)))
}

/// One plain HTTP/1.1 GET to this service, answered body and status.
fn get_once(addr: std::net::SocketAddr, path: &str) -> Result<String, String> {
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok(format!("{status}: {body}"))
}

fn main() {
    if let Err(message) = run() {
        eprintln!("axum_handler: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let self_test = std::env::args().any(|a| a == "--self-test");
    // The mock (if any) starts its own threads before the runtime.
    let (client, _store) = client()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = Router::new()
            .route("/products/{code}", get(product))
            .with_state(client);
        let bind = if self_test {
            "127.0.0.1:0"
        } else {
            "127.0.0.1:3000"
        };
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("{bind}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        if !self_test {
            eprintln!("listening on http://{addr}/products/{{code}}");
            return server
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string());
        }
        let answers = tokio::task::spawn_blocking(move || {
            Ok::<_, String>((
                get_once(addr, "/products/P000002")?,
                get_once(addr, "/products/NO-SUCH-CODE")?,
            ))
        })
        .await
        .map_err(|e| e.to_string())??;
        println!("{}\n{}", answers.0, answers.1);
        server.abort();
        if !answers.0.starts_with("HTTP/1.1 200") || !answers.1.starts_with("HTTP/1.1 404") {
            return Err("unexpected answers".to_owned());
        }
        Ok(())
    })
}
