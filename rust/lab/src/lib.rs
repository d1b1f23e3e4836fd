//! The lab: pretend hosts with systemd as PID 1 on one Linux machine, to rehearse a deploy, an
//! upgrade or an inventory change before touching real servers.
//!
//! Each host is a systemd-nspawn container on an overlay of one cached Debian image, with its own
//! address 198.51.100.11, .12, ... on a bridge inside the network namespace `metislab`; sshd with
//! a user `deploy` (passwordless sudo, key DIR/id_ed25519, host keys in DIR/known_hosts). Nothing
//! of the lab exists in the machine's own namespace but an `unreachable 198.51.100.0/24` guard
//! route. DIR/state.json records the lab, so every command works from any shell.

mod cgroup;
pub mod error;
mod host;
pub mod image;
mod mounts;
pub mod net;
mod run;
pub mod state;
mod sys;

pub use error::{LabError, Result};
pub use state::{HostState, Phase, State};

use serde::Serialize;
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The lab's directory unless `--dir` says otherwise.
pub const DEFAULT_DIR: &str = "/var/lib/metis-lab";
/// Default number of hosts.
pub const DEFAULT_HOSTS: usize = 3;
/// Most hosts one lab holds (addresses .11 to .74).
pub const MAX_HOSTS: usize = 64;
/// Default time `up` waits for the hosts to boot and answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// Name of lab host `i` (1-based).
pub fn host_name(i: usize) -> String {
    format!("lab{i}")
}

/// Address of lab host `i` (1-based): 198.51.100.10 + i.
pub fn host_address(i: usize) -> Option<Ipv4Addr> {
    if (1..=MAX_HOSTS).contains(&i) {
        let last = u8::try_from(10 + i).ok()?;
        let [a, b, c, _] = net::NETWORK.octets();
        Some(Ipv4Addr::new(a, b, c, last))
    } else {
        None
    }
}

/// "3 hosts", "4 hosts (host 4 without systemd)".
pub fn describe_shape(hosts: usize, without_systemd: &[usize]) -> String {
    let mut s = format!("{hosts} host{}", if hosts == 1 { "" } else { "s" });
    if !without_systemd.is_empty() {
        let list: Vec<String> = without_systemd.iter().map(|k| k.to_string()).collect();
        s.push_str(&format!(
            " (host{} {} without systemd)",
            if list.len() == 1 { "" } else { "s" },
            list.join(", ")
        ));
    }
    s
}

/// What `up` should build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpOptions {
    pub hosts: usize,
    /// 1-based numbers of the hosts that run sshd only, without systemd.
    pub without_systemd: Vec<usize>,
    pub timeout: Duration,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            hosts: DEFAULT_HOSTS,
            without_systemd: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl UpOptions {
    /// Checks the options; the error says which value is wrong and what is allowed.
    pub fn check(&self) -> Result<()> {
        if !(1..=MAX_HOSTS).contains(&self.hosts) {
            return Err(LabError::Usage(format!(
                "--hosts {} is out of range: a lab has 1 to {MAX_HOSTS} hosts",
                self.hosts
            )));
        }
        for &k in &self.without_systemd {
            if !(1..=self.hosts).contains(&k) {
                return Err(LabError::Usage(format!(
                    "--without-systemd {k}: no such host, the lab has hosts 1 to {}",
                    self.hosts
                )));
            }
        }
        Ok(())
    }

    /// The hosts this asks for, without launcher.
    pub fn planned_hosts(&self) -> Vec<HostState> {
        (1..=self.hosts)
            .filter_map(|i| {
                Some(HostState {
                    name: host_name(i),
                    address: host_address(i)?,
                    systemd: !self.without_systemd.contains(&i),
                    pid: None,
                    pid_start: None,
                })
            })
            .collect()
    }

    fn shape(&self) -> String {
        let mut w = self.without_systemd.clone();
        w.sort_unstable();
        w.dedup();
        describe_shape(self.hosts, &w)
    }
}

/// One host as `up` and `status` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    pub name: String,
    pub address: Ipv4Addr,
    /// "systemd" or "sshd-only".
    pub init: &'static str,
    /// "up" (its container runs) or "down".
    pub state: &'static str,
    /// `systemctl is-system-running` (systemd hosts that are up; None when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Failed units of a degraded host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_units: Vec<String>,
}

/// The result of `up`.
#[derive(Clone, Debug, Serialize)]
pub struct UpReport {
    /// True when the lab was already running and nothing was done.
    pub already_running: bool,
    /// Seconds spent building the image (None: it was cached).
    pub image_build_secs: Option<f64>,
    /// Seconds from the first host launched to every host answering.
    pub boot_secs: Option<f64>,
    pub total_secs: f64,
    pub hosts: Vec<HostStatus>,
}

impl UpReport {
    /// Hosts that came up degraded, with their failed units.
    pub fn degraded(&self) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| h.system.as_deref() == Some("degraded"))
            .map(|h| {
                format!(
                    "{} is degraded (failed: {})",
                    h.name,
                    h.failed_units.join(", ")
                )
            })
            .collect()
    }
}

