//! Health checks: every service of the organisation checked at protocol level, concurrently.
//!
//! [`plan`] turns an [`Organization`](crate::Organization) (its port table and settings) into a
//! list of [`Check`]s; [`run`] runs them all at once on a small tokio runtime of its own, each
//! bounded by a timeout (and, with `wait`, retried until they pass or a deadline), and returns a
//! [`Report`]. [`render_table`] prints a report grouped by host and service.
//!
//! Callers (the CLI, the Python binding) only call blocking functions: no async in the API.

mod plan;
mod probe;
mod render;
mod run;

pub use plan::{instance_checks, plan};
pub use render::render_table;
pub use run::run;

use crate::model::{HostRef, Service};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// Which checks to plan: empty lists mean "all".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub services: Vec<Service>,
    /// Host names or IPv4 addresses, as in the inventory.
    pub hosts: Vec<String>,
}

impl Filter {
    pub fn matches(&self, host: &HostRef, service: Service) -> bool {
        (self.services.is_empty() || self.services.contains(&service))
            && (self.hosts.is_empty() || self.hosts.iter().any(|h| host.is(h)))
    }
}

/// One check of one service on one host.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub host: HostRef,
    pub service: Service,
    /// Short, stable name of the check within its service ("http api", "leader", "greeting"...).
    pub name: String,
    pub kind: CheckKind,
}

/// What a check does, at which address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// The port accepts a TCP connection.
    Tcp { addr: SocketAddr },
    /// `GET path` over HTTP/1.1 answers 200.
    Http { addr: SocketAddr, path: String },
    /// The server sends an Ice validate-connection message on connect.
    IceValidate { addr: SocketAddr },
    /// The server answers a TLS ClientHello with a ServerHello (no certificate verification).
    TlsHello {
        addr: SocketAddr,
        server_name: Option<String>,
    },
    /// The server sends a MySQL/MariaDB initial handshake (protocol version 10). No login.
    MysqlGreeting { addr: SocketAddr },
    /// The port speaks HTTP/2 (gRPC): the client preface is answered with a SETTINGS frame.
    Http2 { addr: SocketAddr },
    /// Every agent's `/v1/status/leader` names the same, non-empty leader.
    ConsulLeader { agents: Vec<SocketAddr> },
    /// `/v1/status/peers` on `agent` lists `expected` raft peers.
    ConsulPeers { agent: SocketAddr, expected: usize },
    /// `GET /v1/kv/<key>?raw` on `agent` returns `expected`.
    ConsulKv {
        agent: SocketAddr,
        key: String,
        expected: String,
    },
    /// A service named `name` is registered on `agent` (agent-local: `/v1/agent/services`)
    /// and all its checks pass (`/v1/agent/checks`). When `address` is set, the instance
    /// registered with that address and port is the one checked.
    ConsulService {
        agent: SocketAddr,
        name: String,
        address: Option<SocketAddr>,
    },
}

