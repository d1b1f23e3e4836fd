//! Run records: `<state dir>/runs/<id>/` holds each step's full Ansible log and event stream and
//! `state.json` (steps, hosts, durations, outcome, inventory checksum); `<state dir>/audit.log`
//! gets one line per run. Directories 0700, files 0600. No secret is written: the inventory's
//! secrets come from the environment, arguments that name one are recorded as `<redacted>`.

use crate::events::HostCounts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The version of `state.json`'s layout.
pub const STATE_VERSION: u32 = 1;
pub const STATE_FILE: &str = "state.json";
pub const AUDIT_FILE: &str = "audit.log";
pub const RUNS_DIR: &str = "runs";
/// What a recorded argument that names a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot {what} {}: {source} (check that the directory is writable by this user)", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a run record: {error} (each run directory holds the state.json metis-deploy wrote)", path.display())]
    Invalid { path: PathBuf, error: String },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> RecordError + 'a {
    move |source| RecordError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Running,
    Succeeded,
    Failed,
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Interrupted,
    /// Not run: before `--from`, outside `--only`, or done by the run being replayed.
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Succeeded => "succeeded",
            StepStatus::Failed => "failed",
            StepStatus::Interrupted => "interrupted",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// A failing host of a step: the task and its message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub host: String,
    pub task: String,
    pub status: String,
    pub msg: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The playbook's name (`bootstrap`).
    pub name: String,
    /// What ansible-playbook was given: a path or `metis.node.<name>`.
    pub playbook: String,
    pub extra_vars: BTreeMap<String, String>,
    pub status: StepStatus,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub started: Option<String>,
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The full Ansible output, relative to the run directory.
    pub log: String,
    /// The event stream, relative to the run directory.
    pub events: String,
    /// Per host, the counts of its PLAY RECAP.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostCounts>,
    #[serde(default)]
    pub failures: Vec<Failure>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    pub version: u32,
    pub id: String,
    pub operation: String,
    pub cluster: String,
    /// Absolute path of the inventory file.
    pub inventory: String,
    pub inventory_sha256: String,
    /// Where the playbooks came from (a directory, or the installed collection).
    pub playbooks: String,
    /// Arguments passed through to ansible-playbook (values naming a secret redacted).
    pub ansible_args: Vec<String>,
    #[serde(default)]
    pub ansible_args_redacted: bool,
    /// The operation's parameters (confirmation, bundle, host...).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub replay_of: Option<String>,
    /// The one step the run was limited to (`--only`); its replay runs that step only too.
    #[serde(default)]
    pub only: Option<String>,
    pub user: String,
    pub started: String,
    #[serde(default)]
    pub ended: Option<String>,
    #[serde(default)]
    pub duration_ms: u64,
    pub outcome: Outcome,
    pub steps: Vec<StepRecord>,
}

impl RunState {
    /// The first step that did not succeed (failed, interrupted, never ran), if any.
    pub fn first_unfinished(&self) -> Option<usize> {
        self.steps.iter().position(|s| {
            matches!(
                s.status,
                StepStatus::Failed
                    | StepStatus::Interrupted
                    | StepStatus::Pending
                    | StepStatus::Running
            )
        })
    }

    /// The audit line of this run.
    pub fn audit_line(&self) -> String {
        let failed = self
            .steps
            .iter()
            .find(|s| matches!(s.status, StepStatus::Failed | StepStatus::Interrupted))
            .map(|s| format!(" step={}", s.name))
            .unwrap_or_default();
        let replay = self
            .replay_of
            .as_deref()
            .map(|r| format!(" replay_of={r}"))
            .unwrap_or_default();
        format!(
            "{} user={} op={} run={} outcome={}{failed}{replay} duration_s={:.1} cluster={} inventory={} sha256={}\n",
            self.ended.as_deref().unwrap_or(&self.started),
            self.user,
            self.operation,
            self.id,
            self.outcome.as_str(),
            self.duration_ms as f64 / 1000.0,
            self.cluster,
            self.inventory,
            self.inventory_sha256,
        )
    }
}

/// The sha256 of a file, in hex.
pub fn sha256_file(path: &Path) -> Result<String, RecordError> {
    let bytes = fs::read(path).map_err(io("read", path))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Pass-through arguments fit for the record: the value of an `-e`/`--extra-vars` that names a
/// secret (`mysql_root_password=...`) becomes [`REDACTED`]. Returns the arguments and whether
/// any was redacted.
pub fn redact_args(args: &[String]) -> (Vec<String>, bool) {
    let mut out = Vec::with_capacity(args.len());
    let mut redacted = false;
    let mut value_next = false;
    for a in args {
        let secret = metis_core::secrets::mentions_secret(a);
        if value_next {
            value_next = false;
            if secret {
                redacted = true;
                out.push(REDACTED.to_owned());
                continue;
            }
        } else if a == "-e" || a == "--extra-vars" {
            value_next = true;
        } else if secret {
            // `-eVALUE`, `--extra-vars=VALUE` or any other argument naming a secret.
            redacted = true;
            let keep = ["--extra-vars=", "-e"]
                .iter()
                .find(|p| a.starts_with(*p))
                .map_or("", |p| *p);
            out.push(format!("{keep}{REDACTED}"));
            continue;
        }
        out.push(a.clone());
    }
    (out, redacted)
}

/// The directory of all runs, made (0700) when missing.
pub fn runs_dir(state_dir: &Path) -> PathBuf {
    state_dir.join(RUNS_DIR)
}

fn mkdir_private(path: &Path) -> Result<(), RecordError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io("create the directory", path))
}

