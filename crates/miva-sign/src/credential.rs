//! Credentials and the `X-Miva-API-Authorization` header they produce.

use std::fmt;

use hmac::{KeyInit, Mac};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};
use crate::rsa_key::{RsaDigest, RsaPrivateKey};
use crate::secrets::{ApiToken, SigningKey};
use crate::{HEADER_NAME, base64};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The hash of an HMAC signature, and so the header's scheme name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HmacDigest {
    /// `MIVA-HMAC-SHA256` (the default everywhere).
    #[default]
    Sha256,
    /// `MIVA-HMAC-SHA1`.
    Sha1,
}

impl HmacDigest {
    /// Reads `sha256` or `sha1` (any case).
    ///
    /// # Errors
    /// [`ErrorKind::UnknownDigest`] naming the accepted values.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" => Ok(Self::Sha256),
            "sha1" | "sha-1" => Ok(Self::Sha1),
            other => Err(Error::new(
                ErrorKind::UnknownDigest,
                format!("HMAC digest {other:?} is not supported: use sha256 or sha1"),
            )),
        }
    }

    /// The scheme word that starts the header value.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Sha256 => "MIVA-HMAC-SHA256",
            Self::Sha1 => "MIVA-HMAC-SHA1",
        }
    }
}

/// HMAC state already keyed with the signing key: cloned for each request
/// so the key schedule is computed once per credential.
#[derive(Clone)]
pub(crate) enum KeyedHmac {
    Sha256(HmacSha256),
    Sha1(HmacSha1),
}

impl KeyedHmac {
    pub(crate) fn new(key: &SigningKey, digest: HmacDigest) -> Self {
        // HMAC accepts keys of any length, so these cannot fail; the
        // fallbacks keep the code panic-free regardless.
        match digest {
            HmacDigest::Sha256 => Self::Sha256(
                <HmacSha256 as KeyInit>::new_from_slice(key.bytes())
                    .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default())),
            ),
            HmacDigest::Sha1 => Self::Sha1(
                <HmacSha1 as KeyInit>::new_from_slice(key.bytes())
                    .unwrap_or_else(|_| <HmacSha1 as KeyInit>::new(&Default::default())),
            ),
        }
    }

    /// Appends base64(HMAC(body)) to `out`.
    pub(crate) fn sign_into(&self, body: &[u8], out: &mut String) {
        match self {
            Self::Sha256(mac) => {
                let mut mac = mac.clone();
                mac.update(body);
                base64::encode_into(&mac.finalize().into_bytes(), out);
            }
            Self::Sha1(mac) => {
                let mut mac = mac.clone();
                mac.update(body);
                base64::encode_into(&mac.finalize().into_bytes(), out);
            }
        }
    }

    /// Constant-time check of `signature` against HMAC(body).
    pub(crate) fn verify(&self, body: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Sha256(mac) => {
                let mut mac = mac.clone();
                mac.update(body);
                mac.verify_slice(signature).is_ok()
            }
            Self::Sha1(mac) => {
                let mut mac = mac.clone();
                mac.update(body);
                mac.verify_slice(signature).is_ok()
            }
        }
    }
}

/// A token with its HMAC signing key: the `MIVA-HMAC-SHA256` /
/// `MIVA-HMAC-SHA1` scheme.
#[derive(Clone)]
pub struct HmacCredential {
    token: ApiToken,
    digest: HmacDigest,
    keyed: KeyedHmac,
}

impl HmacCredential {
    /// Builds the credential; the HMAC key schedule is computed here, once.
    pub fn new(token: ApiToken, signing_key: &SigningKey, digest: HmacDigest) -> Self {
        Self {
            keyed: KeyedHmac::new(signing_key, digest),
            token,
            digest,
        }
    }

    /// The digest this credential signs with.
    pub fn digest(&self) -> HmacDigest {
        self.digest
    }
}

impl fmt::Debug for HmacCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacCredential")
            .field("token", &self.token)
            .field("signing_key", &format_args!("<redacted>"))
            .field("digest", &self.digest)
            .finish()
    }
}

/// An SSH user with an RSA private key: the `SSH-RSA-SHA2-256` /
/// `SSH-RSA-SHA2-512` scheme.
pub struct SshCredential {
    username_b64: String,
    username: String,
    key: RsaPrivateKey,
    digest: RsaDigest,
}

impl SshCredential {
    /// Builds the credential for the Miva admin user `username` (any UTF-8;
    /// it travels base64-encoded).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidUsername`] when the username is empty.
    pub fn new(username: &str, key: RsaPrivateKey, digest: RsaDigest) -> Result<Self, Error> {
        if username.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidUsername,
                "SSH username is empty: give the Miva admin user the key belongs to",
            ));
        }
        Ok(Self {
            username_b64: base64::encode(username.as_bytes()),
            username: username.to_owned(),
            key,
            digest,
        })
    }

    /// The Miva admin username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The digest this credential signs with.
    pub fn digest(&self) -> RsaDigest {
        self.digest
    }

    /// The private key.
    pub fn key(&self) -> &RsaPrivateKey {
        &self.key
    }
}

impl fmt::Debug for SshCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshCredential")
            .field("username", &self.username)
            .field("key", &self.key)
            .field("digest", &self.digest)
            .finish()
    }
}

/// Signs with an RSA private key that this process does not hold: an SSH
/// agent (crate `miva-ssh-agent`), a hardware token. Implementations do the
/// I/O; this crate stays free of it.
pub trait RsaSigner: Send + Sync + fmt::Debug {
    /// The RSASSA-PKCS1-v1_5 signature of `message` over SHA-256 or
    /// SHA-512, exactly as [`RsaPrivateKey::sign`] would make it.
    ///
    /// # Errors
    /// Whatever stops the signer, best as
    /// [`Error::external_signer`] with a message that says what to do.
    fn sign(&self, digest: RsaDigest, message: &[u8]) -> Result<Vec<u8>, Error>;
}

