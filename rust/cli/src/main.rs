//! The `metis-deploy` command: parses arguments, calls metis-core, prints. No logic of its own.

mod argument_specs_cmd;
mod health_cmd;
mod input;
mod inventory_cmd;
mod lab_cmd;
mod plan_cmd;
mod printer;
mod render_cmd;
mod runner_cmd;
mod status;
mod validate_cmd;
mod variables_cmd;

use clap::{Parser, Subcommand};
use printer::{Printer, Verbosity};
use status::ExitStatus;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "metis-deploy",
    version,
    about = "Deploy and check a Metis organisation node from its Ansible inventory"
)]
struct Cli {
    /// Print results and errors only (no warnings, no notes).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also print what was done and how long it took.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check an inventory: topology, variables, ports, addresses, secrets.
    Validate(validate_cmd::Args),
    /// Print the inventory as `ansible-inventory --list` does.
    Inventory(inventory_cmd::Args),
    /// Render every config file and unit of the organisation under --out DIR/<host>/.
    Render(render_cmd::Args),
    /// Check every service of the organisation at protocol level, concurrently.
    Health(health_cmd::Args),
    /// Show what each host runs: services in start order, units, commands, directories, files,
    /// artifacts and ports (the plan the roles apply).
    Plan(plan_cmd::Args),
    /// List every inventory variable metis-deploy reads (type, default, group, meaning).
    Variables(variables_cmd::Args),
    /// Pretend hosts with systemd on this machine, to rehearse a deploy (Linux, root).
    Lab(lab_cmd::Args),
    /// Deploy and start the organisation: validate, show the plan, then local_prepare, bootstrap,
    /// deploy, start and status, with live progress and a resumable run record.
    Up(runner_cmd::UpArgs),
    /// Stop every service (the stop playbook).
    Down(runner_cmd::SimpleArgs),
    /// Restart every service, one host at a time (the restart playbook).
    Restart(runner_cmd::SimpleArgs),
    /// Each service's ports, unit state, health and since when; exit 1 when a check fails.
    Status(runner_cmd::StatusArgs),
    /// Remove the organisation from its hosts (the cleanup playbook); asks for its name.
    Destroy(runner_cmd::DestroyArgs),
    /// Upgrade to a new artifact bundle, one instance at a time behind health gates; a failed
    /// instance is rolled back (--rollback: the whole organisation back to its previous version).
    Upgrade(runner_cmd::UpgradeArgs),
    /// Apply an inventory change: re-render, restart only what changed, one instance at a time.
    Reload(runner_cmd::SimpleArgs),
    /// Remove one data or compute host (or a consul server, keeping quorum); asks for the host.
    ScaleIn(runner_cmd::ScaleInArgs),
    /// Back up the admin database, the carrier's p2p key and consul's KV to a 0600 archive.
    Backup(runner_cmd::SimpleArgs),
    /// Bring a backup archive back into the deployed organisation.
    Restore(runner_cmd::RestoreArgs),
    /// List the past runs of up, down, restart, destroy and the day-2 operations.
    Runs(runner_cmd::RunsArgs),
    /// Run a failed or interrupted run again from its first unfinished step.
    Replay(runner_cmd::ReplayArgs),
    /// Write (or check) the roles' meta/argument_specs.yml from the variable table.
    #[command(hide = true)]
    ArgumentSpecs(argument_specs_cmd::Args),
}

/// A subcommand's arguments parsed alone, as `metis-deploy <command> ARGV...` gives them (the
/// subcommands' unit tests).
#[cfg(test)]
fn parse_args<A: clap::Args>(command: &'static str, argv: &[&str]) -> Result<A, clap::Error> {
    let cmd = A::augment_args(clap::Command::new(command));
    let matches = cmd.try_get_matches_from(std::iter::once(command).chain(argv.iter().copied()))?;
    A::from_arg_matches(&matches)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let status = if e.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Success
            };
            return status.into();
        }
    };
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    let printer = Printer::new(verbosity);
    let status = match cli.command {
        Command::Validate(args) => validate_cmd::run(args, &printer),
        Command::Inventory(args) => inventory_cmd::run(args, &printer),
        Command::Render(args) => render_cmd::run(args, &printer),
        Command::Health(args) => health_cmd::run(args, &printer),
        Command::Plan(args) => plan_cmd::run(args, &printer),
        Command::Variables(args) => variables_cmd::run(args, &printer),
        Command::Lab(args) => lab_cmd::run(args),
        Command::Up(args) => runner_cmd::up(args, &printer),
        Command::Down(args) => runner_cmd::simple("down", args, &printer),
        Command::Restart(args) => runner_cmd::simple("restart", args, &printer),
        Command::Status(args) => runner_cmd::status_cmd(args, &printer),
        Command::Destroy(args) => runner_cmd::destroy(args, &printer),
        Command::Upgrade(args) => runner_cmd::upgrade(args, &printer),
        Command::Reload(args) => runner_cmd::simple("reload", args, &printer),
        Command::ScaleIn(args) => runner_cmd::scale_in(args, &printer),
        Command::Backup(args) => runner_cmd::simple("backup", args, &printer),
        Command::Restore(args) => runner_cmd::restore(args, &printer),
        Command::Runs(args) => runner_cmd::runs(args, &printer),
        Command::Replay(args) => runner_cmd::replay(args, &printer),
        Command::ArgumentSpecs(args) => argument_specs_cmd::run(args),
    };
    status.into()
}
