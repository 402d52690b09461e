//! Coupons (CouponList_Load_Query, Coupon_Insert, Coupon_Update,
//! CouponList_Delete) and price groups (PriceGroupList_Load_Query,
//! PriceGroup_Insert / _Update / _Delete) over HTTP: the seeded records,
//! the query engine on them, writes seen by the lists, validation errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Harness, harness, validation};
use miva_mock::Seed;
use serde_json::{Value, json};

fn coupon(h: &Harness, code: &str) -> Option<Value> {
    h.row_where("CouponList_Load_Query", "code", json!(code), &[])
}

fn price_group(h: &Harness, name: &str) -> Option<Value> {
    h.row_where("PriceGroupList_Load_Query", "name", json!(name), &[])
}

fn search(h: &Harness, function: &str, field: &str, search: Value) -> Vec<String> {
    let data = h.list(
        function,
        json!({"Count": 0, "Filter": [{"name": "search", "value": search}]}),
    );
    data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap().to_owned())
        .collect()
}

fn keys(row: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn seeded_coupons_and_the_query_engine() {
    let h = harness(|c| c);
    let all = h.list("CouponList_Load_Query", json!({}));
    assert_eq!(all["total_count"], 12);
    let rows = all["data"].as_array().unwrap().clone();
    assert_eq!(rows[0]["code"], "COUPON001");
    let mut model = vec![
        "id",
        "code",
        "descrip",
        "custscope",
        "dt_start",
        "dt_end",
        "max_use",
        "max_per",
        "active",
        "use_count",
    ];
    model.sort_unstable();
    for row in &rows {
        assert_eq!(keys(row), model, "{row}");
        assert!(["A", "X", "L"].contains(&row["custscope"].as_str().unwrap()));
    }
    let codes_where = |pred: &dyn Fn(&Value) -> bool| -> Vec<String> {
        rows.iter()
            .filter(|r| pred(r))
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let q = |s: Value| search(&h, "CouponList_Load_Query", "code", s);
    assert_eq!(
        q(json!([{"field": "code", "operator": "LIKE", "value": "coupon00%"}])).len(),
        9
    );
    assert_eq!(
        q(json!([{"field": "active", "operator": "FALSE"}])),
        codes_where(&|r| r["active"] == false)
    );
    assert_eq!(
        q(json!([{"field": "custscope", "operator": "IN", "value": "A,L"}])),
        codes_where(&|r| r["custscope"] != "X")
    );
    assert_eq!(
        q(json!([{"field": "dt_end", "operator": "EQ", "value": 0}])),
        ["COUPON004", "COUPON008", "COUPON012"]
    );
    assert_eq!(
        q(json!([{"field": "use_count", "operator": "GE", "value": 5}])),
        codes_where(&|r| r["use_count"].as_i64().unwrap() >= 5)
    );
    assert_eq!(
        q(json!([{"field": "descrip", "operator": "CO", "value": "MOCK COUPON 1"}])),
        ["COUPON001", "COUPON010", "COUPON011", "COUPON012"]
    );
    assert_eq!(
        q(json!([
            {"field": "code", "operator": "EQ", "value": "COUPON001"},
            {"field": "search_OR", "operator": "SUBWHERE", "value": [
                {"field": "code", "operator": "EQ", "value": "COUPON002"}]}])),
        ["COUPON001", "COUPON002"]
    );
    let sorted = h.list(
        "CouponList_Load_Query",
        json!({"Sort": "-use_count", "Count": 5, "Offset": 10}),
    );
    assert_eq!(sorted["total_count"], 12);
    assert_eq!(sorted["data"].as_array().unwrap().len(), 2);
    let mut by_use: Vec<(i64, u64)> = rows
        .iter()
        .map(|r| (-r["use_count"].as_i64().unwrap(), r["id"].as_u64().unwrap()))
        .collect();
    by_use.sort_unstable();
    assert_eq!(sorted["data"][0]["id"], by_use[10].1);
    let bad = h.run(
        "CouponList_Load_Query",
        json!({"Filter": [{"name": "search", "value": [{"field": "nope", "operator": "EQ", "value": 1}]}]}),
    );
    assert_eq!(bad["error_code"], "invalid_list_query");
    assert_eq!(
        h.run("CouponList_Load_Query", json!({"Sort": "name"}))["error_code"],
        "invalid_list_query"
    );

    // The seed is deterministic, and its size configurable.
    let other = harness(|c| c);
    assert_eq!(other.list("CouponList_Load_Query", json!({})), all);
    assert_eq!(
        other.list("PriceGroupList_Load_Query", json!({})),
        h.list("PriceGroupList_Load_Query", json!({}))
    );
    let small = harness(|c| c.with_seed(Seed::default().with_coupons(3).with_price_groups(0)));
    assert_eq!(small.total("CouponList_Load_Query", json!({})), 3);
    assert_eq!(small.total("PriceGroupList_Load_Query", json!({})), 0);
}

#[test]
fn coupon_insert_update_delete() {
    let h = harness(|c| c);
    let inserted = h.run(
        "Coupon_Insert",
        json!({"Code": "SPRING-25", "Description": "25% off", "CustomerScope": "l",
               "DateTime_Start": 1_700_000_000, "DateTime_End": 1_800_000_000,
               "Max_Use": 100, "Max_Per": "1", "Active": true, "PriceGroup_ID": 2}),
    );
    assert_eq!(inserted["success"], 1, "{inserted}");
    let expected = json!({"id": 13, "code": "SPRING-25", "descrip": "25% off", "custscope": "L",
                          "dt_start": 1_700_000_000, "dt_end": 1_800_000_000, "max_use": 100,
                          "max_per": 1, "active": true, "use_count": 0});
    assert_eq!(inserted["data"], expected);
    assert_eq!(coupon(&h, "spring-25").unwrap(), expected);
    // Defaults.
    let plain = h.run("Coupon_Insert", json!({"Code": "PLAIN"}));
    assert_eq!(
        plain["data"],
        json!({"id": 14, "code": "PLAIN", "descrip": "", "custscope": "A", "dt_start": 0,
               "dt_end": 0, "max_use": 0, "max_per": 0, "active": true, "use_count": 0})
    );
    assert_eq!(h.total("CouponList_Load_Query", json!({})), 14);

    // Update by Coupon_ID (renaming with Code), Edit_Coupon, Coupon_Code.
    assert_eq!(
        h.run(
            "Coupon_Update",
            json!({"Coupon_ID": 13, "Code": "SUMMER-25", "Active": false})
        ),
        json!({"success": 1})
    );
    assert!(coupon(&h, "SPRING-25").is_none());
    assert_eq!(coupon(&h, "SUMMER-25").unwrap()["active"], false);
    assert_eq!(
        h.run(
            "Coupon_Update",
            json!({"Edit_Coupon": "summer-25", "Description": "Summer", "Max_Use": 5})
        ),
        json!({"success": 1})
    );
    assert_eq!(
        h.run(
            "Coupon_Update",
            json!({"Coupon_Code": "SUMMER-25", "CustomerScope": "X"})
        ),
        json!({"success": 1})
    );
    let updated = coupon(&h, "SUMMER-25").unwrap();
    assert_eq!(updated["descrip"], "Summer");
    assert_eq!(updated["max_use"], 5);
    assert_eq!(updated["custscope"], "X");
    assert_eq!(updated["dt_start"], 1_700_000_000);
    let inactive = search(
        &h,
        "CouponList_Load_Query",
        "code",
        json!([{"field": "active", "operator": "FALSE"}]),
    );
    assert!(inactive.contains(&"SUMMER-25".to_owned()));

    // CouponList_Delete: several at once, duplicates counted once.
    let answer = h.run("CouponList_Delete", json!({"Coupon_IDs": [13, "1", 13]}));
    assert_eq!(answer, json!({"success": 1, "processed": 2}));
    assert!(coupon(&h, "SUMMER-25").is_none());
    assert!(coupon(&h, "COUPON001").is_none());
    assert_eq!(h.total("CouponList_Load_Query", json!({})), 12);
    assert_eq!(
        h.run("CouponList_Delete", json!({"Coupon_IDs": []})),
        json!({"success": 1, "processed": 0})
    );
    // The code is free again; the id is not reused.
    assert_eq!(
        h.run("Coupon_Insert", json!({"Code": "SUMMER-25"}))["data"]["id"],
        15
    );
}

#[test]
fn coupon_validation_errors() {
    let h = harness(|c| c);
    let insert = |extra: Value| {
        let mut request = json!({"Code": "NEW"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.run("Coupon_Insert", request)
    };
    assert_eq!(
        insert(json!({"Code": null})),
        validation("Code", "A value is required")
    );
    assert_eq!(
        insert(json!({"Code": "10% OFF"})),
        validation(
            "Code",
            "Codes may contain only letters, numbers, dashes and underscores"
        )
    );
    assert_eq!(
        insert(json!({"Code": "coupon003"})),
        validation("Code", "A coupon with code 'coupon003' already exists")
    );
    assert_eq!(
        insert(json!({"CustomerScope": "Z"})),
        validation("CustomerScope", "Please choose A, X or L")
    );
    assert_eq!(
        insert(json!({"Max_Use": -1})),
        validation("Max_Use", "Please enter 0 or more")
    );
    assert_eq!(
        insert(json!({"Max_Per": "many"})),
        validation("Max_Per", "Please enter a whole number")
    );
    assert_eq!(
        insert(json!({"DateTime_Start": 200, "DateTime_End": 100})),
        validation(
            "DateTime_End",
            "The end date must not be before the start date"
        )
    );
    assert_eq!(
        insert(json!({"Active": "sometimes"})),
        validation("Active", "Please enter true or false")
    );
    assert_eq!(
        insert(json!({"PriceGroup_ID": 99})),
        validation("PriceGroup_ID", "Price group not found")
    );
    assert_eq!(h.total("CouponList_Load_Query", json!({})), 12);

    let update = |fields: Value| h.run("Coupon_Update", fields);
    assert_eq!(
        update(json!({"Active": false})),
        validation(
            "Coupon_ID",
            "Please specify a coupon by Coupon_ID, Edit_Coupon or Coupon_Code"
        )
    );
    assert_eq!(
        update(json!({"Coupon_ID": 99})),
        validation("Coupon_ID", "Coupon not found")
    );
    assert_eq!(
        update(json!({"Coupon_Code": "NOPE"})),
        validation("Coupon_Code", "Coupon not found")
    );
    assert_eq!(
        update(json!({"Coupon_ID": 1, "Code": "COUPON002"})),
        validation("Code", "A coupon with code 'COUPON002' already exists")
    );
    // An update that would end before it starts, against the stored start.
    let start = coupon(&h, "COUPON001").unwrap()["dt_start"]
        .as_i64()
        .unwrap();
    assert_eq!(
        update(json!({"Coupon_ID": 1, "Description": "changed", "DateTime_End": start - 1})),
        validation(
            "DateTime_End",
            "The end date must not be before the start date"
        )
    );
    assert_ne!(coupon(&h, "COUPON001").unwrap()["descrip"], "changed");

    let delete = |ids: Value| h.run("CouponList_Delete", json!({"Coupon_IDs": ids}));
    assert_eq!(
        h.run("CouponList_Delete", json!({})),
        validation("Coupon_IDs", "A value is required")
    );
    assert_eq!(
        delete(json!(1)),
        validation("Coupon_IDs", "Please enter a list of coupon ids")
    );
    assert_eq!(
        delete(json!([1, "x"])),
        validation("Coupon_IDs[1]", "Please enter a whole number")
    );
    // An unknown id deletes nothing.
    assert_eq!(
        delete(json!([1, 2, 99])),
        validation("Coupon_IDs[2]", "Coupon not found")
    );
    assert_eq!(h.total("CouponList_Load_Query", json!({})), 12);
}

#[test]
fn seeded_price_groups() {
    let h = harness(|c| c);
    let all = h.list("PriceGroupList_Load_Query", json!({}));
    assert_eq!(all["total_count"], 6);
    let rows = all["data"].as_array().unwrap();
    assert_eq!(rows[0]["name"], "Wholesale");
    let mut model = vec![
        "id",
        "name",
        "custscope",
        "rate",
        "discount",
        "markup",
        "dt_start",
        "dt_end",
        "qmn_subtot",
        "qmx_subtot",
        "qmn_quan",
        "qmx_quan",
        "qmn_weight",
        "qmx_weight",
        "bmn_subtot",
        "bmx_subtot",
        "bmn_quan",
        "bmx_quan",
        "bmn_weight",
        "bmx_weight",
        "priority",
        "module",
        "capabilities",
        "exclusion",
        "descrip",
        "display",
    ];
    model.sort_unstable();
    for row in rows {
        assert_eq!(keys(row), model, "{row}");
        assert!(["A", "X", "L", "C"].contains(&row["custscope"].as_str().unwrap()));
        assert!(["R", "C", "D", "M"].contains(&row["rate"].as_str().unwrap()));
        assert!(
            row["module"]["code"]
                .as_str()
                .unwrap()
                .starts_with("discount_")
        );
        assert!(row["capabilities"]["basket"].is_boolean());
    }
    assert_eq!(rows[0]["module"]["code"], "discount_basket");
    assert_eq!(rows[1]["module"]["code"], "discount_product");
    // Searchable by the module's id, which the rows do not carry.
    let q = |s: Value| search(&h, "PriceGroupList_Load_Query", "name", s);
    assert_eq!(
        q(json!([{"field": "module_id", "operator": "EQ", "value": 1}])),
        ["Wholesale", "Holiday Sale"]
    );
    assert_eq!(
        q(json!([{"field": "name", "operator": "NOTLIKE", "value": "%e%"}])),
        ["VIP", "Loyalty"]
    );
    assert_eq!(
        q(json!([{"field": "display", "operator": "TRUE"}])),
        ["Wholesale", "Employees", "Holiday Sale"]
    );
    let by_priority = h.list(
        "PriceGroupList_Load_Query",
        json!({"Sort": "-priority", "Count": 2}),
    );
    assert_eq!(by_priority["data"][0]["name"], "Loyalty");
    assert_eq!(by_priority["data"][1]["name"], "Holiday Sale");
}

#[test]
fn price_group_insert_update_delete() {
    let h = harness(|c| c);
    let inserted = h.run(
        "PriceGroup_Insert",
        json!({"Name": "Spring Sale", "Module_Code": "discount_product", "CustomerScope": "a",
               "Rate": "R", "Discount": 10.5, "Markup": "1", "Exclusion": true,
               "Description": "Spring", "Display": false, "DateTime_Start": 100,
               "DateTime_End": 120, "Qualifying_Min_Subtotal": 2, "Qualifying_Max_Subtotal": 3,
               "Qualifying_Min_Quantity": 4, "Qualifying_Max_Quantity": 5,
               "Qualifying_Min_Weight": 6, "Qualifying_Max_Weight": 7,
               "Basket_Min_Subtotal": 8, "Basket_Max_Subtotal": 9,
               "Basket_Min_Quantity": 10, "Basket_Max_Quantity": 11,
               "Basket_Min_Weight": 12, "Basket_Max_Weight": 13, "Priority": 100,
               "Exclusions": [{"id": 1, "scope": "basket"}]}),
    );
    assert_eq!(inserted["success"], 1, "{inserted}");
    let data = &inserted["data"];
    assert_eq!(data["id"], 7);
    assert_eq!(data["name"], "Spring Sale");
    assert_eq!(data["custscope"], "A");
    assert_eq!(data["rate"], "R");
    assert_eq!(data["discount"], json!(10.5));
    assert_eq!(data["markup"], json!(1.0));
    assert_eq!(data["exclusion"], true);
    assert_eq!(data["display"], false);
    assert_eq!(data["dt_start"], 100);
    assert_eq!(data["dt_end"], 120);
    for (column, value) in [
        ("qmn_subtot", 2.0),
        ("qmx_subtot", 3.0),
        ("qmn_weight", 6.0),
        ("qmx_weight", 7.0),
        ("bmn_subtot", 8.0),
        ("bmx_subtot", 9.0),
        ("bmn_weight", 12.0),
        ("bmx_weight", 13.0),
    ] {
        assert_eq!(data[column], json!(value), "{column}");
    }
    for (column, value) in [
        ("qmn_quan", 4),
        ("qmx_quan", 5),
        ("bmn_quan", 10),
        ("bmx_quan", 11),
    ] {
        assert_eq!(data[column], json!(value), "{column}");
    }
    assert_eq!(data["priority"], 100);
    assert_eq!(data["module"]["code"], "discount_product");
    assert_eq!(data["module"]["id"], 2);
    assert_eq!(data["capabilities"]["items"], true);
    assert_eq!(&price_group(&h, "spring sale").unwrap(), data);
    let top = h.list(
        "PriceGroupList_Load_Query",
        json!({"Sort": "-priority", "Count": 1}),
    );
    assert_eq!(top["data"][0]["name"], "Spring Sale");

    // Update by id (renaming, another module), by Edit_PriceGroup, by
    // PriceGroup_Name; an empty PriceGroup_Name (the SDK always sends it)
    // does not get in the way.
    assert_eq!(
        h.run(
            "PriceGroup_Update",
            json!({"PriceGroup_ID": 7, "PriceGroup_Name": "", "Name": "Summer Sale",
                   "Module_ID": 1, "Discount": 20})
        ),
        json!({"success": 1})
    );
    assert!(price_group(&h, "Spring Sale").is_none());
    let summer = price_group(&h, "Summer Sale").unwrap();
    assert_eq!(summer["module"]["code"], "discount_basket");
    assert_eq!(summer["capabilities"]["basket"], true);
    assert_eq!(summer["discount"], json!(20.0));
    assert_eq!(summer["qmx_quan"], 5);
    assert_eq!(
        h.run(
            "PriceGroup_Update",
            json!({"Edit_PriceGroup": "summer sale", "CustomerScope": "C", "Display": 1})
        ),
        json!({"success": 1})
    );
    assert_eq!(
        h.run(
            "PriceGroup_Update",
            json!({"PriceGroup_Name": "Summer Sale", "Rate": "m", "Priority": -1})
        ),
        json!({"success": 1})
    );
    let updated = price_group(&h, "Summer Sale").unwrap();
    assert_eq!(updated["custscope"], "C");
    assert_eq!(updated["display"], true);
    assert_eq!(updated["rate"], "M");
    assert_eq!(updated["priority"], -1);
    let coupon_only = search(
        &h,
        "PriceGroupList_Load_Query",
        "name",
        json!([{"field": "custscope", "operator": "EQ", "value": "C"}]),
    );
    assert!(coupon_only.contains(&"Summer Sale".to_owned()));

    // Delete by each identifier.
    for (field, value, name) in [
        ("PriceGroup_ID", json!(7), "Summer Sale"),
        ("Edit_PriceGroup", json!("VIP"), "VIP"),
        ("PriceGroup_Name", json!("wholesale"), "Wholesale"),
    ] {
        assert_eq!(
            h.run("PriceGroup_Delete", json!({field: value})),
            json!({"success": 1}),
            "{field}"
        );
        assert!(price_group(&h, name).is_none(), "{name}");
    }
    assert_eq!(h.total("PriceGroupList_Load_Query", json!({})), 4);
    // A coupon can no longer name a deleted group.
    assert_eq!(
        h.run("Coupon_Insert", json!({"Code": "PG", "PriceGroup_ID": 7})),
        validation("PriceGroup_ID", "Price group not found")
    );
    assert_eq!(
        h.run("Coupon_Insert", json!({"Code": "PG", "PriceGroup_ID": 3}))["success"],
        1
    );
}

#[test]
fn price_group_validation_errors() {
    let h = harness(|c| c);
    let insert = |extra: Value| {
        let mut request = json!({"Name": "New", "Module_Code": "discount_basket"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.run("PriceGroup_Insert", request)
    };
    assert_eq!(
        insert(json!({"Name": null})),
        validation("Name", "A value is required")
    );
    assert_eq!(
        insert(json!({"Name": "  "})),
        validation("Name", "A value is required")
    );
    assert_eq!(
        insert(json!({"Name": "vip"})),
        validation("Name", "A price group with name 'vip' already exists")
    );
    assert_eq!(
        insert(json!({"Module_Code": null})),
        validation(
            "Module_ID",
            "Please specify a discount module by Module_ID, Edit_Module or Module_Code"
        )
    );
    assert_eq!(
        insert(json!({"Module_Code": "discount_magic"})),
        validation("Module_Code", "Discount module 'discount_magic' not found")
    );
    assert_eq!(
        insert(json!({"Module_ID": 99})),
        validation("Module_ID", "Discount module not found")
    );
    assert_eq!(
        insert(json!({"Rate": "retail"})),
        validation("Rate", "Please choose R, C, D or M")
    );
    assert_eq!(
        insert(json!({"CustomerScope": "all"})),
        validation("CustomerScope", "Please choose C, A, X or L")
    );
    assert_eq!(
        insert(json!({"Discount": "lots"})),
        validation("Discount", "Please enter a number")
    );
    assert_eq!(
        insert(json!({"Qualifying_Min_Quantity": -1})),
        validation("Qualifying_Min_Quantity", "Please enter 0 or more")
    );
    assert_eq!(
        insert(json!({"Exclusions": "none"})),
        validation("Exclusions", "Please enter a list of objects")
    );
    assert_eq!(
        insert(json!({"DateTime_Start": 10, "DateTime_End": 5})),
        validation(
            "DateTime_End",
            "The end date must not be before the start date"
        )
    );
    assert_eq!(h.total("PriceGroupList_Load_Query", json!({})), 6);

    let update = |fields: Value| h.run("PriceGroup_Update", fields);
    assert_eq!(
        update(json!({"PriceGroup_Name": "", "Discount": 1})),
        validation(
            "PriceGroup_ID",
            "Please specify a price group by PriceGroup_ID, Edit_PriceGroup or PriceGroup_Name"
        )
    );
    assert_eq!(
        update(json!({"PriceGroup_ID": 99})),
        validation("PriceGroup_ID", "Price group not found")
    );
    assert_eq!(
        update(json!({"Edit_PriceGroup": "Nobody"})),
        validation("Edit_PriceGroup", "Price group not found")
    );
    assert_eq!(
        update(json!({"PriceGroup_ID": 1, "Name": "VIP"})),
        validation("Name", "A price group with name 'VIP' already exists")
    );
    assert_eq!(
        update(json!({"PriceGroup_ID": 1, "Name": ""})),
        validation("Name", "A value is required")
    );
    assert_eq!(
        update(json!({"PriceGroup_ID": 1, "Module_ID": 42})),
        validation("Module_ID", "Discount module not found")
    );
    assert_eq!(
        update(json!({"PriceGroup_ID": 1, "Description": "changed", "Markup": []})),
        validation("Markup", "Please enter a number")
    );
    assert_ne!(price_group(&h, "Wholesale").unwrap()["descrip"], "changed");
    assert_eq!(
        h.run("PriceGroup_Delete", json!({"PriceGroup_Name": "Nobody"})),
        validation("PriceGroup_Name", "Price group not found")
    );
}
