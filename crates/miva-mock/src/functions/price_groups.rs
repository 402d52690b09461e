//! `PriceGroupList_Load_Query`, `PriceGroup_Insert`, `PriceGroup_Update`
//! and `PriceGroup_Delete`.

use serde_json::{Map, Value};

use super::coupons::check_dates;
use super::fields::{self, Finder};
use super::{Data, simple_list};
use crate::query::{self, EntityDef};
use crate::response::{self, Answer, validation};
use crate::store::{self, NextIds, Record, Store, key_of};

/// The SDK's search and sort fields for price groups.
const PRICE_GROUP_SEARCH: &[&str] = &[
    "id",
    "name",
    "type",
    "module_id",
    "custscope",
    "rate",
    "discount",
    "markup",
    "dt_start",
    "dt_end",
    "priority",
    "exclusion",
    "descrip",
    "display",
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
];

static PRICE_GROUPS: EntityDef = EntityDef {
    search: PRICE_GROUP_SEARCH,
    sort: PRICE_GROUP_SEARCH,
    // The PriceGroup model's fields.
    base: &[
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
    ],
    ondemand: &[],
};

/// `CustomerScope` (eligibility): coupon, all shoppers, specific
/// customers, logged-in customers (the SDK's constants).
const PRICE_GROUP_SCOPES: &[&str] = &["C", "A", "X", "L"];
/// `Rate` (discount type): retail, cost, discount from retail, markup
/// from cost (the SDK's constants).
const RATES: &[&str] = &["R", "C", "D", "M"];

/// Decimal request fields and their columns.
const DECIMALS: [(&str, &str); 10] = [
    ("Discount", "discount"),
    ("Markup", "markup"),
    ("Qualifying_Min_Subtotal", "qmn_subtot"),
    ("Qualifying_Max_Subtotal", "qmx_subtot"),
    ("Qualifying_Min_Weight", "qmn_weight"),
    ("Qualifying_Max_Weight", "qmx_weight"),
    ("Basket_Min_Subtotal", "bmn_subtot"),
    ("Basket_Max_Subtotal", "bmx_subtot"),
    ("Basket_Min_Weight", "bmn_weight"),
    ("Basket_Max_Weight", "bmx_weight"),
];

/// Whole-number request fields (0 or more) and their columns.
const COUNTS: [(&str, &str); 6] = [
    ("Qualifying_Min_Quantity", "qmn_quan"),
    ("Qualifying_Max_Quantity", "qmx_quan"),
    ("Basket_Min_Quantity", "bmn_quan"),
    ("Basket_Max_Quantity", "bmx_quan"),
    ("DateTime_Start", "dt_start"),
    ("DateTime_End", "dt_end"),
];

/// `PriceGroupList_Load_Query`.
pub(super) fn list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    simple_list(
        data,
        params,
        "price_groups",
        &PRICE_GROUPS,
        |s| &s.price_groups,
        None,
    )
}

/// The discount module `Module_ID`, `Edit_Module` or `Module_Code` names,
/// if one of them is given.
fn find_module(store: &Store, params: &Map<String, Value>) -> Result<Option<u64>, Value> {
    if let Some(id) = fields::integer(params.get("Module_ID"), "Module_ID")?
        && id > 0
    {
        return u64::try_from(id)
            .ok()
            .filter(|id| store.discount_modules.contains_key(id))
            .map(Some)
            .ok_or_else(|| validation("Module_ID", "Discount module not found"));
    }
    for field in ["Edit_Module", "Module_Code"] {
        if let Some(code) = fields::text(params.get(field), field)? {
            let code = code.trim();
            if !code.is_empty() {
                return store
                    .discount_modules
                    .iter()
                    .find(|(_, m)| {
                        m["code"]
                            .as_str()
                            .is_some_and(|c| c.eq_ignore_ascii_case(code))
                    })
                    .map(|(id, _)| Some(*id))
                    .ok_or_else(|| {
                        validation(field, format!("Discount module '{code}' not found"))
                    });
            }
        }
    }
    Ok(None)
}

/// A price group name from `field`, non-empty, not used by another group.
fn new_name(
    store: &Store,
    params: &Map<String, Value>,
    field: &str,
    id: u64,
) -> Result<Option<String>, Value> {
    let Some(name) = fields::optional_nonblank(params.get(field), field)? else {
        return Ok(None);
    };
    let name = name.trim().to_owned();
    if store
        .price_group_names
        .get(&name.to_lowercase())
        .is_some_and(|other| *other != id)
    {
        return Err(validation(
            field,
            format!("A price group with name '{name}' already exists"),
        ));
    }
    Ok(Some(name))
}

