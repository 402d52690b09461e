//! The Miva Merchant JSON API as sans-IO machines: a [`Session`] holds a
//! client's settings and the state every call shares (the learned clock
//! offset); [`Call`] and [`Multicall`] are one call each, driven by a loop
//! that only moves bytes and sleeps.
//!
//! The driving loop is the crate's top example ([`crate`]); the blocking
//! and async clients of `miva-http` are that loop with a socket.

/// The driver's next move, the same type for both platforms.
pub use crate::Step;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use miva_envelope::{ApiError, ListPage, ListRequest, MivaRequest, Operation, Scope, Target};
use miva_sign::{AuthorizationHeader, Credential};
use serde_json::{Map, Value};

use crate::{BodyBudget, ClockOffset, Deadline, Error, RawResponse, RetryPolicy, TransportConfig};

mod call;
pub mod list;
mod multicall;

pub use call::Call;
pub use multicall::Multicall;

/// The hint given when a store answers with an empty body.
pub(crate) const EMPTY_HINT: &str = "a Miva store answers with an empty body when the \
    X-Miva-API-Authorization header is missing or unreadable: check the token (and that \
    nothing between you and the store strips the header)";

/// The most continuation requests a multicall may take before the client
/// gives up (each must complete at least one operation).
pub const DEFAULT_MAX_MULTICALL_ROUNDS: usize = 64;

/// How much longer than the store's multicall budget
/// ([`Session::api_timeout`]) a multicall request may take: the store
/// answers when its budget is spent, then the answer travels.
pub const API_TIMEOUT_MARGIN: Duration = Duration::from_secs(10);

/// The clock timestamps are taken from.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How binary payloads travel (`X-Miva-API-Binary-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryEncoding {
    /// JSON (the default; the header is not sent).
    #[default]
    Json,
    /// `base64`: binary fields of the request are base64 text.
    Base64,
}

/// Per-call settings that override the client's.
///
/// ```
/// use std::time::Duration;
/// use miva_protocol::miva::CallOptions;
/// let options = CallOptions::new()
///     .store_code("S2")
///     .idempotent(true)
///     .deadline(Duration::from_secs(30))
///     .timeout(Duration::from_secs(5));
/// assert_eq!(options.store_code.as_deref(), Some("S2"));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Use this `Store_Code` instead of the client's default.
    pub store_code: Option<String>,
    /// The call is safe to repeat (a write that sets absolute values, say):
    /// with a [`RetryPolicy`], a 502/503/504 answer is retried as for
    /// read-only functions.
    pub idempotent: bool,
    /// An overall limit on the whole call: for a multicall every round of
    /// the 206 continuation, for the other calls the request and its
    /// retries, waits included. When it passes the call ends with
    /// [`Error::Timeout`] naming it; a request in flight is cut off then.
    /// `None` (the default): each request is bounded by the transport's
    /// timeout only, so a multicall by rounds × timeout.
    pub deadline: Option<Duration>,
    /// The limit of each request of this call (connection to last byte),
    /// instead of the transport's [`TransportConfig::timeout`]; for a
    /// multicall it is used as given, not raised to the store's budget.
    /// A deadline still cuts it. `None` (the default): the transport's.
    pub timeout: Option<Duration>,
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`CallOptions::store_code`].
    #[must_use]
    pub fn store_code(mut self, code: &str) -> Self {
        self.store_code = Some(code.to_owned());
        self
    }

    /// Sets [`CallOptions::idempotent`].
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Sets [`CallOptions::deadline`].
    #[must_use]
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// Sets [`CallOptions::timeout`].
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    fn call_deadline(&self) -> Option<Deadline> {
        self.deadline
            .map(|d| Deadline::after(d, crate::TimeoutKind::CallDeadline))
    }
}

