//! Shared test support: organisations built from INI inventory texts through the real reader
//! (`ini::parse`) and builder (`build`), temporary directories, daemons killed on drop,
//! self-signed certificates, and starters for nginx, MariaDB, IceGrid and Glacier2.
#![allow(dead_code, unused_imports)]

use metis_core::diag::render_text;
use metis_core::inventory::ini;
use metis_core::inventory::templates::{evaluate_outside_ansible, Need};
use metis_core::model::build::build;
use metis_core::Organization;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

mod report_keys;
mod temp;
pub use report_keys::{CHECK_KEYS, REPORT_KEYS};
pub use temp::{temp_dir, TempDir};

// ---------------------------------------------------------------- organisations

/// The 6-host fixture inventory (`tests/fixtures/org.ini`); its last section is `[all:vars]`,
/// so lines appended to it set or override organisation-wide variables.
pub const FIXTURE: &str = include_str!("../fixtures/org.ini");

/// Turns the fixture into its TLS variant: https on the admin, ssl for Ice.
pub const TLS_VARS: &str = "enable_tls = True
admin_server_name = admin.example.org
admin_ssl_certificate = /etc/ssl/metis/admin.crt
admin_ssl_certificate_key = /etc/ssl/metis/admin.key
ice_protocol = ssl
";

/// Reads `text` as Ansible's INI inventory plugin does and builds the organisation; fails the
/// test (quoting the diagnostics) when the inventory has errors. Warnings are allowed.
pub fn org_from_ini(name: &str, text: &str) -> Organization {
    org_from_ini_with_env(name, text, &[])
}

/// Like [`org_from_ini`], with `lookup('env', ...)` values evaluated from `env` (every value
/// needed, as for rendering).
pub fn org_from_ini_with_env(name: &str, text: &str, env: &[(String, String)]) -> Organization {
    let name: Arc<str> = name.into();
    let source = |_: &str| Some(text);
    let mut inv = ini::parse(&name, text).unwrap_or_else(|d| {
        panic!("{name} does not parse:\n{}", render_text(&d, source));
    });
    let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut diags = evaluate_outside_ansible(&mut inv, &lookup, Need::Everything);
    let (org, build_diags) = build(&inv);
    diags.extend(build_diags);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).cloned().collect();
    assert!(
        errors.is_empty(),
        "{name} has errors:\n{}",
        render_text(&errors, source)
    );
    org.expect("no errors, so an organisation")
}

/// The sandbox example's test-only secrets (`tests/fixtures/sandbox-secrets.env`).
pub fn sandbox_secrets() -> Vec<(String, String)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sandbox-secrets.env");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The fixture with `extra` lines appended to its `[all:vars]`.
pub fn org_with(extra: &str) -> Organization {
    org_from_ini("org.ini", &format!("{FIXTURE}\n{extra}\n"))
}

/// The 6-host fixture organisation.
pub fn org() -> Organization {
    org_with("")
}

/// The fixture with TLS on and ssl Ice.
pub fn org_tls() -> Organization {
    org_with(TLS_VARS)
}

/// An organisation of `n` hosts (n >= 8) with the fixture's settings: 3 consul, carrier,
/// admin, ice_via, the rest alternating between data and compute.
pub fn big(n: usize) -> Organization {
    let name = |i: usize| {
        format!(
            "h{i} ansible_host=10.{}.{}.{}",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        )
    };
    let mut text = String::from("[consul]\n");
    for i in 0..3 {
        text += &format!("{}\n", name(i));
    }
    for (group, i) in [("carrier", 3), ("admin", 4), ("ice_via", 5)] {
        text += &format!("[{group}]\n{}\n", name(i));
    }
    let (data, compute): (Vec<usize>, Vec<usize>) = (6..n).partition(|i| i % 2 == 0);
    for (group, hosts) in [("data", &data), ("compute", &compute)] {
        text += &format!("[{group}]\n");
        for i in hosts {
            text += &format!("{}\n", name(*i));
        }
    }
    let all_vars = FIXTURE
        .find("\n[all:vars]\n")
        .map_or("[all:vars]\n", |at| &FIXTURE[at + 1..]);
    let ports = |k: usize| vec!["8700"; k].join(", ");
    text += &format!(
        "{all_vars}\ndata_port = [{}]\ncompute_port = [{}]\n",
        ports(data.len()),
        ports(compute.len())
    );
    org_from_ini("big.ini", &text)
}

