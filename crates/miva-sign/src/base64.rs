//! Base64 as Miva's admin hands it out: standard or URL-safe alphabet, with
//! or without `=` padding, and errors that point at the offending character.

use zeroize::Zeroizing;

/// Why a base64 text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base64Error {
    Empty,
    /// A character outside both alphabets, with its 1-based position.
    BadChar {
        ch: char,
        position: usize,
    },
    /// `+`/`/` and `-`/`_` mixed in one text.
    MixedAlphabets {
        position: usize,
    },
    /// A length that no base64 text has (one character left over).
    Truncated {
        len: usize,
    },
}

impl Base64Error {
    /// A sentence describing the problem; never includes the text itself.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Empty => "it is empty".to_owned(),
            Self::BadChar { ch, position } => format!(
                "found {} at position {position}, which is not a base64 character",
                describe_char(*ch)
            ),
            Self::MixedAlphabets { position } => format!(
                "it mixes the standard (+ /) and URL-safe (- _) alphabets \
                 (position {position})"
            ),
            Self::Truncated { len } => format!(
                "its length ({len} characters without padding) is one more than \
                 a whole base64 text can have, so a character is missing or extra"
            ),
        }
    }
}

fn describe_char(ch: char) -> String {
    if ch.is_ascii_graphic() {
        format!("'{ch}'")
    } else {
        format!("U+{:04X}", u32::from(ch))
    }
}

fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes standard or URL-safe base64, padded or not. Leading and trailing
/// ASCII whitespace (a copy-paste artefact) is ignored; whitespace inside is
/// an error. Unused trailing bits are ignored, as the official SDKs do.
pub(crate) fn decode(text: &str) -> Result<Zeroizing<Vec<u8>>, Base64Error> {
    let leading = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let body = trimmed.trim_end_matches('=');
    if body.is_empty() {
        return Err(Base64Error::Empty);
    }
    if trimmed.len() - body.len() > 2 {
        return Err(Base64Error::BadChar {
            ch: '=',
            position: leading + char_count(body) + 3,
        });
    }
    let mut standard = None;
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() * 3 / 4));
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for (index, ch) in body.chars().enumerate() {
        let position = leading + index + 1;
        let byte = u8::try_from(ch).ok();
        let Some(value) = byte.and_then(sextet) else {
            return Err(Base64Error::BadChar { ch, position });
        };
        if let Some(b) = byte.filter(|b| matches!(b, b'+' | b'/' | b'-' | b'_')) {
            let is_standard = matches!(b, b'+' | b'/');
            match standard {
                None => standard = Some(is_standard),
                Some(s) if s != is_standard => {
                    return Err(Base64Error::MixedAlphabets { position });
                }
                Some(_) => {}
            }
        }
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Truncation intended: the low 8 bits are the next byte.
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if body.len() % 4 == 1 {
        return Err(Base64Error::Truncated { len: body.len() });
    }
    Ok(out)
}

fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// Standard base64 with padding, the form every Miva header uses.
pub(crate) fn encode(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(bytes)
}

/// Appends standard padded base64 of `bytes` to `out` without an
/// intermediate allocation.
///
/// Used for signatures, which go on the wire in clear: a plain table
/// lookup, not the constant-time encoder used for keys (that one was a
/// tenth of the cost of an HMAC header).
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(bytes.len().div_ceil(3) * 4);
    // 48 input bytes -> 64 characters per push.
    for block in bytes.chunks(48) {
        let mut buf = [0u8; 64];
        let mut n = 0;
        for chunk in block.chunks(3) {
            let b0 = chunk[0];
            let b1 = chunk.get(1).copied().unwrap_or(0);
            let b2 = chunk.get(2).copied().unwrap_or(0);
            buf[n] = TABLE[usize::from(b0 >> 2)];
            buf[n + 1] = TABLE[usize::from(((b0 & 0x03) << 4) | (b1 >> 4))];
            buf[n + 2] = if chunk.len() > 1 {
                TABLE[usize::from(((b1 & 0x0F) << 2) | (b2 >> 6))]
            } else {
                b'='
            };
            buf[n + 3] = if chunk.len() > 2 {
                TABLE[usize::from(b2 & 0x3F)]
            } else {
                b'='
            };
            n += 4;
        }
        // Only table characters and '=' were written: ASCII.
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_padded_unpadded_and_url_safe() {
        // The document's example key: 43 characters, 32 bytes once decoded.
        let unpadded = decode("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ").unwrap();
        let padded = decode("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ=").unwrap();
        let url = decode("NglO1_NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ").unwrap();
        assert_eq!(unpadded.len(), 32);
        assert_eq!(*unpadded, *padded);
        assert_eq!(*unpadded, *url);
    }

    #[test]
    fn decodes_rfc4648_examples() {
        // RFC 4648 section 10 test vectors.
        for (text, plain) in [
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
            ("Zm9vYmE", "fooba"),
        ] {
            assert_eq!(&**decode(text).unwrap(), plain.as_bytes(), "{text}");
        }
    }

    #[test]
    fn names_the_bad_character_and_its_position() {
        let err = decode("NglO1/NYZeY%nID0").unwrap_err();
        assert_eq!(
            err,
            Base64Error::BadChar {
                ch: '%',
                position: 12
            }
        );
        assert!(err.describe().contains("'%' at position 12"));
        let err = decode("  ab cd").unwrap_err();
        assert_eq!(
            err,
            Base64Error::BadChar {
                ch: ' ',
                position: 5
            }
        );
        assert!(err.describe().contains("U+0020"));
        assert_eq!(
            decode("ab=cd").unwrap_err(),
            Base64Error::BadChar {
                ch: '=',
                position: 3
            }
        );
        assert_eq!(
            decode("ab+c_d").unwrap_err(),
            Base64Error::MixedAlphabets { position: 5 }
        );
        assert_eq!(
            decode("abcde").unwrap_err(),
            Base64Error::Truncated { len: 5 }
        );
        assert_eq!(decode("").unwrap_err(), Base64Error::Empty);
        assert_eq!(decode("===").unwrap_err(), Base64Error::Empty);
        assert!(matches!(
            decode("Zg===").unwrap_err(),
            Base64Error::BadChar { ch: '=', .. }
        ));
    }

    #[test]
    fn encode_matches_rfc4648() {
        let mut s = String::from("x:");
        encode_into(b"foob", &mut s);
        assert_eq!(s, "x:Zm9vYg==");
        let big = vec![7u8; 900];
        let mut s = String::new();
        encode_into(&big, &mut s);
        assert_eq!(s, encode(&big));
        assert_eq!(s.len(), 1200);
        // RFC 4648 section 10.
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            encode_into(input.as_bytes(), &mut s);
            assert_eq!(s, expected, "{input:?}");
        }
    }

    #[test]
    fn encode_into_agrees_with_base64ct_for_every_length_and_byte() {
        // Every length across several 48-byte blocks, every byte value in
        // every position of a 3-byte group.
        for len in 0..=200usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 97 + len * 31) as u8).collect();
            let mut s = String::new();
            encode_into(&bytes, &mut s);
            assert_eq!(s, encode(&bytes), "length {len}");
        }
        for b in 0..=255u8 {
            for pos in 0..3 {
                let mut bytes = [0x5Au8; 3];
                bytes[pos] = b;
                let mut s = String::new();
                encode_into(&bytes, &mut s);
                assert_eq!(s, encode(&bytes));
            }
        }
    }
}
