//! `*List_Load_Query`: `Count`, `Offset`, `Sort`, `Filter` (search with
//! every operator and nested `SUBWHERE` groups, on-demand columns, custom
//! filters), applied to records.
//!
//! Conditions are combined by a store's rules, from Miva's own server code
//! (the LSK, `mivaecommerce/miva-merchant-lsk` at 943bd05) and the facts
//! page ("How a store combines conditions"):
//!
//! - `JSON_Filter_LowLevel` (`mmlsk-json.mv` 4293-4349): each top-level
//!   `search` filter is a bracketed group joined to the others by AND;
//!   `search_AND` joins by AND and `search_OR` by OR; inside a `search` or
//!   `search_AND` group entries are joined by OR, inside `search_OR` by AND.
//! - `JSON_Search_Filter_Clause_LowLevel` (4458-4557): a plain condition
//!   takes its group's default; a SUBWHERE (`search`, `search_AND`,
//!   `search_OR`, 4543-4547) is a bracketed group joined by its own
//!   connector (`search`: the enclosing default) whose children default to
//!   OR (`search`, `search_AND`) or AND (`search_OR`).
//! - `SQL_Query_SUB_WHERE_END_Clause_Position` (`lib/dbeng/sql.mv`
//!   265-299): the first entry's connector is not printed, an entry that
//!   adds no SQL (an empty group, an `IN` with no value) is not there at
//!   all, and the group is one flat `( e1 J2 e2 J3 e3 )`, so SQL precedence
//!   applies: AND binds tighter than OR.
//! - `IN` / `NOT_IN` split the value on commas, trim and skip empty pieces
//!   (`sql.mv` 885-903); on a product list, `category` with any other
//!   operator adds nothing (`json/products.mv` 2061-2064).
//! - Names are matched exactly. Where a store drops an unknown filter,
//!   field, operator or SUBWHERE name silently, the mock answers
//!   `invalid_list_query` naming it, so a test finds the typo.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::ser::{Serialize, SerializeMap as _, Serializer};

use serde_json::{Map, Value};

use crate::codes;
use crate::response;
use crate::store::Record;

/// What a list function knows about its records.
#[derive(Debug)]
pub(crate) struct EntityDef {
    /// Fields a `search` filter may name.
    pub(crate) search: &'static [&'static str],
    /// Fields `Sort` may name.
    pub(crate) sort: &'static [&'static str],
    /// Columns always returned.
    pub(crate) base: &'static [&'static str],
    /// Columns returned only when named in `ondemandcolumns`.
    pub(crate) ondemand: &'static [&'static str],
}

/// A parsed list query.
#[derive(Debug)]
pub(crate) struct ListQuery {
    /// Records wanted; 0 means all.
    pub(crate) count: usize,
    /// Records skipped.
    pub(crate) offset: usize,
    /// Sort field (lower case) and whether descending.
    pub(crate) sort: Option<(String, bool)>,
    /// `search`, `search_AND`, `search_OR` filters with their connectors
    /// (joined by AND by default).
    search: Vec<(Option<Conn>, Node)>,
    /// Requested on-demand columns (lower case, only known ones).
    pub(crate) ondemand: Vec<String>,
    /// Other filters (`Product_Show`, `Customer_ID`, ...), as given.
    custom: Vec<(String, Value)>,
}

impl ListQuery {
    /// The value of custom filter `name` (spelt exactly, as a store
    /// matches it), if given.
    pub(crate) fn custom(&self, name: &str) -> Option<&Value> {
        self.custom.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether a `search` filter was given.
    pub(crate) fn has_search(&self) -> bool {
        !self.search.is_empty()
    }

    /// Whether on-demand column `name` was requested.
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.ondemand.iter().any(|c| c == name)
    }
}

/// The value(s) of a field of one record. A field may have several values
/// (a product's `category`): a condition holds if it holds for any.
#[derive(Debug)]
pub(crate) enum FieldRef<'a> {
    One(&'a Value),
    Many(Vec<Value>),
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
    Co,
    Nc,
    Like,
    NotLike,
    Ne,
    True,
    False,
    Null,
    In,
    NotIn,
}

