//! Organization -> checks, from the services' descriptions: each port's own check, then each
//! instance's other checks (consul's cluster checks), the KV entries it writes and the consul
//! registrations it makes.

use super::{Check, CheckKind, Filter};
use crate::model::{Group, HostRef, Organization};
use crate::services::{Describe, Instance, NamedCheck, PortCheck};

/// Consul's API path that answers on any agent (the consul http port's check, and the leader
/// probe's query).
pub(crate) use crate::services::consul::LEADER_PATH as CONSUL_LEADER_PATH;

/// Every check of the enabled groups that `filter` selects, in start order of the services.
pub fn plan(org: &Organization, filter: &Filter) -> Vec<Check> {
    let instances: Vec<Instance<'_>> = org
        .instances()
        .into_iter()
        .filter(|i| org.is_enabled(i.service.group()) && filter.matches(i.host, i.service))
        .collect();
    let described: Vec<(Instance<'_>, Box<dyn Describe + '_>)> = instances
        .into_iter()
        .map(|i| (i, i.describe(org)))
        .collect();
    let mut out = Vec::new();
    // Ports first (what answers), then what the cluster holds.
    for (inst, desc) in &described {
        for c in port_checks(&**desc) {
            out.push(check(inst, c));
        }
    }
    for (inst, desc) in &described {
        for c in other_checks(org, inst.host, &**desc) {
            out.push(check(inst, c));
        }
    }
    // Keep one order: by group (start order), then the order checks were planned in.
    out.sort_by_key(|c| Group::ALL.iter().position(|g| *g == c.service.group()));
    out
}

/// The checks of one instance, in the order [`plan`] lists them.
pub fn instance_checks(org: &Organization, host: &HostRef, desc: &dyn Describe) -> Vec<NamedCheck> {
    let mut out = port_checks(desc);
    out.extend(other_checks(org, host, desc));
    out
}

fn check(inst: &Instance<'_>, c: NamedCheck) -> Check {
    Check {
        host: inst.host.clone(),
        service: inst.service,
        name: c.name,
        kind: c.kind,
    }
}

fn port_checks(desc: &dyn Describe) -> Vec<NamedCheck> {
    desc.ports()
        .into_iter()
        .filter_map(|p| match p.check {
            PortCheck::Probe { name, kind } => Some(NamedCheck {
                name: name.to_owned(),
                kind,
            }),
            PortCheck::Unchecked(_) => None,
        })
        .collect()
}

/// The instance's own checks, its KV entries (read back from the first agent) and its
/// registrations (agent-local, on the first agent: the one every service queries).
fn other_checks(org: &Organization, host: &HostRef, desc: &dyn Describe) -> Vec<NamedCheck> {
    let mut out = desc.checks();
    let Some(first) = org.first_consul() else {
        return out;
    };
    let agent = crate::services::sock(&first.host, first.ports.http);
    for kv in desc.kv_writes() {
        out.push(NamedCheck {
            name: format!("kv {}", kv.key),
            kind: CheckKind::ConsulKv {
                agent,
                key: kv.key.to_owned(),
                expected: kv.value,
            },
        });
    }
    for r in desc.registrations() {
        out.push(NamedCheck {
            name: format!("consul {}", r.name),
            kind: CheckKind::ConsulService {
                agent,
                name: r.name.to_owned(),
                address: r.port.map(|port| crate::services::sock(host, port)),
            },
        });
    }
    out
}
