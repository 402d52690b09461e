//! The HTTP layer both clients share: one ureq agent (one keep-alive pool
//! for every clone and thread), explicit timeouts, no redirects, bounded
//! response bodies, and a refusal to send credentials over plain HTTP to
//! anything but loopback.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use miva_envelope::{Response, ResponseScan};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// How long a resolved host name is reused.
const DNS_TTL: Duration = Duration::from_secs(60);

/// The decoded form of one response may take at most this many times the
/// body limit that applied to it (estimated by a scan of the bytes before
/// decoding, see [`miva_envelope::scan_response`]); with the body itself,
/// one response needs at most `DECODE_MULTIPLE + 1` times the limit.
pub const DECODE_MULTIPLE: u64 = 4;

/// How a list's pages share the client's body limit, for the requests made
/// on this thread inside [`with_page_share`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageShare {
    /// Pages in flight at once (the concurrency).
    pub(crate) pages: usize,
}

thread_local! {
    static PAGE_SHARE: Cell<Option<PageShare>> = const { Cell::new(None) };
}

/// Runs `f` (one page's request) with `share` applying to the responses
/// it reads on this thread: with `pages` > 1 each page may use
/// `1 / (pages + 1)` of the body limit (the pages in flight or waiting,
/// and the one being handed out), so that all of them together stay
/// within one limit, and their decoded forms within
/// [`DECODE_MULTIPLE`] times it.
pub(crate) fn with_page_share<T>(share: PageShare, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<PageShare>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PAGE_SHARE.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(PAGE_SHARE.with(|s| s.replace(Some(share))));
    f()
}

/// Transport settings with safe defaults.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Time allowed to open a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for one request, connection to last body byte
    /// (default 120 s). A multicall request may take the store's budget
    /// (`api_timeout`) plus 10 s when that is longer; a whole call with its
    /// retries, a whole multicall or a whole export is bounded only by a
    /// deadline (`CallOptions::deadline`, `Records::deadline`).
    pub timeout: Duration,
    /// Largest response body read (default 64 MiB); a larger one is an error,
    /// not an out-of-memory. A body is decoded only when a scan of its bytes
    /// shows its decoded form fits in [`DECODE_MULTIPLE`] times this limit,
    /// so one response takes at most about `DECODE_MULTIPLE + 1` times it;
    /// concurrent list pages share it (each 1/(pages + 1)).
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

/// A response as read off the wire.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    /// `Content-Range` (a partial multicall answer).
    pub(crate) content_range: Option<String>,
    /// `Date` (for measuring the server's clock offset).
    pub(crate) date: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// TLS settings: certificates are always verified; against the bundled
/// webpki roots, or with the `platform-verifier` feature the operating
/// system's verifier.
fn tls_config() -> ureq::tls::TlsConfig {
    let roots = if cfg!(feature = "platform-verifier") {
        ureq::tls::RootCerts::PlatformVerifier
    } else {
        ureq::tls::RootCerts::WebPki
    };
    ureq::tls::TlsConfig::builder()
        .root_certs(roots)
        .disable_verification(false)
        .build()
}

