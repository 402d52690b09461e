//! `Customer_Insert`, `Customer_Update` and `Customer_Delete`.

use serde_json::{Map, Value};

use super::fields::{self, Finder};
use super::{CUSTOMERS, Data};
use crate::query;
use crate::response::{self, validation};
use crate::store::{self, NextIds, Record, Store, key_of};

/// The address fields of the requests and the columns they set.
const ADDRESS_FIELDS: [(&str, &str); 24] = [
    ("Customer_ShipFirstName", "ship_fname"),
    ("Customer_ShipLastName", "ship_lname"),
    ("Customer_ShipEmail", "ship_email"),
    ("Customer_ShipCompany", "ship_comp"),
    ("Customer_ShipPhone", "ship_phone"),
    ("Customer_ShipFax", "ship_fax"),
    ("Customer_ShipAddress1", "ship_addr1"),
    ("Customer_ShipAddress2", "ship_addr2"),
    ("Customer_ShipCity", "ship_city"),
    ("Customer_ShipState", "ship_state"),
    ("Customer_ShipZip", "ship_zip"),
    ("Customer_ShipCountry", "ship_cntry"),
    ("Customer_BillFirstName", "bill_fname"),
    ("Customer_BillLastName", "bill_lname"),
    ("Customer_BillEmail", "bill_email"),
    ("Customer_BillCompany", "bill_comp"),
    ("Customer_BillPhone", "bill_phone"),
    ("Customer_BillFax", "bill_fax"),
    ("Customer_BillAddress1", "bill_addr1"),
    ("Customer_BillAddress2", "bill_addr2"),
    ("Customer_BillCity", "bill_city"),
    ("Customer_BillState", "bill_state"),
    ("Customer_BillZip", "bill_zip"),
    ("Customer_BillCountry", "bill_cntry"),
];

/// Finds a customer by `Customer_ID`, `Edit_Customer` or `Customer_Login`.
fn finder(store: &Store) -> Finder<'_> {
    Finder {
        what: "Customer",
        id_field: "Customer_ID",
        records: &store.customers,
        key_fields: &["Edit_Customer", "Customer_Login"],
        index: &store.customer_logins,
    }
}

/// A valid `Customer_PasswordEmail`, trimmed.
fn password_email(value: Option<&Value>) -> Result<Option<String>, Value> {
    let field = "Customer_PasswordEmail";
    match fields::text(value, field)? {
        None => Ok(None),
        Some(email) => {
            let email = email.trim();
            if email.is_empty() {
                return Err(validation(field, "A value is required"));
            }
            fields::check_email(field, email)?;
            Ok(Some(email.to_owned()))
        }
    }
}

/// Reads the optional customer fields (not login or password) into
/// `record`. Reads everything before the caller commits.
fn apply_fields(record: &mut Record, params: &Map<String, Value>) -> Result<(), Value> {
    if let Some(email) = password_email(params.get("Customer_PasswordEmail"))? {
        record.insert("pw_email", Value::from(email));
    }
    for (field, column) in ADDRESS_FIELDS {
        if let Some(value) = fields::text(params.get(field), field)? {
            if column.ends_with("_email") && !value.trim().is_empty() {
                fields::check_email(field, value.trim())?;
            }
            record.insert(column, Value::from(value));
        }
    }
    let residential = "Customer_ShipResidential";
    if let Some(res) = fields::boolean(params.get(residential), residential)? {
        record.insert("ship_res", Value::from(res));
    }
    if let Some(exempt) = fields::boolean(params.get("Customer_Tax_Exempt"), "Customer_Tax_Exempt")?
    {
        record.insert("tax_exempt", Value::from(exempt));
    }
    let business = "Customer_BusinessAccount";
    if let Some(title) = fields::text(params.get(business), business)? {
        record.insert("business_title", Value::from(title.trim()));
    }
    Ok(())
}

/// `Customer_Insert`: returns the customer. `Customer_Login` (unique,
/// case-insensitively), `Customer_PasswordEmail` (an email address) and
/// `Customer_Password` are required; the password is checked, not kept.
pub(super) fn insert(data: &Data, params: &Map<String, Value>) -> Value {
    try_insert(data, params).unwrap_or_else(|e| e)
}

