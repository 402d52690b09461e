//! How much memory one response may take: its body's limit (a concurrent
//! list page gets a share of the client's), and the estimate of its decoded
//! form checked before anything is decoded.

use miva_envelope::{Response, ResponseScan};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// The decoded form of one response may take at most this many times the
/// body limit that applied to it (estimated by a scan of the bytes before
/// decoding, see [`miva_envelope::scan_response`]); with the body itself,
/// one response needs at most `DECODE_MULTIPLE + 1` times the limit.
pub const DECODE_MULTIPLE: u64 = 4;

/// The memory budget of one response.
///
/// ```
/// use miva_protocol::BodyBudget;
/// // Four pages in flight share a 10 MB limit with the page handed out.
/// let page = BodyBudget::page(10_000_000, 4);
/// assert_eq!(page.body_limit(), 2_000_000);
/// assert_eq!(BodyBudget::call(10_000_000).body_limit(), 10_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyBudget {
    /// The client's body limit.
    limit: u64,
    /// `None`: a single call; `Some(pages)`: a list page with `pages` in
    /// flight.
    pages: Option<usize>,
}

impl BodyBudget {
    /// A single call's response: the whole `body_limit`.
    pub fn call(body_limit: u64) -> Self {
        Self {
            limit: body_limit,
            pages: None,
        }
    }

    /// A list page's response, `pages` of them fetched at once: with more
    /// than one, each may use `1 / (pages + 1)` of `body_limit` (the pages
    /// in flight or waiting, and the one being handed out), so that all of
    /// them together stay within one limit, and their decoded forms within
    /// [`DECODE_MULTIPLE`] times it.
    pub fn page(body_limit: u64, pages: usize) -> Self {
        Self {
            limit: body_limit,
            pages: Some(pages),
        }
    }

    /// The most bytes of body to read.
    pub fn body_limit(&self) -> u64 {
        match self.pages {
            Some(pages) if pages > 1 => self.limit / (pages as u64 + 1),
            _ => self.limit,
        }
    }

    /// The error for a body longer than [`BodyBudget::body_limit`]:
    /// [`Error::BodyTooLarge`], or for a concurrent page
    /// [`Error::ResponseTooLarge`] saying that pages share the limit.
    pub fn body_too_large(&self) -> Error {
        let limit = self.body_limit();
        match self.pages {
            Some(pages) if pages > 1 => Error::ResponseTooLarge {
                limit,
                reason: format!(
                    "the page's body is larger than {limit} bytes; {}",
                    self.advice()
                ),
            },
            _ => Error::BodyTooLarge { limit },
        }
    }

    /// What to change when a response does not fit.
    fn advice(&self) -> String {
        match self.pages {
            Some(pages) if pages > 1 => format!(
                "{pages} pages are fetched at once, and they share the {}-byte body limit ({} \
                 bytes each): lower the page size or the concurrency, or raise the body limit",
                self.limit,
                self.body_limit()
            ),
            Some(_) => "lower the page size, or raise the body limit".to_owned(),
            None => "ask for fewer records per call, or raise the body limit".to_owned(),
        }
    }

    /// Before a response body is decoded: refuses one whose decoded form
    /// would take more than [`DECODE_MULTIPLE`] times the body limit
    /// ([`Error::ResponseTooLarge`]), or that holds an integer that would
    /// not be read exactly ([`Error::InexactInteger`]).
    ///
    /// # Errors
    /// Those two.
    pub fn check_decodable(&self, body: &[u8]) -> Result<(), Error> {
        self.scan(body).map(|_| ())
    }

    /// Decodes a Miva response within the budget: [`check_decodable`]'s
    /// checks, then typed list records held to what is left of the budget
    /// ([`miva_envelope::decode_response_within`]). The outer error is the
    /// budget's or an inexact integer; the inner result is the decoder's.
    ///
    /// # Errors
    /// As [`check_decodable`], and [`Error::ResponseTooLarge`] when the
    /// records outgrow the budget while decoding.
    ///
    /// [`check_decodable`]: BodyBudget::check_decodable
    pub(crate) fn decode_response<T: DeserializeOwned>(
        &self,
        body: &[u8],
    ) -> Result<Result<Response<T>, miva_envelope::Error>, Error> {
        let Some((scan, room)) = self.scan(body)? else {
            return Ok(miva_envelope::decode_response(body));
        };
        match miva_envelope::decode_response_within(body, &scan, room) {
            Err(e) if e.kind() == miva_envelope::ErrorKind::TooLarge => {
                let limit = self.body_limit();
                Err(Error::ResponseTooLarge {
                    limit,
                    reason: format!(
                        "{e} ({DECODE_MULTIPLE} x the {limit}-byte body limit in all); {}",
                        self.advice()
                    ),
                })
            }
            other => Ok(other),
        }
    }

    /// The scan of a JSON object or array body within the budget, and the
    /// bytes of the budget it leaves; `None` for any other body (an HTML
    /// page, say), which cannot expand and is left for the decoder to
    /// report, digits in its text not taken for numbers.
    fn scan(&self, body: &[u8]) -> Result<Option<(ResponseScan, u64)>, Error> {
        if !matches!(
            body.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        ) {
            return Ok(None);
        }
        let scan =
            miva_envelope::scan_response(body, 0).map_err(|e| match (e.kind(), e.path()) {
                (miva_envelope::ErrorKind::InexactInteger, Some(path)) => Error::InexactInteger {
                    path: path.to_owned(),
                    message: e.to_string(),
                },
                _ => Error::Envelope(e),
            })?;
        let limit = self.body_limit();
        let budget = limit.saturating_mul(DECODE_MULTIPLE);
        if scan.decoded_bytes > budget {
            return Err(Error::ResponseTooLarge {
                limit,
                reason: format!(
                    "its {} bytes hold {} JSON values, which would take about {} bytes once \
                     decoded, more than the {budget} allowed ({DECODE_MULTIPLE} x the {limit}-byte \
                     body limit); {}",
                    body.len(),
                    scan.values,
                    scan.decoded_bytes,
                    self.advice()
                ),
            });
        }
        Ok(Some((scan, budget - scan.decoded_bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_expands_past_the_budget_is_refused_before_decoding() {
        // 1000 empty arrays in 2 kB: each decoded value takes far more.
        let body = format!("[{}]", vec!["[]"; 1000].join(","));
        let budget = BodyBudget::call(body.len() as u64);
        let error = budget.check_decodable(body.as_bytes()).unwrap_err();
        assert!(matches!(error, Error::ResponseTooLarge { .. }), "{error}");
        // Plenty of room: fine.
        assert!(
            BodyBudget::call(1 << 30)
                .check_decodable(body.as_bytes())
                .is_ok()
        );
        // Not JSON: left to the decoder.
        assert!(
            budget
                .check_decodable(b"<html>12345678901234567890123</html>")
                .is_ok()
        );
    }

    #[test]
    fn a_concurrent_page_says_that_pages_share_the_limit() {
        let error = BodyBudget::page(1000, 4).body_too_large();
        let Error::ResponseTooLarge { limit, reason } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(*limit, 200);
        assert!(reason.contains("4 pages are fetched at once"), "{reason}");
        assert!(matches!(
            BodyBudget::call(1000).body_too_large(),
            Error::BodyTooLarge { limit: 1000 }
        ));
    }
}
