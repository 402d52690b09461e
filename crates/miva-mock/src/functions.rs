//! The API functions the mock implements, and their dispatch. Products and
//! the list queries of the original set are here; the other model families
//! have a module each.

mod categories;
mod coupons;
mod customers;
mod fields;
mod inventory;
mod orders;
mod price_groups;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::codes;
use crate::query::{self, EntityDef, FieldRef, ListQuery, display, parse_number};
use crate::response::{self, Answer};
use crate::store::{self, Record, Store, code_key, formatted_money, formatted_weight, money};

/// Whether a function needs `Store_Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Domain,
    Store,
}

/// Every function the mock implements, with its scope.
const FUNCTIONS: &[(&str, Scope)] = &[
    ("StoreList_Load_Query", Scope::Domain),
    ("ProductList_Load_Query", Scope::Store),
    ("Product_Insert", Scope::Store),
    ("Product_Update", Scope::Store),
    ("Product_Delete", Scope::Store),
    ("CategoryList_Load_Query", Scope::Store),
    ("Category_Insert", Scope::Store),
    ("Category_Update", Scope::Store),
    ("Category_Delete", Scope::Store),
    ("CategoryProductList_Load_Query", Scope::Store),
    ("CategoryProduct_Update_Assigned", Scope::Store),
    ("CustomerList_Load_Query", Scope::Store),
    ("Customer_Insert", Scope::Store),
    ("Customer_Update", Scope::Store),
    ("Customer_Delete", Scope::Store),
    ("OrderList_Load_Query", Scope::Store),
    ("Order_Create", Scope::Store),
    ("Order_Delete", Scope::Store),
    ("CouponList_Load_Query", Scope::Store),
    ("Coupon_Insert", Scope::Store),
    ("Coupon_Update", Scope::Store),
    ("CouponList_Delete", Scope::Store),
    ("PriceGroupList_Load_Query", Scope::Store),
    ("PriceGroup_Insert", Scope::Store),
    ("PriceGroup_Update", Scope::Store),
    ("PriceGroup_Delete", Scope::Store),
    ("ProductList_Adjust_Inventory", Scope::Store),
    ("InventoryProductSettings_Update", Scope::Store),
];

/// The store's data and clock, shared by every connection.
#[derive(Debug)]
pub(crate) struct Data {
    pub(crate) store_code: String,
    pub(crate) store: RwLock<Store>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Sorted id orders by (table, field, descending), with the store
    /// version they were computed at.
    pub(crate) sort_cache: Mutex<SortCache>,
}

