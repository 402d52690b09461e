//! The published API spec (`spec/miva-api.json`, extracted from merchantapi
//! 2.7.0 by `spec/extract_merchantapi.py`) is consistent, and the
//! hand-written typed requests of this crate agree with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::collections::{BTreeMap, BTreeSet};

use miva_envelope::{
    CategoryListLoadQuery, CustomerListLoadQuery, ListRequest, MivaRequest, OrderListLoadQuery,
    ProductDelete, ProductFields, ProductInsert, ProductKey, ProductListLoadQuery, ProductUpdate,
    Scope, StoreListLoadQuery,
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

/// `(function, scope)` of a typed request.
fn of<R: MivaRequest>(r: &R) -> (String, Scope) {
    (r.function().to_owned(), r.scope())
}

#[test]
fn the_typed_requests_agree_with_the_spec() {
    let spec = spec();
    let by_name = functions(&spec);
    let typed = [
        of(&ProductListLoadQuery::default()),
        of(&CategoryListLoadQuery::default()),
        of(&CustomerListLoadQuery::default()),
        of(&OrderListLoadQuery::default()),
        of(&StoreListLoadQuery::default()),
        of(&ProductInsert::new("P1", ProductFields::new())),
        of(&ProductUpdate::new(ProductKey::Id(1), ProductFields::new())),
        of(&ProductDelete {
            key: ProductKey::Id(1),
        }),
    ];
    for (function, scope) in typed {
        let f = by_name
            .get(&function)
            .unwrap_or_else(|| panic!("{function} is not in the spec"));
        let expected = match scope {
            Scope::Store => "store",
            Scope::Domain => "domain",
        };
        assert_eq!(f["scope"], expected, "{function}");
    }
    // Every key our typed product writes send is a field of the function.
    let all = ProductFields::new()
        .sku("S")
        .name("N")
        .description("D")
        .price(1.0)
        .cost(1.0)
        .weight(1.0)
        .active(true)
        .taxable(true)
        .inventory(3)
        .canonical_category_code("C");
    for (function, request) in [
        (
            "Product_Update",
            serde_json::to_value(ProductUpdate::new(ProductKey::Id(1), all.clone())).unwrap(),
        ),
        (
            "Product_Update",
            serde_json::to_value(ProductUpdate::new(
                ProductKey::Code("P".into()),
                all.clone(),
            ))
            .unwrap(),
        ),
        (
            "Product_Insert",
            serde_json::to_value(ProductInsert::new("P", all.clone())).unwrap(),
        ),
        (
            "Product_Delete",
            serde_json::to_value(ProductDelete {
                key: ProductKey::Code("P".into()),
            })
            .unwrap(),
        ),
    ] {
        let fields: BTreeSet<&str> = by_name[function]["request"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        for key in request.as_object().unwrap().keys() {
            assert!(
                fields.contains(key.as_str()),
                "{function}: {key} is not in the spec"
            );
        }
    }
    // The list queries' columns include those this crate's docs use.
    let product = &by_name["ProductList_Load_Query"]["list_query"];
    for column in ["id", "code", "price", "active"] {
        assert!(
            product["search"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == column)
        );
    }
    let _ = ProductListLoadQuery::default().query();
}
