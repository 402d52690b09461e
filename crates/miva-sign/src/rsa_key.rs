//! RSA keys for Miva's SSH authentication: reading every common private key
//! format, signing with `ring` (RSASSA-PKCS1-v1_5, byte-identical to
//! `openssl dgst -sign`), and verifying against OpenSSH or PEM public keys.

use std::fmt;

use pkcs1::der::{Decode, pem};
// The fast RSA implementation: ring by default, AWS-LC with the `aws-lc`
// feature. Both expose the same API; the rest of this file does not care.
#[cfg(feature = "aws-lc")]
use aws_lc_rs as fast_rsa;
#[cfg(not(feature = "aws-lc"))]
use ring as fast_rsa;

use fast_rsa::rand::SystemRandom;
use fast_rsa::signature::{self as ring_sig, RsaKeyPair};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};
use crate::legacy_pem;

/// The library that signs and verifies RSA for keys it accepts: `"ring"`,
/// or `"aws-lc"` with the `aws-lc` feature. Keys neither accepts (exponent
/// 3, unusual sizes) use the portable RustCrypto code whatever this says
/// (see [`RsaPrivateKey::uses_fast_path`]).
pub fn rsa_backend() -> &'static str {
    if cfg!(feature = "aws-lc") {
        "aws-lc"
    } else {
        "ring"
    }
}

/// Smallest modulus Miva's SSH scheme is used with here, and `ring`'s floor.
pub const MIN_RSA_BITS: usize = 2048;

const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY_OID: &str = "1.2.840.10045.2.1";
const ED25519_OID: &str = "1.3.101.112";
const ED448_OID: &str = "1.3.101.113";
const DSA_OID: &str = "1.2.840.10040.4.1";

/// The hash of an SSH RSA signature, and so the header's scheme name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RsaDigest {
    /// `SSH-RSA-SHA2-256` (the default).
    #[default]
    Sha256,
    /// `SSH-RSA-SHA2-512`.
    Sha512,
}

impl RsaDigest {
    /// Reads `sha256` or `sha512` (any case, `sha2-256`/`sha2-512` too).
    ///
    /// # Errors
    /// [`ErrorKind::UnknownDigest`] naming the accepted values.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sha256" | "sha2-256" | "sha-256" => Ok(Self::Sha256),
            "sha512" | "sha2-512" | "sha-512" => Ok(Self::Sha512),
            other => Err(Error::new(
                ErrorKind::UnknownDigest,
                format!("SSH digest {other:?} is not supported: use sha256 or sha512"),
            )),
        }
    }

    /// The scheme word that starts the header value.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Sha256 => "SSH-RSA-SHA2-256",
            Self::Sha512 => "SSH-RSA-SHA2-512",
        }
    }

    fn signing_alg(self) -> &'static dyn ring_sig::RsaEncoding {
        match self {
            Self::Sha256 => &ring_sig::RSA_PKCS1_SHA256,
            Self::Sha512 => &ring_sig::RSA_PKCS1_SHA512,
        }
    }

    fn verify_alg(self) -> &'static ring_sig::RsaParameters {
        match self {
            Self::Sha256 => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
            Self::Sha512 => &ring_sig::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

/// An RSA private key ready to sign Miva requests.
///
/// Read from PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), PKCS#8 PEM (`BEGIN PRIVATE
/// KEY`, and `BEGIN ENCRYPTED PRIVATE KEY` with a passphrase) or the OpenSSH
/// format (`BEGIN OPENSSH PRIVATE KEY`, also passphrase-protected): no
/// conversion with `ssh-keygen -m PEM` needed. `Debug` shows only the size.
pub struct RsaPrivateKey {
    signer: Signer,
    public: RsaPublicKey,
}

/// `ring` (or AWS-LC, feature `aws-lc`) where it can (with ring: 2048 to
/// 4096 bits in steps of 512, exponent at least 65537: nearly every key;
/// constant time and fast), the portable
/// RustCrypto implementation for the keys `ring` refuses (2560 or 8192
/// bits, exponent 3, ...), which signs byte-identically, only slower.
#[allow(
    clippy::large_enum_variant,
    reason = "one per key, built once; the common variant stays inline"
)]
enum Signer {
    Ring { pair: RsaKeyPair, rng: SystemRandom },
    // Boxed: the RustCrypto keys are large and rarely needed.
    Portable(Box<PortableKeys>),
}

