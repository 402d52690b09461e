//! List Load Queries: paging, sorting, every search operator, nested
//! groups, on-demand columns, custom filters, every list function, errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Harness, code, harness};
use serde_json::{Value, json};

/// Every product with every on-demand column, straight from the server.
fn all_products(h: &Harness) -> Vec<Value> {
    let data = h.list(
        "ProductList_Load_Query",
        json!({"Count": 0, "Filter": [{"name": "ondemandcolumns",
               "value": ["descrip", "cancat_code", "product_inventory", "categories"]}]}),
    );
    assert_eq!(data["total_count"], 100);
    data["data"].as_array().unwrap().clone()
}

fn codes_where(products: &[Value], pred: impl Fn(&Value) -> bool) -> Vec<String> {
    products
        .iter()
        .filter(|p| pred(p))
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect()
}

fn f(p: &Value, field: &str) -> f64 {
    p[field].as_f64().unwrap()
}

fn s(p: &Value, field: &str) -> String {
    p[field].as_str().unwrap().to_lowercase()
}

#[test]
fn count_zero_means_all_and_paging() {
    let h = harness(|c| c);
    let all = h.list("ProductList_Load_Query", json!({}));
    assert_eq!(all["total_count"], 100);
    assert_eq!(all["start_offset"], 0);
    assert_eq!(all["data"].as_array().unwrap().len(), 100);

    let page = h.list("ProductList_Load_Query", json!({"Count": 10, "Offset": 95}));
    assert_eq!(page["total_count"], 100);
    assert_eq!(page["start_offset"], 95);
    let codes: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["P000096", "P000097", "P000098", "P000099", "P000100"]
    );

    // The pagination loop of the getting-started guide visits every record once.
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = h.list(
            "ProductList_Load_Query",
            json!({"Count": 30, "Offset": offset}),
        );
        let rows = page["data"].as_array().unwrap();
        seen.extend(rows.iter().map(|p| p["id"].as_u64().unwrap()));
        offset = page["start_offset"].as_u64().unwrap() + 30;
        if offset >= page["total_count"].as_u64().unwrap() {
            break;
        }
    }
    assert_eq!(seen, (1..=100).collect::<Vec<u64>>());

    let past = h.list(
        "ProductList_Load_Query",
        json!({"Count": 10, "Offset": 500}),
    );
    assert_eq!(past["total_count"], 100);
    assert_eq!(past["data"], json!([]));
    // Numeric strings are accepted, as the SDKs sometimes send them.
    let page = h.list(
        "ProductList_Load_Query",
        json!({"Count": "3", "Offset": "1"}),
    );
    assert_eq!(page["data"][0]["code"], "P000002");
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
}

#[test]
fn sorting() {
    let h = harness(|c| c);
    for (sort, field) in [
        ("price", "price"),
        ("-price", "price"),
        ("name", "name"),
        ("-dt_updated", "dt_updated"),
        ("-id", "id"),
    ] {
        let data = h.list("ProductList_Load_Query", json!({"Sort": sort}));
        let rows = data["data"].as_array().unwrap();
        assert_eq!(rows.len(), 100);
        let desc = sort.starts_with('-');
        for pair in rows.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let ord = if field == "name" {
                s(a, field).cmp(&s(b, field))
            } else {
                f(a, field).partial_cmp(&f(b, field)).unwrap()
            };
            let ord = if desc { ord.reverse() } else { ord };
            assert!(ord.is_le(), "{sort}: {a} before {b}");
            if ord.is_eq() {
                assert!(a["id"].as_u64() < b["id"].as_u64(), "ties by id");
            }
        }
    }
    let data = h.list("ProductList_Load_Query", json!({"Sort": "-id", "Count": 2}));
    assert_eq!(data["data"][0]["code"], "P000100");
    assert_eq!(data["data"][1]["code"], "P000099");
}

