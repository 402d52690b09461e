//! In-process measurements for `cargo xtask bench`, printed as one JSON
//! object on stdout. The driver (`tests/python/bench.py`) runs the peers in
//! the same run and writes the report.
//!
//! - `miva-bench micro RSA_KEY_PEM`: header and signature costs, each with
//!   the floor it is compared with, measured in interleaved rounds so that
//!   both see the same machine state; medians of the rounds.
//! - `miva-bench calls ENDPOINT N`: `N` signed `ProductList_Load_Query`
//!   calls (Count 10) with one `MivaClient`, one after another; credentials
//!   from `MIVA_API_TOKEN` / `MIVA_SIGNING_KEY` / `MIVA_STORE_CODE`.
//! - `miva-bench profile hmac|miravia SECONDS` (or `profile rsa SECONDS
//!   RSA_KEY_PEM`): one operation in a loop, to run under `perf record`.
//! - `miva-bench async-calls`, `async-inflight`, `export`: the async client
//!   against the blocking one (see `drivers.rs`).
//! - `miva-bench load ENDPOINT CONNECTIONS SECONDS`: a load generator that
//!   is not our client (see `load.rs`).

mod drivers;
mod load;

use std::hint::black_box;
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use miva_envelope::{ListQuery, ProductListLoadQuery};
use miva_http::miva::MivaClient;
use miva_sign::{ApiToken, Credential, HmacDigest, RsaDigest, RsaPrivateKey, SigningKey};
use serde_json::{Value, json};

/// Rounds per figure; the median is reported.
const ROUNDS: usize = 15;
/// Target duration of one round.
const ROUND: Duration = Duration::from_millis(60);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["micro", key] => micro(key),
        ["profile", what, seconds] => seconds
            .parse::<f64>()
            .map_err(|e| format!("SECONDS: {e}"))
            .and_then(|s| profile(what, s, None)),
        ["profile", "rsa", seconds, key] => seconds
            .parse::<f64>()
            .map_err(|e| format!("SECONDS: {e}"))
            .and_then(|s| profile("rsa", s, Some(key))),
        ["calls", endpoint, n] => n
            .parse::<usize>()
            .map_err(|e| format!("N: {e}"))
            .and_then(|n| calls(endpoint, n)),
        ["async-calls", endpoint, n] => n
            .parse::<usize>()
            .map_err(|e| format!("N: {e}"))
            .and_then(|n| drivers::async_calls(endpoint, n)),
        ["async-inflight", endpoint, n, k] => match (n.parse::<usize>(), k.parse::<usize>()) {
            (Ok(n), Ok(k)) => drivers::async_inflight(endpoint, n, k),
            _ => Err("N and K are numbers".to_owned()),
        },
        ["export", driver, endpoint, page, k, rest @ ..] if rest.len() <= 1 => {
            let limit = rest.first().map(|l| l.parse::<i64>());
            match (page.parse::<u64>(), k.parse::<usize>(), limit.transpose()) {
                (Ok(page), Ok(k), Ok(limit)) => drivers::export(driver, endpoint, page, k, limit),
                _ => Err("PAGE_SIZE, CONCURRENCY and LIMIT are numbers".to_owned()),
            }
        }
        ["load", endpoint, connections, seconds] => {
            match (connections.parse::<usize>(), seconds.parse::<f64>()) {
                (Ok(c), Ok(s)) => load::load(endpoint, c, s),
                _ => Err("CONNECTIONS and SECONDS are numbers".to_owned()),
            }
        }
        _ => Err(
            "usage: miva-bench micro RSA_KEY_PEM | miva-bench calls ENDPOINT N | \
                  miva-bench async-calls ENDPOINT N | miva-bench async-inflight ENDPOINT N K | \
                  miva-bench export blocking|async ENDPOINT PAGE_SIZE CONCURRENCY [LIMIT] | \
                  miva-bench load ENDPOINT CONNECTIONS SECONDS | \
                  miva-bench profile hmac|miravia SECONDS | miva-bench profile rsa SECONDS RSA_KEY_PEM"
                .to_owned(),
        ),
    };
    match result {
        Ok(value) => println!("{value}"),
        Err(message) => {
            eprintln!("miva-bench: {message}");
            std::process::exit(2);
        }
    }
}

