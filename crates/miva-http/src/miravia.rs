//! The Miravia / Lazada Open Platform client.

use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use miravia_sign::{AppSecret, RequestSigner, SignedParams, Timestamp};
use serde_json::Value;
use zeroize::Zeroizing;

use miva_protocol::{
    BodyBudget, ClockOffset, Deadline, Error, RawResponse, RetryPolicy, RetryState, TimeoutKind,
    TransportConfig, excerpt,
};

pub use miva_protocol::PlatformError;

use crate::limiter::Limiter;
use crate::transport::{HttpRequest, Transport};

/// Where calls go. Every base URL ends in `/rest`; the API path is appended
/// to it, so `/rest` is never lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Gateway {
    /// Miravia, Spain: `https://api.miravia.es/rest`.
    MiraviaEs,
    /// Lazada Singapore.
    LazadaSg,
    /// Lazada Malaysia.
    LazadaMy,
    /// Lazada Vietnam.
    LazadaVn,
    /// Lazada Thailand.
    LazadaTh,
    /// Lazada Philippines.
    LazadaPh,
    /// Lazada Indonesia.
    LazadaId,
    /// Lazada's authorization host, for token calls.
    LazadaAuth,
    /// Any other base URL (a mock, a proxy); `/rest` is not added.
    Custom(String),
}

impl Gateway {
    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::MiraviaEs => "https://api.miravia.es/rest",
            Self::LazadaSg => "https://api.lazada.sg/rest",
            Self::LazadaMy => "https://api.lazada.com.my/rest",
            Self::LazadaVn => "https://api.lazada.vn/rest",
            Self::LazadaTh => "https://api.lazada.co.th/rest",
            Self::LazadaPh => "https://api.lazada.com.ph/rest",
            Self::LazadaId => "https://api.lazada.co.id/rest",
            Self::LazadaAuth => "https://auth.lazada.com/rest",
            Self::Custom(url) => url.trim_end_matches('/'),
        }
    }

    /// Where token calls go for this gateway: Lazada's auth host for the
    /// Lazada ventures, the gateway itself otherwise.
    pub fn token_gateway(&self) -> Gateway {
        match self {
            Self::LazadaSg
            | Self::LazadaMy
            | Self::LazadaVn
            | Self::LazadaTh
            | Self::LazadaPh
            | Self::LazadaId => Self::LazadaAuth,
            other => other.clone(),
        }
    }
}

/// A file part of a multipart upload (never signed).
#[derive(Clone)]
pub struct FilePart {
    /// The form field name, e.g. `image`.
    pub name: String,
    /// The file name sent in the part header.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for FilePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("name", &self.name)
            .field("file_name", &self.file_name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// How a call is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Every parameter in the query string.
    Get,
    /// Parameters as an `application/x-www-form-urlencoded` body
    /// (`multipart/form-data` when files are attached).
    Post,
}

/// Tokens from `/auth/token/create` or `/auth/token/refresh`.
#[derive(Clone)]
pub struct Token {
    access_token: Zeroizing<String>,
    refresh_token: Option<Zeroizing<String>>,
    /// When the access token expires (from `expires_in`).
    pub expires_at: Option<SystemTime>,
    /// When the refresh token expires (from `refresh_expires_in`).
    pub refresh_expires_at: Option<SystemTime>,
    /// The whole response, tokens removed.
    pub details: Value,
}

impl Token {
    /// The access token, to store it yourself.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token, if the platform gave one.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref().map(String::as_str)
    }

    /// A token you stored earlier.
    pub fn new(
        access_token: &str,
        refresh_token: Option<&str>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        Self {
            access_token: Zeroizing::new(access_token.to_owned()),
            refresh_token: refresh_token.map(|t| Zeroizing::new(t.to_owned())),
            expires_at,
            refresh_expires_at: None,
            details: Value::Null,
        }
    }

