//! The sans-IO protocol core of the Miva Merchant JSON API and Miravia /
//! Lazada Open Platform clients: every decision a client makes, as plain
//! types and functions that take the time and the raw response as inputs
//! and return what to do next. No HTTP client, no async runtime, no I/O.
//!
//! `miva-http` runs two drivers over this core, a blocking one (ureq) and
//! an async one (tokio), so that both behave the same; people with their
//! own HTTP stack can drive it too.
//!
//! What is here:
//! - [`miva`]: a Miva [`miva::Session`] (a client's settings and the
//!   clock offset every call shares), and one machine per job: [`miva::Call`]
//!   and [`miva::Multicall`] (the 206 continuation, bounded rounds,
//!   `Content-Range` arithmetic), and [`miva::list::ListPager`] (which page
//!   next with N in flight, every page checked, records released in order
//!   exactly once, the memory budget);
//! - [`miravia`]: the same for the Miravia / Lazada Open Platform: its
//!   [`miravia::Session`], [`miravia::Call`] (each attempt signed anew),
//!   [`miravia::Pager`] and the token refresh decisions (single-flight,
//!   margin, refresh-token expiry);
//! - [`Error`], the one error type of every driver, with
//!   [`Error::is_retryable`], [`Error::is_rate_limited`] and an opaque
//!   [`TransportError`] that any HTTP stack's failure maps to;
//! - [`RetryPolicy`] and [`RetryState`]: whether a failure may be retried,
//!   and after what wait;
//! - [`ClockOffset`]: the server's clock, learned from its `Date` header
//!   when it refuses a timestamp (one type, in milliseconds, for both
//!   platforms);
//! - [`Deadline`]: one limit over a sequence of requests;
//! - [`BodyBudget`]: how large a body may be read and decoded;
//! - [`redact`]: credentials removed from URLs and texts;
//! - [`TransportConfig`] and [`check_url`]: the settings and URL rule both
//!   drivers honour.
//!
//! # Example: driving a call with your own HTTP stack
//!
//! Each attempt is the exact bytes to POST and the headers; the machine
//! reads the raw answer and says what to do next. Replace the canned answer
//! with your HTTP client's.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use miva_protocol::{RawResponse, miva::{CallOptions, Session, Step}};
//! use miva_sign::{ApiToken, Credential};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let session = Session::new("https://store.example.com/mm5/json.mvc", Credential::token(ApiToken::new("t0ken")?))
//!     .store_code(Some("S1".into()))
//!     .clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_000));
//! session.check()?;
//! let mut call = session.raw_call("Product_Load", &serde_json::json!({"Product_Code": "P1"}), &CallOptions::new())?;
//! loop {
//!     let attempt = call.next_attempt()?;
//!     assert_eq!(
//!         attempt.body(),
//!         br#"{"Function":"Product_Load","Store_Code":"S1","Miva_Request_Timestamp":1700000000,"Product_Code":"P1"}"#
//!     );
//!     // POST attempt.body() with attempt.headers() to session.endpoint(), within attempt.timeout()...
//!     let answer = Ok(RawResponse::new(200, br#"{"success":1,"data":{"code":"P1"}}"#.to_vec()));
//!     match call.on_response(answer, Duration::from_millis(3)) {
//!         Step::Done(data) => { assert_eq!(data["code"], "P1"); break; }
//!         Step::Fail(error) => return Err(error.into()),
//!         Step::Wait(wait) => std::thread::sleep(wait),
//!         Step::Resend => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Example: the retry decision alone
//!
//! ```
//! use std::time::Duration;
//! use miva_protocol::{Error, RawResponse, RetryPolicy, RetryState, TransportError};
//!
//! // A driver's loop: after a failure, ask whether and when to try again.
//! let policy = RetryPolicy::new(3).initial_backoff(Duration::from_millis(50));
//! let mut retries = RetryState::new();
//! let refused = Error::Transport(TransportError::connect("connection refused"));
//! assert!(refused.is_retryable());
//! let wait = retries.next_wait(Some(&policy), &refused, false, None);
//! assert!(wait.is_some_and(|w| w <= Duration::from_millis(50)));
//!
//! // A gateway's 503 is retried only for a request that is safe to repeat.
//! let response = RawResponse::new(503, b"busy".to_vec());
//! let busy = Error::HttpStatus { status: response.status, excerpt: "busy".into() };
//! assert_eq!(RetryState::new().next_wait(Some(&policy), &busy, false, None), None);
//! ```

mod budget;
mod clock;
mod config;
mod deadline;
mod error;
pub mod miravia;
pub mod miva;
mod ordered;
pub(crate) mod page_check;
pub mod redact;
mod response;
mod retry;
mod step;

pub use budget::{BodyBudget, DECODE_MULTIPLE};
pub use clock::ClockOffset;
pub(crate) use clock::unix_seconds;
pub use config::{TransportConfig, check_url};
pub use deadline::Deadline;
pub use error::{Error, TimeoutKind, TransportError};
pub(crate) use error::{excerpt, store_error_for_status};
pub use miravia::PlatformError;
pub use redact::{REDACTED, is_secret_param, redact_url};
pub use response::RawResponse;
pub use retry::{RetryPolicy, RetryState};
pub use step::Step;
