//! Product_Insert / Product_Update / Product_Delete and their validation
//! errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::harness;
use serde_json::{Value, json};

fn validation(field: &str, message: &str) -> Value {
    json!({
        "success": 0,
        "error_code": "MER-JSN-00018",
        "error_message": format!("Invalid value for field '{field}': {message}"),
        "validation_error": 1,
        "error_field": field,
        "error_field_message": message,
    })
}

fn product(h: &common::Harness, code: &str) -> Option<Value> {
    let data = h.list(
        "ProductList_Load_Query",
        json!({"Filter": [
            {"name": "search", "value": [{"field": "code", "operator": "EQ", "value": code}]},
            {"name": "ondemandcolumns", "value": ["descrip", "product_inventory", "cancat_code"]}]}),
    );
    data["data"].as_array().unwrap().first().cloned()
}

#[test]
fn insert_update_delete() {
    let h = harness(|c| c.with_products(10));
    let inserted = h.call(json!({
        "Store_Code": "STORE", "Function": "Product_Insert",
        "Product_Code": "NEW-1", "Product_Name": "New Thing", "Product_SKU": "SKU-NEW",
        "Product_Price": 1234.5, "Product_Cost": "10", "Product_Weight": "2.25",
        "Product_Description": "<b>new</b>", "Product_Active": true, "Product_Taxable": 0,
        "Product_Inventory": 7, "Product_Canonical_Category_Code": "CAT002",
    }));
    assert_eq!(inserted["success"], 1, "{inserted}");
    let data = &inserted["data"];
    assert_eq!(data["id"], 11);
    assert_eq!(data["code"], "NEW-1");
    assert_eq!(data["price"], json!(1234.5));
    assert_eq!(data["formatted_price"], "$1,234.50");
    assert_eq!(data["cost"], json!(10.0));
    assert_eq!(data["formatted_weight"], "2.25 lb");
    assert_eq!(data["taxable"], false);
    assert!(
        data.get("descrip").is_none(),
        "on-demand column in the insert answer"
    );
    assert!(data["dt_created"].as_i64().unwrap() >= common::now() - 5);

    let listed = product(&h, "new-1").unwrap();
    assert_eq!(listed["descrip"], "<b>new</b>");
    assert_eq!(listed["product_inventory"], 7);
    assert_eq!(listed["cancat_code"], "CAT002");
    assert_eq!(
        h.list("ProductList_Load_Query", json!({}))["total_count"],
        11
    );

    // Update by id, renaming; then by Edit_Product; then by Product_Code.
    let updated = h.call(json!({
        "Store_Code": "STORE", "Function": "Product_Update",
        "Product_ID": 11, "Product_Code": "NEW-2", "Product_Price": "5",
    }));
    assert_eq!(updated, json!({"success": 1}));
    assert!(product(&h, "NEW-1").is_none());
    let renamed = product(&h, "NEW-2").unwrap();
    assert_eq!(renamed["formatted_price"], "$5.00");
    assert_eq!(renamed["name"], "New Thing");
    assert_eq!(
        h.call(json!({"Store_Code": "STORE", "Function": "Product_Update",
                      "Edit_Product": "NEW-2", "Product_Name": "Renamed"})),
        json!({"success": 1})
    );
    assert_eq!(
        h.call(json!({"Store_Code": "STORE", "Function": "Product_Update",
                      "Product_Code": "NEW-2", "Product_Active": "0"})),
        json!({"success": 1})
    );
    let after = product(&h, "NEW-2").unwrap();
    assert_eq!(after["name"], "Renamed");
    assert_eq!(after["active"], false);

    // Delete by each identifier.
    for (field, value, code) in [
        ("Product_ID", json!(1), "P000001"),
        ("Edit_Product", json!("P000002"), "P000002"),
        ("Product_Code", json!("P000003"), "P000003"),
        ("Product_SKU", json!("SKU-000004"), "P000004"),
        ("Product_Code", json!("NEW-2"), "NEW-2"),
    ] {
        let answer =
            h.call(json!({"Store_Code": "STORE", "Function": "Product_Delete", field: value}));
        assert_eq!(answer, json!({"success": 1}), "{field}");
        assert!(product(&h, code).is_none(), "{code} still listed");
    }
    assert_eq!(
        h.list("ProductList_Load_Query", json!({}))["total_count"],
        6
    );
    // Deleting again: not found.
    assert_eq!(
        h.call(json!({"Store_Code": "STORE", "Function": "Product_Delete", "Product_ID": 1})),
        validation("Product_ID", "Product not found")
    );
    // A new insert does not reuse a deleted id.
    let next = h.call(json!({"Store_Code": "STORE", "Function": "Product_Insert",
                             "Product_Code": "P000001", "Product_Name": "Again"}));
    assert_eq!(next["data"]["id"], 12);
}

