//! The table of every port each service opens on its host, made from the services'
//! descriptions ([`crate::services`]). Conflict checks, wait-for-port steps and health checks
//! all come from the same descriptions.

use super::{HostRef, Organization, Service};

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
    /// Every port of every service on every host (deployed here or not: they occupy their
    /// ports all the same), in start order.
    pub fn port_table(&self) -> Vec<PortUse<'_>> {
        let mut t = Vec::new();
        for inst in self.instances() {
            for p in inst.describe(self).ports() {
                t.push(PortUse {
                    host: inst.host,
                    service: inst.service,
                    purpose: p.purpose,
                    proto: p.proto,
                    first: p.first,
                    last: p.last,
                    variable: p.variable,
                });
            }
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
