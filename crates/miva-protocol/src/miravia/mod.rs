//! The Miravia / Lazada Open Platform side of the core: the settings and
//! token state of a client ([`Session`]), the call machine ([`Call`]: the
//! exact signed request of each attempt, and what each answer means), the
//! pager ([`Pager`]: offset/limit paging with every check, pages in
//! flight and released in order), and the token
//! refresh decision ([`Session::token_decision`]).
//!
//! # Example: driving a call with your own HTTP stack
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use miravia_sign::AppSecret;
//! use miva_protocol::RawResponse;
//! use miva_protocol::miravia::{Gateway, Method, Session, SessionConfig, Step};
//!
//! # fn main() -> Result<(), miva_protocol::Error> {
//! let config = SessionConfig::new(Gateway::MiraviaEs, "123456", AppSecret::new("helloworld")?)
//!     .access_token("test")
//!     .clock(|| SystemTime::UNIX_EPOCH + Duration::from_millis(1_517_820_392_000));
//! let session = Session::new(config)?;
//! let mut call = session.call(Method::Get, "/order/get", &[("order_id", "1234")], &[])?;
//! let attempt = call.next_attempt()?;
//! assert!(attempt.url().starts_with("https://api.miravia.es/rest/order/get?"));
//! // ... send attempt.url() (a GET: attempt.body() is None) with your HTTP client ...
//! let answer = RawResponse::new(200, br#"{"code":"0","data":{"order_id":1234}}"#.to_vec());
//! match call.on_response(Ok(answer), Duration::from_millis(40)) {
//!     Step::Done(value) => assert_eq!(value["data"]["order_id"], 1234),
//!     other => panic!("{other:?}"),
//! }
//! # Ok(()) }
//! ```

/// The driver's next move, the same type for both platforms.
pub use crate::Step;
use std::fmt;
use std::time::{Duration, SystemTime};

use miravia_sign::SignedParams;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::{Error, RawResponse, excerpt};

mod call;
mod pager;
mod session;

pub use call::{Attempt, Call, run_blocking};
pub use pager::{MAX_CONCURRENCY, Next, PageRequest, Pager};
pub use session::{Clock, OnRefresh, Session, SessionConfig, TokenDecision};

/// An error answer from the platform (it answers HTTP 200 even then).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlatformError {
    /// `ISV`, `ISP` or `SYSTEM`, when given.
    pub error_type: Option<String>,
    /// The error code, e.g. `IncompleteSignature`, `IllegalAccessToken`.
    pub code: String,
    /// The platform's message.
    pub message: String,
    /// The request id, for support.
    pub request_id: Option<String>,
}

