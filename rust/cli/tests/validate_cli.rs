//! The `metis-deploy validate` contract: exit codes, text and JSON output.

mod support;

use support::{json, keys, run, temp_dir, validate_fixture as fixture};

#[test]
fn valid_inventory_exits_0() {
    let out = run(&["validate", fixture("ok_minimal.ini").to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn errors_exit_1_and_are_located_like_rustc() {
    let path = fixture("port_conflicts.ini");
    let out = run(&["validate", "-i", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("error[port-conflict]: port conflict on host 10.0.0.1"),
        "{text}"
    );
    assert!(
        text.contains(&format!("--> {}:26:1", path.display())),
        "{text}"
    );
    assert!(text.contains("26 | admin_web_port = 8500"), "{text}");
    assert!(
        text.contains("= hint: change consul_http_port or admin_web_port"),
        "{text}"
    );
}

#[test]
fn json_output_has_the_documented_shape() {
    let out = run(&[
        "validate",
        fixture("port_conflicts.ini").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["valid"], false);
    let diags = doc["diagnostics"].as_array().expect("diagnostics");
    assert!(!diags.is_empty());
    for d in diags {
        assert_eq!(
            keys(d),
            ["severity", "code", "message", "file", "line", "column", "hint"]
        );
        assert!(d["severity"] == "error" || d["severity"] == "warning");
    }
    assert!(diags
        .iter()
        .any(|d| d["code"] == "port-conflict" && d["line"] == 26 && d["column"] == 1));
}

#[test]
fn warnings_pass_unless_strict() {
    let path = fixture("multiple_admins.ini");
    let out = run(&["validate", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["valid"], true);
    let out = run(&[
        "validate",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["valid"], false);
}

#[test]
fn syntax_errors_exit_1_with_their_line() {
    let out = run(&[
        "validate",
        fixture("syntax_error.ini").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["diagnostics"][0]["code"], "syntax");
    assert_eq!(doc["diagnostics"][0]["line"], 5);
}

#[test]
fn unreadable_input_and_usage_errors_exit_2() {
    let out = run(&["validate", "/nonexistent/inventory.ini"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("cannot read inventory /nonexistent/inventory.ini"));
    let dir = temp_dir("cli-validate");
    let bad = dir.join("latin1.ini");
    std::fs::write(&bad, b"[consul]\n\xe9\n").unwrap();
    assert_eq!(
        run(&["validate", bad.to_str().unwrap()]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["validate"]).status.code(), Some(2));
    assert_eq!(
        run(&["validate", "x.ini", "--format", "yaml"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn secret_values_are_never_printed() {
    let path = fixture("mistyped_and_secrets.ini");
    let secrets = ["Xk9-long-but-plaintext", "123456"];
    for format in ["text", "json"] {
        let out = run(&["validate", path.to_str().unwrap(), "--format", format]);
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(printed.contains("mysql_root_password"), "{printed}");
        for s in secrets {
            assert!(
                !printed.contains(s),
                "{format} output shows a secret ({s}):\n{printed}"
            );
        }
    }
}

#[test]
fn json_input_reports_each_finding_once() {
    let dir = temp_dir("cli-validate-from-json");
    let listed = run(&[
        "inventory",
        "--list",
        "-i",
        "../../tests/fixtures/upstream/inventory-v0.5.1.ini",
    ]);
    assert_eq!(listed.status.code(), Some(0));
    let path = dir.join("upstream.json");
    std::fs::write(&path, &listed.stdout).unwrap();
    let out = run(&[
        "validate",
        "--from-json",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc = json(&out);
    assert_eq!(doc["valid"], true, "{doc}");
    let diags = doc["diagnostics"].as_array().expect("diagnostics");
    let mut seen = std::collections::HashSet::new();
    for d in diags {
        assert!(
            seen.insert((d["code"].to_string(), d["message"].to_string())),
            "repeated: {d}"
        );
    }
    assert!(diags.iter().any(|d| d["code"] == "weak-secret"));
}
