//! The async Miravia / Lazada Open Platform client and its page stream.
//!
//! The same core as the blocking client ([`miva_protocol::miravia`]): the
//! same signed requests, answers, retries, clock-offset retry, paging
//! checks and token refresh decisions; only the driver differs (reqwest,
//! `tokio::time::sleep`, a `tokio::sync::Mutex` for the one refresh at a
//! time). Dropping a call's future drops its request (nothing is spawned
//! for a call); a [`Pages`] stream runs its page requests as tasks it owns
//! and aborts them when dropped.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde_json::Value;
use tracing::Instrument;

use miravia_sign::AppSecret;
use miva_protocol::Error;
use miva_protocol::miravia::{Call, PageRequest, Pager, Session, Step, TokenDecision};

use super::limiter::AsyncLimiter;
use super::pages::PageTasks;
use super::transport::AsyncTransport;
use crate::miravia::{FilePart, Gateway, Method, MiraviaClientBuilder, PageSpec, Token};
use crate::transport::HttpRequest;

struct Inner {
    transport: AsyncTransport,
    session: Session,
    /// One refresh at a time; the others wait here without blocking a
    /// thread.
    refresh_lock: tokio::sync::Mutex<()>,
    limiter: AsyncLimiter,
}

/// An async client for the Miravia / Lazada Open Platform. Cheap to clone
/// (`Clone + Send + Sync`); every clone shares one connection pool, one
/// token and one rate limit. Built with the same builder as the blocking
/// [`crate::miravia::MiraviaClient`].
///
/// ```no_run
/// use miva_http::miravia::Gateway;
/// use miva_http::tokio::MiraviaClient;
/// use miravia_sign::AppSecret;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = MiraviaClient::builder(Gateway::MiraviaEs, "123456", AppSecret::new("app secret")?)
///     .access_token("seller access token")
///     .build()?;
/// let order = client.get("/order/get", &[("order_id", "1234")]).await?;
/// println!("{}", order["data"]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MiraviaClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for MiraviaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::miravia::debug_client(f, &self.inner.session)
    }
}

impl MiraviaClientBuilder<MiraviaClient> {
    /// Builds the async client.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable gateway URL or app key, or a TLS
    /// setup failure.
    pub fn build(self) -> Result<MiraviaClient, Error> {
        let parts = self.into_parts()?;
        Ok(MiraviaClient {
            inner: Arc::new(Inner {
                transport: AsyncTransport::new(parts.transport)?,
                session: parts.session,
                refresh_lock: tokio::sync::Mutex::new(()),
                limiter: AsyncLimiter::new(parts.rate_limit, parts.max_in_flight),
            }),
        })
    }
}

impl MiraviaClient {
    /// Starts a builder; the secret is the app secret from the console.
    pub fn builder(
        gateway: Gateway,
        app_key: &str,
        secret: AppSecret,
    ) -> MiraviaClientBuilder<Self> {
        MiraviaClientBuilder::new(gateway, app_key, secret)
    }

    /// A GET call: every parameter in the query string. Returns the whole
    /// response (`data`, or top-level fields for token calls).
    ///
    /// # Errors
    /// [`Error::Miravia`] when the platform answers with an error code, or
    /// any transport or decoding error.
    pub async fn get(&self, api_path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        self.call(Method::Get, api_path, params, &[]).await
    }

    /// A POST call with a form body.
    ///
    /// # Errors
    /// As [`MiraviaClient::get`].
    pub async fn post(&self, api_path: &str, params: &[(&str, &str)]) -> Result<Value, Error> {
        self.call(Method::Post, api_path, params, &[]).await
    }

    /// Any call: GET or POST, with files for a multipart POST (file parts
    /// are never signed).
    ///
    /// # Errors
    /// As [`MiraviaClient::get`]; files with GET are a configuration error.
    pub async fn call(
        &self,
        method: Method,
        api_path: &str,
        params: &[(&str, &str)],
        files: &[FilePart],
    ) -> Result<Value, Error> {
        self.ensure_token().await?;
        let call = self.inner.session.call(method, api_path, params, files)?;
        self.run(call).await
    }

    /// Runs one call to its end over the async transport.
    async fn run(&self, mut call: Call<'_>) -> Result<Value, Error> {
        loop {
            let until = call
                .active_deadline()
                .and_then(miva_protocol::Deadline::at)
                .map(tokio::time::Instant::from_std);
            let permit = self.inner.limiter.acquire(until).await;
            let attempt = call.next_attempt()?;
            let Some(permit) = permit else {
                return Err(crate::limiter::gave_up_waiting(call.active_deadline()));
            };
            let span = tracing::debug_span!("miravia_request", api = call.api_path());
            let started = Instant::now();
            let request = HttpRequest {
                url: attempt.url(),
                body: attempt.body(),
                headers: attempt.headers(),
                timeout: attempt.timeout(),
                budget: attempt.budget(),
            };
            let result = self
                .inner
                .transport
                .send(&request)
                .instrument(span.clone())
                .await;
            drop(permit);
            let step = span.in_scope(|| call.on_response(result, started.elapsed()));
            match step {
                Step::Done(value) => return Ok(value),
                Step::Fail(error) => return Err(error),
                Step::Wait(wait) => tokio::time::sleep(wait).await,
                Step::Resend => {}
            }
        }
    }

    /// With auto-refresh: refreshes the token first when it is due, one
    /// refresh at a time (the others wait on the lock, then find it done).
    async fn ensure_token(&self) -> Result<(), Error> {
        let session = &self.inner.session;
        if let TokenDecision::Refresh(_) = session.token_decision()? {
            let _guard = self.inner.refresh_lock.lock().await;
            if let TokenDecision::Refresh(refresh) = session.token_decision()? {
                let answer = self.run(session.refresh_token_call(&refresh)?).await?;
                session.refreshed_token(answer, true)?;
            }
        }
        Ok(())
    }

