//! The one table of every port each service opens on its host. Conflict checks, firewall lists,
//! wait-for-port steps and health checks are all derived from it.

use super::defaults;

/// The inventory variables that set ports (upstream's names), for the reader and for messages.
pub mod var {
    pub const CONSUL_SERVER: &str = "consul_server_port";
    pub const CONSUL_SERF_LAN: &str = "consul_serf_lan_port";
    pub const CONSUL_SERF_WAN: &str = "consul_serf_wan_port";
    pub const CONSUL_HTTP: &str = "consul_http_port";
    pub const CONSUL_DNS: &str = "consul_dns_port";
    /// The per-host consul lists, in `ConsulPorts` field order.
    pub const CONSUL_PORTS: [&str; 5] = [
        CONSUL_SERVER,
        CONSUL_SERF_LAN,
        CONSUL_SERF_WAN,
        CONSUL_HTTP,
        CONSUL_DNS,
    ];
    pub const CARRIER_PPROF: &str = "carrier_pprof_port";
    pub const CARRIER_RPC: &str = "carrier_rpc_port";
    pub const CARRIER_GRPC_GATEWAY: &str = "carrier_grpc_gateway_port";
    pub const CARRIER_P2P_UDP: &str = "carrier_p2p_udp_port";
    pub const CARRIER_P2P_TCP: &str = "carrier_p2p_tcp_port";
    pub const ADMIN_WEB: &str = "admin_web_port";
    pub const ADMIN_GRPC: &str = "admin_grpc_server_port";
    pub const ICE_GLACIER2: &str = "ice_glacier2_port";
    pub const ICE_GRID: &str = "ice_grid_port";
    pub const DATA: &str = "data_port";
    pub const COMPUTE: &str = "compute_port";
}
use super::{FighterKind, HostRef, Organization, Service};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One port (or inclusive range) a service listens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortUse<'a> {
    pub host: &'a HostRef,
    pub service: Service,
    /// What the port is for ("http", "serf_lan", "task ports"...).
    pub purpose: &'static str,
    pub proto: Proto,
    pub first: u16,
    pub last: u16,
    /// The inventory variable that sets it, when one does (implicit ports have none).
    pub variable: Option<&'static str>,
}

impl PortUse<'_> {
    pub fn overlaps(&self, other: &PortUse<'_>) -> bool {
        self.host.ip == other.host.ip
            && self.proto == other.proto
            && self.first <= other.last
            && other.first <= self.last
    }

    pub fn describe(&self) -> String {
        let ports = if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}-{}", self.first, self.last)
        };
        format!(
            "{} {} {}/{}",
            self.service,
            self.purpose,
            ports,
            self.proto.name()
        )
    }
}

