//! Async clients on tokio (cargo feature `tokio`): the same Miva and
//! Miravia clients as the blocking ones, with the same builders, method
//! names and behaviour, because both run the same protocol core
//! ([`miva_protocol`]); only the driver differs.
//!
//! # Which client to pick
//!
//! - **Async** (`miva_http::tokio`) for services that already run tokio: many
//!   calls in flight on a few threads, cancellation by dropping a future or
//!   stream, rate and in-flight limits that wait without blocking a thread.
//! - **Blocking** (`miva_http::miva`, `miva_http::miravia`) for scripts,
//!   command-line tools and batch jobs: no runtime to set up, and a
//!   concurrent list export still keeps several pages in flight.
//!
//! # Transport
//!
//! reqwest over HTTP/1.1 with rustls on the `ring` provider (the same
//! crypto as the blocking client's ureq), certificates always verified
//! against the bundled webpki roots (with the `platform-verifier` feature,
//! the operating system's verifier), redirects never followed, no
//! compression negotiated, no proxy taken from the environment (ureq, the
//! blocking transport, does not read one either by default), a connect
//! timeout and an overall timeout per request, and response bodies read
//! chunk by chunk up to the budget's limit.

mod limiter;
mod miravia;
mod miva;
mod pages;
mod records;
mod transport;

pub use miravia::{MiraviaClient, Pages};
pub use miva::MivaClient;
pub use records::Records;
