//! Micro benchmarks of header computation against the raw primitive (the
//! floor): `cargo bench -p miva-sign`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // benchmark harness

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use miva_sign::{ApiToken, Credential, HmacDigest, RsaDigest, RsaPrivateKey, SigningKey};

/// A 629-byte body, the size of the document's example request.
fn body_629() -> Vec<u8> {
    let mut body = br#"{"Store_Code":"STORE","Function":"ProductList_Load_Query","Miva_Request_Timestamp":1700000000,"Count":10,"Offset":0,"Filter":[{"name":"search","value":[{"field":"code","operator":"LIKE","value":"%SHIRT%"}]}],"Sort":"-id","#.to_vec();
    while body.len() < 628 {
        body.push(b' ');
    }
    body.push(b'}');
    assert_eq!(body.len(), 629);
    body
}

fn hmac(c: &mut Criterion) {
    let key = SigningKey::from_base64("NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ").unwrap();
    let cred = Credential::hmac(
        ApiToken::new("0f90f77b58ca98836eba3d50f526f523").unwrap(),
        &key,
        HmacDigest::Sha256,
    );
    let raw_key = [7u8; 32];
    for (label, body) in [("629B", body_629()), ("1MiB", vec![b'x'; 1 << 20])] {
        let mut group = c.benchmark_group(format!("hmac_sha256_{label}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("raw_hmac_floor", |b| {
            b.iter(|| {
                let mut mac =
                    <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&raw_key).unwrap();
                mac.update(black_box(&body));
                mac.finalize().into_bytes()
            });
        });
        group.bench_function("authorization_header", |b| {
            b.iter(|| cred.authorize(black_box(&body)).unwrap());
        });
        group.finish();
    }
}

fn rsa(c: &mut Criterion) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rsa2048-pkcs1.pem"
    ))
    .unwrap();
    let key = RsaPrivateKey::from_text(&text, None).unwrap();
    let cred = Credential::ssh("apiuser", key, RsaDigest::Sha256).unwrap();
    let body = body_629();
    c.bench_function("ssh_rsa2048_sha256_header_629B", |b| {
        b.iter(|| cred.authorize(black_box(&body)).unwrap());
    });
}

criterion_group!(benches, hmac, rsa);
criterion_main!(benches);