    fn from_response(mut value: Value, now: SystemTime) -> Result<Self, Error> {
        let take = |v: &mut Value, key: &str| -> Option<String> {
            v.as_object_mut()
                .and_then(|o| o.remove(key))
                .and_then(|x| x.as_str().map(str::to_owned))
        };
        let access = take(&mut value, "access_token").ok_or_else(|| Error::Undecodable {
            status: 200,
            reason: "the token response has no access_token".into(),
            excerpt: String::new(),
        })?;
        let refresh = take(&mut value, "refresh_token");
        let seconds = |key: &str| {
            value.get(key).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        };
        let at = |s: Option<u64>| s.and_then(|s| now.checked_add(Duration::from_secs(s)));
        Ok(Self {
            expires_at: at(seconds("expires_in")),
            refresh_expires_at: at(seconds("refresh_expires_in")),
            access_token: Zeroizing::new(access),
            refresh_token: refresh.map(Zeroizing::new),
            details: value,
        })
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Builds a [`MiraviaClient`].
pub struct MiraviaClientBuilder {
    gateway: Gateway,
    token_gateway: Option<Gateway>,
    app_key: String,
    secret: AppSecret,
    token: Option<Token>,
    partner_id: Option<String>,
    auto_refresh: Option<Duration>,
    transport: TransportConfig,
    clock: Clock,
    retry: Option<RetryPolicy>,
    rate_limit: Option<f64>,
    max_in_flight: Option<usize>,
}

impl fmt::Debug for MiraviaClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiraviaClientBuilder")
            .field("gateway", &self.gateway)
            .field("app_key", &self.app_key)
            .field("secret", &self.secret)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// The `partner_id` sent (and signed) unless configured otherwise.
pub const DEFAULT_PARTNER_ID: &str = concat!("miva-rs-", env!("CARGO_PKG_VERSION"));

impl MiraviaClientBuilder {
    /// Calls on behalf of a seller: sets the access token.
    #[must_use]
    pub fn access_token(mut self, token: &str) -> Self {
        self.token = Some(Token::new(token, None, None));
        self
    }

    /// A token with its refresh token and expiry (from an earlier
    /// [`MiraviaClient::create_token`]).
    #[must_use]
    pub fn token(mut self, token: Token) -> Self {
        self.token = Some(token);
        self
    }

    /// Refresh the access token automatically this long before it expires
    /// (one refresh at a time, however many threads call).
    #[must_use]
    pub fn auto_refresh(mut self, margin: Duration) -> Self {
        self.auto_refresh = Some(margin);
        self
    }

    /// The `partner_id` to send and sign; `None` sends none.
    #[must_use]
    pub fn partner_id(mut self, partner_id: Option<&str>) -> Self {
        self.partner_id = partner_id.map(str::to_owned);
        self
    }

    /// Where token calls go (default [`Gateway::token_gateway`]).
    #[must_use]
    pub fn token_gateway(mut self, gateway: Gateway) -> Self {
        self.token_gateway = Some(gateway);
        self
    }

    /// Transport settings (timeouts, body limit, plain http).
    #[must_use]
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// The clock timestamps come from (tests inject a fixed one).
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Retry failed calls where that is safe (see [`RetryPolicy`]): a
    /// connection never made, `AppCallLimit`, and for GET calls the
    /// platform's `SYSTEM` / `ISP` errors. Off by default.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Start at most this many requests per second, across every clone
    /// and thread (the platform's app call limits are per second).
    pub fn rate_limit(mut self, requests_per_second: f64) -> Self {
        self.rate_limit = Some(requests_per_second);
        self
    }

    /// Keep at most this many requests in flight, across every clone and
    /// thread.
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = Some(requests);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable gateway URL or app key.
    pub fn build(self) -> Result<MiraviaClient, Error> {
        let transport = Transport::new(self.transport);
        let token_gateway = self
            .token_gateway
            .unwrap_or_else(|| self.gateway.token_gateway());
        transport.check_url(self.gateway.base_url())?;
        transport.check_url(token_gateway.base_url())?;
        let mut signer = RequestSigner::new(&self.app_key, self.secret)?;
        if let Some(partner) = &self.partner_id {
            signer = signer.with_partner_id(partner)?;
        }
        Ok(MiraviaClient {
            inner: Arc::new(Inner {
                transport,
                base: self.gateway.base_url().to_owned(),
                token_base: token_gateway.base_url().to_owned(),
                signer,
                token: RwLock::new(self.token),
                refresh_lock: Mutex::new(()),
                auto_refresh: self.auto_refresh,
                clock: self.clock,
                retry: self.retry,
                limiter: Limiter::new(self.rate_limit, self.max_in_flight),
                clock_offset: ClockOffset::new(),
            }),
        })
    }
}

struct Inner {
    transport: Transport,
    base: String,
    token_base: String,
    signer: RequestSigner,
    token: RwLock<Option<Token>>,
    refresh_lock: Mutex<()>,
    auto_refresh: Option<Duration>,
    clock: Clock,
    retry: Option<RetryPolicy>,
    limiter: Limiter,
    /// Milliseconds to add to the local clock to get the platform's,
    /// learned from its `Date` header when it refused a timestamp.
    clock_offset: ClockOffset,
}

/// A client for the Miravia / Lazada Open Platform. Cheap to clone; every
/// clone shares one connection pool and one token.
#[derive(Clone)]
pub struct MiraviaClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for MiraviaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiraviaClient")
            .field("base", &miva_protocol::redact_url(&self.inner.base))
            .field("app_key", &self.inner.signer.app_key())
            .finish_non_exhaustive()
    }
}