impl PlatformError {
    /// An error with `code` and `message`, no type and no request id.
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            error_type: None,
            code: code.to_owned(),
            message: message.to_owned(),
            request_id: None,
        }
    }

    /// Sets the error type (`ISV`, `ISP`, `SYSTEM`).
    #[must_use]
    pub fn with_type(mut self, error_type: Option<&str>) -> Self {
        self.error_type = error_type.map(str::to_owned);
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: Option<&str>) -> Self {
        self.request_id = request_id.map(str::to_owned);
        self
    }

    /// Whether the platform refused the call for its rate: `AppCallLimit`
    /// (the app's calls per second) or `ApiCallLimit` (one API's). The
    /// call was not processed.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.code.as_str(), "AppCallLimit" | "ApiCallLimit")
    }

    /// Whether the platform refused the request's timestamp (a code naming
    /// it): the clock offset may be learned from its `Date` header.
    pub fn is_timestamp_refused(&self) -> bool {
        self.code.to_ascii_lowercase().contains("timestamp")
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{} (the platform gave no message)", self.code)?;
        } else {
            write!(f, "{}: {}", self.code, self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " ({id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlatformError {}

/// Where calls go. Every base URL ends in `/rest`; the API path is appended
/// to it, so `/rest` is never lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Gateway {
    /// Miravia, Spain: `https://api.miravia.es/rest`.
    MiraviaEs,
    /// Lazada Singapore.
    LazadaSg,
    /// Lazada Malaysia.
    LazadaMy,
    /// Lazada Vietnam.
    LazadaVn,
    /// Lazada Thailand.
    LazadaTh,
    /// Lazada Philippines.
    LazadaPh,
    /// Lazada Indonesia.
    LazadaId,
    /// Lazada's authorization host, for token calls.
    LazadaAuth,
    /// Any other base URL (a mock, a proxy); `/rest` is not added.
    Custom(String),
}

impl Gateway {
    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::MiraviaEs => "https://api.miravia.es/rest",
            Self::LazadaSg => "https://api.lazada.sg/rest",
            Self::LazadaMy => "https://api.lazada.com.my/rest",
            Self::LazadaVn => "https://api.lazada.vn/rest",
            Self::LazadaTh => "https://api.lazada.co.th/rest",
            Self::LazadaPh => "https://api.lazada.com.ph/rest",
            Self::LazadaId => "https://api.lazada.co.id/rest",
            Self::LazadaAuth => "https://auth.lazada.com/rest",
            Self::Custom(url) => url.trim_end_matches('/'),
        }
    }

    /// Where token calls go for this gateway: Lazada's auth host for the
    /// Lazada ventures, the gateway itself otherwise.
    pub fn token_gateway(&self) -> Gateway {
        match self {
            Self::LazadaSg
            | Self::LazadaMy
            | Self::LazadaVn
            | Self::LazadaTh
            | Self::LazadaPh
            | Self::LazadaId => Self::LazadaAuth,
            other => other.clone(),
        }
    }
}

/// A file part of a multipart upload (never signed).
#[derive(Clone)]
#[non_exhaustive]
pub struct FilePart {
    /// The form field name, e.g. `image`.
    pub name: String,
    /// The file name sent in the part header.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl FilePart {
    /// A part named `name` (the form field, e.g. `image`) holding `bytes`,
    /// sent as the file `file_name`.
    pub fn new(name: &str, file_name: &str, bytes: Vec<u8>) -> Self {
        Self {
            name: name.to_owned(),
            file_name: file_name.to_owned(),
            bytes,
        }
    }
}

impl fmt::Debug for FilePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("name", &self.name)
            .field("file_name", &self.file_name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// How a call is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Every parameter in the query string.
    Get,
    /// Parameters as an `application/x-www-form-urlencoded` body
    /// (`multipart/form-data` when files are attached).
    Post,
}

/// Tokens from `/auth/token/create` or `/auth/token/refresh`.
#[derive(Clone)]
pub struct Token {
    access_token: Zeroizing<String>,
    refresh_token: Option<Zeroizing<String>>,
    /// When the access token expires (from `expires_in`).
    pub expires_at: Option<SystemTime>,
    /// When the refresh token expires (from `refresh_expires_in`): after
    /// that the seller must authorize the app again.
    pub refresh_expires_at: Option<SystemTime>,
    /// The whole response, tokens removed.
    pub details: Value,
}

