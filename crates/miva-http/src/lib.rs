//! HTTP clients for the Miva Merchant JSON API and the Miravia / Lazada
//! Open Platform: async ones on tokio (feature `tokio`, module
//! `miva_http::tokio`) and blocking ones on `ureq` ([`miva`],
//! [`miravia`]), with the same builders, method names and behaviour,
//! because both drive the same sans-IO protocol core ([`protocol`], the
//! crate `miva-protocol`): the same signed bytes, retries, clock-offset
//! correction, multicall continuation, paging checks and body limits.
//!
//! # Which client
//!
//! - **Services** that already run tokio (axum, actix, tonic): the async
//!   clients, `miva_http::tokio::{MivaClient, MiraviaClient}`. Many calls in
//!   flight on a few threads; dropping a future or a stream cancels its
//!   requests; rate and in-flight limits wait without blocking a thread;
//!   `Send` futures, `Clone + Send + Sync` clients.
//! - **Scripts, command-line tools and nightly batch jobs**: the blocking
//!   clients, `miva_http::miva::MivaClient` and
//!   `miva_http::miravia::MiraviaClient`. No runtime to set up; a list
//!   export still keeps several pages in flight (on threads).
//!
//! Both transports: TLS verification always on (rustls on `ring` with the
//! webpki roots, or the platform verifier with the `platform-verifier`
//! feature; no OpenSSL, one crypto provider in the tree), explicit connect
//! and overall timeouts, redirects never followed (they would carry a
//! signed request elsewhere), response bodies read up to a limit, and
//! `http://` refused for anything but loopback unless explicitly allowed.
//!
//! # Example: a service (async)
//!
//! Against a mock store on loopback (`miva-mock`), so it runs anywhere; for
//! a real store use its `https://<domain>/mm5/json.mvc` and your token.
//!
//! ```
//! # #[cfg(feature = "tokio")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use miva_envelope::{ListQuery, ProductListLoadQuery, Sort};
//! use miva_http::tokio::MivaClient;
//! use miva_mock::{Credentials, MockConfig, MockServer};
//!
//! let store = MockServer::start(MockConfig::new(Credentials::generate()?).with_products(250))?;
//! let credential = store.credentials().tokens()[0].credential(); // HMAC-SHA256
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let client = MivaClient::builder(store.url(), credential)
//!         .store_code(store.store_code())
//!         .build()?;
//!     let page = client
//!         .call(&ProductListLoadQuery::new(ListQuery::new().count(3).sort(Sort::asc("id"))))
//!         .await?;
//!     assert_eq!(page.total_count, 250);
//!
//!     // Every record once, in order, four pages in flight: a Stream.
//!     let mut products = client.list(ProductListLoadQuery::default()).page_size(40).concurrency(4);
//!     let mut ids = Vec::new();
//!     while let Some(product) =
//!         std::future::poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut products), cx)).await
//!     {
//!         ids.push(product?.id.unwrap_or_default());
//!     }
//!     assert_eq!(ids, (1..=250).collect::<Vec<_>>());
//!     Ok::<_, miva_http::Error>(())
//! })?;
//! # Ok(()) }
//! # #[cfg(not(feature = "tokio"))]
//! # fn main() {}
//! ```
//!
//! (With `futures-util` or `tokio-stream`, `while let Some(p) =
//! products.next().await` does the same.)
//!
//! # Example: a batch job (blocking)
//!
//! Against a mock store on loopback (`miva-mock`), so it runs anywhere; for
//! a real store use its `https://<domain>/mm5/json.mvc` and your token.
//!
//! ```
//! use miva_envelope::{ListQuery, ProductListLoadQuery, ProductUpdate, Sort};
//! use miva_http::miva::MivaClient;
//! use miva_mock::{Credentials, MockConfig, MockServer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = MockServer::start(MockConfig::new(Credentials::generate()?).with_products(250))?;
//! let credential = store.credentials().tokens()[0].credential(); // HMAC-SHA256
//! let client = MivaClient::builder(store.url(), credential)
//!     .store_code(store.store_code())
//!     .build()?;
//!
//! let page = client.call(&ProductListLoadQuery::new(ListQuery::new().count(3).sort(Sort::asc("id"))))?;
//! assert_eq!(page.total_count, 250);
//! assert_eq!(page.data[0].code.as_deref(), Some("P000001"));
//!
//! client.call(&ProductUpdate::new().edit_product("P000002").product_price(9.5))?;
//!
//! // Every record once, in order, three pages in flight.
//! let ids: Vec<i64> = client
//!     .list(ProductListLoadQuery::default())
//!     .page_size(40)
//!     .concurrency(3)
//!     .map(|p| p.map(|p| p.id.unwrap_or_default()))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(ids, (1..=250).collect::<Vec<_>>());
//! # Ok(()) }
//! ```
//!
//! # Example: Miravia (blocking; the async client is the same with `.await`)
//!
//! ```no_run
//! use miva_http::miravia::{Gateway, MiraviaClient};
//! use miravia_sign::AppSecret;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = MiraviaClient::builder(Gateway::MiraviaEs, "123456", AppSecret::new("app secret")?)
//!     .access_token("seller access token")
//!     .build()?;
//! let order = client.get("/order/get", &[("order_id", "1234")])?;
//! println!("{}", order["data"]);
//! # Ok(()) }
//! ```

mod limiter;
pub mod miravia;
pub mod miva;
mod paging;
mod pool;
#[cfg(feature = "tokio")]
pub mod tokio;
mod transport;

/// The protocol core both drivers run (re-exported whole, for its
/// decision types).
pub use miva_protocol as protocol;
pub use miva_protocol::{
    DECODE_MULTIPLE, Error, REDACTED, RetryPolicy, TimeoutKind, TransportConfig, TransportError,
    is_secret_param, redact_url,
};
