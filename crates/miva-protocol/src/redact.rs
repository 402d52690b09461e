//! Credential redaction for URLs: the one function every path that puts a
//! URL (or text holding one) into an error, a log event or `Debug` output
//! goes through.

use std::borrow::Cow;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Parameter names whose values are credentials, compared without regard
/// to case after percent-decoding.
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "sign",
    "signature",
    "sig",
    "code",
    "auth_code",
    "app_secret",
    "client_secret",
    "secret",
    "password",
    "passwd",
    "pwd",
    "api_key",
    "apikey",
    "private_key",
    "authorization",
    "session",
    "sessionid",
];

/// Name fragments that make any parameter a credential (`x_api_token`,
/// `partner_secret`, `user_password`, `hmac_signature`, ...).
const SECRET_FRAGMENTS: &[&str] = &["token", "secret", "password", "signature", "passwd"];

/// Whether a query or fragment parameter named `name` carries a credential
/// (`access_token`, `sign`, `refresh_token`, `code`, `app_secret`,
/// `client_secret`, and any name containing `token`, `secret`, `password`
/// or `signature`). `app_key` is the app's public id and is not one.
pub fn is_secret_param(name: &str) -> bool {
    let name = percent_decode_lower(name);
    SECRET_NAMES.contains(&name.as_str()) || SECRET_FRAGMENTS.iter().any(|f| name.contains(f))
}

