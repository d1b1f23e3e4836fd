//! `metis-deploy inventory --list`.

use crate::exit;
use metis_core::inventory::{Inventory, LoadError};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(short = 'i', long = "inventory", value_name = "FILE")]
    inventory: PathBuf,
    /// Print every group and host with merged hostvars, as `ansible-inventory --list` does
    /// (the only mode so far, so it is also the default).
    #[arg(long)]
    list: bool,
    /// Read the JSON printed by `ansible-inventory --list` instead of an INI file.
    #[arg(long)]
    from_json: bool,
}

pub fn run(args: Args) -> u8 {
    let _ = args.list;
    match Inventory::load(&args.inventory, args.from_json) {
        Ok(inv) => {
            println!("{}", inv.to_list_json_string());
            exit::OK
        }
        Err(LoadError::Unreadable { path, reason }) => {
            eprintln!("error[unreadable-input]: cannot read inventory {path}: {reason}");
            exit::USAGE
        }
        Err(LoadError::Invalid(diags)) => {
            // Bad JSON is unreadable input (exit 2); an INI file Ansible would refuse is exit 1.
            let unreadable = diags
                .iter()
                .all(|d| d.code == metis_core::Code::UnreadableInput);
            // The file was read: quote it in the diagnostics.
            let text = std::fs::read_to_string(&args.inventory).unwrap_or_default();
            let name = args.inventory.display().to_string();
            eprint!(
                "{}",
                metis_core::diag::render_text(&diags, |f| (f == name).then_some(text.as_str()))
            );
            if unreadable {
                exit::USAGE
            } else {
                exit::FAILED
            }
        }
    }
}
