//! A linear pre-scan of a response body, run before it is decoded: what
//! decoding it would cost in memory, and integers that would not be read
//! exactly.
//!
//! Decoding JSON into [`serde_json::Value`] expands it: `[0,0,0,...]` is
//! two bytes an element on the wire and 32 to 64 in memory, and `{"a":0}`
//! eight bytes and several hundred (a B-tree node). A body limit alone
//! therefore does not bound memory. [`scan_response`] walks the bytes
//! once, allocating nothing but a small stack (at most
//! [`MAX_DEPTH`] entries), and returns an upper estimate of the memory
//! the decoded form takes, so a caller can refuse a body before decoding
//! it.

use crate::error::{Error, ErrorKind};

/// Nesting deeper than this is not followed (`serde_json` refuses a body
/// nested deeper than 128 levels before decoding past that point, so
/// nothing after it is allocated).
pub const MAX_DEPTH: usize = 128;

/// Bytes charged for a value at the top level, or inside a string: the
/// size of a `serde_json::Value`.
const VALUE: u64 = 32;
/// Bytes charged for each element of an array: its `Value` slot, twice
/// (a `Vec` grows by doubling, so up to half its capacity is spare).
const ARRAY_SLOT: u64 = 2 * VALUE;
/// Bytes charged for a non-empty array's first allocation: a `Vec` of
/// `Value` starts with room for four.
const ARRAY_ALLOC: u64 = 4 * VALUE;
/// Bytes charged for a non-empty object: one B-tree leaf node of
/// `BTreeMap<String, Value>` (11 keys of 24 bytes, 11 values of 32, a
/// parent pointer and two lengths: 628 bytes, 640 as allocated).
const OBJECT_NODE: u64 = 640;
/// Bytes charged for each member of an object: its key and value slots
/// (56 bytes) in nodes that are at least about half full after splits,
/// with the internal nodes above them.
const OBJECT_MEMBER: u64 = 128;
/// Bytes charged on top of a string's length for its heap allocation
/// (allocator header and rounding).
const STRING_ALLOC: u64 = 32;

/// What [`scan_response`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ResponseScan {
    /// JSON values in the body (objects, arrays, strings, numbers,
    /// booleans, nulls; object keys not counted).
    pub values: u64,
    /// Records: the elements of the array at `data.data` (a list page) or
    /// at `data` (a bare list).
    pub records: u64,
    /// An upper estimate, in bytes, of the memory the decoded response
    /// takes as `serde_json::Value`, plus twice `record_size` for each
    /// record (typed records are held in a `Vec`).
    pub decoded_bytes: u64,
}

enum Frame {
    Array {
        index: u64,
        /// Whether this array's elements are records.
        records: bool,
    },
    Object {
        /// The current member's key, as a span of the body.
        key: Option<(usize, usize)>,
        expecting_key: bool,
        empty: bool,
    },
}

