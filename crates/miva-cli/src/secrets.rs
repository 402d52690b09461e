//! Reading secrets from the environment or from files, never from the
//! command line (where `ps` and shell history would show them).

use std::path::Path;

use zeroize::Zeroizing;

/// A CLI failure: what went wrong and what to do, already phrased for a user.
#[derive(Debug)]
pub(crate) struct CliError(pub(crate) String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

pub(crate) fn env(name: &str) -> Option<Zeroizing<String>> {
    std::env::var(name)
        .ok()
        .map(Zeroizing::new)
        .filter(|v| !v.is_empty())
}

/// Reads a secret file, warning on stderr when others can read it.
pub(crate) fn read_secret_file(path: &Path, what: &str) -> Result<Zeroizing<String>, CliError> {
    warn_if_readable_by_others(path, what);
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        CliError(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        CliError(format!(
            "the {what} file {} is not UTF-8 text",
            path.display()
        ))
    })?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// The secret from variable `var`, or from the file named by `file_var` or
/// by the `--...-file` flag. Trailing newlines of a file are removed.
pub(crate) fn secret(
    var: &str,
    file_var: Option<&str>,
    flag_file: Option<&Path>,
    what: &str,
) -> Result<Option<Zeroizing<String>>, CliError> {
    if let Some(path) = flag_file {
        return read_secret_file(path, what).map(|s| Some(trim_newline(s)));
    }
    if let Some(value) = env(var) {
        return Ok(Some(value));
    }
    if let Some(path) = file_var.and_then(env) {
        return read_secret_file(Path::new(path.as_str()), what).map(|s| Some(trim_newline(s)));
    }
    Ok(None)
}

fn trim_newline(s: Zeroizing<String>) -> Zeroizing<String> {
    let trimmed = s.trim_end_matches(['\n', '\r']);
    if trimmed.len() == s.len() {
        s
    } else {
        Zeroizing::new(trimmed.to_owned())
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "miva: warning: the {what} file {} can be read by group or others (mode {:o}); \
                 restrict it with `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path, _what: &str) {}