/// (table, field, descending) to (store version, ids in that order).
pub(crate) type SortCache = HashMap<(&'static str, String, bool), (u64, Arc<Vec<u64>>)>;

impl Data {
    fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs one function call. `params` is the call's JSON object (with any
/// shared multicall fields merged in); `allowed` the caller's function
/// restriction. Always returns a response object, success or error.
pub(crate) fn call(data: &Data, params: &Map<String, Value>, allowed: Option<&[String]>) -> Answer {
    match check_and_run(data, params, allowed) {
        Ok(answer) => answer,
        Err(error) => Answer::Value(error),
    }
}

/// `Err` carries an error response; `Ok` the function's answer.
fn check_and_run(
    data: &Data,
    params: &Map<String, Value>,
    allowed: Option<&[String]>,
) -> Result<Answer, Value> {
    let name = match params.get("Function") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(response::error(
                codes::INVALID_FUNCTION,
                "Missing \"Function\": name the API function to run",
            ));
        }
        Some(_) => {
            return Err(response::error(
                codes::INVALID_FUNCTION,
                "\"Function\" must be a string",
            ));
        }
    };
    if let Some(allowed) = allowed
        && !permitted(allowed, name, params, &data.store_code)
    {
        return Err(response::access_denied(codes::MSG_ACCESS_DENIED));
    }
    let Some(&(canonical, scope)) = FUNCTIONS.iter().find(|(f, _)| f.eq_ignore_ascii_case(name))
    else {
        return Err(response::error(
            codes::INVALID_FUNCTION,
            format!("Invalid function '{name}': the mock does not implement it"),
        ));
    };
    if scope == Scope::Store {
        match params.get("Store_Code") {
            Some(Value::String(code)) if code.trim().eq_ignore_ascii_case(&data.store_code) => {}
            None | Some(Value::Null) => {
                return Err(response::error(
                    codes::INVALID_STORE,
                    format!("Missing Store_Code: {canonical} is a store-level function"),
                ));
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(response::error(
                    codes::INVALID_STORE,
                    format!("Missing Store_Code: {canonical} is a store-level function"),
                ));
            }
            Some(other) => {
                return Err(response::error(
                    codes::INVALID_STORE,
                    format!("Invalid Store_Code '{}': no such store", display(other)),
                ));
            }
        }
    }
    match canonical {
        "StoreList_Load_Query" => store_list(data, params),
        "ProductList_Load_Query" => product_list(data, params),
        "Product_Insert" => Ok(Answer::Value(product_insert(data, params))),
        "Product_Update" => Ok(Answer::Value(product_update(data, params))),
        "Product_Delete" => Ok(Answer::Value(product_delete(data, params))),
        "CategoryList_Load_Query" => category_list(data, params),
        "Category_Insert" => Ok(Answer::Value(categories::insert(data, params))),
        "Category_Update" => Ok(Answer::Value(categories::update(data, params))),
        "Category_Delete" => Ok(Answer::Value(categories::delete(data, params))),
        "CategoryProductList_Load_Query" => categories::product_list(data, params),
        "CategoryProduct_Update_Assigned" => {
            Ok(Answer::Value(categories::update_assigned(data, params)))
        }
        "CustomerList_Load_Query" => customer_list(data, params),
        "Customer_Insert" => Ok(Answer::Value(customers::insert(data, params))),
        "Customer_Update" => Ok(Answer::Value(customers::update(data, params))),
        "Customer_Delete" => Ok(Answer::Value(customers::delete(data, params))),
        "OrderList_Load_Query" => order_list(data, params),
        "Order_Create" => Ok(Answer::Value(orders::create(data, params))),
        "Order_Delete" => Ok(Answer::Value(orders::delete(data, params))),
        "CouponList_Load_Query" => coupons::list(data, params),
        "Coupon_Insert" => Ok(Answer::Value(coupons::insert(data, params))),
        "Coupon_Update" => Ok(Answer::Value(coupons::update(data, params))),
        "CouponList_Delete" => Ok(Answer::Value(coupons::list_delete(data, params))),
        "PriceGroupList_Load_Query" => price_groups::list(data, params),
        "PriceGroup_Insert" => Ok(Answer::Value(price_groups::insert(data, params))),
        "PriceGroup_Update" => Ok(Answer::Value(price_groups::update(data, params))),
        "PriceGroup_Delete" => Ok(Answer::Value(price_groups::delete(data, params))),
        "ProductList_Adjust_Inventory" => Ok(Answer::Value(inventory::adjust(data, params))),
        "InventoryProductSettings_Update" => {
            Ok(Answer::Value(inventory::update_settings(data, params)))
        }
        _ => Err(response::error(
            codes::INVALID_FUNCTION,
            format!("Invalid function '{name}'"),
        )),
    }
}

/// Whether `allowed` lists `name` as `Function` or `<store code>:Function`.
fn permitted(allowed: &[String], name: &str, params: &Map<String, Value>, store: &str) -> bool {
    let requested_store = params
        .get("Store_Code")
        .and_then(Value::as_str)
        .unwrap_or(store);
    allowed.iter().any(|entry| match entry.split_once(':') {
        None => entry.eq_ignore_ascii_case(name),
        Some((code, function)) => {
            code.eq_ignore_ascii_case(store)
                && code.eq_ignore_ascii_case(requested_store.trim())
                && function.eq_ignore_ascii_case(name)
        }
    })
}

static STORES: EntityDef = EntityDef {
    search: &[
        "id", "code", "license", "name", "owner", "email", "company", "address", "city", "state",
        "zip", "phone", "fax", "country",
    ],
    sort: &[
        "id", "code", "license", "name", "owner", "email", "company", "address", "city", "state",
        "zip", "phone", "fax", "country",
    ],
    base: &[
        "id",
        "code",
        "name",
        "license",
        "owner",
        "email",
        "company",
        "address",
        "city",
        "state",
        "zip",
        "phone",
        "fax",
        "country",
        "icon",
        "manager_id",
        "branch_id",
        "charset",
        "currncy_id",
        "tax_id",
        "wtunits",
        "wtunitcode",
        "dmunitcode",
        "baskexp",
        "trackhits",
        "req_ship",
        "req_tax",
        "req_frship",
        "omin_quant",
        "omin_price",
        "omin_all",
        "omin_msg",
        "mnt_warn",
        "mnt_close",
        "mnt_time",
        "mnt_no_new",
        "mnt_ips",
    ],
    ondemand: &[],
};

