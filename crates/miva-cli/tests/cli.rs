//! The `miva` binary, run as a user would. Expected values: wire-facts.md
//! vectors, the Miravia document's example, and OpenSSL signatures of the
//! miva-sign fixtures (crates/miva-sign/tests/data/make-fixtures.sh).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const TOKEN: &str = "0f90f77b58ca98836eba3d50f526f523";
const KEY: &str = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ";
const BODY: &str = r#"{"Store_Code": "STORE", "Sort": "", "Offset": 0, "Count": 1, "Filter": [], "Function": "ProductList_Load_Query", "Miva_Request_Timestamp": 1700000000}"#;

fn miva(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_miva"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "MIVA_API_TOKEN",
        "MIVA_SIGNING_KEY",
        "MIVA_SIGNING_KEY_FILE",
        "MIVA_DIGEST",
        "MIVA_SSH_USER",
        "MIVA_SSH_KEY_FILE",
        "MIVA_SSH_PASSPHRASE",
        "MIVA_SSH_DIGEST",
        "MIVA_SSH_PUBLIC_KEY_FILE",
        "SSH_AUTH_SOCK",
        "MIRAVIA_APP_SECRET",
        "MIRAVIA_APP_SECRET_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().unwrap();
    // The process may exit before reading stdin (usage errors): ignore EPIPE.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../miva-sign/tests/data")
        .join(name)
}

fn temp_file(name: &str, contents: &[u8], mode: u32) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("miva-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let _ = mode;
    path
}

#[test]
fn sign_prints_the_hmac_header_line() {
    let o = miva(
        &["sign"],
        &[("MIVA_API_TOKEN", TOKEN), ("MIVA_SIGNING_KEY", KEY)],
        BODY.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "X-Miva-API-Authorization: MIVA-HMAC-SHA256 {TOKEN}:T7hwEUfGBqcRGS9SCHYlMXjgZwiNrzPNX88imOkxlV4=\n"
        )
    );
    assert_eq!(stderr(&o), "");
    let o = miva(
        &["sign"],
        &[
            ("MIVA_API_TOKEN", TOKEN),
            ("MIVA_SIGNING_KEY", KEY),
            ("MIVA_DIGEST", "sha1"),
        ],
        BODY.as_bytes(),
    );
    assert_eq!(
        stdout(&o),
        format!("X-Miva-API-Authorization: MIVA-HMAC-SHA1 {TOKEN}:dgXYBcEflR0jR73czk9cMtmcHTc=\n")
    );
}

#[test]
fn sign_reads_key_files_and_warns_about_open_permissions() {
    let key = temp_file("key-open", format!("{KEY}\n").as_bytes(), 0o644);
    let body = temp_file("body.json", BODY.as_bytes(), 0o644);
    let o = miva(
        &["sign", "--body-file", body.to_str().unwrap()],
        &[
            ("MIVA_API_TOKEN", TOKEN),
            ("MIVA_SIGNING_KEY_FILE", key.to_str().unwrap()),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).ends_with(":T7hwEUfGBqcRGS9SCHYlMXjgZwiNrzPNX88imOkxlV4=\n"));
    assert!(
        stderr(&o).contains("can be read by group or others"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains(KEY));

    let private = temp_file("key-private", KEY.as_bytes(), 0o600);
    let o = miva(
        &["sign", "--signing-key-file", private.to_str().unwrap()],
        &[("MIVA_API_TOKEN", TOKEN)],
        BODY.as_bytes(),
    );
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
}

#[test]
fn token_only_and_the_trailing_newline_note() {
    let o = miva(
        &["sign"],
        &[("MIVA_API_TOKEN", TOKEN), ("MIVA_DIGEST", "none")],
        b"{}\n",
    );
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        format!("X-Miva-API-Authorization: MIVA {TOKEN}\n")
    );
    assert!(stderr(&o).contains("ends with a newline"), "{}", stderr(&o));
}

