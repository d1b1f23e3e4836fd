//! DIR/state.json: what the lab holds right now (hosts, their launcher processes, its namespace),
//! so that `status`, `down`, `exec` and `ssh` work from any shell. Written atomically; written
//! before the first thing `up` creates, so an interrupted `up` is always found again.

use crate::error::{LabError, Result};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// The format of the state file; another value is refused with a clear message.
pub const VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `up` is (or was, when interrupted) creating the lab.
    Starting,
    /// Every host booted and answered.
    Running,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostState {
    /// Host name (also the container's machine name and hostname): lab1, lab2, ...
    pub name: String,
    pub address: Ipv4Addr,
    /// systemd as PID 1 (false: sshd only, for the process-manager path).
    pub systemd: bool,
    /// The systemd-nspawn process, once launched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its start time (/proc/PID/stat), so a reused pid is never mistaken for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_start: Option<u64>,
}

impl HostState {
    /// The launcher pid when that very process still runs.
    pub fn live_pid(&self) -> Option<u32> {
        match (self.pid, self.pid_start) {
            (Some(pid), Some(start)) if crate::sys::same_process_alive(pid, start) => Some(pid),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub phase: Phase,
    /// The image (hash of its package list) the hosts run on.
    pub image: String,
    /// Inode of the network namespace this lab created, to tell it from another one of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns_inode: Option<u64>,
    pub hosts: Vec<HostState>,
}

impl State {
    /// Reads the state file; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<State>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LabError::io("reading the lab state", path)(e)),
        };
        Self::parse(&text)
            .map(Some)
            .map_err(|reason| LabError::State {
                path: path.to_path_buf(),
                reason,
            })
    }

    /// Parses and checks a state file's text.
    pub fn parse(text: &str) -> Result<State, String> {
        let state: State = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if state.version != VERSION {
            return Err(format!(
                "format version {} (this metis-deploy reads version {VERSION})",
                state.version
            ));
        }
        for (i, h) in state.hosts.iter().enumerate() {
            let want = crate::host_name(i + 1);
            if h.name != want || Some(h.address) != crate::host_address(i + 1) {
                return Err(format!(
                    "host {} is `{} {}`, expected `{want}` at its lab address",
                    i + 1,
                    h.name,
                    h.address
                ));
            }
        }
        Ok(state)
    }

    /// Writes the state file atomically (a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| LabError::State {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        write_atomic(path, text.as_bytes(), 0o644)
    }

    /// Hosts described as "3 hosts (lab3 without systemd)" for messages.
    pub fn shape(&self) -> String {
        let without: Vec<usize> = self
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.systemd)
            .map(|(i, _)| i + 1)
            .collect();
        crate::describe_shape(self.hosts.len(), &without)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp: PathBuf = {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".tmp{}", std::process::id()));
        path.with_file_name(name)
    };
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        LabError::io("writing", path)(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        State {
            version: VERSION,
            phase: Phase::Running,
            image: "0123456789abcdef".into(),
            netns_inode: Some(4026532300),
            hosts: vec![
                HostState {
                    name: "lab1".into(),
                    address: Ipv4Addr::new(198, 51, 100, 11),
                    systemd: true,
                    pid: Some(1234),
                    pid_start: Some(99),
                },
                HostState {
                    name: "lab2".into(),
                    address: Ipv4Addr::new(198, 51, 100, 12),
                    systemd: false,
                    pid: None,
                    pid_start: None,
                },
            ],
        }
    }

    #[test]
    fn round_trips_through_the_file() {
        let dir = std::env::temp_dir().join(format!("metis-lab-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("state.json");
        assert_eq!(State::load(&path).expect("no file is fine"), None);
        sample().save(&path).expect("save");
        assert_eq!(State::load(&path).expect("load"), Some(sample()));
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name() != "state.json")
            .collect();
        assert!(leftovers.is_empty(), "temporary file left: {leftovers:?}");
        std::fs::write(&path, "{not json").expect("write");
        let err = State::load(&path).expect_err("corrupt").to_string();
        assert!(
            err.contains("state.json") && err.contains("lab down"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn refuses_other_versions_and_foreign_hosts() {
        let mut s = sample();
        s.version = 2;
        let text = serde_json::to_string(&s).expect("json");
        assert!(State::parse(&text)
            .expect_err("version")
            .contains("version 2"));
        let mut s = sample();
        s.hosts[1].address = Ipv4Addr::new(192, 0, 2, 2);
        let text = serde_json::to_string(&s).expect("json");
        assert!(State::parse(&text)
            .expect_err("address")
            .contains("192.0.2.2"));
    }

    #[test]
    fn a_dead_or_unknown_launcher_is_not_live() {
        let mut h = sample().hosts[0].clone();
        h.pid = Some(std::process::id());
        h.pid_start = crate::sys::start_time(std::process::id());
        assert_eq!(h.live_pid(), Some(std::process::id()));
        h.pid_start = h.pid_start.map(|s| s + 7);
        assert_eq!(h.live_pid(), None, "same pid, other start time: reused pid");
        h.pid_start = None;
        assert_eq!(h.live_pid(), None);
    }

    #[test]
    fn shape_names_the_hosts_without_systemd() {
        assert_eq!(sample().shape(), "2 hosts (host 2 without systemd)");
    }
}
