//! Hostile input through the binary: no crash, no hang, no secret echoed, no write through a
//! link, and the documented JSON in every case.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};
use support::{assert_exit, json, repo, run, s, stderr, temp_dir};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `text` to `dir/name` and returns the path as a string.
fn file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    s(&p).to_owned()
}

#[test]
fn a_long_chain_of_signs_is_a_located_error_not_a_crash() {
    let dir = temp_dir("hostile-signs");
    for (name, line) in [
        (
            "vars",
            format!("[all:vars]\nx = {}1\n", "-".repeat(100_000)),
        ),
        (
            "host",
            format!("[g]\n10.0.0.1 x={}1\n", "+-".repeat(50_000)),
        ),
        (
            "ops",
            format!("[all:vars]\nx = 1{}\n", "+1".repeat(100_000)),
        ),
    ] {
        let path = file(&dir, &format!("{name}.ini"), &line);
        for format in ["text", "json"] {
            let out = run(&["validate", &path, "--format", format]);
            assert_exit(&out, 1);
            let shown = if format == "json" {
                json(&out).to_string()
            } else {
                stderr(&out)
            };
            assert!(
                shown.contains("nested more than 1000 levels"),
                "{name}: {shown}"
            );
            assert!(shown.contains("syntax"), "{name}: {shown}");
            assert!(shown.len() < 4000, "{name}: {} bytes", shown.len());
        }
        let out = run(&["inventory", "--list", &path]);
        assert_exit(&out, 1);
    }
}

