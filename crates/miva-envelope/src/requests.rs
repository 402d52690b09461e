//! Typed requests: what a function is called, its scope, its parameters and
//! the type of its `data`.

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::query::ListQuery;
use crate::response::ListPage;

/// Whether a function runs against one store (`Store_Code` sent) or the
/// whole domain (no `Store_Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Store-scoped: the envelope carries `Store_Code`.
    Store,
    /// Domain-scoped, e.g. `StoreList_Load_Query`.
    Domain,
}

/// A typed call: its parameters serialize to the JSON object sent after the
/// envelope's fields.
pub trait MivaRequest: Serialize {
    /// The type of the response's `data` (`()` when there is none).
    type Response: DeserializeOwned;

    /// The API function's name.
    fn function(&self) -> &str;

    /// Store or domain scope.
    fn scope(&self) -> Scope {
        Scope::Store
    }

    /// Checks what can be checked before sending: a list query's columns
    /// and filters against its function's (see [`crate::api`]). Clients
    /// call it before every request; the default accepts everything.
    fn validate(&self) -> Result<(), crate::Error> {
        Ok(())
    }
}

/// A typed `*List_Load_Query` call, which the client can page through.
pub trait ListRequest: MivaRequest<Response = ListPage<Self::Record>> + Clone {
    /// One record.
    type Record: DeserializeOwned;

    /// The query.
    fn query(&self) -> &ListQuery;

    /// The query, to set `Count` and `Offset` per page.
    fn query_mut(&mut self) -> &mut ListQuery;
}

/// Any list function by name, with records as JSON values: for functions
/// without a typed request.
#[derive(Debug, Clone, PartialEq)]
pub struct RawListQuery {
    /// The function, e.g. `CouponList_Load_Query`.
    pub function: String,
    /// Store or domain scope.
    pub scope: Scope,
    /// The query.
    pub query: ListQuery,
    /// Whether [`MivaRequest::validate`] checks the query's columns against
    /// the function's in the spec (when the spec has the function); true
    /// from [`RawListQuery::new`].
    pub check_columns: bool,
}

impl RawListQuery {
    /// A list function by name, in the scope the spec gives it (store
    /// scope for a function the spec does not have).
    pub fn new(function: impl Into<String>, query: ListQuery) -> Self {
        let function = function.into();
        let scope = crate::api::function(&function).map_or(Scope::Store, |f| f.scope);
        Self {
            function,
            scope,
            query,
            check_columns: true,
        }
    }
}

impl Serialize for RawListQuery {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.query.serialize(s)
    }
}

impl MivaRequest for RawListQuery {
    type Response = ListPage<Value>;
    fn function(&self) -> &str {
        &self.function
    }
    fn scope(&self) -> Scope {
        self.scope
    }
    fn validate(&self) -> Result<(), crate::Error> {
        crate::api::check_function_name(&self.function)?;
        let info = crate::api::function(&self.function);
        match info.and_then(|f| f.list) {
            Some(columns) if self.check_columns => self.query.check_columns(columns),
            _ => self.query.validate(),
        }
    }
}

impl ListRequest for RawListQuery {
    type Record = Value;
    fn query(&self) -> &ListQuery {
        &self.query
    }
    fn query_mut(&mut self) -> &mut ListQuery {
        &mut self.query
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_list_queries_are_checked_when_the_spec_knows_the_function() {
        let mut q = RawListQuery::new(
            "ProductList_Load_Query",
            ListQuery::new().sort(crate::Sort::asc("prce")),
        );
        let error = q.validate().unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::UnknownColumn);
        assert!(
            error.to_string().contains("did you mean `price`?"),
            "{error}"
        );
        q.check_columns = false;
        assert!(q.validate().is_ok());
        let unknown = RawListQuery::new(
            "Custom_List_Load_Query",
            ListQuery::new().sort(crate::Sort::asc("x")),
        );
        assert!(unknown.validate().is_ok());
        let mut p = RawListQuery::new("StoreList_Load_Query", ListQuery::new().count(3));
        p.query_mut().set_page(6, 3);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"Count": 3, "Offset": 6})
        );
    }
}
