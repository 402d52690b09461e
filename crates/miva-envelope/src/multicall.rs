//! Multicall: several operations in one signed request, operations with
//! iterations, their nested array responses, and the `Content-Range` of a
//! partial (HTTP 206) answer.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::envelope::{Envelope, Target, push_field, push_string};
use crate::error::{Error, ErrorKind};
use crate::response::{ApiError, Response};

/// One operation of a multicall request.
///
/// ```
/// use miva_envelope::{Operation, encode_multicall};
/// use serde_json::json;
///
/// let ops = [
///     Operation::new("ProductList_Load_Query", &json!({"Count": 1}))?,
///     Operation::with_iterations(
///         "Product_Update",
///         &json!({}),
///         [json!({"Product_Code": "A", "Product_Price": 1.5}), json!({"Product_Code": "B", "Product_Price": 2})],
///     )?,
/// ];
/// let body = encode_multicall(Some("S"), Some(9), &ops)?;
/// assert_eq!(
///     String::from_utf8(body)?,
///     r#"{"Store_Code":"S","Miva_Request_Timestamp":9,"Operations":[{"Function":"ProductList_Load_Query","Count":1},{"Function":"Product_Update","Iterations":[{"Product_Code":"A","Product_Price":1.5},{"Product_Code":"B","Product_Price":2}]}]}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    function: String,
    module: Option<(String, String)>,
    params: Map<String, Value>,
    iterations: Option<Vec<Map<String, Value>>>,
}

fn to_object<P: Serialize + ?Sized>(params: &P, what: &str) -> Result<Map<String, Value>, Error> {
    match serde_json::to_value(params) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(Error::new(
            ErrorKind::Params,
            format!(
                "{what} must serialize to a JSON object of field names and values, found {other}"
            ),
        )),
        Err(e) => Err(Error::new(
            ErrorKind::Params,
            format!("{what} could not be serialized: {e}"),
        )),
    }
}

impl Operation {
    /// An operation calling `function` once with `params` (an object).
    ///
    /// # Errors
    /// When `params` is not a JSON object.
    pub fn new<P: Serialize + ?Sized>(function: &str, params: &P) -> Result<Self, Error> {
        Ok(Self {
            function: function.to_owned(),
            module: None,
            params: to_object(params, "an operation's parameters")?,
            iterations: None,
        })
    }

    /// An operation for a typed request: its function and parameters, after
    /// the request's own checks
    /// ([`MivaRequest::validate`](crate::MivaRequest::validate), e.g. a list
    /// query's columns).
    ///
    /// # Errors
    /// When the request does not validate or is not a JSON object.
    pub fn request<R: crate::MivaRequest>(request: &R) -> Result<Self, Error> {
        request.validate()?;
        Self::new(request.function(), request)
    }

    /// A module function call.
    ///
    /// # Errors
    /// When `params` is not a JSON object.
    pub fn module<P: Serialize + ?Sized>(
        code: &str,
        function: &str,
        params: &P,
    ) -> Result<Self, Error> {
        let mut op = Self::new("Module", params)?;
        op.module = Some((code.to_owned(), function.to_owned()));
        Ok(op)
    }

