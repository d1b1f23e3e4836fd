//! Health checks against servers that lie: malformed HTTP/2, oversized or slow HTTP answers,
//! consul answers of the wrong types, and text meant for the terminal.

mod health_support;

use health_support::*;
use metis_core::health::{self, CheckKind, Outcome, RunOptions};
use std::io::Write;
use std::time::{Duration, Instant};

fn run1(kind: CheckKind) -> health::CheckResult {
    let r = health::run(
        &[check(kind)],
        RunOptions {
            timeout: Duration::from_millis(1500),
            wait: None,
        },
    );
    r.checks.into_iter().next().expect("one result")
}

const SETTINGS: [u8; 15] = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100];

#[test]
fn http2_settings_are_validated_and_goaway_is_unhealthy() {
    let ip = ip("127.0.2.40");
    let cases: [(&'static [u8], Outcome, &str); 7] = [
        // A length that is not a multiple of 6.
        (
            &[0, 0, 5, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0],
            Outcome::WrongProtocol,
            "multiple of 6",
        ),
        // An acknowledgement alone, as if the server had sent settings.
        (
            &[0, 0, 0, 4, 1, 0, 0, 0, 0],
            Outcome::WrongProtocol,
            "not an acknowledgement",
        ),
        // SETTINGS on a stream.
        (
            &[0, 0, 6, 4, 0, 0, 0, 0, 1, 0, 3, 0, 0, 0, 100],
            Outcome::WrongProtocol,
            "SETTINGS frame",
        ),
        // Another frame type (a PING) first.
        (
            &[0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
            Outcome::WrongProtocol,
            "SETTINGS",
        ),
        // A MAX_FRAME_SIZE out of range.
        (
            &[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1],
            Outcome::WrongProtocol,
            "out of range",
        ),
        // SETTINGS, then GOAWAY(PROTOCOL_ERROR).
        (
            &[
                0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100, 0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 1,
            ],
            Outcome::Unexpected,
            "GOAWAY PROTOCOL_ERROR",
        ),
        // SETTINGS, then the connection closes.
        (
            &SETTINGS,
            Outcome::Ok,
            "HTTP/2 SETTINGS frame (1 setting(s))",
        ),
    ];
    for (frames, outcome, needle) in cases {
        let addr = h2_answering(ip, 0, frames);
        let r = run1(CheckKind::Http2 { addr });
        assert_outcome(&r, outcome, needle);
        assert_eq!(r.ok, outcome == Outcome::Ok, "{r:?}");
    }
    let r = run1(CheckKind::Http2 {
        addr: h2_answering(ip, 0, H2_SETTINGS_AND_ACK),
    });
    assert!(r.ok, "{r:?}");
}

#[test]
fn oversized_and_truncated_http_answers_are_errors() {
    let ip = ip("127.0.2.41");
    let huge = banner_server(
        ip,
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\nhello",
    );
    let r = run1(http(huge, "/"));
    assert_outcome(&r, Outcome::WrongProtocol, "Content-Length 99999999999");
    let bad = banner_server(ip, b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\nhello");
    assert_outcome(
        &run1(http(bad, "/")),
        Outcome::WrongProtocol,
        "Content-Length",
    );
    // Chunked without end, past the cap.
    let endless = endless_server(
        ip,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000\r\n",
    );
    assert_outcome(
        &run1(http(endless, "/")),
        Outcome::WrongProtocol,
        "at most 4 MiB",
    );
}

#[test]
fn many_small_chunks_are_decoded_in_linear_time() {
    let ip = ip("127.0.2.42");
    // 480 KiB of body in chunks of one byte (2.9 MiB on the wire).
    let addr = serve(ip, 0, |mut s| {
        let _ = s.set_nodelay(true);
        let mut req = [0u8; 1024];
        let _ = std::io::Read::read(&mut s, &mut req);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let piece = b"1\r\nx\r\n".repeat(4096);
        for _ in 0..120 {
            if s.write_all(&piece).is_err() {
                return;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
    });
    let started = Instant::now();
    let r = health::run(
        &[check(http(addr, "/"))],
        RunOptions {
            timeout: Duration::from_secs(20),
            wait: None,
        },
    );
    let r = &r.checks[0];
    assert!(r.ok, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// An HTTP server answering `body` (JSON) on every path.
fn json_server(ip: std::net::Ipv4Addr, body: &'static str) -> std::net::SocketAddr {
    http_server(ip, false, move |_| (200, body.to_string()))
}

#[test]
fn consul_answers_of_the_wrong_types_are_wrong_protocol() {
    let ip = ip("127.0.2.43");
    for body in [
        r#"[1, "10.0.0.1:8300"]"#,
        r#"["10.0.0.1:8300", null]"#,
        r#"["x"]"#,
    ] {
        let r = run1(CheckKind::ConsulPeers {
            agent: json_server(ip, body),
            expected: 1,
        });
        assert_outcome(&r, Outcome::WrongProtocol, "peer addresses");
    }
    for body in [r#"" ""#, "42", r#""leader""#] {
        let r = run1(CheckKind::ConsulLeader {
            agents: vec![json_server(ip, body)],
        });
        assert_outcome(&r, Outcome::WrongProtocol, "leader address");
    }
    let r = run1(CheckKind::ConsulService {
        agent: json_server(ip, r#"{"a": {"Service": "carrier", "Port": "80"}}"#),
        name: "carrier".into(),
        address: None,
    });
    assert_outcome(&r, Outcome::WrongProtocol, "object of services");
}

#[test]
fn text_from_servers_is_never_printed_raw() {
    let ip = ip("127.0.2.44");
    // A MySQL greeting whose version clears the screen.
    let mysql = banner_server(
        ip,
        b"\x12\x00\x00\x00\x0a5.5\x1b[2J\x1b]0;pwn\x07\x00\x00\x00\x00",
    );
    let r = run1(CheckKind::MysqlGreeting { addr: mysql });
    assert!(r.ok, "{r:?}");
    assert!(!r.detail.chars().any(char::is_control), "{:?}", r.detail);
    assert!(r.detail.contains("\\u{1b}[2J"), "{}", r.detail);
    let kv = http_server(ip, false, |_| (200, "other\u{1b}[31m".to_string()));
    let r = run1(CheckKind::ConsulKv {
        agent: kv,
        key: "k".into(),
        expected: "v".into(),
    });
    assert!(!r.detail.chars().any(char::is_control), "{:?}", r.detail);
    let table = health::render_table(&health::Report {
        healthy: false,
        checks: vec![r],
    });
    assert!(!table.contains('\u{1b}'), "{table}");
}