impl Op {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "EQ" => Self::Eq,
            "GT" => Self::Gt,
            "GE" => Self::Ge,
            "LT" => Self::Lt,
            "LE" => Self::Le,
            "CO" => Self::Co,
            "NC" => Self::Nc,
            "LIKE" => Self::Like,
            "NOTLIKE" => Self::NotLike,
            "NE" => Self::Ne,
            "TRUE" => Self::True,
            "FALSE" => Self::False,
            "NULL" => Self::Null,
            "IN" => Self::In,
            "NOT_IN" => Self::NotIn,
            _ => return None,
        })
    }
}

/// The comparable forms of a filter value.
#[derive(Debug)]
struct Operand {
    /// Lower-cased text.
    text: String,
    /// The number it denotes, if any (`true`/`false` count as 1/0).
    num: Option<f64>,
}

impl Operand {
    fn new(value: &Value) -> Self {
        let text = display(value).to_lowercase();
        let num = match value {
            Value::Number(n) => n.as_f64(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::String(s) => parse_number(s).or(match s.trim().to_ascii_lowercase().as_str() {
                "true" => Some(1.0),
                "false" => Some(0.0),
                _ => None,
            }),
            _ => None,
        };
        Self { text, num }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    And,
    Or,
}

#[derive(Debug)]
enum Node {
    Leaf {
        field: String,
        op: Op,
        operand: Operand,
        /// IN / NOT_IN members.
        set: Vec<Operand>,
    },
    /// A condition a store consumes without adding SQL: it is not there.
    Nothing,
    /// Entries, each with its own connector (`None`: the group's default);
    /// the first entry's connector is ignored, and AND binds tighter than
    /// OR (the SQL a store builds from them).
    Group {
        default: Conn,
        entries: Vec<(Option<Conn>, Node)>,
    },
}

impl Node {
    /// Whether the node holds for a record; `None` when it adds no SQL.
    fn eval<'v>(&self, get: &dyn Fn(&str) -> FieldRef<'v>) -> Option<bool> {
        match self {
            Self::Nothing => None,
            Self::Leaf {
                field,
                op,
                operand,
                set,
            } => Some(match get(field) {
                FieldRef::One(v) => leaf_matches(v, *op, operand, set),
                FieldRef::Missing => leaf_matches(&Value::Null, *op, operand, set),
                FieldRef::Many(values) if values.is_empty() => {
                    leaf_matches(&Value::Null, *op, operand, set)
                }
                // A product is in none of the categories: every one passes.
                FieldRef::Many(values) if *op == Op::NotIn => {
                    values.iter().all(|v| leaf_matches(v, *op, operand, set))
                }
                FieldRef::Many(values) => values.iter().any(|v| leaf_matches(v, *op, operand, set)),
            }),
            Self::Group { default, entries } => eval_entries(entries, *default, get),
        }
    }
}

/// A group's entries as the flat SQL a store makes of them: the first
/// entry's connector ignored, entries that add nothing left out, AND
/// binding tighter than OR. `None` when no entry adds anything.
fn eval_entries<'v>(
    entries: &[(Option<Conn>, Node)],
    default: Conn,
    get: &dyn Fn(&str) -> FieldRef<'v>,
) -> Option<bool> {
    // OR of AND runs: `any` holds the runs before, `all` this one.
    let mut any = false;
    let mut all = true;
    let mut seen = false;
    for (conn, node) in entries {
        let Some(value) = node.eval(get) else {
            continue;
        };
        if seen && conn.unwrap_or(default) == Conn::Or {
            any |= all;
            all = true;
        }
        all &= value;
        seen = true;
    }
    seen.then_some(any || all)
}

/// A `Filter` array read by a store's rules (the module doc above), for
/// checks of what a store returns: the mock's list functions use the same
/// reading.
///
/// ```
/// use miva_mock::StoreFilter;
/// use serde_json::json;
///
/// // Plain conditions side by side are ORed by a store.
/// let filter = StoreFilter::parse(
///     &json!([{"name": "search", "value": [
///         {"field": "active", "operator": "TRUE"},
///         {"field": "price", "operator": "GT", "value": 10}
///     ]}]),
///     &["active", "price"],
/// )?;
/// let record = json!({"active": false, "price": 20});
/// assert!(filter.matches(record.as_object().unwrap()));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug)]
pub struct StoreFilter {
    search: Option<Node>,
}

