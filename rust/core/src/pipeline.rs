//! The one path from an inventory to an organisation, shared by every front end (the CLI and the
//! Python binding): read the inventory, evaluate what can be evaluated outside Ansible, build,
//! and look hosts up.

use crate::diag::{self, Diagnostic};
use crate::inventory::templates::{evaluate_outside_ansible, Need};
use crate::inventory::{Inventory, LoadError, Source};
use crate::model::{build, HostRef, Organization};
use crate::services::{Instance, InstanceKey};
use indexmap::{IndexMap, IndexSet};
use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;

/// Why an inventory could not be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// Missing, unreadable, not UTF-8, or not the JSON of an inventory: a usage error.
    Unreadable { path: String, reason: String },
    /// A file Ansible would refuse too: its diagnostics, and the file's text (as an inventory
    /// holding only that source) so that they can quote the offending lines.
    Invalid {
        diagnostics: Vec<Diagnostic>,
        source: Option<Box<Inventory>>,
    },
}

impl fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFailure::Unreadable { path, reason } => {
                write!(f, "cannot read inventory {path}: {reason}")
            }
            ReadFailure::Invalid { diagnostics, .. } => write!(
                f,
                "the inventory has {} syntax error(s)",
                diagnostics.iter().filter(|d| d.is_error()).count()
            ),
        }
    }
}

impl From<ReadFailure> for LoadError {
    fn from(f: ReadFailure) -> LoadError {
        match f {
            ReadFailure::Unreadable { path, reason } => LoadError::Unreadable { path, reason },
            ReadFailure::Invalid { diagnostics, .. } => LoadError::Invalid(diagnostics),
        }
    }
}

/// Reads an inventory file: Ansible INI, or (`from_json`) the JSON of `ansible-inventory --list`.
pub fn read(path: &Path, from_json: bool) -> Result<Inventory, ReadFailure> {
    match Inventory::load(path, from_json) {
        Ok(inv) => Ok(inv),
        Err(LoadError::Unreadable { path, reason }) => {
            Err(ReadFailure::Unreadable { path, reason })
        }
        Err(LoadError::Invalid(diagnostics)) => {
            // Keep the text so the diagnostics can quote the offending lines (read within the
            // same size limit as the inventory itself).
            let text = crate::inventory::read_limited(path)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let source = text.map(|text| {
                Box::new(Inventory {
                    sources: vec![Source {
                        name: path.display().to_string().into(),
                        text,
                    }],
                    ..Inventory::default()
                })
            });
            Err(ReadFailure::Invalid {
                diagnostics,
                source,
            })
        }
    }
}

/// Where `lookup('env', ...)` values come from.
pub enum Env<'a> {
    /// This process's environment: an inventory file read outside Ansible.
    Process,
    /// A given lookup (tests).
    Lookup(&'a (dyn Fn(&str) -> Option<String> + Sync)),
    /// Nothing to evaluate: Ansible's resolved values, already templated.
    Resolved,
}

/// An inventory and what was built from it.
pub struct Built {
    pub inventory: Inventory,
    /// Present when the inventory has no error.
    pub organization: Option<Organization>,
    /// Every diagnostic (template evaluation and build), sorted by location.
    pub diagnostics: Vec<Diagnostic>,
}

impl Built {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics rendered as rustc does, quoting the inventory's lines.
    pub fn render_diagnostics(&self, diags: &[Diagnostic]) -> String {
        diag::render_text(diags, |f| self.inventory.source_text(f))
    }
}

/// Evaluates the inventory's `lookup('env', ...)` values (as `need` asks) and builds the
/// organisation. Linear in the size of the inventory.
pub fn build(mut inventory: Inventory, env: Env<'_>, need: Need) -> Built {
    let mut diagnostics = match env {
        Env::Process => {
            evaluate_outside_ansible(&mut inventory, &|name| std::env::var(name).ok(), need)
        }
        Env::Lookup(lookup) => evaluate_outside_ansible(&mut inventory, lookup, need),
        Env::Resolved => Vec::new(),
    };
    let (organization, build_diags) = build::build(&inventory);
    diagnostics.extend(build_diags);
    diag::sort(&mut diagnostics);
    let organization = organization.filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
    Built {
        inventory,
        organization,
        diagnostics,
    }
}

/// A host found by [`find_host`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostMatch<'a> {
    /// The inventory host name.
    pub name: &'a str,
    /// The host as the organisation places services on it; `None` for a host of the inventory
    /// that runs no service of the organisation.
    pub placed: Option<&'a HostRef>,
}

/// No host of that name or address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no host '{name}' in the inventory (hosts: {known})")]
pub struct UnknownHost {
    pub name: String,
    /// The inventory's hosts, for the message (the first five and how many more).
    pub known: String,
}

/// The hosts of an inventory and its organisation, indexed once (linear in their size) so that
/// each lookup, and each host's instances, cost the same whatever the organisation's size.
/// Owns its data: it can live next to the organisation (the Python `Organization` keeps one).
#[derive(Clone, Debug, Default)]
pub struct HostIndex {
    /// The organisation's hosts, in [`Organization::hosts`] order, with the keys of their
    /// instances of enabled groups (start order).
    placed: IndexMap<String, (HostRef, Vec<InstanceKey>)>,
    /// Address -> the first host with it.
    by_ip: HashMap<Ipv4Addr, usize>,
    /// The inventory's other hosts (they run no service of the organisation).
    idle: IndexSet<String>,
}

