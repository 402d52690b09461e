//! The string to sign, and signing / verifying it.

use hmac::Mac;

use crate::error::{Error, Kind};
use crate::secret::{AppSecret, Signature, decode_hex};

/// Name of the parameter that carries the signature; never signed itself.
pub(crate) const SIGN: &str = "sign";

/// One text parameter of a request: a name and its value.
///
/// Implemented for pairs of anything that is `AsRef<str>` (`(&str, &str)`,
/// `(String, String)`, the `(&K, &V)` items of a `BTreeMap` or `HashMap`)
/// and for references to such pairs, so a slice such as
/// `&[("order_id", "1234")]` can be passed directly.
///
/// Values are the raw, decoded text (never URL-encoded): encoding happens
/// only when the request is put on the wire.
///
/// Only text parameters are signed. File parameters (the byte-array parts of
/// a multipart upload) are outside the signature on the platform: do not
/// pass them to this crate, attach them to the request yourself.
pub trait Param {
    /// The parameter name, e.g. `order_id`.
    fn name(&self) -> &str;
    /// The parameter value, e.g. `1234`.
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> Param for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

impl<P: Param + ?Sized> Param for &P {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn value(&self) -> &str {
        (**self).value()
    }
}

/// Checks that `path` looks like an API name such as `/order/get`.
pub(crate) fn check_path(path: &str) -> Result<(), Error> {
    if path.is_empty() {
        return Err(Error::new(Kind::EmptyPath));
    }
    if !path.starts_with('/') {
        return Err(Error::new(Kind::PathWithoutSlash {
            path: path.to_owned(),
        }));
    }
    // Fast path: printable ASCII other than `?` and `#` (every real API
    // name) needs no Unicode tables.
    if path
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
    {
        return Ok(());
    }
    if let Some(ch) = path
        .chars()
        .find(|&c| c == '?' || c == '#' || c.is_whitespace() || c.is_control())
    {
        return Err(Error::new(Kind::PathBadChar {
            path: path.to_owned(),
            ch,
        }));
    }
    Ok(())
}

/// Drops `sign`, sorts the rest by name in byte order, and rejects empty or
/// repeated names. Empty values are kept here (a name given twice is an
/// error even if one value is empty); [`feed`] skips them.
pub(crate) fn sorted_params<P: Param>(
    params: impl IntoIterator<Item = P>,
) -> Result<Vec<P>, Error> {
    let params = params.into_iter();
    let mut sorted: Vec<P> = Vec::with_capacity(params.size_hint().0);
    sorted.extend(params.filter(|p| p.name() != SIGN));
    // Byte order: the platform's "ASCII order", not a locale's.
    sorted.sort_unstable_by(|a, b| byte_order(a.name(), b.name()));
    // An empty name sorts first.
    if sorted.first().is_some_and(|p| p.name().is_empty()) {
        return Err(Error::new(Kind::EmptyParamName));
    }
    if let Some(pair) = sorted.windows(2).find(|w| w[0].name() == w[1].name()) {
        return Err(Error::new(Kind::DuplicateParam {
            name: pair[0].name().to_owned(),
        }));
    }
    Ok(sorted)
}

/// `a.cmp(b)` for strings, as an inlined loop: parameter names are short,
/// and a call into `memcmp` per comparison costs more than the comparison.
#[inline(always)]
fn byte_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Most names differ in their first byte.
    if let (Some(x), Some(y)) = (a.first(), b.first())
        && x != y
    {
        return x.cmp(y);
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// Emits the string to sign piece by piece: path, then name + value of each
/// non-empty parameter in the given (sorted) order, then the body.
pub(crate) fn feed<P: Param>(
    path: &str,
    sorted: &[P],
    body: Option<&str>,
    mut sink: impl FnMut(&str),
) {
    sink(path);
    for param in sorted.iter().filter(|p| !p.value().is_empty()) {
        sink(param.name());
        sink(param.value());
    }
    if let Some(body) = body {
        sink(body);
    }
}

/// Signs already checked and sorted parameters.
pub(crate) fn sign_sorted<P: Param>(
    secret: &AppSecret,
    path: &str,
    sorted: &[P],
    body: Option<&str>,
) -> Signature {
    let mut mac = secret.mac();
    feed(path, sorted, body, |piece| mac.update(piece.as_bytes()));
    Signature::from_mac(mac)
}

/// The exact text that [`sign`] authenticates, for debugging a signature the
/// platform rejects (`IncompleteSignature`).
///
/// It is the API path, then for every parameter sorted by name in byte order
/// its name and value with no separator, then `body` if given. Parameters
/// with an empty value and the parameter `sign` are left out.
///
/// The app secret is not part of it, but parameter values are: if the
/// parameters include an `access_token`, so does this string.
///
/// # Errors
/// An empty `api_path` or one that does not start with `/` or contains `?`,
/// `#`, whitespace or control characters; a parameter with an empty name;
/// a parameter name given more than once.
///
/// # Example
/// ```
/// let params = [("b", "2"), ("a", "1"), ("empty", ""), ("sign", "ignored")];
/// let text = miravia_sign::string_to_sign("/test/api", &params, Some("BODY"))?;
/// assert_eq!(text, "/test/apia1b2BODY");
/// # Ok::<(), miravia_sign::Error>(())
/// ```
pub fn string_to_sign<P: Param>(
    api_path: &str,
    params: impl IntoIterator<Item = P>,
    body: Option<&str>,
) -> Result<String, Error> {
    check_path(api_path)?;
    let sorted = sorted_params(params)?;
    let mut text = String::new();
    feed(api_path, &sorted, body, |piece| text.push_str(piece));
    Ok(text)
}

/// Signs a request: HMAC-SHA256 keyed with the app secret over
/// [`string_to_sign`]`(api_path, params, body)`.
///
/// `api_path` is the API name, the part of the URL after `/rest` (so
/// `/order/get` for `https://api.miravia.es/rest/order/get`); signing
/// `/rest/order/get` or a path with a trailing slash gives a signature the
/// platform rejects. `params` are all text parameters that will be sent,
/// system parameters included (`app_key`, `timestamp`, `sign_method`,
/// `access_token`, ...); [`RequestSigner`](crate::RequestSigner) adds those
/// for you. Leave parameters with an empty value off the wire: they are not
/// signed.
///
/// # Errors
/// As [`string_to_sign`].
pub fn sign<P: Param>(
    secret: &AppSecret,
    api_path: &str,
    params: impl IntoIterator<Item = P>,
    body: Option<&str>,
) -> Result<Signature, Error> {
    check_path(api_path)?;
    let sorted = sorted_params(params)?;
    Ok(sign_sorted(secret, api_path, &sorted, body))
}

/// Checks a received signature, for servers and tests.
///
/// `params` are the request's text parameters as received (decoded); a
/// `sign` parameter among them is ignored, so the full received set can be
/// passed. `claimed` is the value of `sign`: 64 hexadecimal digits, upper or
/// lower case. The comparison takes constant time.
///
/// This checks the signature only: that `sign_method` is `sha256` and that
/// `timestamp` is recent are up to the caller.
///
/// # Errors
/// As [`string_to_sign`]; if `claimed` is not 64 hexadecimal digits; and, if
/// the signature does not match, an error for which
/// [`Error::is_signature_mismatch`] is `true`.
pub fn verify<P: Param>(
    secret: &AppSecret,
    api_path: &str,
    params: impl IntoIterator<Item = P>,
    body: Option<&str>,
    claimed: &str,
) -> Result<(), Error> {
    check_path(api_path)?;
    let sorted = sorted_params(params)?;
    let claimed = decode_hex(claimed)?;
    let mut mac = secret.mac();
    feed(api_path, &sorted, body, |piece| {
        mac.update(piece.as_bytes())
    });
    mac.verify_slice(&claimed)
        .map_err(|_| Error::new(Kind::SignatureMismatch))
}
