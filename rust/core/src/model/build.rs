//! Inventory -> Organization, collecting every problem on the way.

use super::variables::{self as var, Variable};
use super::vars::{is_template, Vars};
use super::*;
use crate::diag::{Code, Diagnostic};
use crate::inventory::Inventory;

/// Builds the organisation from an inventory. Returns it only when there is no error; the
/// diagnostics (errors and warnings, all of them, not just the first) are always returned,
/// in reading order.
pub fn build(inv: &Inventory) -> (Option<Organization>, Vec<Diagnostic>) {
    let mut vars = Vars::new(inv);
    let org = read_organization(&mut vars);
    if let Some(org) = &org {
        check_ports(inv, org, &mut vars.diags);
    }
    let mut diags = vars.diags;
    diags.extend(crate::validate::inventory_checks(inv));
    diags.extend(super::variables::check_unknown(inv));
    crate::diag::sort(&mut diags);
    // The same finding once: JSON input repeats group variables in every host's hostvars.
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.code, d.message.clone(), d.span.clone())));
    let org = if diags.iter().any(Diagnostic::is_error) {
        None
    } else {
        org
    };
    (org, diags)
}

/// The hosts of each group, as Ansible's `groups[...]` lists them.
struct Topology<'a> {
    hosts: BTreeMap<Group, Vec<&'a str>>,
    enabled: BTreeMap<Group, bool>,
}

impl<'a> Topology<'a> {
    fn hosts(&self, g: Group) -> &[&'a str] {
        self.hosts.get(&g).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Hosts whose view of a setting counts: the given groups' hosts, then the first host of
    /// every group (settings live in `[all:vars]` or group vars; scanning every host of a large
    /// organisation for an unset variable would cost more than it finds).
    fn scope(&self, groups: &[Group]) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = groups
            .iter()
            .flat_map(|g| self.hosts(*g).iter().copied())
            .collect();
        out.extend(
            Group::ALL
                .iter()
                .filter_map(|g| self.hosts(*g).first().copied()),
        );
        out
    }
}

/// Groups every organisation needs, enabled or not (the others find consul, the carrier and
/// the admin through them).
const ALWAYS_NEEDED: [Group; 3] = [Group::Consul, Group::Carrier, Group::Admin];

fn read_topology<'a>(v: &mut Vars<'a>) -> Topology<'a> {
    let inv = v.inv;
    let mut topo = Topology {
        hosts: BTreeMap::new(),
        enabled: BTreeMap::new(),
    };
    for g in Group::ALL {
        topo.hosts.insert(g, inv.group_hosts(g.name()));
    }
    let everyone = topo.scope(&[]);
    for g in Group::ALL {
        let present = !topo.hosts(g).is_empty();
        let on = v.bool(&everyone, g.enable_var(), present, Code::InvalidSwitch);
        topo.enabled.insert(g, on);
    }
    check_unknown_switches(v);
    for g in Group::ALL {
        check_group_count(v, g, topo.hosts(g), topo.enabled[&g]);
        check_duplicate_hosts(v, g);
    }
    if (topo.enabled[&Group::Data] || topo.enabled[&Group::Compute])
        && !topo.enabled[&Group::IceVia]
    {
        v.push(
            Diagnostic::warning(
                Code::MissingGroup,
                "data/compute nodes are deployed without ice_via: they cannot take part in computing",
            )
            .hint("add an [ice_via] host and `enable_deploy_ice_via = True`"),
        );
    }
    topo
}

fn check_unknown_switches(v: &mut Vars<'_>) {
    let inv = v.inv;
    let known: Vec<&str> = Group::ALL.iter().map(|g| g.enable_var()).collect();
    let all_vars = inv
        .groups
        .values()
        .flat_map(|g| g.vars.iter())
        .chain(inv.hosts.values().flat_map(|h| h.vars.iter()));
    let mut seen = std::collections::HashSet::new();
    for (k, var) in all_vars {
        if k.starts_with("enable_deploy_")
            && !known.contains(&k.as_str())
            && seen.insert(k.as_str())
        {
            v.push(
                Diagnostic::warning(
                    Code::InvalidSwitch,
                    format!("unknown switch `{k}`: nothing reads it"),
                )
                .at(var.span.as_ref())
                .hint(format!("the switches are {}", known.join(", "))),
            );
        }
    }
}