/// Fields a product search may name (the SDK's, plus `category`).
const PRODUCT_SEARCH: &[&str] = &[
    "id",
    "code",
    "sku",
    "cancat_code",
    "page_code",
    "name",
    "thumbnail",
    "image",
    "price",
    "cost",
    "descrip",
    "weight",
    "taxable",
    "active",
    "page_title",
    "dt_created",
    "dt_updated",
    "category",
    "product_inventory",
];

/// Columns every product row has.
const PRODUCT_BASE: &[&str] = &[
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
    "formatted_weight",
    "active",
    "page_title",
    "taxable",
    "dt_created",
    "dt_updated",
    "catcount",
    "disp_order",
];

/// A product's on-demand columns.
const PRODUCT_ONDEMAND: &[&str] = &[
    "descrip",
    "catcount",
    "cancat_code",
    "page_code",
    "product_inventory",
    "productinventorysettings",
    "attributes",
    "productimagedata",
    "categories",
    "productshippingrules",
    "relatedproducts",
    "uris",
    "url",
    "subscriptionsettings",
    "subscriptionterms",
];

pub(crate) static PRODUCTS: EntityDef = EntityDef {
    search: PRODUCT_SEARCH,
    sort: &[
        "id",
        "code",
        "sku",
        "cancat_code",
        "page_code",
        "name",
        "thumbnail",
        "image",
        "price",
        "cost",
        "descrip",
        "weight",
        "taxable",
        "active",
        "page_title",
        "dt_created",
        "dt_updated",
        "disp_order",
    ],
    base: PRODUCT_BASE,
    ondemand: PRODUCT_ONDEMAND,
};

static CATEGORIES: EntityDef = EntityDef {
    search: &[
        "id",
        "code",
        "name",
        "page_title",
        "parent_category",
        "page_code",
        "dt_created",
        "dt_updated",
        "depth",
        "active",
    ],
    sort: &[
        "id",
        "code",
        "name",
        "page_title",
        "active",
        "page_code",
        "parent_category",
        "disp_order",
        "dt_created",
        "dt_updated",
        "depth",
    ],
    base: &[
        "id",
        "parent_id",
        "agrpcount",
        "depth",
        "disp_order",
        "page_id",
        "code",
        "name",
        "page_title",
        "active",
        "dt_created",
        "dt_updated",
        "page_code",
        "parent_category",
    ],
    ondemand: &["uris", "url"],
};

const CUSTOMER_FIELDS: &[&str] = &[
    "id",
    "login",
    "pw_email",
    "ship_fname",
    "ship_lname",
    "ship_email",
    "ship_comp",
    "ship_phone",
    "ship_fax",
    "ship_addr1",
    "ship_addr2",
    "ship_city",
    "ship_state",
    "ship_zip",
    "ship_cntry",
    "ship_res",
    "bill_fname",
    "bill_lname",
    "bill_email",
    "bill_comp",
    "bill_phone",
    "bill_fax",
    "bill_addr1",
    "bill_addr2",
    "bill_city",
    "bill_state",
    "bill_zip",
    "bill_cntry",
    "business_title",
    "note_count",
    "dt_created",
    "dt_login",
    "credit",
];

static CUSTOMERS: EntityDef = EntityDef {
    search: CUSTOMER_FIELDS,
    sort: CUSTOMER_FIELDS,
    base: &[
        "id",
        "account_id",
        "login",
        "pw_email",
        "ship_id",
        "ship_res",
        "ship_fname",
        "ship_lname",
        "ship_email",
        "ship_comp",
        "ship_phone",
        "ship_fax",
        "ship_addr1",
        "ship_addr2",
        "ship_city",
        "ship_state",
        "ship_zip",
        "ship_cntry",
        "bill_id",
        "bill_fname",
        "bill_lname",
        "bill_email",
        "bill_comp",
        "bill_phone",
        "bill_fax",
        "bill_addr1",
        "bill_addr2",
        "bill_city",
        "bill_state",
        "bill_zip",
        "bill_cntry",
        "tax_exempt",
        "order_cnt",
        "order_avg",
        "formatted_order_avg",
        "order_tot",
        "formatted_order_tot",
        "note_count",
        "dt_created",
        "dt_login",
        "dt_pwchg",
        "credit",
        "formatted_credit",
        "business_title",
    ],
    ondemand: &[],
};