impl MiraviaClient {
    /// Starts a builder; the secret is the app secret from the console.
    pub fn builder(gateway: Gateway, app_key: &str, secret: AppSecret) -> MiraviaClientBuilder {
        MiraviaClientBuilder {
            gateway,
            token_gateway: None,
            app_key: app_key.to_owned(),
            secret,
            token: None,
            partner_id: Some(DEFAULT_PARTNER_ID.to_owned()),
            auto_refresh: None,
            transport: TransportConfig::default(),
            clock: Arc::new(SystemTime::now),
            retry: None,
            rate_limit: None,
            max_in_flight: None,
        }
    }

    /// A GET call: every parameter in the query string. Returns the whole
    /// response (`data`, or top-level fields for token calls).
    ///
    /// # Errors
    /// [`Error::Miravia`] when the platform answers with an error code, or
    /// any transport or decoding error.
    pub fn get(&self, api_path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        self.call(Method::Get, api_path, params, &[])
    }

    /// A POST call with a form body.
    ///
    /// # Errors
    /// As [`MiraviaClient::get`].
    pub fn post(&self, api_path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        self.call(Method::Post, api_path, params, &[])
    }

    /// Any call: GET or POST, with files for a multipart POST (file parts
    /// are never signed).
    ///
    /// # Errors
    /// As [`MiraviaClient::get`]; files with GET are a configuration error.
    pub fn call(
        &self,
        method: Method,
        api_path: &str,
        params: &[(&str, &str)],
        files: &[FilePart],
    ) -> Result<Value, Error> {
        self.call_within(method, api_path, params, files, None)
    }

    /// [`MiraviaClient::call`], every attempt of it (and every wait
    /// between them) within `deadline` when there is one.
    fn call_within(
        &self,
        method: Method,
        api_path: &str,
        params: &[(&str, &str)],
        files: &[FilePart],
        deadline: Option<&Deadline>,
    ) -> Result<Value, Error> {
        let token = self.current_token()?;
        self.send(
            &self.inner.base,
            method,
            api_path,
            params,
            files,
            token.as_deref().map(String::as_str),
            deadline,
        )
    }

