//! The protocol probes: minimal clients that read just enough of an answer to know which
//! program is talking. Each returns a detail on success or a [`Fail`] saying what came back.

use super::{CheckKind, Outcome};
use serde_json::Value as Json;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest HTTP response read (consul's `/v1/agent/services` on a busy agent stays far below).
const MAX_HTTP_RESPONSE: usize = 4 << 20;
/// Largest HTTP response head (status line and headers) read before giving up.
const MAX_HTTP_HEAD: usize = 64 << 10;

#[derive(Debug)]
pub(crate) struct Fail {
    pub outcome: Outcome,
    pub detail: String,
}

fn fail(outcome: Outcome, detail: impl Into<String>) -> Fail {
    Fail {
        outcome,
        detail: detail.into(),
    }
}

pub(crate) type Probe = Result<String, Fail>;

/// Where a probe is, so that a timeout can say what it was waiting for.
#[derive(Default)]
pub(crate) struct Phase(Mutex<String>);

impl Phase {
    fn set(&self, what: String) {
        if let Ok(mut p) = self.0.lock() {
            *p = what;
        }
    }
    pub(crate) fn get(&self) -> String {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Runs one attempt of a check (without timeout: the caller bounds it). What a server sent is
/// never printed raw: control characters (an escape sequence that would clear the screen) are
/// shown as `\u{..}` escapes, whatever the probe quotes.
pub(crate) async fn probe(kind: &CheckKind, phase: &Phase) -> Probe {
    let printable = |s: String| crate::diag::printable(&s).into_owned();
    match probe_raw(kind, phase).await {
        Ok(detail) => Ok(printable(detail)),
        Err(f) => Err(Fail {
            outcome: f.outcome,
            detail: printable(f.detail),
        }),
    }
}

async fn probe_raw(kind: &CheckKind, phase: &Phase) -> Probe {
    match kind {
        CheckKind::Tcp { addr } => {
            connect(*addr, phase).await?;
            Ok(format!("{addr} accepts TCP connections"))
        }
        CheckKind::Http { addr, path } => {
            let r = http_get(*addr, path, phase).await?;
            expect_200(&r, *addr, path)?;
            Ok(format!("GET {path}: {}", r.status_line))
        }
        CheckKind::IceValidate { addr } => ice_validate(*addr, phase).await,
        CheckKind::TlsHello { addr, server_name } => {
            tls_hello(*addr, server_name.as_deref(), phase).await
        }
        CheckKind::MysqlGreeting { addr } => mysql_greeting(*addr, phase).await,
        CheckKind::Http2 { addr } => http2_settings(*addr, phase).await,
        CheckKind::ConsulLeader { agents } => consul_leader(agents, phase).await,
        CheckKind::ConsulPeers { agent, expected } => {
            let v = consul_json(*agent, "/v1/status/peers", phase).await?;
            // Every peer is an address: anything else is not consul talking.
            let peers: Vec<&str> = v
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|p| p.as_str().filter(|s| s.parse::<SocketAddr>().is_ok()))
                        .collect::<Option<Vec<&str>>>()
                })
                .ok_or_else(|| {
                    fail(
                        Outcome::WrongProtocol,
                        format!(
                            "expected a JSON list of peer addresses from {agent}, got {}",
                            shown_json(&v)
                        ),
                    )
                })?;
            if peers.len() == *expected {
                Ok(format!("{} raft peers: {}", peers.len(), peers.join(", ")))
            } else {
                Err(fail(
                    Outcome::Unexpected,
                    format!(
                        "expected {expected} raft peer(s) (one per consul host), got {}: [{}]",
                        peers.len(),
                        peers.join(", ")
                    ),
                ))
            }
        }
        CheckKind::ConsulKv {
            agent,
            key,
            expected,
        } => {
            let path = format!("/v1/kv/{key}?raw");
            let r = http_get(*agent, &path, phase).await?;
            if r.status == 404 {
                return Err(fail(
                    Outcome::Unexpected,
                    format!(
                        "expected {key} = '{expected}', the key is not set (HTTP 404 from {agent})"
                    ),
                ));
            }
            expect_200(&r, *agent, &path)?;
            let got = String::from_utf8_lossy(&r.body);
            if got.trim() == expected {
                Ok(format!("{key} = '{expected}'"))
            } else {
                Err(fail(
                    Outcome::Unexpected,
                    format!(
                        "expected {key} = '{expected}', got '{}'",
                        crate::diag::shorten(got.trim(), 120)
                    ),
                ))
            }
        }
        CheckKind::ConsulService {
            agent,
            name,
            address,
        } => consul_service(*agent, name, *address, phase).await,
    }
}

