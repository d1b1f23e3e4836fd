//! One systemd unit per service that runs under a unit of ours (`metis-<service>.service`); the
//! unit's command, environment, user and directory come from the service's description.

use super::emit::{systemd_env, systemd_value, systemd_word};
use super::{resources, Layout, RenderedFile};
use crate::model::{defaults, Organization, Service};
use crate::services::{unit_name, Describe, Instance, Unit, Word};
use std::fmt::Write;

/// `/etc/systemd/system/metis-<service>.service`.
pub fn unit_path(service: Service) -> String {
    format!(
        "{}/{}",
        defaults::SYSTEMD_UNIT_DIR,
        unit_name(service, Unit::Own)
    )
}

pub fn unit(
    org: &Organization,
    lay: &Layout<'_>,
    inst: &Instance<'_>,
    desc: &dyn Describe,
) -> RenderedFile {
    let (host, service) = (inst.host, inst.service);
    let mut c = String::from("# Rendered by metis-deploy.\n[Unit]\n");
    let _ = writeln!(c, "Description=Metis {} ({})", service.name(), host.ip);
    c.push_str(
        "Wants=network-online.target\nAfter=network-online.target\n\n[Service]\nType=simple\n",
    );
    let _ = writeln!(c, "User={}", systemd_value(lay.user));
    let _ = writeln!(
        c,
        "WorkingDirectory={}",
        systemd_value(&lay.group_dir(service.group()))
    );
    for (name, value) in desc.environment() {
        let _ = writeln!(c, "Environment={}", systemd_env(name, &value));
    }
    let words: Vec<String> = desc
        .command()
        .iter()
        .map(|word| match word {
            // `$NAME` unquoted: systemd splits the variable's value into words.
            Word::Env(name) => format!("${name}"),
            Word::Literal(w) => systemd_word(w),
        })
        .collect();
    let _ = writeln!(c, "ExecStart={}", words.join(" "));
    let _ = writeln!(c, "Restart=on-failure");
    let _ = writeln!(c, "RestartSec={}", defaults::UNIT_RESTART_SEC);
    let _ = writeln!(c, "LimitNOFILE={}", defaults::UNIT_LIMIT_NOFILE);
    let _ = writeln!(c, "KillSignal=SIGTERM");
    let _ = writeln!(c, "TimeoutStopSec={}", defaults::UNIT_TIMEOUT_STOP_SECS);
    let r = resources(org, service.group());
    if r.cpu_quota_percent > 0 {
        let _ = writeln!(c, "CPUAccounting=yes\nCPUQuota={}%", r.cpu_quota_percent);
    }
    if r.memory_limit_mib > 0 {
        let _ = writeln!(c, "MemoryAccounting=yes\nMemoryMax={}M", r.memory_limit_mib);
    }
    c.push_str("\n[Install]\nWantedBy=multi-user.target\n");
    RenderedFile::new(host, service, unit_path(service), c)
}
