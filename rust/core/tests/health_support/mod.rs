//! Test servers on loopback for the health tests: tiny HTTP, HTTP/2, silent and resetting
//! listeners, a fake consul API, and one-check helpers. Real daemons and organisations come
//! from `tests/support`.
#![allow(dead_code)]

use metis_core::health::{self, Check, CheckKind, CheckResult, Outcome, Report, RunOptions};
use metis_core::model::{HostRef, Service};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test ip")
}

/// A port free on `ip` right now (for daemons configured by port number).
pub fn free_port(ip: Ipv4Addr) -> u16 {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Listens on `ip`:`port` (0: any) and runs `handle` on a thread per connection.
pub fn serve(
    ip: Ipv4Addr,
    port: u16,
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> SocketAddr {
    let l = TcpListener::bind((ip, port)).expect("bind test listener");
    let addr = l.local_addr().expect("local addr");
    let handle = Arc::new(handle);
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            let h = Arc::clone(&handle);
            thread::spawn(move || h(s));
        }
    });
    addr
}

/// Reads an HTTP request head and returns its path.
fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1).map(str::to_string)
}

/// An HTTP/1.1 server: `route(path)` gives (status, body). Bodies are sent chunked when
/// `chunked`, else with Content-Length.
pub fn http_server(
    ip: Ipv4Addr,
    chunked: bool,
    route: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> SocketAddr {
    http_server_at(ip, 0, chunked, route)
}

pub fn http_server_at(
    ip: Ipv4Addr,
    port: u16,
    chunked: bool,
    route: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> SocketAddr {
    serve(ip, port, move |mut s| {
        let Some(path) = read_request(&mut s) else {
            return;
        };
        let (status, body) = route(&path);
        let resp = if chunked {
            let half = body.len() / 2;
            let (a, b) = body.split_at(half);
            format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                a.len(),
                b.len()
            )
        } else {
            format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let _ = s.write_all(resp.as_bytes());
        // Keep the connection open a moment: the client must stop on Content-Length/chunks.
        thread::sleep(Duration::from_millis(200));
    })
}

/// Answers the HTTP/2 preface with a SETTINGS frame (MAX_CONCURRENT_STREAMS = 100) and
/// acknowledges the client's SETTINGS, like a gRPC server.
pub fn h2_server(ip: Ipv4Addr) -> SocketAddr {
    h2_server_at(ip, 0)
}

/// The SETTINGS frame and the acknowledgement a gRPC server sends.
pub const H2_SETTINGS_AND_ACK: &[u8] = &[
    0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100, // SETTINGS: MAX_CONCURRENT_STREAMS = 100
    0, 0, 0, 4, 1, 0, 0, 0, 0, // SETTINGS ACK
];

pub fn h2_server_at(ip: Ipv4Addr, port: u16) -> SocketAddr {
    h2_answering(ip, port, H2_SETTINGS_AND_ACK)
}

/// Reads the HTTP/2 preface and the client's SETTINGS, answers `frames` and keeps the
/// connection open a moment.
pub fn h2_answering(ip: Ipv4Addr, port: u16, frames: &'static [u8]) -> SocketAddr {
    serve(ip, port, move |mut s| {
        let mut buf = vec![0u8; 24 + 9];
        if s.read_exact(&mut buf).is_err() || !buf.starts_with(b"PRI * HTTP/2.0") {
            return;
        }
        let _ = s.write_all(frames);
        thread::sleep(Duration::from_millis(500));
    })
}

/// Accepts connections and never says anything (timeout outcome).
pub fn silent_server(ip: Ipv4Addr) -> SocketAddr {
    serve(ip, 0, |s| {
        thread::sleep(Duration::from_secs(30));
        drop(s);
    })
}

/// Accepts, leaves the request unread and closes: the kernel answers with a reset.
pub fn resetting_server(ip: Ipv4Addr) -> SocketAddr {
    serve(ip, 0, |s| {
        thread::sleep(Duration::from_millis(100));
        drop(s);
    })
}

/// A port nothing listens on.
pub fn refused_port(ip: Ipv4Addr) -> SocketAddr {
    SocketAddr::from((ip, free_port(ip)))
}

/// Sends `bytes` on connect, then keeps the connection open a moment.
pub fn banner_server(ip: Ipv4Addr, bytes: &'static [u8]) -> SocketAddr {
    serve(ip, 0, move |mut s| {
        let _ = s.write_all(bytes);
        thread::sleep(Duration::from_millis(500));
    })
}

/// Sends `prefix`, then bytes without end until the client goes away.
pub fn endless_server(ip: Ipv4Addr, prefix: &'static [u8]) -> SocketAddr {
    serve(ip, 0, move |mut s| {
        let filler = [b'x'; 4096];
        let _ = s.write_all(prefix);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && s.write_all(&filler).is_ok() {}
    })
}

/// What the fake consul agent answers.
#[derive(Clone, Debug)]
pub struct ConsulState {
    pub leader: String,
    pub peers: Vec<String>,
    pub kv: BTreeMap<String, String>,
    /// (id, name, address, port, check status)
    pub services: Vec<(String, String, String, u16, String)>,
}

/// A fake consul HTTP API (the endpoints the health checks use), answering chunked like
/// Go's net/http does for streamed bodies.
pub fn fake_consul(ip: Ipv4Addr, state: Arc<Mutex<ConsulState>>) -> SocketAddr {
    fake_consul_at(ip, 0, state)
}

pub fn fake_consul_at(ip: Ipv4Addr, port: u16, state: Arc<Mutex<ConsulState>>) -> SocketAddr {
    http_server_at(ip, port, true, move |path| {
        let st = state.lock().expect("consul state").clone();
        let json = |v: serde_json::Value| (200, v.to_string());
        match path {
            "/v1/status/leader" => json(serde_json::json!(st.leader)),
            "/v1/status/peers" => json(serde_json::json!(st.peers)),
            "/v1/agent/services" => {
                let mut m = serde_json::Map::new();
                for (id, name, addr, port, _) in &st.services {
                    m.insert(
                        id.clone(),
                        serde_json::json!({"ID": id, "Service": name, "Tags": [],
                            "Address": addr, "Port": port}),
                    );
                }
                json(serde_json::Value::Object(m))
            }
            "/v1/agent/checks" => {
                let mut m = serde_json::Map::new();
                for (id, name, _, _, status) in &st.services {
                    let cid = format!("service:{id}");
                    m.insert(
                        cid.clone(),
                        serde_json::json!({"CheckID": cid, "Name": format!("Service '{name}' check"),
                            "Status": status, "Output": format!("grpc check is {status}"),
                            "ServiceID": id, "ServiceName": name}),
                    );
                }
                json(serde_json::Value::Object(m))
            }
            p if p.starts_with("/v1/kv/") => {
                let key = p
                    .trim_start_matches("/v1/kv/")
                    .trim_end_matches("?raw")
                    .to_string();
                match st.kv.get(&key) {
                    Some(v) => (200, v.clone()),
                    None => (404, String::new()),
                }
            }
            _ => (404, "not found".to_string()),
        }
    })
}

pub fn host(name: &str, ip: Ipv4Addr) -> HostRef {
    HostRef {
        name: name.to_string(),
        ip,
    }
}

/// A check of `kind` by a consul service on a host `h` at 127.0.0.1, named `t`.
pub fn check(kind: CheckKind) -> Check {
    Check {
        host: host("h", ip("127.0.0.1")),
        service: Service::Consul,
        name: "t".into(),
        kind,
    }
}

/// `GET path` on `addr`.
pub fn http(addr: SocketAddr, path: &str) -> CheckKind {
    CheckKind::Http {
        addr,
        path: path.into(),
    }
}

/// Runs `checks` once with a `timeout_ms` limit per check, asserting the whole run took less
/// than `within_ms` (they run concurrently).
pub fn run_within(checks: &[Check], timeout_ms: u64, within_ms: u64) -> Report {
    let t = Instant::now();
    let report = health::run(
        checks,
        RunOptions {
            timeout: Duration::from_millis(timeout_ms),
            wait: None,
        },
    );
    assert!(
        t.elapsed() < Duration::from_millis(within_ms),
        "{:?}",
        t.elapsed()
    );
    report
}

/// Asserts that `r` ended with `outcome` and says `needle` in its detail.
pub fn assert_outcome(r: &CheckResult, outcome: Outcome, needle: impl AsRef<str>) {
    assert_eq!(r.outcome, outcome, "{r:?}");
    assert!(r.detail.contains(needle.as_ref()), "{}", r.detail);
}