async fn connect(addr: SocketAddr, phase: &Phase) -> Result<TcpStream, Fail> {
    phase.set(format!("no TCP connection to {addr}"));
    match TcpStream::connect(addr).await {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            phase.set(format!("{addr} accepted the connection but sent no answer"));
            Ok(s)
        }
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => Err(fail(
            Outcome::Refused,
            format!("connection refused by {addr}: nothing listens there"),
        )),
        Err(e) => Err(fail(
            Outcome::Error,
            format!("cannot connect to {addr}: {e}"),
        )),
    }
}

fn io_fail(addr: SocketAddr, e: std::io::Error) -> Fail {
    fail(Outcome::Error, format!("connection to {addr} failed: {e}"))
}

/// Reads until `buf` holds at least `n` bytes or the peer closes.
async fn read_at_least(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    n: usize,
    addr: SocketAddr,
) -> Result<(), Fail> {
    let mut chunk = [0u8; 4096];
    while buf.len() < n {
        match s.read(&mut chunk).await {
            Ok(0) => break,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !buf.is_empty() => break,
            Err(e) => return Err(io_fail(addr, e)),
        }
    }
    Ok(())
}

/// Shows what a server sent: its first line when it is text, else hex bytes.
pub(crate) fn show_bytes(b: &[u8]) -> String {
    if b.is_empty() {
        return "the connection closed without data".to_string();
    }
    let line_end = b
        .iter()
        .position(|&c| c == b'\r' || c == b'\n')
        .unwrap_or(b.len());
    let line = &b[..line_end.min(60)];
    let text = !line.is_empty()
        && line
            .iter()
            .all(|&c| (0x20..0x7f).contains(&c) || c == b'\t');
    if text {
        format!("'{}'", String::from_utf8_lossy(line))
    } else {
        let hex: Vec<String> = b.iter().take(16).map(|c| format!("{c:02x}")).collect();
        let more = if b.len() > 16 { " ..." } else { "" };
        format!("bytes {}{more}", hex.join(" "))
    }
}

// ---------------------------------------------------------------- HTTP/1.1

pub(crate) struct HttpResponse {
    pub status: u16,
    pub status_line: String,
    pub body: Vec<u8>,
}

