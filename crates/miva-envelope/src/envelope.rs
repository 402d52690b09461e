//! Request envelopes: `Function` (or a module call), `Store_Code`,
//! `Miva_Request_Timestamp` and the call's parameters, serialized once into a
//! caller's buffer so the bytes that are signed are the bytes that are sent.

use serde::Serialize;

use crate::error::{Error, ErrorKind};

/// What a request calls: an API function, or a module's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// An API function such as `ProductList_Load_Query`.
    Function(&'a str),
    /// `"Function": "Module"` with `Module_Code` and `Module_Function`.
    Module {
        /// The module's code.
        code: &'a str,
        /// The module function.
        function: &'a str,
    },
}

impl Target<'_> {
    /// The name to show in logs and errors (`Module:code:function` for
    /// module calls).
    pub fn display_name(&self) -> String {
        match self {
            Self::Function(name) => (*name).to_owned(),
            Self::Module { code, function } => format!("Module:{code}:{function}"),
        }
    }
}

/// The fields every request shares. Build one per call; encoding borrows it.
///
/// ```
/// use miva_envelope::Envelope;
/// use serde_json::json;
///
/// let mut body = Vec::new();
/// Envelope::function("Product_Delete")
///     .store_code(Some("demo"))
///     .timestamp(Some(1_700_000_000))
///     .encode_into(&json!({"Product_Code": "P000001"}), &mut body)?;
/// assert_eq!(
///     std::str::from_utf8(&body)?,
///     r#"{"Function":"Product_Delete","Store_Code":"demo","Miva_Request_Timestamp":1700000000,"Product_Code":"P000001"}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    target: Target<'a>,
    store_code: Option<&'a str>,
    timestamp: Option<i64>,
}

impl<'a> Envelope<'a> {
    /// A call of API function `name`.
    pub fn function(name: &'a str) -> Self {
        Self::new(Target::Function(name))
    }

    /// A call of a module's function.
    pub fn module(code: &'a str, function: &'a str) -> Self {
        Self::new(Target::Module { code, function })
    }

    /// A call of `target`.
    pub fn new(target: Target<'a>) -> Self {
        Self {
            target,
            store_code: None,
            timestamp: None,
        }
    }

    /// `Store_Code` (leave `None` for domain-scoped functions such as
    /// `StoreList_Load_Query`).
    pub fn store_code(mut self, store_code: Option<&'a str>) -> Self {
        self.store_code = store_code;
        self
    }

    /// `Miva_Request_Timestamp`, in Unix seconds.
    pub fn timestamp(mut self, timestamp: Option<i64>) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// The call's target.
    pub fn target(&self) -> Target<'a> {
        self.target
    }

    /// Appends the JSON body to `out`. `params` must serialize to a JSON
    /// object (its fields follow the envelope's) or to `null` / `()`.
    ///
    /// # Errors
    /// [`ErrorKind::Params`] when `params` is not an object.
    pub fn encode_into<P: Serialize + ?Sized>(
        &self,
        params: &P,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        out.push(b'{');
        match self.target {
            Target::Function(name) => push_field(out, "Function", name, true),
            Target::Module { code, function } => {
                push_field(out, "Function", "Module", true);
                push_field(out, "Module_Code", code, false);
                push_field(out, "Module_Function", function, false);
            }
        }
        self.push_common(out, false);
        let result = append_params(out, params);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// The JSON body as a new buffer.
    ///
    /// # Errors
    /// As [`Envelope::encode_into`].
    pub fn encode<P: Serialize + ?Sized>(&self, params: &P) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(128);
        self.encode_into(params, &mut out)?;
        Ok(out)
    }

    /// Writes `Store_Code` and `Miva_Request_Timestamp` (each if set).
    pub(crate) fn push_common(&self, out: &mut Vec<u8>, first: bool) {
        let mut first = first;
        if let Some(code) = self.store_code {
            push_field(out, "Store_Code", code, first);
            first = false;
        }
        if let Some(ts) = self.timestamp {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(b"\"Miva_Request_Timestamp\":");
            out.extend_from_slice(ts.to_string().as_bytes());
        }
    }
}

/// Writes `"name":"value"` (JSON-escaped), with a leading comma unless
/// `first`.
pub(crate) fn push_field(out: &mut Vec<u8>, name: &str, value: &str, first: bool) {
    if !first {
        out.push(b',');
    }
    push_string(out, name);
    out.push(b':');
    push_string(out, value);
}

pub(crate) fn push_string(out: &mut Vec<u8>, value: &str) {
    // Serializing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Serializes `params` after the fields already in `out` (an object opened
/// and not closed), then closes the object.
pub(crate) fn append_params<P: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    params: &P,
) -> Result<(), Error> {
    let at = out.len();
    serde_json::to_writer(&mut *out, params).map_err(|e| {
        Error::new(
            ErrorKind::Params,
            format!("the call's parameters could not be serialized: {e}"),
        )
    })?;
    let written = &out[at..];
    if written == b"null" || written == b"{}" {
        out.truncate(at);
        out.push(b'}');
        return Ok(());
    }
    if written.first() != Some(&b'{') {
        let shown = String::from_utf8_lossy(&written[..written.len().min(40)]).into_owned();
        out.truncate(at);
        return Err(Error::new(
            ErrorKind::Params,
            format!(
                "the call's parameters must serialize to a JSON object of field names and \
                 values, found {shown}"
            ),
        ));
    }
    // Opened object directly after "{": drop the parameters' own brace; else
    // turn it into the separating comma.
    if out[..at].ends_with(b"{") {
        out.remove(at);
    } else {
        out[at] = b',';
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn envelope_fields_come_first_and_in_order() {
        // Shape from wire-facts.md, "Envelope".
        let body = Envelope::function("ProductList_Load_Query")
            .store_code(Some("S1"))
            .timestamp(Some(1_600_000_000))
            .encode(&json!({"Count": 2}))
            .unwrap();
        assert_eq!(
            text(&body),
            r#"{"Function":"ProductList_Load_Query","Store_Code":"S1","Miva_Request_Timestamp":1600000000,"Count":2}"#
        );
    }

    #[test]
    fn domain_scope_has_no_store_code_and_empty_params_close_cleanly() {
        for params in [json!({}), json!(null)] {
            let body = Envelope::function("StoreList_Load_Query")
                .timestamp(Some(7))
                .encode(&params)
                .unwrap();
            assert_eq!(
                text(&body),
                r#"{"Function":"StoreList_Load_Query","Miva_Request_Timestamp":7}"#
            );
        }
        let body = Envelope::function("X").encode(&()).unwrap();
        assert_eq!(text(&body), r#"{"Function":"X"}"#);
    }

    #[test]
    fn module_calls() {
        let body = Envelope::module("mod\"x", "Run")
            .store_code(Some("s"))
            .encode(&json!({"A": 1}))
            .unwrap();
        assert_eq!(
            text(&body),
            r#"{"Function":"Module","Module_Code":"mod\"x","Module_Function":"Run","Store_Code":"s","A":1}"#
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["Module_Code"], "mod\"x");
    }

    #[test]
    fn non_object_params_are_refused_and_leave_the_buffer_untouched() {
        let mut out = b"keep".to_vec();
        let err = Envelope::function("F")
            .encode_into(&json!([1, 2]), &mut out)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Params);
        assert!(err.to_string().contains("JSON object"), "{err}");
        assert_eq!(out, b"keep");
    }
}
