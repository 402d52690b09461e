//! Everything a [`MockServer`](crate::MockServer) is started with.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SkewedClock, SystemClock};
use crate::credentials::Credentials;

/// The endpoint path of a default Miva install.
pub const DEFAULT_ENDPOINT_PATH: &str = "/mm5/json.mvc";
/// The default largest request body accepted (8 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Miva's timestamp window: a request's `Miva_Request_Timestamp` may be this
/// many seconds before or after the store's clock.
pub const DEFAULT_TIMESTAMP_WINDOW_SECONDS: u64 = 30;

/// How the mock starts: address, credentials, data, limits.
///
/// Build it with [`MockConfig::new`] and adjust fields or use the `with_*`
/// methods:
///
/// ```
/// use miva_mock::{Credentials, MockConfig};
///
/// # fn main() -> Result<(), miva_mock::Error> {
/// let config = MockConfig::new(Credentials::generate()?)
///     .with_products(1_000)
///     .with_multicall_budget(Some(10))
///     .with_clock_skew_seconds(-120);
/// assert_eq!(config.seed.products, 1_000);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MockConfig {
    /// Where to listen. Default `127.0.0.1:0` (a free port on loopback).
    pub bind: SocketAddr,
    /// The endpoint path. Default `/mm5/json.mvc`; other paths answer 404.
    pub endpoint_path: String,
    /// The store code and who may call it.
    pub credentials: Credentials,
    /// How many records of each kind the store starts with.
    pub seed: Seed,
    /// Allowed distance, in seconds, between `Miva_Request_Timestamp` and
    /// the mock's clock. Default 30.
    pub timestamp_window_seconds: u64,
    /// The mock's clock (timestamp window, `Date` header, `dt_created` of
    /// new records). Default: the machine's clock.
    pub clock: Arc<dyn Clock>,
    /// Largest request body accepted; larger ones get HTTP 413. Default 8 MiB.
    pub max_body_bytes: usize,
    /// Simulated time budget of one multicall request, in function calls
    /// (see the crate docs, *Multicall budget*). `None` (default): every
    /// operation runs in one response.
    pub multicall_budget: Option<usize>,
    /// Threads serving requests. `None` (default): one per CPU.
    pub worker_threads: Option<usize>,
    /// Fault injection: see [`Faults`]. Default: none.
    pub faults: Faults,
    /// Timeouts and caps for slow, idle or hostile clients: see
    /// [`ServerLimits`].
    pub limits: ServerLimits,
}

impl MockConfig {
    /// The defaults with these credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            endpoint_path: DEFAULT_ENDPOINT_PATH.to_owned(),
            credentials,
            seed: Seed::default(),
            timestamp_window_seconds: DEFAULT_TIMESTAMP_WINDOW_SECONDS,
            clock: Arc::new(SystemClock),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            multicall_budget: None,
            worker_threads: None,
            faults: Faults::default(),
            limits: ServerLimits::default(),
        }
    }

    /// Sets the timeouts and caps for slow, idle or hostile clients.
    #[must_use]
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the listening address.
    #[must_use]
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Sets the number of seeded products (ids `1..=n`, codes `P000001`...).
    #[must_use]
    pub fn with_products(mut self, n: usize) -> Self {
        self.seed.products = n;
        self
    }

    /// Sets the seeded data.
    #[must_use]
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses the machine's clock shifted by `skew` seconds (a store whose
    /// clock is wrong).
    #[must_use]
    pub fn with_clock_skew_seconds(mut self, skew: i64) -> Self {
        self.clock = Arc::new(SkewedClock::new(skew));
        self
    }

    /// Sets the timestamp window in seconds.
    #[must_use]
    pub fn with_timestamp_window_seconds(mut self, seconds: u64) -> Self {
        self.timestamp_window_seconds = seconds;
        self
    }

    /// Sets the largest accepted body.
    #[must_use]
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the multicall budget (function calls per response).
    #[must_use]
    pub fn with_multicall_budget(mut self, budget: Option<usize>) -> Self {
        self.multicall_budget = budget;
        self
    }

    /// Sets the faults to inject.
    #[must_use]
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Sets the number of server threads.
    #[must_use]
    pub fn with_worker_threads(mut self, threads: Option<usize>) -> Self {
        self.worker_threads = threads;
        self
    }
}

