//! List queries: `Count`, `Offset`, `Sort` and `Filter` (search with every
//! operator, nested AND/OR groups, on-demand columns, function-specific
//! filters).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// A search operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// Equal.
    Eq,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Contains.
    Co,
    /// Does not contain.
    Nc,
    /// SQL `LIKE` (`%` and `_` wildcards).
    Like,
    /// SQL `NOT LIKE`.
    NotLike,
    /// Not equal.
    Ne,
    /// Is true (no value).
    True,
    /// Is false (no value).
    False,
    /// Is null (no value).
    Null,
    /// In a set (a comma-joined value).
    In,
    /// Not in a set (a comma-joined value).
    NotIn,
}

impl Operator {
    /// Every operator, in the document's order.
    pub const ALL: [Self; 15] = [
        Self::Eq,
        Self::Gt,
        Self::Ge,
        Self::Lt,
        Self::Le,
        Self::Co,
        Self::Nc,
        Self::Like,
        Self::NotLike,
        Self::Ne,
        Self::True,
        Self::False,
        Self::Null,
        Self::In,
        Self::NotIn,
    ];

    /// The wire name (`EQ`, `NOT_IN`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "EQ",
            Self::Gt => "GT",
            Self::Ge => "GE",
            Self::Lt => "LT",
            Self::Le => "LE",
            Self::Co => "CO",
            Self::Nc => "NC",
            Self::Like => "LIKE",
            Self::NotLike => "NOTLIKE",
            Self::Ne => "NE",
            Self::True => "TRUE",
            Self::False => "FALSE",
            Self::Null => "NULL",
            Self::In => "IN",
            Self::NotIn => "NOT_IN",
        }
    }

    /// Parses a wire name, ignoring case.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether the operator takes no value (`TRUE`, `FALSE`, `NULL`).
    pub fn is_unary(self) -> bool {
        matches!(self, Self::True | Self::False | Self::Null)
    }
}

/// How a nested group joins what comes before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// `search_AND`.
    And,
    /// `search_OR`.
    Or,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Condition {
        field: String,
        operator: Operator,
        value: Option<Value>,
    },
    Group(Connector, Search),
}

/// A search: conditions joined by AND, plus nested groups joined by AND or
/// OR through `SUBWHERE`.
///
/// ```
/// use miva_envelope::Search;
///
/// // active AND (price > 10 OR code LIKE 'P00%')
/// let search = Search::new()
///     .is_true("active")
///     .and(Search::new().gt("price", 10).or(Search::new().like("code", "P00%")));
/// assert_eq!(
///     serde_json::to_string(&search)?,
///     r#"[{"field":"active","operator":"TRUE"},{"field":"search_AND","operator":"SUBWHERE","value":[{"field":"price","operator":"GT","value":10},{"field":"search_OR","operator":"SUBWHERE","value":[{"field":"code","operator":"LIKE","value":"P00%"}]}]}]"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    entries: Vec<Entry>,
}

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
                self.condition(field, Operator::$op, Some(value.into()))
            }
        )*
    };
}

impl Search {
    fn fields(&self, out: &mut Vec<String>) {
        for entry in &self.entries {
            match entry {
                Entry::Condition { field, .. } => out.push(field.clone()),
                Entry::Group(_, inner) => inner.fields(out),
            }
        }
    }

    /// An empty search (matches everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there are no conditions.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds `field OPERATOR value` (AND). `value` is dropped for `TRUE`,
    /// `FALSE` and `NULL`; for `IN` / `NOT_IN` an array is joined with
    /// commas, as the API expects.
    pub fn condition(
        mut self,
        field: impl Into<String>,
        operator: Operator,
        value: Option<Value>,
    ) -> Self {
        let value = if operator.is_unary() {
            None
        } else if matches!(operator, Operator::In | Operator::NotIn) {
            value.map(join_set)
        } else {
            value
        };
        self.entries.push(Entry::Condition {
            field: field.into(),
            operator,
            value,
        });
        self
    }

