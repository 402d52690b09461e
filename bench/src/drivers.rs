//! The blocking and the async client measured in the same run, on the same
//! mock, with the same request:
//!
//! - `miva-bench async-calls ENDPOINT N`: as `calls`, with
//!   `miva_http::tokio::MivaClient` on a current-thread runtime, one call
//!   after another;
//! - `miva-bench async-inflight ENDPOINT N K`: `N` calls with `K` in flight
//!   on one current-thread runtime;
//! - `miva-bench export blocking|async ENDPOINT PAGE_SIZE CONCURRENCY
//!   [LIMIT]`: every product of the store (or the first `LIMIT`) as JSON
//!   lines to a sink, pages fetched `CONCURRENCY` at once; checks that ids
//!   come once each, in order.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use miva_envelope::{ListQuery, ProductListLoadQuery};
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::{Value, json};

fn credential() -> Result<Credential, String> {
    let key =
        SigningKey::from_base64(&crate::env("MIVA_SIGNING_KEY")?).map_err(|e| e.to_string())?;
    let token = ApiToken::new(&crate::env("MIVA_API_TOKEN")?).map_err(|e| e.to_string())?;
    Ok(Credential::hmac(token, &key, HmacDigest::Sha256))
}

fn async_client(endpoint: &str) -> Result<miva_http::tokio::MivaClient, String> {
    miva_http::tokio::MivaClient::builder(endpoint, credential()?)
        .store_code(&crate::env("MIVA_STORE_CODE")?)
        .build()
        .map_err(|e| e.to_string())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn query() -> ProductListLoadQuery {
    ProductListLoadQuery::new(ListQuery::new().count(10))
}

pub(crate) fn async_calls(endpoint: &str, n: usize) -> Result<Value, String> {
    let client = async_client(endpoint)?;
    runtime()?.block_on(async {
        let query = query();
        for _ in 0..20 {
            client.call(&query).await.map_err(|e| e.to_string())?;
        }
        let mut latencies = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let page = client.call(&query).await.map_err(|e| e.to_string())?;
            latencies.push(t.elapsed().as_secs_f64() * 1e6);
            if page.data.len() != 10 {
                return Err(format!("expected 10 records, got {}", page.data.len()));
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
        Ok(json!({
            "calls": n,
            "seconds": seconds,
            "calls_per_s": n as f64 / seconds,
            "p50_us": pct(0.50),
            "p99_us": pct(0.99),
        }))
    })
}

/// Polls every future of `running` until all are done (or one fails): the
/// simplest join of `K` workers, without another crate.
struct InFlight<F> {
    running: Vec<Pin<Box<F>>>,
}

impl<F: Future<Output = Result<usize, String>>> Future for InFlight<F> {
    type Output = Result<usize, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut i = 0;
        while i < self.running.len() {
            match self.running[i].as_mut().poll(cx) {
                Poll::Ready(result) => {
                    result?;
                    drop(self.running.swap_remove(i));
                }
                Poll::Pending => i += 1,
            }
        }
        if self.running.is_empty() {
            Poll::Ready(Ok(0))
        } else {
            Poll::Pending
        }
    }
}

pub(crate) fn async_inflight(endpoint: &str, n: usize, k: usize) -> Result<Value, String> {
    let client = async_client(endpoint)?;
    let k = k.max(1);
    runtime()?.block_on(async {
        let query = query();
        for _ in 0..20 {
            client.call(&query).await.map_err(|e| e.to_string())?;
        }
        let start = Instant::now();
        // K workers, each making its share of the N calls one after another.
        let per = n.div_ceil(k);
        let workers = (0..k)
            .map(|w| {
                let client = client.clone();
                let query = query.clone();
                let calls = per.min(n.saturating_sub(w * per));
                Box::pin(async move {
                    for _ in 0..calls {
                        let page = client.call(&query).await.map_err(|e| e.to_string())?;
                        if page.data.len() != 10 {
                            return Err(format!("expected 10 records, got {}", page.data.len()));
                        }
                    }
                    Ok(calls)
                })
            })
            .collect();
        InFlight { running: workers }.await?;
        let seconds = start.elapsed().as_secs_f64();
        Ok(json!({
            "calls": n,
            "in_flight": k,
            "seconds": seconds,
            "calls_per_s": n as f64 / seconds,
        }))
    })
}

/// Writes one record as a JSON line and checks its id follows the last.
fn emit(
    out: &mut impl Write,
    last: &mut i64,
    product: &miva_envelope::Product,
) -> Result<(), String> {
    let id = product.id.unwrap_or_default();
    if id != *last + 1 {
        return Err(format!(
            "id {id} after {last}: a record was skipped or repeated"
        ));
    }
    *last = id;
    serde_json::to_writer(&mut *out, product).map_err(|e| e.to_string())?;
    out.write_all(b"\n").map_err(|e| e.to_string())
}

pub(crate) fn export(
    driver: &str,
    endpoint: &str,
    page_size: u64,
    concurrency: usize,
    limit: Option<i64>,
) -> Result<Value, String> {
    let enough = |last: i64| limit.is_some_and(|l| last >= l);
    let mut out = std::io::BufWriter::new(std::io::sink());
    let mut last = 0i64;
    let start = Instant::now();
    match driver {
        "blocking" => {
            let client = miva_http::miva::MivaClient::builder(endpoint, credential()?)
                .store_code(&crate::env("MIVA_STORE_CODE")?)
                .build()
                .map_err(|e| e.to_string())?;
            for product in client
                .list(ProductListLoadQuery::default())
                .page_size(page_size)
                .concurrency(concurrency)
            {
                emit(&mut out, &mut last, &product.map_err(|e| e.to_string())?)?;
                if enough(last) {
                    break;
                }
            }
        }
        "async" => {
            let client = async_client(endpoint)?;
            // The runtime a service has (`#[tokio::main]`'s default): the
            // page tasks are decoded on its worker threads, as the blocking
            // client's pages are on its threads.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut records = std::pin::pin!(
                    client
                        .list(ProductListLoadQuery::default())
                        .page_size(page_size)
                        .concurrency(concurrency)
                );
                while let Some(product) =
                    std::future::poll_fn(|cx| records.as_mut().poll_next(cx)).await
                {
                    emit(&mut out, &mut last, &product.map_err(|e| e.to_string())?)?;
                    if enough(last) {
                        break;
                    }
                }
                Ok::<(), String>(())
            })?;
        }
        other => return Err(format!("driver {other:?}: blocking or async")),
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(json!({
        "driver": driver,
        "records": last,
        "seconds": start.elapsed().as_secs_f64(),
    }))
}