impl RsaSigner for RsaPrivateKey {
    fn sign(&self, digest: RsaDigest, message: &[u8]) -> Result<Vec<u8>, Error> {
        RsaPrivateKey::sign(self, digest, message)
    }
}

/// An SSH user whose key is held by an [`RsaSigner`] (an SSH agent, ...).
pub struct ExternalSshCredential {
    username_b64: String,
    username: String,
    signer: std::sync::Arc<dyn RsaSigner>,
    digest: RsaDigest,
}

impl ExternalSshCredential {
    /// The Miva admin username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The digest this credential signs with.
    pub fn digest(&self) -> RsaDigest {
        self.digest
    }
}

impl fmt::Debug for ExternalSshCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalSshCredential")
            .field("username", &self.username)
            .field("signer", &self.signer)
            .field("digest", &self.digest)
            .finish()
    }
}

/// Anything that can authorize a Miva JSON API request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Credential {
    /// Token only: `MIVA <token>`. No signature; use only where the store
    /// does not require one.
    Token(ApiToken),
    /// Token and HMAC signature over the body.
    Hmac(HmacCredential),
    /// SSH user and RSA signature over the body.
    Ssh(SshCredential),
    /// SSH user whose RSA signature comes from an external signer.
    SshExternal(ExternalSshCredential),
}

impl Credential {
    /// Token-only credential.
    pub fn token(token: ApiToken) -> Self {
        Self::Token(token)
    }

    /// Token + HMAC credential.
    pub fn hmac(token: ApiToken, signing_key: &SigningKey, digest: HmacDigest) -> Self {
        Self::Hmac(HmacCredential::new(token, signing_key, digest))
    }

    /// SSH RSA credential.
    ///
    /// # Errors
    /// See [`SshCredential::new`].
    pub fn ssh(username: &str, key: RsaPrivateKey, digest: RsaDigest) -> Result<Self, Error> {
        SshCredential::new(username, key, digest).map(Self::Ssh)
    }

    /// SSH RSA credential whose signatures come from `signer` (an SSH
    /// agent, ...): the same header as [`Credential::ssh`] with the key.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidUsername`] when the username is empty.
    pub fn ssh_external(
        username: &str,
        signer: std::sync::Arc<dyn RsaSigner>,
        digest: RsaDigest,
    ) -> Result<Self, Error> {
        if username.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidUsername,
                "SSH username is empty: give the Miva admin user the key belongs to",
            ));
        }
        Ok(Self::SshExternal(ExternalSshCredential {
            username_b64: base64::encode(username.as_bytes()),
            username: username.to_owned(),
            signer,
            digest,
        }))
    }

    /// The authorization header for a request whose body is exactly `body`
    /// (the bytes that go on the wire: serialize once, sign those bytes,
    /// send those bytes).
    ///
    /// # Errors
    /// Only SSH signing can fail ([`ErrorKind::Crypto`]); token and HMAC
    /// headers always succeed.
    pub fn authorize(&self, body: &[u8]) -> Result<AuthorizationHeader, Error> {
        let value = match self {
            Self::Token(token) => {
                let mut v = String::with_capacity(5 + token.expose().len());
                v.push_str("MIVA ");
                v.push_str(token.expose());
                v
            }
            Self::Hmac(cred) => {
                let token = cred.token.expose();
                let scheme = cred.digest.scheme();
                let mut v = String::with_capacity(scheme.len() + token.len() + 2 + 44);
                v.push_str(scheme);
                v.push(' ');
                v.push_str(token);
                v.push(':');
                cred.keyed.sign_into(body, &mut v);
                v
            }
            Self::Ssh(cred) => {
                let signature = Zeroizing::new(cred.key.sign(cred.digest, body)?);
                ssh_value(cred.digest, &cred.username_b64, &signature)
            }
            Self::SshExternal(cred) => {
                let signature = Zeroizing::new(cred.signer.sign(cred.digest, body)?);
                ssh_value(cred.digest, &cred.username_b64, &signature)
            }
        };
        Ok(AuthorizationHeader {
            value: Zeroizing::new(value),
        })
    }
}

/// `SSH-RSA-SHA2-256 <base64 user>:<base64 signature>`.
fn ssh_value(digest: RsaDigest, username_b64: &str, signature: &[u8]) -> String {
    let scheme = digest.scheme();
    let mut v =
        String::with_capacity(scheme.len() + username_b64.len() + 2 + signature.len() * 4 / 3 + 4);
    v.push_str(scheme);
    v.push(' ');
    v.push_str(username_b64);
    v.push(':');
    base64::encode_into(signature, &mut v);
    v
}

/// A header to add to the request: name, value, and the fact that the value
/// is sensitive (it carries the token or user and a signature).
///
/// Applying it to a request is the caller's job; `Debug` redacts the value.
pub struct AuthorizationHeader {
    value: Zeroizing<String>,
}

impl AuthorizationHeader {
    /// `X-Miva-API-Authorization`.
    pub fn name(&self) -> &'static str {
        HEADER_NAME
    }

    /// The header value, e.g. `MIVA-HMAC-SHA256 <token>:<base64 signature>`.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Always `true`: HTTP libraries that support it should mark the header
    /// sensitive so it is never logged.
    pub fn sensitive(&self) -> bool {
        true
    }
}

impl fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationHeader")
            .field("name", &HEADER_NAME)
            .field("value", &format_args!("<redacted>"))
            .finish()
    }
}
