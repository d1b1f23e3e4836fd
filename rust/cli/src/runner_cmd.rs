//! `metis-deploy up / down / restart / destroy / status / runs / replay`: the lifecycle
//! playbooks as one command each, through the metis-runner crate (operations table, progress,
//! run records). Validation and the plan come from metis-core, as for `validate` and `plan`.

use crate::input::{InventoryArgs, Ready};
use crate::printer::{Printer, Verbosity};
use crate::status::ExitStatus;
use metis_core::health::{self, Filter, RunOptions};
use metis_core::inventory::templates::Need;
use metis_core::plan::{self, HostPlan};
use metis_runner::ops::{self, Confirm, Operation, Params};
use metis_runner::record::{self, Outcome, StepStatus};
use metis_runner::run::{self, Playbooks, Request, Settings};
use metis_runner::{status, ui};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What every operation takes.
#[derive(clap::Args)]
pub struct Common {
    /// The playbooks' directory when the inventory has no `playbooks/` next to it (default:
    /// the installed collection's metis.node.<name>).
    #[arg(long, value_name = "DIR")]
    playbooks: Option<PathBuf>,
    /// ansible-playbook to run (default: the one on PATH).
    #[arg(long, value_name = "PATH", default_value = "ansible-playbook")]
    ansible_bin: String,
    /// Arguments for every ansible-playbook run, after `--` (-e, --limit, -v...).
    #[arg(last = true, value_name = "ANSIBLE_ARGS")]
    ansible_args: Vec<String>,
}

#[derive(clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    input: InventoryArgs,
    /// Start at this step (local_prepare, bootstrap, deploy, start, status).
    #[arg(long, value_name = "STEP", conflicts_with = "only")]
    from: Option<String>,
    /// Run this step only.
    #[arg(long, value_name = "STEP")]
    only: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    yes: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct SimpleArgs {
    #[command(flatten)]
    input: InventoryArgs,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    yes: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    input: InventoryArgs,
    /// The organisation's name (cluster_name), instead of typing it.
    #[arg(long, value_name = "NAME")]
    confirm: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    input: InventoryArgs,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Retry failing health checks until all pass or SECS seconds have passed.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    wait: Option<u64>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
pub struct RunsArgs {
    #[command(flatten)]
    input: InventoryArgs,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The run: its id (with -i, or from ./.metis-deploy) or its directory.
    #[arg(value_name = "RUN")]
    run: String,
    /// The inventory (default: the one the run used).
    #[arg(short = 'i', long = "inventory", value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Replay even though the inventory changed since the run.
    #[arg(long)]
    force: bool,
    /// For destroy, scale-in and restore: the name they ask for, typed again (the run's record
    /// does not keep the confirmation).
    #[arg(long, value_name = "NAME")]
    confirm: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    yes: bool,
    #[command(flatten)]
    common: Common,
}

fn verbosity(printer: &Printer) -> ui::Verbosity {
    match printer.verbosity() {
        Verbosity::Quiet => ui::Verbosity::Quiet,
        Verbosity::Normal => ui::Verbosity::Normal,
        Verbosity::Verbose => ui::Verbosity::Verbose,
    }
}

/// The operation of the runner's table (a unit test checks the CLI's names are all there).
fn operation(name: &str, printer: &Printer) -> Result<&'static Operation, ExitStatus> {
    ops::operation(name).ok_or_else(|| {
        printer.error(format_args!(
            "internal error: the runner's table has no operation `{name}`: nothing was run"
        ));
        ExitStatus::Usage
    })
}

/// The organisation's host plans with the controller's directories filled in, and its state
/// directory.
fn located_plans(ready: &Ready, input: &InventoryArgs) -> (Vec<HostPlan>, PathBuf) {
    let mut plans = plan::host_plans(&ready.org);
    input.locate(&mut plans);
    (plans, state_dir(ready, input))
}

