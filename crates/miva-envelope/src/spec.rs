//! The published API spec (`spec/miva-api.json`, format in
//! `spec/README.md`), typed and searchable. Feature `spec`: the file is
//! embedded (about 340 KB) and parsed once, on first use.
//!
//! ```
//! let spec = miva_envelope::spec::api_spec();
//! let update = spec.function("product_update").expect("in the spec");
//! assert_eq!(update.name, "Product_Update");
//! assert!(update.request.fields.iter().any(|f| f.name == "Product_Price"));
//! assert_eq!(spec.suggest("ProductLst_Load_Query"), ["ProductList_Load_Query"]);
//! ```

use std::sync::OnceLock;

use serde::Deserialize;

/// The whole spec.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ApiSpec {
    /// Format version (1).
    pub format: u32,
    /// Where the facts come from.
    pub source: SpecSource,
    /// Every function, sorted by name.
    pub functions: Vec<FunctionSpec>,
    /// Every model, sorted by name.
    pub models: Vec<ModelSpec>,
}

/// Where the spec's facts were taken from.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SpecSource {
    /// The package read (`merchantapi`).
    pub package: String,
    /// Its version.
    pub version: Option<String>,
}

/// One API function.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct FunctionSpec {
    /// The `Function` value.
    pub name: String,
    /// `store` or `domain`.
    pub scope: String,
    /// Its parameters.
    pub request: RequestSpec,
    /// List queries only: their columns and filters.
    #[serde(default)]
    pub list_query: Option<ListQuerySpec>,
    /// What `data` holds.
    pub response: ResponseSpec,
}

/// A function's parameters.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct RequestSpec {
    /// In the order the official SDK writes them.
    pub fields: Vec<FieldSpec>,
    /// Groups of alternative identification fields (send one).
    #[serde(default)]
    pub one_of: Vec<Vec<String>>,
}

/// One parameter or model field.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct FieldSpec {
    /// The JSON key.
    pub name: String,
    /// Its type (`int`, `string`, `timestamp`, `list<T>`, a model, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Parameters only: whether the official SDK always sends it.
    #[serde(default)]
    pub always_sent: bool,
}

/// The columns and filters of a list query.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ListQuerySpec {
    /// Columns a `search` filter may name.
    pub search: Vec<String>,
    /// Columns `Sort` may name.
    pub sort: Vec<String>,
    /// Columns for the `ondemandcolumns` filter.
    pub on_demand: Vec<String>,
    /// Function-specific filters and their allowed values (empty: any).
    pub custom_filters: std::collections::BTreeMap<String, Vec<String>>,
    /// Search fields a store limits to some operators, and those operators
    /// (e.g. a product list's `category`: `IN`, `NOT_IN`); a field not
    /// named takes every operator.
    #[serde(default)]
    pub search_operators: std::collections::BTreeMap<String, Vec<String>>,
}

/// What a function's response `data` holds.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ResponseSpec {
    /// `none`, `model`, `list` or `list_page`.
    pub kind: String,
    /// The model, when there is one.
    #[serde(default)]
    pub model: Option<String>,
}

/// One response model.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ModelSpec {
    /// The model's name.
    pub name: String,
    /// A model whose fields this one also has.
    #[serde(default)]
    pub extends: Option<String>,
    /// Its fields.
    pub fields: Vec<FieldSpec>,
}

/// The embedded spec, parsed on first use.
pub fn api_spec() -> &'static ApiSpec {
    static SPEC: OnceLock<ApiSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        // The file is checked by this crate's tests (tests/spec.rs), so it
        // always parses; an empty spec stands in rather than a panic.
        serde_json::from_str(include_str!("../spec/miva-api.json")).unwrap_or_else(|_| ApiSpec {
            format: 0,
            source: SpecSource {
                package: String::new(),
                version: None,
            },
            functions: Vec::new(),
            models: Vec::new(),
        })
    })
}

impl ApiSpec {
    /// The function with this name, in any letter case.
    pub fn function(&self, name: &str) -> Option<&FunctionSpec> {
        self.functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The model with this name.
    pub fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The function names closest to `name` (for "did you mean"): those
    /// at the smallest edit distance, if it is small; at most three.
    pub fn suggest(&self, name: &str) -> Vec<&str> {
        crate::api::closest(name, self.functions.iter().map(|f| f.name.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_and_suggestions() {
        let spec = api_spec();
        assert_eq!(spec.functions.len(), 258);
        assert_eq!(spec.source.version.as_deref(), Some("2.7.0"));
        let list = spec.function("PRODUCTLIST_LOAD_QUERY").unwrap();
        assert_eq!(list.scope, "store");
        let q = list.list_query.as_ref().unwrap();
        assert!(q.search.iter().any(|c| c == "code"));
        assert_eq!(q.search_operators["category"], ["IN", "NOT_IN"]);
        assert_eq!(list.response.model.as_deref(), Some("Product"));
        assert!(spec.model("Product").is_some());
        assert_eq!(
            spec.function("StoreList_Load_Query").unwrap().scope,
            "domain"
        );
        assert!(spec.function("No_Such_Function").is_none());
        assert_eq!(spec.suggest("Product_Updte"), ["Product_Update"]);
        assert!(spec.suggest("completely different").is_empty());
    }
}
