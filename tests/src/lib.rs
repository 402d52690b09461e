//! The published test vectors of `miva-sign` and `miravia-sign`: the file
//! schema, its one loader, and the runner used by both `cargo test` and
//! `cargo xtask vectors FILE...`.
//!
//! A vector file is JSON with a required `source` (where the expected values
//! come from) and four optional sections. Unknown sections and fields are
//! errors, never silently skipped:
//!
//! ```json
//! { "source": "where these come from",
//!   "miva_token": [{"name": "", "token": "", "header_name": "", "header_value": ""}],
//!   "miva_hmac":  [{"name": "", "token": "", "signing_key": "", "digest": "sha256|sha1",
//!                   "body": "", "header_name": "", "header_value": ""}],
//!   "miva_ssh":   [{"name": "", "username": "", "private_key": "PEM or OpenSSH text",
//!                   "passphrase": "optional", "digest": "sha256|sha512", "body": "",
//!                   "header_name": "", "header_value": ""}],
//!   "miravia":    [{"name": "", "secret": "", "api_path": "", "params": {"k": "v"},
//!                   "body": "string or null", "sign": "HEX"}] }
//! ```
//!
//! For every vector the runner signs through the crates' public API and
//! compares; Miva vectors are also checked with the verifying API.
//!
//! ```
//! let text = r#"{"source": "wire-facts.md",
//!   "miva_token": [{"name": "doc", "token": "0f90f77b58ca98836eba3d50f526f523",
//!     "header_name": "X-Miva-API-Authorization",
//!     "header_value": "MIVA 0f90f77b58ca98836eba3d50f526f523"}]}"#;
//! let file = sdk_vectors::VectorFile::parse(text)?;
//! let report = sdk_vectors::run(&file);
//! assert_eq!((report.passed(), report.failed()), (1, 0));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use miva_sign::{
    ApiToken, Credential, HEADER_NAME, HmacDigest, RsaDigest, RsaPrivateKey, SigningKey, Verifier,
};
use serde::Deserialize;

/// One vector file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// Where the expected values come from.
    pub source: String,
    /// Token-only Miva headers.
    #[serde(default)]
    pub miva_token: Vec<MivaToken>,
    /// Miva HMAC headers.
    #[serde(default)]
    pub miva_hmac: Vec<MivaHmac>,
    /// Miva SSH RSA headers.
    #[serde(default)]
    pub miva_ssh: Vec<MivaSsh>,
    /// Miravia signatures.
    #[serde(default)]
    pub miravia: Vec<Miravia>,
}

/// A `MIVA <token>` header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MivaToken {
    /// Vector name.
    pub name: String,
    /// API token.
    pub token: String,
    /// Expected header name.
    pub header_name: String,
    /// Expected header value.
    pub header_value: String,
}

/// A `MIVA-HMAC-*` header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MivaHmac {
    /// Vector name.
    pub name: String,
    /// API token.
    pub token: String,
    /// Base64 signing key, as the admin shows it.
    pub signing_key: String,
    /// `sha256` or `sha1`.
    pub digest: String,
    /// The exact UTF-8 text that is signed.
    pub body: String,
    /// Expected header name.
    pub header_name: String,
    /// Expected header value.
    pub header_value: String,
}

/// An `SSH-RSA-SHA2-*` header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MivaSsh {
    /// Vector name.
    pub name: String,
    /// Miva admin username.
    pub username: String,
    /// PEM or OpenSSH private key text.
    pub private_key: String,
    /// Passphrase of an encrypted key.
    #[serde(default)]
    pub passphrase: Option<String>,
    /// `sha256` or `sha512`.
    pub digest: String,
    /// The exact UTF-8 text that is signed.
    pub body: String,
    /// Expected header name.
    pub header_name: String,
    /// Expected header value.
    pub header_value: String,
}

/// A Miravia / Lazada signature.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Miravia {
    /// Vector name.
    pub name: String,
    /// App secret.
    pub secret: String,
    /// API path, e.g. `/order/get`.
    pub api_path: String,
    /// Every text parameter, system ones included.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Body appended to the string to sign, if any.
    #[serde(default)]
    pub body: Option<String>,
    /// Expected signature, hex.
    pub sign: String,
}

impl VectorFile {
    /// Parses a vector file's text.
    ///
    /// # Errors
    /// A JSON or schema error (unknown section or field, wrong type, missing
    /// field), with its line and column.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Reads and parses a vector file.
    ///
    /// # Errors
    /// A sentence naming the file and what is wrong with it.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: not a vector file: {e}", path.display()))
    }

    /// Number of vectors in all sections.
    pub fn len(&self) -> usize {
        self.miva_token.len() + self.miva_hmac.len() + self.miva_ssh.len() + self.miravia.len()
    }

    /// Whether the file has no vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One vector that did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `section/name`.
    pub name: String,
    /// What the vector expects.
    pub expected: String,
    /// What the crates produced, or the error they returned.
    pub got: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FAIL {}: expected {:?}, got {:?}",
            self.name, self.expected, self.got
        )
    }
}

