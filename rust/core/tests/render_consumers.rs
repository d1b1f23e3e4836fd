//! The real consumers accept the rendered files: nginx -t, and a real nginx next to Debian's
//! default site proxies the admin's address to the admin; MariaDB's option parser; IceGrid and
//! Glacier2 actually start on loopback and answer with Ice's validate-connection message;
//! `systemd-analyze verify` finds nothing to complain about in the units.
//!
//! Every test puts `deploy_dir` (and the TLS files) into its own temp dir and binds its own
//! 127.0.3.x address. A consumer binary that is not installed skips its test with a message (fails under CI).

mod health_support;
mod support;

use metis_core::model::{defaults, Organization, Service};
use metis_core::render::{self, Layout, RenderedFile};
use metis_core::services::Word;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{have, self_signed_at, start_ice_program, temp_dir, Daemon, TempDir, FIXTURE};

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

/// The fixture organisation with its `deploy_dir` in `tmp`, host `node` at `ip` (when given)
/// and `extra` lines in `[all:vars]`.
fn in_temp(tmp: &TempDir, node: Option<(&str, [u8; 4])>, extra: &str) -> Organization {
    let mut text = FIXTURE.to_owned();
    if let Some((name, ip)) = node {
        let at = text
            .find(&format!("{name} ansible_host="))
            .expect("host line");
        let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
        let ip = std::net::Ipv4Addr::from(ip);
        text.replace_range(at..end, &format!("{name} ansible_host={ip}"));
    }
    let deploy = tmp.path("deploy");
    support::org_from_ini(
        "org.ini",
        &format!("{text}\ndeploy_dir = {deploy}\n{extra}\n"),
    )
}

// ---------------------------------------------------------------- nginx

/// Debian's `/etc/nginx/sites-enabled/default` (its IPv4 listen; the IPv6 one is left out for
/// machines without IPv6): the default server of port 80 on every address. Debian's nginx.conf
/// includes `conf.d/*.conf` (ours) before `sites-enabled/*`.
const DEBIAN_DEFAULT_SITE: &str = "server {
\tlisten 80 default_server;
\troot /var/www/html;
\tindex index.html index.htm index.nginx-debian.html;
\tserver_name _;
\tlocation / {
\t\ttry_files $uri $uri/ =404;
\t}
}
";