/// Creates a new run directory `<state dir>/runs/<id>` (0700) with a fresh id
/// (`20250102T030405Z-up`, `-2`... when taken); returns the id and the directory.
pub fn create_run_dir(
    state_dir: &Path,
    operation: &str,
    now: SystemTime,
) -> Result<(String, PathBuf), RecordError> {
    let runs = runs_dir(state_dir);
    mkdir_private(&runs)?;
    let base = format!("{}-{operation}", compact_utc(now));
    for n in 1..1000 {
        let id = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = runs.join(&id);
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io("create the run directory", &dir)(e)),
        }
    }
    Err(RecordError::Io {
        what: "find a free run id under",
        path: runs,
        source: std::io::Error::other("too many runs in the same second"),
    })
}

/// Opens (creates) a file of the run directory, mode 0600, truncated.
pub fn create_private(path: &Path) -> Result<fs::File, RecordError> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io("create", path))
}

/// Writes `state.json` atomically (a temporary file renamed over it), mode 0600.
pub fn write_state(run_dir: &Path, state: &RunState) -> Result<(), RecordError> {
    let path = run_dir.join(STATE_FILE);
    let tmp = run_dir.join(".state.json.tmp");
    let text = serde_json::to_string_pretty(state).map_err(|e| RecordError::Invalid {
        path: path.clone(),
        error: e.to_string(),
    })?;
    let mut f = create_private(&tmp)?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(io("write", &tmp))?;
    fs::rename(&tmp, &path).map_err(io("replace", &path))
}

/// Reads a run's `state.json`.
pub fn read_state(run_dir: &Path) -> Result<RunState, RecordError> {
    let path = run_dir.join(STATE_FILE);
    let text = fs::read_to_string(&path).map_err(io("read", &path))?;
    let state: RunState = serde_json::from_str(&text).map_err(|e| RecordError::Invalid {
        path: path.clone(),
        error: e.to_string(),
    })?;
    if state.version > STATE_VERSION {
        return Err(RecordError::Invalid {
            path,
            error: format!(
                "written by a newer metis-deploy (state version {}, this one reads {STATE_VERSION})",
                state.version
            ),
        });
    }
    Ok(state)
}

/// Appends the run's line to `<state dir>/audit.log` (0600).
pub fn append_audit(state_dir: &Path, state: &RunState) -> Result<(), RecordError> {
    let path = state_dir.join(AUDIT_FILE);
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&path)
        .map_err(io("open", &path))?;
    f.write_all(state.audit_line().as_bytes())
        .map_err(io("append to", &path))
}

/// Every run under the state directory, oldest first; unreadable ones come back as errors.
pub fn list_runs(state_dir: &Path) -> Vec<Result<(PathBuf, RunState), RecordError>> {
    let runs = runs_dir(state_dir);
    let Ok(entries) = fs::read_dir(&runs) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| read_state(&d).map(|s| (d, s)))
        .collect()
}

