//! `miva miravia ...`: Miravia / Lazada Open Platform tools.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use miva_http::miravia::{FilePart, Gateway, Method, MiraviaClient};

use crate::secrets::{CliError, env, secret};

/// Miravia / Lazada Open Platform tools.
#[derive(Debug, Subcommand)]
pub(crate) enum MiraviaCommand {
    /// Print the signature of a call; `--explain` also prints the string
    /// that was signed. The secret comes from MIRAVIA_APP_SECRET or
    /// MIRAVIA_APP_SECRET_FILE.
    Sign(SignArgs),
    /// Call an API and print the response JSON. Configuration:
    /// MIRAVIA_ENDPOINT (default https://api.miravia.es/rest),
    /// MIRAVIA_APP_KEY, MIRAVIA_APP_SECRET or MIRAVIA_APP_SECRET_FILE,
    /// MIRAVIA_ACCESS_TOKEN. Exits 1 on a platform error.
    Call(CallArgs),
    /// Create or refresh a seller token and print the response JSON.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Serve a mock gateway on loopback until stopped; the first stdout line
    /// is its base URL (ending in /rest).
    Mock(MockArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// API path, e.g. /order/get.
    api_path: String,
    /// A business parameter (repeat).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Send as POST (form body) instead of GET.
    #[arg(long)]
    post: bool,
    /// Attach a file part (implies POST, multipart): NAME=PATH.
    #[arg(long = "file", value_name = "NAME=PATH", value_parser = parse_param)]
    files: Vec<(String, String)>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// /auth/token/create with the code from the seller's authorization:
    /// from MIRAVIA_AUTH_CODE, or --code-file FILE (`-` reads stdin). Never
    /// an argument, where `ps` and shell history would show it.
    Create {
        /// File holding the authorization code (trailing newline ignored);
        /// `-` reads it from stdin. Without it, MIRAVIA_AUTH_CODE is used.
        #[arg(long, value_name = "FILE")]
        code_file: Option<PathBuf>,
    },
    /// /auth/token/refresh with MIRAVIA_REFRESH_TOKEN or
    /// MIRAVIA_REFRESH_TOKEN_FILE.
    Refresh,
}

#[derive(Debug, Args)]
pub(crate) struct MockArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: std::net::SocketAddr,
    /// The app key the mock accepts.
    #[arg(long)]
    app_key: String,
    /// File with the app secret (else MIRAVIA_APP_SECRET; else a fresh one
    /// is made and printed).
    #[arg(long, value_name = "FILE")]
    app_secret_file: Option<PathBuf>,
    /// File holding a seller access token the mock accepts (else
    /// MIRAVIA_ACCESS_TOKEN; else only the tokens it issues).
    #[arg(long, value_name = "FILE")]
    access_token_file: Option<PathBuf>,
    /// Wait this many milliseconds before every answer (a slow gateway).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    latency_ms: Option<u64>,
    /// Misbehave on every answer: server-error-html, service-unavailable,
    /// empty-ok, truncated-json, close-mid-body, oversized-body:BYTES.
    #[arg(long, value_name = "FAULT", value_parser = miva_mock::Fault::from_name)]
    fault: Option<miva_mock::Fault>,
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

pub(crate) fn run(command: &MiraviaCommand, timeout: Option<Duration>) -> Result<(), CliError> {
    match command {
        MiraviaCommand::Sign(args) => sign(args),
        MiraviaCommand::Call(args) => call(args, timeout),
        MiraviaCommand::Token(command) => token(command, timeout),
        MiraviaCommand::Mock(args) => mock(args),
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

fn client(timeout: Option<Duration>) -> Result<MiraviaClient, CliError> {
    let endpoint = env("MIRAVIA_ENDPOINT");
    let gateway = match endpoint.as_deref().map(String::as_str) {
        None => Gateway::MiraviaEs,
        Some(url) => Gateway::Custom(url.to_owned()),
    };
    let app_key =
        env("MIRAVIA_APP_KEY").ok_or_else(|| CliError("no app key: set MIRAVIA_APP_KEY".into()))?;
    let secret = secret(
        "MIRAVIA_APP_SECRET",
        Some("MIRAVIA_APP_SECRET_FILE"),
        None,
        "Miravia app secret",
    )?
    .ok_or_else(|| {
        CliError("no app secret: set MIRAVIA_APP_SECRET or MIRAVIA_APP_SECRET_FILE".into())
    })?;
    let mut builder =
        MiraviaClient::builder(gateway, &app_key, miravia_sign::AppSecret::new(&secret)?);
    if let Some(token) = env("MIRAVIA_ACCESS_TOKEN") {
        builder = builder.access_token(&token);
    }
    if let Some(timeout) = timeout {
        let mut transport = miva_http::TransportConfig::new().timeout(timeout);
        transport.connect_timeout = transport.connect_timeout.min(timeout);
        builder = builder.transport(transport);
    }
    Ok(builder.build()?)
}

/// Prints the response, or the platform error as `code: message (request_id)`
/// with exit status 1.
fn print(result: Result<serde_json::Value, miva_http::Error>) -> Result<(), CliError> {
    match result {
        Ok(value) => crate::terminal::print_json(&value, false),
        Err(miva_http::Error::Miravia(e)) => {
            // Code, message and request id are the platform's: escaped.
            eprintln!("{}", crate::terminal::safe(&e.to_string()));
            std::process::exit(1);
        }
        Err(e) => Err(CliError(e.to_string())),
    }
}

fn call(args: &CallArgs, timeout: Option<Duration>) -> Result<(), CliError> {
    let client = client(timeout)?;
    let mut files = Vec::new();
    for (name, path) in &args.files {
        let bytes =
            std::fs::read(path).map_err(|e| CliError(format!("cannot read {path}: {e}")))?;
        let file_name = std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone());
        files.push(FilePart::new(name, &file_name, bytes));
    }
    let method = if args.post || !files.is_empty() {
        Method::Post
    } else {
        Method::Get
    };
    let params: Vec<(&str, &str)> = args
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    print(client.call(method, &args.api_path, &params, &files))
}

fn token(command: &TokenCommand, timeout: Option<Duration>) -> Result<(), CliError> {
    let client = client(timeout)?;
    let token = match command {
        TokenCommand::Create { code_file } => {
            let code = auth_code(code_file.as_deref())?;
            client.create_token(&code)
        }
        TokenCommand::Refresh => {
            let refresh = secret(
                "MIRAVIA_REFRESH_TOKEN",
                Some("MIRAVIA_REFRESH_TOKEN_FILE"),
                None,
                "refresh token",
            )?
            .ok_or_else(|| {
                CliError(
                    "no refresh token: set MIRAVIA_REFRESH_TOKEN or MIRAVIA_REFRESH_TOKEN_FILE"
                        .into(),
                )
            })?;
            client.refresh_token(&refresh)
        }
    };
    print(token.map(|t| {
        let mut value = t.details.clone();
        if let Some(object) = value.as_object_mut() {
            object.insert("access_token".into(), t.access_token().into());
            if let Some(refresh) = t.refresh_token() {
                object.insert("refresh_token".into(), refresh.into());
            }
        }
        value
    }))
}

/// The OAuth code: `--code-file FILE`, `--code-file -` (stdin) or
/// MIRAVIA_AUTH_CODE; surrounding whitespace is ignored.
fn auth_code(file: Option<&std::path::Path>) -> Result<zeroize::Zeroizing<String>, CliError> {
    let code = if file == Some(std::path::Path::new("-")) {
        let mut text = zeroize::Zeroizing::new(String::new());
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            CliError(format!(
                "cannot read the authorization code from stdin: {e}"
            ))
        })?;
        Some(text)
    } else {
        secret("MIRAVIA_AUTH_CODE", None, file, "authorization code")?
    };
    match code {
        Some(code) if !code.trim().is_empty() => {
            Ok(zeroize::Zeroizing::new(code.trim().to_owned()))
        }
        _ => Err(CliError(
            "no authorization code: set MIRAVIA_AUTH_CODE, or give --code-file FILE \
             (--code-file - reads stdin) with the code from the seller's authorization \
             redirect"
                .into(),
        )),
    }
}

