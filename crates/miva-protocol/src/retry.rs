//! Opt-in retries with exponential backoff and jitter: the policy, and the
//! decision after each failure.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

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
/// - for Miravia, platform errors of type `SYSTEM` or `ISP` for a GET,
///   and `AppCallLimit` / `ApiCallLimit` (rate limited, not processed).
///
/// Never for a signature, access or validation error, and never for a write
/// unless the caller marked it. Every retry is built and signed again with
/// a fresh timestamp. Waits grow from `initial_backoff`, doubling up to
/// `max_backoff`, each a random ("full jitter") fraction of that bound so
/// that many clients do not retry in step.
///
/// ```
/// use std::time::Duration;
/// use miva_protocol::RetryPolicy;
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
    pub fn backoff(&self, retry: u32) -> Duration {
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

/// The retry decisions of one call: how many retries it has had, and
/// whether the next failure may be retried (and after what wait). Both
/// drivers run every call through one of these.
#[derive(Debug, Clone, Default)]
pub struct RetryState {
    attempt: u32,
}

impl RetryState {
    /// A call that has not been retried yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Retries so far.
    pub fn retries(&self) -> u32 {
        self.attempt
    }

    /// After `error`: the wait before the next attempt, or `None` when the
    /// call must end with it. Counts the retry when there is one.
    ///
    /// Retried, up to the policy's `max_retries`: a request that never
    /// reached the server ([`Error::nothing_was_sent`]); a refusal for the
    /// call rate (Miravia's `AppCallLimit` / `ApiCallLimit`, HTTP 429: the
    /// request was not processed); and, only when `safe_to_repeat`, a
    /// gateway's 502/503/504 or a Miravia `SYSTEM` / `ISP` error. Never a
    /// wait of `time_left` or more (what is left of a deadline).
    pub fn next_wait(
        &mut self,
        policy: Option<&RetryPolicy>,
        error: &Error,
        safe_to_repeat: bool,
        time_left: Option<Duration>,
    ) -> Option<Duration> {
        let policy = policy?;
        if self.attempt >= policy.max_retries || !may_retry(error, safe_to_repeat) {
            return None;
        }
        let wait = policy.backoff(self.attempt + 1);
        if time_left.is_some_and(|left| wait >= left) {
            tracing::debug!(error = %error, "no retry: the wait would outlast the deadline");
            return None;
        }
        self.attempt += 1;
        tracing::debug!(
            retry = self.attempt,
            wait_ms = wait.as_millis() as u64,
            error = %error,
            "retrying"
        );
        Some(wait)
    }
}

/// Whether `error` may be retried (see [`RetryState::next_wait`]).
fn may_retry(error: &Error, safe_to_repeat: bool) -> bool {
    if error.nothing_was_sent() || error.is_rate_limited() {
        return true;
    }
    safe_to_repeat
        && match error {
            Error::HttpStatus { status, .. } => (502..=504).contains(status),
            Error::Miravia(e) => matches!(e.error_type.as_deref(), Some("SYSTEM" | "ISP")),
            _ => false,
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
    fn what_counts_as_not_sent_and_what_is_retried() {
        let refused = Error::Transport(crate::TransportError::connect("connection refused"));
        assert!(refused.nothing_was_sent());
        let broken = Error::Transport(crate::TransportError::other("connection reset"));
        assert!(!broken.nothing_was_sent());
        let connect = Error::Timeout {
            kind: crate::TimeoutKind::Connect,
            limit: Duration::from_secs(1),
        };
        assert!(connect.nothing_was_sent());
        let request = Error::Timeout {
            kind: crate::TimeoutKind::Request,
            limit: Duration::from_secs(1),
        };
        assert!(!request.nothing_was_sent());
        let gateway = |status| Error::HttpStatus {
            status,
            excerpt: String::new(),
        };
        for status in [502, 503, 504] {
            assert!(may_retry(&gateway(status), true));
            assert!(
                !may_retry(&gateway(status), false),
                "a write is not repeated"
            );
        }
        assert!(!may_retry(&gateway(500), true));
        assert!(may_retry(&gateway(429), false), "429: not processed");
        assert!(may_retry(&refused, false));
        assert!(!may_retry(&broken, true));
        assert!(!may_retry(&request, false));

        let policy = RetryPolicy::new(2).initial_backoff(Duration::from_millis(1));
        let mut state = RetryState::new();
        assert!(
            state
                .next_wait(Some(&policy), &refused, false, None)
                .is_some()
        );
        assert!(
            state
                .next_wait(Some(&policy), &refused, false, None)
                .is_some()
        );
        assert_eq!(state.next_wait(Some(&policy), &refused, false, None), None);
        assert_eq!(state.retries(), 2);
        assert_eq!(
            RetryState::new().next_wait(None, &refused, false, None),
            None
        );
        // A wait that would outlast the deadline is not taken.
        let slow = RetryPolicy::new(2).initial_backoff(Duration::from_secs(3600));
        let mut state = RetryState::new();
        let left = Some(Duration::from_nanos(1));
        // Full jitter may draw a zero wait; any other must be refused.
        if let Some(wait) = state.next_wait(Some(&slow), &refused, false, left) {
            assert!(wait < Duration::from_nanos(1));
        }
    }
}
