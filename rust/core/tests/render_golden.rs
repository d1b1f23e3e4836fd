//! Golden files: every file the fixture organisations and the example inventory (`inventory.ini`
//! at the repository root) render, byte for byte, under
//! `tests/golden/<variant>/<host>/<absolute path>` plus a `MANIFEST` (host, service, mode,
//! secret, path). `UPDATE_GOLDEN=1 cargo test -p metis-core --test render_golden` rewrites them;
//! review the diff before committing. Also: upstream's v0.5.1 inventory renders for every host,
//! with each consul and fighter host's ports taken from the per-host lists by position.

mod support;

use metis_core::model::Organization;
use metis_core::render;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn golden_dir(variant: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(variant)
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.insert(p);
            }
        }
    }
}

fn check(variant: &str, org: &Organization) {
    let dir = golden_dir(variant);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let files = render::render_all(org);
    let mut expected: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| {
            (
                dir.join(&f.host).join(f.path.trim_start_matches('/')),
                f.content.clone(),
            )
        })
        .collect();
    let manifest: String = files
        .iter()
        .map(|f| {
            format!(
                "{} {} {:o} {} {}\n",
                f.host, f.service, f.mode, f.secret, f.path
            )
        })
        .collect();
    expected.push((dir.join("MANIFEST"), manifest));
    if update {
        let _ = std::fs::remove_dir_all(&dir);
        for (p, c) in &expected {
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, c).expect("write");
        }
        return;
    }
    let mut present = BTreeSet::new();
    walk(&dir, &mut present);
    let mut problems = Vec::new();
    for (p, c) in &expected {
        match std::fs::read_to_string(p) {
            Ok(g) if g == *c => {}
            Ok(g) => problems.push(format!(
                "differs: {}\n--- golden\n{g}\n+++ rendered\n{c}",
                p.display()
            )),
            Err(_) => problems.push(format!("missing: {}", p.display())),
        }
        present.remove(p);
    }
    for stale in present {
        problems.push(format!("stale golden file: {}", stale.display()));
    }
    assert!(
        problems.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 rewrites the golden files)",
        problems.join("\n")
    );
}

#[test]
fn golden_fixture() {
    check("fixture", &support::org());
}

#[test]
fn golden_fixture_tls_ssl() {
    check("fixture-tls", &support::org_tls());
}

fn repo_file(rel: &str) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (rel.to_owned(), text)
}

#[test]
fn golden_example_inventory() {
    let (name, text) = repo_file("inventory.ini");
    // The example keeps its secrets out of the file as `{{ lookup('env', ...) }}` templates,
    // which are evaluated from the environment (here: the sandbox's test-only secrets).
    let org = support::org_from_ini_with_env(&name, &text, &support::sandbox_secrets());
    check("example", &org);
    let files = render::render_all(&org);
    assert!(
        files.iter().all(|f| !f.content.contains("{{")),
        "template text rendered"
    );
    for (_, secret) in support::sandbox_secrets() {
        for f in files.iter().filter(|f| f.content.contains(&secret)) {
            assert!(f.secret && f.mode == 0o600, "{} {}", f.host, f.path);
        }
    }
}

/// Upstream's example inventory: no errors, every placed service has its files on its host,
/// and per-host port lists are read by each host's position in its group.
#[test]
fn upstream_v0_5_1_renders_for_every_host() {
    let (name, text) = repo_file("tests/fixtures/upstream/inventory-v0.5.1.ini");
    let org = support::org_from_ini(&name, &text);
    let files = render::render_all(&org);
    let placements = org.placements();
    assert_eq!(org.hosts().len(), 6);
    for (host, service) in &placements {
        assert!(
            files
                .iter()
                .any(|f| f.host == host.name && f.service == *service),
            "no {service} file on {}",
            host.name
        );
    }
    for f in &files {
        assert!(
            placements
                .iter()
                .any(|(h, s)| h.name == f.host && *s == f.service),
            "{} {} is not placed on {}",
            f.service,
            f.path,
            f.host
        );
    }

    let file = |host: &str, suffix: &str| {
        files
            .iter()
            .find(|f| f.host == host && f.path.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} on {host}"))
    };
    // [consul] lists .150, .152, .154: entry i of each list belongs to the i-th host.
    let consul = ["192.168.112.150", "192.168.112.152", "192.168.112.154"];
    assert_eq!(
        org.group_hosts(metis_core::model::Group::Consul)
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>(),
        consul
    );
    for (i, host) in consul.iter().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(&file(host, "/consul/config/consul.json").content)
                .expect("consul.json");
        let i = i as u16;
        assert_eq!(v["bind_addr"], *host);
        assert_eq!(v["ports"]["server"], 8200 + i, "{host}");
        assert_eq!(v["ports"]["serf_lan"], 8300 + i, "{host}");
        assert_eq!(v["ports"]["serf_wan"], 8400 + i, "{host}");
        assert_eq!(v["ports"]["http"], 8500 + i, "{host}");
        assert_eq!(v["ports"]["dns"], 8600 + i, "{host}");
        assert_eq!(v["bootstrap_expect"], 3);
    }
    // The fighters the same way: data_port by [data] position, compute_port by [compute].
    for (hosts, cfg, base) in [
        (["153", "154", "155"], "/data/config/data.yml", 8700),
        (["150", "151", "152"], "/compute/config/compute.yml", 8800),
    ] {
        for (i, last) in hosts.iter().enumerate() {
            let host = format!("192.168.112.{last}");
            let y: serde_yaml_ng::Value =
                serde_yaml_ng::from_str(&file(&host, cfg).content).expect("yaml");
            assert_eq!(y["port"].as_u64(), Some(base + i as u64), "{host} {cfg}");
        }
    }
    // Everyone finds consul at the first consul host's HTTP port.
    let carrier: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&file("192.168.112.151", "/carrier.yml").content).expect("yaml");
    assert_eq!(carrier["discovery-server-ip"].as_str(), Some(consul[0]));
    assert_eq!(carrier["discovery-server-port"].as_u64(), Some(8500));
}