#[test]
fn unreadable_input_still_gives_the_json_document() {
    let dir = temp_dir("hostile-unreadable");
    let latin1 = dir.join("latin1.ini");
    std::fs::write(&latin1, b"[g]\n\xe9\n").expect("write");
    for path in ["/nonexistent/inventory.ini", s(&latin1), "/dev/zero"] {
        let started = Instant::now();
        let out = run(&["validate", path, "--format", "json"]);
        assert!(started.elapsed() < Duration::from_secs(20), "{path}");
        assert_exit(&out, 2);
        let doc = json(&out);
        assert_eq!(doc["valid"], false, "{doc}");
        assert_eq!(doc["diagnostics"][0]["code"], "unreadable-input", "{doc}");
        assert_eq!(doc["diagnostics"][0]["severity"], "error", "{doc}");
    }
    let out = run(&["validate", "/dev/zero"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("larger than 64 MiB"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_unparseable_line_echoes_a_secret() {
    let dir = temp_dir("hostile-secrets");
    let secret = "S3cretXyz";
    let lines = [
        format!("[g]\n127.0.1.3 admin_password=\"{secret}\n"),
        format!("[g]\n127.0.1.3 admin_password= {secret}\n"),
        format!("[g]\n127.0.1.3 admin_password={{\"{secret}\", []}}\n"),
        format!("[all:vars]\nadmin_password = {{\"{secret}\", []}}\n"),
        format!("[g]\n127.0.1.3 admin_password=a\\ {secret}\n"),
        format!("[g]\n127.0.1.3 ansible_become_passwd={{\"a\", \"{secret} x\"}}\n"),
        format!("[g:children]\nadmin_password={secret}\n"),
        format!(
            "[g]\n127.0.1.3 mysql_root_password={}{secret}\n",
            "-".repeat(2000)
        ),
    ];
    for (i, text) in lines.iter().enumerate() {
        let path = file(&dir, &format!("s{i}.ini"), text);
        for args in [
            vec!["validate", path.as_str()],
            vec!["validate", path.as_str(), "--format", "json"],
            vec!["inventory", "--list", path.as_str()],
            vec!["render", path.as_str(), "--out", s(&dir)],
        ] {
            let out = run(&args);
            // `inventory --list` prints the values of a valid inventory, as Ansible does.
            let listed = args[0] == "inventory" && out.status.success();
            if !listed {
                assert_exit(&out, 1);
            }
            let all = if listed {
                stderr(&out)
            } else {
                format!("{}{}", stdout(&out), stderr(&out))
            };
            assert!(
                !all.contains(secret),
                "{args:?} on {text:?} echoed it:\n{all}"
            );
        }
    }
}

#[test]
fn very_long_bad_lines_are_shortened() {
    let dir = temp_dir("hostile-long");
    let path = file(
        &dir,
        "long.ini",
        &format!("[g]\n[{}\n", "x ".repeat(1_000_000)),
    );
    let out = run(&["validate", &path]);
    assert_exit(&out, 1);
    assert!(
        out.stderr.len() < 8_000,
        "{} bytes of stderr",
        out.stderr.len()
    );
    let out = run(&["validate", &path, "--format", "json"]);
    assert!(
        out.stdout.len() < 8_000,
        "{} bytes of stdout",
        out.stdout.len()
    );
}

#[test]
fn host_ranges_stop_at_the_hosts_cap() {
    let dir = temp_dir("hostile-ranges");
    let text: String = (0..8)
        .map(|i| format!("[g{i}]\nh{i}_[0:999999]\n"))
        .collect();
    let path = file(&dir, "ranges.ini", &text);
    let started = Instant::now();
    let out = run(&["validate", &path, "--format", "json"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_exit(&out, 1);
    let doc = json(&out);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "too-large", "{doc}");
    assert_eq!(d["line"], 2, "{doc}");
}

#[test]
fn diamonds_chains_and_loops_of_groups_are_fast() {
    let dir = temp_dir("hostile-groups");
    // 28 levels, each level's two groups children of both groups of the next level.
    let mut diamond = String::from("[l0a]\n10.0.0.1\n[l0b]\n10.0.0.2\n");
    for i in 1..28 {
        for side in ["a", "b"] {
            diamond += &format!("[l{i}{side}:children]\nl{}a\nl{}b\n", i - 1, i - 1);
        }
    }
    diamond += "[all:vars]\nx = 1\n";
    // A chain of 20,000 groups.
    let mut chain = String::from("[c0]\n10.0.0.1\n");
    for i in 1..20_000 {
        chain += &format!("[c{i}:children]\nc{}\n", i - 1);
    }
    let looped = format!("{chain}[c0:children]\nc19999\n");
    for (name, text, code) in [
        ("diamond", diamond, 1),
        ("chain", chain, 1),
        ("loop", looped, 1),
    ] {
        let path = file(&dir, &format!("{name}.ini"), &text);
        let started = Instant::now();
        let out = run(&["validate", &path]);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name}: {:?}",
            started.elapsed()
        );
        assert_exit(&out, code);
        let out = run(&["inventory", "--list", &path]);
        assert!(started.elapsed() < Duration::from_secs(40), "{name}");
        if name == "loop" {
            assert_exit(&out, 1);
            assert!(
                stderr(&out).contains(
                    "Adding group 'c19999' as child to 'c0' creates a recursive dependency loop"
                ),
                "{}",
                stderr(&out)
            );
        } else {
            assert_exit(&out, 0);
        }
    }
}

#[test]
fn from_json_loops_infinity_and_markers() {
    let dir = temp_dir("hostile-json");
    let looped = file(
        &dir,
        "loop.json",
        r#"{"all": {"children": ["a"]}, "a": {"children": ["b"]}, "b": {"children": ["a"]}}"#,
    );
    let started = Instant::now();
    for cmd in ["validate", "inventory"] {
        let out = run(&[cmd, "--from-json", &looped]);
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("'a' -> 'b' -> 'a'"),
            "{}",
            stderr(&out)
        );
    }
    // What ansible-inventory prints for a value of inf, and a marker-looking text.
    let ansible = file(
        &dir,
        "inf.json",
        r#"{"_meta": {"hostvars": {"h": {"x": Infinity, "y": -Infinity, "z": NaN, "t": "\u0001bigint:12", "n": 123456789012345678901234567890}}},
            "all": {"children": ["ungrouped"]}, "ungrouped": {"hosts": ["h"]}}"#,
    );
    let out = run(&["inventory", "--list", "--from-json", &ansible]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    for want in [
        "\"x\": Infinity",
        "\"y\": -Infinity",
        "\"z\": NaN",
        "\"t\": \"\\u0001bigint:12\"",
        "\"n\": 123456789012345678901234567890",
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
}

#[test]
fn render_never_writes_through_a_link() {
    let dir = temp_dir("hostile-render");
    let example = repo("inventory.ini");
    let out_dir = dir.join("out");
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&out_dir).expect("out");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");

    // A host directory that is a link.
    std::os::unix::fs::symlink(&elsewhere, out_dir.join("198.51.100.13")).expect("link");
    let out = run(&["render", s(&example), "--out", s(&out_dir)]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("is a link"), "{}", stderr(&out));
    assert!(support::files_below(&elsewhere).is_empty());
    std::fs::remove_file(out_dir.join("198.51.100.13")).expect("unlink");

    // A directory further down that is a link.
    std::fs::create_dir_all(out_dir.join("198.51.100.13")).expect("host dir");
    std::os::unix::fs::symlink(&elsewhere, out_dir.join("198.51.100.13/opt")).expect("link");
    let out = run(&["render", s(&example), "--out", s(&out_dir)]);
    assert_exit(&out, 1);
    assert!(support::files_below(&elsewhere).is_empty());
    std::fs::remove_file(out_dir.join("198.51.100.13/opt")).expect("unlink");

    // A link planted where the secret file goes, and a hard link to a file that is replaced.
    let secret_file = out_dir.join("198.51.100.13/opt/metis/admin/config/application-admin.yml");
    std::fs::create_dir_all(secret_file.parent().expect("parent")).expect("dirs");
    let victim = elsewhere.join("victim");
    std::fs::write(&victim, "untouched").expect("victim");
    std::os::unix::fs::symlink(&victim, &secret_file).expect("planted link");
    let unit = out_dir.join("198.51.100.13/etc/systemd/system/metis-admin.service");
    std::fs::create_dir_all(unit.parent().expect("parent")).expect("dirs");
    std::fs::write(&unit, "old").expect("old unit");
    let other_link = elsewhere.join("hard");
    std::fs::hard_link(&unit, &other_link).expect("hard link");
    let out = run(&["render", s(&example), "--out", s(&out_dir)]);
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "untouched"
    );
    let meta = std::fs::symlink_metadata(&secret_file).expect("written");
    assert!(meta.file_type().is_file());
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&other_link).expect("hard"), "old");
    assert_ne!(
        std::fs::metadata(&unit).expect("unit").ino(),
        std::fs::metadata(&other_link).expect("hard").ino()
    );
    // No temporary file left behind.
    assert!(support::files_below(&out_dir)
        .iter()
        .all(|p| !p.to_string_lossy().contains("metis-tmp")));
}