impl StoreFilter {
    /// Reads the `search`, `search_AND` and `search_OR` filters of a
    /// `Filter` array (others are ignored); `searchable` are the fields a
    /// condition may name. A malformed filter or a name a store would drop
    /// is an error naming it.
    pub fn parse(filter: &Value, searchable: &[&str]) -> Result<Self, String> {
        let items = match filter {
            Value::Array(items) => items.as_slice(),
            Value::Null => &[],
            other => return Err(format!("Filter must be an array, found {other}")),
        };
        let mut entries = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
            let value = item.get("value").unwrap_or(&Value::Null);
            if let Some((conn, default)) = search_filter(name) {
                let group = parse_entries(value, searchable, false, &format!("Filter[{i}]"))
                    .map_err(|e| message(&e))?;
                entries.push((
                    conn,
                    Node::Group {
                        default,
                        entries: group,
                    },
                ));
            }
        }
        Ok(Self {
            search: (!entries.is_empty()).then_some(Node::Group {
                default: Conn::And,
                entries,
            }),
        })
    }

    /// Whether a record (field name to value) is among those a store
    /// returns for the filter.
    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        let get = |field: &str| record.get(field).map_or(FieldRef::Missing, FieldRef::One);
        self.search
            .as_ref()
            .and_then(|node| node.eval(&get))
            .unwrap_or(true)
    }
}

/// A top-level search filter's connector and its children's default
/// (`mmlsk-json.mv` 4343-4345), for a name spelt as a store matches it.
fn search_filter(name: &str) -> Option<(Option<Conn>, Conn)> {
    match name {
        "search" => Some((None, Conn::Or)),
        "search_AND" => Some((Some(Conn::And), Conn::Or)),
        "search_OR" => Some((Some(Conn::Or), Conn::And)),
        _ => None,
    }
}

fn message(error: &Value) -> String {
    error
        .get("error_message")
        .and_then(Value::as_str)
        .unwrap_or("invalid filter")
        .to_owned()
}

