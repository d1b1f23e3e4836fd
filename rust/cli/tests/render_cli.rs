//! `metis-deploy render` end to end: files under `DIR/<host>/<absolute path>` with their modes,
//! the JSON manifest, refusing invalid inventories without writing anything, `--host`.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{
    assert_exit, files_below, json, keys, repo, run, s, stderr, temp_dir, validate_fixture,
};

fn example() -> PathBuf {
    repo("inventory.ini")
}

/// `metis-deploy render <example inventory> --out OUT EXTRA...`
fn render_example(out: &Path, extra: &[&str]) -> Output {
    let example = example();
    let mut args = vec!["render", s(&example), "--out", s(out)];
    args.extend_from_slice(extra);
    run(&args)
}

/// The golden files metis-core keeps for the example inventory.
fn golden() -> PathBuf {
    repo("rust/core/tests/golden/example")
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn writes_every_file_with_its_mode_and_a_json_manifest() {
    let dir = temp_dir("cli-render-all");
    let out = render_example(&dir, &["--format", "json"]);
    assert_exit(&out, 0);
    let manifest = json(&out);
    let entries = manifest.as_array().expect("a JSON list");
    assert!(!entries.is_empty());
    let mut listed = Vec::new();
    let mut golden_manifest = String::new();
    for e in entries {
        assert_eq!(
            keys(e),
            ["host", "service", "path", "mode", "secret", "sha256"]
        );
        let (host, path) = (
            e["host"].as_str().expect("host"),
            e["path"].as_str().expect("path"),
        );
        assert!(path.starts_with('/'), "{path}");
        let rel = Path::new(host).join(path.trim_start_matches('/'));
        let file = dir.join(&rel);
        assert_eq!(
            e["sha256"].as_str(),
            Some(sha256_of(&file).as_str()),
            "{}",
            rel.display()
        );
        let secret = e["secret"].as_bool().expect("secret");
        let want = if secret { 0o600 } else { 0o644 };
        assert_eq!(mode(&file), want, "{}", rel.display());
        assert_eq!(e["mode"], format!("{want:04o}"));
        // Same bytes as metis-core's golden files of this inventory.
        let golden = std::fs::read(golden().join(&rel)).expect("golden file");
        assert_eq!(
            std::fs::read(&file).expect("written"),
            golden,
            "{}",
            rel.display()
        );
        golden_manifest += &format!(
            "{host} {} {want:o} {secret} {path}\n",
            e["service"].as_str().expect("service")
        );
        listed.push(rel);
    }
    assert!(entries.iter().any(|e| e["secret"] == true));
    // Nothing written that the manifest does not list, and the manifest is the golden one.
    listed.sort();
    assert_eq!(files_below(&dir), listed);
    assert_eq!(
        std::fs::read_to_string(golden().join("MANIFEST")).expect("golden MANIFEST"),
        golden_manifest
    );
}

#[test]
fn text_format_lists_one_line_per_file() {
    let dir = temp_dir("cli-render-text");
    let out = run(&["render", s(&example()), "--out", s(&dir)]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), files_below(&dir).len());
    assert!(
        text.contains(
            "198.51.100.13 admin    0600 secret /opt/metis/admin/config/application-admin.yml"
        ),
        "{text}"
    );
}

#[test]
fn invalid_inventory_exits_1_and_writes_nothing() {
    let dir = temp_dir("cli-render-invalid");
    let out_dir = dir.join("out");
    let out = run(&[
        "render",
        s(&validate_fixture("port_conflicts.ini")),
        "--out",
        s(&out_dir),
    ]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("error[port-conflict]"), "{err}");
    assert!(
        err.contains("error: not rendering: the inventory has errors"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert!(!out_dir.exists(), "nothing may be written");
}

#[test]
fn host_filter_renders_one_host_and_unknown_host_exits_2() {
    let dir = temp_dir("cli-render-host");
    let out = render_example(&dir, &["--host", "198.51.100.12", "--format", "json"]);
    assert_exit(&out, 0);
    let manifest = json(&out);
    let entries = manifest.as_array().expect("list");
    let services: Vec<&str> = entries
        .iter()
        .map(|e| e["service"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        services,
        ["consul", "consul", "carrier", "carrier", "data", "data", "compute", "compute"]
    );
    assert!(entries.iter().all(|e| e["host"] == "198.51.100.12"));
    let written = files_below(&dir);
    assert_eq!(written.len(), 8);
    assert!(
        written.iter().all(|p| p.starts_with("198.51.100.12")),
        "{written:?}"
    );

    let other = temp_dir("cli-render-host-unknown");
    let out_dir = other.join("out");
    let out = render_example(&out_dir, &["--host", "10.9.9.9"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no host '10.9.9.9' in the inventory (hosts: "),
        "{}",
        stderr(&out)
    );
    assert!(!out_dir.exists());
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp_dir("cli-render-usage");
    for args in [
        vec!["render", "inventory.ini"],
        vec!["render", "--out", "x"],
        vec!["render", "/nonexistent/inventory.ini", "--out", "x"],
        vec!["render", "inventory.ini", "--out", "x", "--format", "yaml"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_metis-deploy"))
            .args(&args)
            .current_dir(&*dir)
            .output()
            .expect("run");
        assert_exit(&out, 2);
    }
    assert!(files_below(&dir).is_empty());
}

#[test]
fn unset_environment_secrets_are_refused_by_name_without_writing() {
    let dir = temp_dir("cli-render-noenv");
    let example = example();
    let out = support::run_without_secrets(&["render", s(&example), "--out", s(&dir)]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("error[template]: `mysql_root_password` reads environment variable METIS_MYSQL_ROOT_PASSWORD, which is not set"),
        "{err}"
    );
    assert!(err.contains("export METIS_ADMIN_DB_PASSWORD=..."), "{err}");
    assert!(files_below(&dir).is_empty());
}
