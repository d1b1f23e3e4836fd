//! The inventory argument every subcommand takes, and loading it with the shared exit codes.

use crate::exit;
use metis_core::diag::{self, Diagnostic};
use metis_core::inventory::templates::{evaluate_outside_ansible, Need};
use metis_core::inventory::{Inventory, LoadError};
use metis_core::Organization;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct InventoryArgs {
    /// Inventory file: Ansible INI, or with --from-json what `ansible-inventory --list` prints.
    #[arg(short = 'i', long = "inventory", value_name = "FILE")]
    inventory_opt: Option<PathBuf>,
    /// The inventory file, as an argument instead of `-i`.
    #[arg(
        value_name = "FILE",
        conflicts_with = "inventory_opt",
        required_unless_present = "inventory_opt"
    )]
    inventory: Option<PathBuf>,
    /// Read the inventory as the JSON of `ansible-inventory --list` (YAML, dynamic inventories).
    #[arg(long)]
    from_json: bool,
}

pub enum LoadFailure {
    /// Unreadable input: already reported; exit with this code.
    Usage(u8),
    /// The file is not a valid inventory: report these (with the source, when read).
    Invalid(Vec<Diagnostic>, Option<Box<Inventory>>),
}

impl InventoryArgs {
    pub fn path(&self) -> Option<&PathBuf> {
        self.inventory_opt.as_ref().or(self.inventory.as_ref())
    }

    pub fn load(&self) -> Result<Inventory, LoadFailure> {
        let Some(path) = self.path() else {
            eprintln!("error: no inventory given: pass it as `-i FILE`");
            return Err(LoadFailure::Usage(exit::USAGE));
        };
        match Inventory::load(path, self.from_json) {
            Ok(inv) => Ok(inv),
            Err(LoadError::Unreadable { path, reason }) => {
                eprintln!("error: cannot read inventory {path}: {reason}");
                Err(LoadFailure::Usage(exit::USAGE))
            }
            Err(LoadError::Invalid(diags)) => {
                // Keep the text so the diagnostics can quote the offending lines.
                let text = std::fs::read_to_string(path).ok();
                let inv = text.map(|text| {
                    Box::new(Inventory {
                        sources: vec![metis_core::inventory::Source {
                            name: path.display().to_string().into(),
                            text,
                        }],
                        ..Inventory::default()
                    })
                });
                Err(LoadFailure::Invalid(diags, inv))
            }
        }
    }
}

impl InventoryArgs {
    /// Loads the inventory, evaluates its `lookup('env', ...)` values from this process's
    /// environment (what `need` asks for) and builds the organisation. Diagnostics (warnings
    /// included) go to stderr; on failure the exit code to return is given back.
    pub fn organization(&self, what: &str, need: Need) -> Result<(Organization, Inventory), u8> {
        let mut inv = match self.load() {
            Ok(inv) => inv,
            Err(LoadFailure::Usage(code)) => return Err(code),
            Err(LoadFailure::Invalid(diags, inv)) => {
                let text =
                    diag::render_text(&diags, |f| inv.as_ref().and_then(|i| i.source_text(f)));
                eprint!("{text}");
                return Err(exit::FAILED);
            }
        };
        let mut diags = evaluate_outside_ansible(&mut inv, &|name| std::env::var(name).ok(), need);
        let (org, build_diags) = metis_core::model::build::build(&inv);
        diags.extend(build_diags);
        diag::sort(&mut diags);
        if !diags.is_empty() {
            eprint!("{}", diag::render_text(&diags, |f| inv.source_text(f)));
        }
        match org {
            Some(org) if !diags.iter().any(Diagnostic::is_error) => Ok((org, inv)),
            _ => {
                eprintln!("error: not {what}: the inventory has errors");
                Err(exit::FAILED)
            }
        }
    }
}