/// The condition of the lab as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    /// No lab in this directory.
    Down,
    /// Every host runs.
    Running,
    /// `up` is running, or was interrupted: `up` repairs it, `down` removes it.
    Starting,
    /// Recorded as running but some hosts are gone (killed, or the machine restarted).
    Broken,
}

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub dir: PathBuf,
    pub condition: Condition,
    /// True while another `up` or `down` holds the lab's lock.
    pub busy: bool,
    pub hosts: Vec<HostStatus>,
}

/// What `down` did.
#[derive(Clone, Debug, Serialize)]
pub struct DownReport {
    /// False when there was no lab to remove.
    pub removed: bool,
    pub secs: f64,
    /// Warnings (processes still inside the namespace, a mount detached lazily).
    pub notes: Vec<String>,
}

/// Checks that programs are installed; one error naming all missing ones and their packages.
pub(crate) fn require_tools(tools: &[(&'static str, &'static str)]) -> Result<()> {
    let missing: Vec<&(&str, &str)> = tools.iter().filter(|(p, _)| !run::in_path(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut packages: Vec<&'static str> = missing.iter().map(|(_, pkg)| *pkg).collect();
    packages.dedup();
    Err(LabError::MissingTools {
        programs: missing.iter().map(|(p, _)| *p).collect(),
        packages,
    })
}

/// Programs every lab command that starts hosts needs, with their Debian packages.
const TOOLS: &[(&str, &str)] = &[
    ("systemd-nspawn", "systemd-container"),
    ("nsenter", "util-linux"),
    ("mount", "mount"),
    ("ip", "iproute2"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
];

/// Checks free space on the file system of `dir` (or its nearest existing parent).
pub(crate) fn check_space(dir: &Path, need_mib: u64, what: &'static str) -> Result<()> {
    let probe = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let free = sys::free_bytes(probe).map_err(LabError::io("checking free space in", probe))?;
    let free_mib = free / (1024 * 1024);
    if free_mib < need_mib {
        return Err(LabError::NoSpace {
            dir: dir.to_path_buf(),
            free_mib,
            need_mib,
            what,
        });
    }
    Ok(())
}

fn require_root(command: &'static str) -> Result<()> {
    if sys::is_root() {
        Ok(())
    } else {
        Err(LabError::NotRoot { command })
    }
}

/// Checks a lab directory: absolute after resolution, and free of the characters that ssh
/// options, Ansible's space-separated ssh arguments and overlay mount options cannot carry.
pub fn check_dir(dir: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(dir)
        .map_err(|e| LabError::Usage(format!("--dir {}: cannot resolve it: {e}", dir.display())))?;
    let Some(s) = abs.to_str() else {
        return Err(LabError::Usage(format!(
            "--dir {}: the path must be UTF-8",
            abs.display()
        )));
    };
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"'\\,:=%$`;&|<>*?".contains(*c))
    {
        return Err(LabError::Usage(format!(
            "--dir {s}: `{}` cannot appear in ssh options or mount options: choose a path \
             without it",
            c.escape_default()
        )));
    }
    if abs == Path::new("/") {
        return Err(LabError::Usage(
            "--dir /: choose a directory of its own".into(),
        ));
    }
    Ok(abs)
}

/// What one readiness probe said about a host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    /// `systemctl is-system-running` ("sshd-only" for a host without systemd).
    pub state: String,
    pub failed_units: Vec<String>,
    pub sudo: bool,
}

/// Prints "state S" (`systemctl is-system-running`) and, when degraded, "failed UNIT" lines.
const SYSTEM_STATE_SCRIPT: &str =
    "s=$(systemctl is-system-running 2>/dev/null); echo \"state $s\"; \
     if [ \"$s\" = degraded ]; then systemctl --failed --plain --no-legend --no-pager \
     | while read -r u _; do echo \"failed $u\"; done; fi";

/// The shell the readiness probe runs on a host as the deploy user.
fn probe_script(systemd: bool) -> String {
    if systemd {
        format!("{SYSTEM_STATE_SCRIPT}; sudo -n true 2>/dev/null && echo sudo")
    } else {
        "echo 'state sshd-only'; sudo -n true 2>/dev/null && echo sudo".to_string()
    }
}

/// Reads a probe's output (lines "state S", "failed UNIT", "sudo").
pub fn parse_probe(text: &str) -> Probe {
    let mut p = Probe::default();
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("state ") {
            p.state = s.trim().to_string();
        } else if let Some(u) = line.strip_prefix("failed ") {
            p.failed_units.push(u.trim().to_string());
        } else if line.trim() == "sudo" {
            p.sudo = true;
        }
    }
    p
}

