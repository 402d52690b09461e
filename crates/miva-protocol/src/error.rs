//! The one error enum of both clients: match on it to decide what to do.

use std::fmt;
use std::time::Duration;

/// Longest excerpt of a response body kept in an error, in characters.
pub(crate) const EXCERPT_LEN: usize = 200;

/// Everything a call can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The client was configured wrongly (endpoint, store code, ...).
    Config(String),
    /// A timeout fired: `kind` says which limit.
    Timeout {
        /// Which limit fired.
        kind: TimeoutKind,
        /// That limit (the per-request timeout, or the deadline's).
        limit: Duration,
    },
    /// The connection failed or broke (DNS, TCP, TLS, HTTP protocol).
    Transport(TransportError),
    /// The response body is larger than the configured limit.
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A response would take more memory than the client allows: a list
    /// page's body is over its share of the body limit (concurrent pages
    /// share one limit), or a body's decoded form is estimated at more than
    /// [`DECODE_MULTIPLE`](crate::DECODE_MULTIPLE) times the limit. Nothing
    /// was decoded; `reason` says which and what to change.
    ResponseTooLarge {
        /// The body limit in bytes that applied (a page's share of the
        /// client's, when pages are fetched concurrently).
        limit: u64,
        /// Why, and what to change (page size, concurrency, body limit).
        reason: String,
    },
    /// The response holds an integer outside the 64-bit range (an id or a
    /// count of 2^64 or more), which would be read as a rounded float: the
    /// response is refused rather than changed.
    InexactInteger {
        /// Its JSON path, e.g. `data.data[3].id`.
        path: String,
        /// The whole explanation, with the number.
        message: String,
    },
    /// The store's JSON API is switched off (HTTP 503 with `api_offline`):
    /// not retried, since only an administrator can turn it back on.
    ApiOffline(Box<miva_envelope::ApiError>),
    /// The server answered with a redirect, which is never followed (it
    /// would carry the signed request to another URL).
    Redirect {
        /// HTTP status.
        status: u16,
        /// Where it pointed.
        location: Option<String>,
    },
    /// The server answered with an unexpected HTTP status.
    HttpStatus {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
    /// The server answered with an empty body.
    EmptyResponse {
        /// HTTP status.
        status: u16,
        /// What that usually means.
        hint: &'static str,
    },
    /// The body is not the JSON the API sends.
    Undecodable {
        /// HTTP status.
        status: u16,
        /// Why it could not be read.
        reason: String,
        /// The start of the body.
        excerpt: String,
    },
    /// A Miva signing problem (bad key, RSA failure).
    Sign(miva_sign::Error),
    /// The Miva store answered with an API error.
    Api(Box<miva_envelope::ApiError>),
    /// The Miva store refused the request (`access_denied`); `kind` says
    /// which case and [`miva_envelope::AccessDenied::hint`] what to do.
    AccessDenied {
        /// Which access-denied case.
        kind: miva_envelope::AccessDenied,
        /// The store's answer.
        error: Box<miva_envelope::ApiError>,
    },
    /// A multicall's partial answers did not add up.
    Multicall(String),
    /// Paging through a list could not go on without skipping or
    /// repeating records.
    Pagination {
        /// The list function.
        function: String,
        /// The offset of the page that failed.
        offset: u64,
        /// What went wrong.
        reason: String,
    },
    /// A page of a list could not be fetched: `source` says why (a
    /// timeout, an HTTP status, an API error, ...). Every record before
    /// `offset` was yielded exactly once; none after it.
    /// [`Error::root`] reaches the cause.
    Page {
        /// The list function.
        function: String,
        /// The offset of the page that failed.
        offset: u64,
        /// Why.
        source: Box<Error>,
    },
    /// A request could not be encoded, or a header could not be read.
    Envelope(miva_envelope::Error),
    /// The Miravia / Lazada platform answered with an error.
    Miravia(crate::PlatformError),
    /// A Miravia signing problem (bad parameter, path).
    MiraviaSign(miravia_sign::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(m) => write!(f, "configuration: {m}"),
            Self::Timeout { kind, limit } => write!(
                f,
                "timed out ({kind}; the limit is {} s): the server is slow or \
                 unreachable; raise the limit or check the endpoint",
                limit.as_secs_f64()
            ),
            Self::Transport(e) => write!(f, "connection failed: {e}"),
            Self::BodyTooLarge { limit } => write!(
                f,
                "the response body is larger than the {limit}-byte limit: ask for fewer \
                 records per call, or raise the limit"
            ),
            Self::ResponseTooLarge { reason, .. } => {
                write!(f, "the response is too large to decode safely: {reason}")
            }
            Self::InexactInteger { message, .. } => write!(f, "{message}"),
            Self::ApiOffline(e) => write!(f, "{e} ({API_OFFLINE_HINT})"),
            Self::Redirect { status, location } => write!(
                f,
                "HTTP {status} redirect to {} was not followed (it would carry the signed \
                 request elsewhere): put the final URL in the endpoint",
                location
                    .as_deref()
                    .map_or("an unnamed location".into(), crate::redact::redact_url)
            ),
            Self::HttpStatus { status, excerpt } => {
                write!(f, "HTTP {status}: {excerpt}")
            }
            Self::EmptyResponse { status, hint } => {
                write!(f, "HTTP {status} with an empty body: {hint}")
            }
            Self::Undecodable {
                status,
                reason,
                excerpt,
            } => write!(
                f,
                "HTTP {status}: the body is not the API's JSON ({reason}); it starts: {excerpt}"
            ),
            Self::Sign(e) => write!(f, "signing: {e}"),
            Self::Api(e) => write!(f, "{e}"),
            Self::AccessDenied { kind, error } => write!(f, "{error} ({})", kind.hint()),
            Self::Multicall(m) => write!(f, "multicall: {m}"),
            Self::Pagination {
                function,
                offset,
                reason,
            } => write!(f, "paging {function} stopped at offset {offset}: {reason}"),
            Self::Page {
                function,
                offset,
                source,
            } => {
                write!(
                    f,
                    "the page of {function} at offset {offset} failed (every record before it \
                     was delivered): "
                )?;
                // A paging check names the function and offset already.
                match source.as_ref() {
                    Self::Pagination { reason, .. } => f.write_str(reason),
                    other => write!(f, "{other}"),
                }
            }
            Self::Envelope(e) => write!(f, "{e}"),
            Self::Miravia(e) => write!(f, "{e}"),
            Self::MiraviaSign(e) => write!(f, "signing: {e}"),
        }
    }
}

