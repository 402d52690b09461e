//! Responses: `success` (bool or 0/1) with `data`, or an API error with every
//! field the server sends; list pages.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::de::{FlexBool, FlexU64};
use crate::error::{Error, ErrorKind};

/// The outcome of one call: the function's `data`, or the error the store
/// answered with.
#[derive(Debug, Clone, PartialEq)]
pub enum Response<T> {
    /// `success` was true (or 1).
    Success(T),
    /// `success` was false (or 0).
    Failure(Box<ApiError>),
}

impl<T> Response<T> {
    /// As a `Result`.
    pub fn into_result(self) -> Result<T, Box<ApiError>> {
        match self {
            Self::Success(data) => Ok(data),
            Self::Failure(error) => Err(error),
        }
    }
}

/// Decodes a response body: `{"success": true|1, "data": ...}` or an error.
/// A success without `data` decodes if `T` accepts `null` (`()`, `Option`,
/// [`Value`]).
///
/// ```
/// use miva_envelope::{decode_response, Response};
///
/// let ok: Response<u32> = decode_response(br#"{"success":1,"data":7}"#)?;
/// assert_eq!(ok, Response::Success(7));
/// let err: Response<u32> = decode_response(
///     br#"{"success":false,"error_code":"access_denied","error_message":"Access denied"}"#,
/// )?;
/// let Response::Failure(e) = err else { unreachable!() };
/// assert_eq!(e.code, "access_denied");
/// # Ok::<(), miva_envelope::Error>(())
/// ```
///
/// # Errors
/// [`crate::ErrorKind::Decode`] when the body is not JSON or not this shape.
pub fn decode_response<T: DeserializeOwned>(body: &[u8]) -> Result<Response<T>, Error> {
    serde_json::from_slice(body).map_err(Error::decode)
}

