//! A mock Miravia / Lazada Open Platform gateway over real HTTP on loopback.
//!
//! It checks requests the way the platform does and answers in its shapes
//! (HTTP 200 even for errors): `app_key`, the `sign` of the GET query, POST
//! form or multipart text parts (file parts are not signed),
//! `sign_method=sha256`, a `timestamp` within 7200 s of its clock (ms or
//! `2017-11-11T12:00:00Z`), and the seller's `access_token` on every call
//! but the token calls. It serves a seeded catalogue and orders:
//!
//! | API | answers |
//! |---|---|
//! | `/seller/get` | the seller |
//! | `/products/get` (`offset`, `limit`) | `data.total_products`, `data.products` |
//! | `/product/create` (`payload` JSON) | `data.item_id`, `data.sku_list` |
//! | `/orders/get` (`offset`, `limit`) | `data.countTotal`, `data.orders` |
//! | `/order/get` (`order_id`) | the order |
//! | `/image/upload` (multipart `image`) | `data.image.url`, `data.image.hash` |
//! | `/auth/token/create` (`code`) | tokens at the top level |
//! | `/auth/token/refresh` (`refresh_token`) | tokens at the top level |
//!
//! Error codes: `InvalidAppKey`, `MissingParameter`, `IncompleteSignature`,
//! `InvalidSignMethod`, `InvalidTimestamp`, `IllegalAccessToken`,
//! `IllegalRefreshToken`, `InvalidApi`, `InvalidParameter`, `RequestTooLarge`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hyper::http::request::Parts;
use miravia_sign::AppSecret;
use serde_json::{Value, json};

use crate::clock::{Clock, SystemClock};
use crate::config::{Fault, Faults, ServerLimits};
use crate::error::Error;
use crate::handler::{Body, Reply};
use crate::server::{FaultState, Handler, Running, ShutdownHandle, spawn};

/// Largest allowed distance between a request's timestamp and the clock.
pub const TIMESTAMP_WINDOW_MS: i64 = 7_200_000;

/// What the gateway accepts and serves.
#[non_exhaustive]
pub struct MiraviaConfig {
    /// Where to listen (default `127.0.0.1:0`).
    pub bind: SocketAddr,
    /// The app key callers must send.
    pub app_key: String,
    /// The app secret signatures are checked with.
    pub app_secret: AppSecret,
    /// A seller access token accepted from the start (issued tokens are
    /// accepted too).
    pub access_token: Option<String>,
    /// The gateway's clock.
    pub clock: Arc<dyn Clock>,
    /// Largest request body (default 8 MiB).
    pub max_body_bytes: usize,
    /// Seeded products (default 30) and orders (default 12).
    pub products: usize,
    /// Seeded orders.
    pub orders: usize,
    /// Fault injection (latency, a fault on every answer); the faults that
    /// concern multicalls do nothing here. Default: none.
    pub faults: Faults,
    /// Timeouts and caps for slow, idle or hostile clients (as for the
    /// store): see [`ServerLimits`].
    pub limits: ServerLimits,
}

impl MiraviaConfig {
    /// A gateway for one app.
    pub fn new(app_key: &str, app_secret: AppSecret) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            app_key: app_key.to_owned(),
            app_secret,
            access_token: None,
            clock: Arc::new(SystemClock),
            max_body_bytes: 8 * 1024 * 1024,
            products: 30,
            orders: 12,
            faults: Faults::default(),
            limits: ServerLimits::default(),
        }
    }

    /// Sets the timeouts and caps for slow, idle or hostile clients.
    #[must_use]
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Inject these faults.
    #[must_use]
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Accept this seller access token.
    #[must_use]
    pub fn with_access_token(mut self, token: &str) -> Self {
        self.access_token = Some(token.to_owned());
        self
    }

    /// Listen here.
    #[must_use]
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Use this clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seed this many products.
    #[must_use]
    pub fn with_products(mut self, products: usize) -> Self {
        self.products = products;
        self
    }
}

impl fmt::Debug for MiraviaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiraviaConfig")
            .field("bind", &self.bind)
            .field("app_key", &self.app_key)
            .field("app_secret", &self.app_secret)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("products", &self.products)
            .field("orders", &self.orders)
            .finish_non_exhaustive()
    }
}

/// A running gateway; dropping it stops it.
pub struct MiraviaGateway {
    url: String,
    faults: Arc<FaultState>,
    running: Running,
}

