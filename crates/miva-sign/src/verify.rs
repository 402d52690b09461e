//! The verifying side: parse an authorization header, look up the
//! credential, check the signature. For servers (the mock store) and tests.

use std::collections::HashMap;
use std::fmt;

use crate::credential::{HmacDigest, KeyedHmac};
use crate::error::{Error, ErrorKind};
use crate::rsa_key::{RsaDigest, RsaPublicKey};
use crate::secrets::{ApiToken, SigningKey};
use crate::{DOCUMENT_SSH_HEADER_NAME, HEADER_NAME, base64};

/// Longest header value accepted (a 16384-bit RSA signature fits easily).
const MAX_HEADER_LEN: usize = 8192;

/// Whether `name` is a header that carries Miva authorization: the
/// `X-Miva-API-Authorization` every SDK sends, or the
/// `X-Miva-API-Authentication` the getting-started document names for SSH.
/// Case-insensitive, as HTTP header names are.
pub fn is_authorization_header(name: &str) -> bool {
    name.eq_ignore_ascii_case(HEADER_NAME) || name.eq_ignore_ascii_case(DOCUMENT_SSH_HEADER_NAME)
}

/// The scheme named at the start of a header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `MIVA <token>`.
    Token,
    /// `MIVA-HMAC-SHA256` or `MIVA-HMAC-SHA1`.
    Hmac(HmacDigest),
    /// `SSH-RSA-SHA2-256` or `SSH-RSA-SHA2-512`.
    Ssh(RsaDigest),
}

impl Scheme {
    fn from_word(word: &str) -> Option<Self> {
        [
            Self::Token,
            Self::Hmac(HmacDigest::Sha256),
            Self::Hmac(HmacDigest::Sha1),
            Self::Ssh(RsaDigest::Sha256),
            Self::Ssh(RsaDigest::Sha512),
        ]
        .into_iter()
        .find(|s| s.word().eq_ignore_ascii_case(word))
    }

    /// The scheme word as it appears in the header.
    pub fn word(self) -> &'static str {
        match self {
            Self::Token => "MIVA",
            Self::Hmac(d) => d.scheme(),
            Self::Ssh(d) => d.scheme(),
        }
    }
}

/// A parsed header value. `Debug` shows the scheme only.
pub struct ParsedAuthorization {
    scheme: Scheme,
    /// The token, or the decoded SSH username.
    principal: String,
    signature: Option<Vec<u8>>,
}

impl ParsedAuthorization {
    /// Parses a header value such as `MIVA-HMAC-SHA256 <token>:<base64>`.
    ///
    /// # Errors
    /// [`ErrorKind::MalformedHeader`] saying which part is wrong; the value
    /// itself is never repeated (it carries a token).
    pub fn parse(value: &str) -> Result<Self, Error> {
        if value.len() > MAX_HEADER_LEN {
            return Err(malformed(format!(
                "the header value is {} bytes, more than the {MAX_HEADER_LEN} allowed",
                value.len()
            )));
        }
        let value = value.trim();
        let (word, rest) = value
            .split_once(' ')
            .ok_or_else(|| malformed("expected '<scheme> <credential>', found no space"))?;
        let scheme = Scheme::from_word(word).ok_or_else(|| {
            malformed(
                "unknown scheme: expected MIVA, MIVA-HMAC-SHA256, MIVA-HMAC-SHA1, \
                 SSH-RSA-SHA2-256 or SSH-RSA-SHA2-512",
            )
        })?;
        let rest = rest.trim();
        match scheme {
            Scheme::Token => {
                let token = ApiToken::new(rest).map_err(|_| {
                    malformed("the MIVA scheme takes a token alone (no ':' or spaces)")
                })?;
                Ok(Self {
                    scheme,
                    principal: token.expose().to_owned(),
                    signature: None,
                })
            }
            Scheme::Hmac(_) | Scheme::Ssh(_) => {
                let (who, sig) = rest.split_once(':').ok_or_else(|| {
                    malformed(format!("{} needs '<id>:<base64 signature>'", scheme.word()))
                })?;
                let signature = base64::decode(sig)
                    .map_err(|e| {
                        malformed(format!("the signature is not base64: {}", e.describe()))
                    })?
                    .to_vec();
                let principal = if let Scheme::Ssh(_) = scheme {
                    let raw = base64::decode(who).map_err(|e| {
                        malformed(format!("the SSH username is not base64: {}", e.describe()))
                    })?;
                    String::from_utf8(raw.to_vec())
                        .map_err(|_| malformed("the SSH username is not UTF-8 once decoded"))?
                } else {
                    ApiToken::new(who)
                        .map_err(|_| malformed("the token before ':' is empty or has spaces"))?
                        .expose()
                        .to_owned()
                };
                Ok(Self {
                    scheme,
                    principal,
                    signature: Some(signature),
                })
            }
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The SSH username for SSH schemes; `None` for token schemes (the token
    /// is a secret and is not handed out).
    pub fn ssh_username(&self) -> Option<&str> {
        matches!(self.scheme, Scheme::Ssh(_)).then_some(self.principal.as_str())
    }
}

impl fmt::Debug for ParsedAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuthorization")
            .field("scheme", &self.scheme)
            .field("principal", &format_args!("<redacted>"))
            .field("signature", &format_args!("<redacted>"))
            .finish()
    }
}

/// Who a verified request came from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Principal {
    /// An API token (redacted in `Debug`).
    Token(ApiToken),
    /// A Miva admin user authenticated by SSH key.
    SshUser(String),
}

