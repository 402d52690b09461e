//! `Category_Insert`, `Category_Update`, `Category_Delete`,
//! `CategoryProductList_Load_Query` and `CategoryProduct_Update_Assigned`.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::fields::{self, Finder};
use super::{
    CATEGORIES, Data, PRODUCT_BASE, PRODUCT_ONDEMAND, PRODUCT_SEARCH, check_code, field_of,
    find_product, lowered, page_rows, product_row, product_shown, sorted_ids,
};
use crate::query::{self, EntityDef, FieldRef};
use crate::response::{self, Answer, validation};
use crate::store::{self, NextIds, Record, Store, code_key};

/// `CategoryProductList_Load_Query`: products, with the SDK's search and
/// sort fields for it (`ProductList_Load_Query`'s without `disp_order`).
static CATEGORY_PRODUCTS: EntityDef = EntityDef {
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
    ],
    base: PRODUCT_BASE,
    ondemand: PRODUCT_ONDEMAND,
};

/// Finds a category by `Category_ID`, `Edit_Category` or `Category_Code`.
fn finder(store: &Store) -> Finder<'_> {
    Finder {
        what: "Category",
        id_field: "Category_ID",
        records: &store.categories,
        key_fields: &["Edit_Category", "Category_Code"],
        index: &store.category_codes,
    }
}

fn parent_id(record: &Record) -> u64 {
    record.get("parent_id").and_then(Value::as_u64).unwrap_or(0)
}

/// Whether category `node` is `ancestor` or lies below it.
fn is_within(store: &Store, node: u64, ancestor: u64) -> bool {
    let mut current = node;
    // A tree has no path longer than its size; the bound only guards
    // against a corrupted store.
    for _ in 0..=store.categories.len() {
        if current == ancestor {
            return true;
        }
        match store.categories.get(&current).map(parent_id) {
            Some(parent) if parent != 0 => current = parent,
            _ => return false,
        }
    }
    false
}

/// `root` and every category below it, root first.
fn subtree(store: &Store, root: u64) -> Vec<u64> {
    let mut out = vec![root];
    let mut seen: HashSet<u64> = HashSet::from([root]);
    let mut i = 0;
    while let Some(&parent) = out.get(i) {
        for (id, record) in &store.categories {
            if parent_id(record) == parent && seen.insert(*id) {
                out.push(*id);
            }
        }
        i += 1;
    }
    out
}

/// Reads the optional category fields into `record` (`moving`: the id of
/// the category being updated, which may not move below itself). Reads
/// everything before the caller commits.
fn apply_fields(
    store: &Store,
    record: &mut Record,
    params: &Map<String, Value>,
    moving: Option<u64>,
) -> Result<(), Value> {
    if let Some(name) = fields::optional_nonblank(params.get("Category_Name"), "Category_Name")? {
        record.insert("name", Value::from(name));
    }
    if let Some(title) = fields::text(params.get("Category_Page_Title"), "Category_Page_Title")? {
        record.insert("page_title", Value::from(title));
    }
    let page = "Category_Alternate_Display_Page";
    if let Some(code) = fields::text(params.get(page), page)? {
        record.insert("page_code", Value::from(code.trim()));
    }
    if let Some(active) = fields::boolean(params.get("Category_Active"), "Category_Active")? {
        record.insert("active", Value::from(active));
    }
    let field = "Category_Parent_Category";
    if let Some(parent) = fields::text(params.get(field), field)? {
        let parent = parent.trim();
        if parent.is_empty() {
            record.insert("parent_id", Value::from(0));
            record.insert("parent_category", Value::from(""));
            record.insert("depth", Value::from(1));
        } else {
            let found = store
                .category_codes
                .get(&parent.to_lowercase())
                .and_then(|id| store.categories.get(id).map(|r| (*id, r)));
            let Some((id, parent_record)) = found else {
                return Err(validation(field, format!("Category '{parent}' not found")));
            };
            if let Some(me) = moving
                && is_within(store, id, me)
            {
                return Err(validation(
                    field,
                    "A category cannot be moved below itself or one of its subcategories",
                ));
            }
            let depth = parent_record
                .get("depth")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            record.insert("parent_id", Value::from(id));
            record.insert("parent_category", parent_record["code"].clone());
            record.insert("depth", Value::from(depth + 1));
        }
    }
    Ok(())
}

