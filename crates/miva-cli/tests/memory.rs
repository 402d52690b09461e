//! `miva call` and `miva list` against a loopback server sending hostile
//! bodies: their peak memory (`VmHWM` of the child, polled while it runs)
//! stays within `(DECODE_MULTIPLE + 1) x --body-limit` above a tiny call's,
//! a page size whose bodies cannot fit is an error that says what to lower,
//! and an integer of 2^64 or more is refused naming its field, never
//! printed as a float. The precise measurement (the child's own `VmHWM` at
//! its end) is in `miva-http/tests/memory.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

const LIMIT: u64 = 4 * 1024 * 1024;

type Answer = dyn Fn(&Value) -> Vec<u8> + Send + Sync;

/// A loopback HTTP/1.1 server answering each POST with HTTP 200 and
/// `answer(request JSON)`; its URL.
fn serve(answer: impl Fn(&Value) -> Vec<u8> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mm5/json.mvc", listener.local_addr().unwrap());
    let answer: Arc<Answer> = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                let _ = connection(stream, &*answer);
            });
        }
    });
    url
}

fn connection(stream: TcpStream, answer: &Answer) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let reply = answer(&request);
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        )?;
        stream.write_all(&reply)?;
        stream.flush()?;
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The highest `VmHWM` seen while it ran, in bytes.
    peak: u64,
}

fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// Runs `miva ARGS` against `url` (token-only credential; the server
/// checks none), polling its peak RSS until it exits.
fn miva(url: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_miva"));
    for (name, _) in std::env::vars() {
        if name.starts_with("MIVA_") || name.starts_with("MIRAVIA_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .args(args)
        .env("MIVA_ENDPOINT", url)
        .env("MIVA_STORE_CODE", "MEM")
        .env("MIVA_API_TOKEN", "cli-memory-test-token")
        .env("MIVA_DIGEST", "none")
        .env("MIVA_TIMEOUT", "30")
        .env("MIVA_BODY_LIMIT", LIMIT.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let stderr = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let mut peak = 0;
    let status = loop {
        if let Some(hwm) = vm_hwm(pid) {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
        peak,
    }
}

/// `{"success":1,"data":[item,...]}` of about `bytes` bytes.
fn list_body(item: &str, bytes: usize) -> Vec<u8> {
    let n = bytes / (item.len() + 1);
    let items = vec![item; n].join(",");
    format!(r#"{{"success":1,"data":[{items}]}}"#).into_bytes()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[test]
fn call_and_list_memory_stays_within_the_body_limit() {
    let multiple = miva_http::DECODE_MULTIPLE + 1;
    let tiny = serve(|_| br#"{"success":1,"data":[1,2,3]}"#.to_vec());
    let baseline = miva(&tiny, &["call", "ProductList_Load_Query"]);
    assert_eq!(baseline.code, Some(0), "{}", baseline.stderr);
    let bound = baseline.peak + multiple * LIMIT;

    for (name, item) in [
        ("zeros", "0"),
        ("objects", r#"{"a":0}"#),
        ("nested", "[[0]]"),
    ] {
        let body = list_body(item, LIMIT as usize - 64);
        let url = serve(move |_| body.clone());
        let run = miva(&url, &["call", "ProductList_Load_Query"]);
        eprintln!(
            "call {name}: peak {:.1} MiB (bound {:.1}): {}",
            mib(run.peak),
            mib(bound),
            run.stderr.trim()
        );
        assert_eq!(run.code, Some(2), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("too large"), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("raise the body limit"),
            "{name}: {}",
            run.stderr
        );
        assert!(run.peak <= bound, "{name}: peak {:.1} MiB", mib(run.peak));
    }

    // Pages of tiny objects, each as large as the whole limit allows, four
    // at once: refused, saying what to lower.
    let url = serve(|request| {
        let offset = request["Offset"].as_u64().unwrap_or(0);
        let count = request["Count"].as_u64().unwrap_or(100);
        let records: Vec<String> = (offset..offset + count)
            .map(|id| format!(r#"{{"id":{id}}}"#))
            .collect();
        format!(
            r#"{{"success":1,"data":{{"total_count":10000000,"start_offset":{offset},"data":[{}]}}}}"#,
            records.join(",")
        )
        .into_bytes()
    });
    let run = miva(
        &url,
        &[
            "list",
            "ProductList_Load_Query",
            "--page-size",
            "400000",
            "--concurrency",
            "4",
        ],
    );
    eprintln!(
        "list: peak {:.1} MiB (bound {:.1}): {}",
        mib(run.peak),
        mib(bound),
        run.stderr.trim()
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("lower the page size or the concurrency"),
        "{}",
        run.stderr
    );
    assert!(run.peak <= bound, "list: peak {:.1} MiB", mib(run.peak));
}

#[test]
fn integers_past_64_bits_are_refused_never_printed_as_floats() {
    let url = serve(|request| {
        let total = if request["Offset"].as_u64().unwrap_or(0) == 0 {
            4
        } else {
            0
        };
        format!(
            r#"{{"success":1,"data":{{"total_count":{total},"start_offset":0,"data":[{{"id":1}},{{"id":2}},{{"id":3}},{{"id":18446744073709551616}}]}}}}"#
        )
        .into_bytes()
    });
    for args in [
        &["call", "ProductList_Load_Query"][..],
        &["list", "ProductList_Load_Query"][..],
    ] {
        let run = miva(&url, args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("data.data[3].id") && run.stderr.contains("18446744073709551616"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stdout.contains("e+19") && !run.stdout.contains("18446744073709552"),
            "{args:?}: {}",
            run.stdout
        );
    }
}

#[test]
fn call_output_is_written_as_it_is_made() {
    // Deep nesting that decodes within the budget, but whose pretty
    // output (each 0 on a line indented 200 spaces) is ~100 x the body:
    // held whole as text, it alone would pass the bound.
    let multiple = miva_http::DECODE_MULTIPLE + 1;
    let tiny = serve(|_| br#"{"success":1,"data":[1,2,3]}"#.to_vec());
    let baseline = miva(&tiny, &["call", "ProductList_Load_Query"]);
    let bound = baseline.peak + multiple * LIMIT;
    let zeros = vec!["0"; 120_000].join(",");
    let body = format!(
        r#"{{"success":1,"data":{}{zeros}{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    )
    .into_bytes();
    let url = serve(move |_| body.clone());
    let run = miva(&url, &["call", "ProductList_Load_Query"]);
    eprintln!(
        "deep call: peak {:.1} MiB (bound {:.1}), {:.1} MiB printed",
        mib(run.peak),
        mib(bound),
        mib(run.stdout.len() as u64)
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.len() as u64 > multiple * LIMIT);
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut inner = &printed;
    for _ in 0..99 {
        inner = &inner[0];
    }
    assert_eq!(inner.as_array().map(Vec::len), Some(120_000));
    assert!(run.peak <= bound, "peak {:.1} MiB", mib(run.peak));
}
