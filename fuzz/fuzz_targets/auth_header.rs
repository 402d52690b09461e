//! Any header value and body against a verifier holding a token with a
//! key, a token without one and an SSH user: an answer or an error, never
//! a panic; and a header we make for the body always verifies.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use miva_sign::{ApiToken, Credential, HmacDigest, RsaPublicKey, SigningKey, Verifier};

const PUB: &str = include_str!("../../crates/miva-sign/tests/data/rsa2048.pub");

fn verifier() -> &'static (Verifier, Credential) {
    static V: OnceLock<(Verifier, Credential)> = OnceLock::new();
    V.get_or_init(|| {
        let key = SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ").unwrap();
        let mut v = Verifier::new();
        v.add_token(ApiToken::new("fuzz-token").unwrap(), Some(&key));
        v.add_token(ApiToken::new("plain-token").unwrap(), None);
        v.add_ssh_user("fuzz-user", RsaPublicKey::from_text(PUB).unwrap());
        let cred = Credential::hmac(ApiToken::new("fuzz-token").unwrap(), &key, HmacDigest::Sha256);
        (v, cred)
    })
}

fuzz_target!(|data: &[u8]| {
    let (verifier, credential) = verifier();
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (header, body) = data.split_at(split);
    if let Ok(header) = std::str::from_utf8(header) {
        let _ = verifier.verify(header, body);
        let _ = miva_sign::is_authorization_header(header);
    }
    let made = credential.authorize(body).unwrap();
    assert!(verifier.verify(made.value(), body).is_ok());
});
