//! The Miva Merchant JSON API client: typed and raw calls, module calls,
//! multicall with the 206 continuation, and auto-pagination.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use miva_envelope::{
    ApiError, ContentRange, Envelope, ListPage, ListRequest, MivaRequest, Operation,
    OperationResult, Response, Scope, Target, decode_multicall, encode_multicall_into,
};
use miva_sign::Credential;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use miva_protocol::{
    BodyBudget, ClockOffset, Deadline, Error, RawResponse, RetryPolicy, RetryState, TimeoutKind,
    TransportConfig, excerpt,
};

use crate::limiter::Limiter;
use crate::transport::{HttpRequest, Transport};

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The hint given when a store answers with an empty body.
const EMPTY_HINT: &str = "a Miva store answers with an empty body when the \
    X-Miva-API-Authorization header is missing or unreadable: check the token (and that \
    nothing between you and the store strips the header)";

/// The most continuation requests a multicall may take before the client
/// gives up (each must complete at least one operation).
pub const DEFAULT_MAX_MULTICALL_ROUNDS: usize = 64;

/// The most pages [`Records::concurrency`] may keep in flight (one thread
/// each); more is an [`Error::Config`] on the first `next()`.
pub const MAX_CONCURRENCY: usize = 64;

/// How much longer than the store's multicall budget
/// ([`MivaClientBuilder::api_timeout`]) a multicall request may take: the
/// store answers when its budget is spent, then the answer travels.
pub const API_TIMEOUT_MARGIN: Duration = Duration::from_secs(10);

/// How binary payloads travel (`X-Miva-API-Binary-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryEncoding {
    /// JSON (the default; the header is not sent).
    #[default]
    Json,
    /// `base64`: binary fields of the request are base64 text.
    Base64,
}

/// Builds a [`MivaClient`].
pub struct MivaClientBuilder {
    endpoint: String,
    credential: Credential,
    store_code: Option<String>,
    timestamps: bool,
    api_timeout: Option<Duration>,
    binary_encoding: BinaryEncoding,
    transport: TransportConfig,
    clock: Clock,
    max_multicall_rounds: usize,
    retry: Option<RetryPolicy>,
    rate_limit: Option<f64>,
    max_in_flight: Option<usize>,
}

impl fmt::Debug for MivaClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MivaClientBuilder")
            .field("endpoint", &miva_protocol::redact_url(&self.endpoint))
            .field("credential", &self.credential)
            .field("store_code", &self.store_code)
            .finish_non_exhaustive()
    }
}

impl MivaClientBuilder {
    /// The default `Store_Code` of store-scoped calls.
    pub fn store_code(mut self, code: &str) -> Self {
        self.store_code = Some(code.to_owned());
        self
    }

    /// Send `Miva_Request_Timestamp` (default on; a store can require it).
    pub fn timestamps(mut self, on: bool) -> Self {
        self.timestamps = on;
        self
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
    /// to last byte; [`CallOptions::deadline`] a whole call or multicall
    /// (every round, retry and wait); [`Records::deadline`] a whole export.
    pub fn api_timeout(mut self, timeout: Duration) -> Self {
        self.api_timeout = Some(timeout);
        self
    }

    /// `X-Miva-API-Binary-Encoding`.
    pub fn binary_encoding(mut self, encoding: BinaryEncoding) -> Self {
        self.binary_encoding = encoding;
        self
    }

    /// Transport settings (timeouts, body limit, user agent, plain http).
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// The clock timestamps are taken from (tests inject one).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The most requests one multicall may take (default
    /// [`DEFAULT_MAX_MULTICALL_ROUNDS`]).
    pub fn max_multicall_rounds(mut self, rounds: usize) -> Self {
        self.max_multicall_rounds = rounds.max(1);
        self
    }

    /// Retry failed calls where that is safe (see [`RetryPolicy`]). Off by
    /// default.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
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

    /// Checks the endpoint and builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for an endpoint that is not an https URL (or http to
    /// loopback), or an empty store code.
    pub fn build(self) -> Result<MivaClient, Error> {
        miva_protocol::check_url(&self.endpoint, self.transport.allow_insecure_http)?;
        if self
            .store_code
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return Err(Error::Config(
                "the store code is empty: pass the code shown in the admin under Settings > Store"
                    .into(),
            ));
        }
        Ok(MivaClient {
            inner: Arc::new(Inner {
                transport: Transport::new(self.transport),
                endpoint: self.endpoint,
                credential: self.credential,
                store_code: self.store_code,
                timestamps: self.timestamps,
                api_timeout: self.api_timeout.map(|t| t.as_secs().max(1).to_string()),
                api_budget: self.api_timeout.map(|t| t.max(Duration::from_secs(1))),
                binary_encoding: self.binary_encoding,
                clock: self.clock,
                clock_offset: ClockOffset::new(),
                max_multicall_rounds: self.max_multicall_rounds,
                retry: self.retry,
                limiter: Limiter::new(self.rate_limit, self.max_in_flight),
            }),
        })
    }
}

