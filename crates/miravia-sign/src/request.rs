//! Building a complete signed parameter set: system parameters, business
//! parameters and `sign`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::canonical::{Param, SIGN, check_path, sign_sorted, sorted_params};
use crate::encode::form_urlencode;
use crate::error::{Error, Kind};
use crate::secret::{AppSecret, Signature};

const APP_KEY: &str = "app_key";
const ACCESS_TOKEN: &str = "access_token";
const TIMESTAMP: &str = "timestamp";
const SIGN_METHOD: &str = "sign_method";
const PARTNER_ID: &str = "partner_id";

/// The only signing method this crate implements (HMAC-SHA256).
pub const SIGN_METHOD_SHA256: &str = "sha256";

/// Parameters [`RequestSigner`] sets itself.
const SYSTEM_PARAMS: [&str; 6] = [
    APP_KEY,
    ACCESS_TOKEN,
    TIMESTAMP,
    SIGN_METHOD,
    PARTNER_ID,
    SIGN,
];

/// Values printed as `<redacted>` by `SignedParams`'s `Debug`.
const REDACTED_PARAMS: [&str; 2] = [ACCESS_TOKEN, SIGN];

/// The request time sent as `timestamp`: milliseconds since the Unix epoch.
///
/// The crate never reads the clock; pass the current time in. The platform
/// rejects requests whose timestamp is more than 7200 seconds from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp of `millis` milliseconds since 1970-01-01T00:00:00Z.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// The timestamp for a point in time, e.g. `SystemTime::now()`.
    ///
    /// # Errors
    /// If `time` is before the Unix epoch or too far in the future for
    /// 64-bit milliseconds.
    pub fn from_system_time(time: SystemTime) -> Result<Self, Error> {
        let since_epoch = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::new(Kind::TimestampBeforeEpoch))?;
        u64::try_from(since_epoch.as_millis())
            .map(Self)
            .map_err(|_| Error::new(Kind::TimestampOutOfRange))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

impl TryFrom<SystemTime> for Timestamp {
    type Error = Error;

    fn try_from(time: SystemTime) -> Result<Self, Error> {
        Self::from_system_time(time)
    }
}

impl fmt::Display for Timestamp {
    /// The decimal milliseconds, as sent in `timestamp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Signs whole requests for one application: adds the system parameters
/// (`app_key`, `timestamp`, `sign_method=sha256`, and `access_token` and
/// `partner_id` when set) to the business parameters and signs them all.
///
/// `Debug` redacts the secret and the access token.
///
/// # Example
/// ```
/// use miravia_sign::{AppSecret, RequestSigner, Timestamp};
///
/// # fn main() -> Result<(), miravia_sign::Error> {
/// let signer = RequestSigner::new("123456", AppSecret::new("helloworld")?)?
///     .with_access_token("test")?;
/// let signed = signer.sign(
///     "/order/get",
///     Timestamp::from_millis(1517820392000),
///     &[("order_id", "1234")],
///     None,
/// )?;
/// assert_eq!(signed.get("sign_method"), Some("sha256"));
/// assert_eq!(
///     signed.signature().to_string(),
///     "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RequestSigner {
    app_key: String,
    secret: AppSecret,
    access_token: Option<Zeroizing<String>>,
    partner_id: Option<String>,
}

impl RequestSigner {
    /// A signer for the application `app_key` with its App Secret, without
    /// access token (enough for `/auth/token/create` and
    /// `/auth/token/refresh`).
    ///
    /// # Errors
    /// If `app_key` is empty.
    pub fn new(app_key: &str, secret: AppSecret) -> Result<Self, Error> {
        if app_key.is_empty() {
            return Err(Error::new(Kind::EmptyAppKey));
        }
        Ok(Self {
            app_key: app_key.to_owned(),
            secret,
            access_token: None,
            partner_id: None,
        })
    }

    /// Sends and signs `access_token`, the seller authorization that most
    /// APIs require.
    ///
    /// # Errors
    /// If `access_token` is empty (leave it out instead).
    pub fn with_access_token(mut self, access_token: &str) -> Result<Self, Error> {
        if access_token.is_empty() {
            return Err(Error::new(Kind::EmptyAccessToken));
        }
        self.access_token = Some(Zeroizing::new(access_token.to_owned()));
        Ok(self)
    }

    /// Sends and signs `partner_id`, an identifier of the calling client
    /// (the official SDKs send e.g. `lazop-sdk-python-20181207`).
    ///
    /// # Errors
    /// If `partner_id` is empty (leave it out instead).
    pub fn with_partner_id(mut self, partner_id: &str) -> Result<Self, Error> {
        if partner_id.is_empty() {
            return Err(Error::new(Kind::EmptyPartnerId));
        }
        self.partner_id = Some(partner_id.to_owned());
        Ok(self)
    }

