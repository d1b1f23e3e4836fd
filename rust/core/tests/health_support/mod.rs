//! Test servers on loopback for the health tests: tiny HTTP, HTTP/2, silent and resetting
//! listeners, a fake consul API, daemons under a kill-on-drop guard, and an organisation
//! built by hand (all groups on one host).
#![allow(dead_code)]

use metis_core::model::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test ip")
}

/// A port free on `ip` right now (for daemons configured by port number).
pub fn free_port(ip: Ipv4Addr) -> u16 {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Listens on `ip`:`port` (0: any) and runs `handle` on a thread per connection.
pub fn serve(
    ip: Ipv4Addr,
    port: u16,
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> SocketAddr {
    let l = TcpListener::bind((ip, port)).expect("bind test listener");
    let addr = l.local_addr().expect("local addr");
    let handle = Arc::new(handle);
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            let h = Arc::clone(&handle);
            thread::spawn(move || h(s));
        }
    });
    addr
}

/// Reads an HTTP request head and returns its path.
fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut b).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1).map(str::to_string)
}

/// An HTTP/1.1 server: `route(path)` gives (status, body). Bodies are sent chunked when
/// `chunked`, else with Content-Length.
pub fn http_server(
    ip: Ipv4Addr,
    chunked: bool,
    route: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> SocketAddr {
    http_server_at(ip, 0, chunked, route)
}

pub fn http_server_at(
    ip: Ipv4Addr,
    port: u16,
    chunked: bool,
    route: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> SocketAddr {
    serve(ip, port, move |mut s| {
        let Some(path) = read_request(&mut s) else {
            return;
        };
        let (status, body) = route(&path);
        let resp = if chunked {
            let half = body.len() / 2;
            let (a, b) = body.split_at(half);
            format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                a.len(),
                b.len()
            )
        } else {
            format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let _ = s.write_all(resp.as_bytes());
        // Keep the connection open a moment: the client must stop on Content-Length/chunks.
        thread::sleep(Duration::from_millis(200));
    })
}

/// Answers the HTTP/2 preface with a SETTINGS frame (MAX_CONCURRENT_STREAMS = 100), like a
/// gRPC server.
pub fn h2_server(ip: Ipv4Addr) -> SocketAddr {
    h2_server_at(ip, 0)
}

pub fn h2_server_at(ip: Ipv4Addr, port: u16) -> SocketAddr {
    serve(ip, port, |mut s| {
        let mut buf = vec![0u8; 24 + 9];
        if s.read_exact(&mut buf).is_err() || !buf.starts_with(b"PRI * HTTP/2.0") {
            return;
        }
        let _ = s.write_all(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
        thread::sleep(Duration::from_millis(500));
    })
}

/// Accepts connections and never says anything (timeout outcome).
pub fn silent_server(ip: Ipv4Addr) -> SocketAddr {
    serve(ip, 0, |s| {
        thread::sleep(Duration::from_secs(30));
        drop(s);
    })
}

/// Accepts, leaves the request unread and closes: the kernel answers with a reset.
pub fn resetting_server(ip: Ipv4Addr) -> SocketAddr {
    serve(ip, 0, |s| {
        thread::sleep(Duration::from_millis(100));
        drop(s);
    })
}

/// A port nothing listens on.
pub fn refused_port(ip: Ipv4Addr) -> SocketAddr {
    SocketAddr::from((ip, free_port(ip)))
}

/// Sends `bytes` on connect, then keeps the connection open a moment.
pub fn banner_server(ip: Ipv4Addr, bytes: &'static [u8]) -> SocketAddr {
    serve(ip, 0, move |mut s| {
        let _ = s.write_all(bytes);
        thread::sleep(Duration::from_millis(500));
    })
}

/// What the fake consul agent answers.
#[derive(Clone, Debug)]
pub struct ConsulState {
    pub leader: String,
    pub peers: Vec<String>,
    pub kv: BTreeMap<String, String>,
    /// (id, name, address, port, check status)
    pub services: Vec<(String, String, String, u16, String)>,
}

/// A fake consul HTTP API (the endpoints the health checks use), answering chunked like
/// Go's net/http does for streamed bodies.
pub fn fake_consul(ip: Ipv4Addr, state: Arc<Mutex<ConsulState>>) -> SocketAddr {
    fake_consul_at(ip, 0, state)
}

pub fn fake_consul_at(ip: Ipv4Addr, port: u16, state: Arc<Mutex<ConsulState>>) -> SocketAddr {
    http_server_at(ip, port, true, move |path| {
        let st = state.lock().expect("consul state").clone();
        let json = |v: serde_json::Value| (200, v.to_string());
        match path {
            "/v1/status/leader" => json(serde_json::json!(st.leader)),
            "/v1/status/peers" => json(serde_json::json!(st.peers)),
            "/v1/agent/services" => {
                let mut m = serde_json::Map::new();
                for (id, name, addr, port, _) in &st.services {
                    m.insert(
                        id.clone(),
                        serde_json::json!({"ID": id, "Service": name, "Tags": [],
                            "Address": addr, "Port": port}),
                    );
                }
                json(serde_json::Value::Object(m))
            }
            "/v1/agent/checks" => {
                let mut m = serde_json::Map::new();
                for (id, name, _, _, status) in &st.services {
                    let cid = format!("service:{id}");
                    m.insert(
                        cid.clone(),
                        serde_json::json!({"CheckID": cid, "Name": format!("Service '{name}' check"),
                            "Status": status, "Output": format!("grpc check is {status}"),
                            "ServiceID": id, "ServiceName": name}),
                    );
                }
                json(serde_json::Value::Object(m))
            }
            p if p.starts_with("/v1/kv/") => {
                let key = p
                    .trim_start_matches("/v1/kv/")
                    .trim_end_matches("?raw")
                    .to_string();
                match st.kv.get(&key) {
                    Some(v) => (200, v.clone()),
                    None => (404, String::new()),
                }
            }
            _ => (404, "not found".to_string()),
        }
    })
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

/// Starts `program` (which must be installed: the test fails otherwise) and waits until
/// `addr` accepts connections.
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

/// A temporary directory removed when dropped (declare it before the daemons using it).
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh temporary directory for one test.
pub fn temp_dir(tag: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("metis-health-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    TempDir(d)
}

pub fn host(name: &str, ip: Ipv4Addr) -> HostRef {
    HostRef {
        name: name.to_string(),
        ip,
    }
}

/// An organisation with every group on one host (`ip`), upstream's default ports, consul on
/// `consul_http`, ice_via external address 203.0.113.5, storage at 198.51.100.7:9099.
pub fn org_one_host(ip: Ipv4Addr, consul_http: u16) -> Organization {
    let h = host("node1", ip);
    let enabled = Group::ALL.into_iter().map(|g| (g, true)).collect();
    Organization {
        cluster_name: defaults::CLUSTER_NAME.to_string(),
        enabled,
        settings: Settings {
            deploy_dir: defaults::DEPLOY_DIR.to_string(),
            service_user: defaults::SERVICE_USER.to_string(),
            service_manager: ServiceManager::Process,
            carrier_verbosity: defaults::CARRIER_VERBOSITY,
            admin: AdminSettings {
                mysql_root_password: Secret::new("x"),
                db_user: defaults::ADMIN_DB_USER.to_string(),
                db_password: Secret::new("y"),
                pinata_token: Secret::new("z"),
                pinata_gateway: String::new(),
                pinata_url: defaults::PINATA_URL.to_string(),
                jvm_opts: defaults::ADMIN_JVM_OPTS.to_string(),
                tls: None,
            },
            chain: ChainSettings {
                rpc_url: defaults::CHAIN_RPC_URL.to_string(),
                chain_id: defaults::CHAIN_ID,
                hrp: defaults::CHAIN_HRP.to_string(),
                document_contract: String::new(),
                pct_contract: String::new(),
                credential_contract: String::new(),
                proposal_contract: String::new(),
                pay_agent_contract: String::new(),
                bootstrap_nodes: vec![],
            },
            storage: Some(StorageAddr {
                ip: ip_s("198.51.100.7"),
                port: 9099,
            }),
            fighter: FighterSettings {
                latticex_rosetta: String::new(),
                latticex_psi: String::new(),
                fighter_dcv: String::new(),
                channel_sdk: String::new(),
                python_proxy: String::new(),
                python: defaults::FIGHTER_PYTHON.to_string(),
            },
            resources: BTreeMap::new(),
        },
        consul: vec![ConsulNode {
            host: h.clone(),
            index: 0,
            ports: ConsulPorts {
                server: 8300,
                serf_lan: 8301,
                serf_wan: 8302,
                http: consul_http,
                dns: 8600,
            },
        }],
        ice_via: Some(IceViaNode {
            host: h.clone(),
            external_ip: ip_s("203.0.113.5"),
            glacier2_port: defaults::ICE_GLACIER2_PORT,
            grid_port: defaults::ICE_GRID_PORT,
            protocol: IceProtocol::Tcp,
        }),
        carrier: Some(CarrierNode {
            host: h.clone(),
            external_ip: ip,
            ports: CarrierPorts {
                pprof: defaults::CARRIER_PPROF_PORT,
                rpc: defaults::CARRIER_RPC_PORT,
                grpc_gateway: defaults::CARRIER_GRPC_GATEWAY_PORT,
                p2p_udp: defaults::CARRIER_P2P_UDP_PORT,
                p2p_tcp: defaults::CARRIER_P2P_TCP_PORT,
            },
        }),
        admin: vec![AdminNode {
            host: h.clone(),
            web_port: defaults::ADMIN_WEB_PORT,
            grpc_port: defaults::ADMIN_GRPC_PORT,
        }],
        data: vec![FighterNode {
            host: h.clone(),
            kind: FighterKind::Data,
            index: 0,
            port: 8700,
        }],
        compute: vec![FighterNode {
            host: h,
            kind: FighterKind::Compute,
            index: 0,
            port: 8701,
        }],
    }
}

fn ip_s(s: &str) -> Ipv4Addr {
    ip(s)
}

/// Starts nginx in the foreground with `servers` (server blocks) inside a minimal `http {}`;
/// `wait_for` is one of its listen addresses.
pub fn start_nginx(dir: &Path, servers: &str, wait_for: SocketAddr) -> Daemon {
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 128; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
         {servers}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("nginx.conf");
    let p = path.display().to_string();
    let prefix = format!("{d}/");
    let err = format!("{d}/error.log");
    start_daemon(
        "nginx",
        &["-p", &prefix, "-c", &p, "-e", &err],
        &dir.join("nginx.out"),
        wait_for,
    )
}

/// A self-signed EC certificate for `name`: (cert, key) paths.
pub fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
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
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (CI installs it)");
    assert!(st.success(), "openssl req failed");
    (cert, key)
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
    std::fs::write(dir.join("icegrid.cfg"), grid_cfg).expect("icegrid.cfg");
    std::fs::write(dir.join("glacier2.cfg"), router_cfg).expect("glacier2.cfg");
    let cfg = |f: &str| format!("--Ice.Config={}", dir.join(f).display());
    let g = start_daemon(
        "icegridregistry",
        &[&cfg("icegrid.cfg")],
        &dir.join("icegrid.log"),
        grid,
    );
    let r = start_daemon(
        "glacier2router",
        &[&cfg("glacier2.cfg")],
        &dir.join("glacier2.log"),
        router,
    );
    (g, r)
}