impl MiraviaGateway {
    /// Binds and serves on a background thread; returns once listening.
    ///
    /// # Errors
    /// When the address cannot be bound or the runtime cannot start.
    pub fn start(config: MiraviaConfig) -> Result<Self, Error> {
        let bind = config.bind;
        let limits = config.limits;
        let gateway = Arc::new(Gateway::new(config));
        let faults = Arc::clone(&gateway.faults);
        let running = spawn(bind, None, limits, gateway)?;
        Ok(Self {
            url: format!("http://{}/rest", running.addr),
            faults,
            running,
        })
    }

    /// Faults for the next requests, in order; `None` answers normally.
    /// As [`MockServer::inject_faults`](crate::MockServer::inject_faults).
    pub fn inject_faults(&self, faults: impl IntoIterator<Item = Option<Fault>>) {
        self.faults.push(faults);
    }

    /// How many injected entries no request has taken yet.
    pub fn pending_faults(&self) -> usize {
        self.faults.pending()
    }

    /// Request body bytes held in memory right now, across connections
    /// (bounded by [`ServerLimits::max_buffered_body_bytes`]).
    pub fn buffered_body_bytes(&self) -> usize {
        self.running.buffered_body_bytes()
    }

    /// The base URL, ending in `/rest`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// A handle that stops it from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.running.stop.clone()
    }

    /// Stops it and waits for the server thread.
    pub fn shutdown(mut self) {
        self.running.stop_and_join();
    }

    /// Blocks until stopped through a [`ShutdownHandle`] (or forever).
    pub fn wait(mut self) {
        self.running.wait();
    }
}

impl fmt::Debug for MiraviaGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiraviaGateway")
            .field("url", &self.url)
            .finish()
    }
}

struct Gateway {
    faults: Arc<FaultState>,
    config: MiraviaConfig,
    tokens: Mutex<Tokens>,
    products: Mutex<Vec<Value>>,
    orders: Vec<Value>,
    request_ids: AtomicU64,
}

#[derive(Default)]
struct Tokens {
    access: HashSet<String>,
    refresh: HashSet<String>,
    issued: u64,
}

impl Gateway {
    fn new(config: MiraviaConfig) -> Self {
        let mut tokens = Tokens::default();
        if let Some(t) = &config.access_token {
            tokens.access.insert(t.clone());
        }
        let products = (1..=config.products)
            .map(|i| {
                json!({
                    "item_id": 1_000_000 + i,
                    "status": "Active",
                    "attributes": {"name": format!("Producto {i:03}")},
                    "skus": [{"SellerSku": format!("SKU-{i:05}"), "quantity": (i * 7) % 50,
                              "price": format!("{}.{:02}", 5 + i % 40, (i * 13) % 100)}]
                })
            })
            .collect();
        let orders = (1..=config.orders)
            .map(|i| {
                json!({
                    "order_id": 5_000_000 + i,
                    "statuses": [if i % 3 == 0 { "delivered" } else { "pending" }],
                    "price": format!("{}.00", 10 + i),
                    "items_count": 1 + i % 3,
                    "created_at": format!("2024-01-{:02} 10:00:00 +0100", 1 + i % 28),
                })
            })
            .collect();
        Self {
            faults: Arc::new(FaultState::new(&config.faults)),
            config,
            tokens: Mutex::new(tokens),
            products: Mutex::new(products),
            orders,
            request_ids: AtomicU64::new(1),
        }
    }

