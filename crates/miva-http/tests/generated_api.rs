//! The generated request and response types of `miva_envelope::api`,
//! called through `MivaClient` over real HTTP against the mock store: a
//! workflow across the model families the mock serves (categories,
//! customers, coupons, price groups, inventory, orders), typed end to end,
//! and a misspelt column refused before anything is sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use miva_envelope::api::functions::*;
use miva_envelope::{ErrorKind, ListQuery, Search, Sort};
use miva_http::Error;
use miva_http::miva::MivaClient;
use miva_mock::{Credentials, MockConfig, MockServer, TokenConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::json;

const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key; not a real store's

fn setup() -> (MockServer, MivaClient) {
    let creds = Credentials::new("TEST")
        .unwrap()
        .with_token(TokenConfig::hmac("tok", KEY_B64, HmacDigest::Sha256).unwrap());
    let server = MockServer::start(MockConfig::new(creds).with_products(5)).unwrap();
    let credential = Credential::hmac(
        ApiToken::new("tok").unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        HmacDigest::Sha256,
    );
    let client = MivaClient::builder(server.url(), credential)
        .store_code(server.store_code())
        .build()
        .unwrap();
    (server, client)
}

#[test]
fn a_workflow_across_families_with_generated_types() {
    let (_server, c) = setup();

    // Categories: insert answers with the typed model; it lists.
    let category = c
        .call(
            &CategoryInsert::new()
                .category_code("MUGS")
                .category_name("Mugs")
                .category_active(true),
        )
        .unwrap()
        .expect("the mock answers with the category");
    assert_eq!(category.code.as_deref(), Some("MUGS"));
    let found = c
        .call(&CategoryListLoadQuery::new(
            ListQuery::new().search(Search::new().eq("code", "MUGS")),
        ))
        .unwrap();
    assert_eq!(found.total_count, 1);
    assert_eq!(found.data[0].name.as_deref(), Some("Mugs"));

    // Customers.
    let customer = c
        .call(
            &CustomerInsert::new()
                .customer_login("ada")
                .customer_password_email("ada@example.invalid")
                .customer_password("not-a-real-password-1"),
        )
        .unwrap()
        .expect("customer");
    assert_eq!(customer.login.as_deref(), Some("ada"));

    // Coupons: insert, update, and every coupon through the paginator.
    let coupon = c
        .call(
            &CouponInsert::new()
                .code("SPRING")
                .description("Spring sale")
                .active(true),
        )
        .unwrap()
        .expect("coupon");
    assert_eq!(coupon.code.as_deref(), Some("SPRING"));
    c.call(
        &CouponUpdate::new()
            .edit_coupon("SPRING")
            .description("Spring sale, extended"),
    )
    .unwrap();
    let coupons: Vec<_> = c
        .list(CouponListLoadQuery::new(
            ListQuery::new().sort(Sort::asc("code")),
        ))
        .page_size(4)
        .map(Result::unwrap)
        .collect();
    let spring = coupons
        .iter()
        .find(|x| x.code.as_deref() == Some("SPRING"))
        .expect("the new coupon is listed");
    assert_eq!(spring.descrip.as_deref(), Some("Spring sale, extended"));
    let mut sorted: Vec<_> = coupons.iter().map(|x| x.code.clone()).collect();
    sorted.sort();
    assert_eq!(
        sorted,
        coupons.iter().map(|x| x.code.clone()).collect::<Vec<_>>()
    );

    // Price groups: the seeded ones, typed.
    let groups = c
        .call(&PriceGroupListLoadQuery::new(ListQuery::new()))
        .unwrap();
    assert!(groups.total_count > 0);
    assert!(
        groups
            .data
            .iter()
            .all(|g| g.id.is_some() && g.name.is_some())
    );

    // Inventory: an adjustment shows in the product list.
    let stock = || {
        c.call(&ProductListLoadQuery::new(
            ListQuery::new()
                .search(Search::new().eq("code", "P000001"))
                .ondemand(["product_inventory"]),
        ))
        .unwrap()
        .data[0]
            .product_inventory
            .expect("stock")
    };
    let before = stock();
    c.call(
        &ProductListAdjustInventory::new().inventory_adjustments(json!([
            {"product_code": "P000001", "adjustment": 7}
        ])),
    )
    .unwrap();
    assert_eq!(stock(), before + 7);

    // Orders: created for the customer, with a product line.
    let order = c
        .call(
            &OrderCreate::new()
                .customer_login("ada")
                .param("Products", json!([{"code": "P000002", "quantity": 2}])),
        )
        .unwrap()
        .expect("order");
    assert!(order.id.is_some());
    let items = order.items.expect("items");
    assert_eq!(items[0].code.as_deref(), Some("P000002"));
    assert_eq!(items[0].quantity, Some(2));
    c.call(&OrderDelete::new().order_id(order.id.unwrap()))
        .unwrap();
}

#[test]
fn a_misspelt_column_is_refused_before_sending() {
    // A client of a port where nothing listens: any request sent would be
    // a transport error, so an envelope error shows nothing was sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let credential = Credential::hmac(
        ApiToken::new("tok").unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        HmacDigest::Sha256,
    );
    let c = MivaClient::builder(&format!("http://127.0.0.1:{port}/mm5/json.mvc"), credential)
        .store_code("TEST")
        .build()
        .unwrap();
    let err = c
        .call(&CouponListLoadQuery::new(
            ListQuery::new().sort(Sort::desc("cdoe")),
        ))
        .unwrap_err();
    let Error::Envelope(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), ErrorKind::UnknownColumn);
    let text = err.to_string();
    assert!(
        text.contains("CouponList_Load_Query cannot sort by `cdoe`: did you mean `code`?"),
        "{text}"
    );
    // The paginator yields the same error once and stops.
    let mut records = c.list(CustomerListLoadQuery::new(
        ListQuery::new().search(Search::new().like("emial", "%@example.invalid")),
    ));
    let err = records.next().unwrap().unwrap_err();
    assert!(
        err.to_string().contains("cannot search on `emial`"),
        "{err}"
    );
    assert!(records.next().is_none());
}
