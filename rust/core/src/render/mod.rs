//! Every config file, nginx site, database snippet and systemd unit of an organisation, rendered
//! from the typed [`Organization`]: what is validated is exactly what is written.
//!
//! Rendering is pure and deterministic: the same organisation gives byte-identical files, in the
//! same order (start order of the services, then a fixed order within each service).

mod admin;
mod carrier;
mod consul;
pub mod emit;
mod fighter;
mod ice;
pub mod keys;
pub mod layout;
mod systemd;

use crate::model::{Group, HostRef, Organization, Service, ServiceManager};
use sha2::{Digest, Sha256};
use std::fmt::{self, Write};

pub use layout::Layout;

/// File mode of a file that holds a secret (password, token, key).
pub const SECRET_MODE: u32 = 0o600;
/// File mode of every other rendered file.
pub const PUBLIC_MODE: u32 = 0o644;
/// Owner and group of system files.
pub const ROOT: &str = "root";

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
    let mut out = Vec::new();
    for (h, service) in org.placements() {
        if h.name == host && org.is_enabled(service.group()) {
            render_service(org, h, service, &mut out);
        }
    }
    set_owners(org, &mut out);
    out
}

/// Files under `deploy_dir` belong to the service user; everything else stays root's.
fn set_owners(org: &Organization, files: &mut [RenderedFile]) {
    let dir = format!("{}/", org.settings.deploy_dir.trim_end_matches('/'));
    for f in files.iter_mut().filter(|f| f.path.starts_with(&dir)) {
        f.owner.clone_from(&org.settings.service_user);
        f.group.clone_from(&org.settings.service_user);
    }
}

/// Every file of every host, host by host in [`Organization::hosts`] order.
pub fn render_all(org: &Organization) -> Vec<RenderedFile> {
    let mut out = Vec::new();
    for (h, service) in org.placements() {
        if org.is_enabled(service.group()) {
            render_service(org, h, service, &mut out);
        }
    }
    // Group by host (stable: keeps start order within a host).
    let order: std::collections::HashMap<&str, usize> = org
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| (h.name.as_str(), i))
        .collect();
    out.sort_by_key(|f| order.get(f.host.as_str()).copied());
    set_owners(org, &mut out);
    out
}

/// Every file of every host, as [`render_all`] (same files, same order), handed to `each` one
/// host at a time as soon as that host is rendered: only one host's files are in memory.
pub fn render_each<E>(
    org: &Organization,
    mut each: impl FnMut(Vec<RenderedFile>) -> Result<(), E>,
) -> Result<(), E> {
    let mut by_host: std::collections::HashMap<&str, Vec<(&HostRef, Service)>> =
        std::collections::HashMap::new();
    for (h, service) in org.placements() {
        if org.is_enabled(service.group()) {
            by_host
                .entry(h.name.as_str())
                .or_default()
                .push((h, service));
        }
    }
    for host in org.hosts() {
        let Some(services) = by_host.remove(host.name.as_str()) else {
            continue;
        };
        let mut out = Vec::new();
        for (h, service) in services {
            render_service(org, h, service, &mut out);
        }
        set_owners(org, &mut out);
        each(out)?;
    }
    Ok(())
}

/// Whether services get systemd units (`service_manager` auto or systemd).
fn wants_units(org: &Organization) -> bool {
    org.settings.service_manager != ServiceManager::Process
}

fn render_service(
    org: &Organization,
    host: &HostRef,
    service: Service,
    out: &mut Vec<RenderedFile>,
) {
    let lay = Layout::new(&org.settings);
    let on_host = |h: &HostRef| h == host;
    let config = match service {
        Service::Consul => org
            .consul
            .iter()
            .find(|n| on_host(&n.host))
            .map(|n| consul::config(org, &lay, n)),
        Service::Carrier => org
            .carrier
            .as_ref()
            .filter(|n| on_host(&n.host))
            .map(|n| carrier::config(org, &lay, n)),
        Service::IceGrid => org
            .ice_via
            .as_ref()
            .filter(|n| on_host(&n.host))
            .map(|n| ice::icegrid(&lay, n)),
        Service::Glacier2 => org
            .ice_via
            .as_ref()
            .filter(|n| on_host(&n.host))
            .map(|n| ice::glacier2(&lay, n)),
        Service::Mysql => org
            .admin
            .iter()
            .find(|n| on_host(&n.host))
            .map(admin::mysql),
        Service::Admin => org
            .admin
            .iter()
            .find(|n| on_host(&n.host))
            .map(|n| admin::application(org, &lay, n)),
        Service::Nginx => org
            .admin
            .iter()
            .find(|n| on_host(&n.host))
            .map(|n| admin::nginx_site(org, &lay, n)),
        Service::Data => org
            .data
            .iter()
            .find(|n| on_host(&n.host))
            .map(|n| fighter::config(org, &lay, n)),
        Service::Compute => org
            .compute
            .iter()
            .find(|n| on_host(&n.host))
            .map(|n| fighter::config(org, &lay, n)),
    };
    let Some(config) = config else { return };
    out.push(config);
    // MySQL and nginx run under Debian's own units: only their settings are rendered.
    let own_unit = !matches!(service, Service::Mysql | Service::Nginx);
    if own_unit && wants_units(org) {
        out.push(systemd::unit(org, &lay, host, service));
    }
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
