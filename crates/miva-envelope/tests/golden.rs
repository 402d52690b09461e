#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
//! Golden files: example responses from Miva's API reference and responses
//! recorded from a live Miva 10 store (`tests/fixtures/`, each with its
//! source in `tests/fixtures/SOURCES.md`) decode into the generated response
//! type of their function, with the values they show, and re-encode to the
//! same JSON: no field is lost, known or not. (Numbers compare as numbers:
//! a store's `"price":5` re-encodes as `5.0`. None of these bodies uses a
//! lenient form such as `"42"` for a number, which would re-encode as `42`.)

use std::path::Path;

use miva_envelope::api::functions::*;
use miva_envelope::{MivaRequest, Response, Timestamp, decode_response};
use serde_json::Value;

/// The fixture for `function`, decoded as `R`'s response; its `data`
/// re-encoded must equal the file's `data`.
fn golden<R: MivaRequest>(request: &R) -> R::Response
where
    R::Response: serde::Serialize,
{
    let function = request.function();
    let bytes = fixture(&format!("{function}.json"));
    let decoded: Response<R::Response> =
        decode_response(&bytes).unwrap_or_else(|e| panic!("{function}: {e}"));
    let data = decoded
        .into_result()
        .unwrap_or_else(|e| panic!("{function}: {e}"));
    let original: Value = serde_json::from_slice(&bytes).unwrap();
    let expected = original.get("data").cloned().unwrap_or(Value::Null);
    let again = serde_json::to_value(&data).unwrap();
    assert!(
        same(&again, &expected),
        "{function}: not lossless:\n{again}\n{expected}"
    );
    data
}

/// JSON equality with numbers compared by value (`5` equals `5.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn products_recorded_from_a_store() {
    let page = golden(&ProductListLoadQuery::default());
    assert_eq!((page.total_count, page.start_offset), (117, Some(0)));
    let first = &page.data[0];
    assert_eq!(first.id, Some(157_790));
    assert_eq!(first.code.as_deref(), Some("prod1"));
    assert_eq!(first.sku.as_deref(), Some("prod1_sku"));
    // Whole decimals arrive as JSON integers.
    assert_eq!(first.price, Some(5.0));
    assert_eq!(first.cost, Some(2.5));
    assert_eq!(first.weight, Some(5.1));
    assert_eq!(first.formatted_weight.as_deref(), Some("5.10 pounds"));
    assert_eq!(first.taxable, Some(true));
    assert_eq!(first.dt_updated, Some(Timestamp(1_765_331_325)));
    assert!(
        first.extra.is_empty(),
        "every field is a model field: {:?}",
        first.extra
    );

    let created = golden(&ProductInsert::new()).expect("the store answered with the product");
    assert_eq!(created.code.as_deref(), Some("new-product"));
    assert_eq!(created.price, Some(0.0));
    assert_eq!(golden(&ProductUpdate::new()), None);
}

#[test]
fn categories_recorded_from_a_store() {
    let page = golden(&CategoryListLoadQuery::default());
    // total_count is the whole result, not the page.
    assert_eq!((page.total_count, page.data.len()), (43, 2));
    assert_eq!(page.data[0].code.as_deref(), Some("Parent-Cat-1"));
    assert_eq!(page.data[0].dt_updated, Some(Timestamp(1_718_301_896)));
    // 0 means never.
    assert_eq!(page.data[1].dt_updated, Some(Timestamp(0)));
    assert_eq!(page.data[1].parent_category.as_deref(), Some(""));
}

#[test]
fn order_custom_fields_with_their_module() {
    let fields = golden(&OrderCustomFieldListLoad::new());
    assert_eq!(fields[0].code.as_deref(), Some("attrqueue"));
    assert_eq!(fields[0].searchable, Some(true));
    // Not in the SDK's model: kept.
    assert_eq!(fields[0].extra["public"], false);
    assert_eq!(fields[0].extra["readonly"], false);
    let module = fields[0].module.as_ref().expect("nested module");
    assert_eq!(module.code.as_deref(), Some("orderworkflow"));
    assert_eq!(module.version.as_deref(), Some("10.1301"));
    assert_eq!(module.active, Some(true));
    assert!(module.extra.is_empty(), "{:?}", module.extra);
}

#[test]
fn recorded_errors_keep_every_field() {
    let validation: Response<Option<miva_envelope::Product>> =
        decode_response(&fixture("errors/Product_Insert.validation_error.json")).unwrap();
    let error = validation.into_result().unwrap_err();
    assert_eq!(error.code, "MER-JSN-00018");
    assert!(error.is_validation());
    let fields = error.field_errors();
    assert_eq!(fields[0].field, "Product_Code");
    assert!(fields[0].message.contains("already exists"), "{fields:?}");
    let invalid: Response<Option<Value>> =
        decode_response(&fixture("errors/invalid_function.json")).unwrap();
    let error = invalid.into_result().unwrap_err();
    assert_eq!(
        (error.code.as_str(), error.message.as_str()),
        ("invalid_function", "Invalid function")
    );
    assert!(!error.is_validation());
}

