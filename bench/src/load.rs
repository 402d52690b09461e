//! `miva-bench load ENDPOINT CONNECTIONS SECONDS`: a load generator that is
//! not our client, for when `wrk` is not installed. Each connection is a
//! thread with a plain keep-alive TCP socket that sends one fixed, pre-signed
//! HTTP/1.1 request (the token of `MIVA_WRK_TOKEN`, which the bench's mock
//! lets through without a timestamp) and reads each answer by its
//! `Content-Length`; no HTTP library, no signing per request. What it
//! measures is the mock's capacity for that request, the ceiling the
//! client rows are held against.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use miva_sign::{ApiToken, Credential, HmacDigest, SigningKey};
use serde_json::{Value, json};

pub(crate) fn load(endpoint: &str, connections: usize, seconds: f64) -> Result<Value, String> {
    let rest = endpoint
        .strip_prefix("http://")
        .ok_or("the load generator speaks plain http to loopback only")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let store = crate::env("MIVA_STORE_CODE")?;
    let body =
        format!(r#"{{"Store_Code":"{store}","Function":"ProductList_Load_Query","Count":10}}"#);
    let key =
        SigningKey::from_base64(&crate::env("MIVA_SIGNING_KEY")?).map_err(|e| e.to_string())?;
    let token = ApiToken::new(&crate::env("MIVA_WRK_TOKEN")?).map_err(|e| e.to_string())?;
    let header = Credential::hmac(token, &key, HmacDigest::Sha256)
        .authorize(body.as_bytes())
        .map_err(|e| e.to_string())?;
    let request = Arc::new(
        format!(
            "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{}: {}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            header.name(),
            header.value(),
            body.len()
        )
        .into_bytes(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for _ in 0..connections.max(1) {
        let (request, stop, done, bad) = (request.clone(), stop.clone(), done.clone(), bad.clone());
        let host = host.to_owned();
        threads.push(std::thread::spawn(move || -> Result<(), String> {
            let stream = TcpStream::connect(&host).map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            let mut answer = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                writer.write_all(&request).map_err(|e| e.to_string())?;
                let mut length = None;
                let mut ok = false;
                loop {
                    line.clear();
                    if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                        return Err("the server closed the connection".into());
                    }
                    let trimmed = line.trim_end();
                    if trimmed.is_empty() {
                        break;
                    }
                    if trimmed.starts_with("HTTP/1.1 200") {
                        ok = true;
                    }
                    if let Some((name, value)) = trimmed.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse::<usize>().ok();
                    }
                }
                let length = length.ok_or("an answer without Content-Length")?;
                answer.resize(length, 0);
                reader.read_exact(&mut answer).map_err(|e| e.to_string())?;
                if !ok || !answer.windows(11).any(|w| w == br#""success":1"#) {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let count = done.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().map_err(|_| "a load thread panicked")??;
    }
    if bad.load(Ordering::Relaxed) > 0 {
        return Err(format!(
            "{} answers were not a list page",
            bad.load(Ordering::Relaxed)
        ));
    }
    Ok(json!({
        "connections": connections,
        "requests": count,
        "seconds": elapsed,
        "requests_per_s": count as f64 / elapsed,
    }))
}
