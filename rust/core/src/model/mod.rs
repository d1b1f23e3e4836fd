//! The typed organisation: which service runs on which host with which ports and settings.
//! Built once from an [`Inventory`](crate::Inventory) by [`build`]; every inventory variable is
//! described in [`variables`], every default lives in [`defaults`], and what each service is on
//! its host in [`crate::services`].

pub mod build;
pub mod defaults;
pub mod ports;
pub mod variables;
pub mod vars;

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

/// The inventory groups of an organisation, in start order (stop in reverse).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Consul,
    IceVia,
    Carrier,
    Admin,
    Data,
    Compute,
}

impl Group {
    /// Start order: consul -> ice_via -> carrier -> admin -> data, compute.
    pub const ALL: [Group; 6] = [
        Group::Consul,
        Group::IceVia,
        Group::Carrier,
        Group::Admin,
        Group::Data,
        Group::Compute,
    ];

    /// The inventory group name (upstream's).
    pub fn name(self) -> &'static str {
        match self {
            Group::Consul => "consul",
            Group::IceVia => "ice_via",
            Group::Carrier => "carrier",
            Group::Admin => "admin",
            Group::Data => "data",
            Group::Compute => "compute",
        }
    }

    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The `enable_deploy_<group>` switch.
    pub fn enable_var(self) -> &'static str {
        variables::switch(self).name
    }

    /// The processes this group runs on each of its hosts.
    pub fn services(self) -> &'static [Service] {
        match self {
            Group::Consul => &[Service::Consul],
            Group::IceVia => &[Service::IceGrid, Service::Glacier2],
            Group::Carrier => &[Service::Carrier],
            Group::Admin => &[Service::Mysql, Service::Admin, Service::Nginx],
            Group::Data => &[Service::Data],
            Group::Compute => &[Service::Compute],
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One process (one unit) of the organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Consul,
    IceGrid,
    Glacier2,
    Carrier,
    Mysql,
    Admin,
    Nginx,
    Data,
    Compute,
}