/// The organisation's state directory on the controller (runs, bundles, backups), without
/// planning every host.
fn state_dir(ready: &Ready, input: &InventoryArgs) -> PathBuf {
    let dir = input.directory();
    let mut probe = plan::idle_plan(&ready.org, "");
    probe.locate(&dir);
    PathBuf::from(probe.options.state_dir.unwrap_or(dir))
}

struct Prepared {
    settings: Settings,
    plans: Vec<HostPlan>,
}

/// Validates through the core, finds ansible-playbook and the playbooks of `steps`.
fn prepare(
    input: &InventoryArgs,
    common: &Common,
    printer: &Printer,
    need: Need,
    steps: &[&str],
) -> Result<Prepared, ExitStatus> {
    let ready = input.organization(printer, "running", need)?;
    let Some(inventory) = absolute_inventory(input) else {
        return Err(ExitStatus::Usage);
    };
    let Some(ansible_playbook) = metis_runner::ansible::find_program(&common.ansible_bin) else {
        printer.error(format_args!(
            "{} not found{}: install Ansible (ansible-core) or give its path with --ansible-bin",
            common.ansible_bin,
            if common.ansible_bin.contains('/') {
                ""
            } else {
                " on PATH"
            }
        ));
        return Err(ExitStatus::Usage);
    };
    let playbooks = Playbooks::locate(&inventory, common.playbooks.as_deref());
    for s in steps {
        if let Err(e) = playbooks.check(s) {
            printer.error(e);
            return Err(ExitStatus::Usage);
        }
    }
    let (plans, state_dir) = located_plans(&ready, input);
    let settings = settings(
        &ready,
        inventory,
        state_dir,
        playbooks,
        ansible_playbook,
        common,
        printer,
    );
    Ok(Prepared { settings, plans })
}

/// The inventory file's absolute path (as given when it has none).
fn absolute_inventory(input: &InventoryArgs) -> Option<PathBuf> {
    let path = input.path()?;
    Some(std::path::absolute(path).unwrap_or_else(|_| path.clone()))
}

/// What the runner needs of the organisation and the command line to run playbooks.
fn settings(
    ready: &Ready,
    inventory: PathBuf,
    state_dir: PathBuf,
    playbooks: Playbooks,
    ansible_playbook: PathBuf,
    common: &Common,
    printer: &Printer,
) -> Settings {
    Settings {
        inventory,
        cluster: ready.org.cluster_name.clone(),
        state_dir,
        playbooks,
        ansible_playbook,
        ansible_args: common.ansible_args.clone(),
        hosts_total: ready.org.hosts().len(),
        verbosity: verbosity(printer),
    }
}

/// Asks `question` on the terminal; true for y/yes.
fn ask(question: &str) -> bool {
    eprint!("{question} ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(_) => matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
        Err(_) => false,
    }
}

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Shows the plan and asks for the operation's confirmation. `Err` when the operator said no.
fn confirm(
    op: &Operation,
    prepared: &Prepared,
    steps: &[&str],
    yes: bool,
    given_name: Option<&str>,
    params: &mut Params,
    printer: &Printer,
) -> Result<(), ExitStatus> {
    let cluster = &prepared.settings.cluster;
    printer.info(metis_runner::plan_text(op, cluster, &prepared.plans, steps).trim_end());
    match op.confirm {
        Confirm::Never => Ok(()),
        Confirm::Plan => {
            if yes || !interactive() || ask(&format!("Run {} on {cluster}? [y/N]", op.name)) {
                Ok(())
            } else {
                printer.error("cancelled: nothing was run");
                Err(ExitStatus::Failure)
            }
        }
        Confirm::ClusterName => typed(
            op,
            cluster,
            "the organisation's name",
            given_name,
            params,
            printer,
        ),
        Confirm::Typed(param) => {
            let Some(expected) = params.get(param).cloned() else {
                printer.error(format_args!("{} needs --{param}", op.name));
                return Err(ExitStatus::Usage);
            };
            typed(
                op,
                &expected,
                &format!("the {param}"),
                given_name,
                params,
                printer,
            )
        }
    }
}

