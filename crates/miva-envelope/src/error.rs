//! The error of encoding a request or decoding a response.

use std::fmt;

/// A request could not be encoded, or a response could not be decoded.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    path: Option<String>,
}

/// What kind of problem an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The parameters of a request do not serialize to a JSON object.
    Params,
    /// The response is not JSON, or not the shape the API sends.
    Decode,
    /// A `Content-Range` header is not `<completed>/<total>`.
    ContentRange,
    /// A list query names a column or filter its function does not have.
    UnknownColumn,
    /// A response holds an integer outside the 64-bit range, which would
    /// be read as a rounded float; [`Error::path`] names where.
    InexactInteger,
    /// A response's decoded form would take more memory than allowed
    /// ([`crate::decode_response_within`]).
    TooLarge,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            path: None,
        }
    }

    pub(crate) fn with_path(mut self, path: String) -> Self {
        self.path = Some(path);
        self
    }

    /// The JSON path of the value the error is about (`data.data[3].id`),
    /// when it is about one.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    pub(crate) fn decode(e: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Decode, e.to_string())
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
