//! `Order_Create` and `Order_Delete`.

use serde_json::{Map, Value, json};

use super::fields::{self, Finder};
use super::{CUSTOMERS, Data, ORDERS};
use crate::query;
use crate::response::{self, validation};
use crate::store::{NextIds, Record, Store, formatted_money, formatted_weight, money};

/// The address fields of `Order_Create` and the order columns they set (a
/// customer's record has the same column names: the defaults).
const ADDRESS_FIELDS: [(&str, &str); 24] = [
    ("ShipFirstName", "ship_fname"),
    ("ShipLastName", "ship_lname"),
    ("ShipEmail", "ship_email"),
    ("ShipPhone", "ship_phone"),
    ("ShipFax", "ship_fax"),
    ("ShipCompany", "ship_comp"),
    ("ShipAddress1", "ship_addr1"),
    ("ShipAddress2", "ship_addr2"),
    ("ShipCity", "ship_city"),
    ("ShipState", "ship_state"),
    ("ShipZip", "ship_zip"),
    ("ShipCountry", "ship_cntry"),
    ("BillFirstName", "bill_fname"),
    ("BillLastName", "bill_lname"),
    ("BillEmail", "bill_email"),
    ("BillPhone", "bill_phone"),
    ("BillFax", "bill_fax"),
    ("BillCompany", "bill_comp"),
    ("BillAddress1", "bill_addr1"),
    ("BillAddress2", "bill_addr2"),
    ("BillCity", "bill_city"),
    ("BillState", "bill_state"),
    ("BillZip", "bill_zip"),
    ("BillCountry", "bill_cntry"),
];

/// The on-demand order columns `Order_Create` returns besides the base ones.
const CREATED_EXTRA: [&str; 9] = [
    "ship_method",
    "cust_login",
    "cust_pw_email",
    "business_title",
    "payment_module",
    "items",
    "charges",
    "coupons",
    "discounts",
];

/// Largest amount or price accepted, so totals stay exact in cents.
const MAX_AMOUNT: f64 = 1e12;
/// Largest item quantity accepted.
const MAX_QUANTITY: i64 = 1_000_000;

