//! The Miva Merchant JSON API client: typed and raw calls, module calls,
//! multicall with the 206 continuation, and auto-pagination.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use miva_envelope::{ListPage, ListRequest, MivaRequest, Operation, OperationResult};
use miva_sign::Credential;
use serde_json::Value;

use miva_protocol::miva::{Attempt, Session, Step};
use miva_protocol::{BodyBudget, Deadline, Error, RetryPolicy, TransportConfig};

pub use miva_protocol::miva::{
    API_TIMEOUT_MARGIN, BinaryEncoding, CallOptions, DEFAULT_MAX_MULTICALL_ROUNDS,
};

use crate::limiter::Limiter;
use crate::transport::{HttpRequest, Transport};

/// The most pages [`Records::concurrency`] may keep in flight (one thread
/// each, in the blocking driver); more is an [`Error::Config`] on the first
/// `next()`. The core's limit, the same for both drivers.
pub use miva_protocol::miva::list::MAX_CONCURRENCY;

/// Builds a Miva client: [`MivaClient`] (blocking) by default, or with the
/// `tokio` feature `miva_http::tokio::MivaClient`; the same setters for
/// both.
pub struct MivaClientBuilder<C = MivaClient> {
    pub(crate) session: Session,
    pub(crate) rate_limit: Option<f64>,
    pub(crate) max_in_flight: Option<usize>,
    _client: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for MivaClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_client(f, "MivaClientBuilder", &self.session)
    }
}

impl<C> MivaClientBuilder<C> {
    /// A builder for the store's JSON endpoint with the defaults.
    pub(crate) fn start(endpoint: &str, credential: Credential) -> Self {
        Self {
            session: Session::new(endpoint, credential),
            rate_limit: None,
            max_in_flight: None,
            _client: PhantomData,
        }
    }

    fn map(mut self, f: impl FnOnce(Session) -> Session) -> Self {
        self.session = f(self.session);
        self
    }

    /// The default `Store_Code` of store-scoped calls.
    pub fn store_code(self, code: &str) -> Self {
        self.map(|s| s.store_code(Some(code.to_owned())))
    }

    /// Send `Miva_Request_Timestamp` (default on; a store can require it).
    pub fn timestamps(self, on: bool) -> Self {
        self.map(|s| s.timestamps(on))
    }

    /// The store's time budget for one multicall request, sent as
    /// `X-Miva-API-Timeout` (whole seconds, at least 1) on multicall
    /// requests only: Miva's server code reads it nowhere else
    /// (`mmlsk-json.mv`; default 60 s). When the budget is spent the store
    /// stops between operations and answers HTTP 206 with what it finished;
    /// the client then asks for the rest. So it is not a client-side
    /// timeout: a small value makes more, shorter rounds (each bounded by
    /// [`DEFAULT_MAX_MULTICALL_ROUNDS`]), not a faster failure; bound the
    /// whole multicall with [`CallOptions::deadline`]. Each multicall
    /// request's own limit is raised to the budget plus
    /// [`API_TIMEOUT_MARGIN`] if the transport's per-request timeout is
    /// shorter, so the client does not cut off a store using its budget.
    ///
    /// Which limit bounds what: [`TransportConfig::connect_timeout`] opening
    /// a connection; [`TransportConfig::timeout`] each request, connection
    /// to last byte (or [`CallOptions::timeout`] for one call);
    /// [`CallOptions::deadline`] a whole call or multicall (every round,
    /// retry and wait); [`Records::deadline`] a whole export.
    pub fn api_timeout(self, timeout: Duration) -> Self {
        self.map(|s| s.api_timeout(Some(timeout)))
    }

    /// `X-Miva-API-Binary-Encoding`.
    pub fn binary_encoding(self, encoding: BinaryEncoding) -> Self {
        self.map(|s| s.binary_encoding(encoding))
    }

    /// Transport settings (timeouts, body limit, user agent, plain http).
    pub fn transport(self, config: TransportConfig) -> Self {
        self.map(|s| s.transport(config))
    }

