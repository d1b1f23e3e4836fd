//! Organization -> checks, from the port table (one check per port that speaks something we
//! can recognise) plus consul's cluster-level checks and service registrations.

use super::{Check, CheckKind, Filter};
use crate::model::ports::Proto;
use crate::model::{defaults, Group, HostRef, IceProtocol, Organization, Service};
use std::net::{SocketAddr, SocketAddrV4};

pub(crate) const CONSUL_LEADER_PATH: &str = "/v1/status/leader";

fn sock(host: &HostRef, port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(host.ip, port))
}

/// Every check of the enabled groups that `filter` selects, in start order of the services.
pub fn plan(org: &Organization, filter: &Filter) -> Vec<Check> {
    let mut out: Vec<Check> = Vec::new();
    let mut push = |host: &HostRef, service: Service, name: &str, kind: CheckKind| {
        if org.is_enabled(service.group()) && filter.matches(host, service) {
            out.push(Check {
                host: host.clone(),
                service,
                name: name.to_string(),
                kind,
            });
        }
    };
    let ssl_glacier2 = org
        .ice_via
        .as_ref()
        .is_some_and(|n| n.protocol == IceProtocol::Ssl);
    let tls_name = org
        .settings
        .admin
        .tls
        .as_ref()
        .map(|t| t.server_name.clone());

    for p in org.port_table() {
        if p.proto != Proto::Tcp || p.first != p.last {
            continue;
        }
        let addr = sock(p.host, p.first);
        let http = |path: &str| CheckKind::Http {
            addr,
            path: path.to_string(),
        };
        let (name, kind) = match (p.service, p.purpose) {
            (Service::Consul, "http") => ("http api", http(CONSUL_LEADER_PATH)),
            (Service::IceGrid, "registry") => ("registry", CheckKind::IceValidate { addr }),
            (Service::Glacier2, "router") if ssl_glacier2 => (
                "router (ssl)",
                CheckKind::TlsHello {
                    addr,
                    server_name: None,
                },
            ),
            (Service::Glacier2, "router") => ("router", CheckKind::IceValidate { addr }),
            // gRPC, like the admin's grpc port and the fighters.
            (Service::Carrier, "rpc") => ("rpc", CheckKind::Http2 { addr }),
            (Service::Carrier, "grpc_gateway") => {
                ("grpc gateway", http(defaults::CARRIER_NODE_INFO_PATH))
            }
            (Service::Carrier, "pprof") => ("pprof", http(defaults::PPROF_PATH)),
            (Service::Mysql, "mysql") => ("greeting", CheckKind::MysqlGreeting { addr }),
            (Service::Admin, "web") => ("web", http(defaults::ADMIN_HEALTH_PATH)),
            (Service::Admin, "grpc") => ("grpc", CheckKind::Http2 { addr }),
            (Service::Nginx, "http") => ("http proxy", http(defaults::ADMIN_HEALTH_PATH)),
            (Service::Nginx, "https") => (
                "https",
                CheckKind::TlsHello {
                    addr,
                    server_name: tls_name.clone(),
                },
            ),
            (Service::Data | Service::Compute, "grpc") => ("grpc", CheckKind::Http2 { addr }),
            // serf/server/dns (consul's own raft and gossip), p2p: no recognisable answer to a
            // plain client; consul's are covered by the leader and peers checks.
            _ => continue,
        };
        push(p.host, p.service, name, kind);
    }

    let Some(first) = org.first_consul() else {
        return out;
    };
    let agent = sock(&first.host, first.ports.http);
    push(
        &first.host,
        Service::Consul,
        "leader",
        CheckKind::ConsulLeader {
            agents: org
                .consul
                .iter()
                .map(|n| sock(&n.host, n.ports.http))
                .collect(),
        },
    );
    push(
        &first.host,
        Service::Consul,
        "peers",
        CheckKind::ConsulPeers {
            agent,
            expected: org.consul.len(),
        },
    );
    let mut kv = |key: &str, expected: String| {
        push(
            &first.host,
            Service::Consul,
            &format!("kv {key}"),
            CheckKind::ConsulKv {
                agent,
                key: key.to_string(),
                expected,
            },
        )
    };
    if let Some(ice) = &org.ice_via {
        kv(
            defaults::KV_GLACIER2,
            format!("{}_{}", ice.external_ip, ice.glacier2_port),
        );
        kv(
            defaults::KV_ICEGRID,
            format!("{}_{}", ice.external_ip, ice.grid_port),
        );
    }
    if let Some(st) = org.settings.storage {
        kv(defaults::KV_DATA_CENTER, format!("{}_{}", st.ip, st.port));
    }

    // Self-registering services, on the first agent (the one every service queries).
    let mut registered = |host: &HostRef, service: Service, name: &str, at: Option<u16>| {
        push(
            host,
            service,
            &format!("consul {name}"),
            CheckKind::ConsulService {
                agent,
                name: name.to_string(),
                address: at.map(|port| sock(host, port)),
            },
        )
    };
    if let Some(c) = &org.carrier {
        registered(
            &c.host,
            Service::Carrier,
            defaults::CONSUL_CARRIER_SERVICE,
            None,
        );
    }
    for a in &org.admin {
        // Spring registers the host address (prefer-ip-address) with server.port and grpc.server.port.
        let admin_services = [
            (defaults::CONSUL_ADMIN_SERVICE, a.web_port),
            (defaults::CONSUL_ADMIN_GRPC_SERVICE, a.grpc_port),
        ];
        for (name, port) in admin_services {
            registered(&a.host, Service::Admin, name, Some(port));
        }
    }
    for f in &org.data {
        registered(
            &f.host,
            Service::Data,
            defaults::CONSUL_DATA_SERVICE,
            Some(f.port),
        );
    }
    for f in &org.compute {
        registered(
            &f.host,
            Service::Compute,
            defaults::CONSUL_COMPUTE_SERVICE,
            Some(f.port),
        );
    }
    // Keep one order: by group (start order), then the order checks were planned in.
    out.sort_by_key(|c| Group::ALL.iter().position(|g| *g == c.service.group()));
    out
}
