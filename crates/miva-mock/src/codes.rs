//! The `error_code` values the mock answers with, and the documented
//! `error_message` texts of access errors.
//!
//! `access_denied` and its messages and `MER-JSN-00018` (field validation)
//! are the values of Miva's getting-started document. The others are the
//! mock's own choices, in lower case so they are not mistaken for real
//! store codes: real stores use per-module `MER-...` codes the official
//! SDKs do not list.

/// Access errors (`error_message` is one of the `MSG_*` constants).
pub const ACCESS_DENIED: &str = "access_denied";
/// A field has an invalid value (the documented validation error): wrong
/// type, missing required value, duplicate code, unknown record.
pub const INVALID_FIELD: &str = "MER-JSN-00018";
/// The body is not JSON, or not a JSON object.
pub const INVALID_JSON: &str = "invalid_json";
/// The body is larger than the configured limit (HTTP 413).
pub const REQUEST_TOO_LARGE: &str = "request_too_large";
/// `Function` is missing or names a function the mock does not implement.
pub const INVALID_FUNCTION: &str = "invalid_function";
/// A store-scoped function without `Store_Code`, or with another store's.
pub const INVALID_STORE: &str = "invalid_store";
/// A list query's `Sort`, `Filter`, `search` entry or operator is invalid.
pub const INVALID_LIST_QUERY: &str = "invalid_list_query";
/// A multicall `Range: Operations=a-b` header that selects nothing.
pub const INVALID_RANGE: &str = "invalid_range";
/// `X-Miva-API-Binary-Encoding: base64` with a body that is not base64.
pub const INVALID_ENCODING: &str = "invalid_encoding";

/// Unknown token or user, or a function the token may not call.
pub const MSG_ACCESS_DENIED: &str = "Access denied";
/// Wrong signature, or a header scheme the token does not use.
pub const MSG_INVALID_SIGNATURE: &str = "Invalid request signature";
/// The token (or SSH) requires `Miva_Request_Timestamp` and it is absent.
pub const MSG_MISSING_TIMESTAMP: &str = "Missing required timestamp";
/// `Miva_Request_Timestamp` is outside the window around the store's clock.
pub const MSG_TIMESTAMP_WINDOW: &str = "Timestamp outside configured window";
/// The content type is not `application/json`.
pub const MSG_CONTENT_TYPE: &str = "Invalid request content type";
/// The method is not POST.
pub const MSG_METHOD: &str = "Invalid request method";
