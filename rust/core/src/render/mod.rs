//! Every config file, nginx site, database snippet and systemd unit of an organisation, rendered
//! from the typed [`Organization`]: what is validated is exactly what is written.
//!
//! Rendering is pure and deterministic: the same organisation gives byte-identical files, in the
//! same order (start order of the services, then a fixed order within each service).

pub(crate) mod admin;
pub(crate) mod carrier;
pub(crate) mod consul;
pub mod emit;
pub(crate) mod fighter;
pub(crate) mod ice;
pub mod keys;
mod systemd;

use crate::model::{Group, HostRef, Organization, Service, ServiceManager};
use crate::services::{Instance, Unit};
use sha2::{Digest, Sha256};
use std::fmt::{self, Write};

pub use crate::services::layout::ROOT;
pub use crate::services::Layout;
pub use systemd::unit_path;

/// File mode of a file that holds a secret (password, token, key).
pub const SECRET_MODE: u32 = 0o600;
/// File mode of every other rendered file.
pub const PUBLIC_MODE: u32 = 0o644;

/// One file to write on one host. Its `Debug` shows the content of a secret file as
/// `<secret: N bytes>`.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// The inventory host name.
    pub host: String,
    pub service: Service,
    /// Absolute path on the host.
    pub path: String,
    pub mode: u32,
    /// Holds a secret: written 0600, never shown in diffs or logs.
    pub secret: bool,
    /// Who owns the file: the service user under `deploy_dir` (services read their own
    /// configs, secrets included), root for system files (units, nginx site, MariaDB settings).
    pub owner: String,
    pub group: String,
    pub content: String,
}

impl fmt::Debug for RenderedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RenderedFile");
        d.field("host", &self.host)
            .field("service", &self.service)
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("secret", &self.secret)
            .field("owner", &self.owner)
            .field("group", &self.group);
        if self.secret {
            d.field(
                "content",
                &format_args!("<secret: {} bytes>", self.content.len()),
            );
        } else {
            d.field("content", &self.content);
        }
        d.finish()
    }
}

impl RenderedFile {
    fn new(host: &HostRef, service: Service, path: String, content: String) -> Self {
        RenderedFile {
            host: host.name.clone(),
            service,
            path,
            mode: PUBLIC_MODE,
            secret: false,
            owner: ROOT.to_string(),
            group: ROOT.to_string(),
            content,
        }
    }

    fn secret(mut self) -> Self {
        self.secret = true;
        self.mode = SECRET_MODE;
        self
    }

    /// Lower-case hex SHA-256 of the content.
    pub fn sha256(&self) -> String {
        let digest = Sha256::digest(self.content.as_bytes());
        let mut out = String::with_capacity(64);
        for b in digest {
            let _ = write!(out, "{b:02x}");
        }
        out
    }
}

/// Every file of the services of enabled groups placed on `host` (an inventory host name), in
/// start order. Empty for an unknown host.
pub fn render_host(org: &Organization, host: &str) -> Vec<RenderedFile> {
    render_instances(org, &org.instances_on(host))
}

/// Every file of the given instances, in their order: each one's config files, then its unit
/// (our own units only, and only when services run under systemd).
pub fn render_instances(org: &Organization, instances: &[Instance<'_>]) -> Vec<RenderedFile> {
    let lay = Layout::new(&org.settings);
    let mut out = Vec::new();
    for inst in instances {
        let desc = inst.describe(org);
        out.extend(desc.config_files());
        if desc.unit() == Unit::Own && wants_units(org) {
            out.push(systemd::unit(org, &lay, inst, &*desc));
        }
    }
    for f in &mut out {
        let owner = lay.owner_of(&f.path);
        f.owner = owner.to_owned();
        f.group = owner.to_owned();
    }
    out
}

/// Every file of every host, host by host in [`Organization::hosts`] order.
pub fn render_all(org: &Organization) -> Vec<RenderedFile> {
    let enabled: Vec<Instance<'_>> = org
        .instances()
        .into_iter()
        .filter(|i| org.is_enabled(i.service.group()))
        .collect();
    let mut out = render_instances(org, &enabled);
    // Group by host (stable: keeps start order within a host).
    let order: std::collections::HashMap<&str, usize> = org
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| (h.name.as_str(), i))
        .collect();
    out.sort_by_key(|f| order.get(f.host.as_str()).copied());
    out
}

/// Every file of every host, as [`render_all`] (same files, same order), handed to `each` one
/// host at a time as soon as that host is rendered: only one host's files are in memory.
pub fn render_each<E>(
    org: &Organization,
    mut each: impl FnMut(Vec<RenderedFile>) -> Result<(), E>,
) -> Result<(), E> {
    let mut by_host: std::collections::HashMap<&str, Vec<Instance<'_>>> =
        std::collections::HashMap::new();
    for inst in org.instances() {
        if org.is_enabled(inst.service.group()) {
            by_host
                .entry(inst.host.name.as_str())
                .or_default()
                .push(inst);
        }
    }
    for host in org.hosts() {
        let Some(instances) = by_host.remove(host.name.as_str()) else {
            continue;
        };
        each(render_instances(org, &instances))?;
    }
    Ok(())
}

/// Whether services get systemd units (`service_manager` auto or systemd).
pub fn wants_units(org: &Organization) -> bool {
    org.settings.service_manager != ServiceManager::Process
}

/// The consul agent services register with: the first consul host's IP and http port.
fn first_consul(org: &Organization) -> (String, u16) {
    match org.first_consul() {
        Some(c) => (c.host.ip.to_string(), c.ports.http),
        // An organisation without consul is refused by validation; render something inert.
        None => (String::new(), 0),
    }
}

/// The group of a service, for resource settings.
fn resources(org: &Organization, group: Group) -> crate::model::Resources {
    org.settings
        .resources
        .get(&group)
        .copied()
        .unwrap_or_default()
}
