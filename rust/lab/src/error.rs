//! Every way the lab can fail, each message saying what went wrong, where, and how to fix it.

use std::path::PathBuf;

/// A lab error. The `Display` text is meant for the operator: it names the fix.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(
        "the lab needs root (it creates a network namespace, overlay mounts and containers): \
         run `sudo metis-deploy lab {command}`"
    )]
    NotRoot { command: &'static str },

    #[error("the lab needs {}, not installed here: run `apt-get install -y {}`",
        .programs.join(", "), .packages.join(" "))]
    MissingTools {
        programs: Vec<&'static str>,
        packages: Vec<&'static str>,
    },

    #[error("{0}")]
    Usage(String),

    #[error(
        "the network namespace `{netns}` already exists and is not the lab in {}: {}",
        .dir.display(),
        match .owner {
            Some(o) => format!("it belongs to the lab in {0}; stop that one first with \
                `metis-deploy lab down --dir {0}`", o.display()),
            None => format!("something else made it; if nothing uses it any more, remove it \
                with `ip netns del {netns}`"),
        }
    )]
    NamespaceTaken {
        netns: &'static str,
        dir: PathBuf,
        owner: Option<PathBuf>,
    },

    #[error(
        "the lab's address range {range} is already used in this machine's own network namespace: \
         {}; the lab keeps every one of its addresses inside its namespace and needs the range \
         free here (only an `unreachable {range}` route may exist): remove {} (`ip addr del` / \
         `ip route del`) and run again", .uses.join("; "), if .uses.len() == 1 { "it" } else { "them" })]
    RangeInUse {
        range: &'static str,
        uses: Vec<String>,
    },

    #[error(
        "the cgroup {path} already holds processes that are not the lab's in {dir}: \
         another lab (with another --dir) may be running; stop it first"
    )]
    CgroupTaken { path: PathBuf, dir: PathBuf },

    #[error(
        "not enough disk space in {}: {} MiB free, {} MiB needed for {what}: free some space or \
         choose another --dir", .dir.display(), .free_mib, .need_mib)]
    NoSpace {
        dir: PathBuf,
        free_mib: u64,
        need_mib: u64,
        what: &'static str,
    },

    #[error("{what} ({}): {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("`{command}` failed ({status}){}", if .output.is_empty() { String::new() } else { format!(":\n{}", .output) })]
    Command {
        command: String,
        status: String,
        output: String,
    },

    #[error("building the lab image failed ({status}); the build log is {}:\n{tail}\n\
             fix the cause (often: the apt mirror is unreachable) and run `metis-deploy lab up` again",
        .log.display())]
    ImageBuild {
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error(
        "the lab state file {} is unreadable: {reason}; `metis-deploy lab down` cleans up \
         without it", .path.display())]
    State { path: PathBuf, reason: String },

    #[error(
        "a lab with {running} is already running from {}; run `metis-deploy lab down` first to \
         start one with {wanted}", .dir.display())]
    OtherShape {
        dir: PathBuf,
        running: String,
        wanted: String,
    },

    #[error("the lab is not running (no hosts in {}): start it with `metis-deploy lab up`", .dir.display())]
    NotRunning { dir: PathBuf },

    #[error("no lab host `{host}`: use a name, number or address from `metis-deploy lab status` ({known})")]
    UnknownHost { host: String, known: String },

    #[error(
        "the lab did not come up: {}\nconsole logs: {}; the half-built lab was removed \
         (the image stays cached), fix the cause and run `metis-deploy lab up` again",
        .problems.join("\n"), .logs.display())]
    Boot {
        problems: Vec<String>,
        logs: PathBuf,
    },

    #[error(
        "the lab is up but {}; inspect with `metis-deploy lab ssh <host> systemctl --failed` \
         or journalctl, remove it with `metis-deploy lab down`", .problems.join("; "))]
    Degraded { problems: Vec<String> },

    #[error("could not remove everything: {}", .problems.join("; "))]
    Teardown { problems: Vec<String> },
}

impl LabError {
    /// An I/O error on `path` while doing `what`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| LabError::Io { what, path, source }
    }
}

pub type Result<T, E = LabError> = std::result::Result<T, E>;