/// `url` (or any text holding URLs or `name=value` pairs) with the value of
/// every credential parameter in a query string or fragment replaced by
/// `<redacted>`, and the password of any `user:password@` replaced too.
/// Everything else is kept as it is, so the redacted URL still shows
/// where a request went.
///
/// ```
/// use miva_protocol::redact_url;
/// assert_eq!(
///     redact_url("https://gw.example/rest/seller/get?app_key=1&access_token=abc&sign=F00#code=9"),
///     "https://gw.example/rest/seller/get?app_key=1&access_token=<redacted>&sign=<redacted>#code=<redacted>"
/// );
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let userinfo = redact_userinfo(url);
    match redact_params(&userinfo) {
        Cow::Borrowed(_) => userinfo,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// A value ends at one of these (or at the end of the text), or at a
/// percent-encoded `&` or `#` (`%26`, `%23`: a nested query's separators).
fn ends_value(c: char) -> bool {
    matches!(c, '&' | '#' | ';' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
}

/// A parameter starts after one of these (or at the start of the text).
fn starts_param(c: char) -> bool {
    matches!(c, '?' | '&' | '#' | ';' | '"' | '\'' | '(' | '<' | '>') || c.is_whitespace()
}

/// Whether `text` starts with the percent escape `%XY` of `hex` (any case).
fn escape_at(text: &str, hex: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 3 && bytes[0] == b'%' && bytes[1..3].eq_ignore_ascii_case(hex.as_bytes())
}

/// The length of the parameter separator `text` starts with: a
/// [`starts_param`] character, or a percent-encoded `?`, `&` or `#`
/// (`%3F`, `%26`, `%23`) of a nested, encoded query.
fn separator_len(text: &str) -> Option<usize> {
    let c = text.chars().next()?;
    if starts_param(c) {
        Some(c.len_utf8())
    } else if ["3F", "26", "23"].iter().any(|hex| escape_at(text, hex)) {
        Some(3)
    } else {
        None
    }
}

/// The length of the assignment `text` starts with: `=` or its escape
/// `%3D`.
fn assignment_len(text: &str) -> Option<usize> {
    if text.starts_with('=') {
        Some(1)
    } else if escape_at(text, "3D") {
        Some(3)
    } else {
        None
    }
}

/// Where the value at the start of `text` ends.
fn value_len(text: &str) -> usize {
    text.char_indices()
        .find(|(i, c)| {
            ends_value(*c) || escape_at(&text[*i..], "26") || escape_at(&text[*i..], "23")
        })
        .map_or(text.len(), |(i, _)| i)
}

/// Where the parameter name at the start of `text` ends: at an assignment,
/// a separator or the end of a value.
fn name_len(text: &str) -> usize {
    text.char_indices()
        .find(|(i, c)| {
            let rest = &text[*i..];
            ends_value(*c) || assignment_len(rest).is_some() || separator_len(rest).is_some()
        })
        .map_or(text.len(), |(i, _)| i)
}

fn redact_params(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0; // bytes of `text` already in `out`
    let mut at_start = true;
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if let Some(len) = separator_len(&text[i..]) {
            at_start = true;
            i += len;
            continue;
        }
        let next = i + c.len_utf8();
        if !at_start {
            i = next;
            continue;
        }
        at_start = false;
        // A candidate name starts at `i`: read it up to the assignment.
        let name_end = i + name_len(&text[i..]);
        let Some(assign) = assignment_len(&text[name_end..]) else {
            i = next;
            continue;
        };
        if name_end == i || !is_secret_param(&text[i..name_end]) {
            i = next;
            continue;
        }
        let value_start = name_end + assign;
        let value_end = value_start + value_len(&text[value_start..]);
        if value_end == value_start || &text[value_start..value_end] == REDACTED {
            i = next;
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(REDACTED);
        copied = value_end;
        i = value_end;
    }
    if copied == 0 {
        Cow::Borrowed(text)
    } else {
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// `scheme://user:password@host` with the password redacted.
fn redact_userinfo(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let authority_start = search + found + 3;
        let authority_len = text[authority_start..]
            .find(|c: char| matches!(c, '/' | '?' | '#') || ends_value(c))
            .unwrap_or(text.len() - authority_start);
        let authority = &text[authority_start..authority_start + authority_len];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && colon + 1 < at
            && &authority[colon + 1..at] != REDACTED
        {
            let password_start = authority_start + colon + 1;
            out.push_str(&text[copied..password_start]);
            out.push_str(REDACTED);
            copied = authority_start + at;
        }
        search = authority_start + authority_len;
    }
    if copied == 0 {
        Cow::Borrowed(text)
    } else {
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// `name` percent-decoded (`+` as a space), lower-cased; undecodable bytes
/// are kept.
fn percent_decode_lower(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

/// Body text shown in an error: [`redact_url`], and the string value of
/// every JSON member whose name is a credential (`"access_token":
/// "…"`, as a token answer cut short would show it; not `"code"`, the
/// platform's answer code there) replaced by `<redacted>`, up to its
/// closing quote or the end of the text.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let params = redact_url(text);
    match redact_json_members(&params) {
        Cow::Borrowed(_) => params,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// The end (exclusive, past the closing quote when there is one) of the
/// JSON string whose opening quote is at `start`.
fn json_string_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn redact_json_members(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while let Some(found) = text[i..].find('"') {
        let key_start = i + found;
        let key_end = json_string_end(text, key_start);
        i = key_end;
        if key_end > text.len() || !text[..key_end].ends_with('"') || key_end - key_start < 2 {
            continue;
        }
        let rest = &text[key_end..];
        let after_ws = rest.trim_start();
        let Some(after_colon) = after_ws.strip_prefix(':') else {
            continue;
        };
        let value = after_colon.trim_start();
        if !value.starts_with('"') {
            continue;
        }
        // `code` is a credential in a query (the OAuth code) but the
        // platform's answer code in a body (`"code": "0"`).
        let key = &text[key_start + 1..key_end - 1];
        if key.eq_ignore_ascii_case("code") || !is_secret_param(key) {
            continue;
        }
        let value_start = text.len() - value.len();
        let value_end = json_string_end(text, value_start);
        let inner_end = if text[..value_end].ends_with('"') && value_end > value_start + 1 {
            value_end - 1
        } else {
            value_end
        };
        if &text[value_start + 1..inner_end] != REDACTED && inner_end > value_start + 1 {
            out.push_str(&text[copied..value_start + 1]);
            out.push_str(REDACTED);
            copied = inner_end;
        }
        i = value_end;
    }
    if copied == 0 {
        Cow::Borrowed(text)
    } else {
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_values_are_redacted_and_the_rest_kept() {
        let cases = [
            (
                "https://api.miravia.es/rest/seller/get?access_token=AT-1&app_key=123456&sign=ABCDEF&timestamp=1",
                "https://api.miravia.es/rest/seller/get?access_token=<redacted>&app_key=123456&sign=<redacted>&timestamp=1",
            ),
            (
                "/auth/token/create?code=0_123_abc&refresh_token=r1",
                "/auth/token/create?code=<redacted>&refresh_token=<redacted>",
            ),
            (
                "https://x.example/cb#access_token=t&state=s",
                "https://x.example/cb#access_token=<redacted>&state=s",
            ),
            (
                "https://x.example/?APP_SECRET=s&Client_Secret=c&x_api_token=t&user_password=p",
                "https://x.example/?APP_SECRET=<redacted>&Client_Secret=<redacted>&x_api_token=<redacted>&user_password=<redacted>",
            ),
            (
                "https://x.example/?access%5Ftoken=t",
                "https://x.example/?access%5Ftoken=<redacted>",
            ),
            (
                "https://user:hunter2@x.example/p?q=1",
                "https://user:<redacted>@x.example/p?q=1",
            ),
            (
                "bad uri: http://h/p?sign=S is missing scheme",
                "bad uri: http://h/p?sign=<redacted> is missing scheme",
            ),
            ("sign=S", "sign=<redacted>"),
            // Not credentials: kept.
            (
                "https://x.example/rest/order/get?order_id=1&app_key=123&sign_method=sha256",
                "https://x.example/rest/order/get?order_id=1&app_key=123&sign_method=sha256",
            ),
            ("no url at all", "no url at all"),
            ("https://x.example/?code=", "https://x.example/?code="),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url(input), want, "{input}");
            // Redacting twice changes nothing.
            assert_eq!(redact_url(want), want, "{want}");
        }
    }

    #[test]
    fn percent_encoded_nested_queries_are_redacted() {
        let cases = [
            // A login page's `next=` holding the signed request, encoded.
            (
                "https://login.example/?next=%2Frest%2Fseller%2Fget%3Faccess_token%3DAT%26sign%3DS",
                "https://login.example/?next=%2Frest%2Fseller%2Fget%3Faccess_token%3D<redacted>%26sign%3D<redacted>",
            ),
            // Lower-case escapes, and a value ending at a plain `&`.
            (
                "/?next=%2fx%3faccess_token%3dAT&sign=S&state=1",
                "/?next=%2fx%3faccess_token%3d<redacted>&sign=<redacted>&state=1",
            ),
            // An encoded name and an encoded `#` ending the value.
            (
                "?r=%3Faccess%5Ftoken%3DAT%23frag",
                "?r=%3Faccess%5Ftoken%3D<redacted>%23frag",
            ),
            // Non-credentials inside the nested query are kept.
            (
                "?next=%2Fx%3Fapp_key%3D123%26sign_method%3Dsha256",
                "?next=%2Fx%3Fapp_key%3D123%26sign_method%3Dsha256",
            ),
            // A name right after an HTML tag.
            ("<p>access_token=AT</p>", "<p>access_token=<redacted></p>"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_url(input), want, "{input}");
            assert_eq!(redact_url(want), want, "{want}");
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        for input in [
            "%",
            "?%",
            "?%4",
            "?a%zz=1",
            "?=&=#=",
            "://@",
            "a://:@",
            "?é=1&sign=é",
            "&&&",
            "%3D",
            "%3Dsign%3D",
            "?sign%3",
            "%26sign%3D%26",
            "a%3Fé%3D1",
        ] {
            let _ = redact_url(input);
        }
        assert_eq!(redact_url("?sign=é&x=1"), "?sign=<redacted>&x=1");
    }

    #[test]
    fn json_members_holding_credentials_are_redacted_even_cut_short() {
        let cases = [
            (
                r#"{"access_token": "AT-1", "expires_in": 3600, "refresh_token":"RT-2"}"#,
                r#"{"access_token": "<redacted>", "expires_in": 3600, "refresh_token":"<redacted>"}"#,
            ),
            // Cut short inside the value, as a truncated answer is.
            (
                r#"{"code":"0","access_token":"AT-Lo"#,
                r#"{"code":"0","access_token":"<redacted>"#,
            ),
            // Escaped quotes stay inside the value.
            (
                r#"{"app_secret":"a\"b","x":"y"}"#,
                r#"{"app_secret":"<redacted>","x":"y"}"#,
            ),
            // Not credentials, or not strings: kept.
            (
                r#"{"app_key":"123","token":5,"name":"t"}"#,
                r#"{"app_key":"123","token":5,"name":"t"}"#,
            ),
            (r#"{"sign"#, r#"{"sign"#),
        ];
        for (text, want) in cases {
            assert_eq!(redact_text(text), want, "{text}");
        }
    }
}
