//! `miva mock` as a user runs it: the first stdout line is the endpoint,
//! generated credentials work, a credentials file is honoured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Running, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_miva"))
        .arg("mock")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let line = line.trim_end().to_owned();
        let last = line.starts_with("export MIVA_DIGEST")
            || (args.contains(&"--credentials") && lines.is_empty());
        lines.push(line);
        if last {
            break;
        }
    }
    (Running(child), lines)
}

fn post(url: &str, credential: &Credential, body: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_once('/').unwrap();
    let auth = credential.authorize(body.as_bytes()).unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{}: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        auth.name(),
        auth.value(),
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn generated_credentials_are_printed_and_work() {
    let (_server, lines) = start(&["--products", "3"]);
    let url = &lines[0];
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mm5/json.mvc"),
        "{lines:?}"
    );
    let var = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name} missing: {lines:?}"))
            .to_owned()
    };
    assert_eq!(&var("MIVA_ENDPOINT"), url);
    let credential = Credential::hmac(
        ApiToken::new(&var("MIVA_API_TOKEN")).unwrap(),
        &SigningKey::from_base64(&var("MIVA_SIGNING_KEY")).unwrap(),
        HmacDigest::from_name(&var("MIVA_DIGEST")).unwrap(),
    );
    let body = format!(
        r#"{{"Store_Code":"{}","Function":"ProductList_Load_Query","Count":0,"Miva_Request_Timestamp":{}}}"#,
        var("MIVA_STORE_CODE"),
        now()
    );
    let response = post(url, &credential, &body);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let json: serde_json::Value =
        serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["data"]["total_count"], 3);
    assert_eq!(json["data"]["data"][2]["code"], "P000003");
}

#[test]
fn a_credentials_file_is_honoured_and_errors_name_the_field() {
    let dir = std::env::temp_dir().join(format!("miva-mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("creds.json");
    std::fs::write(
        &file,
        r#"{"store_code": "SHOP", "tokens": [{"token": "fake-token-1", "digest": "none", "require_timestamp": false}]}"#,
    )
    .unwrap();
    let (_server, lines) = start(&["--credentials", file.to_str().unwrap()]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let credential = Credential::token(ApiToken::new("fake-token-1").unwrap());
    let response = post(
        &lines[0],
        &credential,
        r#"{"Store_Code":"SHOP","Function":"CategoryList_Load_Query","Count":1}"#,
    );
    assert!(response.contains(r#""success":1"#), "{response}");

    std::fs::write(
        &file,
        r#"{"store_code": "SHOP", "tokens": [{"token": "t", "digest": "md5"}]}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_miva"))
        .args(["mock", "--credentials", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("tokens[0].digest"), "{stderr}");
}