/// A JSON value for a message: shortened.
fn shown_json(v: &Json) -> String {
    crate::diag::shorten(&v.to_string(), 80)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// A chunked body, decoded as far as it has arrived.
#[derive(Debug, PartialEq, Eq)]
enum Chunks {
    Complete(Vec<u8>),
    Incomplete,
    /// A chunk-size line that is not a size (not hex, too large for this machine, or too long),
    /// or chunk data not followed by CRLF.
    Invalid(String),
}

/// Longest chunk-size line (size and extensions) read.
const MAX_CHUNK_LINE: usize = 1024;

/// Decodes a chunked body as it arrives: each call goes on from where the previous one
/// stopped (linear in the body, however it is split into reads).
#[derive(Default)]
struct Dechunker {
    /// Offset in the body of the next chunk-size line.
    pos: usize,
    out: Vec<u8>,
}

impl Dechunker {
    /// `data` is the whole body read so far (it only grows between calls).
    fn feed(&mut self, data: &[u8]) -> Chunks {
        loop {
            let rest = &data[self.pos.min(data.len())..];
            let Some(eol) = find(&rest[..rest.len().min(MAX_CHUNK_LINE + 2)], b"\r\n") else {
                if rest.len() > MAX_CHUNK_LINE {
                    return Chunks::Invalid(show_bytes(&rest[..MAX_CHUNK_LINE.min(60)]));
                }
                return Chunks::Incomplete;
            };
            let line = &rest[..eol];
            let size_text = std::str::from_utf8(line).unwrap_or("");
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let Some((size, end)) = usize::from_str_radix(size_text, 16)
                .ok()
                .and_then(|size| Some((size, size.checked_add(2)?)))
            else {
                let shown = if line.is_empty() {
                    "an empty line".to_string()
                } else {
                    show_bytes(line)
                };
                return Chunks::Invalid(shown);
            };
            let body = &rest[eol + 2..];
            if size == 0 {
                return Chunks::Complete(std::mem::take(&mut self.out));
            }
            if body.len() < end {
                return Chunks::Incomplete;
            }
            if &body[size..end] != b"\r\n" {
                return Chunks::Invalid(format!(
                    "(chunk data not followed by CRLF: {})",
                    show_bytes(&body[size..end])
                ));
            }
            self.out.extend_from_slice(&body[..size]);
            self.pos += eol + 2 + end;
        }
    }
}

/// Decodes a whole chunked body.
#[cfg(test)]
fn dechunk(data: &[u8]) -> Chunks {
    Dechunker::default().feed(data)
}

/// `GET path` over HTTP/1.1 with `Connection: close`; returns status and decoded body.
pub(crate) async fn http_get(
    addr: SocketAddr,
    path: &str,
    phase: &Phase,
) -> Result<HttpResponse, Fail> {
    let mut s = connect(addr, phase).await?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: metis-deploy-health\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| io_fail(addr, e))?;
    phase.set(format!(
        "{addr} accepted the connection but did not answer GET {path}"
    ));
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16384];
    let mut head: Option<(u16, String, Framing, usize)> = None;
    let mut dechunker = Dechunker::default();
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::ConnectionReset && head.is_some() => 0,
            Err(e) => return Err(io_fail(addr, e)),
        };
        // Only the bytes just read (and the 3 before, for a terminator split across reads)
        // can complete the head: earlier ones were searched already.
        let searched = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        let closed = n == 0;
        if head.is_none() {
            let prefix = &buf[..buf.len().min(5)];
            if !b"HTTP/".starts_with(prefix) || (closed && buf.len() < 5) {
                return Err(fail(
                    Outcome::WrongProtocol,
                    format!(
                        "expected an HTTP response from {addr}, got {}",
                        show_bytes(&buf)
                    ),
                ));
            }
            let end = find(&buf[searched..], b"\r\n\r\n").map(|e| searched + e);
            if end.map_or(buf.len(), |e| e + 4) > MAX_HTTP_HEAD {
                return Err(fail(
                    Outcome::WrongProtocol,
                    format!(
                        "expected an HTTP response from {addr}, got no end of headers within {} KiB: {}",
                        MAX_HTTP_HEAD >> 10,
                        show_bytes(&buf)
                    ),
                ));
            }
            if let Some(end) = end {
                let (status, line, framing) = parse_head(&buf[..end], addr)?;
                head = Some((status, line, framing, end + 4));
                phase.set(format!("{addr} sent HTTP headers but not the whole body"));
            } else if closed {
                return Err(fail(
                    Outcome::WrongProtocol,
                    format!(
                        "expected an HTTP response from {addr}, got an incomplete header: {}",
                        show_bytes(&buf)
                    ),
                ));
            }
        }
        if let Some((status, line, framing, start)) = &head {
            let body = &buf[*start..];
            let body = match framing {
                Framing::Length(n) if body.len() >= *n => Some(body[..*n].to_vec()),
                Framing::Chunked => match dechunker.feed(body) {
                    Chunks::Complete(b) => Some(b),
                    Chunks::Incomplete => None,
                    Chunks::Invalid(size) => {
                        return Err(fail(
                            Outcome::WrongProtocol,
                            format!(
                                "expected a chunked HTTP body from {addr}, got an invalid chunk size {size}"
                            ),
                        ))
                    }
                },
                _ if closed => Some(body.to_vec()),
                _ => None,
            };
            let body = match body {
                Some(b) => Some(b),
                // An answer past the cap is not consul's (nor the admin's health): never
                // taken as complete.
                None if buf.len() > MAX_HTTP_RESPONSE => {
                    return Err(fail(
                        Outcome::WrongProtocol,
                        format!(
                            "expected an HTTP answer of at most {} MiB from {addr}, got more",
                            MAX_HTTP_RESPONSE >> 20
                        ),
                    ))
                }
                None if closed => match framing {
                    Framing::UntilClose => Some(buf[*start..].to_vec()),
                    _ => {
                        return Err(fail(
                            Outcome::WrongProtocol,
                            format!(
                                "expected a complete HTTP body from {addr}, the connection closed before its end"
                            ),
                        ))
                    }
                },
                None => None,
            };
            if let Some(body) = body {
                return Ok(HttpResponse {
                    status: *status,
                    status_line: line.clone(),
                    body,
                });
            }
        }
        if closed {
            // Unreachable in practice: a closed connection always ends one of the branches.
            return Err(fail(
                Outcome::Error,
                format!("{addr} closed the connection"),
            ));
        }
    }
}

