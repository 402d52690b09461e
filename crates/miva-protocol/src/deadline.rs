//! An overall limit on a sequence of requests, shared by the Miva client
//! (a call with its retries, a multicall's rounds, an export's pages) and
//! the Miravia client (a paginated export's pages).

use std::time::{Duration, Instant};

use crate::error::{Error, TimeoutKind};

/// An overall limit on a sequence of requests, as an instant every
/// request of it must end by.
///
/// ```
/// use std::time::Duration;
/// use miva_protocol::{Deadline, TimeoutKind};
/// let deadline = Deadline::after(Duration::from_secs(30), TimeoutKind::ExportDeadline);
/// // A request may take its configured 120 s, cut to what is left.
/// let cut = deadline.request_limit(Duration::from_secs(120)).unwrap();
/// assert!(cut.is_some_and(|t| t <= Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone)]
pub struct Deadline {
    /// `None`: too far off to represent, so never.
    at: Option<Instant>,
    limit: Duration,
    /// What it bounds, as its timeout error names it.
    kind: TimeoutKind,
}

impl Deadline {
    /// `limit` from now, bounding what `kind` names (in its error).
    pub fn after(limit: Duration, kind: TimeoutKind) -> Self {
        Self::after_from(Instant::now(), limit, kind)
    }

    /// `limit` from `now`.
    pub fn after_from(now: Instant, limit: Duration, kind: TimeoutKind) -> Self {
        Self {
            at: now.checked_add(limit),
            limit,
            kind,
        }
    }

    /// The time left (zero once it has passed; `Duration::MAX` when it is
    /// too far off to represent).
    pub fn remaining(&self) -> Duration {
        self.at.map_or(Duration::MAX, |at| {
            at.saturating_duration_since(Instant::now())
        })
    }

    /// The instant it passes (`None` when it is too far off to
    /// represent): what a driver's waits are bounded by.
    pub fn at(&self) -> Option<Instant> {
        self.at
    }

    /// The limit it was made with.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Whether it has passed.
    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The error when it has passed: an [`Error::Timeout`] naming what it
    /// bounds ("the export deadline passed") and its limit.
    pub fn expired(&self) -> Error {
        Error::Timeout {
            kind: self.kind.clone(),
            limit: self.limit,
        }
    }

    /// The limit for one request of it: `configured` (the transport's),
    /// lowered to the time left. `Ok(None)` when the configured limit
    /// stands, `Ok(Some(t))` when the deadline cuts it to `t`, and the
    /// expired error when no time is left.
    pub fn request_limit(&self, configured: Duration) -> Result<Option<Duration>, Error> {
        let left = self.remaining();
        if left.is_zero() {
            return Err(self.expired());
        }
        Ok((left < configured).then_some(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_cuts_a_request_to_the_time_left_and_names_itself_once_passed() {
        let far = Deadline::after(Duration::from_secs(3600), TimeoutKind::ExportDeadline);
        assert!(!far.passed());
        assert_eq!(far.request_limit(Duration::from_secs(5)).ok(), Some(None));
        let near = Deadline::after(Duration::from_secs(2), TimeoutKind::ExportDeadline);
        let cut = near.request_limit(Duration::from_secs(5));
        assert!(
            matches!(cut, Ok(Some(t)) if t <= Duration::from_secs(2)),
            "{cut:?}"
        );
        let gone = Deadline::after(Duration::ZERO, TimeoutKind::ExportDeadline);
        assert!(gone.passed());
        assert!(
            matches!(
                gone.request_limit(Duration::from_secs(5)),
                Err(Error::Timeout { kind: TimeoutKind::ExportDeadline, limit })
                    if limit == Duration::ZERO
            ),
            "a passed deadline is its own timeout"
        );
        // Too far off to represent: never passes.
        let never = Deadline::after(Duration::MAX, TimeoutKind::CallDeadline);
        assert_eq!(never.remaining(), Duration::MAX);
    }
}
