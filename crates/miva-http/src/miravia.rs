//! The Miravia / Lazada Open Platform client (blocking), and the builder
//! both Miravia clients share.
//!
//! Every decision (signing each attempt, what an answer means, retries,
//! the clock offset, paging checks, token refresh) is the core's
//! ([`miva_protocol::miravia`]); this file only moves bytes, sleeps and
//! holds the refresh lock.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use miravia_sign::AppSecret;
use serde_json::Value;

use miva_protocol::miravia::{
    Call, PageRequest, Pager, Session, SessionConfig, Step, TokenDecision,
};
use miva_protocol::{Error, RetryPolicy, TransportConfig};

pub use miva_protocol::PlatformError;
pub use miva_protocol::miravia::{
    DEFAULT_MAX_PAGES, DEFAULT_PARTNER_ID, FilePart, Gateway, MAX_CONCURRENCY, Method, PageSpec,
    Token,
};

use crate::limiter::Limiter;
use crate::paging::{Fetcher, PageThreads};
use crate::transport::{HttpRequest, Transport};

/// Builds a Miravia client: [`MiraviaClient`] (blocking), or with the
/// `tokio` feature `miva_http::tokio::MiraviaClient` (async). The setters
/// are the same for both.
pub struct MiraviaClientBuilder<C = MiraviaClient> {
    session: SessionConfig,
    rate_limit: Option<f64>,
    max_in_flight: Option<usize>,
    client: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for MiraviaClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiraviaClientBuilder")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// What a builder hands the client it builds.
pub(crate) struct BuilderParts {
    pub(crate) session: Session,
    pub(crate) transport: TransportConfig,
    pub(crate) rate_limit: Option<f64>,
    pub(crate) max_in_flight: Option<usize>,
}

impl<C> MiraviaClientBuilder<C> {
    /// A builder with the defaults (see [`MiraviaClient::builder`]).
    pub(crate) fn new(gateway: Gateway, app_key: &str, secret: AppSecret) -> Self {
        Self {
            session: SessionConfig::new(gateway, app_key, secret),
            rate_limit: None,
            max_in_flight: None,
            client: PhantomData,
        }
    }

    /// The session and transport settings, checked.
    pub(crate) fn into_parts(self) -> Result<BuilderParts, Error> {
        let transport = self.session.transport_config().clone();
        Ok(BuilderParts {
            session: Session::new(self.session)?,
            transport,
            rate_limit: self.rate_limit,
            max_in_flight: self.max_in_flight,
        })
    }

    /// Calls on behalf of a seller: sets the access token.
    #[must_use]
    pub fn access_token(mut self, token: &str) -> Self {
        self.session = self.session.access_token(token);
        self
    }

    /// A token with its refresh token and expiry (from an earlier
    /// [`MiraviaClient::create_token`]).
    #[must_use]
    pub fn token(mut self, token: Token) -> Self {
        self.session = self.session.token(token);
        self
    }

    /// Refresh the access token automatically this long before it expires
    /// (one refresh at a time, however many threads or tasks call; the
    /// others wait for it and then use the new token). A token that has
    /// expired and cannot be refreshed (no refresh token, or its
    /// `refresh_expires_at` has passed) is an [`Error::Config`] saying to
    /// authorize again, and no call is sent with it.
    #[must_use]
    pub fn auto_refresh(mut self, margin: Duration) -> Self {
        self.session = self.session.auto_refresh(margin);
        self
    }

    /// Called with the new token after every successful refresh (by
    /// [`auto_refresh`](Self::auto_refresh) or an explicit
    /// `refresh_token` call), so that it can be persisted. It runs inline,
    /// on the thread or task that refreshed, while other calls wait for the
    /// refresh: keep it quick (send the token to a channel if storing it is
    /// slow). Do not log the token.
    #[must_use]
    pub fn on_refresh(mut self, callback: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.session = self.session.on_refresh(callback);
        self
    }

    /// The `partner_id` to send and sign; `None` sends none.
    #[must_use]
    pub fn partner_id(mut self, partner_id: Option<&str>) -> Self {
        self.session = self.session.partner_id(partner_id);
        self
    }

    /// Where token calls go (default [`Gateway::token_gateway`]).
    #[must_use]
    pub fn token_gateway(mut self, gateway: Gateway) -> Self {
        self.session = self.session.token_gateway(gateway);
        self
    }

    /// Transport settings (timeouts, body limit, plain http).
    #[must_use]
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.session = self.session.transport(config);
        self
    }

