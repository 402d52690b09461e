//! Blocking HTTP clients for the Miva Merchant JSON API and the Miravia /
//! Lazada Open Platform, on `ureq`.
//!
//! Both clients share one transport: TLS verification always on (rustls with
//! the webpki roots), explicit connect and overall timeouts, redirects never
//! followed (they would carry a signed request elsewhere), response bodies
//! read up to a limit, and `http://` refused for anything but loopback
//! unless explicitly allowed.
//!
//! # Example: Miva
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
//! # Example: Miravia
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
