//! One clock-offset type for both platforms: what to add to this machine's
//! clock to get the server's, learned from the server's `Date` header when
//! it refuses a timestamp, and shared by every clone and thread of a client.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds the server's clock is ahead of this machine's (negative:
/// behind). Starts at 0; [`ClockOffset::learn`] sets it from a `Date`
/// header. Lock-free, so every clone of a client can share one.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use miva_protocol::ClockOffset;
/// let offset = ClockOffset::new();
/// let local = UNIX_EPOCH + Duration::from_secs(784_111_000);
/// // The server says it is 777 s later than we think.
/// assert!(offset.learn(local, "Sun, 06 Nov 1994 08:49:37 GMT"));
/// assert_eq!(offset.seconds(), 777);
/// assert_eq!(offset.apply(local), local + Duration::from_secs(777));
/// ```
#[derive(Debug, Default)]
pub struct ClockOffset {
    ms: AtomicI64,
}

impl ClockOffset {
    /// No offset.
    pub fn new() -> Self {
        Self::default()
    }

    /// The offset in milliseconds.
    pub fn millis(&self) -> i64 {
        self.ms.load(Ordering::Relaxed)
    }

    /// The offset in whole seconds, rounded toward zero (Miva's
    /// timestamps are whole seconds).
    pub fn seconds(&self) -> i64 {
        self.millis() / 1000
    }

    /// Sets the offset.
    pub fn set_millis(&self, ms: i64) {
        self.ms.store(ms, Ordering::Relaxed);
    }

    /// `local` moved by the offset: the server's time now.
    pub fn apply(&self, local: SystemTime) -> SystemTime {
        let offset = self.millis();
        let magnitude = Duration::from_millis(offset.unsigned_abs());
        if offset >= 0 {
            local.checked_add(magnitude).unwrap_or(local)
        } else {
            local.checked_sub(magnitude).unwrap_or(local)
        }
    }

    /// After a refused timestamp: takes the server's time from its `Date`
    /// header (`date`, IMF-fixdate) against this machine's `local` time
    /// and keeps the difference. `true` when the offset moved by a second
    /// or more (the header's resolution), so one retry with a new
    /// timestamp can succeed; `false` (and unchanged) for an unreadable
    /// header.
    pub fn learn(&self, local: SystemTime, date: &str) -> bool {
        let Some(server_s) = parse_http_date(date) else {
            tracing::debug!("timestamp refused and no readable Date header: clock not adjusted");
            return false;
        };
        let offset = server_s
            .saturating_mul(1000)
            .saturating_sub(unix_millis(local));
        let old = self.ms.swap(offset, Ordering::Relaxed);
        tracing::debug!(
            offset_ms = offset,
            "timestamp refused: clock offset taken from the server's Date header"
        );
        offset.saturating_sub(old).unsigned_abs() >= 1000
    }
}

/// Milliseconds since the Unix epoch (negative before it), saturating.
pub(crate) fn unix_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// Seconds since the Unix epoch (negative before it), rounded down,
/// saturating.
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    unix_millis(time).div_euclid(1000)
}

/// Seconds since the Unix epoch of an HTTP `Date` value in the IMF-fixdate
/// form every current server sends (`Sun, 06 Nov 1994 08:49:37 GMT`);
/// `None` for anything else.
pub(crate) fn parse_http_date(value: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, rest) = value.trim().split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)?;
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next() != Some("GMT") || parts.next().is_some() {
        return None;
    }
    let mut hms = time.split(':').map(|n| n.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some()
        || !(1..=31).contains(&day)
        || !(1970..=9999).contains(&year)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&m)
        || !(0..=60).contains(&s)
    {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let month = i64::try_from(month).ok()? + 1;
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        // Expected values from Python's email.utils.parsedate_to_datetime.
        for (text, unix) in [
            ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
            ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400),
            ("Tue, 24 Nov 2026 22:00:03 GMT", 1_795_557_603),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ] {
            assert_eq!(parse_http_date(text), Some(unix), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            // A hostile server's dates: never an overflow or a nonsense offset.
            "Sun, 06 Nov 99999999999999999 08:49:37 GMT",
            "Sun, 06 Nov -9223372036854775808 08:49:37 GMT",
            "Sun, 06 Nov 1994 -1:49:37 GMT",
            "Sun, 06 Nov 1994 08:-1:37 GMT",
            "Sun, 06 Nov 1994 08:49:-9 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_offset_is_learned_in_milliseconds_and_applied_both_ways() {
        let offset = ClockOffset::new();
        // Local clock 1.5 s ahead of "Thu, 01 Jan 1970 00:00:10 GMT".
        let local = UNIX_EPOCH + Duration::from_millis(11_500);
        assert!(offset.learn(local, "Thu, 01 Jan 1970 00:00:10 GMT"));
        assert_eq!(offset.millis(), -1500);
        assert_eq!(offset.seconds(), -1);
        assert_eq!(offset.apply(local), UNIX_EPOCH + Duration::from_secs(10));
        // The same answer again: unchanged, so no second retry.
        assert!(!offset.learn(local, "Thu, 01 Jan 1970 00:00:10 GMT"));
        // Unreadable: unchanged.
        assert!(!offset.learn(local, "soon"));
        assert_eq!(offset.millis(), -1500);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(1)), -1);
    }
}