struct PortableKeys {
    sha256: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    sha512: rsa::pkcs1v15::SigningKey<sha2::Sha512>,
}

/// Largest modulus accepted (the limit of `rsa`'s public keys).
pub const MAX_RSA_BITS: usize = 8192;

impl RsaPrivateKey {
    /// Reads a private key from its text (PEM or OpenSSH), decrypting it with
    /// `passphrase` when it is encrypted. A passphrase given for an
    /// unencrypted key is ignored.
    ///
    /// # Errors
    /// [`ErrorKind::PassphraseRequired`], [`ErrorKind::WrongPassphrase`],
    /// [`ErrorKind::UnsupportedKeyType`] (not RSA), [`ErrorKind::KeyTooSmall`]
    /// (under 2048 bits) or [`ErrorKind::InvalidPrivateKey`], each saying
    /// what to do. The key material never appears in an error.
    pub fn from_text(text: &str, passphrase: Option<&[u8]>) -> Result<Self, Error> {
        if text.trim_start().starts_with("ssh-") {
            return Err(invalid_key(
                "this is an OpenSSH public key line; give the private key (the file without .pub)",
            ));
        }
        let label = pem_label(text).ok_or_else(|| {
            invalid_key(
                "no '-----BEGIN ... PRIVATE KEY-----' line found; expected a PEM \
                 (PKCS#1 or PKCS#8) or OpenSSH private key file",
            )
        })?;
        match label {
            "OPENSSH PRIVATE KEY" => from_openssh(text, passphrase),
            "RSA PRIVATE KEY" if legacy_pem::is_legacy_encrypted(text) => {
                let passphrase = passphrase.ok_or_else(passphrase_required)?;
                let der = legacy_pem::decrypt(text, passphrase).map_err(|e| match e {
                    legacy_pem::LegacyError::Decrypt => wrong_passphrase(),
                    legacy_pem::LegacyError::Damaged(what) => {
                        invalid_key(format!("the encrypted PEM key is damaged: {what}"))
                    }
                    legacy_pem::LegacyError::UnsupportedCipher(name) => invalid_key(format!(
                        "the PEM key is encrypted with {name}, which is not supported: \
                         re-encrypt it with `ssh-keygen -p -f KEY` (OpenSSH format)"
                    )),
                })?;
                // A wrong passphrase passes the padding check 1 time in 256.
                from_pkcs1_der(&der).map_err(|e| {
                    if e.kind() == ErrorKind::InvalidPrivateKey {
                        wrong_passphrase()
                    } else {
                        e
                    }
                })
            }
            "RSA PRIVATE KEY" => {
                let der = decode_pem(text)?;
                from_pkcs1_der(&der)
            }
            "PRIVATE KEY" => {
                let der = decode_pem(text)?;
                from_pkcs8_der(&der)
            }
            "ENCRYPTED PRIVATE KEY" => {
                let der = decode_pem(text)?;
                let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(&der)
                    .map_err(|_| invalid_key("the encrypted PKCS#8 structure is damaged"))?;
                let passphrase = passphrase.ok_or_else(passphrase_required)?;
                let plain = info.decrypt(passphrase).map_err(|e| match e {
                    pkcs8::Error::EncryptedPrivateKey(
                        pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. },
                    ) => invalid_key(
                        "the PKCS#8 key is encrypted with an unsupported algorithm: \
                         re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
                    ),
                    _ => wrong_passphrase(),
                })?;
                from_pkcs8_der(plain.as_bytes()).map_err(|e| {
                    if e.kind() == ErrorKind::InvalidPrivateKey {
                        wrong_passphrase()
                    } else {
                        e
                    }
                })
            }
            "EC PRIVATE KEY" => Err(not_rsa("an ECDSA")),
            "DSA PRIVATE KEY" => Err(not_rsa("a DSA")),
            other if other.contains("PUBLIC KEY") => Err(invalid_key(format!(
                "this is a public key ({other}); the private key is the file without `.pub`"
            ))),
            other => Err(invalid_key(format!(
                "a '{other}' block is not a private key this library reads; expected \
                 RSA PRIVATE KEY, PRIVATE KEY, ENCRYPTED PRIVATE KEY or OPENSSH PRIVATE KEY"
            ))),
        }
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.public.bits()
    }

    /// The matching public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Length of a signature in bytes (the modulus length).
    pub fn signature_len(&self) -> usize {
        self.public.n.len()
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 over SHA-256 or SHA-512. The
    /// signature is deterministic and byte-identical to
    /// `openssl dgst -sha256 -sign key.pem`.
    ///
    /// # Errors
    /// [`ErrorKind::Crypto`] if `ring` fails (the system random source used
    /// for blinding is unavailable).
    pub fn sign(&self, digest: RsaDigest, message: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.signer {
            Signer::Ring { pair, rng } => {
                let mut signature = vec![0u8; self.signature_len()];
                pair.sign(digest.signing_alg(), rng, message, &mut signature)
                    .map_err(|_| {
                        Error::new(
                            ErrorKind::Crypto,
                            "RSA signing failed: the system random source (used to blind \
                             the private key operation) is unavailable",
                        )
                    })?;
                Ok(signature)
            }
            Signer::Portable(keys) => {
                use rsa::signature::{SignatureEncoding as _, Signer as _};
                let signature = match digest {
                    RsaDigest::Sha256 => keys.sha256.try_sign(message),
                    RsaDigest::Sha512 => keys.sha512.try_sign(message),
                }
                .map_err(|e| Error::new(ErrorKind::Crypto, format!("RSA signing failed: {e}")))?;
                Ok(signature.to_vec())
            }
        }
    }

    /// Whether signing uses `ring` (nearly every key) rather than the
    /// portable fallback (unusual sizes or exponents; slower).
    pub fn uses_fast_path(&self) -> bool {
        matches!(self.signer, Signer::Ring { .. })
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPrivateKey({} bits, <redacted>)", self.bits())
    }
}

