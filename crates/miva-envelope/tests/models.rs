#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
//! Models keep every field: decode, re-encode, compare.

use miva_envelope::{Category, Customer, ListPage, Order, Product, Timestamp};
use proptest::prelude::*;
use serde_json::{Value, json};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(record: &Value) -> T {
    let typed: T = serde_json::from_value(record.clone()).unwrap();
    assert_eq!(&serde_json::to_value(&typed).unwrap(), record, "lossless");
    typed
}

#[test]
fn product_keeps_unknown_fields_and_reads_dates_both_ways() {
    let record = json!({
        "id": 12, "code": "P000012", "name": "Mug", "price": 4.5, "active": true,
        "dt_created": 1_700_000_000, "customfield_values": {"basic": {"color": "red"}},
        "formatted_price": "$4.50", "attributes": [],
    });
    let p: Product = round_trip(&record);
    assert_eq!(p.id, Some(12));
    assert_eq!(p.extra["customfield_values"]["basic"]["color"], "red");
    let wrapped: Product =
        serde_json::from_value(json!({"dt_created": {"time_t": 1_700_000_000}, "active": 0}))
            .unwrap();
    assert_eq!(wrapped.dt_created, Some(Timestamp(1_700_000_000)));
    assert_eq!(wrapped.active, Some(false));
}

#[test]
fn other_families_round_trip() {
    round_trip::<Category>(
        &json!({"id": 1, "parent_id": 0, "code": "CAT001", "active": false, "uris": []}),
    );
    round_trip::<Customer>(
        &json!({"id": 2, "login": "ada", "tax_exempt": true, "ship_addr1": "1 Main St"}),
    );
    let order: Order = round_trip(&json!({
        "id": 3, "orderdate": 1_700_000_100, "total": 12.5,
        "items": [{"order_id": 3, "line_id": 1, "code": "P000001", "quantity": 2, "taxable": true, "options": []}],
        "charges": [{"type": "SHIPPING", "amount": 5.0}],
    }));
    let items = order.items.unwrap();
    assert_eq!(items[0].quantity, Some(2));
    assert_eq!(items[0].options, Some(vec![]));
    assert_eq!(order.charges.unwrap()[0].amount, Some(5.0));
}

#[test]
fn a_wrongly_typed_known_field_is_an_error_not_a_silent_loss() {
    let err = serde_json::from_value::<Product>(json!({"id": "twelve"})).unwrap_err();
    assert!(err.to_string().contains("invalid"), "{err}");
}

