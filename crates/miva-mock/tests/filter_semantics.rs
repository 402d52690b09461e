//! For random `Search` trees, a store's reading of the JSON the builder
//! sends selects exactly the records the builder's own expression selects.
//!
//! The store's reading is `miva_mock::StoreFilter`, written from Miva's
//! server code (`mmlsk-json.mv` 4293-4349, 4458-4557; `lib/dbeng/sql.mv`
//! 265-299, 885-903) and the facts page, "How a store combines conditions".
//! The builder's meaning is `Search`'s documented one: left to right, each
//! condition and `.and(group)` ANDed with everything before it, `.or(group)`
//! ORed, empty groups adding nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use miva_envelope::{ListQuery, Search};
use miva_mock::StoreFilter;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const FIELDS: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, Clone)]
enum Cond {
    Eq(usize, i64),
    Ne(usize, i64),
    Gt(usize, i64),
    Lt(usize, i64),
    In(usize, Vec<i64>),
    NotIn(usize, Vec<i64>),
    True(usize),
    False(usize),
}

#[derive(Debug, Clone)]
enum Step {
    Cond(Cond),
    And(Vec<Step>),
    Or(Vec<Step>),
}

fn cond() -> impl Strategy<Value = Cond> {
    let f = 0..FIELDS.len();
    let v = 0i64..3;
    let set = prop::collection::vec(0i64..3, 1..3);
    prop_oneof![
        (f.clone(), v.clone()).prop_map(|(f, v)| Cond::Eq(f, v)),
        (f.clone(), v.clone()).prop_map(|(f, v)| Cond::Ne(f, v)),
        (f.clone(), v.clone()).prop_map(|(f, v)| Cond::Gt(f, v)),
        (f.clone(), v).prop_map(|(f, v)| Cond::Lt(f, v)),
        (f.clone(), set.clone()).prop_map(|(f, s)| Cond::In(f, s)),
        (f.clone(), set).prop_map(|(f, s)| Cond::NotIn(f, s)),
        f.clone().prop_map(Cond::True),
        f.prop_map(Cond::False),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let leaf = prop::collection::vec(cond().prop_map(Step::Cond), 0..4);
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop::collection::vec(
            prop_oneof![
                3 => cond().prop_map(Step::Cond),
                1 => inner.clone().prop_map(Step::And),
                1 => inner.prop_map(Step::Or),
            ],
            0..5,
        )
    })
}

fn record() -> impl Strategy<Value = [i64; 3]> {
    [0i64..3, 0i64..3, 0i64..3]
}

fn build(steps: &[Step]) -> Search {
    steps.iter().fold(Search::new(), |s, step| match step {
        Step::Cond(c) => match c {
            Cond::Eq(f, v) => s.eq(FIELDS[*f], *v),
            Cond::Ne(f, v) => s.ne(FIELDS[*f], *v),
            Cond::Gt(f, v) => s.gt(FIELDS[*f], *v),
            Cond::Lt(f, v) => s.lt(FIELDS[*f], *v),
            Cond::In(f, set) => s.is_in(FIELDS[*f], set.iter().copied()),
            Cond::NotIn(f, set) => s.not_in(FIELDS[*f], set.iter().copied()),
            Cond::True(f) => s.is_true(FIELDS[*f]),
            Cond::False(f) => s.is_false(FIELDS[*f]),
        },
        Step::And(group) => s.and(build(group)),
        Step::Or(group) => s.or(build(group)),
    })
}

fn holds(c: &Cond, r: &[i64; 3]) -> bool {
    match c {
        Cond::Eq(f, v) => r[*f] == *v,
        Cond::Ne(f, v) => r[*f] != *v,
        Cond::Gt(f, v) => r[*f] > *v,
        Cond::Lt(f, v) => r[*f] < *v,
        Cond::In(f, set) => set.contains(&r[*f]),
        Cond::NotIn(f, set) => !set.contains(&r[*f]),
        Cond::True(f) => r[*f] != 0,
        Cond::False(f) => r[*f] == 0,
    }
}

/// The builder's meaning; `None` for a search with no condition.
fn meaning(steps: &[Step], r: &[i64; 3]) -> Option<bool> {
    let mut acc: Option<bool> = None;
    for step in steps {
        let (and, value) = match step {
            Step::Cond(c) => (true, Some(holds(c, r))),
            Step::And(group) => (true, meaning(group, r)),
            Step::Or(group) => (false, meaning(group, r)),
        };
        let Some(value) = value else { continue };
        acc = Some(match acc {
            None => value,
            Some(before) if and => before && value,
            Some(before) => before || value,
        });
    }
    acc
}

fn as_record(r: &[i64; 3]) -> Map<String, Value> {
    FIELDS
        .iter()
        .zip(r)
        .map(|(f, v)| ((*f).to_owned(), json!(v)))
        .collect()
}

fn store_reading(query: &ListQuery) -> StoreFilter {
    let wire = serde_json::to_value(query).unwrap();
    StoreFilter::parse(wire.get("Filter").unwrap_or(&Value::Null), &FIELDS).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_store_reads_a_search_as_the_builder_means_it(
        tree in steps(),
        records in prop::collection::vec(record(), 1..12),
    ) {
        let filter = store_reading(&ListQuery::new().search(build(&tree)));
        for r in &records {
            let want = meaning(&tree, r).unwrap_or(true);
            prop_assert_eq!(filter.matches(&as_record(r)), want, "record {:?}", r);
        }
    }

    #[test]
    fn searches_added_to_a_query_are_anded(
        first in steps(),
        second in steps(),
        records in prop::collection::vec(record(), 1..12),
    ) {
        let query = ListQuery::new().search(build(&first)).search(build(&second));
        let filter = store_reading(&query);
        for r in &records {
            let want = meaning(&first, r).unwrap_or(true) && meaning(&second, r).unwrap_or(true);
            prop_assert_eq!(filter.matches(&as_record(r)), want, "record {:?}", r);
        }
    }
}

/// The example, by name: side by side, a store would OR them.
#[test]
fn active_and_price_means_both() {
    let query = ListQuery::new().search(Search::new().is_true("a").gt("b", 1));
    let filter = store_reading(&query);
    assert!(!filter.matches(&as_record(&[1, 0, 0])));
    assert!(!filter.matches(&as_record(&[0, 2, 0])));
    assert!(filter.matches(&as_record(&[1, 2, 0])));
    // The JSON the old builder sent, read by the store: OR.
    let old = StoreFilter::parse(
        &json!([{"name": "search", "value": [
            {"field": "a", "operator": "TRUE"},
            {"field": "b", "operator": "GT", "value": 1}]}]),
        &FIELDS,
    )
    .unwrap();
    assert!(old.matches(&as_record(&[1, 0, 0])));
}
