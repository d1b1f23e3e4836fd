//! `metis-deploy validate`.

use crate::exit;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Inventory file (INI, or JSON from `ansible-inventory --list` with --from-json).
    #[arg(short = 'i', long = "inventory", value_name = "FILE")]
    inventory_opt: Option<PathBuf>,
    #[arg(value_name = "FILE", conflicts_with = "inventory_opt")]
    inventory: Option<PathBuf>,
    /// Read the inventory as the JSON `ansible-inventory --list` prints.
    #[arg(long)]
    from_json: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> u8 {
    let _ = (
        args.inventory_opt,
        args.inventory,
        args.from_json,
        args.format,
        args.strict,
    );
    eprintln!("error: validate is not built yet");
    exit::USAGE
}
