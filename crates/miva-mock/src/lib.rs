//! A local mock Miva Merchant store: the JSON API (`/mm5/json.mvc`) over
//! real HTTP on loopback, for tests, demos and benchmarks.
//!
//! It checks requests the way a store does (POST, `application/json`,
//! `X-Miva-API-Authorization` with token, HMAC-SHA256/SHA1 or SSH RSA
//! signatures, `Miva_Request_Timestamp` window, function permissions),
//! answers with Miva's JSON shapes, and serves a deterministic in-memory
//! store: products, categories, customers, orders, coupons, price groups,
//! inventory and the store itself.
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use miva_mock::{Credentials, MockConfig, MockServer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::start(MockConfig::new(Credentials::generate()?).with_products(5))?;
//! println!("{}", server.url()); // http://127.0.0.1:PORT/mm5/json.mvc
//!
//! // Sign the exact body bytes with the token the server accepts.
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let body = format!(
//!     r#"{{"Store_Code":"{}","Function":"ProductList_Load_Query","Count":2,"Miva_Request_Timestamp":{now}}}"#,
//!     server.store_code()
//! );
//! let credential = server.credentials().tokens()[0].credential();
//! let auth = credential.authorize(body.as_bytes())?;
//!
//! let mut stream = TcpStream::connect(server.addr())?;
//! write!(
//!     stream,
//!     "POST /mm5/json.mvc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
//!      {}: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
//!     auth.name(),
//!     auth.value(),
//!     body.len()
//! )?;
//! let mut response = String::new();
//! stream.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200"));
//! assert!(response.contains(r#""total_count":5"#));
//! assert!(response.contains(r#""code":"P000001""#));
//!
//! server.shutdown();
//! # Ok(())
//! # }
//! ```
//!
//! A CLI that serves until killed: `MockServer::start(config)?`, print
//! [`MockServer::url`], then [`MockServer::wait`]. Another thread (a Ctrl-C
//! handler) can stop it with a [`ShutdownHandle`].
//!
//! # What a request goes through
//!
//! In this order; every access error is HTTP 200 with
//! `{"success":0,"error_code":"access_denied","error_message":...}`, as the
//! official SDKs expect (they only read JSON from 2xx responses):
//!
//! 1. A path other than the endpoint: 404 (plain text).
//! 2. A method other than POST: `Invalid request method`.
//! 3. A content type other than `application/json` (parameters such as
//!    `; charset=utf-8` are fine): `Invalid request content type`.
//! 4. A body over [`MockConfig::max_body_bytes`]: **413** with
//!    `error_code` `request_too_large`, and the connection is closed.
//! 5. No `X-Miva-API-Authorization` (or `X-Miva-API-Authentication`)
//!    header, or one that cannot be parsed: **200 with an empty body**, as
//!    real stores do.
//! 6. Unknown token or SSH user: `Access denied`. Wrong signature, or a
//!    scheme the token is not configured for (HMAC-SHA1 for a `sha256`
//!    token, `MIVA <token>` for a signing token, HMAC for a `none` token):
//!    `Invalid request signature`.
//! 7. `X-Miva-API-Binary-Encoding: base64` with a body that is not JSON:
//!    the body is base64-decoded (the signature covers the bytes on the
//!    wire). The official SDKs send this header with plain JSON, which is
//!    read as is.
//! 8. A body that is not a JSON object: `invalid_json`, saying what is wrong.
//! 9. Timestamp, when the token has `require_timestamp` (SSH always does):
//!    absent → `Missing required timestamp`; not within
//!    [`MockConfig::timestamp_window_seconds`] of the mock's clock (or not a
//!    number) → `Timestamp outside configured window`. An integer or a
//!    numeric string is accepted.
//! 10. The call (or the multicall's operations): function permissions
//!     (`Access denied`), function name (`invalid_function`), `Store_Code`
//!     for store-level functions (`invalid_store`), then the function.
//!
//! Every response carries a `Date` header from the mock's
//! [`Clock`]. `X-Miva-API-Timeout` is accepted and ignored (the mock never
//! times out, unless a multicall budget is set).
//!
//! # Functions
//!
//! `StoreList_Load_Query` (domain level: no `Store_Code`); products:
//! `ProductList_Load_Query`, `Product_Insert`, `Product_Update`,
//! `Product_Delete`; categories: `CategoryList_Load_Query`,
//! `Category_Insert`, `Category_Update`, `Category_Delete`,
//! `CategoryProductList_Load_Query`, `CategoryProduct_Update_Assigned`;
//! customers: `CustomerList_Load_Query`, `Customer_Insert`,
//! `Customer_Update`, `Customer_Delete`; orders: `OrderList_Load_Query`,
//! `Order_Create`, `Order_Delete`; coupons: `CouponList_Load_Query`,
//! `Coupon_Insert`, `Coupon_Update`, `CouponList_Delete`; price groups:
//! `PriceGroupList_Load_Query`, `PriceGroup_Insert`, `PriceGroup_Update`,
//! `PriceGroup_Delete`; inventory: `ProductList_Adjust_Inventory`,
//! `InventoryProductSettings_Update`. Function, request field and record
//! field names are the API spec's (`miva-envelope/spec/miva-api.json`).
//! Writes check every field before they change anything; a bad value,
//! missing required value, duplicate code (login, price group name) or
//! unknown record is the documented validation error (`MER-JSN-00018`)
//! naming the field. Error codes are in [`codes`].
//!
//! List queries take `Count` (0 or absent: all records, as the official SDKs'
//! default of 0 relies on), `Offset`, `Sort` (`field` or `-field`; ties by
//! id), and `Filter`: `search` with the operators EQ GT GE LT LE CO NC LIKE
//! NOTLIKE NE TRUE FALSE NULL IN NOT_IN and nested `SUBWHERE` groups,
//! combined as a store combines them ([`StoreFilter`]: plain conditions in
//! one `search` filter ORed, separate `search` filters ANDed, `search_AND`
//! / `search_OR` groups joined by their connector, AND binding tighter than
//! OR), `ondemandcolumns`, and the custom filters `Product_Show`
//! (`All`/`Active`/`Uncategorized`; any other value: active only),
//! `Category_Show` (`All`/`Active`), and for orders `Customer_ID` and
//! `product_code`. Names are matched exactly; one a store would drop
//! silently is an `invalid_list_query` error naming it. Text compares
//! case-insensitively; numbers numerically. Responses are
//! `{"success":1,"data":{"total_count":N,"start_offset":O,"data":[...]}}`.
//!
//! # Multicall
//!
//! A body with `Operations` runs each operation (`{"Function": ..., ...}`,
//! or with `Iterations: [...]`, sharing the operation's fields) and answers
//! with a JSON array, one element per operation, a nested array for an
//! operation with iterations. Top-level fields (such as `Store_Code`) are
//! shared by every operation.
//!
//! ## Multicall budget
//!
//! With [`MockConfig::multicall_budget`] = `Some(b)`, one response runs
//! whole operations while the function calls they make add up to at most
//! `b` (an operation with `n` iterations costs `n` calls, any other costs
//! one), and always at least one operation. If operations remain, the
//! answer is **206** with `Content-Range: <k>/<total>`, where `total` is
//! the number of top-level `Operations` and `k` the number of top-level
//! operations **this response** completed (both official SDKs check `total`
//! against their operation count and *add* each response's `k` to what they
//! have). A continuation sends the same body with `Range: Operations=a-b`
//! (1-based, inclusive; `a-` runs to the end): the mock runs only that
//! slice, under the same budget. Responses to a request with a `Range`
//! header carry `Content-Range` even when they complete the slice (status
//! 200 then). A `Range` that selects nothing is 416 (`invalid_range`);
//! other range units are ignored.

mod clock;
pub mod codes;
mod config;
mod credentials;
mod error;
mod functions;
mod handler;
pub mod miravia;
mod query;
mod record;
mod response;
mod server;
mod store;

pub use clock::{Clock, ManualClock, SkewedClock, SystemClock};
pub use config::{
    DEFAULT_ENDPOINT_PATH, DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMESTAMP_WINDOW_SECONDS, Fault, Faults,
    MockConfig, Seed, ServerLimits,
};
pub use credentials::{Credentials, DEFAULT_STORE_CODE, SshUserConfig, TokenConfig, TokenDigest};
pub use error::{Error, ErrorKind};
pub use query::StoreFilter;
pub use server::{MockServer, ShutdownHandle};
