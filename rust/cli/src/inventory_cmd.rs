//! `metis-deploy inventory --list`: the inventory as `ansible-inventory --list` prints it.

use crate::input::InventoryArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::pipeline::ReadFailure;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InventoryArgs,
    /// Print every group and host with merged hostvars, as `ansible-inventory --list` does
    /// (the only mode so far, so it is also the default).
    #[arg(long)]
    list: bool,
}

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    let _ = args.list;
    match args.input.read(printer) {
        Err(status) => status,
        Ok(Ok(inv)) => match printer.out(&format!("{}\n", inv.to_list_json_string())) {
            Ok(()) => ExitStatus::Success,
            Err(status) => status,
        },
        Ok(Err(ReadFailure::Invalid {
            diagnostics,
            source,
        })) => {
            printer.diagnostics(&diagnostics, |f| {
                source.as_ref().and_then(|i| i.source_text(f))
            });
            ExitStatus::Failure
        }
        Ok(Err(e)) => {
            printer.error(e);
            ExitStatus::Usage
        }
    }
}
