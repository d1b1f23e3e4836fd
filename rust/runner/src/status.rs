//! `status`: per host and service its ports, its unit's state and since when (one ad-hoc run of
//! the collection's `metis.node.service_states` module on every host, read through the event
//! stream: systemd's view, or without systemd the services' pid files) and its health (the
//! core's checks), as a table or JSON.

use crate::ansible::{self, End, Interrupts, Invocation};
use crate::events::{Event, HostStatus};
use crate::run::Settings;
use metis_core::health::Report as HealthReport;
use metis_core::plan::HostPlan;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The collection's module that reads the unit states on a host.
pub const STATES_MODULE: &str = "metis.node.service_states";

/// A unit's state on its host, as `metis.node.service_states` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitState {
    /// `active`, `inactive`, `failed`... or `not-found`, `unknown`.
    pub state: String,
    /// `running`, `dead`, `exited`...
    #[serde(default)]
    pub sub: String,
    /// When it entered its state (systemd's `ActiveEnterTimestamp`, or a process's start time,
    /// written the same way), if known.
    #[serde(default)]
    pub since: Option<String>,
    /// The process of a service started with a pid file, while it runs.
    #[serde(default)]
    pub pid: Option<u32>,
    /// Why the state is `unknown` or `failed`, or how it was told.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The unit states of every host, keyed by (host, unit).
pub type Units = BTreeMap<(String, String), UnitState>;

/// How each host runs its services (`systemd` or `process`), as the module decided.
pub type Managers = BTreeMap<String, String>;

/// What the unit query learnt: states, managers, and the hosts it could not ask (with why).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitQuery {
    pub units: Units,
    pub managers: Managers,
    pub errors: BTreeMap<String, String>,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub host: String,
    pub address: String,
    pub service: String,
    pub unit: String,
    pub ports: Vec<String>,
    pub unit_state: String,
    pub since: Option<String>,
    /// `ok`, or `failed` with the failing checks in `problems`.
    pub health: String,
    pub checks: usize,
    pub problems: Vec<String>,
    /// `systemd` or `process` (start-stop-daemon with pid files), when the host was asked.
    pub manager: Option<String>,
    /// The service's process, when it runs from a pid file.
    pub pid: Option<u32>,
    /// Why `unit_state` is `unknown` or `failed`, or how it was told.
    pub unit_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub cluster: String,
    pub healthy: bool,
    pub services: Vec<Row>,
    /// Hosts whose unit states could not be read, with why.
    pub unreachable: BTreeMap<String, String>,
}

/// The `units` of a `metis.node.service_states` result: `{unit: {state, sub, since, pid,
/// reason}}`. A unit whose entry is not of that shape comes back `unknown` with why.
pub fn parse_units(value: &serde_json::Value) -> Result<BTreeMap<String, UnitState>, String> {
    let Some(map) = value.as_object() else {
        return Err(format!(
            "{STATES_MODULE} returned units that are not a mapping: {}",
            metis_core::diag::shorten(&value.to_string(), 80)
        ));
    };
    Ok(map
        .iter()
        .map(|(unit, v)| {
            let st = serde_json::from_value::<UnitState>(v.clone()).unwrap_or_else(|e| UnitState {
                state: "unknown".to_owned(),
                reason: Some(format!("unreadable answer of {STATES_MODULE}: {e}")),
                ..UnitState::default()
            });
            (unit.clone(), st)
        })
        .collect())
}

/// The module's arguments: the union over the hosts of the planned units with their pid files,
/// and the plans' `service_manager` (one setting of the organisation). `None` when no host
/// plans a service.
pub fn module_args(plans: &[HostPlan]) -> Result<Option<serde_json::Value>, String> {
    let mut services: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for s in plans.iter().flat_map(|p| &p.services) {
        match services.get(s.unit.as_str()) {
            Some(known) if *known != s.pid_file.as_deref() => {
                return Err(format!(
                    "the host plans give unit {} two pid files ({} and {})",
                    s.unit,
                    known.unwrap_or("none"),
                    s.pid_file.as_deref().unwrap_or("none")
                ));
            }
            _ => {
                services.insert(&s.unit, s.pid_file.as_deref());
            }
        }
    }
    if services.is_empty() {
        return Ok(None);
    }
    let managers: BTreeSet<&str> = plans.iter().map(|p| p.service_manager).collect();
    let manager = match managers.into_iter().collect::<Vec<_>>()[..] {
        [one] => one,
        ref several => {
            return Err(format!(
                "the host plans disagree on service_manager ({})",
                several.join(", ")
            ))
        }
    };
    Ok(Some(serde_json::json!({
        "service_manager": manager,
        "services": services
            .into_iter()
            .map(|(unit, pid_file)| serde_json::json!({"unit": unit, "pid_file": pid_file}))
            .collect::<Vec<_>>(),
    })))
}

