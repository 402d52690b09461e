//! The one error type of this crate.

use std::fmt;

/// What went wrong, for code that needs to react differently to each case.
///
/// The human-readable detail (which field, which character, what to do) is
/// in the [`Error`]'s `Display`; it never contains a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The API token is empty or has characters a header cannot carry.
    InvalidToken,
    /// The signing key is empty or not base64.
    InvalidSigningKey,
    /// The SSH username is empty.
    InvalidUsername,
    /// The private key text could not be read as a supported RSA key.
    InvalidPrivateKey,
    /// The private key is encrypted and no passphrase was given.
    PassphraseRequired,
    /// The passphrase does not decrypt the private key.
    WrongPassphrase,
    /// The key is not RSA (ed25519, ECDSA, DSA): Miva accepts RSA only.
    UnsupportedKeyType,
    /// The RSA key is shorter than 2048 bits.
    KeyTooSmall,
    /// The RSA key is longer than 8192 bits.
    KeyTooLarge,
    /// The public key could not be read.
    InvalidPublicKey,
    /// The digest name is not one this scheme supports.
    UnknownDigest,
    /// The authorization header could not be parsed.
    MalformedHeader,
    /// (Verifying) the header names a token the verifier does not know.
    UnknownToken,
    /// (Verifying) the header names an SSH user the verifier does not know.
    UnknownUser,
    /// (Verifying) the token needs an HMAC signature but the header has none,
    /// or has one for a token without a signing key.
    SchemeMismatch,
    /// (Verifying) the signature does not match the body.
    BadSignature,
    /// The cryptographic library failed (for example the system random
    /// source was unavailable while blinding an RSA signature).
    Crypto,
    /// A signer outside this crate (an SSH agent, ...) failed; the message
    /// is its own.
    ExternalSigner,
}

/// An error from building a credential, signing, or verifying.
///
/// `Display` says what was wrong and what to do about it. No secret (token,
/// signing key, private key, passphrase, signature) is ever part of it.
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// An error of an external [`RsaSigner`](crate::RsaSigner) (an SSH
    /// agent, a hardware key): `message` should say what failed and what to
    /// do, and must not contain a secret.
    pub fn external_signer(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ExternalSigner, message)
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
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
