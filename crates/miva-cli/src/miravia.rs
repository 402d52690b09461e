//! `miva miravia ...`: Miravia / Lazada Open Platform tools.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::secrets::{CliError, secret};

/// Miravia / Lazada Open Platform tools.
#[derive(Debug, Subcommand)]
pub(crate) enum MiraviaCommand {
    /// Print the signature of a call; `--explain` also prints the string
    /// that was signed. The secret comes from MIRAVIA_APP_SECRET or
    /// MIRAVIA_APP_SECRET_FILE.
    Sign(SignArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// API path as it follows /rest, e.g. /order/get.
    #[arg(long = "api", value_name = "PATH")]
    api_path: String,
    /// A parameter, system ones included (repeat: --param app_key=123456
    /// --param timestamp=1517820392000 ...). Empty values are not signed.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// A body to append to the string to sign (the exact file bytes, UTF-8).
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Also print the string that was signed (the secret is never printed).
    #[arg(long)]
    explain: bool,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))?;
    if name.is_empty() {
        return Err(format!("{text:?} has an empty parameter name"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

pub(crate) fn run(command: &MiraviaCommand) -> Result<(), CliError> {
    match command {
        MiraviaCommand::Sign(args) => sign(args),
    }
}

fn sign(args: &SignArgs) -> Result<(), CliError> {
    let secret = secret(
        "MIRAVIA_APP_SECRET",
        Some("MIRAVIA_APP_SECRET_FILE"),
        None,
        "Miravia app secret",
    )?
    .ok_or_else(|| {
        CliError("no app secret: set MIRAVIA_APP_SECRET or MIRAVIA_APP_SECRET_FILE".into())
    })?;
    let secret = miravia_sign::AppSecret::new(&secret)?;
    let body = match &args.body_file {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            CliError(format!(
                "cannot read the body file {} as UTF-8: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let signature = miravia_sign::sign(&secret, &args.api_path, &args.params, body.as_deref())?;
    if args.explain {
        let text = miravia_sign::string_to_sign(&args.api_path, &args.params, body.as_deref())?;
        println!("string-to-sign: {text}");
        let skipped: Vec<&str> = args
            .params
            .iter()
            .filter(|(n, v)| v.is_empty() || n == "sign")
            .map(|(n, _)| n.as_str())
            .collect();
        if !skipped.is_empty() {
            println!(
                "not signed: {} (empty values and `sign` are left out)",
                skipped.join(", ")
            );
        }
        println!("sign: {signature}");
    } else {
        println!("{signature}");
    }
    Ok(())
}