/// A destructive operation goes on only when the operator typed `expected` (or gave it with
/// `--confirm`); the typed text becomes the run's confirmation parameter.
fn typed(
    op: &Operation,
    expected: &str,
    what: &str,
    given_name: Option<&str>,
    params: &mut Params,
    printer: &Printer,
) -> Result<(), ExitStatus> {
    let typed = match given_name {
        Some(n) => n.to_owned(),
        None if interactive() => {
            eprint!(
                "{} {}. Type {what} ({expected}) to go on: ",
                op.name,
                consequence(op)
            );
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
            line.trim().to_owned()
        }
        None => {
            printer.error(format_args!(
                "{} needs {what}: {}; run again with --confirm {expected}",
                op.name,
                nothing_done(op)
            ));
            return Err(ExitStatus::Usage);
        }
    };
    if typed != expected {
        printer.error(format_args!(
            "`{}` is not {what} (`{expected}`): {}; run again with --confirm {expected}",
            metis_core::diag::printable(&typed),
            nothing_done(op)
        ));
        return Err(ExitStatus::Usage);
    }
    params.insert(ops::CONFIRMATION.to_owned(), typed);
    Ok(())
}

/// What the refusal of a destructive operation says was left alone.
fn nothing_done(op: &Operation) -> &'static str {
    match op.name {
        "restore" => "nothing was restored",
        _ => "nothing was removed",
    }
}

/// What a destructive operation does, for its question.
fn consequence(op: &Operation) -> &'static str {
    match op.name {
        "scale-in" => "removes the host's services, data and registrations",
        "restore" => {
            "replaces the admin database, the carrier's p2p key and the consul KV keys (after a backup of them)"
        }
        _ => "removes the organisation's data, database and deployed files from every host",
    }
}

fn finish(report: Result<run::Report, run::RunError>, printer: &Printer) -> ExitStatus {
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            printer.error(e);
            return ExitStatus::Failure;
        }
    };
    let s = &report.state;
    match s.outcome {
        Outcome::Succeeded => {
            let ran = s
                .steps
                .iter()
                .filter(|st| st.status == StepStatus::Succeeded)
                .count();
            printer.info(format_args!(
                "{} of {}: {ran} step(s) succeeded in {:.1} s (run {})",
                s.operation,
                s.cluster,
                s.duration_ms as f64 / 1000.0,
                s.id
            ));
            ExitStatus::Success
        }
        Outcome::Interrupted => {
            printer.error(run::failure_text(&report).trim_end());
            ExitStatus::Interrupted
        }
        Outcome::Failed | Outcome::Running => {
            printer.error(run::failure_text(&report).trim_end());
            ExitStatus::Failure
        }
    }
}

/// The step `flag` (`--from`, `--only`) names, when it is given.
fn step_index(
    op: &Operation,
    name: Option<&str>,
    flag: &str,
    printer: &Printer,
) -> Result<Option<usize>, ExitStatus> {
    let find = |name: &str| {
        op.step_index(name).ok_or_else(|| {
            printer.error(format_args!(
                "{flag} {}: no such step of {} (one of: {})",
                metis_core::diag::printable(name),
                op.name,
                op.step_names().join(", ")
            ));
            ExitStatus::Usage
        })
    };
    name.map(find).transpose()
}

pub fn up(args: UpArgs, printer: &Printer) -> ExitStatus {
    let op = match operation("up", printer) {
        Ok(op) => op,
        Err(s) => return s,
    };
    let from = match step_index(op, args.from.as_deref(), "--from", printer) {
        Ok(i) => i.unwrap_or(0),
        Err(s) => return s,
    };
    let only = match step_index(op, args.only.as_deref(), "--only", printer) {
        Ok(i) => i,
        Err(s) => return s,
    };
    let req = Request {
        operation: op,
        params: Params::new(),
        from,
        only,
        replay_of: None,
    };
    let answer = Answer {
        yes: args.yes,
        given: None,
    };
    run_request(&args.input, &args.common, req, Some(answer), None, printer)
}

