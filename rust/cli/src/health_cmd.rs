//! `metis-deploy health`: checks every service of the organisation at protocol level.

use crate::input::InventoryArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;
use metis_core::health::{self, Filter, RunOptions};
use metis_core::inventory::templates::Need;
use metis_core::model::Service;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InventoryArgs,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Time limit of one attempt of one check, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = health::DEFAULT_CHECK_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    timeout: u64,
    /// Retry failing checks until all pass or SECS seconds have passed.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    wait: Option<u64>,
    /// Only check this service (repeatable): consul, icegrid, glacier2, carrier, mysql, admin,
    /// nginx, data, compute.
    #[arg(long = "service", value_name = "S", value_parser = parse_service)]
    services: Vec<Service>,
    /// Only check services on this host, by inventory name or address (repeatable).
    #[arg(long = "host", value_name = "H")]
    hosts: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

fn parse_service(s: &str) -> Result<Service, String> {
    Service::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Service::ALL.iter().map(|s| s.name()).collect();
        format!("unknown service '{s}' (one of: {})", names.join(", "))
    })
}

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    let ready = match args
        .input
        .organization(printer, "checking", Need::AllButSecrets)
    {
        Ok(ready) => ready,
        Err(status) => return status,
    };
    for h in &args.hosts {
        if let Err(status) = ready.find_host(printer, h) {
            return status;
        }
    }
    let filter = Filter {
        services: args.services,
        hosts: args.hosts,
    };
    let checks = health::plan(&ready.org, &filter);
    let opts = RunOptions {
        timeout: Duration::from_millis(args.timeout),
        wait: args.wait.map(Duration::from_secs),
    };
    printer.verbose(format_args!("running {} check(s)", checks.len()));
    let report = health::run(&checks, opts);
    let printed = match args.format {
        Format::Table => printer.out(&health::render_table(&report)),
        Format::Json => printer.json(&report),
    };
    match printed {
        Ok(()) => ExitStatus::from_ok(report.healthy),
        Err(status) => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        crate::parse_args("health", argv)
    }

    #[test]
    fn parses_every_option() {
        let a = parse(&[
            "-i",
            "inv.ini",
            "--format",
            "json",
            "--timeout",
            "500",
            "--wait",
            "30",
            "--service",
            "consul",
            "--service",
            "nginx",
            "--host",
            "10.0.0.1",
        ])
        .expect("valid arguments");
        assert_eq!(a.input.path(), Some(&std::path::PathBuf::from("inv.ini")));
        assert_eq!(a.format, Format::Json);
        assert_eq!((a.timeout, a.wait), (500, Some(30)));
        assert_eq!(a.services, [Service::Consul, Service::Nginx]);
        assert_eq!(a.hosts, ["10.0.0.1"]);
        let a = parse(&["inv.ini"]).expect("positional file");
        assert_eq!(a.input.path(), Some(&std::path::PathBuf::from("inv.ini")));
        assert_eq!((a.format, a.timeout, a.wait), (Format::Table, 3000, None));
    }

    #[test]
    fn rejects_bad_usage() {
        assert!(parse(&["inv.ini", "--service", "redis"]).is_err());
        assert!(parse(&["inv.ini", "--timeout", "0"]).is_err());
        assert!(parse(&["inv.ini", "--format", "yaml"]).is_err());
        assert!(parse(&["-i", "a.ini", "b.ini"]).is_err());
    }

    #[test]
    fn missing_or_unreadable_inventory_is_a_usage_error() {
        assert!(parse(&[]).is_err(), "an inventory is required");
        let a = parse(&["/nonexistent/metis/inventory.ini"]).expect("parses");
        assert_eq!(run(a, &Printer::plain()), ExitStatus::Usage);
    }
}