/// An RSA public key, to verify `SSH-RSA-SHA2-*` headers.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    /// Modulus, big-endian without leading zeros.
    n: Vec<u8>,
    /// Public exponent, big-endian without leading zeros.
    e: Vec<u8>,
}

impl RsaPublicKey {
    /// Reads an OpenSSH public key line (`ssh-rsa AAAA... comment`, as in a
    /// `.pub` file or Miva's *Manage SSH Authentication*) or a PEM public key
    /// (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    ///
    /// # Errors
    /// [`ErrorKind::UnsupportedKeyType`] for a non-RSA key,
    /// [`ErrorKind::KeyTooSmall`], or [`ErrorKind::InvalidPublicKey`].
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim();
        match pem_label(trimmed) {
            Some("PUBLIC KEY") => {
                let der =
                    decode_pem(trimmed).map_err(|_| invalid_public("the PEM text is damaged"))?;
                let spki = spki::SubjectPublicKeyInfoRef::from_der(&der)
                    .map_err(|_| invalid_public("the SubjectPublicKeyInfo structure is damaged"))?;
                check_rsa_oid(&spki.algorithm.oid.to_string())?;
                let bits = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| invalid_public("the key bit string is damaged"))?;
                Self::from_pkcs1_der(bits)
            }
            Some("RSA PUBLIC KEY") => {
                let der =
                    decode_pem(trimmed).map_err(|_| invalid_public("the PEM text is damaged"))?;
                Self::from_pkcs1_der(&der)
            }
            Some(other) => Err(invalid_public(format!(
                "a '{other}' block is not a public key; expected `ssh-rsa AAAA...`, \
                 BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY"
            ))),
            None => Self::from_openssh(trimmed),
        }
    }

    fn from_openssh(line: &str) -> Result<Self, Error> {
        let key = ssh_key::PublicKey::from_openssh(line).map_err(|_| {
            invalid_public(
                "expected an OpenSSH public key line (`ssh-rsa AAAA... comment`) or a PEM \
                 public key",
            )
        })?;
        let rsa = key.key_data().rsa().ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedKeyType,
                format!(
                    "this is a {} key: Miva accepts RSA (ssh-rsa) keys only; make one with \
                     `ssh-keygen -t rsa -b 4096`",
                    key.algorithm()
                ),
            )
        })?;
        let n = positive(rsa.n()).ok_or_else(|| invalid_public("the modulus is not positive"))?;
        let e = positive(rsa.e()).ok_or_else(|| invalid_public("the exponent is not positive"))?;
        Self::from_components(n, e)
    }

    fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        let key = pkcs1::RsaPublicKey::<pkcs1::UintRef<'_>>::from_der(der)
            .map_err(|_| invalid_public("the PKCS#1 RSAPublicKey structure is damaged"))?;
        Self::from_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }

    fn from_components(n: &[u8], e: &[u8]) -> Result<Self, Error> {
        let key = Self {
            n: strip_zeros(n).to_vec(),
            e: strip_zeros(e).to_vec(),
        };
        if key.n.is_empty() || key.e.is_empty() {
            return Err(invalid_public("the modulus or exponent is zero"));
        }
        check_bits(key.bits())?;
        Ok(key)
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> usize {
        bit_len(&self.n)
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature over `message`.
    ///
    /// # Errors
    /// [`ErrorKind::BadSignature`] when it does not verify.
    pub fn verify(&self, digest: RsaDigest, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let fast = ring_sig::RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(digest.verify_alg(), message, signature)
        .is_ok();
        // ring refuses some valid keys (exponent 3, ...): ask the portable
        // implementation before calling a signature bad.
        if fast || self.verify_portable(digest, message, signature) {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::BadSignature,
            format!(
                "the {} signature does not match the body for this public key",
                digest.scheme()
            ),
        ))
    }

    fn verify_portable(&self, digest: RsaDigest, message: &[u8], signature: &[u8]) -> bool {
        use rsa::signature::Verifier as _;
        let Ok(key) = rsa::PublicKey::new(
            rsa::BoxedUint::from_be_slice_vartime(&self.n),
            rsa::BoxedUint::from_be_slice_vartime(&self.e),
        ) else {
            return false;
        };
        let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else {
            return false;
        };
        match digest {
            RsaDigest::Sha256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
                .verify(message, &signature)
                .is_ok(),
            RsaDigest::Sha512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key)
                .verify(message, &signature)
                .is_ok(),
        }
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bits)", self.bits())
    }
}

