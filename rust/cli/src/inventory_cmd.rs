//! `metis-deploy inventory --list`: the inventory as `ansible-inventory --list` prints it.

use crate::exit;
use crate::input::{InventoryArgs, LoadFailure};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InventoryArgs,
    /// Print every group and host with merged hostvars, as `ansible-inventory --list` does
    /// (the only mode so far, so it is also the default).
    #[arg(long)]
    list: bool,
}

pub fn run(args: Args) -> u8 {
    let _ = args.list;
    match args.input.load() {
        Ok(inv) => {
            println!("{}", inv.to_list_json_string());
            exit::OK
        }
        Err(LoadFailure::Usage(code)) => code,
        Err(LoadFailure::Invalid(diags, inv)) => {
            let source = |f: &str| inv.as_ref().and_then(|i| i.source_text(f));
            eprint!("{}", metis_core::diag::render_text(&diags, source));
            exit::FAILED
        }
    }
}