/// What keeps a mock server (store or gateway) serving when clients are
/// slow, idle or hostile: every connection and every buffered byte is
/// bounded, and so is the time each may take.
///
/// ```
/// use std::time::Duration;
/// use miva_mock::ServerLimits;
///
/// let limits = ServerLimits::default()
///     .with_header_read_timeout(Duration::from_millis(300))
///     .with_max_connections(16);
/// assert_eq!(limits.max_connections, 16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Time a request's head (request line and headers) may take to
    /// arrive, counted from when the server starts waiting for it: on a
    /// keep-alive connection that includes the wait before it, so this
    /// also closes connections idle between requests. A client sending
    /// its headers a byte at a time is cut off. Default 30 s.
    pub header_read_timeout: Duration,
    /// Time a connection may make no progress (no byte read or written)
    /// while no request of it is being answered: a client that connects
    /// and sends nothing, or stops reading its answer. Default 30 s.
    pub idle_timeout: Duration,
    /// Time a request body may take to arrive in full; a slower one is
    /// answered 408 and its connection closed. Default 30 s.
    pub body_read_timeout: Duration,
    /// Connections open at once; one over the cap is closed as soon as it
    /// is accepted. Default 1024.
    pub max_connections: usize,
    /// Request body bytes held in memory at once, across all connections
    /// (each body is also bounded by the server's largest body). A body
    /// that would exceed it is answered 503 and its connection closed.
    /// Default 64 MiB.
    pub max_buffered_body_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_buffered_body_bytes: 64 * 1024 * 1024,
        }
    }
}

impl ServerLimits {
    /// Sets [`ServerLimits::header_read_timeout`].
    #[must_use]
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::idle_timeout`].
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::body_read_timeout`].
    #[must_use]
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::max_connections`] (at least 1).
    #[must_use]
    pub fn with_max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// Sets [`ServerLimits::max_buffered_body_bytes`].
    #[must_use]
    pub fn with_max_buffered_body_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_body_bytes = bytes;
        self
    }
}

/// How many records of each kind the store is seeded with. The data is a
/// pure function of these numbers: the same seed gives the same records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Seed {
    /// Products, ids `1..=products`, codes `P000001`, `P000002`, ...
    /// Default 100.
    pub products: usize,
    /// Categories, ids `1..=categories`, codes `CAT001`, ... Default 24.
    pub categories: usize,
    /// Customers, ids `1..=customers`, logins `customer001`, ... Default 40.
    pub customers: usize,
    /// Orders, ids `1001..=1000 + orders`. Default 50.
    pub orders: usize,
    /// Coupons, ids `1..=coupons`, codes `COUPON001`, ... Default 12.
    pub coupons: usize,
    /// Price groups, ids `1..=price_groups`, unique names. Default 6.
    pub price_groups: usize,
}

impl Seed {
    /// `products` products and the default numbers of everything else.
    pub fn with_products(products: usize) -> Self {
        Self {
            products,
            ..Self::default()
        }
    }

    /// These counts of products, categories, customers and orders, and the
    /// default numbers of coupons and price groups.
    pub fn new(products: usize, categories: usize, customers: usize, orders: usize) -> Self {
        Self {
            products,
            categories,
            customers,
            orders,
            ..Self::default()
        }
    }

    /// Sets the number of seeded coupons.
    #[must_use]
    pub fn with_coupons(mut self, coupons: usize) -> Self {
        self.coupons = coupons;
        self
    }

    /// Sets the number of seeded price groups.
    #[must_use]
    pub fn with_price_groups(mut self, price_groups: usize) -> Self {
        self.price_groups = price_groups;
        self
    }
}

impl Default for Seed {
    fn default() -> Self {
        Self {
            products: 100,
            categories: 24,
            customers: 40,
            orders: 50,
            coupons: 12,
            price_groups: 6,
        }
    }
}

/// Fault injection for every request: added latency, and one [`Fault`] on
/// every answer. (For a fault on chosen requests only, see
/// [`MockServer::inject_faults`](crate::MockServer::inject_faults).)
///
/// ```
/// use std::time::Duration;
/// use miva_mock::{Fault, Faults};
/// let faults = Faults::default()
///     .with_latency(Duration::from_millis(20))
///     .with_fault(Fault::ServerErrorHtml);
/// assert_eq!(faults.latency, Some(Duration::from_millis(20)));
/// assert_eq!(faults.every_request, Some(Fault::ServerErrorHtml));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Faults {
    /// Time added before every answer (after the request body was read),
    /// without holding a server thread. `None` (default): answer at once.
    pub latency: Option<Duration>,
    /// A fault applied to every answer. `None` (default): none.
    pub every_request: Option<Fault>,
}

