//! Health checks against the real programs (Debian's nginx, MariaDB, IceGrid, Glacier2),
//! started by the tests on their own loopback addresses. These programs are required: a
//! missing one fails the test (CI installs them).

mod health_support;
mod support;

use health_support::*;
use metis_core::health::{self, Check, CheckKind, Filter, Outcome, RunOptions};
use metis_core::model::{defaults, Service};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{org_one_host, self_signed, start_ice, start_mariadb, start_nginx, temp_dir};

fn opts() -> RunOptions {
    RunOptions {
        timeout: Duration::from_millis(1500),
        wait: None,
    }
}

fn run(kinds: &[CheckKind]) -> Vec<health::CheckResult> {
    let checks: Vec<Check> = kinds.iter().cloned().map(check).collect();
    health::run(&checks, opts()).checks
}

#[test]
fn nginx_direct_proxied_failing_upstream_and_tls() {
    let ip = ip("127.0.3.2");
    let dir = temp_dir("health-nginx");
    let admin = http_server(ip, false, |p| {
        if p == defaults::ADMIN_HEALTH_PATH {
            (200, "{\"status\":\"UP\"}".into())
        } else {
            (404, String::new())
        }
    });
    let dead = refused_port(ip);
    let (cert, key) = self_signed(&dir, "admin.metis.test");
    let [direct, proxy, broken, tls] = [0; 4].map(|_| SocketAddr::from((ip, free_port(ip))));
    let servers = format!(
        "server {{ listen {direct}; location /datum-admin/health {{ return 200; }} }}\n\
         server {{ listen {proxy}; location /datum-admin {{ proxy_pass http://{admin}; }} }}\n\
         server {{ listen {broken}; location /datum-admin {{ proxy_pass http://{dead}; }} }}\n\
         server {{ listen {tls} ssl; server_name admin.metis.test;\n\
           ssl_certificate {}; ssl_certificate_key {};\n\
           ssl_protocols {}; ssl_ciphers {};\n\
           location /datum-admin {{ proxy_pass http://{admin}; }} }}\n",
        cert.display(),
        key.display(),
        defaults::ADMIN_TLS_PROTOCOLS,
        defaults::ADMIN_TLS_CIPHERS,
    );
    let _nginx = start_nginx(&dir, &servers, direct);
    let path = defaults::ADMIN_HEALTH_PATH;
    let tls_check = |addr, name: Option<&str>| CheckKind::TlsHello {
        addr,
        server_name: name.map(str::to_string),
    };
    let r = run(&[
        http(direct, path),
        http(proxy, path),
        http(broken, path),
        tls_check(tls, Some("admin.metis.test")),
        tls_check(direct, None),
        http(tls, path),
        CheckKind::IceValidate { addr: direct },
    ]);
    assert!(r[0].ok && r[1].ok, "{r:#?}");
    assert_eq!(r[0].detail, "GET /datum-admin/health: HTTP/1.1 200 OK");
    assert_eq!(r[2].outcome, Outcome::HttpStatus, "{:?}", r[2]);
    assert!(
        r[2].detail.ends_with("got 'HTTP/1.1 502 Bad Gateway'"),
        "{}",
        r[2].detail
    );
    assert!(r[3].ok, "{:?}", r[3]);
    assert_eq!(r[4].outcome, Outcome::WrongProtocol, "{:?}", r[4]);
    assert!(
        r[4].detail.ends_with("got 'HTTP/1.1 400 Bad Request'"),
        "{}",
        r[4].detail
    );
    assert_eq!(
        r[5].outcome,
        Outcome::HttpStatus,
        "plain HTTP to the TLS port: {:?}",
        r[5]
    );
    assert_eq!(
        r[6].outcome,
        Outcome::Timeout,
        "nginx waits for the client: {:?}",
        r[6]
    );
}

#[test]
fn mariadb_sends_its_greeting() {
    let ip = ip("127.0.3.3");
    let dir = temp_dir("health-mariadb");
    let addr = SocketAddr::from((ip, free_port(ip)));
    let _db = start_mariadb(&dir, addr);
    let r = run(&[
        CheckKind::MysqlGreeting { addr },
        CheckKind::IceValidate { addr },
        http(addr, "/"),
    ]);
    assert!(r[0].ok, "{:?}", r[0]);
    assert!(
        r[0].detail
            .starts_with("MySQL greeting, protocol 10, server "),
        "{}",
        r[0].detail
    );
    assert!(r[0].detail.contains("MariaDB"), "{}", r[0].detail);
    assert_eq!(r[1].outcome, Outcome::WrongProtocol, "{:?}", r[1]);
    assert!(r[1]
        .detail
        .starts_with("expected an Ice validate-connection message, got bytes "));
    assert_eq!(r[2].outcome, Outcome::WrongProtocol, "{:?}", r[2]);
}

