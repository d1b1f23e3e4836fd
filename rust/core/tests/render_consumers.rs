//! The real consumers accept the rendered files: nginx -t, MariaDB's option parser, IceGrid and
//! Glacier2 actually start on loopback and answer with Ice's validate-connection message,
//! `systemd-analyze verify` finds nothing to complain about in the units.
//!
//! Every test puts `deploy_dir` (and the TLS files) into its own temp dir and binds its own
//! 127.0.3.x address. A consumer binary that is not installed skips its test with a message (fails under CI).

mod common;

use metis_core::model::{IceProtocol, Organization, Service};
use metis_core::render::{self, Layout, RenderedFile};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("metis-render-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    fn path(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills the child when the test ends, pass or fail.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(bin: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        // CI installs every consumer (tests/setup.sh): a missing one there is a failure.
        assert!(std::env::var_os("CI").is_none(), "{bin} is not installed");
        eprintln!("skipped: {bin} is not installed");
    }
    found
}

fn write(f: &RenderedFile, to: &Path) {
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::write(to, &f.content).expect("write");
}

fn only(files: &[RenderedFile], service: Service, suffix: &str) -> RenderedFile {
    files
        .iter()
        .find(|f| f.service == service && f.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {service} {suffix}"))
        .clone()
}

fn in_temp(tmp: &TempDir) -> Organization {
    let mut org = common::org();
    org.settings.deploy_dir = tmp.path("deploy");
    org
}

// ---------------------------------------------------------------- nginx

fn nginx_test(tls: bool) {
    if !have("nginx") {
        return;
    }
    let tmp = TempDir::new(if tls { "nginx-tls" } else { "nginx" });
    let mut org = in_temp(&tmp);
    if tls {
        if !have("openssl") {
            return;
        }
        let mut t = common::tls();
        t.cert_file = tmp.path("tls dir/admin.crt"); // a space: exercises quoting
        t.key_file = tmp.path("tls dir/admin.key");
        std::fs::create_dir_all(tmp.0.join("tls dir")).expect("mkdir");
        let ok = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=admin.example.org", "-keyout", &t.key_file])
            .args(["-out", &t.cert_file])
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(ok.success());
        org.settings.admin.tls = Some(t);
    }
    let host = org.admin[0].host.name.clone();
    let site = only(&render::render_host(&org, &host), Service::Nginx, ".conf");
    let site_path = tmp.0.join("site.conf");
    write(&site, &site_path);
    std::fs::create_dir_all(Layout::new(&org.settings).admin_web_root()).expect("web root");
    let conf = format!(
        "pid {p}/nginx.pid;\nerror_log {p}/error.log;\nevents {{}}\nhttp {{\n    access_log off;\n    include {site};\n}}\n",
        p = tmp.0.display(),
        site = site_path.display()
    );
    let conf_path = tmp.0.join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("write");
    let out = Command::new("nginx")
        .arg("-t")
        .arg("-e")
        .arg(tmp.0.join("e.log"))
        .arg("-p")
        .arg(&tmp.0)
        .arg("-c")
        .arg(&conf_path)
        .output()
        .expect("nginx");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nginx -t:\n{text}\n{}", site.content);
    assert!(text.contains("test is successful"), "{text}");
}

#[test]
fn nginx_accepts_site() {
    nginx_test(false);
}

#[test]
fn nginx_accepts_tls_site() {
    nginx_test(true);
}

// ---------------------------------------------------------------- MariaDB

#[test]
fn mariadb_loads_settings() {
    if !have("mariadbd") {
        return;
    }
    let tmp = TempDir::new("mariadb");
    let mut org = in_temp(&tmp);
    org.admin[0].host.ip = [127, 0, 3, 10].into();
    let host = org.admin[0].host.name.clone();
    let snippet = only(&render::render_host(&org, &host), Service::Mysql, ".cnf");
    let path = tmp.0.join("60-metis.cnf");
    write(&snippet, &path);
    // --defaults-file: read only the rendered file. An unknown or malformed setting fails.
    let out = Command::new("mariadbd")
        .arg(format!("--defaults-file={}", path.display()))
        .args(["--help", "--verbose"])
        .output()
        .expect("mariadbd");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(name)).then(|| w.next().unwrap_or("").to_owned())
            })
            .unwrap_or_default()
    };
    assert_eq!(value("bind-address"), "127.0.3.10");
    assert_eq!(value("default-time-zone"), "+00:00");
    assert_eq!(value("event-scheduler"), "ON");
    assert_eq!(value("port"), "3306");
}