const ORDER_FIELDS: &[&str] = &[
    "id",
    "batch_id",
    "status",
    "pay_status",
    "orderdate",
    "dt_instock",
    "ship_res",
    "ship_fname",
    "ship_lname",
    "ship_email",
    "ship_comp",
    "ship_phone",
    "ship_fax",
    "ship_addr1",
    "ship_addr2",
    "ship_city",
    "ship_state",
    "ship_zip",
    "ship_cntry",
    "bill_fname",
    "bill_lname",
    "bill_email",
    "bill_comp",
    "bill_phone",
    "bill_fax",
    "bill_addr1",
    "bill_addr2",
    "bill_city",
    "bill_state",
    "bill_zip",
    "bill_cntry",
    "ship_id",
    "ship_data",
    "source",
    "source_id",
    "total",
    "total_ship",
    "total_tax",
    "total_auth",
    "total_capt",
    "total_rfnd",
    "net_capt",
    "pend_count",
    "bord_count",
    "cust_login",
    "cust_pw_email",
    "business_title",
    "note_count",
    "payment_module",
];

static ORDERS: EntityDef = EntityDef {
    // Every field but payment_module is searchable; all are sortable.
    search: ORDER_FIELDS.split_at(ORDER_FIELDS.len() - 1).0,
    sort: ORDER_FIELDS,
    base: &[
        "id",
        "pay_id",
        "batch_id",
        "status",
        "pay_status",
        "stk_status",
        "orderdate",
        "dt_instock",
        "cust_id",
        "ship_res",
        "ship_fname",
        "ship_lname",
        "ship_email",
        "ship_comp",
        "ship_phone",
        "ship_fax",
        "ship_addr1",
        "ship_addr2",
        "ship_city",
        "ship_state",
        "ship_zip",
        "ship_cntry",
        "bill_fname",
        "bill_lname",
        "bill_email",
        "bill_comp",
        "bill_phone",
        "bill_fax",
        "bill_addr1",
        "bill_addr2",
        "bill_city",
        "bill_state",
        "bill_zip",
        "bill_cntry",
        "ship_id",
        "ship_data",
        "source",
        "source_id",
        "total",
        "formatted_total",
        "total_ship",
        "formatted_total_ship",
        "total_tax",
        "formatted_total_tax",
        "total_auth",
        "formatted_total_auth",
        "total_capt",
        "formatted_total_capt",
        "total_rfnd",
        "formatted_total_rfnd",
        "net_capt",
        "formatted_net_capt",
        "pend_count",
        "bord_count",
        "note_count",
    ],
    ondemand: &[
        "ship_method",
        "cust_login",
        "cust_pw_email",
        "business_title",
        "payment_module",
        "customer",
        "items",
        "charges",
        "coupons",
        "discounts",
        "payments",
        "notes",
        "parts",
        "shipments",
        "returns",
        "payment_data",
    ],
};

fn field_of<'a>(record: &'a Record, field: &str) -> FieldRef<'a> {
    record.get(field).map_or(FieldRef::Missing, FieldRef::One)
}

fn lowered(value: Option<&Value>) -> String {
    value
        .map(display)
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The order to visit a table's records in: `None` for id order (the
/// table's own), else the ids sorted by the query's `Sort`, cached until
/// the store changes.
fn sorted_ids(
    data: &Data,
    store: &Store,
    table: &'static str,
    records: &BTreeMap<u64, Record>,
    query: &ListQuery,
) -> Option<Arc<Vec<u64>>> {
    let (field, desc) = query.sort.as_ref()?;
    if field == "id" && !desc {
        return None;
    }
    let key = (table, field.clone(), *desc);
    let mut cache = data
        .sort_cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some((version, ids)) = cache.get(&key)
        && *version == store.version
    {
        return Some(ids.clone());
    }
    let ids = Arc::new(query::sort_ids(records.iter(), field, *desc));
    cache.insert(key, (store.version, ids.clone()));
    Some(ids)
}

/// The records of a table in the query's order.
fn in_order<'a>(
    records: &'a BTreeMap<u64, Record>,
    order: Option<&'a [u64]>,
) -> Box<dyn Iterator<Item = (&'a u64, &'a Record)> + 'a> {
    match order {
        Some(ids) => Box::new(ids.iter().filter_map(|id| records.get_key_value(id))),
        None => Box::new(records.iter()),
    }
}