/// The outcome of a successful verification.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The scheme the request used.
    pub scheme: Scheme,
    /// Who sent it.
    pub principal: Principal,
}

struct TokenEntry {
    token: ApiToken,
    keys: Option<(KeyedHmac, KeyedHmac)>,
}

/// Checks authorization headers against known tokens and SSH users.
///
/// A token registered with a signing key must be used with an HMAC scheme
/// (either digest); one registered without a key must be used with `MIVA
/// <token>`. HMAC signatures are compared in constant time.
#[derive(Default)]
pub struct Verifier {
    tokens: HashMap<String, TokenEntry>,
    users: HashMap<String, RsaPublicKey>,
}

impl Verifier {
    /// An empty verifier: it knows nobody.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a token, with the signing key it must sign with, if any.
    pub fn add_token(&mut self, token: ApiToken, signing_key: Option<&SigningKey>) {
        let keys = signing_key.map(|key| {
            (
                KeyedHmac::new(key, HmacDigest::Sha256),
                KeyedHmac::new(key, HmacDigest::Sha1),
            )
        });
        self.tokens
            .insert(token.expose().to_owned(), TokenEntry { token, keys });
    }

    /// Registers an SSH user and their public key.
    pub fn add_ssh_user(&mut self, username: &str, key: RsaPublicKey) {
        self.users.insert(username.to_owned(), key);
    }

    /// Verifies the header value for a request whose body is `body`.
    ///
    /// # Errors
    /// [`ErrorKind::MalformedHeader`], [`ErrorKind::UnknownToken`],
    /// [`ErrorKind::UnknownUser`], [`ErrorKind::SchemeMismatch`] or
    /// [`ErrorKind::BadSignature`].
    pub fn verify(&self, header_value: &str, body: &[u8]) -> Result<Verified, Error> {
        let parsed = ParsedAuthorization::parse(header_value)?;
        match parsed.scheme {
            Scheme::Token | Scheme::Hmac(_) => {
                let entry = self.tokens.get(&parsed.principal).ok_or_else(|| {
                    Error::new(ErrorKind::UnknownToken, "the API token is not known")
                })?;
                match (parsed.scheme, &entry.keys, &parsed.signature) {
                    (Scheme::Token, None, _) => {}
                    (Scheme::Token, Some(_), _) => {
                        return Err(Error::new(
                            ErrorKind::SchemeMismatch,
                            "this token requires an HMAC signature (MIVA-HMAC-SHA256 or \
                             MIVA-HMAC-SHA1), but the header has none",
                        ));
                    }
                    (Scheme::Hmac(_), None, _) => {
                        return Err(Error::new(
                            ErrorKind::SchemeMismatch,
                            "this token has no signing key: send 'MIVA <token>'",
                        ));
                    }
                    (Scheme::Hmac(digest), Some((sha256, sha1)), Some(sig)) => {
                        let keyed = match digest {
                            HmacDigest::Sha256 => sha256,
                            HmacDigest::Sha1 => sha1,
                        };
                        if !keyed.verify(body, sig) {
                            return Err(Error::new(
                                ErrorKind::BadSignature,
                                format!(
                                    "the {} signature does not match the body",
                                    digest.scheme()
                                ),
                            ));
                        }
                    }
                    _ => return Err(malformed("the HMAC signature is missing")),
                }
                Ok(Verified {
                    scheme: parsed.scheme,
                    principal: Principal::Token(entry.token.clone()),
                })
            }
            Scheme::Ssh(digest) => {
                let key = self.users.get(&parsed.principal).ok_or_else(|| {
                    Error::new(
                        ErrorKind::UnknownUser,
                        format!("the SSH user {:?} is not known", parsed.principal),
                    )
                })?;
                let sig = parsed
                    .signature
                    .as_deref()
                    .ok_or_else(|| malformed("the SSH signature is missing"))?;
                key.verify(digest, body, sig)?;
                Ok(Verified {
                    scheme: parsed.scheme,
                    principal: Principal::SshUser(parsed.principal),
                })
            }
        }
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("tokens", &self.tokens.len())
            .field("ssh_users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn malformed(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::MalformedHeader, message.into())
}
