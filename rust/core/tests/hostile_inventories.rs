//! Hostile inventories, in-process: every class of input that crashed, hung or blew up the
//! readers ends in a located diagnostic, quickly, on a thread with a small stack.

use metis_core::inventory::{ini, json, Inventory};
use metis_core::{Code, Diagnostic, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn name() -> Arc<str> {
    "hostile.ini".into()
}

/// Runs `f` on a thread with a 1 MiB stack (an Ansible worker's thread may have no more) and
/// within `secs` seconds.
fn small_stack<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let started = Instant::now();
    let out = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no panic, no stack overflow");
    assert!(
        started.elapsed() < Duration::from_secs(secs),
        "took {:?}",
        started.elapsed()
    );
    out
}

fn refused(text: String) -> Diagnostic {
    small_stack(30, move || {
        let mut d = ini::parse(&name(), &text).expect_err("refused");
        d.remove(0)
    })
}

#[test]
fn long_chains_of_signs_and_operators_are_located_syntax_errors() {
    for (line, text) in [
        (2, format!("[all:vars]\nx = {}1\n", "-".repeat(100_000))),
        (2, format!("[g]\nh1 x={}1\n", "+-".repeat(50_000))),
        (
            4,
            format!("[g]\nh1\n[all:vars]\nx = 1{}\n", "-1".repeat(100_000)),
        ),
        (2, format!("[all:vars]\nx = [{}1]\n", "-".repeat(100_000))),
    ] {
        let d = refused(text);
        assert_eq!(d.code, Code::Syntax, "{d:?}");
        assert_eq!(d.span.as_ref().map(|s| s.line), Some(line), "{d:?}");
        assert!(d.message.contains("nested more than 1000 levels"), "{d:?}");
        assert!(d.message.len() < 200);
    }
}

#[test]
fn group_hierarchies_are_read_in_linear_time() {
    let inv = small_stack(20, || {
        let mut text = String::from("[l0a]\n10.0.0.1\n[l0b]\n10.0.0.2\n");
        for i in 1..28 {
            for side in ["a", "b"] {
                text += &format!("[l{i}{side}:children]\nl{}a\nl{}b\n", i - 1, i - 1);
            }
        }
        text += "[l27a:vars]\nx = 1\n";
        ini::parse(&name(), &text).expect("a diamond of 28 levels")
    });
    assert_eq!(inv.group_depth("l0a"), 28);
    assert_eq!(inv.group_depth("l27a"), 1);
    assert_eq!(
        inv.host_var("10.0.0.1", "x").map(|v| &v.value),
        Some(&Value::Int(1.into()))
    );
    let inv = small_stack(20, || {
        let mut text = String::from("[c0]\nh\n");
        for i in 1..50_000 {
            text += &format!("[c{i}:children]\nc{}\n", i - 1);
        }
        ini::parse(&name(), &text).expect("a chain of 50,000 groups")
    });
    assert_eq!(inv.group_depth("c0"), 50_000);
    assert_eq!(inv.group_hosts("c49999"), ["h"]);
    let _ = inv.to_list_json_string();
}

#[test]
fn loops_of_groups_are_refused_where_ansible_refuses_them() {
    let mut text = String::from("[c0]\nh\n");
    for i in 1..20_000 {
        text += &format!("[c{i}:children]\nc{}\n", i - 1);
    }
    text += "[c0:children]\nc19999\n[bad section\n";
    let d = refused(text);
    assert_eq!(d.code, Code::Syntax);
    // At the child's line of `[c0:children]`, before the later error.
    assert_eq!(d.span.as_ref().map(|s| s.line), Some(40_002));
    assert_eq!(
        d.message,
        "Adding group 'c19999' as child to 'c0' creates a recursive dependency loop."
    );
    let looped = r#"{"all": {"children": ["a"]}, "a": {"children": ["b"]}, "b": {"children": ["c", "a"]}, "c": {}}"#;
    let d = small_stack(10, move || {
        json::parse_list_json(&name(), looped).expect_err("loop")
    });
    assert_eq!(d.code, Code::UnreadableInput);
    assert!(d.message.contains("'a' -> 'b' -> 'a'"), "{}", d.message);
}