/// The document's example request size: 629 bytes of JSON.
fn body_629() -> Vec<u8> {
    let mut body = br#"{"Store_Code":"STORE","Function":"ProductList_Load_Query","Miva_Request_Timestamp":1700000000,"Count":10,"Offset":0,"Filter":[{"name":"search","value":[{"field":"code","operator":"LIKE","value":"%SHIRT%"}]}],"Sort":"-id","#.to_vec();
    body.resize(628, b' ');
    body.push(b'}');
    body
}

/// Nanoseconds per call of `f`: iterations calibrated to one round, then
/// `ROUNDS` rounds of each function in turn; medians.
fn per_op<const N: usize>(fs: [&mut dyn FnMut(); N]) -> [f64; N] {
    let mut fs = fs;
    let mut iters = [1u64; N];
    for (f, n) in fs.iter_mut().zip(iters.iter_mut()) {
        loop {
            let start = Instant::now();
            for _ in 0..*n {
                f();
            }
            if start.elapsed() >= ROUND / 4 {
                let per = start.elapsed().as_secs_f64() / *n as f64;
                *n = ((ROUND.as_secs_f64() / per) as u64).max(1);
                break;
            }
            *n *= 2;
        }
    }
    let mut samples = [(); N].map(|()| Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        for i in 0..N {
            let start = Instant::now();
            for _ in 0..iters[i] {
                (fs[i])();
            }
            samples[i].push(start.elapsed().as_secs_f64() * 1e9 / iters[i] as f64);
        }
    }
    samples.map(|mut s| {
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    })
}

fn micro(key_path: &str) -> Result<Value, String> {
    let key = SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ")
        .map_err(|e| e.to_string())?;
    let token = ApiToken::new("0f90f77b58ca98836eba3d50f526f523").map_err(|e| e.to_string())?;
    let hmac_cred = Credential::hmac(token, &key, HmacDigest::Sha256);
    let raw_key = *b"fake-32-byte-key-for-the-floor!!";
    let raw_hmac = |body: &[u8]| {
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&raw_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(body);
        mac.finalize().into_bytes()
    };
    let small = body_629();
    let big = vec![b'x'; 1 << 20];
    let [ours_629, floor_629] = per_op([
        &mut || {
            black_box(hmac_cred.authorize(black_box(&small)).ok());
        },
        &mut || {
            black_box(raw_hmac(black_box(&small)));
        },
    ]);
    let [ours_1m, floor_1m] = per_op([
        &mut || {
            black_box(hmac_cred.authorize(black_box(&big)).ok());
        },
        &mut || {
            black_box(raw_hmac(black_box(&big)));
        },
    ]);

    let pem = std::fs::read_to_string(key_path).map_err(|e| format!("{key_path}: {e}"))?;
    let rsa = RsaPrivateKey::from_text(&pem, None).map_err(|e| format!("{key_path}: {e}"))?;
    let ssh = Credential::ssh("apiuser", rsa, RsaDigest::Sha256).map_err(|e| e.to_string())?;
    let [ours_rsa] = per_op([&mut || {
        black_box(ssh.authorize(black_box(&small)).ok());
    }]);

    // Twelve parameters in all, system ones included, as a real call has.
    let secret = miravia_sign::AppSecret::new("fake-app-secret-for-the-benchmark")
        .map_err(|e| e.to_string())?;
    let params = miravia_params();
    let [ours_miravia] = per_op([&mut || {
        black_box(miravia_sign::sign(&secret, "/products/get", black_box(&params), None).ok());
    }]);
    Ok(json!({
        "hmac_629_ns": ours_629,
        "raw_hmac_629_ns": floor_629,
        "hmac_1mib_ns": ours_1m,
        "raw_hmac_1mib_ns": floor_1m,
        "rsa2048_sha256_header_ns": ours_rsa,
        "rsa_backend": miva_sign::rsa_backend(),
        "miravia_12_params_ns": ours_miravia,
        "rounds": ROUNDS,
    }))
}