impl Organization {
    /// Every port of every service on every host, in start order.
    pub fn port_table(&self) -> Vec<PortUse<'_>> {
        let mut t = Vec::new();
        let mut add = |host, service, purpose, proto, (first, last): (u16, u16), variable| {
            t.push(PortUse {
                host,
                service,
                purpose,
                proto,
                first,
                last,
                variable,
            })
        };
        use Proto::{Tcp, Udp};
        for n in &self.consul {
            let (h, p, s) = (&n.host, n.ports, Service::Consul);
            add(
                h,
                s,
                "server",
                Tcp,
                (p.server, p.server),
                Some(var::CONSUL_SERVER),
            );
            add(
                h,
                s,
                "serf_lan",
                Tcp,
                (p.serf_lan, p.serf_lan),
                Some(var::CONSUL_SERF_LAN),
            );
            add(
                h,
                s,
                "serf_lan",
                Udp,
                (p.serf_lan, p.serf_lan),
                Some(var::CONSUL_SERF_LAN),
            );
            add(
                h,
                s,
                "serf_wan",
                Tcp,
                (p.serf_wan, p.serf_wan),
                Some(var::CONSUL_SERF_WAN),
            );
            add(
                h,
                s,
                "serf_wan",
                Udp,
                (p.serf_wan, p.serf_wan),
                Some(var::CONSUL_SERF_WAN),
            );
            add(h, s, "http", Tcp, (p.http, p.http), Some(var::CONSUL_HTTP));
            add(h, s, "dns", Tcp, (p.dns, p.dns), Some(var::CONSUL_DNS));
            add(h, s, "dns", Udp, (p.dns, p.dns), Some(var::CONSUL_DNS));
        }
        if let Some(n) = &self.ice_via {
            let h = &n.host;
            add(
                h,
                Service::IceGrid,
                "registry",
                Tcp,
                (n.grid_port, n.grid_port),
                Some(var::ICE_GRID),
            );
            let g2 = n.glacier2_port;
            add(
                h,
                Service::Glacier2,
                "router",
                Tcp,
                (g2, g2),
                Some(var::ICE_GLACIER2),
            );
        }
        if let Some(n) = &self.carrier {
            let (h, p, s) = (&n.host, n.ports, Service::Carrier);
            add(
                h,
                s,
                "pprof",
                Tcp,
                (p.pprof, p.pprof),
                Some(var::CARRIER_PPROF),
            );
            add(h, s, "rpc", Tcp, (p.rpc, p.rpc), Some(var::CARRIER_RPC));
            let gw = p.grpc_gateway;
            add(
                h,
                s,
                "grpc_gateway",
                Tcp,
                (gw, gw),
                Some(var::CARRIER_GRPC_GATEWAY),
            );
            add(
                h,
                s,
                "p2p_udp",
                Udp,
                (p.p2p_udp, p.p2p_udp),
                Some(var::CARRIER_P2P_UDP),
            );
            add(
                h,
                s,
                "p2p_tcp",
                Tcp,
                (p.p2p_tcp, p.p2p_tcp),
                Some(var::CARRIER_P2P_TCP),
            );
        }
        let tls = self.settings.admin.tls.is_some();
        for n in &self.admin {
            let h = &n.host;
            let mysql = defaults::MYSQL_PORT;
            add(h, Service::Mysql, "mysql", Tcp, (mysql, mysql), None);
            add(
                h,
                Service::Admin,
                "web",
                Tcp,
                (n.web_port, n.web_port),
                Some(var::ADMIN_WEB),
            );
            let grpc = n.grpc_port;
            add(
                h,
                Service::Admin,
                "grpc",
                Tcp,
                (grpc, grpc),
                Some(var::ADMIN_GRPC),
            );
            let http = defaults::NGINX_HTTP_PORT;
            add(h, Service::Nginx, "http", Tcp, (http, http), None);
            if tls {
                let https = defaults::NGINX_HTTPS_PORT;
                add(h, Service::Nginx, "https", Tcp, (https, https), None);
            }
        }
        for n in self.fighters() {
            let (service, var, tasks) = match n.kind {
                FighterKind::Data => (Service::Data, var::DATA, defaults::DATA_TASK_PORTS),
                FighterKind::Compute => {
                    (Service::Compute, var::COMPUTE, defaults::COMPUTE_TASK_PORTS)
                }
            };
            add(&n.host, service, "grpc", Tcp, (n.port, n.port), Some(var));
            add(&n.host, service, "task ports", Tcp, tasks, None);
        }
        t
    }

    /// Every pair of port uses on one host that overlap (same protocol), each pair once.
    pub fn port_conflicts(&self) -> Vec<(PortUse<'_>, PortUse<'_>)> {
        let table = self.port_table();
        let mut by_host: std::collections::BTreeMap<_, Vec<&PortUse<'_>>> = Default::default();
        for p in &table {
            by_host.entry((p.host.ip, p.proto)).or_default().push(p);
        }
        let mut out = Vec::new();
        for uses in by_host.values_mut() {
            // Sweep by first port: linear in the table plus the number of conflicts.
            uses.sort_by_key(|p| (p.first, p.last));
            for (i, a) in uses.iter().enumerate() {
                for b in &uses[i + 1..] {
                    if b.first > a.last {
                        break;
                    }
                    out.push(((*a).clone(), (*b).clone()));
                }
            }
        }
        out
    }
}