/// `2025-01-02T03:04:05Z`.
pub fn iso_utc(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `20250102T030405Z`.
pub fn compact_utc(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// UTC calendar fields of a time (days-to-civil, proleptic Gregorian).
fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32) {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m as u32,
        d as u32,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// The user running the command (for the audit line).
pub fn user_name() -> String {
    std::env::var("SUDO_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| format!("{}(sudo)", u))
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|| format!("uid{}", unsafe { libc::getuid() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "metis-runner-test-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("temp dir");
        d
    }

    fn sample(id: &str) -> RunState {
        let step = |name: &str, status| StepRecord {
            name: name.into(),
            playbook: format!("/repo/playbooks/{name}.yml"),
            extra_vars: BTreeMap::new(),
            status,
            note: None,
            started: Some("2025-01-02T03:04:05Z".into()),
            duration_ms: 1500,
            exit_code: Some(0),
            log: format!("{name}.log"),
            events: format!("{name}.events.jsonl"),
            hosts: BTreeMap::from([(
                "198.51.100.11".to_owned(),
                HostCounts {
                    ok: 3,
                    changed: 1,
                    ..HostCounts::default()
                },
            )]),
            failures: Vec::new(),
        };
        RunState {
            version: STATE_VERSION,
            id: id.into(),
            operation: "up".into(),
            cluster: "lab".into(),
            inventory: "/repo/inventory.ini".into(),
            inventory_sha256: "ab".repeat(32),
            playbooks: "/repo/playbooks".into(),
            ansible_args: vec!["-e".into(), "offline_bundle=/b".into()],
            ansible_args_redacted: false,
            params: BTreeMap::new(),
            replay_of: None,
            only: None,
            user: "root".into(),
            started: "2025-01-02T03:04:05Z".into(),
            ended: Some("2025-01-02T03:05:05Z".into()),
            duration_ms: 60_000,
            outcome: Outcome::Failed,
            steps: vec![
                step("local_prepare", StepStatus::Succeeded),
                step("bootstrap", StepStatus::Failed),
                step("deploy", StepStatus::Pending),
            ],
        }
    }

    #[test]
    fn state_round_trips_with_private_modes() {
        let state_dir = tmpdir("state");
        let now = UNIX_EPOCH + Duration::from_secs(1_735_787_045);
        let (id, dir) = create_run_dir(&state_dir, "up", now).expect("run dir");
        assert_eq!(id, "20250102T030405Z-up");
        let (id2, _) = create_run_dir(&state_dir, "up", now).expect("second run dir");
        assert_eq!(id2, "20250102T030405Z-up-2", "same second: a suffix");
        let state = sample(&id);
        write_state(&dir, &state).expect("write");
        assert_eq!(read_state(&dir).expect("read"), state);
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&state_dir.join(RUNS_DIR)), 0o700);
        assert_eq!(mode(&dir.join(STATE_FILE)), 0o600);
        assert!(!dir.join(".state.json.tmp").exists());
        append_audit(&state_dir, &state).expect("audit");
        append_audit(&state_dir, &state).expect("audit again");
        let audit = fs::read_to_string(state_dir.join(AUDIT_FILE)).expect("audit log");
        assert_eq!(audit.lines().count(), 2, "one line per run, appended");
        assert!(audit.starts_with("2025-01-02T03:05:05Z user=root op=up run=20250102T030405Z-up outcome=failed step=bootstrap"));
        assert_eq!(mode(&state_dir.join(AUDIT_FILE)), 0o600);
        let runs = list_runs(&state_dir);
        assert_eq!(runs.len(), 2);
        assert!(runs[0].as_ref().is_ok_and(|(_, s)| s.id == id));
        assert!(runs[1].is_err(), "the second directory has no state.json");
        let _ = fs::remove_dir_all(&state_dir);
    }

    #[test]
    fn first_unfinished_step() {
        let mut s = sample("x");
        assert_eq!(s.first_unfinished(), Some(1));
        s.steps[1].status = StepStatus::Succeeded;
        assert_eq!(s.first_unfinished(), Some(2));
        s.steps[2].status = StepStatus::Skipped;
        assert_eq!(s.first_unfinished(), None);
    }

    #[test]
    fn bad_state_files_are_errors() {
        let dir = tmpdir("bad");
        assert!(matches!(read_state(&dir), Err(RecordError::Io { .. })));
        fs::write(dir.join(STATE_FILE), "{").expect("write");
        assert!(matches!(read_state(&dir), Err(RecordError::Invalid { .. })));
        let mut newer = serde_json::to_value(sample("x")).expect("json");
        newer["version"] = serde_json::json!(99);
        fs::write(dir.join(STATE_FILE), newer.to_string()).expect("write");
        let err = read_state(&dir).expect_err("newer");
        assert!(err.to_string().contains("newer metis-deploy"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn secrets_in_arguments_are_redacted() {
        let args: Vec<String> = [
            "-e",
            "offline_bundle=/b",
            "-e",
            "mysql_root_password=hunter2",
            "--extra-vars={\"pinata_token\": \"t\"}",
            "--limit",
            "lab1",
        ]
        .map(String::from)
        .to_vec();
        let (out, redacted) = redact_args(&args);
        assert!(redacted);
        assert_eq!(
            out,
            [
                "-e",
                "offline_bundle=/b",
                "-e",
                REDACTED,
                "--extra-vars=<redacted>",
                "--limit",
                "lab1"
            ]
        );
        assert!(!out.join(" ").contains("hunter2"));
        let (out, redacted) = redact_args(&args[..2]);
        assert!(!redacted);
        assert_eq!(out, args[..2]);
    }

    #[test]
    fn timestamps() {
        assert_eq!(iso_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_825_599); // 2000-02-29T11:59:59Z
        assert_eq!(iso_utc(t), "2000-02-29T11:59:59Z");
        assert_eq!(compact_utc(t), "20000229T115959Z");
        let sha = {
            let d = tmpdir("sha");
            let f = d.join("inv.ini");
            fs::write(&f, "abc").expect("write");
            let s = sha256_file(&f).expect("sha");
            let _ = fs::remove_dir_all(&d);
            s
        };
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