/// How the operator answered the confirmation on the command line: `-y`, `--confirm NAME`.
#[derive(Clone, Copy)]
struct Answer<'a> {
    yes: bool,
    given: Option<&'a str>,
}

/// The steps a request runs: `only`, else every step from `from`.
fn requested_steps(req: &Request) -> Vec<&'static str> {
    let names = req.operation.step_names().into_iter().enumerate();
    names
        .filter(|(i, _)| req.only.map_or(*i >= req.from, |o| o == *i))
        .map(|(_, s)| s)
        .collect()
}

/// Validates and finds the playbooks of the request's steps, prints `note`, shows the plan and
/// asks what the operation asks (`answer`; none: no plan shown, nothing asked), then runs the
/// request and reports how it ended.
fn run_request(
    input: &InventoryArgs,
    common: &Common,
    mut req: Request,
    answer: Option<Answer<'_>>,
    note: Option<String>,
    printer: &Printer,
) -> ExitStatus {
    let op = req.operation;
    let steps = requested_steps(&req);
    let prepared = match prepare(input, common, printer, Need::Everything, &steps) {
        Ok(p) => p,
        Err(s) => return s,
    };
    if let Some(note) = note {
        printer.info(note);
    }
    if let Some(a) = answer {
        if let Err(s) = confirm(
            op,
            &prepared,
            &steps,
            a.yes,
            a.given,
            &mut req.params,
            printer,
        ) {
            return s;
        }
    }
    finish(run::execute(&prepared.settings, &req), printer)
}

/// Validates, shows the plan, asks what the operation asks, then runs all its steps.
fn run_op(
    name: &str,
    input: &InventoryArgs,
    common: &Common,
    yes: bool,
    given: Option<&str>,
    params: Params,
    printer: &Printer,
) -> ExitStatus {
    let op = match operation(name, printer) {
        Ok(op) => op,
        Err(s) => return s,
    };
    let req = Request {
        operation: op,
        params,
        from: 0,
        only: None,
        replay_of: None,
    };
    run_request(
        input,
        common,
        req,
        Some(Answer { yes, given }),
        None,
        printer,
    )
}

/// `down`, `restart`, `reload`, `backup`: the operation's steps, the plan confirmed.
pub fn simple(name: &str, args: SimpleArgs, printer: &Printer) -> ExitStatus {
    run_op(
        name,
        &args.input,
        &args.common,
        args.yes,
        None,
        Params::new(),
        printer,
    )
}

pub fn destroy(args: DestroyArgs, printer: &Printer) -> ExitStatus {
    run_op(
        "destroy",
        &args.input,
        &args.common,
        false,
        args.confirm.as_deref(),
        Params::new(),
        printer,
    )
}

#[derive(clap::Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    input: InventoryArgs,
    /// The new artifact bundle: a directory or .tar.gz on this machine, or an https URL.
    #[arg(long, value_name = "PATH|URL", required_unless_present = "rollback")]
    bundle: Option<String>,
    /// Return every instance to the artifacts it ran before the last upgrade.
    #[arg(long, conflicts_with = "bundle")]
    rollback: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    yes: bool,
    #[command(flatten)]
    common: Common,
}

pub fn upgrade(args: UpgradeArgs, printer: &Printer) -> ExitStatus {
    let (name, params) = match args.bundle {
        Some(b) => {
            // A local bundle is read by local_prepare on this machine: pass it absolute.
            let b = if ops::is_url(&b) {
                if ops::url_has_credentials(&b) {
                    printer.error(
                        "--bundle: the URL carries credentials (user:password@): they would be recorded with the run and seen on command lines; give a URL without them (the server can check a client certificate, or fetch the bundle yourself and give its path)",
                    );
                    return ExitStatus::Usage;
                }
                b
            } else {
                std::path::absolute(&b)
                    .map(|p| p.display().to_string())
                    .unwrap_or(b)
            };
            ("upgrade", Params::from([(ops::BUNDLE.to_owned(), b)]))
        }
        None => ("rollback", Params::new()),
    };
    run_op(
        name,
        &args.input,
        &args.common,
        args.yes,
        None,
        params,
        printer,
    )
}

