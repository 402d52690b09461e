//! `miva mock`: a local Miva store on loopback, until stopped.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use miva_mock::{Credentials, MockConfig, MockServer};

use crate::secrets::{CliError, read_secret_file};

/// Serve a mock Miva store (JSON API over HTTP on loopback) until stopped.
#[derive(Debug, Args)]
pub(crate) struct MockArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Number of seeded products (ids 1..N, codes P000001...).
    #[arg(long, default_value_t = 100)]
    products: usize,
    /// Credentials JSON: {"store_code", "tokens": [{"token", "signing_key",
    /// "digest", "require_timestamp"}], "ssh_users": [{"username",
    /// "public_key"}]}. Without it, fresh credentials are made and printed.
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// Answer multicalls with at most this many operations per response
    /// (206 partial responses), to exercise continuation.
    #[arg(long, value_name = "N")]
    multicall_budget: Option<usize>,
    /// Wait this many milliseconds before every answer (a slow store), to
    /// see what `miva list --concurrency` buys.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    latency_ms: Option<u64>,
    /// Misbehave on every answer, to see what a client does: one of
    /// server-error-html, service-unavailable, empty-ok, truncated-json, close-mid-body,
    /// partial-without-content-range, partial-without-progress,
    /// oversized-body:BYTES.
    #[arg(long, value_name = "FAULT", value_parser = miva_mock::Fault::from_name)]
    fault: Option<miva_mock::Fault>,
}

pub(crate) fn run(args: &MockArgs) -> Result<(), CliError> {
    let (credentials, generated) = match &args.credentials {
        Some(path) => {
            let text = read_secret_file(path, "credentials")?;
            let creds = Credentials::from_json(&text)
                .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
            (creds, false)
        }
        None => (Credentials::generate()?, true),
    };
    let config = MockConfig::new(credentials)
        .with_bind(args.addr)
        .with_products(args.products)
        .with_multicall_budget(args.multicall_budget);
    let mut faults = miva_mock::Faults::default();
    if let Some(ms) = args.latency_ms.filter(|ms| *ms > 0) {
        faults = faults.with_latency(std::time::Duration::from_millis(ms));
    }
    if let Some(fault) = args.fault {
        faults = faults.with_fault(fault);
    }
    let config = config.with_faults(faults);
    let server = MockServer::start(config)?;
    let mut out = std::io::stdout().lock();
    // The first line is the endpoint, for scripts: `read -r URL`.
    writeln!(out, "{}", server.url())?;
    if generated && let Some(token) = server.credentials().tokens().first() {
        writeln!(
            out,
            "# fresh test credentials for this run (not a real store's):"
        )?;
        writeln!(out, "export MIVA_ENDPOINT={}", server.url())?;
        writeln!(out, "export MIVA_STORE_CODE={}", server.store_code())?;
        writeln!(out, "export MIVA_API_TOKEN={}", token.token().expose())?;
        if let Some(key) = token.signing_key_base64() {
            writeln!(out, "export MIVA_SIGNING_KEY={key}")?;
        }
        writeln!(out, "export MIVA_DIGEST={}", token.digest().name())?;
    }
    out.flush()?;
    drop(out);
    eprintln!(
        "miva: mock store {} serving {} products at {}; stop with Ctrl-C",
        server.store_code(),
        args.products,
        server.url()
    );
    server.wait();
    Ok(())
}