/// One request to send: the exact bytes, the headers, and its limit.
pub struct Attempt {
    body: Vec<u8>,
    authorization: Option<AuthorizationHeader>,
    headers: Vec<(&'static str, String)>,
    timeout: Option<Duration>,
    budget: BodyBudget,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body names no secret; the authorization header's Debug
        // redacts its value.
        f.debug_struct("Attempt")
            .field("body_len", &self.body.len())
            .field("authorization", &self.authorization)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("budget", &self.budget)
            .finish()
    }
}

impl Attempt {
    /// The request body: exactly the bytes signed, to be POSTed as
    /// `application/json`.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Every header to send besides `Content-Type` (the authorization
    /// first, once signed).
    pub fn headers(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::with_capacity(self.headers.len() + 1);
        if let Some(a) = &self.authorization {
            out.push((a.name(), a.value()));
        }
        out.extend(self.headers.iter().map(|(n, v)| (*n, v.as_str())));
        out
    }

    /// This request's overall limit when it is not the transport's
    /// configured [`TransportConfig::timeout`] (a multicall's store budget
    /// plus [`API_TIMEOUT_MARGIN`], a per-call timeout, a deadline's time
    /// left); `None`: the configured one.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// How much of the response body may be read.
    pub fn budget(&self) -> BodyBudget {
        self.budget
    }

    /// Whether the authorization header is installed (false for an
    /// attempt from [`Call::next_unsigned`] until
    /// [`Attempt::set_authorization`]).
    pub fn is_signed(&self) -> bool {
        self.authorization.is_some()
    }

    /// Installs the authorization header made for [`Attempt::body`]
    /// elsewhere (an async driver signs with an SSH agent off its
    /// executor).
    pub fn set_authorization(&mut self, header: AuthorizationHeader) {
        self.authorization = Some(header);
    }
}