#[test]
fn recorded_multicalls() {
    use miva_envelope::{OperationResult, decode_multicall};
    let results = decode_multicall(&fixture(
        "multicall/Product_Update.iterations_validation_error.json",
    ))
    .unwrap()
    .unwrap();
    // A top-level array of two plain answers here (one operation per element).
    assert_eq!(results.len(), 2);
    assert!(matches!(
        &results[0],
        OperationResult::One(Response::Success(_))
    ));
    let OperationResult::One(Response::Failure(error)) = &results[1] else {
        panic!("{:?}", results[1])
    };
    assert_eq!(error.error_field.as_deref(), Some("Product_Price"));

    let mixed = decode_multicall(&fixture("multicall/operations_mixed_success.json"))
        .unwrap()
        .unwrap();
    assert!(matches!(
        &mixed[0],
        OperationResult::One(Response::Success(_))
    ));
    assert!(
        mixed
            .iter()
            .any(|r| matches!(r, OperationResult::Iterations(_))),
        "an operation with iterations answers with a nested array"
    );
    // A page inside a multicall answer decodes into the typed page too.
    let OperationResult::One(Response::Success(first)) = &mixed[0] else {
        panic!()
    };
    let page: miva_envelope::ListPage<miva_envelope::Category> =
        serde_json::from_value(first.clone()).unwrap();
    assert_eq!(page.total_count, 43);
    for name in [
        "multicall/ProductList_Load_Query.iterations.json",
        "multicall/Product_Insert.iterations.json",
        "multicall/operations_mixed_errors.json",
    ] {
        let results = decode_multicall(&fixture(name)).unwrap().unwrap();
        assert!(!results.is_empty(), "{name}");
    }
}

#[test]
fn image_types_list_page() {
    let page = golden(&ImageTypeListLoadQuery::default());
    assert_eq!((page.total_count, page.start_offset), (1, Some(0)));
    assert_eq!(page.data[0].id, Some(1));
    assert_eq!(page.data[0].code.as_deref(), Some("main"));
    assert_eq!(page.data[0].descrip.as_deref(), Some("Main"));
}

#[test]
fn categories_of_a_parent_are_a_bare_list() {
    let categories = golden(&CategoryListLoadParent::new());
    assert!(categories.len() >= 2);
    let first = &categories[0];
    assert_eq!(first.id, Some(4));
    assert_eq!(first.parent_id, Some(3));
    assert_eq!(first.code.as_deref(), Some("sub-cat1"));
    assert_eq!(first.active, Some(true));
    assert_eq!(first.dt_created, Some(Timestamp(1_540_047_807)));
    // The reference spells it `dt_Updated`; the model's field is
    // `dt_updated`, so the value is kept in `extra`, not lost.
    assert_eq!(first.dt_updated, None);
    assert_eq!(first.extra["dt_Updated"], 1_540_047_807);
    assert_eq!(first.agrpcount, Some(0));
}

#[test]
fn attribute_template_options_are_a_bare_list() {
    let options = golden(&AttributeTemplateOptionListLoadAttribute::default());
    assert_eq!(options[0].code.as_deref(), Some("SM"));
    assert_eq!(options[0].prompt.as_deref(), Some("small"));
    assert_eq!(options[0].price, Some(0.0));
    assert_eq!(options[0].formatted_price.as_deref(), Some("$0.00"));
}

#[test]
fn branches() {
    let created = golden(&BranchCreate::new()).expect("the example carries the branch");
    assert_eq!(created.id, Some(8));
    assert_eq!(created.immutable, Some(false));
    assert_eq!(created.name.as_deref(), Some("My Custom Branch"));
    assert_eq!(created.color.as_deref(), Some("#20c171"));
    // The spec (from the SDK) reads no data for Branch_Update; the
    // reference's example sends the branch, and it is kept as JSON.
    let updated = golden(&BranchUpdate::new()).expect("kept");
    assert_eq!(updated["name"], "My Custom Branch - 2");
    let copied = golden(&BranchCopy::new()).expect("the example carries the changeset");
    assert_eq!(copied.id, Some(31));
    assert_eq!(copied.branch_id, Some(5));
    assert_eq!(copied.dtstamp, Some(Timestamp(1_596_579_069)));
    assert_eq!(copied.tags, Some(vec![]));
}

#[test]
fn inserts_that_answer_without_data() {
    assert_eq!(golden(&CategoryInsert::new()), None);
    assert_eq!(golden(&CustomerAddressInsert::new()), None);
    assert_eq!(golden(&NoteInsert::new()), None);
    assert_eq!(golden(&AttributeTemplateAttributeInsert::new()), None);
}