fn parse_head(head: &[u8], addr: SocketAddr) -> Result<(u16, String, Framing), Fail> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("").to_string();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            fail(
                Outcome::WrongProtocol,
                format!(
                    "expected an HTTP status line from {addr}, got '{}'",
                    crate::diag::shorten(&status_line, 80)
                ),
            )
        })?;
    let mut framing = Framing::UntilClose;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
        {
            framing = Framing::Chunked;
        } else if k.eq_ignore_ascii_case("content-length") && !matches!(framing, Framing::Chunked) {
            let n = v.parse::<u64>().map_err(|_| {
                fail(
                    Outcome::WrongProtocol,
                    format!(
                        "expected an HTTP Content-Length from {addr}, got '{}'",
                        crate::diag::shorten(v, 40)
                    ),
                )
            })?;
            if n > MAX_HTTP_RESPONSE as u64 {
                return Err(fail(
                    Outcome::WrongProtocol,
                    format!(
                        "expected an HTTP answer of at most {} MiB from {addr}, got Content-Length {n}",
                        MAX_HTTP_RESPONSE >> 20
                    ),
                ));
            }
            framing = Framing::Length(n as usize);
        }
    }
    if status == 204 || status == 304 || (100..200).contains(&status) {
        framing = Framing::Length(0);
    }
    Ok((status, status_line, framing))
}

fn expect_200(r: &HttpResponse, addr: SocketAddr, path: &str) -> Result<(), Fail> {
    if r.status == 200 {
        Ok(())
    } else {
        Err(fail(
            Outcome::HttpStatus,
            format!(
                "expected HTTP 200 from GET http://{addr}{path}, got '{}'",
                r.status_line
            ),
        ))
    }
}

// ---------------------------------------------------------------- consul

async fn consul_json(agent: SocketAddr, path: &str, phase: &Phase) -> Result<Json, Fail> {
    let r = http_get(agent, path, phase).await?;
    expect_200(&r, agent, path)?;
    serde_json::from_slice(&r.body).map_err(|_| {
        fail(
            Outcome::WrongProtocol,
            format!(
                "expected consul's JSON from GET http://{agent}{path}, got {}",
                show_bytes(&r.body)
            ),
        )
    })
}

async fn consul_leader(agents: &[SocketAddr], phase: &Phase) -> Probe {
    let mut seen: Vec<(SocketAddr, String)> = Vec::new();
    for agent in agents {
        let v = consul_json(*agent, super::plan::CONSUL_LEADER_PATH, phase).await?;
        // An address, or "" when there is none: anything else is not consul talking.
        let leader = v
            .as_str()
            .filter(|l| l.is_empty() || l.parse::<SocketAddr>().is_ok())
            .ok_or_else(|| {
                fail(
                    Outcome::WrongProtocol,
                    format!(
                        "expected a quoted leader address from consul at {agent}, got {}",
                        shown_json(&v)
                    ),
                )
            })?;
        if leader.is_empty() {
            return Err(fail(
                Outcome::Unexpected,
                format!("expected a raft leader, the consul agent at {agent} reports none"),
            ));
        }
        seen.push((*agent, leader.to_string()));
    }
    match seen.first() {
        None => Err(fail(Outcome::Unexpected, "no consul agent to ask")),
        Some((_, first)) if seen.iter().all(|(_, l)| l == first) => {
            Ok(format!("leader {first}, agreed by {} agent(s)", seen.len()))
        }
        Some(_) => {
            let says: Vec<String> = seen.iter().map(|(a, l)| format!("{a} says {l}")).collect();
            Err(fail(
                Outcome::Unexpected,
                format!("agents disagree on the leader: {}", says.join(", ")),
            ))
        }
    }
}

