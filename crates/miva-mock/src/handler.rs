//! One HTTP request in, one reply out: the checks a store makes (method,
//! content type, size, authorization, timestamp) and the single-call and
//! multicall envelopes. Synchronous; the server feeds it complete bodies.

use std::collections::HashMap;
use std::sync::RwLock;

use base64ct::Encoding as _;
use hyper::header::{CONTENT_TYPE, HeaderMap, RANGE};
use hyper::{Method, http::request::Parts};
use miva_sign::{ErrorKind as SignErrorKind, Principal, Scheme, Verifier};
use serde_json::{Map, Value};

use crate::clock::http_date;
use crate::codes;
use crate::config::MockConfig;
use crate::credentials::{SshUserConfig, TokenConfig, TokenDigest};
use crate::functions::{self, Data};
use crate::response::{self, Answer};
use crate::store::Store;

/// The body as the server read it.
#[derive(Debug)]
pub(crate) enum Body {
    /// All of it.
    Complete(bytes::Bytes),
    /// More than the limit; how many bytes were seen (or announced).
    TooLarge(u64),
}

/// What to send back.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    /// Close the connection after this reply.
    pub(crate) close: bool,
}

/// Everything a request is checked against.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) data: Data,
    endpoint_path: String,
    verifier: Verifier,
    tokens: HashMap<String, TokenConfig>,
    ssh_users: HashMap<String, SshUserConfig>,
    window: i64,
    pub(crate) max_body_bytes: usize,
    multicall_budget: Option<usize>,
    pub(crate) faults: std::sync::Arc<crate::server::FaultState>,
}

impl State {
    pub(crate) fn new(config: &MockConfig) -> Self {
        let creds = &config.credentials;
        let mut verifier = Verifier::new();
        let mut tokens = HashMap::new();
        for token in creds.tokens() {
            let key = match token.digest() {
                TokenDigest::NoSignature => None,
                TokenDigest::Sha256 | TokenDigest::Sha1 => token.signing_key(),
            };
            verifier.add_token(token.token().clone(), key);
            tokens.insert(token.token().expose().to_owned(), token.clone());
        }
        let mut ssh_users = HashMap::new();
        for user in creds.ssh_users() {
            verifier.add_ssh_user(user.username(), user.public_key().clone());
            ssh_users.insert(user.username().to_owned(), user.clone());
        }
        Self {
            data: Data {
                store_code: creds.store_code().to_owned(),
                store: RwLock::new(Store::seeded(creds.store_code(), &config.seed)),
                clock: config.clock.clone(),
                sort_cache: std::sync::Mutex::default(),
            },
            endpoint_path: config.endpoint_path.clone(),
            verifier,
            tokens,
            ssh_users,
            window: i64::try_from(config.timestamp_window_seconds).unwrap_or(i64::MAX),
            max_body_bytes: config.max_body_bytes,
            multicall_budget: config.multicall_budget,
            faults: std::sync::Arc::new(crate::server::FaultState::new(&config.faults)),
        }
    }
}

/// Who the request is from, once verified.
struct Caller<'a> {
    require_timestamp: bool,
    functions: Option<&'a [String]>,
}

/// Answers one request; adds the `Date` header from the mock's clock.
pub(crate) fn handle(state: &State, parts: &Parts, body: Body) -> Reply {
    let date = http_date(state.data.clock.now_unix());
    // A body over the limit may not have been read to its end: never reuse
    // that connection, whatever the answer.
    let truncated = matches!(body, Body::TooLarge(_));
    let mut reply = handle_inner(state, parts, body);
    reply.headers.push(("date", date));
    reply.close |= truncated;
    reply
}

