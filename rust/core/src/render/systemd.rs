//! One systemd unit per service (`metis-<service>.service`). MySQL and nginx keep Debian's own.

use super::emit::{systemd_env, systemd_value, systemd_var, systemd_word};
use super::{resources, Layout, RenderedFile};
use crate::model::{defaults, HostRef, Organization, Service};
use std::fmt::Write;

/// The command line of a service: its words, unescaped (`$VAR` words are expansions).
pub fn command(org: &Organization, lay: &Layout<'_>, service: Service) -> Vec<String> {
    let cfg = lay.config_file(service);
    let w = |s: &str| s.to_owned();
    match service {
        Service::Consul => vec![
            lay.consul_bin(),
            w("agent"),
            format!("-config-dir={}", lay.config_dir(service.group())),
        ],
        Service::Carrier => vec![lay.carrier_bin(), w("--config-file"), cfg],
        Service::Admin => vec![
            w(defaults::JAVA_BIN),
            systemd_var("JVM_OPTS"),
            w("-jar"),
            lay.admin_jar(),
            format!(
                "--spring.profiles.active={}",
                defaults::ADMIN_SPRING_PROFILE
            ),
        ],
        Service::IceGrid => vec![
            w(defaults::ICEGRIDREGISTRY_BIN),
            format!("--Ice.Config={cfg}"),
        ],
        Service::Glacier2 => vec![
            w(defaults::GLACIER2ROUTER_BIN),
            format!("--Ice.Config={cfg}"),
        ],
        Service::Data | Service::Compute => vec![
            lay.fighter_python(&org.settings),
            w("-u"),
            w("-m"),
            w(if service == Service::Data {
                defaults::DATA_MODULE
            } else {
                defaults::COMPUTE_MODULE
            }),
            cfg,
        ],
        Service::Mysql | Service::Nginx => Vec::new(),
    }
}

pub fn unit(
    org: &Organization,
    lay: &Layout<'_>,
    host: &HostRef,
    service: Service,
) -> RenderedFile {
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
    if service == Service::Admin {
        let _ = writeln!(
            c,
            "Environment={}",
            systemd_env("JVM_OPTS", &org.settings.admin.jvm_opts)
        );
    }
    let words: Vec<String> = command(org, lay, service)
        .iter()
        .map(|word| match word.strip_prefix('$') {
            Some(var) if service == Service::Admin && var == "JVM_OPTS" => word.clone(),
            _ => systemd_word(word),
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
    RenderedFile::new(host, service, lay.unit_file(service), c)
}