/// Filters and pages a table. When nothing can exclude a row (no search,
/// `excludes` false) only the requested page is read.
fn page_rows<'a>(
    records: &'a BTreeMap<u64, Record>,
    order: Option<&'a [u64]>,
    q: &ListQuery,
    excludes: bool,
    keep: impl Fn(&u64, &Record) -> bool,
    get: impl Fn((&'a u64, &'a Record), &str) -> FieldRef<'a>,
) -> (usize, Vec<(&'a u64, &'a Record)>) {
    if !excludes && !q.has_search() {
        let take = if q.count == 0 { usize::MAX } else { q.count };
        let page = match order {
            Some(ids) => ids
                .iter()
                .skip(q.offset)
                .take(take)
                .filter_map(|id| records.get_key_value(id))
                .collect(),
            None => records.iter().skip(q.offset).take(take).collect(),
        };
        return (records.len(), page);
    }
    let rows = in_order(records, order).filter(|(id, r)| keep(id, r));
    query::select(rows, q, get)
}

/// A list function over one table with no computed columns.
fn simple_list(
    data: &Data,
    params: &Map<String, Value>,
    table: &'static str,
    def: &EntityDef,
    records: impl Fn(&Store) -> &BTreeMap<u64, Record>,
    keep: Option<fn(&ListQuery, &Record) -> bool>,
) -> Result<Answer, Value> {
    let q = query::parse(params, def)?;
    let store = data.read();
    let records = records(&store);
    let order = sorted_ids(data, &store, table, records, &q);
    let (total, page) = page_rows(
        records,
        order.as_deref().map(Vec::as_slice),
        &q,
        keep.is_some(),
        |_, r| keep.is_none_or(|keep| keep(&q, r)),
        |(_, r), field| field_of(r, field),
    );
    let rows: Vec<_> = page
        .into_iter()
        .map(|(_, r)| query::project(r, def, &q, |_| None))
        .collect();
    Ok(response::list_rows(total, q.offset, &rows))
}

fn store_list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    simple_list(data, params, "stores", &STORES, |s| &s.stores, None)
}

fn customer_list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    simple_list(
        data,
        params,
        "customers",
        &CUSTOMERS,
        |s| &s.customers,
        None,
    )
}

fn category_list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    simple_list(
        data,
        params,
        "categories",
        &CATEGORIES,
        |s| &s.categories,
        Some(|q, r| {
            // json/categories.mv 683-686: only exactly `Active` filters.
            q.custom("Category_Show") != Some(&Value::from("Active"))
                || r.get("active") == Some(&Value::Bool(true))
        }),
    )
}

fn product_list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    let q = query::parse(params, &PRODUCTS)?;
    let store = data.read();
    let show = product_show(q.custom("Product_Show"));
    let order = sorted_ids(data, &store, "products", &store.products, &q);
    let (total, page) = page_rows(
        &store.products,
        order.as_deref().map(Vec::as_slice),
        &q,
        matches!(show.as_str(), "active" | "uncategorized"),
        |id, r| product_shown(&store, &show, id, r),
        |(id, record), field| {
            if field == "category" {
                FieldRef::Many(store.product_category_codes(*id))
            } else {
                field_of(record, field)
            }
        },
    );
    let rows: Vec<_> = page
        .into_iter()
        .map(|(id, record)| product_row(&store, *id, record, &PRODUCTS, &q))
        .collect();
    Ok(response::list_rows(total, q.offset, &rows))
}

/// What a `Product_Show` value means to a store (`json/products.mv`
/// 2047-2052): exactly `All` every product, exactly `Uncategorized` those
/// in no category, any other value active products only; none, all.
fn product_show(value: Option<&Value>) -> String {
    match value {
        None => "all",
        Some(v) if v == "All" => "all",
        Some(v) if v == "Uncategorized" => "uncategorized",
        Some(_) => "active",
    }
    .to_owned()
}

