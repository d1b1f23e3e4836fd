//! The host plan: everything a host's roles need, from the services' descriptions — its
//! services in start order with their units, commands, directories, files, packages,
//! artifacts, ports to wait for, health checks, consul KV entries and registrations, and the
//! secrets made once on the host. The roles apply it; they never re-derive a fact.
//!
//! The JSON form (serde) is the contract of SPEC §3: `metis-deploy plan --format json`,
//! `metis_deploy.host_plan()`, and the `metis_plan` fact of the `metis.node.host_plan` action.

use crate::health::instance_checks;
use crate::model::{defaults, HostRef, Organization, ServiceManager};
use crate::render::{self, Layout};
use crate::services::layout::ROOT;
use crate::services::{self, ArtifactKind, Dir, Instance, Unit, Word};
use indexmap::IndexMap;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt::Write;

/// A file mode, serialised as a 4-digit octal string ("0750").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode(pub u32);

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:04o}", self.0))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostPlan {
    /// The inventory host name.
    pub host: String,
    /// The address its services bind to ("" for a host that runs no service).
    pub ip: String,
    pub cluster_name: String,
    pub deploy_dir: String,
    pub service_user: String,
    pub service_group: String,
    /// `auto`, `systemd` or `process`.
    pub service_manager: &'static str,
    /// The union of the services' packages (Debian family), in order, each once.
    pub packages: Vec<String>,
    /// The union of the services' directories, parents first, each once.
    pub directories: Vec<DirPlan>,
    /// The host's services of enabled groups, in start order.
    pub services: Vec<ServicePlan>,
    /// How the playbooks operate here (not what runs).
    pub options: OptionsPlan,
}

/// What the playbooks need beyond the services: settings of the operations and the controller's
/// directories of the organisation (known once [`HostPlan::locate`] was given the inventory's
/// directory).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OptionsPlan {
    pub apt_update_cache: bool,
    pub start_timeout: u32,
    pub min_free_mb: u64,
    pub regenerate_p2p_key: bool,
    /// The controller's directory of the organisation (`state_dir`, by default
    /// `<inventory dir>/.metis-deploy/<cluster_name>`).
    pub state_dir: Option<String>,
    /// Verified bundles, one directory per version (`<state_dir>/bundles`).
    pub bundle_root: Option<String>,
    /// The bundle deploys use (`<bundle_root>/current`).
    pub bundle_dir: Option<String>,
    /// Backups made by cleanup (`<state_dir>/backups`).
    pub backup_root: Option<String>,
}