impl Service {
    pub const ALL: [Service; 9] = [
        Service::Consul,
        Service::IceGrid,
        Service::Glacier2,
        Service::Carrier,
        Service::Mysql,
        Service::Admin,
        Service::Nginx,
        Service::Data,
        Service::Compute,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Consul => "consul",
            Service::IceGrid => "icegrid",
            Service::Glacier2 => "glacier2",
            Service::Carrier => "carrier",
            Service::Mysql => "mysql",
            Service::Admin => "admin",
            Service::Nginx => "nginx",
            Service::Data => "data",
            Service::Compute => "compute",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn group(self) -> Group {
        match self {
            Service::Consul => Group::Consul,
            Service::IceGrid | Service::Glacier2 => Group::IceVia,
            Service::Carrier => Group::Carrier,
            Service::Mysql | Service::Admin | Service::Nginx => Group::Admin,
            Service::Data => Group::Data,
            Service::Compute => Group::Compute,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A host as services see it: the inventory name and the IPv4 address services bind to
/// (`ansible_host` when set, else the name itself).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostRef {
    pub name: String,
    pub ip: Ipv4Addr,
}

impl HostRef {
    /// Whether `name_or_ip` names this host: its inventory name or its address.
    pub fn is(&self, name_or_ip: &str) -> bool {
        self.name == name_or_ip || name_or_ip.parse::<Ipv4Addr>().is_ok_and(|ip| ip == self.ip)
    }
}

/// A password, token or key. Never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for writing into a file marked `secret`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsulPorts {
    pub server: u16,
    pub serf_lan: u16,
    pub serf_wan: u16,
    pub http: u16,
    pub dns: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConsulNode {
    pub host: HostRef,
    /// Position in the consul group (index into the per-host port lists).
    pub index: usize,
    pub ports: ConsulPorts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CarrierPorts {
    pub pprof: u16,
    pub rpc: u16,
    pub grpc_gateway: u16,
    pub p2p_udp: u16,
    pub p2p_tcp: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CarrierNode {
    pub host: HostRef,
    pub external_ip: Ipv4Addr,
    pub ports: CarrierPorts,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AdminNode {
    pub host: HostRef,
    pub web_port: u16,
    pub grpc_port: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceProtocol {
    Tcp,
    Ssl,
}

impl IceProtocol {
    pub fn name(self) -> &'static str {
        match self {
            IceProtocol::Tcp => "tcp",
            IceProtocol::Ssl => "ssl",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct IceViaNode {
    pub host: HostRef,
    pub external_ip: Ipv4Addr,
    pub glacier2_port: u16,
    pub grid_port: u16,
    pub protocol: IceProtocol,
    /// With ssl: the controller's PEM files pushed into ice_via/certs (`None`: put there by hand).
    pub ssl_sources: Option<IceSslSources>,
}

/// Controller paths of Glacier2's certificate authority, certificate and key
/// (`ice_ssl_ca_src`, `ice_ssl_cert_src`, `ice_ssl_key_src`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceSslSources {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FighterKind {
    Data,
    Compute,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FighterNode {
    pub host: HostRef,
    pub kind: FighterKind,
    /// Position in its group (index into `data_port` / `compute_port`).
    pub index: usize,
    pub port: u16,
}

/// How services are started on the hosts (`service_manager`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceManager {
    /// systemd where the host runs it, else start-stop-daemon.
    Auto,
    Systemd,
    Process,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TlsSettings {
    pub server_name: String,
    pub protocols: String,
    pub ciphers: String,
    /// Paths on the admin host.
    pub cert_file: String,
    pub key_file: String,
    /// Controller files pushed to `cert_file` and `key_file` (`admin_ssl_certificate_src`,
    /// `admin_ssl_certificate_key_src`); `None`: the files are on the host already.
    pub sources: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AdminSettings {
    pub mysql_root_password: Secret,
    /// `amin_user` upstream (sic), `admin_user` accepted too.
    pub db_user: String,
    pub db_password: Secret,
    pub pinata_token: Secret,
    pub pinata_gateway: String,
    /// `pinata_url`: the pinning API the admin uploads to (default [`defaults::PINATA_URL`]).
    pub pinata_url: String,
    /// JVM options for `java <opts> -jar admin.jar`, valid for the installed JDK.
    pub jvm_opts: String,
    /// `None` when `enable_tls` is off.
    pub tls: Option<TlsSettings>,
}

/// Chain and contract settings of the carrier (defaults: upstream's public values).
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSettings {
    pub rpc_url: String,
    pub hrp: String,
    pub document_contract: String,
    pub pct_contract: String,
    pub credential_contract: String,
    pub proposal_contract: String,
    pub pay_agent_contract: String,
    pub bootstrap_nodes: Vec<String>,
}

/// Where the data centre (storage) service is: the `datumnetwork/dataCenter_ip_port` KV value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageAddr {
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// systemd resource control for a group's units; 0 means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Percent of one core (`<group>_cpu_quota`, e.g. 150).
    pub cpu_quota_percent: u32,
    /// MiB (`<group>_memory_limit`).
    pub memory_limit_mib: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FighterSettings {
    pub latticex_rosetta: String,
    pub latticex_psi: String,
    pub fighter_dcv: String,
    pub channel_sdk: String,
    /// pip index option, e.g. `-i https://...` (upstream's `python_proxy`).
    pub python_proxy: String,
    /// `fighter_python`: an interpreter the fighters run under instead of a virtual environment
    /// of their own; a relative path is taken from `deploy_dir`.
    pub python: Option<String>,
    /// `fighter_base_python`: what the virtual environments are made from.
    pub base_python: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub deploy_dir: String,
    pub service_user: String,
    pub service_manager: ServiceManager,
    /// `carrier_verbosity`: the carrier's log level 0..5 (default [`defaults::CARRIER_VERBOSITY`]).
    pub carrier_verbosity: u8,
    pub admin: AdminSettings,
    pub chain: ChainSettings,
    pub storage: Option<StorageAddr>,
    pub fighter: FighterSettings,
    pub resources: BTreeMap<Group, Resources>,
    pub operations: Operations,
}

/// How the playbooks operate on the hosts (not what runs there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operations {
    /// `apt_update_cache`.
    pub apt_update_cache: bool,
    /// `start_timeout`, seconds.
    pub start_timeout_secs: u32,
    /// `min_free_mb`.
    pub min_free_mb: u64,
    /// `regenerate_p2p_key`.
    pub regenerate_p2p_key: bool,
    /// `state_dir`: the controller's directory of the organisation, when the inventory sets it.
    pub state_dir: Option<String>,
}

/// The whole organisation node, valid by construction: [`build::build`] only returns one when the
/// inventory has no errors.
#[derive(Clone, Debug, PartialEq)]
pub struct Organization {
    pub cluster_name: String,
    /// `enable_deploy_<group>`: whether this run deploys/starts/stops the group.
    pub enabled: BTreeMap<Group, bool>,
    pub settings: Settings,
    pub consul: Vec<ConsulNode>,
    pub ice_via: Option<IceViaNode>,
    pub carrier: Option<CarrierNode>,
    pub admin: Vec<AdminNode>,
    pub data: Vec<FighterNode>,
    pub compute: Vec<FighterNode>,
}

impl Organization {
    pub fn is_enabled(&self, group: Group) -> bool {
        self.enabled.get(&group).copied().unwrap_or(false)
    }

    /// The consul agent every other service registers with and queries (upstream's "leader").
    pub fn first_consul(&self) -> Option<&ConsulNode> {
        self.consul.first()
    }

    pub fn fighters(&self) -> impl Iterator<Item = &FighterNode> {
        self.data.iter().chain(&self.compute)
    }

    /// Every (host, service) placed in the organisation, in start order.
    pub fn placements(&self) -> Vec<(&HostRef, Service)> {
        self.instances()
            .into_iter()
            .map(|i| (i.host, i.service))
            .collect()
    }

    /// The hosts of a group, in inventory order.
    pub fn group_hosts(&self, group: Group) -> Vec<&HostRef> {
        match group {
            Group::Consul => self.consul.iter().map(|n| &n.host).collect(),
            Group::IceVia => self.ice_via.iter().map(|n| &n.host).collect(),
            Group::Carrier => self.carrier.iter().map(|n| &n.host).collect(),
            Group::Admin => self.admin.iter().map(|n| &n.host).collect(),
            Group::Data => self.data.iter().map(|n| &n.host).collect(),
            Group::Compute => self.compute.iter().map(|n| &n.host).collect(),
        }
    }

    /// Every distinct host of the organisation, by name, in first-seen start order.
    pub fn hosts(&self) -> Vec<&HostRef> {
        let mut seen = std::collections::HashSet::new();
        Group::ALL
            .into_iter()
            .flat_map(|g| self.group_hosts(g))
            .filter(|h| seen.insert(h.name.as_str()))
            .collect()
    }

    /// The host of the organisation named `name_or_ip` (inventory name, else address).
    pub fn find_host(&self, name_or_ip: &str) -> Option<&HostRef> {
        let hosts = self.hosts();
        hosts
            .iter()
            .find(|h| h.name == name_or_ip)
            .or_else(|| hosts.iter().find(|h| h.is(name_or_ip)))
            .copied()
    }
}
