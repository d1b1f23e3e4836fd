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

/// Most bytes `inventory --list` prints. Every host's variables are printed with it, so a
/// large organisation whose groups hold large values would print without end (as
/// `ansible-inventory` does): past this, it stops with an error.
const MAX_LIST_BYTES: u64 = 1 << 30;

/// Passes writes on until `left` bytes have been written, then fails.
struct Capped<W> {
    inner: W,
    left: u64,
}

impl<W: std::io::Write> std::io::Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "the output is larger than {} MiB, metis-deploy's limit (every host's variables are printed with it)",
                MAX_LIST_BYTES >> 20
            )));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub fn run(args: Args, printer: &Printer) -> ExitStatus {
    let _ = args.list;
    match args.input.read(printer) {
        Err(status) => status,
        Ok(Ok(inv)) => {
            // Written as it is made: memory stays flat however many hosts and variables.
            let stdout = std::io::stdout();
            let mut out = Capped {
                inner: stdout.lock(),
                left: MAX_LIST_BYTES,
            };
            match inv.write_list_json(&mut out) {
                Ok(()) => ExitStatus::Success,
                // A closed pipe (`| head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
                Err(e) => {
                    printer.error(format_args!("cannot write the inventory: {e}"));
                    ExitStatus::Failure
                }
            }
        }
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
            printer.error(metis_core::diag::printable(&e.to_string()));
            ExitStatus::Usage
        }
    }
}