impl Token {
    /// The access token, to store it yourself.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token, if the platform gave one.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref().map(String::as_str)
    }

    /// A token you stored earlier.
    pub fn new(
        access_token: &str,
        refresh_token: Option<&str>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        Self {
            access_token: Zeroizing::new(access_token.to_owned()),
            refresh_token: refresh_token.map(|t| Zeroizing::new(t.to_owned())),
            expires_at,
            refresh_expires_at: None,
            details: Value::Null,
        }
    }

    /// Sets when the refresh token expires (stored with the token earlier).
    #[must_use]
    pub fn with_refresh_expires_at(mut self, at: Option<SystemTime>) -> Self {
        self.refresh_expires_at = at;
        self
    }

    /// The token in a `/auth/token/create` or `/auth/token/refresh`
    /// answer received at `now` (expiries are relative to it).
    ///
    /// # Errors
    /// [`Error::Undecodable`] when it holds no `access_token`.
    pub fn from_response(mut value: Value, now: SystemTime) -> Result<Self, Error> {
        let take = |v: &mut Value, key: &str| -> Option<String> {
            v.as_object_mut()
                .and_then(|o| o.remove(key))
                .and_then(|x| x.as_str().map(str::to_owned))
        };
        let access = take(&mut value, "access_token").ok_or_else(|| Error::Undecodable {
            status: 200,
            reason: "the token response has no access_token".into(),
            excerpt: String::new(),
        })?;
        let refresh = take(&mut value, "refresh_token");
        let seconds = |key: &str| {
            value.get(key).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        };
        let at = |s: Option<u64>| s.and_then(|s| now.checked_add(Duration::from_secs(s)));
        Ok(Self {
            expires_at: at(seconds("expires_in")),
            refresh_expires_at: at(seconds("refresh_expires_in")),
            access_token: Zeroizing::new(access),
            refresh_token: refresh.map(Zeroizing::new),
            details: value,
        })
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// The `partner_id` sent (and signed) unless configured otherwise.
pub const DEFAULT_PARTNER_ID: &str = concat!("miva-rs-", env!("CARGO_PKG_VERSION"));

/// The most pages [`Pager`] fetches unless [`PageSpec::max_pages`] says
/// otherwise: 10,000 (a million records at a page size of 100). One more
/// page than that is an error, not a loop.
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// Where an offset/limit endpoint keeps its records.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PageSpec {
    /// JSON pointer to the array of records, e.g. `/data/products`.
    pub items: String,
    /// JSON pointer to the total count, if the endpoint gives one.
    pub total: Option<String>,
    /// The most pages to fetch (default [`DEFAULT_MAX_PAGES`]): a gateway
    /// whose pages never end (no total, every page full) ends in an error
    /// after this many.
    pub max_pages: usize,
}

impl PageSpec {
    /// Records at the JSON pointer `items`, the total (if the endpoint
    /// gives one) at `total`; at most [`DEFAULT_MAX_PAGES`] pages.
    pub fn new(items: &str, total: Option<&str>) -> Self {
        Self {
            items: items.to_owned(),
            total: total.map(str::to_owned),
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// `/products/get`: `data.products`, `data.total_products`.
    pub fn products() -> Self {
        Self::new("/data/products", Some("/data/total_products"))
    }

    /// `/orders/get`: `data.orders`, `data.countTotal`.
    pub fn orders() -> Self {
        Self::new("/data/orders", Some("/data/countTotal"))
    }

    /// At most `pages` pages (0 is taken as 1); one more is an error.
    #[must_use]
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }
}

/// What an answer means: the value for `code` `"0"`, else the platform's
/// error, a redirect, an empty body or an HTTP error.
pub(crate) fn decode(response: RawResponse) -> Result<Value, Error> {
    if (300..400).contains(&response.status) {
        return Err(Error::Redirect {
            status: response.status,
            location: response.location,
        });
    }
    if response.body.is_empty() {
        return Err(Error::EmptyResponse {
            status: response.status,
            hint: "the gateway sent nothing; check the gateway URL and API path",
        });
    }
    let value: Value = match serde_json::from_slice(&response.body) {
        Ok(v) => v,
        Err(e) if response.status == 200 => {
            return Err(Error::Undecodable {
                status: response.status,
                reason: e.to_string(),
                excerpt: excerpt(&response.body),
            });
        }
        Err(_) => {
            return Err(Error::HttpStatus {
                status: response.status,
                excerpt: excerpt(&response.body),
            });
        }
    };
    let code = match value.get("code") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ if response.status == 200 => "0".to_owned(),
        _ => {
            return Err(Error::HttpStatus {
                status: response.status,
                excerpt: excerpt(&response.body),
            });
        }
    };
    if code == "0" {
        return Ok(value);
    }
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    Err(Error::Miravia(
        PlatformError::new(&code, &text("message").unwrap_or_default())
            .with_type(text("type").as_deref())
            .with_request_id(text("request_id").as_deref()),
    ))
}

