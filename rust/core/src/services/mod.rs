//! One description per service, the way TiUP's `Instance` describes a component: its ports
//! (each with the check that proves it answers), directories, config files, unit and command
//! line, packages, artifacts, consul registrations and KV entries, generated secrets and place in
//! the start order. Validation (port conflicts), rendering, health planning and the host plan all
//! read these descriptions; nothing else matches on a service to learn one of these facts.
//!
//! An [`Instance`] is one service placed on one host; [`Instance::describe`] gives its
//! [`Describe`] implementation, one per service in this module's files.

mod admin;
mod carrier;
pub(crate) mod consul;
pub(crate) mod fighter;
mod ice;
pub mod layout;

pub use layout::Layout;

use crate::health::CheckKind;
use crate::model::ports::Proto;
use crate::model::{
    defaults, AdminNode, CarrierNode, ConsulNode, FighterNode, Group, HostRef, IceViaNode,
    Organization, Service,
};
use crate::render::RenderedFile;
use std::net::{SocketAddr, SocketAddrV4};

/// How a service is started and stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A unit metis-deploy renders: `metis-<service>.service` (or a start-stop-daemon process).
    Own,
    /// The distribution's own unit (Debian's `mariadb.service`, `nginx.service`): only the
    /// service's settings are rendered.
    Distribution(&'static str),
}

/// One word of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Word {
    Literal(String),
    /// An environment variable of the service, expanded into words (split at whitespace) where
    /// the command runs: `$NAME` in a systemd unit.
    Env(&'static str),
}

/// The check that proves a port is served by the right program, or why it has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortCheck {
    Probe {
        name: &'static str,
        kind: CheckKind,
    },
    /// Nothing a plain client can recognise answers there: the reason, for readers.
    Unchecked(&'static str),
}

/// One port (or inclusive range) a service listens on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// What the port is for ("http", "serf_lan", "task ports"...).
    pub purpose: &'static str,
    pub proto: Proto,
    pub first: u16,
    pub last: u16,
    /// The inventory variable that sets it (implicit ports have none).
    pub variable: Option<&'static str>,
    /// A started service must be listening on it (set for single TCP ports).
    pub wait: bool,
    pub check: PortCheck,
}

impl Port {
    /// A single TCP port the service listens on once started. What proves it answers must be
    /// said: [`TcpPort::probe`] or [`TcpPort::unchecked`] makes it a `Port`.
    fn tcp(purpose: &'static str, port: u16, variable: Option<&'static str>) -> TcpPort {
        TcpPort(Port {
            purpose,
            proto: Proto::Tcp,
            first: port,
            last: port,
            variable,
            wait: true,
            check: PortCheck::Unchecked(""),
        })
    }
    fn udp(purpose: &'static str, port: u16, variable: Option<&'static str>) -> Port {
        Port {
            proto: Proto::Udp,
            wait: false,
            check: PortCheck::Unchecked("UDP: no connection to check"),
            ..Port::tcp(purpose, port, variable).0
        }
    }
    /// Ports opened on demand (task ports): nothing listens until a task runs.
    fn range(purpose: &'static str, (first, last): (u16, u16)) -> Port {
        Port {
            last,
            wait: false,
            check: PortCheck::Unchecked("opened only while a task runs"),
            ..Port::tcp(purpose, first, None).0
        }
    }
}

/// A TCP port whose check is not said yet.
#[must_use = "say how the port is checked: .probe(...) or .unchecked(why)"]
struct TcpPort(Port);

impl TcpPort {
    fn probe(mut self, name: &'static str, kind: CheckKind) -> Port {
        self.0.check = PortCheck::Probe { name, kind };
        self.0
    }
    fn unchecked(mut self, why: &'static str) -> Port {
        self.0.check = PortCheck::Unchecked(why);
        self.0
    }
}

/// A directory a service needs before it starts. Its owner follows [`Layout::owner_of`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dir {
    pub path: String,
    pub mode: u32,
}

/// Where an artifact goes and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArtifactKind {
    /// Copied to `dest`.
    File,
    /// A zip unpacked into the directory `dest`.
    Unzip,
    /// A tar unpacked into the directory `dest`.
    Untar,
    /// A directory of the bundle copied (its files) into the directory `dest`.
    Directory,
}

