//! Multicall: operations, iterations, the operation budget (206 +
//! Content-Range) and continuation with `Range: Operations=a-b`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Client, HttpResponse, harness, now};
use miva_sign::Credential;
use serde_json::{Value, json};

fn send(
    client: &mut Client,
    credential: &Credential,
    body: &Value,
    range: Option<&str>,
) -> HttpResponse {
    let mut body = body.clone();
    body["Miva_Request_Timestamp"] = json!(now());
    let bytes = serde_json::to_vec(&body).unwrap();
    let auth = credential.authorize(&bytes).unwrap();
    let mut headers = vec![
        ("Content-Type", "application/json"),
        (auth.name(), auth.value()),
    ];
    if let Some(range) = range {
        headers.push(("Range", range));
    }
    client.send("POST", "/mm5/json.mvc", &headers, &bytes)
}

fn by_id(id: u64) -> Value {
    json!({"Function": "ProductList_Load_Query", "Store_Code": "STORE",
           "Filter": [{"name": "search", "value": [{"field": "id", "operator": "EQ", "value": id}]}]})
}

fn iterations(ids: &[u64]) -> Value {
    json!({"Function": "ProductList_Load_Query", "Store_Code": "STORE", "Count": 1,
           "Iterations": ids.iter().map(|id| json!({"Offset": id - 1})).collect::<Vec<_>>()})
}

fn first_code(result: &Value) -> &str {
    result["data"]["data"][0]["code"].as_str().unwrap()
}

#[test]
fn operations_and_iterations() {
    let h = harness(|c| c.with_products(20));
    let mut client = h.client();
    let body = json!({
        "Store_Code": "STORE",
        "Operations": [
            {"Function": "ProductList_Load_Query", "Count": 1},
            {"Function": "Product_Insert", "Product_Name": "Shared name",
             "Iterations": [{"Product_Code": "IT-1"}, {"Product_Code": "IT-2"}, {"Product_Code": "IT-1"}]},
            {"Function": "CategoryList_Load_Query", "Count": 2},
            {"Function": "Nope"},
            "not an operation",
            {"Function": "StoreList_Load_Query"},
            {"Function": "Product_Insert", "Iterations": {"Product_Code": "X"}},
        ]
    });
    let response = send(&mut client, &h.sha256, &body, None);
    assert_eq!(response.status, 200);
    assert!(response.header("content-range").is_none());
    let results = response.json();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 7);
    assert_eq!(first_code(&results[0]), "P000001");
    let inserted = results[1].as_array().unwrap();
    assert_eq!(inserted.len(), 3);
    assert_eq!(inserted[0]["data"]["code"], "IT-1");
    assert_eq!(inserted[0]["data"]["name"], "Shared name");
    assert_eq!(inserted[1]["data"]["id"], 22);
    assert_eq!(inserted[2]["error_field"], "Product_Code");
    assert_eq!(results[2]["data"]["data"].as_array().unwrap().len(), 2);
    assert_eq!(results[3]["error_code"], "invalid_function");
    assert_eq!(results[4]["error_code"], "invalid_json");
    assert_eq!(results[5]["data"]["data"][0]["code"], "STORE");
    assert_eq!(results[6]["error_code"], "invalid_json");

    // The official SDKs put Store_Code in each operation and nothing at the top.
    let sdk = json!({"Operations": [by_id(3), iterations(&[4, 5])]});
    let results = send(&mut client, &h.sha256, &sdk, None).json();
    assert_eq!(first_code(&results[0]), "P000003");
    assert_eq!(first_code(&results[1][0]), "P000004");
    assert_eq!(first_code(&results[1][1]), "P000005");

    // An empty multicall, and a broken one.
    assert_eq!(
        send(&mut client, &h.sha256, &json!({"Operations": []}), None).json(),
        json!([])
    );
    let broken = send(&mut client, &h.sha256, &json!({"Operations": {}}), None).json();
    assert_eq!(broken["error_code"], "invalid_json");
}

#[test]
fn function_permissions_apply_per_operation() {
    let h = harness(|c| c);
    let mut client = h.client();
    let body = json!({"Operations": [by_id(1),
        {"Function": "Product_Delete", "Store_Code": "STORE", "Product_ID": 1}]});
    let results = send(&mut client, &h.limited, &body, None).json();
    assert_eq!(first_code(&results[0]), "P000001");
    assert_eq!(results[1]["error_message"], "Access denied");
}