/// `conf` with every `listen` on port `from` moved to port `to` (`listen 80`, `listen ip:80`).
fn listen_on(conf: &str, from: u16, to: u16) -> String {
    conf.lines()
        .map(|l| {
            let Some(args) = l.trim_start().strip_prefix("listen ") else {
                return l.to_owned();
            };
            let addr = args.split([' ', ';']).next().unwrap_or("");
            let host = addr.strip_suffix(&from.to_string());
            match host {
                Some(h) if h.is_empty() || h.ends_with(':') => {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    format!("{indent}listen {h}{to}{}", &args[addr.len()..])
                }
                _ => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A port free on every address (nginx binds `*:port` for Debian's site).
fn free_port_everywhere() -> u16 {
    std::net::TcpListener::bind(("0.0.0.0", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `GET path` on `addr` with `Host: host`: the whole response.
fn get(addr: SocketAddr, host: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The rendered site is accepted by `nginx -t` next to Debian's default site, and a real nginx
/// running both (ports moved off 80/443, which other tests use) sends requests to the admin's
/// address (`Host` its IP, as the health check sends, or any name) to our server, proxied to
/// the admin.
fn nginx_test(tls: bool, ip: [u8; 4]) {
    if !have("nginx") {
        return;
    }
    let tmp = temp_dir(if tls {
        "render-nginx-tls"
    } else {
        "render-nginx"
    });
    let node = Some(("node3", ip));
    let org = if tls {
        if !have("openssl") {
            return;
        }
        // A space in the paths exercises quoting.
        let (cert, key) = (tmp.path("tls dir/admin.crt"), tmp.path("tls dir/admin.key"));
        self_signed_at(Path::new(&cert), Path::new(&key), "admin.example.org");
        let tls = support::TLS_VARS
            .replace("/etc/ssl/metis/admin.crt", &cert)
            .replace("/etc/ssl/metis/admin.key", &key);
        in_temp(&tmp, node, &tls)
    } else {
        in_temp(&tmp, node, "")
    };
    let admin = &org.admin[0];
    let ip = admin.host.ip;
    let site = only(
        &render::render_host(&org, &admin.host.name),
        Service::Nginx,
        ".conf",
    );
    assert!(
        site.content.contains(&format!(
            "    listen {ip}:{} default_server;\n",
            defaults::NGINX_HTTP_PORT
        )),
        "{}",
        site.content
    );
    assert_eq!(
        site.content.contains(&format!(
            "    listen {ip}:{} ssl default_server;\n",
            defaults::NGINX_HTTPS_PORT
        )),
        tls,
        "{}",
        site.content
    );
    let (site_path, debian_path) = (tmp.join("site.conf"), tmp.join("debian-default.conf"));
    write(&site, &site_path);
    std::fs::write(&debian_path, DEBIAN_DEFAULT_SITE).expect("write");
    std::fs::create_dir_all(Layout::new(&org.settings).admin_web_root()).expect("web root");
    let includes = format!(
        "include {};\ninclude {};",
        site_path.display(),
        debian_path.display()
    );
    let (ok, text) = support::nginx_check(&tmp, &includes);
    assert!(ok, "nginx -t:\n{text}\n{}", site.content);
    assert!(text.contains("test is successful"), "{text}");

    // The real thing, on ports free everywhere instead of 80 and 443.
    let (http, https) = (free_port_everywhere(), free_port_everywhere());
    let moved = |conf: &str| {
        let conf = listen_on(conf, defaults::NGINX_HTTP_PORT, http);
        listen_on(&conf, defaults::NGINX_HTTPS_PORT, https)
    };
    std::fs::write(&site_path, moved(&site.content)).expect("write");
    std::fs::write(&debian_path, moved(DEBIAN_DEFAULT_SITE)).expect("write");
    health_support::http_server_at(ip, admin.web_port, false, |p| {
        if p == defaults::ADMIN_HEALTH_PATH {
            (200, "metis admin".into())
        } else {
            (404, String::new())
        }
    });
    let addr = SocketAddr::from((ip, http));
    let _nginx = support::start_nginx(&tmp, &includes, addr);
    for host in [
        format!("{ip}:{}", defaults::NGINX_HTTP_PORT),
        "elsewhere.example".into(),
    ] {
        let answer = get(addr, &host, defaults::ADMIN_HEALTH_PATH);
        assert!(
            answer.starts_with("HTTP/1.1 200 ") && answer.ends_with("metis admin"),
            "Host: {host}: {answer}"
        );
    }
    // Debian's site still answers on the other addresses.
    let elsewhere = SocketAddr::from(([127, 0, 0, 1], http));
    let answer = get(elsewhere, "127.0.0.1", defaults::ADMIN_HEALTH_PATH);
    assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");
}

#[test]
fn nginx_accepts_site() {
    nginx_test(false, [127, 0, 3, 14]);
}

#[test]
fn nginx_accepts_tls_site() {
    nginx_test(true, [127, 0, 3, 15]);
}

// ---------------------------------------------------------------- MariaDB

#[test]
fn mariadb_loads_settings() {
    if !have("mariadbd") {
        return;
    }
    let tmp = temp_dir("render-mariadb");
    let org = in_temp(&tmp, Some(("node3", [127, 0, 3, 10])), "");
    let host = org.admin[0].host.name.clone();
    let snippet = only(&render::render_host(&org, &host), Service::Mysql, ".cnf");
    let path = tmp.join("60-metis.cnf");
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

/// Writes the rendered `cfg` into `tmp` and starts `bin` on it, listening on `addr`.
fn start(bin: &str, cfg: &RenderedFile, tmp: &TempDir, addr: SocketAddr) -> Daemon {
    let path = tmp.join(Path::new(&cfg.path).file_name().expect("name"));
    write(cfg, &path);
    start_ice_program(bin, &path, addr)
}

/// The fixture with ice_via's host on `ip` (and `extra` variables), its directories created.
fn ice_org(tmp: &TempDir, ip: [u8; 4], extra: &str) -> Organization {
    let org = in_temp(tmp, Some(("node4", ip)), extra);
    for inst in org.instances_on("node4") {
        for dir in inst.describe(&org).directories() {
            std::fs::create_dir_all(dir.path).expect("mkdir");
        }
    }
    org
}

/// Starts the registry (and the router, with `router`) of the fixture on `ip` and reads the
/// validate-connection message of the last one started.
fn ice_answers(tag: &str, ip: [u8; 4], router: bool) {
    let tmp = temp_dir(tag);
    let org = ice_org(&tmp, ip, "");
    let ice = org.ice_via.clone().expect("ice_via");
    let files = render::render_host(&org, &ice.host.name);
    let grid = SocketAddr::from((ice.host.ip, ice.grid_port));
    let _grid = start(
        "icegridregistry",
        &only(&files, Service::IceGrid, ".cfg"),
        &tmp,
        grid,
    );
    let mut last = grid;
    let _router = router.then(|| {
        last = SocketAddr::from((ice.host.ip, ice.glacier2_port));
        start(
            "glacier2router",
            &only(&files, Service::Glacier2, ".cfg"),
            &tmp,
            last,
        )
    });
    assert_ice_validate(TcpStream::connect(last).expect("connect"));
}

#[test]
fn icegrid_registry_starts_and_answers() {
    if have("icegridregistry") {
        ice_answers("render-icegrid", [127, 0, 3, 11], false);
    }
}

#[test]
fn glacier2_router_starts_and_answers() {
    if have("icegridregistry") && have("glacier2router") {
        ice_answers("render-glacier2", [127, 0, 3, 12], true);
    }
}

#[test]
fn glacier2_router_starts_with_ssl() {
    if !have("glacier2router") || !have("openssl") {
        return;
    }
    let tmp = temp_dir("render-glacier2-ssl");
    let org = ice_org(&tmp, [127, 0, 3, 13], "ice_protocol = ssl");
    let ice = org.ice_via.clone().expect("ice_via");
    let lay = Layout::new(&org.settings);
    let certs = PathBuf::from(lay.ice_certs_dir());
    self_signed_at(
        &certs.join(metis_core::model::defaults::ICE_SSL_CERT_FILE),
        &certs.join(metis_core::model::defaults::ICE_SSL_KEY_FILE),
        "ice_via",
    );
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
    let addr = SocketAddr::from((ice.host.ip, ice.glacier2_port));
    let _router = start("glacier2router", &cfg, &tmp, addr);
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
    let tmp = temp_dir("render-systemd");
    // Specifier and quote characters must reach java literally.
    let org = in_temp(
        &tmp,
        None,
        "admin_jvm_opts = -Xmx1g -Dlimit=50% -Dname=\"a b\"",
    );
    assert_eq!(
        org.settings.admin.jvm_opts,
        "-Xmx1g -Dlimit=50% -Dname=\"a b\""
    );
    let lay = Layout::new(&org.settings);
    // Binaries the units start that a test machine lacks: stand-ins at the paths the
    // descriptions name under deploy_dir, so `verify` checks them like real ones (java,
    // icegridregistry, glacier2router are Debian's).
    let mut stubs = std::collections::BTreeSet::new();
    for inst in org.instances() {
        if let Some(Word::Literal(bin)) = inst.describe(&org).command().first() {
            if bin.starts_with(lay.deploy_dir) {
                stubs.insert(bin.clone());
            }
        }
    }
    assert_eq!(
        stubs.len(),
        4,
        "consul, carrier and the two fighters' python: {stubs:?}"
    );
    for stub in stubs {
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
        let dir = tmp.join(format!("units{i}"));
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
    assert_eq!(verify(&tmp.join("bad1"), u, &bad).len(), 1, "{bad}");
    let bad = u.content.replace(&lay.consul_bin(), "/nonexistent/consul");
    assert_eq!(verify(&tmp.join("bad2"), u, &bad).len(), 1, "{bad}");
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