struct Inner {
    transport: Transport,
    endpoint: String,
    credential: Credential,
    store_code: Option<String>,
    timestamps: bool,
    /// `X-Miva-API-Timeout`, as sent (multicall only).
    api_timeout: Option<String>,
    /// The same budget: a multicall request may take this plus
    /// [`API_TIMEOUT_MARGIN`].
    api_budget: Option<Duration>,
    binary_encoding: BinaryEncoding,
    clock: Clock,
    /// Seconds to add to the local clock to get the store's (learned from
    /// its `Date` header when it refuses a timestamp).
    clock_offset: ClockOffset,
    max_multicall_rounds: usize,
    retry: Option<RetryPolicy>,
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
        f.debug_struct("MivaClient")
            .field("endpoint", &miva_protocol::redact_url(&self.inner.endpoint))
            .field("store_code", &self.inner.store_code)
            .field("credential", &self.inner.credential)
            .finish_non_exhaustive()
    }
}

/// Per-call settings that override the client's.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Use this `Store_Code` instead of the client's default.
    pub store_code: Option<String>,
    /// The call is safe to repeat (a write that sets absolute values, say):
    /// with a [`RetryPolicy`], a 502/503/504 answer is retried as for
    /// read-only functions.
    pub idempotent: bool,
    /// An overall limit on the whole call: for [`MivaClient::multicall_with`]
    /// every round of the 206 continuation, for the other calls the request
    /// and its retries, waits included. When it passes the call ends with
    /// [`Error::Timeout`] naming it; a request in flight is cut off then.
    /// `None` (the default): each request is bounded by the transport's
    /// timeout only, so a multicall by rounds × timeout.
    pub deadline: Option<Duration>,
}

impl MivaClient {
    /// Starts a builder for the store's JSON endpoint
    /// (`https://<domain>/mm5/json.mvc`).
    pub fn builder(endpoint: &str, credential: Credential) -> MivaClientBuilder {
        MivaClientBuilder {
            endpoint: endpoint.to_owned(),
            credential,
            store_code: None,
            timestamps: true,
            api_timeout: None,
            binary_encoding: BinaryEncoding::Json,
            transport: TransportConfig::default(),
            clock: Arc::new(SystemTime::now),
            max_multicall_rounds: DEFAULT_MAX_MULTICALL_ROUNDS,
            retry: None,
            rate_limit: None,
            max_in_flight: None,
        }
    }

    /// The default store code.
    pub fn store_code(&self) -> Option<&str> {
        self.inner.store_code.as_deref()
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
        let deadline = options
            .deadline
            .map(|d| Deadline::after(d, TimeoutKind::CallDeadline));
        self.send_request(
            request,
            options.store_code.as_deref(),
            options.idempotent,
            deadline.as_ref(),
            self.call_budget(),
        )
    }

    /// The one path of a typed request, for [`MivaClient::call_with`] and
    /// a list's pages: validated (a list query naming a column its function
    /// lacks never leaves), sent with `store_code` or the client's for a
    /// store-scoped function and none for a domain-scoped one, and safe to
    /// repeat when `idempotent` or read-only.
    fn send_request<R: MivaRequest>(
        &self,
        request: &R,
        store_code: Option<&str>,
        idempotent: bool,
        deadline: Option<&Deadline>,
        budget: BodyBudget,
    ) -> Result<R::Response, Error> {
        request.validate()?;
        let store = match request.scope() {
            Scope::Store => store_code.or(self.store_code()),
            Scope::Domain => None,
        };
        let safe = idempotent || read_only(request.function());
        self.send_one(
            Target::Function(request.function()),
            store,
            request,
            safe,
            deadline,
            budget,
        )
    }