async fn consul_service(
    agent: SocketAddr,
    name: &str,
    address: Option<SocketAddr>,
    phase: &Phase,
) -> Probe {
    let services = consul_json(agent, "/v1/agent/services", phase).await?;
    // An object of service objects, each with its name, address and port.
    let well_typed = |s: &Json| {
        s.get("Service").is_some_and(Json::is_string)
            && s.get("Address").is_none_or(Json::is_string)
            && s.get("Port").is_none_or(Json::is_u64)
    };
    let entries: Vec<&Json> = services
        .as_object()
        .filter(|m| m.values().all(well_typed))
        .map(|m| {
            m.values()
                .filter(|s| s.get("Service").and_then(Json::as_str) == Some(name))
                .collect()
        })
        .ok_or_else(|| {
            fail(
                Outcome::WrongProtocol,
                format!("expected consul's JSON object of services from GET http://{agent}/v1/agent/services"),
            )
        })?;
    let addr_of = |s: &Json| {
        let ip = s.get("Address").and_then(Json::as_str).unwrap_or("");
        let port = s.get("Port").and_then(Json::as_u64).unwrap_or(0);
        format!("{ip}:{port}")
    };
    let instance = match address {
        None => entries.first().copied(),
        Some(want) => entries
            .iter()
            .find(|s| addr_of(s) == want.to_string())
            .copied(),
    };
    let Some(instance) = instance else {
        let others: Vec<String> = entries.iter().map(|s| addr_of(s)).collect();
        let at = address.map(|a| format!(" at {a}")).unwrap_or_default();
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" (registered instances: {})", others.join(", "))
        };
        return Err(fail(
            Outcome::Unexpected,
            format!(
                "expected {name}{at} registered on the consul agent at {agent}, it is not{others}"
            ),
        ));
    };
    let id = instance
        .get("ID")
        .and_then(Json::as_str)
        .unwrap_or(name)
        .to_string();
    let checks = consul_json(agent, "/v1/agent/checks", phase).await?;
    let mine: Vec<&Json> = checks
        .as_object()
        .map(|m| {
            m.values()
                .filter(|c| c.get("ServiceID").and_then(Json::as_str) == Some(id.as_str()))
                .collect()
        })
        .unwrap_or_default();
    if mine.is_empty() {
        return Err(fail(
            Outcome::Unexpected,
            format!(
                "{name} (id {id}) is registered at {} but has no health check",
                addr_of(instance)
            ),
        ));
    }
    let failing: Vec<String> = mine
        .iter()
        .filter(|c| c.get("Status").and_then(Json::as_str) != Some("passing"))
        .map(|c| {
            let field = |k: &str| c.get(k).and_then(Json::as_str).unwrap_or("?");
            let output = field("Output").trim();
            let output = output.chars().take(120).collect::<String>();
            format!("{} is {} ({})", field("Name"), field("Status"), output)
        })
        .collect();
    if failing.is_empty() {
        Ok(format!(
            "{name} (id {id}) registered at {}, {} check(s) passing",
            addr_of(instance),
            mine.len()
        ))
    } else {
        Err(fail(
            Outcome::Unexpected,
            format!(
                "expected {name} (id {id}) to pass its checks: {}",
                failing.join("; ")
            ),
        ))
    }
}

// ---------------------------------------------------------------- Ice

/// Ice 1.0 validate-connection: magic, protocol 1.0, encoding 1.0, type 3, compression 0, size 14.
pub(crate) const ICE_VALIDATE: [u8; 14] = [b'I', b'c', b'e', b'P', 1, 0, 1, 0, 3, 0, 14, 0, 0, 0];

async fn ice_validate(addr: SocketAddr, phase: &Phase) -> Probe {
    let mut s = connect(addr, phase).await?;
    let mut buf = Vec::new();
    read_at_least(&mut s, &mut buf, ICE_VALIDATE.len(), addr).await?;
    if buf.starts_with(&ICE_VALIDATE) {
        Ok("Ice validate-connection message (protocol 1.0, encoding 1.0)".to_string())
    } else if buf.starts_with(b"IceP") {
        Err(fail(
            Outcome::Unexpected,
            format!(
                "expected an Ice validate-connection message, got another Ice message: {}",
                show_bytes(&buf)
            ),
        ))
    } else {
        Err(fail(
            Outcome::WrongProtocol,
            format!(
                "expected an Ice validate-connection message, got {}",
                show_bytes(&buf)
            ),
        ))
    }
}

// ---------------------------------------------------------------- MySQL

async fn mysql_greeting(addr: SocketAddr, phase: &Phase) -> Probe {
    let mut s = connect(addr, phase).await?;
    let mut buf = Vec::new();
    read_at_least(&mut s, &mut buf, 5, addr).await?;
    let wrong = |buf: &[u8]| {
        fail(
            Outcome::WrongProtocol,
            format!("expected a MySQL server greeting, got {}", show_bytes(buf)),
        )
    };
    if buf.len() < 5 {
        return Err(wrong(&buf));
    }
    let len = usize::from(buf[0]) | usize::from(buf[1]) << 8 | usize::from(buf[2]) << 16;
    if buf[3] != 0 || !(2..=4096).contains(&len) {
        return Err(wrong(&buf));
    }
    read_at_least(&mut s, &mut buf, 4 + len, addr).await?;
    let payload = &buf[4..buf.len().min(4 + len)];
    match payload.first() {
        Some(10) => {
            let version: Vec<u8> = payload[1..]
                .iter()
                .take_while(|&&c| c != 0)
                .copied()
                .collect();
            Ok(format!(
                "MySQL greeting, protocol 10, server {}",
                crate::diag::shorten(&String::from_utf8_lossy(&version), 80)
            ))
        }
        Some(0xff) if payload.len() >= 3 => {
            let code = u16::from(payload[1]) | u16::from(payload[2]) << 8;
            let msg = crate::diag::shorten(&String::from_utf8_lossy(&payload[3..]), 200);
            if code == MYSQL_HOST_NOT_PRIVILEGED {
                // The server itself answered: it runs and only grants users by address (the
                // checker's own is not one of them), which is how the admin's database is set up.
                return Ok(format!(
                    "MySQL server answered: it refuses this checker's address (error {code}), as granted"
                ));
            }
            Err(fail(
                Outcome::Unexpected,
                format!("expected a MySQL server greeting, got MySQL error {code}: {msg}"),
            ))
        }
        _ => Err(wrong(&buf)),
    }
}