impl Error {
    /// The cause, through any [`Error::Page`] wrapping: what to match on
    /// to decide what to do.
    pub fn root(&self) -> &Error {
        let mut error = self;
        while let Self::Page { source, .. } = error {
            error = source;
        }
        error
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            Self::Sign(e) => Some(e),
            Self::Api(e) => Some(e.as_ref()),
            Self::AccessDenied { error, .. } | Self::ApiOffline(error) => Some(error.as_ref()),
            Self::Envelope(e) => Some(e),
            Self::MiraviaSign(e) => Some(e),
            Self::Page { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl Error {
    /// Whether a timeout fired: one of ours ([`Error::Timeout`]) or one the
    /// HTTP stack reported ([`TransportError::is_timeout`]), through any
    /// [`Error::Page`] wrapping.
    pub fn is_timeout(&self) -> bool {
        match self.root() {
            Self::Timeout { .. } => true,
            Self::Transport(e) => e.is_timeout(),
            _ => false,
        }
    }

    /// Whether the same request may succeed if sent again later: the
    /// connection could not be made, a timeout fired, a gateway answered
    /// 502, 503 or 504 (or 429), or Miravia answered with a `SYSTEM` /
    /// `ISP` error or a call limit. Through any [`Error::Page`] wrapping.
    ///
    /// This says the failure is transient, not that repeating is harmless:
    /// a write that timed out may have run. The clients' own retries
    /// ([`RetryPolicy`](crate::RetryPolicy)) also require that the request
    /// is safe to repeat. Never true for a signature, access, validation,
    /// configuration or paging error, nor for `api_offline`.
    pub fn is_retryable(&self) -> bool {
        match self.root() {
            Self::Timeout { kind, .. } => !kind.is_deadline(),
            Self::Transport(e) => e.is_connect() || e.is_timeout(),
            Self::HttpStatus { status, .. } => matches!(status, 429 | 502..=504),
            Self::Miravia(e) => {
                e.is_rate_limited() || matches!(e.error_type.as_deref(), Some("SYSTEM" | "ISP"))
            }
            _ => false,
        }
    }

    /// Whether the platform refused the call for its rate: Miravia's
    /// `AppCallLimit` or `ApiCallLimit`, or HTTP 429. Through any
    /// [`Error::Page`] wrapping. Wait and call again more slowly (see the
    /// clients' `rate_limit`).
    pub fn is_rate_limited(&self) -> bool {
        match self.root() {
            Self::Miravia(e) => e.is_rate_limited(),
            Self::HttpStatus { status: 429, .. } => true,
            _ => false,
        }
    }

    /// Whether no byte of the request can have reached the server: the
    /// connection was never made (refused, DNS, connect timeout). Such a
    /// request is always safe to send again, even a write.
    pub fn nothing_was_sent(&self) -> bool {
        match self.root() {
            Self::Timeout { kind, .. } => {
                matches!(kind, TimeoutKind::Connect | TimeoutKind::Resolve)
            }
            Self::Transport(e) => e.is_connect(),
            _ => false,
        }
    }
}

/// Which limit a [`Error::Timeout`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Resolving the host name.
    Resolve,
    /// Opening the connection (TCP and TLS):
    /// [`TransportConfig::connect_timeout`](crate::TransportConfig::connect_timeout).
    Connect,
    /// One request, connection to last byte:
    /// [`TransportConfig::timeout`](crate::TransportConfig::timeout) or a
    /// per-call timeout.
    Request,
    /// A call's deadline (the request, its retries and their waits).
    CallDeadline,
    /// A multicall's deadline, every round included.
    MulticallDeadline {
        /// The round (request) in flight or due when it passed, from 1.
        round: usize,
        /// Operations answered by then (those may have run).
        answered: usize,
        /// Operations in the multicall.
        total: usize,
    },
    /// A whole export's deadline (every page).
    ExportDeadline,
}

impl TimeoutKind {
    /// Whether this is a deadline over several requests (a call with its
    /// retries, a multicall, an export) rather than one request's limit.
    pub fn is_deadline(&self) -> bool {
        matches!(
            self,
            Self::CallDeadline | Self::MulticallDeadline { .. } | Self::ExportDeadline
        )
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resolve => f.write_str("resolving the host name"),
            Self::Connect => f.write_str("opening the connection"),
            Self::Request => f.write_str("the request"),
            Self::CallDeadline => f.write_str("the call deadline passed"),
            Self::MulticallDeadline {
                round,
                answered,
                total,
            } => write!(
                f,
                "the multicall deadline passed in round {round}, with {answered} of {total} \
                 operations answered (those may have run)"
            ),
            Self::ExportDeadline => f.write_str("the export deadline passed"),
        }
    }
}

/// A connection that could not be made or broke (DNS, TCP, TLS, HTTP
/// protocol), whatever HTTP stack the driver uses: no HTTP crate's error
/// type is part of this API. Its text and [`source`](std::error::Error::source)
/// carry no credential (drivers redact URLs before they reach it).
pub struct TransportError {
    kind: TransportKind,
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    Connect,
    Timeout,
    Other,
}

impl TransportError {
    /// The connection could not be made (refused, host not found, no
    /// route): nothing was sent.
    pub fn connect(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self {
            kind: TransportKind::Connect,
            source: source.into(),
        }
    }

