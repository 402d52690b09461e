//! Key formats, signing and verification against OpenSSL-made fixtures.
//! Fixtures and expected signatures: `tests/data/make-fixtures.sh`
//! (OpenSSL `genrsa`/`pkcs8`/`dgst -sign`, OpenSSH `ssh-keygen`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use miva_sign::{
    Credential, ErrorKind, ParsedAuthorization, Principal, RsaDigest, RsaPrivateKey, RsaPublicKey,
    Scheme, Verifier,
};

const PASS: &[u8] = b"correct horse battery staple";

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn openssl_sig(digest: &str) -> Vec<u8> {
    use base64ct::Encoding;
    base64ct::Base64::decode_vec(data(&format!("body.rsa2048.{digest}.sig")).trim()).unwrap()
}

const FORMATS: [(&str, Option<&[u8]>); 9] = [
    ("rsa2048-pkcs1.pem", None),
    ("rsa2048-pkcs8.pem", None),
    ("rsa2048-pkcs8-enc.pem", Some(PASS)),
    ("rsa2048-pkcs8-sha1-3des.pem", Some(PASS)),
    ("rsa2048-legacy-aes256.pem", Some(PASS)),
    ("rsa2048-legacy-des3.pem", Some(PASS)),
    ("rsa2048-legacy-sshkeygen.pem", Some(PASS)),
    ("rsa2048-openssh.key", None),
    ("rsa2048-openssh-enc.key", Some(PASS)),
];

#[test]
fn every_format_signs_exactly_like_openssl() {
    let body = data("body.json");
    for (file, pass) in FORMATS {
        let key =
            RsaPrivateKey::from_text(&data(file), pass).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.bits(), 2048, "{file}");
        assert_eq!(
            key.sign(RsaDigest::Sha256, body.as_bytes()).unwrap(),
            openssl_sig("sha256"),
            "{file}"
        );
        assert_eq!(
            key.sign(RsaDigest::Sha512, body.as_bytes()).unwrap(),
            openssl_sig("sha512"),
            "{file}"
        );
    }
}

#[test]
fn header_carries_base64_username_and_openssl_signature() {
    use base64ct::Encoding;
    let body = data("body.json");
    let key = RsaPrivateKey::from_text(&data("rsa2048-pkcs1.pem"), None).unwrap();
    let cred = Credential::ssh("apiuser", key, RsaDigest::Sha256).unwrap();
    let header = cred.authorize(body.as_bytes()).unwrap();
    // "apiuser" -> "YXBpdXNlcg==" (wire-facts.md).
    let expected = format!(
        "SSH-RSA-SHA2-256 YXBpdXNlcg==:{}",
        base64ct::Base64::encode_string(&openssl_sig("sha256"))
    );
    assert_eq!(header.value(), expected);
    assert_eq!(header.name(), "X-Miva-API-Authorization");
}