#[test]
fn sorted_lists_see_writes() {
    let h = harness(|c| c.with_products(50));
    let first = |h: &common::Harness, sort: &str| {
        h.list("ProductList_Load_Query", json!({"Sort": sort, "Count": 1}))["data"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let top = |h: &common::Harness| first(h, "-price");
    let cheapest = first(&h, "price");
    assert_ne!(top(&h), cheapest);
    let answer = h.call(json!({"Store_Code": "STORE", "Function": "Product_Update",
                               "Edit_Product": cheapest, "Product_Price": 99999}));
    assert_eq!(answer["success"], 1);
    assert_eq!(top(&h), cheapest);
    let answer = h.call(json!({"Store_Code": "STORE", "Function": "Product_Insert",
                               "Product_Code": "TOP", "Product_Name": "Top", "Product_Price": 100000}));
    assert_eq!(answer["success"], 1);
    assert_eq!(top(&h), "TOP");
    let answer =
        h.call(json!({"Store_Code": "STORE", "Function": "Product_Delete", "Product_Code": "TOP"}));
    assert_eq!(answer["success"], 1);
    assert_eq!(top(&h), cheapest);
    let page = h.list(
        "ProductList_Load_Query",
        json!({"Sort": "-price", "Count": 5, "Offset": 48}),
    );
    assert_eq!(page["total_count"], 50);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
}

#[test]
fn validation_errors() {
    let h = harness(|c| c.with_products(5));
    let insert = |extra: Value| {
        let mut request = json!({"Store_Code": "STORE", "Function": "Product_Insert",
                                 "Product_Code": "X-1", "Product_Name": "X"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.call(request)
    };
    assert_eq!(
        insert(json!({"Product_Code": null})),
        validation("Product_Code", "A value is required")
    );
    assert_eq!(
        insert(json!({"Product_Code": "  "})),
        validation("Product_Code", "A value is required")
    );
    assert_eq!(
        insert(json!({"Product_Code": "has space"})),
        validation(
            "Product_Code",
            "Codes may contain only letters, numbers, dashes and underscores"
        )
    );
    assert_eq!(
        insert(json!({"Product_Name": ""})),
        validation("Product_Name", "A value is required")
    );
    assert_eq!(
        insert(json!({"Product_Code": "p000003"})),
        validation(
            "Product_Code",
            "A product with code 'p000003' already exists"
        )
    );
    assert_eq!(
        insert(json!({"Product_Weight": "heavy"})),
        validation("Product_Weight", "Please enter a number")
    );
    assert_eq!(
        insert(json!({"Product_Price": [1]})),
        validation("Product_Price", "Please enter a number")
    );
    assert_eq!(
        insert(json!({"Product_Inventory": 1.5})),
        validation("Product_Inventory", "Please enter a whole number")
    );
    assert_eq!(
        insert(json!({"Product_Active": "maybe"})),
        validation("Product_Active", "Please enter true or false")
    );
    assert_eq!(
        insert(json!({"Product_Canonical_Category_Code": "NOPE"})),
        validation(
            "Product_Canonical_Category_Code",
            "Category 'NOPE' not found"
        )
    );
    // None of those inserted anything.
    assert_eq!(
        h.list("ProductList_Load_Query", json!({}))["total_count"],
        5
    );

    let update = |extra: Value| {
        let mut request = json!({"Store_Code": "STORE", "Function": "Product_Update"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.call(request)
    };
    assert_eq!(
        update(json!({"Product_ID": 99})),
        validation("Product_ID", "Product not found")
    );
    assert_eq!(
        update(json!({"Edit_Product": "nope"})),
        validation("Edit_Product", "Product not found")
    );
    assert_eq!(
        update(json!({"Product_Price": 1})),
        validation(
            "Product_ID",
            "Please specify a product by Product_ID, Edit_Product or Product_Code"
        )
    );
    assert_eq!(
        update(json!({"Product_ID": 1, "Product_Code": "P000002"})),
        validation(
            "Product_Code",
            "A product with code 'P000002' already exists"
        )
    );
    // A failed update leaves the record alone.
    assert_eq!(
        update(json!({"Product_ID": 1, "Product_Name": "Changed", "Product_Price": "x"})),
        validation("Product_Price", "Please enter a number")
    );
    let first = h.list("ProductList_Load_Query", json!({"Count": 1}));
    assert_ne!(first["data"][0]["name"], "Changed");
    // Renaming a product to its own code (other case) is fine.
    assert_eq!(
        update(json!({"Product_ID": 1, "Product_Code": "p000001"})),
        json!({"success": 1})
    );
}
