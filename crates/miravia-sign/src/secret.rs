//! The app secret (as a keyed HMAC state) and the signature it produces.

use std::fmt;

use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Kind};

pub(crate) type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Length of a signature in bytes (HMAC-SHA256).
const SIGNATURE_LEN: usize = 32;

/// The App Secret of an Open Platform application, ready to sign with.
///
/// The secret is keyed into an HMAC-SHA256 state once, when the value is
/// made; every signature starts from a copy of that state. The secret text
/// itself is not kept, and the keyed state is wiped when the value is
/// dropped.
///
/// `Debug` prints `AppSecret(<redacted>)`; there is no `Display` and no way
/// to read the secret back.
#[derive(Clone)]
pub struct AppSecret {
    keyed: HmacSha256,
}

impl AppSecret {
    /// Keys a signer with the App Secret, taken as UTF-8 text.
    ///
    /// # Errors
    /// If the secret is empty, or starts or ends with whitespace (a copy-paste
    /// artefact that would silently produce wrong signatures).
    pub fn new(secret: &str) -> Result<Self, Error> {
        if secret.is_empty() {
            return Err(Error::new(Kind::EmptySecret));
        }
        if secret.starts_with(char::is_whitespace) || secret.ends_with(char::is_whitespace) {
            return Err(Error::new(Kind::SecretWhitespace));
        }
        // HMAC accepts keys of any length, so this never falls back; the
        // fallback only keeps the code free of `expect`.
        let keyed = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
        Ok(Self { keyed })
    }

    /// Like [`AppSecret::new`], taking ownership of the text so that it is
    /// wiped from memory once keyed, whether or not it was valid.
    ///
    /// # Errors
    /// As [`AppSecret::new`].
    pub fn from_string(secret: String) -> Result<Self, Error> {
        let secret = Zeroizing::new(secret);
        Self::new(&secret)
    }

    /// A fresh HMAC state keyed with the secret.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.keyed.clone()
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

/// An HMAC-SHA256 request signature: the value of the `sign` parameter.
///
/// `Display` (and [`Signature::to_hex`]) gives the 64 uppercase hexadecimal
/// digits the platform expects. Equality is compared in constant time; to
/// check a signature received from a client, use [`verify`](crate::verify).
#[derive(Clone, Copy)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    pub(crate) fn from_mac(mac: HmacSha256) -> Self {
        Self(mac.finalize().into_bytes().into())
    }

    /// The 32 raw bytes of the HMAC.
    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }

    /// The signature as 64 uppercase hexadecimal digits, as sent in `sign`.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [0u8; 2 * SIGNATURE_LEN];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0F)];
        }
        // Every byte written above is an ASCII hex digit.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Signature {}

/// Decodes a claimed signature: exactly 64 hex digits, either case.
pub(crate) fn decode_hex(claimed: &str) -> Result<[u8; SIGNATURE_LEN], Error> {
    if let Some(index) = claimed.chars().position(|c| !c.is_ascii_hexdigit()) {
        return Err(Error::new(Kind::SignatureNotHex {
            position: index + 1,
        }));
    }
    // All ASCII from here on, so bytes and characters coincide.
    let digits = claimed.as_bytes();
    if digits.len() != 2 * SIGNATURE_LEN {
        return Err(Error::new(Kind::SignatureLength { len: digits.len() }));
    }
    let mut out = [0u8; SIGNATURE_LEN];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
    }
    Ok(out)
}

/// The value of an ASCII hex digit (checked by the caller).
fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'A'..=b'F' => digit - b'A' + 10,
        b'a'..=b'f' => digit - b'a' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = AppSecret::new("helloworld").unwrap();
        assert_eq!(format!("{secret:?}"), "AppSecret(<redacted>)");
        assert_eq!(format!("{secret:#?}"), "AppSecret(<redacted>)");
    }

    #[test]
    fn empty_secret_is_rejected() {
        let error = AppSecret::new("").unwrap_err();
        assert_eq!(
            error.to_string(),
            "app secret is empty: copy the App Secret of your application from the \
             Open Platform console"
        );
        for padded in [" s", "s ", "s\n", "\ts"] {
            assert!(AppSecret::new(padded).is_err(), "{padded:?}");
        }
    }

    #[test]
    fn from_string_signs_like_new() {
        let a = AppSecret::new("helloworld").unwrap();
        let b = AppSecret::from_string("helloworld".to_owned()).unwrap();
        let sig = |s: &AppSecret| {
            let mut mac = s.mac();
            mac.update(b"/");
            Signature::from_mac(mac)
        };
        assert_eq!(sig(&a), sig(&b));
        // Python: hmac.new(b"helloworld", b"/", hashlib.sha256).hexdigest().upper()
        assert_eq!(
            sig(&a).to_string(),
            "031DCACF2CBEE0B09DD86B73AC2178227F320BEDB9D36ED40AC07047C6A89715"
        );
    }

    #[test]
    fn keyed_state_is_reusable() {
        let secret = AppSecret::new("helloworld").unwrap();
        // Python: hmac.new(b"helloworld", b"", hashlib.sha256).hexdigest().upper()
        let empty = "98776DE1F62F9AFC4A5A51532638DA0F870D53820424AF959908590AC6B1B4B1";
        for _ in 0..3 {
            assert_eq!(Signature::from_mac(secret.mac()).to_string(), empty);
        }
    }

    #[test]
    fn hash_state_is_wiped_on_drop() {
        // Holds only with sha2's `zeroize` feature, which this crate enables:
        // the keyed HMAC state is made of SHA-256 states.
        fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wipes_on_drop::<sha2::Sha256>();
    }

    #[test]
    fn signature_formats() {
        let bytes: [u8; 32] = core::array::from_fn(|i| u8::try_from(i * 8).unwrap());
        let sig = Signature(bytes);
        // Python: bytes(i * 8 for i in range(32)).hex().upper()
        let hex = "0008101820283038404850586068707880889098A0A8B0B8C0C8D0D8E0E8F0F8";
        assert_eq!(sig.to_string(), hex);
        assert_eq!(format!("{sig:?}"), format!("Signature({hex})"));
        assert_eq!(decode_hex(hex).unwrap(), bytes);
        assert_eq!(decode_hex(&hex.to_ascii_lowercase()).unwrap(), bytes);
        assert_eq!(sig.as_bytes(), &bytes);
    }

    #[test]
    fn malformed_hex_is_rejected() {
        let hex = "A".repeat(64);
        assert!(decode_hex(&hex).is_ok());
        assert!(decode_hex(&hex[..63]).is_err());
        assert!(decode_hex(&format!("{hex}A")).is_err());
        assert!(decode_hex(&format!("{}-", &hex[..63])).is_err());
        assert!(decode_hex(&format!("+{}", &hex[..63])).is_err());
        assert!(decode_hex("").is_err());
    }
}
