//! Percent-encoding for URL queries and `application/x-www-form-urlencoded`
//! bodies.

use crate::canonical::Param;

/// Percent-encodes `text` for a URL query or a form body.
///
/// The unreserved characters `A-Z a-z 0-9 - . _ ~` are kept; every other
/// byte of the UTF-8 encoding becomes `%XX` with uppercase hex digits. A
/// space becomes `%20`, which both queries and form bodies decode as a
/// space.
///
/// # Example
/// ```
/// assert_eq!(miravia_sign::percent_encode("a b&c=ñ"), "a%20b%26c%3D%C3%B1");
/// ```
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_encoded(&mut out, text);
    out
}

/// Renders parameters as `name=value` pairs joined with `&`, names and
/// values percent-encoded with [`percent_encode`], in the order given.
///
/// The result is both a URL query (put it after `?`) and an
/// `application/x-www-form-urlencoded` body.
///
/// # Example
/// ```
/// let encoded = miravia_sign::form_urlencode(&[("q", "a b"), ("n", "1")]);
/// assert_eq!(encoded, "q=a%20b&n=1");
/// ```
pub fn form_urlencode<P: Param>(params: impl IntoIterator<Item = P>) -> String {
    let mut out = String::new();
    for param in params {
        if !out.is_empty() {
            out.push('&');
        }
        push_encoded(&mut out, param.name());
        out.push('=');
        push_encoded(&mut out, param.value());
    }
    out
}

fn push_encoded(out: &mut String, text: &str) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0F)]));
        }
    }
}