/// Room for the typed records of a list page being decoded on this thread
/// (see [`decode_response_within`]).
#[derive(Clone, Copy)]
struct RecordRoom {
    records: u64,
    bytes: u64,
    /// Set when a page's records did not fit: the bytes they needed, and
    /// their type.
    needed: Option<(u64, &'static str)>,
}

thread_local! {
    static RECORD_ROOM: Cell<Option<RecordRoom>> = const { Cell::new(None) };
}

/// As [`decode_response`], with typed records held to `room` bytes: a
/// [`ListPage<T>`] whose records (as counted by `scan`, the
/// [`scan_response`](crate::scan_response) of `body`) would take more than
/// `room` as `T` (`size_of::<T>()` each, twice for a `Vec`'s spare
/// capacity) is refused before any record is decoded. A typed model can be
/// far larger than the JSON of an empty record (`{}` is 3 bytes, a
/// `Product` over a kilobyte), which a scan of the bytes cannot know.
///
/// ```
/// use miva_envelope::{decode_response_within, scan_response, ListPage, Product, Response};
///
/// let body = br#"{"success":1,"data":{"total_count":3,"data":[{},{},{}]}}"#;
/// let scan = scan_response(body, 0)?;
/// let ok: Response<ListPage<Product>> = decode_response_within(body, &scan, 1 << 20)?;
/// let refused = decode_response_within::<ListPage<Product>>(body, &scan, 1000).unwrap_err();
/// assert_eq!(refused.kind(), miva_envelope::ErrorKind::TooLarge);
/// # Ok::<(), miva_envelope::Error>(())
/// ```
///
/// # Errors
/// As [`decode_response`]; [`crate::ErrorKind::TooLarge`] when the records
/// do not fit.
pub fn decode_response_within<T: DeserializeOwned>(
    body: &[u8],
    scan: &crate::ResponseScan,
    room: u64,
) -> Result<Response<T>, Error> {
    struct Restore(Option<RecordRoom>);
    impl Drop for Restore {
        fn drop(&mut self) {
            RECORD_ROOM.with(|r| r.set(self.0));
        }
    }
    let restore = Restore(RECORD_ROOM.with(|r| {
        r.replace(Some(RecordRoom {
            records: scan.records,
            bytes: room,
            needed: None,
        }))
    }));
    let result = serde_json::from_slice(body);
    let needed = RECORD_ROOM.with(Cell::get).and_then(|r| r.needed);
    drop(restore);
    match (result, needed) {
        (Ok(response), _) => Ok(response),
        (Err(_), Some((needed, record))) => Err(Error::new(
            ErrorKind::TooLarge,
            format!(
                "its {} records would take about {needed} bytes as {}, more than the {room} \
                 bytes of the budget left for them",
                scan.records,
                record.rsplit("::").next().unwrap_or(record)
            ),
        )),
        (Err(e), None) => Err(Error::decode(e)),
    }
}

/// An error answered by the store. Every field the API may send is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// `error_code`, e.g. `access_denied` or `MER-JSN-00018`.
    #[serde(rename = "error_code", default)]
    pub code: String,
    /// `error_message`.
    #[serde(rename = "error_message", default)]
    pub message: String,
    /// `validation_error`: the request had an invalid field.
    #[serde(
        default,
        with = "crate::de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub validation_error: Option<bool>,
    /// `error_field`: the field that was invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_field: Option<String>,
    /// `error_field_message`: what was wrong with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_field_message: Option<String>,
    /// `input_errors`, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_errors: Option<Value>,
    /// `error_fields`, as sent (a list of per-field errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_fields: Option<Value>,
    /// `list_error`, as sent (a list query's filter or sort problem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_error: Option<Value>,
    /// `errors`, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Value>,
    /// `processed`: how many records a list function that writes (a
    /// `*List_Delete`, say) handled before or despite the errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed: Option<u64>,
    /// `warnings`, as sent (a list function's per-record warnings, each
    /// `{"identifier", "code", "message"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Value>,
    /// `data_error`: the error carries `data` (what the store could say
    /// about the records it refused).
    #[serde(
        default,
        with = "crate::de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub data_error: Option<bool>,
    /// `data` of an error answer, as sent (with `data_error: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ApiError {
    /// A plain error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            ..Self::default()
        }
    }

    /// Which access-denied case this is, when `error_code` is
    /// `access_denied`.
    pub fn access_denied(&self) -> Option<AccessDenied> {
        if !self.code.eq_ignore_ascii_case("access_denied") {
            return None;
        }
        Some(AccessDenied::classify(&self.message))
    }

    /// Whether the store rejected a field's value.
    pub fn is_validation(&self) -> bool {
        self.validation_error == Some(true) || self.error_field.is_some()
    }

    /// The per-field errors of `error_fields` (each `{"error_field",
    /// "error_message"}`), plus `error_field` itself.
    pub fn field_errors(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let Some(field) = &self.error_field {
            out.push(FieldError {
                field: field.clone(),
                message: self.error_field_message.clone().unwrap_or_default(),
            });
        }
        if let Some(Value::Array(items)) = &self.error_fields {
            for item in items {
                let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
                if let Some(field) = text("error_field").or_else(|| text("field")) {
                    let message = text("error_message")
                        .or_else(|| text("error_field_message"))
                        .unwrap_or_default();
                    if !out.iter().any(|f: &FieldError| f.field == field) {
                        out.push(FieldError { field, message });
                    }
                }
            }
        }
        out
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// One rejected field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// Why it was rejected.
    pub message: String,
}

/// The access-denied cases of the API, from the store's message (the
/// messages are those of Miva's own server code, `mmlsk-json.mv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessDenied {
    /// `Access denied`: the token does not exist, or is not allowed to run
    /// this function (check its groups and functions in the admin).
    NotPermitted,
    /// `Invalid request signature`: the signing key or digest is wrong, or
    /// the body was changed after signing.
    InvalidSignature,
    /// `Timestamp requires request signature` (sic): the token requires a
    /// signed request, and the header was token-only (`MIVA <token>`).
    SignatureRequired,
    /// `Token is disabled`: the token exists but is switched off in the
    /// admin.
    TokenDisabled,
    /// `Unrecognized authorization type`: the header's scheme is not one the
    /// store knows.
    UnrecognizedAuthorization,
    /// `Missing required timestamp`: the token requires
    /// `Miva_Request_Timestamp`.
    MissingTimestamp,
    /// `Timestamp outside configured window`: the clocks disagree.
    TimestampOutsideWindow,
    /// `Invalid request content type`: must be `application/json`.
    InvalidContentType,
    /// `Invalid request method`: must be POST.
    InvalidMethod,
    /// Another message.
    Other,
}

