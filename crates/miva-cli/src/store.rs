//! `miva call` and `miva list`: calling a Miva store from the shell.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use miva_envelope::{ListQuery, RawListQuery};
use miva_http::miva::{CallOptions, MivaClient, MivaClientBuilder};
use miva_http::{Error, TransportConfig};
use serde_json::{Map, Value};

use crate::progress::Progress;
use crate::secrets::CliError;
use crate::sign::MivaCredentialArgs;
use crate::terminal::safe;

/// Where the store is and how to sign for it.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The store's JSON endpoint, e.g. https://www.example.com/mm5/json.mvc.
    #[arg(long, env = "MIVA_ENDPOINT", value_name = "URL")]
    endpoint: Option<String>,
    /// The default Store_Code (domain functions send none).
    #[arg(long, env = "MIVA_STORE_CODE", value_name = "CODE")]
    store_code: Option<String>,
    /// Send the token in clear over http:// to a host other than loopback.
    #[arg(long)]
    allow_insecure_http: bool,
    /// Largest response body read, in bytes (default 64 MiB). A response's
    /// decoded form may take 4 times this; concurrent pages share it.
    #[arg(long, env = "MIVA_BODY_LIMIT", value_name = "BYTES")]
    body_limit: Option<u64>,
    #[command(flatten)]
    credential: MivaCredentialArgs,
}

impl StoreArgs {
    /// The client these settings describe.
    pub(crate) fn client(&self, timeout: Option<Duration>) -> Result<MivaClient, CliError> {
        Ok(self.builder(timeout)?.build()?)
    }

    /// The builder of [`StoreArgs::client`], for settings of one command.
    pub(crate) fn builder(&self, timeout: Option<Duration>) -> Result<MivaClientBuilder, CliError> {
        let endpoint = self.endpoint.clone().ok_or_else(|| {
            CliError(
                "no endpoint: set MIVA_ENDPOINT or --endpoint to the store's \
                 https://<domain>/mm5/json.mvc"
                    .into(),
            )
        })?;
        let credential = self.credential.credential()?;
        let mut transport = TransportConfig::new().allow_insecure_http(self.allow_insecure_http);
        if let Some(limit) = self.body_limit {
            transport.body_limit = limit;
        }
        if let Some(timeout) = timeout {
            transport.timeout = timeout;
            transport.connect_timeout = transport.connect_timeout.min(timeout);
        }
        let mut builder = MivaClient::builder(&endpoint, credential).transport(transport);
        if let Some(code) = self.store_code.as_deref().filter(|c| !c.is_empty()) {
            builder = builder.store_code(code);
        }
        Ok(builder)
    }
}

/// Call one function and print the response's `data` as JSON.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub(crate) struct CallArgs {
    /// The function, e.g. ProductList_Load_Query or Module (`miva call
    /// FUNCTION --help` lists its parameters).
    #[arg(required_unless_present = "help")]
    pub(crate) function: Option<String>,
    /// Print help; after FUNCTION, that function's parameters, list columns
    /// and response from the API spec.
    #[arg(short, long, action = clap::ArgAction::SetTrue)]
    pub(crate) help: bool,
    /// The parameters as a JSON object, `@FILE` to read them from a file, or
    /// `-` for stdin. `"Store_Code": null` sends none.
    #[arg(long, value_name = "JSON")]
    json: Option<String>,
    /// Print compact JSON on one line.
    #[arg(long)]
    compact: bool,
    /// Seconds allowed for the whole call, retries included (--timeout
    /// bounds each request; a request in flight is cut off at the deadline).
    #[arg(long, value_name = "SECONDS", value_parser = crate::parse_seconds)]
    deadline: Option<Duration>,
    #[command(flatten)]
    store: StoreArgs,
}

/// Every record of a list query, one JSON line each, in order.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub(crate) struct ListArgs {
    /// The list function, e.g. ProductList_Load_Query (`miva list FUNCTION
    /// --help` lists its columns and filters).
    #[arg(required_unless_present = "help")]
    pub(crate) function: Option<String>,
    /// Print help; after FUNCTION, that function's parameters, list columns
    /// and response from the API spec.
    #[arg(short, long, action = clap::ArgAction::SetTrue)]
    pub(crate) help: bool,
    /// Records per request.
    #[arg(long, default_value_t = 100, value_name = "N")]
    page_size: u64,
    /// Pages fetched at once, one thread each, 1 to 64 (records still come
    /// out in order; no more threads than pages are started).
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = parse_concurrency)]
    concurrency: usize,
    /// Seconds allowed for the whole export (--timeout bounds each page's
    /// request; a request in flight is cut off at the deadline, and the
    /// records before it are kept).
    #[arg(long, value_name = "SECONDS", value_parser = crate::parse_seconds)]
    deadline: Option<Duration>,
    /// More of the query as a JSON object (`@FILE` or `-` for stdin):
    /// Filter, Sort, Offset, Count (a limit), function-specific fields.
    #[arg(long, value_name = "JSON")]
    json: Option<String>,
    /// Send search, sort and on-demand columns the API spec does not list
    /// for FUNCTION (by default they are refused, naming the closest).
    #[arg(long)]
    no_column_check: bool,
    /// Write the records to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

/// `--concurrency`: 1 to [`MAX_CONCURRENCY`](miva_http::miva::MAX_CONCURRENCY).
fn parse_concurrency(text: &str) -> Result<usize, String> {
    let max = miva_http::miva::MAX_CONCURRENCY;
    let pages: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of pages"))?;
    if pages == 0 || pages > max {
        return Err(format!(
            "{pages} is out of range: give 1 to {max} pages in flight (one thread each)"
        ));
    }
    Ok(pages)
}

