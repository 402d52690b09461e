//! Sans-IO signing and verification for the Miva Merchant JSON API.
//!
//! Every request to a store's `json.mvc` endpoint carries an
//! `X-Miva-API-Authorization` header. This crate computes it from the exact
//! body bytes you are about to send, for every scheme Miva accepts:
//!
//! | scheme | header value | credential |
//! |---|---|---|
//! | token only | `MIVA <token>` | [`Credential::token`] |
//! | HMAC-SHA256 / HMAC-SHA1 | `MIVA-HMAC-SHA256 <token>:<base64 sig>` | [`Credential::hmac`] |
//! | SSH RSA SHA2-256 / SHA2-512 | `SSH-RSA-SHA2-256 <base64 user>:<base64 sig>` | [`Credential::ssh`] |
//!
//! It does no I/O and knows no HTTP library: you get a header name and value
//! ([`AuthorizationHeader`]) and put them on the request yourself. The
//! verifying side ([`Verifier`]) is here too, for servers and tests.
//!
//! Secrets (tokens, signing keys, private keys) are zeroized on drop and
//! never appear in `Debug`, `Display` or error messages.
//!
//! # Example
//!
//! ```
//! use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
//!
//! # fn main() -> Result<(), miva_sign::Error> {
//! // The signing key as copied from Users > API Tokens (often unpadded).
//! let key = SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ")?;
//! let token = ApiToken::new("0f90f77b58ca98836eba3d50f526f523")?;
//! let credential = Credential::hmac(token, &key, HmacDigest::Sha256);
//!
//! // Serialize once, sign those bytes, send those bytes.
//! let body = br#"{"Store_Code": "STORE", "Sort": "", "Offset": 0, "Count": 1, "Filter": [], "Function": "ProductList_Load_Query", "Miva_Request_Timestamp": 1700000000}"#;
//! let header = credential.authorize(body)?;
//! assert_eq!(header.name(), "X-Miva-API-Authorization");
//! assert_eq!(
//!     header.value(),
//!     "MIVA-HMAC-SHA256 0f90f77b58ca98836eba3d50f526f523:T7hwEUfGBqcRGS9SCHYlMXjgZwiNrzPNX88imOkxlV4="
//! );
//! # Ok(())
//! # }
//! ```
//!
//! SSH keys are read from PKCS#1, PKCS#8 (also encrypted) and OpenSSH files
//! with [`RsaPrivateKey::from_text`]; signatures are RSASSA-PKCS1-v1_5,
//! byte-identical to `openssl dgst -sha256 -sign key.pem`.
//!
//! # Features
//!
//! - `aws-lc` (off by default): RSA through AWS-LC instead of `ring`.
//!   Measured by `cargo xtask bench` on a machine with AVX-512, an RSA-2048
//!   header takes about 0.25 ms instead of 0.6 ms (OpenSSL: 0.26 ms). It
//!   needs a C compiler and adds about a minute to a clean build; HMAC and
//!   token credentials are unaffected. [`rsa_backend`] says which is in use.

mod base64;
mod credential;
mod error;
mod legacy_pem;
mod rsa_key;
mod secrets;
mod verify;

pub use credential::{
    AuthorizationHeader, Credential, ExternalSshCredential, HmacCredential, HmacDigest, RsaSigner,
    SshCredential,
};
pub use error::{Error, ErrorKind};
pub use rsa_key::{
    MAX_RSA_BITS, MIN_RSA_BITS, RsaDigest, RsaPrivateKey, RsaPublicKey, rsa_backend,
};
pub use secrets::{ApiToken, SigningKey};
pub use verify::{
    ParsedAuthorization, Principal, Scheme, Verified, Verifier, is_authorization_header,
};

/// The header every official SDK sends, for every scheme.
pub const HEADER_NAME: &str = "X-Miva-API-Authorization";

/// The header name the getting-started document writes for SSH. Servers
/// should accept it too; clients send [`HEADER_NAME`].
pub const DOCUMENT_SSH_HEADER_NAME: &str = "X-Miva-API-Authentication";