/// The continuation loop of the official SDKs: add each response's
/// completed count, send `Range: Operations=<completed+1>-<total>`.
fn run_to_completion(
    client: &mut Client,
    credential: &Credential,
    body: &Value,
) -> (Vec<Value>, Vec<(u16, Option<String>)>) {
    let total = body["Operations"].as_array().unwrap().len();
    let mut results = Vec::new();
    let mut trace = Vec::new();
    let mut completed = 0usize;
    let mut range: Option<String> = None;
    for _ in 0..=total {
        let response = send(client, credential, body, range.as_deref());
        let content_range = response.header("content-range").map(str::to_owned);
        trace.push((response.status, content_range.clone()));
        let chunk = response.json();
        let chunk = chunk.as_array().unwrap();
        results.extend(chunk.iter().cloned());
        match content_range {
            Some(cr) => {
                let (done, all) = cr.split_once('/').unwrap();
                assert_eq!(all.parse::<usize>().unwrap(), total);
                let done: usize = done.parse().unwrap();
                assert_eq!(
                    done,
                    chunk.len(),
                    "Content-Range counts this response's operations"
                );
                completed += done;
            }
            None => completed = total,
        }
        if response.status == 200 {
            break;
        }
        assert_eq!(response.status, 206);
        range = Some(format!("Operations={}-{}", completed + 1, total));
    }
    assert_eq!(completed, total);
    (results, trace)
}

#[test]
fn budget_answers_206_and_continues_with_range() {
    // Costs: 1, 2, 1, 1, 4 (alone, over budget), 1, 1.
    let body = json!({"Operations": [
        by_id(1), iterations(&[2, 3]), by_id(4), by_id(5), iterations(&[6, 7, 8, 9]), by_id(10), by_id(11),
    ]});
    let unlimited = harness(|c| c.with_products(30));
    let expected = send(&mut unlimited.client(), &unlimited.sha256, &body, None).json();
    assert_eq!(expected.as_array().unwrap().len(), 7);

    let h = harness(|c| c.with_products(30).with_multicall_budget(Some(3)));
    let mut client = h.client();
    let (results, trace) = run_to_completion(&mut client, &h.sha256, &body);
    assert_eq!(Value::Array(results), expected);
    assert_eq!(
        trace,
        [
            (206, Some("2/7".to_owned())),
            (206, Some("2/7".to_owned())),
            (206, Some("1/7".to_owned())),
            (200, Some("2/7".to_owned())),
        ]
    );

    // Budget 1: one operation per response, even one with iterations.
    let one = harness(|c| c.with_products(30).with_multicall_budget(Some(1)));
    let (results, trace) = run_to_completion(&mut one.client(), &one.sha256, &body);
    assert_eq!(Value::Array(results), expected);
    assert_eq!(trace.len(), 7);
    assert_eq!(trace[0], (206, Some("1/7".to_owned())));

    // A budget that covers everything: a plain 200 without Content-Range.
    let big = harness(|c| c.with_products(30).with_multicall_budget(Some(100)));
    let response = send(&mut big.client(), &big.sha256, &body, None);
    assert_eq!(response.status, 200);
    assert!(response.header("content-range").is_none());
    assert_eq!(response.json(), expected);

    // Single calls are never cut.
    assert_eq!(h.call(by_id(1))["success"], 1);
}

#[test]
fn explicit_ranges() {
    let h = harness(|c| c.with_products(10));
    let mut client = h.client();
    let body = json!({"Operations": [by_id(1), by_id(2), by_id(3), by_id(4), by_id(5)]});
    let response = send(&mut client, &h.sha256, &body, Some("Operations=2-3"));
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-range"), Some("2/5"));
    let results = response.json();
    assert_eq!(results.as_array().unwrap().len(), 2);
    assert_eq!(first_code(&results[0]), "P000002");
    assert_eq!(first_code(&results[1]), "P000003");

    let response = send(&mut client, &h.sha256, &body, Some("operations = 4-"));
    let results = response.json();
    assert_eq!(results.as_array().unwrap().len(), 2);
    assert_eq!(first_code(&results[1]), "P000005");

    // An end past the last operation is clamped.
    let response = send(&mut client, &h.sha256, &body, Some("Operations=5-9"));
    assert_eq!(response.json().as_array().unwrap().len(), 1);

    for bad in [
        "Operations=0-2",
        "Operations=6-7",
        "Operations=3-2",
        "Operations=a-b",
        "Operations=3",
    ] {
        let response = send(&mut client, &h.sha256, &body, Some(bad));
        assert_eq!(response.status, 416, "{bad}");
        assert_eq!(response.json()["error_code"], "invalid_range", "{bad}");
        assert_eq!(response.header("content-range"), Some("*/5"));
    }
    // Other units are ignored, as HTTP allows.
    let response = send(&mut client, &h.sha256, &body, Some("bytes=0-10"));
    assert_eq!(response.status, 200);
    assert_eq!(response.json().as_array().unwrap().len(), 5);
    // A Range on a single call is ignored.
    let mut single = by_id(1);
    single["Miva_Request_Timestamp"] = json!(now());
    let response = send(&mut client, &h.sha256, &single, Some("Operations=2-3"));
    assert_eq!(response.json()["success"], 1);
}
