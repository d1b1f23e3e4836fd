//! The one path from an inventory to an organisation, shared by every front end (the CLI and the
//! Python binding): read the inventory, evaluate what can be evaluated outside Ansible, build,
//! and look hosts up.

use crate::diag::{self, Diagnostic};
use crate::inventory::templates::{evaluate_outside_ansible, Need};
use crate::inventory::{Inventory, LoadError, Source};
use crate::model::{build, HostRef, Organization};
use std::fmt;
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
            // Keep the text so the diagnostics can quote the offending lines.
            let source = std::fs::read_to_string(path).ok().map(|text| {
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
    Lookup(&'a dyn Fn(&str) -> Option<String>),
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

    /// Looks a host up by inventory name or address; see [`find_host`].
    pub fn find_host(&self, name_or_ip: &str) -> Result<HostMatch<'_>, UnknownHost> {
        match &self.organization {
            Some(org) => find_host(&self.inventory, org, name_or_ip),
            None => Err(UnknownHost::new(&self.inventory, None, name_or_ip)),
        }
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
    /// The inventory's hosts, for the message (the first few).
    pub known: String,
}

impl UnknownHost {
    fn new(inv: &Inventory, org: Option<&Organization>, name: &str) -> Self {
        let mut names: Vec<&str> = match org {
            Some(org) => org.hosts().iter().map(|h| h.name.as_str()).collect(),
            None => Vec::new(),
        };
        for h in inv.hosts.keys() {
            if names.len() >= 6 {
                break;
            }
            if !names.contains(&h.as_str()) {
                names.push(h);
            }
        }
        UnknownHost {
            name: name.to_owned(),
            known: crate::model::vars::list_names(&names),
        }
    }
}

/// The one host lookup: an organisation host by inventory name, else by address, else any
/// other host of the inventory by name (it runs no service).
pub fn find_host<'a>(
    inv: &'a Inventory,
    org: &'a Organization,
    name_or_ip: &str,
) -> Result<HostMatch<'a>, UnknownHost> {
    if let Some(h) = org.find_host(name_or_ip) {
        return Ok(HostMatch {
            name: &h.name,
            placed: Some(h),
        });
    }
    match inv.hosts.get_key_value(name_or_ip) {
        Some((name, _)) => Ok(HostMatch { name, placed: None }),
        None => Err(UnknownHost::new(inv, Some(org), name_or_ip)),
    }
}
