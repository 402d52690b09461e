//! Both mock servers against slow, idle and hostile clients (issue items
//! 7 and 8), over loopback with small configured limits: a client sending
//! its headers a byte at a time is cut off, idle connections are closed,
//! connections over the cap are refused, a request without the auth header
//! is answered without its body being read, and half-sent bodies never hold
//! more than the buffered-bytes budget. After each, the server serves a
//! normal request. Memory is counted through the budget, not the RSS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::harness;
use miravia_sign::AppSecret;
use miva_mock::ServerLimits;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};
use serde_json::json;

const SHORT: Duration = Duration::from_millis(300);
/// Far above every configured limit: a connection still open after this
/// was not closed by the server.
const BOUND: Duration = Duration::from_secs(5);

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    stream
}

/// Reads until the server closes the connection (EOF or reset); what it
/// sent, or panics if it stays open past [`BOUND`].
fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("still open after {:?}", started.elapsed())
            }
            Err(_) => return got, // reset
        }
    }
}

fn works(h: &common::Harness) {
    assert_eq!(
        h.call(json!({"Function": "StoreList_Load_Query"}))["success"],
        1
    );
}

#[test]
fn headers_sent_a_byte_at_a_time_are_cut_off() {
    let h = harness(|c| {
        c.with_limits(
            ServerLimits::default()
                .with_header_read_timeout(SHORT)
                .with_idle_timeout(BOUND * 2),
        )
    });
    let addr = h.server.addr();
    let slow: Vec<_> = (0..20)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = connect(addr);
                let head =
                    b"POST /mm5/json.mvc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
                let started = Instant::now();
                for byte in head {
                    if stream.write_all(&[*byte]).is_err() {
                        break; // closed by the server
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    if started.elapsed() > BOUND {
                        panic!("the slow client was never cut off");
                    }
                }
                let _ = until_closed(&mut stream);
                started.elapsed()
            })
        })
        .collect();
    // Served meanwhile.
    works(&h);
    for t in slow {
        let took = t.join().unwrap();
        assert!(took < BOUND, "cut off after {took:?}");
    }
    works(&h);
}

#[test]
fn idle_connections_are_closed_and_the_cap_refuses_more() {
    let h = harness(|c| {
        c.with_limits(
            ServerLimits::default()
                .with_idle_timeout(SHORT)
                .with_header_read_timeout(BOUND * 2)
                .with_max_connections(8),
        )
    });
    let addr = h.server.addr();
    // Connected, sending nothing: closed after the idle timeout.
    let mut idle: Vec<TcpStream> = (0..8).map(|_| connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(50));
    // Over the cap: closed at once, with nothing sent.
    let mut over = connect(addr);
    assert!(until_closed(&mut over).is_empty());
    for stream in &mut idle {
        assert!(until_closed(stream).is_empty());
    }
    works(&h);

    // Between requests on a keep-alive connection too: one answered
    // request (no auth header, no body: an empty 200, kept alive), then
    // silence.
    let mut stream = connect(addr);
    stream
        .write_all(
            b"POST /mm5/json.mvc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 0\r\n\r\n",
        )
        .unwrap();
    let answer = String::from_utf8_lossy(&until_closed(&mut stream)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    works(&h);
}

#[test]
fn a_request_without_the_auth_header_is_answered_before_its_body() {
    let h = harness(|c| c);
    let addr = h.server.addr();
    // 40 clients announce 7 MiB and send half of it, without the header.
    let mut streams = Vec::new();
    for _ in 0..40 {
        let mut stream = connect(addr);
        let head = format!(
            "POST /mm5/json.mvc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            7 * 1024 * 1024
        );
        stream.write_all(head.as_bytes()).unwrap();
        let _ = stream.write_all(&vec![b' '; 64 * 1024]);
        streams.push(stream);
    }
    for stream in &mut streams {
        // The store's answer to a missing header: 200 with an empty body,
        // sent without waiting for the rest.
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed without an answer");
            got.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("content-length: 0"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
    }
    assert_eq!(h.server.buffered_body_bytes(), 0);
    drop(streams);
    works(&h);
}

#[test]
fn half_sent_bodies_hold_no_more_than_the_budget() {
    const BUDGET: usize = 4 * 1024 * 1024;
    let h = harness(|c| {
        c.with_limits(
            ServerLimits::default()
                .with_max_buffered_body_bytes(BUDGET)
                .with_body_read_timeout(Duration::from_millis(500)),
        )
    });
    let addr = h.server.addr();
    let header = h.sha256.authorize(b"{}").unwrap();
    // Each announces 3 MiB (with a header, so the body must be read) and
    // sends 1 MiB: only one fits the 4 MiB budget at a time.
    let mut streams = Vec::new();
    for _ in 0..10 {
        let mut stream = connect(addr);
        let head = format!(
            "POST /mm5/json.mvc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             {}: {}\r\nContent-Length: {}\r\n\r\n",
            header.name(),
            header.value(),
            3 * 1024 * 1024
        );
        stream.write_all(head.as_bytes()).unwrap();
        let _ = stream.write_all(&vec![b' '; 1024 * 1024]);
        streams.push(stream);
        assert!(h.server.buffered_body_bytes() <= BUDGET);
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(h.server.buffered_body_bytes() <= BUDGET);
    assert!(h.server.buffered_body_bytes() > 0, "one body is being read");
    let mut statuses = Vec::new();
    for stream in &mut streams {
        let answer = String::from_utf8_lossy(&until_closed(stream)).into_owned();
        statuses.push(answer.get(9..12).unwrap_or("").to_owned());
    }
    // Over the budget: 503 at once; the ones being read: 408 when their
    // time is up.
    assert!(statuses.iter().any(|s| s == "503"), "{statuses:?}");
    assert!(statuses.iter().any(|s| s == "408"), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| s == "503" || s == "408"),
        "{statuses:?}"
    );
    assert_eq!(h.server.buffered_body_bytes(), 0, "every byte given back");
    works(&h);
}

#[test]
fn the_gateway_has_the_same_limits() {
    let gateway = MiraviaGateway::start(
        MiraviaConfig::new("700800", AppSecret::new("limits-secret-not-real").unwrap())
            .with_limits(
                ServerLimits::default()
                    .with_header_read_timeout(SHORT)
                    .with_idle_timeout(SHORT)
                    .with_max_connections(4)
                    .with_max_buffered_body_bytes(1024 * 1024)
                    .with_body_read_timeout(SHORT),
            ),
    )
    .unwrap();
    let addr = gateway.addr();
    let mut idle: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(50));
    let mut over = connect(addr);
    assert!(until_closed(&mut over).is_empty());
    for stream in &mut idle {
        assert!(until_closed(stream).is_empty());
    }
    // A half-sent form body: cut off when its time is up, budget given back.
    let mut stream = connect(addr);
    stream
        .write_all(
            b"POST /rest/seller/get HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 900000\r\n\r\napp_key=1",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert!(gateway.buffered_body_bytes() > 0);
    let answer = String::from_utf8_lossy(&until_closed(&mut stream)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(gateway.buffered_body_bytes(), 0);
    // Still serving.
    let mut stream = connect(addr);
    stream
        .write_all(b"GET /rest/seller/get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = String::from_utf8_lossy(&until_closed(&mut stream)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("MissingParameter") || answer.contains("\"code\""),
        "{answer}"
    );
}