#[derive(clap::Args)]
pub struct ScaleInArgs {
    #[command(flatten)]
    input: InventoryArgs,
    /// The host to remove from the organisation (its inventory name).
    #[arg(long, value_name = "HOST")]
    host: String,
    /// The host again, instead of typing it.
    #[arg(long, value_name = "HOST")]
    confirm: Option<String>,
    #[command(flatten)]
    common: Common,
}

pub fn scale_in(args: ScaleInArgs, printer: &Printer) -> ExitStatus {
    let params = Params::from([("host".to_owned(), args.host)]);
    run_op(
        "scale-in",
        &args.input,
        &args.common,
        false,
        args.confirm.as_deref(),
        params,
        printer,
    )
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    input: InventoryArgs,
    /// The archive a backup wrote (under the organisation's backups directory); after the
    /// inventory: `restore INVENTORY ARCHIVE`.
    #[arg(value_name = "ARCHIVE")]
    file: Option<PathBuf>,
    /// The organisation's name (cluster_name), instead of typing it.
    #[arg(long, value_name = "NAME")]
    confirm: Option<String>,
    #[command(flatten)]
    common: Common,
}

pub fn restore(args: RestoreArgs, printer: &Printer) -> ExitStatus {
    // Optional for clap (the inventory before it is an optional positional), required here.
    let Some(file) = args.file else {
        printer.error("restore needs the backup archive: metis-deploy restore INVENTORY ARCHIVE");
        return ExitStatus::Usage;
    };
    let file = std::path::absolute(&file).unwrap_or(file);
    if !file.is_file() {
        printer.error(format_args!(
            "{}: no such backup archive; `metis-deploy backup` prints the path of the one it writes",
            file.display()
        ));
        return ExitStatus::Usage;
    }
    let params = Params::from([("file".to_owned(), file.display().to_string())]);
    run_op(
        "restore",
        &args.input,
        &args.common,
        false,
        args.confirm.as_deref(),
        params,
        printer,
    )
}

pub fn status_cmd(args: StatusArgs, printer: &Printer) -> ExitStatus {
    let ready = match args
        .input
        .organization(printer, "checking", Need::AllButSecrets)
    {
        Ok(r) => r,
        Err(s) => return s,
    };
    let (plans, state_dir) = located_plans(&ready, &args.input);
    let inventory = absolute_inventory(&args.input).unwrap_or_default();
    let query = match metis_runner::ansible::find_program(&args.common.ansible_bin) {
        None => {
            printer.info(format_args!(
                "warning: {} not found: unit states not read (install Ansible or give --ansible-bin)",
                args.common.ansible_bin
            ));
            Default::default()
        }
        Some(ansible_playbook) => {
            let playbooks = Playbooks::locate(&inventory, args.common.playbooks.as_deref());
            let settings = settings(
                &ready,
                inventory,
                state_dir,
                playbooks,
                ansible_playbook,
                &args.common,
                printer,
            );
            let result = status::scratch_dir()
                .map_err(|e| format!("cannot create a scratch directory: {e}"))
                .and_then(|work| {
                    let r = status::query_units(&settings, &plans, &work);
                    if r.is_err() {
                        printer.verbose(format_args!(
                            "unit query's output: {}",
                            work.join("units.log").display()
                        ));
                    } else {
                        let _ = std::fs::remove_dir_all(&work);
                    }
                    r
                });
            match result {
                Ok(r) => r,
                Err(e) if e == "interrupted" => return ExitStatus::Interrupted,
                Err(e) => {
                    printer.info(format_args!("warning: unit states not read: {e}"));
                    Default::default()
                }
            }
        }
    };
    // Ctrl-C during the health checks ends the command, as before the unit query.
    metis_runner::ansible::restore_default_signals();
    let checks = health::plan(&ready.org, &Filter::default());
    let report = health::run(
        &checks,
        RunOptions {
            timeout: health::DEFAULT_CHECK_TIMEOUT,
            wait: args.wait.map(Duration::from_secs),
        },
    );
    let st = status::assemble(&ready.org.cluster_name, &plans, query, &report);
    let printed = match args.format {
        Format::Table => printer.out(&status::render(&st)),
        Format::Json => printer.json(&st),
    };
    match printed {
        Ok(()) => ExitStatus::from_ok(st.healthy),
        Err(s) => s,
    }
}

