//! Categories (Category_Insert / _Update / _Delete,
//! CategoryProductList_Load_Query, CategoryProduct_Update_Assigned) and
//! inventory (ProductList_Adjust_Inventory, InventoryProductSettings_Update)
//! over HTTP, with their validation errors, and the writes seen by the list
//! queries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Harness, harness, validation};
use serde_json::{Value, json};

fn category(h: &Harness, code: &str) -> Option<Value> {
    h.row_where("CategoryList_Load_Query", "code", json!(code), &["url"])
}

fn product(h: &Harness, code: &str) -> Value {
    h.row_where(
        "ProductList_Load_Query",
        "code",
        json!(code),
        &[
            "categories",
            "cancat_code",
            "product_inventory",
            "productinventorysettings",
        ],
    )
    .unwrap_or_else(|| panic!("no product {code}"))
}

fn codes(rows: &Value) -> Vec<String> {
    rows["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn category_insert_update_delete() {
    let h = harness(|c| c);
    let inserted = h.run(
        "Category_Insert",
        json!({"Category_Code": "NEW-CAT", "Category_Name": "New Things",
               "Category_Page_Title": "New | Store", "Category_Active": true,
               "Category_Parent_Category": "cat001", "Category_Alternate_Display_Page": "CTGY",
               "CustomField_Values": {"customfields": {"x": "1"}}}),
    );
    assert_eq!(inserted["success"], 1, "{inserted}");
    let data = &inserted["data"];
    assert_eq!(data["id"], 25);
    assert_eq!(data["code"], "NEW-CAT");
    assert_eq!(data["name"], "New Things");
    assert_eq!(data["page_title"], "New | Store");
    assert_eq!(data["page_code"], "CTGY");
    assert_eq!(data["parent_id"], 1);
    assert_eq!(data["parent_category"], "CAT001");
    assert_eq!(data["depth"], 2);
    assert_eq!(data["active"], true);
    assert!(data["dt_created"].as_i64().unwrap() >= common::now() - 5);
    assert!(
        data.get("url").is_none(),
        "on-demand column in the insert answer"
    );
    let listed = category(&h, "new-cat").unwrap();
    assert_eq!(listed["name"], "New Things");
    assert_eq!(
        listed["url"],
        "https://www.example.com/category/new-cat.html"
    );
    assert_eq!(h.total("CategoryList_Load_Query", json!({})), 25);

    // A child of the new category, then updates by each identifier.
    let child = h.run(
        "Category_Insert",
        json!({"Category_Code": "NEW-CHILD", "Category_Name": "Child",
               "Category_Parent_Category": "NEW-CAT"}),
    );
    assert_eq!(child["data"]["depth"], 3);
    assert_eq!(
        h.run(
            "Category_Update",
            json!({"Category_ID": 25, "Category_Code": "RENAMED", "Category_Name": "Renamed"})
        ),
        json!({"success": 1})
    );
    assert!(category(&h, "NEW-CAT").is_none());
    let renamed = category(&h, "RENAMED").unwrap();
    assert_eq!(renamed["name"], "Renamed");
    assert!(renamed["dt_updated"].as_i64().unwrap() >= common::now() - 5);
    // The child follows its parent's new code.
    assert_eq!(
        category(&h, "NEW-CHILD").unwrap()["parent_category"],
        "RENAMED"
    );
    assert_eq!(
        h.run(
            "Category_Update",
            json!({"Edit_Category": "renamed", "Category_Active": 0,
                   "Category_Parent_Category": ""})
        ),
        json!({"success": 1})
    );
    let moved = category(&h, "RENAMED").unwrap();
    assert_eq!(moved["active"], false);
    assert_eq!(moved["parent_id"], 0);
    assert_eq!(moved["depth"], 1);
    assert_eq!(category(&h, "NEW-CHILD").unwrap()["depth"], 2);
    let active = h.list(
        "CategoryList_Load_Query",
        json!({"Count": 0, "Filter": [{"name": "Category_Show", "value": "Active"}]}),
    );
    assert!(!codes(&active).contains(&"RENAMED".to_owned()));
    assert_eq!(
        h.run(
            "Category_Update",
            json!({"Category_Code": "NEW-CHILD", "Category_Page_Title": "Kids"})
        ),
        json!({"success": 1})
    );
    assert_eq!(category(&h, "NEW-CHILD").unwrap()["page_title"], "Kids");
    // Sorted lists see the writes.
    let last = h.list(
        "CategoryList_Load_Query",
        json!({"Sort": "-id", "Count": 1}),
    );
    assert_eq!(last["data"][0]["code"], "NEW-CHILD");

    // Deleting a category deletes its subcategories.
    assert_eq!(
        h.run("Category_Delete", json!({"Category_ID": 25})),
        json!({"success": 1})
    );
    assert!(category(&h, "RENAMED").is_none());
    assert!(category(&h, "NEW-CHILD").is_none());
    assert_eq!(h.total("CategoryList_Load_Query", json!({})), 24);
    for (field, value, code) in [
        ("Edit_Category", "CAT024", "CAT024"),
        ("Category_Code", "cat023", "CAT023"),
    ] {
        assert_eq!(
            h.run("Category_Delete", json!({field: value})),
            json!({"success": 1}),
            "{field}"
        );
        assert!(category(&h, code).is_none(), "{code}");
    }
    assert_eq!(
        h.run("Category_Delete", json!({"Category_ID": 25})),
        validation("Category_ID", "Category not found")
    );
    // A new category does not reuse a deleted id.
    let again = h.run(
        "Category_Insert",
        json!({"Category_Code": "RENAMED", "Category_Name": "Again"}),
    );
    assert_eq!(again["data"]["id"], 27);
}

#[test]
fn deleting_a_category_unassigns_its_products() {
    let h = harness(|c| c);
    let in_cat001 = h.codes(json!([{"field": "category", "operator": "IN", "value": "CAT001"}]));
    assert!(!in_cat001.is_empty());
    let first = product(&h, &in_cat001[0]);
    assert_eq!(first["cancat_code"], "CAT001");
    let before = first["catcount"].as_u64().unwrap();
    // CAT007, CAT013 and CAT019 are CAT001's subcategories.
    assert_eq!(
        h.run("Category_Delete", json!({"Edit_Category": "CAT001"})),
        json!({"success": 1})
    );
    assert_eq!(h.total("CategoryList_Load_Query", json!({})), 20);
    for code in ["CAT001", "CAT007", "CAT013", "CAT019"] {
        assert!(category(&h, code).is_none(), "{code}");
    }
    assert!(
        h.codes(json!([{"field": "category", "operator": "IN", "value": "CAT001"}]))
            .is_empty()
    );
    let after = product(&h, &in_cat001[0]);
    assert_eq!(after["cancat_code"], "");
    assert_eq!(after["catcount"].as_u64().unwrap(), before - 1);
    assert_eq!(
        after["categories"].as_array().unwrap().len() as u64,
        before - 1
    );
}

#[test]
fn category_validation_errors() {
    let h = harness(|c| c);
    let insert = |extra: Value| {
        let mut request = json!({"Category_Code": "C-1", "Category_Name": "C"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.run("Category_Insert", request)
    };
    assert_eq!(
        insert(json!({"Category_Code": null})),
        validation("Category_Code", "A value is required")
    );
    assert_eq!(
        insert(json!({"Category_Code": "a b"})),
        validation(
            "Category_Code",
            "Codes may contain only letters, numbers, dashes and underscores"
        )
    );
    assert_eq!(
        insert(json!({"Category_Code": "x".repeat(51)})),
        validation("Category_Code", "Please enter at most 50 characters")
    );
    assert_eq!(
        insert(json!({"Category_Code": "cat002"})),
        validation(
            "Category_Code",
            "A category with code 'cat002' already exists"
        )
    );
    assert_eq!(
        insert(json!({"Category_Name": " "})),
        validation("Category_Name", "A value is required")
    );
    assert_eq!(
        insert(json!({"Category_Active": "maybe"})),
        validation("Category_Active", "Please enter true or false")
    );
    assert_eq!(
        insert(json!({"Category_Parent_Category": "NOPE"})),
        validation("Category_Parent_Category", "Category 'NOPE' not found")
    );
    assert_eq!(
        insert(json!({"Category_Page_Title": {"a": 1}})),
        validation("Category_Page_Title", "Please enter text")
    );
    assert_eq!(h.total("CategoryList_Load_Query", json!({})), 24);

    let update = |fields: Value| h.run("Category_Update", fields);
    assert_eq!(
        update(json!({"Category_Name": "X"})),
        validation(
            "Category_ID",
            "Please specify a category by Category_ID, Edit_Category or Category_Code"
        )
    );
    assert_eq!(
        update(json!({"Category_ID": 99})),
        validation("Category_ID", "Category not found")
    );
    assert_eq!(
        update(json!({"Category_ID": "x"})),
        validation("Category_ID", "Please enter a whole number")
    );
    assert_eq!(
        update(json!({"Edit_Category": "NOPE"})),
        validation("Edit_Category", "Category not found")
    );
    assert_eq!(
        update(json!({"Category_ID": 1, "Category_Code": "CAT002"})),
        validation(
            "Category_Code",
            "A category with code 'CAT002' already exists"
        )
    );
    assert_eq!(
        update(json!({"Category_ID": 1, "Category_Name": ""})),
        validation("Category_Name", "A value is required")
    );
    // Not below itself, nor below one of its subcategories (CAT007).
    for parent in ["CAT001", "CAT007"] {
        assert_eq!(
            update(json!({"Edit_Category": "CAT001", "Category_Parent_Category": parent})),
            validation(
                "Category_Parent_Category",
                "A category cannot be moved below itself or one of its subcategories"
            ),
            "{parent}"
        );
    }
    // A failed update changes nothing.
    assert_eq!(
        update(json!({"Category_ID": 1, "Category_Name": "Changed", "Category_Active": "x"})),
        validation("Category_Active", "Please enter true or false")
    );
    assert_eq!(category(&h, "CAT001").unwrap()["name"], "Home");
    assert_eq!(
        h.run("Category_Delete", json!({})),
        validation(
            "Category_ID",
            "Please specify a category by Category_ID, Edit_Category or Category_Code"
        )
    );
    assert_eq!(
        h.run("Category_Delete", json!({"Category_Code": "NOPE"})),
        validation("Category_Code", "Category not found")
    );
}

#[test]
fn category_products_and_assignment() {
    let h = harness(|c| c);
    let in_cat001 = h.codes(json!([{"field": "category", "operator": "IN", "value": "CAT001"}]));
    let list = |extra: Value| {
        let mut request = json!({"Edit_Category": "CAT001"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.list("CategoryProductList_Load_Query", request)
    };
    let all = list(json!({}));
    assert_eq!(all["total_count"], 100);
    for row in all["data"].as_array().unwrap() {
        let code = row["code"].as_str().unwrap().to_owned();
        assert_eq!(row["assigned"], in_cat001.contains(&code), "{code}");
        assert!(row.get("descrip").is_none());
    }
    let assigned = list(json!({"Assigned": true}));
    assert_eq!(codes(&assigned), in_cat001);
    let unassigned = list(json!({"Unassigned": true, "Count": 0}));
    assert_eq!(
        unassigned["total_count"].as_u64().unwrap() as usize,
        100 - in_cat001.len()
    );
    assert_eq!(
        list(json!({"Assigned": true, "Unassigned": true}))["total_count"],
        100
    );
    // Sort, paging, search and on-demand columns, as for products.
    let page = list(
        json!({"Assigned": 1, "Sort": "-code", "Count": 2, "Offset": 1,
        "Filter": [{"name": "ondemandcolumns", "value": ["product_inventory"]}]}),
    );
    let mut expected = in_cat001.clone();
    expected.reverse();
    assert_eq!(codes(&page), expected[1..3].to_vec());
    assert_eq!(page["start_offset"], 1);
    assert!(page["data"][0]["product_inventory"].as_i64().is_some());
    let searched = list(json!({"Filter": [{"name": "search", "value": [
        {"field": "code", "operator": "IN", "value": "P000001,P000002"}]}]}));
    assert_eq!(codes(&searched), ["P000001", "P000002"]);
    assert_eq!(searched["data"][0]["assigned"], true);
    assert_eq!(searched["data"][1]["assigned"], false);
    // By the other identifiers.
    for by in [
        json!({"Category_ID": 1}),
        json!({"Category_Code": "cat001"}),
    ] {
        let mut request = by.clone();
        request["Assigned"] = json!(true);
        assert_eq!(
            codes(&h.list("CategoryProductList_Load_Query", request)),
            in_cat001,
            "{by}"
        );
    }

    // Assign an uncategorized product (every tenth is), then unassign it.
    let uncategorized = |h: &Harness| {
        codes(&h.list(
            "ProductList_Load_Query",
            json!({"Filter": [{"name": "Product_Show", "value": "Uncategorized"}]}),
        ))
    };
    assert!(uncategorized(&h).contains(&"P000010".to_owned()));
    assert_eq!(
        h.run(
            "CategoryProduct_Update_Assigned",
            json!({"Edit_Category": "CAT001", "Edit_Product": "P000010", "Assigned": true})
        ),
        json!({"success": 1})
    );
    // Assigning again is fine.
    assert_eq!(
        h.run(
            "CategoryProduct_Update_Assigned",
            json!({"Category_ID": 1, "Product_SKU": "SKU-000010", "Assigned": "1"})
        ),
        json!({"success": 1})
    );
    assert!(!uncategorized(&h).contains(&"P000010".to_owned()));
    let p10 = product(&h, "P000010");
    assert_eq!(p10["catcount"], 1);
    assert_eq!(p10["categories"][0]["code"], "CAT001");
    assert!(codes(&list(json!({"Assigned": true}))).contains(&"P000010".to_owned()));
    assert_eq!(
        h.run(
            "CategoryProduct_Update_Assigned",
            json!({"Category_Code": "CAT001", "Product_ID": 10, "Assigned": false})
        ),
        json!({"success": 1})
    );
    assert!(uncategorized(&h).contains(&"P000010".to_owned()));
    assert_eq!(product(&h, "P000010")["catcount"], 0);

    // Errors.
    assert_eq!(
        h.run("CategoryProductList_Load_Query", json!({})),
        validation(
            "Category_ID",
            "Please specify a category by Category_ID, Edit_Category or Category_Code"
        )
    );
    assert_eq!(
        h.run(
            "CategoryProductList_Load_Query",
            json!({"Edit_Category": "NOPE"})
        ),
        validation("Edit_Category", "Category not found")
    );
    assert_eq!(
        h.run(
            "CategoryProductList_Load_Query",
            json!({"Category_ID": 1, "Assigned": "x"})
        ),
        validation("Assigned", "Please enter true or false")
    );
    let bad_sort = h.run(
        "CategoryProductList_Load_Query",
        json!({"Category_ID": 1, "Sort": "disp_order"}),
    );
    assert_eq!(bad_sort["error_code"], "invalid_list_query");
    assert_eq!(
        h.run(
            "CategoryProduct_Update_Assigned",
            json!({"Category_ID": 1, "Product_ID": 10})
        ),
        validation("Assigned", "A value is required")
    );
    assert_eq!(
        h.run(
            "CategoryProduct_Update_Assigned",
            json!({"Category_ID": 1, "Edit_Product": "NOPE", "Assigned": true})
        ),
        validation("Edit_Product", "Product not found")
    );
    assert_eq!(
        h.run(
            "CategoryProduct_Update_Assigned",
            json!({"Category_ID": 99, "Product_ID": 1, "Assigned": true})
        ),
        validation("Category_ID", "Category not found")
    );
}

#[test]
fn adjust_inventory() {
    let h = harness(|c| c.with_products(20));
    let level = |h: &Harness, code: &str| product(h, code)["product_inventory"].as_i64().unwrap();
    let (one, two, three) = (
        level(&h, "P000001"),
        level(&h, "P000002"),
        level(&h, "P000003"),
    );
    let answer = h.run(
        "ProductList_Adjust_Inventory",
        json!({"Inventory_Adjustments": [
            {"product_id": 1, "adjustment": 100},
            {"product_code": "p000002", "adjustment": -5},
            {"product_sku": "SKU-000003", "adjustment": "7"},
            {"product_id": 1, "adjustment": -1},
        ]}),
    );
    assert_eq!(answer, json!({"success": 1}));
    assert_eq!(level(&h, "P000001"), one + 99);
    assert_eq!(level(&h, "P000002"), two - 5);
    assert_eq!(level(&h, "P000003"), three + 7);
    // The list query searches the adjusted inventory.
    let stocked =
        h.codes(json!([{"field": "product_inventory", "operator": "EQ", "value": one + 99}]));
    assert!(stocked.contains(&"P000001".to_owned()));
    // Below zero is allowed (backorders).
    let answer = h.run(
        "ProductList_Adjust_Inventory",
        json!({"Inventory_Adjustments": [{"product_id": 2, "adjustment": -(two - 5) - 3}]}),
    );
    assert_eq!(answer["success"], 1);
    assert_eq!(level(&h, "P000002"), -3);
    // Nothing to adjust is fine.
    assert_eq!(
        h.run(
            "ProductList_Adjust_Inventory",
            json!({"Inventory_Adjustments": []})
        ),
        json!({"success": 1})
    );

    let adjust = |entries: Value| {
        h.run(
            "ProductList_Adjust_Inventory",
            json!({"Inventory_Adjustments": entries}),
        )
    };
    assert_eq!(
        adjust(json!({"product_id": 1})),
        validation("Inventory_Adjustments", "Please enter a list of objects")
    );
    assert_eq!(
        adjust(json!([5])),
        validation("Inventory_Adjustments[0]", "Please enter an object")
    );
    assert_eq!(
        adjust(json!([{"adjustment": 1}])),
        validation(
            "Inventory_Adjustments[0].product_id",
            "Please specify a product by product_id, product_code or product_sku"
        )
    );
    assert_eq!(
        adjust(
            json!([{"product_id": 1, "adjustment": 1}, {"product_code": "NOPE", "adjustment": 1}])
        ),
        validation("Inventory_Adjustments[1].product_code", "Product not found")
    );
    assert_eq!(
        adjust(json!([{"product_id": 999, "adjustment": 1}])),
        validation("Inventory_Adjustments[0].product_id", "Product not found")
    );
    assert_eq!(
        adjust(json!([{"product_sku": "NOPE", "adjustment": 1}])),
        validation("Inventory_Adjustments[0].product_sku", "Product not found")
    );
    assert_eq!(
        adjust(json!([{"product_id": 1}])),
        validation("Inventory_Adjustments[0].adjustment", "A value is required")
    );
    assert_eq!(
        adjust(json!([{"product_id": 1, "adjustment": 1.5}])),
        validation(
            "Inventory_Adjustments[0].adjustment",
            "Please enter a whole number"
        )
    );
    assert_eq!(
        adjust(json!([
            {"product_id": 1, "adjustment": i64::MAX - (one + 99)},
            {"product_id": 1, "adjustment": 1},
        ])),
        validation(
            "Inventory_Adjustments[1].adjustment",
            "Please enter a smaller number"
        )
    );
    // All or nothing: the valid first entries of failed calls changed nothing.
    assert_eq!(level(&h, "P000001"), one + 99);
}

#[test]
fn inventory_product_settings() {
    let h = harness(|c| c.with_products(5));
    let seeded = product(&h, "P000004");
    assert_eq!(seeded["product_inventory_active"], true);
    assert_eq!(seeded["productinventorysettings"]["low_track"], "Default");
    let answer = h.run(
        "InventoryProductSettings_Update",
        json!({"Edit_Product": "P000004", "TrackProduct": false,
               "TrackLowStockLevel": "yes", "TrackOutOfStockLevel": "No",
               "HideOutOfStockProducts": "Yes", "LowStockLevel": 5, "OutOfStockLevel": 1,
               "InStockMessageShort": "In stock", "InStockMessageLong": "Ships today",
               "LowStockMessageShort": "Hurry", "LowStockMessageLong": "Few left",
               "OutOfStockMessageShort": "Gone", "OutOfStockMessageLong": "Sold out",
               "LimitedStockMessage": "Limited", "CurrentStock": 12, "AdjustStockBy": -2}),
    );
    assert_eq!(answer, json!({"success": 1}));
    let updated = product(&h, "P000004");
    assert_eq!(updated["product_inventory"], 10);
    assert_eq!(updated["product_inventory_active"], false);
    assert_eq!(
        updated["productinventorysettings"],
        json!({"active": false, "in_short": "In stock", "in_long": "Ships today",
               "low_track": "Yes", "low_level": 5, "low_lvl_d": false,
               "low_short": "Hurry", "low_long": "Few left",
               "out_track": "No", "out_hide": "Yes", "out_level": 1, "out_lvl_d": false,
               "out_short": "Gone", "out_long": "Sold out", "ltd_long": "Limited"})
    );
    // AdjustStockBy alone adds; by Product_ID and by Product_Code.
    assert_eq!(
        h.run(
            "InventoryProductSettings_Update",
            json!({"Product_ID": 4, "AdjustStockBy": 5})
        ),
        json!({"success": 1})
    );
    assert_eq!(
        h.run(
            "InventoryProductSettings_Update",
            json!({"Product_Code": "P000004", "TrackProduct": "1"})
        ),
        json!({"success": 1})
    );
    let again = product(&h, "P000004");
    assert_eq!(again["product_inventory"], 15);
    assert_eq!(again["product_inventory_active"], true);
    assert_eq!(again["productinventorysettings"]["in_short"], "In stock");

    let update = |fields: Value| h.run("InventoryProductSettings_Update", fields);
    assert_eq!(
        update(json!({"Product_ID": 4, "TrackLowStockLevel": "Maybe"})),
        validation("TrackLowStockLevel", "Please choose Default, Yes or No")
    );
    assert_eq!(
        update(json!({"Product_ID": 4, "LowStockLevel": -1})),
        validation("LowStockLevel", "Please enter 0 or more")
    );
    assert_eq!(
        update(json!({"Product_ID": 4, "CurrentStock": "lots"})),
        validation("CurrentStock", "Please enter a whole number")
    );
    assert_eq!(
        update(json!({"Product_ID": 99})),
        validation("Product_ID", "Product not found")
    );
    assert_eq!(
        update(json!({"TrackProduct": true})),
        validation(
            "Product_ID",
            "Please specify a product by Product_ID, Edit_Product or Product_Code"
        )
    );
    assert_eq!(product(&h, "P000004")["product_inventory"], 15);
}
