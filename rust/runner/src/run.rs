//! Runs an operation's steps one after the other, recording each in the run directory and
//! stopping at the first that fails.

use crate::ansible::{self, End, ExecError, Interrupts, Invocation};
use crate::events::Event;
use crate::ops::{Operation, Params};
use crate::record::{
    self, Failure, Outcome, RecordError, RunState, StepRecord, StepStatus, STATE_VERSION,
};
use crate::ui::{Ui, Verbosity};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// Where the playbooks come from (SPEC §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Playbooks {
    /// `<dir>/<name>.yml` (the inventory's `playbooks/` directory, or `--playbooks DIR`).
    Dir(PathBuf),
    /// The installed collection's `metis.node.<name>`.
    Collection,
}

impl Playbooks {
    /// `<inventory dir>/playbooks` when it exists, else `explicit`, else the collection.
    pub fn locate(inventory: &Path, explicit: Option<&Path>) -> Playbooks {
        let next_to = inventory
            .parent()
            .map(|d| d.join("playbooks"))
            .filter(|d| d.is_dir());
        match (next_to, explicit) {
            (Some(d), _) => Playbooks::Dir(d),
            (None, Some(d)) => Playbooks::Dir(d.to_path_buf()),
            (None, None) => Playbooks::Collection,
        }
    }

    pub fn playbook(&self, name: &str) -> OsString {
        match self {
            Playbooks::Dir(d) => d.join(format!("{name}.yml")).into_os_string(),
            Playbooks::Collection => format!("metis.node.{name}").into(),
        }
    }

    /// A missing playbook file, with what to do.
    pub fn check(&self, name: &str) -> Result<(), String> {
        match self {
            Playbooks::Dir(d) if !d.join(format!("{name}.yml")).is_file() => Err(format!(
                "playbook {name}.yml not found in {} (give the repository's playbooks directory with --playbooks DIR, or install the metis.node collection)",
                d.display()
            )),
            _ => Ok(()),
        }
    }

    /// `<dir>/collections` when it exists: put first on the collections path, so that the
    /// events callback is found with these playbooks.
    pub fn collections(&self) -> Option<PathBuf> {
        match self {
            Playbooks::Dir(d) => Some(d.join("collections")).filter(|c| c.is_dir()),
            Playbooks::Collection => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Playbooks::Dir(d) => d.display().to_string(),
            Playbooks::Collection => "the installed collection metis.node".to_owned(),
        }
    }
}

/// What every run of an organisation shares.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Absolute path of the inventory.
    pub inventory: PathBuf,
    pub cluster: String,
    /// The controller's directory of the organisation (the core's plan `options.state_dir`).
    pub state_dir: PathBuf,
    pub playbooks: Playbooks,
    /// ansible-playbook.
    pub ansible_playbook: PathBuf,
    /// Passed through to every ansible-playbook (after `--`).
    pub ansible_args: Vec<String>,
    pub hosts_total: usize,
    pub verbosity: Verbosity,
}

/// Which steps of an operation to run.
#[derive(Clone, Debug)]
pub struct Request {
    pub operation: &'static Operation,
    pub params: Params,
    /// Skip the steps before this one.
    pub from: usize,
    /// Run this step only.
    pub only: Option<usize>,
    /// The run being replayed: steps before `from` succeeded there.
    pub replay_of: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Param(#[from] crate::ops::MissingParam),
    #[error("cannot start the runner: {0}")]
    Runtime(std::io::Error),
}

/// A finished run.
#[derive(Debug)]
pub struct Report {
    pub dir: PathBuf,
    pub state: RunState,
}

/// Runs the request's steps. Steps before `from` (or other than `only`) are recorded as
/// skipped. Returns the run's record; its `outcome` says how it ended.
pub fn execute(settings: &Settings, req: &Request) -> Result<Report, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(execute_async(settings, req))
}