impl AccessDenied {
    /// Classifies an `access_denied` message.
    pub fn classify(message: &str) -> Self {
        let m = message.trim().trim_end_matches('.').to_ascii_lowercase();
        // Before "signature": the store's text for a token-only header on a
        // token that must sign is "Timestamp requires request signature".
        if m.contains("requires") && m.contains("signature") {
            Self::SignatureRequired
        } else if m.contains("signature") {
            Self::InvalidSignature
        } else if m.contains("disabled") {
            Self::TokenDisabled
        } else if m.contains("authorization type") {
            Self::UnrecognizedAuthorization
        } else if m.contains("missing") && m.contains("timestamp") {
            Self::MissingTimestamp
        } else if m.contains("timestamp") {
            Self::TimestampOutsideWindow
        } else if m.contains("content type") {
            Self::InvalidContentType
        } else if m.contains("method") {
            Self::InvalidMethod
        } else if m == "access denied" {
            Self::NotPermitted
        } else {
            Self::Other
        }
    }

    /// What to do about it, in one sentence.
    pub fn hint(self) -> &'static str {
        match self {
            Self::NotPermitted => {
                "the token is unknown or may not run this function: check the token's groups \
                 and functions under Users > API Tokens"
            }
            Self::InvalidSignature => {
                "the signature did not match: check the signing key and the digest (SHA-256 vs \
                 SHA-1) against the token in the admin"
            }
            Self::SignatureRequired => {
                "the token requires signed requests and this one was sent with the token only \
                 (digest none): set the token's signing key (MIVA_SIGNING_KEY) and a digest \
                 (sha256)"
            }
            Self::TokenDisabled => {
                "the token is disabled: enable it under Users > API Tokens in the admin, or use \
                 another token"
            }
            Self::UnrecognizedAuthorization => {
                "the store does not know the X-Miva-API-Authorization scheme: use MIVA, \
                 MIVA-HMAC-SHA256, MIVA-HMAC-SHA1 or SSH-RSA-SHA2-256/512"
            }
            Self::MissingTimestamp => {
                "the token requires Miva_Request_Timestamp: turn timestamps on"
            }
            Self::TimestampOutsideWindow => {
                "the store's clock and this machine's disagree: sync the clock (NTP)"
            }
            Self::InvalidContentType => "requests must have Content-Type: application/json",
            Self::InvalidMethod => "requests must be POST",
            Self::Other => "see the store's message",
        }
    }
}

/// The answer of a list function that writes (`*List_Delete`, ...): the
/// store puts `processed` and `warnings` at the top level, beside
/// `success`, not under `data`. A success without `data` but with these
/// decodes as the object `{"processed": n, "warnings": [...]}` (for
/// `Option<Value>`, `Value` or this type), so nothing is dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListProcessed {
    /// How many records were handled.
    #[serde(default)]
    pub processed: u64,
    /// Per-record warnings, as sent (each `{"identifier", "code",
    /// "message"}`); empty when there were none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Value>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Response<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ResponseVisitor(PhantomData))
    }
}

