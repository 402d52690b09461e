//! `miva miravia call | token | mock` as a user runs them, against the mock
//! gateway over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use miravia_sign::AppSecret;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};

const KEY: &str = "700700";
const SECRET: &str = "cli-test-secret-not-real";
const TOKEN: &str = "cli-test-token-not-real";

fn gateway() -> MiraviaGateway {
    MiraviaGateway::start(
        MiraviaConfig::new(KEY, AppSecret::new(SECRET).unwrap()).with_access_token(TOKEN),
    )
    .unwrap()
}

fn miva(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_miva"));
    cmd.args(args);
    for var in [
        "MIRAVIA_ENDPOINT",
        "MIRAVIA_APP_KEY",
        "MIRAVIA_APP_SECRET",
        "MIRAVIA_APP_SECRET_FILE",
        "MIRAVIA_ACCESS_TOKEN",
        "MIRAVIA_REFRESH_TOKEN",
        "MIRAVIA_AUTH_CODE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn call_get_post_and_file_upload() {
    let gw = gateway();
    let env = [
        ("MIRAVIA_ENDPOINT", gw.url()),
        ("MIRAVIA_APP_KEY", KEY),
        ("MIRAVIA_APP_SECRET", SECRET),
        ("MIRAVIA_ACCESS_TOKEN", TOKEN),
    ];
    let o = miva(&["miravia", "call", "/seller/get"], &env);
    assert!(o.status.success());
    assert_eq!(json(&o)["data"]["seller_id"], 42);
    let o = miva(
        &[
            "miravia",
            "call",
            "/products/get",
            "--param",
            "offset=2",
            "--param",
            "limit=3",
            "--post",
        ],
        &env,
    );
    assert_eq!(json(&o)["data"]["products"][0]["item_id"], 1_000_003);
    let image = std::env::temp_dir().join(format!("miva-cli-image-{}.jpg", std::process::id()));
    std::fs::write(&image, vec![1u8; 1234]).unwrap();
    let arg = format!("image={}", image.display());
    let o = miva(&["miravia", "call", "/image/upload", "--file", &arg], &env);
    assert_eq!(
        json(&o)["data"]["image"]["size"],
        1234,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn platform_errors_exit_1_with_code_message_and_request_id() {
    let gw = gateway();
    let env = [
        ("MIRAVIA_ENDPOINT", gw.url()),
        ("MIRAVIA_APP_KEY", KEY),
        ("MIRAVIA_APP_SECRET", "wrong-secret"),
    ];
    let o = miva(&["miravia", "call", "/seller/get"], &env);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(
        stderr.starts_with("IncompleteSignature: The request signature"),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with(')') && stderr.contains("(mock-"),
        "{stderr}"
    );
    assert!(o.stdout.is_empty());
    let o = miva(
        &["miravia", "call", "/seller/get"],
        &[("MIRAVIA_APP_KEY", KEY)],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8(o.stderr)
            .unwrap()
            .contains("MIRAVIA_APP_SECRET")
    );
}

#[test]
fn token_create_then_refresh() {
    let gw = gateway();
    let env = [
        ("MIRAVIA_ENDPOINT", gw.url()),
        ("MIRAVIA_APP_KEY", KEY),
        ("MIRAVIA_APP_SECRET", SECRET),
    ];
    // The code comes from the environment, a file or stdin; never from an
    // argument (which `ps` and shell history show).
    let mut with_code = env.to_vec();
    with_code.push(("MIRAVIA_AUTH_CODE", "0_123_abc"));
    let created = json(&miva(&["miravia", "token", "create"], &with_code));
    assert_eq!(created["access_token"], "mock-access-1");
    let code_file = std::env::temp_dir().join(format!("miva-cli-code-{}", std::process::id()));
    std::fs::write(&code_file, "0_123_abc\n").unwrap();
    let from_file = miva(
        &[
            "miravia",
            "token",
            "create",
            "--code-file",
            code_file.to_str().unwrap(),
        ],
        &env,
    );
    let _ = std::fs::remove_file(&code_file);
    assert_eq!(json(&from_file)["access_token"], "mock-access-2");
    let mut piped = Command::new(env!("CARGO_BIN_EXE_miva"))
        .args(["miravia", "token", "create", "--code-file", "-"])
        .env_remove("MIRAVIA_AUTH_CODE")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut piped.stdin.take().unwrap(), b"0_123_abc\n").unwrap();
    let from_stdin = piped.wait_with_output().unwrap();
    assert_eq!(json(&from_stdin)["access_token"], "mock-access-3");
    let flag = miva(&["miravia", "token", "create", "--code", "0_123_abc"], &env);
    assert_eq!(flag.status.code(), Some(2), "the --code argument is gone");
    let missing = miva(&["miravia", "token", "create"], &env);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("MIRAVIA_AUTH_CODE"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    assert_eq!(created["expires_in"], 604_800);
    let refresh = created["refresh_token"].as_str().unwrap().to_owned();
    let mut env2 = env.to_vec();
    env2.push(("MIRAVIA_REFRESH_TOKEN", &refresh));
    let refreshed = json(&miva(&["miravia", "token", "refresh"], &env2));
    assert_eq!(refreshed["access_token"], "mock-access-4");
    let again = miva(&["miravia", "token", "refresh"], &env2);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8(again.stderr)
            .unwrap()
            .starts_with("IllegalRefreshToken")
    );
}

#[test]
fn mock_command_prints_its_url_first() {
    let secret_file = std::env::temp_dir().join(format!("miva-cli-secret-{}", std::process::id()));
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let token_file = std::env::temp_dir().join(format!("miva-cli-token-{}", std::process::id()));
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_miva"))
        .args(["miravia", "mock", "--app-key", KEY, "--app-secret-file"])
        .arg(&secret_file)
        .arg("--access-token-file")
        .arg(&token_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/rest"),
        "{url}"
    );
    let o = miva(
        &["miravia", "call", "/seller/get"],
        &[
            ("MIRAVIA_ENDPOINT", &url),
            ("MIRAVIA_APP_KEY", KEY),
            ("MIRAVIA_APP_SECRET", SECRET),
            ("MIRAVIA_ACCESS_TOKEN", TOKEN),
        ],
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&token_file);
    assert_eq!(json(&o)["data"]["name"], "Mock Seller");
}
