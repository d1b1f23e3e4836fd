//! Every inventory variable metis-deploy reads, once: name, type, default, the group it belongs
//! to, whether it is a secret, and one line of documentation. The reader ([`super::build`]) takes
//! names and defaults from here; the README's variable reference and the roles' argument specs
//! are generated from [`ALL`]; a variable that looks like one of these but is not gets a
//! "did you mean" warning ([`check_unknown`]).

use super::{defaults, Group};
use crate::diag::{Code, Diagnostic, Span};
use crate::inventory::Inventory;
use std::collections::HashSet;
use std::fmt::Write;

/// What a variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// An absolute path on the hosts.
    Path,
    Bool,
    /// A non-negative integer.
    Int,
    Port,
    /// One port per host of its group, in the group's order.
    PortList,
    Ipv4,
    /// One of the given words.
    Choice(&'static [&'static str]),
    /// A list of strings.
    List,
}

impl Kind {
    /// The name in the README.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "str",
            Kind::Path => "path",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Port => "port",
            Kind::PortList => "list of ports",
            Kind::Ipv4 => "IPv4 address",
            Kind::Choice(_) => "choice",
            Kind::List => "list of str",
        }
    }
    /// The type of an Ansible argument spec (`str`, `int`, `bool`, `list`, `path`).
    pub fn ansible_type(self) -> &'static str {
        match self {
            Kind::Text | Kind::Ipv4 | Kind::Choice(_) => "str",
            Kind::Path => "path",
            Kind::Bool => "bool",
            Kind::Int | Kind::Port => "int",
            Kind::PortList | Kind::List => "list",
        }
    }
    /// The element type of a list (`int`, `str`), for argument specs.
    pub fn elements(self) -> Option<&'static str> {
        match self {
            Kind::PortList => Some("int"),
            Kind::List => Some("str"),
            _ => None,
        }
    }
    pub fn choices(self) -> &'static [&'static str] {
        match self {
            Kind::Choice(c) => c,
            _ => &[],
        }
    }
}

/// What applies when the inventory does not set a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultValue {
    /// Nothing: the feature it configures is off, or the value is empty.
    None,
    /// Needed when its group is deployed (an error names it).
    Required,
    Text(&'static str),
    Int(u64),
    Bool(bool),
    Port(u16),
    /// Computed from other facts, as described.
    Computed(&'static str),
}

impl DefaultValue {
    /// The default as text (`None` when there is none), for documents and argument specs.
    pub fn text(self) -> Option<String> {
        match self {
            DefaultValue::None | DefaultValue::Required | DefaultValue::Computed(_) => None,
            DefaultValue::Text(s) => Some(s.to_owned()),
            DefaultValue::Int(n) => Some(n.to_string()),
            DefaultValue::Bool(b) => Some(if b { "True" } else { "False" }.to_owned()),
            DefaultValue::Port(p) => Some(p.to_string()),
        }
    }
}

/// One inventory variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    /// The groups whose services read it; empty: the whole organisation.
    pub groups: &'static [Group],
    pub secret: bool,
    pub doc: &'static str,
}

impl Variable {
    pub fn required(&self) -> bool {
        self.default == DefaultValue::Required
    }
    /// The default text of a text variable ("" when it has none).
    pub fn default_text(&self) -> &'static str {
        match self.default {
            DefaultValue::Text(s) => s,
            _ => "",
        }
    }
    /// The default port of a port variable.
    pub fn default_port(&self) -> Option<u16> {
        match self.default {
            DefaultValue::Port(p) => Some(p),
            _ => None,
        }
    }
    pub fn default_bool(&self) -> bool {
        matches!(self.default, DefaultValue::Bool(true))
    }
}

macro_rules! variables {
    ($($id:ident = $name:literal, $kind:expr, $default:expr, [$($g:ident),*], $secret:literal, $doc:literal;)*) => {
        $(
            #[doc = $doc]
            pub const $id: &Variable = &Variable {
                name: $name,
                kind: $kind,
                default: $default,
                groups: &[$(Group::$g),*],
                secret: $secret,
                doc: $doc,
            };
        )*
        /// Every variable, in the README's order.
        pub const ALL: &[&Variable] = &[$($id),*];
    };
}

use DefaultValue::{Computed, Port, Required, Text};
use Kind::{Bool, Choice, Int, Ipv4, List, Path, PortList};