async fn execute_async(settings: &Settings, req: &Request) -> Result<Report, RunError> {
    let mut interrupts = Interrupts::install().map_err(RunError::Runtime)?;
    let op = req.operation;
    // Every step's variables first: a missing parameter stops before anything runs.
    let mut vars = Vec::with_capacity(op.steps.len());
    for s in op.steps {
        vars.push(s.extra_vars(op, &req.params)?);
    }
    let started_at = SystemTime::now();
    let clock = Instant::now();
    let (id, dir) = record::create_run_dir(&settings.state_dir, op.name, started_at)?;
    let (ansible_args, redacted) = record::redact_args(&settings.ansible_args);
    let count = op.steps.len();
    let mut state = RunState {
        version: STATE_VERSION,
        id: id.clone(),
        operation: op.name.to_owned(),
        cluster: settings.cluster.clone(),
        inventory: settings.inventory.display().to_string(),
        inventory_sha256: record::sha256_file(&settings.inventory)?,
        playbooks: settings.playbooks.describe(),
        ansible_args,
        ansible_args_redacted: redacted,
        params: req.params.clone(),
        replay_of: req.replay_of.clone(),
        only: req.only.map(|i| op.steps[i].playbook.to_owned()),
        user: record::user_name(),
        started: record::iso_utc(started_at),
        ended: None,
        duration_ms: 0,
        outcome: Outcome::Running,
        steps: op
            .steps
            .iter()
            .zip(&vars)
            .enumerate()
            .map(|(i, (s, v))| StepRecord {
                name: s.playbook.to_owned(),
                playbook: settings
                    .playbooks
                    .playbook(s.playbook)
                    .to_string_lossy()
                    .into_owned(),
                extra_vars: v.iter().cloned().collect(),
                status: StepStatus::Pending,
                note: None,
                started: None,
                duration_ms: 0,
                exit_code: None,
                log: format!("{:02}-{}.log", i + 1, s.playbook),
                events: format!("{:02}-{}.events.jsonl", i + 1, s.playbook),
                hosts: BTreeMap::new(),
                failures: Vec::new(),
            })
            .collect(),
    };
    record::write_state(&dir, &state)?;
    let mut ui = Ui::new(settings.verbosity, settings.hosts_total);
    ui.line(&format!(
        "run {id} ({} of {}): records in {}",
        op.name,
        settings.cluster,
        dir.display()
    ));
    let mut outcome = Outcome::Succeeded;
    for (i, step_vars) in vars.iter().enumerate() {
        let skip = match req.only {
            Some(only) if only != i => Some(format!("--only {}", op.steps[only].playbook)),
            Some(_) => None,
            None if i < req.from => Some(match &req.replay_of {
                Some(r) => format!("succeeded in run {r}"),
                None => format!("--from {}", op.steps[req.from].playbook),
            }),
            None => None,
        };
        if let Some(why) = skip {
            ui.step_skipped(i, count, op.steps[i].playbook, &why);
            state.steps[i].status = StepStatus::Skipped;
            state.steps[i].note = Some(why);
            continue;
        }
        if interrupts.poll_now().await {
            outcome = Outcome::Interrupted;
            break;
        }
        state.steps[i].status = StepStatus::Running;
        state.steps[i].started = Some(record::iso_utc(SystemTime::now()));
        record::write_state(&dir, &state)?;
        ui.step_start(i, count, op.steps[i].playbook);
        let step_clock = Instant::now();
        let result = run_step(
            settings,
            &dir,
            &mut state.steps[i],
            step_vars,
            &mut interrupts,
            &mut ui,
        )
        .await;
        let step = &mut state.steps[i];
        step.duration_ms = step_clock.elapsed().as_millis() as u64;
        match result {
            Ok(End::Exited(0)) => {
                step.exit_code = Some(0);
                step.status = StepStatus::Succeeded;
            }
            Ok(End::Exited(code)) => {
                step.exit_code = Some(code);
                step.status = StepStatus::Failed;
                outcome = Outcome::Failed;
            }
            Ok(End::Interrupted) => {
                step.status = StepStatus::Interrupted;
                outcome = Outcome::Interrupted;
            }
            Err(e) => {
                step.status = StepStatus::Failed;
                step.note = Some(e.to_string());
                outcome = Outcome::Failed;
            }
        }
        ui.step_end(step);
        record::write_state(&dir, &state)?;
        if outcome != Outcome::Succeeded {
            break;
        }
    }
    state.outcome = outcome;
    state.ended = Some(record::iso_utc(SystemTime::now()));
    state.duration_ms = clock.elapsed().as_millis() as u64;
    record::write_state(&dir, &state)?;
    record::append_audit(&settings.state_dir, &state)?;
    Ok(Report { dir, state })
}