    fn request_id(&self) -> String {
        format!(
            "mock-{:08x}",
            self.request_ids.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn error(&self, kind: &str, code: &str, message: &str) -> Value {
        json!({"type": kind, "code": code, "message": message, "request_id": self.request_id()})
    }

    fn ok(&self, data: Value) -> Value {
        json!({"code": "0", "request_id": self.request_id(), "data": data})
    }

    fn answer(
        &self,
        api: &str,
        params: &BTreeMap<String, String>,
        files: &[(String, Vec<u8>)],
    ) -> Value {
        let get = |k: &str| params.get(k).map(String::as_str);
        if get("app_key") != Some(self.config.app_key.as_str()) {
            return self.error("ISV", "InvalidAppKey", "the app_key is missing or unknown");
        }
        let Some(sign) = get("sign") else {
            return self.error("ISV", "MissingParameter", "the sign parameter is missing");
        };
        if get("sign_method") != Some("sha256") {
            return self.error("ISV", "InvalidSignMethod", "sign_method must be sha256");
        }
        if miravia_sign::verify(&self.config.app_secret, api, params, None, sign).is_err() {
            return self.error(
                "ISV",
                "IncompleteSignature",
                "The request signature does not conform to platform standards",
            );
        }
        let now_ms = self.config.clock.now_unix().saturating_mul(1000);
        match get("timestamp").and_then(parse_timestamp_ms) {
            Some(ts) if (ts - now_ms).abs() <= TIMESTAMP_WINDOW_MS => {}
            _ => {
                return self.error(
                    "ISV",
                    "InvalidTimestamp",
                    "timestamp is missing, unreadable, or more than 7200 s from UTC",
                );
            }
        }
        let token_call = api.starts_with("/auth/token/");
        if !token_call {
            let known = get("access_token").is_some_and(|t| {
                self.tokens
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .access
                    .contains(t)
            });
            if !known {
                return self.error(
                    "ISV",
                    "IllegalAccessToken",
                    "The specified access token is invalid or expired",
                );
            }
        }
        match api {
            "/seller/get" => self.ok(json!({"name": "Mock Seller", "seller_id": 42, "email": "seller@example.invalid", "location": "ES"})),
            "/products/get" => {
                let products = self.products.lock().unwrap_or_else(PoisonError::into_inner);
                let (offset, limit) = paging(params);
                let page: Vec<Value> = products.iter().skip(offset).take(limit).cloned().collect();
                self.ok(json!({"total_products": products.len(), "products": page}))
            }
            "/orders/get" => {
                let (offset, limit) = paging(params);
                let page: Vec<Value> = self.orders.iter().skip(offset).take(limit).cloned().collect();
                self.ok(json!({"count": page.len(), "countTotal": self.orders.len(), "orders": page}))
            }
            "/order/get" => {
                let wanted = get("order_id").and_then(|id| id.parse::<u64>().ok());
                let order = wanted.and_then(|id| {
                    self.orders.iter().find(|o| o["order_id"].as_u64() == Some(id))
                });
                match order {
                    Some(o) => self.ok(o.clone()),
                    None => self.error("ISV", "InvalidParameter", "order_id is missing or unknown"),
                }
            }
            "/product/create" => {
                let payload = get("payload").and_then(|p| serde_json::from_str::<Value>(p).ok());
                let Some(product) = payload.as_ref().and_then(|p| p.pointer("/Request/Product")) else {
                    return self.error("ISV", "InvalidParameter", "payload must be JSON with Request.Product");
                };
                let sku = product
                    .pointer("/Skus/Sku/0/SellerSku")
                    .and_then(Value::as_str)
                    .unwrap_or("SKU")
                    .to_owned();
                let mut products = self.products.lock().unwrap_or_else(PoisonError::into_inner);
                let item_id = 1_000_000 + products.len() + 1;
                products.push(json!({"item_id": item_id, "status": "Active",
                    "attributes": product.get("Attributes").cloned().unwrap_or(Value::Null),
                    "skus": [{"SellerSku": sku}]}));
                self.ok(json!({"item_id": item_id, "sku_list": [{"seller_sku": sku, "sku_id": item_id * 10}]}))
            }
            "/image/upload" => match files.iter().find(|(name, _)| name == "image") {
                Some((_, bytes)) => {
                    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
                    });
                    self.ok(json!({"image": {"url": format!("https://img.example.invalid/{hash:016x}.jpg"),
                        "hash": format!("{hash:016x}"), "size": bytes.len()}}))
                }
                None => self.error("ISV", "MissingParameter", "the image file part is missing"),
            },
            "/auth/token/create" | "/auth/token/refresh" => {
                let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
                if api.ends_with("/create") && get("code").is_none_or(str::is_empty) {
                    return self.error("ISV", "MissingParameter", "code is required");
                }
                if api.ends_with("/refresh") {
                    let valid = get("refresh_token").is_some_and(|t| tokens.refresh.remove(t));
                    if !valid {
                        return self.error("ISV", "IllegalRefreshToken", "the refresh token is invalid or used");
                    }
                }
                tokens.issued += 1;
                let n = tokens.issued;
                let access = format!("mock-access-{n}");
                let refresh = format!("mock-refresh-{n}");
                tokens.access.insert(access.clone());
                tokens.refresh.insert(refresh.clone());
                json!({"code": "0", "request_id": self.request_id(), "access_token": access,
                       "refresh_token": refresh, "expires_in": 604_800, "refresh_expires_in": 2_592_000,
                       "country": "es", "account_platform": "seller_center", "account": "seller@example.invalid",
                       "country_user_info": [{"country": "es", "user_id": "42", "seller_id": "42"}]})
            }
            _ => self.error("ISV", "InvalidApi", "the API does not exist"),
        }
    }
}

impl Handler for Gateway {
    fn max_body_bytes(&self) -> usize {
        self.config.max_body_bytes
    }

    fn faults(&self) -> Option<&FaultState> {
        Some(&self.faults)
    }

