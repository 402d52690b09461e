//! Exports every record of a list function as JSON lines on stdout, with
//! the async client and 8 pages in flight.
//!
//! ```sh
//! # The same variables as `miva` (and `miva mock` prints them):
//! MIVA_ENDPOINT=https://www.example.com/mm5/json.mvc MIVA_STORE_CODE=store \
//! MIVA_API_TOKEN=... MIVA_SIGNING_KEY=... MIVA_DIGEST=sha256 \
//!     cargo run -p miva-http --features tokio --example tokio_export -- CategoryList_Load_Query > categories.jsonl
//! ```
//!
//! The function defaults to `ProductList_Load_Query`. Records come out in
//! order, each exactly once; a page that fails its checks (or cannot be
//! fetched) ends the export with a message on stderr and exit status 1,
//! after every record before it was written. Ctrl-C drops the stream,
//! which cancels the pages in flight, and exits with status 130.

use std::io::Write;
use std::process::ExitCode;

use miva_envelope::{ListQuery, RawListQuery};
use miva_http::tokio::MivaClient;
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};

/// Pages kept in flight.
const CONCURRENCY: usize = 8;
/// Records per page.
const PAGE_SIZE: u64 = 200;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set (see `miva mock` for a local store)"))
}

fn credential() -> Result<Credential, String> {
    let token =
        ApiToken::new(&env("MIVA_API_TOKEN")?).map_err(|e| format!("MIVA_API_TOKEN: {e}"))?;
    let digest = std::env::var("MIVA_DIGEST").unwrap_or_else(|_| "sha256".to_owned());
    let digest = match digest.as_str() {
        "none" => return Ok(Credential::token(token)),
        "sha256" => HmacDigest::Sha256,
        "sha1" => HmacDigest::Sha1,
        other => return Err(format!("MIVA_DIGEST {other:?}: use sha256, sha1 or none")),
    };
    let key = SigningKey::from_base64(&env("MIVA_SIGNING_KEY")?)
        .map_err(|e| format!("MIVA_SIGNING_KEY: {e}"))?;
    Ok(Credential::hmac(token, &key, digest))
}

async fn export(function: &str) -> Result<u64, String> {
    let client = MivaClient::builder(&env("MIVA_ENDPOINT")?, credential()?)
        .store_code(&env("MIVA_STORE_CODE")?)
        .build()
        .map_err(|e| e.to_string())?;
    let mut records = client
        .list(RawListQuery::new(function, ListQuery::new()))
        .page_size(PAGE_SIZE)
        .concurrency(CONCURRENCY);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = 0u64;
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let next = std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut records), cx)
        });
        let record = tokio::select! {
            record = next => record,
            _ = &mut ctrl_c => {
                out.flush().map_err(|e| e.to_string())?;
                return Err(format!("interrupted after {written} records"));
            }
        };
        let Some(record) = record else { break };
        let record = record.map_err(|e| {
            let _ = out.flush();
            format!("after {written} records: {e}")
        })?;
        serde_json::to_writer(&mut out, &record).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
        written += 1;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(written)
}

fn main() -> ExitCode {
    let function = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ProductList_Load_Query".to_owned());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tokio_export: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(export(&function)) {
        Ok(n) => {
            eprintln!("tokio_export: {n} records of {function}");
            ExitCode::SUCCESS
        }
        Err(message) if message.starts_with("interrupted") => {
            eprintln!("tokio_export: {message}");
            ExitCode::from(130)
        }
        Err(message) => {
            eprintln!("tokio_export: {message}");
            ExitCode::FAILURE
        }
    }
}
