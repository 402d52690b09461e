//! The published API spec (`spec/miva-api.json`, extracted from merchantapi
//! 2.7.0 by `spec/extract_merchantapi.py`) is consistent, and the
//! generated typed requests agree with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::{BTreeMap, BTreeSet};

use miva_envelope::api::ResponseKind;
use miva_envelope::{
    CategoryListLoadQuery, CustomerListLoadQuery, MivaRequest, OrderListLoadQuery, ProductDelete,
    ProductInsert, ProductListLoadQuery, ProductUpdate, Scope, StoreListLoadQuery,
};
use serde_json::Value;

fn spec() -> Value {
    serde_json::from_str(include_str!("../spec/miva-api.json")).unwrap()
}

fn functions(spec: &Value) -> BTreeMap<String, &Value> {
    spec["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_owned(), f))
        .collect()
}

const PRIMITIVES: [&str; 8] = [
    "int",
    "string",
    "bool",
    "decimal",
    "timestamp",
    "object",
    "any",
    "list<any>",
];

fn type_resolves(kind: &str, models: &BTreeSet<String>) -> bool {
    if PRIMITIVES.contains(&kind) || models.contains(kind) {
        return true;
    }
    kind.strip_prefix("list<")
        .and_then(|k| k.strip_suffix('>'))
        .is_some_and(|inner| type_resolves(inner, models))
}

#[test]
fn every_function_of_the_sdk_is_in_the_spec_once() {
    let spec = spec();
    assert_eq!(spec["format"], 1);
    assert_eq!(spec["source"]["version"], "2.7.0");
    let list = spec["functions"].as_array().unwrap();
    let by_name = functions(&spec);
    assert_eq!(list.len(), 258, "merchantapi 2.7.0 wraps 258 functions");
    assert_eq!(by_name.len(), list.len(), "names are unique");
    let scopes: BTreeSet<&str> = list.iter().map(|f| f["scope"].as_str().unwrap()).collect();
    assert_eq!(scopes, BTreeSet::from(["domain", "store"]));
    let list_queries: Vec<&String> = by_name
        .keys()
        .filter(|n| n.ends_with("List_Load_Query"))
        .collect();
    assert_eq!(list_queries.len(), 79);
    for name in list_queries {
        let f = by_name[name];
        let q = &f["list_query"];
        assert!(q["search"].is_array() && q["sort"].is_array(), "{name}");
        assert_eq!(f["response"]["kind"], "list_page", "{name}");
    }
}

#[test]
fn every_type_and_reference_resolves() {
    let spec = spec();
    let models: BTreeSet<String> = spec["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(models.len() > 140);
    for model in spec["models"].as_array().unwrap() {
        for field in model["fields"].as_array().unwrap() {
            let kind = field["type"].as_str().unwrap();
            assert!(
                type_resolves(kind, &models),
                "{}.{}: {kind}",
                model["name"],
                field["name"]
            );
        }
        if let Some(parent) = model["extends"].as_str() {
            assert!(
                models.contains(parent),
                "{}: extends {parent}",
                model["name"]
            );
        }
    }
    for (name, f) in functions(&spec) {
        let fields: BTreeSet<&str> = f["request"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        for x in f["request"]["fields"].as_array().unwrap() {
            let kind = x["type"].as_str().unwrap();
            assert!(type_resolves(kind, &models), "{name}.{}: {kind}", x["name"]);
        }
        for group in f["request"]["one_of"].as_array().into_iter().flatten() {
            for key in group.as_array().unwrap() {
                assert!(
                    fields.contains(key.as_str().unwrap()),
                    "{name}: one_of {key}"
                );
            }
        }
        if let Some(model) = f["response"]["model"].as_str() {
            assert!(model == "any" || models.contains(model), "{name}: {model}");
        }
    }
    // Date fields are typed as timestamps (both wire shapes decode).
    let product = spec["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Product")
        .unwrap();
    let dt = product["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "dt_created")
        .unwrap();
    assert_eq!(dt["type"], "timestamp");
}

#[test]
fn the_generated_table_agrees_with_the_spec() {
    let spec = spec();
    let by_name = functions(&spec);
    assert_eq!(miva_envelope::api::FUNCTIONS.len(), by_name.len());
    for info in miva_envelope::api::FUNCTIONS {
        let f = by_name
            .get(info.name)
            .unwrap_or_else(|| panic!("{} is not in the spec", info.name));
        let scope = match info.scope {
            Scope::Store => "store",
            Scope::Domain => "domain",
        };
        assert_eq!(f["scope"], scope, "{}", info.name);
        let (kind, model) = match info.response {
            ResponseKind::None => ("none", None),
            ResponseKind::Model(m) => ("model", Some(m)),
            ResponseKind::List(m) => ("list", Some(m)),
            ResponseKind::ListPage(m) => ("list_page", Some(m)),
            other => panic!("{other:?}"),
        };
        assert_eq!(f["response"]["kind"], kind, "{}", info.name);
        assert_eq!(f["response"]["model"].as_str(), model, "{}", info.name);
        assert_eq!(
            info.list.is_some(),
            !f["list_query"].is_null(),
            "{}",
            info.name
        );
        if let Some(columns) = info.list {
            let q = &f["list_query"];
            let names = |key: &str| -> Vec<&str> {
                q[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect()
            };
            assert_eq!(columns.function, info.name);
            assert_eq!(columns.search, names("search").as_slice(), "{}", info.name);
            assert_eq!(columns.sort, names("sort").as_slice(), "{}", info.name);
            assert_eq!(
                columns.on_demand,
                names("on_demand").as_slice(),
                "{}",
                info.name
            );
            assert_eq!(
                columns.custom_filters.len(),
                q["custom_filters"].as_object().unwrap().len(),
                "{}",
                info.name
            );
        }
    }
}

/// The JSON keys a request sends.
fn keys<R: MivaRequest>(request: &R) -> BTreeSet<String> {
    serde_json::to_value(request)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// The spec's parameter names of a function.
fn params(by_name: &BTreeMap<String, &Value>, function: &str) -> BTreeSet<String> {
    by_name[function]["request"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn setters_send_the_spec_parameter_names() {
    let spec = spec();
    let by_name = functions(&spec);
    // Every setter of the product writes, each mapped to its own key.
    let update = ProductUpdate::new()
        .product_id(1)
        .edit_product("P")
        .product_code("P2")
        .product_sku("S")
        .product_name("N")
        .product_description("D")
        .product_canonical_category_code("C")
        .product_alternate_display_page("A")
        .product_page_title("T")
        .product_thumbnail("t.png")
        .product_image("i.png")
        .product_price(1.5)
        .product_cost(1.0)
        .product_weight(2.0)
        .product_inventory(3)
        .product_taxable(true)
        .product_active(false);
    let sent = keys(&update);
    let spec_params = params(&by_name, "Product_Update");
    assert_eq!(
        sent.len(),
        spec_params.len() - 1,
        "every field but CustomField_Values"
    );
    assert!(sent.is_subset(&spec_params), "{sent:?}");
    assert_eq!(
        serde_json::to_value(ProductInsert::new().product_code("MUG").product_price(9.5)).unwrap(),
        serde_json::json!({"Product_Code": "MUG", "Product_Price": 9.5})
    );
    let delete = ProductDelete::new().edit_product("MUG");
    assert_eq!(keys(&delete), BTreeSet::from(["Edit_Product".to_owned()]));
    // An extra parameter travels as is, and the list types know their scope.
    assert!(keys(&ProductDelete::new().param("X_Custom", 1)).contains("X_Custom"));
    for (scope, request) in [
        (Scope::Store, ProductListLoadQuery::default().scope()),
        (Scope::Store, CategoryListLoadQuery::default().scope()),
        (Scope::Store, CustomerListLoadQuery::default().scope()),
        (Scope::Store, OrderListLoadQuery::default().scope()),
        (Scope::Domain, StoreListLoadQuery::default().scope()),
    ] {
        assert_eq!(scope, request);
    }
}
