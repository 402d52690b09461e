//! Reading the fields of a write: types, required values, choices, email
//! addresses, nested lists, and finding the record a write names. Every
//! error is the documented validation error naming the field.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::query::{display, parse_number};
use crate::response::validation;
use crate::store::Record;

/// Text: strings as they are, numbers and booleans as text, null or absent
/// as `None`.
pub(super) fn text(value: Option<&Value>, field: &str) -> Result<Option<String>, Value> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(display(v))),
        Some(_) => Err(validation(field, "Please enter text")),
    }
}

/// A finite number, or numeric text (empty text is 0).
pub(super) fn number(value: Option<&Value>, field: &str) -> Result<Option<f64>, Value> {
    let bad = || validation(field, "Please enter a number");
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(bad),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(0.0)),
        Some(Value::String(s)) => parse_number(s).map(Some).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// A whole number, or one written as text (empty text is 0).
pub(super) fn integer(value: Option<&Value>, field: &str) -> Result<Option<i64>, Value> {
    let bad = || validation(field, "Please enter a whole number");
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(0)),
        Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// A whole number of 0 or more (counts, limits, Unix times).
pub(super) fn non_negative(value: Option<&Value>, field: &str) -> Result<Option<i64>, Value> {
    match integer(value, field)? {
        Some(n) if n < 0 => Err(validation(field, "Please enter 0 or more")),
        other => Ok(other),
    }
}

/// `true`/`false`, `1`/`0`, or text such as `"yes"`, `"0"`.
pub(super) fn boolean(value: Option<&Value>, field: &str) -> Result<Option<bool>, Value> {
    let bad = || validation(field, "Please enter true or false");
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(bad()),
        },
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" | "" => Ok(Some(false)),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}

/// Non-empty text, trimmed.
pub(super) fn required_text(value: Option<&Value>, field: &str) -> Result<String, Value> {
    match text(value, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(validation(field, "A value is required")),
    }
}

/// Non-empty text if given: a name may be left out but not blanked.
pub(super) fn optional_nonblank(
    value: Option<&Value>,
    field: &str,
) -> Result<Option<String>, Value> {
    match text(value, field)? {
        Some(s) if s.trim().is_empty() => Err(validation(field, "A value is required")),
        other => Ok(other),
    }
}

/// One of `choices` (compared case-insensitively), as spelled in `choices`.
pub(super) fn choice(
    value: Option<&Value>,
    field: &str,
    choices: &[&'static str],
) -> Result<Option<&'static str>, Value> {
    let Some(given) = text(value, field)? else {
        return Ok(None);
    };
    let given = given.trim();
    choices
        .iter()
        .find(|c| c.eq_ignore_ascii_case(given))
        .map(|c| Some(*c))
        .ok_or_else(|| validation(field, format!("Please choose {}", or_list(choices))))
}

/// `a`, `a or b`, `a, b or c`.
pub(super) fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A plausible email address: `local@domain.tld`, no spaces.
pub(super) fn check_email(field: &str, address: &str) -> Result<(), Value> {
    let valid = match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain
                    .split_once('.')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.ends_with('.'))
                && !address.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(validation(field, "Please enter a valid email address"))
    }
}

/// An optional list of objects (`Items`, `Inventory_Adjustments`): absent
/// or null is empty.
pub(super) fn object_list<'a>(
    value: Option<&'a Value>,
    field: &str,
) -> Result<Vec<&'a Map<String, Value>>, Value> {
    let items: &[Value] = match value {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(_) => return Err(validation(field, "Please enter a list of objects")),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) => Ok(map),
            _ => Err(validation(
                &format!("{field}[{i}]"),
                "Please enter an object",
            )),
        })
        .collect()
}

/// Finds the record a write names: a numeric id field first, then fields
/// holding a unique code (or login, or name), in order. The first field
/// given (not null, not blank) decides.
#[derive(Debug)]
pub(super) struct Finder<'a> {
    /// The kind of record, capitalized, for messages: `Category`.
    pub(super) what: &'static str,
    /// The id field: `Category_ID`.
    pub(super) id_field: &'static str,
    pub(super) records: &'a BTreeMap<u64, Record>,
    /// The fields naming the record by its unique key: `Edit_Category`, ...
    pub(super) key_fields: &'static [&'static str],
    /// Lower-cased key to id.
    pub(super) index: &'a HashMap<String, u64>,
}

impl Finder<'_> {
    /// The id of the record `params` names and the field that named it.
    pub(super) fn find(&self, params: &Map<String, Value>) -> Result<(u64, &'static str), Value> {
        let not_found = |field: &str| validation(field, format!("{} not found", self.what));
        if let Some(id) = integer(params.get(self.id_field), self.id_field)?
            && id > 0
        {
            return u64::try_from(id)
                .ok()
                .filter(|id| self.records.contains_key(id))
                .map(|id| (id, self.id_field))
                .ok_or_else(|| not_found(self.id_field));
        }
        for field in self.key_fields {
            if let Some(key) = text(params.get(*field), field)? {
                let key = key.trim();
                if !key.is_empty() {
                    return self
                        .index
                        .get(&key.to_lowercase())
                        .map(|id| (*id, *field))
                        .ok_or_else(|| not_found(field));
                }
            }
        }
        let mut fields = vec![self.id_field];
        fields.extend_from_slice(self.key_fields);
        Err(validation(
            self.id_field,
            format!(
                "Please specify a {} by {}",
                self.what.to_lowercase(),
                or_list(&fields)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@example.com"] {
            assert!(check_email("F", good).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(check_email("F", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn choices_and_lists() {
        assert_eq!(or_list(&["A", "B", "C"]), "A, B or C");
        assert_eq!(
            choice(Some(&json!("yes")), "F", &["Yes", "No"]),
            Ok(Some("Yes"))
        );
        assert_eq!(
            choice(Some(&json!("maybe")), "F", &["Yes", "No"]).unwrap_err()["error_field_message"],
            "Please choose Yes or No"
        );
        assert_eq!(
            non_negative(Some(&json!(-1)), "F").unwrap_err()["error_field"],
            "F"
        );
    }
}