#[test]
fn sign_with_every_ssh_key_format_matches_openssl() {
    use base64ct::Encoding;
    let expected_sig = std::fs::read_to_string(fixture("body.rsa2048.sha512.sig")).unwrap();
    let body = std::fs::read(fixture("body.json")).unwrap();
    let pass = temp_file("pass", b"correct horse battery staple\n", 0o600);
    for file in [
        "rsa2048-pkcs1.pem",
        "rsa2048-openssh.key",
        "rsa2048-openssh-enc.key",
        "rsa2048-pkcs8-enc.pem",
    ] {
        let text = std::fs::read(fixture(file)).unwrap();
        let key = temp_file(file, &text, 0o600);
        let o = miva(
            &["sign", "--ssh-passphrase-file", pass.to_str().unwrap()],
            &[
                ("MIVA_SSH_USER", "José"),
                ("MIVA_SSH_KEY_FILE", key.to_str().unwrap()),
                ("MIVA_SSH_DIGEST", "sha512"),
            ],
            &body,
        );
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        assert_eq!(
            stdout(&o),
            format!(
                "X-Miva-API-Authorization: SSH-RSA-SHA2-512 {}:{}\n",
                base64ct::Base64::encode_string("José".as_bytes()),
                expected_sig.trim()
            ),
            "{file}"
        );
    }
}