/// The environment `lab exec` gives its command so that Ansible, ssh and `metis-deploy health`
/// reach the hosts with nothing in the inventory but their addresses.
pub fn exec_env(dir: &Path, hosts: &[HostState]) -> Vec<(&'static str, String)> {
    let lab = Lab::at(dir);
    let known = format!(
        "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
        lab.known_hosts().display()
    );
    let addresses: Vec<String> = hosts.iter().map(|h| h.address.to_string()).collect();
    vec![
        ("ANSIBLE_PRIVATE_KEY_FILE", lab.key().display().to_string()),
        ("ANSIBLE_REMOTE_USER", image::USER.to_string()),
        ("ANSIBLE_HOST_KEY_CHECKING", "True".to_string()),
        (
            "ANSIBLE_SSH_ARGS",
            format!("-C -o ControlMaster=auto -o ControlPersist=60s {known}"),
        ),
        ("ANSIBLE_SSH_COMMON_ARGS", known),
        (
            "ANSIBLE_SSH_CONTROL_PATH_DIR",
            lab.control_dir().display().to_string(),
        ),
        ("METIS_LAB_DIR", dir.display().to_string()),
        ("METIS_LAB_HOSTS", addresses.join(" ")),
        ("METIS_LAB_NETNS", net::NETNS.to_string()),
    ]
}

/// The lab kept in one directory.
pub struct Lab {
    dir: PathBuf,
    progress: Box<dyn Fn(&str)>,
}

impl Lab {
    /// The lab in `dir` (checked with [`check_dir`]); `progress` receives one line per step.
    pub fn new(dir: &Path, progress: Box<dyn Fn(&str)>) -> Result<Lab> {
        Ok(Lab {
            dir: check_dir(dir)?,
            progress,
        })
    }

