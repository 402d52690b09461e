//! Transport settings both drivers honour, and the URL rule they share.

use std::time::Duration;

use crate::error::Error;

/// Transport settings with safe defaults.
///
/// ```
/// use std::time::Duration;
/// use miva_protocol::TransportConfig;
/// let config = TransportConfig::new()
///     .timeout(Duration::from_secs(30))
///     .body_limit(8 << 20);
/// assert_eq!(config.connect_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Time allowed to open a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for one request, connection to last body byte
    /// (default 120 s). A multicall request may take the store's budget
    /// (`api_timeout`) plus 10 s when that is longer; a whole call with its
    /// retries, a whole multicall or a whole export is bounded only by a
    /// deadline (`CallOptions::deadline`, the paginators' `deadline`).
    pub timeout: Duration,
    /// Largest response body read (default 64 MiB); a larger one is an error,
    /// not an out-of-memory. A body is decoded only when a scan of its bytes
    /// shows its decoded form fits in [`DECODE_MULTIPLE`](crate::DECODE_MULTIPLE)
    /// times this limit, so one response takes at most about
    /// `DECODE_MULTIPLE + 1` times it; concurrent list pages share it (each
    /// 1/(pages + 1)).
    pub body_limit: u64,
    /// Allow `http://` to hosts other than loopback (default false: the
    /// token and signature would travel in clear text).
    pub allow_insecure_http: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            body_limit: 64 * 1024 * 1024,
            allow_insecure_http: false,
            user_agent: format!(
                "miva-rs/{} ({}; rust)",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS
            ),
        }
    }
}

impl TransportConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TransportConfig::connect_timeout`].
    #[must_use]
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// Sets [`TransportConfig::timeout`] (per request).
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// Sets [`TransportConfig::body_limit`] in bytes.
    #[must_use]
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Sets [`TransportConfig::allow_insecure_http`].
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Sets [`TransportConfig::user_agent`].
    #[must_use]
    pub fn user_agent(mut self, agent: &str) -> Self {
        agent.clone_into(&mut self.user_agent);
        self
    }
}

/// Checks that `url` is an `http(s)` URL with a host, and plain `http`
/// only to loopback (`localhost`, `127.0.0.0/8`, `::1`) unless
/// `allow_insecure_http`: a token and a signature would travel in clear
/// text.
///
/// # Errors
/// [`Error::Config`] saying what is wrong, the URL redacted.
pub fn check_url(url: &str, allow_insecure_http: bool) -> Result<(), Error> {
    let url = &*crate::redact::redact_url(url); // only ever shown in errors
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        Error::Config(format!(
            "endpoint {url:?} is not a URL: expected https://host/path"
        ))
    })?;
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host_port
        .rsplit_once('@')
        .map_or(host_port, |(_, h)| h)
        .to_ascii_lowercase();
    let host = if let Some(stripped) = host.strip_prefix('[') {
        stripped.split(']').next().unwrap_or_default().to_owned()
    } else {
        host.split(':').next().unwrap_or_default().to_owned()
    };
    if host.is_empty() {
        return Err(Error::Config(format!("endpoint {url:?} has no host")));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(&host) => Ok(()),
        "http" => Err(Error::Config(format!(
            "endpoint {url:?} uses plain http to a host that is not loopback: the token and \
             signature would travel in clear text; use https (or allow insecure http \
             explicitly, for a test server)"
        ))),
        other => Err(Error::Config(format!(
            "endpoint {url:?} has scheme {other:?}: use https"
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://store.example.com/mm5/json.mvc",
            "http://127.0.0.1:8080/mm5/json.mvc",
            "http://127.5.6.7/x",
            "http://localhost/x",
            "http://[::1]:9000/x",
            "HTTPS://Store.Example.com",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://store.example.com/mm5/json.mvc",
            "http://10.0.0.1/x",
            "http://localhost.example.com/x",
            "http://127.0.0.1@evil.example/x",
            "ftp://store.example.com/",
            "store.example.com/mm5/json.mvc",
            "https:///nohost",
        ] {
            let err = check_url(bad, false).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{bad}: {err}");
        }
        assert!(check_url("http://store.example.com/", true).is_ok());
    }
}
