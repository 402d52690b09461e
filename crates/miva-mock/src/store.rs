//! The in-memory store and its deterministic seed data.
//!
//! Records are JSON objects holding every stored column (base and
//! on-demand); list functions pick the columns to return.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::record::record;

use crate::config::Seed;

pub(crate) use crate::record::Record;

/// First second of the seeded data's timestamps (2023-11-14T22:13:20Z);
/// seeded records do not depend on the clock.
const SEED_EPOCH: i64 = 1_700_000_000;

/// Everything the store holds.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) stores: BTreeMap<u64, Record>,
    pub(crate) products: BTreeMap<u64, Record>,
    /// Lower-cased product code to id.
    pub(crate) product_codes: HashMap<String, u64>,
    /// Product id to the ids of its categories, ascending.
    pub(crate) product_categories: HashMap<u64, Vec<u64>>,
    pub(crate) categories: BTreeMap<u64, Record>,
    /// Lower-cased category code to id.
    pub(crate) category_codes: HashMap<String, u64>,
    pub(crate) customers: BTreeMap<u64, Record>,
    /// Lower-cased customer login to id.
    pub(crate) customer_logins: HashMap<String, u64>,
    pub(crate) orders: BTreeMap<u64, Record>,
    pub(crate) coupons: BTreeMap<u64, Record>,
    /// Lower-cased coupon code to id.
    pub(crate) coupon_codes: HashMap<String, u64>,
    /// Coupon id to the ids of the price groups it unlocks, ascending.
    pub(crate) coupon_price_groups: HashMap<u64, Vec<u64>>,
    pub(crate) price_groups: BTreeMap<u64, Record>,
    /// Lower-cased price group name to id.
    pub(crate) price_group_names: HashMap<String, u64>,
    /// The discount modules a price group can use (fixed).
    pub(crate) discount_modules: BTreeMap<u64, Record>,
    /// Bumped by every write, to invalidate cached sort orders.
    pub(crate) version: u64,
    /// The next id of every table (ids are never reused).
    pub(crate) next: NextIds,
}

/// The next id to give out, per table.
#[derive(Debug, Default)]
pub(crate) struct NextIds {
    pub(crate) product: u64,
    pub(crate) category: u64,
    pub(crate) customer: u64,
    pub(crate) order: u64,
    /// Order item `line_id`s.
    pub(crate) line: u64,
    /// Order charge `charge_id`s.
    pub(crate) charge: u64,
    pub(crate) coupon: u64,
    pub(crate) price_group: u64,
}

impl NextIds {
    /// Takes the id in `slot` and advances it.
    pub(crate) fn take(slot: &mut u64) -> u64 {
        let id = *slot;
        *slot += 1;
        id
    }
}

impl Store {
    /// The seeded store. A pure function of its arguments.
    pub(crate) fn seeded(store_code: &str, seed: &Seed) -> Self {
        let mut store = Self {
            stores: BTreeMap::new(),
            products: BTreeMap::new(),
            product_codes: HashMap::new(),
            product_categories: HashMap::new(),
            categories: BTreeMap::new(),
            category_codes: HashMap::new(),
            customers: BTreeMap::new(),
            customer_logins: HashMap::new(),
            orders: BTreeMap::new(),
            coupons: BTreeMap::new(),
            coupon_codes: HashMap::new(),
            coupon_price_groups: HashMap::new(),
            price_groups: BTreeMap::new(),
            price_group_names: HashMap::new(),
            discount_modules: BTreeMap::new(),
            version: 0,
            next: NextIds::default(),
        };
        store.stores.insert(1, store_record(store_code));
        for id in 1..=seed.categories as u64 {
            let record = category_record(id);
            store.category_codes.insert(code_key(&record), id);
            store.categories.insert(id, record);
        }
        let ncat = seed.categories as u64;
        for id in 1..=seed.products as u64 {
            let mut record = product_record(id);
            let cats = seeded_categories(id, ncat);
            record.insert("catcount", Value::from(cats.len()));
            if let Some(first) = cats.first().and_then(|c| store.categories.get(c)) {
                record.insert("cancat_code", first["code"].clone());
            }
            if !cats.is_empty() {
                store.product_categories.insert(id, cats);
            }
            store.product_codes.insert(code_key(&record), id);
            store.products.insert(id, record);
        }
        for id in 1..=seed.customers as u64 {
            let record = customer_record(id);
            store.customer_logins.insert(key_of(&record, "login"), id);
            store.customers.insert(id, record);
        }
        for n in 1..=seed.orders as u64 {
            let id = 1000 + n;
            let record = order_record(id, n, seed, &store.products, &store.customers);
            store.orders.insert(id, record);
        }
        store.update_customer_totals();
        for (i, (code, name, _)) in DISCOUNT_MODULES.iter().enumerate() {
            let id = i as u64 + 1;
            store
                .discount_modules
                .insert(id, discount_module_record(id, code, name));
        }
        for id in 1..=seed.price_groups as u64 {
            let record = price_group_record(id, &store.discount_modules);
            store.price_group_names.insert(key_of(&record, "name"), id);
            store.price_groups.insert(id, record);
        }
        let npg = seed.price_groups as u64;
        for id in 1..=seed.coupons as u64 {
            let record = coupon_record(id);
            store.coupon_codes.insert(code_key(&record), id);
            store.coupons.insert(id, record);
            if npg > 0 && !id.is_multiple_of(4) {
                store
                    .coupon_price_groups
                    .insert(id, vec![(id - 1) % npg + 1]);
            }
        }
        let orders = seed.orders as u64;
        store.next = NextIds {
            product: seed.products as u64 + 1,
            category: ncat + 1,
            customer: seed.customers as u64 + 1,
            order: 1001 + orders,
            // Seeded line and charge ids are below (orders + 1) * 10.
            line: (orders + 1) * 10,
            charge: (orders + 1) * 10,
            coupon: seed.coupons as u64 + 1,
            price_group: npg + 1,
        };
        store
    }

