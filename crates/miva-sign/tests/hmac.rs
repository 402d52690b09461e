//! Token and HMAC schemes: vectors, verification, redaction, properties.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use miva_sign::{
    ApiToken, Credential, ErrorKind, HmacDigest, ParsedAuthorization, Principal, Scheme,
    SigningKey, Verifier,
};
use proptest::prelude::*;

// wire-facts.md, "Cross-checked vectors": token, key and the 150-byte body.
const TOKEN: &str = "0f90f77b58ca98836eba3d50f526f523";
const KEY: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ";
const BODY: &str = r#"{"Store_Code": "STORE", "Sort": "", "Offset": 0, "Count": 1, "Filter": [], "Function": "ProductList_Load_Query", "Miva_Request_Timestamp": 1700000000}"#;

fn cred(digest: HmacDigest) -> Credential {
    Credential::hmac(
        ApiToken::new(TOKEN).unwrap(),
        &SigningKey::from_base64(KEY).unwrap(),
        digest,
    )
}

#[test]
fn wire_facts_vectors() {
    assert_eq!(BODY.len(), 150);
    assert_eq!(
        cred(HmacDigest::Sha256)
            .authorize(BODY.as_bytes())
            .unwrap()
            .value(),
        "MIVA-HMAC-SHA256 0f90f77b58ca98836eba3d50f526f523:T7hwEUfGBqcRGS9SCHYlMXjgZwiNrzPNX88imOkxlV4="
    );
    assert_eq!(
        cred(HmacDigest::Sha1)
            .authorize(BODY.as_bytes())
            .unwrap()
            .value(),
        "MIVA-HMAC-SHA1 0f90f77b58ca98836eba3d50f526f523:dgXYBcEflR0jR73czk9cMtmcHTc="
    );
    // Vendor document: "X-Miva-API-Authorization: MIVA 0f90f77b58ca98836eba3d50f526f523".
    let token = Credential::token(ApiToken::new(TOKEN).unwrap());
    assert_eq!(
        token.authorize(BODY.as_bytes()).unwrap().value(),
        format!("MIVA {TOKEN}")
    );
}

#[test]
fn padded_and_url_safe_keys_sign_the_same() {
    let expected = cred(HmacDigest::Sha256).authorize(BODY.as_bytes()).unwrap();
    for key in [
        format!("{KEY}="),
        KEY.replace('/', "_"),
        format!("  {KEY}\n"),
    ] {
        let c = Credential::hmac(
            ApiToken::new(TOKEN).unwrap(),
            &SigningKey::from_base64(&key).unwrap(),
            HmacDigest::Sha256,
        );
        assert_eq!(
            c.authorize(BODY.as_bytes()).unwrap().value(),
            expected.value()
        );
    }
}

#[test]
fn verifier_checks_token_scheme_and_signature() {
    let mut verifier = Verifier::new();
    verifier.add_token(
        ApiToken::new(TOKEN).unwrap(),
        Some(&SigningKey::from_base64(KEY).unwrap()),
    );
    verifier.add_token(ApiToken::new("plaintoken").unwrap(), None);
    for digest in [HmacDigest::Sha256, HmacDigest::Sha1] {
        let header = cred(digest).authorize(BODY.as_bytes()).unwrap();
        let ok = verifier.verify(header.value(), BODY.as_bytes()).unwrap();
        assert_eq!(ok.scheme, Scheme::Hmac(digest));
        assert!(matches!(ok.principal, Principal::Token(ref t) if t.expose() == TOKEN));
        let err = verifier.verify(header.value(), b"{}").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadSignature);
    }
    let plain = format!("MIVA {TOKEN}");
    assert_eq!(
        verifier.verify(&plain, b"{}").unwrap_err().kind(),
        ErrorKind::SchemeMismatch
    );
    assert!(verifier.verify("MIVA plaintoken", b"{}").is_ok());
    let signed_plain = format!("MIVA-HMAC-SHA256 plaintoken:{}", "A".repeat(44));
    assert_eq!(
        verifier.verify(&signed_plain, b"{}").unwrap_err().kind(),
        ErrorKind::SchemeMismatch
    );
    assert_eq!(
        verifier.verify("MIVA unknown", b"{}").unwrap_err().kind(),
        ErrorKind::UnknownToken
    );
    for bad in [
        "",
        "MIVA",
        "BEARER x",
        "MIVA-HMAC-SHA256 abc",
        "MIVA-HMAC-SHA256 abc:%%",
        "MIVA a:b",
    ] {
        assert_eq!(
            verifier.verify(bad, b"{}").unwrap_err().kind(),
            ErrorKind::MalformedHeader,
            "{bad:?}"
        );
    }
    // Scheme words are matched without regard to case.
    let lower = cred(HmacDigest::Sha1)
        .authorize(BODY.as_bytes())
        .unwrap()
        .value()
        .replacen("MIVA-HMAC-SHA1", "miva-hmac-sha1", 1);
    assert!(verifier.verify(&lower, BODY.as_bytes()).is_ok());
}

