//! `status`: per host and service its ports, its unit's state and since when (one ad-hoc
//! `systemctl show` on every host, read through the event stream) and its health (the core's
//! checks), as a table or JSON.

use crate::ansible::{self, End, Interrupts, Invocation};
use crate::events::{Event, HostStatus};
use crate::run::Settings;
use metis_core::health::Report as HealthReport;
use metis_core::plan::HostPlan;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// A unit's state on its host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UnitState {
    /// `active`, `inactive`, `failed`... or `not-found`, `unknown`, `unreachable`.
    pub state: String,
    /// `running`, `dead`, `exited`...
    pub sub: String,
    /// When it entered its state (`ActiveEnterTimestamp`), if ever.
    pub since: Option<String>,
}

/// The unit states of every host, keyed by (host, unit).
pub type Units = BTreeMap<(String, String), UnitState>;

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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub cluster: String,
    pub healthy: bool,
    pub services: Vec<Row>,
    /// Hosts whose unit states could not be read, with why.
    pub unreachable: BTreeMap<String, String>,
}

/// Parses `systemctl show -p Id,LoadState,ActiveState,SubState,ActiveEnterTimestamp u1 u2...`:
/// blocks separated by blank lines, one per unit.
pub fn parse_systemctl_show(text: &str) -> BTreeMap<String, UnitState> {
    let mut out = BTreeMap::new();
    for block in text.split("\n\n") {
        let mut id = None;
        let mut load = "";
        let mut st = UnitState::default();
        for line in block.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            match k.trim() {
                "Id" => id = Some(v.trim().to_owned()),
                "LoadState" => load = v.trim(),
                "ActiveState" => st.state = v.trim().to_owned(),
                "SubState" => st.sub = v.trim().to_owned(),
                "ActiveEnterTimestamp" if !v.trim().is_empty() => {
                    st.since = Some(v.trim().to_owned());
                }
                _ => {}
            }
        }
        if load == "not-found" {
            st.state = "not-found".to_owned();
            st.sub.clear();
        }
        if let Some(id) = id {
            out.insert(id, st);
        }
    }
    out
}

/// Asks every host for its planned units' states with one ad-hoc `ansible` command.
/// `ansible` is found next to ansible-playbook. Hosts that fail come back in the error map.
pub fn query_units(
    settings: &Settings,
    plans: &[HostPlan],
    work: &Path,
) -> Result<(Units, BTreeMap<String, String>), String> {
    let mut units: Vec<&str> = plans
        .iter()
        .flat_map(|p| p.services.iter().map(|s| s.unit.as_str()))
        .collect();
    units.sort_unstable();
    units.dedup();
    if units.is_empty() {
        return Ok((Units::new(), BTreeMap::new()));
    }
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
        "ansible.builtin.command".into(),
        "-a".into(),
        format!(
            "systemctl show --no-pager --property=Id,LoadState,ActiveState,SubState,ActiveEnterTimestamp -- {}",
            units.join(" ")
        )
        .into(),
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
    if end == End::Interrupted {
        return Err("interrupted".to_owned());
    }
    let mut states = Units::new();
    let mut errors = BTreeMap::new();
    for r in results {
        match r.status {
            HostStatus::Ok | HostStatus::Changed => {
                for (unit, st) in parse_systemctl_show(r.stdout.as_deref().unwrap_or("")) {
                    states.insert((r.host.clone(), unit), st);
                }
            }
            _ => {
                let msg = r.msg.unwrap_or_else(|| r.status.as_str().to_owned());
                errors.insert(r.host, msg.lines().next().unwrap_or("").to_owned());
            }
        }
    }
    Ok((states, errors))
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
    units: &Units,
    unreachable: BTreeMap<String, String>,
    health: &HealthReport,
) -> Status {
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
            let (unit_state, since) = match units.get(&(p.host.clone(), s.unit.clone())) {
                Some(u) if u.sub.is_empty() => (u.state.clone(), u.since.clone()),
                Some(u) => (format!("{} ({})", u.state, u.sub), u.since.clone()),
                None if unreachable.contains_key(&p.host) => ("unknown".to_owned(), None),
                None => ("unknown".to_owned(), None),
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
                since,
                health: if problems.is_empty() { "ok" } else { "failed" }.to_owned(),
                checks: checks.len(),
                problems,
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

    #[test]
    fn systemctl_show_blocks() {
        let text = "Id=metis-consul.service\nLoadState=loaded\nActiveState=active\nSubState=running\nActiveEnterTimestamp=Tue 2025-01-07 10:00:00 UTC\n\nId=nginx.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nActiveEnterTimestamp=\n\nId=mariadb.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nActiveEnterTimestamp=\n";
        let m = parse_systemctl_show(text);
        assert_eq!(m.len(), 3);
        assert_eq!(
            m["metis-consul.service"],
            UnitState {
                state: "active".into(),
                sub: "running".into(),
                since: Some("Tue 2025-01-07 10:00:00 UTC".into())
            }
        );
        assert_eq!(m["nginx.service"].state, "not-found");
        assert_eq!(m["mariadb.service"].state, "failed");
        assert_eq!(m["mariadb.service"].since, None);
        assert!(parse_systemctl_show("").is_empty());
        assert!(parse_systemctl_show("garbage\n\n=x").is_empty());
    }
}