/// The text of a `--json` argument (inline, `@FILE`, or `-` for stdin)
/// and where it came from.
fn json_text(text: &str) -> Result<(String, String), CliError> {
    Ok(if text == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| CliError(format!("cannot read --json from stdin: {e}")))?;
        (s, "stdin".to_owned())
    } else if let Some(path) = text.strip_prefix('@') {
        let s = std::fs::read_to_string(path)
            .map_err(|e| CliError(format!("cannot read the --json file {path}: {e}")))?;
        (s, path.to_owned())
    } else {
        (text.to_owned(), "--json".to_owned())
    })
}

/// The text of a `--json` argument: inline, `@FILE`, or `-` for stdin.
pub(crate) fn read_json_text(text: &str) -> Result<String, CliError> {
    json_text(text).map(|(text, _)| text)
}

/// Reads `--json`: inline text, `@FILE`, or `-` for stdin.
fn read_params(json: Option<&str>) -> Result<Map<String, Value>, CliError> {
    let Some(text) = json else {
        return Ok(Map::new());
    };
    let (text, source) = json_text(text)?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(CliError(format!(
            "{source} must be a JSON object like {{\"Count\": 10}}, found {}",
            kind(&other)
        ))),
        Err(e) => Err(CliError(format!("{source} is not valid JSON: {e}"))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reports a failed call: API errors as `error_code: error_message` with
/// exit status 1; everything else goes back as a [`CliError`] (status 2).
pub(crate) fn report(error: Error) -> Result<ExitCode, CliError> {
    if let Error::Page {
        function, offset, ..
    } = &error
    {
        eprintln!("miva: the page of {function} at offset {offset} failed:");
    }
    match error.root() {
        Error::Api(api) | Error::AccessDenied { error: api, .. } | Error::ApiOffline(api) => {
            // Server text: escaped, so no control sequence reaches the terminal.
            eprintln!("{}: {}", safe(&api.code), safe(&api.message));
            for field in api.field_errors() {
                eprintln!("  {}: {}", safe(&field.field), safe(&field.message));
            }
            if let Some(hint) = error.hint() {
                eprintln!("miva: hint: {hint}");
            }
            Ok(ExitCode::from(1))
        }
        _ => Err(CliError(error.to_string())),
    }
}

/// The function named on the command line (clap requires it unless
/// `--help` was given, which is handled before).
fn function_arg(function: Option<&str>) -> Result<&str, CliError> {
    function.ok_or_else(|| CliError("name the function, e.g. ProductList_Load_Query".to_owned()))
}

pub(crate) fn call(args: &CallArgs, timeout: Option<Duration>) -> Result<ExitCode, CliError> {
    let function = function_arg(args.function.as_deref())?;
    let params = read_params(args.json.as_deref())?;
    crate::spec::check_name(function, false);
    let client = args.store.client(timeout)?;
    if client.store_code().is_none() && !params.contains_key("Store_Code") {
        tracing::debug!("no store code: the call is sent without Store_Code");
    }
    let mut options = CallOptions::new();
    options.deadline = args.deadline;
    match client.call_raw_with(function, &Value::Object(params), &options) {
        Ok(data) => {
            crate::terminal::print_json(&data, args.compact)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => report(e),
    }
}

pub(crate) fn list(args: &ListArgs, timeout: Option<Duration>) -> Result<ExitCode, CliError> {
    let function = function_arg(args.function.as_deref())?;
    let mut params = read_params(args.json.as_deref())?;
    // A Count in --json is a limit on the whole export, not a page size.
    let limit = match params.remove("Count") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            CliError(format!(
                "Count in --json must be a non-negative integer (the most records to export), found {v}"
            ))
        })?),
    };
    let query = ListQuery::from_json(params).map_err(|e| CliError(format!("--json: {e}")))?;
    crate::spec::check_name(function, true);
    let client = args.store.client(timeout)?;
    let mut request = RawListQuery::new(function, query);
    request.check_columns = !args.no_column_check;

    // -o FILE: written beside FILE and renamed over it only on success, so
    // a failed run never leaves FILE truncated.
    let file = args
        .output
        .as_deref()
        .map(crate::output::AtomicFile::create)
        .transpose()?;
    let sink: Box<dyn Write> = match &file {
        Some(file) => Box::new(file.writer()?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(64 * 1024, sink);
    let mut progress = Progress::new(function);
    // No page larger than the records wanted.
    let page_size = limit.map_or(args.page_size, |l| args.page_size.min(l.max(1)));
    let mut records = client
        .list(request)
        .page_size(page_size)
        .concurrency(args.concurrency);
    if let Some(deadline) = args.deadline {
        records = records.deadline(deadline);
    }
    let mut line = Vec::with_capacity(1024);
    let mut failure = None;
    while limit.is_none_or(|l| progress.done() < l) {
        let Some(next) = records.next() else { break };
        match next {
            Ok(record) => {
                line.clear();
                serde_json::to_writer(&mut line, &record)?;
                crate::terminal::safe_json_bytes(&mut line);
                line.push(b'\n');
                if let Err(e) = out.write_all(&line) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(ExitCode::SUCCESS);
                    }
                    return Err(CliError(format!("cannot write a record: {e}")));
                }
                progress.tick(records.total_count());
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if let Err(e) = out.flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(CliError(format!("cannot write the records: {e}")));
    }
    drop(out);
    progress.finish();
    match failure {
        None => {
            if let Some(file) = file {
                file.commit()?;
            }
            tracing::info!(
                records = progress.done(),
                seconds = progress.elapsed(),
                "export finished"
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(e) => {
            eprintln!(
                "miva: {} records were written before the error",
                progress.done()
            );
            if let Some(file) = file {
                file.abandon();
            }
            report(e)
        }
    }
}