    /// The clock timestamps are taken from (tests inject one).
    pub fn clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.map(|s| s.clock(clock))
    }

    /// The most requests one multicall may take (default
    /// [`DEFAULT_MAX_MULTICALL_ROUNDS`]).
    pub fn max_multicall_rounds(self, rounds: usize) -> Self {
        self.map(|s| s.max_multicall_rounds(rounds))
    }

    /// Retry failed calls where that is safe (see [`RetryPolicy`]). Off by
    /// default.
    pub fn retry(self, policy: RetryPolicy) -> Self {
        self.map(|s| s.retry(Some(policy)))
    }

    /// Start at most this many requests per second, across every clone
    /// and thread of the client (a Miva store throttles nothing itself).
    pub fn rate_limit(mut self, requests_per_second: f64) -> Self {
        self.rate_limit = Some(requests_per_second);
        self
    }

    /// Keep at most this many requests in flight, across every clone and
    /// thread of the client.
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = Some(requests);
        self
    }
}

impl MivaClientBuilder<MivaClient> {
    /// Checks the endpoint and builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for an endpoint that is not an https URL (or http to
    /// loopback), or an empty store code.
    pub fn build(self) -> Result<MivaClient, Error> {
        self.session.check()?;
        Ok(MivaClient {
            inner: Arc::new(Inner {
                transport: Transport::new(self.session.transport_config().clone()),
                limiter: Limiter::new(self.rate_limit, self.max_in_flight),
                session: self.session,
            }),
        })
    }
}

struct Inner {
    transport: Transport,
    session: Session,
    limiter: Limiter,
}

/// A client for one Miva store's JSON API. `Send + Sync` and cheap to clone:
/// every clone and thread shares one keep-alive connection pool.
///
/// ```no_run
/// use miva_envelope::{ListQuery, ProductListLoadQuery};
/// use miva_http::miva::MivaClient;
/// use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let credential = Credential::hmac(
///     ApiToken::new("token from Users > API Tokens")?,
///     &SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ")?,
///     HmacDigest::Sha256,
/// );
/// let client = MivaClient::builder("https://www.example.com/mm5/json.mvc", credential)
///     .store_code("store")
///     .build()?;
/// for product in client.list(ProductListLoadQuery::new(ListQuery::new())).page_size(200) {
///     println!("{:?}", product?.code);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MivaClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for MivaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_client(f, "MivaClient", &self.inner.session)
    }
}

/// A Miva client's (or builder's) `Debug`, the same for both drivers: the
/// endpoint redacted, the store code, the credential (whose `Debug`
/// redacts its secrets).
pub(crate) fn debug_client(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    session: &Session,
) -> fmt::Result {
    f.debug_struct(name)
        .field("endpoint", &miva_protocol::redact_url(session.endpoint()))
        .field("store_code", &session.default_store_code())
        .field("credential", session.credential())
        .finish_non_exhaustive()
}

/// The request a driver sends for `attempt`: POSTed JSON to the endpoint.
pub(crate) fn http_request<'a>(
    session: &'a Session,
    attempt: &'a Attempt,
    headers: &'a [(&'a str, &'a str)],
) -> HttpRequest<'a> {
    HttpRequest {
        url: session.endpoint(),
        body: Some(("application/json", attempt.body())),
        headers,
        timeout: attempt.timeout(),
        budget: attempt.budget(),
    }
}

/// A machine a driver runs: a call or a multicall.
pub(crate) trait Machine {
    type Output;
    fn function(&self) -> &str;
    fn next_attempt(&mut self) -> Result<Attempt, Error>;
    /// The deadline over the whole call, if any.
    fn active_deadline(&self) -> Option<&Deadline>;
    /// The attempt without its authorization (signed by the driver).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    fn next_unsigned(&mut self) -> Result<Attempt, Error>;
    fn on_response(
        &mut self,
        result: Result<miva_protocol::RawResponse, Error>,
        elapsed: Duration,
    ) -> Step<Self::Output>;
}

impl<T: serde::de::DeserializeOwned> Machine for miva_protocol::miva::Call<'_, T> {
    type Output = T;
    fn function(&self) -> &str {
        miva_protocol::miva::Call::function(self)
    }
    fn next_attempt(&mut self) -> Result<Attempt, Error> {
        miva_protocol::miva::Call::next_attempt(self)
    }
    fn active_deadline(&self) -> Option<&Deadline> {
        miva_protocol::miva::Call::active_deadline(self)
    }
    fn next_unsigned(&mut self) -> Result<Attempt, Error> {
        miva_protocol::miva::Call::next_unsigned(self)
    }
    fn on_response(
        &mut self,
        result: Result<miva_protocol::RawResponse, Error>,
        elapsed: Duration,
    ) -> Step<T> {
        miva_protocol::miva::Call::on_response(self, result, elapsed)
    }
}