fn handle_inner(state: &State, parts: &Parts, body: Body) -> Reply {
    if parts.uri.path() != state.endpoint_path {
        return Reply {
            status: 404,
            headers: vec![("content-type", "text/plain; charset=utf-8".into())],
            body: format!(
                "Not Found: the Miva JSON API endpoint is {}\n",
                state.endpoint_path
            )
            .into_bytes(),
            close: false,
        };
    }
    if parts.method != Method::POST {
        return json_reply(200, &response::access_denied(codes::MSG_METHOD));
    }
    if !is_json_content_type(&parts.headers) {
        return json_reply(200, &response::access_denied(codes::MSG_CONTENT_TYPE));
    }
    let body = match body {
        Body::Complete(bytes) => bytes,
        Body::TooLarge(seen) => {
            let mut reply = json_reply(
                413,
                &response::error(
                    codes::REQUEST_TOO_LARGE,
                    format!(
                        "The request body ({seen} bytes or more) is larger than the {} bytes \
                         this store accepts; send fewer operations per request",
                        state.max_body_bytes
                    ),
                ),
            );
            reply.close = true;
            return reply;
        }
    };
    let Some(caller) = (match authorize(state, &parts.headers, &body) {
        Ok(caller) => caller,
        Err(reply) => return reply,
    }) else {
        return empty_reply();
    };
    let decoded;
    let json_bytes: &[u8] = if wants_base64(&parts.headers) && !looks_like_json(&body) {
        match decode_base64(&body) {
            Some(bytes) => {
                decoded = bytes;
                &decoded
            }
            None => {
                return json_reply(
                    200,
                    &response::error(
                        codes::INVALID_ENCODING,
                        "X-Miva-API-Binary-Encoding is base64 but the body is neither JSON \
                         nor base64",
                    ),
                );
            }
        }
    } else {
        &body
    };
    let request = match serde_json::from_slice::<Value>(json_bytes) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return json_reply(
                200,
                &response::error(
                    codes::INVALID_JSON,
                    "The request body must be a JSON object with \"Function\" (or \
                     \"Operations\")",
                ),
            );
        }
        Err(e) => {
            return json_reply(
                200,
                &response::error(
                    codes::INVALID_JSON,
                    format!("The request body is not valid JSON: {e}"),
                ),
            );
        }
    };
    if caller.require_timestamp
        && let Err(message) = check_timestamp(state, &request)
    {
        return json_reply(200, &response::access_denied(message));
    }
    match request.get("Operations") {
        None => answer_reply(
            200,
            functions::call(&state.data, &request, caller.functions),
        ),
        Some(Value::Array(operations)) => {
            multicall(state, &parts.headers, &request, operations, &caller)
        }
        Some(_) => json_reply(
            200,
            &response::error(codes::INVALID_JSON, "\"Operations\" must be an array"),
        ),
    }
}

/// `Ok(None)`: no usable header (the store answers with an empty body).
fn authorize<'a>(
    state: &'a State,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<Caller<'a>>, Reply> {
    let value = headers
        .iter()
        .find(|(name, _)| miva_sign::is_authorization_header(name.as_str()))
        .map(|(_, value)| value.to_str());
    let Some(Ok(value)) = value else {
        return Ok(None);
    };
    let verified = match state.verifier.verify(value, body) {
        Ok(v) => v,
        Err(e) => {
            return match e.kind() {
                SignErrorKind::MalformedHeader => Ok(None),
                SignErrorKind::SchemeMismatch | SignErrorKind::BadSignature => Err(json_reply(
                    200,
                    &response::access_denied(codes::MSG_INVALID_SIGNATURE),
                )),
                _ => Err(json_reply(
                    200,
                    &response::access_denied(codes::MSG_ACCESS_DENIED),
                )),
            };
        }
    };
    let denied = || json_reply(200, &response::access_denied(codes::MSG_ACCESS_DENIED));
    match &verified.principal {
        Principal::Token(token) => {
            let config = state.tokens.get(token.expose()).ok_or_else(denied)?;
            let scheme_ok = matches!(
                (config.digest(), verified.scheme),
                (TokenDigest::NoSignature, Scheme::Token)
                    | (
                        TokenDigest::Sha256,
                        Scheme::Hmac(miva_sign::HmacDigest::Sha256)
                    )
                    | (TokenDigest::Sha1, Scheme::Hmac(miva_sign::HmacDigest::Sha1))
            );
            if !scheme_ok {
                return Err(json_reply(
                    200,
                    &response::access_denied(codes::MSG_INVALID_SIGNATURE),
                ));
            }
            Ok(Some(Caller {
                require_timestamp: config.require_timestamp(),
                functions: config.functions(),
            }))
        }
        Principal::SshUser(name) => {
            let config = state.ssh_users.get(name).ok_or_else(denied)?;
            Ok(Some(Caller {
                require_timestamp: true,
                functions: config.functions(),
            }))
        }
        _ => Err(denied()),
    }
}

fn check_timestamp(state: &State, request: &Map<String, Value>) -> Result<(), &'static str> {
    let ts = match request.get("Miva_Request_Timestamp") {
        None | Some(Value::Null) => return Err(codes::MSG_MISSING_TIMESTAMP),
        Some(Value::String(s)) if s.trim().is_empty() => return Err(codes::MSG_MISSING_TIMESTAMP),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok().or_else(|| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f as i64)
        }),
        Some(_) => None,
    };
    let now = state.data.clock.now_unix();
    match ts {
        Some(ts) if now.abs_diff(ts) <= state.window.unsigned_abs() => Ok(()),
        _ => Err(codes::MSG_TIMESTAMP_WINDOW),
    }
}