proptest! {
    /// Any extra string fields survive a decode / encode of a list page.
    #[test]
    fn extra_fields_survive(keys in proptest::collection::btree_map("[a-z]{1,8}_x", "[ -~]{0,12}", 0..6)) {
        let mut record = serde_json::Map::new();
        record.insert("id".into(), json!(1));
        for (k, v) in &keys {
            record.insert(k.clone(), json!(v));
        }
        let page = json!({"total_count": 1, "start_offset": 0, "data": [record]});
        let typed: ListPage<Product> = serde_json::from_value(page.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(&typed).unwrap(), page);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // The fuzz target `response_decoding`, in CI: any bytes decode to a
    // value or an error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = miva_envelope::decode_response::<serde_json::Value>(&body);
        let _ = miva_envelope::decode_response::<miva_envelope::ListPage<miva_envelope::Product>>(&body);
        let _ = miva_envelope::decode_multicall(&body);
    }

    // Mostly-JSON input reaches deeper than random bytes.
    #[test]
    fn arbitrary_json_shapes_never_panic_the_decoders(
        success in prop_oneof![Just("1"), Just("0"), Just("true"), Just("false"), Just("\"1\""), Just("null")],
        data in "[ -~]{0,80}",
        code in "[a-z_]{0,16}",
    ) {
        for body in [
            format!(r#"{{"success":{success},"data":{data}}}"#),
            format!(r#"{{"success":{success},"error_code":"{code}","error_message":{data}}}"#),
            format!(r#"{{"success":{success},"data":{{"total_count":{data},"start_offset":0,"data":[{data}]}}}}"#),
            format!(r#"[{{"success":{success},"data":{data}}},[{data}]]"#),
        ] {
            let _ = miva_envelope::decode_response::<serde_json::Value>(body.as_bytes());
            let _ = miva_envelope::decode_response::<miva_envelope::ListPage<miva_envelope::Product>>(body.as_bytes());
            let _ = miva_envelope::decode_multicall(body.as_bytes());
        }
    }
}

#[test]
fn values_the_spec_leaves_open_take_any_json() {
    use miva_envelope::api::models::{Product as GenProduct, PropertyVersion};
    // merchantapi's VariableValue (VersionSettings extends it) holds a
    // scalar, a list or an object.
    for settings in [json!("x"), json!([1, 2]), json!({"a": {"b": 1}}), json!(5)] {
        let v: PropertyVersion =
            serde_json::from_value(json!({"id": 1, "settings": settings})).unwrap();
        assert_eq!(v.settings, Some(settings));
    }
    let p: GenProduct =
        serde_json::from_value(json!({"CustomField_Values": {"customfields": {"color": "red"}}}))
            .unwrap();
    assert_eq!(
        p.custom_field_values.unwrap()["customfields"]["color"],
        "red"
    );
}

#[test]
fn a_typed_operation_is_checked_before_it_joins_a_multicall() {
    use miva_envelope::{Operation, Sort};
    let bad = miva_envelope::ProductListLoadQuery::new(
        miva_envelope::ListQuery::new().sort(Sort::asc("prce")),
    );
    let err = Operation::request(&bad).unwrap_err();
    assert_eq!(err.kind(), miva_envelope::ErrorKind::UnknownColumn);
    let good = miva_envelope::ProductUpdate::new()
        .edit_product("P1")
        .product_price(2.5);
    assert!(Operation::request(&good).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // The pre-scan reads hostile bytes before any decoder does: it never
    // panics, whatever it is given.
    #[test]
    fn arbitrary_bytes_never_panic_the_scan(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        record_size in 0usize..4096,
    ) {
        let _ = miva_envelope::scan_response(&body, record_size);
    }

    // The scan refuses an integer exactly when serde_json would read it as
    // a rounded float (serde_json is the reference, not our own code).
    #[test]
    fn the_scan_refuses_exactly_the_integers_serde_json_rounds(
        magnitude in any::<u128>(),
        negative in any::<bool>(),
        zeros in 0usize..3,
    ) {
        let sign = if negative { "-" } else { "" };
        let literal = format!("{sign}{magnitude}{}", "0".repeat(zeros));
        let body = format!(r#"{{"success":1,"data":{{"id":{literal}}}}}"#);
        // A leading zero is not JSON (decoding reports it); -0 is read as
        // -0.0, which loses nothing.
        let Ok(decoded) = serde_json::from_str::<serde_json::Value>(&body) else {
            return Ok(());
        };
        let id = &decoded["data"]["id"];
        let rounded = id.is_f64() && id.as_f64() != Some(0.0);
        let scan = miva_envelope::scan_response(body.as_bytes(), 0);
        prop_assert_eq!(scan.is_err(), rounded, "{}", literal);
        if let Err(e) = scan {
            prop_assert_eq!(e.path(), Some("data.id"));
        }
    }
}

#[test]
fn the_scan_agrees_with_serde_json_at_the_edges_of_64_bits() {
    for literal in [
        "0",
        "-0",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "-9223372036854775808",
        "-9223372036854775809",
        "00",
        "1e3",
        "-1.5",
    ] {
        let body = format!(r#"{{"success":1,"data":{{"id":{literal}}}}}"#);
        let Ok(decoded) = serde_json::from_str::<serde_json::Value>(&body) else {
            continue; // not JSON (a leading zero): decoding reports it
        };
        // Fractions and exponents are floats by choice; -0 is read as -0.0,
        // which loses nothing: neither is refused.
        let id = &decoded["data"]["id"];
        let rounded = id.is_f64() && id.as_f64() != Some(0.0) && !literal.contains(['.', 'e']);
        let scan = miva_envelope::scan_response(body.as_bytes(), 0);
        assert_eq!(scan.is_err(), rounded, "{literal}: {decoded}");
    }
}
