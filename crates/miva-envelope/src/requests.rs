//! Typed requests: what a function is called, its scope, its parameters and
//! the type of its `data`.

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::models::{Category, Customer, Order, Product};
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

macro_rules! list_request {
    ($(#[$doc:meta])* $name:ident, $function:literal, $record:ty, $scope:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name(pub ListQuery);

        impl $name {
            /// The request for `query`.
            pub fn new(query: ListQuery) -> Self {
                Self(query)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        impl MivaRequest for $name {
            type Response = ListPage<$record>;
            fn function(&self) -> &str {
                $function
            }
            fn scope(&self) -> Scope {
                $scope
            }
        }

        impl ListRequest for $name {
            type Record = $record;
            fn query(&self) -> &ListQuery {
                &self.0
            }
            fn query_mut(&mut self) -> &mut ListQuery {
                &mut self.0
            }
        }
    };
}

list_request!(
    /// `ProductList_Load_Query`.
    ProductListLoadQuery, "ProductList_Load_Query", Product, Scope::Store
);
list_request!(
    /// `CategoryList_Load_Query`.
    CategoryListLoadQuery, "CategoryList_Load_Query", Category, Scope::Store
);
list_request!(
    /// `CustomerList_Load_Query`.
    CustomerListLoadQuery, "CustomerList_Load_Query", Customer, Scope::Store
);
list_request!(
    /// `OrderList_Load_Query` (ask for `items` with
    /// [`ListQuery::ondemand`]).
    OrderListLoadQuery, "OrderList_Load_Query", Order, Scope::Store
);
list_request!(
    /// `StoreList_Load_Query` (domain scope: no `Store_Code`).
    StoreListLoadQuery, "StoreList_Load_Query", Value, Scope::Domain
);

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
}

impl RawListQuery {
    /// A store-scoped list function.
    pub fn new(function: impl Into<String>, query: ListQuery) -> Self {
        Self {
            function: function.into(),
            scope: Scope::Store,
            query,
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

/// The fields a product write may set. Unset fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProductFields {
    /// `Product_SKU`.
    #[serde(rename = "Product_SKU", skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// `Product_Name`.
    #[serde(rename = "Product_Name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Product_Description`.
    #[serde(
        rename = "Product_Description",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// `Product_Price`.
    #[serde(rename = "Product_Price", skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// `Product_Cost`.
    #[serde(rename = "Product_Cost", skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// `Product_Weight`.
    #[serde(rename = "Product_Weight", skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// `Product_Active`.
    #[serde(rename = "Product_Active", skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// `Product_Taxable`.
    #[serde(rename = "Product_Taxable", skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    /// `Product_Inventory`.
    #[serde(rename = "Product_Inventory", skip_serializing_if = "Option::is_none")]
    pub inventory: Option<i64>,
    /// `Product_Canonical_Category_Code`.
    #[serde(
        rename = "Product_Canonical_Category_Code",
        skip_serializing_if = "Option::is_none"
    )]
    pub canonical_category_code: Option<String>,
    /// Any other field of the function, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: impl Into<$ty>) -> Self {
                self.$name = Some(value.into());
                self
            }
        )*
    };
}

impl ProductFields {
    /// No fields set.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Sets `Product_SKU`.
        sku: String;
        /// Sets `Product_Name`.
        name: String;
        /// Sets `Product_Description`.
        description: String;
        /// Sets `Product_Price`.
        price: f64;
        /// Sets `Product_Cost`.
        cost: f64;
        /// Sets `Product_Weight`.
        weight: f64;
        /// Sets `Product_Active`.
        active: bool;
        /// Sets `Product_Taxable`.
        taxable: bool;
        /// Sets `Product_Inventory`.
        inventory: i64;
        /// Sets `Product_Canonical_Category_Code`.
        canonical_category_code: String;
    }

    /// Sets any other field of the function.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }
}

/// `Product_Insert`: answers with the new product.
///
/// ```
/// use miva_envelope::{ProductFields, ProductInsert};
///
/// let request = ProductInsert::new("MUG-1", ProductFields::new().name("Mug").price(9.5));
/// assert_eq!(
///     serde_json::to_string(&request)?,
///     r#"{"Product_Code":"MUG-1","Product_Name":"Mug","Product_Price":9.5}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductInsert {
    /// `Product_Code`.
    #[serde(rename = "Product_Code")]
    pub code: String,
    /// The other fields.
    #[serde(flatten)]
    pub fields: ProductFields,
}

impl ProductInsert {
    /// A new product with `code`.
    pub fn new(code: impl Into<String>, fields: ProductFields) -> Self {
        Self {
            code: code.into(),
            fields,
        }
    }
}

impl MivaRequest for ProductInsert {
    type Response = Product;
    fn function(&self) -> &str {
        "Product_Insert"
    }
}

/// Names the product a write applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductKey {
    /// `Product_ID`.
    Id(u64),
    /// `Edit_Product`: the product's code.
    Code(String),
}

impl ProductKey {
    fn write(&self, map: &mut Map<String, Value>) {
        match self {
            Self::Id(id) => map.insert("Product_ID".into(), Value::from(*id)),
            Self::Code(code) => map.insert("Edit_Product".into(), Value::from(code.as_str())),
        };
    }
}

/// `Product_Update`: changes the fields set; answers with no data.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductUpdate {
    /// Which product.
    pub key: ProductKey,
    /// A new code, if renaming.
    pub new_code: Option<String>,
    /// The fields to change.
    pub fields: ProductFields,
}

impl ProductUpdate {
    /// An update of the product named by `key`.
    pub fn new(key: ProductKey, fields: ProductFields) -> Self {
        Self {
            key,
            new_code: None,
            fields,
        }
    }
}

impl Serialize for ProductUpdate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = Map::new();
        self.key.write(&mut map);
        if let Some(code) = &self.new_code {
            map.insert("Product_Code".into(), Value::from(code.as_str()));
        }
        if let Value::Object(fields) =
            serde_json::to_value(&self.fields).map_err(serde::ser::Error::custom)?
        {
            map.extend(fields);
        }
        map.serialize(s)
    }
}

impl MivaRequest for ProductUpdate {
    type Response = ();
    fn function(&self) -> &str {
        "Product_Update"
    }
}

/// `Product_Delete`: answers with no data.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDelete {
    /// Which product.
    pub key: ProductKey,
}

impl Serialize for ProductDelete {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = Map::new();
        self.key.write(&mut map);
        map.serialize(s)
    }
}

impl MivaRequest for ProductDelete {
    type Response = ();
    fn function(&self) -> &str {
        "Product_Delete"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn write_requests_name_their_product() {
        let fields = ProductFields::new().price(2.0).field("Custom", 1);
        let update = ProductUpdate::new(ProductKey::Code("A".into()), fields);
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            json!({"Edit_Product": "A", "Product_Price": 2.0, "Custom": 1})
        );
        let delete = ProductDelete {
            key: ProductKey::Id(4),
        };
        assert_eq!(
            serde_json::to_value(&delete).unwrap(),
            json!({"Product_ID": 4})
        );
        assert_eq!(delete.function(), "Product_Delete");
    }

    #[test]
    fn list_requests_know_their_function_and_scope() {
        let q = StoreListLoadQuery::default();
        assert_eq!(
            (q.function(), q.scope()),
            ("StoreList_Load_Query", Scope::Domain)
        );
        let mut p = ProductListLoadQuery::new(ListQuery::new().count(3));
        p.query_mut().set_page(6, 3);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"Count": 3, "Offset": 6})
        );
        assert_eq!(p.scope(), Scope::Store);
    }
}