/// The outcome of running one file.
#[derive(Debug, Default)]
pub struct Report {
    passed: usize,
    /// Vectors that failed, in file order.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Vectors that passed.
    pub fn passed(&self) -> usize {
        self.passed
    }

    /// Vectors that failed.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    fn record(&mut self, section: &str, name: &str, expected: &str, got: Result<String, String>) {
        match got {
            Ok(got) if got == expected => self.passed += 1,
            Ok(got) | Err(got) => self.failures.push(Failure {
                name: format!("{section}/{name}"),
                expected: expected.to_owned(),
                got,
            }),
        }
    }

    /// Adds another report's counts to this one.
    pub fn merge(&mut self, other: Report) {
        self.passed += other.passed;
        self.failures.extend(other.failures);
    }
}

/// Runs every vector of `file` through the public APIs.
pub fn run(file: &VectorFile) -> Report {
    let mut report = Report::default();
    for v in &file.miva_token {
        let expected = header_line(&v.header_name, &v.header_value);
        report.record("miva_token", &v.name, &expected, miva_token(v));
    }
    for v in &file.miva_hmac {
        let expected = header_line(&v.header_name, &v.header_value);
        report.record("miva_hmac", &v.name, &expected, miva_hmac(v));
    }
    for v in &file.miva_ssh {
        let expected = header_line(&v.header_name, &v.header_value);
        report.record("miva_ssh", &v.name, &expected, miva_ssh(v));
    }
    for v in &file.miravia {
        report.record("miravia", &v.name, &v.sign.to_ascii_uppercase(), miravia(v));
    }
    report
}

fn header_line(name: &str, value: &str) -> String {
    // Header names compare without regard to case, as HTTP does.
    let name = if name.eq_ignore_ascii_case(HEADER_NAME) {
        HEADER_NAME
    } else {
        name
    };
    format!("{name}: {value}")
}

fn err(e: miva_sign::Error) -> String {
    format!("error: {e}")
}

/// Signs, then checks that the verifier accepts the *expected* header.
fn finish(
    header: &miva_sign::AuthorizationHeader,
    verifier: &Verifier,
    expected_value: &str,
    body: &[u8],
) -> Result<String, String> {
    let got = header_line(header.name(), header.value());
    if header.value() == expected_value {
        verifier
            .verify(expected_value, body)
            .map_err(|e| format!("signed as expected, but verification refused it: {e}"))?;
    }
    Ok(got)
}

fn miva_token(v: &MivaToken) -> Result<String, String> {
    let token = ApiToken::new(&v.token).map_err(err)?;
    let header = Credential::token(token.clone())
        .authorize(b"")
        .map_err(err)?;
    let mut verifier = Verifier::new();
    verifier.add_token(token, None);
    finish(&header, &verifier, &v.header_value, b"")
}

fn miva_hmac(v: &MivaHmac) -> Result<String, String> {
    let token = ApiToken::new(&v.token).map_err(err)?;
    let key = SigningKey::from_base64(&v.signing_key).map_err(err)?;
    let digest = HmacDigest::from_name(&v.digest).map_err(err)?;
    let header = Credential::hmac(token.clone(), &key, digest)
        .authorize(v.body.as_bytes())
        .map_err(err)?;
    let mut verifier = Verifier::new();
    verifier.add_token(token, Some(&key));
    finish(&header, &verifier, &v.header_value, v.body.as_bytes())
}

fn miva_ssh(v: &MivaSsh) -> Result<String, String> {
    let key = RsaPrivateKey::from_text(&v.private_key, v.passphrase.as_deref().map(str::as_bytes))
        .map_err(err)?;
    let digest = RsaDigest::from_name(&v.digest).map_err(err)?;
    let mut verifier = Verifier::new();
    verifier.add_ssh_user(&v.username, key.public_key().clone());
    let header = Credential::ssh(&v.username, key, digest)
        .map_err(err)?
        .authorize(v.body.as_bytes())
        .map_err(err)?;
    finish(&header, &verifier, &v.header_value, v.body.as_bytes())
}

fn miravia(v: &Miravia) -> Result<String, String> {
    let merr = |e: miravia_sign::Error| format!("error: {e}");
    let secret = miravia_sign::AppSecret::new(&v.secret).map_err(merr)?;
    let body = v.body.as_deref();
    let got = miravia_sign::sign(&secret, &v.api_path, &v.params, body).map_err(merr)?;
    let got = got.to_hex();
    if got.eq_ignore_ascii_case(&v.sign) {
        miravia_sign::verify(&secret, &v.api_path, &v.params, body, &v.sign)
            .map_err(|e| format!("signed as expected, but verification refused it: {e}"))?;
    }
    Ok(got)
}

/// The README's Rust examples, compiled and run as doc tests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
