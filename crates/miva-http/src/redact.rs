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
/// use miva_http::redact_url;
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

/// A value ends at one of these (or at the end of the text).
fn ends_value(c: char) -> bool {
    matches!(c, '&' | '#' | ';' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
}

/// A parameter starts after one of these (or at the start of the text).
fn starts_param(c: char) -> bool {
    matches!(c, '?' | '&' | '#' | ';' | '"' | '\'' | '(' | '<') || c.is_whitespace()
}

fn redact_params(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0; // bytes of `text` already in `out`
    let mut at_start = true;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !at_start {
            at_start = starts_param(c);
            continue;
        }
        at_start = starts_param(c);
        if at_start {
            continue;
        }
        // A candidate name starts at `i`: read it up to '='.
        let rest = &text[i..];
        let name_len = rest
            .find(|ch: char| ch == '=' || ends_value(ch) || ch == '?')
            .unwrap_or(rest.len());
        if !rest[name_len..].starts_with('=') || name_len == 0 {
            continue;
        }
        let name = &rest[..name_len];
        if !is_secret_param(name) {
            continue;
        }
        let value_start = i + name_len + 1;
        let value_len = text[value_start..]
            .find(ends_value)
            .unwrap_or(text.len() - value_start);
        if value_len == 0 || &text[value_start..value_start + value_len] == REDACTED {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(REDACTED);
        copied = value_start + value_len;
        // Skip the value.
        while chars.peek().is_some_and(|(j, _)| *j < copied) {
            chars.next();
        }
        at_start = false;
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
        ] {
            let _ = redact_url(input);
        }
        assert_eq!(redact_url("?sign=é&x=1"), "?sign=<redacted>&x=1");
    }
}