impl Faults {
    /// Sets the latency added before every answer.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = Some(latency);
        self
    }

    /// Applies `fault` to every answer.
    #[must_use]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.every_request = Some(fault);
        self
    }
}

/// One way for the server to misbehave, to test what a client does then.
/// Faults that replace the answer skip the request entirely (nothing is
/// written); the others alter the real answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 500 with an HTML error page (a crashed PHP process, a proxy).
    /// Replaces the answer.
    ServerErrorHtml,
    /// HTTP 503 with an HTML page (an overloaded proxy or load balancer).
    /// Replaces the answer.
    ServiceUnavailable,
    /// HTTP 200 with an empty body. Replaces the answer.
    EmptyOk,
    /// HTTP 200 with a body of this many bytes (spaces), streamed without
    /// being held in memory: for a client's body limit. Replaces the answer.
    OversizedBody(u64),
    /// The real answer cut to half its length (a consistent
    /// `Content-Length`, so the JSON itself is truncated).
    TruncatedJson,
    /// The real answer's status and full `Content-Length`, half the body,
    /// then the connection is closed.
    CloseMidBody,
    /// A multicall's 206 answer without its `Content-Range` header. Other
    /// answers are unchanged.
    PartialWithoutContentRange,
    /// A multicall's 206 answer reporting no progress
    /// (`Content-Range: 0/TOTAL`, no results), as if the counts never
    /// reached the total. Other answers are unchanged.
    PartialWithoutProgress,
}

impl Fault {
    /// Every fault without a parameter, with its name (for `miva mock
    /// --fault`).
    pub const NAMED: [(&'static str, Fault); 7] = [
        ("server-error-html", Fault::ServerErrorHtml),
        ("service-unavailable", Fault::ServiceUnavailable),
        ("empty-ok", Fault::EmptyOk),
        ("truncated-json", Fault::TruncatedJson),
        ("close-mid-body", Fault::CloseMidBody),
        (
            "partial-without-content-range",
            Fault::PartialWithoutContentRange,
        ),
        ("partial-without-progress", Fault::PartialWithoutProgress),
    ];

    /// Reads a fault name from [`Fault::NAMED`], or `oversized-body:BYTES`.
    ///
    /// # Errors
    /// A sentence listing the names, for an unknown one.
    pub fn from_name(name: &str) -> Result<Fault, String> {
        if let Some(bytes) = name.strip_prefix("oversized-body:") {
            return bytes
                .parse()
                .map(Fault::OversizedBody)
                .map_err(|_| format!("oversized-body:BYTES needs a byte count, got {bytes:?}"));
        }
        Self::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMED.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown fault {name:?}: use one of {}, oversized-body:BYTES",
                    names.join(", ")
                )
            })
    }
}
