//! Live progress on stderr: on a terminal a bar per step (hosts done/total for the current task,
//! the task, elapsed time); otherwise one plain line per event. `--quiet` shows neither,
//! `--verbose` adds every host's result.

use crate::events::{Event, HostStatus};
use crate::record::{StepRecord, StepStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

pub struct Ui {
    verbosity: Verbosity,
    tty: bool,
    hosts_total: usize,
    bar: Option<ProgressBar>,
    prefix: String,
    step: String,
    done: BTreeSet<String>,
}

impl Ui {
    pub fn new(verbosity: Verbosity, hosts_total: usize) -> Ui {
        let tty = std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_some_and(|t| t != "dumb");
        Ui {
            verbosity,
            tty,
            hosts_total,
            bar: None,
            prefix: String::new(),
            step: String::new(),
            done: BTreeSet::new(),
        }
    }

    /// A line on stderr (above the bar on a terminal), unless `--quiet`.
    pub fn line(&self, text: &str) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        self.always(text);
    }

    /// A line on stderr whatever the verbosity.
    pub fn always(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn step_start(&mut self, index: usize, count: usize, name: &str) {
        self.step = name.to_owned();
        self.done.clear();
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let prefix = format!("[{}/{count}] {name}", index + 1);
        self.prefix.clone_from(&prefix);
        if self.tty {
            let bar = ProgressBar::with_draw_target(
                Some(self.hosts_total as u64),
                ProgressDrawTarget::stderr(),
            );
            let style = ProgressStyle::with_template(
                "{spinner} {prefix:<22} {pos}/{len} hosts  {elapsed:>4}  {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(prefix);
            bar.enable_steady_tick(Duration::from_millis(200));
            self.bar = Some(bar);
        } else {
            eprintln!("{prefix}: started");
        }
    }

    pub fn event(&mut self, event: &Event) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        match event {
            Event::TaskStart { task, handler } => {
                self.done.clear();
                let kind = if *handler { "handler" } else { "task" };
                match &self.bar {
                    Some(bar) => {
                        bar.set_position(0);
                        bar.set_message(format!("{kind}: {task}"));
                    }
                    None => {
                        if self.verbosity == Verbosity::Verbose {
                            eprintln!("[{}] {kind}: {task}", self.step);
                        }
                    }
                }
            }
            Event::PlayStart { play } if self.bar.is_none() => {
                eprintln!("[{}] play: {play}", self.step);
            }
            Event::HostResult(r) => {
                self.done.insert(r.host.clone());
                if let Some(bar) = &self.bar {
                    bar.set_position(self.done.len().min(self.hosts_total) as u64);
                }
                let noteworthy = matches!(
                    r.status,
                    HostStatus::Changed | HostStatus::Failed | HostStatus::Unreachable
                );
                if noteworthy || self.verbosity == Verbosity::Verbose {
                    let ignored = if r.ignored { " (ignored)" } else { "" };
                    let msg = match (&r.msg, r.is_failure()) {
                        (Some(m), true) => format!(": {}", first_lines(m, 5)),
                        _ => String::new(),
                    };
                    let text = format!(
                        "[{}] {} {}{ignored}: {}{msg}",
                        self.step,
                        r.host,
                        r.status.as_str(),
                        r.task
                    );
                    if self.bar.is_none() || self.verbosity == Verbosity::Verbose || r.is_failure()
                    {
                        self.always(&text);
                    }
                }
            }
            Event::NoHostsMatched => self.always(&format!("[{}] no hosts matched", self.step)),
            _ => {}
        }
    }

    pub fn step_end(&mut self, rec: &StepRecord) {
        let changed: u32 = rec.hosts.values().map(|c| c.changed).sum();
        let secs = rec.duration_ms as f64 / 1000.0;
        let text = match rec.status {
            StepStatus::Succeeded => format!("ok in {secs:.1} s, {changed} changed"),
            StepStatus::Failed => format!("FAILED after {secs:.1} s"),
            StepStatus::Interrupted => format!("interrupted after {secs:.1} s"),
            other => other.as_str().to_owned(),
        };
        match self.bar.take() {
            Some(bar) => {
                // The finished step stays as a plain line; the next step's bar goes below it.
                bar.finish_and_clear();
                eprintln!("  {:<22} {text}", self.prefix);
            }
            None if self.verbosity > Verbosity::Quiet => {
                eprintln!("[{}] {text}", rec.name);
            }
            None => {}
        }
    }

    pub fn step_skipped(&self, index: usize, count: usize, name: &str, why: &str) {
        self.line(&format!("[{}/{count}] {name}: skipped ({why})", index + 1));
    }
}

/// The first `n` non-blank lines, the following ones indented under the first.
fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = lines
        .iter()
        .take(n)
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join("\n      ");
    if lines.len() > n {
        out.push_str(&format!(
            "\n      ... ({} more lines in the log)",
            lines.len() - n
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn failure_messages_keep_their_first_lines() {
        let m = "bootstrap found 1 problem(s):\n\n  198.51.100.12: port 8701/tcp is taken\n";
        assert_eq!(
            super::first_lines(m, 5),
            "bootstrap found 1 problem(s):\n      198.51.100.12: port 8701/tcp is taken"
        );
        assert!(super::first_lines("a\nb\nc", 2).ends_with("(1 more lines in the log)"));
    }
}