struct ResponseVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ResponseVisitor<T> {
    type Value = Response<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Miva response object with \"success\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Response<T>, A::Error> {
        let mut success: Option<bool> = None;
        let mut data: Option<T> = None;
        // `data` before `success` (rare): keep it as JSON until we know.
        let mut early: Option<Value> = None;
        let mut error = ApiError::default();
        let mut has_error_fields = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "success" => success = Some(map.next_value::<FlexBool>()?.0),
                "data" if success == Some(true) => {
                    data = Some(map.next_value_seed(BareList::<T>(PhantomData))?);
                }
                "data" if success.is_none() => early = Some(map.next_value()?),
                "data" => error.data = Some(map.next_value()?),
                "processed" => error.processed = map.next_value::<Option<FlexU64>>()?.map(|n| n.0),
                "warnings" => error.warnings = Some(map.next_value()?),
                "data_error" => {
                    error.data_error = map.next_value::<Option<FlexBool>>()?.map(|b| b.0);
                }
                "error_code" => {
                    error.code = map
                        .next_value::<Option<StringOrNumber>>()?
                        .map(|s| s.0)
                        .unwrap_or_default();
                    has_error_fields = true;
                }
                "error_message" => {
                    error.message = map
                        .next_value::<Option<StringOrNumber>>()?
                        .map(|s| s.0)
                        .unwrap_or_default();
                    has_error_fields = true;
                }
                "validation_error" => {
                    error.validation_error = map.next_value::<Option<FlexBool>>()?.map(|b| b.0);
                }
                "error_field" => {
                    error.error_field = map.next_value::<Option<StringOrNumber>>()?.map(|s| s.0);
                }
                "error_field_message" => {
                    error.error_field_message =
                        map.next_value::<Option<StringOrNumber>>()?.map(|s| s.0);
                }
                "input_errors" => error.input_errors = Some(map.next_value()?),
                "error_fields" => error.error_fields = Some(map.next_value()?),
                "list_error" => error.list_error = Some(map.next_value()?),
                "errors" => error.errors = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(value) = early {
            if success == Some(true) {
                data = Some(
                    de::DeserializeSeed::deserialize(BareList::<T>(PhantomData), value)
                        .map_err(de::Error::custom)?,
                );
            } else {
                error.data = Some(value);
            }
        }
        match success {
            Some(true) => match data {
                Some(data) => Ok(Response::Success(data)),
                // A list function that writes: `processed` and `warnings`
                // stand in for `data` when `T` can hold them.
                None if error.processed.is_some() || error.warnings.is_some() => {
                    let mut object = serde_json::Map::new();
                    if let Some(n) = error.processed {
                        object.insert("processed".into(), Value::from(n));
                    }
                    if let Some(w) = error.warnings.take() {
                        object.insert("warnings".into(), w);
                    }
                    T::deserialize(Value::Object(object))
                        .or_else(|_| T::deserialize(de::value::UnitDeserializer::<A::Error>::new()))
                        .map(Response::Success)
                        .map_err(|_| {
                            de::Error::custom("the response says success but carries no \"data\"")
                        })
                }
                None => T::deserialize(de::value::UnitDeserializer::<A::Error>::new())
                    .map(Response::Success)
                    .map_err(|_| {
                        de::Error::custom("the response says success but carries no \"data\"")
                    }),
            },
            Some(false) => Ok(Response::Failure(Box::new(error))),
            None if has_error_fields => Ok(Response::Failure(Box::new(error))),
            None => Err(de::Error::missing_field("success")),
        }
    }
}

/// `data` read as `T`, with a bare list's elements (`Vec<Model>`, for the
/// functions that answer one) held to the room of
/// [`decode_response_within`] like a [`ListPage`]'s records. Everything but
/// a sequence passes through unchanged.
struct BareList<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::DeserializeSeed<'de> for BareList<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        if RECORD_ROOM.with(Cell::get).is_none() {
            return T::deserialize(d);
        }
        T::deserialize(Budgeted(d))
    }
}

/// A deserializer that checks the elements of a sequence against the
/// record room before the first is decoded.
struct Budgeted<D>(D);

macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Budgeted<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_map deserialize_identifier
        deserialize_ignored_any
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_seq(BudgetedVisitor(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

struct BudgetedVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for BudgetedVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(BudgetedSeq {
            inner: seq,
            checked: false,
        })
    }
}

