//! `metis-deploy inventory --list`.

use crate::exit;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(short = 'i', long = "inventory", value_name = "FILE")]
    inventory: PathBuf,
    /// Print every group and host with merged hostvars (the only mode so far).
    #[arg(long)]
    list: bool,
    #[arg(long)]
    from_json: bool,
}

pub fn run(args: Args) -> u8 {
    let _ = (args.inventory, args.list, args.from_json);
    eprintln!("error: inventory is not built yet");
    exit::USAGE
}
