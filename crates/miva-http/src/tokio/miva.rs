//! The async Miva client: the blocking [`crate::miva::MivaClient`]'s
//! calls, module calls, multicall and list export over the same protocol
//! core ([`miva_protocol::miva`]), driven with reqwest and tokio timers.
//!
//! Dropping a call's future drops its request in flight (nothing is
//! spawned for a call, except the signature of an SSH-agent credential,
//! which is made on tokio's blocking pool so the agent's socket never
//! blocks the executor). A list's [`Records`](super::Records) stream runs
//! its page requests as tasks it owns, so they progress however slowly it
//! is consumed, and aborts them when dropped.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use miva_envelope::{ListPage, ListRequest, MivaRequest, Operation, OperationResult};
use miva_protocol::miva::{CallOptions, Session, Step};
use miva_protocol::{BodyBudget, Deadline, Error};
use miva_sign::Credential;
use serde_json::Value;
use tracing::Instrument;

use super::limiter::AsyncLimiter;
use super::records::Records;
use super::transport::AsyncTransport;
use crate::miva::{Machine, MivaClientBuilder, http_request};

struct Inner {
    transport: AsyncTransport,
    session: Session,
    limiter: AsyncLimiter,
}

/// An async client for one Miva store's JSON API, built with the same
/// [`MivaClientBuilder`] as the blocking [`crate::miva::MivaClient`] and
/// with the same methods as `async fn`. Cheap to clone
/// (`Clone + Send + Sync`): every clone shares one connection pool, the
/// learned clock offset, and the rate and in-flight limits.
///
/// ```no_run
/// use miva_envelope::{ListQuery, ProductListLoadQuery};
/// use miva_http::tokio::MivaClient;
/// use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let credential = Credential::hmac(
///     ApiToken::new("token from Users > API Tokens")?,
///     &SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ")?,
///     HmacDigest::Sha256,
/// );
/// let client = MivaClient::builder("https://www.example.com/mm5/json.mvc", credential)
///     .store_code("store")
///     .build()?;
/// let page = client.call(&ProductListLoadQuery::new(ListQuery::new().count(10))).await?;
/// println!("{} products", page.total_count);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MivaClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for MivaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::miva::debug_client(f, "MivaClient", &self.inner.session)
    }
}

impl MivaClientBuilder<MivaClient> {
    /// Checks the endpoint and builds the async client.
    ///
    /// # Errors
    /// [`Error::Config`] for an endpoint that is not an https URL (or http to
    /// loopback), an empty store code, or a TLS setup failure.
    pub fn build(self) -> Result<MivaClient, Error> {
        self.session.check()?;
        Ok(MivaClient {
            inner: Arc::new(Inner {
                transport: AsyncTransport::new(self.session.transport_config().clone())?,
                limiter: AsyncLimiter::new(self.rate_limit, self.max_in_flight),
                session: self.session,
            }),
        })
    }
}

impl MivaClient {
    /// Starts a builder for the store's JSON endpoint
    /// (`https://<domain>/mm5/json.mvc`): the same setters as the blocking
    /// client's.
    pub fn builder(endpoint: &str, credential: Credential) -> MivaClientBuilder<Self> {
        MivaClientBuilder::start(endpoint, credential)
    }

    /// The default store code.
    pub fn store_code(&self) -> Option<&str> {
        self.inner.session.default_store_code()
    }

    /// Drives `machine` to its end inside one tracing span: each attempt
    /// after a limiter permit, sent, its outcome handed back; waits with
    /// `tokio::time::sleep`.
    async fn drive<M: Machine + Send>(&self, machine: M) -> Result<M::Output, Error> {
        let span = tracing::debug_span!("miva_request", function = machine.function());
        self.drive_in_span(machine).instrument(span).await
    }

    async fn drive_in_span<M: Machine + Send>(&self, mut machine: M) -> Result<M::Output, Error> {
        loop {
            let until = machine
                .active_deadline()
                .and_then(miva_protocol::Deadline::at)
                .map(tokio::time::Instant::from_std);
            let permit = self.inner.limiter.acquire(until).await;
            if permit.is_none() {
                // The deadline has passed while waiting: the machine's error.
                machine.next_unsigned()?;
                return Err(crate::limiter::gave_up_waiting(machine.active_deadline()));
            }
            let attempt = if self.inner.session.signs_externally() {
                let mut attempt = machine.next_unsigned()?;
                let inner = Arc::clone(&self.inner);
                let body = attempt.body().to_vec();
                let signed = tokio::task::spawn_blocking(move || {
                    inner.session.credential().authorize(&body)
                })
                .await
                .map_err(|e| Error::Config(format!("the signing task stopped: {e}")))?;
                attempt.set_authorization(signed?);
                attempt
            } else {
                machine.next_attempt()?
            };
            let headers = attempt.headers();
            let started = Instant::now();
            let result = self
                .inner
                .transport
                .send(&http_request(&self.inner.session, &attempt, &headers))
                .await;
            drop(permit);
            match machine.on_response(result, started.elapsed()) {
                Step::Done(value) => return Ok(value),
                Step::Fail(error) => return Err(error),
                Step::Wait(wait) => tokio::time::sleep(wait).await,
                Step::Resend => {}
            }
        }
    }

