//! `metis-deploy variables`: every inventory variable metis-deploy reads.

use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::model::variables::{self, Variable};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// One line per variable: name, type, default.
    Text,
    /// The README's "Variable reference" table.
    Markdown,
    Json,
}

#[derive(serde::Serialize)]
struct Json<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    ansible_type: &'a str,
    elements: Option<&'a str>,
    choices: &'a [&'a str],
    default: Option<String>,
    required: bool,
    groups: Vec<&'a str>,
    secret: bool,
    doc: &'a str,
}

fn json(v: &Variable) -> Json<'_> {
    Json {
        name: v.name,
        kind: v.kind.name(),
        ansible_type: v.kind.ansible_type(),
        elements: v.kind.elements(),
        choices: v.kind.choices(),
        default: v.default.text(),
        required: v.required(),
        groups: v.groups.iter().map(|g| g.name()).collect(),
        secret: v.secret,
        doc: v.doc,
    }
}

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    let printed = match args.format {
        Format::Markdown => printer.out(&variables::markdown()),
        Format::Json => printer.json(&variables::ALL.iter().map(|v| json(v)).collect::<Vec<_>>()),
        Format::Text => printer.out(
            &variables::ALL
                .iter()
                .map(|v| {
                    let default = v
                        .default
                        .text()
                        .map(|d| format!(" = {d}"))
                        .unwrap_or_default();
                    format!("{} ({}){default}: {}\n", v.name, v.kind.name(), v.doc)
                })
                .collect::<String>(),
        ),
    };
    match printed {
        Ok(()) => ExitStatus::Success,
        Err(status) => status,
    }
}
