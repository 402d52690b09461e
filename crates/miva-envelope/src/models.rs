//! Typed records for the main model families. Every field is optional (a
//! store leaves out what a query did not ask for), booleans accept `true` or
//! `1`, dates accept `n` or `{"time_t": n}`, and every field a type does not
//! name is kept in `extra`: decoding and re-encoding loses nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::de::Timestamp;

/// A product (`ProductList_Load_Query`, `Product_Insert`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Product {
    /// `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// `code`: unique per store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `sku`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `thumbnail` image path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    /// `image` path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `price`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// `cost`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// `weight`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// `active`.
    #[serde(
        default,
        with = "crate::de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<bool>,
    /// `page_title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    /// `taxable`.
    #[serde(
        default,
        with = "crate::de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub taxable: Option<bool>,
    /// `dt_created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_created: Option<Timestamp>,
    /// `dt_updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_updated: Option<Timestamp>,
    /// `descrip` (on demand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descrip: Option<String>,
    /// `catcount`: number of categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catcount: Option<u64>,
    /// `cancat_code`: canonical category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancat_code: Option<String>,
    /// `page_code`: alternate display page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_code: Option<String>,
    /// `product_inventory`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_inventory: Option<i64>,
    /// `url` (on demand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Every other field the store sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A category (`CategoryList_Load_Query`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Category {
    /// `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// `parent_id` (0 at the top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u64>,
    /// `depth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u64>,
    /// `disp_order`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disp_order: Option<i64>,
    /// `page_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<u64>,
    /// `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `page_title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    /// `active`.
    #[serde(
        default,
        with = "crate::de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<bool>,
    /// `dt_created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_created: Option<Timestamp>,
    /// `dt_updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_updated: Option<Timestamp>,
    /// `page_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_code: Option<String>,
    /// `parent_category`: the parent's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_category: Option<String>,
    /// `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Every other field the store sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A customer (`CustomerList_Load_Query`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// `account_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<u64>,
    /// `login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// `pw_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pw_email: Option<String>,
    /// `ship_fname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_fname: Option<String>,
    /// `ship_lname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_lname: Option<String>,
    /// `ship_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_email: Option<String>,
    /// `ship_city`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_city: Option<String>,
    /// `ship_state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_state: Option<String>,
    /// `ship_zip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_zip: Option<String>,
    /// `ship_cntry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_cntry: Option<String>,
    /// `bill_fname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_fname: Option<String>,
    /// `bill_lname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_lname: Option<String>,
    /// `bill_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_email: Option<String>,
    /// `tax_exempt`.
    #[serde(
        default,
        with = "crate::de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub tax_exempt: Option<bool>,
    /// `order_cnt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_cnt: Option<u64>,
    /// `order_tot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tot: Option<f64>,
    /// `dt_created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_created: Option<Timestamp>,
    /// `dt_login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_login: Option<Timestamp>,
    /// `credit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<f64>,
    /// `business_title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_title: Option<String>,
    /// Every other field the store sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An order (`OrderList_Load_Query`); `items` is an on-demand column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Order {
    /// `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// `batch_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<u64>,
    /// `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// `pay_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_status: Option<i64>,
    /// `stk_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stk_status: Option<i64>,
    /// `orderdate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orderdate: Option<Timestamp>,
    /// `dt_instock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_instock: Option<Timestamp>,
    /// `cust_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cust_id: Option<u64>,
    /// `ship_fname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_fname: Option<String>,
    /// `ship_lname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_lname: Option<String>,
    /// `ship_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_email: Option<String>,
    /// `bill_fname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_fname: Option<String>,
    /// `bill_lname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_lname: Option<String>,
    /// `bill_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_email: Option<String>,
    /// `total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// `total_ship`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ship: Option<f64>,
    /// `total_tax`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tax: Option<f64>,
    /// `ship_method`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_method: Option<String>,
    /// `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `items` (on demand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<OrderItem>>,
    /// Every other field the store sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A line of an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderItem {
    /// `order_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<u64>,
    /// `line_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_id: Option<u64>,
    /// `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// `product_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<u64>,
    /// `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `sku`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `price`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// `weight`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// `taxable`.
    #[serde(
        default,
        with = "crate::de::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub taxable: Option<bool>,
    /// `quantity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// `total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// Every other field the store sent, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