#[test]
fn secrets_never_reach_debug_or_errors() {
    let c = cred(HmacDigest::Sha256);
    assert_eq!(
        format!("{c:?}"),
        "Hmac(HmacCredential { token: ApiToken(<redacted>), signing_key: <redacted>, digest: Sha256 })"
    );
    let header = c.authorize(BODY.as_bytes()).unwrap();
    let parsed = ParsedAuthorization::parse(header.value()).unwrap();
    assert_eq!(
        format!("{parsed:?}"),
        "ParsedAuthorization { scheme: Hmac(Sha256), principal: <redacted>, signature: <redacted> }"
    );
    assert_eq!(parsed.ssh_username(), None);
    let mut verifier = Verifier::new();
    verifier.add_token(ApiToken::new("other").unwrap(), None);
    let err = verifier
        .verify(header.value(), BODY.as_bytes())
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(TOKEN) && !shown.contains("T7hwEU"),
        "{shown}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn same_input_same_header(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let c = cred(HmacDigest::Sha256);
        prop_assert_eq!(c.authorize(&body).unwrap().value().to_owned(), c.authorize(&body).unwrap().value().to_owned());
    }

    #[test]
    fn any_flipped_bit_changes_the_hmac(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        index in any::<prop::sample::Index>(),
        bit in 0u8..8,
        sha1 in any::<bool>(),
    ) {
        let digest = if sha1 { HmacDigest::Sha1 } else { HmacDigest::Sha256 };
        let c = cred(digest);
        let mut flipped = body.clone();
        flipped[index.index(body.len())] ^= 1 << bit;
        let original = c.authorize(&body).unwrap();
        prop_assert_ne!(original.value().to_owned(), c.authorize(&flipped).unwrap().value().to_owned());
        let mut verifier = Verifier::new();
        verifier.add_token(ApiToken::new(TOKEN).unwrap(), Some(&SigningKey::from_base64(KEY).unwrap()));
        prop_assert!(verifier.verify(original.value(), &body).is_ok());
        prop_assert_eq!(verifier.verify(original.value(), &flipped).unwrap_err().kind(), ErrorKind::BadSignature);
    }

    #[test]
    fn headers_are_ascii_without_cr_or_lf(
        token in "[!-9;-~]{1,64}",
        key in proptest::collection::vec(any::<u8>(), 1..128),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let c = Credential::hmac(ApiToken::new(&token).unwrap(), &SigningKey::from_bytes(&key).unwrap(), HmacDigest::Sha1);
        let header = c.authorize(&body).unwrap();
        prop_assert!(header.value().bytes().all(|b| b.is_ascii_graphic() || b == b' '));
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), body in any::<Vec<u8>>()) {
        let _ = SigningKey::from_base64(&text);
        let _ = ApiToken::new(&text);
        let _ = ParsedAuthorization::parse(&text);
        let _ = miva_sign::RsaPrivateKey::from_text(&text, Some(b"x"));
        let _ = miva_sign::RsaPublicKey::from_text(&text);
        let mut verifier = Verifier::new();
        verifier.add_token(ApiToken::new(TOKEN).unwrap(), Some(&SigningKey::from_base64(KEY).unwrap()));
        let _ = verifier.verify(&text, &body);
        let _ = verifier.verify(&format!("MIVA-HMAC-SHA256 {text}"), &body);
        let _ = verifier.verify(&format!("SSH-RSA-SHA2-256 {text}"), &body);
    }

    #[test]
    fn base64_round_trips_through_signing_key(bytes in proptest::collection::vec(any::<u8>(), 1..96)) {
        use base64ct::Encoding;
        let std = base64ct::Base64::encode_string(&bytes);
        let a = Credential::hmac(ApiToken::new("t").unwrap(), &SigningKey::from_bytes(&bytes).unwrap(), HmacDigest::Sha256);
        for text in [std.clone(), std.trim_end_matches('=').to_owned(), base64ct::Base64Url::encode_string(&bytes)] {
            let b = Credential::hmac(ApiToken::new("t").unwrap(), &SigningKey::from_base64(&text).unwrap(), HmacDigest::Sha256);
            prop_assert_eq!(a.authorize(b"x").unwrap().value().to_owned(), b.authorize(b"x").unwrap().value().to_owned());
        }
    }
}