const SWITCH: DefaultValue = Computed("True when the group has hosts");

variables! {
    // ---- the organisation
    CLUSTER_NAME = "cluster_name", Kind::Text, Text(defaults::CLUSTER_NAME), [], false,
        "Name of the organisation; consul's datacenter is made from it.";
    DEPLOY_DIR = "deploy_dir", Path, Text(defaults::DEPLOY_DIR), [], false,
        "Where everything is installed on each host, one directory per group.";
    SERVICE_USER = "service_user", Kind::Text, Text(defaults::SERVICE_USER), [], false,
        "The unprivileged user the services run as and that owns deploy_dir.";
    SERVICE_MANAGER = "service_manager", Choice(&["auto", "systemd", "process"]), Text("auto"), [], false,
        "How services are started: systemd units, start-stop-daemon processes, or auto (systemd where the host runs it).";
    DOWNLOAD_URL = "download_url", Kind::Text, DefaultValue::None, [], false,
        "Where the artifact bundle is downloaded from (upstream's variable).";
    CONSUL_DOWNLOAD_URL = "consul_download_url", Kind::Text, DefaultValue::None, [Consul], false,
        "Where consul's zip is downloaded from (upstream's variable).";
    OFFLINE_BUNDLE = "offline_bundle", Kind::Text, DefaultValue::None, [], false,
        "A bundle carried by hand (directory or .tar.gz on the controller) for local_prepare, instead of download_url.";
    BUNDLE_CA_PATH = "bundle_ca_path", Kind::Text, DefaultValue::None, [], false,
        "PEM file of a private certificate authority that download_url's server certificate is checked against.";
    UPGRADE_ROLLBACK = "upgrade_rollback", Bool, DefaultValue::Bool(false), [], false,
        "The upgrade playbook returns every instance to the previous artifacts kept on its host instead of upgrading.";
    SCALE_IN_HOST = "scale_in_host", Kind::Text, DefaultValue::None, [], false,
        "The inventory host the scale_in playbook removes from the organisation.";
    CONFIRM_SCALE_IN = "confirm_scale_in", Kind::Text, DefaultValue::None, [], false,
        "Must repeat scale_in_host: scale_in removes nothing without it.";
    RESTORE_FILE = "restore_file", Kind::Text, DefaultValue::None, [], false,
        "The archive (on the controller) made by the backup playbook that the restore playbook brings back.";
    CONFIRM_RESTORE = "confirm_restore", Kind::Text, DefaultValue::None, [], false,
        "Must be cluster_name: restore replaces the organisation's database, p2p key and KV keys (after a backup of them) only with it.";
    STATE_DIR = "state_dir", Kind::Text, Computed(".metis-deploy/<cluster_name> next to the inventory"), [], false,
        "Directory on the controller keeping verified bundles and backups of the organisation.";
    APT_UPDATE_CACHE = "apt_update_cache", Bool, DefaultValue::Bool(true), [], false,
        "Refresh apt's package lists (at most hourly) before installing; False for hosts without network.";
    START_TIMEOUT = "start_timeout", Int, DefaultValue::Int(defaults::START_TIMEOUT_SECS as u64), [], false,
        "Seconds a started service has to pass its health checks before start stops with its log.";
    MIN_FREE_MB = "min_free_mb", Int, DefaultValue::Int(defaults::MIN_FREE_MB), [], false,
        "Free MiB bootstrap requires on the file system of deploy_dir.";
    ENABLE_DEPLOY_CONSUL = "enable_deploy_consul", Bool, SWITCH, [Consul], false,
        "Deploy, start, stop and clean up the consul group.";
    ENABLE_DEPLOY_ICE_VIA = "enable_deploy_ice_via", Bool, SWITCH, [IceVia], false,
        "Deploy, start, stop and clean up the ice_via group.";
    ENABLE_DEPLOY_CARRIER = "enable_deploy_carrier", Bool, SWITCH, [Carrier], false,
        "Deploy, start, stop and clean up the carrier group.";
    ENABLE_DEPLOY_ADMIN = "enable_deploy_admin", Bool, SWITCH, [Admin], false,
        "Deploy, start, stop and clean up the admin group.";
    ENABLE_DEPLOY_DATA = "enable_deploy_data", Bool, SWITCH, [Data], false,
        "Deploy, start, stop and clean up the data group.";
    ENABLE_DEPLOY_COMPUTE = "enable_deploy_compute", Bool, SWITCH, [Compute], false,
        "Deploy, start, stop and clean up the compute group.";
    // ---- consul
    CONSUL_SERVER_PORT = "consul_server_port", PortList, Required, [Consul], false,
        "Consul's raft server port, one per consul host.";
    CONSUL_SERF_LAN_PORT = "consul_serf_lan_port", PortList, Required, [Consul], false,
        "Consul's LAN gossip port (TCP and UDP), one per consul host.";
    CONSUL_SERF_WAN_PORT = "consul_serf_wan_port", PortList, Required, [Consul], false,
        "Consul's WAN gossip port (TCP and UDP), one per consul host.";
    CONSUL_HTTP_PORT = "consul_http_port", PortList, Required, [Consul], false,
        "Consul's HTTP API, one per consul host; services use the first host's.";
    CONSUL_DNS_PORT = "consul_dns_port", PortList, Required, [Consul], false,
        "Consul's DNS port (TCP and UDP), one per consul host.";
    CONSUL_CPU_QUOTA = "consul_cpu_quota", Int, DefaultValue::Int(0), [Consul], false,
        "CPUQuota of consul's unit, in percent of one core; 0: no limit.";
    CONSUL_MEMORY_LIMIT = "consul_memory_limit", Int, DefaultValue::Int(0), [Consul], false,
        "MemoryMax of consul's unit, in MiB; 0: no limit.";
    // ---- ice_via
    ICE_VIA_EXTERNAL_IP = "ice_via_external_ip", Ipv4, Required, [IceVia], false,
        "The address fighters and other organisations reach Glacier2 at.";
    ICE_GLACIER2_PORT = "ice_glacier2_port", Kind::Port, Port(defaults::ICE_GLACIER2_PORT), [IceVia], false,
        "Glacier2's client port.";
    ICE_GRID_PORT = "ice_grid_port", Kind::Port, Port(defaults::ICE_GRID_PORT), [IceVia], false,
        "IceGrid's registry (client) port.";
    ICE_PROTOCOL = "ice_protocol", Choice(&["tcp", "ssl"]), Text("tcp"), [IceVia], false,
        "Glacier2's client transport; ssl needs ca.pem, server.pem and server.key in ice_via/certs (pushed from ice_ssl_*_src).";
    ICE_SSL_CA_SRC = "ice_ssl_ca_src", Kind::Text, DefaultValue::None, [IceVia], false,
        "With ice_protocol = ssl: PEM file on the controller of the certificate authority, pushed to ice_via/certs/ca.pem.";
    ICE_SSL_CERT_SRC = "ice_ssl_cert_src", Kind::Text, DefaultValue::None, [IceVia], false,
        "With ice_protocol = ssl: PEM file on the controller of Glacier2's certificate, pushed to ice_via/certs/server.pem.";
    ICE_SSL_KEY_SRC = "ice_ssl_key_src", Kind::Text, DefaultValue::None, [IceVia], false,
        "With ice_protocol = ssl: PEM file on the controller of Glacier2's private key, pushed to ice_via/certs/server.key (0600).";
    ICE_VIA_CPU_QUOTA = "ice_via_cpu_quota", Int, DefaultValue::Int(0), [IceVia], false,
        "CPUQuota of the IceGrid and Glacier2 units, in percent of one core; 0: no limit.";
    ICE_VIA_MEMORY_LIMIT = "ice_via_memory_limit", Int, DefaultValue::Int(0), [IceVia], false,
        "MemoryMax of the IceGrid and Glacier2 units, in MiB; 0: no limit.";
    // ---- carrier
    CARRIER_EXTERNAL_IP = "carrier_external_ip", Ipv4, Required, [Carrier], false,
        "The address other organisations reach the carrier at.";
    CARRIER_PPROF_PORT = "carrier_pprof_port", Kind::Port, Port(defaults::CARRIER_PPROF_PORT), [Carrier], false,
        "The carrier's pprof (debug) port.";
    CARRIER_RPC_PORT = "carrier_rpc_port", Kind::Port, Port(defaults::CARRIER_RPC_PORT), [Carrier], false,
        "The carrier's gRPC port.";
    CARRIER_GRPC_GATEWAY_PORT = "carrier_grpc_gateway_port", Kind::Port, Port(defaults::CARRIER_GRPC_GATEWAY_PORT), [Carrier], false,
        "The carrier's HTTP gateway of its gRPC API.";
    CARRIER_P2P_UDP_PORT = "carrier_p2p_udp_port", Kind::Port, Port(defaults::CARRIER_P2P_UDP_PORT), [Carrier], false,
        "The carrier's p2p discovery port (UDP).";
    CARRIER_P2P_TCP_PORT = "carrier_p2p_tcp_port", Kind::Port, Port(defaults::CARRIER_P2P_TCP_PORT), [Carrier], false,
        "The carrier's p2p port (TCP).";
    CARRIER_VERBOSITY = "carrier_verbosity", Int, DefaultValue::Int(defaults::CARRIER_VERBOSITY as u64), [Carrier], false,
        "The carrier's log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace.";
    RPC_URL = "rpc_url", Kind::Text, Text(defaults::CHAIN_RPC_URL), [Carrier], false,
        "The chain node the carrier talks to.";
    HRP = "hrp", Kind::Text, Text(defaults::CHAIN_HRP), [Carrier], false,
        "The chain's address prefix.";
    DOCUMENT_CONTRACT_ADDRESS = "document_contract_address", Kind::Text, DefaultValue::None, [Carrier], false,
        "DID document contract (quote 0x.. values).";
    PCT_CONTRACT_ADDRESS = "pct_contract_address", Kind::Text, DefaultValue::None, [Carrier], false,
        "DID PCT contract (quote 0x.. values).";
    CREDENTIAL_CONTRACT_ADDRESS = "credential_contract_address", Kind::Text, DefaultValue::None, [Carrier], false,
        "DID credential contract (quote 0x.. values).";
    PROPOSAL_CONTRACT_ADDRESS = "proposal_contract_address", Kind::Text, DefaultValue::None, [Carrier], false,
        "DID proposal contract (quote 0x.. values).";
    PAY_AGENT_CONTRACT_ADDRESS = "pay_agent_contract_address", Kind::Text, DefaultValue::None, [Carrier], false,
        "Pay agent contract (quote 0x.. values).";
    BOOTSTRAP_NODES = "bootstrap_nodes", List, DefaultValue::None, [Carrier], false,
        "The carrier's p2p bootstrap nodes (enr strings), a list or comma-separated.";
    STORAGE_IP = "storage_ip", Ipv4, DefaultValue::None, [Carrier], false,
        "The data centre's address (consul key datumnetwork/dataCenter_ip_port); set with storage_port.";
    STORAGE_PORT = "storage_port", Kind::Port, DefaultValue::None, [Carrier], false,
        "The data centre's port; set with storage_ip.";
    REGENERATE_P2P_KEY = "regenerate_p2p_key", Bool, DefaultValue::Bool(false), [Carrier], false,
        "Make a new p2p key (the organisation's identity on the network) on the next deploy; never needed normally.";
    CARRIER_CPU_QUOTA = "carrier_cpu_quota", Int, DefaultValue::Int(0), [Carrier], false,
        "CPUQuota of the carrier's unit, in percent of one core; 0: no limit.";
    CARRIER_MEMORY_LIMIT = "carrier_memory_limit", Int, DefaultValue::Int(0), [Carrier], false,
        "MemoryMax of the carrier's unit, in MiB; 0: no limit.";
    // ---- admin
    MYSQL_ROOT_PASSWORD = "mysql_root_password", Kind::Text, Required, [Admin], true,
        "MySQL's root password on the admin host.";
    ADMIN_USER = "admin_user", Kind::Text, Text(defaults::ADMIN_DB_USER), [Admin], false,
        "The admin's MySQL user.";
    AMIN_USER = "amin_user", Kind::Text, Text(defaults::ADMIN_DB_USER), [Admin], false,
        "Upstream's spelling of admin_user (admin_user wins when both are set).";
    ADMIN_PASSWORD = "admin_password", Kind::Text, Required, [Admin], true,
        "The admin's MySQL password.";
    ADMIN_WEB_PORT = "admin_web_port", Kind::Port, Port(defaults::ADMIN_WEB_PORT), [Admin], false,
        "The admin backend's HTTP port (nginx proxies it).";
    ADMIN_GRPC_SERVER_PORT = "admin_grpc_server_port", Kind::Port, Port(defaults::ADMIN_GRPC_PORT), [Admin], false,
        "The admin backend's gRPC port.";
    ADMIN_JVM_OPTS = "admin_jvm_opts", Kind::Text, Text(defaults::ADMIN_JVM_OPTS), [Admin], false,
        "JVM options of the admin backend, valid for the installed JDK.";
    PINATA_TOKEN = "pinata_token", Kind::Text, DefaultValue::None, [Admin], true,
        "The Pinata API token the admin uploads to IPFS with.";
    PINATA_GATEWAY = "pinata_gateway", Kind::Text, DefaultValue::None, [Admin], false,
        "The IPFS gateway the admin shows images through.";
    PINATA_URL = "pinata_url", Kind::Text, Text(defaults::PINATA_URL), [Admin], false,
        "The Pinata pinning API.";
    ENABLE_TLS = "enable_tls", Bool, DefaultValue::Bool(false), [Admin], false,
        "Serve the admin web UI over https too (port 443).";
    ADMIN_SERVER_NAME = "admin_server_name", Kind::Text, Computed("required with enable_tls"), [Admin], false,
        "The admin web UI's host name (nginx server_name).";
    ADMIN_SSL_CERTIFICATE = "admin_ssl_certificate", Path, Computed("admin/certs/admin.crt below deploy_dir with admin_ssl_certificate_src"), [Admin], false,
        "Path of the web UI's certificate on the admin host (put there by hand unless admin_ssl_certificate_src is set).";
    ADMIN_SSL_CERTIFICATE_KEY = "admin_ssl_certificate_key", Path, Computed("admin/certs/admin.key below deploy_dir with admin_ssl_certificate_key_src"), [Admin], false,
        "Path of the web UI's private key on the admin host (put there by hand unless admin_ssl_certificate_key_src is set).";
    ADMIN_SSL_CERTIFICATE_SRC = "admin_ssl_certificate_src", Kind::Text, DefaultValue::None, [Admin], false,
        "With enable_tls: PEM file on the controller of the web UI's certificate (chain included), pushed to admin_ssl_certificate.";
    ADMIN_SSL_CERTIFICATE_KEY_SRC = "admin_ssl_certificate_key_src", Kind::Text, DefaultValue::None, [Admin], false,
        "With enable_tls: PEM file on the controller of the web UI's private key, pushed to admin_ssl_certificate_key (0600, root).";
    ADMIN_SSL_PROTOCOLS = "admin_ssl_protocols", Kind::Text, Text(defaults::ADMIN_TLS_PROTOCOLS), [Admin], false,
        "nginx ssl_protocols.";
    ADMIN_SSL_CIPHERS = "admin_ssl_ciphers", Kind::Text, Text(defaults::ADMIN_TLS_CIPHERS), [Admin], false,
        "nginx ssl_ciphers.";
    ADMIN_CPU_QUOTA = "admin_cpu_quota", Int, DefaultValue::Int(0), [Admin], false,
        "CPUQuota of the admin backend's unit, in percent of one core; 0: no limit.";
    ADMIN_MEMORY_LIMIT = "admin_memory_limit", Int, DefaultValue::Int(0), [Admin], false,
        "MemoryMax of the admin backend's unit, in MiB; 0: no limit.";
    // ---- fighters
    DATA_PORT = "data_port", PortList, Required, [Data], false,
        "The data service's gRPC port (above 1024), one per data host.";
    COMPUTE_PORT = "compute_port", PortList, Required, [Compute], false,
        "The compute service's gRPC port (above 1024), one per compute host.";
    FIGHTER_DCV = "fighter_dcv", Kind::Text, Text(defaults::FIGHTER_DCV_WHEEL), [Data, Compute], false,
        "File name of the fighter_dcv wheel in the bundle.";
    CHANNEL_SDK = "channel_sdk", Kind::Text, Text(defaults::CHANNEL_SDK_WHEEL), [Data, Compute], false,
        "File name of the channel SDK wheel in the bundle.";
    LATTICEX_PSI = "latticex_psi", Kind::Text, Text(defaults::LATTICEX_PSI_WHEEL), [Data, Compute], false,
        "File name of the latticex_psi wheel in the bundle.";
    LATTICEX_ROSETTA = "latticex_rosetta", Kind::Text, Text(defaults::LATTICEX_ROSETTA_WHEEL), [Data, Compute], false,
        "File name of the rosetta wheel, built for avx2 and no_avx2 CPUs (the host's CPU picks).";
    PYTHON_PROXY = "python_proxy", Kind::Text, DefaultValue::None, [Data, Compute], false,
        "Upstream's pip index option; installs are offline from the bundle's wheels.";
    FIGHTER_BASE_PYTHON = "fighter_base_python", Path, Text(defaults::FIGHTER_BASE_PYTHON), [Data, Compute], false,
        "The interpreter the fighters' virtual environments are made from.";
    FIGHTER_PYTHON = "fighter_python", Path, Computed("the virtual environment's python"), [Data, Compute], false,
        "An interpreter to run the fighters with instead of a virtual environment (relative: from deploy_dir).";
    DATA_CPU_QUOTA = "data_cpu_quota", Int, DefaultValue::Int(0), [Data], false,
        "CPUQuota of the data service's unit, in percent of one core; 0: no limit.";
    DATA_MEMORY_LIMIT = "data_memory_limit", Int, DefaultValue::Int(0), [Data], false,
        "MemoryMax of the data service's unit, in MiB; 0: no limit.";
    COMPUTE_CPU_QUOTA = "compute_cpu_quota", Int, DefaultValue::Int(0), [Compute], false,
        "CPUQuota of the compute service's unit, in percent of one core; 0: no limit.";
    COMPUTE_MEMORY_LIMIT = "compute_memory_limit", Int, DefaultValue::Int(0), [Compute], false,
        "MemoryMax of the compute service's unit, in MiB; 0: no limit.";
}