fn check_group_count(v: &mut Vars<'_>, g: Group, hosts: &[&str], enabled: bool) {
    let n = hosts.len();
    let span = v.group_span(g.name());
    if n == 0 {
        if enabled || ALWAYS_NEEDED.contains(&g) {
            let why = if enabled {
                format!("`{}` is True", g.enable_var())
            } else {
                "every organisation needs it: the other services find it through the inventory"
                    .into()
            };
            v.push(
                Diagnostic::error(
                    Code::MissingGroup,
                    format!("group `{g}` has no hosts ({why})"),
                )
                .at(span)
                .hint(format!("add a [{g}] section with the host that runs it")),
            );
        }
        return;
    }
    let problem = match g {
        // Not deployed here, consul's size is not ours to check; but whichever carrier and
        // ice_via the others are pointed at must be the only one.
        Group::Consul if enabled && n.is_multiple_of(2) => Some((
            "an odd number of hosts (1, 3, 5...): raft needs a majority",
            "add or remove one consul host",
        )),
        Group::Carrier | Group::IceVia if n != 1 => Some((
            "exactly one host per organisation",
            "keep one host in this group",
        )),
        _ => None,
    };
    if let Some((expected, hint)) = problem {
        v.push(
            Diagnostic::error(
                Code::GroupCount,
                format!(
                    "group `{g}` has {n} hosts ({}); it needs {expected}",
                    super::vars::list_names(hosts)
                ),
            )
            .at(span)
            .hint(hint),
        );
    }
    if g == Group::Admin && n > 1 {
        v.push(
            Diagnostic::warning(
                Code::MultipleAdmins,
                format!("group `admin` has {n} hosts; one is recommended"),
            )
            .at(span)
            .hint("each admin host runs its own MySQL; users see different data on each"),
        );
    }
}

fn check_duplicate_hosts(v: &mut Vars<'_>, g: Group) {
    let inv = v.inv;
    for host in inv.hosts.values() {
        let mut in_group = host.occurrences.iter().filter(|o| o.group == g.name());
        let Some(first) = in_group.next() else {
            continue;
        };
        for dup in in_group {
            let first_at = first
                .span
                .as_ref()
                .map(|s| format!(" (first at line {})", s.line))
                .unwrap_or_default();
            v.push(
                Diagnostic::error(Code::DuplicateHost, format!("host `{}` is listed twice in group `{g}`{first_at}", host.name))
                    .at(dup.span.as_ref())
                    .hint("Ansible merges the two into one host, so every later host gets the wrong entry of the per-host port lists; remove the duplicate line"),
            );
        }
    }
}

/// The host's address: `ansible_host` when set, else its inventory name.
fn host_ref(v: &mut Vars<'_>, name: &str) -> Option<HostRef> {
    let inv = v.inv;
    let (var, key) = match inv.host_var(name, "ansible_host") {
        Some(var) => (var.clone(), "ansible_host"),
        None => {
            let span = inv.hosts.get(name).and_then(|h| h.span.clone());
            (
                crate::inventory::Var {
                    value: crate::Value::Str(name.to_string()),
                    span,
                    raw: None,
                },
                "host",
            )
        }
    };
    if is_template(&var.value) {
        v.push(
            Diagnostic::error(
                Code::InvalidAddress,
                format!(
                    "address of host `{name}` is a template; it must be known before deploying"
                ),
            )
            .at(var.span.as_ref()),
        );
        return None;
    }
    match var
        .value
        .as_str()
        .and_then(|s| s.parse().ok())
        .filter(|ip| super::vars::is_host_address(*ip))
    {
        Some(ip) => Some(HostRef {
            name: name.to_string(),
            ip,
        }),
        None => {
            let msg = if key == "host" {
                format!(
                    "host `{name}` is not an IPv4 address; services bind to their host's address"
                )
            } else {
                format!("`ansible_host` of host `{name}` is not an IPv4 address")
            };
            v.push(
                Diagnostic::error(Code::InvalidAddress, msg)
                    .at(var.span.as_ref())
                    .hint(
                        "list hosts by IPv4 address, or set `ansible_host=<IPv4>` on the host line",
                    ),
            );
            None
        }
    }
}