    binary_ops! {
        /// `field EQ value`.
        eq => Eq;
        /// `field GT value`.
        gt => Gt;
        /// `field GE value`.
        ge => Ge;
        /// `field LT value`.
        lt => Lt;
        /// `field LE value`.
        le => Le;
        /// `field CO value` (contains).
        contains => Co;
        /// `field NC value` (does not contain).
        not_contains => Nc;
        /// `field LIKE pattern`.
        like => Like;
        /// `field NOTLIKE pattern`.
        not_like => NotLike;
        /// `field NE value`.
        ne => Ne;
    }

    /// `field TRUE`.
    pub fn is_true(self, field: impl Into<String>) -> Self {
        self.condition(field, Operator::True, None)
    }

    /// `field FALSE`.
    pub fn is_false(self, field: impl Into<String>) -> Self {
        self.condition(field, Operator::False, None)
    }

    /// `field NULL`.
    pub fn is_null(self, field: impl Into<String>) -> Self {
        self.condition(field, Operator::Null, None)
    }

    /// `field IN (values...)`.
    pub fn is_in<V: Into<Value>>(
        self,
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let set = Value::Array(values.into_iter().map(Into::into).collect());
        self.condition(field, Operator::In, Some(set))
    }

    /// `field NOT_IN (values...)`.
    pub fn not_in<V: Into<Value>>(
        self,
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let set = Value::Array(values.into_iter().map(Into::into).collect());
        self.condition(field, Operator::NotIn, Some(set))
    }

    /// `AND (group)`: a nested `search_AND` `SUBWHERE`.
    pub fn and(mut self, group: Search) -> Self {
        self.entries.push(Entry::Group(Connector::And, group));
        self
    }

    /// `OR (group)`: a nested `search_OR` `SUBWHERE`.
    pub fn or(mut self, group: Search) -> Self {
        self.entries.push(Entry::Group(Connector::Or, group));
        self
    }
}

fn join_set(value: Value) -> Value {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect();
            Value::String(parts.join(","))
        }
        other => other,
    }
}

impl Serialize for Search {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.entries.len()))?;
        for entry in &self.entries {
            seq.serialize_element(entry)?;
        }
        seq.end()
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Condition {
                field,
                operator,
                value,
            } => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("field", field)?;
                map.serialize_entry("operator", operator.as_str())?;
                if let Some(value) = value {
                    map.serialize_entry("value", value)?;
                }
                map.end()
            }
            Self::Group(connector, search) => {
                let mut map = serializer.serialize_map(Some(3))?;
                let field = match connector {
                    Connector::And => "search_AND",
                    Connector::Or => "search_OR",
                };
                map.serialize_entry("field", field)?;
                map.serialize_entry("operator", "SUBWHERE")?;
                map.serialize_entry("value", search)?;
                map.end()
            }
        }
    }
}

/// A sort order: a column, ascending or descending (`-column` on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// The column.
    pub field: String,
    /// Descending when true.
    pub descending: bool,
}

impl Sort {
    /// Ascending by `field`.
    pub fn asc(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            descending: false,
        }
    }

    /// Descending by `field`.
    pub fn desc(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            descending: true,
        }
    }

    /// The wire form: `field` or `-field`.
    pub fn to_wire(&self) -> String {
        if self.descending {
            format!("-{}", self.field)
        } else {
            self.field.clone()
        }
    }
}

/// The parameters of any `*List_Load_Query` call.
///
/// ```
/// use miva_envelope::{ListQuery, Search, Sort};
///
/// let query = ListQuery::new()
///     .count(50)
///     .offset(100)
///     .sort(Sort::desc("price"))
///     .search(Search::new().is_in("code", ["P000001", "P000002"]))
///     .ondemand(["descrip"])
///     .filter("Product_Show", "Active");
/// assert_eq!(
///     serde_json::to_string(&query)?,
///     r#"{"Count":50,"Offset":100,"Sort":"-price","Filter":[{"name":"search","value":[{"field":"code","operator":"IN","value":"P000001,P000002"}]},{"name":"ondemandcolumns","value":["descrip"]},{"name":"Product_Show","value":"Active"}]}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    count: Option<u64>,
    offset: Option<u64>,
    sort: Option<Sort>,
    search: Search,
    ondemand: Vec<String>,
    filters: Vec<(String, Value)>,
    params: Map<String, Value>,
}

