//! Runs one Ansible command (ansible-playbook, or ad-hoc `ansible`): its whole output to a log
//! file, its events from the `metis.node.events` callback read as they are written, Ctrl-C
//! passed on to its process group.

use crate::events::{self, BadLine, Event, LineBuffer};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// How long ansible-playbook gets to stop after SIGINT before SIGTERM, then SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How often the events file is read.
const POLL: Duration = Duration::from_millis(100);

/// One command to run.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(String, OsString)>,
    /// Where stdout and stderr go (created 0600).
    pub log: PathBuf,
    /// The events file (created 0600, empty).
    pub events: PathBuf,
}

/// How the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// It exited (its code; 128 + signal when killed).
    Exited(i32),
    /// The operator interrupted it (SIGINT or SIGTERM to this process); it was stopped.
    Interrupted,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot run {}: {source} (install Ansible, or give its path with --ansible-bin)", program.display())]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
    #[error("waiting for {}: {source}", program.display())]
    Wait {
        program: PathBuf,
        source: std::io::Error,
    },
}

/// SIGINT and SIGTERM to this process, installed once per run (before any child starts, so
/// a Ctrl-C between two steps is seen too).
pub struct Interrupts {
    int: Signal,
    term: Signal,
    pub seen: bool,
}

impl Interrupts {
    pub fn install() -> std::io::Result<Interrupts> {
        Ok(Interrupts {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            seen: false,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        self.seen = true;
    }

    /// Whether a signal arrived since the last check, without waiting.
    pub async fn poll_now(&mut self) -> bool {
        if self.seen {
            return true;
        }
        tokio::select! {
            biased;
            _ = self.recv() => true,
            _ = tokio::task::yield_now() => self.seen,
        }
    }
}

/// SIGINT and SIGTERM back to their default action (end the process). Once [`Interrupts`] was
/// installed its handler outlives the runtime that read it: a caller that goes on with other
/// work after a run (the `status` health checks) calls this so that Ctrl-C still stops it.
pub fn restore_default_signals() {
    // SAFETY: signal(2) with SIG_DFL changes no memory of this process.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}

/// Finds `name` on PATH (or takes `path` as given when it has a slash).
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs the invocation; `on_event` sees each event as it is written.
pub async fn run(
    inv: &Invocation,
    interrupts: &mut Interrupts,
    mut on_event: impl FnMut(Result<Event, BadLine>),
) -> Result<End, ExecError> {
    let log = crate::record::create_private(&inv.log)?;
    let log2 = log.try_clone().map_err(|source| ExecError::Spawn {
        program: inv.program.clone(),
        source,
    })?;
    drop(crate::record::create_private(&inv.events)?);
    let mut cmd = tokio::process::Command::new(&inv.program);
    cmd.args(&inv.args)
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .process_group(0)
        .kill_on_drop(false);
    // SAFETY: between fork and exec only async-signal-safe calls: signal(2).
    unsafe {
        cmd.pre_exec(|| {
            // A shell's background job starts with SIGINT ignored, which Python would keep:
            // give the child the default so that ansible-playbook stops on the SIGINT we send.
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|source| ExecError::Spawn {
        program: inv.program.clone(),
        source,
    })?;
    let pgid = child.id().and_then(|p| i32::try_from(p).ok());
    let mut reader = EventsReader::new(inv.events.clone());
    let mut interrupted = interrupts.seen;
    if interrupted {
        signal_group(pgid, libc::SIGINT);
    }
    let mut deadline: Option<tokio::time::Instant> =
        interrupted.then(|| tokio::time::Instant::now() + STOP_GRACE);
    let mut escalations = 0;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            _ = interrupts.recv(), if !interrupted => {
                interrupted = true;
                signal_group(pgid, libc::SIGINT);
                deadline = Some(tokio::time::Instant::now() + STOP_GRACE);
            }
            _ = tokio::time::sleep(POLL) => {
                reader.read(&mut on_event).await;
                if let Some(d) = deadline {
                    if tokio::time::Instant::now() >= d {
                        escalations += 1;
                        signal_group(pgid, if escalations == 1 { libc::SIGTERM } else { libc::SIGKILL });
                        deadline = Some(tokio::time::Instant::now() + Duration::from_secs(5));
                    }
                }
            }
        }
    };
    let status = status.map_err(|source| ExecError::Wait {
        program: inv.program.clone(),
        source,
    })?;
    reader.read(&mut on_event).await;
    if let Some(last) = reader.buf.finish() {
        on_event(last);
    }
    if interrupted {
        return Ok(End::Interrupted);
    }
    use std::os::unix::process::ExitStatusExt;
    Ok(End::Exited(
        status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1),
    ))
}

fn signal_group(pgid: Option<i32>, sig: i32) {
    if let Some(pgid) = pgid {
        // SAFETY: kill(2) with a negative pid signals the process group; no memory involved.
        unsafe {
            libc::kill(-pgid, sig);
        }
    }
}

/// Reads what was appended to the events file since the last read.
struct EventsReader {
    path: PathBuf,
    offset: u64,
    buf: LineBuffer,
}

impl EventsReader {
    fn new(path: PathBuf) -> EventsReader {
        EventsReader {
            path,
            offset: 0,
            buf: LineBuffer::default(),
        }
    }

    async fn read(&mut self, on_event: &mut impl FnMut(Result<Event, BadLine>)) {
        let Ok(mut f) = tokio::fs::File::open(&self.path).await else {
            return;
        };
        use tokio::io::AsyncSeekExt;
        if f.seek(std::io::SeekFrom::Start(self.offset)).await.is_err() {
            return;
        }
        let mut chunk = Vec::new();
        if let Ok(n) = f.read_to_end(&mut chunk).await {
            self.offset += n as u64;
            for e in self.buf.push(&chunk) {
                on_event(e);
            }
        }
    }
}

/// One of Ansible's settings the runner brings: its environment variable, where a config file
/// sets it (sections, key) and the value.
pub struct Setting {
    pub env: &'static str,
    pub sections: &'static [&'static str],
    pub key: &'static str,
    pub value: &'static str,
}

/// Ansible's settings the runner brings, the same as the checkout's `ansible.cfg`: ssh
/// pipelining (one round trip per task instead of three; sudo must not require a tty, as on
/// Debian and Ubuntu) and enough forks that an organisation's hosts are reached at once.
pub const DEFAULTS: &[Setting] = &[
    Setting {
        env: "ANSIBLE_PIPELINING",
        sections: &["connection", "ssh_connection"],
        key: "pipelining",
        value: "True",
    },
    Setting {
        env: "ANSIBLE_FORKS",
        sections: &["defaults"],
        key: "forks",
        value: "20",
    },
];

/// The operator's Ansible configuration file, where Ansible looks for one (`ANSIBLE_CONFIG`,
/// `./ansible.cfg`, `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`), if any.
pub fn operator_config() -> Option<PathBuf> {
    if let Some(c) = std::env::var_os("ANSIBLE_CONFIG").filter(|c| !c.is_empty()) {
        return Some(PathBuf::from(c));
    }
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".ansible.cfg"));
    [
        Some(PathBuf::from("ansible.cfg")),
        home,
        Some(PathBuf::from("/etc/ansible/ansible.cfg")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file())
}

