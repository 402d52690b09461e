//! `miva`: sign and debug Miva JSON API and Miravia requests.
//!
//! ```text
//! printf '%s' '{"Function":"ProductList_Load_Query"}' | miva sign
//! miva miravia sign --api /order/get --param order_id=1234 ... --explain
//! ```
//!
//! Secrets come from the environment or from files, never from arguments.

mod miravia;
mod mock;
mod secrets;
mod sign;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sign and debug Miva JSON API and Miravia / Lazada Open Platform requests.
///
/// Secrets come from the environment or from files, never from arguments.
#[derive(Debug, Parser)]
#[command(name = "miva", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the X-Miva-API-Authorization header line for the body on stdin.
    ///
    /// Credentials: MIVA_API_TOKEN with MIVA_SIGNING_KEY or
    /// MIVA_SIGNING_KEY_FILE and MIVA_DIGEST (sha256, sha1, none); or
    /// MIVA_SSH_USER, MIVA_SSH_KEY_FILE, MIVA_SSH_PASSPHRASE and
    /// MIVA_SSH_DIGEST (sha256, sha512).
    Sign(sign::SignArgs),
    /// Miravia / Lazada Open Platform tools.
    #[command(subcommand)]
    Miravia(miravia::MiraviaCommand),
    /// Serve a mock Miva store on loopback until stopped. The first stdout
    /// line is the endpoint URL.
    Mock(mock::MockArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Sign(args) => sign::run(args),
        Command::Miravia(command) => miravia::run(command),
        Command::Mock(args) => mock::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("miva: error: {}", e.0);
            ExitCode::from(2)
        }
    }
}