    /// A typed call: returns the response's `data`.
    ///
    /// # Errors
    /// As the blocking [`crate::miva::MivaClient::call`].
    pub async fn call<R: MivaRequest + Sync>(&self, request: &R) -> Result<R::Response, Error>
    where
        R::Response: Send,
    {
        self.call_with(request, &CallOptions::default()).await
    }

    /// A typed call with per-call options.
    ///
    /// # Errors
    /// As the blocking [`crate::miva::MivaClient::call`].
    pub async fn call_with<R: MivaRequest + Sync>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<R::Response, Error>
    where
        R::Response: Send,
    {
        self.drive(self.inner.session.request_call(request, options)?)
            .await
    }

    pub(crate) fn call_budget(&self) -> BodyBudget {
        self.inner.session.call_budget()
    }

    /// A call of any function with JSON parameters (see the blocking
    /// [`crate::miva::MivaClient::call_raw`]).
    ///
    /// # Errors
    /// As the blocking [`crate::miva::MivaClient::call_raw`].
    pub async fn call_raw(&self, function: &str, params: &Value) -> Result<Value, Error> {
        self.call_raw_with(function, params, &CallOptions::default())
            .await
    }

    /// [`MivaClient::call_raw`] with per-call options.
    ///
    /// # Errors
    /// As the blocking [`crate::miva::MivaClient::call_raw_with`].
    pub async fn call_raw_with(
        &self,
        function: &str,
        params: &Value,
        options: &CallOptions,
    ) -> Result<Value, Error> {
        self.drive(self.inner.session.raw_call(function, params, options)?)
            .await
    }

    /// A module function call (`"Function": "Module"`).
    ///
    /// # Errors
    /// As [`MivaClient::call_raw`].
    pub async fn call_module(
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
        .await
    }

    /// Milliseconds the store's clock is ahead of this machine's (negative:
    /// behind), learned from its `Date` header the last time it refused a
    /// timestamp; 0 until then.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.session.clock_offset_ms()
    }

    /// Several operations in one request, the 206 continuation followed
    /// (see the blocking [`crate::miva::MivaClient::multicall`]).
    ///
    /// # Errors
    /// As the blocking [`crate::miva::MivaClient::multicall`].
    pub async fn multicall(&self, operations: &[Operation]) -> Result<Vec<OperationResult>, Error> {
        self.multicall_with(operations, &CallOptions::default())
            .await
    }

    /// [`MivaClient::multicall`] with per-call options.
    ///
    /// # Errors
    /// As the blocking [`crate::miva::MivaClient::multicall_with`].
    pub async fn multicall_with(
        &self,
        operations: &[Operation],
        options: &CallOptions,
    ) -> Result<Vec<OperationResult>, Error> {
        self.drive(self.inner.session.multicall(operations, options)?)
            .await
    }

    /// Every record of a list query, in order, as a
    /// [`Stream`](futures_core::Stream) (see [`Records`]): the same checks
    /// and order as the blocking client's `list`, with
    /// [`Records::concurrency`] pages in flight.
    pub fn list<R>(&self, request: R) -> Records<R>
    where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static,
    {
        Records::new(self.clone(), request)
    }

    /// One page: `count` records from `offset`, cut off at `deadline`.
    pub(crate) async fn fetch_page<R>(
        &self,
        request: &R,
        offset: u64,
        count: u64,
        deadline: Option<&Deadline>,
        pages: usize,
    ) -> Result<ListPage<R::Record>, Error>
    where
        R: ListRequest + Sync,
        R::Record: Send,
    {
        self.drive(
            self.inner
                .session
                .page_call(request, offset, count, deadline, pages)?,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miva_envelope::{ListQuery, ProductListLoadQuery};
    use miva_sign::ApiToken;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_shared<T: Clone + Send + Sync + 'static>() {}

    #[test]
    fn the_client_and_its_futures_and_stream_are_send() {
        assert_shared::<MivaClient>();
        let credential = Credential::token(ApiToken::new("t").unwrap());
        let client = MivaClient::builder("http://127.0.0.1:9/mm5/json.mvc", credential)
            .store_code("s")
            .build()
            .unwrap();
        let query = ProductListLoadQuery::new(ListQuery::new());
        // Built, never polled: no runtime needed.
        assert_send(&client.call(&query));
        assert_send(&client.call_raw("ProductList_Load_Query", &Value::Null));
        assert_send(&client.call_module("m", "f", &Value::Null));
        assert_send(&client.multicall(&[]));
        let records = client.list(query);
        fn assert_stream<S: futures_core::Stream + Send + Unpin + 'static>(_: &S) {}
        assert_stream(&records);
    }
}