fn pem_label(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &text[start..];
    let end = rest.find("-----")?;
    Some(&rest[..end])
}

fn decode_pem(text: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let start = text.find("-----BEGIN ").unwrap_or(0);
    let (_, der) = pem::decode_vec(text[start..].trim().as_bytes()).map_err(|e| {
        invalid_key(format!(
            "the PEM text is damaged ({e}); copy the whole file, from the BEGIN line to the \
             END line"
        ))
    })?;
    Ok(Zeroizing::new(der))
}

fn from_pkcs8_der(der: &[u8]) -> Result<RsaPrivateKey, Error> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|_| invalid_key("the PKCS#8 PrivateKeyInfo structure is damaged"))?;
    check_rsa_oid(&info.algorithm.oid.to_string())?;
    from_pkcs1_der(info.private_key.as_bytes())
}

fn from_pkcs1_der(der: &[u8]) -> Result<RsaPrivateKey, Error> {
    let parsed = pkcs1::RsaPrivateKeyRef::from_der(der)
        .map_err(|_| invalid_key("the PKCS#1 RSAPrivateKey structure is damaged"))?;
    if parsed.other_prime_infos.is_some() {
        return Err(invalid_key(
            "multi-prime RSA keys are not supported: generate a standard two-prime key",
        ));
    }
    let public =
        RsaPublicKey::from_components(parsed.modulus.as_bytes(), parsed.public_exponent.as_bytes())
            .map_err(|e| {
                if e.kind() == ErrorKind::InvalidPublicKey {
                    invalid_key("the key's modulus or exponent is zero")
                } else {
                    e
                }
            })?;
    let signer = match RsaKeyPair::from_der(der) {
        Ok(pair) => Signer::Ring {
            pair,
            rng: SystemRandom::new(),
        },
        Err(rejected) => {
            let key = <rsa::PrivateKey as pkcs1::DecodeRsaPrivateKey>::from_pkcs1_der(der)
                .map_err(|e| {
                    invalid_key(format!(
                        "the RSA key is not usable for signing ({rejected}; {e}); generate \
                         a new one with `ssh-keygen -t rsa -b 4096`"
                    ))
                })?;
            Signer::Portable(Box::new(PortableKeys {
                sha256: rsa::pkcs1v15::SigningKey::new(key.clone()),
                sha512: rsa::pkcs1v15::SigningKey::new(key),
            }))
        }
    };
    Ok(RsaPrivateKey { signer, public })
}