/// Whether a product passes the `Product_Show` filter (as read by
/// [`product_show`]: `all`, `active`, `uncategorized`).
fn product_shown(store: &Store, show: &str, id: &u64, record: &Record) -> bool {
    match show {
        "active" => record.get("active") == Some(&Value::Bool(true)),
        "uncategorized" => !store.product_categories.contains_key(id),
        _ => true,
    }
}

/// A product as a list returns it: base columns, the requested on-demand
/// ones, and `product_inventory_active` with `product_inventory`.
fn product_row<'a>(
    store: &Store,
    id: u64,
    record: &'a Record,
    def: &EntityDef,
    q: &'a ListQuery,
) -> query::Row<'a> {
    let mut row = query::project(record, def, q, |column| {
        (column == "categories").then(|| product_categories(store, id))
    });
    if q.wants("product_inventory")
        && let Some(active) = record.get("product_inventory_active")
    {
        row.push("product_inventory_active", active.clone());
    }
    row
}

fn product_categories(store: &Store, product_id: u64) -> Value {
    let ids = store.product_categories.get(&product_id);
    Value::Array(
        ids.into_iter()
            .flatten()
            .filter_map(|id| store.categories.get(id))
            .map(|c| query::base_columns(c, &CATEGORIES))
            .collect(),
    )
}

fn order_list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    let q = query::parse(params, &ORDERS)?;
    let store = data.read();
    let customer_id = q
        .custom("Customer_ID")
        .map(display)
        .and_then(|s| parse_number(&s));
    let product_code = q
        .custom("product_code")
        .map(display)
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    let order = sorted_ids(data, &store, "orders", &store.orders, &q);
    let (total, page) = page_rows(
        &store.orders,
        order.as_deref().map(Vec::as_slice),
        &q,
        customer_id.is_some() || product_code.is_some(),
        |_, r| {
            let customer_ok =
                customer_id.is_none_or(|c| r.get("cust_id").and_then(Value::as_f64) == Some(c));
            let product_ok = product_code.as_ref().is_none_or(|code| {
                r.get("items")
                    .and_then(Value::as_array)
                    .is_some_and(|items| items.iter().any(|i| lowered(i.get("code")) == *code))
            });
            customer_ok && product_ok
        },
        |(_, r), field| field_of(r, field),
    );
    let rows: Vec<_> = page
        .into_iter()
        .map(|(_, record)| {
            query::project(record, &ORDERS, &q, |column| {
                if column != "customer" {
                    return None;
                }
                let id = record.get("cust_id").and_then(Value::as_u64)?;
                store
                    .customers
                    .get(&id)
                    .map(|c| query::base_columns(c, &CUSTOMERS))
            })
        })
        .collect();
    Ok(response::list_rows(total, q.offset, &rows))
}

// ---- writes ---------------------------------------------------------------

/// Longest code (product, category, coupon) accepted.
const MAX_CODE_LEN: usize = 50;

fn optional_string(params: &Map<String, Value>, name: &str) -> Result<Option<String>, Value> {
    fields::text(params.get(name), name)
}

fn optional_number(params: &Map<String, Value>, name: &str) -> Result<Option<f64>, Value> {
    fields::number(params.get(name), name)
}

fn optional_integer(params: &Map<String, Value>, name: &str) -> Result<Option<i64>, Value> {
    fields::integer(params.get(name), name)
}

fn optional_bool(params: &Map<String, Value>, name: &str) -> Result<Option<bool>, Value> {
    fields::boolean(params.get(name), name)
}

fn check_code(field: &str, code: &str) -> Result<(), Value> {
    if code.is_empty() {
        return Err(response::validation(field, "A value is required"));
    }
    if code.len() > MAX_CODE_LEN {
        return Err(response::validation(
            field,
            format!("Please enter at most {MAX_CODE_LEN} characters"),
        ));
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(response::validation(
            field,
            "Codes may contain only letters, numbers, dashes and underscores",
        ));
    }
    Ok(())
}

