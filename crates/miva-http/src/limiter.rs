//! A client-side limit on request rate and requests in flight, shared by
//! every clone and thread of a blocking client (it blocks the thread that
//! waits).

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Requests per second and requests in flight, shared by every clone and
/// thread of one client.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    /// Time between request starts, and when the next may start.
    rate: Option<(Duration, Mutex<Instant>)>,
    /// Most requests in flight, and how many are.
    in_flight: Option<(usize, Mutex<usize>, Condvar)>,
}

/// The time between request starts for at most `per_second` a second: no
/// limit for a rate that is not finite and positive; at most one a day
/// (a rate too small to represent as an interval is taken as that).
pub(crate) fn interval(per_second: Option<f64>) -> Option<Duration> {
    const DAY: Duration = Duration::from_secs(86_400);
    let rate = per_second.filter(|r| r.is_finite() && *r > 0.0)?;
    Some(Duration::try_from_secs_f64(1.0 / rate).map_or(DAY, |i| i.min(DAY)))
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
            rate: interval(per_second).map(|i| (i, Mutex::new(Instant::now()))),
            in_flight: max_in_flight.map(|n| (n.max(1), Mutex::new(0), Condvar::new())),
        }
    }

    /// Waits for the rate limit and an in-flight slot, but not past
    /// `until` (a call's deadline): `None` then, with no slot taken and
    /// the start time given back if no later request took the one after
    /// it. The slot is held until the permit is dropped.
    pub(crate) fn acquire(&self, until: Option<Instant>) -> Option<Permit<'_>> {
        if let Some((interval, next)) = &self.rate {
            let start = {
                let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
                let start = (*next).max(Instant::now());
                *next = start.checked_add(*interval).unwrap_or(start);
                start
            };
            let wake = until.map_or(start, |u| start.min(u));
            let now = Instant::now();
            if wake > now {
                std::thread::sleep(wake - now);
            }
            if wake < start {
                let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
                if start.checked_add(*interval) == Some(*next) {
                    *next = start;
                }
                return None;
            }
        }
        if let Some((max, count, freed)) = &self.in_flight {
            let mut n = count.lock().unwrap_or_else(PoisonError::into_inner);
            while *n >= *max {
                n = match until {
                    None => freed.wait(n).unwrap_or_else(PoisonError::into_inner),
                    Some(until) => {
                        let left = until.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return None;
                        }
                        freed
                            .wait_timeout(n, left)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                };
            }
            *n += 1;
        }
        Some(Permit(self))
    }
}

/// The error of a call whose limiter wait reached its deadline when the
/// machine did not already give the deadline's own (the time ran out at
/// the very edge): the deadline's timeout.
pub(crate) fn gave_up_waiting(deadline: Option<&miva_protocol::Deadline>) -> miva_protocol::Error {
    deadline.map_or_else(
        || {
            miva_protocol::Error::Config(
                "a rate or in-flight limit wait ended without a deadline".into(),
            )
        },
        miva_protocol::Deadline::expired,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_rate_gives_an_interval_or_none_never_a_panic() {
        let day = Duration::from_secs(86_400);
        assert_eq!(interval(Some(4.0)), Some(Duration::from_millis(250)));
        assert_eq!(interval(Some(1e-30)), Some(day));
        assert_eq!(interval(Some(1e-19)), Some(day));
        assert_eq!(interval(Some(f64::MIN_POSITIVE)), Some(day));
        assert_eq!(interval(Some(f64::MAX)), Some(Duration::ZERO));
        for none in [
            None,
            Some(0.0),
            Some(-1.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
        ] {
            assert_eq!(interval(none), None, "{none:?}");
        }
        // The smallest rate still limits: one start, then a day's wait.
        let limiter = Limiter::new(Some(1e-30), None);
        assert!(limiter.acquire(None).is_some());
        let until = Instant::now() + Duration::from_millis(10);
        assert!(limiter.acquire(Some(until)).is_none());
    }

    #[test]
    fn a_wait_past_its_deadline_gives_up_and_takes_nothing() {
        let limiter = Limiter::new(Some(2.0), Some(1));
        let held = limiter.acquire(None);
        assert!(held.is_some());
        // The next rate slot is 500 ms away: a deadline in 50 ms gives up.
        let begin = Instant::now();
        let until = begin + Duration::from_millis(50);
        assert!(limiter.acquire(Some(until)).is_none());
        assert!(begin.elapsed() >= Duration::from_millis(50));
        // Its start time was given back: the next waits for the same slot.
        drop(held);
        assert!(limiter.acquire(None).is_some());
        assert!(begin.elapsed() < Duration::from_millis(1500));

        // The in-flight slot: held, so a waiter gives up at its deadline.
        let limiter = Limiter::new(None, Some(1));
        let held = limiter.acquire(None);
        let until = Instant::now() + Duration::from_millis(30);
        assert!(limiter.acquire(Some(until)).is_none());
        drop(held);
        assert!(
            limiter
                .acquire(Some(Instant::now() + Duration::from_secs(5)))
                .is_some()
        );
    }
}
