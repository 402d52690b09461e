//! Logs on stderr: `-v` (debug), `-vv` (trace), or `RUST_LOG` when set.
//!
//! The clients log function names, statuses, sizes and durations; never a
//! header value, key or token.

use tracing_subscriber::EnvFilter;

/// Installs the stderr logger. `verbosity` is the number of `-v` flags;
/// `RUST_LOG`, when set, wins.
pub(crate) fn init(verbosity: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!("miva: warning: RUST_LOG={spec:?} is not a valid filter ({e}); using -v");
                default_filter(verbosity)
            }
        },
        _ => default_filter(verbosity),
    };
    // A second installation (impossible in the binary) would only be ignored.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(true)
        .try_init();
}

fn default_filter(verbosity: u8) -> EnvFilter {
    EnvFilter::new(match verbosity {
        0 => "warn",
        1 => "warn,miva_http=debug,miva_mock=debug",
        _ => "debug,miva_http=trace,miva_mock=trace",
    })
}
