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

impl Connector {
    fn subwhere_field(self) -> &'static str {
        match self {
            Self::And => "search_AND",
            Self::Or => "search_OR",
        }
    }
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

/// A search, read in the order it is built: each condition is ANDed with
/// everything before it, `.and(group)` ANDs a bracketed group and
/// `.or(group)` ORs one, so `a.or(b).and(c)` is `(a OR b) AND c`. An empty
/// group adds nothing, and an empty search matches every record.
///
/// A store reads a search differently from how it looks: plain conditions
/// side by side are ORed, and it flattens groups into one SQL `WHERE`
/// where AND binds tighter than OR (Miva's server code, `mmlsk-json.mv`
/// 4155-4156, 4336-4346, 4543-4547; the facts page, "How a store combines
/// conditions"). So every connector after the first goes on the wire as a
/// one-element `search_AND` / `search_OR` `SUBWHERE`, as the official SDKs
/// send it, and what came before is bracketed when an AND follows an OR.
/// The store's reading of the JSON is the builder's meaning (a property
/// test in `miva-mock/tests/filter_semantics.rs` checks it for random
/// trees against an evaluator of the store's rules).
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
///
/// // Two conditions: active AND price > 10 (sent side by side, a store
/// // would read active OR price > 10).
/// assert_eq!(
///     serde_json::to_string(&Search::new().is_true("active").gt("price", 10))?,
///     r#"[{"field":"active","operator":"TRUE"},{"field":"search_AND","operator":"SUBWHERE","value":[{"field":"price","operator":"GT","value":10}]}]"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// A set a store would not read as written (`is_in(f, [])`, which a store
/// treats as no condition and so matches every record, or a member with a
/// comma, which it splits) is refused: [`ListQuery::validate`] names the
/// field, and serializing fails rather than send it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    entries: Vec<Entry>,
    /// The first condition that cannot be sent as written.
    problem: Option<String>,
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
    fn leaves(&self, out: &mut Vec<(String, String)>) {
        for entry in &self.entries {
            match entry {
                Entry::Condition {
                    field, operator, ..
                } => out.push((field.clone(), operator.as_str().to_owned())),
                Entry::Group(_, inner) => inner.leaves(out),
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

    /// ANDs `field OPERATOR value` with what came before. `value` is
    /// dropped for `TRUE`, `FALSE` and `NULL`; for `IN` / `NOT_IN` an array
    /// is joined with commas, as the API expects (an empty set, or a member
    /// that is empty or holds a comma, is refused when the query is checked
    /// or sent). A string given for `IN` / `NOT_IN` is one member, so a
    /// pre-joined `"A,B"` is refused: pass `["A", "B"]`.
    pub fn condition(
        mut self,
        field: impl Into<String>,
        operator: Operator,
        value: Option<Value>,
    ) -> Self {
        let field = field.into();
        let value = if operator.is_unary() {
            None
        } else if matches!(operator, Operator::In | Operator::NotIn) {
            let set = value.unwrap_or(Value::Null);
            if self.problem.is_none() {
                self.problem = set_problem(&field, operator.as_str(), &set, true);
            }
            Some(join_set(set))
        } else {
            value
        };
        self.entries.push(Entry::Condition {
            field,
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
        /// `field CO value` (contains; a store sends it as `LIKE
        /// '%value%'`, so `%` and `_` in the value are wildcards).
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

    /// `field NULL` (a store matches NULL and the empty string).
    pub fn is_null(self, field: impl Into<String>) -> Self {
        self.condition(field, Operator::Null, None)
    }

    /// `field IN (values...)`: at least one value, none empty or with a
    /// comma.
    pub fn is_in<V: Into<Value>>(
        self,
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let set = Value::Array(values.into_iter().map(Into::into).collect());
        self.condition(field, Operator::In, Some(set))
    }

    /// `field NOT_IN (values...)`: at least one value, none empty or with a
    /// comma.
    pub fn not_in<V: Into<Value>>(
        self,
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let set = Value::Array(values.into_iter().map(Into::into).collect());
        self.condition(field, Operator::NotIn, Some(set))
    }

    /// `(what came before) AND (group)`; an empty group adds nothing.
    pub fn and(self, group: Search) -> Self {
        self.join(Connector::And, group)
    }

    /// `(what came before) OR (group)`; an empty group adds nothing, and
    /// on an empty search the result is `group`.
    pub fn or(self, group: Search) -> Self {
        self.join(Connector::Or, group)
    }

    fn join(mut self, connector: Connector, group: Search) -> Self {
        if self.problem.is_none() {
            self.problem.clone_from(&group.problem);
        }
        if !group.is_empty() {
            self.entries.push(Entry::Group(connector, group));
        }
        self
    }

    /// The wire entries and whether an OR joins two of them at the top.
    ///
    /// The store joins an entry to the one before it by the entry's own
    /// connector (`search_AND` / `search_OR` SUBWHERE), ignores the first
    /// entry's, and flattens into SQL where AND binds tighter than OR
    /// (`lib/dbeng/sql.mv` 265-299). So: the first entry goes as it is
    /// (a first group's entries inline), every later one inside a
    /// one-element SUBWHERE of its connector, and before an AND, if an OR
    /// is already at this level, everything so far is bracketed, so the
    /// left-to-right reading holds.
    fn wire(&self) -> (Vec<Value>, bool) {
        let mut list: Vec<Value> = Vec::new();
        let mut has_or = false;
        for entry in &self.entries {
            let (connector, items, items_or) = match entry {
                Entry::Condition {
                    field,
                    operator,
                    value,
                } => {
                    let mut map = Map::new();
                    map.insert("field".into(), Value::String(field.clone()));
                    map.insert("operator".into(), operator.as_str().into());
                    if let Some(value) = value {
                        map.insert("value".into(), value.clone());
                    }
                    (Connector::And, vec![Value::Object(map)], false)
                }
                Entry::Group(connector, group) => {
                    let (items, items_or) = group.wire();
                    (*connector, items, items_or)
                }
            };
            if items.is_empty() {
                continue;
            }
            if list.is_empty() {
                list = items;
                has_or = items_or;
                continue;
            }
            if connector == Connector::And && has_or {
                list = vec![subwhere(Connector::And, list)];
                has_or = false;
            }
            list.push(subwhere(connector, items));
            has_or |= connector == Connector::Or;
        }
        (list, has_or)
    }
}

fn subwhere(connector: Connector, items: Vec<Value>) -> Value {
    let mut map = Map::new();
    map.insert("field".into(), connector.subwhere_field().into());
    map.insert("operator".into(), "SUBWHERE".into());
    map.insert("value".into(), Value::Array(items));
    Value::Object(map)
}

fn set_member_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Why an `IN` / `NOT_IN` set cannot be sent as written, if it cannot. A
/// store splits the value on commas, trims the pieces and skips empty ones;
/// a set with no piece adds no condition at all, so it matches every record
/// (`lib/dbeng/sql.mv` 885-903). `members` is true for a builder's list of
/// members (a comma inside one is refused); false for a raw comma-joined
/// string (commas are the separators).
fn set_problem(field: &str, op: &str, set: &Value, members: bool) -> Option<String> {
    let pieces: Vec<String> = match set {
        Value::Array(items) if members => items.iter().map(set_member_text).collect(),
        Value::Array(_) | Value::Object(_) => {
            return Some(format!(
                "search on `{field}` {op}: the value must be one comma-joined string (\"A,B\"), \
                 found {set}"
            ));
        }
        Value::Null => Vec::new(),
        Value::String(s) if !members => {
            if s.trim().is_empty() {
                Vec::new()
            } else {
                s.split(',').map(str::to_owned).collect()
            }
        }
        other => vec![set_member_text(other)],
    };
    if pieces.is_empty() {
        return Some(format!(
            "search on `{field}` {op}: the set is empty, and a store reads an empty {op} as no \
             condition at all, so it would return every record; give at least one value, or \
             leave the condition out"
        ));
    }
    for (i, piece) in pieces.iter().enumerate() {
        if members && piece.contains(',') {
            return Some(format!(
                "search on `{field}` {op}: the value `{piece}` contains a comma, and a store \
                 splits {op} values on commas; match it with EQ (or LIKE) in an OR group instead"
            ));
        }
        if piece.trim().is_empty() {
            return Some(format!(
                "search on `{field}` {op}: value {} of the set is empty, and a store skips empty \
                 values; leave it out",
                i + 1
            ));
        }
    }
    None
}

fn join_set(value: Value) -> Value {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(set_member_text).collect();
            Value::String(parts.join(","))
        }
        other => other,
    }
}

impl Serialize for Search {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(problem) = &self.problem {
            return Err(serde::ser::Error::custom(problem));
        }
        let (list, _) = self.wire();
        let mut seq = serializer.serialize_seq(Some(list.len()))?;
        for item in &list {
            seq.serialize_element(item)?;
        }
        seq.end()
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

    /// ANDs `search` with the query's search so far (the first call sets
    /// it), in the one `search` filter.
    pub fn search(mut self, search: Search) -> Self {
        self.search = if self.search.is_empty() && self.search.problem.is_none() {
            search
        } else {
            std::mem::take(&mut self.search).and(search)
        };
        self
    }

    /// `Product_Show` with a value a store knows, spelt as it matches it
    /// (product lists).
    pub fn product_show(self, show: ProductShow) -> Self {
        self.filter("Product_Show", show.as_str())
    }

    /// `Category_Show` with a value a store knows, spelt as it matches it
    /// (category lists).
    pub fn category_show(self, show: CategoryShow) -> Self {
        self.filter("Category_Show", show.as_str())
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

    /// Checks what needs no function's columns: every search (built or
    /// raw) and filter name is one a store matches (names are
    /// case-sensitive, and a store drops an unknown one silently, which
    /// widens the result), raw searches are well formed, and no `IN` /
    /// `NOT_IN` set is empty or has a member with a comma. Errors name the
    /// field or filter and the fix.
    pub fn validate(&self) -> Result<(), crate::Error> {
        self.parts().map(|_| ())
    }

    /// The searched (field, operator) pairs and the on-demand columns, once
    /// every name is checked.
    fn parts(&self) -> Result<Parts<'_>, crate::Error> {
        let params = |m: String| crate::Error::new(crate::ErrorKind::Params, m);
        if let Some(problem) = &self.search.problem {
            return Err(params(problem.clone()));
        }
        let mut parts = Parts {
            searched: Vec::new(),
            ondemand: self.ondemand.iter().map(String::as_str).collect(),
            custom: Vec::new(),
        };
        self.search.leaves(&mut parts.searched);
        for (name, value) in &self.filters {
            match name.as_str() {
                "search" | "search_AND" | "search_OR" => {
                    raw_search(value, &format!("Filter `{name}`"), &mut parts.searched)?;
                }
                "ondemandcolumns" => match value {
                    Value::Array(items) => {
                        for item in items {
                            let Some(column) = item.as_str() else {
                                return Err(params(format!(
                                    "Filter `ondemandcolumns` takes column names (strings), found {item}"
                                )));
                            };
                            parts.ondemand.push(column);
                        }
                    }
                    other => {
                        return Err(params(format!(
                            "Filter `ondemandcolumns` takes an array of column names, found {other}"
                        )));
                    }
                },
                other => {
                    if let Some(known) = FILTER_NAMES.iter().find(|n| n.eq_ignore_ascii_case(other))
                    {
                        return Err(wrong_case("Filter name", other, known));
                    }
                    parts.custom.push((name.as_str(), value));
                }
            }
        }
        Ok(parts)
    }

    /// [`validate`](Self::validate), then the search fields and their
    /// operators, sort, on-demand columns and custom filters against a
    /// function's columns: a name the function does not have is an
    /// [`ErrorKind::UnknownColumn`](crate::ErrorKind::UnknownColumn) error
    /// naming it, the closest valid names and the fix, and so is an
    /// operator a store ignores for that field (a product list's
    /// `category` works only with `IN` / `NOT_IN`). Names with a `:`
    /// (custom fields) pass, and so does any kind of name for which the
    /// spec lists none.
    pub fn check_columns(&self, columns: &crate::api::ListColumns) -> Result<(), crate::Error> {
        let parts = self.parts()?;
        for (name, value) in &parts.custom {
            check_custom_filter(columns, name, value)?;
        }
        for (field, operator) in &parts.searched {
            check_name(columns, "search on", field, columns.search)?;
            if let Some((_, allowed)) = columns.search_operators.iter().find(|(f, _)| f == field)
                && !allowed.contains(&operator.as_str())
            {
                return Err(crate::Error::new(
                    crate::ErrorKind::UnknownColumn,
                    format!(
                        "{} can search on `{field}` only with {}: a store drops `{field} {operator}` \
                         without an error and returns every record; use {}",
                        columns.function,
                        allowed.join(" or "),
                        allowed
                            .iter()
                            .map(|op| format!("{op} (`Search::{}`)", builder_of(op)))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                ));
            }
        }
        if let Some(sort) = &self.sort {
            check_name(columns, "sort by", &sort.field, columns.sort)?;
        }
        for column in &parts.ondemand {
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

/// The names of a query, gathered by [`ListQuery::parts`].
struct Parts<'a> {
    /// (field, operator) of every condition, in nested groups too.
    searched: Vec<(String, String)>,
    /// On-demand columns.
    ondemand: Vec<&'a str>,
    /// Function-specific filters.
    custom: Vec<(&'a str, &'a Value)>,
}

/// The filter names every list query shares, spelt as a store matches them
/// (`mmlsk-json.mv` 4190-4194, 4336-4346).
const FILTER_NAMES: [&str; 4] = ["search", "search_AND", "search_OR", "ondemandcolumns"];

/// The names a SUBWHERE's `field` may have (`mmlsk-json.mv` 4543-4547).
const SUBWHERE_FIELDS: [&str; 3] = ["search", "search_AND", "search_OR"];

fn wrong_case(what: &str, found: &str, known: &str) -> crate::Error {
    crate::Error::new(
        crate::ErrorKind::UnknownColumn,
        format!(
            "{what} `{found}` is not one a store knows: did you mean `{known}`? Names are \
             case-sensitive at the store, and it drops one it does not know without an error"
        ),
    )
}

/// The `Search` builder method for an operator's wire name.
fn builder_of(op: &str) -> &'static str {
    match op {
        "IN" => "is_in",
        "NOT_IN" => "not_in",
        "EQ" => "eq",
        "NE" => "ne",
        "GT" => "gt",
        "GE" => "ge",
        "LT" => "lt",
        "LE" => "le",
        "CO" => "contains",
        "NC" => "not_contains",
        "LIKE" => "like",
        "NOTLIKE" => "not_like",
        "TRUE" => "is_true",
        "FALSE" => "is_false",
        "NULL" => "is_null",
        _ => "condition",
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
    let hint = match valid.iter().find(|v| v.eq_ignore_ascii_case(name)) {
        Some(known) => format!(
            ": did you mean `{known}`? Names are case-sensitive at the store, which drops one it \
             does not know without an error."
        ),
        None => did_you_mean(name, valid),
    };
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
    let Some((_, allowed)) = columns.custom_filters.iter().find(|(n, _)| *n == name) else {
        if let Some((known, _)) = columns
            .custom_filters
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Err(wrong_case(
                &format!("{}: filter", columns.function),
                name,
                known,
            ));
        }
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
    // A store compares the value with each name it knows, exactly
    // (`json/products.mv` 2047-2052, `json/categories.mv` 683-686); any
    // other value means something else (active products only, or all
    // categories), never an error.
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if allowed.contains(&text.as_str()) {
        return Ok(());
    }
    let hint = match allowed.iter().find(|a| a.eq_ignore_ascii_case(&text)) {
        Some(known) => format!(
            ": did you mean `{known}`? Values are case-sensitive at the store, which reads one \
             it does not know as something else without an error"
        ),
        None => String::new(),
    };
    Err(crate::Error::new(
        crate::ErrorKind::UnknownColumn,
        format!(
            "{}: filter `{name}` takes one of {}, not `{text}`{hint}",
            columns.function,
            allowed.join(", ")
        ),
    ))
}

/// Checks a raw `search` filter value as a store reads it and collects
/// its (field, operator) pairs, into nested groups: an array of `{"field",
/// "operator", "value"}` objects, operators and SUBWHERE fields spelt
/// exactly, and IN / NOT_IN sets that are not empty.
fn raw_search(
    value: &Value,
    path: &str,
    out: &mut Vec<(String, String)>,
) -> Result<(), crate::Error> {
    let params = |m: String| crate::Error::new(crate::ErrorKind::Params, m);
    let items = match value {
        Value::Array(items) => items,
        other => {
            return Err(params(format!(
                "{path}: a search value must be an array of {{\"field\", \"operator\", \"value\"}} \
                 objects, found {other}"
            )));
        }
    };
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}, entry {}", i + 1);
        let field = item.get("field").and_then(Value::as_str);
        let operator = item.get("operator").and_then(Value::as_str);
        let (Some(field), Some(operator)) = (field, operator) else {
            return Err(params(format!(
                "{here}: each search entry needs \"field\" and \"operator\" strings, found {item}"
            )));
        };
        if operator == "SUBWHERE" {
            if !SUBWHERE_FIELDS.contains(&field) {
                if let Some(known) = SUBWHERE_FIELDS
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(field))
                {
                    return Err(wrong_case(&format!("{here}: SUBWHERE field"), field, known));
                }
                return Err(params(format!(
                    "{here}: a SUBWHERE's field is search_AND, search_OR or search, not `{field}` \
                     (a store drops the group)"
                )));
            }
            raw_search(
                item.get("value").unwrap_or(&Value::Null),
                &format!("{here} ({field})"),
                out,
            )?;
            continue;
        }
        if operator.eq_ignore_ascii_case("SUBWHERE") {
            return Err(wrong_case(
                &format!("{here}: operator"),
                operator,
                "SUBWHERE",
            ));
        }
        let Some(op) = Operator::ALL.into_iter().find(|op| op.as_str() == operator) else {
            if let Some(op) = Operator::parse(operator) {
                return Err(wrong_case(
                    &format!("{here}: operator"),
                    operator,
                    op.as_str(),
                ));
            }
            let names: Vec<&str> = Operator::ALL.iter().map(|op| op.as_str()).collect();
            return Err(params(format!(
                "{here}: unknown operator `{operator}` (a store drops the condition); use one of \
                 {} or SUBWHERE",
                names.join(", ")
            )));
        };
        if matches!(op, Operator::In | Operator::NotIn)
            && let Some(problem) = set_problem(
                field,
                operator,
                item.get("value").unwrap_or(&Value::Null),
                false,
            )
        {
            return Err(params(format!("{here}: {problem}")));
        }
        out.push((field.to_owned(), operator.to_owned()));
    }
    Ok(())
}

/// `Product_Show`: which products a product list returns (`json/products.mv`
/// 2047-2052; a value a store does not know means active products only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductShow {
    /// Every product (`All`).
    All,
    /// Active products only (`Active`).
    Active,
    /// Products in no category (`Uncategorized`).
    Uncategorized,
}

impl ProductShow {
    /// The value a store matches.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::Active => "Active",
            Self::Uncategorized => "Uncategorized",
        }
    }
}

