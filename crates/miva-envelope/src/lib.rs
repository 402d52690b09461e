//! Serde types for the Miva Merchant JSON API, with no I/O: request
//! envelopes, list queries with every search operator, multicall, response
//! decoding (with every error field and the access-denied cases), list pages,
//! dates in both shapes, typed models and typed requests.
//!
//! Pair it with [`miva-sign`](https://docs.rs/miva-sign) and any HTTP stack,
//! or use `miva-http`, which does both.
//!
//! # Example
//!
//! ```
//! use miva_envelope::{
//!     decode_response, Envelope, ListPage, ListQuery, MivaRequest, Product,
//!     ProductListLoadQuery, Response, Search, Sort,
//! };
//!
//! // Build the request body once; sign these bytes and send these bytes.
//! let request = ProductListLoadQuery::new(
//!     ListQuery::new()
//!         .count(2)
//!         .sort(Sort::asc("code"))
//!         .search(Search::new().like("code", "P%").is_true("active")),
//! );
//! let mut body = Vec::new();
//! Envelope::function(request.function())
//!     .store_code(Some("demo"))
//!     .timestamp(Some(1_700_000_000))
//!     .encode_into(&request, &mut body)?;
//! assert!(body.starts_with(br#"{"Function":"ProductList_Load_Query","Store_Code":"demo""#));
//!
//! // Decode what the store answers.
//! let answer = br#"{"success":1,"data":{"total_count":1,"start_offset":0,
//!     "data":[{"id":1,"code":"P000001","active":1,"dt_created":{"time_t":1700000000},"x":"kept"}]}}"#;
//! let page: Response<ListPage<Product>> = decode_response(answer)?;
//! let page = page.into_result()?;
//! assert_eq!(page.data[0].code.as_deref(), Some("P000001"));
//! assert_eq!(page.data[0].active, Some(true));
//! assert_eq!(page.data[0].extra["x"], "kept");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod api;
mod de;
mod envelope;
mod error;
mod multicall;
mod query;
mod requests;
mod response;
#[cfg(feature = "spec")]
pub mod spec;

pub use api::functions::{
    CategoryListLoadQuery, CustomerListLoadQuery, OrderListLoadQuery, ProductDelete, ProductInsert,
    ProductListLoadQuery, ProductUpdate, StoreListLoadQuery,
};
pub use api::models::{Category, Customer, Order, OrderItem, Product};
pub use de::Timestamp;
pub use envelope::{Envelope, Target};
pub use error::{Error, ErrorKind};
pub use multicall::{
    ContentRange, Operation, OperationResult, decode_multicall, encode_multicall,
    encode_multicall_into,
};
pub use query::{Connector, ListQuery, Operator, Search, Sort};
pub use requests::{ListRequest, MivaRequest, RawListQuery, Scope};
pub use response::{AccessDenied, ApiError, FieldError, ListPage, Response, decode_response};