impl ArtifactKind {
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::File => "file",
            ArtifactKind::Unzip => "unzip",
            ArtifactKind::Untar => "untar",
            ArtifactKind::Directory => "directory",
        }
    }
}

/// The CPU flag a build of an artifact is for (the fighters' rosetta wheel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuFlag {
    Avx2,
    NoAvx2,
}

impl CpuFlag {
    pub fn name(self) -> &'static str {
        match self {
            CpuFlag::Avx2 => "avx2",
            CpuFlag::NoAvx2 => "no_avx2",
        }
    }
}

/// A file of the artifact bundle (SPEC: `download_url` or an offline bundle) a service needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    /// Path relative to the bundle root.
    pub source: String,
    pub dest: String,
    pub mode: u32,
    pub kind: ArtifactKind,
    /// Only for hosts whose CPU has (or lacks) this flag.
    pub cpu_flag: Option<CpuFlag>,
}

/// A file the inventory names on the controller (a certificate, a private key), pushed to the
/// host by deploy; its service restarts when it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The inventory variable naming the controller's file.
    pub variable: &'static str,
    /// The controller's path, as the inventory gives it.
    pub source: String,
    pub dest: String,
    pub mode: u32,
    /// Owned by root whatever its place (nginx's master reads its keys as root); else by
    /// [`Layout::owner_of`].
    pub root_owned: bool,
    /// A private key: never shown (no_log, no diff).
    pub secret: bool,
}

/// A service the instance registers in consul (on the first consul agent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub name: &'static str,
    pub tag: Option<&'static str>,
    /// The port it registers with its own address, when the health check must pick that
    /// instance among others of the same name.
    pub port: Option<u16>,
}

/// A consul KV entry (value format `<ip>_<port>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvEntry {
    pub key: &'static str,
    pub value: String,
}

/// A secret made once on the host by a command, kept across redeploys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    pub name: &'static str,
    pub path: String,
    pub mode: u32,
    pub command: Vec<String>,
}

/// A Python virtual environment the service runs in, installed offline from wheels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonEnv {
    pub path: String,
    pub base_python: String,
    pub wheel_dir: String,
    /// Wheel file names to install.
    pub requirements: Vec<String>,
}

/// A database a service owns on its host, set up by the deploy (created, schema imported once,
/// a user with privileges on it only, from `client_host` only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    pub name: String,
    pub user: String,
    pub client_host: std::net::Ipv4Addr,
    /// The inventory variable with the user's password.
    pub password_var: &'static str,
    pub schema: String,
    pub socket: &'static str,
    /// The service running the database server.
    pub server: Service,
}

/// What a backup (and cleanup) fetches to the controller: a file of the host, a database dumped
/// into it first, or consul KV keys read into it first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backup {
    pub path: String,
    /// Dumped into `path` first.
    pub database: Option<String>,
    /// The keys under this prefix (read from this agent's HTTP API) written into `path` first.
    pub kv_prefix: Option<&'static str>,
}

/// A check of an instance beyond its ports (consul's cluster checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedCheck {
    pub name: String,
    pub kind: CheckKind,
}