impl ListQuery {
    /// A query with no limits: the server's defaults (all records).
    pub fn new() -> Self {
        Self::default()
    }

    /// `Count`: how many records to return (0 means all).
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// `Offset`: how many matching records to skip.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// `Sort`.
    pub fn sort(mut self, sort: Sort) -> Self {
        self.sort = Some(sort);
        self
    }

    /// Adds the conditions of `search` (AND) to the `search` filter.
    pub fn search(mut self, search: Search) -> Self {
        self.search.entries.extend(search.entries);
        self
    }

    /// Asks for on-demand columns (`ondemandcolumns`).
    pub fn ondemand<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.ondemand.extend(columns.into_iter().map(Into::into));
        self
    }

    /// A function-specific filter, e.g. `("Product_Show", "Active")`.
    pub fn filter(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filters.push((name.into(), value.into()));
        self
    }

    /// Any other top-level parameter of the function (e.g. `Customer_ID`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// The `Count` set, if any.
    pub fn get_count(&self) -> Option<u64> {
        self.count
    }

    /// The `Offset` set, if any.
    pub fn get_offset(&self) -> Option<u64> {
        self.offset
    }

    /// Sets `Count` and `Offset` in place (used by pagination).
    pub fn set_page(&mut self, offset: u64, count: u64) {
        self.offset = Some(offset);
        self.count = Some(count);
    }

    /// Checks the search, sort, on-demand columns and custom filters
    /// against a function's columns: a name the function does not have is
    /// an [`ErrorKind::UnknownColumn`](crate::ErrorKind::UnknownColumn)
    /// error naming it, the closest valid names and the fix. Names with a
    /// `:` (custom fields) pass, and so does any kind of name for which the
    /// spec lists none.
    pub fn check_columns(&self, columns: &crate::api::ListColumns) -> Result<(), crate::Error> {
        let mut searched = Vec::new();
        self.search.fields(&mut searched);
        let mut ondemand: Vec<String> = self.ondemand.clone();
        for (name, value) in &self.filters {
            match name.to_ascii_lowercase().as_str() {
                "search" => raw_search_fields(value, &mut searched),
                "ondemandcolumns" => ondemand.extend(
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned),
                ),
                _ => check_custom_filter(columns, name, value)?,
            }
        }
        for field in &searched {
            check_name(columns, "search on", field, columns.search)?;
        }
        if let Some(sort) = &self.sort {
            check_name(columns, "sort by", &sort.field, columns.sort)?;
        }
        for column in &ondemand {
            check_name(
                columns,
                "load the on-demand column",
                column,
                columns.on_demand,
            )?;
        }
        Ok(())
    }

    /// Reads a query from the JSON object of a raw call: `Count`, `Offset`,
    /// `Sort` and `Filter` are understood (a `Filter` array is kept as sent),
    /// everything else becomes a top-level parameter.
    pub fn from_json(map: Map<String, Value>) -> Result<Self, crate::Error> {
        let mut query = Self::new();
        for (key, value) in map {
            match key.as_str() {
                "Count" | "Offset" => {
                    let n = value.as_u64().ok_or_else(|| {
                        crate::Error::new(
                            crate::ErrorKind::Params,
                            format!("{key} must be a non-negative integer, found {value}"),
                        )
                    })?;
                    if key == "Count" {
                        query.count = Some(n);
                    } else {
                        query.offset = Some(n);
                    }
                }
                "Sort" => {
                    let s = value.as_str().ok_or_else(|| {
                        crate::Error::new(
                            crate::ErrorKind::Params,
                            format!("Sort must be a column name (\"-name\" for descending), found {value}"),
                        )
                    })?;
                    // "" (what the official SDKs send by default) and "-"
                    // mean no sort.
                    query.sort = match s.strip_prefix('-').unwrap_or(s) {
                        "" => None,
                        field if s.starts_with('-') => Some(Sort::desc(field)),
                        field => Some(Sort::asc(field)),
                    };
                }
                "Filter" => match value {
                    Value::Array(items) => {
                        for item in items {
                            let name = item.get("name").and_then(Value::as_str).map(str::to_owned);
                            let Some(name) = name else {
                                return Err(crate::Error::new(
                                    crate::ErrorKind::Params,
                                    format!(
                                        "each Filter entry needs \"name\" and \"value\", found {item}"
                                    ),
                                ));
                            };
                            let value = item.get("value").cloned().unwrap_or(Value::Null);
                            query.filters.push((name, value));
                        }
                    }
                    other => {
                        return Err(crate::Error::new(
                            crate::ErrorKind::Params,
                            format!(
                                "Filter must be an array of {{\"name\", \"value\"}} objects, found {other}"
                            ),
                        ));
                    }
                },
                _ => {
                    query.params.insert(key, value);
                }
            }
        }
        Ok(query)
    }
}