#[test]
fn every_operator() {
    let h = harness(|c| c);
    let all = all_products(&h);
    type Pred = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(Value, Pred)> = vec![
        (
            json!({"field": "code", "operator": "EQ", "value": "P000005"}),
            Box::new(|p| p["code"] == "P000005"),
        ),
        (
            json!({"field": "code", "operator": "EQ", "value": "p000005"}),
            Box::new(|p| p["code"] == "P000005"),
        ),
        (
            json!({"field": "id", "operator": "EQ", "value": 7}),
            Box::new(|p| p["id"] == 7),
        ),
        (
            json!({"field": "code", "operator": "NE", "value": "P000005"}),
            Box::new(|p| p["code"] != "P000005"),
        ),
        (
            json!({"field": "price", "operator": "GT", "value": "500"}),
            Box::new(|p| f(p, "price") > 500.0),
        ),
        (
            json!({"field": "price", "operator": "GE", "value": 500.5}),
            Box::new(|p| f(p, "price") >= 500.5),
        ),
        (
            json!({"field": "price", "operator": "LT", "value": "100"}),
            Box::new(|p| f(p, "price") < 100.0),
        ),
        (
            json!({"field": "weight", "operator": "LE", "value": "10"}),
            Box::new(|p| f(p, "weight") <= 10.0),
        ),
        (
            json!({"field": "name", "operator": "CO", "value": "widget"}),
            Box::new(|p| s(p, "name").contains("widget")),
        ),
        (
            json!({"field": "name", "operator": "NC", "value": "Widget"}),
            Box::new(|p| !s(p, "name").contains("widget")),
        ),
        (
            json!({"field": "code", "operator": "LIKE", "value": "P00001%"}),
            Box::new(|p| s(p, "code").starts_with("p00001")),
        ),
        (
            json!({"field": "code", "operator": "LIKE", "value": "P0000_1"}),
            Box::new(|p| {
                let c = s(p, "code");
                c.len() == 7 && c.starts_with("p0000") && c.ends_with('1')
            }),
        ),
        (
            json!({"field": "code", "operator": "NOTLIKE", "value": "%0"}),
            Box::new(|p| !s(p, "code").ends_with('0')),
        ),
        (
            json!({"field": "active", "operator": "TRUE"}),
            Box::new(|p| p["active"] == true),
        ),
        (
            json!({"field": "taxable", "operator": "FALSE", "value": ""}),
            Box::new(|p| p["taxable"] == false),
        ),
        (
            json!({"field": "cancat_code", "operator": "NULL"}),
            Box::new(|p| p["cancat_code"] == ""),
        ),
        (
            json!({"field": "active", "operator": "EQ", "value": "false"}),
            Box::new(|p| p["active"] == false),
        ),
        (
            json!({"field": "code", "operator": "IN", "value": "P000001,P000003, P000099"}),
            Box::new(|p| ["P000001", "P000003", "P000099"].contains(&p["code"].as_str().unwrap())),
        ),
        (
            json!({"field": "id", "operator": "NOT_IN", "value": "1,2,3"}),
            Box::new(|p| p["id"].as_u64().unwrap() > 3),
        ),
        (
            json!({"field": "descrip", "operator": "CO", "value": "P000042"}),
            Box::new(|p| p["code"] == "P000042"),
        ),
        (
            json!({"field": "product_inventory", "operator": "GE", "value": 200}),
            Box::new(|p| f(p, "product_inventory") >= 200.0),
        ),
        (
            json!({"field": "category", "operator": "IN", "value": "CAT001"}),
            Box::new(|p| {
                p["categories"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["code"] == "CAT001")
            }),
        ),
    ];
    for (condition, pred) in cases {
        let expected = codes_where(&all, pred);
        assert!(
            !expected.is_empty() || condition["operator"] == "NULL",
            "{condition}: empty reference"
        );
        assert_eq!(h.codes(json!([condition.clone()])), expected, "{condition}");
    }
    // A single condition object instead of an array works too.
    assert_eq!(
        h.codes(json!({"field": "code", "operator": "EQ", "value": "P000009"})),
        ["P000009"]
    );
}

