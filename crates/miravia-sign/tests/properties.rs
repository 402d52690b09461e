//! Property tests: invariants that hold for any input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::BTreeMap;

use miravia_sign::{
    AppSecret, RequestSigner, Timestamp, form_urlencode, percent_encode, sign, string_to_sign,
    verify,
};
use proptest::prelude::*;

const SYSTEM: [&str; 6] = [
    "app_key",
    "access_token",
    "timestamp",
    "sign_method",
    "partner_id",
    "sign",
];

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(128)
}

fn secret_text() -> impl Strategy<Value = String> {
    // Any non-empty text without surrounding whitespace.
    "[A-Za-z0-9]([^\\s]{0,30}[A-Za-z0-9])?"
}

fn api_path() -> impl Strategy<Value = String> {
    "/[a-z0-9_]{1,10}(/[a-z0-9_]{1,10}){0,3}"
}

/// Parameters with distinct names (never `sign`) and arbitrary values,
/// empty and non-ASCII ones included.
fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(
        "[A-Za-z_][A-Za-z0-9_.~ %&=+ñé-]{0,10}",
        any::<String>(),
        0..8,
    )
    .prop_map(|map: BTreeMap<String, String>| {
        map.into_iter().filter(|(name, _)| name != "sign").collect()
    })
}

fn body() -> impl Strategy<Value = Option<String>> {
    prop::option::of(any::<String>())
}