fn from_openssh(text: &str, passphrase: Option<&[u8]>) -> Result<RsaPrivateKey, Error> {
    let key = ssh_key::PrivateKey::from_openssh(text.trim()).map_err(|e| {
        invalid_key(format!(
            "the OpenSSH private key is damaged ({e}); copy the whole file, from the \
             BEGIN line to the END line"
        ))
    })?;
    if !matches!(key.algorithm(), ssh_key::Algorithm::Rsa { .. }) {
        return Err(Error::new(
            ErrorKind::UnsupportedKeyType,
            format!(
                "this is a {} key: Miva accepts RSA keys only; make one with \
                 `ssh-keygen -t rsa -b 4096`",
                key.algorithm()
            ),
        ));
    }
    let key = if key.is_encrypted() {
        let passphrase = passphrase.ok_or_else(passphrase_required)?;
        key.decrypt(passphrase).map_err(|_| wrong_passphrase())?
    } else {
        key
    };
    let rsa = key
        .key_data()
        .rsa()
        .ok_or_else(|| invalid_key("the OpenSSH key holds no RSA key data"))?;
    let part = |m: &ssh_key::Mpint, what: &str| {
        positive(m)
            .map(rsa::BoxedUint::from_be_slice_vartime)
            .ok_or_else(|| invalid_key(format!("the key's {what} is not a positive integer")))
    };
    let n = part(rsa.public().n(), "modulus")?;
    check_bits(bit_len(positive(rsa.public().n()).unwrap_or_default()))?;
    let full = rsa::PrivateKey::from_components(
        n,
        part(rsa.public().e(), "exponent")?,
        part(rsa.private().d(), "private exponent")?,
        vec![
            part(rsa.private().p(), "prime p")?,
            part(rsa.private().q(), "prime q")?,
        ],
    )
    .map_err(|e| invalid_key(format!("the RSA key is inconsistent ({e})")))?;
    let der = pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&full)
        .map_err(|e| invalid_key(format!("the RSA key could not be re-encoded ({e})")))?;
    from_pkcs1_der(der.as_bytes())
}

fn positive(m: &ssh_key::Mpint) -> Option<&[u8]> {
    m.as_positive_bytes()
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn bit_len(bytes: &[u8]) -> usize {
    let bytes = strip_zeros(bytes);
    match bytes.first() {
        None => 0,
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
    }
}

fn check_bits(bits: usize) -> Result<(), Error> {
    if bits > MAX_RSA_BITS {
        return Err(Error::new(
            ErrorKind::KeyTooLarge,
            format!(
                "the RSA key has {bits} bits; at most {MAX_RSA_BITS} are supported: use a \
                 4096-bit key (`ssh-keygen -t rsa -b 4096`)"
            ),
        ));
    }
    if bits < MIN_RSA_BITS {
        return Err(Error::new(
            ErrorKind::KeyTooSmall,
            format!(
                "the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required: make a \
                 new one with `ssh-keygen -t rsa -b 4096`"
            ),
        ));
    }
    Ok(())
}

fn check_rsa_oid(oid: &str) -> Result<(), Error> {
    match oid {
        RSA_ENCRYPTION_OID => Ok(()),
        EC_PUBLIC_KEY_OID => Err(not_rsa("an ECDSA")),
        ED25519_OID => Err(not_rsa("an Ed25519")),
        ED448_OID => Err(not_rsa("an Ed448")),
        DSA_OID => Err(not_rsa("a DSA")),
        other => Err(Error::new(
            ErrorKind::UnsupportedKeyType,
            format!("the key's algorithm ({other}) is not RSA: Miva accepts RSA keys only"),
        )),
    }
}

fn not_rsa(what: &str) -> Error {
    Error::new(
        ErrorKind::UnsupportedKeyType,
        format!(
            "this is {what} key: Miva accepts RSA keys only; make one with \
             `ssh-keygen -t rsa -b 4096`"
        ),
    )
}

fn invalid_key(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidPrivateKey, message.into())
}

fn invalid_public(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidPublicKey, message.into())
}

fn passphrase_required() -> Error {
    Error::new(
        ErrorKind::PassphraseRequired,
        "the private key is encrypted: give its passphrase (MIVA_SSH_PASSPHRASE for the CLI)",
    )
}

fn wrong_passphrase() -> Error {
    Error::new(
        ErrorKind::WrongPassphrase,
        "the passphrase does not decrypt the private key: check it, or test it with \
         `ssh-keygen -y -f KEY`",
    )
}
