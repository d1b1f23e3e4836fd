//! `metis-deploy lab`: pretend hosts with systemd on this machine, to rehearse a deploy before
//! touching real servers. The work is done by the metis-lab crate; this file parses and prints.

use crate::status::ExitStatus;
use metis_lab::{Lab, LabError, UpOptions};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The lab's directory: image cache, deploy key, known_hosts, state, the hosts' files.
    #[arg(long, global = true, value_name = "DIR", default_value = metis_lab::DEFAULT_DIR)]
    dir: PathBuf,
    #[command(subcommand)]
    command: LabCommand,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(clap::Subcommand)]
enum LabCommand {
    /// Start the lab (building its image on first use), or report the running one.
    Up {
        /// Number of hosts: lab1 at 198.51.100.11, lab2 at .12, ...
        #[arg(long, value_name = "N", default_value_t = metis_lab::DEFAULT_HOSTS,
              value_parser = parse_hosts)]
        hosts: usize,
        /// Host K runs sshd only, without systemd as PID 1 (the process-manager path); repeatable.
        #[arg(long = "without-systemd", value_name = "K")]
        without_systemd: Vec<usize>,
        /// Give up when the hosts are not all up after SECS seconds.
        #[arg(long, value_name = "SECS", default_value_t = metis_lab::DEFAULT_TIMEOUT.as_secs(),
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout: u64,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Stop every host and remove the lab (the image cache and the deploy key stay).
    Down,
    /// Show the lab's hosts and their state.
    Status {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Run a command inside the lab's network namespace, with Ansible's ssh settings for the
    /// lab's hosts in its environment (ANSIBLE_PRIVATE_KEY_FILE, ANSIBLE_REMOTE_USER,
    /// ANSIBLE_SSH_ARGS, ANSIBLE_SSH_CONTROL_PATH_DIR, ...).
    Exec {
        /// The command and its arguments (after `--`).
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "COMMAND"
        )]
        command: Vec<String>,
    },
    /// Log in to a host as `deploy` (or run a command there).
    Ssh {
        /// Host name (lab1), number (1) or address (198.51.100.11).
        host: String,
        /// Command to run instead of a login shell.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "COMMAND"
        )]
        command: Vec<String>,
    },
}

fn parse_hosts(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (1..=metis_lab::MAX_HOSTS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("a lab has 1 to {} hosts", metis_lab::MAX_HOSTS))
    }
}

fn fail(e: &LabError) -> ExitStatus {
    eprintln!("error: {e}");
    match e {
        LabError::Usage(_) | LabError::UnknownHost { .. } => ExitStatus::Usage,
        _ => ExitStatus::Failure,
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> ExitStatus {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            println!("{s}");
            ExitStatus::Success
        }
        Err(e) => {
            eprintln!("error: cannot serialise the report: {e}");
            ExitStatus::Failure
        }
    }
}

pub fn run(args: Args) -> ExitStatus {
    let lab = match Lab::new(&args.dir, Box::new(|line| eprintln!("lab: {line}"))) {
        Ok(lab) => lab,
        Err(e) => return fail(&e),
    };
    match args.command {
        LabCommand::Up {
            hosts,
            without_systemd,
            timeout,
            format,
        } => up(
            &lab,
            &UpOptions {
                hosts,
                without_systemd,
                timeout: Duration::from_secs(timeout),
            },
            format,
        ),
        LabCommand::Down => match lab.down() {
            Ok(r) => {
                for n in &r.notes {
                    eprintln!("lab: note: {n}");
                }
                if r.removed {
                    println!(
                        "lab: down in {:.1} s (kept: image cache and deploy key in {})",
                        r.secs,
                        lab.dir().display()
                    );
                } else {
                    println!("lab: no lab in {}: nothing to do", lab.dir().display());
                }
                ExitStatus::Success
            }
            Err(e) => fail(&e),
        },
        LabCommand::Status { format } => match lab.status() {
            Ok(s) if format == Format::Json => print_json(&s),
            Ok(s) => {
                use metis_lab::Condition::*;
                let what = match s.condition {
                    Down => "down",
                    Running => "running",
                    Starting => "starting, or half-built by an interrupted `up` (`lab up` repairs it, `lab down` removes it)",
                    Broken => "broken: some hosts are gone (`lab up` restarts the lab, `lab down` removes it)",
                };
                println!("lab in {}: {what}", s.dir.display());
                if s.busy {
                    println!("(an `up` or `down` is running on it right now)");
                }
                if !s.hosts.is_empty() {
                    print!("{}", metis_lab::render_table(&s.hosts));
                }
                if s.condition == Running {
                    ExitStatus::Success
                } else {
                    ExitStatus::Failure
                }
            }
            Err(e) => fail(&e),
        },
        LabCommand::Exec { command } => exec(lab.exec_command(&command)),
        LabCommand::Ssh { host, command } => exec(lab.ssh_command(&host, &command)),
    }
}