impl HostIndex {
    pub fn new(inv: &Inventory, org: &Organization) -> HostIndex {
        let mut placed: IndexMap<String, (HostRef, Vec<InstanceKey>)> = org
            .hosts()
            .into_iter()
            .map(|h| (h.name.clone(), (h.clone(), Vec::new())))
            .collect();
        for inst in org.instances() {
            if org.is_enabled(inst.service.group()) {
                if let Some((_, keys)) = placed.get_mut(&inst.host.name) {
                    keys.push(inst.key);
                }
            }
        }
        let mut by_ip = HashMap::new();
        for (i, (_, (h, _))) in placed.iter().enumerate() {
            by_ip.entry(h.ip).or_insert(i);
        }
        let idle = inv
            .hosts
            .keys()
            .filter(|h| !placed.contains_key(*h))
            .cloned()
            .collect();
        HostIndex {
            placed,
            by_ip,
            idle,
        }
    }

    /// The one host lookup: an organisation host by inventory name, else by address, else any
    /// other host of the inventory by name (it runs no service).
    pub fn find(&self, name_or_ip: &str) -> Result<HostMatch<'_>, UnknownHost> {
        let placed = self
            .placed
            .get_full(name_or_ip)
            .map(|(i, _, _)| i)
            .or_else(|| {
                let ip: Ipv4Addr = name_or_ip.parse().ok()?;
                self.by_ip.get(&ip).copied()
            });
        if let Some((name, (host, _))) = placed.and_then(|i| self.placed.get_index(i)) {
            return Ok(HostMatch {
                name,
                placed: Some(host),
            });
        }
        match self.idle.get(name_or_ip) {
            Some(name) => Ok(HostMatch { name, placed: None }),
            None => {
                let names: Vec<&str> = self
                    .placed
                    .keys()
                    .chain(self.idle.iter())
                    .map(String::as_str)
                    .collect();
                Err(UnknownHost {
                    name: name_or_ip.to_owned(),
                    known: crate::model::vars::list_names(&names),
                })
            }
        }
    }

    /// The organisation's hosts, in order.
    pub fn hosts(&self) -> impl Iterator<Item = &HostRef> {
        self.placed.values().map(|(h, _)| h)
    }

    /// The instances of enabled groups on `host` (an inventory name), in start order.
    pub fn instances<'o>(&self, org: &'o Organization, host: &str) -> Vec<Instance<'o>> {
        self.placed
            .get(host)
            .map(|(_, keys)| keys.iter().filter_map(|k| org.instance(*k)).collect())
            .unwrap_or_default()
    }
}

/// The one host lookup (see [`HostIndex::find`]), for a single question.
pub fn find_host<'a>(
    inv: &'a Inventory,
    org: &'a Organization,
    name_or_ip: &str,
) -> Result<HostMatch<'a>, UnknownHost> {
    match HostIndex::new(inv, org).find(name_or_ip) {
        Ok(found) => {
            // Answer with references into the organisation and inventory, not the index.
            let placed = found.placed.and_then(|h| org.find_host(&h.name));
            let name = match placed {
                Some(h) => h.name.as_str(),
                None => inv
                    .hosts
                    .get_key_value(found.name)
                    .map_or("", |(k, _)| k.as_str()),
            };
            Ok(HostMatch { name, placed })
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ini;

    const INV: &str = "[consul]\nnode1 ansible_host=10.0.0.1\n[carrier]\nnode1\n[admin]\nnode2 ansible_host=10.0.0.2\n[monitoring]\nmon1 ansible_host=10.0.0.9\n\
        [all:vars]\nconsul_server_port = [8200]\nconsul_serf_lan_port = [8300]\nconsul_serf_wan_port = [8400]\n\
        consul_http_port = [8500]\nconsul_dns_port = [8600]\ncarrier_external_ip = 203.0.113.2\n\
        mysql_root_password = \"{{ lookup('env', 'ROOT_PW') }}\"\nadmin_password = x-Db-2\n";

    fn built(env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Built {
        let inv = ini::parse(&"inv.ini".into(), INV).expect("parses");
        build(inv, Env::Lookup(env), Need::Everything)
    }

    #[test]
    fn builds_with_evaluated_env_or_reports_the_missing_value() {
        let ok = built(&|k| (k == "ROOT_PW").then(|| "Root-Pw-9".to_owned()));
        assert!(!ok.has_errors(), "{:?}", ok.diagnostics);
        let org = ok.organization.expect("organisation");
        assert_eq!(org.settings.admin.mysql_root_password.expose(), "Root-Pw-9");
        let missing = built(&|_| None);
        assert!(missing.has_errors() && missing.organization.is_none());
    }

    #[test]
    fn one_lookup_by_name_address_or_idle_host() {
        let b = built(&|_| Some("Root-Pw-9".to_owned()));
        let org = b.organization.as_ref().expect("organisation");
        let index = HostIndex::new(&b.inventory, org);
        let by_name = index.find("node2").expect("node2");
        assert_eq!(
            by_name.placed.map(|h| h.ip.to_string()),
            Some("10.0.0.2".into())
        );
        assert_eq!(index.find("10.0.0.2").expect("by address").name, "node2");
        let idle = index.find("mon1").expect("inventory host");
        assert_eq!((idle.name, idle.placed), ("mon1", None));
        let e = index
            .find("10.0.0.9")
            .expect_err("an idle host is found by name only");
        assert_eq!(
            e.to_string(),
            "no host '10.0.0.9' in the inventory (hosts: node1, node2, mon1)"
        );
        let services: Vec<_> = index
            .instances(org, "node1")
            .iter()
            .map(|i| i.service.name())
            .collect();
        assert_eq!(services, ["consul", "carrier"]);
        assert!(index.instances(org, "mon1").is_empty());
        // The single-question form answers the same, with references into the inventory.
        assert_eq!(
            find_host(&b.inventory, org, "10.0.0.2").map(|m| m.name),
            Ok("node2")
        );
        assert_eq!(
            find_host(&b.inventory, org, "mon1").map(|m| m.placed),
            Ok(None)
        );
    }
}
