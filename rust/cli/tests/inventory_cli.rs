//! `metis-deploy inventory --list` end to end: byte for byte what `ansible-inventory --list`
//! (ansible-core 2.19) printed for corpus files, kept in `tests/expected/NAME.list.json`
//! (regenerate with `ansible-inventory -i tests/fixtures/inventories/NAME.ini --list`; the
//! metis-core oracle test compares the whole corpus with a live ansible-inventory).

mod support;

use support::{assert_exit, repo, run, s, stderr, temp_dir};

fn corpus(name: &str) -> std::path::PathBuf {
    repo("tests/fixtures/inventories").join(name)
}

#[test]
fn list_prints_what_ansible_inventory_prints() {
    for name in ["04_precedence", "07_containers", "28_metis_like"] {
        let out = run(&[
            "inventory",
            "-i",
            s(&corpus(&format!("{name}.ini"))),
            "--list",
        ]);
        assert_exit(&out, 0);
        let expected = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/expected")
                .join(format!("{name}.list.json")),
        )
        .expect("expected JSON");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{name}");
    }
}

#[test]
fn refused_and_unreadable_inventories() {
    let refused = repo("tests/fixtures/inventories/refused");
    let first = std::fs::read_dir(&refused)
        .expect("refused corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ini"))
        .min()
        .expect("a refused file");
    let out = run(&["inventory", "-i", s(&first), "--list"]);
    assert_exit(&out, 1);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("error["), "{}", stderr(&out));

    assert_exit(
        &run(&["inventory", "-i", "/nonexistent/inventory.ini", "--list"]),
        2,
    );
    let dir = temp_dir("cli-inventory-json");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{not json").expect("write");
    let out = run(&["inventory", "-i", s(&bad), "--from-json", "--list"]);
    assert_exit(&out, 2);
    assert_exit(&run(&["inventory", "--list"]), 2);
}

/// `--from-json` reads back what `--list` printed: the same listing again.
#[test]
fn list_json_round_trips() {
    let dir = temp_dir("cli-inventory-roundtrip");
    let listed = dir.join("listed.json");
    let out = run(&["inventory", "-i", s(&corpus("28_metis_like.ini")), "--list"]);
    assert_exit(&out, 0);
    std::fs::write(&listed, &out.stdout).expect("write");
    let again = run(&["inventory", "-i", s(&listed), "--from-json", "--list"]);
    assert_exit(&again, 0);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&out.stdout)
    );
}
