//! `metis-deploy plan`: what each host runs, as its roles will apply it.

use crate::input::InventoryArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::inventory::templates::Need;
use metis_core::plan::{self, HostPlan, Plans};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InventoryArgs,
    /// Only this host, by inventory name or address.
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    // Files carry their sha256: secrets are needed to compute them.
    let ready = match args
        .input
        .organization(printer, "planning", Need::Everything)
    {
        Ok(ready) => ready,
        Err(status) => return status,
    };
    let org = &ready.org;
    let mut plans: Vec<HostPlan> = match &args.host {
        Some(h) => match ready.find_host(printer, h) {
            Ok(found) => vec![match found.placed {
                Some(host) => plan::plan_of(org, host, &org.instances_on(&host.name)),
                None => {
                    printer.info(format_args!(
                        "note: host {} runs no service of this organisation",
                        found.name
                    ));
                    plan::idle_plan(org, found.name)
                }
            }],
            Err(status) => return status,
        },
        None => plan::host_plans(org),
    };
    args.input.locate(&mut plans);
    let printed = match (args.format, args.host.is_some()) {
        (Format::Json, true) => printer.json(&plans[0]),
        (Format::Json, false) => printer.json(&Plans { hosts: plans }),
        (Format::Text, _) => printer.out(&plan::render_text(&plans, &|h| printer.heading(h))),
    };
    match printed {
        Ok(()) => ExitStatus::Success,
        Err(status) => status,
    }
}