pub fn runs(args: RunsArgs, printer: &Printer) -> ExitStatus {
    let ready = match args
        .input
        .organization(printer, "listing runs", Need::AllButSecrets)
    {
        Ok(r) => r,
        Err(s) => return s,
    };
    let state_dir = state_dir(&ready, &args.input);
    let mut states = Vec::new();
    for r in record::list_runs(&state_dir) {
        match r {
            Ok((_, s)) => states.push(s),
            Err(e) => printer.info(format_args!("warning: {e}")),
        }
    }
    if args.format == Format::Json {
        return match printer.json(&states) {
            Ok(()) => ExitStatus::Success,
            Err(s) => s,
        };
    }
    if states.is_empty() {
        printer.info(format_args!(
            "no runs yet under {}",
            record::runs_dir(&state_dir).display()
        ));
        return ExitStatus::Success;
    }
    let header = [
        "Run",
        "Operation",
        "Outcome",
        "Steps",
        "Started",
        "Duration",
        "Stopped at",
    ];
    let rows: Vec<[String; 7]> = states
        .iter()
        .map(|s| {
            let done = s
                .steps
                .iter()
                .filter(|st| st.status == StepStatus::Succeeded)
                .count();
            let ran = s
                .steps
                .iter()
                .filter(|st| st.status != StepStatus::Skipped)
                .count();
            let stopped = s
                .steps
                .iter()
                .find(|st| matches!(st.status, StepStatus::Failed | StepStatus::Interrupted))
                .map_or("-".to_owned(), |st| st.name.clone());
            [
                s.id.clone(),
                s.operation.clone(),
                s.outcome.as_str().to_owned(),
                format!("{done}/{ran}"),
                s.started.clone(),
                format!("{:.1} s", s.duration_ms as f64 / 1000.0),
                stopped,
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: &[String; 7]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            l.push_str(&format!("{c:<w$}  ", w = width[i]));
        }
        format!("{}\n", l.trim_end())
    };
    let mut out = line(&header.map(String::from));
    out.push_str(&line(&width.map(|w| "-".repeat(w))));
    for r in &rows {
        out.push_str(&line(r));
    }
    match printer.out(&out) {
        Ok(()) => ExitStatus::Success,
        Err(s) => s,
    }
}

/// The run directory named by `run`: a directory, or an id under the inventory's state
/// directory, or under `./.metis-deploy/*/runs/`.
fn find_run(run: &str, state_dir: Option<&Path>) -> Option<PathBuf> {
    let p = PathBuf::from(run);
    if p.join(record::STATE_FILE).is_file() {
        return Some(p);
    }
    if run.contains('/') || run.is_empty() || run.starts_with('.') {
        return None;
    }
    if let Some(d) = state_dir {
        let c = record::runs_dir(d).join(run);
        return c.join(record::STATE_FILE).is_file().then_some(c);
    }
    let base = Path::new(metis_core::model::defaults::STATE_DIR_NAME);
    std::fs::read_dir(base)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| record::runs_dir(&e.path()).join(run))
        .find(|c| c.join(record::STATE_FILE).is_file())
}