/// Everything one service is on one host. Each service implements it in its own file; the
/// defaults are "none".
pub trait Describe {
    /// Every port, in a fixed order.
    fn ports(&self) -> Vec<Port>;
    fn unit(&self) -> Unit {
        Unit::Own
    }
    /// Debian packages it needs.
    fn packages(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// Directories it needs, parents first.
    fn directories(&self) -> Vec<Dir>;
    /// Its config files (units excepted).
    fn config_files(&self) -> Vec<RenderedFile>;
    /// The command line of its own unit (empty for distribution units).
    fn command(&self) -> Vec<Word> {
        Vec::new()
    }
    /// Non-secret environment of its command.
    fn environment(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// The log a failed start shows the tail of.
    fn log_file(&self) -> Option<String>;
    fn artifacts(&self) -> Vec<Artifact> {
        Vec::new()
    }
    /// Checks beyond its ports.
    fn checks(&self) -> Vec<NamedCheck> {
        Vec::new()
    }
    fn registrations(&self) -> Vec<Registration> {
        Vec::new()
    }
    /// KV entries it writes once the cluster has a leader.
    fn kv_writes(&self) -> Vec<KvEntry> {
        Vec::new()
    }
    /// KV keys it needs at start.
    fn kv_reads(&self) -> Vec<&'static str> {
        Vec::new()
    }
    fn secrets(&self) -> Vec<Generated> {
        Vec::new()
    }
    /// Files pushed from the controller (certificates and keys the inventory names).
    fn uploads(&self) -> Vec<Upload> {
        Vec::new()
    }
    fn python_env(&self) -> Option<PythonEnv> {
        None
    }
    /// The service's own check of its written configuration (argv).
    fn validate(&self) -> Option<Vec<String>> {
        None
    }
    /// Files of the distribution that would compete with the service, removed by the deploy.
    fn disable_files(&self) -> Vec<String> {
        Vec::new()
    }
    fn database(&self) -> Option<Database> {
        None
    }
    fn backup(&self) -> Option<Backup> {
        None
    }
}

/// The node of the organisation an instance is.
#[derive(Clone, Copy, Debug)]
enum Node<'a> {
    Consul(&'a ConsulNode),
    IceVia(&'a IceViaNode),
    Carrier(&'a CarrierNode),
    Admin(&'a AdminNode),
    Fighter(&'a FighterNode),
}

/// Names an instance within its organisation: the service and its node's position in the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceKey {
    pub service: Service,
    pub index: usize,
}

/// One service placed on one host.
#[derive(Clone, Copy, Debug)]
pub struct Instance<'a> {
    pub service: Service,
    pub host: &'a HostRef,
    pub key: InstanceKey,
    node: Node<'a>,
}

/// What every description needs: the organisation, its layout and the host.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    org: &'a Organization,
    lay: Layout<'a>,
    host: &'a HostRef,
    service: Service,
}

impl Ctx<'_> {
    fn sock(&self, port: u16) -> SocketAddr {
        sock(self.host, port)
    }
    /// `<deploy_dir>`, then the group's directory, `config/` and `logs/`.
    fn standard_dirs(&self) -> Vec<Dir> {
        let g = self.service.group();
        vec![
            Dir {
                path: self.lay.deploy_dir.to_owned(),
                mode: 0o755,
            },
            Dir {
                path: self.lay.group_dir(g),
                mode: 0o755,
            },
            Dir {
                path: self.lay.config_dir(g),
                mode: 0o750,
            },
            Dir {
                path: self.lay.log_dir(g),
                mode: 0o750,
            },
        ]
    }
    /// [`Ctx::standard_dirs`] and the group's data directory (private: 0750).
    fn dirs_with_data(&self) -> Vec<Dir> {
        let mut dirs = self.standard_dirs();
        dirs.push(self.dir(self.lay.data_dir(self.service.group()), 0o750));
        dirs
    }
    fn dir(&self, path: String, mode: u32) -> Dir {
        Dir { path, mode }
    }
    /// `file` in the group's configuration directory.
    fn config_path(&self, file: &str) -> String {
        format!("{}/{file}", self.lay.config_dir(self.service.group()))
    }
    fn own_log(&self) -> Option<String> {
        Some(self.lay.log_file(self.service))
    }
}

pub(crate) fn sock(host: &HostRef, port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(host.ip, port))
}