    fn at(dir: &Path) -> Lab {
        Lab {
            dir: dir.to_path_buf(),
            progress: Box::new(|_| {}),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    /// The deploy user's private key.
    pub fn key(&self) -> PathBuf {
        self.dir.join("id_ed25519")
    }
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }
    /// Ansible's ssh ControlMaster sockets of this lab instance.
    pub fn control_dir(&self) -> PathBuf {
        self.dir.join("cp")
    }
    fn hosts_dir(&self) -> PathBuf {
        self.dir.join("hosts")
    }
    fn images_dir(&self) -> PathBuf {
        self.dir.join("images")
    }
    fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    fn say(&self, line: &str) {
        (self.progress)(line);
    }

    /// Takes the lab's lock (one `up` or `down` at a time), waiting for it when needed.
    fn lock(&self) -> Result<File> {
        std::fs::create_dir_all(&self.dir).map_err(LabError::io("creating", &self.dir))?;
        let path = self.dir.join("lock");
        let f = File::create(&path).map_err(LabError::io("opening", &path))?;
        if !sys::try_lock(&f).map_err(LabError::io("locking", &path))? {
            self.say("waiting for another `metis-deploy lab` command on this lab to finish");
            sys::lock(&f).map_err(LabError::io("locking", &path))?;
        }
        Ok(f)
    }

    fn busy(&self) -> bool {
        File::open(self.dir.join("lock"))
            .ok()
            .and_then(|f| sys::try_lock(&f).ok())
            .is_some_and(|got| !got)
    }

    /// The recorded lab, when it is running; an error saying how to start it otherwise.
    pub fn running_state(&self) -> Result<State> {
        match State::load(&self.state_path())? {
            Some(s) if s.phase == Phase::Running && !s.hosts.is_empty() => Ok(s),
            _ => Err(LabError::NotRunning {
                dir: self.dir.clone(),
            }),
        }
    }

    /// ssh options reaching the lab hosts as the deploy user, host keys checked.
    pub fn ssh_options(&self) -> Vec<String> {
        vec![
            "-F".into(),
            "/dev/null".into(),
            "-i".into(),
            self.key().display().to_string(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", self.known_hosts().display()),
            "-o".into(),
            "GlobalKnownHostsFile=/dev/null".into(),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            "ConnectTimeout=5".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
            "-l".into(),
            image::USER.into(),
        ]
    }

    // ----- up -----

    /// Starts the lab, or reports the running one; repairs what an interrupted `up` left.
    pub fn up(&self, opts: &UpOptions) -> Result<UpReport> {
        opts.check()?;
        require_root("up")?;
        let image_cached = image::rootfs(&self.images_dir(), &image::key())
            .join("usr/sbin/sshd")
            .exists();
        let mut tools = TOOLS.to_vec();
        if !image_cached {
            tools.push(("mmdebstrap", "mmdebstrap"));
        }
        require_tools(&tools)?;
        let _lock = self.lock()?;
        let started = Instant::now();

        match State::load(&self.state_path()) {
            Ok(Some(state)) => {
                let alive = state.hosts.iter().all(|h| h.live_pid().is_some());
                if state.phase == Phase::Running && alive && self.netns_is_ours(Some(&state)) {
                    let want = opts.planned_hosts();
                    let same = state.hosts.len() == want.len()
                        && state
                            .hosts
                            .iter()
                            .zip(&want)
                            .all(|(a, b)| a.systemd == b.systemd);
                    if !same {
                        return Err(LabError::OtherShape {
                            dir: self.dir.clone(),
                            running: state.shape(),
                            wanted: opts.shape(),
                        });
                    }
                    return Ok(UpReport {
                        already_running: true,
                        image_build_secs: None,
                        boot_secs: None,
                        total_secs: started.elapsed().as_secs_f64(),
                        hosts: self.host_statuses(&state),
                    });
                }
                self.say(if state.phase == Phase::Starting {
                    "found a lab half-built by an interrupted `up`: removing it, then starting again"
                } else {
                    "found a lab whose hosts are gone (killed, or the machine restarted): \
                     removing what is left, then starting again"
                });
                self.teardown(Some(&state))?;
            }
            Ok(None) => self.teardown_leftovers()?,
            Err(e @ LabError::State { .. }) => {
                self.say(&format!("{e}; cleaning up without it"));
                self.teardown(None)?;
            }
            Err(e) => return Err(e),
        }

        // Nothing of ours is left: whatever still holds the names is someone else's.
        if net::netns_path().exists() {
            return Err(LabError::NamespaceTaken {
                netns: net::NETNS,
                dir: self.dir.clone(),
                owner: net::owner().filter(|o| *o != self.dir),
            });
        }
        for root in cgroup::lab_roots() {
            if !cgroup::processes(&root).is_empty() {
                return Err(LabError::CgroupTaken {
                    path: root,
                    dir: self.dir.clone(),
                });
            }
            cgroup::remove_tree(&root)?;
        }
        net::check_and_guard_machine_namespace()?;

        let (rootfs, image_build_secs) = image::ensure(&self.images_dir(), &*self.progress)?;
        check_space(
            &self.dir,
            64 + 32 * opts.hosts as u64,
            "the hosts' own files",
        )?;
        let pubkey = self.ensure_deploy_key()?;

        let mut state = State {
            version: state::VERSION,
            phase: Phase::Starting,
            image: image::key(),
            netns_inode: None,
            hosts: opts.planned_hosts(),
        };
        state.save(&self.state_path())?;
        let boot_started = Instant::now();
        let mut children = Vec::new();
        let result = self.start_hosts(&mut state, &rootfs, &pubkey, &mut children, opts.timeout);
        let statuses = match result {
            Ok(s) => s,
            Err(e) => {
                self.keep_logs(&state);
                for c in &mut children {
                    let _ = c.try_wait();
                }
                if let Err(t) = self.teardown(Some(&state)) {
                    self.say(&format!("while removing the half-built lab: {t}"));
                }
                return Err(e);
            }
        };
        state.phase = Phase::Running;
        state.save(&self.state_path())?;
        Ok(UpReport {
            already_running: false,
            image_build_secs,
            boot_secs: Some(boot_started.elapsed().as_secs_f64()),
            total_secs: started.elapsed().as_secs_f64(),
            hosts: statuses,
        })
    }

    fn ensure_deploy_key(&self) -> Result<String> {
        let key = self.key();
        let public = key.with_extension("pub");
        if !key.exists() || !public.exists() {
            for p in [&key, &public] {
                let _ = std::fs::remove_file(p);
            }
            run::run(
                Command::new("ssh-keygen")
                    .args([
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-C",
                        "metis-lab deploy key",
                        "-f",
                    ])
                    .arg(&key),
            )?;
        }
        std::fs::read_to_string(&public).map_err(LabError::io("reading", &public))
    }

    fn start_hosts(
        &self,
        state: &mut State,
        rootfs: &Path,
        pubkey: &str,
        children: &mut Vec<Child>,
        timeout: Duration,
    ) -> Result<Vec<HostStatus>> {
        self.say(&format!(
            "starting {} in network namespace {} ({})",
            state.shape(),
            net::NETNS,
            net::RANGE
        ));
        state.netns_inode = Some(net::create(&self.dir)?);
        state.save(&self.state_path())?;

        let all = state.hosts.clone();
        let mut known = String::new();
        for h in &all {
            let paths = host::HostPaths::new(&self.hosts_dir(), &h.name);
            let key = host::prepare(h, &all, rootfs, &paths, pubkey)?;
            known.push_str(&format!("{} {key}\n", h.address));
        }
        state::write_atomic(&self.known_hosts(), known.as_bytes(), 0o644)?;
        let cp = self.control_dir();
        if cp.exists() {
            std::fs::remove_dir_all(&cp).map_err(LabError::io("removing", &cp))?;
        }
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&cp)
            .map_err(LabError::io("creating", &cp))?;

        for i in 0..state.hosts.len() {
            let h = state.hosts[i].clone();
            let paths = host::HostPaths::new(&self.hosts_dir(), &h.name);
            let procs = cgroup::create(&h.name)?;
            let child = host::launch(&h, &paths, &procs)?;
            let pid = child.id();
            children.push(child);
            state.hosts[i].pid = Some(pid);
            state.hosts[i].pid_start = sys::start_time(pid);
            state.save(&self.state_path())?;
        }
        self.wait_ready(state, children, timeout)
    }

    fn probe_command(&self, h: &HostState) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", net::netns_path().display()))
            .arg("ssh")
            // ssh keeps the first value of an option: these go before the common ones.
            .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=2"])
            .args(self.ssh_options())
            .arg(h.address.to_string())
            .arg(probe_script(h.systemd))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Waits until every host's systemd says running (or degraded) and the deploy user logs in
    /// by key and may sudo.
    fn wait_ready(
        &self,
        state: &State,
        children: &mut [Child],
        timeout: Duration,
    ) -> Result<Vec<HostStatus>> {
        let deadline = Instant::now() + timeout;
        let n = state.hosts.len();
        let mut done: Vec<Option<Probe>> = vec![None; n];
        let mut last: Vec<String> = vec!["not reachable by ssh yet".into(); n];
        loop {
            for (i, c) in children.iter_mut().enumerate() {
                if let Ok(Some(status)) = c.try_wait() {
                    let h = &state.hosts[i];
                    let paths = host::HostPaths::new(&self.hosts_dir(), &h.name);
                    return Err(LabError::Boot {
                        problems: vec![format!(
                            "{}: systemd-nspawn exited ({status}); its last words:\n{}",
                            h.name,
                            host::console_tail(&paths.console, 12)
                        )],
                        logs: self.logs_dir(),
                    });
                }
            }
            let mut probes = Vec::new();
            for (i, h) in state.hosts.iter().enumerate() {
                if done[i].is_none() {
                    match self.probe_command(h).spawn() {
                        Ok(c) => probes.push((i, c)),
                        Err(e) => last[i] = format!("cannot run ssh: {e}"),
                    }
                }
            }
            for (i, c) in probes {
                let Ok(out) = c.wait_with_output() else {
                    continue;
                };
                let text = String::from_utf8_lossy(&out.stdout);
                let p = parse_probe(&text);
                if p.state.is_empty() {
                    let err = String::from_utf8_lossy(&out.stderr);
                    last[i] = format!(
                        "ssh as {}: {}",
                        image::USER,
                        err.lines().last().unwrap_or("no answer")
                    );
                    continue;
                }
                let settled = matches!(p.state.as_str(), "running" | "degraded" | "sshd-only");
                if settled && !p.sudo {
                    last[i] = format!("`sudo -n true` fails for {}", image::USER);
                } else if settled {
                    done[i] = Some(p);
                } else {
                    last[i] = format!("systemd is {}", p.state);
                }
            }
            if done.iter().all(Option::is_some) {
                break;
            }
            if Instant::now() >= deadline {
                let problems = state
                    .hosts
                    .iter()
                    .zip(&done)
                    .zip(&last)
                    .filter(|((_, d), _)| d.is_none())
                    .map(|((h, _), l)| {
                        let paths = host::HostPaths::new(&self.hosts_dir(), &h.name);
                        format!(
                            "{} ({}) not ready after {} s: {l}; console:\n{}",
                            h.name,
                            h.address,
                            timeout.as_secs(),
                            host::console_tail(&paths.console, 8)
                        )
                    })
                    .collect();
                return Err(LabError::Boot {
                    problems,
                    logs: self.logs_dir(),
                });
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        Ok(state
            .hosts
            .iter()
            .zip(done)
            .map(|(h, p)| {
                let p = p.unwrap_or_default();
                HostStatus {
                    name: h.name.clone(),
                    address: h.address,
                    init: if h.systemd { "systemd" } else { "sshd-only" },
                    state: "up",
                    system: h.systemd.then_some(p.state),
                    failed_units: p.failed_units,
                }
            })
            .collect())
    }

    /// Copies the hosts' console logs to DIR/logs before a failed `up` removes them.
    fn keep_logs(&self, state: &State) {
        let logs = self.logs_dir();
        if std::fs::create_dir_all(&logs).is_err() {
            return;
        }
        for h in &state.hosts {
            let paths = host::HostPaths::new(&self.hosts_dir(), &h.name);
            let _ = std::fs::copy(&paths.console, logs.join(format!("{}.console.log", h.name)));
        }
    }

    // ----- status -----

    fn host_statuses(&self, state: &State) -> Vec<HostStatus> {
        let root = sys::is_root();
        state
            .hosts
            .iter()
            .map(|h| {
                let pid = h.live_pid();
                // Asked inside the container (no ssh needed): its systemd's own word.
                let probe = match (pid.and_then(host::leader), h.systemd, root) {
                    (Some(leader), true, true) => Command::new("nsenter")
                        .arg("-t")
                        .arg(leader.to_string())
                        .args(["-a", "sh", "-c", SYSTEM_STATE_SCRIPT])
                        .stdin(Stdio::null())
                        .stderr(Stdio::null())
                        .output()
                        .ok()
                        .map(|o| parse_probe(&String::from_utf8_lossy(&o.stdout)))
                        .filter(|p| !p.state.is_empty()),
                    _ => None,
                };
                let (system, failed_units) = match probe {
                    Some(p) => (Some(p.state), p.failed_units),
                    None => (None, Vec::new()),
                };
                HostStatus {
                    name: h.name.clone(),
                    address: h.address,
                    init: if h.systemd { "systemd" } else { "sshd-only" },
                    state: if pid.is_some() { "up" } else { "down" },
                    system,
                    failed_units,
                }
            })
            .collect()
    }

    /// The lab's condition and hosts (works without root, minus the systemd state).
    pub fn status(&self) -> Result<Status> {
        let busy = self.busy();
        let state = State::load(&self.state_path())?;
        let Some(state) = state else {
            return Ok(Status {
                dir: self.dir.clone(),
                condition: Condition::Down,
                busy,
                hosts: Vec::new(),
            });
        };
        let hosts = self.host_statuses(&state);
        let condition = match state.phase {
            Phase::Starting => Condition::Starting,
            Phase::Running if hosts.iter().all(|h| h.state == "up") => Condition::Running,
            Phase::Running => Condition::Broken,
        };
        Ok(Status {
            dir: self.dir.clone(),
            condition,
            busy,
            hosts,
        })
    }

    // ----- exec and ssh -----

    /// `ip netns exec metislab CMD...` with [`exec_env`]; the caller runs (or execs) it.
    pub fn exec_command(&self, argv: &[String]) -> Result<Command> {
        require_root("exec")?;
        let state = self.running_state()?;
        let Some((program, args)) = argv.split_first() else {
            return Err(LabError::Usage(
                "nothing to run: metis-deploy lab exec -- COMMAND [ARGS...]".into(),
            ));
        };
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", net::NETNS])
            .arg(program)
            .args(args);
        for (k, v) in exec_env(&self.dir, &state.hosts) {
            cmd.env(k, v);
        }
        Ok(cmd)
    }

    /// ssh as the deploy user to a host given by name (lab1), number (1) or address.
    pub fn ssh_command(&self, host: &str, argv: &[String]) -> Result<Command> {
        require_root("ssh")?;
        let state = self.running_state()?;
        let h = find_host(&state.hosts, host)?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", net::NETNS, "ssh"])
            .args(self.ssh_options())
            .arg(h.address.to_string());
        if !argv.is_empty() {
            cmd.arg("--").args(argv);
        }
        Ok(cmd)
    }

    // ----- down -----

    /// Stops every host and removes everything but the image cache, the deploy key and the
    /// guard route.
    pub fn down(&self) -> Result<DownReport> {
        require_root("down")?;
        let _lock = self.lock()?;
        let started = Instant::now();
        let state = match State::load(&self.state_path()) {
            Ok(s) => s,
            Err(e @ LabError::State { .. }) => {
                self.say(&format!("{e}; cleaning up without it"));
                None
            }
            Err(e) => return Err(e),
        };
        let leftovers = !mounts::mounts_under(&self.hosts_dir()).is_empty()
            || self.hosts_dir().exists()
            || (self.netns_is_ours(state.as_ref()) && net::netns_path().exists());
        if state.is_none() && !leftovers {
            return Ok(DownReport {
                removed: false,
                secs: started.elapsed().as_secs_f64(),
                notes: Vec::new(),
            });
        }
        let notes = self.teardown(state.as_ref())?;
        Ok(DownReport {
            removed: true,
            secs: started.elapsed().as_secs_f64(),
            notes,
        })
    }

    /// The namespace `metislab` and the cgroups are this lab's: created from this directory, or
    /// recorded in its state.
    fn netns_is_ours(&self, state: Option<&State>) -> bool {
        let by_inode = state
            .and_then(|s| s.netns_inode)
            .is_some_and(|i| net::netns_inode() == Some(i));
        by_inode || net::owner().as_deref() == Some(self.dir.as_path())
    }

    /// Removes what a lab in this directory may have left without a state file: mounts under
    /// DIR/hosts and the hosts' directories.
    fn teardown_leftovers(&self) -> Result<()> {
        if self.hosts_dir().exists() || net::owner().as_deref() == Some(self.dir.as_path()) {
            self.teardown(None)?;
        }
        Ok(())
    }

    /// Stops and removes the lab: SIGTERM to every launcher (clean shutdown), SIGKILL to what
    /// is left after a while, ssh masters ended, overlays unmounted, cgroups and namespace
    /// removed, host files deleted. Returns notes; an error when something could not go.
    fn teardown(&self, state: Option<&State>) -> Result<Vec<String>> {
        let mut notes = Vec::new();
        let mut problems = Vec::new();
        self.end_ssh_masters(&mut problems);

        let shared =
            self.netns_is_ours(state) || (net::owner().is_none() && !net::netns_path().exists());
        let mut launchers: Vec<u32> = state
            .map(|s| s.hosts.iter().filter_map(HostState::live_pid).collect())
            .unwrap_or_default();
        if shared {
            launchers.extend(
                cgroup::lab_processes()
                    .into_iter()
                    .filter(|&p| sys::comm(p).as_deref() == Some("systemd-nspawn")),
            );
        }
        launchers.sort_unstable();
        launchers.dedup();
        if !launchers.is_empty() {
            self.say(&format!("stopping {} host(s)", launchers.len()));
        }
        for &pid in &launchers {
            let _ = sys::kill(pid, sys::SIGTERM);
        }
        let alive = |pids: &[u32]| -> Vec<u32> {
            pids.iter()
                .copied()
                .filter(|&p| sys::start_time(p).is_some_and(|s| sys::same_process_alive(p, s)))
                .collect()
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !alive(&launchers).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let stubborn = alive(&launchers);
        let mut rest: Vec<u32> = if shared {
            cgroup::lab_processes()
        } else {
            Vec::new()
        };
        rest.extend(&stubborn);
        if !rest.is_empty() {
            notes.push(format!(
                "{} process(es) did not stop within 30 s and were killed",
                rest.len()
            ));
            for &p in &rest {
                let _ = sys::kill(p, sys::SIGKILL);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while !alive(&rest).is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }

        mounts::unmount_all(&self.hosts_dir(), &mut problems);
        if shared {
            for root in cgroup::lab_roots() {
                if let Err(e) = cgroup::remove_tree(&root) {
                    problems.push(e.to_string());
                }
            }
            let inside = net::processes_inside();
            if !inside.is_empty() {
                notes.push(format!(
                    "still inside the lab's namespace (it vanishes when they end): {}",
                    inside.join(", ")
                ));
            }
            if let Err(e) = net::delete() {
                problems.push(e.to_string());
            }
        }
        if mounts::mounts_under(&self.hosts_dir()).is_empty() {
            if let Err(e) = remove_all(&self.hosts_dir()) {
                problems.push(e.to_string());
            }
        } else {
            problems.push(format!(
                "{} still holds mounts: not deleting it",
                self.hosts_dir().display()
            ));
        }
        for f in [self.known_hosts(), self.state_path()] {
            if let Err(e) = std::fs::remove_file(&f) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    problems.push(LabError::io("removing", &f)(e).to_string());
                }
            }
        }
        if problems.is_empty() {
            Ok(notes)
        } else {
            Err(LabError::Teardown { problems })
        }
    }

    /// Ends the ssh ControlMaster processes Ansible left in DIR/cp (a new lab at the same
    /// addresses must never be reached through a stale master) and removes the directory.
    fn end_ssh_masters(&self, problems: &mut Vec<String>) {
        let cp = self.control_dir();
        let Ok(entries) = std::fs::read_dir(&cp) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_socket()) {
                let _ = Command::new("ssh")
                    .args(["-F", "/dev/null", "-o"])
                    .arg(format!("ControlPath={}", e.path().display()))
                    .args(["-O", "exit", "metis-lab-master"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        if let Err(e) = remove_all(&cp) {
            problems.push(e.to_string());
        }
    }
}

fn remove_all(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(LabError::io("removing", path)(e))
        }
        _ => Ok(()),
    }
}

/// A host by name (lab1), number (1) or address (198.51.100.11).
pub fn find_host<'a>(hosts: &'a [HostState], wanted: &str) -> Result<&'a HostState> {
    let by_number = wanted
        .parse::<usize>()
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| hosts.get(i));
    by_number
        .or_else(|| {
            hosts
                .iter()
                .find(|h| h.name == wanted || h.address.to_string() == wanted)
        })
        .ok_or_else(|| LabError::UnknownHost {
            host: wanted.to_string(),
            known: hosts
                .iter()
                .map(|h| format!("{} {}", h.name, h.address))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The host table `up` and `status` print.
pub fn render_table(hosts: &[HostStatus]) -> String {
    let mut rows = vec![[
        "HOST".to_string(),
        "ADDRESS".to_string(),
        "INIT".to_string(),
        "STATE".to_string(),
        "SYSTEM".to_string(),
    ]];
    for h in hosts {
        let system = match (&h.system, h.failed_units.is_empty()) {
            (Some(s), true) => s.clone(),
            (Some(s), false) => format!("{s} (failed: {})", h.failed_units.join(", ")),
            (None, _) => "-".to_string(),
        };
        rows.push([
            h.name.clone(),
            h.address.to_string(),
            h.init.to_string(),
            h.state.to_string(),
            system,
        ]);
    }
    let mut widths = [0usize; 5];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_numbering() {
        assert_eq!(host_name(1), "lab1");
        assert_eq!(host_address(1), Some(Ipv4Addr::new(198, 51, 100, 11)));
        assert_eq!(
            host_address(MAX_HOSTS),
            Some(Ipv4Addr::new(198, 51, 100, 74))
        );
        assert_eq!(host_address(0), None);
        assert_eq!(host_address(MAX_HOSTS + 1), None);
    }

    #[test]
    fn options_are_checked() {
        assert!(UpOptions::default().check().is_ok());
        let bad = |hosts, without: Vec<usize>| {
            UpOptions {
                hosts,
                without_systemd: without,
                timeout: DEFAULT_TIMEOUT,
            }
            .check()
            .expect_err("invalid")
            .to_string()
        };
        assert!(bad(0, vec![]).contains("1 to 64"));
        assert!(bad(65, vec![]).contains("--hosts 65"));
        assert!(bad(3, vec![4]).contains("--without-systemd 4"));
        assert!(bad(3, vec![0]).contains("hosts 1 to 3"));
        let o = UpOptions {
            hosts: 4,
            without_systemd: vec![4],
            timeout: DEFAULT_TIMEOUT,
        };
        o.check().expect("valid");
        let planned = o.planned_hosts();
        assert_eq!(planned.len(), 4);
        assert_eq!(
            planned.iter().map(|h| h.systemd).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(planned[3].address, Ipv4Addr::new(198, 51, 100, 14));
        assert_eq!(o.shape(), "4 hosts (host 4 without systemd)");
        assert_eq!(describe_shape(1, &[]), "1 host");
    }

    #[test]
    fn lab_directories_are_checked() {
        assert_eq!(
            check_dir(Path::new("/var/lib/metis-lab")).expect("fine"),
            PathBuf::from("/var/lib/metis-lab")
        );
        assert!(check_dir(Path::new("relative/lab"))
            .expect("made absolute")
            .is_absolute());
        for bad in ["/tmp/my lab", "/tmp/a,b", "/tmp/a:b", "/tmp/it's", "/"] {
            let e = check_dir(Path::new(bad)).expect_err(bad).to_string();
            assert!(e.contains("--dir"), "{e}");
        }
    }

    #[test]
    fn probe_output_is_read() {
        let p = parse_probe("state running\nsudo\n");
        assert_eq!((p.state.as_str(), p.sudo), ("running", true));
        let p = parse_probe("state degraded\nfailed nginx.service\nfailed x.mount\n");
        assert_eq!(p.failed_units, ["nginx.service", "x.mount"]);
        assert!(!p.sudo);
        assert_eq!(parse_probe("").state, "");
        assert!(probe_script(true).contains("is-system-running"));
        assert!(!probe_script(false).contains("systemctl"));
    }

    #[test]
    fn exec_environment_points_ssh_at_the_lab_files() {
        let hosts = UpOptions::default().planned_hosts();
        let env = exec_env(Path::new("/var/lib/metis-lab"), &hosts);
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{k} missing"))
        };
        assert_eq!(
            get("ANSIBLE_PRIVATE_KEY_FILE"),
            "/var/lib/metis-lab/id_ed25519"
        );
        assert_eq!(get("ANSIBLE_REMOTE_USER"), "deploy");
        assert_eq!(get("ANSIBLE_HOST_KEY_CHECKING"), "True");
        assert_eq!(get("ANSIBLE_SSH_CONTROL_PATH_DIR"), "/var/lib/metis-lab/cp");
        for k in ["ANSIBLE_SSH_ARGS", "ANSIBLE_SSH_COMMON_ARGS"] {
            let v = get(k);
            assert!(
                v.contains("UserKnownHostsFile=/var/lib/metis-lab/known_hosts"),
                "{v}"
            );
            assert!(v.contains("StrictHostKeyChecking=yes"), "{v}");
            assert!(!v.contains("StrictHostKeyChecking=no"), "{v}");
        }
        assert!(get("ANSIBLE_SSH_ARGS").contains("ControlPersist"));
        assert_eq!(
            get("METIS_LAB_HOSTS"),
            "198.51.100.11 198.51.100.12 198.51.100.13"
        );
    }

    #[test]
    fn hosts_are_found_by_name_number_or_address() {
        let hosts = UpOptions::default().planned_hosts();
        assert_eq!(find_host(&hosts, "lab2").expect("name").name, "lab2");
        assert_eq!(find_host(&hosts, "3").expect("number").name, "lab3");
        assert_eq!(
            find_host(&hosts, "198.51.100.11").expect("address").name,
            "lab1"
        );
        let e = find_host(&hosts, "lab9").expect_err("unknown").to_string();
        assert!(e.contains("lab1 198.51.100.11"), "{e}");
        assert!(find_host(&hosts, "0").is_err());
    }

    #[test]
    fn table_lines_up() {
        let t = render_table(&[
            HostStatus {
                name: "lab1".into(),
                address: Ipv4Addr::new(198, 51, 100, 11),
                init: "systemd",
                state: "up",
                system: Some("running".into()),
                failed_units: vec![],
            },
            HostStatus {
                name: "lab2".into(),
                address: Ipv4Addr::new(198, 51, 100, 12),
                init: "sshd-only",
                state: "down",
                system: None,
                failed_units: vec![],
            },
        ]);
        assert_eq!(
            t,
            "HOST  ADDRESS        INIT       STATE  SYSTEM\n\
             lab1  198.51.100.11  systemd    up     running\n\
             lab2  198.51.100.12  sshd-only  down   -\n"
        );
    }

    #[test]
    fn missing_tools_name_the_apt_line() {
        let e = require_tools(&[
            ("metis-no-such-program-1", "pkg-one"),
            ("metis-no-such-program-2", "pkg-two"),
            ("sh", "dash"),
        ])
        .expect_err("missing")
        .to_string();
        assert!(e.contains("apt-get install -y pkg-one pkg-two"), "{e}");
        assert!(!e.contains("dash"), "{e}");
    }

    #[test]
    fn space_check_says_how_much() {
        let e = check_space(
            Path::new("/tmp/metis-lab-nonexistent/x"),
            u64::MAX / 2,
            "a test",
        )
        .expect_err("too much")
        .to_string();
        assert!(
            e.contains("MiB needed for a test") && e.contains("--dir"),
            "{e}"
        );
        check_space(Path::new("/tmp"), 1, "a test").expect("1 MiB is there");
    }
}
