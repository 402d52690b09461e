//! A response as the driver read it off the wire: the input of every
//! decision the core makes about an answer.

use std::fmt;

/// The status, the few headers the protocols read, and the body (already
/// read within its limit by the driver).
///
/// ```
/// use miva_protocol::RawResponse;
/// let response = RawResponse::new(206, b"[]".to_vec())
///     .with_header("Content-Range", "3/10")
///     .with_header("X-Other", "ignored");
/// assert_eq!(response.content_range.as_deref(), Some("3/10"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// `Location` (of a redirect, which is never followed), already
    /// redacted ([`redact_url`](crate::redact::redact_url)).
    pub location: Option<String>,
    /// `Content-Range` (a partial multicall answer).
    pub content_range: Option<String>,
    /// `Date` (for measuring the server's clock offset).
    pub date: Option<String>,
    /// `Retry-After`, as sent.
    pub retry_after: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// A response with `status` and `body` and no headers.
    pub fn new(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            body,
            ..Self::default()
        }
    }

    /// Keeps `value` if `name` (any letter case) is a header the protocols
    /// read; ignores any other. A `Location` is redacted here, before it
    /// can reach an error, a log or `Debug`: a gateway may echo the signed
    /// query (access token, signature).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.set_header(name, value);
        self
    }

    /// As [`RawResponse::with_header`], in place.
    pub fn set_header(&mut self, name: &str, value: &str) {
        let slot = if name.eq_ignore_ascii_case("location") {
            self.location = Some(crate::redact::redact_url(value).into_owned());
            return;
        } else if name.eq_ignore_ascii_case("content-range") {
            &mut self.content_range
        } else if name.eq_ignore_ascii_case("date") {
            &mut self.date
        } else if name.eq_ignore_ascii_case("retry-after") {
            &mut self.retry_after
        } else {
            return;
        };
        *slot = Some(value.to_owned());
    }

    /// The header names [`RawResponse::set_header`] keeps, so a driver can
    /// copy only those.
    pub const HEADERS: [&'static str; 4] = ["location", "content-range", "date", "retry-after"];
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("location", &self.location)
            .field("content_range", &self.content_range)
            .field("date", &self.date)
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_redacted_as_it_is_kept() {
        let r = RawResponse::new(302, Vec::new())
            .with_header("LOCATION", "https://x.example/rest?access_token=SECRET&a=1");
        let location = r.location.unwrap_or_default();
        assert!(!location.contains("SECRET"), "{location}");
        assert!(location.contains("a=1"), "{location}");
    }
}