fn mock(args: &MockArgs) -> Result<(), CliError> {
    use std::io::Write;
    let given = match &args.app_secret_file {
        Some(path) => Some(crate::secrets::read_secret_file(path, "app secret")?),
        None => env("MIRAVIA_APP_SECRET"),
    };
    let (secret, generated) = match given {
        Some(s) => (s.trim_end_matches(['\n', '\r']).to_owned(), false),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            (format!("mock-secret-{nanos:x}"), true)
        }
    };
    let mut config = miva_mock::miravia::MiraviaConfig::new(
        &args.app_key,
        miravia_sign::AppSecret::new(&secret)?,
    )
    .with_bind(args.addr);
    let token = crate::secrets::secret(
        "MIRAVIA_ACCESS_TOKEN",
        None,
        args.access_token_file.as_deref(),
        "access token",
    )?;
    if let Some(token) = token.as_deref().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        config = config.with_access_token(token);
    }
    let mut faults = miva_mock::Faults::default();
    if let Some(ms) = args.latency_ms.filter(|ms| *ms > 0) {
        faults = faults.with_latency(std::time::Duration::from_millis(ms));
    }
    if let Some(fault) = args.fault {
        faults = faults.with_fault(fault);
    }
    config = config.with_faults(faults);
    let gateway = miva_mock::miravia::MiraviaGateway::start(config)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", gateway.url())?;
    if generated {
        writeln!(out, "# fresh test secret for this run:")?;
        writeln!(out, "export MIRAVIA_APP_SECRET={secret}")?;
    }
    out.flush()?;
    drop(out);
    eprintln!(
        "miva: mock Miravia gateway at {}; stop with Ctrl-C",
        gateway.url()
    );
    gateway.wait();
    Ok(())
}
