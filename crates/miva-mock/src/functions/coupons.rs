//! `CouponList_Load_Query`, `Coupon_Insert`, `Coupon_Update` and
//! `CouponList_Delete`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::fields::{self, Finder};
use super::{Data, check_code, simple_list};
use crate::query::{self, EntityDef};
use crate::response::{self, Answer, validation};
use crate::store::{self, NextIds, Record, Store, code_key};

/// The Coupon model's fields: all searchable and sortable.
const COUPON_FIELDS: &[&str] = &[
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

static COUPONS: EntityDef = EntityDef {
    search: COUPON_FIELDS,
    sort: COUPON_FIELDS,
    base: COUPON_FIELDS,
    ondemand: &[],
};

/// `CustomerScope` of a coupon: all shoppers, specific customers, all
/// logged-in customers (the SDK's constants).
const COUPON_SCOPES: &[&str] = &["A", "X", "L"];

/// `CouponList_Load_Query`.
pub(super) fn list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    simple_list(data, params, "coupons", &COUPONS, |s| &s.coupons, None)
}

/// Reads the optional coupon fields (not the code) into `record`; checks
/// that `dt_end` is not before `dt_start` when both are set.
fn apply_fields(record: &mut Record, params: &Map<String, Value>) -> Result<(), Value> {
    if let Some(descrip) = fields::text(params.get("Description"), "Description")? {
        record.insert("descrip", Value::from(descrip));
    }
    if let Some(scope) =
        fields::choice(params.get("CustomerScope"), "CustomerScope", COUPON_SCOPES)?
    {
        record.insert("custscope", Value::from(scope));
    }
    for (field, column) in [
        ("DateTime_Start", "dt_start"),
        ("DateTime_End", "dt_end"),
        ("Max_Use", "max_use"),
        ("Max_Per", "max_per"),
    ] {
        if let Some(n) = fields::non_negative(params.get(field), field)? {
            record.insert(column, Value::from(n));
        }
    }
    if let Some(active) = fields::boolean(params.get("Active"), "Active")? {
        record.insert("active", Value::from(active));
    }
    check_dates(record)
}

/// `dt_end` (0: never) must not be before `dt_start`.
pub(super) fn check_dates(record: &Record) -> Result<(), Value> {
    let start = record.get("dt_start").and_then(Value::as_i64).unwrap_or(0);
    let end = record.get("dt_end").and_then(Value::as_i64).unwrap_or(0);
    if end != 0 && end < start {
        return Err(validation(
            "DateTime_End",
            "The end date must not be before the start date",
        ));
    }
    Ok(())
}

/// A coupon code from `field`, checked, and not used by another coupon.
fn new_code(
    store: &Store,
    params: &Map<String, Value>,
    field: &str,
    id: u64,
) -> Result<Option<String>, Value> {
    let Some(code) = fields::text(params.get(field), field)? else {
        return Ok(None);
    };
    let code = code.trim().to_owned();
    check_code(field, &code)?;
    if store
        .coupon_codes
        .get(&code.to_lowercase())
        .is_some_and(|other| *other != id)
    {
        return Err(validation(
            field,
            format!("A coupon with code '{code}' already exists"),
        ));
    }
    Ok(Some(code))
}

/// `Coupon_Insert`: returns the coupon. `Code` is required and unique;
/// `PriceGroup_ID`, if given, must name a price group, which the coupon
/// then unlocks.
pub(super) fn insert(data: &Data, params: &Map<String, Value>) -> Value {
    try_insert(data, params).unwrap_or_else(|e| e)
}

fn try_insert(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let code = new_code(&store, params, "Code", 0)?.unwrap_or_default();
    check_code("Code", &code)?;
    let mut record = store::blank_coupon(0);
    record.insert("code", Value::from(code.as_str()));
    apply_fields(&mut record, params)?;
    let price_group = match fields::integer(params.get("PriceGroup_ID"), "PriceGroup_ID")? {
        Some(id) if id > 0 => Some(
            u64::try_from(id)
                .ok()
                .filter(|id| store.price_groups.contains_key(id))
                .ok_or_else(|| validation("PriceGroup_ID", "Price group not found"))?,
        ),
        _ => None,
    };
    let id = NextIds::take(&mut store.next.coupon);
    record.insert("id", Value::from(id));
    let out = query::base_columns(&record, &COUPONS);
    store.coupon_codes.insert(code.to_lowercase(), id);
    store.coupons.insert(id, record);
    if let Some(group) = price_group {
        store.coupon_price_groups.insert(id, vec![group]);
    }
    store.version += 1;
    Ok(response::ok(out))
}

/// `Coupon_Update`, by `Coupon_ID`, `Edit_Coupon` or `Coupon_Code`; `Code`
/// renames.
pub(super) fn update(data: &Data, params: &Map<String, Value>) -> Value {
    try_update(data, params).unwrap_or_else(|e| e)
}

fn try_update(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let (id, _) = Finder {
        what: "Coupon",
        id_field: "Coupon_ID",
        records: &store.coupons,
        key_fields: &["Edit_Coupon", "Coupon_Code"],
        index: &store.coupon_codes,
    }
    .find(params)?;
    let mut record = store
        .coupons
        .get(&id)
        .cloned()
        .ok_or_else(|| validation("Coupon_ID", "Coupon not found"))?;
    let old_key = code_key(&record);
    let code = new_code(&store, params, "Code", id)?;
    if let Some(code) = &code {
        record.insert("code", Value::from(code.as_str()));
    }
    apply_fields(&mut record, params)?;
    store.coupons.insert(id, record);
    if let Some(code) = code {
        store.coupon_codes.remove(&old_key);
        store.coupon_codes.insert(code.to_lowercase(), id);
    }
    store.version += 1;
    Ok(response::ok_empty())
}

/// `CouponList_Delete`: deletes the coupons of `Coupon_IDs` (an array of
/// ids), all or none: an unknown id is an error and deletes nothing.
/// Answers `{"success":1,"processed":N}`.
pub(super) fn list_delete(data: &Data, params: &Map<String, Value>) -> Value {
    try_list_delete(data, params).unwrap_or_else(|e| e)
}

fn try_list_delete(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let field = "Coupon_IDs";
    let ids: &[Value] = match params.get(field) {
        None | Some(Value::Null) => return Err(validation(field, "A value is required")),
        Some(Value::Array(ids)) => ids,
        Some(_) => return Err(validation(field, "Please enter a list of coupon ids")),
    };
    let mut store = data.write();
    let mut doomed = BTreeSet::new();
    for (i, value) in ids.iter().enumerate() {
        let here = format!("{field}[{i}]");
        let id = fields::integer(Some(value), &here)?
            .and_then(|id| u64::try_from(id).ok())
            .filter(|id| store.coupons.contains_key(id))
            .ok_or_else(|| validation(&here, "Coupon not found"))?;
        doomed.insert(id);
    }
    for id in &doomed {
        if let Some(record) = store.coupons.remove(id) {
            store.coupon_codes.remove(&code_key(&record));
        }
        store.coupon_price_groups.remove(id);
    }
    store.version += 1;
    Ok(json!({"success": 1, "processed": doomed.len()}))
}
