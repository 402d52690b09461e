//! `miva call`, `miva list` and `miva demo` as a user runs them, against a
//! mock store on loopback. Expected records follow from the mock's seeding
//! rule (ids 1..N, codes P000001...), not from this code's output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

use miva_mock::{Credentials, MockConfig, MockServer, TokenConfig};
use miva_sign::HmacDigest;
use serde_json::Value;

// Fake test credentials (not a real store's).
const TOKEN: &str = "00000000000000000000000000c1e001";
const KEY: &str = "ZmFrZS1zaWduaW5nLWtleS1mb3ItY2xpLXRlc3RzLTAwMDA";

fn server(products: usize) -> MockServer {
    let creds = Credentials::new("CLI")
        .unwrap()
        .with_token(TokenConfig::hmac(TOKEN, KEY, HmacDigest::Sha256).unwrap());
    MockServer::start(MockConfig::new(creds).with_products(products)).unwrap()
}

fn miva(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_miva"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("MIVA_") || name.starts_with("MIRAVIA_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn store_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("MIVA_ENDPOINT", server.url().to_owned()),
        ("MIVA_STORE_CODE", "CLI".to_owned()),
        ("MIVA_API_TOKEN", TOKEN.to_owned()),
        ("MIVA_SIGNING_KEY", KEY.to_owned()),
    ]
}