fn try_insert(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let login = fields::required_text(params.get("Customer_Login"), "Customer_Login")?;
    let email = password_email(params.get("Customer_PasswordEmail"))?
        .ok_or_else(|| validation("Customer_PasswordEmail", "A value is required"))?;
    fields::required_text(params.get("Customer_Password"), "Customer_Password")?;
    let now = data.clock.now_unix();
    let mut store = data.write();
    let key = login.to_lowercase();
    if store.customer_logins.contains_key(&key) {
        return Err(validation(
            "Customer_Login",
            format!("A customer with login '{login}' already exists"),
        ));
    }
    let mut record = store::blank_customer(0, now);
    record.insert("login", Value::from(login));
    record.insert("pw_email", Value::from(email));
    apply_fields(&mut record, params)?;
    let id = NextIds::take(&mut store.next.customer);
    record.insert("id", Value::from(id));
    record.insert("ship_id", Value::from(id));
    record.insert("bill_id", Value::from(id));
    let out = query::base_columns(&record, &CUSTOMERS);
    store.customer_logins.insert(key, id);
    store.customers.insert(id, record);
    store.version += 1;
    Ok(response::ok(out))
}

/// `Customer_Update`, by `Customer_ID`, `Edit_Customer` or
/// `Customer_Login`; `Customer_Login` renames when another identifier is
/// used. A non-empty `Customer_Password` sets `dt_pwchg`.
pub(super) fn update(data: &Data, params: &Map<String, Value>) -> Value {
    try_update(data, params).unwrap_or_else(|e| e)
}

fn try_update(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let now = data.clock.now_unix();
    let mut store = data.write();
    let (id, by) = finder(&store).find(params)?;
    let mut record = store
        .customers
        .get(&id)
        .cloned()
        .ok_or_else(|| validation("Customer_ID", "Customer not found"))?;
    let old_key = key_of(&record, "login");
    let mut new_login = None;
    if by != "Customer_Login"
        && let Some(login) = fields::text(params.get("Customer_Login"), "Customer_Login")?
    {
        let login = login.trim().to_owned();
        if login.is_empty() {
            return Err(validation("Customer_Login", "A value is required"));
        }
        if store
            .customer_logins
            .get(&login.to_lowercase())
            .is_some_and(|other| *other != id)
        {
            return Err(validation(
                "Customer_Login",
                format!("A customer with login '{login}' already exists"),
            ));
        }
        record.insert("login", Value::from(login.as_str()));
        new_login = Some(login);
    }
    apply_fields(&mut record, params)?;
    if fields::text(params.get("Customer_Password"), "Customer_Password")?
        .is_some_and(|p| !p.is_empty())
    {
        record.insert("dt_pwchg", Value::from(now));
    }
    let login = record.get("login").cloned().unwrap_or(Value::Null);
    let email = record.get("pw_email").cloned().unwrap_or(Value::Null);
    store.customers.insert(id, record);
    if let Some(login) = new_login {
        store.customer_logins.remove(&old_key);
        store.customer_logins.insert(login.to_lowercase(), id);
    }
    // Orders show their customer's current login and email.
    for order in store.orders.values_mut() {
        if order.get("cust_id").and_then(Value::as_u64) == Some(id) {
            order.insert("cust_login", login.clone());
            order.insert("cust_pw_email", email.clone());
        }
    }
    store.version += 1;
    Ok(response::ok_empty())
}

/// `Customer_Delete`, by `Customer_ID`, `Customer_Login` or
/// `Edit_Customer`. The customer's orders stay (with their `cust_id`).
pub(super) fn delete(data: &Data, params: &Map<String, Value>) -> Value {
    try_delete(data, params).unwrap_or_else(|e| e)
}

fn try_delete(data: &Data, params: &Map<String, Value>) -> Result<Value, Value> {
    let mut store = data.write();
    let finder = Finder {
        key_fields: &["Customer_Login", "Edit_Customer"],
        ..finder(&store)
    };
    let (id, _) = finder.find(params)?;
    if let Some(record) = store.customers.remove(&id) {
        store.customer_logins.remove(&key_of(&record, "login"));
    }
    store.version += 1;
    Ok(response::ok_empty())
}
