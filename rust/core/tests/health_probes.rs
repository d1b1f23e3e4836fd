//! Health checks against servers written in the test, on loopback (each test on its own
//! 127.0.2.x address): plan, every outcome kind, consul's API, HTTP/2, Ice and MySQL framing,
//! retries with `wait`, concurrency, the JSON shape and the table.

mod health_support;
mod support;

use health_support::*;
use metis_core::health::{self, Check, CheckKind, Filter, Outcome, Report, RunOptions};
use metis_core::model::{defaults, Service};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{org_one_host, org_one_host_with, CHECK_KEYS, REPORT_KEYS};

fn run1(kind: CheckKind) -> health::CheckResult {
    let r = health::run(
        &[check(kind)],
        RunOptions {
            timeout: Duration::from_millis(800),
            wait: None,
        },
    );
    r.checks.into_iter().next().expect("one result")
}

#[test]
fn plan_covers_every_service_from_the_port_table() {
    let org = org_one_host(ip("127.0.2.1"), 8500);
    let checks = health::plan(&org, &Filter::default());
    let names: Vec<(Service, &str)> = checks
        .iter()
        .map(|c| (c.service, c.name.as_str()))
        .collect();
    for want in [
        (Service::Consul, "http api"),
        (Service::Consul, "leader"),
        (Service::Consul, "peers"),
        (Service::Consul, "kv datumnetwork/glacier2_ip_port"),
        (Service::Consul, "kv datumnetwork/icegrid_ip_port"),
        (Service::Consul, "kv datumnetwork/dataCenter_ip_port"),
        (Service::IceGrid, "registry"),
        (Service::Glacier2, "router"),
        (Service::Carrier, "rpc"),
        (Service::Carrier, "grpc gateway"),
        (Service::Carrier, "pprof"),
        (Service::Carrier, "consul carrierService"),
        (Service::Mysql, "greeting"),
        (Service::Admin, "web"),
        (Service::Admin, "grpc"),
        (Service::Admin, "consul adminService"),
        (Service::Admin, "consul adminGrpcService"),
        (Service::Nginx, "http proxy"),
        (Service::Data, "grpc"),
        (Service::Data, "consul dataService"),
        (Service::Compute, "grpc"),
        (Service::Compute, "consul jobService"),
    ] {
        assert!(names.contains(&want), "missing {want:?} in {names:?}");
    }
    assert_eq!(names.len(), 22, "{names:?}");

    let kv: BTreeMap<&str, &str> = checks
        .iter()
        .filter_map(|c| match &c.kind {
            CheckKind::ConsulKv { key, expected, .. } => Some((key.as_str(), expected.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(kv[defaults::KV_GLACIER2], "203.0.113.5_20031");
    assert_eq!(kv[defaults::KV_ICEGRID], "203.0.113.5_20032");
    assert_eq!(kv[defaults::KV_DATA_CENTER], "198.51.100.7_9099");
    let ports: Vec<u16> = checks
        .iter()
        .filter(|c| c.service == Service::Mysql || c.service == Service::Nginx)
        .filter_map(|c| match &c.kind {
            CheckKind::MysqlGreeting { addr } | CheckKind::Http { addr, .. } => Some(addr.port()),
            _ => None,
        })
        .collect();
    assert_eq!(ports, [defaults::MYSQL_PORT, defaults::NGINX_HTTP_PORT]);
    // gRPC ports are checked with the HTTP/2 preface: carrier's rpc, admin's grpc, fighters.
    let h2: Vec<(Service, &str, u16)> = checks
        .iter()
        .filter_map(|c| match &c.kind {
            CheckKind::Http2 { addr } => Some((c.service, c.name.as_str(), addr.port())),
            _ => None,
        })
        .collect();
    assert_eq!(
        h2,
        [
            (Service::Carrier, "rpc", defaults::CARRIER_RPC_PORT),
            (Service::Admin, "grpc", defaults::ADMIN_GRPC_PORT),
            (Service::Data, "grpc", 8700),
            (Service::Compute, "grpc", 8701),
        ]
    );
    // HTTP checks ask the paths of defaults; the admin's is under its context path.
    assert_eq!(
        defaults::ADMIN_HEALTH_PATH,
        format!("{}/health", defaults::ADMIN_CONTEXT_PATH)
    );
    let paths: Vec<(Service, &str, &str)> = checks
        .iter()
        .filter_map(|c| match &c.kind {
            CheckKind::Http { path, .. } if c.service != Service::Consul => {
                Some((c.service, c.name.as_str(), path.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        paths,
        [
            (Service::Carrier, "pprof", defaults::PPROF_PATH),
            (
                Service::Carrier,
                "grpc gateway",
                defaults::CARRIER_NODE_INFO_PATH
            ),
            (Service::Admin, "web", defaults::ADMIN_HEALTH_PATH),
            (Service::Nginx, "http proxy", defaults::ADMIN_HEALTH_PATH),
        ]
    );
    // Fighters are looked up by their own address among the registered instances.
    assert!(checks.iter().any(|c| matches!(&c.kind,
        CheckKind::ConsulService { name, address: Some(a), .. }
            if name == defaults::CONSUL_DATA_SERVICE && a.port() == 8700)));
    // Start order: consul first, compute last.
    assert_eq!(checks.first().map(|c| c.service), Some(Service::Consul));
    assert_eq!(checks.last().map(|c| c.service), Some(Service::Compute));
}

#[test]
fn plan_follows_switches_filters_and_tls() {
    let switches = "enable_deploy_compute = False\nenable_deploy_ice_via = False";
    let org = org_one_host_with(ip("127.0.2.2"), 8500, switches);
    let all = health::plan(&org, &Filter::default());
    assert!(!all.iter().any(|c| matches!(
        c.service,
        Service::Compute | Service::IceGrid | Service::Glacier2
    )));

    let only = Filter {
        services: vec![Service::Nginx, Service::Mysql],
        hosts: vec![],
    };
    let some = health::plan(&org, &only);
    assert_eq!(some.len(), 2);
    let by_ip = Filter {
        services: vec![],
        hosts: vec!["127.0.2.2".into()],
    };
    assert_eq!(health::plan(&org, &by_ip).len(), all.len());
    let nobody = Filter {
        services: vec![],
        hosts: vec!["elsewhere".into()],
    };
    assert!(health::plan(&org, &nobody).is_empty());

    let tls = "enable_deploy_compute = False\n\
               enable_tls = True\n\
               admin_server_name = admin.example.org\n\
               admin_ssl_certificate = c\n\
               admin_ssl_certificate_key = k\n\
               ice_protocol = ssl";
    let org = org_one_host_with(ip("127.0.2.2"), 8500, tls);
    let tls = health::plan(&org, &Filter::default());
    assert!(tls.iter().any(|c| c.service == Service::Nginx
        && matches!(&c.kind, CheckKind::TlsHello { addr, server_name: Some(n) }
            if addr.port() == defaults::NGINX_HTTPS_PORT && n == "admin.example.org")));
    assert!(tls
        .iter()
        .any(|c| c.service == Service::Glacier2 && matches!(c.kind, CheckKind::TlsHello { .. })));
}

#[test]
fn every_outcome_kind_is_distinct() {
    let ip = ip("127.0.2.3");
    let web = http_server(ip, false, |p| match p {
        "/ok" => (200, "fine".into()),
        _ => (500, "boom".into()),
    });
    let consul = fake_consul(
        ip,
        Arc::new(Mutex::new(ConsulState {
            leader: "127.0.2.3:8300".into(),
            peers: vec![],
            kv: [(defaults::KV_ICEGRID.to_string(), "1.2.3.4_1".to_string())].into(),
            services: vec![],
        })),
    );
    let kinds = [
        (Outcome::Ok, http(web, "/ok")),
        (Outcome::Refused, http(refused_port(ip), "/ok")),
        (Outcome::Timeout, http(silent_server(ip), "/ok")),
        (Outcome::WrongProtocol, CheckKind::Http2 { addr: web }),
        (Outcome::HttpStatus, http(web, "/broken")),
        (
            Outcome::Unexpected,
            CheckKind::ConsulKv {
                agent: consul,
                key: defaults::KV_ICEGRID.into(),
                expected: "203.0.113.5_20032".into(),
            },
        ),
        (Outcome::Error, http(resetting_server(ip), "/ok")),
    ];
    let checks: Vec<Check> = kinds.iter().map(|(_, k)| check(k.clone())).collect();
    let report = run_within(&checks, 500, 2500);
    assert!(!report.healthy);
    for ((want, _), got) in kinds.iter().zip(&report.checks) {
        assert_eq!(got.outcome, *want, "{got:?}");
        assert_eq!(got.ok, *want == Outcome::Ok);
    }
    let d: Vec<&str> = report.checks.iter().map(|c| c.detail.as_str()).collect();
    assert_eq!(d[0], "GET /ok: HTTP/1.1 200 X");
    assert!(d[1].contains("connection refused"), "{}", d[1]);
    assert!(
        d[2].starts_with("expected HTTP 200 from GET http://")
            && d[2].contains("got no answer within 500 ms")
            && d[2].contains("did not answer GET /ok"),
        "{}",
        d[2]
    );
    assert_eq!(
        d[3], "expected an HTTP/2 SETTINGS frame, got 'HTTP/1.1 500 X'",
        "an HTTP/1.1 server answers the preface with an error status"
    );
    assert!(d[4].ends_with("got 'HTTP/1.1 500 X'"), "{}", d[4]);
    assert_eq!(
        d[5],
        "expected datumnetwork/icegrid_ip_port = '203.0.113.5_20032', got '1.2.3.4_1'"
    );
    assert!(d[6].contains("reset"), "{}", d[6]);
}

#[test]
fn consul_leader_peers_kv_and_registrations() {
    let ip = ip("127.0.2.4");
    let state = Arc::new(Mutex::new(ConsulState {
        leader: "127.0.2.4:8300".into(),
        peers: vec!["127.0.2.4:8300".into()],
        kv: [
            (
                defaults::KV_GLACIER2.to_string(),
                "203.0.113.5_20031".to_string(),
            ),
            (
                defaults::KV_DATA_CENTER.to_string(),
                "198.51.100.7_9099".to_string(),
            ),
        ]
        .into(),
        services: vec![
            (
                "carrier-1".into(),
                "carrierService".into(),
                "127.0.2.4".into(),
                10033,
                "passing".into(),
            ),
            (
                "data-a".into(),
                "dataService".into(),
                "127.0.2.4".into(),
                8700,
                "passing".into(),
            ),
            (
                "data-b".into(),
                "dataService".into(),
                "127.0.2.9".into(),
                8700,
                "critical".into(),
            ),
        ],
    }));
    let a1 = fake_consul(ip, Arc::clone(&state));
    let other = Arc::new(Mutex::new(state.lock().expect("state").clone()));
    let a2 = fake_consul(ip, Arc::clone(&other));
    let leader = CheckKind::ConsulLeader {
        agents: vec![a1, a2],
    };
    let svc = |name: &str, address: Option<SocketAddr>| CheckKind::ConsulService {
        agent: a1,
        name: name.into(),
        address,
    };
    let kv = |key: &str, expected: &str| CheckKind::ConsulKv {
        agent: a1,
        key: key.into(),
        expected: expected.into(),
    };

    let r = run1(leader.clone());
    assert!(r.ok, "{r:?}");
    assert_eq!(r.detail, "leader 127.0.2.4:8300, agreed by 2 agent(s)");
    other.lock().expect("state").leader = "127.0.2.5:8300".into();
    let r = run1(leader.clone());
    assert_eq!(r.outcome, Outcome::Unexpected);
    assert!(
        r.detail.starts_with("agents disagree on the leader"),
        "{}",
        r.detail
    );
    other.lock().expect("state").leader = String::new();
    let r = run1(leader);
    assert_eq!(r.outcome, Outcome::Unexpected);
    assert!(
        r.detail
            .contains(&format!("consul agent at {a2} reports none")),
        "{}",
        r.detail
    );

    let r = run1(CheckKind::ConsulPeers {
        agent: a1,
        expected: 1,
    });
    assert!(r.ok, "{r:?}");
    let r = run1(CheckKind::ConsulPeers {
        agent: a1,
        expected: 3,
    });
    assert_eq!(r.outcome, Outcome::Unexpected);
    assert_eq!(
        r.detail,
        "expected 3 raft peer(s) (one per consul host), got 1: [127.0.2.4:8300]"
    );

    assert!(run1(kv(defaults::KV_GLACIER2, "203.0.113.5_20031")).ok);
    assert!(run1(kv(defaults::KV_DATA_CENTER, "198.51.100.7_9099")).ok);
    let r = run1(kv(defaults::KV_ICEGRID, "203.0.113.5_20032"));
    assert_outcome(&r, Outcome::Unexpected, "the key is not set (HTTP 404");

    let r = run1(svc("carrierService", None));
    assert!(r.ok, "{r:?}");
    assert!(r
        .detail
        .contains("carrierService (id carrier-1) registered at 127.0.2.4:10033"));
    let here: SocketAddr = "127.0.2.4:8700".parse().expect("addr");
    let there: SocketAddr = "127.0.2.9:8700".parse().expect("addr");
    assert!(run1(svc("dataService", Some(here))).ok);
    let r = run1(svc("dataService", Some(there)));
    assert_outcome(
        &r,
        Outcome::Unexpected,
        "is critical (grpc check is critical)",
    );
    let r = run1(svc("jobService", None));
    assert_outcome(
        &r,
        Outcome::Unexpected,
        "jobService registered on the consul agent",
    );
    let r = run1(svc(
        "dataService",
        Some("127.0.2.4:9999".parse().expect("addr")),
    ));
    assert!(
        r.detail
            .contains("registered instances: 127.0.2.4:8700, 127.0.2.9:8700"),
        "{}",
        r.detail
    );

    // Not consul at all: an HTTP server answering HTML.
    let html = http_server(ip, false, |_| (200, "<html>".into()));
    let r = run1(CheckKind::ConsulPeers {
        agent: html,
        expected: 1,
    });
    assert_outcome(&r, Outcome::WrongProtocol, "expected consul's JSON");
}

const ICE_VALIDATE: &[u8] = b"IceP\x01\x00\x01\x00\x03\x00\x0e\x00\x00\x00";
const MYSQL_ERROR: &[u8] = b"\x1a\x00\x00\x00\xff\x69\x04Host 'x' is not allowed";
/// Error 1130 (ER_HOST_NOT_PRIVILEGED): the server answers an address it grants no user.
const MYSQL_HOST_REFUSED: &[u8] = b"\x1a\x00\x00\x00\xff\x6a\x04Host 'x' is not allowed";

#[test]
fn ice_mysql_and_http2_framing() {
    let ip = ip("127.0.2.5");
    let ice = banner_server(ip, ICE_VALIDATE);
    let mysql_err = banner_server(ip, MYSQL_ERROR);
    let h2 = h2_server(ip);

    let r = run1(CheckKind::IceValidate { addr: ice });
    assert!(r.ok, "{r:?}");
    let r = run1(CheckKind::IceValidate { addr: mysql_err });
    assert_eq!(r.outcome, Outcome::WrongProtocol);
    assert!(
        r.detail
            .starts_with("expected an Ice validate-connection message, got bytes 1a 00 00 00 ff"),
        "{}",
        r.detail
    );
    let r = run1(CheckKind::MysqlGreeting { addr: mysql_err });
    assert_eq!(r.outcome, Outcome::Unexpected);
    assert_eq!(
        r.detail,
        "expected a MySQL server greeting, got MySQL error 1129: Host 'x' is not allowed"
    );
    // A server refusing the checker's address has answered: it runs.
    let refused_host = banner_server(ip, MYSQL_HOST_REFUSED);
    let r = run1(CheckKind::MysqlGreeting { addr: refused_host });
    assert!(r.ok, "{r:?}");
    assert!(r.detail.contains("error 1130"), "{}", r.detail);
    let r = run1(CheckKind::MysqlGreeting { addr: ice });
    assert_eq!(r.outcome, Outcome::WrongProtocol);
    let r = run1(CheckKind::Http2 { addr: h2 });
    assert!(r.ok, "{r:?}");
    assert_eq!(r.detail, "HTTP/2 SETTINGS frame (1 setting(s))");
    let r = run1(CheckKind::IceValidate { addr: h2 });
    assert_eq!(
        r.outcome,
        Outcome::Timeout,
        "an h2 server waits for the client: {r:?}"
    );
    let r = run1(CheckKind::TlsHello {
        addr: ice,
        server_name: None,
    });
    assert_eq!(r.outcome, Outcome::WrongProtocol);
    let r = run1(CheckKind::Tcp { addr: h2 });
    assert!(r.ok, "{r:?}");
}

#[test]
fn malformed_http_answers_fail_as_wrong_protocol() {
    let ip = ip("127.0.2.10");
    // A chunk size that overflows `size + 2`: refused, no panic.
    let huge_chunk = banner_server(
        ip,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    );
    let bad_chunk = banner_server(
        ip,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    );
    // Headers that never end: given up after 64 KiB, long before the timeout.
    let endless = endless_server(ip, b"HTTP/");
    let checks: Vec<Check> = [
        http(huge_chunk, "/"),
        http(bad_chunk, "/"),
        http(endless, "/"),
        CheckKind::ConsulPeers {
            agent: huge_chunk,
            expected: 1,
        },
    ]
    .map(check)
    .to_vec();
    let report = run_within(&checks, 5000, 2000);
    let r = &report.checks;
    for c in r {
        assert_eq!(c.outcome, Outcome::WrongProtocol, "{c:?}");
    }
    assert_eq!(
        r[0].detail,
        format!(
            "expected a chunked HTTP body from {huge_chunk}, got an invalid chunk size 'ffffffffffffffff'"
        )
    );
    assert!(
        r[1].detail.ends_with("invalid chunk size 'zz'"),
        "{}",
        r[1].detail
    );
    assert!(
        r[2].detail.starts_with(&format!(
            "expected an HTTP response from {endless}, got no end of headers within 64 KiB: 'HTTP/xxx"
        )),
        "{}",
        r[2].detail
    );
    assert_eq!(r[3].detail, r[0].detail);
}

#[test]
fn wait_retries_until_the_service_comes_up_or_the_deadline() {
    let ip = ip("127.0.2.6");
    let port = free_port(ip);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        serve(ip, port, |_| std::thread::sleep(Duration::from_millis(100)));
    });
    let later = CheckKind::Tcp {
        addr: SocketAddr::from((ip, port)),
    };
    let never = CheckKind::Tcp {
        addr: refused_port(ip),
    };
    let t = Instant::now();
    let report = health::run(
        &[check(later), check(never)],
        RunOptions {
            timeout: Duration::from_millis(300),
            wait: Some(Duration::from_millis(2000)),
        },
    );
    let took = t.elapsed();
    let (up, down) = (&report.checks[0], &report.checks[1]);
    assert!(up.ok && up.attempts > 1, "{up:?}");
    assert!(up.detail.contains("passed on attempt"), "{}", up.detail);
    assert!(up.elapsed_ms >= 700, "{up:?}");
    assert_eq!(down.outcome, Outcome::Refused);
    assert!(down.attempts >= 3, "{down:?}");
    assert!(down.detail.contains("attempts)"), "{}", down.detail);
    assert!(
        took >= Duration::from_millis(2000) && took < Duration::from_millis(4500),
        "{took:?}"
    );
    assert!(!report.healthy);
}

#[test]
fn checks_run_concurrently() {
    let ip = ip("127.0.2.7");
    let silent = silent_server(ip);
    let checks: Vec<Check> = (0..60)
        .map(|_| check(CheckKind::IceValidate { addr: silent }))
        .collect();
    let report = run_within(&checks, 400, 2000);
    assert!(report.checks.iter().all(|c| c.outcome == Outcome::Timeout));
    assert!(report.checks[0]
        .detail
        .ends_with("accepted the connection but sent no answer"));
}

#[test]
fn report_json_shape_and_table() {
    let ip = ip("127.0.2.8");
    let web = http_server(ip, false, |_| (200, String::new()));
    let mut a = check(http(web, "/"));
    a.host = host("node-a", ip);
    a.service = Service::Admin;
    a.name = "web".into();
    let mut b = check(CheckKind::Tcp {
        addr: refused_port(ip),
    });
    b.host = host("node-a", ip);
    b.service = Service::Carrier;
    b.name = "rpc".into();
    let mut c = b.clone();
    c.name = "pprof".into();
    let report: Report = health::run(&[a, b, c], RunOptions::default());
    let v = serde_json::to_value(&report).expect("json");
    let obj = v.as_object().expect("object");
    assert_eq!(obj.keys().collect::<Vec<_>>(), REPORT_KEYS);
    assert_eq!(v["healthy"], false);
    let first = v["checks"][0].as_object().expect("check object");
    assert_eq!(first.keys().collect::<Vec<_>>(), CHECK_KEYS);
    assert_eq!(first["outcome"], "ok");
    assert!(first["attempts"].is_u64());
    assert_eq!(first["host"], "node-a");
    assert_eq!(first["address"], "127.0.2.8");
    assert_eq!(first["service"], "admin");
    assert_eq!(first["ok"], true);
    assert!(first["elapsed_ms"].is_u64());
    assert_eq!(v["checks"][1]["outcome"], "refused");

    let table = health::render_table(&report);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("Host")
            && lines[0].contains("Service")
            && lines[0].ends_with("Detail")
    );
    assert!(lines[1].starts_with("----"));
    // Grouped: carrier (start order before admin) first, its host written once.
    assert!(
        lines[2].starts_with("node-a (127.0.2.8)  carrier"),
        "{table}"
    );
    assert!(lines[3].trim_start().starts_with("pprof"), "{table}");
    assert!(lines[4].trim_start().starts_with("admin"), "{table}");
    assert!(lines[4].contains(" ok "), "{table}");
    assert_eq!(lines.last(), Some(&"3 check(s), 2 failed: unhealthy"));
}
