//! `miva multicall`: several operations in one request, continued through
//! the store's 206 partial answers, bounded as a whole by `--deadline`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use miva_envelope::{Operation, OperationResult, Response};
use miva_http::miva::CallOptions;
use serde_json::{Map, Value, json};

use crate::secrets::CliError;
use crate::store::StoreArgs;

/// Run operations in one multicall and print one result per operation.
#[derive(Debug, Args)]
pub(crate) struct MulticallArgs {
    /// The operations: `{"Operations": [...]}` or a bare array, each
    /// `{"Function": "...", ...parameters}` with optional `"Iterations":
    /// [{...}, ...]`; inline, `@FILE`, or `-` for stdin.
    #[arg(long, value_name = "JSON")]
    json: String,
    /// Seconds allowed for the whole multicall, every 206 round included
    /// (--timeout bounds each round's request; without a deadline the
    /// whole is bounded only by rounds x timeout).
    #[arg(long, value_name = "SECONDS", value_parser = crate::parse_seconds)]
    deadline: Option<Duration>,
    /// The store's time budget per request, sent as X-Miva-API-Timeout:
    /// when it is spent the store answers 206 with what it finished and
    /// the rest is asked for in another round, so a small value means more
    /// rounds, not a faster failure (the store's default is 60).
    #[arg(long, value_name = "SECONDS", value_parser = crate::parse_seconds)]
    api_timeout: Option<Duration>,
    /// Print compact JSON on one line.
    #[arg(long)]
    compact: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// The operations of `--json`.
fn operations(text: &str) -> Result<Vec<Operation>, CliError> {
    let text = crate::store::read_json_text(text)?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| CliError(format!("--json is not valid JSON: {e}")))?;
    let list = match value {
        Value::Array(list) => list,
        Value::Object(mut map) => match map.remove("Operations") {
            Some(Value::Array(list)) => list,
            _ => {
                return Err(CliError(
                    "--json must be an array of operations or {\"Operations\": [...]}".into(),
                ));
            }
        },
        _ => {
            return Err(CliError(
                "--json must be an array of operations or {\"Operations\": [...]}".into(),
            ));
        }
    };
    if list.is_empty() {
        return Err(CliError(
            "--json holds no operations: give at least one".into(),
        ));
    }
    list.into_iter()
        .enumerate()
        .map(|(n, op)| operation(n + 1, op))
        .collect()
}

fn operation(n: usize, op: Value) -> Result<Operation, CliError> {
    let Value::Object(mut params) = op else {
        return Err(CliError(format!(
            "operation {n} must be an object like {{\"Function\": \"Product_Update\", ...}}"
        )));
    };
    let function = match params.remove("Function") {
        Some(Value::String(f)) if !f.is_empty() => f,
        _ => {
            return Err(CliError(format!(
                "operation {n} has no \"Function\": name the function it calls"
            )));
        }
    };
    let built = match params.remove("Iterations") {
        None => Operation::new(&function, &params),
        Some(Value::Array(iterations)) => {
            Operation::with_iterations(&function, &params, iterations)
        }
        Some(_) => {
            return Err(CliError(format!(
                "operation {n} ({function}): \"Iterations\" must be an array of objects"
            )));
        }
    };
    built.map_err(|e| CliError(format!("operation {n} ({function}): {e}")))
}

/// One response as the store sent it: `{"success": 1, "data": ...}` or the
/// error's fields with `"success": 0`.
fn response(response: &Response<Value>) -> Value {
    match response {
        Response::Success(data) => json!({"success": 1, "data": data}),
        Response::Failure(error) => {
            let mut map = match serde_json::to_value(error) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            map.insert("success".into(), json!(0));
            Value::Object(map)
        }
    }
}

/// Runs the multicall. Exit 0 when every operation succeeded, 1 when the
/// store refused the request or any operation, 2 otherwise.
pub(crate) fn run(args: &MulticallArgs, timeout: Option<Duration>) -> Result<ExitCode, CliError> {
    let operations = operations(&args.json)?;
    let mut builder = args.store.builder(timeout)?;
    if let Some(budget) = args.api_timeout {
        builder = builder.api_timeout(budget);
    }
    let client = builder.build()?;
    let mut options = CallOptions::new();
    options.deadline = args.deadline;
    let results = match client.multicall_with(&operations, &options) {
        Ok(results) => results,
        Err(e) => return crate::store::report(e),
    };
    let mut failed = 0;
    let mut count = |r: &Response<Value>| {
        failed += usize::from(matches!(r, Response::Failure(_)));
        response(r)
    };
    let out: Vec<Value> = results
        .iter()
        .map(|result| match result {
            OperationResult::One(r) => count(r),
            OperationResult::Iterations(list) => {
                Value::Array(list.iter().map(&mut count).collect())
            }
        })
        .collect();
    crate::terminal::print_json(&Value::Array(out), args.compact)?;
    if failed > 0 {
        eprintln!("miva: {failed} of the answers are errors (\"success\": 0)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