#[test]
fn icegrid_and_glacier2_send_validate_connection() {
    let ip = ip("127.0.3.4");
    let dir = temp_dir("health-ice");
    let grid = SocketAddr::from((ip, free_port(ip)));
    let router = SocketAddr::from((ip, free_port(ip)));
    let (_g, _r) = start_ice(&dir, grid, router);
    let r = run(&[
        CheckKind::IceValidate { addr: grid },
        CheckKind::IceValidate { addr: router },
        CheckKind::Http2 { addr: grid },
        CheckKind::MysqlGreeting { addr: router },
        http(grid, "/"),
    ]);
    assert!(r[0].ok && r[1].ok, "{r:#?}");
    for (i, expected) in [
        (2, "an HTTP/2 SETTINGS frame"),
        (3, "a MySQL server greeting"),
        (4, "an HTTP response"),
    ] {
        assert_eq!(r[i].outcome, Outcome::WrongProtocol, "{:?}", r[i]);
        assert!(
            r[i].detail.contains(&format!("expected {expected}"))
                && r[i].detail.contains("got bytes 49 63 65 50"),
            "{}",
            r[i].detail
        );
    }
}

/// The "all on one machine" layout with upstream's default ports on 127.0.3.1: real nginx,
/// MariaDB, IceGrid and Glacier2; consul, carrier, admin and fighters are fakes speaking
/// the same protocols. The plan from the model must come out healthy, then name exactly
/// what is down.
#[test]
fn organisation_on_one_host_plan_and_run() {
    let ip = ip("127.0.3.1");
    let dir = temp_dir("health-org");
    let consul_http = 8500;
    let org = org_one_host(ip, consul_http);
    let svc = |id: &str, name: &str, port: u16| {
        (
            id.to_string(),
            name.to_string(),
            ip.to_string(),
            port,
            "passing".to_string(),
        )
    };
    let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
    fake_consul_at(
        ip,
        consul_http,
        Arc::new(Mutex::new(ConsulState {
            leader: format!("{ip}:8300"),
            peers: vec![format!("{ip}:8300")],
            kv: [
                kv(defaults::KV_GLACIER2, "203.0.113.5_20031"),
                kv(defaults::KV_ICEGRID, "203.0.113.5_20032"),
                kv(defaults::KV_DATA_CENTER, "198.51.100.7_9099"),
            ]
            .into(),
            services: vec![
                svc(
                    "carrier",
                    defaults::CONSUL_CARRIER_SERVICE,
                    defaults::CARRIER_RPC_PORT,
                ),
                svc(
                    "admin",
                    defaults::CONSUL_ADMIN_SERVICE,
                    defaults::ADMIN_WEB_PORT,
                ),
                svc(
                    "adminGrpc",
                    defaults::CONSUL_ADMIN_GRPC_SERVICE,
                    defaults::ADMIN_GRPC_PORT,
                ),
                svc("data", defaults::CONSUL_DATA_SERVICE, 8700),
                svc("job", defaults::CONSUL_COMPUTE_SERVICE, 8701),
            ],
        })),
    );
    let ok_at = |path: &'static str| {
        move |p: &str| {
            if p == path {
                (200, "{}".to_string())
            } else {
                (404, String::new())
            }
        }
    };
    http_server_at(
        ip,
        defaults::CARRIER_PPROF_PORT,
        false,
        ok_at(defaults::PPROF_PATH),
    );
    h2_server_at(ip, defaults::CARRIER_RPC_PORT);
    http_server_at(
        ip,
        defaults::CARRIER_GRPC_GATEWAY_PORT,
        true,
        ok_at(defaults::CARRIER_NODE_INFO_PATH),
    );
    http_server_at(
        ip,
        defaults::ADMIN_WEB_PORT,
        false,
        ok_at(defaults::ADMIN_HEALTH_PATH),
    );
    h2_server_at(ip, defaults::ADMIN_GRPC_PORT);
    h2_server_at(ip, 8700);
    h2_server_at(ip, 8701);
    let nginx_addr = SocketAddr::from((ip, defaults::NGINX_HTTP_PORT));
    let _nginx = start_nginx(
        &dir,
        &format!(
            "server {{ listen {nginx_addr}; location /datum-admin {{ proxy_pass http://{ip}:{}; }} }}",
            defaults::ADMIN_WEB_PORT
        ),
        nginx_addr,
    );
    let _db = start_mariadb(&dir, SocketAddr::from((ip, defaults::MYSQL_PORT)));
    let (_grid, router) = start_ice(
        &dir,
        SocketAddr::from((ip, defaults::ICE_GRID_PORT)),
        SocketAddr::from((ip, defaults::ICE_GLACIER2_PORT)),
    );

    let checks = health::plan(&org, &Filter::default());
    let report = health::run(&checks, opts());
    assert!(report.healthy, "{}", health::render_table(&report));
    assert_eq!(report.checks.len(), 22);

    drop(router);
    let ice_only = Filter {
        services: vec![Service::IceGrid, Service::Glacier2],
        hosts: vec!["node1".into()],
    };
    let report = health::run(&health::plan(&org, &ice_only), opts());
    assert!(!report.healthy);
    let failed: Vec<_> = report.failed().map(|c| (c.service, c.outcome)).collect();
    assert_eq!(failed, [(Service::Glacier2, Outcome::Refused)]);
    let table = health::render_table(&report);
    assert!(table.contains("refused"), "{table}");
    assert!(
        table.ends_with("2 check(s), 1 failed: unhealthy\n"),
        "{table}"
    );
}