    /// Signs and sends one call, retrying where that is safe. With a
    /// `deadline`, no attempt starts once it has passed, a request in
    /// flight is cut off when it passes ([`Error::Timeout`] naming it), and
    /// no retry waits longer than the time left.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        base: &str,
        method: Method,
        api_path: &str,
        params: &[(&str, &str)],
        files: &[FilePart],
        access_token: Option<&str>,
        deadline: Option<&Deadline>,
    ) -> Result<Value, Error> {
        if method == Method::Get && !files.is_empty() {
            return Err(Error::Config("files can only be sent with POST".into()));
        }
        let signer = match access_token {
            Some(token) => self.inner.signer.clone().with_access_token(token)?,
            None => self.inner.signer.clone(),
        };
        let url = format!("{base}{api_path}");
        let mut retries = RetryState::new();
        let mut clock_retried = false;
        let budget = BodyBudget::call(self.inner.transport.config().body_limit);
        loop {
            if let Some(d) = deadline.filter(|d| d.passed()) {
                return Err(d.expired());
            }
            // Signed again for every attempt: a fresh timestamp.
            let now = Timestamp::from_system_time(self.platform_now())?;
            let signed = signer.sign(api_path, now, params, None)?;
            let permit = self.inner.limiter.acquire();
            // This request's limit: the transport's, lowered to what is
            // left of the deadline (checked after waiting for a permit).
            let transport = &self.inner.transport;
            let cut = match deadline {
                Some(d) => d.request_limit(transport.timeout())?,
                None => None,
            };
            let span = tracing::debug_span!("miravia_request", api = api_path).entered();
            let started = std::time::Instant::now();
            let post = |content_type: &str, body: &[u8]| {
                transport.send(&HttpRequest {
                    url: &url,
                    body: Some((content_type, body)),
                    headers: &[],
                    timeout: cut,
                    budget,
                })
            };
            let response = match method {
                Method::Get => {
                    let url = format!("{url}?{}", signed.to_urlencoded());
                    transport.send(&HttpRequest {
                        url: &url,
                        body: None,
                        headers: &[],
                        timeout: cut,
                        budget,
                    })
                }
                Method::Post if files.is_empty() => post(
                    "application/x-www-form-urlencoded",
                    signed.to_urlencoded().as_bytes(),
                ),
                Method::Post => {
                    let (content_type, body) = multipart(&signed, files);
                    post(&content_type, &body)
                }
            };
            drop(permit);
            // Cut off by the deadline: its error, not the transport's.
            let response = match (response, deadline) {
                (Err(Error::Timeout { .. }), Some(d)) if cut.is_some() => Err(d.expired()),
                (response, _) => response,
            };
            match &response {
                Ok(r) => tracing::debug!(
                    method = ?method,
                    status = r.status,
                    response_bytes = r.body.len(),
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "miravia call"
                ),
                Err(e) => tracing::debug!(
                    method = ?method,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    error = %e,
                    "miravia call failed"
                ),
            }
            drop(span);
            let date = response.as_ref().ok().and_then(|r| r.date.clone());
            // As for Miva: nothing decoded past the memory budget or with
            // an integer rounded.
            let result = response.and_then(|r| {
                budget.check_decodable(&r.body)?;
                decode(r)
            });
            match result {
                Err(e) if !clock_retried && self.learn_clock_offset(&e, date.as_deref()) => {
                    clock_retried = true;
                }
                Err(e) if self.may_retry(&e, method, &mut retries, deadline) => {}
                other => return other,
            }
        }
    }

    /// The platform's time: this machine's clock plus the learned offset.
    fn platform_now(&self) -> SystemTime {
        self.inner.clock_offset.apply((self.inner.clock)())
    }

    /// Milliseconds the platform's clock is ahead of this machine's
    /// (negative: behind), learned from its `Date` header the last time it
    /// refused a timestamp; 0 until then. Added to every timestamp sent.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.clock_offset.millis()
    }

    /// After a refused timestamp (an error code naming the timestamp):
    /// takes the platform's time from its `Date` header and keeps the
    /// offset; `true` when it changed, so that one retry can succeed.
    fn learn_clock_offset(&self, error: &Error, date: Option<&str>) -> bool {
        let Error::Miravia(e) = error else {
            return false;
        };
        if !e.is_timestamp_refused() {
            return false;
        }
        let Some(date) = date else {
            tracing::debug!("timestamp refused and no Date header: clock not adjusted");
            return false;
        };
        self.inner.clock_offset.learn((self.inner.clock)(), date)
    }

    /// With a retry policy: whether `error` may be retried, after waiting
    /// (a GET is safe to repeat). Never a wait that outlasts `deadline`.
    fn may_retry(
        &self,
        error: &Error,
        method: Method,
        retries: &mut RetryState,
        deadline: Option<&Deadline>,
    ) -> bool {
        match retries.next_wait(
            self.inner.retry.as_ref(),
            error,
            method == Method::Get,
            deadline.map(Deadline::remaining),
        ) {
            Some(wait) => {
                std::thread::sleep(wait);
                true
            }
            None => false,
        }
    }

    /// The current access token, refreshed first when auto-refresh is on
    /// and it is about to expire.
    fn current_token(&self) -> Result<Option<Zeroizing<String>>, Error> {
        if let Some(margin) = self.inner.auto_refresh {
            let due = |t: &Option<Token>| {
                t.as_ref().is_some_and(|t| {
                    t.refresh_token.is_some()
                        && t.expires_at
                            .is_some_and(|at| (self.inner.clock)() + margin >= at)
                })
            };
            if due(&self
                .inner
                .token
                .read()
                .unwrap_or_else(PoisonError::into_inner))
            {
                // One refresh at a time: the others wait here and then see
                // the new token.
                let _guard = self
                    .inner
                    .refresh_lock
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let current = self
                    .inner
                    .token
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                if due(&current)
                    && let Some(refresh) = current.as_ref().and_then(Token::refresh_token)
                {
                    let fresh = self.refresh_token(refresh)?;
                    *self
                        .inner
                        .token
                        .write()
                        .unwrap_or_else(PoisonError::into_inner) = Some(fresh);
                }
            }
        }
        Ok(self
            .inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|t| Zeroizing::new(t.access_token().to_owned())))
    }

    /// The token in use, if any.
    pub fn token(&self) -> Option<Token> {
        self.inner
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the token in use.
    pub fn set_token(&self, token: Option<Token>) {
        *self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// `/auth/token/create` with the authorization code from the seller's
    /// consent redirect. The token is not installed: call
    /// [`MiraviaClient::set_token`] with it.
    ///
    /// # Errors
    /// As [`MiraviaClient::get`].
    pub fn create_token(&self, code: &str) -> Result<Token, Error> {
        let base = self.inner.token_base.clone();
        let value = self.send(
            &base,
            Method::Post,
            "/auth/token/create",
            &[("code", code)],
            &[],
            None,
            None,
        )?;
        Token::from_response(value, (self.inner.clock)())
    }

    /// `/auth/token/refresh`.
    ///
    /// # Errors
    /// As [`MiraviaClient::get`].
    pub fn refresh_token(&self, refresh_token: &str) -> Result<Token, Error> {
        let base = self.inner.token_base.clone();
        let value = self.send(
            &base,
            Method::Post,
            "/auth/token/refresh",
            &[("refresh_token", refresh_token)],
            &[],
            None,
            None,
        )?;
        Token::from_response(value, (self.inner.clock)())
    }

    /// Every record of an offset/limit endpoint, page by page, in order.
    ///
    /// Nothing the gateway says about paging is taken on trust (see
    /// [`Pages`]): a repeated page, a changed total, a page larger than
    /// the limit or short before the total, and more than
    /// [`PageSpec::max_pages`] pages are each an [`Error::Page`] naming the
    /// offset, never repeats or an endless loop. [`Pages::deadline`] bounds
    /// the whole export.
    pub fn paginate<'a>(
        &'a self,
        api_path: &'a str,
        params: &'a [(&'a str, &'a str)],
        spec: PageSpec,
        page_size: u32,
    ) -> Pages<'a> {
        Pages {
            client: self,
            api_path,
            params,
            spec,
            page_size: page_size.max(1),
            offset: 0,
            buffer: Vec::new().into_iter(),
            done: false,
            pages: 0,
            total: None,
            seen: HashSet::new(),
            limit: None,
            deadline: None,
        }
    }
}