async fn run_step(
    settings: &Settings,
    dir: &Path,
    step: &mut StepRecord,
    vars: &[(String, String)],
    interrupts: &mut Interrupts,
    ui: &mut Ui,
) -> Result<End, ExecError> {
    let events = dir.join(&step.events);
    let mut args: Vec<OsString> = vec!["-i".into(), settings.inventory.clone().into_os_string()];
    args.push(settings.playbooks.playbook(&step.name));
    if !vars.is_empty() {
        let obj: serde_json::Map<String, serde_json::Value> = vars
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        args.push("-e".into());
        args.push(serde_json::Value::Object(obj).to_string().into());
    }
    args.extend(settings.ansible_args.iter().map(OsString::from));
    let inv = Invocation {
        program: settings.ansible_playbook.clone(),
        args,
        env: ansible::callback_env(&events, settings.playbooks.collections().as_deref(), false),
        log: dir.join(&step.log),
        events,
    };
    let mut failures: Vec<Failure> = Vec::new();
    let mut hosts = BTreeMap::new();
    let end = ansible::run(&inv, interrupts, |e| match e {
        Ok(ev) => {
            ui.event(&ev);
            match ev {
                Event::HostResult(r) if r.is_failure() => failures.push(Failure {
                    host: r.host,
                    task: r.task,
                    status: r.status.as_str().to_owned(),
                    msg: r.msg.unwrap_or_default(),
                }),
                Event::Stats { hosts: h } => hosts = h,
                _ => {}
            }
        }
        Err(bad) => ui.line(&format!(
            "warning: an event line could not be read ({}): {}",
            bad.error, bad.line
        )),
    })
    .await;
    step.failures = failures;
    step.hosts = hosts;
    end
}

/// What to tell the operator about a run that did not succeed: the failing step, its hosts,
/// tasks and messages, the full log and the command that resumes.
pub fn failure_text(report: &Report) -> String {
    use std::fmt::Write;
    let s = &report.state;
    let mut out = String::new();
    let Some(step) = s
        .steps
        .iter()
        .find(|st| matches!(st.status, StepStatus::Failed | StepStatus::Interrupted))
    else {
        return out;
    };
    let verb = if step.status == StepStatus::Interrupted {
        "was interrupted"
    } else {
        "failed"
    };
    let code = step
        .exit_code
        .map(|c| format!(" (ansible-playbook exit {c})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} of {}: step {} {verb}{code} after {:.1} s",
        s.operation,
        s.cluster,
        step.name,
        step.duration_ms as f64 / 1000.0
    );
    if let Some(note) = &step.note {
        let _ = writeln!(out, "  {note}");
    }
    for f in step.failures.iter().take(20) {
        let msg = f.msg.lines().take(6).collect::<Vec<_>>().join("\n      ");
        let _ = writeln!(
            out,
            "  {} {} in task \"{}\": {msg}",
            f.host, f.status, f.task
        );
    }
    if step.failures.len() > 20 {
        let _ = writeln!(out, "  ... and {} more", step.failures.len() - 20);
    }
    let _ = writeln!(out, "  full log: {}", report.dir.join(&step.log).display());
    let _ = writeln!(
        out,
        "  resume:   metis-deploy replay {} -i {}",
        s.id, s.inventory
    );
    out
}
