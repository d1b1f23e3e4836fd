//! The inventory argument every subcommand takes, and loading it with the shared exit codes.

use crate::exit;
use metis_core::diag::{self, Code, Diagnostic};
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
    /// No inventory given, or it cannot be read (exit 2): the `unreadable-input` diagnostic.
    Unreadable(Diagnostic),
    /// The file is not a valid inventory: report these (with the source, when read).
    Invalid(Vec<Diagnostic>, Option<Box<Inventory>>),
}

impl LoadFailure {
    /// Prints the failure for people (stderr) and gives the exit code.
    pub fn report(self) -> u8 {
        match self {
            LoadFailure::Unreadable(d) => {
                eprintln!("error: {}", diag::printable(&d.message));
                exit::USAGE
            }
            LoadFailure::Invalid(diags, inv) => {
                let text =
                    diag::render_text(&diags, |f| inv.as_ref().and_then(|i| i.source_text(f)));
                eprint!("{text}");
                exit::FAILED
            }
        }
    }
}

fn unreadable(message: String) -> LoadFailure {
    LoadFailure::Unreadable(
        Diagnostic::error(Code::UnreadableInput, message)
            .hint("give a readable inventory file (UTF-8 text, at most 64 MiB; with --from-json, what `ansible-inventory --list` prints)"),
    )
}

impl InventoryArgs {
    pub fn path(&self) -> Option<&PathBuf> {
        self.inventory_opt.as_ref().or(self.inventory.as_ref())
    }

    pub fn load(&self) -> Result<Inventory, LoadFailure> {
        let Some(path) = self.path() else {
            return Err(unreadable(
                "no inventory given: pass it as `-i FILE`".to_string(),
            ));
        };
        match Inventory::load(path, self.from_json) {
            Ok(inv) => Ok(inv),
            Err(e @ LoadError::Unreadable { .. }) => Err(unreadable(e.to_string())),
            Err(LoadError::Invalid(diags)) => {
                // Keep the text so the diagnostics can quote the offending lines.
                let text = metis_core::inventory::read_limited(path)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
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
        let mut inv = self.load().map_err(LoadFailure::report)?;
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
