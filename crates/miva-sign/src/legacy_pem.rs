//! OpenSSL's legacy ("traditional") PEM encryption, as written by
//! `ssh-keygen -t rsa -m PEM` with a passphrase (the command Miva's document
//! gives) and `openssl rsa -aes256`:
//!
//! ```text
//! -----BEGIN RSA PRIVATE KEY-----
//! Proc-Type: 4,ENCRYPTED
//! DEK-Info: AES-128-CBC,<32 hex digits of IV>
//!
//! <base64 of the CBC-encrypted PKCS#1 DER>
//! -----END RSA PRIVATE KEY-----
//! ```
//!
//! The key is `EVP_BytesToKey(MD5, salt = IV[..8], passphrase, count = 1)`.

use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

/// Why a legacy PEM could not be decrypted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LegacyError {
    /// The headers or base64 are damaged; the text says which.
    Damaged(&'static str),
    /// A cipher we do not read, named.
    UnsupportedCipher(String),
    /// The padding did not check out: almost always a wrong passphrase.
    Decrypt,
}

#[derive(Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl Cipher {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "AES-128-CBC" => Some(Self::Aes128),
            "AES-192-CBC" => Some(Self::Aes192),
            "AES-256-CBC" => Some(Self::Aes256),
            "DES-EDE3-CBC" => Some(Self::DesEde3),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 | Self::DesEde3 => 24,
            Self::Aes256 => 32,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            Self::DesEde3 => 8,
            _ => 16,
        }
    }
}

/// Whether the PEM text carries legacy encryption headers.
pub(crate) fn is_legacy_encrypted(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim().starts_with("Proc-Type:") && l.contains("ENCRYPTED"))
}

/// Decrypts the body of a legacy-encrypted PEM, returning the DER inside.
pub(crate) fn decrypt(text: &str, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let mut dek_info = None;
    let mut body = String::new();
    let mut in_body = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            in_body = true;
        } else if line.starts_with("-----END ") {
            break;
        } else if let Some(value) = line.strip_prefix("DEK-Info:") {
            dek_info = Some(value.trim());
        } else if in_body && !line.is_empty() && !line.contains(':') {
            body.push_str(line);
        }
    }
    let dek_info = dek_info.ok_or(LegacyError::Damaged("the DEK-Info header is missing"))?;
    let (name, iv_hex) = dek_info
        .split_once(',')
        .ok_or(LegacyError::Damaged("the DEK-Info header has no IV"))?;
    let cipher = Cipher::from_name(name.trim())
        .ok_or_else(|| LegacyError::UnsupportedCipher(name.trim().to_owned()))?;
    let iv = decode_hex(iv_hex.trim())
        .filter(|iv| iv.len() == cipher.iv_len())
        .ok_or(LegacyError::Damaged(
            "the DEK-Info IV is not hex of the cipher's block size",
        ))?;
    let ciphertext = {
        use base64ct::Encoding;
        base64ct::Base64::decode_vec(&body)
            .map_err(|_| LegacyError::Damaged("the key's base64 body is damaged"))?
    };
    let key = bytes_to_key(passphrase, &iv[..8], cipher.key_len());
    let plain = match cipher {
        Cipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map_err(|_| LegacyError::Decrypt)?
            .decrypt_padded_vec::<Pkcs7>(&ciphertext),
        Cipher::Aes192 => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map_err(|_| LegacyError::Decrypt)?
            .decrypt_padded_vec::<Pkcs7>(&ciphertext),
        Cipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map_err(|_| LegacyError::Decrypt)?
            .decrypt_padded_vec::<Pkcs7>(&ciphertext),
        Cipher::DesEde3 => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|_| LegacyError::Decrypt)?
            .decrypt_padded_vec::<Pkcs7>(&ciphertext),
    };
    plain.map(Zeroizing::new).map_err(|_| LegacyError::Decrypt)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration.
fn bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Option<Zeroizing<Vec<u8>>> = None;
    while key.len() < len {
        let mut md5 = Md5::new();
        if let Some(prev) = &previous {
            md5.update(prev.as_slice());
        }
        md5.update(passphrase);
        md5.update(salt);
        let block = Zeroizing::new(md5.finalize().to_vec());
        key.extend_from_slice(&block);
        previous = Some(block);
    }
    key.truncate(len);
    key
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_to_key_matches_openssl() {
        // `openssl enc -aes-128-cbc -md md5 -S 0102030405060708 -pass pass:secret -P`
        // prints key=C9E5A1BD216DBE1317E230CEF48F38EE (OpenSSL 3.0.19, this machine).
        let key = bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 16);
        assert_eq!(
            decode_hex("C9E5A1BD216DBE1317E230CEF48F38EE").unwrap(),
            *key
        );
    }

    #[test]
    fn damaged_headers_are_named() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(is_legacy_encrypted(text));
        assert_eq!(
            decrypt(text, b"x"),
            Err(LegacyError::Damaged("the DEK-Info header is missing"))
        );
        let text = text.replace("\n\n", "\nDEK-Info: BF-CBC,0102030405060708\n\n");
        assert_eq!(
            decrypt(&text, b"x"),
            Err(LegacyError::UnsupportedCipher("BF-CBC".into()))
        );
    }
}
