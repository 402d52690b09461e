//! The generated request and response types of `miva_envelope::api`,
//! called through `MivaClient` over real HTTP against the mock store: a
//! workflow across the model families the mock serves (categories,
//! customers, coupons, price groups, inventory, orders), typed end to end,
//! and a misspelt column refused before anything is sent. Every test is
//! written once with `both!` and runs on the blocking and the async client
//! (`name::blocking`, `name::tokio`).

#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

#[path = "common/miva_driver.rs"]
#[macro_use]
mod driver;

use driver::{Driver, ListOpts};
use miva_envelope::api::functions::*;
use miva_envelope::{ErrorKind, ListQuery, Search, Sort};
use miva_http::Error;
use miva_mock::{Credentials, MockConfig, MockServer, TokenConfig};
use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::json;

const KEY_B64: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"; // wire-facts.md example key; not a real store's

fn setup<D: Driver>() -> (MockServer, D) {
    let creds = Credentials::new("TEST")
        .unwrap()
        .with_token(TokenConfig::hmac("tok", KEY_B64, HmacDigest::Sha256).unwrap());
    let server = MockServer::start(MockConfig::new(creds).with_products(5)).unwrap();
    let credential = Credential::hmac(
        ApiToken::new("tok").unwrap(),
        &SigningKey::from_base64(KEY_B64).unwrap(),
        HmacDigest::Sha256,
    );
    let client =
        D::build(D::builder(server.url(), credential).store_code(server.store_code())).unwrap();
    (server, client)
}

/// P000001's stock.
async fn stock<D: Driver>(c: &D) -> i64 {
    c.call(&ProductListLoadQuery::new(
        ListQuery::new()
            .search(Search::new().eq("code", "P000001"))
            .ondemand(["product_inventory"]),
    ))
    .await
    .unwrap()
    .data[0]
        .product_inventory
        .expect("stock")
}

both! {
    async fn a_workflow_across_families_with_generated_types<D>() {
        let (_server, c) = setup::<D>();

        // Categories: insert answers with the typed model; it lists.
        let category = c
            .call(
                &CategoryInsert::new()
                    .category_code("MUGS")
                    .category_name("Mugs")
                    .category_active(true),
            )
            .await
            .unwrap()
            .expect("the mock answers with the category");
        assert_eq!(category.code.as_deref(), Some("MUGS"), "{}", D::NAME);
        let found = c
            .call(&CategoryListLoadQuery::new(
                ListQuery::new().search(Search::new().eq("code", "MUGS")),
            ))
            .await
            .unwrap();
        assert_eq!(found.total_count, 1, "{}", D::NAME);
        assert_eq!(found.data[0].name.as_deref(), Some("Mugs"), "{}", D::NAME);

        // Customers.
        let customer = c
            .call(
                &CustomerInsert::new()
                    .customer_login("ada")
                    .customer_password_email("ada@example.invalid")
                    .customer_password("not-a-real-password-1"),
            )
            .await
            .unwrap()
            .expect("customer");
        assert_eq!(customer.login.as_deref(), Some("ada"), "{}", D::NAME);

        // Coupons: insert, update, and every coupon through the paginator.
        let coupon = c
            .call(
                &CouponInsert::new()
                    .code("SPRING")
                    .description("Spring sale")
                    .active(true),
            )
            .await
            .unwrap()
            .expect("coupon");
        assert_eq!(coupon.code.as_deref(), Some("SPRING"), "{}", D::NAME);
        c.call(
            &CouponUpdate::new()
                .edit_coupon("SPRING")
                .description("Spring sale, extended"),
        )
        .await
        .unwrap();
        let coupons: Vec<_> = c
            .list_all(
                CouponListLoadQuery::new(ListQuery::new().sort(Sort::asc("code"))),
                ListOpts::new().page_size(4),
            )
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let spring = coupons
            .iter()
            .find(|x| x.code.as_deref() == Some("SPRING"))
            .expect("the new coupon is listed");
        assert_eq!(
            spring.descrip.as_deref(),
            Some("Spring sale, extended"),
            "{}",
            D::NAME
        );
        let mut sorted: Vec<_> = coupons.iter().map(|x| x.code.clone()).collect();
        sorted.sort();
        assert_eq!(
            sorted,
            coupons.iter().map(|x| x.code.clone()).collect::<Vec<_>>(),
            "{}",
            D::NAME
        );

        // Price groups: the seeded ones, typed.
        let groups = c
            .call(&PriceGroupListLoadQuery::new(ListQuery::new()))
            .await
            .unwrap();
        assert!(groups.total_count > 0, "{}", D::NAME);
        assert!(
            groups
                .data
                .iter()
                .all(|g| g.id.is_some() && g.name.is_some()),
            "{}",
            D::NAME
        );

        // Inventory: an adjustment shows in the product list.
        let before = stock(&c).await;
        c.call(
            &ProductListAdjustInventory::new().inventory_adjustments(json!([
                {"product_code": "P000001", "adjustment": 7}
            ])),
        )
        .await
        .unwrap();
        assert_eq!(stock(&c).await, before + 7, "{}", D::NAME);

        // Orders: created for the customer, with a product line.
        let order = c
            .call(
                &OrderCreate::new()
                    .customer_login("ada")
                    .param("Products", json!([{"code": "P000002", "quantity": 2}])),
            )
            .await
            .unwrap()
            .expect("order");
        assert!(order.id.is_some(), "{}", D::NAME);
        let items = order.items.expect("items");
        assert_eq!(items[0].code.as_deref(), Some("P000002"), "{}", D::NAME);
        assert_eq!(items[0].quantity, Some(2), "{}", D::NAME);
        c.call(&OrderDelete::new().order_id(order.id.unwrap()))
            .await
            .unwrap();
    }

    async fn a_misspelt_column_is_refused_before_sending<D>() {
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
        let c = D::build(
            D::builder(&format!("http://127.0.0.1:{port}/mm5/json.mvc"), credential)
                .store_code("TEST"),
        )
        .unwrap();
        let err = c
            .call(&CouponListLoadQuery::new(
                ListQuery::new().sort(Sort::desc("cdoe")),
            ))
            .await
            .unwrap_err();
        let Error::Envelope(e) = &err else {
            panic!("{}: {err:?}", D::NAME)
        };
        assert_eq!(e.kind(), ErrorKind::UnknownColumn, "{}", D::NAME);
        let text = err.to_string();
        assert!(
            text.contains("CouponList_Load_Query cannot sort by `cdoe`: did you mean `code`?"),
            "{}: {text}",
            D::NAME
        );
        // The paginator yields the same error once and stops.
        let mut records = c
            .list_all(
                CustomerListLoadQuery::new(
                    ListQuery::new().search(Search::new().like("emial", "%@example.invalid")),
                ),
                ListOpts::new(),
            )
            .await
            .into_iter();
        let err = records.next().unwrap().unwrap_err();
        assert!(
            err.to_string().contains("cannot search on `emial`"),
            "{}: {err}",
            D::NAME
        );
        assert!(records.next().is_none(), "{}", D::NAME);
    }
}