/// The most pages [`MiraviaClient::paginate`] fetches unless
/// [`PageSpec::max_pages`] says otherwise: 10,000 (a million records at a
/// page size of 100). One more page than that is an error, not a loop.
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// Where an offset/limit endpoint keeps its records.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PageSpec {
    /// JSON pointer to the array of records, e.g. `/data/products`.
    pub items: String,
    /// JSON pointer to the total count, if the endpoint gives one.
    pub total: Option<String>,
    /// The most pages to fetch (default [`DEFAULT_MAX_PAGES`]): a gateway
    /// whose pages never end (no total, every page full) ends in an error
    /// after this many.
    pub max_pages: usize,
}

impl PageSpec {
    /// Records at the JSON pointer `items`, the total (if the endpoint
    /// gives one) at `total`; at most [`DEFAULT_MAX_PAGES`] pages.
    pub fn new(items: &str, total: Option<&str>) -> Self {
        Self {
            items: items.to_owned(),
            total: total.map(str::to_owned),
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// `/products/get`: `data.products`, `data.total_products`.
    pub fn products() -> Self {
        Self::new("/data/products", Some("/data/total_products"))
    }

    /// `/orders/get`: `data.orders`, `data.countTotal`.
    pub fn orders() -> Self {
        Self::new("/data/orders", Some("/data/countTotal"))
    }

    /// At most `pages` pages (0 is taken as 1); one more is an error.
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }
}

/// Iterator returned by [`MiraviaClient::paginate`]: each record once, in
/// order.
///
/// It stops when the total is reached, or, when the endpoint gives no
/// total, at the first page with fewer records than the page size. Every
/// page is checked first, and one that fails ends the iteration with
/// [`Error::Page`] naming its offset (its [`Error::root`] is an
/// [`Error::Pagination`] saying why; a failed call is the call's error):
/// the total is read from the first page and must not change or vanish; a
/// page may not hold more records than the limit, nor fewer before the
/// total; a page with the same records as one already yielded (a gateway
/// that ignores `offset`) is never yielded again; and more than
/// [`PageSpec::max_pages`] pages is an error, not an endless loop. Every
/// record before the failed page was yielded exactly once.
///
/// Limits: each request is bounded by the client's per-request timeout,
/// the whole export by [`Pages::deadline`] if set.
pub struct Pages<'a> {
    client: &'a MiraviaClient,
    api_path: &'a str,
    params: &'a [(&'a str, &'a str)],
    spec: PageSpec,
    page_size: u32,
    offset: u64,
    buffer: std::vec::IntoIter<Value>,
    done: bool,
    /// Pages fetched so far.
    pages: usize,
    /// The first page's total (`Some(None)`: it gave none).
    total: Option<Option<u64>>,
    /// A hash of each non-empty page's records.
    seen: HashSet<u64>,
    /// The whole export's limit, from [`Pages::deadline`].
    limit: Option<Duration>,
    /// The whole export's deadline, from the first page request.
    deadline: Option<Deadline>,
}

