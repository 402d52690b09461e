//! The HTTP server: hyper 1 (HTTP/1.1, keep-alive) on a tokio runtime of
//! its own, on a background thread.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::config::{Fault, Faults, MockConfig, ServerLimits};
use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind};
use crate::handler::{self, Body, Reply, State};

/// How many bytes past the limit are read and thrown away before a 413, so
/// a client still writing its body reads the answer instead of a reset.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;
/// How long shutdown waits for requests in flight.
const GRACE: Duration = Duration::from_secs(2);

/// A running mock store. Dropping it stops it (like [`MockServer::shutdown`]).
///
/// See the [crate docs](crate) for an example.
pub struct MockServer {
    addr: SocketAddr,
    url: String,
    credentials: Credentials,
    faults: Arc<FaultState>,
    running: Running,
}

impl MockServer {
    /// Binds `config.bind`, seeds the store and starts serving on background
    /// threads. Returns as soon as the socket is listening: requests sent
    /// after this returns are served.
    ///
    /// # Errors
    /// [`ErrorKind::Bind`] when the address cannot be bound,
    /// [`ErrorKind::Config`] for an endpoint path not starting with `/`,
    /// [`ErrorKind::Runtime`] when the threads cannot be started.
    pub fn start(config: MockConfig) -> Result<Self, Error> {
        if !config.endpoint_path.starts_with('/') {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "endpoint path {:?} must start with '/', e.g. /mm5/json.mvc",
                    config.endpoint_path
                ),
            ));
        }
        let state = Arc::new(State::new(&config));
        let faults = Arc::clone(&state.faults);
        let running = spawn(config.bind, config.worker_threads, config.limits, state)?;
        let url = format!("http://{}{}", running.addr, config.endpoint_path);
        let credentials = config.credentials.clone();
        let addr = running.addr;
        Ok(Self {
            addr,
            url,
            credentials,
            faults,
            running,
        })
    }

    /// Faults for the next requests, in the order they arrive: the first
    /// request gets the first entry, and so on; `None` answers normally.
    /// These come before [`Faults::every_request`]. Calls add to the end of
    /// the queue.
    ///
    /// ```
    /// # use miva_mock::{Credentials, Fault, MockConfig, MockServer};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = MockServer::start(MockConfig::new(Credentials::generate()?))?;
    /// // Two normal answers, then an HTML 500 page.
    /// server.inject_faults([None, None, Some(Fault::ServerErrorHtml)]);
    /// assert_eq!(server.pending_faults(), 3);
    /// # Ok(()) }
    /// ```
    pub fn inject_faults(&self, faults: impl IntoIterator<Item = Option<Fault>>) {
        self.faults.push(faults);
    }

    /// How many injected entries no request has taken yet.
    pub fn pending_faults(&self) -> usize {
        self.faults.pending()
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:41234/mm5/json.mvc`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Request body bytes held in memory right now, across connections
    /// (bounded by [`ServerLimits::max_buffered_body_bytes`]).
    pub fn buffered_body_bytes(&self) -> usize {
        self.running.buffered_body_bytes()
    }

    /// The credentials the server accepts (with their secrets: this is how
    /// a caller gets hold of generated ones).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The store code callers must send as `Store_Code`.
    pub fn store_code(&self) -> &str {
        self.credentials.store_code()
    }

    /// A handle that stops the server from another thread (for example a
    /// Ctrl-C handler while the main thread is in [`MockServer::wait`]).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.running.stop.clone()
    }

    /// Stops accepting connections, lets requests in flight finish (up to
    /// two seconds), closes idle keep-alive connections and joins the
    /// server thread.
    pub fn shutdown(mut self) {
        self.running.stop_and_join();
    }

    /// Blocks until the server stops: forever, unless a
    /// [`ShutdownHandle`] stops it. For a CLI that serves until killed.
    pub fn wait(mut self) {
        self.running.wait();
    }
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url)
            .field("store_code", &self.credentials.store_code())
            .field("running", &self.running.thread.is_some())
            .finish()
    }
}

/// The server's runtime until its thread owns it. Dropped on an error path
/// (perhaps inside the caller's own async runtime, where a blocking drop
/// would panic), it shuts down in the background.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Stops a [`MockServer`] from anywhere; cheap to clone.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Asks the server to stop; returns at once. [`MockServer::wait`] then
    /// returns once it has stopped.
    pub fn shutdown(&self) {
        self.tx.send_replace(true);
    }
}

/// What a server answers with: the Miva store, or the Miravia gateway.
pub(crate) trait Handler: Send + Sync + 'static {
    /// Largest body read before answering 413.
    fn max_body_bytes(&self) -> usize;
    /// Answers one request with its complete body.
    fn handle(&self, parts: &hyper::http::request::Parts, body: Body) -> Reply;
    /// The answer to a request that does not depend on its body, given
    /// before the body is read (nothing is buffered for it); `None`: read
    /// the body and call [`Handler::handle`].
    fn answer_before_body(&self, _parts: &hyper::http::request::Parts) -> Option<Reply> {
        None
    }
    /// The faults to inject, if this server injects any.
    fn faults(&self) -> Option<&FaultState> {
        None
    }
}

/// Faults in force: configured ones, and a queue a test fills per request.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    latency: Option<Duration>,
    every_request: Option<Fault>,
    queue: Mutex<VecDeque<Option<Fault>>>,
}

impl FaultState {
    pub(crate) fn new(faults: &Faults) -> Self {
        Self {
            latency: faults.latency,
            every_request: faults.every_request,
            queue: Mutex::default(),
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Option<Fault>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(&self, faults: impl IntoIterator<Item = Option<Fault>>) {
        self.queue().extend(faults);
    }

    pub(crate) fn pending(&self) -> usize {
        self.queue().len()
    }

    /// The fault for the request being answered.
    fn next(&self) -> Option<Fault> {
        match self.queue().pop_front() {
            Some(entry) => entry,
            None => self.every_request,
        }
    }
}

/// A response body: whole, or misbehaving on purpose.
pub(crate) enum MockBody {
    /// The bytes, sent in one frame.
    Full(Option<Bytes>),
    /// Announces `promised` bytes, sends `first`, then fails (hyper closes
    /// the connection).
    Cut { first: Option<Bytes>, promised: u64 },
    /// `remaining` spaces, in 64 KiB frames from a static buffer.
    Padding { remaining: u64, total: u64 },
}

static PADDING: [u8; 64 * 1024] = [b' '; 64 * 1024];

impl http_body::Body for MockBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(match self.get_mut() {
            Self::Full(bytes) => bytes.take().map(|b| Ok(Frame::data(b))),
            Self::Cut { first, .. } => Some(match first.take() {
                Some(b) => Ok(Frame::data(b)),
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "fault injected: connection closed mid-body",
                )),
            }),
            Self::Padding { remaining, .. } => {
                if *remaining == 0 {
                    None
                } else {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(PADDING.len());
                    *remaining -= n as u64;
                    Some(Ok(Frame::data(Bytes::from_static(&PADDING[..n]))))
                }
            }
        })
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Self::Cut { promised, .. } => SizeHint::with_exact(*promised),
            Self::Padding { total, .. } => SizeHint::with_exact(*total),
        }
    }
}

impl Handler for State {
    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn handle(&self, parts: &hyper::http::request::Parts, body: Body) -> Reply {
        handler::handle(self, parts, body)
    }

    /// Without an authorization header a store answers an empty body (or
    /// 404, or the method or content-type error) whatever the body holds:
    /// answered without reading it, as Miva's server reads the header first.
    fn answer_before_body(&self, parts: &hyper::http::request::Parts) -> Option<Reply> {
        let has_header = parts.headers.iter().any(|(name, value)| {
            miva_sign::is_authorization_header(name.as_str()) && value.to_str().is_ok()
        });
        if has_header {
            return None;
        }
        let mut reply = handler::handle(self, parts, Body::Complete(Bytes::new()));
        // A large body is left unread: the connection cannot be reused.
        reply.close |= !small_body(&parts.headers);
        Some(reply)
    }

    fn faults(&self) -> Option<&FaultState> {
        Some(&self.faults)
    }
}

/// A server thread, listening. Dropping it stops the server and joins the
/// thread.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) stop: ShutdownHandle,
    thread: Option<JoinHandle<()>>,
    budget: Arc<Budget>,
}

/// The bytes of request bodies that may be held in memory at once.
struct Budget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl Budget {
    fn new(total: usize) -> Self {
        let total = total.min(Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }
}

impl Running {
    /// Request body bytes held in memory now.
    pub(crate) fn buffered_body_bytes(&self) -> usize {
        self.budget
            .total
            .saturating_sub(self.budget.bytes.available_permits())
    }

    /// Asks the server to stop and waits for its thread.
    pub(crate) fn stop_and_join(&mut self) {
        self.stop.shutdown();
        self.wait();
    }

    /// Waits for the server thread (until a [`ShutdownHandle`] stops it).
    pub(crate) fn wait(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Binds `bind` and serves `handler` on a runtime of its own, on a
/// background thread; returns once the socket is listening.
pub(crate) fn spawn<H: Handler>(
    bind: SocketAddr,
    worker_threads: Option<usize>,
    limits: ServerLimits,
    handler: Arc<H>,
) -> Result<Running, Error> {
    let std_listener = std::net::TcpListener::bind(bind).map_err(|e| {
        Error::with_source(ErrorKind::Bind, format!("cannot listen on {bind}: {e}"), e)
    })?;
    let addr = std_listener.local_addr().map_err(|e| {
        Error::with_source(
            ErrorKind::Bind,
            format!("cannot read the bound address: {e}"),
            e,
        )
    })?;
    std_listener.set_nonblocking(true).map_err(|e| {
        Error::with_source(
            ErrorKind::Bind,
            format!("cannot configure the socket: {e}"),
            e,
        )
    })?;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_io().enable_time().thread_name("miva-mock");
    if let Some(n) = worker_threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = OwnedRuntime(Some(builder.build().map_err(|e| {
        Error::with_source(
            ErrorKind::Runtime,
            format!("cannot start the server runtime: {e}"),
            e,
        )
    })?));
    let listener = {
        let _guard = runtime.0.as_ref().map(tokio::runtime::Runtime::enter);
        tokio::net::TcpListener::from_std(std_listener).map_err(|e| {
            Error::with_source(
                ErrorKind::Runtime,
                format!("cannot register the socket: {e}"),
                e,
            )
        })?
    };
    let (tx, rx) = watch::channel(false);
    let budget = Arc::new(Budget::new(limits.max_buffered_body_bytes));
    let serve_budget = Arc::clone(&budget);
    let thread = std::thread::Builder::new()
        .name("miva-mock-server".into())
        .spawn(move || {
            let mut runtime = runtime;
            if let Some(rt) = runtime.0.take() {
                rt.block_on(serve(listener, handler, limits, serve_budget, rx));
                rt.shutdown_timeout(Duration::from_millis(100));
            }
        })
        .map_err(|e| {
            Error::with_source(
                ErrorKind::Runtime,
                format!("cannot start the server thread: {e}"),
                e,
            )
        })?;
    Ok(Running {
        addr,
        stop: ShutdownHandle { tx: Arc::new(tx) },
        thread: Some(thread),
        budget,
    })
}

async fn serve<H: Handler>(
    listener: tokio::net::TcpListener,
    state: Arc<H>,
    limits: ServerLimits,
    budget: Arc<Budget>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(true)
        .auto_date_header(false)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connections = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Over the cap: closed at once (dropped).
                    let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let activity = Arc::new(Activity::new());
                    let stream = Watched { inner: stream, activity: Arc::clone(&activity) };
                    let state = state.clone();
                    let budget = Arc::clone(&budget);
                    let busy = Arc::clone(&activity);
                    let service = service_fn(move |req| {
                        let guard = Busy::enter(Arc::clone(&busy));
                        let (state, budget) = (state.clone(), Arc::clone(&budget));
                        async move {
                            let response = respond(state, budget, limits, req).await;
                            drop(guard);
                            response
                        }
                    });
                    let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = conn => {}
                            () = activity.idle(limits.idle_timeout) => {}
                        }
                        drop(permit);
                    });
                }
                // Out of file descriptors and the like: back off, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
}

/// When a connection last moved a byte, and how many of its requests are
/// being answered.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// Returns once the connection has moved no byte for `limit` while
    /// none of its requests was being answered.
    async fn idle(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let quiet = self.start.elapsed().saturating_sub(last);
            if quiet >= limit {
                if self.busy.load(Ordering::Relaxed) == 0 {
                    return;
                }
                // A request is being answered (a latency fault, a long
                // multicall): that is not idleness.
                self.touch();
                tokio::time::sleep(limit).await;
            } else {
                tokio::time::sleep(limit - quiet).await;
            }
        }
    }
}

/// Counts a request as being answered while it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn enter(activity: Arc<Activity>) -> Self {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A connection's socket, noting every byte it moves in its [`Activity`].
struct Watched {
    inner: tokio::net::TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A body answered early is read and thrown away (never buffered) when it
/// announces at most this many bytes, so that its connection stays
/// reusable; a larger one is not read at all and the connection is closed.
const EARLY_DISCARD_LIMIT: u64 = 64 * 1024;

/// Whether the request's body, if any, is small enough to be thrown away
/// after an early answer: no `Transfer-Encoding` and a `Content-Length` of
/// at most [`EARLY_DISCARD_LIMIT`] (or none: no body).
fn small_body(headers: &hyper::HeaderMap) -> bool {
    if headers.contains_key(hyper::header::TRANSFER_ENCODING) {
        return false;
    }
    match headers.get(CONTENT_LENGTH) {
        None => true,
        Some(length) => length
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n <= EARLY_DISCARD_LIMIT),
    }
}

/// Reads a small body to its end, keeping none of it; `false` when the
/// client went away.
async fn discard(mut body: Incoming) -> bool {
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            return false;
        }
    }
    true
}

/// Why a body could not be read.
enum Unread {
    /// The client went away mid-body.
    Gone,
    /// It did not arrive within the body read timeout.
    TimedOut,
    /// Holding it would exceed the buffered-bytes budget.
    OverBudget,
}

/// A reply that closes the connection, for a body that was not read.
fn closing_reply(status: u16, message: &str) -> Response<MockBody> {
    let mut response = Response::new(MockBody::Full(Some(Bytes::from(format!("{message}\n")))));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn respond<H: Handler>(
    state: Arc<H>,
    budget: Arc<Budget>,
    limits: ServerLimits,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let (parts, body) = req.into_parts();
    // Answered without the body when it cannot matter (no auth header):
    // nothing buffered.
    let early = state.answer_before_body(&parts);
    let read = match early {
        Some(_) if small_body(&parts.headers) => {
            match tokio::time::timeout(limits.body_read_timeout, discard(body)).await {
                Ok(true) => Ok((Body::Complete(Bytes::new()), None)),
                Ok(false) => Err(Unread::Gone),
                Err(_) => Err(Unread::TimedOut),
            }
        }
        Some(_) => Ok((Body::Complete(Bytes::new()), None)),
        None => {
            let reading = read_body(body, &parts.headers, state.max_body_bytes(), &budget.bytes);
            match tokio::time::timeout(limits.body_read_timeout, reading).await {
                Ok(read) => read,
                Err(_) => Err(Unread::TimedOut),
            }
        }
    };
    // Held until the answer is built: the bytes stay counted while in use.
    let (body, _held) = match read {
        Ok(read) => read,
        // The client went away mid-body; nobody will read this.
        Err(Unread::Gone) => return Ok(closing_reply(400, "the request body was cut off")),
        Err(Unread::TimedOut) => {
            return Ok(closing_reply(
                408,
                "the request body did not arrive in time",
            ));
        }
        Err(Unread::OverBudget) => {
            return Ok(closing_reply(
                503,
                "the server holds as many request bodies as it may; retry later",
            ));
        }
    };
    let fault = match state.faults() {
        Some(faults) => {
            if let Some(latency) = faults.latency {
                tokio::time::sleep(latency).await;
            }
            faults.next()
        }
        None => None,
    };
    let reply = match fault {
        Some(Fault::ServerErrorHtml) => Reply {
            status: 500,
            headers: vec![("content-type", "text/html; charset=utf-8".into())],
            body: b"<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n\
                    <body><h1>Internal Server Error</h1><p>The server encountered an internal \
                    error and was unable to complete your request.</p></body></html>\n"
                .to_vec(),
            close: false,
        },
        Some(Fault::ServiceUnavailable) => Reply {
            status: 503,
            headers: vec![
                ("content-type", "text/html; charset=utf-8".into()),
                ("retry-after", "1".into()),
            ],
            body: b"<html><head><title>503 Service Unavailable</title></head>\
                    <body><h1>Service Unavailable</h1></body></html>\n"
                .to_vec(),
            close: false,
        },
        Some(Fault::EmptyOk) => Reply {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: Vec::new(),
            close: false,
        },
        Some(Fault::OversizedBody(total)) => {
            let mut response = Response::new(MockBody::Padding {
                remaining: total,
                total,
            });
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return Ok(response);
        }
        _ => match early {
            Some(reply) => reply,
            None => state.handle(&parts, body),
        },
    };
    Ok(build_response(reply, fault))
}

/// The HTTP response for `reply`, altered by `fault`.
fn build_response(mut reply: Reply, fault: Option<Fault>) -> Response<MockBody> {
    match fault {
        Some(Fault::TruncatedJson) => reply.body.truncate(reply.body.len() / 2),
        Some(Fault::PartialWithoutContentRange) if reply.status == 206 => {
            reply
                .headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case("content-range"));
        }
        Some(Fault::PartialWithoutProgress) if reply.status == 206 => {
            let total = reply
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-range"))
                .and_then(|(_, value)| value.rsplit('/').next().map(str::to_owned))
                .unwrap_or_else(|| "0".to_owned());
            reply
                .headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case("content-range"));
            reply
                .headers
                .push((CONTENT_RANGE.as_str(), format!("0/{total}")));
            reply.body = b"[]".to_vec();
        }
        _ => {}
    }
    let body = if fault == Some(Fault::CloseMidBody) {
        let promised = reply.body.len() as u64;
        let half = reply.body.len() / 2;
        reply.body.truncate(half);
        reply.close = true;
        MockBody::Cut {
            first: Some(Bytes::from(reply.body)),
            promised,
        }
    } else {
        MockBody::Full(Some(Bytes::from(reply.body)))
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    if reply.close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads the whole body, up to `max` bytes, taking each buffered byte from
/// `budget` (the permit returned holds them). A larger body is read on
/// (and thrown away, its bytes given back) up to [`DRAIN_LIMIT`] more, then
/// reported as too large.
async fn read_body(
    mut body: Incoming,
    headers: &hyper::HeaderMap,
    max: usize,
    budget: &Arc<Semaphore>,
) -> Result<(Body, Option<OwnedSemaphorePermit>), Unread> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let max64 = u64::try_from(max).unwrap_or(u64::MAX);
    if let Some(len) = announced
        && len > max64.saturating_add(DRAIN_LIMIT)
    {
        return Ok((Body::TooLarge(len), None));
    }
    // The announced length is taken from the budget at once (and allocated
    // at once); bytes past it as they come.
    let reserve = announced
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(max);
    let mut held: Option<OwnedSemaphorePermit> = None;
    if reserve > 0 {
        let n = u32::try_from(reserve).map_err(|_| Unread::OverBudget)?;
        held = Some(
            Arc::clone(budget)
                .try_acquire_many_owned(n)
                .map_err(|_| Unread::OverBudget)?,
        );
    }
    let mut buf = BytesMut::with_capacity(reserve);
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Unread::Gone)?;
        if let Some(data) = frame.data_ref() {
            seen = seen.saturating_add(data.len() as u64);
            if seen > max64 {
                if seen > max64.saturating_add(DRAIN_LIMIT) {
                    return Ok((Body::TooLarge(seen), None));
                }
                buf = BytesMut::new();
                held = None;
                continue;
            }
            let counted = held.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
            let more = (buf.len() + data.len()).saturating_sub(counted);
            if more > 0 {
                let n = u32::try_from(more).map_err(|_| Unread::OverBudget)?;
                let permit = Arc::clone(budget)
                    .try_acquire_many_owned(n)
                    .map_err(|_| Unread::OverBudget)?;
                match &mut held {
                    Some(h) => h.merge(permit),
                    None => held = Some(permit),
                }
            }
            buf.extend_from_slice(data);
        }
    }
    if seen > max64 {
        return Ok((Body::TooLarge(seen), None));
    }
    Ok((Body::Complete(buf.freeze()), held))
}