    /// Milliseconds the platform's clock is ahead of this machine's
    /// (negative: behind), learned from its `Date` header the last time it
    /// refused a timestamp; 0 until then.
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
    pub async fn create_token(&self, code: &str) -> Result<Token, Error> {
        let session = &self.inner.session;
        let answer = self.run(session.create_token_call(code)?).await?;
        session.created_token(answer)
    }

    /// `/auth/token/refresh`. The token is not installed (call
    /// [`MiraviaClient::set_token`] with it); the builder's `on_refresh`
    /// callback gets it.
    ///
    /// # Errors
    /// As [`MiraviaClient::get`].
    pub async fn refresh_token(&self, refresh_token: &str) -> Result<Token, Error> {
        let session = &self.inner.session;
        let answer = self.run(session.refresh_token_call(refresh_token)?).await?;
        session.refreshed_token(answer, false)
    }

    /// Every record of an offset/limit endpoint, page by page, in order, as
    /// a [`Stream`] (see [`Pages`]): the same checks as the blocking
    /// client's `paginate`, with [`Pages::concurrency`] pages in flight.
    /// The stream owns what it needs (`'static`).
    pub fn paginate(
        &self,
        api_path: &str,
        params: &[(&str, &str)],
        spec: PageSpec,
        page_size: u32,
    ) -> Pages {
        let client = self.clone();
        Pages {
            tasks: PageTasks::new(
                Pager::new(api_path, params, spec, page_size),
                Box::new(move |pager: &Pager, request| {
                    let client = client.clone();
                    let api_path = pager.api_path().to_owned();
                    Box::pin(async move { client.fetch_page(&api_path, &request).await })
                }),
            ),
        }
    }

    /// One page's call, within the export's deadline.
    async fn fetch_page(&self, api_path: &str, request: &PageRequest) -> Result<Value, Error> {
        self.ensure_token().await?;
        let call = self
            .inner
            .session
            .call(Method::Get, api_path, &request.param_pairs(), &[])?
            .deadline(request.deadline.clone());
        self.run(call).await
    }
}

/// The stream returned by [`MiraviaClient::paginate`]: each record once, in
/// order, with [`Pages::concurrency`] pages in flight.
///
/// It ends when the total is reached, or, when the endpoint gives no
/// total, at the first page with fewer records than the page size. A page
/// that fails a check (a repeated page, a changed total, a page larger than
/// the limit or short before the total, more than
/// [`PageSpec::max_pages`] pages) or whose call fails ends the stream
/// with [`Error::Page`] naming its offset; every record before it was
/// yielded exactly once, none after it. The decisions are the same core's
/// [`Pager`] as the blocking `miva_http::miravia::Pages`'.
///
/// Each page request runs as a task on the runtime polling the stream, so
/// it progresses (its timeout and in-flight permit with it) however slowly
/// the stream is consumed; at most the concurrency of pages are in flight
/// or held besides the one being handed out. Dropping the stream aborts
/// every request in flight, so no further request reaches the gateway.
/// Poll it from within a tokio runtime.
pub struct Pages {
    tasks: PageTasks<Pager>,
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("pager", self.tasks.machine())
            .field("in_flight", &self.tasks.in_flight())
            .finish_non_exhaustive()
    }
}

impl Pages {
    /// Pages fetched at once once the first page has arrived with a total
    /// (default 1; 0 is taken as 1; at most
    /// [`crate::miravia::MAX_CONCURRENCY`], and more is an
    /// [`Error::Config`] on the first poll, before anything is sent).
    /// Records still come out in order, each once; at most this many pages
    /// are held besides the one being handed out, never a page past the
    /// total. An endpoint without a total is paged one page at a time
    /// whatever this says (its end is known only from a short page).
    #[must_use]
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.tasks.machine_mut().set_concurrency(pages);
        self
    }

    /// An overall limit on the whole export, from the first poll: every
    /// page request gets at most the time left, no retry waits longer than
    /// that, and once it has passed the stream ends with [`Error::Page`]
    /// whose [`Error::root`] is an [`Error::Timeout`] naming the export
    /// deadline.
    #[must_use]
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.tasks.machine_mut().set_deadline(limit);
        self
    }

    /// The total once the first page has arrived (`None` before, and when
    /// the endpoint gives none).
    pub fn total(&self) -> Option<u64> {
        self.tasks.machine().total()
    }

    /// Page requests in flight now (running, or answered and not yet
    /// checked).
    pub fn in_flight(&self) -> usize {
        self.tasks.in_flight()
    }
}

impl Stream for Pages {
    type Item = Result<Value, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().tasks.poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_sync<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn the_client_and_its_futures_and_stream_are_send() {
        assert_sync::<MiraviaClient>();
        let Ok(client) = MiraviaClient::builder(
            Gateway::Custom("http://127.0.0.1:9/rest".into()),
            "123456",
            AppSecret::new("s").unwrap(),
        )
        .build() else {
            return;
        };
        // Built, never polled: no runtime needed.
        assert_send(&client.get("/a", &[]));
        assert_send(&client.post("/a", &[]));
        assert_send(&client.call(Method::Post, "/a", &[], &[]));
        assert_send(&client.create_token("c"));
        assert_send(&client.refresh_token("r"));
        let pages = client.paginate("/a", &[], PageSpec::products(), 10);
        assert_send(&pages);
        fn assert_stream<S: Stream<Item = Result<Value, Error>> + Send + Unpin + 'static>(_: &S) {}
        assert_stream(&pages);
    }
}