fn profile(what: &str, seconds: f64, key_path: Option<&str>) -> Result<Value, String> {
    let key = SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ")
        .map_err(|e| e.to_string())?;
    let token = ApiToken::new("0f90f77b58ca98836eba3d50f526f523").map_err(|e| e.to_string())?;
    let cred = Credential::hmac(token, &key, HmacDigest::Sha256);
    let secret = miravia_sign::AppSecret::new("fake-app-secret-for-the-benchmark")
        .map_err(|e| e.to_string())?;
    let params = miravia_params();
    let body = body_629();
    let ssh = match key_path {
        Some(path) => {
            let pem = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let rsa = RsaPrivateKey::from_text(&pem, None).map_err(|e| format!("{path}: {e}"))?;
            Some(Credential::ssh("apiuser", rsa, RsaDigest::Sha256).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let mut op: Box<dyn FnMut()> = match (what, &ssh) {
        ("rsa", Some(ssh)) => Box::new(|| {
            black_box(ssh.authorize(black_box(&body)).ok());
        }),
        ("hmac", _) => Box::new(|| {
            black_box(cred.authorize(black_box(&body)).ok());
        }),
        ("miravia", _) => Box::new(|| {
            black_box(miravia_sign::sign(&secret, "/products/get", black_box(&params), None).ok());
        }),
        (other, _) => {
            return Err(format!(
                "unknown operation {other:?}: hmac, miravia or rsa (with a key)"
            ));
        }
    };
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut n = 0u64;
    while Instant::now() < deadline {
        for _ in 0..1000 {
            op();
        }
        n += 1000;
    }
    Ok(json!({ "operations": n }))
}

/// The twelve parameters of the Miravia figure (also in bench.py).
fn miravia_params() -> Vec<(&'static str, &'static str)> {
    vec![
        ("app_key", "100001"),
        ("timestamp", "1700000000000"),
        ("sign_method", "sha256"),
        ("access_token", "fake-access-token-0123456789"),
        ("partner_id", "miva-rs-bench"),
        ("filter", "live"),
        ("offset", "0"),
        ("limit", "50"),
        ("update_after", "2023-11-14T00:00:00+00:00"),
        ("create_after", "2023-01-01T00:00:00+00:00"),
        ("sku_seller_list", "[\"SKU-1\",\"SKU-2\"]"),
        ("options", "1"),
    ]
}

pub(crate) fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

fn calls(endpoint: &str, n: usize) -> Result<Value, String> {
    let key = SigningKey::from_base64(&env("MIVA_SIGNING_KEY")?).map_err(|e| e.to_string())?;
    let token = ApiToken::new(&env("MIVA_API_TOKEN")?).map_err(|e| e.to_string())?;
    let client = MivaClient::builder(endpoint, Credential::hmac(token, &key, HmacDigest::Sha256))
        .store_code(&env("MIVA_STORE_CODE")?)
        .build()
        .map_err(|e| e.to_string())?;
    let query = ProductListLoadQuery::new(ListQuery::new().count(10));
    // Warm-up: the connection, the server's caches.
    for _ in 0..20 {
        client.call(&query).map_err(|e| e.to_string())?;
    }
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let page = client.call(&query).map_err(|e| e.to_string())?;
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
        if page.data.len() != 10 {
            return Err(format!("expected 10 records, got {}", page.data.len()));
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Ok(json!({
        "calls": n,
        "seconds": seconds,
        "calls_per_s": n as f64 / seconds,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
    }))
}
