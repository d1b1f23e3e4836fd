//! The `metis-deploy` command: parses arguments, calls metis-core, prints. No logic of its own.

mod health_cmd;
mod input;
mod inventory_cmd;
mod lab_cmd;
mod render_cmd;
mod validate_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit codes shared by every subcommand.
pub mod exit {
    /// Success: valid, healthy, written.
    pub const OK: u8 = 0;
    /// The inventory has errors, or a service is unhealthy.
    pub const FAILED: u8 = 1;
    /// Usage error or unreadable input.
    pub const USAGE: u8 = 2;
}

#[derive(Parser)]
#[command(
    name = "metis-deploy",
    version,
    about = "Deploy and check a Metis organisation node from its Ansible inventory"
)]
struct Cli {
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
    /// Pretend hosts with systemd on this machine, to rehearse a deploy (Linux, root).
    Lab(lab_cmd::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let code = match cli.command {
        Command::Validate(args) => validate_cmd::run(args),
        Command::Inventory(args) => inventory_cmd::run(args),
        Command::Render(args) => render_cmd::run(args),
        Command::Health(args) => health_cmd::run(args),
        Command::Lab(args) => lab_cmd::run(args),
    };
    ExitCode::from(code)
}