pub fn replay(args: ReplayArgs, printer: &Printer) -> ExitStatus {
    // With -i: the run is looked up under that inventory's state directory.
    let given = args.inventory.clone().map(InventoryArgs::from_path);
    let state_dir = match &given {
        Some(input) => match input.organization(printer, "replaying", Need::AllButSecrets) {
            Ok(ready) => Some(state_dir(&ready, input)),
            Err(s) => return s,
        },
        None => None,
    };
    let Some(dir) = find_run(&args.run, state_dir.as_deref()) else {
        printer.error(format_args!(
            "run {} not found{}: give its id with -i INVENTORY, or its directory (metis-deploy runs INVENTORY lists them)",
            metis_core::diag::printable(&args.run),
            state_dir
                .as_ref()
                .map(|d| format!(" under {}", record::runs_dir(d).display()))
                .unwrap_or_default()
        ));
        return ExitStatus::Usage;
    };
    let old = match record::read_state(&dir) {
        Ok(s) => s,
        Err(e) => {
            printer.error(e);
            return ExitStatus::Usage;
        }
    };
    let Some(op) = ops::operation(&old.operation) else {
        printer.error(format_args!(
            "run {} is a `{}`, which this metis-deploy does not know",
            old.id, old.operation
        ));
        return ExitStatus::Usage;
    };
    let Some(from) = old.first_unfinished() else {
        printer.info(format_args!(
            "run {} {}: nothing to replay",
            old.id,
            old.outcome.as_str()
        ));
        return ExitStatus::Success;
    };
    let input = given.unwrap_or_else(|| InventoryArgs::from_path(PathBuf::from(&old.inventory)));
    let inv_path = input.path().cloned().unwrap_or_default();
    match record::sha256_file(&inv_path) {
        Ok(sum) if sum == old.inventory_sha256 => {}
        Ok(sum) if args.force => printer.info(format_args!(
            "warning: the inventory changed since run {} (sha256 {} -> {}); replaying anyway (--force)",
            old.id, old.inventory_sha256, sum
        )),
        Ok(sum) => {
            printer.error(format_args!(
                "the inventory {} changed since run {} (sha256 {} then, {} now): nothing was run; review the change, then replay with --force, or start again with metis-deploy {}",
                inv_path.display(), old.id, old.inventory_sha256, sum, old.operation
            ));
            return ExitStatus::Usage;
        }
        Err(e) => {
            printer.error(e);
            return ExitStatus::Usage;
        }
    }
    let mut common = args.common;
    if common.ansible_args.is_empty() {
        if old.ansible_args_redacted {
            printer.error(format_args!(
                "run {} was given arguments that set secrets, which are not recorded: pass them again: metis-deploy replay {} -- ARGS...",
                old.id, old.id
            ));
            return ExitStatus::Usage;
        }
        common.ansible_args = old.ansible_args.clone();
    }
    let note = format!(
        "replaying run {} ({} {}) from step {}",
        old.id,
        old.operation,
        old.outcome.as_str(),
        op.steps[from].playbook
    );
    let mut params: Params = old.params.clone();
    // A destructive operation is confirmed again: the recorded confirmation does not count.
    params.remove(ops::CONFIRMATION);
    let req = Request {
        operation: op,
        params,
        from,
        // A run made with --only: its replay runs that step only.
        only: old.only.as_ref().map(|_| from),
        replay_of: Some(old.id.clone()),
    };
    let answer = Answer {
        yes: args.yes,
        given: args.confirm.as_deref(),
    };
    let answer = (op.confirm != Confirm::Never).then_some(answer);
    run_request(&input, &common, req, answer, Some(note), printer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_is_in_the_table() {
        for name in [
            "up", "down", "restart", "destroy", "status", "upgrade", "rollback", "reload",
            "scale-in", "backup", "restore",
        ] {
            assert!(ops::operation(name).is_some(), "{name}");
        }
    }

    #[test]
    fn find_run_rejects_paths_that_are_not_runs() {
        assert_eq!(find_run("../etc", None), None);
        assert_eq!(find_run("/nonexistent/run", None), None);
        assert_eq!(find_run("", Some(Path::new("/nonexistent"))), None);
    }
}
