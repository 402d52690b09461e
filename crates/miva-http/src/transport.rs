//! The blocking HTTP layer both blocking clients share: one ureq agent (one
//! keep-alive pool for every clone and thread), explicit timeouts, no
//! redirects, bounded response bodies. The rules it applies (URL check,
//! body budget, what a response means) are the core's
//! ([`miva_protocol`]); this file only moves bytes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use miva_protocol::{BodyBudget, Error, RawResponse, TimeoutKind, TransportConfig, TransportError};

/// How long a resolved host name is reused.
const DNS_TTL: Duration = Duration::from_secs(60);

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

    /// Sends `request`; reads at most the budget's body limit.
    pub(crate) fn send(&self, request: &HttpRequest<'_>) -> Result<RawResponse, Error> {
        let limit = request.timeout.unwrap_or(self.config.timeout);
        let result = match request.body {
            None => {
                let mut builder = self.agent.get(request.url);
                for (name, value) in request.headers {
                    builder = builder.header(*name, *value);
                }
                if request.timeout.is_some() {
                    builder.config().timeout_global(Some(limit)).build().call()
                } else {
                    builder.call()
                }
            }
            Some((content_type, body)) => {
                let mut builder = self
                    .agent
                    .post(request.url)
                    .header("Content-Type", content_type);
                for (name, value) in request.headers {
                    builder = builder.header(*name, *value);
                }
                if request.timeout.is_some() {
                    builder
                        .config()
                        .timeout_global(Some(limit))
                        .build()
                        .send(body)
                } else {
                    builder.send(body)
                }
            }
        };
        let response = result.map_err(|e| transport_error(e, limit))?;
        read(response, &request.budget, limit)
    }
}

/// One request for [`Transport::send`].
#[derive(Debug)]
pub(crate) struct HttpRequest<'a> {
    /// The whole URL (with the query, for a GET).
    pub(crate) url: &'a str,
    /// `None`: a GET; `Some((content type, bytes))`: a POST of them.
    pub(crate) body: Option<(&'a str, &'a [u8])>,
    /// Headers besides `Content-Type`.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// This request's overall limit instead of the configured one (a
    /// deadline's remaining time, a multicall's budget plus a margin).
    pub(crate) timeout: Option<Duration>,
    /// How much body may be read.
    pub(crate) budget: BodyBudget,
}

fn read(
    mut response: ureq::http::Response<ureq::Body>,
    budget: &BodyBudget,
    limit: Duration,
) -> Result<RawResponse, Error> {
    let mut raw = RawResponse::new(response.status().as_u16(), Vec::new());
    for name in RawResponse::HEADERS {
        if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
            raw.set_header(name, value);
        }
    }
    if (300..400).contains(&raw.status) {
        tracing::debug!(
            status = raw.status,
            location = raw.location.as_deref(),
            "redirect not followed"
        );
    }
    raw.body = response
        .body_mut()
        .with_config()
        .limit(budget.body_limit())
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => budget.body_too_large(),
            other => transport_error(other, limit),
        })?;
    Ok(raw)
}

/// A ureq failure as the core's error: timeouts by kind, connection
/// failures as "nothing was sent", everything else opaque, every URL in it
/// redacted (a Miravia GET's query holds the access token and signature).
fn transport_error(e: ureq::Error, limit: Duration) -> Error {
    let timeout = |kind| Error::Timeout { kind, limit };
    match e {
        ureq::Error::Timeout(which) => match which {
            ureq::Timeout::Resolve => timeout(TimeoutKind::Resolve),
            ureq::Timeout::Connect => timeout(TimeoutKind::Connect),
            _ => timeout(TimeoutKind::Request),
        },
        // A TLS failure is never "nothing was sent" (ureq does not say
        // whether it came in the handshake or later); the async transport
        // reads it the same way.
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            Error::Transport(TransportError::connect(e.to_string()))
        }
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound => {
                Error::Transport(TransportError::connect(io))
            }
            std::io::ErrorKind::TimedOut => Error::Transport(TransportError::timed_out(io)),
            _ => Error::Transport(TransportError::other(io)),
        },
        other => Error::Transport(TransportError::other(redact(&other.to_string()))),
    }
}

fn redact(text: &str) -> String {
    miva_protocol::redact_url(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
