//! Blocking HTTP clients for the Miva Merchant JSON API and the Miravia /
//! Lazada Open Platform, on `ureq`.
//!
//! Both clients share one transport: TLS verification always on (rustls with
//! the webpki roots), explicit connect and overall timeouts, redirects never
//! followed (they would carry a signed request elsewhere), response bodies
//! read up to a limit, and `http://` refused for anything but loopback
//! unless explicitly allowed.
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

mod error;
pub mod miravia;
pub mod miva;
mod transport;

pub use error::Error;
pub use transport::TransportConfig;
