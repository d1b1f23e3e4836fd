//! The host plan agrees with everything else made from the services' descriptions, on random
//! organisations: its files are exactly what `render` writes (path, mode, owner, sha256), its
//! health checks exactly what the health plan checks on that host, its ports exactly the port
//! table's; and it is complete: every file, artifact, secret, log and pid file has its directory
//! in the plan (parents first), and every binary a command starts under deploy_dir is installed
//! by an artifact or a virtual environment of the plan.

mod support;

use metis_core::health::{self, Filter};
use metis_core::model::Organization;
use metis_core::plan::{self, HostPlan};
use metis_core::render;
use proptest::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
struct Shape {
    consul: Vec<usize>,
    ice_via: usize,
    carrier: usize,
    admin: Vec<usize>,
    data: Vec<usize>,
    compute: Vec<usize>,
    disabled: Vec<&'static str>,
    manager: &'static str,
    tls: bool,
    ssl: bool,
    fighter_python: Option<&'static str>,
    deploy_dir: &'static str,
    storage: bool,
}

fn subset(n: usize, min: usize, max: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::sample::subsequence((0..n).collect::<Vec<_>>(), min..=max.min(n))
}

fn shape() -> impl Strategy<Value = Shape> {
    (1usize..=7)
        .prop_flat_map(|n| {
            let consul = if n >= 3 {
                prop_oneof![subset(n, 1, 1), subset(n, 3, 3)].boxed()
            } else {
                subset(n, 1, 1).boxed()
            };
            (
                Just(n),
                consul,
                0..n,
                0..n,
                subset(n, 1, 2),
                subset(n, 0, 3),
                subset(n, 0, 3),
                proptest::sample::subsequence(
                    vec!["consul", "ice_via", "carrier", "admin", "data", "compute"],
                    0..=2,
                ),
                prop_oneof![Just("auto"), Just("systemd"), Just("process")],
                (any::<bool>(), any::<bool>(), any::<bool>()),
                prop_oneof![
                    Just(None),
                    Just(Some("/usr/bin/python3.11")),
                    Just(Some("py/bin/python"))
                ],
                prop_oneof![
                    Just("/opt/metis"),
                    Just("/srv/metis/"),
                    Just("/home/deploy/m")
                ],
            )
        })
        .prop_map(
            |(
                _hosts,
                consul,
                ice_via,
                carrier,
                admin,
                data,
                compute,
                disabled,
                manager,
                (tls, ssl, storage),
                fighter_python,
                deploy_dir,
            )| Shape {
                consul,
                ice_via,
                carrier,
                admin,
                data,
                compute,
                disabled,
                manager,
                tls,
                ssl,
                fighter_python,
                deploy_dir,
                storage,
            },
        )
}

/// The inventory of a shape. Ports never collide: per-host lists step by host position.
fn inventory(s: &Shape) -> String {
    let host = |i: usize| format!("h{i} ansible_host=10.0.0.{}\n", i + 1);
    let mut t = String::new();
    let mut group = |name: &str, members: &[usize]| {
        t += &format!("[{name}]\n");
        for i in members {
            t += &host(*i);
        }
    };
    group("consul", &s.consul);
    group("ice_via", &[s.ice_via]);
    group("carrier", &[s.carrier]);
    group("admin", &s.admin);
    group("data", &s.data);
    group("compute", &s.compute);
    t += "[all:vars]\n";
    let list = |base: u16, k: usize| {
        let v: Vec<String> = (0..k).map(|i| (base + 10 * i as u16).to_string()).collect();
        format!("[{}]", v.join(", "))
    };
    let k = s.consul.len();
    for (var, base) in [
        ("consul_server_port", 8200),
        ("consul_serf_lan_port", 8300),
        ("consul_serf_wan_port", 8400),
        ("consul_http_port", 8500),
        ("consul_dns_port", 8600),
    ] {
        t += &format!("{var} = {}\n", list(base, k));
    }
    t += &format!("data_port = {}\n", list(8700, s.data.len()));
    t += &format!("compute_port = {}\n", list(8800, s.compute.len()));
    t += "mysql_root_password = Root-Pw-1\nadmin_password = Db-Pw-2\npinata_token = Tok-3\n";
    t += "carrier_external_ip = 203.0.113.2\nice_via_external_ip = 203.0.113.4\n";
    t += &format!(
        "service_manager = {}\ndeploy_dir = {}\n",
        s.manager, s.deploy_dir
    );
    for g in &s.disabled {
        t += &format!("enable_deploy_{g} = False\n");
    }
    if s.tls {
        t += "enable_tls = True\nadmin_server_name = admin.example.org\n\
              admin_ssl_certificate = /etc/ssl/a.crt\nadmin_ssl_certificate_key = /etc/ssl/a.key\n";
    }
    if s.ssl {
        t += "ice_protocol = ssl\n";
    }
    if let Some(p) = s.fighter_python {
        t += &format!("fighter_python = {p}\n");
    }
    if s.storage {
        t += "storage_ip = 10.0.9.1\nstorage_port = 9099\n";
    }
    t
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/')
        .map_or("/", |(p, _)| if p.is_empty() { "/" } else { p })
}