/// The `(section, key, value)` entries an INI-style Ansible configuration sets (comments and
/// blank lines skipped; sections and keys lower-cased).
pub fn config_entries(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.trim().to_lowercase();
        } else if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) {
            entries.push((
                section.clone(),
                k.trim().to_lowercase(),
                v.trim().to_owned(),
            ));
        }
    }
    entries
}

/// Whether a configuration's entries set this setting.
fn sets(entries: &[(String, String, String)], d: &Setting) -> bool {
    entries
        .iter()
        .any(|(s, k, _)| *k == d.key && d.sections.contains(&s.as_str()))
}

/// The [`DEFAULTS`] to set: those neither in the environment nor set by the operator's
/// configuration file (a stock file of comments sets nothing; what the operator sets rules).
pub fn defaults_to_apply(config: Option<&str>) -> Vec<&'static Setting> {
    let entries = config.map(config_entries).unwrap_or_default();
    DEFAULTS
        .iter()
        .filter(|d| std::env::var_os(d.env).is_none() && !sets(&entries, d))
        .collect()
}

/// The environment that enables the events callback, writing to `events`, with the
/// collection directory next to the playbooks (if any) first on the collections path, and
/// the [`DEFAULTS`] the operator's environment and configuration do not set.
pub fn callback_env(
    events: &Path,
    collections: Option<&Path>,
    with_stdout: bool,
) -> Vec<(String, OsString)> {
    let mut env = Vec::new();
    let enabled = match std::env::var("ANSIBLE_CALLBACKS_ENABLED") {
        Ok(v) if v.split(',').any(|c| c.trim() == events::CALLBACK) => v,
        Ok(v) if !v.trim().is_empty() => format!("{v},{}", events::CALLBACK),
        _ => events::CALLBACK.to_owned(),
    };
    env.push(("ANSIBLE_CALLBACKS_ENABLED".to_owned(), enabled.into()));
    env.push((events::FILE_ENV.to_owned(), events.as_os_str().to_owned()));
    env.push((
        events::STDOUT_ENV.to_owned(),
        if with_stdout { "1" } else { "0" }.into(),
    ));
    // Ad-hoc `ansible` loads callbacks only with this.
    env.push(("ANSIBLE_LOAD_CALLBACK_PLUGINS".to_owned(), "1".into()));
    // An unreadable configuration file: Ansible stops on it, naming it, before any of this counts.
    let config = operator_config().and_then(|p| std::fs::read_to_string(p).ok());
    for d in defaults_to_apply(config.as_deref()) {
        env.push((d.env.to_owned(), d.value.into()));
    }
    if let Some(dir) = collections {
        let rest = std::env::var_os("ANSIBLE_COLLECTIONS_PATH")
            .unwrap_or_else(|| "~/.ansible/collections:/usr/share/ansible/collections".into());
        let mut v = dir.as_os_str().to_owned();
        v.push(":");
        v.push(rest);
        env.push(("ANSIBLE_COLLECTIONS_PATH".to_owned(), v));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runner's defaults are what the checkout's ansible.cfg sets, and nothing else.
    #[test]
    fn defaults_are_the_checkouts_ansible_cfg() {
        let cfg =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ansible.cfg"))
                .expect("ansible.cfg at the checkout's root");
        let entries = config_entries(&cfg);
        assert_eq!(entries.len(), DEFAULTS.len(), "{entries:?}");
        for d in DEFAULTS {
            assert!(
                entries
                    .iter()
                    .any(|(s, k, v)| d.sections.contains(&s.as_str())
                        && k == d.key
                        && v.to_lowercase() == d.value.to_lowercase()),
                "{} is not in ansible.cfg as {:?} {} = {}",
                d.env,
                d.sections,
                d.key,
                d.value
            );
        }
        // The checkout's own file, read as the operator's: it sets them all, nothing to add.
        assert!(DEFAULTS.iter().all(|d| sets(&entries, d)));
    }

    #[test]
    fn only_what_the_operators_file_leaves_unset_is_brought() {
        let names =
            |c: Option<&str>| -> Vec<&str> { defaults_to_apply(c).iter().map(|d| d.env).collect() };
        let all: Vec<&str> = DEFAULTS
            .iter()
            .map(|d| d.env)
            .filter(|e| std::env::var_os(e).is_none())
            .collect();
        assert_eq!(names(None), all);
        // A stock file of comments sets nothing.
        assert_eq!(
            names(Some(
                "# [defaults]\n# forks = 5\n[defaults]\n;pipelining=False\n"
            )),
            all
        );
        // pipelining in [ssh_connection] counts, forks elsewhere than [defaults] does not.
        let some = names(Some(
            "[ssh_connection]\npipelining = False\n[connection]\nforks = 3\n",
        ));
        assert!(!some.contains(&"ANSIBLE_PIPELINING"), "{some:?}");
        assert_eq!(
            some.contains(&"ANSIBLE_FORKS"),
            std::env::var_os("ANSIBLE_FORKS").is_none()
        );
        assert!(!names(Some("[DEFAULTS]\nForks: 50\n")).contains(&"ANSIBLE_FORKS"));
    }
}