/// A `multipart/form-data` body of the signed parameters and the files:
/// its content type (with the boundary) and bytes.
pub(crate) fn multipart(signed: &SignedParams, files: &[FilePart]) -> (String, Vec<u8>) {
    use std::hash::{BuildHasher, Hasher};
    // A boundary that occurs in no part: lengthen it until it does not.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let mut boundary = format!("miva-rs-{random:016x}");
    while files.iter().any(|f| {
        f.bytes
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
    }) || signed.iter().any(|(_, v)| v.contains(&boundary))
    {
        boundary.push('x');
    }
    let mut body = Vec::new();
    let quote = |s: &str| s.replace(['"', '\r', '\n'], "_");
    for (name, value) in signed.iter() {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n",
                quote(name)
            )
            .as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for file in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                quote(&file.name),
                quote(&file.file_name)
            )
            .as_bytes(),
        );
        body.extend_from_slice(&file.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_errors_display_code_message_and_request_id() {
        let e = PlatformError::new("IncompleteSignature", "bad sign")
            .with_type(Some("ISV"))
            .with_request_id(Some("r1"));
        assert_eq!(e.to_string(), "IncompleteSignature: bad sign (r1)");
        // Some gateways send a bare code.
        assert_eq!(
            PlatformError::new("IncompleteSignature", "").to_string(),
            "IncompleteSignature (the platform gave no message)"
        );
        assert!(PlatformError::new("ApiCallLimit", "").is_rate_limited());
        assert!(!PlatformError::new("IllegalAccessToken", "").is_rate_limited());
        assert!(PlatformError::new("InvalidTimestamp", "").is_timestamp_refused());
    }

    #[test]
    fn answers_decode_to_values_or_typed_errors() {
        let ok = decode(RawResponse::new(200, br#"{"code":"0","data":1}"#.to_vec()));
        assert_eq!(ok.ok().map(|v| v["data"].clone()), Some(Value::from(1)));
        // Token answers have no code: success.
        assert!(decode(RawResponse::new(200, br#"{"access_token":"x"}"#.to_vec())).is_ok());
        let limit = decode(RawResponse::new(
            200,
            br#"{"type":"ISV","code":"AppCallLimit","message":"slow down","request_id":"r"}"#
                .to_vec(),
        ));
        assert!(
            matches!(&limit, Err(Error::Miravia(e)) if e.is_rate_limited()),
            "{limit:?}"
        );
        assert!(matches!(
            decode(RawResponse::new(200, Vec::new())),
            Err(Error::EmptyResponse { status: 200, .. })
        ));
        assert!(matches!(
            decode(RawResponse::new(502, b"<html>bad gateway</html>".to_vec())),
            Err(Error::HttpStatus { status: 502, .. })
        ));
        assert!(matches!(
            decode(RawResponse::new(200, b"<html>".to_vec())),
            Err(Error::Undecodable { status: 200, .. })
        ));
        let redirect = decode(
            RawResponse::new(302, Vec::new())
                .with_header("Location", "https://login.example/?access_token=SECRET"),
        );
        match redirect {
            Err(Error::Redirect {
                status: 302,
                location,
            }) => {
                assert!(!location.unwrap_or_default().contains("SECRET"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tokens_hide_their_secrets_and_track_both_expiries() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let value = serde_json::json!({"access_token": "A-SECRET", "refresh_token": "R-SECRET",
            "expires_in": 60, "refresh_expires_in": "120", "country": "es"});
        let token = Token::from_response(value, now).unwrap();
        assert_eq!(token.access_token(), "A-SECRET");
        assert_eq!(token.refresh_token(), Some("R-SECRET"));
        assert_eq!(token.expires_at, Some(now + Duration::from_secs(60)));
        assert_eq!(
            token.refresh_expires_at,
            Some(now + Duration::from_secs(120))
        );
        assert_eq!(token.details["country"], "es");
        assert!(token.details.get("access_token").is_none());
        let shown = format!("{token:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(Token::from_response(serde_json::json!({"code": "0"}), now).is_err());
    }
}