/// MySQL's ER_HOST_NOT_PRIVILEGED: "Host '...' is not allowed to connect to this server", sent by
/// the server in place of its greeting.
const MYSQL_HOST_NOT_PRIVILEGED: u16 = 1130;

// ---------------------------------------------------------------- HTTP/2

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame: length 0, type 4, flags 0, stream 0.
const H2_EMPTY_SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
const H2_SETTINGS: u8 = 4;
const H2_GOAWAY: u8 = 7;
const H2_ACK: u8 = 1;
/// The largest frame a peer may send before settings say otherwise (SETTINGS_MAX_FRAME_SIZE).
const H2_MAX_FRAME: usize = 16_384;
/// How long to watch for a GOAWAY after the server's SETTINGS, when it does not acknowledge
/// ours at once.
const H2_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// One frame's header: payload length, type, flags, stream.
fn h2_header(b: &[u8]) -> (usize, u8, u8, u32) {
    let len = usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
    let stream = u32::from_be_bytes([b[5] & 0x7f, b[6], b[7], b[8]]);
    (len, b[3], b[4], stream)
}

fn h2_error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    NAMES
        .get(code as usize)
        .map_or_else(|| format!("error {code:#x}"), |n| (*n).to_string())
}

/// What is wrong with a SETTINGS payload (pairs of a 16-bit id and a 32-bit value), if anything.
fn h2_settings_problem(payload: &[u8]) -> Option<String> {
    for s in payload.chunks(6) {
        let id = u16::from_be_bytes([s[0], s[1]]);
        let v = u32::from_be_bytes([s[2], s[3], s[4], s[5]]);
        let bad = match id {
            2 => v > 1,                               // ENABLE_PUSH
            4 => v > 0x7fff_ffff,                     // INITIAL_WINDOW_SIZE
            5 => !(16_384..=16_777_215).contains(&v), // MAX_FRAME_SIZE
            _ => false,
        };
        if bad {
            return Some(format!("setting {id} = {v} is out of range"));
        }
    }
    None
}