impl Serialize for ListQuery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in &self.params {
            map.serialize_entry(name, value)?;
        }
        if let Some(count) = self.count {
            map.serialize_entry("Count", &count)?;
        }
        if let Some(offset) = self.offset {
            map.serialize_entry("Offset", &offset)?;
        }
        if let Some(sort) = &self.sort {
            map.serialize_entry("Sort", &sort.to_wire())?;
        }
        if !self.search.is_empty() || !self.ondemand.is_empty() || !self.filters.is_empty() {
            map.serialize_entry("Filter", &Filters(self))?;
        }
        map.end()
    }
}

/// `: did you mean `x`?` for the names closest to `name`, or `.` when none
/// is close: the end of the sentence naming what was refused.
fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    match crate::api::closest(name, candidates.iter().copied()).as_slice() {
        [] => ".".to_owned(),
        [one] => format!(": did you mean `{one}`?"),
        many => format!(": did you mean one of `{}`?", many.join("`, `")),
    }
}

fn check_name(
    columns: &crate::api::ListColumns,
    what: &str,
    name: &str,
    valid: &[&str],
) -> Result<(), crate::Error> {
    if valid.is_empty() || name.is_empty() || name.contains(':') || valid.contains(&name) {
        return Ok(());
    }
    let hint = did_you_mean(name, valid);
    Err(crate::Error::new(
        crate::ErrorKind::UnknownColumn,
        format!(
            "{} cannot {what} `{name}`{hint} It can {what}: {}",
            columns.function,
            valid.join(", ")
        ),
    ))
}

