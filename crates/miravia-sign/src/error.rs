//! The crate's single error type.

use std::fmt;

/// Why signing, verifying or building a request failed.
///
/// The message names the field at fault and says what to do about it. It
/// never contains the app secret, the access token or any parameter value;
/// parameter names and the API path, which are not secret, may appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    EmptySecret,
    SecretWhitespace,
    EmptyAppKey,
    EmptyAccessToken,
    EmptyPartnerId,
    EmptyPath,
    PathWithoutSlash { path: String },
    PathBadChar { path: String, ch: char },
    EmptyParamName,
    DuplicateParam { name: String },
    ReservedParam { name: &'static str },
    TimestampBeforeEpoch,
    TimestampOutOfRange,
    SignatureLength { len: usize },
    SignatureNotHex { position: usize },
    SignatureMismatch,
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Self { kind }
    }

    /// `true` when [`verify`](crate::verify) found a well-formed signature
    /// that does not match the request: a wrong secret, or parameters, path
    /// or body that differ from what was signed.
    ///
    /// Every other error means the input could not be checked at all.
    pub fn is_signature_mismatch(&self) -> bool {
        self.kind == Kind::SignatureMismatch
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::EmptySecret => f.write_str(
                "app secret is empty: copy the App Secret of your application \
                 from the Open Platform console",
            ),
            Kind::SecretWhitespace => f.write_str(
                "app secret starts or ends with whitespace (often a newline copied \
                 along with it): remove it, an App Secret never contains any",
            ),
            Kind::EmptyAppKey => f.write_str(
                "app_key is empty: copy the App Key of your application from the \
                 Open Platform console",
            ),
            Kind::EmptyAccessToken => f.write_str(
                "access_token is empty: pass the seller's access token, or leave it \
                 out for calls that need no seller authorization",
            ),
            Kind::EmptyPartnerId => f.write_str(
                "partner_id is empty: pass an identifier of your client, or leave it out",
            ),
            Kind::EmptyPath => f.write_str(
                "API path is empty: pass the API name starting with '/', \
                 e.g. \"/order/get\"",
            ),
            Kind::PathWithoutSlash { path } => write!(
                f,
                "API path {path:?} does not start with '/': pass the API name as \
                 documented, e.g. \"/order/get\" (the part of the URL after \"/rest\")",
            ),
            Kind::PathBadChar { path, ch } => write!(
                f,
                "API path {path:?} contains {}, which no API name has: pass only \
                 the path (e.g. \"/order/get\"), without query string, fragment \
                 or spaces",
                describe_char(*ch),
            ),
            Kind::EmptyParamName => {
                f.write_str("a parameter has an empty name: every parameter needs a name")
            }
            Kind::DuplicateParam { name } => write!(
                f,
                "parameter {name:?} is given more than once: the signature covers \
                 one value per name, so pass it once",
            ),
            Kind::ReservedParam { name } => write!(
                f,
                "parameter {name:?} is a system parameter that the request signer \
                 sets itself: remove it from the business parameters",
            ),
            Kind::TimestampBeforeEpoch => {
                f.write_str("timestamp is before 1970-01-01T00:00:00Z: pass the current time")
            }
            Kind::TimestampOutOfRange => f.write_str(
                "timestamp is too far in the future to fit in 64-bit milliseconds: \
                 pass the current time",
            ),
            Kind::SignatureLength { len } => write!(
                f,
                "sign has {len} characters, but an HMAC-SHA256 signature is \
                 64 hexadecimal digits: pass the whole `sign` value",
            ),
            Kind::SignatureNotHex { position } => write!(
                f,
                "sign has a character that is not a hexadecimal digit at position \
                 {position}: pass the `sign` value unchanged (0-9, A-F)",
            ),
            Kind::SignatureMismatch => f.write_str(
                "sign does not match the request: the app secret, API path, \
                 parameters or body differ from those that were signed",
            ),
        }
    }
}

impl std::error::Error for Error {}

fn describe_char(ch: char) -> String {
    if ch.is_ascii_graphic() {
        format!("'{ch}'")
    } else {
        format!("U+{:04X}", u32::from(ch))
    }
}
