//! Any bytes as a store's answer: decoding returns a value or an error,
//! never panics, for single calls, typed list pages and multicalls.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miva_envelope::{ListPage, Product, decode_multicall, decode_response};

fuzz_target!(|data: &[u8]| {
    let _ = decode_response::<serde_json::Value>(data);
    let _ = decode_response::<ListPage<Product>>(data);
    let _ = decode_multicall(data);
});
