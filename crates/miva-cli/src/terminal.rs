//! Text from a server, made safe for a terminal: the one sanitizer for
//! everything the CLI prints that a store or gateway sent (error codes and
//! messages, field names, request ids, and the JSON it prints).
//!
//! A hostile or broken server could otherwise send escape sequences that
//! retitle the window (`ESC ] 0 ; title BEL`), clear the screen (`ESC [ 2 J`)
//! or rewrite what was printed before (`CR`, backspaces).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use serde_json::Value;

use crate::secrets::CliError;

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

/// Prints JSON a server sent to stdout, pretty (or `compact`), then a
/// newline: the one way the CLI prints server JSON. It is written as it is
/// made, escaped for the terminal ([`SafeJsonWriter`]) in pieces: pretty
/// text can be many times larger than the body (deep indentation), so it
/// is never held whole. A closed pipe (`| head`) is not an error.
pub(crate) fn print_json(value: &Value, compact: bool) -> Result<(), CliError> {
    match write_json(std::io::stdout().lock(), value, compact) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// [`print_json`] to any writer.
pub(crate) fn write_json<W: Write>(out: W, value: &Value, compact: bool) -> std::io::Result<()> {
    let mut out = SafeJsonWriter::new(out);
    if compact {
        serde_json::to_writer(&mut out, value)
    } else {
        serde_json::to_writer_pretty(&mut out, value)
    }
    .map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Serialized JSON passed on in pieces of about 64 KiB, each made safe for
/// a terminal ([`safe_json_bytes`]) on a character
/// boundary.
struct SafeJsonWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> SafeJsonWriter<W> {
    const CHUNK: usize = 64 * 1024;

    fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::with_capacity(Self::CHUNK + 1024),
        }
    }

    /// Writes what is pending up to the last whole character (all of it
    /// when `all`).
    fn drain(&mut self, all: bool) -> std::io::Result<()> {
        let cut = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if !all && e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let mut chunk: Vec<u8> = self.pending.drain(..cut).collect();
        safe_json_bytes(&mut chunk);
        self.inner.write_all(&chunk)
    }
}

impl<W: Write> Write for SafeJsonWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= Self::CHUNK {
            self.drain(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
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

    #[test]
    fn safe_json_writer_escapes_across_piece_boundaries() {
        // C1 controls and bidi overrides are 2- and 3-byte characters; split
        // every way across writes, they are still escaped.
        let value = serde_json::json!({"m": "x\u{9b}31m\u{202e}y".repeat(20_000)});
        let text = serde_json::to_string(&value).unwrap();
        let whole = safe_json(&text).into_owned();
        let mut out = SafeJsonWriter::new(Vec::new());
        for piece in text.as_bytes().chunks(7) {
            out.write_all(piece).unwrap();
        }
        out.flush().unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), whole);
        assert!(!whole.contains('\u{9b}'));
    }

    #[test]
    fn printed_json_is_the_same_value_escaped() {
        let value = serde_json::json!({"a": [{"m": "x\u{1b}[2J\u{9b}\u{7f}\u{202e}y"}], "n": 1});
        for compact in [false, true] {
            let mut out = Vec::new();
            write_json(&mut out, &value, compact).unwrap();
            let text = String::from_utf8(out).unwrap();
            let made = if compact {
                serde_json::to_string(&value).unwrap()
            } else {
                serde_json::to_string_pretty(&value).unwrap()
            };
            assert_eq!(text, format!("{}\n", safe_json(&made)));
            assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
    }
}
