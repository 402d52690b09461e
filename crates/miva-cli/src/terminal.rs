//! Text from a server, made safe for a terminal: the one sanitizer for
//! everything the CLI prints that a store or gateway sent (error codes and
//! messages, field names, request ids, and the JSON it prints).
//!
//! A hostile or broken server could otherwise send escape sequences that
//! retitle the window (`ESC ] 0 ; title BEL`), clear the screen (`ESC [ 2 J`)
//! or rewrite what was printed before (`CR`, backspaces).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is a control character a terminal may act on: C0 (U+0000 to
/// U+001F), DEL (U+007F) and C1 (U+0080 to U+009F). Bidirectional
/// overrides (U+202A to U+202E, U+2066 to U+2069) are included: they make
/// text display in another order than it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character replaced by its Rust escape
/// (`\u{1b}`, `\n`, `\r`, `\t`): printable, on one line, and showing what
/// was sent.
pub(crate) fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Like [`safe`], but keeps line breaks: for messages the CLI composes over
/// several lines around server text.
pub(crate) fn safe_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| safe(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Serialized JSON with the characters `serde_json` leaves raw in strings
/// that a terminal may act on (DEL, C1 controls, bidirectional overrides)
/// written as `\uXXXX` escapes: the same JSON value, safe to print. C0
/// controls are escaped by `serde_json` already.
pub(crate) fn safe_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        // Outside strings JSON has only ASCII whitespace, which stays.
        if is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t' | ' ') {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`safe_json`] in place, for a serialized JSON line.
pub(crate) fn safe_json_bytes(json: &mut Vec<u8>) {
    // Every character to escape is outside ASCII but DEL.
    if !json.iter().any(|b| *b >= 0x7f) {
        return;
    }
    if let Ok(text) = std::str::from_utf8(json)
        && let Cow::Owned(safe) = safe_json(text)
    {
        *json = safe.into_bytes();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(
            safe("bad\u{1b}]0;pwned\u{7}\u{1b}[2Jthing\r\n\u{9b}31m\u{202e}x"),
            "bad\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jthing\\r\\n\\u{9b}31m\\u{202e}x"
        );
        assert_eq!(safe("plain: ünïcode ok"), "plain: ünïcode ok");
        assert_eq!(safe_lines("a\u{1b}c\nb"), "a\\u{1b}c\nb");
    }

    #[test]
    fn json_stays_the_same_value() {
        let value = serde_json::json!({"m": "x\u{1b}[2J\u{9b}\u{7f}\u{202e}y"});
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        let safe = safe_json(&text);
        assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back, value);
    }
}