/// The variable called `name`.
pub fn get(name: &str) -> Option<&'static Variable> {
    ALL.iter().copied().find(|v| v.name == name)
}

/// `enable_deploy_<group>`.
pub fn switch(group: Group) -> &'static Variable {
    match group {
        Group::Consul => ENABLE_DEPLOY_CONSUL,
        Group::IceVia => ENABLE_DEPLOY_ICE_VIA,
        Group::Carrier => ENABLE_DEPLOY_CARRIER,
        Group::Admin => ENABLE_DEPLOY_ADMIN,
        Group::Data => ENABLE_DEPLOY_DATA,
        Group::Compute => ENABLE_DEPLOY_COMPUTE,
    }
}

/// `<group>_cpu_quota` and `<group>_memory_limit`.
pub fn resources(group: Group) -> (&'static Variable, &'static Variable) {
    match group {
        Group::Consul => (CONSUL_CPU_QUOTA, CONSUL_MEMORY_LIMIT),
        Group::IceVia => (ICE_VIA_CPU_QUOTA, ICE_VIA_MEMORY_LIMIT),
        Group::Carrier => (CARRIER_CPU_QUOTA, CARRIER_MEMORY_LIMIT),
        Group::Admin => (ADMIN_CPU_QUOTA, ADMIN_MEMORY_LIMIT),
        Group::Data => (DATA_CPU_QUOTA, DATA_MEMORY_LIMIT),
        Group::Compute => (COMPUTE_CPU_QUOTA, COMPUTE_MEMORY_LIMIT),
    }
}

