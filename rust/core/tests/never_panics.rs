//! Bad input never panics: random bytes and random INI-ish lines through the INI reader, the
//! JSON reader and `--list`.

use metis_core::inventory::{ini, json};
use proptest::prelude::*;
use std::sync::Arc;

fn name() -> Arc<str> {
    "fuzz.ini".into()
}

fn ini_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\[[a-z:_\\-\\]\\[ ]{0,12}\\]?[ #;a-z]{0,4}",
        "[a-z0-9_\\-\\.:\\[\\]]{0,12}( [a-z_]{1,5}=[\"'\\[\\]{}()0-9a-fxj,:. #\\\\-]{0,14}){0,3}",
        "[a-z_ ]{0,6}=[ 0-9a-zA-Z\"'\\[\\]{}(),:.#_+\\-\\\\]{0,20}",
        "[#; \\t]{0,2}.{0,20}",
        Just("[g:children]".to_string()),
        Just("[g:vars]".to_string()),
        Just("[g]".to_string()),
        Just("[all:children]".to_string()),
        "h[0-9a-z]{0,2}\\[[0-9a-z]{0,3}:[0-9a-z]{0,3}(:[0-9-]{0,2})?\\][a-z]{0,2}(:[0-9]{1,3})?",
    ]
}

fn check_ini(text: &str) {
    if let Ok(inv) = ini::parse(&name(), text) {
        let _ = inv.to_list_json();
        let _ = inv.to_list_json_string();
        for h in inv.hosts.keys() {
            let _ = inv.host_vars(h);
        }
        for g in inv.groups.keys() {
            let _ = inv.group_hosts(g);
            let _ = inv.group_depth(g);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ini_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_ini(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn ini_random_lines(lines in proptest::collection::vec(ini_line(), 0..16)) {
        check_ini(&lines.join("\n"));
    }

    #[test]
    fn json_random_text(text in ".{0,200}") {
        if let Ok(inv) = json::parse_list_json(&name(), &text) {
            let _ = inv.to_list_json_string();
        }
    }

    #[test]
    fn json_random_shapes(
        groups in proptest::collection::vec(("[a-z]{1,3}", proptest::collection::vec("[a-z]{1,3}", 0..4), proptest::collection::vec("[a-z]{1,3}", 0..3)), 0..6),
        big in "-?[1-9][0-9]{0,39}",
    ) {
        let mut root = serde_json::Map::new();
        for (g, hosts, kids) in groups {
            root.insert(g, serde_json::json!({"hosts": hosts, "children": kids}));
        }
        let groups = serde_json::Value::Object(root).to_string();
        let text = format!(
            "{{\"_meta\": {{\"hostvars\": {{\"x\": {{\"n\": {big}}}}}}}, {}",
            &groups[1..]
        );
        let text = text.replace(", }", "}");
        let inv = json::parse_list_json(&name(), &text).expect("valid JSON inventory");
        let out = inv.to_list_json_string();
        // Big ints survive the round trip exactly.
        prop_assert!(out.contains(&format!(": {big}")), "{}", out);
    }
}

#[test]
fn pathological_inputs() {
    for text in [
        "[".repeat(10_000),
        format!("[g]\nh x={}", "[".repeat(10_000)),
        format!("[g]\nh x={}1{}", "(".repeat(500), ")".repeat(500)),
        format!("[g]\nh{}", "[0:1]".repeat(40)),
        "[g]\nh[0:99999999999999999999]".to_string(),
        "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n[a]\n[b]\n[c]".to_string(),
        "[g]\nh:99999999999999999999999".to_string(),
        "\u{feff}[g]\nh\r\n\u{2028}x\u{85}y\x0cz".to_string(),
    ] {
        check_ini(&text);
    }
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let _ = json::parse_list_json(&name(), &deep);
}
