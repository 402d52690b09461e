//! A tiny HTTP/1.1 client over `std::net::TcpStream` (keep-alive, bodies
//! framed by Content-Length) and a mock server set up with one credential of
//! every kind.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use miva_mock::{Credentials, MockConfig, MockServer, SshUserConfig, TokenConfig};
use miva_sign::{Credential, HmacDigest, RsaDigest, RsaPrivateKey};
use serde_json::{Value, json};

pub const KEY_256: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ";
pub const KEY_1: &str = "c2Vjb25kIHNpZ25pbmcga2V5IGZvciBzaGExIHRlc3Rz";

/// One HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): status {} body {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// A keep-alive connection.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let writer = stream.try_clone().unwrap();
        Self {
            reader: BufReader::new(stream),
            writer,
        }
    }

    /// Sends a request and reads the response.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.writer.write_all(&bytes).unwrap();
        self.read_response()
    }

    pub fn read_response(&mut self) -> HttpResponse {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| panic!("bad status line {line:?}"))
            .parse()
            .unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        HttpResponse {
            status,
            headers,
            body,
        }
    }

    /// POSTs `body` as JSON, signed with `credential`.
    pub fn post_signed(&mut self, credential: &Credential, body: &[u8]) -> HttpResponse {
        let auth = credential.authorize(body).unwrap();
        self.send(
            "POST",
            "/mm5/json.mvc",
            &[
                ("Content-Type", "application/json"),
                (auth.name(), auth.value()),
            ],
            body,
        )
    }

    /// Signs and sends a JSON value with the current timestamp; returns the
    /// JSON answer.
    pub fn call(&mut self, credential: &Credential, mut request: Value) -> Value {
        if request.get("Miva_Request_Timestamp").is_none() {
            request["Miva_Request_Timestamp"] = json!(now());
        }
        let body = serde_json::to_vec(&request).unwrap();
        let response = self.post_signed(credential, &body);
        assert!(
            response.status == 200 || response.status == 206,
            "status {} for {request}",
            response.status
        );
        response.json()
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "miva-sign",
        "tests",
        "data",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A server that knows a token of every kind and one SSH user.
pub struct Harness {
    pub server: MockServer,
    pub sha256: Credential,
    pub sha1: Credential,
    pub plain: Credential,
    pub no_timestamp: Credential,
    pub limited: Credential,
    pub ssh256: Credential,
    pub ssh512: Credential,
}

pub fn credentials() -> Credentials {
    Credentials::new("STORE")
        .unwrap()
        .with_token(TokenConfig::hmac("tok-sha256", KEY_256, HmacDigest::Sha256).unwrap())
        .with_token(TokenConfig::hmac("tok-sha1", KEY_1, HmacDigest::Sha1).unwrap())
        .with_token(TokenConfig::token_only("tok-plain").unwrap())
        .with_token(
            TokenConfig::token_only("tok-nots")
                .unwrap()
                .with_require_timestamp(false),
        )
        .with_token(
            TokenConfig::token_only("tok-limited")
                .unwrap()
                .with_functions(["ProductList_Load_Query", "STORE:CategoryList_Load_Query"]),
        )
        .with_ssh_user(SshUserConfig::new("apiuser", &fixture("rsa2048.pub")).unwrap())
}

pub fn harness(config: impl FnOnce(MockConfig) -> MockConfig) -> Harness {
    let creds = credentials();
    let find = |token: &str| {
        creds
            .tokens()
            .iter()
            .find(|t| t.token().expose() == token)
            .unwrap()
            .credential()
    };
    let key = || RsaPrivateKey::from_text(&fixture("rsa2048-pkcs1.pem"), None).unwrap();
    Harness {
        sha256: find("tok-sha256"),
        sha1: find("tok-sha1"),
        plain: find("tok-plain"),
        no_timestamp: find("tok-nots"),
        limited: find("tok-limited"),
        ssh256: Credential::ssh("apiuser", key(), RsaDigest::Sha256).unwrap(),
        ssh512: Credential::ssh("apiuser", key(), RsaDigest::Sha512).unwrap(),
        server: MockServer::start(config(MockConfig::new(creds.clone()))).unwrap(),
    }
}

impl Harness {
    pub fn client(&self) -> Client {
        Client::connect(self.server.addr())
    }

    /// One call with the SHA-256 token on a fresh connection.
    pub fn call(&self, request: Value) -> Value {
        self.client().call(&self.sha256, request)
    }

    /// A list query against the store; returns `data` (asserting success).
    pub fn list(&self, function: &str, extra: Value) -> Value {
        let mut request = json!({"Store_Code": "STORE", "Function": function});
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                request[k] = v;
            }
        }
        let answer = self.call(request.clone());
        assert_eq!(answer["success"], 1, "{request} -> {answer}");
        answer["data"].clone()
    }

    /// The `code`s of a product list query with these filters.
    pub fn codes(&self, search: Value) -> Vec<String> {
        let data = self.list(
            "ProductList_Load_Query",
            json!({"Filter": [{"name": "search", "value": search}]}),
        );
        data["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// `P000001`-style code of product `id`.
pub fn code(id: u64) -> String {
    format!("P{id:06}")
}

/// The documented validation error for `field`.
pub fn validation(field: &str, message: &str) -> Value {
    json!({
        "success": 0,
        "error_code": "MER-JSN-00018",
        "error_message": format!("Invalid value for field '{field}': {message}"),
        "validation_error": 1,
        "error_field": field,
        "error_field_message": message,
    })
}

impl Harness {
    /// Calls store function `function` with `fields` (an object) added.
    pub fn run(&self, function: &str, fields: Value) -> Value {
        let mut request = json!({"Store_Code": "STORE", "Function": function});
        if let Value::Object(fields) = fields {
            for (k, v) in fields {
                request[k] = v;
            }
        }
        self.call(request)
    }

    /// The rows of list query `function` whose `field` equals `value`
    /// (with `ondemand` columns).
    pub fn rows_where(
        &self,
        function: &str,
        field: &str,
        value: Value,
        ondemand: &[&str],
    ) -> Vec<Value> {
        let data = self.list(
            function,
            json!({"Filter": [
                {"name": "search", "value": [{"field": field, "operator": "EQ", "value": value}]},
                {"name": "ondemandcolumns", "value": ondemand}]}),
        );
        data["data"].as_array().unwrap().clone()
    }

    /// The one row of `function` whose `field` equals `value`, if any.
    pub fn row_where(
        &self,
        function: &str,
        field: &str,
        value: Value,
        ondemand: &[&str],
    ) -> Option<Value> {
        let rows = self.rows_where(function, field, value, ondemand);
        assert!(rows.len() <= 1, "{field}: several rows {rows:?}");
        rows.into_iter().next()
    }

    /// `total_count` of list query `function` with `extra` parameters.
    pub fn total(&self, function: &str, extra: Value) -> u64 {
        self.list(function, extra)["total_count"].as_u64().unwrap()
    }
}