#[test]
fn clear_errors_and_no_secret_flags() {
    let o = miva(&["sign"], &[], b"{}");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("set MIVA_API_TOKEN"), "{}", stderr(&o));

    let o = miva(&["sign"], &[("MIVA_API_TOKEN", TOKEN)], b"{}");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("MIVA_SIGNING_KEY"), "{}", stderr(&o));
    assert!(stderr(&o).contains("MIVA_DIGEST=none"), "{}", stderr(&o));

    let o = miva(
        &["sign"],
        &[
            ("MIVA_API_TOKEN", TOKEN),
            ("MIVA_SIGNING_KEY", "NglO1/NYZeY%nID0"),
        ],
        b"{}",
    );
    assert!(stderr(&o).contains("'%' at position 12"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("NglO1"));

    let o = miva(&["sign"], &[("MIVA_SSH_USER", "apiuser")], b"{}");
    assert!(stderr(&o).contains("MIVA_SSH_KEY_FILE"), "{}", stderr(&o));

    let ed = temp_file(
        "ed",
        &std::fs::read(fixture("ed25519-openssh.key")).unwrap(),
        0o600,
    );
    let o = miva(
        &["sign"],
        &[
            ("MIVA_SSH_USER", "u"),
            ("MIVA_SSH_KEY_FILE", ed.to_str().unwrap()),
        ],
        b"{}",
    );
    assert!(
        stderr(&o).contains("Miva accepts RSA keys only"),
        "{}",
        stderr(&o)
    );

    // There is no flag that takes a secret as its value.
    for flag in ["--token", "--signing-key", "--api-token", "--passphrase"] {
        let o = miva(&["sign", flag, "x"], &[], b"{}");
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(
            stderr(&o).contains("unexpected argument"),
            "{flag}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn miravia_sign_and_explain() {
    let args = [
        "miravia",
        "sign",
        "--api",
        "/order/get",
        "--param",
        "app_key=123456",
        "--param",
        "access_token=test",
        "--param",
        "timestamp=1517820392000",
        "--param",
        "sign_method=sha256",
        "--param",
        "order_id=1234",
    ];
    let o = miva(&args, &[("MIRAVIA_APP_SECRET", "helloworld")], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    // The Miravia document's example, section 1.1.
    assert_eq!(
        stdout(&o),
        "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A\n"
    );

    let secret = temp_file("secret", b"helloworld\n", 0o600);
    let mut explain: Vec<&str> = args.to_vec();
    explain.extend(["--param", "status=", "--explain"]);
    let o = miva(
        &explain,
        &[("MIRAVIA_APP_SECRET_FILE", secret.to_str().unwrap())],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains(
        "string-to-sign: /order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000\n"
    ), "{out}");
    assert!(out.contains("not signed: status"), "{out}");
    assert!(
        out.ends_with("sign: 4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A\n"),
        "{out}"
    );
    assert!(!out.contains("helloworld"));

    let o = miva(&args, &[], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("MIRAVIA_APP_SECRET"), "{}", stderr(&o));
    let o = miva(
        &["miravia", "sign", "--api", "order/get"],
        &[("MIRAVIA_APP_SECRET", "x")],
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/"), "{}", stderr(&o));
}

#[test]
fn miravia_body_file_is_appended() {
    // wire-facts.md: /product/create, SYS with the payload appended as body.
    let payload = r#"{"Request":{"Product":{"PrimaryCategory":"10002019","Attributes":{"name":"Camiseta algodón ñ","description":"100% algodón & <b>suave</b>"},"Skus":{"Sku":[{"SellerSku":"CAM-01","quantity":"3","price":"9.99"}]}}}}"#;
    let body = temp_file("payload.json", payload.as_bytes(), 0o600);
    let o = miva(
        &[
            "miravia",
            "sign",
            "--api",
            "/product/create",
            "--param",
            "app_key=123456",
            "--param",
            "access_token=test",
            "--param",
            "timestamp=1517820392000",
            "--param",
            "sign_method=sha256",
            "--body-file",
            body.to_str().unwrap(),
        ],
        &[("MIRAVIA_APP_SECRET", "helloworld")],
        b"",
    );
    assert_eq!(
        stdout(&o),
        "0D3AA86F0F2EB9EB04B73D0499054D4B6ADAB717F8E165007A5874C044BA4459\n",
        "{}",
        stderr(&o)
    );
}

#[cfg(unix)]
#[test]
fn sign_through_a_running_ssh_agent_matches_the_key_file() {
    use std::time::{Duration, Instant};
    let key = temp_file(
        "agent-key.pem",
        &std::fs::read(fixture("rsa2048-pkcs1.pem")).unwrap(),
        0o600,
    );
    let socket = key.with_file_name("agent.sock");
    let _ = std::fs::remove_file(&socket);
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !socket.exists() {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let sock = socket.to_str().unwrap();
    let added = Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", sock)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(added.success());
    let body = br#"{"Store_Code":"STORE","Function":"ProductList_Load_Query"}"#;
    let public = fixture("rsa2048.pub");
    for digest in ["sha256", "sha512"] {
        let via_agent = miva(
            &["sign"],
            &[
                ("MIVA_SSH_USER", "api-user"),
                ("MIVA_SSH_PUBLIC_KEY_FILE", public.to_str().unwrap()),
                ("MIVA_SSH_DIGEST", digest),
                ("SSH_AUTH_SOCK", sock),
            ],
            body,
        );
        assert!(via_agent.status.success(), "{}", stderr(&via_agent));
        let via_key = miva(
            &["sign"],
            &[
                ("MIVA_SSH_USER", "api-user"),
                ("MIVA_SSH_KEY_FILE", key.to_str().unwrap()),
                ("MIVA_SSH_DIGEST", digest),
            ],
            body,
        );
        assert_eq!(stdout(&via_agent), stdout(&via_key));
        assert!(stdout(&via_agent).contains("SSH-RSA-SHA2-"));
    }
    let _ = agent.kill();
    let _ = agent.wait();
    // No agent: a message that says how to start one.
    let o = miva(
        &["sign"],
        &[
            ("MIVA_SSH_USER", "api-user"),
            ("MIVA_SSH_PUBLIC_KEY_FILE", public.to_str().unwrap()),
        ],
        body,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("SSH_AUTH_SOCK is not set"),
        "{}",
        stderr(&o)
    );
}