    fn call_budget(&self) -> BodyBudget {
        BodyBudget::call(self.inner.transport.config().body_limit)
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
    /// when `params` names none, `idempotent`, and a `deadline` on the call
    /// with its retries.
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
        // Never send what a store would read otherwise: a wrong-case
        // function name, a list filter it would drop.
        let explicit = params.get("Store_Code").is_some();
        let (mut store, params) = self.split_store(params)?;
        miva_envelope::api::check_raw_call(function, &params)?;
        // A domain-scoped function of the spec carries no Store_Code unless
        // the caller put one in `params`.
        if !explicit && options.store_code.is_some() {
            store.clone_from(&options.store_code);
        }
        if !explicit
            && miva_envelope::api::function(function).is_some_and(|f| f.scope == Scope::Domain)
        {
            store = None;
        }
        let deadline = options
            .deadline
            .map(|d| Deadline::after(d, TimeoutKind::CallDeadline));
        self.send_one(
            Target::Function(function),
            store.as_deref(),
            &params,
            options.idempotent || read_only(function),
            deadline.as_ref(),
            self.call_budget(),
        )
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
        let (store, params) = self.split_store(params)?;
        self.send_one(
            Target::Module {
                code: module_code,
                function: module_function,
            },
            store.as_deref(),
            &params,
            false,
            None,
            self.call_budget(),
        )
    }