    /// An operation calling `function` once per iteration, with `shared`
    /// fields common to all of them. It answers with a nested array.
    ///
    /// # Errors
    /// When `shared` or an iteration is not a JSON object.
    pub fn with_iterations<P, I>(
        function: &str,
        shared: &P,
        iterations: impl IntoIterator<Item = I>,
    ) -> Result<Self, Error>
    where
        P: Serialize + ?Sized,
        I: Serialize,
    {
        let mut op = Self::new(function, shared)?;
        let items = iterations
            .into_iter()
            .enumerate()
            .map(|(i, item)| to_object(&item, &format!("iteration {}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        op.iterations = Some(items);
        Ok(op)
    }

    /// Checks the operation as a raw call is checked before it is sent
    /// ([`check_raw_call`](crate::api::check_raw_call)): the function
    /// name's spelling and a list query's filters, with each iteration's
    /// parameters over the operation's. Module calls are the module's to
    /// judge.
    ///
    /// # Errors
    /// What [`check_raw_call`](crate::api::check_raw_call) refuses.
    pub fn check(&self) -> Result<(), Error> {
        if self.module.is_some() {
            return Ok(());
        }
        crate::api::check_raw_call(&self.function, &self.params)?;
        for iteration in self.iterations.iter().flatten() {
            let mut merged = self.params.clone();
            merged.extend(iteration.iter().map(|(k, v)| (k.clone(), v.clone())));
            crate::api::check_raw_call(&self.function, &merged)?;
        }
        Ok(())
    }

    /// The function called (`Module` for module calls).
    pub fn function(&self) -> &str {
        &self.function
    }

    /// How many iterations, if it has them.
    pub fn iterations(&self) -> Option<usize> {
        self.iterations.as_ref().map(Vec::len)
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.push(b'{');
        push_field(out, "Function", &self.function, true);
        if let Some((code, function)) = &self.module {
            push_field(out, "Module_Code", code, false);
            push_field(out, "Module_Function", function, false);
        }
        for (key, value) in &self.params {
            out.push(b',');
            push_string(out, key);
            out.push(b':');
            serde_json::to_writer(&mut *out, value).map_err(Error::decode)?;
        }
        if let Some(items) = &self.iterations {
            out.extend_from_slice(b",\"Iterations\":");
            serde_json::to_writer(&mut *out, items).map_err(Error::decode)?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// Appends a multicall body to `out`: `Store_Code`, the timestamp and the
/// operations.
///
/// # Errors
/// Only if a parameter value cannot be serialized.
pub fn encode_multicall_into(
    store_code: Option<&str>,
    timestamp: Option<i64>,
    operations: &[Operation],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let envelope = Envelope::new(Target::Function(""))
        .store_code(store_code)
        .timestamp(timestamp);
    out.push(b'{');
    envelope.push_common(out, true);
    if store_code.is_some() || timestamp.is_some() {
        out.push(b',');
    }
    out.extend_from_slice(b"\"Operations\":[");
    for (i, op) in operations.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        op.write(out)?;
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// A multicall body as a new buffer.
///
/// # Errors
/// As [`encode_multicall_into`].
pub fn encode_multicall(
    store_code: Option<&str>,
    timestamp: Option<i64>,
    operations: &[Operation],
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(64 + operations.len() * 64);
    encode_multicall_into(store_code, timestamp, operations, &mut out)?;
    Ok(out)
}

/// The answer to one operation.
#[derive(Debug, Clone, PartialEq)]
pub enum OperationResult {
    /// An operation without iterations.
    One(Response<Value>),
    /// One answer per iteration.
    Iterations(Vec<Response<Value>>),
}

/// The body of a multicall response: one element per operation answered.
/// If the store answered with a single error object instead (access denied,
/// for example), that is `Err`.
///
/// # Errors
/// When the body is neither a JSON array of responses nor an error object.
pub fn decode_multicall(body: &[u8]) -> Result<Result<Vec<OperationResult>, Box<ApiError>>, Error> {
    let value: Value = serde_json::from_slice(body).map_err(Error::decode)?;
    match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Array(iterations) => iterations
                    .into_iter()
                    .map(|it| one(it, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(OperationResult::Iterations),
                other => one(other, i).map(OperationResult::One),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Ok),
        other @ Value::Object(_) => match serde_json::from_value::<Response<Value>>(other) {
            Ok(Response::Failure(e)) => Ok(Err(e)),
            Ok(Response::Success(_)) => Err(Error::decode(
                "a multicall response must be an array with one element per operation, found a \
                 single success object",
            )),
            Err(e) => Err(Error::decode(e)),
        },
        other => Err(Error::decode(format!(
            "a multicall response must be an array, found {}",
            kind(&other)
        ))),
    }
}

fn one(value: Value, index: usize) -> Result<Response<Value>, Error> {
    serde_json::from_value(value)
        .map_err(|e| Error::decode(format!("operation {}: {e}", index + 1)))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `Content-Range: <completed>/<total>` of a partial multicall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// Operations completed so far (by this and earlier requests).
    pub completed: usize,
    /// Operations in the request.
    pub total: usize,
}

impl ContentRange {
    /// Parses `3/10` (an optional leading unit such as `Operations` is
    /// tolerated).
    ///
    /// # Errors
    /// [`ErrorKind::ContentRange`] naming the value.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let bad = || {
            Error::new(
                ErrorKind::ContentRange,
                format!("Content-Range {value:?} is not <completed>/<total>"),
            )
        };
        let text = value.trim();
        let text = text.rsplit(' ').next().unwrap_or(text);
        let (done, total) = text.split_once('/').ok_or_else(bad)?;
        let completed: usize = done.trim().parse().map_err(|_| bad())?;
        let total: usize = total.trim().parse().map_err(|_| bad())?;
        if completed > total {
            return Err(Error::new(
                ErrorKind::ContentRange,
                format!("Content-Range {value:?} says more operations completed than were sent"),
            ));
        }
        Ok(Self { completed, total })
    }

    /// The `Range` header value that asks for the rest:
    /// `Operations=<completed+1>-<total>`.
    pub fn next_range(&self) -> String {
        format!("Operations={}-{}", self.completed + 1, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_responses_decode_per_operation() {
        // Shape from wire-facts.md, "Multicall".
        let body = json!([
            {"success": 1, "data": {"total_count": 0, "start_offset": 0, "data": []}},
            [{"success": 1}, {"success": 0, "error_code": "E", "error_message": "no"}],
        ]);
        let results = decode_multicall(body.to_string().as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(results.len(), 2);
        let OperationResult::Iterations(its) = &results[1] else {
            panic!("nested")
        };
        assert_eq!(
            its[1],
            Response::Failure(Box::new(ApiError::new("E", "no")))
        );
        let denied = decode_multicall(
            br#"{"success":0,"error_code":"access_denied","error_message":"Access denied"}"#,
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(denied.code, "access_denied");
        assert!(decode_multicall(b"42").is_err());
        assert!(
            decode_multicall(b"[42]")
                .unwrap_err()
                .to_string()
                .starts_with("operation 1")
        );
    }

    #[test]
    fn content_range() {
        assert_eq!(
            ContentRange::parse("3/10").unwrap(),
            ContentRange {
                completed: 3,
                total: 10
            }
        );
        assert_eq!(
            ContentRange::parse(" Operations 3/10 ")
                .unwrap()
                .next_range(),
            "Operations=4-10"
        );
        for bad in ["", "3", "a/b", "11/10", "3-10"] {
            assert_eq!(
                ContentRange::parse(bad).unwrap_err().kind(),
                ErrorKind::ContentRange,
                "{bad}"
            );
        }
    }

    #[test]
    fn module_operations_and_bad_iterations() {
        let op = Operation::module("m", "f", &json!({"x": 1})).unwrap();
        let body = encode_multicall(None, None, &[op]).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"Operations":[{"Function":"Module","Module_Code":"m","Module_Function":"f","x":1}]}"#
        );
        let err = Operation::with_iterations("F", &json!({}), [json!(1)]).unwrap_err();
        assert!(err.to_string().starts_with("iteration 1"), "{err}");
    }
}