/// `Category_Insert`: returns the category.
pub(super) fn insert(data: &Data, params: &Map<String, Value>) -> Value {
    try_insert(data, params).unwrap_or_else(|e| e)
}

fn try_insert(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let code = fields::text(params.get("Category_Code"), "Category_Code")?
        .unwrap_or_default()
        .trim()
        .to_owned();
    check_code("Category_Code", &code)?;
    fields::required_text(params.get("Category_Name"), "Category_Name")?;
    let now = data.clock.now_unix();
    let mut store = data.write();
    let key = code.to_lowercase();
    if store.category_codes.contains_key(&key) {
        return Err(validation(
            "Category_Code",
            format!("A category with code '{code}' already exists"),
        ));
    }
    let mut record = store::blank_category(0, now);
    record.insert("code", Value::from(code.as_str()));
    apply_fields(&store, &mut record, params, None)?;
    let id = NextIds::take(&mut store.next.category);
    record.insert("id", Value::from(id));
    record.insert("disp_order", Value::from(id));
    record.insert(
        "url",
        Value::from(format!("https://www.example.com/category/{key}.html")),
    );
    let out = query::base_columns(&record, &CATEGORIES);
    store.category_codes.insert(key, id);
    store.categories.insert(id, record);
    store.version += 1;
    Ok(response::ok(out))
}

/// `Category_Update`, by `Category_ID`, `Edit_Category` or `Category_Code`;
/// `Category_Code` renames when another identifier is used.
pub(super) fn update(data: &Data, params: &Map<String, Value>) -> Value {
    try_update(data, params).unwrap_or_else(|e| e)
}

fn try_update(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let now = data.clock.now_unix();
    let mut store = data.write();
    let (id, by) = finder(&store).find(params)?;
    let mut record = store
        .categories
        .get(&id)
        .cloned()
        .ok_or_else(|| validation("Category_ID", "Category not found"))?;
    let old_key = code_key(&record);
    let mut new_code = None;
    if by != "Category_Code"
        && let Some(code) = fields::text(params.get("Category_Code"), "Category_Code")?
    {
        let code = code.trim().to_owned();
        check_code("Category_Code", &code)?;
        if store
            .category_codes
            .get(&code.to_lowercase())
            .is_some_and(|other| *other != id)
        {
            return Err(validation(
                "Category_Code",
                format!("A category with code '{code}' already exists"),
            ));
        }
        record.insert("code", Value::from(code.as_str()));
        new_code = Some(code);
    }
    let old_parent = parent_id(&record);
    apply_fields(&store, &mut record, params, Some(id))?;
    record.insert("dt_updated", Value::from(now));
    let moved = parent_id(&record) != old_parent;
    store.categories.insert(id, record);
    if let Some(code) = new_code {
        store.category_codes.remove(&old_key);
        store.category_codes.insert(code.to_lowercase(), id);
        for child in store.categories.values_mut() {
            if parent_id(child) == id {
                child.insert("parent_category", Value::from(code.as_str()));
            }
        }
        for product in store.products.values_mut() {
            if lowered(product.get("cancat_code")) == old_key {
                product.insert("cancat_code", Value::from(code.as_str()));
            }
        }
    }
    if moved {
        fix_depths(&mut store, id);
    }
    store.version += 1;
    Ok(response::ok_empty())
}