/// Whether the records the scan counted, as `T`s (twice their size: a
/// `Vec` may hold up to double its length while it grows), fit in the room
/// the scan left; when not, the room records what was needed for the error.
fn records_fit<T>() -> bool {
    let Some(mut room) = RECORD_ROOM.with(Cell::get) else {
        return true;
    };
    let each = 2 * std::mem::size_of::<T>() as u64;
    let needed = room.records.saturating_mul(each);
    if needed <= room.bytes {
        return true;
    }
    room.needed = Some((needed, std::any::type_name::<T>()));
    RECORD_ROOM.with(|r| r.set(Some(room)));
    false
}

struct BudgetedSeq<A> {
    inner: A,
    checked: bool,
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for BudgetedSeq<A> {
    type Error = A::Error;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        if !self.checked {
            self.checked = true;
            if !records_fit::<S::Value>() {
                return Err(de::Error::custom(
                    "the list's records would not fit in memory",
                ));
            }
        }
        self.inner.next_element_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A string that some servers send as a number.
struct StringOrNumber(String);

impl<'de> Deserialize<'de> for StringOrNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Self(s)),
            other => Ok(Self(other.to_string())),
        }
    }
}

/// The `data` of a `*List_Load_Query` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListPage<T> {
    /// How many records match the query (not how many are in this page).
    pub total_count: u64,
    /// The offset of the first record of this page, as the store said it
    /// (`None` when the answer had no `start_offset`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_offset: Option<u64>,
    /// The records.
    pub data: Vec<T>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ListPage<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ListPage<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list page with total_count, start_offset and data")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListPage<T>, A::Error> {
                let (mut total, mut start, mut data) = (None, None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "total_count" => total = Some(map.next_value::<FlexU64>()?.0),
                        "start_offset" => start = Some(map.next_value::<FlexU64>()?.0),
                        "data" => {
                            // Typed records are checked against the room
                            // left for them before any is decoded.
                            if !records_fit::<T>() {
                                return Err(de::Error::custom(
                                    "the page's records would not fit in memory",
                                ));
                            }
                            data = Some(map.next_value::<Vec<T>>()?);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
                Ok(ListPage {
                    total_count: total.ok_or_else(|| de::Error::missing_field("total_count"))?,
                    start_offset: start,
                    data,
                })
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn success_as_bool_or_number() {
        // wire-facts.md, "Responses": success arrives as a bool or as 0/1.
        for body in [
            r#"{"success":true,"data":[1]}"#,
            r#"{"success":1,"data":[1]}"#,
            r#"{"data":[1],"success":"1"}"#,
        ] {
            let r: Response<Vec<u8>> = decode_response(body.as_bytes()).unwrap();
            assert_eq!(r, Response::Success(vec![1]), "{body}");
        }
        let r: Response<()> = decode_response(br#"{"success":1}"#).unwrap();
        assert_eq!(r, Response::Success(()));
        let r: Response<Option<u8>> = decode_response(br#"{"success":true}"#).unwrap();
        assert_eq!(r, Response::Success(None));
        let err = decode_response::<Vec<u8>>(br#"{"success":1}"#).unwrap_err();
        assert!(err.to_string().contains("no \"data\""), "{err}");
        assert!(decode_response::<Value>(br#"{"data":1}"#).is_err());
        assert!(decode_response::<Value>(b"<html>").is_err());
    }

    #[test]
    fn every_error_field_is_kept() {
        // The validation shape is the document's ("Error Handling"); the
        // other fields are those named in wire-facts.md, "Responses".
        let body = json!({
            "success": 0,
            "error_code": "MER-JSN-00018",
            "error_message": "Invalid value for field 'Product_Price': Please enter a number",
            "validation_error": 1,
            "error_field": "Product_Price",
            "error_field_message": "Please enter a number",
            "input_errors": true,
            "error_fields": [{"error_field": "Product_Code", "error_message": "Duplicate"}],
            "list_error": {"field": "x"},
            "errors": ["e"],
            "data": {"kept": "as the error's data"},
        });
        let r: Response<u8> = decode_response(body.to_string().as_bytes()).unwrap();
        let Response::Failure(e) = r else {
            panic!("expected failure")
        };
        assert_eq!(e.code, "MER-JSN-00018");
        assert!(e.is_validation());
        assert_eq!(e.error_field.as_deref(), Some("Product_Price"));
        assert_eq!(e.input_errors, Some(json!(true)));
        assert_eq!(e.list_error, Some(json!({"field": "x"})));
        assert_eq!(e.errors, Some(json!(["e"])));
        let fields = e.field_errors();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].field, "Product_Code");
        assert_eq!(fields[1].message, "Duplicate");
        assert_eq!(e.access_denied(), None);
        assert_eq!(
            e.to_string(),
            "MER-JSN-00018: Invalid value for field 'Product_Price': Please enter a number"
        );
    }

    #[test]
    fn access_denied_messages_are_classified() {
        // The messages listed in wire-facts.md, "Responses".
        for (message, kind) in [
            ("Access denied", AccessDenied::NotPermitted),
            ("Invalid request signature", AccessDenied::InvalidSignature),
            ("Missing required timestamp", AccessDenied::MissingTimestamp),
            (
                "Timestamp outside configured window",
                AccessDenied::TimestampOutsideWindow,
            ),
            (
                "Invalid request content type",
                AccessDenied::InvalidContentType,
            ),
            ("Invalid request method", AccessDenied::InvalidMethod),
            // mmlsk-json.mv 1579 (sic), 1549 and 1595 (wire-facts.md,
            // "Authentication header").
            (
                "Timestamp requires request signature",
                AccessDenied::SignatureRequired,
            ),
            ("Token is disabled", AccessDenied::TokenDisabled),
            (
                "Unrecognized authorization type",
                AccessDenied::UnrecognizedAuthorization,
            ),
            ("Something new", AccessDenied::Other),
        ] {
            let e = ApiError::new("access_denied", message);
            assert_eq!(e.access_denied(), Some(kind), "{message}");
            assert!(!kind.hint().is_empty());
        }
    }

    #[test]
    fn distinct_advice_for_signature_required_and_disabled_tokens() {
        let required = AccessDenied::SignatureRequired.hint();
        assert!(required.contains("signing key"), "{required}");
        assert!(!required.contains("did not match"), "{required}");
        assert!(AccessDenied::TokenDisabled.hint().contains("enable"));
        assert_ne!(
            AccessDenied::TokenDisabled.hint(),
            AccessDenied::Other.hint()
        );
    }

    #[test]
    fn list_writes_keep_processed_and_warnings() {
        // JSON_Response_ListProcessed_Success and JSON_Response_ListProcessed
        // (mmlsk-json.mv 2304-2356; wire-facts.md, "List Load Query").
        let r: Response<Option<Value>> =
            decode_response(br#"{"success":1,"processed":3}"#).unwrap();
        assert_eq!(r, Response::Success(Some(json!({"processed": 3}))));
        let body = br#"{"success":1,"warnings":[{"identifier":"P1","code":"W1","message":"kept"}],"processed":2}"#;
        let r: Response<ListProcessed> = decode_response(body).unwrap();
        let Response::Success(done) = r else {
            panic!("expected success")
        };
        assert_eq!(done.processed, 2);
        assert_eq!(done.warnings[0]["identifier"], "P1");
        let r: Response<Value> = decode_response(body).unwrap();
        assert_eq!(
            r,
            Response::Success(
                json!({"processed": 2, "warnings": [{"identifier":"P1","code":"W1","message":"kept"}]})
            )
        );
        // A type that cannot hold them still decodes as before.
        let r: Response<()> = decode_response(br#"{"success":1,"processed":3}"#).unwrap();
        assert_eq!(r, Response::Success(()));

        let failed = json!({
            "success": 0, "error_code": "MER-JSN-00045", "error_message": "Multiple errors found.",
            "list_error": true,
            "errors": [{"identifier": "P2", "error_code": "E", "error_message": "in use"}],
            "warnings": [{"identifier": "P1", "code": "W", "message": "m"}],
            "processed": 1
        });
        let r: Response<Option<Value>> = decode_response(failed.to_string().as_bytes()).unwrap();
        let Response::Failure(e) = r else {
            panic!("expected failure")
        };
        assert_eq!(e.processed, Some(1));
        assert_eq!(e.warnings, Some(failed["warnings"].clone()));
        assert_eq!(e.errors, Some(failed["errors"].clone()));
    }

    #[test]
    fn data_errors_keep_their_data() {
        // JSON_Response_Error_WithData_Start (mmlsk-json.mv 2218-2226).
        for body in [
            r#"{"success":0,"error_code":"X","error_message":"m","data_error":true,"data":{"id":7}}"#,
            r#"{"data":{"id":7},"data_error":1,"success":0,"error_code":"X","error_message":"m"}"#,
        ] {
            let r: Response<u8> = decode_response(body.as_bytes()).unwrap();
            let Response::Failure(e) = r else {
                panic!("expected failure: {body}")
            };
            assert_eq!(e.data_error, Some(true), "{body}");
            assert_eq!(e.data, Some(json!({"id": 7})), "{body}");
        }
    }

    #[test]
    fn typed_records_are_held_to_the_room_left() {
        let body = format!(
            r#"{{"success":1,"data":{{"total_count":1000,"data":[{}{{}}]}}}}"#,
            "{},".repeat(999)
        );
        let scan = crate::scan_response(body.as_bytes(), 0).unwrap();
        assert_eq!(scan.records, 1000);
        let need = 1000 * 2 * std::mem::size_of::<crate::Product>() as u64;
        let e =
            decode_response_within::<ListPage<crate::Product>>(body.as_bytes(), &scan, need - 1)
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert!(e.to_string().contains("1000 records"), "{e}");
        assert!(e.to_string().contains("as Product"), "{e}");
        let ok: Response<ListPage<crate::Product>> =
            decode_response_within(body.as_bytes(), &scan, need).unwrap();
        let Response::Success(page) = ok else {
            panic!("expected success")
        };
        assert_eq!(page.data.len(), 1000);
        // Nothing of the room is left behind on the thread.
        assert!(decode_response::<ListPage<crate::Product>>(body.as_bytes()).is_ok());
    }

    #[test]
    fn bare_lists_of_typed_records_are_held_to_the_room_left() {
        let body = format!(r#"{{"success":1,"data":[{}{{}}]}}"#, "{},".repeat(999));
        let scan = crate::scan_response(body.as_bytes(), 0).unwrap();
        let need = 1000 * 2 * std::mem::size_of::<crate::Product>() as u64;
        let e = decode_response_within::<Vec<crate::Product>>(body.as_bytes(), &scan, need - 1)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert!(e.to_string().contains("as Product"), "{e}");
        let ok: Response<Vec<crate::Product>> =
            decode_response_within(body.as_bytes(), &scan, need).unwrap();
        assert_eq!(ok.into_result().unwrap().len(), 1000);
        // Values and options pass through the wrapper unchanged.
        let v: Response<Option<Value>> =
            decode_response_within(br#"{"success":1,"data":{"a":[1,null]}}"#, &scan, need).unwrap();
        assert_eq!(v, Response::Success(Some(json!({"a": [1, null]}))));
    }

    #[test]
    fn list_pages() {
        let page: ListPage<Value> = serde_json::from_value(json!({
            "total_count": "3", "start_offset": 2, "data": [{"id": 3}], "extra": 1
        }))
        .unwrap();
        assert_eq!(
            (page.total_count, page.start_offset, page.data.len()),
            (3, Some(2), 1)
        );
        let bare: ListPage<Value> =
            serde_json::from_value(json!({"total_count": 0, "data": []})).unwrap();
        assert_eq!(bare.start_offset, None);
        assert!(serde_json::from_value::<ListPage<Value>>(json!({"data": []})).is_err());
        assert!(
            serde_json::from_value::<ListPage<Value>>(json!({"total_count": -1, "data": []}))
                .is_err()
        );
    }
}