    /// The clock timestamps come from (tests inject a fixed one).
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.session = self.session.clock(clock);
        self
    }

    /// Retry failed calls where that is safe (see [`RetryPolicy`]): a
    /// connection never made, `AppCallLimit` / `ApiCallLimit`, and for GET
    /// calls the platform's `SYSTEM` / `ISP` errors. Off by default.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.session = self.session.retry(policy);
        self
    }

    /// Start at most this many requests per second, across every clone
    /// and thread (the platform's app call limits are per second).
    #[must_use]
    pub fn rate_limit(mut self, requests_per_second: f64) -> Self {
        self.rate_limit = Some(requests_per_second);
        self
    }

    /// Keep at most this many requests in flight, across every clone and
    /// thread.
    #[must_use]
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = Some(requests);
        self
    }
}

impl MiraviaClientBuilder<MiraviaClient> {
    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable gateway URL or app key.
    pub fn build(self) -> Result<MiraviaClient, Error> {
        let parts = self.into_parts()?;
        Ok(MiraviaClient {
            inner: Arc::new(Inner {
                transport: Transport::new(parts.transport),
                session: parts.session,
                refresh_lock: Mutex::new(()),
                limiter: Limiter::new(parts.rate_limit, parts.max_in_flight),
            }),
        })
    }
}

struct Inner {
    transport: Transport,
    session: Session,
    /// One refresh at a time.
    refresh_lock: Mutex<()>,
    limiter: Limiter,
}

/// A client for the Miravia / Lazada Open Platform. Cheap to clone; every
/// clone shares one connection pool and one token.
#[derive(Clone)]
pub struct MiraviaClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for MiraviaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_client(f, &self.inner.session)
    }
}

/// A Miravia client's `Debug`, the same for both drivers: the gateway
/// redacted and the app key (never the secret or a token).
pub(crate) fn debug_client(f: &mut fmt::Formatter<'_>, session: &Session) -> fmt::Result {
    f.debug_struct("MiraviaClient")
        .field("base", &miva_protocol::redact_url(session.base()))
        .field("app_key", &session.app_key())
        .finish_non_exhaustive()
}

impl MiraviaClient {
    /// Starts a builder; the secret is the app secret from the console.
    pub fn builder(gateway: Gateway, app_key: &str, secret: AppSecret) -> MiraviaClientBuilder {
        MiraviaClientBuilder::new(gateway, app_key, secret)
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
        self.ensure_token()?;
        let call = self.inner.session.call(method, api_path, params, files)?;
        self.run(call)
    }

    /// Runs one call to its end: each attempt signed by the core, sent,
    /// and its answer handed back; waits between retries.
    fn run(&self, mut call: Call<'_>) -> Result<Value, Error> {
        loop {
            let until = call.active_deadline().and_then(miva_protocol::Deadline::at);
            let permit = self.inner.limiter.acquire(until);
            // Signed now, after any rate-limit wait; its limit is what is
            // left of the deadline then (and once it has passed, the
            // deadline's error).
            let attempt = call.next_attempt()?;
            let Some(permit) = permit else {
                return Err(crate::limiter::gave_up_waiting(call.active_deadline()));
            };
            let span = tracing::debug_span!("miravia_request", api = call.api_path()).entered();
            let started = Instant::now();
            let result = self.inner.transport.send(&HttpRequest {
                url: attempt.url(),
                body: attempt.body(),
                headers: attempt.headers(),
                timeout: attempt.timeout(),
                budget: attempt.budget(),
            });
            drop(permit);
            let step = call.on_response(result, started.elapsed());
            drop(span);
            match step {
                Step::Done(value) => return Ok(value),
                Step::Fail(error) => return Err(error),
                Step::Wait(wait) => std::thread::sleep(wait),
                Step::Resend => {}
            }
        }
    }

    /// With auto-refresh: refreshes the token first when it is due, one
    /// refresh at a time (the others wait on the lock and then find it
    /// done).
    fn ensure_token(&self) -> Result<(), Error> {
        let session = &self.inner.session;
        if let TokenDecision::Refresh(_) = session.token_decision()? {
            let _guard = self
                .inner
                .refresh_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let TokenDecision::Refresh(refresh) = session.token_decision()? {
                let answer = self.run(session.refresh_token_call(&refresh)?)?;
                session.refreshed_token(answer, true)?;
            }
        }
        Ok(())
    }

