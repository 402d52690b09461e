//! Any text as a private key (with and without a passphrase), a public key
//! or a base64 signing key: a key or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miva_sign::{RsaPrivateKey, RsaPublicKey, SigningKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = RsaPrivateKey::from_text(text, None);
    let _ = RsaPrivateKey::from_text(text, Some(b"passphrase"));
    let _ = RsaPublicKey::from_text(text);
    let _ = SigningKey::from_base64(text);
});