/// Scans a response body: counts its values and records and estimates the
/// memory its decoded form takes (see [`ResponseScan`]); `record_size` is
/// the in-memory size of one record of the type the records decode into
/// (`size_of::<T>()`, 0 if none). Malformed JSON is not an error here
/// (decoding reports it); the estimate then covers what was scanned.
///
/// ```
/// let scan = miva_envelope::scan_response(br#"{"success":1,"data":{"total_count":2,"data":[{"id":1},{"id":2}]}}"#, 0)?;
/// assert_eq!(scan.records, 2);
/// let big = miva_envelope::scan_response(br#"{"success":1,"data":{"id":18446744073709551616}}"#, 0);
/// assert_eq!(big.unwrap_err().path(), Some("data.id"));
/// # Ok::<(), miva_envelope::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::InexactInteger`] for an integer literal outside the range
/// of `i64` and `u64` (it would be decoded as a rounded `f64`), naming its
/// JSON path (`data.data[3].id`); [`Error::path`] gives the path.
pub fn scan_response(body: &[u8], record_size: usize) -> Result<ResponseScan, Error> {
    let record_cost = 2 * record_size as u64;
    let mut scan = ResponseScan::default();
    let mut stack: Vec<Frame> = Vec::with_capacity(16);
    let mut cost: u64 = 0;
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array { index, .. }) => *index += 1,
                    Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                    None => {}
                }
                i += 1;
            }
            b':' => {
                if let Some(Frame::Object { expecting_key, .. }) = stack.last_mut() {
                    *expecting_key = false;
                }
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b'"' => {
                let (end, escaped) = string_end(body, i + 1);
                let len = (end - (i + 1)) as u64;
                if let Some(Frame::Object {
                    key,
                    expecting_key: true,
                    empty,
                }) = stack.last_mut()
                {
                    // A member's key: its node share and its own string.
                    *key = Some((i + 1, end));
                    if *empty {
                        *empty = false;
                        cost = cost.saturating_add(OBJECT_NODE);
                    }
                    cost = cost.saturating_add(OBJECT_MEMBER + len + STRING_ALLOC);
                } else {
                    cost = cost.saturating_add(value_start(&mut scan, &stack, record_cost));
                    if len > 0 {
                        // An escaped string passes through a scratch
                        // buffer as long as itself first.
                        let copies = if escaped { 2 } else { 1 };
                        cost = cost.saturating_add(copies * len + STRING_ALLOC);
                    }
                }
                i = (end + 1).min(body.len());
            }
            b'{' | b'[' => {
                cost = cost.saturating_add(value_start(&mut scan, &stack, record_cost));
                if stack.len() >= MAX_DEPTH {
                    // serde_json stops here; nothing after this is decoded.
                    break;
                }
                if byte == b'{' {
                    stack.push(Frame::Object {
                        key: None,
                        expecting_key: true,
                        empty: true,
                    });
                } else {
                    let records = holds_records(&stack, body);
                    let empty = body[i + 1..]
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .is_none_or(|b| *b == b']');
                    if !empty {
                        cost = cost.saturating_add(ARRAY_ALLOC);
                    }
                    stack.push(Frame::Array { index: 0, records });
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                let mut integer = true;
                while i < body.len() {
                    match body[i] {
                        b'0'..=b'9' | b'-' | b'+' => {}
                        b'.' | b'e' | b'E' => integer = false,
                        _ => break,
                    }
                    i += 1;
                }
                cost = cost.saturating_add(value_start(&mut scan, &stack, record_cost));
                let literal = &body[start..i];
                if integer && !fits_64_bits(literal) {
                    let path = path(&stack, body);
                    let text = String::from_utf8_lossy(literal).into_owned();
                    return Err(Error::new(
                        ErrorKind::InexactInteger,
                        format!(
                            "the response's {path} is the integer {text}, outside the 64-bit \
                             range read exactly (-9223372036854775808 to \
                             18446744073709551615): it would be read as a rounded float, so \
                             the response is refused"
                        ),
                    )
                    .with_path(path));
                }
            }
            b't' | b'f' | b'n' => {
                cost = cost.saturating_add(value_start(&mut scan, &stack, record_cost));
                while i < body.len() && body[i].is_ascii_alphabetic() {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    scan.decoded_bytes = cost;
    Ok(scan)
}

/// The cost of a value's slot, by where it sits; counts it.
fn value_start(scan: &mut ResponseScan, stack: &[Frame], record_cost: u64) -> u64 {
    scan.values += 1;
    match stack.last() {
        Some(Frame::Array { records: true, .. }) => {
            scan.records += 1;
            ARRAY_SLOT + record_cost
        }
        Some(Frame::Array { .. }) => ARRAY_SLOT,
        // Charged with the key.
        Some(Frame::Object { .. }) => 0,
        None => VALUE,
    }
}

/// Whether an array opened under `stack` holds records: it is at `data`
/// or `data.data`.
fn holds_records(stack: &[Frame], body: &[u8]) -> bool {
    let key_is_data = |frame: &Frame| match frame {
        Frame::Object {
            key: Some((a, b)), ..
        } => &body[*a..*b] == b"data",
        _ => false,
    };
    match stack {
        [root] => key_is_data(root),
        [root, data] => key_is_data(root) && key_is_data(data),
        _ => false,
    }
}

/// The index of the closing quote of a string whose content starts at
/// `start` (or the body's end), and whether it has escapes.
fn string_end(body: &[u8], start: usize) -> (usize, bool) {
    let mut escaped = false;
    let mut i = start;
    while i < body.len() {
        match body[i] {
            b'"' => return (i, escaped),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    (body.len(), escaped)
}

/// Whether an integer literal fits `u64` (non-negative) or `i64`
/// (negative), the integers `serde_json` keeps exact.
fn fits_64_bits(literal: &[u8]) -> bool {
    let (digits, max): (&[u8], &[u8]) = match literal.strip_prefix(b"-") {
        Some(rest) => (rest, b"9223372036854775808"),
        None => (literal, b"18446744073709551615"),
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        // Not a well-formed integer: decoding reports it.
        return true;
    }
    // JSON has no leading zeros, but be exact if a server sends them.
    let first = digits
        .iter()
        .position(|d| *d != b'0')
        .unwrap_or(digits.len());
    let digits = &digits[first..];
    digits.len() < max.len() || (digits.len() == max.len() && digits <= max)
}

/// The JSON path of the current position: `data.data[3].id`.
fn path(stack: &[Frame], body: &[u8]) -> String {
    let mut out = String::new();
    for frame in stack {
        match frame {
            Frame::Array { index, .. } => out.push_str(&format!("[{index}]")),
            Frame::Object { key, .. } => {
                if !out.is_empty() {
                    out.push('.');
                }
                match key {
                    Some((a, b)) => out.push_str(&String::from_utf8_lossy(&body[*a..*b])),
                    None => out.push('?'),
                }
            }
        }
    }
    if out.is_empty() {
        out.push_str("top-level value");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scan(body: &str) -> ResponseScan {
        scan_response(body.as_bytes(), 0).unwrap()
    }

    #[test]
    fn records_are_counted_at_data_data_and_data() {
        let page = scan(r#"{"success":1,"data":{"total_count":9,"data":[{"id":1},{"id":2},3]}}"#);
        assert_eq!(page.records, 3);
        let bare = scan(r#"{"success":1,"data":[1,[2,3],{"data":[4]}]}"#);
        assert_eq!(bare.records, 3);
        assert_eq!(scan(r#"{"success":1,"data":[]}"#).records, 0);
        let typed = scan_response(br#"{"data":[1,2]}"#, 100).unwrap();
        assert_eq!(
            typed.decoded_bytes - scan(r#"{"data":[1,2]}"#).decoded_bytes,
            400
        );
    }

    #[test]
    fn estimate_grows_with_what_decoding_allocates() {
        // 2 bytes an element on the wire, a Value slot of 32 (64 with the
        // Vec's spare capacity) in memory.
        let zeros = format!("[{}0]", "0,".repeat(9999));
        let s = scan(&zeros);
        assert_eq!(s.values, 10_001);
        assert!(s.decoded_bytes >= 10_000 * 32, "{s:?}");
        // Small objects cost a B-tree node each.
        let objects = format!("[{}{{\"a\":0}}]", "{\"a\":0},".repeat(999));
        assert!(
            scan(&objects).decoded_bytes >= 1000 * 640,
            "{:?}",
            scan(&objects)
        );
        // Long strings cost about their length.
        let text = format!("[\"{}\"]", "x".repeat(100_000));
        let s = scan(&text);
        assert!(
            s.decoded_bytes >= 100_000 && s.decoded_bytes < 101_000,
            "{s:?}"
        );
        assert_eq!(scan("").decoded_bytes, 0);
    }

    #[test]
    fn nesting_is_followed_no_deeper_than_serde_json_decodes() {
        let deep = "[".repeat(1_000_000);
        let s = scan(&deep);
        assert_eq!(s.values, MAX_DEPTH as u64 + 1);
    }

    #[test]
    fn integers_outside_64_bits_are_refused_with_their_path() {
        for ok in [
            "18446744073709551615",
            "-9223372036854775808",
            "0",
            "-0",
            "1.8446744073709552e+19",
            "18446744073709551616.0",
            "1e400",
        ] {
            assert!(
                scan_response(format!(r#"{{"data":[{ok}]}}"#).as_bytes(), 0).is_ok(),
                "{ok}"
            );
        }
        for (body, path, literal) in [
            (
                r#"{"success":1,"data":{"total_count":5,"data":[{"id":1},{"id":2},{"id":3},{"id":18446744073709551616}]}}"#,
                "data.data[3].id",
                "18446744073709551616",
            ),
            (
                r#"{"data":{"x":[0,[1,-9223372036854775809]]}}"#,
                "data.x[1][1]",
                "-9223372036854775809",
            ),
            (
                r#"{"success":1,"data":{"total_count":100000000000000000000000,"data":[]}}"#,
                "data.total_count",
                "100000000000000000000000",
            ),
            (
                "99999999999999999999",
                "top-level value",
                "99999999999999999999",
            ),
        ] {
            let e = scan_response(body.as_bytes(), 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InexactInteger, "{body}");
            assert_eq!(e.path(), Some(path), "{body}");
            assert!(e.to_string().contains(literal), "{e}");
            assert!(e.to_string().contains(path), "{e}");
        }
    }

    #[test]
    fn strings_and_keys_are_not_mistaken_for_structure() {
        let s = scan(r#"{"data":{"a\"[{":"x\\\"]}","b":[1]}}"#);
        assert_eq!(s.values, 5);
        let e = scan_response(br#"{"da,ta":{"k:]":[18446744073709551616]}}"#, 0).unwrap_err();
        assert_eq!(e.path(), Some("da,ta.k:][0]"));
    }
}
