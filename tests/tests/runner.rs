//! The vector loader and runner: every published file passes, the schema is
//! strict, and failures are reported one line each with the right totals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::path::{Path, PathBuf};
use std::process::Command;

use sdk_vectors::{VectorFile, run};

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

#[test]
fn every_published_file_passes_in_full() {
    let mut total = 0;
    for entry in std::fs::read_dir(vector_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let file = VectorFile::load(&path).unwrap();
        assert!(
            !file.source.trim().is_empty(),
            "{}: no source",
            path.display()
        );
        assert!(!file.is_empty(), "{}: no vectors", path.display());
        let report = run(&file);
        assert!(
            report.failures.is_empty(),
            "{}: {:#?}",
            path.display(),
            report.failures
        );
        assert_eq!(report.passed(), file.len());
        total += report.passed();
    }
    assert!(total >= 100, "only {total} vectors published");
}

#[test]
fn unknown_sections_and_fields_are_errors() {
    let err = VectorFile::parse(r#"{"source": "x", "miva_hmax": []}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `miva_hmax`"),
        "{err}"
    );
    let err = VectorFile::parse(
        r#"{"source": "x", "miva_token": [{"name": "a", "token": "t", "header_name": "h", "header_value": "v", "extra": 1}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    let err = VectorFile::parse(r#"{"miva_token": []}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `source`"), "{err}");
    let err = VectorFile::parse(
        r#"{"source": "x", "miravia": [{"name": "a", "secret": "s", "api_path": "/a", "params": {"n": 1}, "sign": "00"}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
    // All sections are optional; body may be null or absent.
    let file = VectorFile::parse(r#"{"source": "x"}"#).unwrap();
    assert!(file.is_empty());
}

const ONE_GOOD_ONE_BAD: &str = r#"{
  "source": "wire-facts.md, one value altered on purpose",
  "miva_hmac": [
    {"name": "good", "token": "0f90f77b58ca98836eba3d50f526f523",
     "signing_key": "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ", "digest": "sha1",
     "body": "{\"Store_Code\": \"STORE\", \"Sort\": \"\", \"Offset\": 0, \"Count\": 1, \"Filter\": [], \"Function\": \"ProductList_Load_Query\", \"Miva_Request_Timestamp\": 1700000000}",
     "header_name": "x-miva-api-authorization",
     "header_value": "MIVA-HMAC-SHA1 0f90f77b58ca98836eba3d50f526f523:dgXYBcEflR0jR73czk9cMtmcHTc="}
  ],
  "miravia": [
    {"name": "bad", "secret": "helloworld", "api_path": "/order/get",
     "params": {"access_token": "test", "app_key": "123456", "sign_method": "sha256", "timestamp": "1517820392000", "order_id": "1235"},
     "body": null, "sign": "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"}
  ]
}"#;

#[test]
fn failures_are_reported_with_expected_and_got() {
    let report = run(&VectorFile::parse(ONE_GOOD_ONE_BAD).unwrap());
    assert_eq!((report.passed(), report.failed()), (1, 1));
    let failure = &report.failures[0];
    assert_eq!(failure.name, "miravia/bad");
    assert_eq!(
        failure.expected,
        "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    );
    assert_eq!(failure.got.len(), 64);
    assert_ne!(failure.got, failure.expected);
    assert!(
        failure
            .to_string()
            .starts_with("FAIL miravia/bad: expected ")
    );
}

#[test]
fn the_binary_prints_totals_and_exits_non_zero_on_failure() {
    let dir = std::env::temp_dir().join(format!("sdk-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, ONE_GOOD_ONE_BAD).unwrap();
    let broken = dir.join("broken.json");
    std::fs::write(&broken, r#"{"source": "x", "surprise": []}"#).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_vectors"))
        .arg(&bad)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!out.status.success());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("FAIL miravia/bad"), "{stdout}");
    assert_eq!(lines[1], "1 passed, 1 failed");

    let out = Command::new(env!("CARGO_BIN_EXE_vectors"))
        .arg(vector_dir().join("wire-facts.json"))
        .arg(&broken)
        .arg(dir.join("missing.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!out.status.success());
    assert!(stdout.contains("unknown field `surprise`"), "{stdout}");
    assert!(stdout.contains("missing.json: cannot read"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("11 passed, 2 failed"));

    let out = Command::new(env!("CARGO_BIN_EXE_vectors"))
        .arg(vector_dir().join("wire-facts.json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "11 passed, 0 failed\n"
    );
}
