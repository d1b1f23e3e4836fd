//! What the renderer writes, checked against the model: every key is one the consumer accepts
//! (parsed back with an independent YAML/JSON parser), every value is the model's.

mod support;

use metis_core::model::{defaults as d, Service, ServiceManager};
use metis_core::render::{self, keys, Layout, RenderedFile};
use serde_yaml_ng::Value as Y;
use std::collections::BTreeMap;

/// Dotted key -> leaf value (lists are leaves).
fn flatten(prefix: &str, v: &Y, out: &mut BTreeMap<String, Y>) {
    match v {
        Y::Mapping(m) => {
            for (k, v) in m {
                let k = k.as_str().expect("string keys");
                let key = if prefix.is_empty() {
                    k.to_owned()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

fn parse(f: &RenderedFile) -> BTreeMap<String, Y> {
    let v: Y = serde_yaml_ng::from_str(&f.content).unwrap_or_else(|e| panic!("{}: {e}", f.path));
    let mut out = BTreeMap::new();
    flatten("", &v, &mut out);
    out
}

fn file<'a>(files: &'a [RenderedFile], host: &str, path_end: &str) -> &'a RenderedFile {
    files
        .iter()
        .find(|f| f.host == host && f.path.ends_with(path_end))
        .unwrap_or_else(|| panic!("no {path_end} on {host}"))
}

fn s(v: &str) -> Y {
    Y::String(v.to_owned())
}
fn n(v: u64) -> Y {
    Y::Number(v.into())
}

#[test]
fn deterministic_and_grouped_by_host() {
    let org = support::org();
    let a = render::render_all(&org);
    let b = render::render_all(&org.clone());
    assert_eq!(a, b);
    let mut per_host = Vec::new();
    for h in org.hosts() {
        per_host.extend(render::render_host(&org, &h.name));
    }
    assert_eq!(
        a, per_host,
        "render_all = render_host of each host, in host order"
    );
    // No two files on one host share a path.
    let mut seen = std::collections::BTreeSet::new();
    for f in &a {
        assert!(
            seen.insert((&f.host, &f.path)),
            "duplicate {} {}",
            f.host,
            f.path
        );
        assert!(f.path.starts_with('/'));
        assert_eq!(f.sha256().len(), 64);
    }
    assert!(render::render_host(&org, "nope").is_empty());
}

#[test]
fn only_enabled_groups_and_units_per_manager() {
    let org = support::org_with("enable_deploy_carrier = False");
    let files = render::render_host(&org, "node2");
    assert!(
        files.iter().all(|f| f.service == Service::Consul),
        "{files:?}"
    );
    let org = support::org_with("enable_deploy_carrier = False\nservice_manager = process");
    assert_eq!(org.settings.service_manager, ServiceManager::Process);
    let files = render::render_all(&org);
    assert!(files.iter().all(|f| !f.path.ends_with(".service")));
}

#[test]
fn secrets_are_marked_and_nothing_else() {
    let files = render::render_all(&support::org_tls());
    for f in &files {
        let holds =
            f.content.contains("db \\\"pa:ss\\\"") || f.content.contains("pinata-token-123");
        assert_eq!(f.secret, holds, "{}", f.path);
        assert_eq!(f.mode, if f.secret { 0o600 } else { 0o644 }, "{}", f.path);
        assert!(!f.content.contains("root-Pa55word!"));
    }
    assert!(files.iter().any(|f| f.secret));
}

#[test]
fn service_user_owns_what_is_under_deploy_dir_and_root_the_rest() {
    let org = support::org();
    let files = render::render_all(&org);
    let deploy = format!("{}/", org.settings.deploy_dir);
    let user = &org.settings.service_user;
    assert_ne!(user, "root");
    for f in &files {
        let expected = if f.path.starts_with(&deploy) {
            user.as_str()
        } else {
            "root"
        };
        assert_eq!(
            (f.owner.as_str(), f.group.as_str()),
            (expected, expected),
            "{}",
            f.path
        );
    }
    // Units, the nginx site and the MariaDB settings are system files: root's.
    assert!(files
        .iter()
        .any(|f| f.path.starts_with("/etc/") && f.owner == "root"));
    assert!(files.iter().any(|f| f.secret && f.owner == *user));
}

#[test]
fn debug_output_hides_secret_content() {
    let files = render::render_all(&support::org_tls());
    let secret = files.iter().find(|f| f.secret).expect("a secret file");
    for shown in [
        format!("{secret:?}"),
        format!("{secret:#?}"),
        format!("{files:?}"),
    ] {
        assert!(!shown.contains("pa:ss"), "{shown}");
        assert!(!shown.contains("pinata-token-123"), "{shown}");
    }
    let shown = format!("{secret:?}");
    assert!(
        shown.contains(&format!(
            "content: <secret: {} bytes>",
            secret.content.len()
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("path: {:?}", secret.path)),
        "{shown}"
    );
    // Other files show their content.
    let public = files.iter().find(|f| !f.secret).expect("a public file");
    assert!(
        format!("{public:?}").contains(&format!("content: {:?}", public.content)),
        "{public:?}"
    );
}

#[test]
fn consul_config_matches_model() {
    let org = support::org();
    let files = render::render_all(&org);
    for node in &org.consul {
        let f = file(&files, &node.host.name, "/consul/config/consul.json");
        let v: serde_json::Value = serde_json::from_str(&f.content).expect("json");
        let y: Y = serde_yaml_ng::from_str(&f.content).expect("yaml");
        let mut flat = BTreeMap::new();
        flatten("", &y, &mut flat);
        for k in flat.keys() {
            assert!(keys::accepts(keys::CONSUL, k), "consul key {k}");
        }
        let ip = node.host.ip.to_string();
        assert_eq!(v["datacenter"], "metis-org-1");
        assert_eq!(v["node_name"], format!("consul_{ip}"));
        assert_eq!(v["bind_addr"], ip);
        assert_eq!(v["client_addr"], ip);
        assert_eq!(v["server"], true);
        assert_eq!(v["bootstrap_expect"], 3);
        assert_eq!(v["ports"]["http"], node.ports.http);
        assert_eq!(v["ports"]["serf_lan"], node.ports.serf_lan);
        assert_eq!(v["ports"]["dns"], node.ports.dns);
        assert_eq!(v["ports"]["server"], node.ports.server);
        assert_eq!(v["ports"]["serf_wan"], node.ports.serf_wan);
        let others: Vec<String> = org
            .consul
            .iter()
            .filter(|o| o.index != node.index)
            .map(|o| format!("{}:{}", o.host.ip, o.ports.serf_lan))
            .collect();
        assert_eq!(v["retry_join"], serde_json::json!(others));
        assert_eq!(v["data_dir"], format!("{}/consul/data", d::DEPLOY_DIR));
    }
}

#[test]
fn carrier_yml_keys_and_values() {
    let org = support::org();
    let c = org.carrier.as_ref().expect("carrier");
    let first = &org.consul[0];
    let files = render::render_all(&org);
    let kv = parse(file(&files, &c.host.name, "/carrier/config/carrier.yml"));
    for k in kv.keys() {
        assert!(keys::accepts(keys::CARRIER, k), "carrier key {k}");
    }
    let lay = Layout::new(&org.settings);
    let chain = &org.settings.chain;
    let expect = [
        ("discovery-server-ip", s(&first.host.ip.to_string())),
        ("discovery-server-port", n(first.ports.http.into())),
        ("p2p-host-ip", s(&c.external_ip.to_string())),
        ("p2p-local-ip", s(&c.host.ip.to_string())),
        ("p2p-udp-port", n(c.ports.p2p_udp.into())),
        ("p2p-tcp-port", n(c.ports.p2p_tcp.into())),
        ("p2p-priv-key", s(&lay.carrier_p2p_key())),
        ("rpc-port", n(c.ports.rpc.into())),
        ("rpc-host", s(&c.host.ip.to_string())),
        ("grpc-gateway-port", n(c.ports.grpc_gateway.into())),
        ("pprof-port", n(c.ports.pprof.into())),
        ("verbosity", n(d::CARRIER_VERBOSITY.into())),
        ("blockchain.url", s(&chain.rpc_url)),
        ("blockchain.hrp", s(&chain.hrp)),
        ("did.document-contract-proxy", s(&chain.document_contract)),
        ("did.pct-contract-proxy", s(&chain.pct_contract)),
        (
            "did.credential-contract-proxy",
            s(&chain.credential_contract),
        ),
        ("did.proposal-contract-proxy", s(&chain.proposal_contract)),
        ("pay-agent-contract-proxy", s(&chain.pay_agent_contract)),
        ("datadir", s(&format!("{}/carrier/data", d::DEPLOY_DIR))),
        (
            "log-file",
            s(&format!("{}/carrier/logs/carrier.log", d::DEPLOY_DIR)),
        ),
        (
            "bootstrap-node",
            Y::Sequence(chain.bootstrap_nodes.iter().map(|b| s(b)).collect()),
        ),
    ];
    for (k, v) in expect {
        assert_eq!(kv.get(k), Some(&v), "carrier {k}");
    }
}

#[test]
fn fighter_yml_keys_and_values() {
    let org = support::org();
    let first = &org.consul[0];
    let files = render::render_all(&org);
    for node in org.fighters() {
        let (name, tag, range, cfg) = if node.kind == metis_core::model::FighterKind::Data {
            (
                d::CONSUL_DATA_SERVICE,
                "data",
                d::DATA_TASK_PORTS,
                "/data/config/data.yml",
            )
        } else {
            (
                d::CONSUL_COMPUTE_SERVICE,
                "job",
                d::COMPUTE_TASK_PORTS,
                "/compute/config/compute.yml",
            )
        };
        let kv = parse(file(&files, &node.host.name, cfg));
        for k in kv.keys() {
            assert!(keys::accepts(keys::FIGHTER, k), "fighter key {k}");
            if cfg.ends_with("compute.yml") {
                assert!(!keys::FIGHTER_DATA_ONLY.contains(&k.as_str()), "{k}");
            }
        }
        let expect = [
            ("register_ip", s(&node.host.ip.to_string())),
            ("port", n(node.port.into())),
            (
                "task_port_range",
                Y::Sequence(vec![n(range.0.into()), n(range.1.into())]),
            ),
            ("pass_ice", Y::Bool(true)),
            ("consul.service_ip", s(&first.host.ip.to_string())),
            ("consul.service_port", n(first.ports.http.into())),
            ("consul.name", s(name)),
            ("consul.tag", s(tag)),
            ("consul.deregister", s("1m")),
        ];
        for (k, v) in expect {
            assert_eq!(kv.get(k), Some(&v), "{cfg} {k}");
        }
    }
}

#[test]
fn admin_yml_values() {
    let org = support::org();
    let a = &org.admin[0];
    let files = render::render_all(&org);
    let f = file(&files, &a.host.name, "/admin/config/application-admin.yml");
    assert!(f.secret);
    let kv = parse(f);
    let expect = [
        (
            "spring.datasource.druid.url",
            s(&format!(
                "jdbc:mysql://{}:3306/datum_admin?{}",
                a.host.ip,
                d::ADMIN_JDBC_PARAMS
            )),
        ),
        ("spring.datasource.druid.username", s(d::ADMIN_DB_USER)),
        (
            "spring.datasource.druid.password",
            s(org.settings.admin.db_password.expose()),
        ),
        (
            "spring.cloud.consul.host",
            s(&org.consul[0].host.ip.to_string()),
        ),
        (
            "spring.cloud.consul.port",
            n(org.consul[0].ports.http.into()),
        ),
        ("server.port", n(a.web_port.into())),
        ("grpc.server.port", n(a.grpc_port.into())),
        ("pinata-token", s("pinata-token-123")),
        ("pinata-gateway", s(&org.settings.admin.pinata_gateway)),
        ("pinata-url", s(d::PINATA_URL)),
        (
            "logging.file.name",
            s(&format!("{}/admin/logs/admin.log", d::DEPLOY_DIR)),
        ),
    ];
    for (k, v) in expect {
        assert_eq!(kv.get(k), Some(&v), "admin {k}");
    }
    assert!(kv.contains_key("spring.cloud.consul.discovery.instance-id"));
}

#[test]
fn units_have_resource_control_from_settings() {
    let org = support::org();
    let files = render::render_all(&org);
    let carrier = file(&files, "node2", "/metis-carrier.service");
    assert!(carrier
        .content
        .contains("CPUAccounting=yes\nCPUQuota=150%\n"));
    assert!(carrier
        .content
        .contains("MemoryAccounting=yes\nMemoryMax=2048M\n"));
    assert!(carrier
        .content
        .contains("ExecStart=/opt/metis/carrier/carrier --config-file /opt/metis/carrier/config/carrier.yml\n"));
    let data = file(&files, "node5", "/metis-data.service");
    assert!(!data.content.contains("CPUQuota"));
    assert!(data.content.contains("MemoryMax=4096M"));
    assert!(data.content.contains(
        "ExecStart=/opt/metis/data/venv/bin/python -u -m fighter_project.data_svc.main /opt/metis/data/config/data.yml\n"
    ));
    let consul = file(&files, "node1", "/metis-consul.service");
    assert!(!consul.content.contains("Accounting"));
    let admin = file(&files, "node3", "/metis-admin.service");
    assert!(admin
        .content
        .contains(&format!("Environment=\"JVM_OPTS={}\"\n", d::ADMIN_JVM_OPTS)));
    assert!(admin.content.contains(
        "ExecStart=/usr/bin/java $JVM_OPTS -jar /opt/metis/admin/admin.jar --spring.profiles.active=admin\n"
    ));
}

#[test]
fn hostile_values_round_trip_exactly() {
    // Values no INI line can carry (a newline) or validation refuses (`${`): set on the built
    // model, since the renderer must quote whatever it is given.
    let mut org = support::org();
    let nasty = "a\nb: c \"q\" #{x} %s ${y} 'z' \\ 0x12 yes";
    org.settings.admin.db_password = metis_core::model::Secret::new(nasty);
    org.settings.admin.pinata_gateway = "yes".to_owned();
    org.settings.chain.hrp = "0x12".to_owned();
    org.settings.chain.bootstrap_nodes = vec!["enr:- a: b".to_owned(), "- c".to_owned()];
    let files = render::render_all(&org);
    let admin = parse(file(&files, "node3", "/application-admin.yml"));
    assert_eq!(
        admin.get("spring.datasource.druid.password"),
        Some(&s(nasty))
    );
    assert_eq!(admin.get("pinata-gateway"), Some(&s("yes")));
    let carrier = parse(file(&files, "node2", "/carrier.yml"));
    assert_eq!(carrier.get("blockchain.hrp"), Some(&s("0x12")));
    assert_eq!(
        carrier.get("bootstrap-node"),
        Some(&Y::Sequence(vec![s("enr:- a: b"), s("- c")]))
    );
}
