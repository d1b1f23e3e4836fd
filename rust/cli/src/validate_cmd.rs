//! `metis-deploy validate`.

use crate::exit;
use crate::input::InventoryArgs;
use metis_core::diag::{self, Diagnostic};
use metis_core::model::{Group, Organization};

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

pub fn run(args: Args) -> u8 {
    let mut summary = None;
    let (diags, inv) = match args.input.load() {
        Ok(inv) => {
            let (org, diags) = metis_core::model::build::build(&inv);
            summary = org.as_ref().map(summarise);
            (diags, Some(Box::new(inv)))
        }
        Err(crate::input::LoadFailure::Invalid(diags, inv)) => (diags, inv),
        Err(unreadable @ crate::input::LoadFailure::Unreadable(_)) => {
            // Tools get their JSON document in every case.
            if let (Format::Json, crate::input::LoadFailure::Unreadable(d)) =
                (args.format, &unreadable)
            {
                print_json(std::slice::from_ref(d), false);
            }
            return unreadable.report();
        }
    };
    let failed = diags.iter().any(|d| d.is_error() || args.strict);
    match args.format {
        Format::Json => print_json(&diags, !failed),
        Format::Text => {
            let text = diag::render_text(&diags, |name| {
                inv.as_ref().and_then(|i| i.source_text(name))
            });
            if failed {
                eprint!("{text}");
            } else {
                print!("{text}");
                if let Some(summary) = summary {
                    println!("{summary}");
                }
            }
        }
    }
    if failed {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn print_json(diags: &[Diagnostic], valid: bool) {
    let doc = serde_json::json!({ "valid": valid, "diagnostics": diags });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
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