fn leaf_matches(row: &Value, op: Op, operand: &Operand, set: &[Operand]) -> bool {
    match op {
        Op::Null => match row {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        },
        Op::True => truthy(row),
        Op::False => !truthy(row),
        Op::Eq => compare(row, operand) == Some(Ordering::Equal),
        Op::Ne => compare(row, operand) != Some(Ordering::Equal),
        Op::Gt => compare(row, operand) == Some(Ordering::Greater),
        Op::Ge => matches!(
            compare(row, operand),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        Op::Lt => compare(row, operand) == Some(Ordering::Less),
        Op::Le => matches!(
            compare(row, operand),
            Some(Ordering::Less | Ordering::Equal)
        ),
        Op::Co => lower_text(row).contains(&operand.text),
        Op::Nc => !lower_text(row).contains(&operand.text),
        Op::Like => like(&lower_text(row), &operand.text),
        Op::NotLike => !like(&lower_text(row), &operand.text),
        Op::In => set.iter().any(|o| compare(row, o) == Some(Ordering::Equal)),
        Op::NotIn => !set.iter().any(|o| compare(row, o) == Some(Ordering::Equal)),
    }
}

/// Numbers (and booleans) compare numerically with a numeric operand;
/// everything else compares as case-insensitive text.
fn compare(row: &Value, operand: &Operand) -> Option<Ordering> {
    match (row_number(row), operand.num) {
        (Some(r), Some(o)) => r.partial_cmp(&o),
        _ => Some(match row {
            // Compare lower-cased without allocating: this runs per record.
            Value::String(s) => s
                .chars()
                .flat_map(char::to_lowercase)
                .cmp(operand.text.chars()),
            other => display(other).to_lowercase().cmp(&operand.text),
        }),
    }
}

fn row_number(row: &Value) -> Option<f64> {
    match row {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn truthy(row: &Value) -> bool {
    match row {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn lower_text(row: &Value) -> String {
    match row {
        Value::String(s) => s.to_lowercase(),
        other => display(other).to_lowercase(),
    }
}

/// A value as text: strings as they are, numbers as JSON writes them,
/// booleans as `1`/`0`, null as empty.
pub(crate) fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Parses a number written as text (`"12"`, `" 9.99 "`).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// SQL `LIKE` on lower-cased text: `%` any run, `_` one character.
fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

/// Reads `Count`, `Offset`, `Sort` and `Filter`.
///
/// # Errors
/// A Miva error response: a validation error for a non-numeric `Count` or
/// `Offset`, `invalid_list_query` for a bad sort field, filter, search field
/// or operator.
pub(crate) fn parse(params: &Map<String, Value>, def: &EntityDef) -> Result<ListQuery, Value> {
    let count = parse_uint(params, "Count")?;
    let offset = parse_uint(params, "Offset")?;
    let sort = match params.get("Sort") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let s = s.trim();
            let (field, desc) = match s.strip_prefix('-') {
                Some(rest) => (rest.trim(), true),
                None => (s.strip_prefix('+').unwrap_or(s).trim(), false),
            };
            if field.is_empty() {
                None
            } else {
                let lower = field.to_owned();
                if !def.sort.contains(&lower.as_str()) {
                    return Err(list_error(format!(
                        "Sort: '{field}' is not a sortable field; use one of {}",
                        def.sort.join(", ")
                    )));
                }
                Some((lower, desc))
            }
        }
        Some(_) => {
            return Err(list_error(
                "Sort must be a string such as \"name\" or \"-name\"",
            ));
        }
    };
    let mut query = ListQuery {
        count,
        offset,
        sort,
        search: Vec::new(),
        ondemand: Vec::new(),
        custom: Vec::new(),
    };
    let filters: &[Value] = match params.get("Filter") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(single @ Value::Object(_)) => std::slice::from_ref(single),
        Some(_) => {
            return Err(list_error(
                "Filter must be an array of {\"name\", \"value\"} objects",
            ));
        }
    };
    for (i, filter) in filters.iter().enumerate() {
        let Value::Object(filter) = filter else {
            return Err(list_error(format!(
                "Filter[{i}] must be an object with \"name\" and \"value\""
            )));
        };
        let Some(Value::String(name)) = filter.get("name") else {
            return Err(list_error(format!("Filter[{i}] has no \"name\" string")));
        };
        let value = filter.get("value").unwrap_or(&Value::Null);
        if let Some((conn, default)) = search_filter(name) {
            let products = def.search.contains(&"category");
            let entries = parse_entries(value, def.search, products, &format!("Filter[{i}]"))?;
            // An empty search (merchantapi sends one with every list query)
            // matches everything: dropping it keeps the page-only fast path.
            if !entries.is_empty() {
                query.search.push((conn, Node::Group { default, entries }));
            }
        } else if let Some(known) = ["search", "search_AND", "search_OR", "ondemandcolumns"]
            .into_iter()
            .find(|known| known.eq_ignore_ascii_case(name) && *known != name)
        {
            return Err(list_error(format!(
                "Filter[{i}]: '{name}' is not a filter name a store knows (names are \
                 case-sensitive, and a store drops it silently); use '{known}'"
            )));
        } else if name == "ondemandcolumns" {
            let columns: Vec<String> = match value {
                Value::Array(items) => items.iter().map(display).collect(),
                Value::String(s) => s.split(',').map(str::to_owned).collect(),
                Value::Null => Vec::new(),
                _ => {
                    return Err(list_error(format!(
                        "Filter[{i}] (ondemandcolumns) must be an array of column names"
                    )));
                }
            };
            for column in columns {
                let column = column.trim().to_ascii_lowercase();
                if def.ondemand.contains(&column.as_str()) && !query.wants(&column) {
                    query.ondemand.push(column);
                }
            }
        } else {
            query.custom.push((name.clone(), value.clone()));
        }
    }
    Ok(query)
}

/// One group's entries. `products`: the list is a product list, where a
/// `category` condition works only with IN / NOT_IN.
fn parse_entries(
    value: &Value,
    search: &[&str],
    products: bool,
    path: &str,
) -> Result<Vec<(Option<Conn>, Node)>, Value> {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        Value::Object(_) => std::slice::from_ref(value),
        Value::Null => &[],
        _ => {
            return Err(list_error(format!(
                "{path}: a search value must be an array of {{\"field\", \"operator\", \"value\"}} objects"
            )));
        }
    };
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}.value[{i}]");
        let Value::Object(item) = item else {
            return Err(list_error(format!(
                "{here} must be an object with \"field\", \"operator\" and \"value\""
            )));
        };
        let Some(Value::String(field)) = item.get("field") else {
            return Err(list_error(format!("{here} has no \"field\" string")));
        };
        let Some(Value::String(operator)) = item.get("operator") else {
            return Err(list_error(format!("{here} has no \"operator\" string")));
        };
        let value = item.get("value").unwrap_or(&Value::Null);
        if operator == "SUBWHERE" {
            // mmlsk-json.mv 4543-4547: its connector, its children's default.
            let (conn, default) = match field.as_str() {
                "search" => (None, Conn::Or),
                "search_AND" => (Some(Conn::And), Conn::Or),
                "search_OR" => (Some(Conn::Or), Conn::And),
                _ => {
                    return Err(list_error(format!(
                        "{here}: a SUBWHERE's field must be search_AND, search_OR or search \
                         (spelt so; a store drops the group), found '{field}'"
                    )));
                }
            };
            let inner = parse_entries(value, search, products, &here)?;
            entries.push((
                conn,
                Node::Group {
                    default,
                    entries: inner,
                },
            ));
            continue;
        }
        let op = Op::from_name(operator).ok_or_else(|| {
            list_error(format!(
                "{here}: unknown operator '{operator}' (operators are case-sensitive); use EQ, \
                 GT, GE, LT, LE, CO, NC, LIKE, NOTLIKE, NE, TRUE, FALSE, NULL, IN, NOT_IN or \
                 SUBWHERE"
            ))
        })?;
        if !search.contains(&field.as_str()) {
            return Err(list_error(format!(
                "{here}: '{field}' is not a searchable field (names are case-sensitive); use one \
                 of {}",
                search.join(", ")
            )));
        }
        let node = if products && field == "category" && !matches!(op, Op::In | Op::NotIn) {
            // json/products.mv 2062-2064: consumed without a condition.
            Node::Nothing
        } else if matches!(op, Op::In | Op::NotIn) {
            // lib/dbeng/sql.mv 888-891: split, trim, skip empty pieces; no
            // piece at all adds no condition.
            let set: Vec<Operand> = match value {
                Value::Array(items) => items.iter().map(Operand::new).collect(),
                other => display(other)
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Operand::new(&Value::from(s)))
                    .collect(),
            };
            if set.is_empty() {
                Node::Nothing
            } else {
                Node::Leaf {
                    field: field.clone(),
                    op,
                    operand: Operand::new(value),
                    set,
                }
            }
        } else {
            Node::Leaf {
                field: field.clone(),
                op,
                operand: Operand::new(value),
                set: Vec::new(),
            }
        };
        entries.push((None, node));
    }
    Ok(entries)
}