/// Sets the `depth` of every category below `root` from its parent's.
fn fix_depths(store: &mut Store, root: u64) {
    for id in subtree(store, root).into_iter().skip(1) {
        let parent = store.categories.get(&id).map_or(0, parent_id);
        let depth = store
            .categories
            .get(&parent)
            .and_then(|p| p.get("depth"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if let Some(record) = store.categories.get_mut(&id) {
            record.insert("depth", Value::from(depth + 1));
        }
    }
}

/// `Category_Delete`, by `Category_ID`, `Edit_Category` or
/// `Category_Code`. Deletes the category's subcategories too, unassigns
/// their products and clears canonical categories that pointed at them.
pub(super) fn delete(data: &Data, params: &Map<String, Value>) -> Value {
    try_delete(data, params).unwrap_or_else(|e| e)
}

fn try_delete(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let (id, _) = finder(&store).find(params)?;
    let doomed: HashSet<u64> = subtree(&store, id).into_iter().collect();
    let mut codes = HashSet::new();
    for category in &doomed {
        if let Some(record) = store.categories.remove(category) {
            let key = code_key(&record);
            store.category_codes.remove(&key);
            codes.insert(key);
        }
    }
    let Store {
        products,
        product_categories,
        ..
    } = &mut *store;
    product_categories.retain(|product, cats| {
        let before = cats.len();
        cats.retain(|c| !doomed.contains(c));
        if cats.len() != before
            && let Some(record) = products.get_mut(product)
        {
            record.insert("catcount", Value::from(cats.len()));
        }
        !cats.is_empty()
    });
    for product in products.values_mut() {
        if codes.contains(&lowered(product.get("cancat_code"))) {
            product.insert("cancat_code", Value::from(""));
        }
    }
    store.version += 1;
    Ok(response::ok_empty())
}

/// `CategoryProductList_Load_Query`: every product, each with `assigned`
/// (whether it is in the category); `Assigned: true` lists only assigned
/// products, `Unassigned: true` only the others, both or neither all.
pub(super) fn product_list(data: &Data, params: &Map<String, Value>) -> Result<Answer, Value> {
    let q = query::parse(params, &CATEGORY_PRODUCTS)?;
    let assigned = fields::boolean(params.get("Assigned"), "Assigned")?.unwrap_or(false);
    let unassigned = fields::boolean(params.get("Unassigned"), "Unassigned")?.unwrap_or(false);
    let only = match (assigned, unassigned) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let store = data.read();
    let (category, _) = finder(&store).find(params)?;
    let in_category = |id: &u64| {
        store
            .product_categories
            .get(id)
            .is_some_and(|cats| cats.contains(&category))
    };
    let show = lowered(q.custom("Product_Show"));
    let order = sorted_ids(data, &store, "products", &store.products, &q);
    let (total, page) = page_rows(
        &store.products,
        order.as_deref().map(Vec::as_slice),
        &q,
        only.is_some() || matches!(show.as_str(), "active" | "uncategorized"),
        |id, r| {
            only.is_none_or(|want| in_category(id) == want) && product_shown(&store, &show, id, r)
        },
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
        .map(|(id, record)| {
            let mut row = product_row(&store, *id, record, &CATEGORY_PRODUCTS, &q);
            row.push("assigned", Value::Bool(in_category(id)));
            row
        })
        .collect();
    Ok(response::list_rows(total, q.offset, &rows))
}

/// `CategoryProduct_Update_Assigned`: assigns a product to a category
/// (`Assigned: true`) or removes it; doing what is already done is fine.
pub(super) fn update_assigned(data: &Data, params: &Map<String, Value>) -> Value {
    try_update_assigned(data, params).unwrap_or_else(|e| e)
}

fn try_update_assigned(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let (category, _) = finder(&store).find(params)?;
    let (product, _) = find_product(&store, params, true)?;
    let assigned = fields::boolean(params.get("Assigned"), "Assigned")?
        .ok_or_else(|| validation("Assigned", "A value is required"))?;
    let Store {
        products,
        product_categories,
        ..
    } = &mut *store;
    let cats = product_categories.entry(product).or_default();
    if assigned {
        if let Err(at) = cats.binary_search(&category) {
            cats.insert(at, category);
        }
    } else {
        cats.retain(|c| *c != category);
    }
    let count = cats.len();
    if count == 0 {
        product_categories.remove(&product);
    }
    if let Some(record) = products.get_mut(&product) {
        record.insert("catcount", Value::from(count));
    }
    store.version += 1;
    Ok(response::ok_empty())
}
