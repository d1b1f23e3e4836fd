//! `metis-deploy health` end to end, against an organisation on an unused loopback address
//! (127.0.9.x) where nothing listens: every check fails fast with "refused". Exit codes, the
//! JSON report's shape, `--service`, `--host`, `--timeout` and usage errors.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{assert_exit, json, keys, run, stderr, temp_dir, TempDir, CHECK_KEYS, REPORT_KEYS};

/// Every group on `ip`, consul's HTTP API on `consul_http`, upstream's default ports otherwise.
fn inventory(dir: &TempDir, ip: &str, consul_http: u16) -> PathBuf {
    let text = format!(
        "[consul]\n{ip}\n[ice_via]\n{ip}\n[carrier]\n{ip}\n[admin]\n{ip}\n[data]\n{ip}\n[compute]\n{ip}\n\
         [all:vars]\n\
         consul_server_port = [8300]\nconsul_serf_lan_port = [8301]\nconsul_serf_wan_port = [8302]\n\
         consul_http_port = [{consul_http}]\nconsul_dns_port = [8600]\n\
         mysql_root_password = \"{{{{ vault_mysql_root_password }}}}\"\n\
         admin_password = \"{{{{ vault_admin_password }}}}\"\n\
         carrier_external_ip = {ip}\nice_via_external_ip = {ip}\n\
         storage_ip = {ip}\nstorage_port = 9099\n\
         data_port = [8700]\ncompute_port = [8800]\n"
    );
    let path = dir.join("inventory.ini");
    std::fs::write(&path, text).expect("inventory");
    path
}

fn health(path: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["health", "-i", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn nothing_listening_exits_1_with_the_json_report() {
    let dir = temp_dir("cli-health-refused");
    let inv = inventory(&dir, "127.0.9.1", 8500);
    let out = health(&inv, &["--format", "json", "--timeout", "1000"]);
    assert_exit(&out, 1);
    let report = json(&out);
    assert_eq!(keys(&report), REPORT_KEYS);
    assert_eq!(report["healthy"], false);
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 22, "{checks:#?}");
    for c in checks {
        assert_eq!(keys(c), CHECK_KEYS);
        assert_eq!(c["host"], "127.0.9.1");
        assert_eq!(c["address"], "127.0.9.1");
        assert_eq!(c["outcome"], "refused", "{c}");
        assert_eq!(c["attempts"], 1, "{c}");
        assert_eq!(c["ok"], false, "{c}");
        assert!(c["check"].is_string() && c["service"].is_string());
        assert!(c["elapsed_ms"].as_u64().is_some_and(|ms| ms < 1000), "{c}");
        assert!(
            c["detail"].as_str().is_some_and(|d| d.contains("refused")),
            "{c}"
        );
    }
    let services: Vec<&str> = checks
        .iter()
        .filter_map(|c| c["service"].as_str())
        .collect();
    for s in [
        "consul", "icegrid", "glacier2", "carrier", "mysql", "admin", "nginx", "data", "compute",
    ] {
        assert!(services.contains(&s), "no {s} check in {services:?}");
    }
    assert_eq!(services.first(), Some(&"consul"));
    assert_eq!(services.last(), Some(&"compute"));
}

#[test]
fn table_format_and_filters() {
    let dir = temp_dir("cli-health-filters");
    let inv = inventory(&dir, "127.0.9.1", 8500);
    let out = health(&inv, &[]);
    assert_exit(&out, 1);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.ends_with("22 check(s), 22 failed: unhealthy\n"),
        "{table}"
    );

    let out = health(&inv, &["--service", "consul", "--format", "json"]);
    assert_exit(&out, 1);
    let report = json(&out);
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 6, "{checks:#?}");
    assert!(checks.iter().all(|c| c["service"] == "consul"));

    let out = health(
        &inv,
        &[
            "--service",
            "mysql",
            "--service",
            "nginx",
            "--host",
            "127.0.9.1",
            "--format",
            "json",
        ],
    );
    assert_exit(&out, 1);
    let report = json(&out);
    let services: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["service"].as_str())
        .collect();
    assert_eq!(services, ["mysql", "nginx"]);
}

/// A listener that accepts (the kernel completes the handshake) but never answers: each check
/// of consul's API ends at `--timeout`, and they run concurrently.
#[test]
fn timeout_bounds_each_check() {
    let dir = temp_dir("cli-health-timeout");
    let (silent, port) = silent_listener("127.0.9.2");
    let inv = inventory(&dir, "127.0.9.2", port);
    let t = Instant::now();
    let out = health(
        &inv,
        &[
            "--service",
            "consul",
            "--timeout",
            "300",
            "--format",
            "json",
        ],
    );
    let took = t.elapsed();
    assert_exit(&out, 1);
    let report = json(&out);
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 6);
    for c in checks {
        let ms = c["elapsed_ms"].as_u64().expect("elapsed_ms");
        assert!((250..1500).contains(&ms), "{c}");
        assert!(
            c["detail"].as_str().is_some_and(|d| d.contains("300 ms")),
            "{c}"
        );
    }
    assert!(took < Duration::from_millis(3000), "{took:?}");
    drop(silent);
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp_dir("cli-health-usage");
    let inv = inventory(&dir, "127.0.9.1", 8500);
    for (extra, says) in [
        (&["--service", "redis"][..], "unknown service 'redis'"),
        (&["--timeout", "0"][..], "--timeout"),
        (&["--format", "yaml"][..], "yaml"),
        (
            &["--host", "10.1.2.3"][..],
            "no host '10.1.2.3' in the inventory",
        ),
    ] {
        let out = health(&inv, extra);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(says), "{extra:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{extra:?}");
    }
    assert_exit(&run(&["health"]), 2);
    assert_exit(&run(&["health", "/nonexistent/inventory.ini"]), 2);
}

/// A listener that never answers, on an ephemeral port outside the fighters' task port ranges
/// (which the validator rightly refuses to share with consul's http port).
fn silent_listener(ip: &str) -> (TcpListener, u16) {
    use metis_core::model::defaults::{COMPUTE_TASK_PORTS, DATA_TASK_PORTS};
    let taken = |p: u16| {
        [DATA_TASK_PORTS, COMPUTE_TASK_PORTS]
            .iter()
            .any(|(a, b)| (*a..=*b).contains(&p))
    };
    loop {
        let l = TcpListener::bind((ip, 0)).expect("bind a loopback address");
        let port = l.local_addr().expect("addr").port();
        if !taken(port) {
            return (l, port);
        }
    }
}