/// Cents, rounded (saturating for absurd values, which are refused first).
fn cents(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

fn amount(value: Option<&Value>, field: &str) -> Result<Option<f64>, Value> {
    match fields::number(value, field)? {
        Some(n) if n.abs() > MAX_AMOUNT => Err(validation(field, "Please enter a smaller number")),
        other => Ok(other),
    }
}

fn quantity(value: Option<&Value>, field: &str) -> Result<i64, Value> {
    match fields::integer(value, field)? {
        None => Ok(1),
        Some(n) if n < 1 => Err(validation(field, "Please enter 1 or more")),
        Some(n) if n > MAX_QUANTITY => Err(validation(field, "Please enter a smaller number")),
        Some(n) => Ok(n),
    }
}

/// One option of an order line (the OrderItemOption model's fields).
#[derive(Debug)]
struct LineOption {
    attr_code: String,
    opt_code: String,
    value: String,
    price: f64,
    weight: f64,
}

/// An order line before it has ids.
#[derive(Debug)]
struct Line {
    product_id: u64,
    code: String,
    name: String,
    sku: String,
    price: f64,
    weight: f64,
    quantity: i64,
    taxable: bool,
    upsold: bool,
    tax: f64,
    options: Vec<LineOption>,
}

impl Line {
    /// Price of one unit with its options.
    fn unit_price(&self) -> f64 {
        self.price + self.options.iter().map(|o| o.price).sum::<f64>()
    }

    fn total_cents(&self) -> i64 {
        cents(self.unit_price() * self.quantity as f64)
    }

    fn tax_cents(&self) -> i64 {
        cents(self.tax * self.quantity as f64)
    }
}

/// An order charge before it has an id.
#[derive(Debug)]
struct Charge {
    kind: String,
    descrip: String,
    amount: f64,
    disp_amt: f64,
    tax_exempt: bool,
    tax: f64,
}

/// `Items[i].options`: `attr_code`, `opt_code`, `value`, `price`, `weight`.
fn read_options(value: Option<&Value>, path: &str) -> Result<Vec<LineOption>, Value> {
    let mut out = Vec::new();
    for (i, option) in fields::object_list(value, path)?.into_iter().enumerate() {
        let field = |name: &str| format!("{path}[{i}].{name}");
        out.push(LineOption {
            attr_code: fields::required_text(option.get("attr_code"), &field("attr_code"))?,
            opt_code: fields::text(option.get("opt_code"), &field("opt_code"))?.unwrap_or_default(),
            value: fields::text(option.get("value"), &field("value"))?.unwrap_or_default(),
            price: amount(option.get("price"), &field("price"))?.unwrap_or(0.0),
            weight: amount(option.get("weight"), &field("weight"))?.unwrap_or(0.0),
        });
    }
    Ok(out)
}

/// `Items`: custom lines, taken as given (`code` and `name` required).
fn read_items(store: &Store, params: &Map<String, Value>) -> Result<Vec<Line>, Value> {
    let mut out = Vec::new();
    for (i, item) in fields::object_list(params.get("Items"), "Items")?
        .into_iter()
        .enumerate()
    {
        let field = |name: &str| format!("Items[{i}].{name}");
        let code = fields::required_text(item.get("code"), &field("code"))?;
        out.push(Line {
            product_id: store
                .product_codes
                .get(&code.to_ascii_lowercase())
                .copied()
                .unwrap_or(0),
            name: fields::required_text(item.get("name"), &field("name"))?,
            sku: fields::text(item.get("sku"), &field("sku"))?.unwrap_or_default(),
            price: amount(item.get("price"), &field("price"))?.unwrap_or(0.0),
            weight: amount(item.get("weight"), &field("weight"))?.unwrap_or(0.0),
            quantity: quantity(item.get("quantity"), &field("quantity"))?,
            taxable: fields::boolean(item.get("taxable"), &field("taxable"))?.unwrap_or(false),
            upsold: fields::boolean(item.get("upsold"), &field("upsold"))?.unwrap_or(false),
            tax: amount(item.get("tax"), &field("tax"))?.unwrap_or(0.0),
            options: read_options(item.get("options"), &field("options"))?,
            code,
        });
    }
    Ok(out)
}

/// `Products`: lines of store products (by `code`, else `sku`), priced
/// from the product; `attributes` (`code`, `value`) become line options.
fn read_products(store: &Store, params: &Map<String, Value>) -> Result<Vec<Line>, Value> {
    let mut out = Vec::new();
    for (i, entry) in fields::object_list(params.get("Products"), "Products")?
        .into_iter()
        .enumerate()
    {
        let field = |name: &str| format!("Products[{i}].{name}");
        let code = fields::text(entry.get("code"), &field("code"))?.unwrap_or_default();
        let sku = fields::text(entry.get("sku"), &field("sku"))?.unwrap_or_default();
        let (code, sku) = (code.trim(), sku.trim());
        let found = if !code.is_empty() {
            store
                .product_codes
                .get(&code.to_ascii_lowercase())
                .copied()
                .ok_or_else(|| validation(&field("code"), format!("Product '{code}' not found")))?
        } else if !sku.is_empty() {
            store
                .products
                .iter()
                .find(|(_, r)| {
                    r.get("sku")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.eq_ignore_ascii_case(sku))
                })
                .map(|(id, _)| *id)
                .ok_or_else(|| validation(&field("sku"), format!("Product '{sku}' not found")))?
        } else {
            return Err(validation(&field("code"), "A value is required"));
        };
        let Some(product) = store.products.get(&found) else {
            return Err(validation(&field("code"), "Product not found"));
        };
        let path = field("attributes");
        let mut options = Vec::new();
        for (j, attribute) in fields::object_list(entry.get("attributes"), &path)?
            .into_iter()
            .enumerate()
        {
            let field = |name: &str| format!("{path}[{j}].{name}");
            options.push(LineOption {
                attr_code: fields::required_text(attribute.get("code"), &field("code"))?,
                opt_code: String::new(),
                value: fields::text(attribute.get("value"), &field("value"))?.unwrap_or_default(),
                price: 0.0,
                weight: 0.0,
            });
        }
        let text = |column: &str| {
            product
                .get(column)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        out.push(Line {
            product_id: found,
            code: text("code"),
            name: text("name"),
            sku: text("sku"),
            price: product.get("price").and_then(Value::as_f64).unwrap_or(0.0),
            weight: product.get("weight").and_then(Value::as_f64).unwrap_or(0.0),
            quantity: quantity(entry.get("quantity"), &field("quantity"))?,
            taxable: product.get("taxable") == Some(&Value::Bool(true)),
            upsold: false,
            tax: amount(entry.get("tax"), &field("tax"))?.unwrap_or(0.0),
            options,
        });
    }
    Ok(out)
}

/// `Charges`: `type` required; `descrip`, `amount`, `disp_amt` (default:
/// the amount), `tax_exempt`, `tax`.
fn read_charges(params: &Map<String, Value>) -> Result<Vec<Charge>, Value> {
    let mut out = Vec::new();
    for (i, charge) in fields::object_list(params.get("Charges"), "Charges")?
        .into_iter()
        .enumerate()
    {
        let field = |name: &str| format!("Charges[{i}].{name}");
        let amount_value = amount(charge.get("amount"), &field("amount"))?.unwrap_or(0.0);
        out.push(Charge {
            kind: fields::required_text(charge.get("type"), &field("type"))?,
            descrip: fields::text(charge.get("descrip"), &field("descrip"))?.unwrap_or_default(),
            disp_amt: amount(charge.get("disp_amt"), &field("disp_amt"))?.unwrap_or(amount_value),
            amount: amount_value,
            tax_exempt: fields::boolean(charge.get("tax_exempt"), &field("tax_exempt"))?
                .unwrap_or(false),
            tax: amount(charge.get("tax"), &field("tax"))?.unwrap_or(0.0),
        });
    }
    Ok(out)
}

/// Whether `field` is given (not absent, null, blank or 0).
fn given(params: &Map<String, Value>, field: &str) -> bool {
    match params.get(field) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !matches!(s.trim(), "" | "0"),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(_) => true,
    }
}