/// Asks every host for its planned units' states with one ad-hoc `ansible` run of
/// [`STATES_MODULE`]. `ansible` is found next to ansible-playbook. Hosts that fail come back in
/// the error map.
pub fn query_units(
    settings: &Settings,
    plans: &[HostPlan],
    work: &Path,
) -> Result<UnitQuery, String> {
    let Some(module_args) = module_args(plans)? else {
        return Ok(UnitQuery::default());
    };
    let program = settings
        .ansible_playbook
        .parent()
        .map(|d| d.join("ansible"))
        .filter(|p| p.is_file())
        .or_else(|| ansible::find_program("ansible"))
        .ok_or("`ansible` not found next to ansible-playbook nor on PATH (install ansible-core)")?;
    let events = work.join("units.events.jsonl");
    let mut args: Vec<OsString> = vec![
        "all".into(),
        "-i".into(),
        settings.inventory.clone().into_os_string(),
        "-m".into(),
        STATES_MODULE.into(),
        "-a".into(),
        module_args.to_string().into(),
    ];
    args.extend(settings.ansible_args.iter().map(OsString::from));
    let inv = Invocation {
        program,
        args,
        env: ansible::callback_env(&events, settings.playbooks.collections().as_deref(), true),
        log: work.join("units.log"),
        events,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runner: {e}"))?;
    let mut results = Vec::new();
    let end = runtime.block_on(async {
        let mut interrupts = Interrupts::install().map_err(|e| e.to_string())?;
        ansible::run(&inv, &mut interrupts, |e| {
            if let Ok(Event::HostResult(r)) = e {
                results.push(r);
            }
        })
        .await
        .map_err(|e| e.to_string())
    })?;
    match end {
        End::Interrupted => return Err("interrupted".to_owned()),
        End::Exited(code) if code != 0 && results.is_empty() => {
            return Err(format!(
                "`ansible` exited {code} before any host answered (-v names its output)"
            ))
        }
        End::Exited(_) => {}
    }
    Ok(read_results(results))
}

/// The hosts' results of the query: states and managers of those that answered, why for the others.
pub fn read_results(results: Vec<crate::events::HostResult>) -> UnitQuery {
    let mut q = UnitQuery::default();
    for r in results {
        match r.status {
            HostStatus::Ok | HostStatus::Changed => {
                let parsed = match &r.units {
                    Some(units) => parse_units(units),
                    None => Err(format!(
                        "{STATES_MODULE} returned no units (is the collection installed, and its events callback up to date?)"
                    )),
                };
                match parsed {
                    Ok(units) => {
                        for (unit, st) in units {
                            q.units.insert((r.host.clone(), unit), st);
                        }
                        if let Some(m) = r.manager {
                            q.managers.insert(r.host, m);
                        }
                    }
                    Err(e) => {
                        q.errors.insert(r.host, e);
                    }
                }
            }
            _ => {
                let msg = r.msg.unwrap_or_else(|| r.status.as_str().to_owned());
                let mut why = msg.lines().next().unwrap_or("").to_owned();
                if why.contains(STATES_MODULE) {
                    // An installed collection older than this runner (no such module).
                    why.push_str(" (the collection next to the playbooks, or the installed metis.node, must match this metis-deploy: give --playbooks DIR)");
                }
                q.errors.insert(r.host, why);
            }
        }
    }
    q
}

/// A private scratch directory for the query's log and events (removed by the caller).
pub fn scratch_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("metis-deploy-status-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// The table's rows: every planned service of every host, in plan (start) order.
pub fn assemble(
    cluster: &str,
    plans: &[HostPlan],
    query: UnitQuery,
    health: &HealthReport,
) -> Status {
    let UnitQuery {
        units,
        managers,
        errors: unreachable,
    } = query;
    let mut rows = Vec::new();
    for p in plans {
        for s in &p.services {
            let ports = s
                .ports
                .iter()
                .map(|port| {
                    if port.port == port.last {
                        format!("{}/{}", port.port, port.proto)
                    } else {
                        format!("{}-{}/{}", port.port, port.last, port.proto)
                    }
                })
                .collect();
            let unit = units.get(&(p.host.clone(), s.unit.clone()));
            let unit_state = match unit {
                Some(u) if u.sub.is_empty() => u.state.clone(),
                Some(u) => format!("{} ({})", u.state, u.sub),
                None => "unknown".to_owned(),
            };
            let checks: Vec<_> = health
                .checks
                .iter()
                .filter(|c| c.host.name == p.host && c.service.name() == s.name)
                .collect();
            let problems: Vec<String> = checks
                .iter()
                .filter(|c| !c.ok)
                .map(|c| format!("{}: {} {}", c.check, c.outcome, c.detail))
                .collect();
            rows.push(Row {
                host: p.host.clone(),
                address: p.ip.clone(),
                service: s.name.to_owned(),
                unit: s.unit.clone(),
                ports,
                unit_state,
                since: unit.and_then(|u| u.since.clone()),
                health: if problems.is_empty() { "ok" } else { "failed" }.to_owned(),
                checks: checks.len(),
                problems,
                manager: managers.get(&p.host).cloned(),
                pid: unit.and_then(|u| u.pid),
                unit_reason: unit.and_then(|u| u.reason.clone()),
            });
        }
    }
    Status {
        cluster: cluster.to_owned(),
        healthy: health.healthy,
        services: rows,
        unreachable,
    }
}

/// Whether the table explains a unit state under it (not for a plain `active` or `inactive`).
fn unit_needs_reason(state: &str) -> bool {
    !(state.starts_with("active") || state.starts_with("inactive"))
}

/// The table for people, in the style of `tiup cluster display`.
pub fn render(status: &Status) -> String {
    let header = ["Host", "Service", "Ports", "Unit", "Health", "Since"];
    let rows: Vec<[String; 6]> = status
        .services
        .iter()
        .map(|r| {
            let health = if r.problems.is_empty() {
                format!(
                    "ok ({} check{})",
                    r.checks,
                    if r.checks == 1 { "" } else { "s" }
                )
            } else {
                format!("FAILED {}/{}", r.problems.len(), r.checks)
            };
            [
                r.host.clone(),
                r.service.clone(),
                r.ports.join(","),
                r.unit_state.clone(),
                health,
                r.since.clone().unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String; 6]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(l, "{c:<w$}  ", w = width[i]);
        }
        format!("{}\n", l.trim_end())
    };
    let mut out = format!("Cluster {}\n", status.cluster);
    out.push_str(&line(&header.map(String::from)));
    out.push_str(&line(&width.map(|w| "-".repeat(w))));
    for r in &rows {
        out.push_str(&line(r));
    }
    for r in status.services.iter().filter(|r| !r.problems.is_empty()) {
        for p in &r.problems {
            let _ = writeln!(out, "{} {}: {p}", r.host, r.service);
        }
    }
    for r in &status.services {
        if let (Some(why), true) = (&r.unit_reason, unit_needs_reason(&r.unit_state)) {
            let _ = writeln!(
                out,
                "{} {}: unit {}: {why}",
                r.host, r.service, r.unit_state
            );
        }
    }
    for (h, why) in &status.unreachable {
        let _ = writeln!(out, "{h}: unit states not read: {why}");
    }
    let n = status.services.len();
    let bad = status
        .services
        .iter()
        .filter(|r| !r.problems.is_empty())
        .count();
    if bad == 0 {
        let _ = writeln!(out, "{n} service(s), all healthy");
    } else {
        let _ = writeln!(out, "{n} service(s), {bad} unhealthy");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{parse_line, HostResult};
    use serde_json::json;

    fn result(line: &str) -> HostResult {
        match parse_line(line) {
            Some(Ok(Event::HostResult(r))) => r,
            other => panic!("a host result: {other:?}"),
        }
    }

    #[test]
    fn the_modules_units_are_read() {
        let units = json!({
            "metis-compute.service": {"state": "active", "sub": "running",
                "since": "Thu 2026-12-03 18:00:00 UTC", "pid": 4242, "reason": null},
            "metis-data.service": {"state": "failed", "sub": "dead", "since": null, "pid": null,
                "reason": "pid 77 of /opt/metis/data/data.pid is not running"},
            "mariadb.service": {"state": "inactive", "sub": "dead"},
            "nginx.service": {"sub": "running"},
            "metis-consul.service": "active",
        });
        let m = parse_units(&units).expect("a mapping");
        assert_eq!(m.len(), 5);
        assert_eq!(
            m["metis-compute.service"],
            UnitState {
                state: "active".into(),
                sub: "running".into(),
                since: Some("Thu 2026-12-03 18:00:00 UTC".into()),
                pid: Some(4242),
                reason: None,
            }
        );
        assert_eq!(m["metis-data.service"].state, "failed");
        assert!(m["metis-data.service"]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("is not running")));
        // Fields the module may leave out default; a malformed entry is unknown, with why.
        assert_eq!(m["mariadb.service"].since, None);
        assert_eq!(m["nginx.service"].state, "unknown");
        assert!(m["nginx.service"]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("missing field `state`")));
        assert_eq!(m["metis-consul.service"].state, "unknown");
        assert!(parse_units(&json!(["not", "a", "mapping"])).is_err());
        assert!(parse_units(&json!({})).expect("empty").is_empty());
    }

    #[test]
    fn the_hosts_results_become_states_managers_and_errors() {
        let q = read_results(vec![
            result(
                r#"{"event": "host_result", "host": "198.51.100.15", "task": "metis.node.service_states", "status": "ok", "manager": "process", "units": {"metis-compute.service": {"state": "active", "sub": "running", "since": "Thu 2026-12-03 18:00:00 UTC", "pid": 901, "reason": null}}}"#,
            ),
            result(
                r#"{"event": "host_result", "host": "198.51.100.11", "task": "t", "status": "ok", "manager": "systemd", "units": {"metis-consul.service": {"state": "inactive", "sub": "dead", "since": null, "pid": null, "reason": null}}}"#,
            ),
            result(
                r#"{"event": "host_result", "host": "198.51.100.12", "task": "t", "status": "unreachable", "msg": "ssh: connect to host 198.51.100.12 port 22: No route to host\nmore"}"#,
            ),
            // An old callback that does not pass the module's units on.
            result(
                r#"{"event": "host_result", "host": "198.51.100.13", "task": "t", "status": "ok"}"#,
            ),
            result(
                r#"{"event": "host_result", "host": "198.51.100.14", "task": "t", "status": "ok", "units": 3}"#,
            ),
        ]);
        let key = |h: &str, u: &str| (h.to_owned(), u.to_owned());
        assert_eq!(q.units.len(), 2);
        assert_eq!(
            q.units[&key("198.51.100.15", "metis-compute.service")].pid,
            Some(901)
        );
        assert_eq!(
            q.units[&key("198.51.100.11", "metis-consul.service")].state,
            "inactive"
        );
        assert_eq!(q.managers["198.51.100.15"], "process");
        assert_eq!(q.managers["198.51.100.11"], "systemd");
        assert_eq!(
            q.errors["198.51.100.12"],
            "ssh: connect to host 198.51.100.12 port 22: No route to host"
        );
        assert!(q.errors["198.51.100.13"].contains("returned no units"));
        let old = read_results(vec![result(
            r#"{"event": "host_result", "host": "h", "task": "t", "status": "failed", "msg": "Task failed: Cannot resolve 'metis.node.service_states' to an action or module."}"#,
        )]);
        assert!(old.errors["h"].contains("must match this metis-deploy: give --playbooks DIR"));
        assert!(q.errors["198.51.100.14"].contains("not a mapping"));
    }

    #[test]
    fn the_module_gets_every_planned_unit_once_with_its_pid_file() {
        let (_, plans) = crate::tests::example_plans();
        let args = module_args(&plans).expect("one manager").expect("services");
        assert_eq!(args["service_manager"], "auto");
        let services = args["services"].as_array().expect("a list");
        let planned: BTreeSet<&str> = plans
            .iter()
            .flat_map(|p| p.services.iter().map(|s| s.unit.as_str()))
            .collect();
        assert_eq!(services.len(), planned.len(), "{services:?}");
        let entry = |unit: &str| {
            services
                .iter()
                .find(|s| s["unit"] == unit)
                .unwrap_or_else(|| panic!("{unit} in {services:?}"))
        };
        assert_eq!(
            entry("metis-compute.service")["pid_file"],
            "/opt/metis/compute/compute.pid"
        );
        assert_eq!(
            entry("metis-consul.service")["pid_file"],
            "/opt/metis/consul/consul.pid"
        );
        // The distribution's services have no pid file of ours.
        assert!(entry("mariadb.service")["pid_file"].is_null());
        assert!(entry("nginx.service")["pid_file"].is_null());
        for s in services {
            let keys: BTreeSet<&str> = s
                .as_object()
                .expect("a mapping")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                BTreeSet::from(["pid_file", "unit"]),
                "only what the module takes"
            );
        }
        let mut none = plans.clone();
        for p in &mut none {
            p.services.clear();
        }
        assert_eq!(module_args(&none), Ok(None));
        let mut split = plans.clone();
        split[0].service_manager = "process";
        assert!(module_args(&split).is_err_and(|e| e.contains("disagree on service_manager")));
    }

    #[test]
    fn rows_show_the_state_since_manager_and_why() {
        let (cluster, plans) = crate::tests::example_plans();
        let host = plans
            .iter()
            .find(|p| p.services.iter().any(|s| s.name == "compute"))
            .expect("a compute host");
        let mut q = UnitQuery::default();
        q.units.insert(
            (host.host.clone(), "metis-compute.service".into()),
            UnitState {
                state: "active".into(),
                sub: "running".into(),
                since: Some("Thu 2026-12-03 18:00:00 UTC".into()),
                pid: Some(901),
                reason: None,
            },
        );
        q.units.insert(
            (host.host.clone(), "metis-consul.service".into()),
            UnitState {
                state: "failed".into(),
                sub: "dead".into(),
                since: None,
                pid: None,
                reason: Some("pid 77 of /opt/metis/consul/consul.pid is not running".into()),
            },
        );
        q.managers.insert(host.host.clone(), "process".into());
        q.errors
            .insert("198.51.100.99".into(), "unreachable: no route".into());
        let health = HealthReport {
            healthy: true,
            checks: Vec::new(),
        };
        let st = assemble(&cluster, &plans, q, &health);
        let row = |service: &str| {
            st.services
                .iter()
                .find(|r| r.host == host.host && r.service == service)
                .unwrap_or_else(|| panic!("{service} on {}", host.host))
        };
        let compute = row("compute");
        assert_eq!(compute.unit_state, "active (running)");
        assert_eq!(
            compute.since.as_deref(),
            Some("Thu 2026-12-03 18:00:00 UTC")
        );
        assert_eq!(
            (compute.manager.as_deref(), compute.pid),
            (Some("process"), Some(901))
        );
        assert_eq!(row("consul").unit_state, "failed (dead)");
        let other = st
            .services
            .iter()
            .find(|r| r.host != host.host)
            .expect("another host");
        assert_eq!(
            (other.unit_state.as_str(), other.manager.as_deref()),
            ("unknown", None)
        );
        let json = serde_json::to_value(&st).expect("serialises");
        for key in [
            "host",
            "address",
            "service",
            "unit",
            "ports",
            "unit_state",
            "since",
            "health",
            "checks",
            "problems",
            "manager",
            "pid",
            "unit_reason",
        ] {
            assert!(json["services"][0].get(key).is_some(), "{key} in {json}");
        }
        let table = render(&st);
        assert!(
            table.contains(&format!(
            "{} consul: unit failed (dead): pid 77 of /opt/metis/consul/consul.pid is not running",
            host.host
        )),
            "{table}"
        );
        assert!(table.contains("198.51.100.99: unit states not read: unreachable: no route"));
        assert!(
            !table.contains("compute: unit active"),
            "a plain state is not explained: {table}"
        );
    }
}
