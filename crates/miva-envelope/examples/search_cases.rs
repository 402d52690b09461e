//! Prints, as one JSON object, the `Filter` array `miva_envelope` sends for
//! each search of `tests/python/merchantapi_filter_check.py`, which sends
//! the same searches built with Miva's official Python SDK and compares the
//! records `miva mock` returns for both.

use miva_envelope::{ListQuery, Search};
use serde_json::{Map, Value};

fn main() -> Result<(), serde_json::Error> {
    let cases = [
        // id <= 20 AND price > 300
        ("and", Search::new().le("id", 20).gt("price", 300)),
        // id = 3 OR id = 9 OR code IN (P000030, P000031)
        (
            "or",
            Search::new()
                .eq("id", 3)
                .or(Search::new().eq("id", 9))
                .or(Search::new().is_in("code", ["P000030", "P000031"])),
        ),
        // active AND (id < 10 OR id > 50)
        (
            "nested",
            Search::new()
                .is_true("active")
                .and(Search::new().lt("id", 10).or(Search::new().gt("id", 50))),
        ),
        // (id < 5 OR id > 55) AND price > 100: the AND after an OR
        (
            "mixed",
            Search::new()
                .lt("id", 5)
                .or(Search::new().gt("id", 55))
                .gt("price", 100),
        ),
    ];
    let mut out = Map::new();
    for (name, search) in cases {
        let query = serde_json::to_value(ListQuery::new().search(search))?;
        out.insert(
            name.to_owned(),
            query.get("Filter").cloned().unwrap_or(Value::Null),
        );
    }
    println!("{}", Value::Object(out));
    Ok(())
}