impl CheckKind {
    /// A short, stable name of the kind of check (the host plan's `kind`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            CheckKind::Tcp { .. } => "tcp",
            CheckKind::Http { .. } => "http",
            CheckKind::IceValidate { .. } => "ice",
            CheckKind::TlsHello { .. } => "tls",
            CheckKind::MysqlGreeting { .. } => "mysql",
            CheckKind::Http2 { .. } => "http2",
            CheckKind::ConsulLeader { .. } => "consul-leader",
            CheckKind::ConsulPeers { .. } => "consul-peers",
            CheckKind::ConsulKv { .. } => "consul-kv",
            CheckKind::ConsulService { .. } => "consul-service",
        }
    }

    /// The address the check connects to (the first agent for the leader check; the agent
    /// asked, for consul's KV and registration checks).
    pub fn address(&self) -> Option<SocketAddr> {
        match self {
            CheckKind::Tcp { addr }
            | CheckKind::Http { addr, .. }
            | CheckKind::IceValidate { addr }
            | CheckKind::TlsHello { addr, .. }
            | CheckKind::MysqlGreeting { addr }
            | CheckKind::Http2 { addr } => Some(*addr),
            CheckKind::ConsulLeader { agents } => agents.first().copied(),
            CheckKind::ConsulPeers { agent, .. }
            | CheckKind::ConsulKv { agent, .. }
            | CheckKind::ConsulService { agent, .. } => Some(*agent),
        }
    }

    /// What a passing check sees, for messages ("expected <this>, got ...").
    pub fn expectation(&self) -> String {
        match self {
            CheckKind::Tcp { addr } => format!("a TCP connection to {addr}"),
            CheckKind::Http { addr, path } => format!("HTTP 200 from GET http://{addr}{path}"),
            CheckKind::IceValidate { addr } => {
                format!("an Ice validate-connection message from {addr}")
            }
            CheckKind::TlsHello { addr, .. } => format!("a TLS ServerHello from {addr}"),
            CheckKind::MysqlGreeting { addr } => format!("a MySQL server greeting from {addr}"),
            CheckKind::Http2 { addr } => format!("an HTTP/2 SETTINGS frame from {addr}"),
            CheckKind::ConsulLeader { agents } => {
                format!(
                    "a raft leader agreed by all {} consul agent(s)",
                    agents.len()
                )
            }
            CheckKind::ConsulPeers { agent, expected } => {
                format!("{expected} raft peer(s) from consul at {agent}")
            }
            CheckKind::ConsulKv {
                agent,
                key,
                expected,
            } => format!("consul key {key} = '{expected}' at {agent}"),
            CheckKind::ConsulService { agent, name, .. } => {
                format!("{name} registered with passing checks on the consul agent at {agent}")
            }
        }
    }
}

/// How a check ended. Each failure kind is distinct so callers can tell "not running" from
/// "something else is listening there" from "running but unhappy". Serialised as
/// [`Outcome::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Ok,
    /// Connection refused: nothing listens on the port.
    Refused,
    /// No connection or no (complete) answer within the timeout.
    Timeout,
    /// Something answered, but not in the expected protocol (e.g. HTTP where Ice was expected).
    WrongProtocol,
    /// The HTTP server answered with a status other than the expected one.
    HttpStatus,
    /// The right protocol answered, with the wrong content: no leader, a missing or different
    /// KV value, a service not registered or failing its checks, a MySQL error packet...
    Unexpected,
    /// Any other I/O error (unreachable network, connection reset...).
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::WrongProtocol => "wrong-protocol",
            Outcome::HttpStatus => "http-status",
            Outcome::Unexpected => "unexpected",
            Outcome::Error => "error",
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bound of one attempt of one check, unless the caller says otherwise.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long callers that wait for health (`wait`) keep retrying by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// When and how long to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Bound of one attempt of one check.
    pub timeout: Duration,
    /// Retry failing checks (backoff 250 ms doubling to 1 s) until all pass or this much time
    /// has passed; `None`: one attempt each.
    pub wait: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: DEFAULT_CHECK_TIMEOUT,
            wait: None,
        }
    }
}

/// The result of one check. Serialises to `{"host", "address", "service", "check", "ok",
/// "outcome", "detail", "elapsed_ms", "attempts"}`: the one shape of the CLI's JSON and the
/// Python binding.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    pub host: HostRef,
    pub service: Service,
    pub check: String,
    pub ok: bool,
    pub detail: String,
    /// From the start of the run to this check's final attempt's end.
    pub elapsed_ms: u64,
    pub outcome: Outcome,
    /// How many attempts were made (more than 1 only with `wait`).
    pub attempts: u32,
}

impl Serialize for CheckResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            host: &'a str,
            address: String,
            service: &'a str,
            check: &'a str,
            ok: bool,
            outcome: Outcome,
            detail: &'a str,
            elapsed_ms: u64,
            attempts: u32,
        }
        Json {
            host: &self.host.name,
            address: self.host.ip.to_string(),
            service: self.service.name(),
            check: &self.check,
            ok: self.ok,
            outcome: self.outcome,
            detail: &self.detail,
            elapsed_ms: self.elapsed_ms,
            attempts: self.attempts,
        }
        .serialize(s)
    }
}

/// All results, in plan order. `healthy` is true when every check passed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub healthy: bool,
    pub checks: Vec<CheckResult>,
}

impl Report {
    pub fn failed(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| !c.ok)
    }
}