impl HostPlan {
    /// Fills the controller's directories from the inventory's directory: `state_dir` as the
    /// inventory sets it (relative: from the inventory's directory) or
    /// `<inventory_dir>/.metis-deploy/<cluster_name>`.
    pub fn locate(&mut self, inventory_dir: &str) {
        let base = inventory_dir.trim_end_matches('/');
        let base = if base.is_empty() { "." } else { base };
        let state = match self.options.state_dir.as_deref() {
            Some(d) if d.starts_with('/') => d.trim_end_matches('/').to_owned(),
            Some(d) => format!("{base}/{}", d.trim_end_matches('/')),
            None => format!("{base}/{}/{}", defaults::STATE_DIR_NAME, self.cluster_name),
        };
        let bundles = format!("{state}/bundles");
        self.options.bundle_dir = Some(format!("{bundles}/current"));
        self.options.bundle_root = Some(bundles);
        self.options.backup_root = Some(format!("{state}/backups"));
        self.options.state_dir = Some(state);
        // Controller files the inventory names relative to itself.
        for s in &mut self.services {
            for u in &mut s.uploads {
                if !u.source.starts_with('/') && !u.source.starts_with('~') {
                    u.source = format!("{base}/{}", u.source);
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirPlan {
    pub path: String,
    pub owner: String,
    pub group: String,
    pub mode: Mode,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServicePlan {
    pub name: &'static str,
    /// Its inventory group.
    pub group: &'static str,
    /// Global start order (stop in reverse).
    pub order: usize,
    /// `metis-<name>.service`, or Debian's (`mariadb.service`, `nginx.service`).
    pub unit: String,
    /// Our rendered unit's path; `None` when the distribution's unit is used or services run
    /// as processes (`service_manager=process`).
    pub unit_file: Option<String>,
    /// The argv of our unit (environment words expanded); empty for distribution units.
    pub command: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    /// Non-secret environment of the command.
    pub environment: IndexMap<String, String>,
    /// For start-stop-daemon (`service_manager` process, or auto without systemd).
    pub pid_file: Option<String>,
    /// What a failed start shows the tail of.
    pub log_file: Option<String>,
    pub stop_timeout_secs: u32,
    pub packages: Vec<String>,
    pub directories: Vec<DirPlan>,
    pub files: Vec<FilePlan>,
    pub artifacts: Vec<ArtifactPlan>,
    pub ports: Vec<PortPlan>,
    pub health_checks: Vec<CheckPlan>,
    /// Only on the first consul host's consul: seeded once the cluster has a leader.
    pub kv_writes: Vec<KvPlan>,
    /// Keys the service needs at start.
    pub kv_reads: Vec<String>,
    /// Consul services it registers (on the first consul agent).
    pub registrations: Vec<RegistrationPlan>,
    /// `ip:port` of the first consul agent's HTTP API.
    pub consul_http: Option<String>,
    pub python_env: Option<PythonEnvPlan>,
    /// Made once on the host, never regenerated by a deploy.
    pub secrets: Vec<GeneratedPlan>,
    /// Files pushed from the controller (certificates and keys the inventory names); the
    /// service restarts when one changes.
    pub uploads: Vec<UploadPlan>,
    /// The service's own check of its written configuration (`nginx -t`, `consul validate`).
    pub validate: Option<Vec<String>>,
    /// Files of the distribution removed so that they do not compete with the service (nginx's
    /// default site).
    pub disable_files: Vec<String>,
    /// The database the service owns on its host (the admin's).
    pub database: Option<DatabasePlan>,
    /// What a backup (and cleanup, before removing the service) keeps on the controller.
    pub backup: Option<BackupPlan>,
    /// Where an upgrade keeps the versions of the service's artifacts (services with artifacts).
    pub release: Option<ReleasePlan>,
}

/// The versions of a service's artifacts on its host: the installed one, the previous one (kept
/// by an upgrade for a rollback) and the next one (pushed by an upgrade before the switch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReleasePlan {
    /// Holds the bundle version the installed artifacts came from.
    pub version_file: String,
    /// The version of the artifacts kept in `previous_dir`.
    pub previous_version_file: String,
    /// The previous artifacts (each artifact's `previous` is below it).
    pub previous_dir: String,
    /// The pushed, not yet installed artifacts (each artifact's `staged` is below it).
    pub staged_dir: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DatabasePlan {
    pub name: String,
    pub user: String,
    /// The address the service connects from (the user is granted from there only).
    pub client_host: String,
    /// The inventory variable holding the user's password (the plan holds no secret).
    pub password_var: &'static str,
    /// The schema imported when the database does not exist yet.
    pub schema: String,
    /// The server's unix socket (root connects through it).
    pub socket: &'static str,
    /// The service that runs the database server.
    pub server: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackupPlan {
    /// The file on the host that is fetched (a dump written there first, for a database).
    pub path: String,
    /// The database dumped into `path` first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The consul KV keys under this prefix, read from the service's HTTP API into `path` first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_prefix: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilePlan {
    pub path: String,
    pub mode: Mode,
    pub owner: String,
    pub group: String,
    pub secret: bool,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UploadPlan {
    /// The inventory variable naming the controller's file.
    pub variable: &'static str,
    /// The controller's path.
    pub source: String,
    /// Where it goes on the host.
    pub path: String,
    pub mode: Mode,
    pub owner: String,
    pub group: String,
    /// A private key: the roles never show it (no_log, no diff).
    pub secret: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArtifactPlan {
    pub name: String,
    /// Relative to the bundle root.
    pub source: String,
    /// The file, or for `unzip`/`untar`/`directory` the directory to unpack or copy into.
    pub dest: String,
    pub mode: Mode,
    pub owner: String,
    pub group: String,
    /// `file`, `unzip`, `untar` or `directory`.
    pub kind: &'static str,
    /// `avx2` / `no_avx2`: only for the host whose CPU has / lacks avx2.
    pub cpu_flag: Option<&'static str>,
    /// Where an archive (unzip/untar) is kept on the host, beside what it unpacks to; it is
    /// unpacked again when it changes.
    pub archive: Option<String>,
    /// Where the bundle's file (or directory) is kept on the host: `archive` for an archive,
    /// else `dest`.
    pub kept: String,
    /// Where an upgrade keeps the previous version of `kept`.
    pub previous: String,
    /// Where an upgrade pushes the new version of `kept` before switching to it.
    pub staged: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortPlan {
    pub port: u16,
    pub last: u16,
    pub proto: &'static str,
    pub purpose: &'static str,
    /// A started service must be listening on it.
    pub wait: bool,
    /// The inventory variable that sets it (implicit ports: `None`).
    pub variable: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckPlan {
    pub name: String,
    pub kind: &'static str,
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KvPlan {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistrationPlan {
    pub name: String,
    pub tag: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PythonEnvPlan {
    pub path: String,
    pub base_python: String,
    pub wheel_dir: String,
    /// Where the dependency wheels are (`pip install --no-index --find-links <wheel_dir>
    /// --find-links <deps_dir>`).
    pub deps_dir: String,
    /// Wheel file names to install.
    pub requirements: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GeneratedPlan {
    pub name: &'static str,
    pub path: String,
    pub mode: Mode,
    pub owner: String,
    pub group: String,
    /// Its output's `PrivateKey:` hex is what the file keeps.
    pub command: Vec<String>,
}

/// `{"hosts": [...]}`: what `plan --format json` prints without `--host`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plans {
    pub hosts: Vec<HostPlan>,
}

fn manager_name(m: ServiceManager) -> &'static str {
    match m {
        ServiceManager::Auto => "auto",
        ServiceManager::Systemd => "systemd",
        ServiceManager::Process => "process",
    }
}

/// The plan of `host` (an inventory host name or address of the organisation); a host that
/// runs nothing of the organisation gets a plan without services, named as given.
pub fn host_plan(org: &Organization, host: &str) -> HostPlan {
    match org.find_host(host) {
        Some(h) => {
            let instances = org.instances_on(&h.name);
            plan_of(org, h, &instances)
        }
        None => idle_plan(org, host),
    }
}

/// The plan of a host of the inventory that runs no service of the organisation.
pub fn idle_plan(org: &Organization, name: &str) -> HostPlan {
    let mut p = header(org, name, String::new());
    p.services.clear();
    p
}

/// Every host's plan, in [`Organization::hosts`] order. Linear in the organisation's size.
pub fn host_plans(org: &Organization) -> Vec<HostPlan> {
    let mut by_host: HashMap<&str, Vec<Instance<'_>>> = HashMap::new();
    for inst in org.instances() {
        if org.is_enabled(inst.service.group()) {
            by_host.entry(&inst.host.name).or_default().push(inst);
        }
    }
    org.hosts()
        .into_iter()
        .map(|h| {
            plan_of(
                org,
                h,
                by_host.get(h.name.as_str()).map_or(&[], Vec::as_slice),
            )
        })
        .collect()
}

fn header(org: &Organization, name: &str, ip: String) -> HostPlan {
    let s = &org.settings;
    HostPlan {
        host: name.to_owned(),
        ip,
        cluster_name: org.cluster_name.clone(),
        deploy_dir: Layout::new(s).deploy_dir.to_owned(),
        service_user: s.service_user.clone(),
        service_group: s.service_user.clone(),
        service_manager: manager_name(s.service_manager),
        packages: Vec::new(),
        directories: Vec::new(),
        services: Vec::new(),
        options: OptionsPlan {
            apt_update_cache: s.operations.apt_update_cache,
            start_timeout: s.operations.start_timeout_secs,
            min_free_mb: s.operations.min_free_mb,
            regenerate_p2p_key: s.operations.regenerate_p2p_key,
            state_dir: s.operations.state_dir.clone(),
            bundle_root: None,
            bundle_dir: None,
            backup_root: None,
        },
    }
}

/// The plan of one host from its instances (enabled groups, start order).
pub fn plan_of(org: &Organization, host: &HostRef, instances: &[Instance<'_>]) -> HostPlan {
    let mut plan = header(org, &host.name, host.ip.to_string());
    for inst in instances {
        plan.services.push(service_plan(org, inst));
    }
    for s in &plan.services {
        for p in &s.packages {
            if !plan.packages.contains(p) {
                plan.packages.push(p.clone());
            }
        }
        for d in &s.directories {
            if !plan.directories.iter().any(|x| x.path == d.path) {
                plan.directories.push(d.clone());
            }
        }
    }
    plan
}

fn service_plan(org: &Organization, inst: &Instance<'_>) -> ServicePlan {
    let lay = Layout::new(&org.settings);
    let desc = inst.describe(org);
    let service = inst.service;
    let own = desc.unit() == Unit::Own;
    let owned = |path: &str| {
        let o = lay.owner_of(path).to_owned();
        (o.clone(), o)
    };
    let environment: IndexMap<String, String> = desc
        .environment()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let command = desc
        .command()
        .into_iter()
        .flat_map(|w| match w {
            Word::Literal(s) => vec![s],
            Word::Env(name) => environment
                .get(name)
                .map(|v| v.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        })
        .collect();
    let files = render::render_instances(org, std::slice::from_ref(inst));
    let unit_file = files
        .iter()
        .map(|f| f.path.clone())
        .find(|p| own && *p == render::unit_path(service));
    let consul_http = org
        .first_consul()
        .map(|c| format!("{}:{}", c.host.ip, c.ports.http));
    ServicePlan {
        name: service.name(),
        group: service.group().name(),
        order: services::start_order(service),
        unit: inst.unit_name(&*desc),
        unit_file,
        command,
        working_dir: own.then(|| lay.group_dir(service.group())),
        user: own.then(|| lay.user.to_owned()),
        environment,
        pid_file: own.then(|| lay.pid_file(service)),
        log_file: desc.log_file(),
        stop_timeout_secs: defaults::UNIT_TIMEOUT_STOP_SECS,
        packages: desc.packages().into_iter().map(str::to_owned).collect(),
        directories: desc
            .directories()
            .into_iter()
            .map(|Dir { path, mode }| {
                let (owner, group) = owned(&path);
                DirPlan {
                    path,
                    owner,
                    group,
                    mode: Mode(mode),
                }
            })
            .collect(),
        files: files
            .iter()
            .map(|f| FilePlan {
                path: f.path.clone(),
                mode: Mode(f.mode),
                owner: f.owner.clone(),
                group: f.group.clone(),
                secret: f.secret,
                sha256: f.sha256(),
            })
            .collect(),
        artifacts: desc
            .artifacts()
            .into_iter()
            .map(|a| {
                let (owner, group) = owned(&a.dest);
                let archive = matches!(a.kind, ArtifactKind::Unzip | ArtifactKind::Untar)
                    .then(|| lay.archive_path(service.group(), &a.source));
                let g = service.group();
                ArtifactPlan {
                    kept: archive.clone().unwrap_or_else(|| a.dest.clone()),
                    previous: format!("{}/{}", lay.previous_dir(g), a.source),
                    staged: format!("{}/{}", lay.staged_dir(g), a.source),
                    archive,
                    name: a.name,
                    source: a.source,
                    dest: a.dest,
                    mode: Mode(a.mode),
                    owner,
                    group,
                    kind: a.kind.name(),
                    cpu_flag: a.cpu_flag.map(|f| f.name()),
                }
            })
            .collect(),
        ports: desc
            .ports()
            .into_iter()
            .map(|p| PortPlan {
                port: p.first,
                last: p.last,
                proto: p.proto.name(),
                purpose: p.purpose,
                wait: p.wait,
                variable: p.variable,
            })
            .collect(),
        health_checks: instance_checks(org, inst.host, &*desc)
            .into_iter()
            .map(|c| CheckPlan {
                kind: c.kind.kind_name(),
                address: c.kind.address().map(|a| a.to_string()).unwrap_or_default(),
                name: c.name,
            })
            .collect(),
        kv_writes: desc
            .kv_writes()
            .into_iter()
            .map(|kv| KvPlan {
                key: kv.key.to_owned(),
                value: kv.value,
            })
            .collect(),
        kv_reads: desc.kv_reads().into_iter().map(str::to_owned).collect(),
        registrations: desc
            .registrations()
            .into_iter()
            .map(|r| RegistrationPlan {
                name: r.name.to_owned(),
                tag: r.tag.map(str::to_owned),
            })
            .collect(),
        consul_http,
        python_env: desc.python_env().map(|e| PythonEnvPlan {
            deps_dir: format!("{}/deps", e.wheel_dir),
            path: e.path,
            base_python: e.base_python,
            wheel_dir: e.wheel_dir,
            requirements: e.requirements,
        }),
        secrets: desc
            .secrets()
            .into_iter()
            .map(|g| {
                let (owner, group) = owned(&g.path);
                GeneratedPlan {
                    name: g.name,
                    path: g.path,
                    mode: Mode(g.mode),
                    owner,
                    group,
                    command: g.command,
                }
            })
            .collect(),
        uploads: desc
            .uploads()
            .into_iter()
            .map(|u| {
                let (owner, group) = if u.root_owned {
                    (ROOT.to_owned(), ROOT.to_owned())
                } else {
                    owned(&u.dest)
                };
                UploadPlan {
                    variable: u.variable,
                    source: u.source,
                    path: u.dest,
                    mode: Mode(u.mode),
                    owner,
                    group,
                    secret: u.secret,
                }
            })
            .collect(),
        validate: desc.validate(),
        disable_files: desc.disable_files(),
        database: desc.database().map(|d| DatabasePlan {
            name: d.name,
            user: d.user,
            client_host: d.client_host.to_string(),
            password_var: d.password_var,
            schema: d.schema,
            socket: d.socket,
            server: d.server.name(),
        }),
        backup: desc.backup().map(|b| BackupPlan {
            path: b.path,
            database: b.database,
            kv_prefix: b.kv_prefix,
        }),
        release: (!desc.artifacts().is_empty()).then(|| {
            let g = service.group();
            ReleasePlan {
                version_file: lay.version_file(service),
                previous_version_file: format!(
                    "{}/{}.version",
                    lay.previous_dir(g),
                    service.name()
                ),
                previous_dir: lay.previous_dir(g),
                staged_dir: lay.staged_dir(g),
            }
        }),
    }
}

/// The plans for people: per host its settings and packages, each service with its unit,
/// command, directories and files, then the host's port table (in the style of
/// `tiup cluster display`). `heading` styles the host lines.
pub fn render_text(plans: &[HostPlan], heading: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    for (i, p) in plans.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let addr = if p.ip.is_empty() || p.ip == p.host {
            String::new()
        } else {
            format!(" ({})", p.ip)
        };
        out.push_str(&heading(&format!(
            "Host {}{addr} of cluster {}",
            p.host, p.cluster_name
        )));
        out.push('\n');
        let _ = writeln!(
            out,
            "deploy_dir {}, user {}, service manager {}",
            p.deploy_dir, p.service_user, p.service_manager
        );
        if p.services.is_empty() {
            out.push_str("no service of the organisation runs here\n");
            continue;
        }
        let _ = writeln!(
            out,
            "packages: {}",
            if p.packages.is_empty() {
                "none".to_owned()
            } else {
                p.packages.join(" ")
            }
        );
        for s in &p.services {
            let _ = writeln!(out, "\n  {} [{}] {}", s.name, s.order, s.unit);
            if !s.command.is_empty() {
                let _ = writeln!(out, "    command  {}", s.command.join(" "));
            }
            for d in &s.directories {
                let _ = writeln!(out, "    dir      {} {} {}", d.mode_str(), d.owner, d.path);
            }
            for f in &s.files {
                let secret = if f.secret { " (secret)" } else { "" };
                let _ = writeln!(
                    out,
                    "    file     {:04o} {} {}{secret}",
                    f.mode.0, f.owner, f.path
                );
            }
            for u in &s.uploads {
                let _ = writeln!(
                    out,
                    "    upload   {:04o} {} {} <- {} ({})",
                    u.mode.0, u.owner, u.path, u.source, u.variable
                );
            }
            for a in &s.artifacts {
                let flag = a.cpu_flag.map(|f| format!(" [{f}]")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    artifact {} -> {} ({}){flag}",
                    a.source, a.dest, a.kind
                );
            }
            if let Some(log) = &s.log_file {
                let _ = writeln!(out, "    log      {log}");
            }
        }
        out.push('\n');
        let header = ["Service", "Purpose", "Port", "Proto", "Wait", "Variable"];
        let mut rows: Vec<[String; 6]> = Vec::new();
        for s in &p.services {
            for port in &s.ports {
                let ports = if port.port == port.last {
                    port.port.to_string()
                } else {
                    format!("{}-{}", port.port, port.last)
                };
                rows.push([
                    s.name.to_owned(),
                    port.purpose.to_owned(),
                    ports,
                    port.proto.to_owned(),
                    if port.wait { "yes" } else { "no" }.to_owned(),
                    port.variable.unwrap_or("-").to_owned(),
                ]);
            }
        }
        let mut width = header.map(str::len);
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.len());
            }
        }
        let line = |cells: &[String; 6]| {
            let mut l = String::from("  ");
            for (i, c) in cells.iter().enumerate() {
                let _ = write!(l, "{c:<w$}  ", w = width[i]);
            }
            format!("{}\n", l.trim_end())
        };
        out.push_str(&line(&header.map(String::from)));
        out.push_str(&line(&width.map(|w| "-".repeat(w))));
        for r in &rows {
            out.push_str(&line(r));
        }
    }
    out
}

impl DirPlan {
    fn mode_str(&self) -> String {
        format!("{:04o}", self.mode.0)
    }
}
