//! The inventory API other modules build on: spans, occurrences, raw text, lookups, JSON input.

use indexmap::IndexMap;
use metis_core::inventory::{ini, json, Inventory};
use metis_core::value::Value;
use std::sync::Arc;

fn parse(text: &str) -> Inventory {
    let name: Arc<str> = "inv.ini".into();
    match ini::parse(&name, text) {
        Ok(inv) => inv,
        Err(d) => panic!("{d:?}"),
    }
}

fn int(v: i64) -> Value {
    Value::Int(v.into())
}

#[test]
fn all_vars_are_shared_not_copied() {
    let mut text = String::from("[all:vars]\nbig = [");
    for i in 0..5000 {
        text.push_str(&format!("{i}, "));
    }
    text.push_str("]\n[nodes]\n");
    for i in 0..5000 {
        text.push_str(&format!("node{i}\n"));
    }
    let inv = parse(&text);
    assert_eq!(inv.hosts.len(), 5000);
    let first = inv.host_var("node0", "big").expect("set");
    assert_eq!(first.value.as_seq().map(<[Value]>::len), Some(5000));
    for h in inv.hosts.keys() {
        let v = inv.host_var(h, "big").expect("set");
        assert!(std::ptr::eq(v, first), "{h} holds its own copy");
    }
    // Hosts store only their own variables.
    assert!(inv.hosts.values().all(|h| h.vars.is_empty()));
}

#[test]
fn spans_raw_and_occurrences() {
    let inv = parse(
        "# c\n[data]\nnode1 data_port=8700\n  node1 x='1'\n[data:vars]\nice_glacier2_port = 20031   # comment\naddr = 0x0A\n",
    );
    let h = &inv.hosts["node1"];
    assert_eq!(h.occurrences.len(), 2, "listed twice in one group");
    assert_eq!(
        h.occurrences[1].span.as_ref().map(|s| (s.line, s.column)),
        Some((4, 3))
    );
    assert_eq!(h.groups, ["data"]);
    assert_eq!(inv.groups["data"].hosts, ["node1"]);
    let g = &inv.groups["data"];
    assert_eq!(g.span.as_ref().map(|s| s.line), Some(2));
    let port = &g.vars["ice_glacier2_port"];
    assert_eq!(port.value, int(20031));
    assert_eq!(port.raw.as_deref(), Some("20031   # comment"));
    assert_eq!(port.span.as_ref().map(|s| (s.line, s.column)), Some((6, 1)));
    let addr = &g.vars["addr"];
    assert_eq!(addr.value, int(10));
    assert_eq!(addr.raw.as_deref(), Some("0x0A"));
    let dp = &h.vars["data_port"];
    assert_eq!(dp.span.as_ref().map(|s| (s.line, s.column)), Some((3, 7)));
    assert_eq!(dp.raw.as_deref(), Some("8700"));
    assert_eq!(h.vars["x"].value, int(1));
}

#[test]
fn precedence_and_group_hosts() {
    let inv = parse(
        "[top:children]\nmid\n[mid:children]\nleaf\n[top]\nt1\n[mid]\nm1\n[leaf]\nl1 v='host'\nl2\n\
         [top:vars]\nv='top'\n[leaf:vars]\nv='leaf'\n[zzz]\nl2\n[zzz:vars]\nv='zzz'\n[all:vars]\nv='all'\n",
    );
    assert_eq!(inv.group_hosts("top"), ["t1", "m1", "l1", "l2"]);
    // As `ansible -i FILE all --list-hosts` orders them.
    assert_eq!(inv.group_hosts("all"), ["t1", "l2", "m1", "l1"]);
    assert_eq!(inv.group_depth("leaf"), 3);
    assert_eq!(inv.group_depth("zzz"), 1);
    let v = |h: &str| inv.host_var(h, "v").map(|v| v.value.clone());
    assert_eq!(v("l1"), Some(Value::Str("host".into())));
    // leaf (depth 3) beats zzz (depth 1) though zzz sorts later by name.
    assert_eq!(v("l2"), Some(Value::Str("leaf".into())));
    assert_eq!(v("t1"), Some(Value::Str("top".into())));
    assert_eq!(inv.host_vars("l2")["v"].value, Value::Str("leaf".into()));
}

#[test]
fn from_resolved_keeps_given_order() {
    let mut groups: IndexMap<String, Vec<String>> = IndexMap::new();
    groups.insert("all".into(), vec!["b".into(), "a".into(), "c".into()]);
    groups.insert("consul".into(), vec!["c".into(), "a".into()]);
    let mut hostvars: IndexMap<String, IndexMap<String, Value>> = IndexMap::new();
    hostvars.insert("a".into(), IndexMap::from([("p".to_string(), int(1))]));
    let inv = json::from_resolved(&groups, &hostvars);
    assert_eq!(inv.group_hosts("consul"), ["c", "a"]);
    assert_eq!(inv.group_hosts("all"), ["b", "a", "c"]);
    assert_eq!(
        inv.host_var("a", "p").map(|v| v.value.clone()),
        Some(int(1))
    );
}

#[test]
fn list_json_round_trips() {
    let inv = parse(
        "[web]\nw1:2222 big=123456789012345678901234567890\n[db]\nd1\n[app:children]\nweb\n[app:vars]\nx=[1, 2.5, None]\n",
    );
    let text = inv.to_list_json_string();
    let back = json::parse_list_json(&"list.json".into(), &text).expect("reads its own output");
    assert_eq!(back.to_list_json(), inv.to_list_json());
    assert_eq!(back.to_list_json_string(), text);
    assert_eq!(
        back.host_var("w1", "big").map(|v| v.value.clone()),
        Some(Value::Int(
            "123456789012345678901234567890".parse().expect("int")
        ))
    );
    assert_eq!(back.group_hosts("app"), ["w1"]);
}

#[test]
fn json_errors_are_diagnostics() {
    let name: Arc<str> = "x.json".into();
    for bad in [
        "",
        "[]",
        "{\"g\": 1}",
        "{\"g\": {\"hosts\": [1]}}",
        "{\"_meta\": {\"hostvars\": []}}",
        "{",
    ] {
        let d = json::parse_list_json(&name, bad).expect_err(bad);
        assert_eq!(d.code, metis_core::Code::UnreadableInput);
    }
}

#[test]
fn diagnostics_are_located() {
    let name: Arc<str> = "inv.ini".into();
    let d = ini::parse(&name, "[web]\nh1\n\n[web:vars]\n  oops\n").expect_err("refused");
    let sp = d[0].span.as_ref().expect("span");
    assert_eq!((sp.line, sp.column), (5, 3));
    let d = ini::parse(&name, "[a:children]\nb\n").expect_err("refused");
    assert_eq!(d[0].span.as_ref().map(|s| s.line), Some(2));
    assert!(d[0].message.contains("undefined group 'b'"));
}
