//! The event stream of the collection's `metis.node.events` callback: one JSON object per line,
//! appended to the file named by `METIS_EVENTS_FILE`. Parsed with serde; [`LineBuffer`] turns
//! the chunks read from the growing file into whole lines.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The environment variable naming the events file.
pub const FILE_ENV: &str = "METIS_EVENTS_FILE";
/// With `1`, results also carry their `stdout` (ad-hoc queries).
pub const STDOUT_ENV: &str = "METIS_EVENTS_STDOUT";
/// The callback's name for `ANSIBLE_CALLBACKS_ENABLED`.
pub const CALLBACK: &str = "metis.node.events";

/// One event of a playbook run.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    PlaybookStart {
        playbook: String,
    },
    PlayStart {
        play: String,
    },
    TaskStart {
        task: String,
        #[serde(default)]
        handler: bool,
    },
    HostResult(HostResult),
    NoHostsMatched,
    /// The final counts (`PLAY RECAP`), per host.
    Stats {
        hosts: BTreeMap<String, HostCounts>,
    },
    /// An event of a newer callback: ignored.
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HostResult {
    pub host: String,
    pub task: String,
    pub status: HostStatus,
    /// The message of a failed or unreachable result (hidden for `no_log` tasks).
    #[serde(default)]
    pub msg: Option<String>,
    /// A failure under `ignore_errors`.
    #[serde(default)]
    pub ignored: bool,
    /// Only when the runner asked for it (ad-hoc queries).
    #[serde(default)]
    pub stdout: Option<String>,
    /// `metis.node.service_states`' result (how the host runs services, and each unit's state),
    /// only when the runner asked for it; read by [`crate::status`].
    #[serde(default)]
    pub manager: Option<String>,
    #[serde(default)]
    pub units: Option<serde_json::Value>,
}

impl HostResult {
    /// A failure that stops the host (not ignored).
    pub fn is_failure(&self) -> bool {
        matches!(self.status, HostStatus::Unreachable)
            || (self.status == HostStatus::Failed && !self.ignored)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    Ok,
    Changed,
    Failed,
    Unreachable,
    Skipped,
}

impl HostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HostStatus::Ok => "ok",
            HostStatus::Changed => "changed",
            HostStatus::Failed => "failed",
            HostStatus::Unreachable => "unreachable",
            HostStatus::Skipped => "skipped",
        }
    }
}

/// A host's counts at the end of a playbook, as in its `PLAY RECAP`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct HostCounts {
    pub ok: u32,
    pub changed: u32,
    pub failures: u32,
    pub unreachable: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

/// A line of the stream that is not an event (a partial write cut by a crash, another tool's
/// line): reported, never fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    pub line: String,
    pub error: String,
}

/// Parses one line; blank lines are `None`.
pub fn parse_line(line: &str) -> Option<Result<Event, BadLine>> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    Some(serde_json::from_str(line).map_err(|e| BadLine {
        line: metis_core::diag::shorten(line, 120),
        error: e.to_string(),
    }))
}