fn line_value(order_id: u64, line_id: u64, line: &Line) -> Value {
    let options: Vec<Value> = line
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            json!({
                "id": i + 1,
                "order_id": order_id,
                "line_id": line_id,
                "option_id": 0,
                "opt_code": o.opt_code,
                "attr_code": o.attr_code,
                "attr_id": 0,
                "attmpat_id": 0,
                "value": o.value,
                "weight": o.weight,
                "formatted_weight": formatted_weight(o.weight),
                "retail": o.price,
                "base_price": o.price,
                "price": o.price,
                "data": "",
                "data_long": "",
                "attr_prompt": o.attr_code,
                "opt_prompt": "",
                "discounts": [],
            })
        })
        .collect();
    let total = line.total_cents();
    let tax = line.tax_cents();
    json!({
        "order_id": order_id,
        "line_id": line_id,
        "status": 0,
        "subscrp_id": 0,
        "subterm_id": 0,
        "rma_id": 0,
        "rma_code": "",
        "rma_dt_issued": 0,
        "rma_dt_recvd": 0,
        "dt_instock": 0,
        "product_id": line.product_id,
        "group_id": 0,
        "code": line.code,
        "name": line.name,
        "sku": line.sku,
        "retail": line.price,
        "base_price": line.price,
        "price": line.price,
        "formatted_price": formatted_money(cents(line.price)),
        "total": money(total),
        "formatted_total": formatted_money(total),
        "tax": line.tax,
        "formatted_tax": formatted_money(tax),
        "weight": line.weight,
        "formatted_weight": formatted_weight(line.weight),
        "taxable": line.taxable,
        "upsold": line.upsold,
        "quantity": line.quantity,
        "options": options,
        "discounts": [],
    })
}

