//! The JSON shapes of Miva responses.

use serde_json::{Map, Value, json};

use crate::codes;

/// `{"success":1,"data":data}`.
pub(crate) fn ok(data: Value) -> Value {
    json!({"success": 1, "data": data})
}

/// `{"success":1}`: functions that return no data.
pub(crate) fn ok_empty() -> Value {
    json!({"success": 1})
}

/// `{"success":0,"error_code":code,"error_message":message}`.
pub(crate) fn error(code: &str, message: impl Into<String>) -> Value {
    let mut map = Map::new();
    map.insert("success".into(), Value::from(0));
    map.insert("error_code".into(), Value::from(code));
    map.insert("error_message".into(), Value::from(message.into()));
    Value::Object(map)
}

/// The documented validation error:
/// `{"success":0,"error_code":"MER-JSN-00018","error_message":"Invalid value
/// for field 'F': M","validation_error":1,"error_field":"F",
/// "error_field_message":"M"}`.
pub(crate) fn validation(field: &str, message: impl Into<String>) -> Value {
    let message = message.into();
    json!({
        "success": 0,
        "error_code": codes::INVALID_FIELD,
        "error_message": format!("Invalid value for field '{field}': {message}"),
        "validation_error": 1,
        "error_field": field,
        "error_field_message": message,
    })
}

/// An `access_denied` error with one of the documented messages.
pub(crate) fn access_denied(message: &str) -> Value {
    error(codes::ACCESS_DENIED, message)
}

/// A function's answer: a JSON value, or JSON already serialized (list
/// responses are written straight from the store, without copying records
/// into a `Value` first).
#[derive(Debug)]
pub(crate) enum Answer {
    Value(Value),
    Json(Vec<u8>),
}

impl From<Value> for Answer {
    fn from(value: Value) -> Self {
        Self::Value(value)
    }
}

impl Answer {
    /// Appends the JSON text to `out`.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Json(bytes) => out.extend_from_slice(bytes),
            Self::Value(value) => {
                if serde_json::to_writer(&mut *out, value).is_err() {
                    out.extend_from_slice(b"{\"success\":0}");
                }
            }
        }
    }

    /// The JSON text.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Json(bytes) => bytes,
            Self::Value(value) => {
                serde_json::to_vec(&value).unwrap_or_else(|_| b"{\"success\":0}".to_vec())
            }
        }
    }

    /// The answer as a value (for tests).
    #[cfg(test)]
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Self::Value(value) => value.clone(),
            Self::Json(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        }
    }
}

/// A list response written directly as JSON:
/// `{"success":1,"data":{"total_count":N,"start_offset":O,"data":[rows]}}`.
pub(crate) fn list_rows(
    total_count: usize,
    start_offset: usize,
    rows: &[crate::query::Row<'_>],
) -> Answer {
    let mut out = Vec::with_capacity(96 + rows.len() * 640);
    out.extend_from_slice(
        format!(
            "{{\"success\":1,\"data\":{{\"total_count\":{total_count},\"start_offset\":{start_offset},\"data\":["
        )
        .as_bytes(),
    );
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if serde_json::to_writer(&mut out, row).is_err() {
            out.extend_from_slice(b"null");
        }
    }
    out.extend_from_slice(b"]}}");
    Answer::Json(out)
}
