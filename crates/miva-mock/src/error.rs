//! The one error type of this crate: starting the server and reading
//! credentials. (Errors *served* to clients are JSON, see [`crate::codes`].)

use std::fmt;

/// What went wrong, for code that reacts differently to each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials JSON (or a credential given in code) is unusable.
    Credentials,
    /// A [`MockConfig`](crate::MockConfig) value is unusable.
    Config,
    /// The listening socket could not be bound.
    Bind,
    /// The async runtime or the server thread could not be started.
    Runtime,
    /// The system random source failed while generating credentials.
    Random,
}

/// An error from [`MockServer::start`](crate::MockServer::start),
/// [`Credentials::from_json`](crate::Credentials::from_json) or
/// [`Credentials::generate`](crate::Credentials::generate).
///
/// `Display` says what was wrong and what to do; it never contains a token,
/// signing key or private key.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
