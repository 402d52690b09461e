//! Sign Miva JSON API requests with an RSA key held by a running
//! `ssh-agent`, so the private key never enters this process.
//!
//! [`AgentSigner`] speaks the agent protocol over the agent's Unix socket
//! (`SSH_AUTH_SOCK`): it checks at construction that the agent holds the
//! key, asks for `rsa-sha2-256` or `rsa-sha2-512` signatures (never the
//! SHA-1 `ssh-rsa` kind), checks the kind of signature that comes back, and
//! opens a fresh connection for every signature, so any number of calls
//! work. It implements [`miva_sign::RsaSigner`]: wrap it in
//! [`Credential::ssh_external`](miva_sign::Credential::ssh_external) and
//! use the credential like any other. The headers are byte-identical to
//! those made from the private key file (RSASSA-PKCS1-v1_5 is
//! deterministic).
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use miva_sign::{Credential, RsaDigest};
//! use miva_ssh_agent::AgentSigner;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The public half of a key loaded with `ssh-add`.
//! let public_key = std::fs::read_to_string("/home/me/.ssh/miva_api.pub")?;
//! let signer = AgentSigner::from_env(&public_key)?; // SSH_AUTH_SOCK
//! let credential = Credential::ssh_external("api-user", Arc::new(signer), RsaDigest::Sha256)?;
//! let header = credential.authorize(br#"{"Function":"ProductList_Load_Query"}"#)?;
//! assert!(header.value().starts_with("SSH-RSA-SHA2-256 "));
//! # Ok(()) }
//! ```
//!
//! Every failure says what to do, before any request is sent:
//!
//! ```
//! use std::path::Path;
//! use miva_ssh_agent::{AgentSigner, Error};
//!
//! // A well-formed ssh-rsa line (e = 3, n = 0xC5), and no agent at that path.
//! let line = "ssh-rsa AAAAB3NzaC1yc2EAAAABAwAAAAHF me@laptop";
//! match AgentSigner::new(Path::new("/nonexistent/agent.sock"), line) {
//!     Err(e @ Error::Connect { .. }) => assert!(e.to_string().contains("is the agent running")),
//!     other => panic!("{other:?}"),
//! }
//! // Not an RSA key.
//! let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== me@laptop";
//! assert!(matches!(AgentSigner::new(Path::new("/tmp/x"), ed25519), Err(Error::BadPublicKey(_))));
//! ```
//!
//! The tests start a real `ssh-agent` with a key made by `ssh-keygen` and
//! compare its signatures with the private-key path.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64ct::Encoding as _;
use miva_sign::{RsaDigest, RsaSigner};

/// Agent protocol message numbers (draft-miller-ssh-agent).
const SSH_AGENT_FAILURE: u8 = 5;
const SSH2_AGENTC_REQUEST_IDENTITIES: u8 = 11;
const SSH2_AGENT_IDENTITIES_ANSWER: u8 = 12;
const SSH2_AGENTC_SIGN_REQUEST: u8 = 13;
const SSH2_AGENT_SIGN_RESPONSE: u8 = 14;
const SSH_AGENT_RSA_SHA2_256: u32 = 2;
const SSH_AGENT_RSA_SHA2_512: u32 = 4;
/// Largest agent reply read (an identities list of many keys fits).
const MAX_REPLY: u32 = 1024 * 1024;
/// How long one exchange with the agent may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why the agent could not sign. `Display` says what to do; no secret is
/// ever part of it (the agent never hands out private keys).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `SSH_AUTH_SOCK` is not set.
    NoAgent,
    /// The socket could not be reached.
    Connect {
        /// The socket path.
        socket: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The public key given is not an `ssh-rsa` public key line.
    BadPublicKey(String),
    /// The agent does not hold the key.
    UnknownKey {
        /// The socket path.
        socket: PathBuf,
        /// The key's comment, if the line had one.
        comment: String,
    },
    /// The agent answered SSH_AGENT_FAILURE to a signing request.
    AgentRefused,
    /// The agent's reply could not be read or makes no sense.
    Protocol(String),
    /// The agent signed with another algorithm than the one asked for.
    WrongSignatureType {
        /// What was asked for.
        expected: &'static str,
        /// What came back.
        got: String,
    },
    /// Reading from or writing to the agent failed.
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAgent => f.write_str(
                "SSH_AUTH_SOCK is not set: start an agent (eval \"$(ssh-agent)\"), add the key \
                 with ssh-add, or give the socket path",
            ),
            Self::Connect { socket, source } => write!(
                f,
                "cannot reach the ssh-agent at {}: {source} (is the agent running, and is \
                 SSH_AUTH_SOCK current?)",
                socket.display()
            ),
            Self::BadPublicKey(why) => write!(
                f,
                "the public key is not usable: {why}; give the `ssh-rsa AAAA... comment` line \
                 from the key's .pub file"
            ),
            Self::UnknownKey { socket, comment } => write!(
                f,
                "the ssh-agent at {} does not hold the key{}: add it with `ssh-add PATH`",
                socket.display(),
                if comment.is_empty() {
                    String::new()
                } else {
                    format!(" ({comment})")
                }
            ),
            Self::AgentRefused => f.write_str(
                "the ssh-agent refused to sign: the key was removed from it, has expired \
                 (ssh-add -t), or needs a confirmation that was declined (ssh-add -c)",
            ),
            Self::Protocol(why) => write!(f, "unexpected ssh-agent reply: {why}"),
            Self::WrongSignatureType { expected, got } => write!(
                f,
                "the ssh-agent signed with {got:?} instead of {expected:?}: it is too old for \
                 rsa-sha2 signatures; use OpenSSH 7.2 or later"
            ),
            Self::Io(e) => write!(f, "talking to the ssh-agent failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Io(source) => Some(source),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// A key held by an `ssh-agent`, used to sign Miva requests.
#[derive(Clone)]
pub struct AgentSigner {
    socket: PathBuf,
    /// The public key in SSH wire format (what the agent identifies it by).
    key_blob: Vec<u8>,
    comment: String,
}

impl fmt::Debug for AgentSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSigner")
            .field("socket", &self.socket)
            .field("key", &self.comment)
            .finish()
    }
}