/// Reads the optional product fields into `record`. Reads everything before
/// the caller commits, so a validation error leaves the store unchanged.
fn apply_product_fields(
    store: &Store,
    record: &mut Record,
    params: &Map<String, Value>,
) -> Result<(), Value> {
    let text_fields = [
        ("Product_SKU", "sku"),
        ("Product_Description", "descrip"),
        ("Product_Alternate_Display_Page", "page_code"),
        ("Product_Page_Title", "page_title"),
        ("Product_Thumbnail", "thumbnail"),
        ("Product_Image", "image"),
    ];
    for (param, column) in text_fields {
        if let Some(value) = optional_string(params, param)? {
            record.insert(column, Value::from(value));
        }
    }
    if let Some(name) = optional_string(params, "Product_Name")? {
        if name.trim().is_empty() {
            return Err(response::validation("Product_Name", "A value is required"));
        }
        record.insert("name", Value::from(name));
    }
    if let Some(code) = optional_string(params, "Product_Canonical_Category_Code")? {
        let code = code.trim();
        if !code.is_empty()
            && !store
                .category_codes
                .contains_key(&code.to_ascii_lowercase())
        {
            return Err(response::validation(
                "Product_Canonical_Category_Code",
                format!("Category '{code}' not found"),
            ));
        }
        record.insert("cancat_code", Value::from(code));
    }
    for (param, column, formatted) in [
        ("Product_Price", "price", "formatted_price"),
        ("Product_Cost", "cost", "formatted_cost"),
    ] {
        if let Some(amount) = optional_number(params, param)? {
            let cents = (amount * 100.0).round();
            if cents.abs() > 1e15 {
                return Err(response::validation(param, "Please enter a smaller number"));
            }
            let cents = cents as i64;
            record.insert(column, money(cents));
            record.insert(formatted, Value::from(formatted_money(cents)));
        }
    }
    if let Some(weight) = optional_number(params, "Product_Weight")? {
        record.insert("weight", Value::from(weight));
        record.insert("formatted_weight", Value::from(formatted_weight(weight)));
    }
    if let Some(inventory) = optional_integer(params, "Product_Inventory")? {
        record.insert("product_inventory", Value::from(inventory));
    }
    if let Some(taxable) = optional_bool(params, "Product_Taxable")? {
        record.insert("taxable", Value::from(taxable));
    }
    if let Some(active) = optional_bool(params, "Product_Active")? {
        record.insert("active", Value::from(active));
    }
    Ok(())
}

fn product_insert(data: &Data, params: &Map<String, Value>) -> Value {
    let code = match optional_string(params, "Product_Code") {
        Ok(code) => code.unwrap_or_default().trim().to_owned(),
        Err(e) => return e,
    };
    if let Err(e) = check_code("Product_Code", &code) {
        return e;
    }
    match optional_string(params, "Product_Name") {
        Ok(Some(name)) if !name.trim().is_empty() => {}
        Ok(_) => return response::validation("Product_Name", "A value is required"),
        Err(e) => return e,
    }
    let now = data.clock.now_unix();
    let mut store = data.write();
    let key = code.to_ascii_lowercase();
    if store.product_codes.contains_key(&key) {
        return response::validation(
            "Product_Code",
            format!("A product with code '{code}' already exists"),
        );
    }
    let mut record = store::blank_product(0, now);
    record.insert("code", Value::from(code.as_str()));
    if let Err(e) = apply_product_fields(&store, &mut record, params) {
        return e;
    }
    let id = store.allocate_product_id();
    record.insert("id", Value::from(id));
    record.insert("disp_order", Value::from(id));
    record.insert(
        "url",
        Value::from(format!("https://www.example.com/product/{key}.html")),
    );
    let out = query::base_columns(&record, &PRODUCTS);
    store.product_codes.insert(key, id);
    store.products.insert(id, record);
    store.version += 1;
    response::ok(out)
}

/// Finds the product a write names: `Product_ID`, else `Edit_Product`
/// (its code), else `Product_Code` (and, for deletes, `Product_SKU`).
/// Returns the id and whether `Product_Code` was used to find it.
fn find_product(
    store: &Store,
    params: &Map<String, Value>,
    allow_sku: bool,
) -> Result<(u64, bool), Value> {
    if let Some(id) = optional_integer(params, "Product_ID")?
        && id > 0
    {
        return u64::try_from(id)
            .ok()
            .filter(|id| store.products.contains_key(id))
            .map(|id| (id, false))
            .ok_or_else(|| response::validation("Product_ID", "Product not found"));
    }
    for (field, by_code) in [("Edit_Product", false), ("Product_Code", true)] {
        if let Some(code) = optional_string(params, field)? {
            let code = code.trim();
            if !code.is_empty() {
                return store
                    .product_codes
                    .get(&code.to_ascii_lowercase())
                    .map(|id| (*id, by_code))
                    .ok_or_else(|| response::validation(field, "Product not found"));
            }
        }
    }
    if allow_sku && let Some(sku) = optional_string(params, "Product_SKU")? {
        let sku = sku.trim();
        if !sku.is_empty() {
            return store
                .products
                .iter()
                .find(|(_, r)| {
                    r.get("sku")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.eq_ignore_ascii_case(sku))
                })
                .map(|(id, _)| (*id, false))
                .ok_or_else(|| response::validation("Product_SKU", "Product not found"));
        }
    }
    Err(response::validation(
        "Product_ID",
        "Please specify a product by Product_ID, Edit_Product or Product_Code",
    ))
}