    /// Takes the next product id.
    pub(crate) fn allocate_product_id(&mut self) -> u64 {
        NextIds::take(&mut self.next.product)
    }

    /// The codes of a product's categories, in category id order.
    pub(crate) fn product_category_codes(&self, product_id: u64) -> Vec<Value> {
        self.product_categories
            .get(&product_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| self.categories.get(id))
                    .map(|c| c.get("code").cloned().unwrap_or(Value::Null))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn update_customer_totals(&mut self) {
        let mut totals: HashMap<u64, (u64, i64)> = HashMap::new();
        for order in self.orders.values() {
            let cust = order.get("cust_id").and_then(Value::as_u64).unwrap_or(0);
            let entry = totals.entry(cust).or_default();
            entry.0 += 1;
            entry.1 = entry.1.saturating_add(order_cents(order));
        }
        for (id, customer) in &mut self.customers {
            let (count, cents) = totals.get(id).copied().unwrap_or_default();
            set_order_totals(customer, count, cents);
        }
    }

    /// Recomputes one customer's `order_cnt`, `order_tot` and `order_avg`
    /// from the orders (after an order was created or deleted).
    pub(crate) fn refresh_customer_totals(&mut self, customer_id: u64) {
        if customer_id == 0 || !self.customers.contains_key(&customer_id) {
            return;
        }
        let (mut count, mut cents) = (0u64, 0i64);
        for order in self.orders.values() {
            if order.get("cust_id").and_then(Value::as_u64) == Some(customer_id) {
                count += 1;
                cents = cents.saturating_add(order_cents(order));
            }
        }
        if let Some(customer) = self.customers.get_mut(&customer_id) {
            set_order_totals(customer, count, cents);
        }
    }
}

fn order_cents(order: &Record) -> i64 {
    order
        .get("total")
        .and_then(Value::as_f64)
        .map_or(0, |t| (t * 100.0).round() as i64)
}

fn set_order_totals(customer: &mut Record, count: u64, cents: i64) {
    let avg = if count == 0 { 0 } else { cents / count as i64 };
    customer.insert("order_cnt", Value::from(count));
    customer.insert("order_tot", money(cents));
    customer.insert("formatted_order_tot", formatted_money(cents).into());
    customer.insert("order_avg", money(avg));
    customer.insert("formatted_order_avg", formatted_money(avg).into());
}

/// The lower-cased `code` of a record, the key of the code indexes.
pub(crate) fn code_key(record: &Record) -> String {
    key_of(record, "code")
}

/// The lower-cased text of a record's `column` (`code`, `login`, `name`):
/// the key of the unique indexes, which compare case-insensitively.
pub(crate) fn key_of(record: &Record, column: &str) -> String {
    record
        .get(column)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase()
}

/// A well-mixed 64-bit hash (SplitMix64's finalizer) of `id` and `salt`:
/// the seed data's only source of variety.
fn mix(id: u64, salt: u64) -> u64 {
    let mut z = id
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(items: &[&'a str], id: u64, salt: u64) -> &'a str {
    items[(mix(id, salt) % items.len() as u64) as usize]
}

/// Cents as a JSON number with two decimals (`1234` -> `12.34`).
pub(crate) fn money(cents: i64) -> Value {
    Value::from(cents as f64 / 100.0)
}

/// Cents as the store formats them: `$1,234.56`, `-$5.00`.
pub(crate) fn formatted_money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// A weight as the store formats it: `1.50 lb`.
pub(crate) fn formatted_weight(weight: f64) -> String {
    format!("{weight:.2} lb")
}

const ADJECTIVES: [&str; 16] = [
    "Red", "Blue", "Green", "Black", "White", "Silver", "Golden", "Classic", "Deluxe", "Compact",
    "Rugged", "Organic", "Vintage", "Modern", "Travel", "Premium",
];
const NOUNS: [&str; 16] = [
    "Widget", "Gadget", "Mug", "Backpack", "Lamp", "Notebook", "Bottle", "Jacket", "Speaker",
    "Blanket", "Candle", "Wallet", "Scarf", "Kettle", "Planter", "Clock",
];
const FIRST_NAMES: [&str; 16] = [
    "Ada", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kira",
    "Luca", "Maya", "Noah", "Olga", "Priya",
];
const LAST_NAMES: [&str; 16] = [
    "Smith",
    "Garcia",
    "Chen",
    "Okafor",
    "Müller",
    "Rossi",
    "Kowalski",
    "Silva",
    "Nguyen",
    "Haddad",
    "Johansson",
    "Tanaka",
    "Dubois",
    "Novak",
    "O'Brien",
    "Patel",
];
const CITIES: [(&str, &str, &str); 8] = [
    ("Escondido", "CA", "92025"),
    ("Austin", "TX", "73301"),
    ("Portland", "OR", "97201"),
    ("Denver", "CO", "80202"),
    ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"),
    ("Boston", "MA", "02108"),
    ("Tampa", "FL", "33602"),
];
const CATEGORY_NAMES: [&str; 12] = [
    "Home", "Kitchen", "Outdoor", "Office", "Travel", "Apparel", "Audio", "Garden", "Gifts",
    "Lighting", "Bath", "Sale",
];

fn store_record(code: &str) -> Record {
    record! {
        "id": 1,
        "code": code,
        "name": "Mock Store",
        "license": "MOCK-0000-0000-0000",
        "owner": "Mock Owner",
        "email": "owner@example.com",
        "company": "Mock Merchant Inc.",
        "address": "16870 W Bernardo Dr",
        "city": "San Diego",
        "state": "CA",
        "zip": "92127",
        "phone": "858-555-0100",
        "fax": "858-555-0101",
        "country": "US",
        "icon": "",
        "manager_id": 1,
        "branch_id": 1,
        "charset": "utf-8",
        "currncy_id": 1,
        "tax_id": 1,
        "wtunits": "LB",
        "wtunitcode": "LB",
        "dmunitcode": "IN",
        "baskexp": 60,
        "trackhits": false,
        "req_ship": true,
        "req_tax": false,
        "req_frship": false,
        "omin_quant": 0,
        "omin_price": 0.0,
        "omin_all": false,
        "omin_msg": "",
        "mnt_warn": "",
        "mnt_close": "",
        "mnt_time": 0,
        "mnt_no_new": 0,
        "mnt_ips": "",
    }
}

fn category_record(id: u64) -> Record {
    let top = id <= 6;
    let parent_id = if top { 0 } else { (id - 1) % 6 + 1 };
    let base = CATEGORY_NAMES[((id - 1) % CATEGORY_NAMES.len() as u64) as usize];
    let name = if id as usize <= CATEGORY_NAMES.len() {
        base.to_owned()
    } else {
        format!("{base} {id}")
    };
    let code = format!("CAT{id:03}");
    let parent_code = if top {
        String::new()
    } else {
        format!("CAT{parent_id:03}")
    };
    let created = SEED_EPOCH + id as i64 * 600;
    record! {
        "id": id,
        "parent_id": parent_id,
        "agrpcount": 0,
        "depth": if top { 1 } else { 2 },
        "disp_order": id,
        "page_id": 0,
        "code": code,
        "name": name,
        "page_title": format!("{name} | Mock Store"),
        "active": !id.is_multiple_of(9),
        "dt_created": created,
        "dt_updated": created + 86_400,
        "page_code": "CTGY",
        "parent_category": parent_code,
        "uris": json!([]),
        "url": format!("https://www.example.com/category/{}.html", code.to_ascii_lowercase()),
    }
}

/// The categories of seeded product `id`: none for every tenth product
/// (so `Product_Show: Uncategorized` finds some), two for every third.
fn seeded_categories(id: u64, ncat: u64) -> Vec<u64> {
    if ncat == 0 || id.is_multiple_of(10) {
        return Vec::new();
    }
    let first = (id - 1) % ncat + 1;
    let mut cats = vec![first];
    if id.is_multiple_of(3) && ncat > 1 {
        let second = (first + ncat / 2 - 1) % ncat + 1;
        if second != first {
            cats.push(second);
        }
    }
    cats.sort_unstable();
    cats
}

fn product_record(id: u64) -> Record {
    let h = mix(id, 1);
    let code = format!("P{id:06}");
    let name = format!("{} {} {id}", pick(&ADJECTIVES, id, 2), pick(&NOUNS, id, 3));
    let price_cents = 100 + (h % 99_900) as i64;
    let cost_cents = price_cents * 6 / 10;
    let weight = ((h >> 20) % 500) as f64 / 10.0;
    let created = SEED_EPOCH + id as i64 * 60;
    let updated = created + ((h >> 40) % 30) as i64 * 86_400;
    let folder = format!("graphics/{:08}", id);
    record! {
        "id": id,
        "code": code,
        "sku": format!("SKU-{id:06}"),
        "name": name,
        "thumbnail": format!("{folder}/{code}_thumb.jpg"),
        "image": format!("{folder}/{code}.jpg"),
        "price": money(price_cents),
        "formatted_price": formatted_money(price_cents),
        "cost": money(cost_cents),
        "formatted_cost": formatted_money(cost_cents),
        "weight": weight,
        "formatted_weight": formatted_weight(weight),
        "active": !id.is_multiple_of(7),
        "page_title": format!("{name} | Mock Store"),
        "taxable": !id.is_multiple_of(4),
        "dt_created": created,
        "dt_updated": updated,
        "disp_order": id,
        "catcount": 0,
        // On-demand columns.
        "descrip": format!(
            "<p>The {name} ({code}) is a deterministic mock product. \
             Weight {weight:.1} lb, made for tests.</p>"
        ),
        "cancat_code": "",
        "page_code": "",
        "product_inventory": ((h >> 10) % 250) as i64,
        "product_inventory_active": true,
        "productinventorysettings": inventory_settings(),
        "url": format!("https://www.example.com/product/{}.html", code.to_ascii_lowercase()),
        "uris": json!([]),
        "attributes": json!([]),
        "productimagedata": json!([]),
        "relatedproducts": json!([]),
        "subscriptionterms": json!([]),
    }
}

/// A fresh product record with the columns every product has, for inserts.
pub(crate) fn blank_product(id: u64, now: i64) -> Record {
    record! {
        "id": id,
        "code": "",
        "sku": "",
        "name": "",
        "thumbnail": "",
        "image": "",
        "price": 0.0,
        "formatted_price": formatted_money(0),
        "cost": 0.0,
        "formatted_cost": formatted_money(0),
        "weight": 0.0,
        "formatted_weight": formatted_weight(0.0),
        "active": true,
        "page_title": "",
        "taxable": true,
        "dt_created": now,
        "dt_updated": now,
        "disp_order": id,
        "catcount": 0,
        "descrip": "",
        "cancat_code": "",
        "page_code": "",
        "product_inventory": 0,
        "product_inventory_active": true,
        "productinventorysettings": inventory_settings(),
        "url": "",
        "uris": json!([]),
        "attributes": json!([]),
        "productimagedata": json!([]),
        "relatedproducts": json!([]),
        "subscriptionterms": json!([]),
    }
}

/// A product's inventory settings as a store starts them: tracked, every
/// level and message the store default.
pub(crate) fn inventory_settings() -> Value {
    json!({
        "active": true,
        "in_short": "",
        "in_long": "",
        "low_track": "Default",
        "low_level": 0,
        "low_lvl_d": true,
        "low_short": "",
        "low_long": "",
        "out_track": "Default",
        "out_hide": "Default",
        "out_level": 0,
        "out_lvl_d": true,
        "out_short": "",
        "out_long": "",
        "ltd_long": "",
    })
}

/// A fresh category record with the columns every category has, for inserts.
pub(crate) fn blank_category(id: u64, now: i64) -> Record {
    record! {
        "id": id,
        "parent_id": 0,
        "agrpcount": 0,
        "depth": 1,
        "disp_order": id,
        "page_id": 0,
        "code": "",
        "name": "",
        "page_title": "",
        "active": true,
        "dt_created": now,
        "dt_updated": now,
        "page_code": "",
        "parent_category": "",
        "uris": json!([]),
        "url": "",
    }
}

/// A fresh customer record with the columns every customer has, for inserts.
pub(crate) fn blank_customer(id: u64, now: i64) -> Record {
    let mut record = record! {
        "id": id,
        "account_id": 0,
        "login": "",
        "pw_email": "",
        "ship_id": id,
        "ship_res": false,
    };
    for column in [
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
    ] {
        record.insert(column, Value::from(""));
    }
    record.insert("bill_id", Value::from(id));
    for column in [
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
    ] {
        record.insert(column, Value::from(""));
    }
    record.insert("tax_exempt", Value::Bool(false));
    set_order_totals(&mut record, 0, 0);
    for (column, value) in [
        ("note_count", Value::from(0)),
        ("dt_created", Value::from(now)),
        ("dt_login", Value::from(0)),
        ("dt_pwchg", Value::from(now)),
        ("credit", money(0)),
        ("formatted_credit", Value::from(formatted_money(0))),
        ("business_title", Value::from("")),
    ] {
        record.insert(column, value);
    }
    record
}

/// The discount modules of the mock: code, name and capabilities
/// (`preitems`, `items`, `basket`, `shipping`, `qualifying`).
pub(crate) const DISCOUNT_MODULES: [(&str, &str, [bool; 5]); 4] = [
    (
        "discount_basket",
        "Basket Discount",
        [false, false, true, false, true],
    ),
    (
        "discount_product",
        "Product Discount",
        [true, true, false, false, true],
    ),
    (
        "discount_shipping",
        "Shipping Discount",
        [false, false, false, true, true],
    ),
    (
        "discount_volume",
        "Volume Pricing",
        [true, true, false, false, false],
    ),
];

fn discount_module_record(id: u64, code: &str, name: &str) -> Record {
    record! {
        "id": id,
        "code": code,
        "name": name,
        "provider": "Miva, Inc.",
        "api_ver": "10.00",
        "version": "10.00",
        "module": format!("modules/discount/{code}.mvc"),
        "refcount": 0,
        "active": true,
        "priority": 0,
    }
}

/// The `module` object of a price group: the Module model's fields.
pub(crate) fn module_value(module: &Record) -> Value {
    let mut out = serde_json::Map::new();
    for column in [
        "id", "code", "name", "provider", "api_ver", "version", "module", "refcount", "active",
        "priority",
    ] {
        if let Some(value) = module.get(column) {
            out.insert(column.to_owned(), value.clone());
        }
    }
    Value::Object(out)
}

/// The `capabilities` object of a price group using discount module `code`.
pub(crate) fn module_capabilities(code: &str) -> Value {
    let flags = DISCOUNT_MODULES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or([false; 5], |(_, _, flags)| *flags);
    json!({
        "preitems": flags[0],
        "items": flags[1],
        "basket": flags[2],
        "shipping": flags[3],
        "qualifying": flags[4],
    })
}

/// A fresh price group record (no module yet), for inserts.
pub(crate) fn blank_price_group(id: u64) -> Record {
    record! {
        "id": id,
        "name": "",
        "custscope": "A",
        "rate": "D",
        "discount": 0.0,
        "markup": 0.0,
        "dt_start": 0,
        "dt_end": 0,
        "qmn_subtot": 0.0,
        "qmx_subtot": 0.0,
        "qmn_quan": 0,
        "qmx_quan": 0,
        "qmn_weight": 0.0,
        "qmx_weight": 0.0,
        "bmn_subtot": 0.0,
        "bmx_subtot": 0.0,
        "bmn_quan": 0,
        "bmx_quan": 0,
        "bmn_weight": 0.0,
        "bmx_weight": 0.0,
        "priority": 0,
        "module": Value::Null,
        "capabilities": Value::Null,
        "exclusion": false,
        "descrip": "",
        "display": false,
        // Searchable columns the model does not return.
        "module_id": 0,
        "type": "",
    }
}

/// Sets a price group's discount module (`module_id`, `module`,
/// `capabilities`).
pub(crate) fn set_price_group_module(record: &mut Record, module: &Record) {
    let id = module.get("id").cloned().unwrap_or(Value::Null);
    let code = module
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    record.insert("module_id", id);
    record.insert("capabilities", module_capabilities(code));
    record.insert("module", module_value(module));
}

const PRICE_GROUP_NAMES: [&str; 8] = [
    "Wholesale",
    "VIP",
    "Employees",
    "Clearance",
    "Holiday Sale",
    "Loyalty",
    "Bulk Buyers",
    "First Order",
];

fn price_group_record(id: u64, modules: &BTreeMap<u64, Record>) -> Record {
    let base = PRICE_GROUP_NAMES[((id - 1) % PRICE_GROUP_NAMES.len() as u64) as usize];
    let name = if id as usize <= PRICE_GROUP_NAMES.len() {
        base.to_owned()
    } else {
        format!("{base} {id}")
    };
    let mut record = blank_price_group(id);
    let start = SEED_EPOCH + id as i64 * 86_400;
    let pairs = [
        ("name", Value::from(name.as_str())),
        (
            "custscope",
            Value::from(pick(&["A", "X", "L", "C"], id, 51)),
        ),
        ("rate", Value::from(pick(&["R", "C", "D", "M"], id, 52))),
        ("discount", Value::from((5 * (1 + mix(id, 53) % 6)) as f64)),
        (
            "markup",
            Value::from(if id.is_multiple_of(4) { 10.0 } else { 0.0 }),
        ),
        ("dt_start", Value::from(start)),
        (
            "dt_end",
            Value::from(if id.is_multiple_of(3) {
                0
            } else {
                start + 90 * 86_400
            }),
        ),
        (
            "qmn_subtot",
            Value::from(if id.is_multiple_of(2) { 50.0 } else { 0.0 }),
        ),
        ("bmn_quan", Value::from(if id == 2 { 3 } else { 0 })),
        ("priority", Value::from(id)),
        ("exclusion", Value::from(id.is_multiple_of(3))),
        (
            "descrip",
            Value::from(format!("{name}: a deterministic mock price group")),
        ),
        ("display", Value::from(!id.is_multiple_of(2))),
    ];
    for (column, value) in pairs {
        record.insert(column, value);
    }
    let module_id = (id - 1) % modules.len().max(1) as u64 + 1;
    if let Some(module) = modules.get(&module_id) {
        set_price_group_module(&mut record, module);
    }
    record
}

/// A fresh coupon record, for inserts.
pub(crate) fn blank_coupon(id: u64) -> Record {
    record! {
        "id": id,
        "code": "",
        "descrip": "",
        "custscope": "A",
        "dt_start": 0,
        "dt_end": 0,
        "max_use": 0,
        "max_per": 0,
        "active": true,
        "use_count": 0,
    }
}

fn coupon_record(id: u64) -> Record {
    let percent = 5 * (1 + mix(id, 61) % 6);
    let start = SEED_EPOCH + id as i64 * 86_400;
    let max_use = (id % 3) * 10;
    let use_count = if max_use == 0 {
        mix(id, 62) % 20
    } else {
        mix(id, 62) % (max_use + 1)
    };
    record! {
        "id": id,
        "code": format!("COUPON{id:03}"),
        "descrip": format!("{percent}% off (mock coupon {id})"),
        "custscope": pick(&["A", "X", "L"], id, 63),
        "dt_start": start,
        "dt_end": if id.is_multiple_of(4) { 0 } else { start + 30 * 86_400 },
        "max_use": max_use,
        "max_per": id % 2,
        "active": !id.is_multiple_of(5),
        "use_count": use_count,
    }
}

fn customer_record(id: u64) -> Record {
    let first = pick(&FIRST_NAMES, id, 11);
    let last = pick(&LAST_NAMES, id, 12);
    let (city, state, zip) = CITIES[(mix(id, 13) % CITIES.len() as u64) as usize];
    let login = format!("customer{id:03}");
    let email = format!("{login}@example.com");
    let phone = format!("555-01{:02}", id % 100);
    let street = format!("{} Main St", 100 + mix(id, 14) % 9_800);
    let company = if id.is_multiple_of(5) {
        format!("{last} Trading Co.")
    } else {
        String::new()
    };
    let created = SEED_EPOCH + id as i64 * 3_600;
    let credit_cents = if id.is_multiple_of(8) { 2_500 } else { 0 };
    record! {
        "id": id,
        "account_id": 0,
        "login": login,
        "pw_email": email,
        "ship_id": id,
        "ship_res": !id.is_multiple_of(3),
        "ship_fname": first,
        "ship_lname": last,
        "ship_email": email,
        "ship_comp": company,
        "ship_phone": phone,
        "ship_fax": "",
        "ship_addr1": street,
        "ship_addr2": "",
        "ship_city": city,
        "ship_state": state,
        "ship_zip": zip,
        "ship_cntry": "US",
        "bill_id": id,
        "bill_fname": first,
        "bill_lname": last,
        "bill_email": email,
        "bill_comp": company,
        "bill_phone": phone,
        "bill_fax": "",
        "bill_addr1": street,
        "bill_addr2": "",
        "bill_city": city,
        "bill_state": state,
        "bill_zip": zip,
        "bill_cntry": "US",
        "tax_exempt": id.is_multiple_of(11),
        "order_cnt": 0,
        "order_avg": 0.0,
        "formatted_order_avg": formatted_money(0),
        "order_tot": 0.0,
        "formatted_order_tot": formatted_money(0),
        "note_count": 0,
        "dt_created": created,
        "dt_login": created + 86_400 * (1 + (mix(id, 15) % 90) as i64),
        "dt_pwchg": created,
        "credit": money(credit_cents),
        "formatted_credit": formatted_money(credit_cents),
        "business_title": "",
    }
}

fn order_record(
    id: u64,
    n: u64,
    seed: &Seed,
    products: &BTreeMap<u64, Record>,
    customers: &BTreeMap<u64, Record>,
) -> Record {
    let cust_id = if seed.customers == 0 || n.is_multiple_of(6) {
        0 // a guest order
    } else {
        (mix(n, 21) % seed.customers as u64) + 1
    };
    let customer = customers.get(&cust_id);
    let field = |name: &str| -> Value {
        customer
            .and_then(|c| c.get(name).cloned())
            .unwrap_or_else(|| Value::from(""))
    };
    let guest_email = format!("guest{n:03}@example.com");
    let mut items = Vec::new();
    let mut subtotal = 0i64;
    if seed.products > 0 {
        for line in 1..=(1 + mix(n, 22) % 3) {
            let product_id = mix(n, 30 + line) % seed.products as u64 + 1;
            let Some(product) = products.get(&product_id) else {
                continue;
            };
            let quantity = 1 + (mix(n, 40 + line) % 4) as i64;
            let price_cents = product
                .get("price")
                .and_then(Value::as_f64)
                .map_or(0, |p| (p * 100.0).round() as i64);
            subtotal += price_cents * quantity;
            items.push(json!({
                "order_id": id,
                "line_id": n * 10 + line,
                "status": 0,
                "product_id": product_id,
                "code": product["code"],
                "sku": product["sku"],
                "name": product["name"],
                "price": money(price_cents),
                "formatted_price": formatted_money(price_cents),
                "weight": product["weight"],
                "taxable": product["taxable"],
                "quantity": quantity,
                "total": money(price_cents * quantity),
                "formatted_total": formatted_money(price_cents * quantity),
            }));
        }
    }
    let ship = 500 + (mix(n, 23) % 1_500) as i64;
    let tax = subtotal * 7 / 100;
    let total = subtotal + ship + tax;
    let captured = if n.is_multiple_of(4) { 0 } else { total };
    let orderdate = SEED_EPOCH + n as i64 * 5_400;
    let status = (n % 4) as i64 * 100; // 0 pending, 100 processing, 200 shipped, 300 partial
    let (city, state, zip) = CITIES[(mix(n, 24) % CITIES.len() as u64) as usize];
    let text = |name: &str, fallback: &str| -> Value {
        if customer.is_some() {
            field(name)
        } else {
            Value::from(fallback)
        }
    };
    record! {
        "id": id,
        "pay_id": n,
        "batch_id": if n.is_multiple_of(3) { 0 } else { 1 + n / 20 },
        "status": status,
        "pay_status": if captured > 0 { 200 } else { 100 },
        "stk_status": 200,
        "orderdate": orderdate,
        "dt_instock": orderdate + 3_600,
        "cust_id": cust_id,
        "ship_res": customer.map_or(Value::Bool(false), |_| field("ship_res")),
        "ship_fname": text("ship_fname", "Guest"),
        "ship_lname": text("ship_lname", format!("Buyer {n}").as_str()),
        "ship_email": text("ship_email", &guest_email),
        "ship_comp": text("ship_comp", ""),
        "ship_phone": text("ship_phone", "555-0199"),
        "ship_fax": "",
        "ship_addr1": text("ship_addr1", "1 Guest Way"),
        "ship_addr2": "",
        "ship_city": text("ship_city", city),
        "ship_state": text("ship_state", state),
        "ship_zip": text("ship_zip", zip),
        "ship_cntry": "US",
        "bill_fname": text("bill_fname", "Guest"),
        "bill_lname": text("bill_lname", format!("Buyer {n}").as_str()),
        "bill_email": text("bill_email", &guest_email),
        "bill_comp": text("bill_comp", ""),
        "bill_phone": text("bill_phone", "555-0199"),
        "bill_fax": "",
        "bill_addr1": text("bill_addr1", "1 Guest Way"),
        "bill_addr2": "",
        "bill_city": text("bill_city", city),
        "bill_state": text("bill_state", state),
        "bill_zip": text("bill_zip", zip),
        "bill_cntry": "US",
        "ship_id": n,
        "ship_data": "",
        "source": "",
        "source_id": 0,
        "total": money(total),
        "formatted_total": formatted_money(total),
        "total_ship": money(ship),
        "formatted_total_ship": formatted_money(ship),
        "total_tax": money(tax),
        "formatted_total_tax": formatted_money(tax),
        "total_auth": money(total),
        "formatted_total_auth": formatted_money(total),
        "total_capt": money(captured),
        "formatted_total_capt": formatted_money(captured),
        "total_rfnd": 0.0,
        "formatted_total_rfnd": formatted_money(0),
        "net_capt": money(captured),
        "formatted_net_capt": formatted_money(captured),
        "pend_count": 0,
        "bord_count": 0,
        "note_count": 0,
        // On-demand columns.
        "ship_method": if n.is_multiple_of(2) { "UPS Ground" } else { "USPS Priority Mail" },
        "cust_login": field("login"),
        "cust_pw_email": field("pw_email"),
        "business_title": "",
        "payment_module": "Check/Money Order",
        "items": items,
        "charges": json!([
            {"order_id": id, "charge_id": n * 10 + 1, "type": "SHIPPING",
             "descrip": "Shipping", "amount": money(ship), "formatted_amount": formatted_money(ship)},
            {"order_id": id, "charge_id": n * 10 + 2, "type": "TAX",
             "descrip": "Sales Tax", "amount": money(tax), "formatted_amount": formatted_money(tax)},
        ]),
        "coupons": json!([]),
        "discounts": json!([]),
        "payments": json!([]),
        "notes": json!([]),
        "parts": json!([]),
        "shipments": json!([]),
        "returns": json!([]),
        "payment_data": json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats() {
        assert_eq!(formatted_money(0), "$0.00");
        assert_eq!(formatted_money(1234), "$12.34");
        assert_eq!(formatted_money(123_456_789), "$1,234,567.89");
        assert_eq!(formatted_money(-500), "-$5.00");
        assert_eq!(money(1234), json!(12.34));
        assert_eq!(formatted_weight(1.5), "1.50 lb");
    }

    #[test]
    fn seed_is_deterministic_and_shaped() {
        let seed = Seed::with_products(250);
        let a = Store::seeded("S", &seed);
        let b = Store::seeded("S", &seed);
        assert_eq!(a.products, b.products);
        assert_eq!(a.orders, b.orders);
        assert_eq!(a.customers, b.customers);
        assert_eq!(a.products.len(), 250);
        assert_eq!(a.products[&1]["code"], "P000001");
        assert_eq!(a.products[&250]["code"], "P000250");
        assert_eq!(a.orders.len(), 50);
        assert!(a.orders.contains_key(&1001));
        assert!(!a.product_categories.contains_key(&10));
        assert_eq!(a.products[&3]["catcount"], 2);
        assert_eq!(a.coupons, b.coupons);
        assert_eq!(a.price_groups, b.price_groups);
        assert_eq!(a.coupons.len(), 12);
        assert_eq!(a.coupons[&1]["code"], "COUPON001");
        assert_eq!(a.coupon_codes.get("coupon012"), Some(&12));
        assert_eq!(a.price_groups.len(), 6);
        assert_eq!(a.price_group_names.get("vip"), Some(&2));
        assert_eq!(a.price_groups[&1]["module"]["code"], "discount_basket");
        assert_eq!(a.customer_logins.get("customer040"), Some(&40));
        // Seeded line and charge ids stay below the next ones.
        let max_line = a
            .orders
            .values()
            .flat_map(|o| o["items"].as_array().cloned().unwrap_or_default())
            .filter_map(|i| i["line_id"].as_u64())
            .max()
            .unwrap_or(0);
        assert!(max_line < a.next.line);
        assert_eq!(a.next.order, 1051);
        assert_eq!(a.next.customer, 41);
    }

    #[test]
    fn customer_totals_saturate() {
        let mut store = Store::seeded("S", &Seed::new(0, 0, 1, 0));
        for id in [1, 2] {
            store
                .orders
                .insert(id, record! {"id": id, "cust_id": 1, "total": 1e300});
        }
        store.refresh_customer_totals(1);
        assert_eq!(store.customers[&1]["order_cnt"], 2);
        assert!(store.customers[&1]["order_tot"].as_f64().unwrap() > 1e16);
    }

    #[test]
    fn empty_seed() {
        let store = Store::seeded("S", &Seed::new(0, 0, 0, 3));
        assert!(store.products.is_empty());
        assert_eq!(store.orders.len(), 3);
        assert_eq!(store.orders[&1001]["items"], json!([]));
    }
}