impl AgentSigner {
    /// The agent at `SSH_AUTH_SOCK`, for the key whose public line
    /// (`ssh-rsa AAAA... comment`) is given.
    ///
    /// # Errors
    /// [`Error::NoAgent`], and as [`AgentSigner::new`].
    pub fn from_env(public_key: &str) -> Result<Self, Error> {
        let socket = std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .ok_or(Error::NoAgent)?;
        Self::new(Path::new(&socket), public_key)
    }

    /// The agent at `socket`, for the key whose public line is given. Checks
    /// now that the agent is reachable and holds the key.
    ///
    /// # Errors
    /// [`Error::BadPublicKey`], [`Error::Connect`], [`Error::UnknownKey`],
    /// [`Error::Protocol`].
    pub fn new(socket: &Path, public_key: &str) -> Result<Self, Error> {
        let (key_blob, comment) = parse_public_line(public_key)?;
        let signer = Self {
            socket: socket.to_owned(),
            key_blob,
            comment,
        };
        if !signer.identities()?.contains(&signer.key_blob) {
            return Err(Error::UnknownKey {
                socket: signer.socket.clone(),
                comment: signer.comment.clone(),
            });
        }
        Ok(signer)
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The public key blobs the agent holds.
    fn identities(&self) -> Result<Vec<Vec<u8>>, Error> {
        let reply = self.exchange(&[SSH2_AGENTC_REQUEST_IDENTITIES])?;
        let mut r = Reader(&reply);
        match r.byte()? {
            SSH2_AGENT_IDENTITIES_ANSWER => {}
            SSH_AGENT_FAILURE => return Err(Error::AgentRefused),
            other => {
                return Err(Error::Protocol(format!(
                    "message {other} in answer to a key list request"
                )));
            }
        }
        let n = r.u32()?;
        let mut keys = Vec::new();
        for _ in 0..n {
            keys.push(r.string()?.to_vec());
            r.string()?; // comment
        }
        Ok(keys)
    }

    /// Signs `message`; the signature bytes (the RSA part only).
    ///
    /// # Errors
    /// [`Error::Connect`], [`Error::AgentRefused`],
    /// [`Error::WrongSignatureType`], [`Error::Protocol`], [`Error::Io`].
    pub fn sign_message(&self, digest: RsaDigest, message: &[u8]) -> Result<Vec<u8>, Error> {
        let (flags, expected) = match digest {
            RsaDigest::Sha512 => (SSH_AGENT_RSA_SHA2_512, "rsa-sha2-512"),
            _ => (SSH_AGENT_RSA_SHA2_256, "rsa-sha2-256"),
        };
        let mut request = Vec::with_capacity(16 + self.key_blob.len() + message.len());
        request.push(SSH2_AGENTC_SIGN_REQUEST);
        put_string(&mut request, &self.key_blob)?;
        put_string(&mut request, message)?;
        request.extend_from_slice(&flags.to_be_bytes());
        let reply = self.exchange(&request)?;
        let mut r = Reader(&reply);
        match r.byte()? {
            SSH2_AGENT_SIGN_RESPONSE => {}
            SSH_AGENT_FAILURE => return Err(Error::AgentRefused),
            other => {
                return Err(Error::Protocol(format!(
                    "message {other} in answer to a signing request"
                )));
            }
        }
        let mut sig = Reader(r.string()?);
        let kind = String::from_utf8_lossy(sig.string()?).into_owned();
        if kind != expected {
            return Err(Error::WrongSignatureType {
                expected,
                got: kind,
            });
        }
        Ok(sig.string()?.to_vec())
    }

    /// One request, one reply, on a connection of its own.
    #[cfg(unix)]
    fn exchange(&self, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let mut stream =
            std::os::unix::net::UnixStream::connect(&self.socket).map_err(|e| Error::Connect {
                socket: self.socket.clone(),
                source: e,
            })?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let len = u32::try_from(payload.len())
            .map_err(|_| Error::Protocol("request too large".into()))?;
        let mut framed = Vec::with_capacity(4 + payload.len());
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(payload);
        stream.write_all(&framed)?;
        let mut len = [0u8; 4];
        stream.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len);
        if len == 0 || len > MAX_REPLY {
            return Err(Error::Protocol(format!("a reply of {len} bytes")));
        }
        let mut reply = vec![0u8; len as usize];
        stream.read_exact(&mut reply)?;
        Ok(reply)
    }

