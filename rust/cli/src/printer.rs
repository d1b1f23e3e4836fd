//! The one printer: results on stdout (text for people, JSON for tools), messages on stderr,
//! both following `--quiet` / `--verbose`. Styling (bold headings) only when stdout is a
//! terminal and `NO_COLOR` is unset: piped output is plain lines.

use crate::status::ExitStatus;
use metis_core::diag::{self, Diagnostic};
use std::fmt::Display;
use std::io::{IsTerminal, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Results and errors only.
    Quiet,
    Normal,
    /// Also what was done and how long it took.
    Verbose,
}

#[derive(Clone, Copy, Debug)]
pub struct Printer {
    verbosity: Verbosity,
    styled: bool,
}

impl Printer {
    pub fn new(verbosity: Verbosity) -> Printer {
        let styled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Printer { verbosity, styled }
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    #[cfg(test)]
    pub fn plain() -> Printer {
        Printer {
            verbosity: Verbosity::Normal,
            styled: false,
        }
    }

    /// A result on stdout. A closed pipe (`| head`) is not an error.
    pub fn out(&self, text: &str) -> Result<(), ExitStatus> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => {
                self.error(format_args!("cannot write the output: {e}"));
                Err(ExitStatus::Failure)
            }
        }
    }

    /// A result as pretty JSON on stdout.
    pub fn json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<(), ExitStatus> {
        match serde_json::to_string_pretty(value) {
            Ok(mut s) => {
                s.push('\n');
                self.out(&s)
            }
            Err(e) => {
                self.error(format_args!("cannot serialise the result: {e}"));
                Err(ExitStatus::Failure)
            }
        }
    }

    /// `error: ...` on stderr, whatever the verbosity.
    pub fn error(&self, msg: impl Display) {
        eprintln!("error: {msg}");
    }

    /// A note on stderr, unless `--quiet`.
    pub fn info(&self, msg: impl Display) {
        if self.verbosity >= Verbosity::Normal {
            eprintln!("{msg}");
        }
    }

    /// Details on stderr, with `--verbose` only.
    pub fn verbose(&self, msg: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            eprintln!("{msg}");
        }
    }

    /// Diagnostics as rustc shows them, on stderr: errors always, warnings unless `--quiet`.
    pub fn diagnostics<'a>(&self, diags: &[Diagnostic], source: impl Fn(&str) -> Option<&'a str>) {
        let shown: Vec<Diagnostic> = diags
            .iter()
            .filter(|d| d.is_error() || self.verbosity >= Verbosity::Normal)
            .cloned()
            .collect();
        if !shown.is_empty() {
            eprint!("{}", diag::render_text(&shown, source));
        }
    }

    /// A heading: bold on a terminal, plain otherwise.
    pub fn heading(&self, text: &str) -> String {
        if self.styled {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}