/// Name resolution without a thread per request. ureq's resolver starts a
/// thread for every lookup when a timeout is set (always, here), even for
/// an IP address and even when a pooled connection is then reused: a
/// fifth of the time of a call over loopback. IP literals are answered
/// directly; names are resolved by ureq's resolver (with its timeout) and
/// reused for [`DNS_TTL`].
#[derive(Debug, Default)]
struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<HashMap<(String, u16), (Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        let (Some(host), Some(port)) = (uri.host(), port) else {
            return self.inner.resolve(uri, config, timeout);
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = (host.to_ascii_lowercase(), port);
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, addrs)) = cache.get(&key)
                && at.elapsed() < DNS_TTL
            {
                return Ok(addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Transport {
    agent: ureq::Agent,
    config: TransportConfig,
}

impl Transport {
    pub(crate) fn new(config: TransportConfig) -> Self {
        let agent_config = ureq::Agent::config_builder()
            .tls_config(tls_config())
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .user_agent(config.user_agent.as_str())
            .build();
        let agent = ureq::Agent::with_parts(
            agent_config,
            DefaultConnector::default(),
            CachingResolver::default(),
        );
        Self { agent, config }
    }

    /// Checks that `url` is http(s), and plain http only to loopback unless
    /// allowed.
    pub(crate) fn check_url(&self, url: &str) -> Result<(), Error> {
        check_url(url, self.config.allow_insecure_http)
    }

    /// POSTs `body` with `headers`; `content_type` is set exactly.
    pub(crate) fn post(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<RawResponse, Error> {
        let mut request = self.agent.post(url).header("Content-Type", content_type);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send(body).map_err(|e| self.transport_error(e))?;
        self.read(response)
    }

    /// As [`Transport::post`], with this one request's overall limit set to
    /// `timeout` instead of the configured one (a deadline's remaining
    /// time, or a multicall's server budget plus a margin). Its timeout
    /// error still names the configured limit: the caller says which fired.
    pub(crate) fn post_within(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<RawResponse, Error> {
        let mut request = self.agent.post(url).header("Content-Type", content_type);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .config()
            .timeout_global(Some(timeout))
            .build()
            .send(body)
            .map_err(|e| self.transport_error(e))?;
        self.read(response)
    }

    /// The body limit of a response read now on this thread: the
    /// configured one, or a concurrent page's share of it.
    fn body_limit(&self) -> u64 {
        match PAGE_SHARE.with(Cell::get) {
            Some(share) if share.pages > 1 => self.config.body_limit / (share.pages as u64 + 1),
            _ => self.config.body_limit,
        }
    }

    /// What to change when a response does not fit `limit`.
    fn advice(&self, limit: u64) -> String {
        match PAGE_SHARE.with(Cell::get) {
            Some(share) if share.pages > 1 => format!(
                "{} pages are fetched at once, and they share the {}-byte body limit ({limit} \
                 bytes each): lower the page size or the concurrency, or raise the body limit",
                share.pages, self.config.body_limit
            ),
            Some(_) => "lower the page size, or raise the body limit".to_owned(),
            None => "ask for fewer records per call, or raise the body limit".to_owned(),
        }
    }

    /// Before a response body is decoded: refuses one whose decoded form
    /// would take more than [`DECODE_MULTIPLE`] times the body limit
    /// ([`Error::ResponseTooLarge`]), or that holds an integer that would
    /// not be read exactly ([`Error::InexactInteger`]).
    pub(crate) fn check_decodable(&self, body: &[u8]) -> Result<(), Error> {
        self.scan(body).map(|_| ())
    }

    /// Decodes a Miva response within the budget: [`check_decodable`]'s
    /// checks, then typed list records held to what is left of the budget
    /// ([`miva_envelope::decode_response_within`]). The outer error is the
    /// budget's or an inexact integer; the inner result is the decoder's.
    ///
    /// [`check_decodable`]: Transport::check_decodable
    pub(crate) fn decode_response<T: DeserializeOwned>(
        &self,
        body: &[u8],
    ) -> Result<Result<Response<T>, miva_envelope::Error>, Error> {
        let Some((scan, room)) = self.scan(body)? else {
            return Ok(miva_envelope::decode_response(body));
        };
        match miva_envelope::decode_response_within(body, &scan, room) {
            Err(e) if e.kind() == miva_envelope::ErrorKind::TooLarge => {
                let limit = self.body_limit();
                Err(Error::ResponseTooLarge {
                    limit,
                    reason: format!(
                        "{e} ({DECODE_MULTIPLE} x the {limit}-byte body limit in all); {}",
                        self.advice(limit)
                    ),
                })
            }
            other => Ok(other),
        }
    }

    /// The scan of a JSON object or array body within the budget, and the
    /// bytes of the budget it leaves; `None` for any other body (an HTML
    /// page, say), which cannot expand and is left for the decoder to
    /// report, digits in its text not taken for numbers.
    fn scan(&self, body: &[u8]) -> Result<Option<(ResponseScan, u64)>, Error> {
        if !matches!(
            body.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        ) {
            return Ok(None);
        }
        let scan =
            miva_envelope::scan_response(body, 0).map_err(|e| match (e.kind(), e.path()) {
                (miva_envelope::ErrorKind::InexactInteger, Some(path)) => Error::InexactInteger {
                    path: path.to_owned(),
                    message: e.to_string(),
                },
                _ => Error::Envelope(e),
            })?;
        let limit = self.body_limit();
        let budget = limit.saturating_mul(DECODE_MULTIPLE);
        if scan.decoded_bytes > budget {
            return Err(Error::ResponseTooLarge {
                limit,
                reason: format!(
                    "its {} bytes hold {} JSON values, which would take about {} bytes once \
                     decoded, more than the {budget} allowed ({DECODE_MULTIPLE} x the {limit}-byte \
                     body limit); {}",
                    body.len(),
                    scan.values,
                    scan.decoded_bytes,
                    self.advice(limit)
                ),
            });
        }
        Ok(Some((scan, budget - scan.decoded_bytes)))
    }

    /// The configured overall limit of one request.
    pub(crate) fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// GETs `url`.
    pub(crate) fn get(&self, url: &str) -> Result<RawResponse, Error> {
        let response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| self.transport_error(e))?;
        self.read(response)
    }

    /// As [`Transport::get`], with this one request's overall limit set to
    /// `timeout` instead of the configured one (a deadline's remaining
    /// time), as [`Transport::post_within`]. Its timeout error still names
    /// the configured limit: the caller says which fired.
    pub(crate) fn get_within(&self, url: &str, timeout: Duration) -> Result<RawResponse, Error> {
        let response = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call()
            .map_err(|e| self.transport_error(e))?;
        self.read(response)
    }

    fn read(&self, mut response: ureq::http::Response<ureq::Body>) -> Result<RawResponse, Error> {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        // Redacted here, before it can reach an error, a log or `Debug`: a
        // gateway may echo the signed query (access token, signature).
        let location = header("location").map(|l| crate::redact::redact_url(&l).into_owned());
        if (300..400).contains(&status) {
            tracing::debug!(
                status,
                location = location.as_deref(),
                "redirect not followed"
            );
        }
        let content_range = header("content-range");
        let date = header("date");
        let body = response
            .body_mut()
            .with_config()
            .limit(self.body_limit())
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(limit)
                    if PAGE_SHARE.with(Cell::get).is_some_and(|s| s.pages > 1) =>
                {
                    Error::ResponseTooLarge {
                        limit,
                        reason: format!(
                            "the page's body is larger than {limit} bytes; {}",
                            self.advice(limit)
                        ),
                    }
                }
                ureq::Error::BodyExceedsLimit(limit) => Error::BodyTooLarge { limit },
                other => self.transport_error(other),
            })?;
        Ok(RawResponse {
            status,
            location,
            content_range,
            date,
            body,
        })
    }

    fn transport_error(&self, e: ureq::Error) -> Error {
        match e {
            ureq::Error::Timeout(which) => Error::Timeout {
                what: which.to_string(),
                limit: self.config.timeout,
            },
            ureq::Error::BodyExceedsLimit(limit) => Error::BodyTooLarge { limit },
            // The variants that carry the request URL (with a Miravia GET's
            // access token and signature): redacted.
            ureq::Error::BadUri(uri) => {
                Error::Transport(Box::new(ureq::Error::BadUri(redact(&uri))))
            }
            ureq::Error::RequireHttpsOnly(uri) => {
                Error::Transport(Box::new(ureq::Error::RequireHttpsOnly(redact(&uri))))
            }
            ureq::Error::ConnectProxyFailed(m) => {
                Error::Transport(Box::new(ureq::Error::ConnectProxyFailed(redact(&m))))
            }
            other => Error::Transport(Box::new(other)),
        }
    }
}

fn redact(text: &str) -> String {
    crate::redact::redact_url(text).into_owned()
}

/// See [`Transport::check_url`].
pub(crate) fn check_url(url: &str, allow_insecure_http: bool) -> Result<(), Error> {
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

/// Seconds since the Unix epoch of an HTTP `Date` value in the IMF-fixdate
/// form every current server sends (`Sun, 06 Nov 1994 08:49:37 GMT`);
/// `None` for anything else.
pub(crate) fn parse_http_date(value: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, rest) = value.trim().split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)?;
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next() != Some("GMT") || parts.next().is_some() {
        return None;
    }
    let mut hms = time.split(':').map(|n| n.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let month = i64::try_from(month).ok()? + 1;
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        // Expected values from Python's email.utils.parsedate_to_datetime.
        for (text, unix) in [
            ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
            ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400),
            ("Tue, 24 Nov 2026 22:00:03 GMT", 1_795_557_603),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ] {
            assert_eq!(parse_http_date(text), Some(unix), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    fn resolve(resolver: &CachingResolver, url: &str) -> Vec<SocketAddr> {
        let uri: Uri = url.parse().unwrap();
        let config = ureq::config::Config::default();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from_secs(5),
            reason: ureq::Timeout::Resolve,
            ..NextTimeout::default()
        };
        resolver
            .resolve(&uri, &config, timeout)
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn tls_is_always_verified() {
        let config = tls_config();
        assert!(!config.disable_verification());
        let platform = matches!(config.root_certs(), ureq::tls::RootCerts::PlatformVerifier);
        let webpki = matches!(config.root_certs(), ureq::tls::RootCerts::WebPki);
        assert_eq!(platform, cfg!(feature = "platform-verifier"));
        assert_eq!(webpki, !cfg!(feature = "platform-verifier"));
    }

    #[test]
    fn resolver_answers_ip_literals_and_caches_names() {
        let resolver = CachingResolver::default();
        assert_eq!(
            resolve(&resolver, "http://127.0.0.1:8080/mm5/json.mvc"),
            ["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "https://[::1]/x"),
            ["[::1]:443".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve(&resolver, "http://10.1.2.3/x"),
            ["10.1.2.3:80".parse::<SocketAddr>().unwrap()]
        );
        // IP literals never enter the cache; names do, per host and port.
        assert!(resolver.cache.lock().unwrap().is_empty());
        let first = resolve(&resolver, "http://LocalHost:9000/x");
        assert!(!first.is_empty());
        assert!(
            first
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 9000)
        );
        assert_eq!(resolve(&resolver, "http://localhost:9000/y"), first);
        assert_eq!(resolver.cache.lock().unwrap().len(), 1);
        resolve(&resolver, "http://localhost:9001/x");
        assert_eq!(resolver.cache.lock().unwrap().len(), 2);
    }

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
