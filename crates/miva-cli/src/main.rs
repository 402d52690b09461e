//! `miva`: call, page through, sign and debug Miva JSON API and Miravia
//! requests, and run local mock servers.
//!
//! ```text
//! miva demo                                  # everything end to end, offline
//! miva call ProductList_Load_Query --json '{"Count": 5}'
//! miva list ProductList_Load_Query --page-size 200 --concurrency 4 > products.jsonl
//! printf '%s' '{"Function":"ProductList_Load_Query"}' | miva sign
//! miva miravia sign --api /order/get --param order_id=1234 ... --explain
//! ```
//!
//! Secrets come from the environment or from files, never from arguments.

mod demo;
mod logging;
mod miravia;
mod mock;
mod multicall;
mod output;
mod progress;
mod secrets;
mod sign;
mod spec;
mod store;
mod terminal;

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

/// Call, sign and debug Miva JSON API and Miravia / Lazada Open Platform
/// requests, and run local mock servers.
///
/// Secrets come from the environment or from files, never from arguments.
/// Exit status: 0 success, 1 the store or platform refused the call, 2 any
/// other failure (configuration, connection, timeout, bad response).
#[derive(Debug, Parser)]
#[command(name = "miva", version, about, long_about = None)]
struct Cli {
    /// Seconds allowed for each request, connection to last byte
    /// (default 120).
    #[arg(long, global = true, env = "MIVA_TIMEOUT", value_name = "SECONDS", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Log to stderr: -v requests (debug), -vv everything (trace).
    /// RUST_LOG, when set, takes precedence.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a mock store in-process and show a call, a paginated export, a
    /// multicall update and an access-denied error, signed with HMAC-SHA256.
    Demo(demo::DemoArgs),
    /// Call a function and print the response's data as JSON. On an API
    /// error, print `error_code: error_message` and exit 1.
    ///
    /// Store: MIVA_ENDPOINT, MIVA_STORE_CODE. Credentials: as for `sign`.
    Call(store::CallArgs),
    /// Print every record of a list query as one JSON line, in order,
    /// fetching page after page (progress on stderr when it is a terminal).
    ///
    /// Store: MIVA_ENDPOINT, MIVA_STORE_CODE. Credentials: as for `sign`.
    List(store::ListArgs),
    /// Run several operations in one multicall request, continuing through
    /// the store's HTTP 206 partial answers, and print one result per
    /// operation as JSON. Exit 1 when any answer is an error.
    ///
    /// Store: MIVA_ENDPOINT, MIVA_STORE_CODE. Credentials: as for `sign`.
    Multicall(multicall::MulticallArgs),
    /// Print the X-Miva-API-Authorization header line for the body on stdin.
    ///
    /// Credentials: MIVA_API_TOKEN with MIVA_SIGNING_KEY or
    /// MIVA_SIGNING_KEY_FILE and MIVA_DIGEST (sha256, sha1, none); or
    /// MIVA_SSH_USER, MIVA_SSH_KEY_FILE, MIVA_SSH_PASSPHRASE and
    /// MIVA_SSH_DIGEST (sha256, sha512); or MIVA_SSH_USER and
    /// MIVA_SSH_PUBLIC_KEY_FILE to sign through the ssh-agent at
    /// SSH_AUTH_SOCK.
    Sign(sign::SignArgs),
    /// Show a function's parameters, list columns and response from the
    /// API spec (258 functions); without FUNCTION, list them all.
    Spec(spec::SpecArgs),
    /// Miravia / Lazada Open Platform tools.
    #[command(subcommand)]
    Miravia(miravia::MiraviaCommand),
    /// Serve a mock Miva store on loopback until stopped. The first stdout
    /// line is the endpoint URL.
    Mock(mock::MockArgs),
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!(
            "{text} is out of range: give a number of seconds above 0 and at most 86400"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `miva call|list [FUNCTION] --help`: the command's help, then what the
/// API spec says about FUNCTION.
fn help(command: &str, function: Option<&str>) -> Result<(), secrets::CliError> {
    let mut cli = Cli::command();
    if let Some(sub) = cli.find_subcommand_mut(command) {
        let mut sub = sub.clone().bin_name(format!("miva {command}"));
        match function {
            None => sub.print_long_help()?,
            Some(_) => sub.print_help()?,
        }
    }
    if let Some(name) = function {
        println!();
        spec::show(name)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let done = |r: Result<(), secrets::CliError>| r.map(|()| ExitCode::SUCCESS);
    let result = match &cli.command {
        Command::Call(store::CallArgs {
            help: true,
            function,
            ..
        }) => done(help("call", function.as_deref())),
        Command::List(store::ListArgs {
            help: true,
            function,
            ..
        }) => done(help("list", function.as_deref())),
        Command::Demo(args) => demo::run(args),
        Command::Call(args) => store::call(args, cli.timeout),
        Command::List(args) => store::list(args, cli.timeout),
        Command::Multicall(args) => multicall::run(args, cli.timeout),
        Command::Sign(args) => done(sign::run(args)),
        Command::Miravia(command) => done(miravia::run(command, cli.timeout)),
        Command::Mock(args) => done(mock::run(args)),
        Command::Spec(args) => done(spec::run(args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // May hold server text (a transport error, a redirect): escaped.
            eprintln!("miva: error: {}", terminal::safe_lines(&e.0));
            ExitCode::from(2)
        }
    }
}