    #[cfg(not(unix))]
    fn exchange(&self, _payload: &[u8]) -> Result<Vec<u8>, Error> {
        Err(Error::Connect {
            socket: self.socket.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "ssh-agent sockets are supported on Unix only",
            ),
        })
    }
}

impl RsaSigner for AgentSigner {
    fn sign(&self, digest: RsaDigest, message: &[u8]) -> Result<Vec<u8>, miva_sign::Error> {
        self.sign_message(digest, message)
            .map_err(|e| miva_sign::Error::external_signer(e.to_string()))
    }
}

/// The key blob and comment of an `ssh-rsa AAAA... comment` line.
fn parse_public_line(line: &str) -> Result<(Vec<u8>, String), Error> {
    let mut fields = line.split_whitespace();
    let kind = fields
        .next()
        .ok_or_else(|| Error::BadPublicKey("it is empty".into()))?;
    if kind != "ssh-rsa" {
        return Err(Error::BadPublicKey(format!(
            "it is a {kind:?} key; Miva signs with RSA keys only"
        )));
    }
    let blob = fields
        .next()
        .and_then(|b| base64ct::Base64::decode_vec(b).ok())
        .ok_or_else(|| Error::BadPublicKey("the key is not valid base64".into()))?;
    let mut r = Reader(&blob);
    if r.string().ok() != Some(b"ssh-rsa".as_slice()) {
        return Err(Error::BadPublicKey(
            "the key data is not an ssh-rsa key".into(),
        ));
    }
    let comment = fields.collect::<Vec<_>>().join(" ");
    Ok((blob, comment))
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), Error> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| Error::Protocol("a field over 4 GiB".into()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Reads SSH wire-format fields, failing on truncation.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(Error::Protocol("the reply is truncated".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_lines_are_checked() {
        assert!(matches!(parse_public_line(""), Err(Error::BadPublicKey(_))));
        assert!(matches!(
            parse_public_line("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== me"),
            Err(Error::BadPublicKey(m)) if m.contains("RSA keys only")
        ));
        assert!(matches!(
            parse_public_line("ssh-rsa !!!"),
            Err(Error::BadPublicKey(_))
        ));
        // "ssh-dss" inside an ssh-rsa line.
        let blob = base64ct::Base64::encode_string(b"\0\0\0\x07ssh-dss");
        assert!(matches!(
            parse_public_line(&format!("ssh-rsa {blob}")),
            Err(Error::BadPublicKey(_))
        ));
        let blob = base64ct::Base64::encode_string(b"\0\0\0\x07ssh-rsa\0\0\0\x01\x03");
        let (parsed, comment) = parse_public_line(&format!("ssh-rsa {blob} me@host x")).unwrap();
        assert_eq!(comment, "me@host x");
        assert!(parsed.starts_with(b"\0\0\0\x07ssh-rsa"));
    }

    #[test]
    fn truncated_replies_are_errors_not_panics() {
        let mut r = Reader(&[0, 0, 0, 9, 1, 2]);
        assert!(matches!(r.string(), Err(Error::Protocol(_))));
        let mut r = Reader(&[]);
        assert!(r.byte().is_err());
        assert!(r.u32().is_err());
    }
}