/// Every property of one host's plan.
fn check_host(org: &Organization, p: &HostPlan) {
    let host = &p.host;
    // Files: exactly render's, in render's order.
    let files = render::render_host(org, host);
    let planned: Vec<_> = p
        .services
        .iter()
        .flat_map(|s| s.files.iter().map(move |f| (s.name, f)))
        .collect();
    assert_eq!(planned.len(), files.len(), "{host}: files");
    for ((svc, pf), rf) in planned.iter().zip(&files) {
        assert_eq!(*svc, rf.service.name(), "{host} {}", rf.path);
        assert_eq!(pf.path, rf.path);
        assert_eq!(pf.mode.0, rf.mode, "{}", rf.path);
        assert_eq!(
            (&pf.owner, &pf.group),
            (&rf.owner, &rf.group),
            "{}",
            rf.path
        );
        assert_eq!(pf.secret, rf.secret, "{}", rf.path);
        assert_eq!(pf.sha256, rf.sha256(), "{}", rf.path);
    }
    // Health checks: exactly the health plan's checks on this host (by service).
    let checks = health::plan(
        org,
        &Filter {
            services: vec![],
            hosts: vec![host.clone()],
        },
    );
    let mut want: Vec<(String, String, String, String)> = checks
        .iter()
        .map(|c| {
            (
                c.service.name().to_owned(),
                c.name.clone(),
                c.kind.kind_name().to_owned(),
                c.kind.address().map(|a| a.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let mut got: Vec<(String, String, String, String)> = p
        .services
        .iter()
        .flat_map(|s| {
            s.health_checks.iter().map(move |c| {
                (
                    s.name.to_owned(),
                    c.name.clone(),
                    c.kind.to_owned(),
                    c.address.clone(),
                )
            })
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{host}: health checks");
    // Ports: the port table's uses of this host's enabled services.
    let table: Vec<_> = org
        .port_table()
        .into_iter()
        .filter(|u| u.host.name == *host && org.is_enabled(u.service.group()))
        .map(|u| {
            (
                u.service.name(),
                u.purpose,
                u.proto.name(),
                u.first,
                u.last,
                u.variable,
            )
        })
        .collect();
    let ports: Vec<_> = p
        .services
        .iter()
        .flat_map(|s| {
            s.ports
                .iter()
                .map(move |x| (s.name, x.purpose, x.proto, x.port, x.last, x.variable))
        })
        .collect();
    assert_eq!(ports, table, "{host}: ports");
    for s in &p.services {
        for x in &s.ports {
            assert_eq!(
                x.wait,
                x.proto == "tcp" && x.port == x.last,
                "{host} {} {}",
                s.name,
                x.purpose
            );
        }
    }
    // Directories: unique, parents first, and every path the plan writes has its directory.
    let deploy = p.deploy_dir.as_str();
    let mut seen = BTreeSet::new();
    for d in &p.directories {
        assert!(seen.insert(d.path.as_str()), "{host}: {} twice", d.path);
        if d.path != deploy {
            assert!(
                seen.contains(parent(&d.path)),
                "{host}: {} before its parent",
                d.path
            );
        }
        assert_eq!(d.owner, p.service_user, "{}", d.path);
    }
    let has_dir =
        |path: &str| !path.starts_with(&format!("{deploy}/")) || seen.contains(parent(path));
    let mut orders = Vec::new();
    for s in &p.services {
        orders.push(s.order);
        for d in &s.directories {
            assert!(
                p.directories.contains(d),
                "{host} {}: {} not in the host's",
                s.name,
                d.path
            );
        }
        for f in &s.files {
            assert!(has_dir(&f.path), "{host}: no directory for {}", f.path);
        }
        for a in &s.artifacts {
            assert!(has_dir(&a.dest), "{host}: no directory for {}", a.dest);
            if a.kind != "file" {
                assert!(
                    seen.contains(a.dest.as_str()),
                    "{host}: {} unpacks into a missing directory",
                    a.dest
                );
            }
        }
        // Upgrades: the versions of a service's artifacts live in its group's directory, each
        // artifact's previous and staged copies below the release's directories, apart from
        // every other service's and from what runs.
        match &s.release {
            None => assert!(s.artifacts.is_empty(), "{host} {}: no release", s.name),
            Some(r) => {
                assert!(has_dir(&r.version_file), "{host}: {}", r.version_file);
                assert!(r
                    .previous_version_file
                    .starts_with(&format!("{}/", r.previous_dir)));
                for a in &s.artifacts {
                    let kept = a.archive.as_deref().unwrap_or(&a.dest);
                    assert_eq!(a.kept, kept, "{host} {}", a.source);
                    assert_eq!(a.previous, format!("{}/{}", r.previous_dir, a.source));
                    assert_eq!(a.staged, format!("{}/{}", r.staged_dir, a.source));
                    assert_ne!(a.previous, a.kept);
                }
                for o in p.services.iter().filter(|o| o.name != s.name) {
                    if let Some(or) = &o.release {
                        assert_ne!(or.version_file, r.version_file, "{host}");
                        assert_ne!(or.previous_version_file, r.previous_version_file, "{host}");
                    }
                }
            }
        }
        // Backups: a KV backup only on the first consul agent, under the organisation's prefix.
        if let Some(b) = &s.backup {
            assert!(has_dir(&b.path), "{host}: backup {}", b.path);
            if let Some(prefix) = b.kv_prefix {
                assert_eq!(s.name, "consul");
                assert!(s.kv_writes.iter().all(|kv| kv.key.starts_with(prefix)));
            }
        }
        for g in &s.secrets {
            assert!(
                has_dir(&g.path) && g.mode.0 == 0o600,
                "{host}: secret {}",
                g.path
            );
        }
        for f in s.log_file.iter().chain(&s.pid_file) {
            assert!(has_dir(f), "{host}: no directory for {f}");
        }
        // What a unit starts under deploy_dir is installed by the plan.
        if let Some(bin) = s
            .command
            .first()
            .filter(|b| b.starts_with(&format!("{deploy}/")))
        {
            let installed = s.artifacts.iter().any(|a| match a.kind {
                "file" => a.dest == *bin,
                _ => bin.starts_with(&format!("{}/", a.dest)),
            }) || s
                .python_env
                .as_ref()
                .is_some_and(|e| *bin == format!("{}/bin/python", e.path));
            // ... except the interpreter `fighter_python` names, which the user provides.
            let given = s.python_env.is_none() && matches!(s.name, "data" | "compute");
            assert!(
                installed || given,
                "{host} {}: nothing installs {bin}",
                s.name
            );
        }
        if s.unit_file.is_some() {
            assert!(s
                .files
                .iter()
                .any(|f| Some(&f.path) == s.unit_file.as_ref()));
            assert_ne!(
                org.settings.service_manager,
                metis_core::model::ServiceManager::Process
            );
        }
        for pkg in &s.packages {
            assert!(p.packages.contains(pkg));
        }
    }
    assert!(
        orders.windows(2).all(|w| w[0] < w[1]),
        "{host}: start order {orders:?}"
    );
    // The one-host entry point gives the same plan.
    assert_eq!(
        plan::host_plan(org, host),
        *p,
        "{host}: host_plan vs host_plans"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn plans_agree_with_render_health_and_ports(s in shape()) {
        let org = support::org_from_ini("random.ini", &inventory(&s));
        let plans = plan::host_plans(&org);
        let names: Vec<&str> = org.hosts().iter().map(|h| h.name.as_str()).collect();
        prop_assert_eq!(plans.iter().map(|p| p.host.as_str()).collect::<Vec<_>>(), names);
        for p in &plans {
            check_host(&org, p);
        }
        // Every enabled instance is in exactly one plan.
        let enabled = org.instances().iter().filter(|i| org.is_enabled(i.service.group())).count();
        prop_assert_eq!(plans.iter().map(|p| p.services.len()).sum::<usize>(), enabled);
    }
}

#[test]
fn an_idle_host_has_an_empty_plan() {
    let org = support::org();
    let p = plan::host_plan(&org, "not-a-host");
    assert!(p.services.is_empty() && p.packages.is_empty() && p.directories.is_empty());
    assert_eq!(p.host, "not-a-host");
}