/// Reads the optional price group fields (not name or module) into
/// `record`. `Exclusions` is checked to be a list of objects and otherwise
/// ignored.
fn apply_fields(record: &mut Record, params: &Map<String, Value>) -> Result<(), Value> {
    if let Some(scope) = fields::choice(
        params.get("CustomerScope"),
        "CustomerScope",
        PRICE_GROUP_SCOPES,
    )? {
        record.insert("custscope", Value::from(scope));
    }
    if let Some(rate) = fields::choice(params.get("Rate"), "Rate", RATES)? {
        record.insert("rate", Value::from(rate));
    }
    for (field, column) in DECIMALS {
        if let Some(n) = fields::number(params.get(field), field)? {
            record.insert(column, Value::from(n));
        }
    }
    for (field, column) in COUNTS {
        if let Some(n) = fields::non_negative(params.get(field), field)? {
            record.insert(column, Value::from(n));
        }
    }
    if let Some(priority) = fields::integer(params.get("Priority"), "Priority")? {
        record.insert("priority", Value::from(priority));
    }
    for (field, column) in [("Exclusion", "exclusion"), ("Display", "display")] {
        if let Some(flag) = fields::boolean(params.get(field), field)? {
            record.insert(column, Value::from(flag));
        }
    }
    if let Some(descrip) = fields::text(params.get("Description"), "Description")? {
        record.insert("descrip", Value::from(descrip));
    }
    fields::object_list(params.get("Exclusions"), "Exclusions")?;
    check_dates(record)
}

/// `PriceGroup_Insert`: returns the price group. `Name` (unique) and a
/// discount module (`Module_ID`, `Edit_Module` or `Module_Code`) are
/// required.
pub(super) fn insert(data: &Data, params: &Map<String, Value>) -> Value {
    try_insert(data, params).unwrap_or_else(|e| e)
}

fn try_insert(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let name = new_name(&store, params, "Name", 0)?
        .ok_or_else(|| validation("Name", "A value is required"))?;
    let module = find_module(&store, params)?.ok_or_else(|| {
        validation(
            "Module_ID",
            "Please specify a discount module by Module_ID, Edit_Module or Module_Code",
        )
    })?;
    let mut record = store::blank_price_group(0);
    record.insert("name", Value::from(name.as_str()));
    if let Some(module) = store.discount_modules.get(&module) {
        store::set_price_group_module(&mut record, module);
    }
    apply_fields(&mut record, params)?;
    let id = NextIds::take(&mut store.next.price_group);
    record.insert("id", Value::from(id));
    let out = query::base_columns(&record, &PRICE_GROUPS);
    store.price_group_names.insert(name.to_lowercase(), id);
    store.price_groups.insert(id, record);
    store.version += 1;
    Ok(response::ok(out))
}

/// Finds a price group by `PriceGroup_ID`, `Edit_PriceGroup` or
/// `PriceGroup_Name` (which the SDK always sends, often empty).
fn finder(store: &Store) -> Finder<'_> {
    Finder {
        what: "Price group",
        id_field: "PriceGroup_ID",
        records: &store.price_groups,
        key_fields: &["Edit_PriceGroup", "PriceGroup_Name"],
        index: &store.price_group_names,
    }
}

/// `PriceGroup_Update`; `Name` renames, `Module_ID` changes the module.
pub(super) fn update(data: &Data, params: &Map<String, Value>) -> Value {
    try_update(data, params).unwrap_or_else(|e| e)
}

fn try_update(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let (id, _) = finder(&store).find(params)?;
    let mut record = store
        .price_groups
        .get(&id)
        .cloned()
        .ok_or_else(|| validation("PriceGroup_ID", "Price group not found"))?;
    let old_key = key_of(&record, "name");
    let name = new_name(&store, params, "Name", id)?;
    if let Some(name) = &name {
        record.insert("name", Value::from(name.as_str()));
    }
    if let Some(module) = find_module(&store, params)?
        && let Some(module) = store.discount_modules.get(&module)
    {
        store::set_price_group_module(&mut record, module);
    }
    apply_fields(&mut record, params)?;
    store.price_groups.insert(id, record);
    if let Some(name) = name {
        store.price_group_names.remove(&old_key);
        store.price_group_names.insert(name.to_lowercase(), id);
    }
    store.version += 1;
    Ok(response::ok_empty())
}

/// `PriceGroup_Delete`; coupons that unlocked the group no longer do.
pub(super) fn delete(data: &Data, params: &Map<String, Value>) -> Value {
    try_delete(data, params).unwrap_or_else(|e| e)
}

fn try_delete(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let (id, _) = finder(&store).find(params)?;
    if let Some(record) = store.price_groups.remove(&id) {
        store.price_group_names.remove(&key_of(&record, "name"));
    }
    store.coupon_price_groups.retain(|_, groups| {
        groups.retain(|g| *g != id);
        !groups.is_empty()
    });
    store.version += 1;
    Ok(response::ok_empty())
}