/// A Miva client's settings and the state every call of it shares: the
/// endpoint, the credential, the default store code, timestamps, the
/// store's multicall budget, binary encoding, the clock and the offset
/// learned from the store's, multicall rounds, the retry policy, and the
/// transport settings the decisions need (per-request timeout, body
/// limit). Both drivers hold one in an `Arc`; every call is made from it.
pub struct Session {
    endpoint: String,
    credential: Credential,
    store_code: Option<String>,
    timestamps: bool,
    /// The store's budget for a multicall request (at least 1 s).
    api_timeout: Option<Duration>,
    binary_encoding: BinaryEncoding,
    clock: Clock,
    clock_offset: ClockOffset,
    max_multicall_rounds: usize,
    retry: Option<RetryPolicy>,
    transport: TransportConfig,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("endpoint", &crate::redact_url(&self.endpoint))
            .field("credential", &self.credential)
            .field("store_code", &self.store_code)
            .field("clock_offset_ms", &self.clock_offset.millis())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The defaults for the store's JSON endpoint
    /// (`https://<domain>/mm5/json.mvc`): timestamps on, no store code, the
    /// system clock, no retries, [`TransportConfig::default`].
    pub fn new(endpoint: &str, credential: Credential) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            credential,
            store_code: None,
            timestamps: true,
            api_timeout: None,
            binary_encoding: BinaryEncoding::Json,
            clock: Arc::new(SystemTime::now),
            clock_offset: ClockOffset::new(),
            max_multicall_rounds: DEFAULT_MAX_MULTICALL_ROUNDS,
            retry: None,
            transport: TransportConfig::default(),
        }
    }

    /// The default `Store_Code` of store-scoped calls.
    #[must_use]
    pub fn store_code(mut self, code: Option<String>) -> Self {
        self.store_code = code;
        self
    }

    /// Send `Miva_Request_Timestamp` (default on).
    #[must_use]
    pub fn timestamps(mut self, on: bool) -> Self {
        self.timestamps = on;
        self
    }

    /// The store's time budget for one multicall request, sent as
    /// `X-Miva-API-Timeout` (whole seconds, at least 1) on multicall
    /// requests only; each multicall request may then take it plus
    /// [`API_TIMEOUT_MARGIN`].
    #[must_use]
    pub fn api_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.api_timeout = timeout.map(|t| t.max(Duration::from_secs(1)));
        self
    }

    /// `X-Miva-API-Binary-Encoding`.
    #[must_use]
    pub fn binary_encoding(mut self, encoding: BinaryEncoding) -> Self {
        self.binary_encoding = encoding;
        self
    }

    /// The clock timestamps are taken from.
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The most requests one multicall may take (at least 1).
    #[must_use]
    pub fn max_multicall_rounds(mut self, rounds: usize) -> Self {
        self.max_multicall_rounds = rounds.max(1);
        self
    }

    /// The retry policy (`None`: no retries).
    #[must_use]
    pub fn retry(mut self, policy: Option<RetryPolicy>) -> Self {
        self.retry = policy;
        self
    }

    /// The transport settings the decisions read (per-request timeout,
    /// body limit, plain http allowed).
    #[must_use]
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// Checks the settings a client is built from.
    ///
    /// # Errors
    /// [`Error::Config`] for an endpoint that is not an https URL (or http
    /// to loopback), or an empty store code.
    pub fn check(&self) -> Result<(), Error> {
        crate::check_url(&self.endpoint, self.transport.allow_insecure_http)?;
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
        Ok(())
    }

    /// The endpoint every request is POSTed to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// Whether signing may block on I/O (an SSH agent): an async driver
    /// then signs off its executor ([`Call::next_unsigned`]).
    pub fn signs_externally(&self) -> bool {
        matches!(self.credential, Credential::SshExternal(_))
    }

    /// The default store code.
    pub fn default_store_code(&self) -> Option<&str> {
        self.store_code.as_deref()
    }

    /// The transport settings.
    pub fn transport_config(&self) -> &TransportConfig {
        &self.transport
    }

    /// The clock offset learned from the store (shared by every call).
    pub fn clock_offset(&self) -> &ClockOffset {
        &self.clock_offset
    }

    /// Milliseconds the store's clock is ahead of this machine's
    /// (negative: behind), as learned from its `Date` header the last time
    /// it refused a timestamp; 0 until then.
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset.millis()
    }

    /// The budget of one call's response: the whole body limit.
    pub fn call_budget(&self) -> BodyBudget {
        BodyBudget::call(self.transport.body_limit)
    }

    /// A typed call: validated (a list query naming a column its function
    /// lacks never leaves), with the options' or the session's store code
    /// for a store-scoped function and none for a domain-scoped one, safe
    /// to repeat when `options.idempotent` or read-only.
    ///
    /// # Errors
    /// [`Error::Envelope`] when the request fails its validation or its
    /// parameters do not serialize to a JSON object.
    pub fn request_call<R: MivaRequest>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<Call<'_, R::Response>, Error> {
        self.typed_call(
            request,
            options.store_code.as_deref(),
            options.idempotent,
            options.call_deadline(),
            options.timeout,
            self.call_budget(),
        )
    }

    /// One page of a list export: `count` records from `offset`, cut off at
    /// `deadline`, its body within its share of the body limit with `pages`
    /// in flight.
    ///
    /// # Errors
    /// As [`Session::request_call`].
    pub fn page_call<R: ListRequest>(
        &self,
        request: &R,
        offset: u64,
        count: u64,
        deadline: Option<&Deadline>,
        pages: usize,
    ) -> Result<Call<'_, ListPage<R::Record>>, Error> {
        let mut page_request = request.clone();
        page_request.query_mut().set_page(offset, count);
        let budget = BodyBudget::page(self.transport.body_limit, pages);
        self.typed_call(&page_request, None, false, deadline.cloned(), None, budget)
    }

    fn typed_call<R: MivaRequest>(
        &self,
        request: &R,
        store_code: Option<&str>,
        idempotent: bool,
        deadline: Option<Deadline>,
        timeout: Option<Duration>,
        budget: BodyBudget,
    ) -> Result<Call<'_, R::Response>, Error> {
        request.validate()?;
        let store = match request.scope() {
            Scope::Store => store_code.or(self.default_store_code()),
            Scope::Domain => None,
        };
        let safe = idempotent || read_only(request.function());
        Call::new(
            self,
            Target::Function(request.function()),
            store,
            request,
            safe,
            deadline,
            timeout,
            budget,
        )
    }

    /// A call of any function with JSON parameters. A `Store_Code` in
    /// `params` overrides the options' and the session's; `null` there
    /// sends none. Functions the API spec has as domain-scoped send none
    /// unless `params` names one.
    ///
    /// # Errors
    /// [`Error::Config`] when `params` is not an object;
    /// [`Error::Envelope`] when a store would read the call otherwise
    /// ([`miva_envelope::api::check_raw_call`]).
    pub fn raw_call(
        &self,
        function: &str,
        params: &Value,
        options: &CallOptions,
    ) -> Result<Call<'_, Value>, Error> {
        // Never send what a store would read otherwise: a wrong-case
        // function name, a list filter it would drop.
        let explicit = params.get("Store_Code").is_some();
        let (mut store, params) = self.split_store(params)?;
        miva_envelope::api::check_raw_call(function, &params)?;
        if !explicit && options.store_code.is_some() {
            store.clone_from(&options.store_code);
        }
        // A domain-scoped function of the spec carries no Store_Code unless
        // the caller put one in `params`.
        if !explicit
            && miva_envelope::api::function(function).is_some_and(|f| f.scope == Scope::Domain)
        {
            store = None;
        }
        Call::new(
            self,
            Target::Function(function),
            store.as_deref(),
            &params,
            options.idempotent || read_only(function),
            options.call_deadline(),
            options.timeout,
            self.call_budget(),
        )
    }

    /// A module function call (`"Function": "Module"`); never retried
    /// after it may have reached the store.
    ///
    /// # Errors
    /// As [`Session::raw_call`].
    pub fn module_call(
        &self,
        module_code: &str,
        module_function: &str,
        params: &Value,
    ) -> Result<Call<'_, Value>, Error> {
        let (store, params) = self.split_store(params)?;
        Call::new(
            self,
            Target::Module {
                code: module_code,
                function: module_function,
            },
            store.as_deref(),
            &params,
            false,
            None,
            None,
            self.call_budget(),
        )
    }

    /// A multicall of `operations` (each checked first), with the options'
    /// store code, retries of a write only when `idempotent`, and the
    /// options' deadline over every round.
    ///
    /// # Errors
    /// [`Error::Envelope`] when an operation fails [`Operation::check`].
    pub fn multicall<'a>(
        &'a self,
        operations: &'a [Operation],
        options: &CallOptions,
    ) -> Result<Multicall<'a>, Error> {
        for operation in operations {
            operation.check()?;
        }
        let store = options.store_code.as_deref().or(self.default_store_code());
        Ok(Multicall::new(
            self,
            operations,
            store,
            options.idempotent,
            options.call_deadline(),
            options.timeout,
        ))
    }

    fn split_store(&self, params: &Value) -> Result<(Option<String>, Map<String, Value>), Error> {
        let mut map = match params {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                return Err(Error::Config(format!(
                    "the parameters must be a JSON object of field names and values, found {}",
                    crate::excerpt(other.to_string().as_bytes())
                )));
            }
        };
        map.remove("Function");
        map.remove("Miva_Request_Timestamp");
        let store = match map.remove("Store_Code") {
            None => self.store_code.clone(),
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

    /// `Miva_Request_Timestamp` now: the clock moved by the learned offset.
    fn timestamp(&self) -> Option<i64> {
        self.timestamps
            .then(|| crate::unix_seconds(self.clock_offset.apply((self.clock)())))
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
        self.clock_offset.learn((self.clock)(), date)
    }

    /// Signs `body` and lists the other headers of a request; `multicall`
    /// adds `X-Miva-API-Timeout`, `range` a continuation's `Range`.
    fn attempt(
        &self,
        body: Vec<u8>,
        sign: bool,
        multicall: bool,
        range: Option<String>,
        timeout: Option<Duration>,
        budget: BodyBudget,
    ) -> Result<Attempt, Error> {
        let authorization = if sign {
            Some(self.credential.authorize(&body)?)
        } else {
            None
        };
        let mut headers = Vec::with_capacity(3);
        if multicall && let Some(t) = self.api_timeout {
            headers.push(("X-Miva-API-Timeout", t.as_secs().max(1).to_string()));
        }
        if self.binary_encoding == BinaryEncoding::Base64 {
            headers.push(("X-Miva-API-Binary-Encoding", "base64".to_owned()));
        }
        if let Some(range) = range {
            headers.push(("Range", range));
        }
        Ok(Attempt {
            body,
            authorization,
            headers,
            timeout,
            budget,
        })
    }

    /// A request's limit: `per_call` or the transport's, raised for a
    /// multicall (without a per-call limit) to the store's budget plus a
    /// margin, lowered to what is left of `deadline`. The limit to send
    /// (`None`: the transport's stands) and whether the deadline cut it.
    fn request_limit(
        &self,
        per_call: Option<Duration>,
        multicall: bool,
        deadline: Option<&Deadline>,
    ) -> Result<(Option<Duration>, bool), Error> {
        let configured = self.transport.timeout;
        let mut limit = per_call.unwrap_or(configured);
        if multicall
            && per_call.is_none()
            && let Some(budget) = self.api_timeout
        {
            limit = limit.max(budget.saturating_add(API_TIMEOUT_MARGIN));
        }
        let mut cut = false;
        if let Some(d) = deadline
            && let Some(left) = d.request_limit(limit)?
        {
            limit = left;
            cut = true;
        }
        Ok(((limit != configured).then_some(limit), cut))
    }

    /// With the retry policy, the wait before retrying `error`, if any.
    fn retry_wait(
        &self,
        error: &Error,
        safe_to_repeat: bool,
        retries: &mut crate::RetryState,
        deadline: Option<&Deadline>,
    ) -> Option<Duration> {
        retries.next_wait(
            self.retry.as_ref(),
            error,
            safe_to_repeat,
            deadline.map(Deadline::remaining),
        )
    }
}

