//! The mock's notion of "now": used for the `Miva_Request_Timestamp` window,
//! the HTTP `Date` header and the `dt_created` / `dt_updated` of records
//! written through the API. Injectable so tests can skew or freeze time.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in Unix seconds.
///
/// Implement it to drive the mock's clock from a test; [`SystemClock`],
/// [`SkewedClock`] and [`ManualClock`] cover the usual cases.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time, in seconds since the Unix epoch.
    fn now_unix(&self) -> i64;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        system_now()
    }
}

/// The machine's clock shifted by a fixed number of seconds: a store whose
/// clock runs `skew_seconds` ahead (positive) or behind (negative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkewedClock {
    skew_seconds: i64,
}

impl SkewedClock {
    /// A clock `skew_seconds` ahead of the machine's (behind if negative).
    pub fn new(skew_seconds: i64) -> Self {
        Self { skew_seconds }
    }

    /// The configured skew.
    pub fn skew_seconds(&self) -> i64 {
        self.skew_seconds
    }
}

impl Clock for SkewedClock {
    fn now_unix(&self) -> i64 {
        system_now().saturating_add(self.skew_seconds)
    }
}

/// A clock that stands still until told otherwise. Share it with the server
/// through an `Arc` and move it from the test:
///
/// ```
/// use std::sync::Arc;
/// use miva_mock::{Clock, ManualClock};
///
/// let clock = Arc::new(ManualClock::new(1_700_000_000));
/// clock.advance(45);
/// assert_eq!(clock.now_unix(), 1_700_000_045);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock showing `now_unix` seconds since the epoch.
    pub fn new(now_unix: i64) -> Self {
        Self {
            now: AtomicI64::new(now_unix),
        }
    }

    /// Sets the time.
    pub fn set(&self, now_unix: i64) {
        self.now.store(now_unix, Ordering::SeqCst);
    }

    /// Moves the time by `seconds` (backwards if negative).
    pub fn advance(&self, seconds: i64) {
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(seconds))
            });
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

fn system_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Formats Unix seconds as an HTTP `Date` (IMF-fixdate, RFC 9110 5.6.7),
/// e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn http_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
    }

    #[test]
    fn clocks() {
        let manual = ManualClock::new(10);
        manual.advance(-15);
        assert_eq!(manual.now_unix(), -5);
        manual.set(7);
        assert_eq!(manual.now_unix(), 7);
        let skewed = SkewedClock::new(-3600);
        let diff = SystemClock.now_unix() - skewed.now_unix();
        assert!((3599..=3601).contains(&diff), "{diff}");
    }
}