/// The client preface and an empty SETTINGS frame; the server must answer with its own valid
/// SETTINGS frame (not an acknowledgement), on stream 0. Its following frames are read until
/// it acknowledges ours (or for a short while): a GOAWAY there means the server refused the
/// connection, however it began.
async fn http2_settings(addr: SocketAddr, phase: &Phase) -> Probe {
    let mut s = connect(addr, phase).await?;
    let mut hello = H2_PREFACE.to_vec();
    hello.extend_from_slice(&H2_EMPTY_SETTINGS);
    s.write_all(&hello).await.map_err(|e| io_fail(addr, e))?;
    phase.set(format!(
        "{addr} accepted the connection but did not answer the HTTP/2 preface"
    ));
    let mut buf = Vec::new();
    read_at_least(&mut s, &mut buf, 9, addr).await?;
    let wrong = |why: &str, buf: &[u8]| {
        fail(
            Outcome::WrongProtocol,
            format!(
                "expected an HTTP/2 SETTINGS frame{why}, got {}",
                show_bytes(buf)
            ),
        )
    };
    if buf.len() < 9 {
        return Err(wrong("", &buf));
    }
    let (len, kind, flags, stream) = h2_header(&buf);
    if kind != H2_SETTINGS || stream != 0 {
        return Err(wrong("", &buf));
    }
    if flags & H2_ACK != 0 {
        return Err(wrong(" (the server's own, not an acknowledgement)", &buf));
    }
    if len % 6 != 0 || len > H2_MAX_FRAME {
        return Err(wrong(
            &format!(" (a length that is a multiple of 6, not {len})"),
            &buf,
        ));
    }
    read_at_least(&mut s, &mut buf, 9 + len, addr).await?;
    if buf.len() < 9 + len {
        return Err(wrong(" (the whole frame)", &buf));
    }
    if let Some(problem) = h2_settings_problem(&buf[9..9 + len]) {
        return Err(wrong(&format!(" with valid settings ({problem})"), &buf));
    }
    let detail = format!("HTTP/2 SETTINGS frame ({} setting(s))", len / 6);
    // What follows: our acknowledgement (healthy), or a GOAWAY (refused).
    let mut at = 9 + len;
    let watch = async {
        loop {
            read_at_least(&mut s, &mut buf, at + 9, addr).await?;
            if buf.len() < at + 9 {
                return Err(fail(
                    Outcome::Unexpected,
                    format!("expected an HTTP/2 server, {addr} closed the connection after its SETTINGS frame"),
                ));
            }
            let (len, kind, flags, _) = h2_header(&buf[at..]);
            if len > H2_MAX_FRAME {
                return Err(fail(
                    Outcome::WrongProtocol,
                    format!("expected HTTP/2 frames, got one of {len} bytes (FRAME_SIZE_ERROR)"),
                ));
            }
            read_at_least(&mut s, &mut buf, at + 9 + len, addr).await?;
            let payload = &buf[(at + 9).min(buf.len())..buf.len().min(at + 9 + len)];
            match kind {
                H2_SETTINGS if flags & H2_ACK != 0 => return Ok(()),
                H2_GOAWAY if payload.len() >= 8 => {
                    let code = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                    let debug = String::from_utf8_lossy(&payload[8..]);
                    let debug = if debug.is_empty() {
                        String::new()
                    } else {
                        format!(": '{}'", crate::diag::shorten(&debug, 80))
                    };
                    return Err(fail(
                        Outcome::Unexpected,
                        format!(
                            "expected an HTTP/2 server to keep the connection, it sent GOAWAY {}{debug}",
                            h2_error_name(code)
                        ),
                    ));
                }
                // A server talking at length is talking HTTP/2; stop listening.
                _ if at > 64 << 10 => return Ok(()),
                _ if payload.len() < len => {
                    return Err(fail(
                        Outcome::Unexpected,
                        format!(
                            "expected an HTTP/2 server, {addr} closed the connection in a frame"
                        ),
                    ))
                }
                _ => at += 9 + len,
            }
        }
    };
    match tokio::time::timeout(H2_GRACE, watch).await {
        Ok(Err(f)) => Err(f),
        // Acknowledged, or nothing more said in a while: a server waiting for requests.
        Ok(Ok(())) | Err(_) => Ok(detail),
    }
}

// ---------------------------------------------------------------- TLS

/// A pseudo-random 32 bytes (client random / key share): no secrecy needed, we stop at the
/// ServerHello.
fn pseudo_random() -> [u8; 32] {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
        | 1;
    let mut out = [0u8; 32];
    for b in out.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    out
}

fn u16be(v: usize) -> [u8; 2] {
    [(v >> 8) as u8, v as u8]
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&u16be(data.len()));
    out.extend_from_slice(data);
}

/// A ClientHello offering TLS 1.3 and 1.2 with common suites, so any modern server answers.
pub(crate) fn client_hello(server_name: Option<&str>) -> Vec<u8> {
    let mut ext = Vec::new();
    if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
        let n = name.as_bytes();
        let mut d = Vec::new();
        d.extend_from_slice(&u16be(n.len() + 3));
        d.push(0);
        d.extend_from_slice(&u16be(n.len()));
        d.extend_from_slice(n);
        extension(&mut ext, 0x0000, &d);
    }
    // supported_groups: x25519, secp256r1, secp384r1
    extension(&mut ext, 0x000a, &[0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]);
    // ec_point_formats: uncompressed
    extension(&mut ext, 0x000b, &[1, 0]);
    // signature_algorithms
    let sigs: [u8; 16] = [4, 3, 8, 4, 4, 1, 5, 3, 8, 5, 5, 1, 8, 6, 6, 1];
    let mut d = u16be(sigs.len()).to_vec();
    d.extend_from_slice(&sigs);
    extension(&mut ext, 0x000d, &d);
    // supported_versions: TLS 1.3, 1.2
    extension(&mut ext, 0x002b, &[4, 3, 4, 3, 3]);
    // key_share: x25519
    let mut d = vec![0, 36, 0, 0x1d, 0, 32];
    d.extend_from_slice(&pseudo_random());
    extension(&mut ext, 0x0033, &d);

    let suites: [u16; 11] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x009d,
    ];
    let mut body = vec![3, 3];
    body.extend_from_slice(&pseudo_random());
    body.push(32);
    body.extend_from_slice(&pseudo_random());
    body.extend_from_slice(&u16be(suites.len() * 2));
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&u16be(ext.len()));
    body.extend_from_slice(&ext);

    let mut hs = vec![1, 0];
    hs.extend_from_slice(&u16be(body.len()));
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&u16be(hs.len()));
    rec.extend_from_slice(&hs);
    rec
}