/// An organisation with every group on one host (`node1` at `ip`), upstream's default ports,
/// consul's HTTP API on `consul_http`, ice_via's external address 203.0.113.5, storage at
/// 198.51.100.7:9099, services started as processes; `extra` lines go into `[all:vars]`.
pub fn org_one_host_with(ip: Ipv4Addr, consul_http: u16, extra: &str) -> Organization {
    let text = format!(
        "[consul]\nnode1 ansible_host={ip}\n\
         [ice_via]\nnode1\n[carrier]\nnode1\n[admin]\nnode1\n[data]\nnode1\n[compute]\nnode1\n\
         [all:vars]\n\
         service_manager = process\n\
         consul_server_port = [8300]\n\
         consul_serf_lan_port = [8301]\n\
         consul_serf_wan_port = [8302]\n\
         consul_http_port = [{consul_http}]\n\
         consul_dns_port = [8600]\n\
         mysql_root_password = x\n\
         admin_password = y\n\
         pinata_token = z\n\
         carrier_external_ip = {ip}\n\
         ice_via_external_ip = 203.0.113.5\n\
         storage_ip = 198.51.100.7\n\
         storage_port = 9099\n\
         data_port = [8700]\n\
         compute_port = [8701]\n\
         {extra}\n"
    );
    org_from_ini("one-host.ini", &text)
}

pub fn org_one_host(ip: Ipv4Addr, consul_http: u16) -> Organization {
    org_one_host_with(ip, consul_http, "")
}

// ---------------------------------------------------------------- processes and files

/// Whether `bin` is on PATH. Outside CI a missing program skips the test (with a message);
/// CI installs every one (tests/setup.sh), so there it fails.
pub fn have(bin: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{bin} is not installed");
        eprintln!("skipped: {bin} is not installed");
    }
    found
}

