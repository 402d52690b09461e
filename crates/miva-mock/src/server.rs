//! The HTTP server: hyper 1 (HTTP/1.1, keep-alive) on a tokio runtime of
//! its own, on a background thread.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::watch;

use crate::config::MockConfig;
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
        let running = spawn(config.bind, config.worker_threads, state)?;
        let url = format!("http://{}{}", running.addr, config.endpoint_path);
        let credentials = config.credentials.clone();
        let addr = running.addr;
        Ok(Self {
            addr,
            url,
            credentials,
            running,
        })
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:41234/mm5/json.mvc`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
    /// Time to wait before answering (a fault); `None` answers at once.
    fn latency(&self) -> Option<Duration> {
        None
    }
}

impl Handler for State {
    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn handle(&self, parts: &hyper::http::request::Parts, body: Body) -> Reply {
        handler::handle(self, parts, body)
    }

    fn latency(&self) -> Option<Duration> {
        self.latency
    }
}

/// A server thread, listening. Dropping it stops the server and joins the
/// thread.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) stop: ShutdownHandle,
    thread: Option<JoinHandle<()>>,
}

impl Running {
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
    let thread = std::thread::Builder::new()
        .name("miva-mock-server".into())
        .spawn(move || {
            let mut runtime = runtime;
            if let Some(rt) = runtime.0.take() {
                rt.block_on(serve(listener, handler, rx));
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
    })
}

async fn serve<H: Handler>(
    listener: tokio::net::TcpListener,
    state: Arc<H>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(true).auto_date_header(false);
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
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    let service = service_fn(move |req| respond(state.clone(), req));
                    let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        let _ = conn.await;
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

async fn respond<H: Handler>(
    state: Arc<H>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match read_body(body, &parts.headers, state.max_body_bytes()).await {
        Some(body) => body,
        None => {
            // The client went away mid-body; nobody will read this.
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return Ok(response);
        }
    };
    if let Some(latency) = state.latency() {
        tokio::time::sleep(latency).await;
    }
    let reply = state.handle(&parts, body);
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
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
    Ok(response)
}

/// Reads the whole body, up to `max` bytes. A larger one is read on (and
/// thrown away) up to [`DRAIN_LIMIT`] more, then reported as too large.
/// `None`: the body could not be read.
async fn read_body(mut body: Incoming, headers: &hyper::HeaderMap, max: usize) -> Option<Body> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let max64 = u64::try_from(max).unwrap_or(u64::MAX);
    if let Some(len) = announced
        && len > max64.saturating_add(DRAIN_LIMIT)
    {
        return Some(Body::TooLarge(len));
    }
    let mut buf = BytesMut::with_capacity(
        announced
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(max),
    );
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.ok()?;
        if let Some(data) = frame.data_ref() {
            seen = seen.saturating_add(data.len() as u64);
            if seen > max64 {
                if seen > max64.saturating_add(DRAIN_LIMIT) {
                    return Some(Body::TooLarge(seen));
                }
                buf.clear();
                continue;
            }
            buf.extend_from_slice(data);
        }
    }
    if seen > max64 {
        return Some(Body::TooLarge(seen));
    }
    Some(Body::Complete(buf.freeze()))
}