    fn handle(&self, parts: &Parts, body: Body) -> Reply {
        let date = crate::clock::http_date(self.config.clock.now_unix());
        let reply = |value: Value, close: bool| Reply {
            status: 200,
            headers: vec![
                ("content-type", "application/json;charset=UTF-8".to_owned()),
                ("date", date.clone()),
            ],
            body: value.to_string().into_bytes(),
            close,
        };
        let body = match body {
            Body::Complete(bytes) => bytes,
            Body::TooLarge(_) => {
                let mut r = reply(
                    self.error("ISP", "RequestTooLarge", "the request body is too large"),
                    true,
                );
                r.status = 413;
                return r;
            }
        };
        let path = parts.uri.path();
        let Some(api) = path.strip_prefix("/rest").filter(|a| a.starts_with('/')) else {
            return reply(
                self.error("ISV", "InvalidApi", "the path must be /rest/<api>"),
                false,
            );
        };
        let mut params = BTreeMap::new();
        let mut files = Vec::new();
        let mut duplicate = false;
        let mut add = |k: String, v: String, params: &mut BTreeMap<String, String>| {
            duplicate |= params.insert(k, v).is_some();
        };
        for (k, v) in parse_form(parts.uri.query().unwrap_or("")) {
            add(k, v, &mut params);
        }
        let content_type = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if content_type.starts_with("multipart/form-data") {
            match parse_multipart(content_type, &body) {
                Some((text, parts)) => {
                    for (k, v) in text {
                        add(k, v, &mut params);
                    }
                    files = parts;
                }
                None => {
                    return reply(
                        self.error("ISV", "InvalidParameter", "the multipart body is malformed"),
                        false,
                    );
                }
            }
        } else if !body.is_empty() {
            let Ok(text) = std::str::from_utf8(&body) else {
                return reply(
                    self.error("ISV", "InvalidParameter", "the form body is not UTF-8"),
                    false,
                );
            };
            for (k, v) in parse_form(text) {
                add(k, v, &mut params);
            }
        }
        if duplicate {
            return reply(
                self.error("ISV", "InvalidParameter", "a parameter is given twice"),
                false,
            );
        }
        reply(self.answer(api, &params, &files), false)
    }
}

fn paging(params: &BTreeMap<String, String>) -> (usize, usize) {
    let num = |k: &str, d: usize| params.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    (num("offset", 0), num("limit", 10).min(100))
}

/// Milliseconds since the epoch, or `YYYY-MM-DDTHH:MM:SSZ` (also with
/// `+HH:MM` / `-HH:MM`).
fn parse_timestamp_ms(text: &str) -> Option<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    let offset = match &text[19..] {
        "Z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * (n(20..22)? * 3600 + n(23..25)? * 60)
        }
        _ => return None,
    };
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset) * 1000)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

type TextParts = Vec<(String, String)>;
type FileParts = Vec<(String, Vec<u8>)>;

fn parse_multipart(content_type: &str, body: &[u8]) -> Option<(TextParts, FileParts)> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    let mut positions = Vec::new();
    let mut i = 0;
    while i + d.len() <= body.len() {
        if &body[i..i + d.len()] == d {
            positions.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    let mut text = Vec::new();
    let mut files = Vec::new();
    for w in positions.windows(2) {
        let part = body.get(w[0] + d.len()..w[1])?;
        let part = part.strip_prefix(b"\r\n")?;
        let part = part.strip_suffix(b"\r\n")?;
        let split = part.windows(4).position(|x| x == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..split]).ok()?;
        let content = &part[split + 4..];
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
        let name = disposition
            .split("name=\"")
            .nth(1)?
            .split('"')
            .next()?
            .to_owned();
        if disposition.contains("filename=") {
            files.push((name, content.to_vec()));
        } else {
            text.push((name, String::from_utf8(content.to_vec()).ok()?));
        }
    }
    Some((text, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_both_documented_forms() {
        // The document's examples: 2017-11-11T12:00:00Z and 1517886554000.
        assert_eq!(parse_timestamp_ms("1517886554000"), Some(1_517_886_554_000));
        // `date -u -d 2017-11-11T12:00:00Z +%s` = 1510401600.
        assert_eq!(
            parse_timestamp_ms("2017-11-11T12:00:00Z"),
            Some(1_510_401_600_000)
        );
        assert_eq!(
            parse_timestamp_ms("2017-11-11T13:00:00+01:00"),
            Some(1_510_401_600_000)
        );
        assert_eq!(parse_timestamp_ms("2017-11-11 12:00:00"), None);
        assert_eq!(parse_timestamp_ms(""), None);
    }
}