fn charge_value(order_id: u64, charge_id: u64, charge: &Charge) -> Value {
    json!({
        "order_id": order_id,
        "charge_id": charge_id,
        "module_id": 0,
        "type": charge.kind,
        "descrip": charge.descrip,
        "amount": charge.amount,
        "formatted_amount": formatted_money(cents(charge.amount)),
        "disp_amt": charge.disp_amt,
        "formatted_disp_amt": formatted_money(cents(charge.disp_amt)),
        "tax_exempt": charge.tax_exempt,
        "tax": charge.tax,
        "formatted_tax": formatted_money(cents(charge.tax)),
    })
}

/// `Order_Create`: a pending, unpaid order for a customer (`Customer_ID` or
/// `Customer_Login`; neither: a guest order) with `Items` (custom lines),
/// then `Products` (store products), and `Charges`. Addresses default to
/// the customer's. Returns the order with its items, charges and customer.
pub(super) fn create(data: &Data, params: &Map<String, Value>) -> Value {
    try_create(data, params).unwrap_or_else(|e| e)
}

fn try_create(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let now = data.clock.now_unix();
    let mut store = data.write();
    let customer_id = if given(params, "Customer_ID") || given(params, "Customer_Login") {
        Finder {
            what: "Customer",
            id_field: "Customer_ID",
            records: &store.customers,
            key_fields: &["Customer_Login"],
            index: &store.customer_logins,
        }
        .find(params)?
        .0
    } else {
        0
    };
    let customer = store.customers.get(&customer_id);
    let mut addresses = Vec::with_capacity(ADDRESS_FIELDS.len());
    for (field, column) in ADDRESS_FIELDS {
        let value = match fields::text(params.get(field), field)? {
            Some(value) => Value::from(value),
            None => customer
                .and_then(|c| c.get(column).cloned())
                .unwrap_or_else(|| Value::from("")),
        };
        addresses.push((column, value));
    }
    let ship_res = match fields::boolean(params.get("ShipResidential"), "ShipResidential")? {
        Some(res) => Value::from(res),
        None => customer
            .and_then(|c| c.get("ship_res").cloned())
            .unwrap_or(Value::Bool(false)),
    };
    let customer_text = |column: &str| {
        customer
            .and_then(|c| c.get(column).cloned())
            .unwrap_or_else(|| Value::from(""))
    };
    let (cust_login, cust_pw_email, business_title) = (
        customer_text("login"),
        customer_text("pw_email"),
        customer_text("business_title"),
    );
    let mut lines = read_items(&store, params)?;
    lines.extend(read_products(&store, params)?);
    let charges = read_charges(params)?;
    for flag in ["CalculateCharges", "TriggerFulfillmentModules"] {
        fields::boolean(params.get(flag), flag)?;
    }
    for field in ["Shipping_Module_Code", "Shipping_Module_Data"] {
        fields::text(params.get(field), field)?;
    }

    let id = NextIds::take(&mut store.next.order);
    let items: Vec<Value> = lines
        .iter()
        .map(|line| line_value(id, NextIds::take(&mut store.next.line), line))
        .collect();
    let charge_values: Vec<Value> = charges
        .iter()
        .map(|charge| charge_value(id, NextIds::take(&mut store.next.charge), charge))
        .collect();
    let sum = |values: &mut dyn Iterator<Item = i64>| values.fold(0i64, i64::saturating_add);
    let subtotal = sum(&mut lines.iter().map(Line::total_cents));
    let item_tax = sum(&mut lines.iter().map(Line::tax_cents));
    let charged = |kind: &str| {
        sum(&mut charges
            .iter()
            .filter(|c| c.kind.eq_ignore_ascii_case(kind))
            .map(|c| cents(c.amount)))
    };
    let all_charges = sum(&mut charges.iter().map(|c| cents(c.amount)));
    let total = subtotal
        .saturating_add(item_tax)
        .saturating_add(all_charges);
    let total_tax = item_tax.saturating_add(charged("TAX"));
    let total_ship = charged("SHIPPING");

    let mut record = Record::from_pairs(vec![
        ("id", Value::from(id)),
        ("pay_id", Value::from(0)),
        ("batch_id", Value::from(0)),
        ("status", Value::from(0)),
        ("pay_status", Value::from(0)),
        ("stk_status", Value::from(0)),
        ("orderdate", Value::from(now)),
        ("dt_instock", Value::from(0)),
        ("cust_id", Value::from(customer_id)),
        ("ship_res", ship_res),
    ]);
    for (column, value) in addresses {
        record.insert(column, value);
    }
    let money_pairs = [
        ("total", "formatted_total", total),
        ("total_ship", "formatted_total_ship", total_ship),
        ("total_tax", "formatted_total_tax", total_tax),
        ("total_auth", "formatted_total_auth", 0),
        ("total_capt", "formatted_total_capt", 0),
        ("total_rfnd", "formatted_total_rfnd", 0),
        ("net_capt", "formatted_net_capt", 0),
    ];
    for (column, formatted, value) in money_pairs {
        record.insert(column, money(value));
        record.insert(formatted, Value::from(formatted_money(value)));
    }
    for (column, value) in [
        ("ship_id", Value::from(0)),
        ("ship_data", Value::from("")),
        ("source", Value::from("")),
        ("source_id", Value::from(0)),
        ("pend_count", Value::from(0)),
        ("bord_count", Value::from(0)),
        ("note_count", Value::from(0)),
        ("ship_method", Value::from("")),
        ("cust_login", cust_login),
        ("cust_pw_email", cust_pw_email),
        ("business_title", business_title),
        ("payment_module", Value::from("")),
        ("items", Value::Array(items)),
        ("charges", Value::Array(charge_values)),
        ("coupons", json!([])),
        ("discounts", json!([])),
        ("payments", json!([])),
        ("notes", json!([])),
        ("parts", json!([])),
        ("shipments", json!([])),
        ("returns", json!([])),
        ("payment_data", json!({})),
    ] {
        record.insert(column, value);
    }

    let mut out = query::base_columns(&record, &ORDERS);
    if let Value::Object(map) = &mut out {
        for column in CREATED_EXTRA {
            if let Some(value) = record.get(column) {
                map.insert(column.to_owned(), value.clone());
            }
        }
        if let Some(customer) = store.customers.get(&customer_id) {
            map.insert(
                "customer".to_owned(),
                query::base_columns(customer, &CUSTOMERS),
            );
        }
    }
    store.orders.insert(id, record);
    store.refresh_customer_totals(customer_id);
    store.version += 1;
    Ok(response::ok(out))
}

/// `Order_Delete`, by `Order_ID`. Updates the customer's order totals.
pub(super) fn delete(data: &Data, params: &Map<String, Value>) -> Value {
    try_delete(data, params).unwrap_or_else(|e| e)
}

fn try_delete(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let id = match fields::integer(params.get("Order_ID"), "Order_ID")? {
        Some(id) if id > 0 => u64::try_from(id).unwrap_or(0),
        _ => return Err(validation("Order_ID", "A value is required")),
    };
    let mut store = data.write();
    let record = store
        .orders
        .remove(&id)
        .ok_or_else(|| validation("Order_ID", "Order not found"))?;
    let customer = record.get("cust_id").and_then(Value::as_u64).unwrap_or(0);
    store.refresh_customer_totals(customer);
    store.version += 1;
    Ok(response::ok_empty())
}