#[test]
fn every_public_key_form_verifies_and_rejects_tampering() {
    let body = data("body.json");
    for file in ["rsa2048.pub", "rsa2048-spki.pem", "rsa2048-pkcs1-pub.pem"] {
        let public = RsaPublicKey::from_text(&data(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(public.bits(), 2048);
        public
            .verify(RsaDigest::Sha256, body.as_bytes(), &openssl_sig("sha256"))
            .unwrap();
        public
            .verify(RsaDigest::Sha512, body.as_bytes(), &openssl_sig("sha512"))
            .unwrap();
        let err = public
            .verify(RsaDigest::Sha512, body.as_bytes(), &openssl_sig("sha256"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadSignature);
        let mut tampered = body.clone().into_bytes();
        tampered[3] ^= 1;
        assert_eq!(
            public
                .verify(RsaDigest::Sha256, &tampered, &openssl_sig("sha256"))
                .unwrap_err()
                .kind(),
            ErrorKind::BadSignature
        );
    }
    let private = RsaPrivateKey::from_text(&data("rsa2048-openssh.key"), None).unwrap();
    assert_eq!(
        private.public_key(),
        &RsaPublicKey::from_text(&data("rsa2048.pub")).unwrap()
    );
}

#[test]
fn verifier_accepts_both_header_names_and_unicode_users() {
    let body = br#"{"Function":"StoreList_Load_Query"}"#;
    let key = RsaPrivateKey::from_text(&data("rsa2048-openssh-enc.key"), Some(PASS)).unwrap();
    let mut verifier = Verifier::new();
    verifier.add_ssh_user(
        "José 用户",
        RsaPublicKey::from_text(&data("rsa2048.pub")).unwrap(),
    );
    let cred = Credential::ssh("José 用户", key, RsaDigest::Sha512).unwrap();
    let header = cred.authorize(body).unwrap();
    let ok = verifier.verify(header.value(), body).unwrap();
    assert_eq!(ok.scheme, Scheme::Ssh(RsaDigest::Sha512));
    assert!(matches!(ok.principal, Principal::SshUser(ref u) if u == "José 用户"));
    assert!(miva_sign::is_authorization_header(
        "x-miva-api-authentication"
    ));
    assert!(miva_sign::is_authorization_header(
        "X-Miva-API-Authorization"
    ));
    assert!(!miva_sign::is_authorization_header("Authorization"));
    assert_eq!(
        verifier.verify(header.value(), b"{}").unwrap_err().kind(),
        ErrorKind::BadSignature
    );
    let parsed = ParsedAuthorization::parse(header.value()).unwrap();
    assert_eq!(parsed.ssh_username(), Some("José 用户"));
    let other = Credential::ssh(
        "someone",
        RsaPrivateKey::from_text(&data("rsa2048-pkcs8.pem"), None).unwrap(),
        RsaDigest::Sha256,
    )
    .unwrap();
    assert_eq!(
        verifier
            .verify(other.authorize(body).unwrap().value(), body)
            .unwrap_err()
            .kind(),
        ErrorKind::UnknownUser
    );
}

#[test]
fn encrypted_keys_need_the_right_passphrase() {
    for file in [
        "rsa2048-pkcs8-enc.pem",
        "rsa2048-pkcs8-sha1-3des.pem",
        "rsa2048-openssh-enc.key",
        "rsa2048-legacy-aes256.pem",
        "rsa2048-legacy-des3.pem",
        "rsa2048-legacy-sshkeygen.pem",
    ] {
        let text = data(file);
        assert_eq!(
            RsaPrivateKey::from_text(&text, None).unwrap_err().kind(),
            ErrorKind::PassphraseRequired,
            "{file}"
        );
        let err = RsaPrivateKey::from_text(&text, Some(b"wrong")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WrongPassphrase, "{file}");
        assert!(err.to_string().contains("passphrase"), "{err}");
    }
    // An unencrypted key ignores a passphrase.
    RsaPrivateKey::from_text(&data("rsa2048-pkcs1.pem"), Some(b"unused")).unwrap();
}

#[test]
fn non_rsa_and_small_keys_get_clear_errors() {
    for file in ["ed25519-openssh.key", "ed25519-pkcs8.pem", "ecdsa-sec1.pem"] {
        let err = RsaPrivateKey::from_text(&data(file), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedKeyType, "{file}");
        assert!(err.to_string().contains("RSA"), "{file}: {err}");
    }
    let err = RsaPublicKey::from_text(&data("ed25519.pub")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedKeyType);
    assert!(err.to_string().contains("Miva accepts RSA"), "{err}");

    let err = RsaPrivateKey::from_text(&data("rsa1024-pkcs1.pem"), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyTooSmall);
    assert!(err.to_string().contains("1024 bits"), "{err}");

    let mut unknown_cipher = data("rsa2048-legacy-aes256.pem");
    unknown_cipher = unknown_cipher.replace("AES-256-CBC", "BF-CBC");
    let err = RsaPrivateKey::from_text(&unknown_cipher, Some(PASS)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidPrivateKey);
    assert!(err.to_string().contains("BF-CBC"), "{err}");

    let err = RsaPrivateKey::from_text(&data("rsa2048.pub"), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidPrivateKey);
    assert!(err.to_string().contains("public key"), "{err}");
    let err = RsaPrivateKey::from_text(&data("rsa2048-spki.pem"), None).unwrap_err();
    assert!(err.to_string().contains("public key"), "{err}");
    let mut broken = data("rsa2048-pkcs1.pem");
    broken.replace_range(100..104, "!!!!");
    assert_eq!(
        RsaPrivateKey::from_text(&broken, None).unwrap_err().kind(),
        ErrorKind::InvalidPrivateKey
    );
}

#[test]
fn private_key_debug_shows_size_only() {
    let text = data("rsa2048-pkcs1.pem");
    let key = RsaPrivateKey::from_text(&text, None).unwrap();
    assert_eq!(format!("{key:?}"), "RsaPrivateKey(2048 bits, <redacted>)");
    let cred = Credential::ssh("apiuser", key, RsaDigest::Sha256).unwrap();
    assert_eq!(
        format!("{cred:?}"),
        "Ssh(SshCredential { username: \"apiuser\", key: RsaPrivateKey(2048 bits, <redacted>), digest: Sha256 })"
    );
    let header = cred.authorize(b"{}").unwrap();
    assert_eq!(
        format!("{header:?}"),
        "AuthorizationHeader { name: \"X-Miva-API-Authorization\", value: <redacted> }"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::from_text(&data("rsa2048-pkcs1.pem"), None).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn ssh_sign_verify_round_trips(
            body in proptest::collection::vec(any::<u8>(), 0..300),
            user in "\\PC{1,20}",
            sha512 in any::<bool>(),
            flip in any::<prop::sample::Index>(),
        ) {
            let digest = if sha512 { RsaDigest::Sha512 } else { RsaDigest::Sha256 };
            let signature = key().sign(digest, &body).unwrap();
            prop_assert_eq!(&signature, &key().sign(digest, &body).unwrap());
            key().public_key().verify(digest, &body, &signature).unwrap();
            let mut verifier = Verifier::new();
            verifier.add_ssh_user(&user, key().public_key().clone());
            let header = format!(
                "{} {}:{}",
                digest.scheme(),
                <base64ct::Base64 as base64ct::Encoding>::encode_string(user.as_bytes()),
                <base64ct::Base64 as base64ct::Encoding>::encode_string(&signature)
            );
            prop_assert!(header.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
            prop_assert!(verifier.verify(&header, &body).is_ok());
            if !body.is_empty() {
                let mut tampered = body.clone();
                tampered[flip.index(body.len())] ^= 0x80;
                prop_assert_eq!(
                    verifier.verify(&header, &tampered).unwrap_err().kind(),
                    ErrorKind::BadSignature
                );
            }
        }
    }
}

#[test]
fn keys_ring_refuses_sign_through_the_portable_path_like_openssl() {
    let body = data("body.json");
    for (file, sig_name) in [
        ("rsa2560-pkcs1.pem", "rsa2560-pkcs1"),
        ("rsa2048-e3-pkcs8.pem", "rsa2048-e3-pkcs8"),
        ("rsa4608-pkcs1.pem", "rsa4608-pkcs1"),
        ("rsa4608-openssh.key", "rsa4608-pkcs1"),
    ] {
        let key =
            RsaPrivateKey::from_text(&data(file), None).unwrap_or_else(|e| panic!("{file}: {e}"));
        // AWS-LC (feature `aws-lc`) takes more sizes than ring; the
        // signatures must equal OpenSSL's either way.
        if miva_sign::rsa_backend() == "ring" {
            assert!(
                !key.uses_fast_path(),
                "{file}: ring was expected to refuse it"
            );
        }
        for digest in ["sha256", "sha512"] {
            use base64ct::Encoding;
            let expected =
                base64ct::Base64::decode_vec(data(&format!("body.{sig_name}.{digest}.sig")).trim())
                    .unwrap();
            let d = RsaDigest::from_name(digest).unwrap();
            let got = key.sign(d, body.as_bytes()).unwrap();
            assert_eq!(got, expected, "{file} {digest}");
            key.public_key().verify(d, body.as_bytes(), &got).unwrap();
        }
    }
    // The common sizes stay on ring.
    assert!(
        RsaPrivateKey::from_text(&data("rsa2048-pkcs1.pem"), None)
            .unwrap()
            .uses_fast_path()
    );
    // An exponent-3 public key from a .pub line verifies (ring alone refuses it).
    let public = RsaPublicKey::from_text(&data("rsa2048-e3.pub")).unwrap();
    use base64ct::Encoding;
    let sig =
        base64ct::Base64::decode_vec(data("body.rsa2048-e3-pkcs8.sha256.sig").trim()).unwrap();
    public
        .verify(RsaDigest::Sha256, body.as_bytes(), &sig)
        .unwrap();
    assert_eq!(
        public
            .verify(RsaDigest::Sha256, b"other", &sig)
            .unwrap_err()
            .kind(),
        ErrorKind::BadSignature
    );
}
