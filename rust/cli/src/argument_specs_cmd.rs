//! `metis-deploy argument-specs` (hidden, for maintainers): writes or checks the roles'
//! `meta/argument_specs.yml`, generated from the core's variable table.

use crate::status::ExitStatus;
use metis_core::argument_specs::{path, render, ROLES};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The collection's root directory (ansible_collection in the repository).
    #[arg(long, value_name = "DIR")]
    write: Option<PathBuf>,
    /// Compare the files under DIR with what would be written; exit 1 naming the stale ones.
    #[arg(long, value_name = "DIR", conflicts_with = "write")]
    check: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitStatus {
    let (root, write) = match (args.write, args.check) {
        (Some(d), _) => (d, true),
        (None, Some(d)) => (d, false),
        (None, None) => {
            for spec in ROLES {
                print!("# {}\n{}", path(spec.role), render(spec));
            }
            return ExitStatus::Success;
        }
    };
    let mut stale = 0;
    for spec in ROLES {
        let file = root.join(path(spec.role));
        let text = render(spec);
        let current = std::fs::read_to_string(&file).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if write {
            if let Err(e) = std::fs::write(&file, &text) {
                eprintln!("error: cannot write {}: {e}", file.display());
                return ExitStatus::Failure;
            }
            println!("wrote {}", file.display());
        } else {
            eprintln!("stale: {}", file.display());
            stale += 1;
        }
    }
    if stale > 0 {
        eprintln!(
            "run `metis-deploy argument-specs --write {}`",
            root.display()
        );
        return ExitStatus::Failure;
    }
    ExitStatus::Success
}
