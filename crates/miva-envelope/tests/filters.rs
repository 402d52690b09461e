//! List filters mean to the builder what they mean to a real store
//! (`/work/shared/notes/wire-facts.md`, "How a store combines conditions";
//! Miva's LSK, `mmlsk-json.mv` 4155-4156, 4336-4346, 4543-4547): every
//! connector is on the wire, and names a store would drop are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use miva_envelope::api::functions::{CategoryListLoadQuery, ProductListLoadQuery};
use miva_envelope::{ListQuery, MivaRequest, RawListQuery, Search};
use serde_json::{Value, json};

fn wire(search: &Search) -> Value {
    serde_json::to_value(search).unwrap()
}

fn raw(query: Value) -> ListQuery {
    ListQuery::from_json(query.as_object().unwrap().clone()).unwrap()
}

fn products(query: ListQuery) -> Result<(), String> {
    ProductListLoadQuery::new(query)
        .validate()
        .map_err(|e| e.to_string())
}

#[test]
fn conditions_side_by_side_are_sent_with_an_explicit_and() {
    // A store ORs plain siblings, so AND must travel as a search_AND
    // SUBWHERE (the official SDKs' form).
    assert_eq!(
        wire(&Search::new().is_true("active").gt("price", 10)),
        json!([
            {"field": "active", "operator": "TRUE"},
            {"field": "search_AND", "operator": "SUBWHERE", "value": [
                {"field": "price", "operator": "GT", "value": 10}
            ]}
        ])
    );
}

#[test]
fn a_mixed_chain_is_bracketed_so_and_after_or_keeps_the_builder_order() {
    // (code = A OR code = B) AND active: without the bracket the store
    // reads `A OR B AND active` = `A OR (B AND active)`.
    let search = Search::new()
        .eq("code", "A")
        .or(Search::new().eq("code", "B"))
        .is_true("active");
    assert_eq!(
        wire(&search),
        json!([
            {"field": "search_AND", "operator": "SUBWHERE", "value": [
                {"field": "code", "operator": "EQ", "value": "A"},
                {"field": "search_OR", "operator": "SUBWHERE", "value": [
                    {"field": "code", "operator": "EQ", "value": "B"}
                ]}
            ]},
            {"field": "search_AND", "operator": "SUBWHERE", "value": [
                {"field": "active", "operator": "TRUE"}
            ]}
        ])
    );
}

#[test]
fn empty_and_comma_sets_are_refused_naming_the_field() {
    // lib/dbeng/sql.mv:888-891: IN "" adds no condition (every record).
    let empty: [&str; 0] = [];
    let err = products(ListQuery::new().search(Search::new().is_in("code", empty))).unwrap_err();
    assert!(err.contains("`code`") && err.contains("empty"), "{err}");
    assert!(serde_json::to_value(Search::new().not_in("code", empty)).is_err());
    let err = products(ListQuery::new().search(Search::new().is_in("name", ["a,b"]))).unwrap_err();
    assert!(err.contains("`name`") && err.contains("comma"), "{err}");
    let err = products(raw(json!({"Filter": [{"name": "search", "value": [
        {"field": "code", "operator": "IN", "value": ""}]}]})))
    .unwrap_err();
    assert!(err.contains("`code`") && err.contains("empty"), "{err}");
    let err = products(raw(json!({"Filter": [{"name": "search", "value": [
        {"field": "code", "operator": "NOT_IN", "value": "A,,B"}]}]})))
    .unwrap_err();
    assert!(err.contains("`code`"), "{err}");
    assert_eq!(
        products(ListQuery::new().search(Search::new().is_in("code", ["A", "B"]))),
        Ok(())
    );
}

#[test]
fn category_on_product_lists_takes_only_in_and_not_in() {
    // json/products.mv:2062-2064: any other operator is consumed silently.
    let err =
        products(ListQuery::new().search(Search::new().eq("category", "shirts"))).unwrap_err();
    assert!(err.contains("`category`") && err.contains("IN"), "{err}");
    let err = products(raw(json!({"Filter": [{"name": "search", "value": [
        {"field": "category", "operator": "CO", "value": "shirt"}]}]})))
    .unwrap_err();
    assert!(err.contains("`category`"), "{err}");
    assert_eq!(
        products(ListQuery::new().search(Search::new().is_in("category", ["shirts"]))),
        Ok(())
    );
}

#[test]
fn show_filters_need_the_exact_name_and_a_value_the_store_knows() {
    for (name, value, want) in [
        ("product_show", "All", "`Product_Show`"),
        ("Product_Show", "all", "`All`"),
        ("Product_Show", "Inactive", "All, Uncategorized, Active"),
    ] {
        let err = products(ListQuery::new().filter(name, value)).unwrap_err();
        assert!(err.contains(want), "{name} {value}: {err}");
    }
    assert_eq!(
        products(ListQuery::new().filter("Product_Show", "All")),
        Ok(())
    );
    let err = CategoryListLoadQuery::new(ListQuery::new().filter("Category_Show", "active"))
        .validate()
        .unwrap_err()
        .to_string();
    assert!(err.contains("`Active`"), "{err}");
}

#[test]
fn names_in_the_wrong_case_are_refused_with_the_right_spelling() {
    for (filter, want) in [
        (
            json!({"name": "Search", "value": [{"field": "code", "operator": "EQ", "value": "A"}]}),
            "`search`",
        ),
        (
            json!({"name": "OnDemandColumns", "value": ["descrip"]}),
            "`ondemandcolumns`",
        ),
        (
            json!({"name": "search", "value": [{"field": "code", "operator": "eq", "value": "A"}]}),
            "`EQ`",
        ),
        (
            json!({"name": "search", "value": [{"field": "Code", "operator": "EQ", "value": "A"}]}),
            "`code`",
        ),
        (
            json!({"name": "search", "value": [{"field": "search_or", "operator": "SUBWHERE", "value": []}]}),
            "`search_OR`",
        ),
        (
            json!({"name": "search", "value": [{"field": "search_OR", "operator": "subwhere", "value": []}]}),
            "`SUBWHERE`",
        ),
    ] {
        let err = products(raw(json!({"Filter": [filter.clone()]}))).unwrap_err();
        assert!(err.contains(want), "{filter}: {err}");
    }
    let err = products(raw(json!({"Sort": "-Price"}))).unwrap_err();
    assert!(err.contains("`price`"), "{err}");
    // Raw top-level search_AND / search_OR filters are the store's own.
    assert_eq!(
        products(raw(json!({"Filter": [{"name": "search_OR", "value": [
            {"field": "code", "operator": "EQ", "value": "A"}]}]}))),
        Ok(())
    );
    // A function name in the wrong case is dropped by the store.
    let err = RawListQuery::new("productlist_load_query", ListQuery::new())
        .validate()
        .unwrap_err()
        .to_string();
    assert!(err.contains("`ProductList_Load_Query`"), "{err}");
}
