//! Shared by the `metis-deploy` end-to-end tests: running the binary, paths into the
//! repository, temporary directories.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../../core/tests/support/report_keys.rs"]
mod report_keys;
#[path = "../../../core/tests/support/temp.rs"]
mod temp;
pub use report_keys::{CHECK_KEYS, REPORT_KEYS};
pub use temp::{temp_dir, TempDir};

/// A path relative to the repository root.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A validation fixture of metis-core (`rust/core/tests/validate/NAME`).
pub fn validate_fixture(name: &str) -> PathBuf {
    repo("rust/core/tests/validate").join(name)
}

/// `metis-deploy` with the sandbox's test-only secrets exported, as a user of the example
/// inventory would (`tests/fixtures/sandbox-secrets.env`).
pub fn metis_deploy() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_metis-deploy"));
    cmd.envs(sandbox_secrets());
    cmd
}

/// Runs `metis-deploy ARGS` with the sandbox's test-only secrets exported.
pub fn run(args: &[&str]) -> Output {
    metis_deploy()
        .args(args)
        .output()
        .expect("run metis-deploy")
}

/// Runs `metis-deploy ARGS` with none of the sandbox secrets in the environment.
pub fn run_without_secrets(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_metis-deploy"));
    for (k, _) in sandbox_secrets() {
        cmd.env_remove(k);
    }
    cmd.args(args).output().expect("run metis-deploy")
}

/// `NAME=value` pairs of `tests/fixtures/sandbox-secrets.env`.
pub fn sandbox_secrets() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo("tests/fixtures/sandbox-secrets.env"))
        .expect("sandbox-secrets.env");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// stdout parsed as JSON.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// The keys of a JSON object, in order.
pub fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// Asserts the exit code and that stderr says `says`, showing stderr when not.
pub fn assert_refused(out: &Output, code: i32, says: &str) {
    assert_exit(out, code);
    let err = stderr(out);
    assert!(err.contains(says), "stderr does not say {says:?}:\n{err}");
}

/// Every file below `dir`, relative to it, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
