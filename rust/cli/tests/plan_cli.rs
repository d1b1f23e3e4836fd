//! `metis-deploy plan` end to end on the example and upstream inventories: every host's
//! services, units, directories and ports, in text and JSON; `--host` by name or address; the
//! file checksums agree with `render`; and `metis-deploy variables`.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{assert_exit, json, keys, repo, run, s, stderr, temp_dir};

fn example() -> PathBuf {
    repo("inventory.ini")
}

fn upstream() -> PathBuf {
    repo("tests/fixtures/upstream/inventory-v0.5.1.ini")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (host, service) pairs the inventory places, from `render`'s manifest (another command).
fn rendered(inv: &Path) -> Vec<Value> {
    let dir = temp_dir("cli-plan-render");
    let out = run(&[
        "render",
        s(inv),
        "--out",
        s(&dir.join("o")),
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    json(&out).as_array().expect("manifest").clone()
}

#[test]
fn every_host_of_both_inventories_has_its_plan() {
    for (inv, hosts) in [(example(), 3), (upstream(), 6)] {
        let out = run(&["plan", s(&inv), "--format", "json"]);
        assert_exit(&out, 0);
        let v = json(&out);
        assert_eq!(keys(&v), ["hosts"]);
        let plans = v["hosts"].as_array().expect("hosts");
        assert_eq!(plans.len(), hosts, "{}", inv.display());
        let manifest = rendered(&inv);
        for p in plans {
            assert_eq!(
                keys(p),
                [
                    "host",
                    "ip",
                    "cluster_name",
                    "deploy_dir",
                    "service_user",
                    "service_group",
                    "service_manager",
                    "packages",
                    "directories",
                    "services",
                    "options"
                ]
            );
            let host = p["host"].as_str().expect("host");
            let services = p["services"].as_array().expect("services");
            assert!(!services.is_empty(), "{host} runs nothing");
            let mut last_order = 0;
            for svc in services {
                let order = svc["order"].as_u64().expect("order");
                assert!(order >= last_order, "{host}: start order");
                last_order = order;
                let name = svc["name"].as_str().expect("name");
                let unit = svc["unit"].as_str().expect("unit");
                match name {
                    "mysql" => assert_eq!(unit, "mariadb.service"),
                    "nginx" => assert_eq!(unit, "nginx.service"),
                    _ => {
                        assert_eq!(unit, format!("metis-{name}.service"));
                        assert!(svc["command"].as_array().is_some_and(|c| !c.is_empty()));
                        assert!(svc["directories"].as_array().is_some_and(|d| !d.is_empty()));
                    }
                }
                assert!(
                    svc["ports"].as_array().is_some_and(|p| !p.is_empty()),
                    "{name}"
                );
                // Every file the plan names is one `render` writes, with the same checksum.
                for f in svc["files"].as_array().expect("files") {
                    let same = manifest.iter().any(|m| {
                        m["host"] == host
                            && m["service"] == name
                            && m["path"] == f["path"]
                            && m["sha256"] == f["sha256"]
                            && m["mode"] == f["mode"]
                    });
                    assert!(same, "{host} {name} {f}");
                }
            }
        }
        let files: usize = plans
            .iter()
            .flat_map(|p| p["services"].as_array().into_iter().flatten())
            .map(|s| s["files"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(files, manifest.len(), "the plans name every rendered file");

        let text = run(&["plan", s(&inv)]);
        assert_exit(&text, 0);
        let text = stdout(&text);
        for p in plans {
            let host = p["host"].as_str().expect("host");
            assert!(text.contains(&format!("Host {host}")), "{host}");
            for svc in p["services"].as_array().expect("services") {
                assert!(text.contains(svc["unit"].as_str().expect("unit")));
                for d in svc["directories"].as_array().expect("dirs") {
                    assert!(text.contains(d["path"].as_str().expect("path")));
                }
            }
        }
        assert!(text.contains("Service  Purpose"), "port table:\n{text}");
        assert!(!text.contains('\x1b'), "no styling when piped");
    }
}

#[test]
fn one_host_by_name_or_address() {
    let inv = repo("rust/core/tests/fixtures/org.ini");
    let by_name = run(&["plan", s(&inv), "--host", "node6", "--format", "json"]);
    assert_exit(&by_name, 0);
    let by_ip = run(&["plan", s(&inv), "--host", "10.0.0.6", "--format", "json"]);
    assert_exit(&by_ip, 0);
    assert_eq!(json(&by_name), json(&by_ip));
    let p = json(&by_name);
    assert_eq!(p["host"], "node6");
    assert_eq!(p["ip"], "10.0.0.6");
    let names: Vec<&str> = p["services"]
        .as_array()
        .expect("services")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["data", "compute"]);
    let data = &p["services"][0];
    assert_eq!(data["python_env"]["path"], "/opt/metis/data/venv");
    assert_eq!(data["command"][0], "/opt/metis/data/venv/bin/python");
    assert_eq!(data["packages"], serde_json::json!(["python3-venv"]));
    assert_eq!(p["packages"], serde_json::json!(["python3-venv"]));

    let out = run(&["plan", s(&inv), "--host", "10.9.9.9"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no host '10.9.9.9' in the inventory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn admin_plan_expands_jvm_options_and_keeps_debian_units() {
    let inv = repo("rust/core/tests/fixtures/org.ini");
    let out = run(&["plan", s(&inv), "--host", "node3", "--format", "json"]);
    assert_exit(&out, 0);
    let p = json(&out);
    let svc = |name: &str| {
        p["services"]
            .as_array()
            .expect("services")
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    let admin = svc("admin");
    let cmd: Vec<&str> = admin["command"]
        .as_array()
        .expect("command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(cmd[0], "/usr/bin/java");
    assert!(
        cmd.contains(&"-XX:+UseG1GC") && !cmd.iter().any(|w| w.contains('$')),
        "{cmd:?}"
    );
    assert_eq!(
        admin["environment"]["JVM_OPTS"],
        "-Xms512m -Xmx1g -XX:+UseG1GC"
    );
    let mysql = svc("mysql");
    assert_eq!(mysql["unit_file"], Value::Null);
    assert_eq!(mysql["command"], serde_json::json!([]));
    assert_eq!(
        mysql["packages"],
        serde_json::json!(["mariadb-server", "python3-pymysql"])
    );
    assert_eq!(svc("nginx")["unit"], "nginx.service");
    // The admin host's secret file is marked, with its checksum only.
    assert!(admin["files"]
        .as_array()
        .expect("files")
        .iter()
        .any(|f| f["secret"] == true && f["mode"] == "0600"));
    assert!(
        !stdout(&out).contains("pa:ss"),
        "a secret leaked into the plan"
    );
}

#[test]
fn variables_in_every_format() {
    let out = run(&["variables", "--format", "json"]);
    assert_exit(&out, 0);
    let vars = json(&out);
    let list = vars.as_array().expect("list");
    let find = |name: &str| {
        list.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(find("deploy_dir")["default"], "/opt/metis");
    assert_eq!(find("admin_password")["secret"], true);
    assert_eq!(find("admin_password")["required"], true);
    assert_eq!(find("data_port")["ansible_type"], "list");
    assert_eq!(find("data_port")["elements"], "int");
    assert_eq!(
        find("service_manager")["choices"],
        serde_json::json!(["auto", "systemd", "process"])
    );
    let md = run(&["variables", "--format", "markdown"]);
    assert_exit(&md, 0);
    let readme = std::fs::read_to_string(repo("README.md")).expect("README");
    assert!(
        readme.contains(&stdout(&md)),
        "README's variable reference is stale"
    );
}