impl Machine for miva_protocol::miva::Multicall<'_> {
    type Output = Vec<OperationResult>;
    fn function(&self) -> &str {
        miva_protocol::miva::Multicall::function(self)
    }
    fn next_attempt(&mut self) -> Result<Attempt, Error> {
        miva_protocol::miva::Multicall::next_attempt(self)
    }
    fn active_deadline(&self) -> Option<&Deadline> {
        miva_protocol::miva::Multicall::active_deadline(self)
    }
    fn next_unsigned(&mut self) -> Result<Attempt, Error> {
        miva_protocol::miva::Multicall::next_unsigned(self)
    }
    fn on_response(
        &mut self,
        result: Result<miva_protocol::RawResponse, Error>,
        elapsed: Duration,
    ) -> Step<Vec<OperationResult>> {
        miva_protocol::miva::Multicall::on_response(self, result, elapsed)
    }
}

impl MivaClient {
    /// Starts a builder for the store's JSON endpoint
    /// (`https://<domain>/mm5/json.mvc`).
    pub fn builder(endpoint: &str, credential: Credential) -> MivaClientBuilder {
        MivaClientBuilder::start(endpoint, credential)
    }

    /// The default store code.
    pub fn store_code(&self) -> Option<&str> {
        self.inner.session.default_store_code()
    }

    /// Drives `machine` to its end: each attempt after a limiter permit,
    /// sent, its outcome handed back; waits slept.
    fn drive<M: Machine>(&self, mut machine: M) -> Result<M::Output, Error> {
        let span = tracing::debug_span!("miva_request", function = machine.function());
        let _span = span.entered();
        loop {
            let until = machine.active_deadline().and_then(Deadline::at);
            let permit = self.inner.limiter.acquire(until);
            // Once the deadline has passed, the machine's error.
            let attempt = machine.next_attempt()?;
            let Some(_permit) = permit else {
                return Err(crate::limiter::gave_up_waiting(machine.active_deadline()));
            };
            let headers = attempt.headers();
            let started = Instant::now();
            let result =
                self.inner
                    .transport
                    .send(&http_request(&self.inner.session, &attempt, &headers));
            drop(_permit);
            match machine.on_response(result, started.elapsed()) {
                Step::Done(value) => return Ok(value),
                Step::Fail(error) => return Err(error),
                Step::Wait(wait) => std::thread::sleep(wait),
                Step::Resend => {}
            }
        }
    }

    /// A typed call: returns the response's `data`.
    ///
    /// # Errors
    /// [`Error::Api`] or [`Error::AccessDenied`] when the store refuses,
    /// or any transport or decoding error.
    pub fn call<R: MivaRequest>(&self, request: &R) -> Result<R::Response, Error> {
        self.call_with(request, &CallOptions::default())
    }

    /// A typed call with per-call options.
    ///
    /// # Errors
    /// As [`MivaClient::call`].
    pub fn call_with<R: MivaRequest>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<R::Response, Error> {
        self.drive(self.inner.session.request_call(request, options)?)
    }

    pub(crate) fn call_budget(&self) -> BodyBudget {
        self.inner.session.call_budget()
    }

    /// A call of any function with JSON parameters; returns `data` (null
    /// when the function returns none). A `Store_Code` in `params` overrides
    /// the client's default; `null` there sends none. Functions the API spec
    /// has as domain-scoped (`StoreList_Load_Query`, ...) send none unless
    /// `params` names one.
    ///
    /// # Errors
    /// As [`MivaClient::call`]; [`Error::Config`] when `params` is not an
    /// object; [`Error::Envelope`] before anything is sent when a store
    /// would read the call otherwise
    /// ([`check_raw_call`](miva_envelope::api::check_raw_call): a function
    /// name in the wrong letter case, a list filter it would drop).
    pub fn call_raw(&self, function: &str, params: &Value) -> Result<Value, Error> {
        self.call_raw_with(function, params, &CallOptions::default())
    }

