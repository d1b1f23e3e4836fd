//! Ansible is the oracle: every INI file of `tests/fixtures/inventories/` must read exactly as
//! `ansible-inventory -i FILE --list` reads it, and every file of `refused/` must be refused by
//! both. Skipped (with a message) only where `ansible-inventory` is not installed and `CI` is unset.

use metis_core::inventory::{ini, Inventory};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/inventories")
}

fn ini_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ini"))
        .collect();
    v.sort();
    v
}

fn ansible_available() -> bool {
    let found = Command::new("ansible-inventory")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "ansible-inventory is not installed, but CI must run the oracle tests (pip install ansible-core)"
        );
        eprintln!("SKIPPED: ansible-inventory not found on PATH; install ansible-core to run the oracle tests");
    }
    found
}

/// Runs `ansible-inventory --list` on every file, a few at a time, in a hermetic environment.
fn run_oracle(files: &[PathBuf], tag: &str) -> Vec<Output> {
    let tmp = std::env::temp_dir().join(format!("metis-oracle-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(tmp.join("home")).expect("temp home");
    std::fs::create_dir_all(tmp.join("tmp")).expect("temp dir");
    let mut outputs: Vec<Option<Output>> = vec![None; files.len()];
    let parallel = 4;
    for chunk_start in (0..files.len()).step_by(parallel) {
        let end = (chunk_start + parallel).min(files.len());
        let children: Vec<_> = (chunk_start..end)
            .map(|i| {
                Command::new("ansible-inventory")
                    .arg("-i")
                    .arg(&files[i])
                    .arg("--list")
                    .current_dir(&tmp)
                    .env("HOME", tmp.join("home"))
                    .env("ANSIBLE_LOCAL_TEMP", tmp.join("tmp"))
                    .env("ANSIBLE_INVENTORY_ENABLED", "ini")
                    .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
                    .env("ANSIBLE_CONFIG", tmp.join("none.cfg"))
                    .env("ANSIBLE_NOCOLOR", "1")
                    .env("PYTHONHASHSEED", "0")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn ansible-inventory")
            })
            .collect();
        for (i, c) in (chunk_start..end).zip(children) {
            outputs[i] = Some(c.wait_with_output().expect("ansible-inventory output"));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    outputs.into_iter().map(|o| o.expect("ran")).collect()
}

fn ours(path: &Path) -> Result<Inventory, Vec<metis_core::Diagnostic>> {
    let text = std::fs::read_to_string(path).expect("fixture is UTF-8");
    let name: Arc<str> = path.display().to_string().into();
    ini::parse(&name, &text)
}

#[test]
fn corpus_matches_ansible_inventory() {
    let files = ini_files(&corpus());
    assert!(
        files.len() >= 25,
        "the corpus holds at least 25 inventories"
    );
    if !ansible_available() {
        return;
    }
    let outputs = run_oracle(&files, "ok");
    let mut failures = Vec::new();
    for (path, out) in files.iter().zip(outputs) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !out.status.success() {
            failures.push(format!(
                "{name}: ansible-inventory refused it:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let expected: serde_json::Value = match serde_json::from_slice(&out.stdout) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: oracle printed non-JSON ({e})"));
                continue;
            }
        };
        match ours(path) {
            Err(d) => failures.push(format!("{name}: we refused it: {d:?}")),
            Ok(inv) => {
                let got = inv.to_list_json();
                if got != expected {
                    failures.push(format!(
                        "{name}: differs\n--- ours\n{}\n--- ansible-inventory\n{}",
                        serde_json::to_string_pretty(&got).unwrap_or_default(),
                        serde_json::to_string_pretty(&expected).unwrap_or_default()
                    ));
                }
                // Our printed text parses to the same JSON too.
                let text: serde_json::Value =
                    serde_json::from_str(&inv.to_list_json_string()).expect("our --list is JSON");
                if text != expected {
                    failures.push(format!("{name}: printed text differs from the value"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn refused_files_are_refused_by_both() {
    let files = ini_files(&corpus().join("refused"));
    assert!(!files.is_empty());
    // Our side first: it needs no Ansible.
    for path in &files {
        let diags = match ours(path) {
            Ok(_) => panic!("{} should be refused", path.display()),
            Err(d) => d,
        };
        assert!(!diags.is_empty());
        for d in &diags {
            assert_eq!(
                d.code,
                metis_core::Code::Syntax,
                "{}: {d:?}",
                path.display()
            );
            let span = d.span.as_ref().expect("located");
            assert!(span.line >= 1, "{}: {d:?}", path.display());
            assert!(d.hint.is_some(), "{}: {d:?}", path.display());
        }
    }
    if !ansible_available() {
        return;
    }
    for (path, out) in files.iter().zip(run_oracle(&files, "refused")) {
        assert!(
            !out.status.success(),
            "ansible-inventory accepted {}",
            path.display()
        );
    }
}