fn parse_uint(params: &Map<String, Value>, name: &str) -> Result<usize, Value> {
    let bad = || response::validation(name, "Please enter a number");
    let n = match params.get(name) {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(0),
        Some(Value::String(s)) => parse_number(s).ok_or_else(bad)?,
        Some(_) => return Err(bad()),
    };
    if n <= 0.0 {
        Ok(0)
    } else if n >= usize::MAX as f64 {
        Ok(usize::MAX)
    } else {
        Ok(n as usize)
    }
}

fn list_error(message: impl Into<String>) -> Value {
    response::error(codes::INVALID_LIST_QUERY, message)
}

/// Sort key of one value: numbers numerically, text case-insensitively.
#[derive(Debug, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Text(String),
}

fn key(value: Option<&Value>) -> Key {
    match value.and_then(row_number) {
        Some(n) => Key::Num(n),
        None => Key::Text(value.map(display).unwrap_or_default().to_lowercase()),
    }
}

/// The ids of `rows` ordered by `field` (descending if `desc`), ties by id.
/// Callers cache the result: it only changes when the table does.
pub(crate) fn sort_ids<'a>(
    rows: impl Iterator<Item = (&'a u64, &'a Record)>,
    field: &str,
    desc: bool,
) -> Vec<u64> {
    let mut keyed: Vec<(Key, u64)> = rows.map(|(id, r)| (key(r.get(field)), *id)).collect();
    // Ids are unique, so an unstable sort is deterministic.
    keyed.sort_unstable_by(|a, b| {
        let primary = a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal);
        let primary = if desc { primary.reverse() } else { primary };
        primary.then(a.1.cmp(&b.1))
    });
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Filters and pages `rows` (already in the requested order). `get` reads a
/// field of a row, including computed ones. Returns the number of matching
/// rows and the requested page.
pub(crate) fn select<'a, R, G>(
    rows: impl Iterator<Item = R>,
    query: &ListQuery,
    get: G,
) -> (usize, Vec<R>)
where
    R: Copy + 'a,
    G: Fn(R, &str) -> FieldRef<'a>,
{
    let end = if query.count == 0 {
        usize::MAX
    } else {
        query.offset.saturating_add(query.count)
    };
    let mut total = 0usize;
    let mut page = Vec::with_capacity(query.count.min(1024));
    for row in rows {
        let get = |field: &str| get(row, field);
        // Top-level filters: AND unless search_OR (mmlsk-json.mv 4348).
        let matches = eval_entries(&query.search, Conn::And, &get).unwrap_or(true);
        if matches {
            if total >= query.offset && total < end {
                page.push(row);
            }
            total += 1;
        }
    }
    (total, page)
}

