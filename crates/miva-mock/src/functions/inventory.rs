//! `ProductList_Adjust_Inventory` and `InventoryProductSettings_Update`.
//! Both change what `ProductList_Load_Query` returns as
//! `product_inventory`, `product_inventory_active` and
//! `productinventorysettings`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fields;
use super::{Data, find_product};
use crate::response::{self, validation};
use crate::store::{self, Store};

/// The values of the `Track...`/`Hide...` settings (the SDK's constants).
const CHOICES: &[&str] = &["Default", "Yes", "No"];

fn inventory(store: &Store, id: u64) -> i64 {
    store
        .products
        .get(&id)
        .and_then(|p| p.get("product_inventory"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The product one `Inventory_Adjustments` entry names: `product_id`, else
/// `product_code`, else `product_sku`.
fn adjusted_product(store: &Store, entry: &Map<String, Value>, path: &str) -> Result<u64, Value> {
    let field = |name: &str| format!("{path}.{name}");
    let not_found = |name: &str| validation(&field(name), "Product not found");
    if let Some(id) = fields::integer(entry.get("product_id"), &field("product_id"))?
        && id > 0
    {
        return u64::try_from(id)
            .ok()
            .filter(|id| store.products.contains_key(id))
            .ok_or_else(|| not_found("product_id"));
    }
    if let Some(code) = fields::text(entry.get("product_code"), &field("product_code"))?
        && !code.trim().is_empty()
    {
        return store
            .product_codes
            .get(&code.trim().to_ascii_lowercase())
            .copied()
            .ok_or_else(|| not_found("product_code"));
    }
    if let Some(sku) = fields::text(entry.get("product_sku"), &field("product_sku"))?
        && !sku.trim().is_empty()
    {
        let sku = sku.trim();
        return store
            .products
            .iter()
            .find(|(_, r)| {
                r.get("sku")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(sku))
            })
            .map(|(id, _)| *id)
            .ok_or_else(|| not_found("product_sku"));
    }
    Err(validation(
        &field("product_id"),
        "Please specify a product by product_id, product_code or product_sku",
    ))
}

/// `ProductList_Adjust_Inventory`: adds each entry's `adjustment` (may be
/// negative) to its product's `product_inventory`. All or nothing: an
/// invalid entry changes no product.
pub(super) fn adjust(data: &Data, params: &Map<String, Value>) -> Value {
    try_adjust(data, params).unwrap_or_else(|e| e)
}

fn try_adjust(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let list = "Inventory_Adjustments";
    let entries = fields::object_list(params.get(list), list)?;
    let mut store = data.write();
    let mut levels: BTreeMap<u64, i64> = BTreeMap::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let path = format!("{list}[{i}]");
        let id = adjusted_product(&store, entry, &path)?;
        let field = format!("{path}.adjustment");
        let by = fields::integer(entry.get("adjustment"), &field)?
            .ok_or_else(|| validation(&field, "A value is required"))?;
        let level = levels.entry(id).or_insert_with(|| inventory(&store, id));
        *level = level
            .checked_add(by)
            .ok_or_else(|| validation(&field, "Please enter a smaller number"))?;
    }
    if !levels.is_empty() {
        for (id, level) in levels {
            if let Some(product) = store.products.get_mut(&id) {
                product.insert("product_inventory", Value::from(level));
            }
        }
        store.version += 1;
    }
    Ok(response::ok_empty())
}

/// `InventoryProductSettings_Update`, by `Product_ID`, `Product_Code` or
/// `Edit_Product`: the product's `productinventorysettings` (`TrackProduct`
/// also sets `product_inventory_active`), and its stock: `CurrentStock`
/// sets it, then `AdjustStockBy` adds to it.
pub(super) fn update_settings(data: &Data, params: &Map<String, Value>) -> Value {
    try_update_settings(data, params).unwrap_or_else(|e| e)
}

fn try_update_settings(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let (id, _) = find_product(&store, params, false)?;
    let mut record = store
        .products
        .get(&id)
        .cloned()
        .ok_or_else(|| validation("Product_ID", "Product not found"))?;
    let mut settings = match record.get("productinventorysettings") {
        Some(Value::Object(map)) => map.clone(),
        _ => match store::inventory_settings() {
            Value::Object(map) => map,
            _ => Map::new(),
        },
    };
    let mut set = |column: &str, value: Value| {
        settings.insert(column.to_owned(), value);
    };
    for (field, column) in [
        ("TrackLowStockLevel", "low_track"),
        ("TrackOutOfStockLevel", "out_track"),
        ("HideOutOfStockProducts", "out_hide"),
    ] {
        if let Some(choice) = fields::choice(params.get(field), field, CHOICES)? {
            set(column, Value::from(choice));
        }
    }
    for (field, column, default_flag) in [
        ("LowStockLevel", "low_level", "low_lvl_d"),
        ("OutOfStockLevel", "out_level", "out_lvl_d"),
    ] {
        if let Some(level) = fields::non_negative(params.get(field), field)? {
            set(column, Value::from(level));
            set(default_flag, Value::Bool(false));
        }
    }
    for (field, column) in [
        ("InStockMessageShort", "in_short"),
        ("InStockMessageLong", "in_long"),
        ("LowStockMessageShort", "low_short"),
        ("LowStockMessageLong", "low_long"),
        ("OutOfStockMessageShort", "out_short"),
        ("OutOfStockMessageLong", "out_long"),
        ("LimitedStockMessage", "ltd_long"),
    ] {
        if let Some(message) = fields::text(params.get(field), field)? {
            set(column, Value::from(message));
        }
    }
    let track = fields::boolean(params.get("TrackProduct"), "TrackProduct")?;
    if let Some(track) = track {
        set("active", Value::Bool(track));
        record.insert("product_inventory_active", Value::Bool(track));
    }
    let mut level = inventory(&store, id);
    if let Some(current) = fields::integer(params.get("CurrentStock"), "CurrentStock")? {
        level = current;
    }
    if let Some(by) = fields::integer(params.get("AdjustStockBy"), "AdjustStockBy")? {
        level = level
            .checked_add(by)
            .ok_or_else(|| validation("AdjustStockBy", "Please enter a smaller number"))?;
    }
    record.insert("product_inventory", Value::from(level));
    record.insert("productinventorysettings", Value::Object(settings));
    store.products.insert(id, record);
    store.version += 1;
    Ok(response::ok_empty())
}
