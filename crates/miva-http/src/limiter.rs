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
