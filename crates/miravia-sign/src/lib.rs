//! Sans-IO request signing for the Miravia / Lazada Open Platform.
//!
//! Every call to the platform's REST gateway (`https://api.miravia.es/rest`,
//! `https://api.lazada.*/rest`, ...) carries a `sign` parameter: the
//! HMAC-SHA256, keyed with the application's App Secret, of
//!
//! > API path + for each parameter, sorted by name in byte order: name + value
//! > (+ request body, for the APIs that sign one)
//!
//! written as 64 uppercase hexadecimal digits. The parameter `sign` itself,
//! parameters with an empty value and file parts are not signed.
//!
//! This crate computes that signature and nothing else: it does no I/O,
//! reads no clock and knows no HTTP library.
//!
//! - [`AppSecret`] holds the secret (keyed once, redacted in `Debug`).
//! - [`sign`], [`verify`] and [`string_to_sign`] work on any set of text
//!   parameters ([`Param`]).
//! - [`RequestSigner`] adds the system parameters (`app_key`, `timestamp`,
//!   `sign_method`, `access_token`, `partner_id`) and returns
//!   [`SignedParams`], exactly the parameters to send, `sign` included.
//! - [`percent_encode`] and [`form_urlencode`] render them for a URL query or
//!   an `application/x-www-form-urlencoded` body.
//!
//! # Example
//!
//! The `/order/get` call from the platform's "Call API with HTTP request"
//! document, with App Secret `helloworld`:
//!
//! ```
//! use miravia_sign::{AppSecret, RequestSigner, Timestamp};
//!
//! # fn main() -> Result<(), miravia_sign::Error> {
//! let secret = AppSecret::new("helloworld")?;
//!
//! // Low level: every parameter given explicitly.
//! let params = [
//!     ("app_key", "123456"),
//!     ("access_token", "test"),
//!     ("timestamp", "1517820392000"),
//!     ("sign_method", "sha256"),
//!     ("order_id", "1234"),
//! ];
//! assert_eq!(
//!     miravia_sign::string_to_sign("/order/get", &params, None)?,
//!     "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000"
//! );
//! let signature = miravia_sign::sign(&secret, "/order/get", &params, None)?;
//! assert_eq!(
//!     signature.to_string(),
//!     "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
//! );
//!
//! // The receiving side.
//! miravia_sign::verify(&secret, "/order/get", &params, None, &signature.to_hex())?;
//!
//! // High level: system parameters added for you (pass
//! // `Timestamp::from_system_time(SystemTime::now())?` in real use).
//! let signer = RequestSigner::new("123456", secret)?.with_access_token("test")?;
//! let signed = signer.sign(
//!     "/order/get",
//!     Timestamp::from_millis(1517820392000),
//!     &[("order_id", "1234")],
//!     None,
//! )?;
//! assert_eq!(
//!     signed.to_urlencoded(),
//!     "access_token=test&app_key=123456&order_id=1234&sign_method=sha256\
//!      &timestamp=1517820392000\
//!      &sign=4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
//! );
//! // GET https://api.miravia.es/rest/order/get?{that string}
//! # Ok(())
//! # }
//! ```
//!
//! # Rules this crate applies
//!
//! - Names are sorted by their UTF-8 bytes (`A` < `Z` < `_` < `a`), never by
//!   a locale.
//! - Values are signed as raw text, never URL-encoded.
//! - A parameter with an empty value is not signed (the rule of the
//!   document's Java and C# samples); [`RequestSigner`] also leaves it off the
//!   wire, so both ends agree.
//! - A parameter name given twice is an error naming it: the platform signs
//!   one value per name.
//! - The API path is what follows `/rest` in the URL (`/order/get`, not
//!   `/rest/order/get`), without a trailing slash.

mod canonical;
mod encode;
mod error;
mod request;
mod secret;

pub use canonical::{Param, sign, string_to_sign, verify};
pub use encode::{form_urlencode, percent_encode};
pub use error::Error;
pub use request::{RequestSigner, SIGN_METHOD_SHA256, SignedParams, Timestamp};
pub use secret::{AppSecret, Signature};