/// A child process killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub name: String,
    pub log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program` (which must be installed: the test fails otherwise) with its output in
/// `log`, and waits until `addr` accepts connections.
pub fn start_daemon(program: &str, args: &[&str], log: &Path, addr: SocketAddr) -> Daemon {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} (CI installs it): {e}"));
    let mut d = Daemon {
        child,
        name: program.to_string(),
        log: log.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return d;
        }
        if let Ok(Some(status)) = d.child.try_wait() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{program} exited ({status}) before listening on {addr}:\n{log}");
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{program} did not listen on {addr} within 20 s:\n{log}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A self-signed EC certificate for `name` written to `cert` and `key` (directories created).
pub fn self_signed_at(cert: &Path, key: &Path, name: &str) {
    for p in [cert, key] {
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).expect("certificate dir");
        }
    }
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", &format!("/CN={name}")])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (CI installs it)");
    assert!(st.success(), "openssl req failed");
}

/// A self-signed certificate for `name` in `dir`: (cert, key) paths.
pub fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    self_signed_at(&cert, &key, name);
    (cert, key)
}

// ---------------------------------------------------------------- nginx, MariaDB, Ice

/// Writes `dir/nginx.conf`: a foreground, single-process nginx with every path inside `dir`
/// and `http_body` (server blocks or includes) inside `http {}`.
pub fn nginx_conf(dir: &Path, http_body: &str) -> PathBuf {
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 128; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
         {http_body}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("nginx.conf");
    path
}

/// nginx's arguments for the configuration `conf` with prefix and error log in `dir`.
fn nginx_args(dir: &Path, conf: &Path) -> Vec<String> {
    let d = dir.display();
    vec![
        "-p".into(),
        format!("{d}/"),
        "-c".into(),
        conf.display().to_string(),
        "-e".into(),
        format!("{d}/error.log"),
    ]
}

/// `nginx -t` on `http_body` inside the configuration of [`nginx_conf`]: (passed, stderr).
pub fn nginx_check(dir: &Path, http_body: &str) -> (bool, String) {
    let conf = nginx_conf(dir, http_body);
    let out = Command::new("nginx")
        .arg("-t")
        .args(nginx_args(dir, &conf))
        .output()
        .expect("nginx");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts nginx in the foreground with `servers` (server blocks) inside a minimal `http {}`;
/// `wait_for` is one of its listen addresses.
pub fn start_nginx(dir: &Path, servers: &str, wait_for: SocketAddr) -> Daemon {
    let conf = nginx_conf(dir, servers);
    let args = nginx_args(dir, &conf);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    start_daemon("nginx", &args, &dir.join("nginx.out"), wait_for)
}

/// Initialises a MariaDB datadir and starts `mariadbd` on `addr` (runs as root in CI).
pub fn start_mariadb(dir: &Path, addr: SocketAddr) -> Daemon {
    let data = dir.join("data");
    let st = Command::new("mariadb-install-db")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--user=root",
            "--skip-test-db",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("mariadb-install-db (CI installs mariadb-server)");
    assert!(st.success(), "mariadb-install-db failed");
    let d = dir.display();
    start_daemon(
        "mariadbd",
        &[
            "--no-defaults",
            &format!("--datadir={}", data.display()),
            &format!("--bind-address={}", addr.ip()),
            &format!("--port={}", addr.port()),
            &format!("--socket={d}/mysqld.sock"),
            &format!("--pid-file={d}/mysqld.pid"),
            "--user=root",
            "--skip-name-resolve",
            "--skip-log-bin",
        ],
        &dir.join("mariadbd.log"),
        addr,
    )
}

/// Starts an Ice program (`icegridregistry`, `glacier2router`) on the configuration `cfg` and
/// waits until `addr` accepts connections.
pub fn start_ice_program(program: &str, cfg: &Path, addr: SocketAddr) -> Daemon {
    let log = cfg.with_extension("log");
    start_daemon(
        program,
        &[&format!("--Ice.Config={}", cfg.display())],
        &log,
        addr,
    )
}

/// Starts an IceGrid registry (client endpoint `grid`) and a Glacier2 router (`router`)
/// using it as locator, with null permissions verifiers.
pub fn start_ice(dir: &Path, grid: SocketAddr, router: SocketAddr) -> (Daemon, Daemon) {
    let (ip, gp, rp) = (grid.ip(), grid.port(), router.port());
    let db = dir.join("lmdb");
    std::fs::create_dir_all(&db).expect("lmdb dir");
    let grid_cfg = format!(
        "IceGrid.InstanceName=MetisTestGrid\n\
         IceGrid.Registry.Client.Endpoints=tcp -h {ip} -p {gp}\n\
         IceGrid.Registry.Server.Endpoints=tcp -h {ip}\n\
         IceGrid.Registry.Internal.Endpoints=tcp -h {ip}\n\
         IceGrid.Registry.LMDB.Path={}\n\
         IceGrid.Registry.PermissionsVerifier=MetisTestGrid/NullPermissionsVerifier\n\
         IceGrid.Registry.AdminPermissionsVerifier=MetisTestGrid/NullPermissionsVerifier\n\
         IceGrid.Registry.DynamicRegistration=1\n",
        db.display()
    );
    let router_cfg = format!(
        "Glacier2.InstanceName=MetisTestGlacier2\n\
         Glacier2.Client.Endpoints=tcp -h {} -p {rp}\n\
         Glacier2.PermissionsVerifier=MetisTestGlacier2/NullPermissionsVerifier\n\
         Glacier2.SessionTimeout=30\n\
         Ice.Default.Locator=MetisTestGrid/Locator:tcp -h {ip} -p {gp}\n",
        router.ip()
    );
    let (grid_path, router_path) = (dir.join("icegrid.cfg"), dir.join("glacier2.cfg"));
    std::fs::write(&grid_path, grid_cfg).expect("icegrid.cfg");
    std::fs::write(&router_path, router_cfg).expect("glacier2.cfg");
    let g = start_ice_program("icegridregistry", &grid_path, grid);
    let r = start_ice_program("glacier2router", &router_path, router);
    (g, r)
}