fn check_custom_filter(
    columns: &crate::api::ListColumns,
    name: &str,
    value: &Value,
) -> Result<(), crate::Error> {
    if columns.custom_filters.is_empty() {
        return Ok(());
    }
    let Some((_, allowed)) = columns
        .custom_filters
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    else {
        let names: Vec<&str> = columns.custom_filters.iter().map(|(n, _)| *n).collect();
        let hint = did_you_mean(name, &names);
        return Err(crate::Error::new(
            crate::ErrorKind::UnknownColumn,
            format!(
                "{} has no filter `{name}`{hint} Its filters are search, ondemandcolumns and {}",
                columns.function,
                names.join(", ")
            ),
        ));
    };
    if allowed.is_empty() {
        return Ok(());
    }
    // A value, or each value of a list, must be one of the allowed ones.
    let values: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    for v in values {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&text)) {
            return Err(crate::Error::new(
                crate::ErrorKind::UnknownColumn,
                format!(
                    "{}: filter `{name}` takes one of {}, not `{text}`",
                    columns.function,
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The field names of a raw `search` filter value, into nested groups.
fn raw_search_fields(value: &Value, out: &mut Vec<String>) {
    for entry in value.as_array().into_iter().flatten() {
        let field = entry.get("field").and_then(Value::as_str);
        let operator = entry.get("operator").and_then(Value::as_str);
        if operator.is_some_and(|o| o.eq_ignore_ascii_case("SUBWHERE")) {
            if let Some(inner) = entry.get("value") {
                raw_search_fields(inner, out);
            }
        } else if let Some(field) = field {
            out.push(field.to_owned());
        }
    }
}

struct Filters<'a>(&'a ListQuery);

#[derive(Serialize)]
struct NamedFilter<'a, V: Serialize> {
    name: &'a str,
    value: V,
}

impl Serialize for Filters<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let q = self.0;
        let mut seq = serializer.serialize_seq(None)?;
        if !q.search.is_empty() {
            seq.serialize_element(&NamedFilter {
                name: "search",
                value: &q.search,
            })?;
        }
        if !q.ondemand.is_empty() {
            seq.serialize_element(&NamedFilter {
                name: "ondemandcolumns",
                value: &q.ondemand,
            })?;
        }
        for (name, value) in &q.filters {
            seq.serialize_element(&NamedFilter { name, value })?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn products(query: &ListQuery) -> Result<(), String> {
        query
            .check_columns(&crate::api::functions::ProductListLoadQuery::COLUMNS)
            .map_err(|e| e.to_string())
    }

    fn raw(json: serde_json::Value) -> ListQuery {
        ListQuery::from_json(json.as_object().unwrap().clone()).unwrap()
    }

    #[test]
    fn columns_are_checked_everywhere_a_query_names_them() {
        // Accepted: spec columns, nested groups, custom fields, empty sorts.
        let ok = ListQuery::new()
            .sort(Sort::desc("price"))
            .search(
                Search::new().eq("code", "A").and(
                    Search::new()
                        .gt("price", 1)
                        .or(Search::new().is_true("active")),
                ),
            )
            .ondemand(["descrip", "CustomField_Values:customfields:color"])
            .filter("Product_Show", "Active");
        assert_eq!(products(&ok), Ok(()));
        for empty in ["", "-"] {
            let q = raw(serde_json::json!({"Sort": empty}));
            assert_eq!(q.sort, None);
            assert_eq!(products(&q), Ok(()));
        }
        assert_eq!(
            products(&ListQuery::new().filter("product_show", "active")),
            Ok(())
        );
        assert_eq!(
            products(
                &ListQuery::new().filter("Product_Show", serde_json::json!(["All", "Active"]))
            ),
            Ok(())
        );
        // Refused: a typo in a nested group, in raw Filter JSON, in a sort,
        // an on-demand column, a filter name, a filter value of any type.
        let nested = ListQuery::new().search(
            Search::new()
                .eq("code", "A")
                .or(Search::new().gt("prcie", 1)),
        );
        assert!(
            products(&nested)
                .unwrap_err()
                .contains("cannot search on `prcie`: did you mean `price`?")
        );
        let raw_nested = raw(serde_json::json!({"Filter": [{"name": "search", "value": [
            {"field": "search_OR", "operator": "SUBWHERE", "value": [{"field": "nmae", "operator": "EQ", "value": "x"}]}
        ]}]}));
        assert!(
            products(&raw_nested)
                .unwrap_err()
                .contains("`nmae`: did you mean `name`?")
        );
        assert!(
            products(&raw(serde_json::json!({"Sort": "-cots"})))
                .unwrap_err()
                .contains("sort by `cots`")
        );
        assert!(
            products(&raw(
                serde_json::json!({"Filter": [{"name": "OnDemandColumns", "value": ["descirp"]}]})
            ))
            .unwrap_err()
            .contains("on-demand column `descirp`")
        );
        assert!(
            products(&ListQuery::new().filter("Product_Shwo", "All"))
                .unwrap_err()
                .contains("did you mean `Product_Show`?")
        );
        assert!(
            products(&ListQuery::new().filter("Product_Show", serde_json::json!(["Bogus"])))
                .unwrap_err()
                .contains("not `Bogus`")
        );
        assert!(
            products(&ListQuery::new().filter("Product_Show", 3))
                .unwrap_err()
                .contains("not `3`")
        );
        // No close name: the sentence still ends.
        let far = products(&ListQuery::new().sort(Sort::asc("zzzzzzzzzzzz"))).unwrap_err();
        assert!(
            far.contains("`zzzzzzzzzzzz`. It can sort by: id, code"),
            "{far}"
        );
    }

    use serde_json::json;

    #[test]
    fn every_operator_has_its_wire_name() {
        // The list in wire-facts.md, "List Load Query".
        let names: Vec<&str> = Operator::ALL.iter().map(|op| op.as_str()).collect();
        assert_eq!(
            names,
            [
                "EQ", "GT", "GE", "LT", "LE", "CO", "NC", "LIKE", "NOTLIKE", "NE", "TRUE", "FALSE",
                "NULL", "IN", "NOT_IN"
            ]
        );
        for op in Operator::ALL {
            assert_eq!(Operator::parse(&op.as_str().to_lowercase()), Some(op));
        }
        assert_eq!(Operator::parse("SUBWHERE"), None);
    }

    #[test]
    fn unary_operators_send_no_value_and_sets_are_comma_joined() {
        let search = Search::new()
            .condition("a", Operator::Null, Some(json!("ignored")))
            .is_false("b")
            .not_in("c", [1, 2, 3])
            .is_in("d", ["x"])
            .ne("e", "y")
            .contains("f", "z")
            .not_contains("g", "w")
            .not_like("h", "%q")
            .ge("i", 1.5)
            .le("j", -2)
            .lt("k", 0)
            .eq("l", true);
        assert_eq!(
            serde_json::to_value(&search).unwrap(),
            json!([
                {"field": "a", "operator": "NULL"},
                {"field": "b", "operator": "FALSE"},
                {"field": "c", "operator": "NOT_IN", "value": "1,2,3"},
                {"field": "d", "operator": "IN", "value": "x"},
                {"field": "e", "operator": "NE", "value": "y"},
                {"field": "f", "operator": "CO", "value": "z"},
                {"field": "g", "operator": "NC", "value": "w"},
                {"field": "h", "operator": "NOTLIKE", "value": "%q"},
                {"field": "i", "operator": "GE", "value": 1.5},
                {"field": "j", "operator": "LE", "value": -2},
                {"field": "k", "operator": "LT", "value": 0},
                {"field": "l", "operator": "EQ", "value": true},
            ])
        );
    }

    #[test]
    fn empty_query_serializes_to_an_empty_object() {
        assert_eq!(serde_json::to_string(&ListQuery::new()).unwrap(), "{}");
    }

    #[test]
    fn raw_json_round_trips_through_the_builder() {
        let raw = json!({
            "Count": 5, "Offset": 10, "Sort": "-code", "Customer_ID": 3,
            "Filter": [{"name": "search", "value": [{"field": "code", "operator": "EQ", "value": "A"}]},
                       {"name": "Product_Show", "value": "All"}]
        });
        let Value::Object(map) = raw.clone() else {
            unreachable!()
        };
        let query = ListQuery::from_json(map).unwrap();
        assert_eq!(serde_json::to_value(&query).unwrap(), raw);
        let Value::Object(bad) = json!({"Count": -1}) else {
            unreachable!()
        };
        let err = ListQuery::from_json(bad).unwrap_err();
        assert!(err.to_string().starts_with("Count must be"), "{err}");
    }

    #[test]
    fn set_page_overrides_count_and_offset() {
        let mut q = ListQuery::new().count(1).offset(2);
        q.set_page(40, 20);
        assert_eq!((q.get_offset(), q.get_count()), (Some(40), Some(20)));
    }
}