/// Whole lines out of chunks of bytes: a line is only parsed once its newline arrived.
#[derive(Debug, Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Adds a chunk; returns the events of the lines it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Result<Event, BadLine>> {
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=nl).collect();
            out.extend(parse_line(&String::from_utf8_lossy(&line)));
        }
        out
    }

    /// The last line when the stream ended without its newline.
    pub fn finish(&mut self) -> Option<Result<Event, BadLine>> {
        let rest = std::mem::take(&mut self.pending);
        parse_line(&String::from_utf8_lossy(&rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = r#"{"event": "playbook_start", "playbook": "bootstrap.yml"}
{"event": "play_start", "play": "Preflight"}
{"event": "task_start", "task": "Check the ports"}
{"event": "host_result", "host": "198.51.100.11", "status": "ok", "task": "Check the ports"}
{"event": "host_result", "host": "198.51.100.12", "msg": "198.51.100.12: port 8701/tcp (data grpc) is taken by python3", "status": "failed", "task": "Check the ports"}
{"event": "host_result", "host": "198.51.100.13", "ignored": true, "msg": "(hidden: the task is no_log)", "status": "failed", "task": "Check the ports"}
{"event": "task_start", "task": "restart", "handler": true}
{"event": "host_result", "host": "198.51.100.13", "status": "unreachable", "msg": "ssh: connect to host", "task": "restart"}
{"event": "host_result", "host": "198.51.100.11", "status": "changed", "task": "restart", "stdout": "Id=a"}
{"event": "host_result", "host": "198.51.100.11", "status": "skipped", "task": "restart"}
{"event": "some_future_event", "x": 1}
{"event": "stats", "hosts": {"198.51.100.11": {"changed": 1, "failures": 0, "ignored": 0, "ok": 3, "rescued": 0, "skipped": 1, "unreachable": 0}}}
"#;

    #[test]
    fn parses_every_event_kind() {
        let mut buf = LineBuffer::default();
        let events: Vec<Event> = buf
            .push(STREAM.as_bytes())
            .into_iter()
            .map(|e| e.expect("valid line"))
            .collect();
        assert_eq!(events.len(), 12);
        assert_eq!(
            events[0],
            Event::PlaybookStart {
                playbook: "bootstrap.yml".into()
            }
        );
        assert_eq!(
            events[2],
            Event::TaskStart {
                task: "Check the ports".into(),
                handler: false
            }
        );
        let Event::HostResult(failed) = &events[4] else {
            panic!("a host result: {:?}", events[4]);
        };
        assert_eq!(failed.status, HostStatus::Failed);
        assert!(failed.is_failure());
        assert!(failed
            .msg
            .as_deref()
            .is_some_and(|m| m.contains("8701/tcp")));
        let Event::HostResult(ignored) = &events[5] else {
            panic!("a host result");
        };
        assert!(ignored.ignored && !ignored.is_failure());
        assert!(matches!(&events[6], Event::TaskStart { handler: true, .. }));
        let Event::HostResult(unreachable) = &events[7] else {
            panic!("a host result");
        };
        assert!(unreachable.is_failure());
        let Event::HostResult(changed) = &events[8] else {
            panic!("a host result");
        };
        assert_eq!(changed.stdout.as_deref(), Some("Id=a"));
        assert_eq!(events[10], Event::Unknown);
        let Event::Stats { hosts } = &events[11] else {
            panic!("stats");
        };
        let c = hosts["198.51.100.11"];
        assert_eq!((c.ok, c.changed, c.skipped, c.failures), (3, 1, 1, 0));
        assert!(buf.finish().is_none());
    }

    #[test]
    fn lines_split_across_chunks_and_bad_lines() {
        let mut buf = LineBuffer::default();
        let line = br#"{"event": "play_start", "play": "Deploy"}"#;
        assert!(buf.push(&line[..10]).is_empty(), "no newline yet");
        assert!(buf.push(&line[10..]).is_empty());
        let got = buf.push(b"\n\n{not json\n");
        assert_eq!(got.len(), 2, "blank lines are skipped");
        assert_eq!(
            got[0],
            Ok(Event::PlayStart {
                play: "Deploy".into()
            })
        );
        let bad = got[1].clone().expect_err("not an event");
        assert_eq!(bad.line, "{not json");
        // A missing status or an unknown one is a bad line, not a panic.
        assert!(
            parse_line(r#"{"event": "host_result", "host": "h", "task": "t"}"#)
                .is_some_and(|r| r.is_err())
        );
        assert!(parse_line(
            r#"{"event": "host_result", "host": "h", "task": "t", "status": "weird"}"#
        )
        .is_some_and(|r| r.is_err()));
        // The last line without its newline.
        assert!(buf.push(br#"{"event": "no_hosts_matched"}"#).is_empty());
        assert_eq!(buf.finish(), Some(Ok(Event::NoHostsMatched)));
    }
}