fn up(lab: &Lab, opts: &UpOptions, format: Format) -> ExitStatus {
    let report = match lab.up(opts) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if format == Format::Json {
        let code = print_json(&report);
        return if report.already_running || report.degraded().is_empty() {
            code
        } else {
            ExitStatus::Failure
        };
    }
    if report.already_running {
        println!(
            "lab: already running in {} ({:.1} s)",
            lab.dir().display(),
            report.total_secs
        );
    } else {
        let image = match report.image_build_secs {
            Some(s) => format!(", image built in {s:.0} s"),
            None => ", image from cache".to_string(),
        };
        println!(
            "lab: up in {:.1} s (hosts answered {:.1} s after launch{image})",
            report.total_secs,
            report.boot_secs.unwrap_or_default()
        );
    }
    print!("{}", metis_lab::render_table(&report.hosts));
    let addresses: Vec<String> = report.hosts.iter().map(|h| h.address.to_string()).collect();
    println!(
        "ssh key {}, host keys in {}",
        lab.key().display(),
        lab.known_hosts().display()
    );
    println!(
        "try: metis-deploy lab exec -- ansible all -i {}, -m ping",
        addresses.join(",")
    );
    let degraded = report.degraded();
    if degraded.is_empty() {
        ExitStatus::Success
    } else if report.already_running {
        // Units failed since the lab came up: a rehearsal's doing, not the lab's.
        for d in degraded {
            eprintln!("lab: note: {d}");
        }
        ExitStatus::Success
    } else {
        fail(&LabError::Degraded { problems: degraded })
    }
}

/// Replaces this process with the command (signals and the exit status are the command's).
fn exec(cmd: Result<std::process::Command, LabError>) -> ExitStatus {
    use std::os::unix::process::CommandExt;
    match cmd {
        Ok(mut cmd) => {
            let e = cmd.exec();
            eprintln!("error: cannot run `ip netns exec`: {e}");
            ExitStatus::Failure
        }
        Err(e) => fail(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        crate::parse_args("lab", argv)
    }

    #[test]
    fn up_options_and_defaults() {
        let a = parse(&["up"]).expect("defaults");
        assert_eq!(a.dir, PathBuf::from("/var/lib/metis-lab"));
        match a.command {
            LabCommand::Up {
                hosts,
                without_systemd,
                timeout,
                format,
            } => {
                assert_eq!((hosts, timeout, format), (3, 180, Format::Table));
                assert!(without_systemd.is_empty());
            }
            _ => panic!("not up"),
        }
        let a = parse(&[
            "up",
            "--hosts",
            "4",
            "--without-systemd",
            "4",
            "--dir",
            "/tmp/l",
        ])
        .expect("all options");
        assert_eq!(a.dir, PathBuf::from("/tmp/l"));
        assert!(
            matches!(a.command, LabCommand::Up { hosts: 4, ref without_systemd, .. } if without_systemd == &[4])
        );
        assert!(parse(&["up", "--hosts", "0"]).is_err());
        assert!(parse(&["up", "--hosts", "65"]).is_err());
        assert!(parse(&["up", "--timeout", "0"]).is_err());
    }

    #[test]
    fn exec_and_ssh_keep_the_command_intact() {
        let a = parse(&["exec", "--", "ansible", "all", "-m", "ping"]).expect("exec");
        assert!(
            matches!(a.command, LabCommand::Exec { ref command } if command == &["ansible", "all", "-m", "ping"])
        );
        assert!(parse(&["exec"]).is_err(), "a command is required");
        let a = parse(&["--dir", "/tmp/x", "ssh", "lab2", "systemctl", "--failed"]).expect("ssh");
        assert_eq!(a.dir, PathBuf::from("/tmp/x"));
        assert!(
            matches!(a.command, LabCommand::Ssh { ref host, ref command } if host == "lab2" && command == &["systemctl", "--failed"])
        );
        assert!(parse(&["ssh"]).is_err(), "a host is required");
    }

    #[test]
    fn bad_dir_is_a_usage_error() {
        let a = parse(&["status", "--dir", "/tmp/a lab"]).expect("parses");
        assert_eq!(run(a), ExitStatus::Usage);
    }

    #[test]
    fn status_of_an_empty_dir_is_down() {
        let dir = std::env::temp_dir().join(format!("metis-lab-cli-{}", std::process::id()));
        let a = parse(&["status", "--dir", dir.to_str().expect("utf-8")]).expect("parses");
        assert_eq!(run(a), ExitStatus::Failure, "down is not running");
        let lab = Lab::new(&dir, Box::new(|_| {})).expect("dir");
        let s = lab.status().expect("status");
        assert_eq!(s.condition, metis_lab::Condition::Down);
        assert!(!dir.exists(), "status creates nothing");
    }
}
