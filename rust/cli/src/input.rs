//! The inventory argument every subcommand takes, loaded and built through metis-core's one
//! pipeline (the Python binding uses the same), with the shared exit statuses.

use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::diag::{self, Code, Diagnostic};
use metis_core::inventory::templates::Need;
use metis_core::inventory::Inventory;
use metis_core::pipeline::{self, Env, HostMatch, ReadFailure, UnknownHost};
use metis_core::plan::HostPlan;
use metis_core::Organization;
use std::path::PathBuf;
use std::time::Instant;

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

/// An inventory without errors and its organisation.
pub struct Ready {
    pub inventory: Inventory,
    pub org: Organization,
}

impl Ready {
    /// The one host lookup (inventory name or address); an unknown host is a usage error.
    pub fn find_host(&self, printer: &Printer, host: &str) -> Result<HostMatch<'_>, ExitStatus> {
        pipeline::find_host(&self.inventory, &self.org, host).map_err(|e: UnknownHost| {
            printer.error(e);
            ExitStatus::Usage
        })
    }
}

/// The `unreadable-input` diagnostic of an inventory that cannot be read at all.
fn unreadable(message: String) -> Diagnostic {
    Diagnostic::error(Code::UnreadableInput, message)
        .hint("give a readable inventory file (UTF-8 text, at most 64 MiB; with --from-json, what `ansible-inventory --list` prints)")
}

/// Reports an unreadable inventory for people (stderr, control characters escaped).
pub fn report_unreadable(printer: &Printer, d: &Diagnostic) -> ExitStatus {
    printer.error(diag::printable(&d.message));
    ExitStatus::Usage
}

impl InventoryArgs {
    /// The inventory at `path` (an INI file), as if given with `-i`.
    pub fn from_path(path: PathBuf) -> InventoryArgs {
        InventoryArgs {
            inventory_opt: Some(path),
            inventory: None,
            from_json: false,
        }
    }

    /// The directory of the inventory file (the controller's state of the organisation lives
    /// next to it).
    pub fn directory(&self) -> String {
        let path = self.inventory.as_ref().or(self.inventory_opt.as_ref());
        let dir = path
            .and_then(|p| std::path::absolute(p).ok())
            .and_then(|p| p.parent().map(|d| d.to_path_buf()));
        dir.map_or_else(|| ".".to_owned(), |d| d.display().to_string())
    }

    /// Fills in the controller's paths of `plans` (the organisation's state lives next to the
    /// inventory: [`InventoryArgs::directory`]).
    pub fn locate(&self, plans: &mut [HostPlan]) {
        let dir = self.directory();
        for p in plans {
            p.locate(&dir);
        }
    }

    pub fn path(&self) -> Option<&PathBuf> {
        self.inventory_opt.as_ref().or(self.inventory.as_ref())
    }

    /// Reads the inventory. No inventory or unreadable input comes back as its
    /// `unreadable-input` diagnostic (a usage error); a file Ansible would refuse comes back as
    /// its failure, to be reported by the caller.
    pub fn read_or_unreadable(&self) -> Result<Result<Inventory, ReadFailure>, Diagnostic> {
        let Some(path) = self.path() else {
            return Err(unreadable(
                "no inventory given: pass it as `-i FILE`".to_string(),
            ));
        };
        match pipeline::read(path, self.from_json) {
            Err(e @ ReadFailure::Unreadable { .. }) => Err(unreadable(e.to_string())),
            other => Ok(other),
        }
    }

    /// Reads the inventory. Unreadable input is reported (usage error); a file Ansible would
    /// refuse comes back as its failure, to be reported by the caller.
    pub fn read(&self, printer: &Printer) -> Result<Result<Inventory, ReadFailure>, ExitStatus> {
        self.read_or_unreadable()
            .map_err(|d| report_unreadable(printer, &d))
    }

    /// Loads the inventory, evaluates its `lookup('env', ...)` values from this process's
    /// environment (what `need` asks for) and builds the organisation. Diagnostics go to
    /// stderr (warnings unless `--quiet`); on failure, the status to exit with.
    pub fn organization(
        &self,
        printer: &Printer,
        what: &str,
        need: Need,
    ) -> Result<Ready, ExitStatus> {
        let started = Instant::now();
        let inv = match self.read(printer)? {
            Ok(inv) => inv,
            Err(ReadFailure::Invalid {
                diagnostics,
                source,
            }) => {
                printer.diagnostics(&diagnostics, |f| {
                    source.as_ref().and_then(|i| i.source_text(f))
                });
                return Err(ExitStatus::Failure);
            }
            Err(e) => {
                printer.error(diag::printable(&e.to_string()));
                return Err(ExitStatus::Usage);
            }
        };
        let built = pipeline::build(inv, Env::Process, need);
        printer.diagnostics(&built.diagnostics, |f| built.inventory.source_text(f));
        match built.organization {
            Some(org) => {
                printer.verbose(format_args!(
                    "built the organisation ({} hosts) in {} ms",
                    org.hosts().len(),
                    started.elapsed().as_millis()
                ));
                Ok(Ready {
                    inventory: built.inventory,
                    org,
                })
            }
            None => {
                printer.error(format_args!("not {what}: the inventory has errors"));
                Err(ExitStatus::Failure)
            }
        }
    }
}