    /// [`MivaClient::call_raw`] with per-call options: a `Store_Code` used
    /// when `params` names none, `idempotent`, a per-request `timeout`, and
    /// a `deadline` on the call with its retries.
    ///
    /// # Errors
    /// As [`MivaClient::call_raw`]; [`Error::Timeout`] when the deadline
    /// passes.
    pub fn call_raw_with(
        &self,
        function: &str,
        params: &Value,
        options: &CallOptions,
    ) -> Result<Value, Error> {
        self.drive(self.inner.session.raw_call(function, params, options)?)
    }

    /// A module function call (`"Function": "Module"`).
    ///
    /// # Errors
    /// As [`MivaClient::call_raw`].
    pub fn call_module(
        &self,
        module_code: &str,
        module_function: &str,
        params: &Value,
    ) -> Result<Value, Error> {
        self.drive(
            self.inner
                .session
                .module_call(module_code, module_function, params)?,
        )
    }

    /// Milliseconds the store's clock is ahead of this machine's (negative:
    /// behind), as learned from its `Date` header the last time it refused
    /// a timestamp; 0 until then. Added to every timestamp this client (and
    /// every clone of it) sends.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.session.clock_offset_ms()
    }

    /// The clock offset in whole seconds.
    #[deprecated(note = "use clock_offset_ms(), the same on every client of both platforms")]
    pub fn clock_offset(&self) -> i64 {
        self.inner.session.clock_offset().seconds()
    }

    /// Runs several operations in one request and returns one result per
    /// operation, in order. When the store runs out of time it answers
    /// HTTP 206 with `Content-Range: <completed>/<total>`; the client then
    /// asks for the rest (`Range: Operations=<next>-<total>`, re-signed with
    /// a fresh timestamp) until every operation is answered. The loop is
    /// bounded: each round must make progress, and there are at most
    /// [`DEFAULT_MAX_MULTICALL_ROUNDS`] rounds (configurable). Each round
    /// is bounded by the transport's timeout (raised to the store's budget
    /// plus [`API_TIMEOUT_MARGIN`] with [`MivaClientBuilder::api_timeout`]);
    /// the whole multicall by nothing more than rounds × that, unless
    /// [`MivaClient::multicall_with`] gives it a [`CallOptions::deadline`].
    ///
    /// # Errors
    /// [`Error::Multicall`] when the server's counts do not add up (a 206
    /// without `Content-Range`, no progress, more answers than operations);
    /// [`Error::Api`] / [`Error::AccessDenied`] when the whole request is
    /// refused; [`Error::Envelope`] before anything is sent when an
    /// operation fails [`Operation::check`]; transport errors.
    pub fn multicall(&self, operations: &[Operation]) -> Result<Vec<OperationResult>, Error> {
        self.multicall_with(operations, &CallOptions::default())
    }

    /// [`MivaClient::multicall`] with per-call options: the `Store_Code`,
    /// whether a 502/503/504 may be retried (`idempotent`: every operation
    /// is safe to repeat), a per-request `timeout`, and a `deadline` on the
    /// whole multicall, every round included.
    ///
    /// # Errors
    /// As [`MivaClient::multicall`]; [`Error::Timeout`] when the deadline
    /// passes, saying how many operations were answered (those may have
    /// run: a multicall may write).
    pub fn multicall_with(
        &self,
        operations: &[Operation],
        options: &CallOptions,
    ) -> Result<Vec<OperationResult>, Error> {
        self.drive(self.inner.session.multicall(operations, options)?)
    }

    /// Every record of a list query, in order, fetched page by page (see
    /// [`Records`] for what is checked of each page).
    pub fn list<R: ListRequest + Send + 'static>(&self, request: R) -> Records<R>
    where
        R::Record: Send + 'static,
    {
        Records::new(self.clone(), request)
    }

    /// One page: `count` records from `offset`, cut off at `deadline`.
    pub(super) fn fetch_page<R: ListRequest>(
        &self,
        request: &R,
        offset: u64,
        count: u64,
        deadline: Option<&Deadline>,
        pages: usize,
    ) -> Result<ListPage<R::Record>, Error> {
        self.drive(
            self.inner
                .session
                .page_call(request, offset, count, deadline, pages)?,
        )
    }
}

pub(crate) mod records;
pub use records::Records;
