//! Bad input never panics: random bytes and random INI-ish lines through the INI reader, the
//! JSON reader and `--list`; random organisation inventories through validation, rendering and
//! health planning.

use metis_core::inventory::templates::{evaluate_outside_ansible, Need};
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

const BASE: &str = "[consul]\n127.0.0.1\n[carrier]\n127.0.0.1\n[admin]\n127.0.0.1\n[ice_via]\n127.0.0.1\n\
[all:vars]\nconsul_server_port = [8200]\nconsul_serf_lan_port = [8300]\nconsul_serf_wan_port = [8400]\n\
consul_http_port = [8500]\nconsul_dns_port = [8600]\ncarrier_external_ip = 127.0.0.1\n\
ice_via_external_ip = 127.0.0.1\nmysql_root_password = a\nadmin_password = b\n";

/// An organisation-shaped inventory with random placements and random, often wrong, values.
fn org_inventory() -> impl Strategy<Value = String> {
    let host = "127\\.0\\.[0-2]\\.[1-3]|[a-z]{1,3}|0x1F|10\\.0\\.0\\.[0-9]{1,3}";
    let value = prop_oneof![
        "-?[0-9]{1,6}",
        "\\[[0-9, ]{0,16}\\]",
        "True|False|yes|None",
        "[a-z0-9.]{0,10}",
        "\"\\{\\{ lookup\\('env', 'X'\\) \\}\\}\"",
        "0x[0-9a-f]{1,8}",
    ];
    let key = prop_oneof![
        Just("consul_http_port"),
        Just("consul_server_port"),
        Just("consul_serf_lan_port"),
        Just("consul_serf_wan_port"),
        Just("consul_dns_port"),
        Just("data_port"),
        Just("compute_port"),
        Just("carrier_rpc_port"),
        Just("admin_web_port"),
        Just("ice_grid_port"),
        Just("ice_protocol"),
        Just("enable_tls"),
        Just("deploy_dir"),
        Just("enable_deploy_data"),
        Just("enable_deploy_consul"),
        Just("carrier_external_ip"),
        Just("ice_via_external_ip"),
        Just("storage_ip"),
        Just("storage_port"),
        Just("admin_password"),
        Just("service_manager"),
        Just("data_cpu_quota"),
        Just("carrier_verbosity"),
        Just("ansible_host"),
        Just("service_user"),
    ];
    let group = prop_oneof![
        Just("consul"),
        Just("carrier"),
        Just("admin"),
        Just("ice_via"),
        Just("data"),
        Just("compute"),
    ];
    (
        proptest::collection::vec((group, proptest::collection::vec(host, 0..3)), 0..3),
        proptest::collection::vec((key, value), 0..6),
    )
        .prop_map(|(groups, vars)| {
            // A valid organisation first, so that random changes often still build one and
            // reach the renderer and the health planner.
            let mut text = String::from(BASE);
            for (g, hosts) in groups {
                text += &format!("[{g}]\n{}\n", hosts.join("\n"));
            }
            text += "[all:vars]\n";
            for (k, v) in vars {
                text += &format!("{k} = {v}\n");
            }
            text
        })
}

fn check_org(text: &str) {
    let Ok(mut inv) = ini::parse(&name(), text) else {
        return;
    };
    let _ = metis_core::validate::validate(&inv);
    let env = |k: &str| (k == "X").then(|| "from-env".to_string());
    let _ = evaluate_outside_ansible(&mut inv, &env, Need::Everything);
    if let (Some(org), _) = metis_core::model::build::build(&inv) {
        let _ = metis_core::render::render_all(&org);
        let _ = metis_core::health::plan(&org, &Default::default());
        let _ = org.port_conflicts();
    }
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
    fn organisations_with_random_values(text in org_inventory()) {
        check_org(&text);
    }

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
        // Children are named `c_...`, never a generated group's name: no cycle (a cycle is refused,
        // rightly; this property is about shapes that parse).
        groups in proptest::collection::vec(("[a-z]{1,3}", proptest::collection::vec("[a-z]{1,3}", 0..4), proptest::collection::vec("c_[a-z]{1,3}", 0..3)), 0..6),
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
