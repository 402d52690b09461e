//! `miva demo`: the main job end to end against an in-process mock store.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::Args;
use miva_envelope::{
    ListQuery, Operation, OperationResult, ProductListLoadQuery, ProductUpdate, Response, Search,
    Sort,
};
use miva_http::Error;
use miva_http::miva::MivaClient;
use miva_mock::{Credentials, MockConfig, MockServer};
use miva_sign::{Credential, HmacDigest, SigningKey};

use crate::progress::Progress;
use crate::secrets::CliError;

/// Show the main job end to end against a mock store started in-process.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Products in the mock store.
    #[arg(long, default_value_t = 2_500, value_name = "N")]
    products: usize,
    /// Where the export goes (default: a file in the temporary directory).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

const BUDGET: usize = 4;

pub(crate) fn run(args: &DemoArgs) -> Result<ExitCode, CliError> {
    let credentials = Credentials::generate()?;
    let server = MockServer::start(
        MockConfig::new(credentials)
            .with_products(args.products)
            .with_multicall_budget(Some(BUDGET)),
    )?;
    let token = server
        .credentials()
        .tokens()
        .first()
        .ok_or_else(|| CliError("the mock store has no token".into()))?;
    let client = MivaClient::builder(server.url(), token.credential())
        .store_code(server.store_code())
        .build()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "A mock Miva store is running at {} (store {}, {} products).\n\
         Every request below is signed with HMAC-SHA256 and carries Miva_Request_Timestamp.\n\
         The token and key are fresh test values made for this run.",
        server.url(),
        server.store_code(),
        args.products
    )?;

    // 1. One typed call.
    writeln!(
        out,
        "\n1. One call: ProductList_Load_Query, the 3 most expensive products"
    )?;
    let page = client.call(&ProductListLoadQuery::new(
        ListQuery::new().count(3).sort(Sort::desc("price")),
    ))?;
    for p in &page.data {
        writeln!(
            out,
            "   {:<10} {:<28} {:>10.2}",
            p.code.as_deref().unwrap_or("?"),
            p.name.as_deref().unwrap_or("?"),
            p.price.unwrap_or_default()
        )?;
    }
    writeln!(out, "   total_count: {}", page.total_count)?;

    // 2. A paginated export.
    let path = args.output.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("miva-demo-products-{}.jsonl", std::process::id()))
    });
    writeln!(
        out,
        "\n2. A paginated export: every product, 100 per request, 4 requests in flight,\n   \
         one JSON line per product to {}",
        path.display()
    )?;
    out.flush()?;
    let file = std::fs::File::create(&path)
        .map_err(|e| CliError(format!("cannot create {}: {e}", path.display())))?;
    let mut sink = BufWriter::new(file);
    let mut progress = Progress::new("   ProductList_Load_Query");
    let started = Instant::now();
    let mut records = client
        .list(ProductListLoadQuery::new(
            ListQuery::new().sort(Sort::asc("id")),
        ))
        .page_size(100)
        .concurrency(4);
    let mut expected_id = 1;
    while let Some(record) = records.next() {
        let product = record?;
        if product.id != Some(expected_id) {
            return Err(CliError(format!(
                "the export went out of order: expected id {expected_id}, got {:?}",
                product.id
            )));
        }
        expected_id += 1;
        serde_json::to_writer(&mut sink, &product)?;
        sink.write_all(b"\n")?;
        progress.tick(records.total_count());
    }
    sink.flush()?;
    progress.finish();
    writeln!(
        out,
        "   {} products in {:.2} s, each exactly once and in id order",
        progress.done(),
        started.elapsed().as_secs_f64()
    )?;

    // 3. A multicall update.
    let codes: Vec<String> = (1..=10.min(args.products))
        .map(|i| format!("P{i:06}"))
        .collect();
    writeln!(
        out,
        "\n3. A multicall: {} Product_Update operations in one request. This mock answers\n   \
         at most {BUDGET} per response (HTTP 206 + Content-Range), so the client continues\n   \
         with a Range header until every operation is answered.",
        codes.len()
    )?;
    let mut operations = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let update = ProductUpdate::new()
            .edit_product(code.as_str())
            .product_price(100.0 + i as f64);
        operations.push(Operation::request(&update)?);
    }
    let results = client.multicall(&operations)?;
    let ok = results
        .iter()
        .filter(|r| matches!(r, OperationResult::One(Response::Success(_))))
        .count();
    writeln!(out, "   {ok} of {} updates succeeded", results.len())?;
    let check = client.call(&ProductListLoadQuery::new(
        ListQuery::new()
            .search(Search::new().is_in("code", codes.iter().map(String::as_str)))
            .sort(Sort::asc("code")),
    ))?;
    let prices: Vec<String> = check
        .data
        .iter()
        .map(|p| format!("{:.0}", p.price.unwrap_or_default()))
        .collect();
    writeln!(out, "   read back: prices are now {}", prices.join(", "))?;

    // 4. Access denied, explained.
    writeln!(
        out,
        "\n4. Access denied, explained: the same call signed with a wrong key; then from a\n   \
         machine whose clock is 10 minutes fast (the store allows 30 s)."
    )?;
    let wrong_key = SigningKey::from_base64("d3Jvbmcta2V5LWZvci10aGUtZGVtby0wMDAwMDAwMDA")?;
    let wrong = Credential::hmac(token.token().clone(), &wrong_key, HmacDigest::Sha256);
    let skewed = MivaClient::builder(server.url(), token.credential())
        .store_code(server.store_code())
        .clock(|| SystemTime::now() + Duration::from_secs(600))
        .build()?;
    let wrong = MivaClient::builder(server.url(), wrong)
        .store_code(server.store_code())
        .build()?;
    let query = ProductListLoadQuery::new(ListQuery::new().count(1));
    match wrong.call(&query) {
        Err(Error::AccessDenied { kind, error }) => {
            writeln!(out, "   {}: {}", error.code, error.message)?;
            writeln!(out, "     kind: {kind:?}; what to do: {}", kind.hint())?;
        }
        Err(e) => return Err(CliError(format!("expected access denied, got: {e}"))),
        Ok(_) => {
            return Err(CliError(
                "expected access denied, the call succeeded".into(),
            ));
        }
    }
    let page = skewed.call(&query)?;
    if skewed.clock_offset_ms() / 1000 == 0 {
        return Err(CliError(
            "expected the store to refuse the fast clock's timestamp".into(),
        ));
    }
    writeln!(
        out,
        "   access_denied: Timestamp outside configured window\n     \
         the client read the store's time from its Date header (offset {} s), signed\n     \
         again with a corrected timestamp and got {} record(s); later calls use the offset.",
        skewed.clock_offset_ms() / 1000,
        page.data.len()
    )?;
    writeln!(
        out,
        "\nNext: `miva mock` serves this store until stopped and prints the variables for\n\
         `miva call` and `miva list`; see the README for calling a real store."
    )?;
    out.flush()?;
    server.shutdown();
    Ok(ExitCode::SUCCESS)
}
