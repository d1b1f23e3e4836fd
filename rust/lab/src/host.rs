//! One lab host: its overlay root, the per-host files written before boot, and its launcher
//! (`nsenter --net=<the lab's namespace> systemd-nspawn ...` inside the host's own cgroup).

use crate::error::{LabError, Result};
use crate::image::USER;
use crate::net::{self, BRIDGE, GATEWAY, PREFIX};
use crate::run::output;
use crate::state::HostState;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The init script of a host without systemd (sshd only).
const SSHD_ONLY_INIT: &str = "/usr/local/sbin/metis-lab-sshd-only";
/// The networkd file of a host with systemd.
const NETWORK_FILE: &str = "etc/systemd/network/10-metis-lab.network";

/// Where a host's files live under DIR/hosts/<name>/.
#[derive(Clone, Debug)]
pub struct HostPaths {
    pub upper: PathBuf,
    pub work: PathBuf,
    /// The overlay mount point: the container's root.
    pub root: PathBuf,
    /// What systemd-nspawn prints (the boot console of a systemd host, sshd's log otherwise).
    pub console: PathBuf,
}

impl HostPaths {
    pub fn new(hosts_dir: &Path, name: &str) -> HostPaths {
        let dir = hosts_dir.join(name);
        HostPaths {
            upper: dir.join("upper"),
            work: dir.join("work"),
            root: dir.join("root"),
            console: dir.join("console.log"),
        }
    }
}

/// /etc/hosts of every lab host: itself and all the others by name.
pub fn etc_hosts(me: &HostState, all: &[HostState]) -> String {
    let mut s = format!("127.0.0.1\tlocalhost\n127.0.1.1\t{}\n", me.name);
    s.push_str("::1\t\tlocalhost ip6-localhost ip6-loopback\n");
    for h in all {
        s.push_str(&format!("{}\t{}\n", h.address, h.name));
    }
    s
}

/// The systemd-networkd file giving host0 its lab address and the bridge as gateway.
pub fn network_file(h: &HostState) -> String {
    format!(
        "[Match]\nName=host0\n\n[Network]\nAddress={}/{PREFIX}\nGateway={GATEWAY}\n",
        h.address
    )
}

/// PID 2 of a host without systemd: sets up its network, then runs sshd in the foreground.
pub fn sshd_only_init(h: &HostState) -> String {
    format!(
        "#!/bin/sh\n# metis-lab: this host runs without systemd (sshd only).\nset -e\n\
         ip link set lo up\nip addr add {}/{PREFIX} dev host0\nip link set host0 up\n\
         ip route add default via {GATEWAY}\nmkdir -p /run/sshd\nexec /usr/sbin/sshd -D -e\n",
        h.address
    )
}

/// Replaces the file `rel` under `root` (through the overlay: copy-up keeps the image's
/// directories as they are) with `content`, mode `mode`.
fn put(root: &Path, rel: &str, content: &[u8], mode: u32) -> Result<PathBuf> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(LabError::io("creating", parent))?;
    }
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(LabError::io("replacing", &path)(e));
        }
        _ => {}
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .map_err(LabError::io("writing", &path))?;
    f.write_all(content)
        .map_err(LabError::io("writing", &path))?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(LabError::io("setting the mode of", &path))?;
    Ok(path)
}

/// uid and gid of `user` in the root file system's /etc/passwd.
fn ids_of(root: &Path, user: &str) -> Result<(u32, u32)> {
    let path = root.join("etc/passwd");
    let text = std::fs::read_to_string(&path).map_err(LabError::io("reading", &path))?;
    parse_passwd_ids(&text, user).ok_or_else(|| LabError::Io {
        what: "finding the lab user",
        path,
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no user `{user}`: remove the image under DIR/images to rebuild it"),
        ),
    })
}