    /// The HTTP stack gave up waiting (an I/O timeout of its own).
    pub fn timed_out(
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            kind: TransportKind::Timeout,
            source: source.into(),
        }
    }

    /// Any other failure after the connection was made (reset, TLS, a
    /// malformed HTTP answer): the request may have reached the server.
    pub fn other(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self {
            kind: TransportKind::Other,
            source: source.into(),
        }
    }

    /// Whether the connection could not be made (nothing was sent).
    pub fn is_connect(&self) -> bool {
        self.kind == TransportKind::Connect
    }

    /// Whether the HTTP stack timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportKind::Timeout
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

impl From<miva_sign::Error> for Error {
    fn from(e: miva_sign::Error) -> Self {
        Self::Sign(e)
    }
}

impl From<miva_envelope::Error> for Error {
    fn from(e: miva_envelope::Error) -> Self {
        Self::Envelope(e)
    }
}

impl Error {
    /// The store's API error, for [`Error::Api`], [`Error::AccessDenied`]
    /// and [`Error::ApiOffline`].
    pub fn api_error(&self) -> Option<&miva_envelope::ApiError> {
        match self {
            Self::Api(e) | Self::AccessDenied { error: e, .. } | Self::ApiOffline(e) => Some(e),
            _ => None,
        }
    }

