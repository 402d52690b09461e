//! What the Miravia / Lazada side of the core decides about an answer.

use std::fmt;

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
}