/// Decodes `name=value&...` as a URL query / form body: `%XX` to bytes,
/// then UTF-8. A `+` is kept as is (this crate never emits one).
fn decode_form(text: &str) -> Vec<(String, String)> {
    fn decode(part: &str) -> String {
        let bytes = part.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
    if text.is_empty() {
        return Vec::new();
    }
    text.split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (decode(name), decode(value))
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn order_does_not_matter(
        secret in secret_text(),
        path in api_path(),
        (params, shuffled) in params().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle())),
        body in body(),
    ) {
        let secret = AppSecret::new(&secret).unwrap();
        let body = body.as_deref();
        prop_assert_eq!(
            sign(&secret, &path, &params, body).unwrap(),
            sign(&secret, &path, &shuffled, body).unwrap()
        );
        prop_assert_eq!(
            string_to_sign(&path, &params, body).unwrap(),
            string_to_sign(&path, &shuffled, body).unwrap()
        );
    }

    #[test]
    fn sign_then_verify(
        secret in secret_text(),
        path in api_path(),
        params in params(),
        body in body(),
        lowercase in any::<bool>(),
    ) {
        let secret = AppSecret::new(&secret).unwrap();
        let body = body.as_deref();
        let signature = sign(&secret, &path, &params, body).unwrap();
        let hex = if lowercase { signature.to_hex().to_ascii_lowercase() } else { signature.to_hex() };
        prop_assert!(verify(&secret, &path, &params, body, &hex).is_ok());
        // A `sign` among the received parameters is ignored.
        let mut received = params.clone();
        received.push(("sign".to_owned(), hex.clone()));
        prop_assert!(verify(&secret, &path, &received, body, &hex).is_ok());
    }

    #[test]
    fn any_changed_digit_fails_verify(
        secret in secret_text(),
        path in api_path(),
        params in params(),
        index in 0usize..64,
        delta in 1u32..16,
    ) {
        let secret = AppSecret::new(&secret).unwrap();
        let hex = sign(&secret, &path, &params, None).unwrap().to_hex();
        let mut chars: Vec<char> = hex.chars().collect();
        let digit = chars[index].to_digit(16).unwrap();
        chars[index] = char::from_digit((digit + delta) % 16, 16).unwrap().to_ascii_uppercase();
        let tampered: String = chars.into_iter().collect();
        let error = verify(&secret, &path, &params, None, &tampered).unwrap_err();
        prop_assert!(error.is_signature_mismatch());
    }

    #[test]
    fn signature_is_64_uppercase_hex(
        secret in secret_text(),
        path in api_path(),
        params in params(),
        body in body(),
    ) {
        let secret = AppSecret::new(&secret).unwrap();
        let hex = sign(&secret, &path, &params, body.as_deref()).unwrap().to_string();
        prop_assert_eq!(hex.len(), 64);
        prop_assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
    }

    #[test]
    fn string_to_sign_is_what_is_signed(
        secret in secret_text(),
        path in api_path(),
        params in params(),
        body in body(),
    ) {
        // HMAC(path + rest) computed by moving everything after the path
        // into the body must equal the signature of the parameters.
        let secret = AppSecret::new(&secret).unwrap();
        let body = body.as_deref();
        let text = string_to_sign(&path, &params, body).unwrap();
        prop_assert!(text.starts_with(&path));
        let rest = &text[path.len()..];
        let no_params: [(&str, &str); 0] = [];
        prop_assert_eq!(
            sign(&secret, &path, &params, body).unwrap(),
            sign(&secret, &path, no_params, Some(rest)).unwrap()
        );
    }

    #[test]
    fn empty_values_do_not_count(
        secret in secret_text(),
        path in api_path(),
        params in params(),
    ) {
        let secret = AppSecret::new(&secret).unwrap();
        let non_empty: Vec<_> = params.iter().filter(|(_, v)| !v.is_empty()).collect();
        prop_assert_eq!(
            sign(&secret, &path, &params, None).unwrap(),
            sign(&secret, &path, non_empty, None).unwrap()
        );
    }

    #[test]
    fn arbitrary_input_never_panics(
        secret in any::<String>(),
        path in prop_oneof![any::<String>(), api_path()],
        params in prop::collection::vec((any::<String>(), any::<String>()), 0..6),
        body in body(),
        claimed in any::<String>(),
        app_key in any::<String>(),
        token in any::<String>(),
        millis in any::<u64>(),
    ) {
        let _ = percent_encode(&secret);
        let _ = form_urlencode(&params);
        let _ = string_to_sign(&path, &params, body.as_deref());
        if let Ok(secret) = AppSecret::new(&secret) {
            let _ = sign(&secret, &path, &params, body.as_deref());
            let _ = verify(&secret, &path, &params, body.as_deref(), &claimed);
            let signed = RequestSigner::new(&app_key, secret)
                .and_then(|s| s.with_access_token(&token))
                .and_then(|s| s.sign(&path, Timestamp::from_millis(millis), &params, body.as_deref()));
            if let Ok(signed) = signed {
                let _ = signed.to_urlencoded();
            }
        }
    }

    #[test]
    fn form_string_decodes_to_signed_params(
        secret in secret_text(),
        path in api_path(),
        params in params().prop_map(|p| {
            p.into_iter().filter(|(n, _)| !SYSTEM.contains(&n.as_str())).collect::<Vec<_>>()
        }),
        token in "\\PC{1,20}",
        millis in any::<u64>(),
        body in body(),
    ) {
        let secret = AppSecret::new(&secret).unwrap();
        let signer = RequestSigner::new("123456", secret.clone())
            .unwrap()
            .with_access_token(&token)
            .unwrap();
        let body = body.as_deref();
        let signed = signer.sign(&path, Timestamp::from_millis(millis), &params, body).unwrap();

        let encoded = signed.to_urlencoded();
        prop_assert!(encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%&=".contains(&b)));
        let decoded = decode_form(&encoded);
        let expected: Vec<(String, String)> = signed
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        prop_assert_eq!(&decoded, &expected);

        // What is sent is exactly what is signed: non-empty business
        // parameters plus the system ones, and the server side agrees.
        let business: Vec<_> = params.iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
        let sent_business: Vec<_> = signed
            .business_params()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        prop_assert_eq!(sent_business.len(), business.len());
        for pair in &business {
            prop_assert!(sent_business.contains(pair));
        }
        let claimed = signed.get("sign").unwrap();
        prop_assert_eq!(claimed, signed.signature().to_hex());
        prop_assert!(verify(&secret, &path, &decoded, body, claimed).is_ok());
    }
}
