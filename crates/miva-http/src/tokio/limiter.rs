//! A client-side limit on request rate and requests in flight for the async
//! clients, shared by every clone and task of one client. The same limits
//! as the blocking [`crate::limiter::Limiter`], but waiting never blocks a
//! thread: a tokio semaphore for the in-flight slots and
//! `tokio::time::sleep_until` for the rate. Cancel-safe: an `acquire`
//! dropped while it waits holds no slot and gives its start time back if
//! no later request took the one after it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Requests per second and requests in flight, shared by every clone and
/// task of one client.
#[derive(Debug, Default)]
pub(crate) struct AsyncLimiter {
    /// Time between request starts, and when the next may start.
    rate: Option<(Duration, Mutex<Instant>)>,
    /// One permit per request that may be in flight.
    in_flight: Option<Arc<Semaphore>>,
}

/// A slot of [`AsyncLimiter`]'s in-flight budget, given back on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

/// A reserved start time; given back on drop unless the wait finished (or
/// a later reservation already followed it).
struct Reservation<'a> {
    next: &'a Mutex<Instant>,
    start: Instant,
    interval: Duration,
    done: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            if self.start.checked_add(self.interval) == Some(*next) {
                *next = self.start;
            }
        }
    }
}

impl AsyncLimiter {
    /// At most `per_second` request starts a second (a non-finite or
    /// non-positive rate is no limit) and `max_in_flight` requests at once
    /// (at least one).
    pub(crate) fn new(per_second: Option<f64>, max_in_flight: Option<usize>) -> Self {
        Self {
            rate: crate::limiter::interval(per_second).map(|i| (i, Mutex::new(Instant::now()))),
            in_flight: max_in_flight
                .map(|n| Arc::new(Semaphore::new(n.clamp(1, Semaphore::MAX_PERMITS)))),
        }
    }

    /// Waits for the rate limit and an in-flight slot, but not past
    /// `until` (a call's deadline): `None` then, with no slot taken and
    /// the start time given back if no later request took the one after
    /// it. The slot is held until the permit is dropped.
    pub(crate) async fn acquire(&self, until: Option<Instant>) -> Option<Permit> {
        if let Some((interval, next)) = &self.rate {
            let start = {
                let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
                let start = (*next).max(Instant::now());
                *next = start.checked_add(*interval).unwrap_or(start);
                start
            };
            let mut reservation = Reservation {
                next,
                start,
                interval: *interval,
                done: false,
            };
            let wake = until.map_or(start, |u| start.min(u));
            tokio::time::sleep_until(wake).await;
            if wake < start {
                return None;
            }
            reservation.done = true;
        }
        let slot = match &self.in_flight {
            // The semaphore is never closed, so this only fails if it were.
            Some(semaphore) => {
                let acquire = Arc::clone(semaphore).acquire_owned();
                match until {
                    None => acquire.await.ok(),
                    Some(until) => tokio::time::timeout_at(until, acquire).await.ok()?.ok(),
                }
            }
            None => None,
        };
        Some(Permit { _slot: slot })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_at_the_rate() {
        let limiter = Arc::new(AsyncLimiter::new(Some(10.0), None));
        let begin = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            let _permit = limiter.acquire(None).await;
            starts.push(Instant::now() - begin);
        }
        // Paused time: the starts are exactly 100 ms apart.
        for (i, at) in starts.iter().enumerate() {
            assert_eq!(*at, Duration::from_millis(100) * i as u32, "start {i}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_wait_gives_its_start_time_back() {
        let limiter = AsyncLimiter::new(Some(1.0), None);
        let begin = Instant::now();
        drop(limiter.acquire(None).await); // starts now; the next at +1 s
        // A wait that is dropped before its time takes no turn.
        let waited = tokio::time::timeout(Duration::from_millis(10), limiter.acquire(None)).await;
        assert!(waited.is_err());
        drop(limiter.acquire(None).await);
        assert_eq!(Instant::now() - begin, Duration::from_secs(1));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn in_flight_is_capped_and_a_dropped_acquire_takes_no_slot() {
        let limiter = Arc::new(AsyncLimiter::new(None, Some(3)));
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (limiter, now, most) = (limiter.clone(), now.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = limiter.acquire(None).await;
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);

        // Hold all three; a waiting acquire that is dropped takes nothing.
        let held = [
            limiter.acquire(None).await,
            limiter.acquire(None).await,
            limiter.acquire(None).await,
        ];
        let waited = tokio::time::timeout(Duration::from_millis(20), limiter.acquire(None)).await;
        assert!(waited.is_err());
        drop(held);
        let mut again = Vec::new();
        for _ in 0..3 {
            let got = tokio::time::timeout(Duration::from_secs(5), limiter.acquire(None)).await;
            again.push(got.expect("a slot was lost to a dropped acquire"));
        }
        assert_eq!(again.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_its_deadline_gives_up_and_takes_nothing() {
        let limiter = AsyncLimiter::new(Some(1.0), Some(1));
        let begin = Instant::now();
        let held = limiter.acquire(None).await;
        assert!(held.is_some());
        // The next rate slot is 1 s away: a deadline in 100 ms gives up then.
        let until = begin + Duration::from_millis(100);
        assert!(limiter.acquire(Some(until)).await.is_none());
        assert_eq!(Instant::now() - begin, Duration::from_millis(100));
        // Its start time was given back.
        drop(held);
        assert!(limiter.acquire(None).await.is_some());
        assert_eq!(Instant::now() - begin, Duration::from_secs(1));

        // The in-flight slot, held: a waiter gives up at its deadline.
        let limiter = AsyncLimiter::new(None, Some(1));
        let held = limiter.acquire(None).await;
        let until = Instant::now() + Duration::from_millis(30);
        assert!(limiter.acquire(Some(until)).await.is_none());
        drop(held);
        assert!(
            limiter
                .acquire(Some(Instant::now() + Duration::from_secs(5)))
                .await
                .is_some()
        );
    }
}