async fn tls_hello(addr: SocketAddr, server_name: Option<&str>, phase: &Phase) -> Probe {
    let mut s = connect(addr, phase).await?;
    s.write_all(&client_hello(server_name))
        .await
        .map_err(|e| io_fail(addr, e))?;
    phase.set(format!(
        "{addr} accepted the connection but did not answer a TLS ClientHello"
    ));
    let mut buf = Vec::new();
    read_at_least(&mut s, &mut buf, 6, addr).await?;
    match buf.as_slice() {
        [0x16, 3, _, _, _, 2, ..] => {
            Ok("TLS ServerHello (handshake not completed, certificate not verified)".to_string())
        }
        [0x15, 3, _, _, _, level, desc, ..] => Err(fail(
            Outcome::Unexpected,
            format!(
                "expected a TLS ServerHello, got TLS alert {desc} (level {level}): the server refused the handshake"
            ),
        )),
        [0x15, 3, ..] => {
            read_at_least(&mut s, &mut buf, 7, addr).await?;
            let desc = buf.get(6).copied().unwrap_or(0);
            Err(fail(
                Outcome::Unexpected,
                format!("expected a TLS ServerHello, got TLS alert {desc}"),
            ))
        }
        _ => Err(fail(
            Outcome::WrongProtocol,
            format!("expected a TLS ServerHello, got {}", show_bytes(&buf)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_complete_bodies_only() {
        let abc = || Chunks::Complete(b"abc".to_vec());
        assert_eq!(dechunk(b"3\r\nabc\r\n0\r\n\r\n"), abc());
        assert_eq!(dechunk(b"2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n"), abc());
        assert_eq!(dechunk(b"3\r\nab"), Chunks::Incomplete);
        assert_eq!(dechunk(b"3\r\nabc\r\n"), Chunks::Incomplete);
    }

    #[test]
    fn dechunking_goes_on_where_it_stopped() {
        // A body arriving one byte at a time: each byte decoded once, not the whole body again
        // on every read (which took minutes here).
        let body: Vec<u8> = b"1\r\nx\r\n"
            .repeat(200_000)
            .into_iter()
            .chain(*b"0\r\n\r\n")
            .collect();
        let started = std::time::Instant::now();
        let mut d = Dechunker::default();
        // The last-chunk line completes the body (trailers are not waited for).
        for n in 1..body.len() - 2 {
            assert!(d.feed(&body[..n]) == Chunks::Incomplete, "at {n}");
        }
        assert!(d.feed(&body) == Chunks::Complete(vec![b'x'; 200_000]));
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
        assert!(matches!(
            dechunk(b"3\r\nabcXY0\r\n\r\n"),
            Chunks::Invalid(_)
        ));
        assert!(matches!(dechunk(&[b'1'; 2000]), Chunks::Invalid(_)));
    }

    #[test]
    fn dechunk_refuses_sizes_that_overflow_or_are_not_hex() {
        assert_eq!(
            dechunk(b"ffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
            Chunks::Invalid("'ffffffffffffffff'".into())
        );
        assert_eq!(
            dechunk(b"1ffffffffffffffff\r\nabc\r\n"),
            Chunks::Invalid("'1ffffffffffffffff'".into())
        );
        assert_eq!(dechunk(b"1\r\na\r\nzz\r\n"), Chunks::Invalid("'zz'".into()));
    }

    #[test]
    fn shows_text_and_binary() {
        assert_eq!(
            show_bytes(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
            "'HTTP/1.1 400 Bad Request'"
        );
        assert_eq!(show_bytes(&[0, 0, 0, 4]), "bytes 00 00 00 04");
        assert_eq!(show_bytes(b""), "the connection closed without data");
    }

    #[test]
    fn client_hello_lengths_are_consistent() {
        let h = client_hello(Some("admin.example.org"));
        assert_eq!(h[0], 0x16);
        let rec_len = usize::from(h[3]) << 8 | usize::from(h[4]);
        assert_eq!(rec_len + 5, h.len());
        let hs_len = usize::from(h[6]) << 16 | usize::from(h[7]) << 8 | usize::from(h[8]);
        assert_eq!(hs_len + 4, rec_len);
        assert!(find(&h, b"admin.example.org").is_some());
        assert!(find(&client_hello(Some("10.0.0.1")), b"10.0.0.1").is_none());
    }
}
