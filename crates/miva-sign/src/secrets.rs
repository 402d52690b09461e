//! The secret values a Miva credential is made of: the API token and the
//! HMAC signing key. Both are zeroized on drop and redacted in `Debug`.

use std::fmt;

use zeroize::Zeroizing;

use crate::base64;
use crate::error::{Error, ErrorKind};

/// An API access token, as shown in the Miva admin under *Users > API Tokens*.
///
/// The token travels in every authorization header, so it is treated as a
/// secret: `Debug` prints `ApiToken(<redacted>)` and the memory is zeroized
/// on drop.
#[derive(Clone)]
pub struct ApiToken(Zeroizing<String>);

impl ApiToken {
    /// Checks and wraps a token.
    ///
    /// Leading and trailing whitespace (a copy-paste artefact) is removed. The
    /// token must be non-empty printable ASCII without spaces or `:` (the
    /// header uses `:` to separate the token from the signature).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidToken`], naming the offending position.
    pub fn new(token: &str) -> Result<Self, Error> {
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidToken,
                "API token is empty: copy it from Users > API Tokens in the Miva admin",
            ));
        }
        if let Some((index, ch)) = token
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic() || *c == ':')
        {
            let what = if ch == ':' {
                "':'".to_owned()
            } else {
                format!("U+{:04X}", u32::from(ch))
            };
            return Err(Error::new(
                ErrorKind::InvalidToken,
                format!(
                    "API token has {what} at position {}, which a token never contains: \
                     copy it again from Users > API Tokens",
                    index + 1
                ),
            ));
        }
        Ok(Self(Zeroizing::new(token.to_owned())))
    }

    /// The token text, for code that must put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// An HMAC signing key: the base64 text Miva's admin shows next to the token,
/// decoded.
///
/// [`SigningKey::from_base64`] accepts the standard and URL-safe alphabets,
/// with or without `=` padding (the admin usually shows it without). The key
/// bytes are zeroized on drop; `Debug` prints `SigningKey(<redacted>)`.
#[derive(Clone)]
pub struct SigningKey(Zeroizing<Vec<u8>>);

impl SigningKey {
    /// Decodes the base64 signing key copied from the Miva admin.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidSigningKey`] when the text is empty or is not
    /// base64; the message names the offending character and its position
    /// (never the key).
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = base64::decode(text).map_err(|e| {
            Error::new(
                ErrorKind::InvalidSigningKey,
                format!(
                    "signing key is not base64: {}; copy it again from Users > API Tokens \
                     in the Miva admin",
                    e.describe()
                ),
            )
        })?;
        Self::from_bytes(&bytes)
    }

    /// Wraps raw key bytes (already decoded).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidSigningKey`] when `bytes` is empty: an empty HMAC
    /// key would sign with no secret at all.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidSigningKey,
                "signing key is empty: copy it from Users > API Tokens in the Miva admin, \
                 or use the token-only scheme",
            ));
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_exactly() {
        let token = ApiToken::new("0f90f77b58ca98836eba3d50f526f523").unwrap();
        assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
        let key = SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ").unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
        assert_eq!(format!("{key:#?}"), "SigningKey(<redacted>)");
    }

    #[test]
    fn token_rules() {
        assert_eq!(ApiToken::new("  abc \n").unwrap().expose(), "abc");
        for bad in ["", "   ", "ab:cd", "ab cd", "abé"] {
            let err = ApiToken::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidToken, "{bad:?}");
        }
        let err = ApiToken::new("ab:cd").unwrap_err();
        assert!(err.to_string().contains("':' at position 3"), "{err}");
    }

    #[test]
    fn signing_key_errors_name_the_character_but_not_the_key() {
        let err =
            SigningKey::from_base64("NglO1/NYZeY%nID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSigningKey);
        let text = err.to_string();
        assert!(text.contains("'%' at position 12"), "{text}");
        assert!(!text.contains("NglO1"), "{text}");
        assert_eq!(
            SigningKey::from_base64("").unwrap_err().kind(),
            ErrorKind::InvalidSigningKey
        );
        assert_eq!(
            SigningKey::from_bytes(&[]).unwrap_err().kind(),
            ErrorKind::InvalidSigningKey
        );
    }
}