pub fn parse_passwd_ids(passwd: &str, user: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 4 && f[0] == user).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(LabError::io("reading", "/dev/urandom"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Mounts the host's overlay and writes its own files: hostname, hosts, machine id, an empty
/// resolv.conf (no DNS leaves the lab), its network, its ssh host key and the deploy user's
/// authorized key. Returns the host's public key line for known_hosts.
pub fn prepare(
    h: &HostState,
    all: &[HostState],
    rootfs: &Path,
    paths: &HostPaths,
    deploy_pubkey: &str,
) -> Result<String> {
    for d in [&paths.upper, &paths.work, &paths.root] {
        std::fs::create_dir_all(d).map_err(LabError::io("creating", d))?;
    }
    if crate::mounts::mounts_under(&paths.root).is_empty() {
        crate::mounts::mount_overlay(rootfs, &paths.upper, &paths.work, &paths.root)?;
    }
    let root = &paths.root;
    put(
        root,
        "etc/hostname",
        format!("{}\n", h.name).as_bytes(),
        0o644,
    )?;
    put(root, "etc/hosts", etc_hosts(h, all).as_bytes(), 0o644)?;
    put(
        root,
        "etc/machine-id",
        format!("{}\n", random_hex(16)?).as_bytes(),
        0o444,
    )?;
    put(root, "etc/resolv.conf", b"", 0o644)?;
    if h.systemd {
        put(root, NETWORK_FILE, network_file(h).as_bytes(), 0o644)?;
    } else {
        let init = SSHD_ONLY_INIT.trim_start_matches('/');
        put(root, init, sshd_only_init(h).as_bytes(), 0o755)?;
    }
    // Host key: generated here, so DIR/known_hosts can list it before the host boots.
    let key = root.join("etc/ssh/ssh_host_ed25519_key");
    for p in [key.clone(), key.with_extension("pub")] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(LabError::io("replacing", &p)(e));
            }
            _ => {}
        }
    }
    output(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C"])
            .arg(format!("root@{}", h.name))
            .arg("-f")
            .arg(&key),
    )?;
    let pubkey = std::fs::read_to_string(key.with_extension("pub"))
        .map_err(LabError::io("reading", key.with_extension("pub")))?;
    // The deploy user's key login.
    let (uid, gid) = ids_of(root, USER)?;
    let ssh_dir = root.join("home").join(USER).join(".ssh");
    std::fs::create_dir_all(&ssh_dir).map_err(LabError::io("creating", &ssh_dir))?;
    std::fs::set_permissions(&ssh_dir, std::fs::Permissions::from_mode(0o700))
        .map_err(LabError::io("setting the mode of", &ssh_dir))?;
    std::os::unix::fs::chown(&ssh_dir, Some(uid), Some(gid))
        .map_err(LabError::io("changing the owner of", &ssh_dir))?;
    let rel = format!("home/{USER}/.ssh/authorized_keys");
    let auth = put(root, &rel, deploy_pubkey.as_bytes(), 0o600)?;
    std::os::unix::fs::chown(&auth, Some(uid), Some(gid))
        .map_err(LabError::io("changing the owner of", &auth))?;
    Ok(pubkey.trim().to_string())
}

/// The systemd-nspawn arguments of a host.
pub fn nspawn_args(h: &HostState, root: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--register=no".into(),
        "--keep-unit".into(),
        "--resolv-conf=off".into(),
        "--link-journal=no".into(),
        format!("--machine={}", h.name),
        format!("--directory={}", root.display()),
        format!("--network-bridge={BRIDGE}"),
    ];
    if h.systemd {
        args.extend(["--boot".into(), "--console=read-only".into()]);
    } else {
        args.extend([
            "--as-pid2".into(),
            "--console=pipe".into(),
            SSHD_ONLY_INIT.into(),
        ]);
    }
    args
}