impl<'a> Instance<'a> {
    /// The description of this instance.
    pub fn describe(&self, org: &'a Organization) -> Box<dyn Describe + 'a> {
        let ctx = Ctx {
            org,
            lay: Layout::new(&org.settings),
            host: self.host,
            service: self.service,
        };
        match (self.service, self.node) {
            (Service::Consul, Node::Consul(node)) => Box::new(consul::Consul { ctx, node }),
            (Service::IceGrid, Node::IceVia(node)) => Box::new(ice::IceGrid { ctx, node }),
            (Service::Glacier2, Node::IceVia(node)) => Box::new(ice::Glacier2 { ctx, node }),
            (Service::Carrier, Node::Carrier(node)) => Box::new(carrier::Carrier { ctx, node }),
            (Service::Mysql, Node::Admin(node)) => Box::new(admin::Mysql { ctx, node }),
            (Service::Admin, Node::Admin(node)) => Box::new(admin::Admin { ctx, node }),
            (Service::Nginx, Node::Admin(node)) => Box::new(admin::Nginx { ctx, node }),
            (Service::Data | Service::Compute, Node::Fighter(node)) => {
                Box::new(fighter::Fighter { ctx, node })
            }
            // Instances are only made by `Organization::instance`, which pairs them right.
            _ => Box::new(Nothing),
        }
    }

    /// The service's unit name: `metis-<service>.service`, or the distribution's.
    pub fn unit_name(&self, desc: &dyn Describe) -> String {
        unit_name(self.service, desc.unit())
    }
}

/// `metis-<service>.service` for our units, the distribution's name otherwise.
pub fn unit_name(service: Service, unit: Unit) -> String {
    match unit {
        Unit::Own => format!("{}{}.service", defaults::UNIT_PREFIX, service.name()),
        Unit::Distribution(name) => name.to_owned(),
    }
}

/// A description of nothing (unreachable: see [`Instance::describe`]).
struct Nothing;

impl Describe for Nothing {
    fn ports(&self) -> Vec<Port> {
        Vec::new()
    }
    fn directories(&self) -> Vec<Dir> {
        Vec::new()
    }
    fn config_files(&self) -> Vec<RenderedFile> {
        Vec::new()
    }
    fn log_file(&self) -> Option<String> {
        None
    }
}

impl Organization {
    /// The instance named by `key`, if the organisation has it.
    pub fn instance(&self, key: InstanceKey) -> Option<Instance<'_>> {
        let i = key.index;
        let (host, node) = match key.service.group() {
            Group::Consul => self.consul.get(i).map(|n| (&n.host, Node::Consul(n)))?,
            Group::IceVia => self
                .ice_via
                .as_ref()
                .filter(|_| i == 0)
                .map(|n| (&n.host, Node::IceVia(n)))?,
            Group::Carrier => self
                .carrier
                .as_ref()
                .filter(|_| i == 0)
                .map(|n| (&n.host, Node::Carrier(n)))?,
            Group::Admin => self.admin.get(i).map(|n| (&n.host, Node::Admin(n)))?,
            Group::Data => self.data.get(i).map(|n| (&n.host, Node::Fighter(n)))?,
            Group::Compute => self.compute.get(i).map(|n| (&n.host, Node::Fighter(n)))?,
        };
        Some(Instance {
            service: key.service,
            host,
            key,
            node,
        })
    }

    /// Every instance of the organisation (enabled groups or not), in start order: group by
    /// group, host by host, each host's services of the group in order.
    pub fn instances(&self) -> Vec<Instance<'_>> {
        let mut out = Vec::new();
        for g in Group::ALL {
            for index in 0..self.group_hosts(g).len() {
                for service in g.services() {
                    let key = InstanceKey {
                        service: *service,
                        index,
                    };
                    out.extend(self.instance(key));
                }
            }
        }
        out
    }

    /// The instances of enabled groups on `host` (an inventory host name), in start order.
    pub fn instances_on(&self, host: &str) -> Vec<Instance<'_>> {
        let mut out = Vec::new();
        for g in Group::ALL.into_iter().filter(|g| self.is_enabled(*g)) {
            for (index, h) in self.group_hosts(g).into_iter().enumerate() {
                if h.name != host {
                    continue;
                }
                for service in g.services() {
                    let key = InstanceKey {
                        service: *service,
                        index,
                    };
                    out.extend(self.instance(key));
                }
            }
        }
        out
    }
}

/// The start position of a service (stop in reverse): consul, icegrid, glacier2, carrier,
/// mysql, admin, nginx, data, compute.
pub fn start_order(service: Service) -> usize {
    Service::ALL
        .iter()
        .position(|s| *s == service)
        .unwrap_or(Service::ALL.len())
}
