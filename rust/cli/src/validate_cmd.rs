//! `metis-deploy validate`.

use crate::input::InventoryArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::diag::{self, Diagnostic};
use metis_core::model::{Group, Organization};
use metis_core::pipeline::ReadFailure;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InventoryArgs,
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

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    let mut summary = None;
    let (diags, inv) = match args.input.read_or_unreadable() {
        Err(d) => {
            // Tools get their JSON document in every case.
            if let Format::Json = args.format {
                // The status is the usage error's whether or not the document could be written.
                let _ = print_json(printer, std::slice::from_ref(&d), false);
            }
            return crate::input::report_unreadable(printer, &d);
        }
        Ok(Ok(inv)) => {
            // Validation reads values as written: no template is evaluated.
            let (org, diags) = metis_core::model::build::build(&inv);
            summary = org.as_ref().map(summarise);
            (diags, Some(Box::new(inv)))
        }
        Ok(Err(ReadFailure::Invalid {
            diagnostics,
            source,
        })) => (diagnostics, source),
        Ok(Err(e)) => {
            printer.error(diag::printable(&e.to_string()));
            return ExitStatus::Usage;
        }
    };
    let failed = diags.iter().any(|d| d.is_error() || args.strict);
    let printed = match args.format {
        Format::Json => print_json(printer, &diags, !failed),
        Format::Text => {
            let text = diag::render_text(&diags, |name| {
                inv.as_ref().and_then(|i| i.source_text(name))
            });
            if failed {
                eprint!("{text}");
                Ok(())
            } else {
                let summary = summary.map(|s| format!("{s}\n")).unwrap_or_default();
                printer.out(&format!("{text}{summary}"))
            }
        }
    };
    match printed {
        Ok(()) => ExitStatus::from_ok(!failed),
        Err(status) => status,
    }
}

fn print_json(printer: &Printer, diags: &[Diagnostic], valid: bool) -> Result<(), ExitStatus> {
    printer.json(&serde_json::json!({ "valid": valid, "diagnostics": diags }))
}

/// "valid organisation `sandbox`: 5 hosts; consul 3, ice_via 1, ..." for a clean run.
fn summarise(org: &Organization) -> String {
    let groups: Vec<String> = Group::ALL
        .iter()
        .map(|g| {
            let n = org.group_hosts(*g).len();
            let off = if org.is_enabled(*g) {
                ""
            } else {
                " (not deployed)"
            };
            format!("{g} {n}{off}")
        })
        .collect();
    format!(
        "valid organisation `{}`: {} hosts; {}",
        org.cluster_name,
        org.hosts().len(),
        groups.join(", ")
    )
}
