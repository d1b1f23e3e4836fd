//! Running a program and turning its failure into a `LabError` that shows the command line and
//! what it printed.

use crate::error::{LabError, Result};
use std::process::{Command, Output, Stdio};

/// The command line, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn checked(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            command: describe(cmd),
            status: "could not start".into(),
            output: e.to_string(),
        })?;
    if out.status.success() {
        Ok(out)
    } else {
        let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if text.is_empty() {
            text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        Err(LabError::Command {
            command: describe(cmd),
            status: out.status.to_string(),
            output: text,
        })
    }
}

/// Runs a command to completion; an error when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    checked(cmd).map(|_| ())
}

/// Runs a command and returns what it printed on stdout.
pub fn output(cmd: &mut Command) -> Result<String> {
    checked(cmd).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// True when `program` is an executable file in PATH (or in the sbin directories root has).
pub fn in_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(Into::into))
        .any(|d| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(d.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