fn read_organization(v: &mut Vars<'_>) -> Option<Organization> {
    let topo = read_topology(v);
    let mut refs: std::collections::HashMap<&str, Option<HostRef>> =
        std::collections::HashMap::new();
    for g in Group::ALL {
        for h in topo.hosts(g) {
            if !refs.contains_key(h) {
                let r = host_ref(v, h);
                refs.insert(h, r);
            }
        }
    }
    let host = |name: &str| refs.get(name).cloned().flatten();
    let everyone = topo.scope(&[]);

    // consul: per-host port lists indexed by position in the group.
    let consul_hosts = topo.hosts(Group::Consul);
    let scope = topo.scope(&[Group::Consul]);
    // In `ConsulPorts` field order.
    let consul_vars = [
        var::CONSUL_SERVER_PORT,
        var::CONSUL_SERF_LAN_PORT,
        var::CONSUL_SERF_WAN_PORT,
        var::CONSUL_HTTP_PORT,
        var::CONSUL_DNS_PORT,
    ];
    let lists = consul_vars.map(|key| {
        if consul_hosts.is_empty() {
            Vec::new()
        } else {
            v.port_list(&scope, Group::Consul.name(), consul_hosts, key.name, 1)
        }
    });
    let consul: Vec<ConsulNode> = consul_hosts
        .iter()
        .enumerate()
        .filter_map(|(index, h)| {
            let p = |k: usize| lists[k].get(index).copied().flatten();
            Some(ConsulNode {
                host: host(h)?,
                index,
                ports: ConsulPorts {
                    server: p(0)?,
                    serf_lan: p(1)?,
                    serf_wan: p(2)?,
                    http: p(3)?,
                    dns: p(4)?,
                },
            })
        })
        .collect();

    // Every port is read (and reported) before any missing one drops the node.
    let carrier = topo.hosts(Group::Carrier).first().and_then(|h| {
        let scope = topo.scope(&[Group::Carrier]);
        let pprof = v.port_of(&scope, var::CARRIER_PPROF_PORT, 1);
        let rpc = v.port_of(&scope, var::CARRIER_RPC_PORT, 1);
        let gateway = v.port_of(&scope, var::CARRIER_GRPC_GATEWAY_PORT, 1);
        let p2p_udp = v.port_of(&scope, var::CARRIER_P2P_UDP_PORT, 1);
        let p2p_tcp = v.port_of(&scope, var::CARRIER_P2P_TCP_PORT, 1);
        let external_ip = v.ipv4(
            &scope,
            var::CARRIER_EXTERNAL_IP.name,
            "the address other organisations reach the carrier at",
        );
        Some(CarrierNode {
            host: host(h)?,
            external_ip: external_ip?,
            ports: CarrierPorts {
                pprof: pprof?,
                rpc: rpc?,
                grpc_gateway: gateway?,
                p2p_udp: p2p_udp?,
                p2p_tcp: p2p_tcp?,
            },
        })
    });

    let ice_via = topo.hosts(Group::IceVia).first().and_then(|h| {
        let scope = topo.scope(&[Group::IceVia]);
        let glacier2_port = v.port_of(&scope, var::ICE_GLACIER2_PORT, 1);
        let grid_port = v.port_of(&scope, var::ICE_GRID_PORT, 1);
        let protocol = read_ice_protocol(v, &scope);
        let ssl_sources = if protocol == IceProtocol::Ssl {
            let deploy_dir = v.text(&topo.scope(&[]), var::DEPLOY_DIR);
            let certs_dir = crate::services::layout::ice_certs_dir(&deploy_dir);
            read_ice_ssl_sources(v, &scope, &certs_dir)
        } else {
            None
        };
        let external_ip = v.ipv4(
            &scope,
            var::ICE_VIA_EXTERNAL_IP.name,
            "the address fighters and other organisations reach Glacier2 at",
        );
        Some(IceViaNode {
            host: host(h)?,
            external_ip: external_ip?,
            glacier2_port: glacier2_port?,
            grid_port: grid_port?,
            protocol,
            ssl_sources,
        })
    });

    let admin_scope = topo.scope(&[Group::Admin]);
    let web_port = v.port_of(&admin_scope, var::ADMIN_WEB_PORT, 1);
    let grpc_port = v.port_of(&admin_scope, var::ADMIN_GRPC_SERVER_PORT, 1);
    let admin: Vec<AdminNode> = topo
        .hosts(Group::Admin)
        .iter()
        .filter_map(|h| {
            Some(AdminNode {
                host: host(h)?,
                web_port: web_port?,
                grpc_port: grpc_port?,
            })
        })
        .collect();

    let mut fighters = |group: Group, kind: FighterKind, key: &Variable| -> Vec<FighterNode> {
        let hosts = topo.hosts(group);
        if hosts.is_empty() || !topo.enabled[&group] {
            // A disabled fighter group is not deployed here; its ports are not needed.
            return Vec::new();
        }
        let scope = topo.scope(&[group]);
        let ports = v.port_list(
            &scope,
            group.name(),
            hosts,
            key.name,
            defaults::FIGHTER_MIN_PORT,
        );
        hosts
            .iter()
            .enumerate()
            .filter_map(|(index, h)| {
                Some(FighterNode {
                    host: host(h)?,
                    kind,
                    index,
                    port: ports.get(index).copied().flatten()?,
                })
            })
            .collect()
    };
    let data = fighters(Group::Data, FighterKind::Data, var::DATA_PORT);
    let compute = fighters(Group::Compute, FighterKind::Compute, var::COMPUTE_PORT);

    let settings = read_settings(v, &topo);
    check_unquotable(v, &everyone, &topo.scope(&[Group::Admin]));
    let cluster_name = v.text(&everyone, var::CLUSTER_NAME);
    Some(Organization {
        cluster_name,
        enabled: topo.enabled.clone(),
        settings,
        consul,
        ice_via,
        carrier,
        admin,
        data,
        compute,
    })
}