    /// The application's App Key.
    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    /// Signs one request to `api_path` (e.g. `/order/get`, the part of the
    /// URL after `/rest`) sent at `timestamp`, with business parameters
    /// `params` and, for APIs that sign it, a request `body`.
    ///
    /// Business parameters with an empty value are dropped, from the
    /// signature and from the result alike, so what is sent is exactly what
    /// was signed. The body is signed but not included in the result.
    ///
    /// # Errors
    /// As [`string_to_sign`](crate::string_to_sign); also if a business
    /// parameter is named like a system parameter (`app_key`,
    /// `access_token`, `timestamp`, `sign_method`, `partner_id`, `sign`).
    pub fn sign<P: Param>(
        &self,
        api_path: &str,
        timestamp: Timestamp,
        params: impl IntoIterator<Item = P>,
        body: Option<&str>,
    ) -> Result<SignedParams, Error> {
        check_path(api_path)?;
        let mut entries = Vec::new();
        for param in params {
            if let Some(reserved) = SYSTEM_PARAMS.into_iter().find(|name| *name == param.name()) {
                return Err(Error::new(Kind::ReservedParam { name: reserved }));
            }
            entries.push(Entry::new(param.name(), param.value()));
        }
        entries.push(Entry::new(APP_KEY, &self.app_key));
        entries.push(Entry::new(TIMESTAMP, &timestamp.to_string()));
        entries.push(Entry::new(SIGN_METHOD, SIGN_METHOD_SHA256));
        if let Some(token) = &self.access_token {
            entries.push(Entry::new(ACCESS_TOKEN, token));
        }
        if let Some(partner_id) = &self.partner_id {
            entries.push(Entry::new(PARTNER_ID, partner_id));
        }

        let mut entries = sorted_params(entries)?;
        entries.retain(|entry| !entry.value.is_empty());
        let signature = sign_sorted(&self.secret, api_path, &entries, body);
        entries.push(Entry::new(SIGN, &signature.to_string()));
        Ok(SignedParams { entries, signature })
    }
}

impl fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSigner")
            .field("app_key", &self.app_key)
            .field("secret", &self.secret)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| Redacted),
            )
            .field("partner_id", &self.partner_id)
            .finish()
    }
}

/// One parameter of a [`SignedParams`]; wiped on drop, since one of them is
/// the access token.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct Entry {
    name: String,
    value: String,
}

impl Entry {
    fn new(name: &str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }
}

impl Param for Entry {
    fn name(&self) -> &str {
        &self.name
    }

    fn value(&self) -> &str {
        &self.value
    }
}

/// Every parameter of a signed request, `sign` included: exactly what to
/// send.
///
/// The parameters come sorted by name (the order they were signed in) with
/// `sign` last; the platform accepts them in any order. None has an empty
/// value. Send them all in the URL query
/// ([`SignedParams::to_urlencoded`] after `?`), all in an
/// `application/x-www-form-urlencoded` POST body (the same string), or
/// split the way the Java SDK does: [`SignedParams::system_params`] in the
/// query and [`SignedParams::business_params`] in the body, each encoded
/// with [`form_urlencode`](crate::form_urlencode).
///
/// The values include the access token: they are wiped on drop, and `Debug`
/// prints `access_token` and `sign` as `<redacted>`.
#[derive(Clone)]
pub struct SignedParams {
    entries: Vec<Entry>,
    signature: Signature,
}

impl SignedParams {
    /// All parameters as `(name, value)`, values raw (not encoded).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
    }

    /// The system parameters (`access_token`, `app_key`, `partner_id`,
    /// `sign_method`, `timestamp` as present, then `sign`).
    pub fn system_params(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.iter().filter(|(name, _)| SYSTEM_PARAMS.contains(name))
    }

    /// The business parameters that were signed (those with a non-empty
    /// value).
    pub fn business_params(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.iter()
            .filter(|(name, _)| !SYSTEM_PARAMS.contains(name))
    }

    /// The value of parameter `name`, if it is sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.value.as_str())
    }

    /// The number of parameters, `sign` included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always `false`: there is at least `sign`, `app_key`, `timestamp` and
    /// `sign_method`.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The signature, also the value of `sign`.
    pub fn signature(&self) -> Signature {
        self.signature
    }

    /// All parameters percent-encoded as `name=value&...` (see
    /// [`form_urlencode`](crate::form_urlencode)): the URL query after `?`,
    /// or an `application/x-www-form-urlencoded` body. It contains the
    /// access token in clear.
    pub fn to_urlencoded(&self) -> String {
        form_urlencode(self.iter())
    }
}

impl fmt::Debug for SignedParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entries<'a>(&'a [Entry]);

        impl fmt::Debug for Entries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut map = f.debug_map();
                for entry in self.0 {
                    if REDACTED_PARAMS.contains(&entry.name.as_str()) {
                        map.entry(&entry.name, &Redacted);
                    } else {
                        map.entry(&entry.name, &entry.value);
                    }
                }
                map.finish()
            }
        }

        f.debug_struct("SignedParams")
            .field("params", &Entries(&self.entries))
            .finish()
    }
}

/// Prints `<redacted>` in place of a secret value.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
