//! `metis-deploy inventory --list`: the inventory as `ansible-inventory --list` prints it.

use crate::exit;
use crate::input::InventoryArgs;

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
            // Written as it is made: memory stays flat however many hosts and variables.
            let stdout = std::io::stdout();
            match inv.write_list_json(&mut stdout.lock()) {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: cannot write the inventory: {e}");
                    exit::FAILED
                }
            }
        }
        Err(failure) => failure.report(),
    }
}