fn product_update(data: &Data, params: &Map<String, Value>) -> Value {
    let now = data.clock.now_unix();
    let mut store = data.write();
    let (id, found_by_code) = match find_product(&store, params, false) {
        Ok(found) => found,
        Err(e) => return e,
    };
    let Some(mut record) = store.products.get(&id).cloned() else {
        return response::validation("Product_ID", "Product not found");
    };
    let old_key = code_key(&record);
    let mut new_key = None;
    if !found_by_code {
        match optional_string(params, "Product_Code") {
            Ok(Some(code)) => {
                let code = code.trim().to_owned();
                if let Err(e) = check_code("Product_Code", &code) {
                    return e;
                }
                let key = code.to_ascii_lowercase();
                if store
                    .product_codes
                    .get(&key)
                    .is_some_and(|other| *other != id)
                {
                    return response::validation(
                        "Product_Code",
                        format!("A product with code '{code}' already exists"),
                    );
                }
                record.insert("code", Value::from(code));
                new_key = Some(key);
            }
            Ok(None) => {}
            Err(e) => return e,
        }
    }
    if let Err(e) = apply_product_fields(&store, &mut record, params) {
        return e;
    }
    record.insert("dt_updated", Value::from(now));
    if let Some(key) = new_key {
        store.product_codes.remove(&old_key);
        store.product_codes.insert(key, id);
    }
    store.products.insert(id, record);
    store.version += 1;
    response::ok_empty()
}

fn product_delete(data: &Data, params: &Map<String, Value>) -> Value {
    let mut store = data.write();
    let (id, _) = match find_product(&store, params, true) {
        Ok(found) => found,
        Err(e) => return e,
    };
    if let Some(record) = store.products.remove(&id) {
        store.product_codes.remove(&code_key(&record));
    }
    store.product_categories.remove(&id);
    store.version += 1;
    response::ok_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::Seed;
    use serde_json::json;

    fn data() -> Data {
        Data {
            store_code: "S".into(),
            store: RwLock::new(Store::seeded("S", &Seed::with_products(30))),
            clock: Arc::new(ManualClock::new(1_800_000_000)),
            sort_cache: Mutex::default(),
        }
    }

    fn params(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn permissions_accept_plain_and_store_qualified_names() {
        let allowed = vec![
            "ProductList_Load_Query".to_owned(),
            "S:Product_Insert".to_owned(),
        ];
        let p = params(json!({"Store_Code": "S"}));
        assert!(permitted(&allowed, "ProductList_Load_Query", &p, "S"));
        assert!(permitted(&allowed, "Product_Insert", &p, "S"));
        assert!(!permitted(&allowed, "Product_Delete", &p, "S"));
        let other = params(json!({"Store_Code": "T"}));
        assert!(!permitted(&allowed, "Product_Insert", &other, "S"));
    }

    #[test]
    fn update_renames_and_keeps_the_index() {
        let d = data();
        let r = call(
            &d,
            &params(
                json!({"Function": "Product_Update", "Store_Code": "S", "Edit_Product": "P000002", "Product_Code": "NEW-2", "Product_Price": "3.5"}),
            ),
            None,
        );
        assert_eq!(r.to_value(), json!({"success": 1}));
        let store = d.read();
        assert_eq!(store.product_codes.get("new-2"), Some(&2));
        assert!(!store.product_codes.contains_key("p000002"));
        assert_eq!(store.products[&2]["price"], json!(3.5));
        assert_eq!(store.products[&2]["formatted_price"], "$3.50");
        assert_eq!(store.products[&2]["dt_updated"], 1_800_000_000);
    }
}