/// Starts the host: a shell moves itself into the host's cgroups, then becomes
/// `nsenter --net=... systemd-nspawn ...` (the same process all along, so the child's pid is the
/// launcher's). In its own process group, so a Ctrl-C in the terminal does not reach it.
pub fn launch(h: &HostState, paths: &HostPaths, cgroup_procs: &[PathBuf]) -> Result<Child> {
    let mut script = String::new();
    for p in cgroup_procs {
        // cgroup paths are /sys/fs/cgroup/.../metislab/labN/cgroup.procs: no quotes in them.
        script.push_str(&format!("echo $$ > '{}' && ", p.display()));
    }
    script.push_str("exec \"$@\"");
    let console = File::create(&paths.console).map_err(LabError::io("creating", &paths.console))?;
    let console2 = console
        .try_clone()
        .map_err(LabError::io("opening", &paths.console))?;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg("nsenter")
        .arg(format!("--net={}", net::netns_path().display()))
        .arg("systemd-nspawn")
        .args(nspawn_args(h, &paths.root))
        .stdin(Stdio::null())
        .stdout(console)
        .stderr(console2)
        .process_group(0)
        .spawn()
        .map_err(LabError::io("starting systemd-nspawn for", &paths.root))
}

/// The container's PID 1 (systemd, or nspawn's stub init): the launcher's child.
pub fn leader(launcher: u32) -> Option<u32> {
    crate::sys::children(launcher).into_iter().next()
}

/// The last lines of a console log, for error messages.
pub fn console_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn host(i: u8, systemd: bool) -> HostState {
        HostState {
            name: format!("lab{i}"),
            address: Ipv4Addr::new(198, 51, 100, 10 + i),
            systemd,
            pid: None,
            pid_start: None,
        }
    }

    #[test]
    fn per_host_files() {
        let all = [host(1, true), host(2, false)];
        let hosts = etc_hosts(&all[1], &all);
        assert!(hosts.contains("127.0.1.1\tlab2\n"));
        assert!(hosts.contains("198.51.100.11\tlab1\n"));
        assert_eq!(
            network_file(&all[0]),
            "[Match]\nName=host0\n\n[Network]\nAddress=198.51.100.11/24\nGateway=198.51.100.1\n"
        );
        let init = sshd_only_init(&all[1]);
        assert!(init.contains("ip addr add 198.51.100.12/24 dev host0"));
        assert!(init.ends_with("exec /usr/sbin/sshd -D -e\n"));
    }

    #[test]
    fn nspawn_arguments() {
        let root = Path::new("/var/lib/metis-lab/hosts/lab1/root");
        let boot = nspawn_args(&host(1, true), root);
        for a in [
            "--boot",
            "--register=no",
            "--keep-unit",
            "--resolv-conf=off",
            "--network-bridge=br0",
            "--machine=lab1",
            "--directory=/var/lib/metis-lab/hosts/lab1/root",
        ] {
            assert!(boot.iter().any(|b| b == a), "{a} missing from {boot:?}");
        }
        let plain = nspawn_args(&host(2, false), root);
        assert!(!plain.iter().any(|a| a == "--boot"));
        assert_eq!(plain.last().map(String::as_str), Some(SSHD_ONLY_INIT));
    }

    #[test]
    fn passwd_lookup() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\ndeploy:x:1000:1001::/home/deploy:/bin/bash\n";
        assert_eq!(parse_passwd_ids(passwd, "deploy"), Some((1000, 1001)));
        assert_eq!(parse_passwd_ids(passwd, "nobody"), None);
        assert_eq!(parse_passwd_ids("deploy:x:abc:1", "deploy"), None);
    }

    #[test]
    fn put_replaces_files_with_the_given_mode() {
        let dir = std::env::temp_dir().join(format!("metis-lab-put-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).expect("dir");
        std::fs::write(dir.join("etc/resolv.conf"), "nameserver 192.0.2.1\n").expect("write");
        std::fs::set_permissions(
            dir.join("etc/resolv.conf"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
        let p = put(&dir, "etc/resolv.conf", b"", 0o644).expect("put");
        let meta = std::fs::metadata(&p).expect("meta");
        assert_eq!((meta.len(), meta.permissions().mode() & 0o7777), (0, 0o644));
        put(&dir, "new/dir/file", b"x", 0o600).expect("put with parents");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