/// Prefixes of our variables: an unknown variable starting with one is most likely a mistake.
pub const PREFIXES: &[&str] = &[
    "consul_",
    "carrier_",
    "admin_",
    "ice_",
    "data_",
    "compute_",
    "fighter_",
    "storage_",
    "mysql_",
    "pinata_",
    "latticex_",
];

/// Levenshtein distance of `a` and `b`, or `None` when it exceeds `max`.
fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        if cur.iter().min().is_some_and(|m| *m > max) {
            return None;
        }
        prev = cur;
    }
    prev.last().copied().filter(|d| *d <= max)
}

/// The known variable closest to `name` within distance 2 (ties: the first in [`ALL`]).
pub fn suggest(name: &str) -> Option<&'static Variable> {
    ALL.iter()
        .filter_map(|v| distance(name, v.name, 2).map(|d| (d, *v)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// A warning for every variable of the inventory (group or host variable, each name once) that
/// metis-deploy does not read but that looks like one of its own: within edit distance 2 of a
/// known name, or starting with a known prefix. Ansible's own (`ansible_*`) and the
/// `enable_deploy_*` switches (checked on their own) are left alone.
pub fn check_unknown(inv: &Inventory) -> Vec<Diagnostic> {
    let group_vars = inv.groups.values().flat_map(|g| g.vars.iter());
    let host_vars = inv.hosts.values().flat_map(|h| h.vars.iter());
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for (name, var) in group_vars.chain(host_vars) {
        if !seen.insert(name.as_str())
            || get(name).is_some()
            || name.starts_with("ansible_")
            || name.starts_with("enable_deploy_")
        {
            continue;
        }
        if let Some(d) = unknown(name, var.span.as_ref()) {
            out.push(d);
        }
    }
    out
}

fn unknown(name: &str, span: Option<&Span>) -> Option<Diagnostic> {
    if let Some(v) = suggest(name) {
        return Some(
            Diagnostic::warning(
                Code::UnknownVariable,
                format!("unknown variable `{name}`: did you mean `{}`?", v.name),
            )
            .at(span)
            .hint(format!(
                "metis-deploy reads `{}` ({}); nothing reads `{name}`",
                v.name,
                v.doc.trim_end_matches('.')
            )),
        );
    }
    let prefix = PREFIXES.iter().find(|p| name.starts_with(**p))?;
    let known: Vec<&str> = ALL
        .iter()
        .filter(|v| v.name.starts_with(prefix))
        .map(|v| v.name)
        .collect();
    Some(
        Diagnostic::warning(
            Code::UnknownVariable,
            format!("unknown variable `{name}`: metis-deploy reads no such `{prefix}` variable"),
        )
        .at(span)
        .hint(format!(
            "the `{prefix}` variables are: {}; remove `{name}` or fix its name",
            known.join(", ")
        )),
    )
}

/// The README's variable reference: a Markdown table of [`ALL`].
pub fn markdown() -> String {
    let mut out = String::from(
        "| variable | type | default | groups | secret | meaning |\n|---|---|---|---|---|---|\n",
    );
    for v in ALL {
        let kind = match v.kind {
            Kind::Choice(c) => c.join(" \\| "),
            k => k.name().to_owned(),
        };
        let default = match v.default {
            DefaultValue::None => String::new(),
            DefaultValue::Required => "required".to_owned(),
            DefaultValue::Computed(how) => how.to_owned(),
            d => format!("`{}`", d.text().unwrap_or_default()),
        };
        let groups = if v.groups.is_empty() {
            "all".to_owned()
        } else {
            v.groups
                .iter()
                .map(|g| g.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {kind} | {default} | {groups} | {} | {} |",
            v.name,
            if v.secret { "yes" } else { "" },
            v.doc
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_secrets_follow_the_naming_rule() {
        let mut names = HashSet::new();
        for v in ALL {
            assert!(names.insert(v.name), "{} twice", v.name);
            assert_eq!(
                v.secret,
                crate::secrets::is_secret_name(v.name),
                "{}",
                v.name
            );
            assert!(!v.doc.is_empty() && v.doc.ends_with('.'), "{}", v.name);
        }
        for g in Group::ALL {
            assert_eq!(switch(g).name, format!("enable_deploy_{}", g.name()));
            let (cpu, mem) = resources(g);
            assert_eq!(cpu.name, format!("{g}_cpu_quota"));
            assert_eq!(mem.name, format!("{g}_memory_limit"));
        }
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("consul_http_port", "consul_http_port", 2), Some(0));
        assert_eq!(distance("consul_htp_port", "consul_http_port", 2), Some(1));
        assert_eq!(distance("consul_http_prot", "consul_http_port", 2), Some(2));
        assert_eq!(distance("abc", "xyz", 2), None);
        assert_eq!(distance("a", "abcd", 2), None);
        assert_eq!(
            suggest("carrier_rpc_prt").map(|v| v.name),
            Some("carrier_rpc_port")
        );
        assert_eq!(suggest("deploydir").map(|v| v.name), Some("deploy_dir"));
        assert_eq!(suggest("totally_different"), None);
    }

    #[test]
    fn unknown_names_close_or_prefixed_warn() {
        let d = unknown("admin_pasword", None).expect("warning");
        assert_eq!(d.code, Code::UnknownVariable);
        assert!(
            d.message.contains("did you mean `admin_password`"),
            "{}",
            d.message
        );
        let d = unknown("carrier_colour", None).expect("warning");
        assert!(
            d.message.contains("no such `carrier_` variable"),
            "{}",
            d.message
        );
        assert!(d
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("carrier_rpc_port")));
        assert!(unknown("my_own_setting", None).is_none());
    }
}
