//! The inventory as Ansible sees it: groups, hosts and variables, each remembering where it was
//! written so diagnostics can point at it.
//!
//! Readers: [`ini`] (Ansible's INI format, exactly as `ansible.plugins.inventory.ini` reads it) and
//! [`json`] (what `ansible-inventory --list` prints, or groups + hostvars handed over by a plugin).

pub mod graph;
pub mod hostpat;
pub mod ini;
pub mod json;
pub mod limits;
pub mod list;
pub mod literal;
pub mod shlex;
pub mod templates;

use crate::diag::{Diagnostic, Span};
use crate::value::Value;
use indexmap::IndexMap;
use std::sync::Arc;

/// A source file, kept so diagnostics can quote the offending line.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: Arc<str>,
    pub text: String,
}

/// A variable's value and where it was set.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub value: Value,
    pub span: Option<Span>,
    /// The text as written in the INI file (after `=`, trimmed), when read from one. Lets the
    /// validator notice what Ansible silently converted (an unquoted `0x..` became an int).
    pub raw: Option<String>,
}

impl Var {
    pub fn new(value: Value) -> Self {
        Var {
            value,
            span: None,
            raw: None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Group {
    pub name: String,
    /// Where the group's first section header is (None for implicit groups and JSON input).
    pub span: Option<Span>,
    /// Hosts listed directly in this group, in order of first appearance.
    pub hosts: Vec<String>,
    pub children: Vec<String>,
    pub parents: Vec<String>,
    pub vars: IndexMap<String, Var>,
    /// `ansible_group_priority` (not a variable in Ansible: it orders the merge). None means 1.
    pub priority: Option<i64>,
}

/// One line that listed a host: a host listed twice in one group has two occurrences there.
#[derive(Clone, Debug)]
pub struct Occurrence {
    pub group: String,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, Default)]
pub struct Host {
    pub name: String,
    /// Where the host was first listed.
    pub span: Option<Span>,
    /// Host-level variables (host line `k=v`, `host:port` as `ansible_port`). For JSON input,
    /// these are the fully merged hostvars.
    pub vars: IndexMap<String, Var>,
    /// Groups that list this host directly, in order.
    pub groups: Vec<String>,
    pub occurrences: Vec<Occurrence>,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub sources: Vec<Source>,
    /// Always holds `all` and `ungrouped`, like Ansible's inventory.
    pub groups: IndexMap<String, Group>,
    pub hosts: IndexMap<String, Host>,
    /// The group graph, computed once (depths, merge order, each host's groups).
    #[doc(hidden)]
    pub index: graph::GraphIndex,
}

/// Why an inventory could not be loaded: unreadable input (exit 2) differs from a file Ansible
/// would refuse (exit 1, with located diagnostics).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read inventory {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("inventory has syntax errors")]
    Invalid(Vec<Diagnostic>),
}

/// The bytes of `path`, refused past [`limits::MAX_INPUT_BYTES`] (read no further: a device
/// such as `/dev/zero` is not read to the end).
pub fn read_limited(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(limits::MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limits::MAX_INPUT_BYTES {
        return Err(format!(
            "larger than {} MiB, metis-deploy's limit for an inventory (see the README's Robustness section)",
            limits::MAX_INPUT_BYTES >> 20
        ));
    }
    Ok(bytes)
}

impl Inventory {
    /// Reads an inventory file: Ansible INI, or (`from_json`) the JSON of `ansible-inventory --list`.
    pub fn load(path: &std::path::Path, from_json: bool) -> Result<Inventory, LoadError> {
        let unreadable = |reason: String| LoadError::Unreadable {
            path: path.display().to_string(),
            reason,
        };
        let bytes = read_limited(path).map_err(unreadable)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            unreadable(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let name: Arc<str> = path.display().to_string().into();
        if from_json {
            // JSON that is not an inventory is unreadable input, like a missing file.
            json::parse_list_json(&name, &text).map_err(|d| {
                let at = d
                    .span
                    .map(|s| format!(" (line {}, column {})", s.line, s.column));
                unreadable(format!("{}{}", d.message, at.unwrap_or_default()))
            })
        } else {
            ini::parse(&name, &text).map_err(LoadError::Invalid)
        }
    }

    pub fn source_text(&self, name: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|s| &*s.name == name)
            .map(|s| s.text.as_str())
    }

    /// Hosts of a group including its descendants', in Ansible's order (`groups['name']`).
    /// `all` leaves out implicit hosts (there are none in file inventories).
    pub fn group_hosts(&self, name: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut seen_hosts = std::collections::HashSet::new();
        for g in self.descendants(name) {
            for h in &g.hosts {
                if seen_hosts.insert(h.as_str()) {
                    out.push(h.as_str());
                }
            }
        }
        out
    }

    /// The group and its descendants, depth-first in declaration order (Ansible's
    /// `get_descendants(include_self=True, preserve_ordering=True)`), each once.
    fn descendants(&self, name: &str) -> Vec<&Group> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut frontier: Vec<&str> = vec![name];
        // Breadth by level, keeping order, as Ansible's _walk_relationship does.
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for n in frontier {
                if let Some(g) = self.groups.get(n) {
                    if seen.insert(n) {
                        out.push(g);
                        next.extend(g.children.iter().map(String::as_str));
                    }
                }
            }
            frontier = next;
        }
        out
    }

    /// One variable of a host as Ansible resolves it: host vars over group vars, deeper and
    /// later-named groups over shallower ones. Borrowed, never copied: lookups stay linear.
    pub fn host_var(&self, host: &str, key: &str) -> Option<&Var> {
        if let Some(v) = self.hosts.get(host).and_then(|h| h.vars.get(key)) {
            return Some(v);
        }
        self.groups_in_precedence_order(host)
            .rev()
            .find_map(|g| g.vars.get(key))
    }

    /// All variables of a host, merged (what `hostvars[host]` holds, without magic variables).
    pub fn host_vars(&self, host: &str) -> IndexMap<&str, &Var> {
        let mut out: IndexMap<&str, &Var> = IndexMap::new();
        for g in self.groups_in_precedence_order(host) {
            for (k, v) in &g.vars {
                out.insert(k, v);
            }
        }
        if let Some(h) = self.hosts.get(host) {
            for (k, v) in &h.vars {
                out.insert(k, v);
            }
        }
        out
    }
}
