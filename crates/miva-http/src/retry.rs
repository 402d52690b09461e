//! Opt-in retries with exponential backoff and jitter, and a client-side
//! limit on request rate and requests in flight.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::Error;

/// When and how often a failed call is tried again. Off unless set on a
/// client builder.
///
/// A retry is sent only when repeating the request cannot do harm:
/// - the connection could not be made (refused, DNS, connect timeout):
///   nothing was sent;
/// - HTTP 502, 503 or 504 for a read-only Miva function (`*_Load_Query`,
///   `*_Load`), or for any call marked safe to repeat
///   ([`CallOptions::idempotent`](crate::miva::CallOptions::idempotent));
/// - for Miravia, platform errors of type `SYSTEM` or `ISP`, and
///   `AppCallLimit` (rate limited).
///
/// Never for a signature, access or validation error, and never for a write
/// unless the caller marked it. Every retry is built and signed again with
/// a fresh timestamp. Waits grow from `initial_backoff`, doubling up to
/// `max_backoff`, each a random ("full jitter") fraction of that bound so
/// that many clients do not retry in step.
///
/// ```
/// use std::time::Duration;
/// use miva_http::RetryPolicy;
/// let policy = RetryPolicy::new(3).initial_backoff(Duration::from_millis(100));
/// assert_eq!(policy.max_retries, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 3).
    pub max_retries: u32,
    /// Upper bound of the first wait (default 200 ms).
    pub initial_backoff: Duration,
    /// Upper bound of any wait (default 10 s).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(3)
    }
}

impl RetryPolicy {
    /// Up to `max_retries` retries with the default waits.
    pub fn new(max_retries: u32) -> Self {
        Self {
            max_retries,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }

    /// Sets the bound of the first wait.
    #[must_use]
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// Sets the bound of every wait.
    #[must_use]
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The wait before retry number `retry` (1-based): a random duration
    /// up to `min(max_backoff, initial_backoff * 2^(retry-1))`.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let bound = self
            .initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        let random = RandomState::new().build_hasher().finish();
        // A fraction in [0, 1) from the top 53 bits.
        let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
        bound.mul_f64(fraction)
    }
}

/// Whether `error` means no byte of the request reached the server.
pub(crate) fn nothing_was_sent(error: &Error) -> bool {
    match error {
        Error::Timeout { what, .. } => what == "connect" || what == "resolve",
        Error::Transport(e) => match e.as_ref() {
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
            ureq::Error::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            ),
            _ => false,
        },
        _ => false,
    }
}

/// Whether `error` is a gateway's "try again later" (502, 503, 504).
pub(crate) fn is_gateway_error(error: &Error) -> bool {
    matches!(
        error,
        Error::HttpStatus {
            status: 502..=504,
            ..
        }
    )
}

/// Requests per second and requests in flight, shared by every clone and
/// thread of one client.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    /// Time between request starts, and when the next may start.
    rate: Option<(Duration, Mutex<Instant>)>,
    /// Most requests in flight, and how many are.
    in_flight: Option<(usize, Mutex<usize>, Condvar)>,
}

/// A slot of [`Limiter`]'s in-flight budget, given back on drop.
pub(crate) struct Permit<'a>(&'a Limiter);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some((_, count, freed)) = &self.0.in_flight {
            let mut n = count.lock().unwrap_or_else(PoisonError::into_inner);
            *n = n.saturating_sub(1);
            freed.notify_one();
        }
    }
}

impl Limiter {
    pub(crate) fn new(per_second: Option<f64>, max_in_flight: Option<usize>) -> Self {
        Self {
            rate: per_second
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| (Duration::from_secs_f64(1.0 / r), Mutex::new(Instant::now()))),
            in_flight: max_in_flight.map(|n| (n.max(1), Mutex::new(0), Condvar::new())),
        }
    }

    /// Waits for the rate limit and an in-flight slot; the slot is held
    /// until the permit is dropped.
    pub(crate) fn acquire(&self) -> Permit<'_> {
        if let Some((interval, next)) = &self.rate {
            let start = {
                let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
                let start = (*next).max(Instant::now());
                *next = start + *interval;
                start
            };
            let now = Instant::now();
            if start > now {
                std::thread::sleep(start - now);
            }
        }
        if let Some((max, count, freed)) = &self.in_flight {
            let mut n = count.lock().unwrap_or_else(PoisonError::into_inner);
            while *n >= *max {
                n = freed.wait(n).unwrap_or_else(PoisonError::into_inner);
            }
            *n += 1;
        }
        Permit(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_doubling_bound() {
        let policy = RetryPolicy::new(10)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(1000));
        for retry in 1..=10u32 {
            let bound = Duration::from_millis((100u64 << (retry - 1)).min(1000));
            for _ in 0..50 {
                assert!(policy.backoff(retry) <= bound, "retry {retry}");
            }
        }
        // Jitter: not always the same wait.
        let waits: std::collections::HashSet<Duration> =
            (0..20).map(|_| policy.backoff(3)).collect();
        assert!(waits.len() > 1);
        // Huge retry numbers do not overflow.
        assert!(policy.backoff(u32::MAX) <= Duration::from_millis(1000));
    }

    #[test]
    fn what_counts_as_not_sent_and_as_a_gateway_error() {
        let refused = Error::Transport(Box::new(ureq::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        ))));
        assert!(nothing_was_sent(&refused));
        assert!(nothing_was_sent(&Error::Transport(Box::new(
            ureq::Error::ConnectionFailed
        ))));
        let connect = Error::Timeout {
            what: "connect".into(),
            limit: Duration::from_secs(1),
        };
        assert!(nothing_was_sent(&connect));
        let global = Error::Timeout {
            what: "global".into(),
            limit: Duration::from_secs(1),
        };
        assert!(!nothing_was_sent(&global));
        for status in [502, 503, 504] {
            assert!(is_gateway_error(&Error::HttpStatus {
                status,
                excerpt: String::new()
            }));
        }
        assert!(!is_gateway_error(&Error::HttpStatus {
            status: 500,
            excerpt: String::new()
        }));
    }
}