fn read_ice_protocol(v: &mut Vars<'_>, scope: &[&str]) -> IceProtocol {
    let key = var::ICE_PROTOCOL.name;
    let Some(var) = v.lookup(scope, key) else {
        return IceProtocol::Tcp;
    };
    match var.value.as_str() {
        Some("tcp") => IceProtocol::Tcp,
        Some("ssl") => IceProtocol::Ssl,
        _ => {
            v.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "`{key}` must be tcp or ssl, found {}",
                        super::vars::describe(&var.value)
                    ),
                )
                .at(var.span.as_ref())
                .hint(format!("write `{key} = tcp` (default) or `{key} = ssl`")),
            );
            IceProtocol::Tcp
        }
    }
}

fn read_settings(v: &mut Vars<'_>, topo: &Topology<'_>) -> Settings {
    let everyone = topo.scope(&[]);
    let admin_scope = topo.scope(&[Group::Admin]);
    let carrier_scope = topo.scope(&[Group::Carrier]);
    let fighter_scope = topo.scope(&[Group::Data, Group::Compute]);

    let deploy_dir = v.text(&everyone, var::DEPLOY_DIR);
    if let Some(problem) = deploy_dir_problem(&deploy_dir) {
        let key = var::DEPLOY_DIR.name;
        v.push_at(
            &everyone,
            key,
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{key}` must be {problem}, found '{deploy_dir}'"),
            )
            .hint(format!("for example `{key} = {}`", defaults::DEPLOY_DIR)),
        );
    }
    let service_user = v.text(&everyone, var::SERVICE_USER);
    let valid_user = !service_user.is_empty()
        && service_user.len() <= 32
        && service_user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !service_user.starts_with('-');
    if !valid_user || service_user == "root" {
        v.push_at(
            &everyone,
            var::SERVICE_USER.name,
            Diagnostic::error(
                Code::InvalidValue,
                format!("`service_user` must be an unprivileged user name, found '{service_user}'"),
            )
            .hint(format!(
                "lowercase letters, digits, '_' and '-', not root; default `{}`",
                defaults::SERVICE_USER
            )),
        );
    }
    let service_manager = match v.string(&everyone, var::SERVICE_MANAGER.name).as_deref() {
        None | Some("auto") => ServiceManager::Auto,
        Some("systemd") => ServiceManager::Systemd,
        Some("process") => ServiceManager::Process,
        Some(other) => {
            v.push_at(
                &everyone,
                var::SERVICE_MANAGER.name,
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`service_manager` must be auto, systemd or process, found '{other}'"),
                ),
            );
            ServiceManager::Auto
        }
    };

    let admin_on = topo.enabled[&Group::Admin];
    let need = |v: &mut Vars<'_>, key: &Variable, why: &str| {
        if admin_on {
            v.required_string(&admin_scope, key.name, why)
        } else {
            v.string(&admin_scope, key.name).unwrap_or_default()
        }
    };
    let mysql_root_password = Secret::new(need(
        v,
        var::MYSQL_ROOT_PASSWORD,
        "MySQL's root password on the admin host",
    ));
    let db_password = Secret::new(need(v, var::ADMIN_PASSWORD, "the admin's MySQL password"));
    let db_user = v
        .string(&admin_scope, var::ADMIN_USER.name)
        .or_else(|| v.string(&admin_scope, var::AMIN_USER.name))
        .unwrap_or_else(|| var::ADMIN_USER.default_text().to_string());
    let tls_on = v.bool(
        &admin_scope,
        var::ENABLE_TLS.name,
        var::ENABLE_TLS.default_bool(),
        Code::InvalidValue,
    );
    let tls = tls_on.then(|| read_tls(v, &admin_scope, &deploy_dir));

    let chain = ChainSettings {
        rpc_url: v.text(&carrier_scope, var::RPC_URL),
        hrp: v.text(&carrier_scope, var::HRP),
        document_contract: v.text(&carrier_scope, var::DOCUMENT_CONTRACT_ADDRESS),
        pct_contract: v.text(&carrier_scope, var::PCT_CONTRACT_ADDRESS),
        credential_contract: v.text(&carrier_scope, var::CREDENTIAL_CONTRACT_ADDRESS),
        proposal_contract: v.text(&carrier_scope, var::PROPOSAL_CONTRACT_ADDRESS),
        pay_agent_contract: v.text(&carrier_scope, var::PAY_AGENT_CONTRACT_ADDRESS),
        bootstrap_nodes: match v
            .lookup(&carrier_scope, var::BOOTSTRAP_NODES.name)
            .map(|x| &x.value)
        {
            Some(crate::Value::List(items)) => {
                items.iter().map(crate::Value::to_python_str).collect()
            }
            Some(crate::Value::Str(s)) if !s.is_empty() => {
                s.split(',').map(|x| x.trim().to_string()).collect()
            }
            _ => Vec::new(),
        },
    };

    let storage = read_storage(v, &carrier_scope, topo.enabled[&Group::Carrier]);

    let mut resources = BTreeMap::new();
    for g in Group::ALL {
        let scope = topo.scope(&[g]);
        let (cpu_var, mem_var) = var::resources(g);
        let cpu = v.non_negative(&scope, cpu_var.name, "percent of one core");
        let mem = v.non_negative(&scope, mem_var.name, "MiB");
        resources.insert(
            g,
            Resources {
                cpu_quota_percent: cpu.map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX)),
                memory_limit_mib: mem.unwrap_or(0),
            },
        );
    }

    Settings {
        carrier_verbosity: verbosity_level(v, &carrier_scope),
        deploy_dir,
        service_user,
        service_manager,
        admin: AdminSettings {
            mysql_root_password,
            db_user,
            db_password,
            pinata_token: Secret::new(v.text(&admin_scope, var::PINATA_TOKEN)),
            pinata_gateway: v.text(&admin_scope, var::PINATA_GATEWAY),
            pinata_url: v.text(&admin_scope, var::PINATA_URL),
            jvm_opts: v.text(&admin_scope, var::ADMIN_JVM_OPTS),
            tls,
        },
        chain,
        storage,
        fighter: FighterSettings {
            latticex_rosetta: v.text(&fighter_scope, var::LATTICEX_ROSETTA),
            latticex_psi: v.text(&fighter_scope, var::LATTICEX_PSI),
            fighter_dcv: v.text(&fighter_scope, var::FIGHTER_DCV),
            channel_sdk: v.text(&fighter_scope, var::CHANNEL_SDK),
            python_proxy: v.text(&fighter_scope, var::PYTHON_PROXY),
            python: v
                .string(&fighter_scope, var::FIGHTER_PYTHON.name)
                .filter(|p| !p.trim().is_empty()),
            base_python: v.text(&fighter_scope, var::FIGHTER_BASE_PYTHON),
        },
        resources,
        operations: read_operations(v, &everyone, &carrier_scope),
    }
}

fn read_operations(v: &mut Vars<'_>, everyone: &[&str], carrier_scope: &[&str]) -> Operations {
    let start_timeout = v.non_negative(everyone, var::START_TIMEOUT.name, "seconds");
    if start_timeout == Some(0) {
        v.push_at(
            everyone,
            var::START_TIMEOUT.name,
            Diagnostic::error(
                Code::InvalidValue,
                "`start_timeout` must be at least 1 second",
            )
            .hint(format!(
                "default `{} = {}`",
                var::START_TIMEOUT.name,
                defaults::START_TIMEOUT_SECS
            )),
        );
    }
    Operations {
        apt_update_cache: v.bool(
            everyone,
            var::APT_UPDATE_CACHE.name,
            var::APT_UPDATE_CACHE.default_bool(),
            Code::InvalidValue,
        ),
        start_timeout_secs: start_timeout.map_or(defaults::START_TIMEOUT_SECS, |t| {
            u32::try_from(t).unwrap_or(u32::MAX)
        }),
        min_free_mb: v
            .non_negative(everyone, var::MIN_FREE_MB.name, "MiB")
            .unwrap_or(defaults::MIN_FREE_MB),
        regenerate_p2p_key: v.bool(
            carrier_scope,
            var::REGENERATE_P2P_KEY.name,
            false,
            Code::InvalidValue,
        ),
        state_dir: v
            .string(everyone, var::STATE_DIR.name)
            .filter(|s| !s.trim().is_empty()),
    }
}

fn read_tls(v: &mut Vars<'_>, scope: &[&str], deploy_dir: &str) -> TlsSettings {
    let get = |v: &mut Vars<'_>, key: &Variable| {
        v.string(scope, key.name).filter(|s| !s.trim().is_empty())
    };
    let server_name = get(v, var::ADMIN_SERVER_NAME);
    let cert_file = get(v, var::ADMIN_SSL_CERTIFICATE);
    let key_file = get(v, var::ADMIN_SSL_CERTIFICATE_KEY);
    let cert_src = get(v, var::ADMIN_SSL_CERTIFICATE_SRC);
    let key_src = get(v, var::ADMIN_SSL_CERTIFICATE_KEY_SRC);
    let mut missing = Vec::new();
    if server_name.is_none() {
        missing.push(var::ADMIN_SERVER_NAME.name);
    }
    // Each of certificate and key: a controller file pushed by deploy, or a path on the host.
    for (host, src, src_var) in [
        (&cert_file, &cert_src, var::ADMIN_SSL_CERTIFICATE_SRC),
        (&key_file, &key_src, var::ADMIN_SSL_CERTIFICATE_KEY_SRC),
    ] {
        if host.is_none() && src.is_none() {
            missing.push(src_var.name);
        }
    }
    if !missing.is_empty() {
        v.push_at(
            scope,
            var::ENABLE_TLS.name,
            Diagnostic::error(Code::TlsSettings, format!("`enable_tls` is True but {} {} not set", missing.join(", "), if missing.len() == 1 { "is" } else { "are" }))
                .hint("set admin_server_name, and admin_ssl_certificate_src and admin_ssl_certificate_key_src (PEM files on the controller, which deploy pushes to the admin host), or admin_ssl_certificate and admin_ssl_certificate_key (files already on the admin host); or `enable_tls = False`"),
        );
    }
    if cert_src.is_some() != key_src.is_some() {
        let (set, unset) = if cert_src.is_some() {
            (
                var::ADMIN_SSL_CERTIFICATE_SRC.name,
                var::ADMIN_SSL_CERTIFICATE_KEY_SRC.name,
            )
        } else {
            (
                var::ADMIN_SSL_CERTIFICATE_KEY_SRC.name,
                var::ADMIN_SSL_CERTIFICATE_SRC.name,
            )
        };
        v.push_at(
            scope,
            set,
            Diagnostic::error(Code::TlsSettings, format!("`{set}` is set but `{unset}` is not: deploy pushes the certificate and its key together"))
                .hint(format!("set `{unset}` too (a PEM file on the controller), or remove `{set}` and put both files on the admin host")),
        );
    }
    let sources = cert_src.zip(key_src);
    let cert_file = cert_file.unwrap_or_else(|| {
        if sources.is_some() {
            crate::services::layout::default_admin_cert(deploy_dir)
        } else {
            String::new()
        }
    });
    let key_file = key_file.unwrap_or_else(|| {
        if sources.is_some() {
            crate::services::layout::default_admin_key(deploy_dir)
        } else {
            String::new()
        }
    });
    TlsSettings {
        server_name: server_name.unwrap_or_default(),
        protocols: v.text(scope, var::ADMIN_SSL_PROTOCOLS),
        ciphers: v.text(scope, var::ADMIN_SSL_CIPHERS),
        cert_file,
        key_file,
        sources,
    }
}

/// With `ice_protocol = ssl`: the controller's PEM files deploy pushes into ice_via/certs. All
/// three or none (a warning: then they must be put there by hand, as upstream's role did).
fn read_ice_ssl_sources(
    v: &mut Vars<'_>,
    scope: &[&str],
    certs_dir: &str,
) -> Option<IceSslSources> {
    let vars = [
        var::ICE_SSL_CA_SRC,
        var::ICE_SSL_CERT_SRC,
        var::ICE_SSL_KEY_SRC,
    ];
    let got: Vec<Option<String>> = vars
        .iter()
        .map(|x| v.string(scope, x.name).filter(|s| !s.trim().is_empty()))
        .collect();
    let unset: Vec<&str> = vars
        .iter()
        .zip(&got)
        .filter(|(_, g)| g.is_none())
        .map(|(x, _)| x.name)
        .collect();
    if unset.len() == vars.len() {
        v.push_at(
            scope,
            var::ICE_PROTOCOL.name,
            Diagnostic::warning(
                Code::TlsSettings,
                format!("`ice_protocol` is ssl but ice_ssl_ca_src, ice_ssl_cert_src and ice_ssl_key_src are not set: Glacier2 only starts once {certs_dir} holds {}, {} and {}", defaults::ICE_SSL_CA_FILE, defaults::ICE_SSL_CERT_FILE, defaults::ICE_SSL_KEY_FILE),
            )
            .hint("set ice_ssl_ca_src, ice_ssl_cert_src and ice_ssl_key_src (PEM files on the controller, which deploy pushes to the ice_via host), or put the files there by hand"),
        );
        return None;
    }
    if !unset.is_empty() {
        let set = vars
            .iter()
            .zip(&got)
            .find(|(_, g)| g.is_some())
            .map_or("", |(x, _)| x.name);
        v.push_at(
            scope,
            set,
            Diagnostic::error(
                Code::TlsSettings,
                format!("`ice_protocol` is ssl and `{set}` is set, but {} {} not", unset.join(", "), if unset.len() == 1 { "is" } else { "are" }),
            )
            .hint("set ice_ssl_ca_src, ice_ssl_cert_src and ice_ssl_key_src together (PEM files on the controller)"),
        );
        return None;
    }
    let mut it = got.into_iter().flatten();
    Some(IceSslSources {
        ca: it.next()?,
        cert: it.next()?,
        key: it.next()?,
    })
}

fn read_storage(v: &mut Vars<'_>, scope: &[&str], carrier_on: bool) -> Option<StorageAddr> {
    let (ip_key, port_key) = (var::STORAGE_IP.name, var::STORAGE_PORT.name);
    let ip_var = v.lookup(scope, ip_key);
    let port_var = v.lookup(scope, port_key);
    match (ip_var, port_var) {
        (Some(ip), Some(port)) => {
            let ip = v.ipv4_value(ip_key, ip);
            let port = v.port_value(port_key, port, 1);
            Some(StorageAddr {
                ip: ip?,
                port: port?,
            })
        }
        (None, None) => {
            if carrier_on {
                v.push(
                    Diagnostic::warning(Code::MissingVariable, format!("`storage_ip` and `storage_port` are not set: consul key {} will not be written and the carrier exits at start-up without it", defaults::KV_DATA_CENTER))
                        .hint("set `storage_ip` and `storage_port` (the data centre's address), or write the key into consul yourself"),
                );
            }
            None
        }
        (Some(set), None) | (None, Some(set)) => {
            v.push(
                Diagnostic::error(
                    Code::MissingVariable,
                    "`storage_ip` and `storage_port` must be set together",
                )
                .at(set.span.as_ref()),
            );
            None
        }
    }
}

/// One (host, port) table over every service: a conflict names both services and the host.
fn check_ports(inv: &Inventory, org: &Organization, diags: &mut Vec<Diagnostic>) {
    for (a, b) in org.port_conflicts() {
        let span = [b.variable, a.variable]
            .into_iter()
            .flatten()
            .find_map(|var| {
                inv.host_var(&b.host.name, var)
                    .or_else(|| inv.host_var(&a.host.name, var))
            })
            .and_then(|v| v.span.clone());
        let both_implicit = a.variable.is_none() && b.variable.is_none();
        let hint = if both_implicit {
            "move one of the two services to another host".to_string()
        } else {
            let vars: Vec<&str> = [a.variable, b.variable].into_iter().flatten().collect();
            format!(
                "change {} or move one service to another host",
                vars.join(" or ")
            )
        };
        diags.push(
            Diagnostic::error(
                Code::PortConflict,
                format!(
                    "port conflict on host {}: {} and {}",
                    a.host.name,
                    a.describe(),
                    b.describe()
                ),
            )
            .at(span.as_ref())
            .hint(hint),
        );
    }
}

/// The carrier's log level: 0 (silent) .. 5 (trace); unset (or a template) means the default.
fn verbosity_level(v: &mut Vars<'_>, scope: &[&str]) -> u8 {
    let key = var::CARRIER_VERBOSITY.name;
    let Some(level) = v.non_negative(scope, key, "log level 0..5") else {
        return defaults::CARRIER_VERBOSITY;
    };
    match u8::try_from(level) {
        Ok(l) if l <= 5 => l,
        _ => {
            let d = Diagnostic::error(
                Code::InvalidValue,
                format!("`{key}` must be 0..5, found {level}"),
            )
            .hint("0 silent, 1 error, 2 warn, 3 info (default), 4 debug, 5 trace");
            v.push_at(scope, key, d);
            defaults::CARRIER_VERBOSITY
        }
    }
}

/// Values that end up where no quoting can protect them: paths and names in the nginx site
/// (nginx expands `$`), and values in the admin's Spring config (Spring expands `${...}`).
fn check_unquotable(v: &mut Vars<'_>, everyone: &[&str], admin: &[&str]) {
    let path = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    };
    let host_name = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_*".contains(c))
    };
    let spring = |s: &str| !s.contains("${");
    // nginx expands `$` even in quotes; `;`, braces and line breaks end or open a directive.
    let nginx = |s: &str| !s.chars().any(|c| "${};".contains(c) || c.is_control());
    const SPRING: &str = "free of `${`, which Spring would expand as a placeholder";
    type Rule<'r> = (&'r str, &'r [&'r str], &'r dyn Fn(&str) -> bool, &'r str);
    let mut rules: Vec<Rule<'_>> = vec![
        (
            var::DEPLOY_DIR.name,
            everyone,
            &path,
            "letters, digits and / . _ - only (it is written into unit files and the nginx site)",
        ),
        (
            var::ADMIN_SERVER_NAME.name,
            admin,
            &host_name,
            "a host name: letters, digits and . - _ * only",
        ),
    ];
    for key in [
        var::ADMIN_SSL_CERTIFICATE,
        var::ADMIN_SSL_CERTIFICATE_KEY,
        var::ADMIN_SSL_PROTOCOLS,
        var::ADMIN_SSL_CIPHERS,
    ] {
        rules.push((
            key.name,
            admin,
            &nginx,
            "free of `$`, `;`, `{`, `}` and line breaks (it is written into the nginx site, where nginx would expand or end it)",
        ));
    }
    for key in [
        var::ADMIN_PASSWORD,
        var::ADMIN_USER,
        var::AMIN_USER,
        var::PINATA_TOKEN,
        var::PINATA_GATEWAY,
        var::PINATA_URL,
    ] {
        rules.push((key.name, admin, &spring, SPRING));
    }
    for (key, scope, ok, expected) in rules {
        let Some(var) = v.lookup(scope, key) else {
            continue;
        };
        if is_template(&var.value) || ok(&var.value.to_python_str()) {
            continue;
        }
        // Never quote a secret's value back.
        let shown = if crate::secrets::is_secret_name(key) {
            String::new()
        } else {
            format!(
                " ({})",
                crate::secrets::quote_text(&var.value.to_python_str())
            )
        };
        let d = Diagnostic::error(
            Code::InvalidValue,
            format!("`{key}`{shown} must be {expected}"),
        )
        .at(var.span.as_ref());
        v.push(d);
    }
}

/// System directories: everything below `deploy_dir` is handed to the service user, so it must
/// never be one of these or lie inside one.
const SYSTEM_DIRS: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin",
    "/sys", "/usr",
];

/// What is wrong with a `deploy_dir`, if anything. Checked as the system resolves it: `//etc`,
/// `/./usr/lib` and `/etc/.` are system directories too.
fn deploy_dir_problem(dir: &str) -> Option<&'static str> {
    if !dir.starts_with('/') {
        return Some("an absolute path");
    }
    let parts: Vec<&str> = dir
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let normal = format!("/{}", parts.join("/"));
    let dir = normal.trim_end_matches('/');
    let inside = |sys: &&str| dir == *sys || dir.starts_with(&format!("{sys}/"));
    if dir.is_empty() || dir.split('/').any(|c| c == "..") || SYSTEM_DIRS.iter().any(inside) {
        return Some("a directory of its own, not / or a system directory (its files are handed to the service user)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::deploy_dir_problem;

    #[test]
    fn deploy_dir_must_be_a_directory_of_its_own() {
        for ok in [
            "/opt/metis",
            "/srv/metis/",
            "/home/deployer/metis",
            "/var/lib/metis",
        ] {
            assert_eq!(deploy_dir_problem(ok), None, "{ok}");
        }
        for bad in [
            "/",
            "//",
            "/./",
            "opt/metis",
            "/etc",
            "/etc/metis",
            "/usr/local/metis",
            "/opt/../etc",
            "//etc",
            "/./usr/lib",
            "/etc/.",
            "/etc/./",
            "/usr//lib",
        ] {
            assert!(deploy_dir_problem(bad).is_some(), "{bad}");
        }
    }
}