fn run(server: &MockServer, args: &[&str], extra: &[(&'static str, &str)]) -> Output {
    let mut env = store_env(server);
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k, (*v).to_owned()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    miva(args, &env)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn call_prints_the_data_as_json() {
    let server = server(12);
    let out = run(
        &server,
        &[
            "call",
            "ProductList_Load_Query",
            "--json",
            r#"{"Count": 2, "Offset": 3, "Sort": "id"}"#,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let data: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(data["total_count"], 12);
    assert_eq!(data["start_offset"], 3);
    let codes: Vec<&str> = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["P000004", "P000005"]);

    let compact = run(
        &server,
        &["call", "ProductList_Load_Query", "--compact"],
        &[],
    );
    assert!(compact.status.success());
    assert_eq!(text(&compact.stdout).lines().count(), 1);
}

#[test]
fn call_reads_parameters_from_a_file_and_overrides_the_store_code() {
    let server = server(3);
    let dir = std::env::temp_dir().join(format!("miva-store-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("params.json");
    std::fs::write(&path, r#"{"Count": 1, "Store_Code": "OTHER"}"#).unwrap();
    let arg = format!("@{}", path.display());
    let out = run(
        &server,
        &["call", "ProductList_Load_Query", "--json", &arg],
        &[],
    );
    // The mock serves one store: another store code is refused by it, which
    // shows the override travelled.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("OTHER"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn api_errors_exit_1_with_code_and_message() {
    let server = server(3);
    let out = run(
        &server,
        &[
            "call",
            "Product_Insert",
            "--json",
            r#"{"Product_Code": "P000001", "Product_Name": "dup"}"#,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    let first = err.lines().next().unwrap();
    let (code, message) = first.split_once(": ").unwrap();
    assert!(code.starts_with("MER-"), "{err}");
    assert!(message.contains("P000001"), "{err}");
    assert!(err.contains("Product_Code:"), "the field is named: {err}");
}

#[test]
fn access_denied_is_explained_and_no_secret_is_printed() {
    let server = server(3);
    let wrong = "d3Jvbmcta2V5LWZvci10aGUtY2xpLXRlc3QtMDAwMDAwMA";
    let out = run(
        &server,
        &["call", "ProductList_Load_Query", "-vv"],
        &[("MIVA_SIGNING_KEY", wrong)],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("access_denied: Invalid request signature"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    for secret in [TOKEN, KEY, wrong] {
        assert!(!err.contains(secret), "a secret was logged: {err}");
    }
}

#[test]
fn list_prints_every_record_once_in_order() {
    let server = server(250);
    for (page, concurrency) in [("7", "1"), ("7", "3"), ("100", "8"), ("1000", "2")] {
        let out = run(
            &server,
            &[
                "list",
                "ProductList_Load_Query",
                "--page-size",
                page,
                "--concurrency",
                concurrency,
                "--json",
                r#"{"Sort": "id"}"#,
            ],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let ids: Vec<u64> = text(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            ids,
            (1..=250).collect::<Vec<_>>(),
            "page {page} x {concurrency}"
        );
        // stderr is not a terminal here: no progress bar drawn.
        assert!(!text(&out.stderr).contains('\r'), "{}", text(&out.stderr));
    }
}

#[test]
fn list_honours_filters_offset_and_a_count_limit() {
    let server = server(100);
    let filter = r#"{"Filter": [{"name": "search", "value": [{"field": "id", "operator": "LE", "value": "40"}]}], "Sort": "-id", "Offset": 5, "Count": 12}"#;
    let out = run(
        &server,
        &[
            "list",
            "ProductList_Load_Query",
            "--page-size",
            "5",
            "--json",
            filter,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids: Vec<u64> = text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    // ids 40 down to 1, skip 5, take 12.
    assert_eq!(ids, (24..=35).rev().collect::<Vec<_>>());
}

#[test]
fn list_writes_to_a_file() {
    let server = server(30);
    let dir = std::env::temp_dir().join(format!("miva-store-cli-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.jsonl");
    let out = run(
        &server,
        &[
            "list",
            "CategoryList_Load_Query",
            "-o",
            path.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.lines().count() > 0);
    for line in written.lines() {
        assert!(serde_json::from_str::<Value>(line).unwrap()["code"].is_string());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn configuration_errors_name_the_fix() {
    let out = miva(&["call", "ProductList_Load_Query"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("MIVA_ENDPOINT"),
        "{}",
        text(&out.stderr)
    );

    let server = server(1);
    let out = run(&server, &["call", "X", "--json", "[1]"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--json must be a JSON object"));
    let out = run(&server, &["call", "X", "--json", "{"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--json is not valid JSON"));
    let out = run(
        &server,
        &["list", "X", "--json", r#"{"Count": "ten"}"#],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Count"));
    let out = run(&server, &["--timeout", "0", "call", "X"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("above 0"));

    // The token travels in clear over http:// to another host: refused.
    let out = run(
        &server,
        &["call", "X"],
        &[("MIVA_ENDPOINT", "http://store.invalid/mm5/json.mvc")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("http"), "{}", text(&out.stderr));
}

#[test]
fn a_silent_server_times_out_after_the_given_seconds() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let holder = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let out = miva(
        &["call", "ProductList_Load_Query"],
        &[
            ("MIVA_ENDPOINT", &url),
            ("MIVA_API_TOKEN", TOKEN),
            ("MIVA_SIGNING_KEY", KEY),
            ("MIVA_TIMEOUT", "1"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("timed out"),
        "{}",
        text(&out.stderr)
    );
    holder.join().unwrap();
}

#[test]
fn demo_runs_the_whole_job() {
    let dir = std::env::temp_dir().join(format!("miva-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export.jsonl");
    let out = miva(
        &[
            "demo",
            "--products",
            "321",
            "--output",
            path.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("total_count: 321"), "{stdout}");
    assert!(stdout.contains("321 products in"), "{stdout}");
    assert!(stdout.contains("10 of 10 updates succeeded"), "{stdout}");
    assert!(
        stdout.contains("prices are now 100, 101, 102, 103, 104, 105, 106, 107, 108, 109"),
        "{stdout}"
    );
    assert!(stdout.contains("access_denied: Invalid request signature"));
    assert!(stdout.contains("access_denied: Timestamp outside configured window"));
    let ids: Vec<u64> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, (1..=321).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_stops_at_a_failed_page_and_names_it() {
    let server = server(50);
    // Pages of 10: the third request (offset 20) gets an HTML 500 page.
    server.inject_faults([None, None, Some(miva_mock::Fault::ServerErrorHtml)]);
    let out = run(
        &server,
        &["list", "ProductList_Load_Query", "--page-size", "10"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 20, "every record before the failed page");
    assert!(lines[19].contains("\"P000020\""), "{}", lines[19]);
    let err = text(&out.stderr);
    assert!(err.contains("offset 20"), "{err}");
    assert!(err.contains("HTTP 500"), "{err}");
}

#[test]
fn spec_shows_a_function_and_call_warns_about_unknown_names() {
    let out = miva(&["spec", "product_update"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("Product_Update (store-scoped)"),
        "{shown}"
    );
    assert!(shown.contains("Product_Price"), "{shown}");
    assert!(
        shown.contains("one of: Product_ID, Edit_Product"),
        "{shown}"
    );
    let out = miva(&["spec", "ProductList_Load_Query"], &[]);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("filter Product_Show: All, Uncategorized, Active"),
        "{shown}"
    );
    assert!(shown.contains("response: a page of Product"), "{shown}");
    // Every function, one line each.
    let out = miva(&["spec"], &[]);
    assert_eq!(text(&out.stdout).lines().count(), 258);
    // A typo: named, with the fix.
    let out = miva(&["spec", "ProductLst_Load_Query"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean ProductList_Load_Query?"));
    // `miva call` sends an unknown name anyway, after a warning.
    let server = server(3);
    let out = run(&server, &["call", "ProductLst_Load_Query"], &[]);
    let err = text(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("ProductList_Load_Query"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1), "the store refuses it: {err}");
    // A known name: no warning.
    let out = run(&server, &["call", "ProductList_Load_Query"], &[]);
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
}