/// One returned record: columns in output order, borrowed from the store
/// where possible. Serializes as a JSON object.
#[derive(Debug)]
pub(crate) struct Row<'a>(Vec<(&'a str, Cow<'a, Value>)>);

impl<'a> Row<'a> {
    /// Adds a computed column after the others (a category product's
    /// `assigned`).
    pub(crate) fn push(&mut self, name: &'a str, value: Value) {
        self.0.push((name, Cow::Owned(value)));
    }
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v.as_ref())?;
        }
        map.end()
    }
}

/// The returned form of a record: its base columns, plus the requested
/// on-demand columns (`computed` supplies those not stored in the record).
pub(crate) fn project<'a>(
    record: &'a Record,
    def: &EntityDef,
    query: &'a ListQuery,
    computed: impl Fn(&str) -> Option<Value>,
) -> Row<'a> {
    let mut cols = Vec::with_capacity(def.base.len() + query.ondemand.len());
    for column in def.base {
        if let Some((k, v)) = record.get_key_value(column) {
            cols.push((k, Cow::Borrowed(v)));
        }
    }
    for column in &query.ondemand {
        if cols.iter().any(|(k, _)| *k == column.as_str()) {
            continue;
        }
        if let Some(value) = computed(column) {
            cols.push((column.as_str(), Cow::Owned(value)));
        } else if let Some(value) = record.get(column) {
            cols.push((column.as_str(), Cow::Borrowed(value)));
        }
    }
    Row(cols)
}

/// A record's base columns only (what inserts return).
pub(crate) fn base_columns(record: &Record, def: &EntityDef) -> Value {
    let mut out = Map::new();
    for column in def.base {
        if let Some(value) = record.get(column) {
            out.insert((*column).to_owned(), value.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_patterns() {
        assert!(like("p000123", "p000%"));
        assert!(like("p000123", "%123"));
        assert!(like("p000123", "p_00%3"));
        assert!(like("", "%"));
        assert!(!like("abc", "a_"));
        assert!(like("abc", "%%c"));
        assert!(!like("abc", "b%"));
        assert!(like("aXbXc", "a%b%c"));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        // a OR b AND c, with a true, b false, c false → true.
        let entries = parse_entries(
            &json!([
                {"field": "x", "operator": "EQ", "value": "1"},
                {"field": "search_OR", "operator": "SUBWHERE", "value": [{"field": "x", "operator": "EQ", "value": "2"}]},
                {"field": "search_AND", "operator": "SUBWHERE", "value": [{"field": "x", "operator": "EQ", "value": "3"}]},
            ]),
            &["x"],
            false,
            "t",
        )
        .unwrap();
        let node = Node::Group {
            default: Conn::Or,
            entries,
        };
        let one = json!(1);
        let two = json!(2);
        assert_eq!(node.eval(&|_| FieldRef::One(&one)), Some(true));
        assert_eq!(node.eval(&|_| FieldRef::One(&two)), Some(false));
    }

    #[test]
    fn plain_siblings_are_ored_and_empty_sets_add_nothing() {
        // mmlsk-json.mv 4336: a search filter's children default to OR;
        // sql.mv 888-891: IN "" adds no condition.
        let filter = StoreFilter::parse(
            &json!([{"name": "search", "value": [
                {"field": "x", "operator": "EQ", "value": "1"},
                {"field": "x", "operator": "EQ", "value": "2"}]},
                {"name": "search", "value": [{"field": "x", "operator": "IN", "value": ""}]}]),
            &["x"],
        )
        .unwrap();
        for (x, want) in [(1, true), (2, true), (3, false)] {
            let record = json!({"x": x});
            assert_eq!(filter.matches(record.as_object().unwrap()), want, "{x}");
        }
        assert!(
            StoreFilter::parse(
                &json!([{"name": "search", "value": [
            {"field": "X", "operator": "EQ", "value": "1"}]}]),
                &["x"]
            )
            .is_err()
        );
        assert!(
            StoreFilter::parse(
                &json!([{"name": "search", "value": [
            {"field": "x", "operator": "eq", "value": "1"}]}]),
                &["x"]
            )
            .is_err()
        );
    }
}