#[test]
fn hosts_and_memory_are_capped_per_inventory() {
    let text: String = (0..8)
        .map(|i| format!("[g{i}]\nh{i}_[0:999999]\n"))
        .collect();
    let d = refused(text);
    assert_eq!(d.code, Code::TooLarge);
    assert_eq!(d.span.as_ref().map(|s| s.line), Some(2));
    let text: String = (0..11)
        .map(|i| format!("[g{i}]\nh{i}_[0:9999]\n"))
        .collect();
    let d = refused(text);
    assert_eq!(d.code, Code::TooLarge, "{d:?}");
    assert!(d.message.contains("more than 100000 hosts"), "{d:?}");
    assert_eq!(d.span.as_ref().map(|s| s.line), Some(22));
    // One host line's variables copied to every host of its range.
    let text = format!("[g]\nh[0:9999] x='{}'\n", "y".repeat(100_000));
    let d = refused(text);
    assert_eq!(d.code, Code::TooLarge, "{d:?}");
    assert!(d.message.contains("256 MiB"), "{d:?}");
}

#[test]
fn sets_dicts_and_json_numbers_are_read_in_linear_time() {
    let inv = small_stack(20, || {
        let set: Vec<String> = (0..100_000).map(|i| format!("'s{i}'")).collect();
        let dict: Vec<String> = (0..100_000).map(|i| format!("{i}: {i}")).collect();
        let text = format!(
            "[all:vars]\ns = {{{}}}\nd = {{{}}}\n",
            set.join(", "),
            dict.join(", ")
        );
        ini::parse(&name(), &text).expect("big set and dict")
    });
    let all = &inv.groups["all"].vars;
    assert!(matches!(&all["s"].value, Value::List(v) if v.len() == 100_000));
    assert!(matches!(&all["d"].value, Value::Dict(v) if v.len() == 100_000));
    // A 3 MB integer: refused at once (Python reads at most 4,300 digits).
    let d = small_stack(10, || {
        let text = format!(
            "{{\"_meta\": {{\"hostvars\": {{\"h\": {{\"x\": {}}}}}}}}}",
            "7".repeat(3_000_000)
        );
        json::parse_list_json(&name(), &text).expect_err("too long")
    });
    assert!(d.message.contains("3000000 digits"), "{}", d.message);
    assert_eq!(d.span.as_ref().map(|s| s.column), Some(36));
}

#[test]
fn json_is_read_as_ansible_inventory_prints_it() {
    let text = r#"{"_meta": {"hostvars": {"h": {"inf": Infinity, "minf": -Infinity, "nan": NaN,
        "marker": "\u0001bigint:12", "exact": "\u0001exact:7", "big": 123456789012345678901234567890}}},
        "ungrouped": {"hosts": ["h"]}}"#;
    let inv: Inventory = json::parse_list_json(&name(), text).expect("Ansible's own output");
    let v = |k: &str| inv.host_var("h", k).map(|v| v.value.clone());
    assert_eq!(v("inf"), Some(Value::Float(f64::INFINITY)));
    assert_eq!(v("minf"), Some(Value::Float(f64::NEG_INFINITY)));
    assert!(matches!(v("nan"), Some(Value::Float(f)) if f.is_nan()));
    assert_eq!(v("marker"), Some(Value::Str("\u{1}bigint:12".into())));
    assert_eq!(v("exact"), Some(Value::Str("\u{1}exact:7".into())));
    let listed = inv.to_list_json_string();
    assert!(listed.contains(r#""exact": "\u0001exact:7""#), "{listed}");
    assert!(
        listed.contains(r#""big": 123456789012345678901234567890"#),
        "{listed}"
    );
    assert!(listed.contains(r#""inf": Infinity"#), "{listed}");
    // And it reads back the same.
    let again = json::parse_list_json(&name(), &listed).expect("reads its own output");
    assert_eq!(again.to_list_json_string(), listed);
}
