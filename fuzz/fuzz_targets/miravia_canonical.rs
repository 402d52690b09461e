//! Any path, parameters and body: the canonical string and signature are
//! computed or refused, never a panic; parameter order never changes the
//! signature; a signature always verifies.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use miravia_sign::AppSecret;

fn secret() -> &'static AppSecret {
    static S: OnceLock<AppSecret> = OnceLock::new();
    S.get_or_init(|| AppSecret::new("fuzz-app-secret").unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // path \x1f name=value \x1f name=value ... \x1e body
    let (head, body) = match text.split_once('\u{1e}') {
        Some((h, b)) => (h, Some(b)),
        None => (text, None),
    };
    let mut fields = head.split('\u{1f}');
    let path = fields.next().unwrap_or_default();
    let params: Vec<(&str, &str)> = fields
        .map(|f| f.split_once('=').unwrap_or((f, "")))
        .collect();
    let _ = miravia_sign::string_to_sign(path, &params, body);
    if let Ok(sig) = miravia_sign::sign(secret(), path, &params, body) {
        let mut reversed = params.clone();
        reversed.reverse();
        let again = miravia_sign::sign(secret(), path, &reversed, body).unwrap();
        assert_eq!(sig.to_hex(), again.to_hex());
        miravia_sign::verify(secret(), path, &params, body, &sig.to_hex()).unwrap();
    }
});