/// `Category_Show`: which categories a category list returns
/// (`json/categories.mv` 683-686; a value a store does not know means all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryShow {
    /// Every category (`All`).
    All,
    /// Active categories only (`Active`).
    Active,
}

impl CategoryShow {
    /// The value a store matches.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::Active => "Active",
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
            products(&ListQuery::new().product_show(ProductShow::Uncategorized)),
            Ok(())
        );
        // A store matches names and values exactly, and one value.
        assert!(
            products(&ListQuery::new().filter("product_show", "Active"))
                .unwrap_err()
                .contains("did you mean `Product_Show`?")
        );
        assert!(
            products(
                &ListQuery::new().filter("Product_Show", serde_json::json!(["All", "Active"]))
            )
            .is_err()
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
                serde_json::json!({"Filter": [{"name": "ondemandcolumns", "value": ["descirp"]}]})
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
            products(&ListQuery::new().filter("Product_Show", "Bogus"))
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
        let searches = [
            Search::new().condition("a", Operator::Null, Some(json!("ignored"))),
            Search::new().is_false("b"),
            Search::new().not_in("c", [1, 2, 3]),
            Search::new().is_in("d", ["x"]),
            Search::new().ne("e", "y"),
            Search::new().contains("f", "z"),
            Search::new().not_contains("g", "w"),
            Search::new().not_like("h", "%q"),
            Search::new().ge("i", 1.5),
            Search::new().le("j", -2),
            Search::new().lt("k", 0),
            Search::new().eq("l", true),
        ];
        // Each on its own: a lone condition goes as it is.
        let wire: Vec<Value> = searches
            .iter()
            .map(|s| serde_json::to_value(s).unwrap()[0].clone())
            .collect();
        assert_eq!(
            Value::Array(wire),
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
