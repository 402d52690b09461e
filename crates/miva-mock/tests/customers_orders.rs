//! Customers (Customer_Insert / _Update / _Delete) and orders
//! (Order_Create, Order_Delete) over HTTP, with their validation errors,
//! and the writes seen by CustomerList_Load_Query and OrderList_Load_Query.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Harness, harness, validation};
use serde_json::{Value, json};

fn customer(h: &Harness, login: &str) -> Option<Value> {
    h.row_where("CustomerList_Load_Query", "login", json!(login), &[])
}

fn order(h: &Harness, id: u64) -> Option<Value> {
    h.row_where(
        "OrderList_Load_Query",
        "id",
        json!(id),
        &["items", "charges", "customer", "cust_login"],
    )
}

fn cents(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

#[test]
fn customer_insert_update_delete() {
    let h = harness(|c| c);
    let inserted = h.run(
        "Customer_Insert",
        json!({"Customer_Login": "Jane.Doe", "Customer_PasswordEmail": "jane@example.com",
               "Customer_Password": "s3cret!", "Customer_ShipResidential": true,
               "Customer_ShipFirstName": "Jane", "Customer_ShipLastName": "Doe",
               "Customer_ShipEmail": "ship@example.com", "Customer_ShipCity": "Austin",
               "Customer_ShipState": "TX", "Customer_ShipZip": "73301",
               "Customer_ShipCountry": "US", "Customer_BillFirstName": "Jane",
               "Customer_BillCompany": "Doe Inc", "Customer_Tax_Exempt": "1",
               "Customer_BusinessAccount": "Wholesale"}),
    );
    assert_eq!(inserted["success"], 1, "{inserted}");
    let data = &inserted["data"];
    assert_eq!(data["id"], 41);
    assert_eq!(data["login"], "Jane.Doe");
    assert_eq!(data["pw_email"], "jane@example.com");
    assert_eq!(data["ship_res"], true);
    assert_eq!(data["ship_city"], "Austin");
    assert_eq!(data["bill_comp"], "Doe Inc");
    assert_eq!(data["bill_city"], "");
    assert_eq!(data["tax_exempt"], true);
    assert_eq!(data["business_title"], "Wholesale");
    assert_eq!(data["order_cnt"], 0);
    assert_eq!(data["formatted_credit"], "$0.00");
    assert!(data["dt_created"].as_i64().unwrap() >= common::now() - 5);
    assert_eq!(data["dt_pwchg"], data["dt_created"]);
    assert!(data.get("password").is_none() && !data.to_string().contains("s3cret"));
    let listed = customer(&h, "jane.doe").unwrap();
    assert_eq!(&listed, data);
    assert_eq!(h.total("CustomerList_Load_Query", json!({})), 41);

    // Update by id (renaming the login), by Edit_Customer, by Customer_Login.
    assert_eq!(
        h.run(
            "Customer_Update",
            json!({"Customer_ID": 41, "Customer_Login": "jdoe", "Customer_ShipCity": "Boston"})
        ),
        json!({"success": 1})
    );
    assert!(customer(&h, "Jane.Doe").is_none());
    assert_eq!(customer(&h, "jdoe").unwrap()["ship_city"], "Boston");
    assert_eq!(
        h.run(
            "Customer_Update",
            json!({"Edit_Customer": "JDOE", "Customer_PasswordEmail": "new@example.com",
                   "Customer_Tax_Exempt": false})
        ),
        json!({"success": 1})
    );
    assert_eq!(
        h.run(
            "Customer_Update",
            json!({"Customer_Login": "jdoe", "Customer_BillCity": "Tampa"})
        ),
        json!({"success": 1})
    );
    let updated = customer(&h, "jdoe").unwrap();
    assert_eq!(updated["pw_email"], "new@example.com");
    assert_eq!(updated["tax_exempt"], false);
    assert_eq!(updated["bill_city"], "Tampa");
    assert_eq!(updated["ship_city"], "Boston");
    let sorted = h.list(
        "CustomerList_Load_Query",
        json!({"Sort": "-id", "Count": 1}),
    );
    assert_eq!(sorted["data"][0]["login"], "jdoe");

    // Renaming a seeded customer: their orders show the new login.
    let buyer = order(&h, 1001).unwrap()["cust_id"].as_u64().unwrap();
    assert!(buyer > 2, "order 1001 has customer {buyer}");
    assert_eq!(
        h.run(
            "Customer_Update",
            json!({"Customer_ID": buyer, "Customer_Login": "buyer"})
        ),
        json!({"success": 1})
    );
    let orders = h.list(
        "OrderList_Load_Query",
        json!({"Filter": [{"name": "Customer_ID", "value": buyer},
                          {"name": "ondemandcolumns", "value": ["cust_login", "customer"]}]}),
    );
    assert!(orders["total_count"].as_u64().unwrap() > 0);
    for o in orders["data"].as_array().unwrap() {
        assert_eq!(o["cust_login"], "buyer");
        assert_eq!(o["customer"]["login"], "buyer");
    }

    // Delete by each identifier.
    for (field, value, login) in [
        ("Customer_ID", json!(41), "jdoe"),
        ("Customer_Login", json!("CUSTOMER001"), "customer001"),
        ("Edit_Customer", json!("customer002"), "customer002"),
    ] {
        assert_eq!(
            h.run("Customer_Delete", json!({field: value})),
            json!({"success": 1}),
            "{field}"
        );
        assert!(customer(&h, login).is_none(), "{login}");
    }
    assert_eq!(h.total("CustomerList_Load_Query", json!({})), 38);
    assert_eq!(
        h.run("Customer_Delete", json!({"Customer_ID": 41})),
        validation("Customer_ID", "Customer not found")
    );
    // The login is free again; the id is not reused.
    let again = h.run(
        "Customer_Insert",
        json!({"Customer_Login": "jdoe", "Customer_PasswordEmail": "j@example.com",
               "Customer_Password": "pw"}),
    );
    assert_eq!(again["data"]["id"], 42);
}

#[test]
fn customer_validation_errors() {
    let h = harness(|c| c);
    let insert = |extra: Value| {
        let mut request = json!({"Customer_Login": "new", "Customer_PasswordEmail": "new@example.com",
                                 "Customer_Password": "pw"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        h.run("Customer_Insert", request)
    };
    assert_eq!(
        insert(json!({"Customer_Login": null})),
        validation("Customer_Login", "A value is required")
    );
    assert_eq!(
        insert(json!({"Customer_Login": "CUSTOMER003"})),
        validation(
            "Customer_Login",
            "A customer with login 'CUSTOMER003' already exists"
        )
    );
    assert_eq!(
        insert(json!({"Customer_PasswordEmail": ""})),
        validation("Customer_PasswordEmail", "A value is required")
    );
    assert_eq!(
        insert(json!({"Customer_PasswordEmail": "not-an-email"})),
        validation(
            "Customer_PasswordEmail",
            "Please enter a valid email address"
        )
    );
    assert_eq!(
        insert(json!({"Customer_Password": ""})),
        validation("Customer_Password", "A value is required")
    );
    assert_eq!(
        insert(json!({"Customer_BillEmail": "bill@"})),
        validation("Customer_BillEmail", "Please enter a valid email address")
    );
    assert_eq!(
        insert(json!({"Customer_ShipResidential": "sometimes"})),
        validation("Customer_ShipResidential", "Please enter true or false")
    );
    assert_eq!(
        insert(json!({"Customer_ShipCity": ["x"]})),
        validation("Customer_ShipCity", "Please enter text")
    );
    assert_eq!(h.total("CustomerList_Load_Query", json!({})), 40);

    let update = |fields: Value| h.run("Customer_Update", fields);
    assert_eq!(
        update(json!({"Customer_ShipCity": "X"})),
        validation(
            "Customer_ID",
            "Please specify a customer by Customer_ID, Edit_Customer or Customer_Login"
        )
    );
    assert_eq!(
        update(json!({"Customer_ID": 99})),
        validation("Customer_ID", "Customer not found")
    );
    assert_eq!(
        update(json!({"Edit_Customer": "nobody"})),
        validation("Edit_Customer", "Customer not found")
    );
    assert_eq!(
        update(json!({"Customer_ID": 1, "Customer_Login": "customer002"})),
        validation(
            "Customer_Login",
            "A customer with login 'customer002' already exists"
        )
    );
    assert_eq!(
        update(json!({"Customer_ID": 1, "Customer_Login": " "})),
        validation("Customer_Login", "A value is required")
    );
    assert_eq!(
        update(
            json!({"Customer_ID": 1, "Customer_ShipCity": "Nowhere", "Customer_ShipEmail": "x"})
        ),
        validation("Customer_ShipEmail", "Please enter a valid email address")
    );
    assert_ne!(customer(&h, "customer001").unwrap()["ship_city"], "Nowhere");
    // Renaming to its own login in another case is fine.
    assert_eq!(
        update(json!({"Customer_ID": 1, "Customer_Login": "Customer001"})),
        json!({"success": 1})
    );
    assert_eq!(
        h.run("Customer_Delete", json!({"Customer_Login": "nobody"})),
        validation("Customer_Login", "Customer not found")
    );
    assert_eq!(
        h.run("Customer_Delete", json!({})),
        validation(
            "Customer_ID",
            "Please specify a customer by Customer_ID, Customer_Login or Edit_Customer"
        )
    );
}

#[test]
fn order_create_and_delete() {
    let h = harness(|c| c);
    let before = customer(&h, "customer007").unwrap();
    let p3 = h
        .row_where("ProductList_Load_Query", "code", json!("P000003"), &[])
        .unwrap();

    // A guest order with nothing in it.
    let guest = h.run("Order_Create", json!({}));
    assert_eq!(guest["success"], 1, "{guest}");
    assert_eq!(guest["data"]["id"], 1051);
    assert_eq!(guest["data"]["cust_id"], 0);
    assert_eq!(guest["data"]["total"], json!(0.0));
    assert_eq!(guest["data"]["items"], json!([]));
    assert!(guest["data"].get("customer").is_none());

    let created = h.run(
        "Order_Create",
        json!({
            "Customer_Login": "customer007",
            "ShipFirstName": "Joe", "ShipLastName": "Dirt", "ShipCountry": "USA",
            "ShipResidential": true, "BillCity": "San Diego",
            "CalculateCharges": false, "TriggerFulfillmentModules": false,
            "Items": [{"code": "CUSTOM_LINE", "name": "Test Custom Line", "price": 15.0,
                       "quantity": 2, "tax": 0.5,
                       "options": [{"attr_code": "option", "value": "option_data",
                                    "price": 5.0, "weight": 1.0}]}],
            "Products": [{"code": "P000003", "quantity": 1, "tax": 0.12,
                          "attributes": [{"code": "color", "value": "red"}]}],
            "Charges": [{"type": "SHIPPING", "descrip": "Ground", "amount": 7.5},
                        {"type": "API", "descrip": "foo", "amount": "29.99"}],
        }),
    );
    assert_eq!(created["success"], 1, "{created}");
    let data = &created["data"];
    assert_eq!(data["id"], 1052);
    assert_eq!(data["cust_id"], 7);
    assert_eq!(data["cust_login"], "customer007");
    assert_eq!(data["customer"]["login"], "customer007");
    assert_eq!(data["status"], 0);
    assert!(data["orderdate"].as_i64().unwrap() >= common::now() - 5);
    // Given addresses win; the others are the customer's.
    assert_eq!(data["ship_fname"], "Joe");
    assert_eq!(data["ship_cntry"], "USA");
    assert_eq!(data["ship_res"], true);
    assert_eq!(data["bill_city"], "San Diego");
    assert_eq!(data["ship_city"], before["ship_city"]);
    assert_eq!(data["bill_fname"], before["bill_fname"]);
    // Items first, then products.
    let items = data["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["code"], "CUSTOM_LINE");
    assert_eq!(items[0]["price"], json!(15.0));
    assert_eq!(items[0]["total"], json!(40.0));
    assert_eq!(items[0]["options"][0]["attr_code"], "option");
    assert_eq!(items[0]["options"][0]["value"], "option_data");
    assert_eq!(items[0]["options"][0]["price"], json!(5.0));
    assert_eq!(items[1]["code"], "P000003");
    assert_eq!(items[1]["product_id"], 3);
    assert_eq!(items[1]["name"], p3["name"]);
    assert_eq!(items[1]["price"], p3["price"]);
    assert_eq!(items[1]["tax"], json!(0.12));
    assert_eq!(items[1]["options"][0]["attr_code"], "color");
    assert_eq!(items[1]["options"][0]["value"], "red");
    assert_ne!(items[0]["line_id"], items[1]["line_id"]);
    let charges = data["charges"].as_array().unwrap();
    assert_eq!(charges.len(), 2);
    assert_eq!(charges[1]["type"], "API");
    assert_eq!(charges[1]["descrip"], "foo");
    assert_eq!(charges[1]["amount"], json!(29.99));
    let expected = 4000 + cents(&p3["price"]) + 100 + 12 + 750 + 2999;
    assert_eq!(cents(&data["total"]), expected);
    assert_eq!(cents(&data["total_tax"]), 112);
    assert_eq!(cents(&data["total_ship"]), 750);
    assert_eq!(data["formatted_total_ship"], "$7.50");

    // The list query sees it, with every filter and column.
    let listed = order(&h, 1052).unwrap();
    assert_eq!(listed["items"], data["items"]);
    assert_eq!(listed["charges"], data["charges"]);
    assert_eq!(listed["customer"]["id"], 7);
    assert_eq!(listed["total"], data["total"]);
    let latest = h.list("OrderList_Load_Query", json!({"Sort": "-id", "Count": 1}));
    assert_eq!(latest["data"][0]["id"], 1052);
    assert_eq!(h.total("OrderList_Load_Query", json!({})), 52);
    let by_product = h.list(
        "OrderList_Load_Query",
        json!({"Filter": [{"name": "product_code", "value": "custom_line"}]}),
    );
    assert_eq!(by_product["total_count"], 1);
    assert_eq!(by_product["data"][0]["id"], 1052);
    let by_customer = h.total(
        "OrderList_Load_Query",
        json!({"Filter": [{"name": "Customer_ID", "value": 7}]}),
    );
    assert_eq!(by_customer, before["order_cnt"].as_u64().unwrap() + 1);
    let after = customer(&h, "customer007").unwrap();
    assert_eq!(after["order_cnt"], by_customer);
    assert_eq!(
        cents(&after["order_tot"]),
        cents(&before["order_tot"]) + expected
    );

    // By Customer_ID too.
    let by_id = h.run("Order_Create", json!({"Customer_ID": 8}));
    assert_eq!(by_id["data"]["cust_id"], 8);
    assert_eq!(by_id["data"]["cust_login"], "customer008");

    // Delete: gone from the list, the customer's totals back.
    assert_eq!(
        h.run("Order_Delete", json!({"Order_ID": 1052})),
        json!({"success": 1})
    );
    assert!(order(&h, 1052).is_none());
    assert_eq!(
        customer(&h, "customer007").unwrap()["order_cnt"],
        before["order_cnt"]
    );
    assert_eq!(
        h.run("Order_Delete", json!({"Order_ID": 1052})),
        validation("Order_ID", "Order not found")
    );
    assert_eq!(
        h.run("Order_Delete", json!({"Order_ID": "1001"})),
        json!({"success": 1})
    );
    assert!(order(&h, 1001).is_none());
    // Ids are not reused.
    assert_eq!(h.run("Order_Create", json!({}))["data"]["id"], 1054);
}

#[test]
fn order_validation_errors() {
    let h = harness(|c| c);
    let create = |fields: Value| h.run("Order_Create", fields);
    assert_eq!(
        create(json!({"Customer_ID": 999})),
        validation("Customer_ID", "Customer not found")
    );
    assert_eq!(
        create(json!({"Customer_Login": "InvalidCustomer"})),
        validation("Customer_Login", "Customer not found")
    );
    assert_eq!(
        create(json!({"Items": {"code": "X"}})),
        validation("Items", "Please enter a list of objects")
    );
    assert_eq!(
        create(json!({"Items": [{"name": "No code"}]})),
        validation("Items[0].code", "A value is required")
    );
    assert_eq!(
        create(json!({"Items": [{"code": "A", "name": "A"}, {"code": "B"}]})),
        validation("Items[1].name", "A value is required")
    );
    assert_eq!(
        create(json!({"Items": [{"code": "A", "name": "A", "quantity": 0}]})),
        validation("Items[0].quantity", "Please enter 1 or more")
    );
    assert_eq!(
        create(json!({"Items": [{"code": "A", "name": "A", "price": "cheap"}]})),
        validation("Items[0].price", "Please enter a number")
    );
    assert_eq!(
        create(json!({"Items": [{"code": "A", "name": "A", "price": 1e13}]})),
        validation("Items[0].price", "Please enter a smaller number")
    );
    assert_eq!(
        create(json!({"Items": [{"code": "A", "name": "A", "options": [{"value": "v"}]}]})),
        validation("Items[0].options[0].attr_code", "A value is required")
    );
    assert_eq!(
        create(json!({"Products": [{"code": "NOPE"}]})),
        validation("Products[0].code", "Product 'NOPE' not found")
    );
    assert_eq!(
        create(json!({"Products": [{"sku": "NOPE"}]})),
        validation("Products[0].sku", "Product 'NOPE' not found")
    );
    assert_eq!(
        create(json!({"Products": [{"quantity": 1}]})),
        validation("Products[0].code", "A value is required")
    );
    assert_eq!(
        create(json!({"Products": [{"code": "P000001", "attributes": [{"value": "red"}]}]})),
        validation("Products[0].attributes[0].code", "A value is required")
    );
    assert_eq!(
        create(json!({"Charges": [{"descrip": "no type", "amount": 1}]})),
        validation("Charges[0].type", "A value is required")
    );
    assert_eq!(
        create(json!({"Charges": [{"type": "API", "amount": "x"}]})),
        validation("Charges[0].amount", "Please enter a number")
    );
    assert_eq!(
        create(json!({"ShipResidential": "perhaps"})),
        validation("ShipResidential", "Please enter true or false")
    );
    assert_eq!(
        create(json!({"CalculateCharges": "perhaps"})),
        validation("CalculateCharges", "Please enter true or false")
    );
    // None of those created an order or used an id.
    assert_eq!(h.total("OrderList_Load_Query", json!({})), 50);
    assert_eq!(create(json!({}))["data"]["id"], 1051);

    assert_eq!(
        h.run("Order_Delete", json!({})),
        validation("Order_ID", "A value is required")
    );
    assert_eq!(
        h.run("Order_Delete", json!({"Order_ID": "x"})),
        validation("Order_ID", "Please enter a whole number")
    );
    assert_eq!(
        h.run("Order_Delete", json!({"Order_ID": 5})),
        validation("Order_ID", "Order not found")
    );
}

/// A storefront's day in one multicall: a new customer, a coupon, an order
/// for them of a store product, the stock taken off, then the lists.
#[test]
fn workflow_in_one_multicall() {
    let h = harness(|c| c);
    let stock = |h: &Harness| {
        h.row_where(
            "ProductList_Load_Query",
            "code",
            json!("P000005"),
            &["product_inventory"],
        )
        .unwrap()["product_inventory"]
            .as_i64()
            .unwrap()
    };
    let before = stock(&h);
    let answer = h.call(json!({
        "Store_Code": "STORE",
        "Operations": [
            {"Function": "Customer_Insert", "Customer_Login": "shopper",
             "Customer_PasswordEmail": "shopper@example.com", "Customer_Password": "pw",
             "Customer_ShipFirstName": "Sam", "Customer_ShipCity": "Denver"},
            {"Function": "Coupon_Insert", "Active": true,
             "Iterations": [{"Code": "WELCOME"}, {"Code": "WELCOME"}]},
            {"Function": "Order_Create", "Customer_Login": "shopper",
             "Products": [{"code": "P000005", "quantity": 2}]},
            {"Function": "ProductList_Adjust_Inventory",
             "Inventory_Adjustments": [{"product_code": "P000005", "adjustment": -2}]},
            {"Function": "OrderList_Load_Query", "Sort": "-id", "Count": 1,
             "Filter": [{"name": "ondemandcolumns", "value": ["items", "customer"]}]},
        ]
    }));
    let results = answer.as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["data"]["login"], "shopper");
    let coupons = results[1].as_array().unwrap();
    assert_eq!(coupons[0]["data"]["code"], "WELCOME");
    assert_eq!(coupons[1]["error_field"], "Code");
    let order = &results[2]["data"];
    assert_eq!(order["cust_id"], 41);
    assert_eq!(order["ship_fname"], "Sam");
    assert_eq!(order["ship_city"], "Denver");
    assert_eq!(order["items"][0]["quantity"], 2);
    assert_eq!(results[3], json!({"success": 1}));
    let latest = &results[4]["data"]["data"][0];
    assert_eq!(latest["id"], order["id"]);
    assert_eq!(latest["customer"]["login"], "shopper");
    assert_eq!(latest["items"], order["items"]);
    assert_eq!(stock(&h), before - 2);
    let shopper = customer(&h, "shopper").unwrap();
    assert_eq!(shopper["order_cnt"], 1);
    assert_eq!(shopper["order_tot"], order["total"]);
}
