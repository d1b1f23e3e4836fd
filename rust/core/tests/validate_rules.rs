//! Every validation rule shown on a real inventory file. Each file in `tests/validate/` declares
//! the diagnostics it must produce, and no others:
//!
//! ```text
//! # expect: <error|warning> <code> [@<line number> | @<text the line starts with>]
//! ```

use metis_core::inventory::{Inventory, LoadError};
use metis_core::validate::validate;
use metis_core::Diagnostic;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
struct Expect {
    severity: String,
    code: String,
    line: Option<u32>,
}

fn expectations(path: &Path, text: &str) -> Vec<Expect> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for l in &lines {
        let Some(rest) = l.strip_prefix("# expect:") else {
            continue;
        };
        let mut parts = rest.trim().splitn(3, ' ');
        let severity = parts.next().unwrap_or_default().to_string();
        let code = parts.next().unwrap_or_default().to_string();
        let line = parts.next().map(|anchor| {
            let anchor = anchor
                .strip_prefix('@')
                .unwrap_or_else(|| panic!("{}: bad anchor {anchor}", path.display()));
            anchor.parse().unwrap_or_else(|_| {
                let found = lines
                    .iter()
                    .position(|l| !l.starts_with('#') && l.starts_with(anchor));
                found
                    .unwrap_or_else(|| panic!("{}: no line starts with {anchor:?}", path.display()))
                    as u32
                    + 1
            })
        });
        out.push(Expect {
            severity,
            code,
            line,
        });
    }
    out
}

fn diagnostics(path: &Path) -> Vec<Diagnostic> {
    match Inventory::load(path, false) {
        Ok(inv) => validate(&inv),
        Err(LoadError::Invalid(diags)) => diags,
        Err(e) => panic!("{e}"),
    }
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ini"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_produces_exactly_its_expected_diagnostics() {
    let files = fixtures();
    assert!(files.len() >= 10, "fixtures missing: {files:?}");
    let mut failures = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        let mut missing = expectations(&path, &text);
        let mut unexpected = Vec::new();
        for d in diagnostics(&path) {
            assert!(!d.message.is_empty());
            let line = d.span.as_ref().map(|s| s.line);
            let pos = missing.iter().position(|e| {
                e.severity == d.severity.as_str()
                    && e.code == d.code.as_str()
                    && (e.line.is_none() || e.line == line)
            });
            match pos {
                Some(i) => {
                    missing.remove(i);
                }
                None => unexpected.push(format!(
                    "{} {} line {:?}: {}",
                    d.severity.as_str(),
                    d.code,
                    line,
                    d.message
                )),
            }
        }
        if !missing.is_empty() || !unexpected.is_empty() {
            failures.push(format!(
                "{}:\n  missing: {missing:?}\n  unexpected: {unexpected:#?}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn upstream_v0_5_1_inventory_validates_with_warnings_only() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/upstream/inventory-v0.5.1.ini");
    let diags = diagnostics(&path);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Its default passwords and placeholders are pointed out, each where it is written.
    let weak: Vec<_> = diags
        .iter()
        .filter(|d| d.code.as_str() == "weak-secret")
        .collect();
    assert!(weak.len() >= 10, "{weak:#?}");
    assert!(weak.iter().all(|d| d.span.is_some()));
}

#[test]
fn the_example_inventory_is_clean() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../inventory.ini");
    let diags = diagnostics(&path);
    assert!(diags.is_empty(), "{diags:#?}");
}