#[test]
fn nested_groups_and_connectors() {
    let h = harness(|c| c);
    let all = all_products(&h);
    // What the official SDK sends for
    // code = 'P000001' OR code = 'P000002' OR (code LIKE 'P00005%' AND price > 300).
    let sdk_style = json!([
        {"field": "code", "operator": "EQ", "value": "P000001"},
        {"field": "search_OR", "operator": "SUBWHERE", "value": [
            {"field": "code", "operator": "EQ", "value": "P000002"}]},
        {"field": "search_OR", "operator": "SUBWHERE", "value": [
            {"field": "search", "operator": "SUBWHERE", "value": [
                {"field": "code", "operator": "LIKE", "value": "P00005%"}]},
            {"field": "search_AND", "operator": "SUBWHERE", "value": [
                {"field": "price", "operator": "GT", "value": "300"}]}]},
    ]);
    let expected = codes_where(&all, |p| {
        p["code"] == "P000001"
            || p["code"] == "P000002"
            || (s(p, "code").starts_with("p00005") && f(p, "price") > 300.0)
    });
    assert!(expected.len() > 2);
    assert_eq!(h.codes(sdk_style), expected);

    // Plain entries at one level are ORed, as a store reads them
    // (mmlsk-json.mv 4336: a search filter's children default to OR).
    let ored = json!([
        {"field": "active", "operator": "TRUE"},
        {"field": "price", "operator": "LT", "value": 400},
        {"field": "name", "operator": "NC", "value": "mug"},
    ]);
    let expected = codes_where(&all, |p| {
        p["active"] == true || f(p, "price") < 400.0 || !s(p, "name").contains("mug")
    });
    assert_eq!(h.codes(ored), expected);

    // (a OR b) OR (c AND (d OR e)), nested two levels deep: a search_AND
    // group's children default to OR, a search_OR group's to AND.
    let deep = json!([
        {"field": "search_AND", "operator": "SUBWHERE", "value": [
            {"field": "id", "operator": "LE", "value": 10},
            {"field": "taxable", "operator": "FALSE"}]},
        {"field": "search_OR", "operator": "SUBWHERE", "value": [
            {"field": "id", "operator": "GT", "value": 90},
            {"field": "search_AND", "operator": "SUBWHERE", "value": [
                {"field": "search_OR", "operator": "SUBWHERE", "value": [
                    {"field": "active", "operator": "FALSE"}]},
                {"field": "search_OR", "operator": "SUBWHERE", "value": [
                    {"field": "price", "operator": "GT", "value": 900}]}]}]},
    ]);
    let expected = codes_where(&all, |p| {
        let id = p["id"].as_u64().unwrap();
        (id <= 10 || p["taxable"] == false)
            || (id > 90 && (p["active"] == false || f(p, "price") > 900.0))
    });
    assert!(!expected.is_empty());
    assert_eq!(h.codes(deep), expected);

    // Two `search` filters must both hold.
    let data = h.list(
        "ProductList_Load_Query",
        json!({"Filter": [
            {"name": "search", "value": [{"field": "id", "operator": "GE", "value": 5}]},
            {"name": "search", "value": [{"field": "id", "operator": "LE", "value": 7}]}]}),
    );
    assert_eq!(data["total_count"], 3);

    // A store drops `category` with any operator but IN / NOT_IN
    // (json/products.mv 2062-2064), and an IN with no value
    // (lib/dbeng/sql.mv 888-891): every product.
    for dropped in [
        json!([{"field": "category", "operator": "EQ", "value": "CAT001"}]),
        json!([{"field": "code", "operator": "IN", "value": ""}]),
        json!([{"field": "code", "operator": "NOT_IN", "value": " , "}]),
    ] {
        assert_eq!(h.codes(dropped.clone()).len(), all.len(), "{dropped}");
    }
    // Names in the wrong case are not a store's: refused, naming them.
    for (filter, name) in [
        (json!({"name": "Search", "value": []}), "Search"),
        (
            json!({"name": "search", "value": [{"field": "Code", "operator": "EQ", "value": "A"}]}),
            "Code",
        ),
        (
            json!({"name": "search", "value": [{"field": "code", "operator": "eq", "value": "A"}]}),
            "eq",
        ),
    ] {
        let answer = h.run("ProductList_Load_Query", json!({"Filter": [filter]}));
        let message = answer["error_message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(&format!("'{name}'")), "{answer}");
    }
}

#[test]
fn on_demand_columns() {
    let h = harness(|c| c);
    let plain = h.list("ProductList_Load_Query", json!({"Count": 1}));
    let product = &plain["data"][0];
    for column in [
        "id",
        "code",
        "sku",
        "name",
        "thumbnail",
        "image",
        "price",
        "formatted_price",
        "cost",
        "formatted_cost",
        "weight",
        "active",
        "page_title",
        "taxable",
        "dt_created",
        "dt_updated",
        "catcount",
    ] {
        assert!(
            product.get(column).is_some(),
            "{column} missing from {product}"
        );
    }
    assert!(product.get("descrip").is_none());
    assert!(product.get("categories").is_none());
    assert_eq!(
        product["formatted_price"],
        format!("${:.2}", product["price"].as_f64().unwrap())
    );

    let with = h.list(
        "ProductList_Load_Query",
        json!({"Count": 3, "Offset": 2, "Filter": [{"name": "ondemandcolumns",
               "value": ["descrip", "categories", "url", "no_such_column"]}]}),
    );
    let product = &with["data"][0];
    assert_eq!(product["code"], "P000003");
    assert!(product["descrip"].as_str().unwrap().contains("P000003"));
    assert_eq!(product["catcount"], 2);
    assert_eq!(product["categories"].as_array().unwrap().len(), 2);
    assert!(
        product["categories"][0]["code"]
            .as_str()
            .unwrap()
            .starts_with("CAT")
    );
    assert!(product["url"].as_str().unwrap().starts_with("https://"));
    assert!(product.get("no_such_column").is_none());
}

#[test]
fn custom_filters() {
    let h = harness(|c| c);
    let all = all_products(&h);
    let active = h.list(
        "ProductList_Load_Query",
        json!({"Filter": [{"name": "Product_Show", "value": "Active"}]}),
    );
    assert_eq!(
        active["total_count"].as_u64().unwrap() as usize,
        codes_where(&all, |p| p["active"] == true).len()
    );
    let uncategorized = h.list(
        "ProductList_Load_Query",
        json!({"Filter": [{"name": "Product_Show", "value": "Uncategorized"}]}),
    );
    let expected = codes_where(&all, |p| p["categories"] == json!([]));
    assert_eq!(
        uncategorized["total_count"].as_u64().unwrap() as usize,
        expected.len()
    );
    assert_eq!(uncategorized["data"][0]["code"], expected[0]);
    assert_eq!(uncategorized["data"][0]["catcount"], 0);
}

#[test]
fn other_lists() {
    let h = harness(|c| c);
    let categories = h.list(
        "CategoryList_Load_Query",
        json!({"Sort": "-code", "Count": 2}),
    );
    assert_eq!(categories["total_count"], 24);
    assert_eq!(categories["data"][0]["code"], "CAT024");
    let children = h.list(
        "CategoryList_Load_Query",
        json!({"Filter": [{"name": "search", "value": [{"field": "parent_category", "operator": "EQ", "value": "CAT001"}]}]}),
    );
    assert!(children["total_count"].as_u64().unwrap() >= 3);
    for c in children["data"].as_array().unwrap() {
        assert_eq!(c["parent_id"], 1);
        assert_eq!(c["depth"], 2);
    }
    let active = h.list(
        "CategoryList_Load_Query",
        json!({"Filter": [{"name": "Category_Show", "value": "Active"}]}),
    );
    assert!(active["total_count"].as_u64().unwrap() < 24);

    let customers = h.list(
        "CustomerList_Load_Query",
        json!({"Filter": [{"name": "search", "value": [{"field": "login", "operator": "EQ", "value": "customer007"}]}]}),
    );
    assert_eq!(customers["total_count"], 1);
    let customer = &customers["data"][0];
    assert_eq!(customer["id"], 7);
    assert_eq!(customer["pw_email"], "customer007@example.com");
    assert!(customer["order_cnt"].as_u64().is_some());

    let orders = h.list("OrderList_Load_Query", json!({"Count": 5}));
    assert_eq!(orders["total_count"], 50);
    let order = &orders["data"][0];
    assert_eq!(order["id"], 1001);
    assert!(order.get("items").is_none());
    let with_items = h.list(
        "OrderList_Load_Query",
        json!({"Filter": [
            {"name": "Customer_ID", "value": customer["id"]},
            {"name": "ondemandcolumns", "value": ["items", "customer", "cust_login"]}]}),
    );
    assert_eq!(
        with_items["total_count"].as_u64(),
        customer["order_cnt"].as_u64()
    );
    for order in with_items["data"].as_array().unwrap() {
        assert_eq!(order["cust_id"], 7);
        assert_eq!(order["customer"]["login"], "customer007");
        assert_eq!(order["cust_login"], "customer007");
        let items = order["items"].as_array().unwrap();
        assert!(!items.is_empty());
        assert!(items[0]["code"].as_str().unwrap().starts_with('P'));
    }
    let big = h.list(
        "OrderList_Load_Query",
        json!({"Sort": "-total", "Filter": [{"name": "search", "value": [
            {"field": "total", "operator": "GT", "value": 100}]}]}),
    );
    let totals: Vec<f64> = big["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| f(o, "total"))
        .collect();
    assert!(totals.iter().all(|t| *t > 100.0));
    assert!(totals.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn store_list_needs_no_store_code() {
    let h = harness(|c| c);
    let answer = h.call(json!({"Function": "StoreList_Load_Query"}));
    assert_eq!(answer["success"], 1, "{answer}");
    assert_eq!(answer["data"]["total_count"], 1);
    assert_eq!(answer["data"]["data"][0]["code"], "STORE");
    // A Store_Code is ignored for a domain-level function.
    let answer = h.call(json!({"Function": "StoreList_Load_Query", "Store_Code": "OTHER"}));
    assert_eq!(answer["success"], 1);
}

#[test]
fn store_code_function_and_query_errors() {
    let h = harness(|c| c);
    let missing = h.call(json!({"Function": "ProductList_Load_Query"}));
    assert_eq!(missing["success"], 0);
    assert_eq!(missing["error_code"], "invalid_store");
    let wrong = h.call(json!({"Function": "ProductList_Load_Query", "Store_Code": "OTHER"}));
    assert_eq!(wrong["error_code"], "invalid_store");
    assert!(wrong["error_message"].as_str().unwrap().contains("OTHER"));
    // Store codes compare case-insensitively.
    assert_eq!(
        h.call(json!({"Function": "ProductList_Load_Query", "Store_Code": "store"}))["success"],
        1
    );
    let unknown = h.call(json!({"Function": "Product_Frobnicate", "Store_Code": "STORE"}));
    assert_eq!(unknown["error_code"], "invalid_function");
    assert!(
        unknown["error_message"]
            .as_str()
            .unwrap()
            .contains("Product_Frobnicate")
    );
    let none = h.call(json!({"Store_Code": "STORE"}));
    assert_eq!(none["error_code"], "invalid_function");

    let query_error = |extra: Value| {
        let mut request = json!({"Function": "ProductList_Load_Query", "Store_Code": "STORE"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.call(request)
    };
    let bad_op = query_error(
        json!({"Filter": [{"name": "search", "value": [{"field": "id", "operator": "APPROX", "value": 1}]}]}),
    );
    assert_eq!(bad_op["error_code"], "invalid_list_query");
    assert!(bad_op["error_message"].as_str().unwrap().contains("APPROX"));
    let bad_field = query_error(
        json!({"Filter": [{"name": "search", "value": [{"field": "colour", "operator": "EQ", "value": 1}]}]}),
    );
    assert_eq!(bad_field["error_code"], "invalid_list_query");
    assert!(
        bad_field["error_message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    let bad_group = query_error(
        json!({"Filter": [{"name": "search", "value": [{"field": "search_XOR", "operator": "SUBWHERE", "value": []}]}]}),
    );
    assert_eq!(bad_group["error_code"], "invalid_list_query");
    let bad_sort = query_error(json!({"Sort": "-colour"}));
    assert_eq!(bad_sort["error_code"], "invalid_list_query");
    let bad_count = query_error(json!({"Count": "ten"}));
    assert_eq!(
        bad_count,
        json!({"success": 0, "error_code": "MER-JSN-00018",
               "error_message": "Invalid value for field 'Count': Please enter a number",
               "validation_error": 1, "error_field": "Count",
               "error_field_message": "Please enter a number"})
    );
    let bad_filter = query_error(json!({"Filter": "search"}));
    assert_eq!(bad_filter["error_code"], "invalid_list_query");
}

#[test]
fn seeding_is_deterministic() {
    let a = harness(|c| c.with_products(1_234));
    let b = harness(|c| c.with_products(1_234));
    let query = json!({"Filter": [{"name": "ondemandcolumns", "value": ["descrip", "categories", "product_inventory"]}]});
    let from_a = a.list("ProductList_Load_Query", query.clone());
    let from_b = b.list("ProductList_Load_Query", query);
    assert_eq!(from_a, from_b);
    assert_eq!(from_a["total_count"], 1_234);
    let rows = from_a["data"].as_array().unwrap();
    for (i, p) in rows.iter().enumerate() {
        assert_eq!(p["id"], i as u64 + 1);
        assert_eq!(p["code"], code(i as u64 + 1));
    }
    for function in [
        "CategoryList_Load_Query",
        "CustomerList_Load_Query",
        "OrderList_Load_Query",
    ] {
        assert_eq!(
            a.list(function, json!({})),
            b.list(function, json!({})),
            "{function}"
        );
    }
    // Fewer products: the first ones are the same records.
    let small = harness(|c| c.with_products(10));
    let first = small.list("ProductList_Load_Query", json!({"Count": 10}));
    let first_a = a.list("ProductList_Load_Query", json!({"Count": 10}));
    assert_eq!(first["data"], first_a["data"]);
}

#[test]
fn an_empty_search_matches_everything() {
    // merchantapi sends `{"name": "search", "value": []}` with every list
    // query it makes.
    let h = harness(|c| c.with_products(30));
    let plain = h.list("ProductList_Load_Query", json!({"Count": 4, "Offset": 10}));
    let empty = h.list(
        "ProductList_Load_Query",
        json!({"Count": 4, "Offset": 10, "Filter": [{"name": "search", "value": []}]}),
    );
    assert_eq!(empty, plain);
    assert_eq!(empty["total_count"], 30);
    assert_eq!(empty["data"][0]["code"], "P000011");
}