    /// Milliseconds the platform's clock is ahead of this machine's
    /// (negative: behind), learned from its `Date` header the last time it
    /// refused a timestamp; 0 until then. Added to every timestamp sent.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.session.clock_offset().millis()
    }

    /// The token in use, if any.
    pub fn token(&self) -> Option<Token> {
        self.inner.session.token()
    }

    /// Replaces the token in use.
    pub fn set_token(&self, token: Option<Token>) {
        self.inner.session.set_token(token);
    }

    /// `/auth/token/create` with the authorization code from the seller's
    /// consent redirect. The token is not installed: call
    /// [`MiraviaClient::set_token`] with it.
    ///
    /// # Errors
    /// As [`MiraviaClient::get`].
    pub fn create_token(&self, code: &str) -> Result<Token, Error> {
        let session = &self.inner.session;
        let answer = self.run(session.create_token_call(code)?)?;
        session.created_token(answer)
    }

    /// `/auth/token/refresh`. The token is not installed (call
    /// [`MiraviaClient::set_token`] with it); the builder's `on_refresh`
    /// callback gets it.
    ///
    /// # Errors
    /// As [`MiraviaClient::get`].
    pub fn refresh_token(&self, refresh_token: &str) -> Result<Token, Error> {
        let session = &self.inner.session;
        let answer = self.run(session.refresh_token_call(refresh_token)?)?;
        session.refreshed_token(answer, false)
    }

    /// Every record of an offset/limit endpoint, page by page, in order.
    ///
    /// Nothing the gateway says about paging is taken on trust (see
    /// [`Pages`]): a repeated page, a changed total, a page larger than
    /// the limit or short before the total, and more than
    /// [`PageSpec::max_pages`] pages are each an [`Error::Page`] naming the
    /// offset, never repeats or an endless loop. [`Pages::concurrency`]
    /// keeps several pages in flight (on threads), [`Pages::deadline`]
    /// bounds the whole export.
    pub fn paginate<'a>(
        &'a self,
        api_path: &'a str,
        params: &'a [(&'a str, &'a str)],
        spec: PageSpec,
        page_size: u32,
    ) -> Pages<'a> {
        let pager = Pager::new(api_path, params, spec, page_size);
        let fetch = PageCall {
            client: self.clone(),
            api_path: pager.api_path().to_owned(),
        };
        Pages {
            run: PageThreads::new(pager, "miravia-page", fetch),
            _client: PhantomData,
        }
    }

    /// One page's call, within the export's deadline.
    fn fetch_page(&self, api_path: &str, request: &PageRequest) -> Result<Value, Error> {
        self.ensure_token()?;
        let call = self
            .inner
            .session
            .call(Method::Get, api_path, &request.param_pairs(), &[])?
            .deadline(request.deadline.clone());
        self.run(call)
    }
}

/// Iterator returned by [`MiraviaClient::paginate`]: each record once, in
/// order, with [`Pages::concurrency`] pages in flight.
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
/// record before the failed page was yielded exactly once, none after it,
/// sequentially and concurrently alike.
///
/// Limits: [`Pages::concurrency`] at most [`MAX_CONCURRENCY`], and never
/// more threads than pages left; each request is bounded by the client's
/// per-request timeout, the whole export by [`Pages::deadline`] if set.
///
/// The decisions (which page next, the checks, the order) are the
/// protocol core's [`Pager`], the same as the async
/// `miva_http::tokio::Pages`'; this type only runs the requests.
pub struct Pages<'a> {
    run: PageThreads<Pager, PageCall>,
    /// Tied to the client's borrow (the stream of the API before it owned
    /// a clone; kept so the signature stays).
    _client: PhantomData<&'a MiraviaClient>,
}

/// One page's request: a client clone per thread.
#[derive(Clone)]
struct PageCall {
    client: MiraviaClient,
    api_path: String,
}

impl Fetcher<Pager> for PageCall {
    fn fetch(&self, request: PageRequest) -> Result<Value, Error> {
        self.client.fetch_page(&self.api_path, &request)
    }
}

impl fmt::Debug for Pages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pager = self.run.machine();
        f.debug_struct("Pages")
            .field("api_path", &pager.api_path())
            .field("offset", &pager.offset())
            .field("concurrency", &pager.concurrency())
            .field("deadline", &pager.deadline_limit())
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

impl Pages<'_> {
    /// Pages fetched at once, one thread each, once the first page has
    /// arrived with a total (default 1; 0 is taken as 1; at most
    /// [`MAX_CONCURRENCY`], and more is an [`Error::Config`] on the first
    /// `next()`, before anything is sent). Records still come out in order,
    /// each once; at most this many pages are held besides the one being
    /// handed out, never a page past the total, and no more threads are
    /// started than pages remain after the first. An endpoint without a
    /// total is paged one page at a time whatever this says (its end is
    /// known only from a short page).
    #[must_use]
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.run.machine_mut().set_concurrency(pages);
        self
    }

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
        self.run.machine_mut().set_deadline(limit);
        self
    }

    /// The total once the first page has arrived (`None` before, and when
    /// the endpoint gives none).
    pub fn total(&self) -> Option<u64> {
        self.run.machine().total()
    }

    /// How many threads fetch pages (0 until the first page has arrived,
    /// and when fetching one page at a time).
    pub fn threads(&self) -> usize {
        self.run.threads()
    }
}

impl Iterator for Pages<'_> {
    type Item = Result<Value, Error>;

    /// Runs the pager's requests (inline for the first page and one page
    /// at a time, on the threads otherwise) until it has a record or an
    /// end.
    fn next(&mut self) -> Option<Self::Item> {
        self.run.next()
    }
}