impl fmt::Debug for Pages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("api_path", &self.api_path)
            .field("offset", &self.offset)
            .field("pages", &self.pages)
            .field("deadline", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Pages<'_> {
    /// An overall limit on the whole export, from the first `next()`:
    /// every page request gets at most the time left (a request in flight
    /// when it passes is cut off), no retry waits longer than that, and
    /// once it has passed the iteration ends with [`Error::Page`] for the
    /// next page due, whose [`Error::root`] is an [`Error::Timeout`] naming
    /// the export deadline. Every record before that page was yielded
    /// exactly once. Without it each page is bounded by the client's
    /// per-request timeout only (and the whole by [`PageSpec::max_pages`]).
    #[must_use]
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Ends the iteration with `cause` for the page at the current offset.
    fn fail(&mut self, cause: Error) -> Option<Result<Value, Error>> {
        self.done = true;
        Some(Err(Error::Page {
            function: self.api_path.to_owned(),
            offset: self.offset,
            source: Box::new(cause),
        }))
    }

    fn pagination(&mut self, reason: String) -> Option<Result<Value, Error>> {
        let cause = Error::Pagination {
            function: self.api_path.to_owned(),
            offset: self.offset,
            reason,
        };
        self.fail(cause)
    }
}

/// A hash of a page's records, to recognise a page seen before.
fn page_hash(items: &[Value]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for item in items {
        item.to_string().hash(&mut hasher);
    }
    hasher.finish()
}