/// Runs the operations of a multicall request (or the slice named by a
/// `Range: Operations=a-b` header), within the configured budget.
fn multicall(
    state: &State,
    headers: &HeaderMap,
    request: &Map<String, Value>,
    operations: &[Value],
    caller: &Caller<'_>,
) -> Reply {
    let total = operations.len();
    let range = match parse_range(headers) {
        Ok(range) => range,
        Err(message) => return range_error(message, total),
    };
    let (start, end) = match range {
        None => (0, total),
        Some((first, last)) => {
            let last = last.unwrap_or(total).min(total);
            if first == 0 || first > last {
                return range_error(
                    format!(
                        "Range: Operations={first}-{last} selects no operation of the {total} \
                         sent (operations are numbered from 1)"
                    ),
                    total,
                );
            }
            (first - 1, last)
        }
    };
    let mut shared = request.clone();
    shared.remove("Operations");
    let mut results: Vec<OpResult> = Vec::with_capacity(end - start);
    let mut spent = 0usize;
    for operation in &operations[start..end] {
        let cost = match operation.get("Iterations") {
            Some(Value::Array(items)) => items.len().max(1),
            _ => 1,
        };
        if let Some(budget) = state.multicall_budget
            && !results.is_empty()
            && spent.saturating_add(cost) > budget
        {
            break;
        }
        spent = spent.saturating_add(cost);
        results.push(run_operation(state, &shared, operation, caller));
    }
    let completed = results.len();
    let partial = start + completed < end;
    let mut body = Vec::with_capacity(64 + results.len() * 256);
    body.push(b'[');
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        result.write_to(&mut body);
    }
    body.push(b']');
    let mut reply = Reply {
        status: if partial { 206 } else { 200 },
        headers: vec![("content-type", "application/json".into())],
        body,
        close: false,
    };
    if partial || range.is_some() {
        reply
            .headers
            .push(("content-range", format!("{completed}/{total}")));
    }
    reply
}

/// One operation's result: one answer, or one per iteration.
enum OpResult {
    One(Answer),
    Many(Vec<Answer>),
}

impl OpResult {
    fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::One(answer) => answer.write_to(out),
            Self::Many(answers) => {
                out.push(b'[');
                for (i, answer) in answers.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    answer.write_to(out);
                }
                out.push(b']');
            }
        }
    }
}

fn run_operation(
    state: &State,
    shared: &Map<String, Value>,
    operation: &Value,
    caller: &Caller<'_>,
) -> OpResult {
    let Value::Object(operation) = operation else {
        return OpResult::One(
            response::error(
                codes::INVALID_JSON,
                "Each entry of \"Operations\" must be an object with \"Function\"",
            )
            .into(),
        );
    };
    let mut params = shared.clone();
    for (k, v) in operation {
        if k != "Iterations" {
            params.insert(k.clone(), v.clone());
        }
    }
    match operation.get("Iterations") {
        None => OpResult::One(functions::call(&state.data, &params, caller.functions)),
        Some(Value::Array(iterations)) => OpResult::Many(
            iterations
                .iter()
                .map(|iteration| match iteration {
                    Value::Object(fields) => {
                        let mut merged = params.clone();
                        for (k, v) in fields {
                            merged.insert(k.clone(), v.clone());
                        }
                        functions::call(&state.data, &merged, caller.functions)
                    }
                    _ => response::error(
                        codes::INVALID_JSON,
                        "Each entry of \"Iterations\" must be an object",
                    )
                    .into(),
                })
                .collect(),
        ),
        Some(_) => OpResult::One(
            response::error(codes::INVALID_JSON, "\"Iterations\" must be an array").into(),
        ),
    }
}

/// `Range: Operations=a-b` (or `a-`): `Ok(None)` when absent or for another
/// unit (ignored, as HTTP allows).
fn parse_range(headers: &HeaderMap) -> Result<Option<(usize, Option<usize>)>, String> {
    let Some(value) = headers.get(RANGE) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the Range header is not ASCII".to_owned())?;
    let Some((unit, spec)) = value.split_once('=') else {
        return Ok(None);
    };
    if !unit.trim().eq_ignore_ascii_case("operations") {
        return Ok(None);
    }
    let bad = || format!("Range: expected Operations=<first>-<last>, found {value:?}");
    let (first, last) = spec.split_once('-').ok_or_else(bad)?;
    let first = first.trim().parse::<usize>().map_err(|_| bad())?;
    let last = match last.trim() {
        "" => None,
        text => Some(text.parse::<usize>().map_err(|_| bad())?),
    };
    Ok(Some((first, last)))
}

fn range_error(message: String, total: usize) -> Reply {
    let mut reply = json_reply(416, &response::error(codes::INVALID_RANGE, message));
    reply.headers.push(("content-range", format!("*/{total}")));
    reply
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn wants_base64(headers: &HeaderMap) -> bool {
    headers
        .get("x-miva-api-binary-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"))
}

fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

fn decode_base64(body: &[u8]) -> Option<Vec<u8>> {
    let text: String = body
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|&b| char::from(b))
        .collect();
    base64ct::Base64::decode_vec(&text)
        .or_else(|_| base64ct::Base64Unpadded::decode_vec(&text))
        .ok()
}

fn json_reply(status: u16, value: &Value) -> Reply {
    Reply {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: serde_json::to_vec(value).unwrap_or_else(|_| b"{\"success\":0}".to_vec()),
        close: false,
    }
}

fn answer_reply(status: u16, answer: Answer) -> Reply {
    Reply {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: answer.into_bytes(),
        close: false,
    }
}

fn empty_reply() -> Reply {
    Reply {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
        close: false,
    }
}
