//! A record of the store: column names (static strings) and values, kept
//! in a small vector. Lookups scan a few dozen short static keys, which
//! stay in cache; a map of heap-allocated keys per record made every
//! lookup of a large table a string of cache misses.

use std::ops::Index;

use serde_json::Value;

/// Builds a [`Record`] from `"column": value` pairs; values go through
/// `serde_json::json!`.
macro_rules! record {
    ($($key:literal : $value:expr),* $(,)?) => {
        $crate::record::Record::from_pairs(vec![$(($key, ::serde_json::json!($value))),*])
    };
}
pub(crate) use record;

static NULL: Value = Value::Null;

/// One record: column name to value, in insertion order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Record(Vec<(&'static str, Value)>);

impl Record {
    /// A record with these columns (a later duplicate replaces an earlier).
    pub(crate) fn from_pairs(pairs: Vec<(&'static str, Value)>) -> Self {
        let mut record = Self(Vec::with_capacity(pairs.len()));
        for (k, v) in pairs {
            record.insert(k, v);
        }
        record
    }

    /// The value of `column`.
    pub(crate) fn get(&self, column: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == column).map(|(_, v)| v)
    }

    /// The static column name and value of `column`.
    pub(crate) fn get_key_value(&self, column: &str) -> Option<(&'static str, &Value)> {
        self.0
            .iter()
            .find(|(k, _)| *k == column)
            .map(|(k, v)| (*k, v))
    }

    /// Sets `column`.
    pub(crate) fn insert(&mut self, column: &'static str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == column) {
            Some(slot) => slot.1 = value,
            None => self.0.push((column, value)),
        }
    }
}

impl Index<&str> for Record {
    type Output = Value;

    /// The value of `column`, or `null`.
    fn index(&self, column: &str) -> &Value {
        self.get(column).unwrap_or(&NULL)
    }
}