    /// What to do about a store's refusal, for [`Error::AccessDenied`] and
    /// [`Error::ApiOffline`].
    pub fn hint(&self) -> Option<&'static str> {
        match self.root() {
            Self::AccessDenied { kind, .. } => Some(kind.hint()),
            Self::ApiOffline(_) => Some(API_OFFLINE_HINT),
            _ => None,
        }
    }
}

/// The advice for an `api_offline` answer.
pub(crate) const API_OFFLINE_HINT: &str = "the store's JSON API is switched off (HTTP 503 \
    api_offline): retrying will not help until an administrator turns it back on in the store's \
    admin";

/// A non-success HTTP status whose body is the store's own JSON error: HTTP
/// 503 with `api_offline` (Miva's server code answers so when the API is
/// switched off, `mmlsk-json.mv` 1381-1384). `None` for anything else.
pub(crate) fn store_error_for_status(status: u16, body: &[u8]) -> Option<Error> {
    // An api_offline answer is a few hundred bytes; a larger 503 body is
    // not decoded here (the body budget's bound holds).
    if status != 503 || body.len() > 4096 {
        return None;
    }
    match miva_envelope::decode_response::<serde_json::Value>(body) {
        Ok(miva_envelope::Response::Failure(e)) if e.code.eq_ignore_ascii_case("api_offline") => {
            Some(Error::ApiOffline(e))
        }
        _ => None,
    }
}

impl From<miravia_sign::Error> for Error {
    fn from(e: miravia_sign::Error) -> Self {
        Self::MiraviaSign(e)
    }
}

/// The first [`EXCERPT_LEN`] characters of a body, lossily decoded, on one
/// line, with credentials redacted ([`crate::redact::redact_url`]): a
/// proxy's error page may echo the signed request line
/// (`GET /rest/seller/get?access_token=...&sign=... HTTP/1.1`).
pub(crate) fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".to_owned();
    }
    let window = &body[..body.len().min(EXCERPT_LEN * 4)];
    // Control characters become spaces before redacting, so that one
    // cannot hide a parameter's start from it.
    let text: String = String::from_utf8_lossy(window)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = crate::redact::redact_text(&text);
    let mut out: String = text.chars().take(EXCERPT_LEN).collect();
    if text.chars().count() > EXCERPT_LEN || body.len() > EXCERPT_LEN * 4 {
        out.push('…');
    }
    out
}
