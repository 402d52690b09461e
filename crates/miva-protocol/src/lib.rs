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
//! - [`page_check`]: the checks every page of an export passes;
//! - [`redact`]: credentials removed from URLs and texts;
//! - [`TransportConfig`] and [`check_url`]: the settings and URL rule both
//!   drivers honour.
//!
//! # Example
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
pub mod page_check;
pub mod redact;
mod response;
mod retry;

pub use budget::{BodyBudget, DECODE_MULTIPLE};
pub use clock::{ClockOffset, parse_http_date, unix_millis, unix_seconds};
pub use config::{TransportConfig, check_url};
pub use deadline::Deadline;
pub use error::{
    API_OFFLINE_HINT, EXCERPT_LEN, Error, TimeoutKind, TransportError, excerpt,
    store_error_for_status,
};
pub use miravia::PlatformError;
pub use redact::{REDACTED, is_secret_param, redact_url};
pub use response::RawResponse;
pub use retry::{RetryPolicy, RetryState};
