//! Golden files: every file the fixture organisations render, byte for byte, under
//! `tests/golden/<variant>/<host>/<absolute path>` plus a `MANIFEST` (host, service, mode,
//! secret, path). `UPDATE_GOLDEN=1 cargo test -p metis-core --test render_golden` rewrites them;
//! review the diff before committing.

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