/// Whether a function only reads (`*_Load_Query`, `*_Load`): safe to repeat.
pub(crate) fn read_only(function: &str) -> bool {
    function.ends_with("_Load_Query") || function.ends_with("_Load")
}

/// The status check of a Miva answer: 200 (and 206 when `partial_ok`, a
/// multicall's) with a non-empty body; a redirect is [`Error::Redirect`]
/// (never followed), the store's `api_offline` 503 [`Error::ApiOffline`],
/// any other status [`Error::HttpStatus`], an empty body
/// [`Error::EmptyResponse`] with [`EMPTY_HINT`].
///
/// # Errors
/// Those.
pub(crate) fn check_status(response: &RawResponse, partial_ok: bool) -> Result<(), Error> {
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
            if let Some(error) = crate::store_error_for_status(status, &response.body) {
                return Err(error);
            }
            return Err(Error::HttpStatus {
                status,
                excerpt: crate::excerpt(&response.body),
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

/// The store's refusal as an error: [`Error::AccessDenied`] with its kind,
/// or [`Error::Api`].
pub(crate) fn api_error(error: Box<ApiError>) -> Error {
    match error.access_denied() {
        Some(kind) => Error::AccessDenied { kind, error },
        None => Error::Api(error),
    }
}

/// The debug line of one request's outcome.
fn log_outcome(
    what: &str,
    request_bytes: usize,
    result: &Result<RawResponse, Error>,
    elapsed: Duration,
) {
    match result {
        Ok(r) => tracing::debug!(
            function = what,
            status = r.status,
            request_bytes,
            response_bytes = r.body.len(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "miva call"
        ),
        Err(e) => tracing::debug!(
            function = what,
            request_bytes,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            error = %e,
            "miva call failed"
        ),
    }
}

#[cfg(test)]
mod tests;