impl Iterator for Pages<'_> {
    type Item = Result<Value, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.buffer.next() {
            return Some(Ok(item));
        }
        if self.done {
            return None;
        }
        // The field is public: 0 is taken as 1, as `PageSpec::max_pages` says.
        if self.pages >= self.spec.max_pages.max(1) {
            let max = self.spec.max_pages.max(1);
            return self.pagination(format!(
                "{max} pages fetched and the gateway still has more (every page full, or the \
                 total not reached): stopped rather than page forever; raise \
                 PageSpec::max_pages if there really are more"
            ));
        }
        self.pages += 1;
        let offset = self.offset.to_string();
        let limit = self.page_size.to_string();
        let mut params: Vec<(&str, &str)> = self
            .params
            .iter()
            .copied()
            .filter(|(n, _)| *n != "offset" && *n != "limit")
            .collect();
        params.push(("offset", &offset));
        params.push(("limit", &limit));
        if self.deadline.is_none() {
            self.deadline = self
                .limit
                .map(|d| Deadline::after(d, TimeoutKind::ExportDeadline));
        }
        let fetched = self.client.call_within(
            Method::Get,
            self.api_path,
            &params,
            &[],
            self.deadline.as_ref(),
        );
        let mut page = match fetched {
            Ok(page) => page,
            Err(e) => return self.fail(e),
        };
        let total = self
            .spec
            .total
            .as_deref()
            .and_then(|p| page.pointer(p))
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            });
        let items = match page.pointer_mut(&self.spec.items).map(Value::take) {
            // Taken, not copied: the page's records are held once.
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                let cause = Error::Undecodable {
                    status: 200,
                    reason: format!("{} is not an array", self.spec.items),
                    excerpt: String::new(),
                };
                return self.fail(cause);
            }
        };
        let len = items.len() as u64;
        let limit = u64::from(self.page_size);
        let answer = miva_protocol::page_check::PageAnswer {
            offset: self.offset,
            count: limit,
            start_offset: None,
            len,
            total,
        };
        if let Some(reason) = miva_protocol::page_check::check(
            &answer,
            self.total,
            &miva_protocol::page_check::MIRAVIA,
        ) {
            return self.pagination(reason);
        }
        self.total = Some(total);
        if !items.is_empty() && !self.seen.insert(page_hash(&items)) {
            return self.pagination(format!(
                "the page at offset {} held the same records as a page already delivered: \
                 the gateway ignores offset, so they would be repeated",
                self.offset
            ));
        }
        let end = self.offset.saturating_add(len);
        self.offset = end;
        if len < limit || total.is_some_and(|t| self.offset >= t) {
            self.done = true;
        }
        self.buffer = items.into_iter();
        self.buffer.next().map(Ok)
    }
}

fn decode(response: RawResponse) -> Result<Value, Error> {
    if (300..400).contains(&response.status) {
        return Err(Error::Redirect {
            status: response.status,
            location: response.location,
        });
    }
    if response.body.is_empty() {
        return Err(Error::EmptyResponse {
            status: response.status,
            hint: "the gateway sent nothing; check the gateway URL and API path",
        });
    }
    let value: Value = match serde_json::from_slice(&response.body) {
        Ok(v) => v,
        Err(e) if response.status == 200 => {
            return Err(Error::Undecodable {
                status: response.status,
                reason: e.to_string(),
                excerpt: excerpt(&response.body),
            });
        }
        Err(_) => {
            return Err(Error::HttpStatus {
                status: response.status,
                excerpt: excerpt(&response.body),
            });
        }
    };
    let code = match value.get("code") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ if response.status == 200 => "0".to_owned(),
        _ => {
            return Err(Error::HttpStatus {
                status: response.status,
                excerpt: excerpt(&response.body),
            });
        }
    };
    if code == "0" {
        return Ok(value);
    }
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    Err(Error::Miravia(
        PlatformError::new(&code, &text("message").unwrap_or_default())
            .with_type(text("type").as_deref())
            .with_request_id(text("request_id").as_deref()),
    ))
}

fn multipart(signed: &SignedParams, files: &[FilePart]) -> (String, Vec<u8>) {
    // A boundary that occurs in no part: lengthen it until it does not.
    let mut boundary = format!(
        "miva-rs-{:x}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    while files.iter().any(|f| {
        f.bytes
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
    }) || signed.iter().any(|(_, v)| v.contains(&boundary))
    {
        boundary.push('x');
    }
    let mut body = Vec::new();
    let quote = |s: &str| s.replace(['"', '\r', '\n'], "_");
    for (name, value) in signed.iter() {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n",
                quote(name)
            )
            .as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for file in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                quote(&file.name),
                quote(&file.file_name)
            )
            .as_bytes(),
        );
        body.extend_from_slice(&file.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