    fn split_store(&self, params: &Value) -> Result<(Option<String>, Map<String, Value>), Error> {
        let mut map = match params {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                return Err(Error::Config(format!(
                    "the parameters must be a JSON object of field names and values, found {}",
                    excerpt(other.to_string().as_bytes())
                )));
            }
        };
        map.remove("Function");
        map.remove("Miva_Request_Timestamp");
        let store = match map.remove("Store_Code") {
            None => self.inner.store_code.clone(),
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                return Err(Error::Config(format!(
                    "Store_Code must be a string, found {other}"
                )));
            }
        };
        Ok((store, map))
    }

    fn timestamp(&self) -> Option<i64> {
        if !self.inner.timestamps {
            return None;
        }
        Some(miva_protocol::unix_seconds(
            self.inner.clock_offset.apply((self.inner.clock)()),
        ))
    }

    /// Seconds the store's clock is ahead of this machine's (negative:
    /// behind), as learned from its `Date` header the last time it refused
    /// a timestamp; 0 until then. Added to every timestamp this client (and
    /// every clone of it) sends.
    pub fn clock_offset(&self) -> i64 {
        self.inner.clock_offset.seconds()
    }

    /// After "Timestamp outside configured window": takes the store's time
    /// from `response`'s `Date` header and keeps the offset. `true` when
    /// the offset changed, so a retry with a new timestamp can succeed.
    fn learn_clock_offset(&self, error: &Error, response: &RawResponse) -> bool {
        let Error::AccessDenied {
            kind: miva_envelope::AccessDenied::TimestampOutsideWindow,
            ..
        } = error
        else {
            return false;
        };
        let Some(date) = response.date.as_deref() else {
            tracing::debug!("timestamp refused and no Date header: clock not adjusted");
            return false;
        };
        self.inner.clock_offset.learn((self.inner.clock)(), date)
    }

    fn send_one<P: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        target: Target<'_>,
        store_code: Option<&str>,
        params: &P,
        safe_to_repeat: bool,
        deadline: Option<&Deadline>,
        budget: BodyBudget,
    ) -> Result<T, Error> {
        let mut retries = RetryState::new();
        let mut body = Vec::with_capacity(256);
        let name = target.display_name();
        // A refused timestamp is retried once, with the store's clock.
        let mut retried = false;
        loop {
            body.clear();
            Envelope::new(target)
                .store_code(store_code)
                .timestamp(self.timestamp())
                .encode_into(params, &mut body)?;
            let response = match self
                .post(&name, &body, None, false, deadline, budget)
                .and_then(|r| check_status(&r, false).map(|()| r))
            {
                Ok(response) => response,
                Err(e) => {
                    if let Some(wait) = self.retry_wait(&e, safe_to_repeat, &mut retries, deadline)
                    {
                        std::thread::sleep(wait);
                        continue;
                    }
                    return Err(e);
                }
            };
            // Nothing is decoded that would not fit in memory or would
            // round an integer.
            return match budget.decode_response::<T>(&response.body)? {
                Ok(Response::Success(data)) => Ok(data),
                Ok(Response::Failure(error)) => {
                    let error = api_error(error);
                    if !retried && self.learn_clock_offset(&error, &response) {
                        retried = true;
                        continue;
                    }
                    Err(error)
                }
                Err(e) => Err(Error::Undecodable {
                    status: response.status,
                    reason: e.to_string(),
                    excerpt: excerpt(&response.body),
                }),
            };
        }
    }

    /// With a retry policy, whether `error` may be retried (and after how
    /// long); counts the retry. Never a wait that outlasts `deadline`.
    fn retry_wait(
        &self,
        error: &Error,
        safe_to_repeat: bool,
        retries: &mut RetryState,
        deadline: Option<&Deadline>,
    ) -> Option<Duration> {
        retries.next_wait(
            self.inner.retry.as_ref(),
            error,
            safe_to_repeat,
            deadline.map(Deadline::remaining),
        )
    }

    /// Signs `body` and POSTs it. A multicall request carries
    /// `X-Miva-API-Timeout` (when set) and may take the store's budget plus
    /// [`API_TIMEOUT_MARGIN`]; any request is cut off at `deadline`.
    fn post(
        &self,
        what: &str,
        body: &[u8],
        range: Option<&str>,
        multicall: bool,
        deadline: Option<&Deadline>,
        budget: BodyBudget,
    ) -> Result<RawResponse, Error> {
        if let Some(d) = deadline.filter(|d| d.passed()) {
            return Err(d.expired());
        }
        let header = self.inner.credential.authorize(body)?;
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(4);
        headers.push((header.name(), header.value()));
        if multicall && let Some(t) = &self.inner.api_timeout {
            headers.push(("X-Miva-API-Timeout", t));
        }
        if self.inner.binary_encoding == BinaryEncoding::Base64 {
            headers.push(("X-Miva-API-Binary-Encoding", "base64"));
        }
        if let Some(range) = range {
            headers.push(("Range", range));
        }
        let _permit = self.inner.limiter.acquire();
        // This request's limit: the transport's, raised for a multicall to
        // the store's budget plus a margin, lowered to what is left of the
        // deadline (checked after waiting for a permit).
        let configured = self.inner.transport.timeout();
        let mut limit = configured;
        if multicall && let Some(budget) = self.inner.api_budget {
            limit = limit.max(budget.saturating_add(API_TIMEOUT_MARGIN));
        }
        let mut cut_by = None;
        if let Some(d) = deadline
            && let Some(left) = d.request_limit(limit)?
        {
            limit = left;
            cut_by = Some(d);
        }
        let _span = tracing::debug_span!("miva_request", function = what).entered();
        let started = Instant::now();
        let result = self.inner.transport.send(&HttpRequest {
            url: &self.inner.endpoint,
            body: Some(("application/json", body)),
            headers: &headers,
            timeout: (limit != configured).then_some(limit),
            budget,
        });
        let result = match (result, cut_by) {
            (Err(Error::Timeout { .. }), Some(d)) => Err(d.expired()),
            (result, _) => result,
        };
        match &result {
            Ok(r) => tracing::debug!(
                function = what,
                status = r.status,
                request_bytes = body.len(),
                response_bytes = r.body.len(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                "miva call"
            ),
            Err(e) => tracing::debug!(
                function = what,
                request_bytes = body.len(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                error = %e,
                "miva call failed"
            ),
        }
        result
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
    /// is safe to repeat), and a `deadline` on the whole multicall, every
    /// round included.
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
        for operation in operations {
            operation.check()?;
        }
        let deadline = options
            .deadline
            .map(|d| Deadline::after(d, TimeoutKind::CallDeadline));
        let deadline = deadline.as_ref();
        let total = operations.len();
        let mut results: Vec<OperationResult> = Vec::with_capacity(total);
        let mut body = Vec::with_capacity(256);
        let store = options.store_code.as_deref().or(self.store_code());
        let mut retried = false;
        let mut retries = RetryState::new();
        let budget = self.call_budget();
        let mut round = 0;
        while round < self.inner.max_multicall_rounds {
            round += 1;
            body.clear();
            encode_multicall_into(store, self.timestamp(), operations, &mut body)?;
            let range = (round > 1).then(|| {
                ContentRange {
                    completed: results.len(),
                    total,
                }
                .next_range()
            });
            let response = match self
                .post("multicall", &body, range.as_deref(), true, deadline, budget)
                .and_then(|r| check_status(&r, true).map(|()| r))
            {
                Ok(response) => response,
                // A multicall may write: only what never reached the store
                // is sent again (unless the caller says it is idempotent).
                Err(e) => match self.retry_wait(&e, options.idempotent, &mut retries, deadline) {
                    Some(wait) => {
                        std::thread::sleep(wait);
                        round -= 1;
                        continue;
                    }
                    None => {
                        return Err(match (e, deadline) {
                            (Error::Timeout { .. }, Some(d)) if d.passed() => Error::Timeout {
                                kind: TimeoutKind::MulticallDeadline {
                                    round,
                                    answered: results.len(),
                                    total,
                                },
                                limit: d.limit(),
                            },
                            (e, _) => e,
                        });
                    }
                },
            };
            budget.check_decodable(&response.body)?;
            let chunk = match decode_multicall(&response.body) {
                Ok(Ok(chunk)) => chunk,
                Ok(Err(error)) => {
                    let error = api_error(error);
                    // A refused timestamp is retried once, with the
                    // store's clock; nothing ran.
                    if round == 1 && !retried && self.learn_clock_offset(&error, &response) {
                        retried = true;
                        round = 0;
                        continue;
                    }
                    return Err(error);
                }
                Err(e) => {
                    return Err(Error::Undecodable {
                        status: response.status,
                        reason: e.to_string(),
                        excerpt: excerpt(&response.body),
                    });
                }
            };
            let before = results.len();
            if before + chunk.len() > total {
                return Err(Error::Multicall(format!(
                    "the store answered {} operations after {before} of {total}: more answers \
                     than operations",
                    chunk.len()
                )));
            }
            results.extend(chunk);
            if response.status == 200 {
                if results.len() != total {
                    return Err(Error::Multicall(format!(
                        "the store answered {} of {total} operations with HTTP 200 (no 206 \
                         to continue from)",
                        results.len()
                    )));
                }
                return Ok(results);
            }
            // 206: the rest is still to come.
            let Some(header) = response.content_range.as_deref() else {
                return Err(Error::Multicall(format!(
                    "HTTP 206 without a Content-Range header after {} of {total} operations: \
                     the store did not say how far it got, so the rest cannot be requested \
                     safely",
                    results.len()
                )));
            };
            // The official SDKs read the completed count of a continuation
            // as this request's; a cumulative count is accepted too. Either
            // way the next Range comes from the answers actually received.
            let range = ContentRange::parse(header)?;
            let this_round = results.len() - before;
            if range.total != total
                || (range.completed != this_round && range.completed != results.len())
            {
                return Err(Error::Multicall(format!(
                    "Content-Range {header:?} does not add up: {} of {total} operations have \
                     been answered, {this_round} by this request",
                    results.len()
                )));
            }
            if results.len() == before {
                return Err(Error::Multicall(format!(
                    "the store made no progress (HTTP 206 with {header:?} and no new answers)"
                )));
            }
            tracing::debug!(completed = results.len(), total, "multicall continues");
        }
        Err(Error::Multicall(format!(
            "gave up after {} requests with {} of {total} operations answered",
            self.inner.max_multicall_rounds,
            results.len()
        )))
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
        let mut page_request = request.clone();
        page_request.query_mut().set_page(offset, count);
        // Concurrent pages share the body limit.
        let budget = BodyBudget::page(self.inner.transport.config().body_limit, pages);
        self.send_request(&page_request, None, false, deadline, budget)
    }
}

/// Whether a function only reads (`*_Load_Query`, `*_Load`): safe to repeat.
fn read_only(function: &str) -> bool {
    function.ends_with("_Load_Query") || function.ends_with("_Load")
}

fn check_status(response: &RawResponse, partial_ok: bool) -> Result<(), Error> {
    match response.status {
        200 => {}
        206 if partial_ok => {}
        300..=399 => {
            return Err(Error::Redirect {
                status: response.status,
                location: response.location.clone(),
            });
        }
        status => {
            // The store's own JSON error on a 503 (api_offline): its
            // message, never a bare status to retry.
            if let Some(error) = miva_protocol::store_error_for_status(status, &response.body) {
                return Err(error);
            }
            return Err(Error::HttpStatus {
                status,
                excerpt: excerpt(&response.body),
            });
        }
    }
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::EmptyResponse {
            status: response.status,
            hint: EMPTY_HINT,
        });
    }
    Ok(())
}

fn api_error(error: Box<ApiError>) -> Error {
    match error.access_denied() {
        Some(kind) => Error::AccessDenied { kind, error },
        None => Error::Api(error),
    }
}

mod records;
pub use records::Records;