// ---------------------------------------------------------------- Ice

fn wait_connect(addr: SocketAddr, child: &mut Daemon) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            return s;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            let mut err = String::new();
            if let Some(e) = child.0.stderr.as_mut() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("exited with {status} before listening on {addr}: {err}");
        }
        assert!(Instant::now() < deadline, "{addr} never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads Ice's 14-byte validate-connection message: magic `IceP`, message type 3 at byte 8.
fn assert_ice_validate(mut s: TcpStream) {
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut msg = [0u8; 14];
    s.read_exact(&mut msg).expect("validate connection message");
    assert_eq!(&msg[..4], b"IceP", "{msg:?}");
    assert_eq!(msg[8], 3, "message type: {msg:?}");
    assert_eq!(u32::from_le_bytes([msg[10], msg[11], msg[12], msg[13]]), 14);
}

fn start(bin: &str, cfg: &RenderedFile, tmp: &TempDir) -> Daemon {
    let path = tmp.0.join(Path::new(&cfg.path).file_name().expect("name"));
    write(cfg, &path);
    Daemon(
        Command::new(bin)
            .arg(format!("--Ice.Config={}", path.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    )
}

fn ice_org(tmp: &TempDir, ip: [u8; 4], protocol: IceProtocol) -> Organization {
    let mut org = in_temp(tmp);
    let ice = org.ice_via.as_mut().expect("ice_via");
    ice.host.ip = ip.into();
    ice.protocol = protocol;
    let lay = Layout::new(&org.settings);
    for dir in lay.service_dirs(Service::IceGrid) {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    org
}

#[test]
fn icegrid_registry_starts_and_answers() {
    if !have("icegridregistry") {
        return;
    }
    let tmp = TempDir::new("icegrid");
    let org = ice_org(&tmp, [127, 0, 3, 11], IceProtocol::Tcp);
    let ice = org.ice_via.clone().expect("ice_via");
    let files = render::render_host(&org, &ice.host.name);
    let mut d = start(
        "icegridregistry",
        &only(&files, Service::IceGrid, ".cfg"),
        &tmp,
    );
    let s = wait_connect(SocketAddr::from((ice.host.ip, ice.grid_port)), &mut d);
    assert_ice_validate(s);
}

#[test]
fn glacier2_router_starts_and_answers() {
    if !have("icegridregistry") || !have("glacier2router") {
        return;
    }
    let tmp = TempDir::new("glacier2");
    let org = ice_org(&tmp, [127, 0, 3, 12], IceProtocol::Tcp);
    let ice = org.ice_via.clone().expect("ice_via");
    let files = render::render_host(&org, &ice.host.name);
    let mut grid = start(
        "icegridregistry",
        &only(&files, Service::IceGrid, ".cfg"),
        &tmp,
    );
    let _ = wait_connect(SocketAddr::from((ice.host.ip, ice.grid_port)), &mut grid);
    let mut router = start(
        "glacier2router",
        &only(&files, Service::Glacier2, ".cfg"),
        &tmp,
    );
    let s = wait_connect(
        SocketAddr::from((ice.host.ip, ice.glacier2_port)),
        &mut router,
    );
    assert_ice_validate(s);
}

#[test]
fn glacier2_router_starts_with_ssl() {
    if !have("glacier2router") || !have("openssl") {
        return;
    }
    let tmp = TempDir::new("glacier2-ssl");
    let org = ice_org(&tmp, [127, 0, 3, 13], IceProtocol::Ssl);
    let ice = org.ice_via.clone().expect("ice_via");
    let lay = Layout::new(&org.settings);
    let certs = PathBuf::from(lay.ice_certs_dir());
    std::fs::create_dir_all(&certs).expect("mkdir");
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=ice_via"])
        .arg("-keyout")
        .arg(certs.join(metis_core::model::defaults::ICE_SSL_KEY_FILE))
        .arg("-out")
        .arg(certs.join(metis_core::model::defaults::ICE_SSL_CERT_FILE))
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(ok.success());
    std::fs::copy(
        certs.join(metis_core::model::defaults::ICE_SSL_CERT_FILE),
        certs.join(metis_core::model::defaults::ICE_SSL_CA_FILE),
    )
    .expect("ca");
    let files = render::render_host(&org, &ice.host.name);
    let cfg = only(&files, Service::Glacier2, ".cfg");
    assert!(cfg
        .content
        .contains("Ice.Plugin.IceSSL=IceSSL:createIceSSL\n"));
    let mut router = start("glacier2router", &cfg, &tmp);
    let addr = SocketAddr::from((ice.host.ip, ice.glacier2_port));
    let _ = wait_connect(addr, &mut router);
    // Over TLS the validate-connection message comes after the handshake: openssl s_client
    // prints the decrypted bytes.
    let out = Command::new("timeout")
        .args(["3", "openssl", "s_client", "-quiet", "-ign_eof", "-connect"])
        .arg(addr.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("s_client");
    assert!(
        out.stdout.starts_with(b"IceP") && out.stdout.get(8) == Some(&3),
        "{:?}",
        out.stdout
    );
}

// ---------------------------------------------------------------- systemd

#[test]
fn systemd_accepts_units() {
    if !have("systemd-analyze") {
        return;
    }
    let tmp = TempDir::new("systemd");
    let mut org = in_temp(&tmp);
    // Specifier and quote characters must reach java literally.
    org.settings.admin.jvm_opts = "-Xmx1g -Dlimit=50% -Dname=\"a b\"".to_owned();
    let lay = Layout::new(&org.settings);
    // Binaries the units start that a test machine lacks: stand-ins at the rendered paths, so
    // `verify` checks them like real ones (java, icegridregistry, glacier2router are Debian's).
    for stub in [
        lay.consul_bin(),
        lay.carrier_bin(),
        lay.fighter_python(&org.settings),
    ] {
        let p = PathBuf::from(&stub);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, "#!/bin/sh\n").expect("stub");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let units: Vec<RenderedFile> = render::render_all(&org)
        .into_iter()
        .filter(|f| f.path.ends_with(".service"))
        .collect();
    let mut names: Vec<&str> = units
        .iter()
        .map(|u| u.path.rsplit('/').next().unwrap_or(""))
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        [
            "metis-admin.service",
            "metis-carrier.service",
            "metis-compute.service",
            "metis-consul.service",
            "metis-data.service",
            "metis-glacier2.service",
            "metis-icegrid.service",
        ]
    );
    for (i, u) in units.iter().enumerate() {
        let dir = tmp.0.join(format!("units{i}"));
        let complaints = verify(&dir, u, &u.content);
        assert!(
            complaints.is_empty(),
            "{}: {complaints:#?}\n{}",
            u.path,
            u.content
        );
    }
    // The check itself catches what it must: an unknown setting and a missing binary.
    let u = &units[0];
    let bad = u
        .content
        .replace("[Service]\n", "[Service]\nBogusSetting=1\n");
    assert_eq!(verify(&tmp.0.join("bad1"), u, &bad).len(), 1, "{bad}");
    let bad = u.content.replace(&lay.consul_bin(), "/nonexistent/consul");
    assert_eq!(verify(&tmp.0.join("bad2"), u, &bad).len(), 1, "{bad}");
}

/// `systemd-analyze verify` on one unit: the lines about THIS unit (verify also loads the
/// system's units and reports their own problems, e.g. syscalls this systemd does not know,
/// which are not ours). Any line about our unit is a complaint: unknown or unparsable settings,
/// a missing or non-executable ExecStart binary.
fn verify(dir: &Path, u: &RenderedFile, content: &str) -> Vec<String> {
    let name = u.path.rsplit('/').next().unwrap_or("x.service");
    let path = dir.join(name);
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(&path, content).expect("write");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze");
    let text = String::from_utf8_lossy(&out.stderr);
    let mut complaints: Vec<String> = text
        .lines()
        .filter(|l| l.contains(name))
        .map(str::to_owned)
        .collect();
    if !out.status.success() && complaints.is_empty() {
        complaints.push(format!("exit {}: {text}", out.status));
    }
    complaints
}
